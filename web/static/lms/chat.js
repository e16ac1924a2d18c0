// A live conversation (forum room or group chat): history over REST, then live events, the
// composer, typing indicators and who is online. Pages supply only what differs.
import { $, api, el, fail, me, Room, showError, toast, when } from "./app.js";

const TYPING_SEND_EVERY = 2000; // ms; the server relays at most one a second per socket
const TYPING_SHOWN_FOR = 4000; // ms after the last typing frame of a user
const ONLINE_REFRESH = 10000; // ms; presence has no events of its own

/** Entries kept in id order, each shown once, however it arrived (REST, live or replay). */
class Entries {
  constructor(list, render) {
    this.list = list;
    this.render = render;
    this.items = new Map();
  }

  upsert(item) {
    const node = this.render(item);
    node.dataset.id = String(item.id);
    const existing = this.items.get(item.id);
    this.items.set(item.id, { item, node });
    if (existing) {
      existing.node.replaceWith(node);
      return;
    }
    const after = [...this.items.values()]
      .filter((e) => e.item.id > item.id && e.node.isConnected)
      .sort((a, b) => a.item.id - b.item.id)[0];
    this.list.insertBefore(node, after ? after.node : null);
    this.list.scrollTop = this.list.scrollHeight;
  }

  remove(id) {
    const existing = this.items.get(id);
    if (!existing) return;
    existing.node.remove();
    this.items.delete(id);
  }

  note(text) {
    this.list.append(el("li", { class: "entry note" }, text));
    this.list.scrollTop = this.list.scrollHeight;
  }

  clear() {
    this.items.clear();
    this.list.replaceChildren();
  }
}

export function entryNode({ author, name, text, created, note, mine }) {
  return el(
    "li",
    { class: mine ? "entry mine" : "entry" },
    el("span", { class: "who" }, name || author),
    el("time", { class: "when", datetime: created }, when(created)),
    note ? el("span", { class: "note" }, ` · ${note}`) : null,
    el("p", { class: "text" }, text),
  );
}

/**
 * config: socketPath, onlinePath, load() → items oldest first, render(item) → {author (an id),
 * name (shown, else the id), text, created, note}, frame(content) → socket frame,
 * post(content) → REST fallback,
 * events: {type: "add" | "update" | "remove" | (data, entries) => void}.
 */
export function startChat(config) {
  const entries = new Entries($("entries"), (item) => {
    const view = config.render(item);
    return entryNode({ ...view, mine: view.author === me() });
  });
  const typing = new Map();
  const typingNames = new Map(); // user id -> the name its typing frame carried
  let lastSent = "";
  let lastTypingSent = 0;
  let onlineTimer = null;
  let online = new Set();

  function showTyping() {
    const names = [...typing.keys()].map((id) => typingNames.get(id) || id);
    $("typing").textContent = names.length
      ? `${names.join(", ")} ${names.length === 1 ? "is" : "are"} typing…`
      : "";
  }

  function seen(user) {
    // Someone active who is not listed has just arrived: no need to wait for the next poll.
    if (typeof user === "string" && !online.has(user)) refreshOnline();
  }

  function typingFrom(user, name) {
    seen(user);
    if (name) typingNames.set(user, name);
    clearTimeout(typing.get(user));
    typing.set(
      user,
      setTimeout(() => {
        typing.delete(user);
        showTyping();
      }, TYPING_SHOWN_FOR),
    );
    showTyping();
  }

  async function refreshOnline() {
    clearTimeout(onlineTimer);
    try {
      const body = await api(config.onlinePath);
      online = new Set(body.users);
      $("online-count").textContent = `(${body.count})`;
      const people = body.people || body.users.map((id) => ({ id, name: id }));
      $("online").replaceChildren(
        ...people.map((p) => el("li", {}, p.id === me() ? `${p.name} (you)` : p.name)),
      );
    } catch {
      // Presence is a nicety: a failed refresh keeps the last list.
    }
    onlineTimer = setTimeout(refreshOnline, ONLINE_REFRESH);
  }

  async function loadHistory() {
    try {
      for (const item of await config.load()) entries.upsert(item);
    } catch (error) {
      fail(error);
    }
  }

  const room = new Room(config.socketPath, {
    onJoined: (_data, first) => {
      if (first) loadHistory();
      refreshOnline();
    },
    onReset: () => entries.clear(),
    onTyping: typingFrom,
    onStatus: (state, text) => {
      $("room-status").dataset.state = state;
      $("room-status").textContent = text;
    },
    onError: (message) => {
      showError(message);
      const box = $("composer-text");
      if (!box.value && lastSent) box.value = lastSent;
    },
    onEvent: (type, data) => {
      const action = config.events[type];
      if (typeof action === "function") action(data, entries);
      else if (action === "add" || action === "update") entries.upsert(data);
      else if (action === "remove") entries.remove(data.id);
      if (data && typeof data === "object") {
        const author = config.render(data).author;
        seen(author);
        if (typing.has(author)) {
          clearTimeout(typing.get(author));
          typing.delete(author);
          showTyping();
        }
      }
      if (config.afterEvent) config.afterEvent(type, data);
    },
  });

  $("composer-text").addEventListener("input", () => {
    const now = Date.now();
    if (now - lastTypingSent > TYPING_SEND_EVERY && room.send({ type: "typing" })) {
      lastTypingSent = now;
    }
  });
  $("composer-text").addEventListener("keydown", (event) => {
    // Enter sends, Shift+Enter starts a new line (as chat clients do).
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const box = $("composer-text");
    const content = box.value.trim();
    if (!content) return;
    showError("");
    lastSent = content;
    box.value = "";
    if (room.send(config.frame(content))) return;
    // Not connected: the same operation over REST; the event arrives when the room is back.
    try {
      entries.upsert(await config.post(content));
    } catch (error) {
      box.value = content;
      fail(error);
    }
  });

  room.connect();
  return { room, entries, toast };
}
