// One AI tutor conversation: my question is stored, the answer streams in as `delta` frames
// and is replaced by the stored message on `message.complete`.
import { $, api, el, fail, requireSignIn, Room, showError, when, withQuery } from "./app.js";

const sessionId = Number(document.body.dataset.roomId);
const shown = new Map(); // message id → {message, node, text}

function label(message) {
  if (message.sender_type === "user") return "You";
  if (message.status === "failed") return "Tutor (no answer)";
  return "Tutor";
}

function place(id, node) {
  const list = $("entries");
  const after = [...shown.entries()]
    .filter(([other, entry]) => other > id && entry.node.isConnected)
    .sort((a, b) => a[0] - b[0])[0];
  list.insertBefore(node, after ? after[1].node : null);
  list.scrollTop = list.scrollHeight;
}

/** Shows a message, or brings a shown one up to date; a longer streamed text is kept. */
function upsert(message) {
  const existing = shown.get(message.id);
  const finished = message.status === "complete" || message.status === "failed";
  const wasFinished = existing && ["complete", "failed"].includes(existing.message.status);
  if (wasFinished && !finished) return; // a late REST answer never undoes the final message
  let content = message.status === "failed" ? message.error || "The tutor could not answer." : message.message || "";
  if (existing && !finished && existing.text.data.length > content.length) content = existing.text.data;
  const text = document.createTextNode(content);
  const busy = message.sender_type === "assistant" && !finished;
  const node = el(
    "li",
    {
      class: `entry${message.sender_type === "user" ? " mine" : ""}${message.status === "failed" ? " failed" : ""}`,
      "data-id": message.id,
      "data-status": message.status || "complete",
      "aria-busy": busy ? "true" : "false",
    },
    el("span", { class: "who" }, label(message)),
    el("time", { class: "when", datetime: message.created_at }, when(message.created_at)),
    busy && !content ? el("span", { class: "note" }, " · thinking…") : null,
    el("p", { class: "text" }, text),
  );
  shown.set(message.id, { message, node, text });
  if (existing) existing.node.replaceWith(node);
  else place(message.id, node);
}

function delta(data) {
  const entry = shown.get(data.message_id);
  if (!entry) {
    upsert({ id: data.message_id, sender_type: "assistant", status: "streaming", message: data.text });
    return;
  }
  const note = entry.node.querySelector(".note");
  if (note) note.remove();
  entry.node.dataset.status = "streaming";
  entry.text.data += data.text;
  $("entries").scrollTop = $("entries").scrollHeight;
}

async function loadHistory() {
  try {
    const path = `/api/lms/ai_chat/sessions/${sessionId}/messages/`;
    let page = await api(withQuery(path, { page_size: 100 }));
    if (page.next) page = await api(withQuery(path, { page_size: 100, page: Math.ceil(page.count / 100) }));
    for (const message of page.results) upsert(message);
  } catch (error) {
    fail(error);
  }
}

async function main() {
  if (!requireSignIn()) return;
  try {
    const session = await api(`/api/lms/ai_chat/sessions/${sessionId}/`);
    $("page-title").textContent = session.topic;
    document.title = `${session.topic} · AI tutor · LMS`;
  } catch (error) {
    fail(error);
    return;
  }
  const room = new Room(`/ws/lms/ai_chat/${sessionId}/`, {
    onJoined: (_data, first) => {
      if (first) loadHistory();
    },
    onStatus: (state, text) => {
      $("room-status").dataset.state = state;
      $("room-status").textContent = text;
    },
    onError: showError,
    onEvent: (type, data) => {
      if (type === "delta") delta(data);
      else if (type === "message.complete" || type === "message") upsert(data);
    },
  });
  room.connect();

  $("composer-text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const box = $("composer-text");
    const message = box.value.trim();
    if (!message) return;
    showError("");
    box.value = "";
    try {
      const sent = await api("/api/lms/ai_chat/messages/", {
        method: "POST",
        body: { session: sessionId, message, sender_type: "user" },
      });
      const { reply, ...mine } = sent;
      upsert(mine);
      if (reply) upsert(reply);
    } catch (error) {
      box.value = message;
      fail(error);
    }
  });
}

main();
