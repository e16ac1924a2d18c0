// Shared by every page: the token, API calls, safe DOM building, toasts and live rooms.
// User content only ever reaches the page as text nodes (never innerHTML).

const TOKEN_KEY = "lms.token";

// The auth-service sends users back with `?token=`: keep it for this tab and take it out of
// the address bar at once, so it is neither bookmarked nor shared.
(function captureToken() {
  const url = new URL(window.location.href);
  const fromRedirect = url.searchParams.get("token");
  if (fromRedirect) {
    sessionStorage.setItem(TOKEN_KEY, fromRedirect.trim());
    url.searchParams.delete("token");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
})();

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value.trim());
}

export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** The token's claims, for display only: the server verifies it on every call. */
export function claims() {
  const raw = token();
  if (!raw) return null;
  try {
    const part = raw.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = decodeURIComponent(
      Array.from(atob(part), (c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join(""),
    );
    return JSON.parse(json);
  } catch {
    return null;
  }
}

export function me() {
  const c = claims();
  return c && typeof c.sub === "string" ? c.sub : null;
}

/** Whether the signed-in user may change `course`: an admin, or its instructor. */
export function canChangeCourse(course) {
  const roles = (claims() || {}).roles || [];
  return roles.includes("admin") || course.instructor_id === me();
}

export class ApiError extends Error {
  constructor(status, body) {
    super(errorText(status, body));
    this.status = status;
    this.body = body;
  }
}

/** A readable sentence from the API's error shapes ({"detail"} or field errors). */
export function errorText(status, body) {
  if (body && typeof body === "object") {
    if (typeof body.detail === "string") return body.detail;
    const parts = [];
    for (const [field, messages] of Object.entries(body)) {
      if (field === "status" && !Array.isArray(messages)) continue;
      parts.push(`${field}: ${[].concat(messages).join(" ")}`);
    }
    if (parts.length) return parts.join("; ");
  }
  return `The request failed (${status}).`;
}

/** Calls the JSON API with this tab's token; answers the parsed body, or throws ApiError. */
export async function api(path, { method = "GET", body, headers = {} } = {}) {
  const all = { Accept: "application/json", ...headers };
  const bearer = token();
  if (bearer) all.Authorization = `Bearer ${bearer}`;
  // A FormData body (a file upload) goes as multipart: the browser writes its Content-Type.
  const form = typeof FormData !== "undefined" && body instanceof FormData;
  if (body !== undefined && !form) all["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: all,
      body: body === undefined || form ? body : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { detail: "The service cannot be reached; check your connection." });
  }
  const text = await response.text();
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

/** `api` with a query string built from an object (empty values left out). */
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(key, String(value));
  }
  const qs = query.toString();
  return qs ? `${path}?${qs}` : path;
}

/** Builds an element; strings and numbers among children become text nodes. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      node.className = value;
    } else if (key === "text") {
      node.textContent = value;
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/**
 * A person's display name (docs/api.md "Names beside ids"): the API puts a name object beside
 * each user id, `author` beside `author_id`, `created_by_person` beside `created_by`,
 * `user_person` beside an enrollment's `user`. `field` names the id's field; the id itself
 * is the fallback.
 */
export function personName(row, field) {
  if (!row) return "";
  const candidates = field.endsWith("_id")
    ? [field.slice(0, -3), `${field}_person`]
    : [`${field}_person`, field];
  for (const key of candidates) {
    const value = row[key];
    if (value && typeof value === "object") return value.name || value.id || "";
  }
  const id = row[field];
  return id === undefined || id === null ? "" : String(id);
}

export function $(id) {
  return document.getElementById(id);
}

export function money(amount, currency) {
  if (amount === null || amount === undefined) return "";
  if (Number(amount) === 0) return "Free";
  return `${amount} ${currency || ""}`.trim();
}

export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

export function showError(message) {
  const box = $("page-error");
  box.textContent = message;
  box.hidden = !message;
}

/** A short message in the corner; it stays long enough to be read, then goes. */
export function toast(title, text = "", seconds = 8) {
  const item = el("div", { class: "toast" }, el("strong", {}, title), text);
  $("toasts").append(item);
  setTimeout(() => item.remove(), seconds * 1000);
}

function signInPath() {
  const next = encodeURIComponent(window.location.pathname + window.location.search);
  return `/lms/signin/?next=${next}`;
}

/** Pages that need a signed-in user stop here with a way to sign in when there is none. */
export function requireSignIn() {
  if (token()) return true;
  const box = $("page-error");
  box.replaceChildren("You are not signed in. ", el("a", { href: signInPath() }, "Sign in"));
  box.hidden = false;
  return false;
}

/** Errors that mean "sign in again" send the user there; others are shown on the page. */
export function fail(error) {
  if (error instanceof ApiError && error.status === 401) {
    signOut();
    requireSignIn();
    return;
  }
  showError(error.message || String(error));
}

function renderChrome() {
  for (const link of document.querySelectorAll(".site-header nav a")) {
    const path = link.getAttribute("href");
    const here = window.location.pathname;
    if (here === path || (path !== "/lms/" && here.startsWith(path))) {
      link.setAttribute("aria-current", "page");
    }
  }
  const who = me();
  const box = $("identity");
  if (!who) {
    if (window.location.pathname !== "/lms/signin/") box.querySelector("a").href = signInPath();
    return;
  }
  const signOutButton = el(
    "button",
    {
      type: "button",
      class: "secondary",
      onclick: () => {
        signOut();
        window.location.assign("/lms/signin/");
      },
    },
    "Sign out",
  );
  box.replaceChildren(el("span", { id: "whoami" }, `Signed in as ${who}`), signOutButton);
}

renderChrome();

const NO_RETRY = new Set([1008, 1009, 4401, 4403, 4404]);
const CLOSE_REASONS = {
  4401: "Your sign-in is no longer valid.",
  4403: "You are not allowed in this room.",
  4404: "This room does not exist or is not visible to you.",
};

/**
 * A live room (docs/realtime.md): reconnects after a drop and resumes with `?since=` from the last
 * `seq` seen, so nothing is missed and nothing is shown twice; a `reset` means the history
 * no longer covers the gap and the page reloads its data over REST.
 */
export class Room {
  constructor(path, { onEvent, onJoined, onReset, onTyping, onStatus, onError }) {
    this.path = path;
    this.handlers = { onEvent, onJoined, onReset, onTyping, onStatus, onError };
    this.seq = null;
    this.socket = null;
    this.retry = 0;
    this.timer = null;
    this.stopped = false;
    window.addEventListener("offline", () => this.drop("offline"));
    window.addEventListener("online", () => this.reconnectNow());
  }

  connect() {
    clearTimeout(this.timer);
    const bearer = token();
    if (!bearer || this.stopped) return;
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const query = new URLSearchParams({ token: bearer });
    if (this.seq !== null) query.set("since", String(this.seq));
    const socket = new WebSocket(`${scheme}://${window.location.host}${this.path}?${query}`);
    this.socket = socket;
    this.status("connecting", this.seq === null ? "Connecting…" : "Reconnecting…");
    socket.addEventListener("message", (message) => this.receive(message.data));
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (NO_RETRY.has(event.code)) {
        this.stopped = true;
        this.status("down", CLOSE_REASONS[event.code] || "Disconnected.");
        return;
      }
      this.scheduleReconnect();
    });
  }

  receive(raw) {
    let frame;
    try {
      frame = JSON.parse(raw);
    } catch {
      return;
    }
    if (typeof frame.seq === "number") {
      if (this.seq !== null && frame.seq <= this.seq) return; // already shown
      this.seq = frame.seq;
    }
    const h = this.handlers;
    switch (frame.type) {
      case "joined": {
        const first = this.seq === null;
        if (first) this.seq = frame.data.seq;
        this.retry = 0;
        this.status("live", "Live");
        if (h.onJoined) h.onJoined(frame.data, first);
        break;
      }
      case "reset":
        this.seq = null;
        if (h.onReset) h.onReset();
        break;
      case "typing":
        if (h.onTyping && frame.data.user_id !== me()) {
          h.onTyping(frame.data.user_id, personName(frame.data, "user_id"));
        }
        break;
      case "error":
        if (h.onError) h.onError(errorText(frame.code, { detail: frame.detail }), frame);
        break;
      case "pong":
        break;
      default:
        if (h.onEvent) h.onEvent(frame.type, frame.data, frame);
    }
  }

  /** Sends a frame when the socket is open; false when it is not (the caller falls back). */
  send(frame) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  drop(reason) {
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.close(1000, reason);
    clearTimeout(this.timer);
    this.status("down", "Offline: waiting for the network…");
  }

  reconnectNow() {
    if (this.socket || this.stopped) return;
    this.retry = 0;
    this.connect();
  }

  scheduleReconnect() {
    if (this.stopped) return;
    // Exponential backoff with jitter, capped: a restarted server is not stampeded.
    const delay = Math.min(15000, 500 * 2 ** this.retry) * (0.75 + Math.random() / 2);
    this.retry += 1;
    this.status("connecting", `Connection lost; retrying in ${Math.round(delay / 1000)} s…`);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  status(state, text) {
    if (this.handlers.onStatus) this.handlers.onStatus(state, text);
  }
}

// The bell in the header of every page: the unread count comes from the API, asked again
// whenever the user's notification socket says something arrived (or after a resume); pages
// that show notifications or messages listen for the same frames with `onNotification`.
const NOTIFICATION_EVENT = "lms:notification";
const NOTIFICATIONS_RESET = "lms:notifications-reset";
const JOB_PROGRESS_EVENT = "lms:job-progress";
let bellAsked = 0;

/** Calls `handler(notification)` for each new notification of mine, live or replayed. */
export function onNotification(handler) {
  window.addEventListener(NOTIFICATION_EVENT, (event) => handler(event.detail));
}

/** Calls `handler({job_id, status, done, failed, total})` for each `job_progress` frame: how
 * a job I started (a bulk enrollment) goes, sent to me alone after each batch. */
export function onJobProgress(handler) {
  window.addEventListener(JOB_PROGRESS_EVENT, (event) => handler(event.detail));
}

/** Calls `handler()` when the socket could not replay what was missed (reload over REST). */
export function onNotificationsReset(handler) {
  window.addEventListener(NOTIFICATIONS_RESET, () => handler());
}

function showBell(count) {
  const bell = $("bell");
  const badge = $("bell-count");
  badge.textContent = count > 99 ? "99+" : String(count);
  badge.dataset.count = String(count);
  bell.setAttribute("aria-label", `Notifications: ${count} unread`);
}

/** Asks the API for my unread count; only the latest answer is shown. */
export async function refreshBell() {
  if (!token() || !$("bell")) return;
  const asked = ++bellAsked;
  try {
    const body = await api("/api/lms/notifications/notifications/unread-count/");
    if (asked === bellAsked) showBell(body.unread_count);
  } catch {
    // The bell is a nicety: a failed refresh keeps the last count.
  }
}

function startBell() {
  const bell = $("bell");
  if (!bell || !token()) return;
  bell.hidden = false;
  if (window.location.pathname === bell.getAttribute("href")) bell.setAttribute("aria-current", "page");
  refreshBell();
  const room = new Room("/ws/lms/notifications/", {
    onJoined: (_data, first) => {
      if (!first) refreshBell(); // back after a drop: what was missed has just been replayed
    },
    onReset: () => {
      refreshBell();
      window.dispatchEvent(new CustomEvent(NOTIFICATIONS_RESET));
    },
    onEvent: (type, data) => {
      if (type === "job_progress") {
        window.dispatchEvent(new CustomEvent(JOB_PROGRESS_EVENT, { detail: data }));
        return;
      }
      if (type !== "notification") return;
      refreshBell();
      window.dispatchEvent(new CustomEvent(NOTIFICATION_EVENT, { detail: data }));
    },
    onStatus: (state) => {
      bell.dataset.state = state;
    },
  });
  room.connect();
}

startBell();

/**
 * Fetches a file the API serves only with the token (a CSV export, a submitted file) and
 * saves it under `filename`: a plain link cannot carry the token.
 */
export async function downloadWithToken(path, filename, accept = "*/*") {
  let response;
  try {
    response = await fetch(path, { headers: { Accept: accept, Authorization: `Bearer ${token()}` } });
  } catch {
    throw new ApiError(0, { detail: "The service cannot be reached; check your connection." });
  }
  if (!response.ok) {
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    throw new ApiError(response.status, body);
  }
  const url = URL.createObjectURL(await response.blob());
  const link = el("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A score as "7.5 / 10" (numbers kept short), or a dash when there is none. */
export function points(score, max) {
  const short = (value) => String(Math.round(Number(value) * 100) / 100);
  if (score === null || score === undefined) return "—";
  return max === null || max === undefined ? short(score) : `${short(score)} / ${short(max)}`;
}
