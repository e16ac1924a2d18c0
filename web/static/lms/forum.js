// A forum's live room: posts appear as they are made, by anyone, over REST or a socket.
import { $, api, fail, requireSignIn, withQuery } from "./app.js";
import { startChat } from "./chat.js";

const forumId = Number(document.body.dataset.roomId);

function removeWithReplies(data, entries) {
  // Deleting a post deletes its replies, at any depth.
  const gone = new Set([data.id]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const { item } of entries.items.values()) {
      if (item.parent !== null && gone.has(item.parent) && !gone.has(item.id)) {
        gone.add(item.id);
        grew = true;
      }
    }
  }
  for (const id of gone) entries.remove(id);
}

async function main() {
  if (!requireSignIn()) return;
  try {
    const forum = await api(`/api/lms/forum/forums/${forumId}/`);
    $("page-title").textContent = forum.title;
    document.title = `${forum.title} · LMS`;
    $("room-description").textContent = forum.is_locked
      ? `${forum.description}\nThis forum is locked: nobody can post.`.trim()
      : forum.description;
  } catch (error) {
    fail(error);
    return;
  }
  startChat({
    socketPath: `/ws/lms/forum/${forumId}/`,
    onlinePath: `/api/lms/forum/forums/${forumId}/online/`,
    load: async () => {
      const page = await api(
        withQuery("/api/lms/forum/posts/", { forum: forumId, ordering: "-created_at", page_size: 50 }),
      );
      return page.results.reverse();
    },
    render: (post) => ({
      author: post.author_id,
      name: post.author?.name,
      text: post.content,
      created: post.created_at,
      note: [
        post.parent ? `reply to #${post.parent}` : "",
        post.is_pinned ? "pinned" : "",
        post.is_edited ? "edited" : "",
      ]
        .filter(Boolean)
        .join(", "),
    }),
    frame: (content) => ({ type: "post", content }),
    post: (content) => api("/api/lms/forum/posts/", { method: "POST", body: { forum: forumId, content } }),
    events: { post: "add", post_updated: "update", post_deleted: removeWithReplies },
  });
}

main();
