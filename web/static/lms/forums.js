// The forums I may read.
import { $, api, el, fail, requireSignIn } from "./app.js";

async function main() {
  if (!requireSignIn()) return;
  try {
    const page = await api("/api/lms/forum/forums/?ordering=title&page_size=100");
    $("forums").replaceChildren(
      ...page.results.map((forum) =>
        el(
          "li",
          { class: "card" },
          el("h2", {}, el("a", { href: `/lms/forums/${forum.id}/` }, forum.title)),
          el("p", { class: "meta" }, `${forum.post_count} posts${forum.is_locked ? " · locked" : ""}`),
        ),
      ),
    );
    if (!page.results.length) $("forums").append(el("li", {}, "No forums yet."));
  } catch (error) {
    fail(error);
  }
}

main();
