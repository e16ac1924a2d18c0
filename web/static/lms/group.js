// A group's chat: messages live, typing, who is online; what I have seen is marked read.
import { $, api, fail, personName, requireSignIn, withQuery } from "./app.js";
import { startChat } from "./chat.js";

const groupId = Number(document.body.dataset.roomId);
let readTimer = null;

function markRead() {
  // Debounced: a burst of messages is one read-all.
  clearTimeout(readTimer);
  readTimer = setTimeout(() => {
    api("/api/lms/messaging/messages/read-all/", { method: "POST", body: { group_id: groupId } }).catch(
      () => {},
    );
  }, 500);
}

async function main() {
  if (!requireSignIn()) return;
  try {
    const group = await api(`/api/lms/groups/groups/${groupId}/`);
    $("page-title").textContent = group.name;
    document.title = `${group.name} · LMS`;
    $("room-description").textContent = group.description;
  } catch (error) {
    fail(error);
    return;
  }
  startChat({
    socketPath: `/ws/lms/group/${groupId}/chat/`,
    onlinePath: `/api/lms/groups/groups/${groupId}/online/`,
    load: async () => {
      const page = await api(
        withQuery("/api/lms/messaging/messages/", {
          group_id: groupId,
          ordering: "-created_at",
          page_size: 50,
        }),
      );
      markRead();
      return page.results.reverse();
    },
    render: (message) => ({
      author: message.sender_id,
      name: message.sender?.name,
      text: message.content,
      created: message.created_at,
      note: message.edited_at ? "edited" : "",
    }),
    frame: (content) => ({ type: "message", content }),
    post: (content) =>
      api("/api/lms/messaging/messages/", {
        method: "POST",
        body: { group_id: groupId, content, message_type: "group" },
      }),
    events: {
      message: "add",
      message_updated: "update",
      message_deleted: "remove",
      member_joined: (data, entries) => entries.note(`${personName(data, "user_id")} joined the group`),
      member_left: (data, entries) => entries.note(`${personName(data, "user_id")} left the group`),
    },
    afterEvent: (type) => {
      if (type === "message") markRead();
    },
  });
}

main();
