// The groups I belong to, each with its chat.
import { $, api, el, fail, requireSignIn } from "./app.js";

async function main() {
  if (!requireSignIn()) return;
  try {
    const page = await api("/api/lms/groups/groups/?member=me&ordering=name&page_size=100");
    $("groups").replaceChildren(
      ...page.results.map((group) =>
        el(
          "li",
          { class: "card" },
          el("h2", {}, el("a", { href: `/lms/groups/${group.id}/` }, group.name)),
          el("p", { class: "meta" }, `${group.member_count} members · ${group.my_role || "admin"}`),
        ),
      ),
    );
    if (!page.results.length) $("groups").append(el("li", {}, "You are in no group yet."));
  } catch (error) {
    fail(error);
  }
}

main();
