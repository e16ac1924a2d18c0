// The course catalogue: filters and pages live in the address, so a view can be shared.
import { $, api, el, fail, money, requireSignIn, withQuery } from "./app.js";

const PAGE_SIZE = 12;
const FILTERS = ["search", "level", "category_id", "ordering"];

function state() {
  const params = new URL(window.location.href).searchParams;
  const out = { page: Math.max(1, Number(params.get("page")) || 1) };
  for (const name of FILTERS) out[name] = params.get(name) || "";
  return out;
}

function go(next) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(next)) if (value && !(key === "page" && value === 1)) query.set(key, value);
  const qs = query.toString();
  history.pushState(null, "", qs ? `?${qs}` : window.location.pathname);
  render();
}

function card(course) {
  return el(
    "li",
    { class: "card" },
    el("h2", {}, el("a", { href: `/lms/courses/${course.id}/` }, course.title)),
    el("p", { class: "meta" }, `${course.code} · ${course.level} · ${money(course.current_price, course.currency)}`),
  );
}

async function loadCategories() {
  try {
    const page = await api("/api/lms/courses/categories/?page_size=100&ordering=name");
    const select = $("category_id");
    for (const category of page.results) select.append(el("option", { value: category.id }, category.name));
    select.value = state().category_id;
  } catch {
    // Without categories the filter offers "Any category" only.
  }
}

async function render() {
  const current = state();
  for (const name of FILTERS) $(name).value = current[name] || (name === "ordering" ? "-created_at" : "");
  try {
    const page = await api(
      withQuery("/api/lms/courses/courses/", { ...current, page_size: PAGE_SIZE }),
    );
    const pages = Math.max(1, Math.ceil(page.count / PAGE_SIZE));
    $("courses").replaceChildren(...page.results.map(card));
    $("result-count").textContent =
      page.count === 1 ? "1 course" : `${page.count} courses`;
    $("page-info").textContent = `Page ${current.page} of ${pages}`;
    $("prev").disabled = !page.previous;
    $("next").disabled = !page.next;
  } catch (error) {
    fail(error);
  }
}

if (requireSignIn()) {
  $("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    const next = { page: 1 };
    for (const name of FILTERS) next[name] = $(name).value.trim();
    go(next);
  });
  $("prev").addEventListener("click", () => go({ ...state(), page: state().page - 1 }));
  $("next").addEventListener("click", () => go({ ...state(), page: state().page + 1 }));
  window.addEventListener("popstate", render);
  loadCategories();
  render();
}
