// My conversations and a direct conversation: its messages, the composer, new messages
// arriving live (a `direct_message` notification makes the page ask the API again).
import {
  $,
  api,
  el,
  fail,
  me,
  onNotification,
  onNotificationsReset,
  personName,
  refreshBell,
  requireSignIn,
  showError,
  withQuery,
} from "./app.js";
import { entryNode } from "./chat.js";

const MESSAGES = "/api/lms/messaging/messages/";
const CONVERSATIONS = "/api/lms/messaging/conversations/";
const NOTIFICATIONS = "/api/lms/notifications/notifications/";

/** A person's display name: the object beside the id (`sender` beside `sender_id`,
 * `with_person` beside `with`), else the id. */
export function person(row, field) {
  return personName(row, `${field}_id` in row ? `${field}_id` : field);
}

function current() {
  return new URL(window.location.href).searchParams.get("with") || "";
}

function open(other) {
  history.pushState(null, "", other ? `?with=${encodeURIComponent(other)}` : window.location.pathname);
  show();
}

function conversationLink(c) {
  const last = c.last_message;
  const unread = c.unread_count ? ` (${c.unread_count} unread)` : "";
  if (c.kind === "group") {
    return el(
      "li",
      {},
      el(
        "a",
        { href: `/lms/groups/${c.group_id}/` },
        `${groupNames.get(c.group_id) || `Group ${c.group_id}`} (group chat)${unread}`,
        el("span", { class: "preview" }, last.content),
      ),
    );
  }
  const other = c.with;
  return el(
    "li",
    {},
    el(
      "a",
      {
        href: `?with=${encodeURIComponent(other)}`,
        "aria-current": other === current() ? "true" : false,
        onclick: (event) => {
          event.preventDefault();
          open(other);
        },
      },
      `${person(c, "with")}${unread}`,
      el("span", { class: "preview" }, last.content),
    ),
  );
}

const groupNames = new Map();
let groupNamesAsked = false;

async function loadGroupNames() {
  try {
    const page = await api(withQuery("/api/lms/groups/groups/", { member: "me", page_size: 100 }));
    for (const g of page.results) groupNames.set(g.id, g.name);
  } catch {
    // Names are a nicety: a group conversation is then named by its id.
  }
}

let listing = 0;
async function loadConversations() {
  const asked = ++listing;
  try {
    if (!groupNamesAsked) {
      groupNamesAsked = true;
      await loadGroupNames();
    }
    const page = await api(withQuery(CONVERSATIONS, { page_size: 100 }));
    if (asked !== listing) return;
    $("conversations").replaceChildren(...page.results.map(conversationLink));
    if (!page.results.length) $("conversations").append(el("li", {}, "No conversations yet."));
  } catch (error) {
    fail(error);
  }
}

/** The conversation is on screen: its direct-message notifications are read too. */
async function readNotificationsFrom(other) {
  const page = await api(withQuery(NOTIFICATIONS, { unread: "true", type: "direct_message", page_size: 100 }));
  const about = page.results.filter((n) => n.data && n.data.sender_id === other);
  for (const n of about) await api(`${NOTIFICATIONS}${n.id}/read/`, { method: "POST" });
  if (about.length) refreshBell();
}

let loading = 0;
async function loadConversation() {
  const other = current();
  const asked = ++loading;
  if (!other) {
    $("entries").replaceChildren();
    return;
  }
  try {
    const page = await api(withQuery(MESSAGES, { with: other, ordering: "-created_at", page_size: 50 }));
    if (asked !== loading) return;
    const mine = me();
    const theirs = page.results.find((m) => m.sender_id === other);
    if (theirs) $("conversation-title").textContent = `With ${person(theirs, "sender")}`;
    $("entries").replaceChildren(
      ...page.results.reverse().map((m) =>
        entryNode({
          author: m.sender_id === mine ? `${person(m, "sender")} (you)` : person(m, "sender"),
          text: m.content,
          created: m.created_at,
          note: m.edited_at ? "edited" : "",
          mine: m.sender_id === mine,
        }),
      ),
    );
    if (!page.results.length) $("entries").append(el("li", { class: "entry note" }, "No messages yet."));
    $("entries").scrollTop = $("entries").scrollHeight;
    if (page.results.some((m) => !m.is_read)) {
      await api(`${MESSAGES}read-all/`, { method: "POST", body: { with: other } });
      loadConversations();
    }
    await readNotificationsFrom(other);
  } catch (error) {
    fail(error);
  }
}

function show() {
  const other = current();
  $("conversation-title").textContent = other ? `With ${other}` : "New message";
  $("recipient-field").hidden = Boolean(other);
  $("recipient").required = !other;
  for (const link of $("conversations").querySelectorAll("a[href^='?with=']")) {
    const target = new URLSearchParams(link.getAttribute("href").slice(1)).get("with");
    if (target === other) link.setAttribute("aria-current", "true");
    else link.removeAttribute("aria-current");
  }
  loadConversation();
}

async function send(event) {
  event.preventDefault();
  const to = current() || $("recipient").value.trim();
  const box = $("composer-text");
  const content = box.value.trim();
  if (!to || !content) return;
  showError("");
  try {
    await api(MESSAGES, { method: "POST", body: { recipient_id: to, content, message_type: "direct" } });
    box.value = "";
    $("recipient").value = "";
    if (current() !== to) open(to);
    else loadConversation();
    loadConversations();
  } catch (error) {
    fail(error);
  }
}

function main() {
  if (!requireSignIn()) return;
  $("composer").addEventListener("submit", send);
  $("composer-text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("new-message").addEventListener("click", (event) => {
    event.preventDefault();
    open("");
    $("recipient").focus();
  });
  window.addEventListener("popstate", show);
  onNotification((n) => {
    if (n.type !== "direct_message" && n.type !== "mention") return;
    loadConversations();
    if (n.data && n.data.sender_id === current()) loadConversation();
  });
  onNotificationsReset(() => {
    loadConversations();
    loadConversation();
  });
  loadConversations();
  show();
}

main();
