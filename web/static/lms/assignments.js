// A course's assignments: each with its due date and points, linked to its page; the
// course's instructor and admins also create one here and reach each grading queue.
import { $, api, canChangeCourse, el, fail, requireSignIn, showError, when, withQuery } from "./app.js";

const courseId = Number(document.body.dataset.roomId);
const ASSIGNMENTS = "/api/lms/courses/assignments/";
let course = null;

function card(assignment) {
  const facts = [
    `${assignment.points} points`,
    assignment.due_at ? `due ${when(assignment.due_at)}` : "no due date",
    assignment.is_published ? null : "not published",
  ].filter(Boolean);
  return el(
    "li",
    { class: "card", "data-assignment": assignment.id },
    el("h3", {}, el("a", { href: `/lms/assignments/${assignment.id}/` }, assignment.title)),
    el("p", { class: "meta" }, facts.join(" · ")),
    canChangeCourse(course)
      ? el("a", { href: `/lms/assignments/${assignment.id}/grading/`, "aria-label": `Grading queue of “${assignment.title}”` }, "Grading queue")
      : null,
  );
}

async function load() {
  const page = await api(withQuery(ASSIGNMENTS, { course: courseId, ordering: "due_at", page_size: 100 }));
  $("assignments").replaceChildren(...page.results.map(card));
  if (!page.results.length) $("assignments").append(el("li", { class: "help" }, "No assignments yet."));
}

$("create").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const f = form.elements;
  const due = f.due_at.value ? new Date(f.due_at.value) : null;
  const body = {
    course: courseId,
    title: f.title.value.trim(),
    instructions: f.instructions.value,
    points: Number(f.points.value),
    due_at: due ? due.toISOString() : null,
    late_policy: f.late_policy.value,
    late_percent_per_day: Number(f.late_percent_per_day.value) || 0,
    allowed_file_types: f.allowed_file_types.value.split(/[\s,]+/).filter(Boolean),
    is_published: f.is_published.checked,
  };
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  showError("");
  try {
    const made = await api(ASSIGNMENTS, { method: "POST", body });
    form.reset();
    await load();
    const link = document.querySelector(`[data-assignment="${made.id}"] a`);
    if (link) link.focus();
  } catch (error) {
    fail(error);
  } finally {
    button.disabled = false;
  }
});

async function main() {
  if (!requireSignIn()) return;
  try {
    course = await api(`/api/lms/courses/courses/${courseId}/`);
    $("page-title").textContent = `Assignments: ${course.title}`;
    document.title = `Assignments: ${course.title} · LMS`;
    $("create-section").hidden = !canChangeCourse(course);
    await load();
  } catch (error) {
    fail(error);
  } finally {
    document.body.dataset.ready = "true";
  }
}

main();
