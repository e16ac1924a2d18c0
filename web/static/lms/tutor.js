// AI tutor: my conversations, and a new one on a topic.
import { $, api, el, fail, requireSignIn, when } from "./app.js";

async function main() {
  if (!requireSignIn()) return;
  try {
    const page = await api("/api/lms/ai_chat/sessions/?page_size=50");
    $("sessions").replaceChildren(
      ...page.results.map((session) =>
        el(
          "li",
          { class: "card" },
          el("h3", {}, el("a", { href: `/lms/tutor/${session.id}/` }, session.topic)),
          el(
            "p",
            { class: "meta" },
            `${session.difficulty_level} · ${session.message_count} messages · ${when(session.updated_at)}`,
          ),
        ),
      ),
    );
    if (!page.results.length) $("sessions").append(el("li", {}, "No conversations yet."));
  } catch (error) {
    fail(error);
  }
}

$("new-session").addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = event.submitter;
  if (button) button.disabled = true;
  try {
    const session = await api("/api/lms/ai_chat/sessions/", {
      method: "POST",
      body: { topic: $("topic").value.trim(), difficulty_level: $("difficulty_level").value },
    });
    window.location.assign(`/lms/tutor/${session.id}/`);
  } catch (error) {
    fail(error);
    if (button) button.disabled = false;
  }
});

main();
