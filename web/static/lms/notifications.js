// My notifications: newest first, unread ones stand out; filters and page live in the
// address; mark one or all read; per-type preferences. New ones arrive live.
import {
  $,
  api,
  el,
  fail,
  onNotification,
  onNotificationsReset,
  refreshBell,
  requireSignIn,
  when,
  withQuery,
} from "./app.js";

const BASE = "/api/lms/notifications/notifications/";
const PREFERENCES = "/api/lms/notifications/preferences/";
const PAGE_SIZE = 20;
const LABELS = {
  announcement: "Announcements",
  lesson_created: "New lessons",
  direct_message: "Direct messages",
  mention: "Mentions",
  reply: "Replies to my posts",
  schedule_invitation: "Schedule invitations",
  schedule_changed: "Schedule changes",
  schedule_cancelled: "Cancelled schedules",
  grade: "Grades",
  certificate: "Certificates",
};
const CHANNELS = [
  ["in_app", "In app"],
  ["email", "Email"],
  ["off", "Off"],
];

function label(type) {
  return LABELS[type] || type.replace(/_/g, " ");
}

function state() {
  const params = new URL(window.location.href).searchParams;
  return {
    show: params.get("show") === "unread" ? "unread" : "",
    type: params.get("type") || "",
    page: Math.max(1, Number(params.get("page")) || 1),
  };
}

function go(next) {
  const query = new URLSearchParams();
  if (next.show) query.set("show", next.show);
  if (next.type) query.set("type", next.type);
  if (next.page > 1) query.set("page", String(next.page));
  const qs = query.toString();
  history.pushState(null, "", qs ? `?${qs}` : window.location.pathname);
  load();
}

/** Where a notification leads, from the ids its `data` carries. */
function target(n) {
  const d = n.data || {};
  if (n.type === "direct_message" && d.sender_id) return `/lms/messages/?with=${encodeURIComponent(d.sender_id)}`;
  if (d.group_id) return `/lms/groups/${d.group_id}/`;
  if (d.forum_id) return `/lms/forums/${d.forum_id}/`;
  if (d.schedule_id) return "/lms/schedule/";
  if (d.course_id) return `/lms/courses/${d.course_id}/`;
  return null;
}

async function markRead(n) {
  try {
    await api(`${BASE}${n.id}/read/`, { method: "POST" });
    refreshBell();
    await load();
  } catch (error) {
    fail(error);
  }
}

function item(n) {
  const href = target(n);
  // Following a notification reads it: marked first, then the page it names.
  const follow = async (event) => {
    if (n.is_read || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    try {
      await api(`${BASE}${n.id}/read/`, { method: "POST" });
    } catch {
      // Going there matters more than the mark.
    }
    window.location.assign(href);
  };
  const title = href ? el("a", { href, onclick: follow }, n.title) : n.title;
  return el(
    "li",
    { class: n.is_read ? "notification" : "notification unread", "data-id": n.id },
    el("h2", {}, n.is_read ? null : el("span", { class: "visually-hidden" }, "Unread: "), title),
    el(
      "p",
      { class: "meta" },
      `${label(n.type)} · `,
      el("time", { datetime: n.created_at }, when(n.created_at)),
    ),
    n.body ? el("p", { class: "body" }, n.body) : null,
    n.is_read
      ? null
      : el(
          "div",
          { class: "actions" },
          el(
            "button",
            {
              type: "button",
              class: "secondary",
              "aria-label": `Mark “${n.title}” read`,
              onclick: () => markRead(n),
            },
            "Mark read",
          ),
        ),
  );
}

let loading = 0;

async function load() {
  const s = state();
  $("show").value = s.show;
  $("type").value = s.type;
  const asked = ++loading;
  try {
    const page = await api(
      withQuery(BASE, {
        unread: s.show === "unread" ? "true" : "",
        type: s.type,
        page: s.page,
        page_size: PAGE_SIZE,
      }),
    );
    if (asked !== loading) return;
    const pages = Math.max(1, Math.ceil(page.count / PAGE_SIZE));
    $("result-count").textContent = `${page.count} notification${page.count === 1 ? "" : "s"}`;
    $("notifications").replaceChildren(...page.results.map(item));
    if (!page.results.length) {
      $("notifications").append(el("li", { class: "notification" }, "Nothing here."));
    }
    $("page-info").textContent = `Page ${s.page} of ${pages}`;
    $("prev").disabled = s.page <= 1;
    $("next").disabled = s.page >= pages;
  } catch (error) {
    fail(error);
  }
}

async function loadPreferences() {
  const prefs = await api(PREFERENCES);
  const types = Object.keys(prefs);
  $("type").append(...types.map((t) => el("option", { value: t }, label(t))));
  $("type").value = state().type;
  $("pref-fields").replaceChildren(
    ...types.map((t) => {
      const id = `pref-${t}`;
      const select = el(
        "select",
        { id, name: t },
        ...CHANNELS.map(([value, text]) => el("option", { value, selected: prefs[t] === value }, text)),
      );
      return el("div", { class: "field" }, el("label", { for: id }, label(t)), select);
    }),
  );
}

async function savePreferences(event) {
  event.preventDefault();
  const body = {};
  for (const select of $("pref-fields").querySelectorAll("select")) body[select.name] = select.value;
  $("prefs-status").textContent = "Saving…";
  try {
    const saved = await api(PREFERENCES, { method: "PUT", body });
    for (const [t, value] of Object.entries(saved)) {
      const select = $(`pref-${t}`);
      if (select) select.value = value;
    }
    $("prefs-status").textContent = "Preferences saved.";
  } catch (error) {
    $("prefs-status").textContent = "";
    fail(error);
  }
}

async function main() {
  if (!requireSignIn()) return;
  $("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    go({ show: $("show").value, type: $("type").value, page: 1 });
  });
  $("prev").addEventListener("click", () => go({ ...state(), page: state().page - 1 }));
  $("next").addEventListener("click", () => go({ ...state(), page: state().page + 1 }));
  $("read-all").addEventListener("click", async () => {
    try {
      await api(`${BASE}read-all/`, { method: "POST" });
      refreshBell();
      await load();
    } catch (error) {
      fail(error);
    }
  });
  $("preferences").addEventListener("submit", savePreferences);
  window.addEventListener("popstate", load);
  onNotification(load);
  onNotificationsReset(load);
  try {
    await loadPreferences();
  } catch (error) {
    fail(error);
  }
  await load();
}

main();
