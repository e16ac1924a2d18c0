// A course's gradebook, for its instructor and admins: a row per learner, a column per
// grade item (quizzes, assignments) with the effective score, the weighted total and the
// letter; pages kept in the address; "Download CSV" saves the API's `?format=csv` (every
// learner) with the token.
import { $, api, downloadWithToken, el, fail, personName, points, requireSignIn, showError, withQuery } from "./app.js";

const courseId = Number(document.body.dataset.roomId);
const GRADEBOOK = `/api/lms/courses/courses/${courseId}/gradebook/`;
const PAGE_SIZE = 25;

function page() {
  return Math.max(1, Number(new URL(window.location.href).searchParams.get("page")) || 1);
}

function go(number) {
  history.pushState(null, "", number > 1 ? `?page=${number}` : window.location.pathname);
  load();
}

function head(items) {
  $("gradebook-head").replaceChildren(
    el("th", { scope: "col" }, "Learner"),
    ...items.map((item) =>
      el("th", { scope: "col", "data-item": item.id }, item.title, el("span", { class: "help" }, ` (${item.kind}, ${item.max_points})`)),
    ),
    el("th", { scope: "col" }, "Total"),
    el("th", { scope: "col" }, "Letter"),
  );
}

function cell(score, item) {
  const notes = [];
  if (score.score !== null && !score.released) notes.push("not released");
  if (score.overridden) notes.push("changed");
  return el(
    "td",
    { "data-item": item.id, class: score.released ? "" : "unreleased" },
    points(score.score, item.max_points),
    notes.length ? el("span", { class: "help" }, ` (${notes.join(", ")})`) : null,
  );
}

function row(line, items) {
  return el(
    "tr",
    { "data-user": line.user_id },
    el("th", { scope: "row", class: "name" }, personName(line, "user_id") || line.name),
    ...line.scores.map((score, n) => cell(score, items[n])),
    el("td", { class: "total" }, line.total_percent === null ? "—" : `${line.total_percent.toFixed(1)}%`),
    el("td", { class: "letter" }, line.letter || "—"),
  );
}

async function load() {
  const number = page();
  try {
    const body = await api(withQuery(GRADEBOOK, { page: number, page_size: PAGE_SIZE }));
    head(body.items);
    $("gradebook-rows").replaceChildren(...body.results.map((line) => row(line, body.items)));
    if (!body.results.length) {
      $("gradebook-rows").append(el("tr", {}, el("td", { colspan: body.items.length + 3 }, "No learners yet.")));
    }
    $("result-count").textContent = `${body.count} ${body.count === 1 ? "learner" : "learners"}, ${body.items.length} graded ${body.items.length === 1 ? "item" : "items"}`;
    $("page-info").textContent = `Page ${number} of ${Math.max(1, Math.ceil(body.count / PAGE_SIZE))}`;
    $("prev").disabled = !body.previous;
    $("next").disabled = !body.next;
    $("gradebook-section").hidden = false;
  } catch (error) {
    $("gradebook-section").hidden = true;
    fail(error);
  }
}

$("download-csv").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  showError("");
  try {
    await downloadWithToken(withQuery(GRADEBOOK, { format: "csv" }), `course-${courseId}-gradebook.csv`, "text/csv");
  } catch (error) {
    fail(error);
  } finally {
    button.disabled = false;
  }
});
$("prev").addEventListener("click", () => go(page() - 1));
$("next").addEventListener("click", () => go(page() + 1));
window.addEventListener("popstate", load);

async function main() {
  if (!requireSignIn()) return;
  try {
    const course = await api(`/api/lms/courses/courses/${courseId}/`);
    $("page-title").textContent = `Gradebook: ${course.title}`;
    document.title = `Gradebook: ${course.title} · LMS`;
    await load();
  } catch (error) {
    fail(error);
  } finally {
    document.body.dataset.ready = "true";
  }
}

main();
