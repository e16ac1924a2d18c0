// A course's gradebook, for its instructor and admins: a row per learner, a column per
// grade item (quizzes, assignments) with the effective score, the weighted total and the
// letter; pages kept in the address; "Download CSV" saves the API's `?format=csv` (every
// learner) with the token. A graded cell's score opens a dialog to change it (an override,
// with its reason) or to go back to the source's score.
import { $, ApiError, api, downloadWithToken, el, fail, personName, points, requireSignIn, showError, withQuery } from "./app.js";

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

let editing = null;

function cell(score, item, line) {
  const notes = [];
  if (score.score !== null && !score.released) notes.push("not released");
  if (score.overridden) notes.push("changed");
  const name = personName(line, "user_id") || line.name;
  const shown = points(score.score, item.max_points);
  const value =
    score.grade_id === null
      ? shown
      : el(
          "button",
          {
            type: "button",
            class: "cell-button",
            "aria-label": `${shown}: change the score of ${name} for “${item.title}”`,
            onclick: () => openOverride({ score, item, name }),
          },
          shown,
        );
  return el(
    "td",
    { "data-item": item.id, class: score.released ? "" : "unreleased" },
    value,
    notes.length ? el("span", { class: "help" }, ` (${notes.join(", ")})`) : null,
  );
}

function openOverride(target) {
  editing = target;
  $("override-what").textContent = `${target.name}, “${target.item.title}”: now ${points(target.score.score, target.item.max_points)}.`;
  $("override-score-label").textContent = `New score (0 to ${target.item.max_points})`;
  $("override-score").max = String(target.item.max_points);
  $("override-score").value = target.score.score ?? "";
  $("override-reason").value = "";
  $("override-clear").hidden = !target.score.overridden;
  $("override-error").hidden = true;
  $("override").showModal();
}

$("override-form").addEventListener("submit", async (event) => {
  const action = event.submitter ? event.submitter.value : "save";
  if (action === "cancel" || !editing) return;
  event.preventDefault();
  const body =
    action === "clear"
      ? { override_score: null, reason: $("override-reason").value.trim() }
      : { override_score: Number($("override-score").value), reason: $("override-reason").value.trim() };
  if (action === "save" && $("override-score").value.trim() === "") {
    $("override-score").focus();
    return;
  }
  showError("");
  try {
    await api(`/api/lms/courses/grades/${editing.score.grade_id}/`, { method: "PATCH", body });
    $("override").close();
    editing = null;
    await load();
    $("result-count").textContent = action === "clear" ? "Score restored." : "Score changed.";
  } catch (error) {
    if (error instanceof ApiError && error.status !== 401) {
      $("override-error").textContent = error.message;
      $("override-error").hidden = false;
    } else {
      $("override").close();
      fail(error);
    }
  }
});

function row(line, items) {
  return el(
    "tr",
    { "data-user": line.user_id },
    el("th", { scope: "row", class: "name" }, personName(line, "user_id") || line.name),
    ...line.scores.map((score, n) => cell(score, items[n], line)),
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
