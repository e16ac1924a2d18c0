// The cart and checkout. One idempotency key per attempt: a retried or double-submitted
// checkout answers the first result instead of charging twice.
import { $, api, el, fail, money, requireSignIn, showError } from "./app.js";

let cart = null;
let attemptKey = null;

function newKey() {
  // getRandomValues works on plain http too (randomUUID needs a secure context).
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function line(item) {
  return el(
    "li",
    {},
    el("a", { href: `/lms/courses/${item.course}/` }, item.title),
    el("span", {}, money(item.price, item.currency)),
    el(
      "button",
      { type: "button", class: "secondary", "aria-label": `Remove “${item.title}”`, onclick: () => remove(item) },
      "Remove",
    ),
  );
}

async function load() {
  cart = await api("/api/lms/carts/cart/");
  attemptKey = newKey();
  $("items").replaceChildren(...cart.items.map(line));
  if (!cart.items.length) $("items").append(el("li", {}, "Your cart is empty."));
  $("cart-total").textContent = cart.items.length ? `Total: ${money(cart.total, cart.currency)}` : "";
  $("checkout-form").hidden = !cart.items.length;
}

async function remove(item) {
  showError("");
  try {
    await api(`/api/lms/carts/cart-items/${item.id}/`, { method: "DELETE" });
    await load();
  } catch (error) {
    fail(error);
  }
}

function receipt(result, bought) {
  const box = $("receipt");
  const courses = el(
    "ul",
    {},
    ...bought.map((item) => el("li", {}, el("a", { href: `/lms/courses/${item.course}/` }, item.title))),
  );
  if (result.status === "paid") {
    box.replaceChildren(
      el("p", {}, `Paid ${money(result.amount, result.currency)} (order ${result.order_id}). You are enrolled in:`),
      courses,
    );
  } else if (result.status === "pending") {
    box.replaceChildren(
      el("p", {}, `Order ${result.order_id} is waiting for the card payment to be confirmed; you are enrolled as soon as it is.`),
      courses,
    );
  } else {
    box.replaceChildren(el("p", {}, `The payment of order ${result.order_id} failed; your cart is kept.`));
  }
  box.hidden = false;
  box.setAttribute("tabindex", "-1");
  box.focus();
}

$("checkout-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = $("checkout");
  button.disabled = true;
  showError("");
  const bought = cart ? cart.items.slice() : [];
  const method = $("payment_method").value;
  try {
    const result = await api("/api/lms/carts/checkout/", {
      method: "POST",
      body: method ? { payment_method: method } : {},
      headers: { "Idempotency-Key": attemptKey },
    });
    receipt(result, bought);
    await load();
  } catch (error) {
    // A network failure retries with the same key; an answered failure starts a new attempt.
    if (error.status !== 0) attemptKey = newKey();
    fail(error);
  } finally {
    button.disabled = false;
  }
});

if (requireSignIn()) load().catch(fail);
