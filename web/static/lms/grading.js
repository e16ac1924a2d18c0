// An assignment's grading queue, for its course's instructor and admins: the submissions
// to grade (`?status=ungraded`, or graded, returned, all; kept in the address with the page),
// each with its text and files, a score and feedback form, and "Return" once graded (the
// learner then sees the grade and is told). A graded card stays in place until the list is
// read again, so it can be returned at once.
import { $, api, canChangeCourse, el, fail, personName, points, requireSignIn, showError, when, withQuery } from "./app.js";
import { fileButtons } from "./files.js";

const assignmentId = Number(document.body.dataset.roomId);
const ASSIGNMENT = `/api/lms/courses/assignments/${assignmentId}/`;
const SUBMISSIONS = "/api/lms/courses/submissions/";
const PAGE_SIZE = 10;
const STATUSES = new Set(["ungraded", "graded", "returned", ""]);
const LABELS = { ungraded: "To grade", graded: "Graded, not returned", returned: "Returned" };

let assignment = null;
let course = null;

function state() {
  const params = new URL(window.location.href).searchParams;
  const status = params.get("status");
  return {
    status: status !== null && STATUSES.has(status) ? status : "ungraded",
    page: Math.max(1, Number(params.get("page")) || 1),
  };
}

function go(next) {
  const query = new URLSearchParams();
  if (next.status !== "ungraded") query.set("status", next.status);
  if (next.page > 1) query.set("page", String(next.page));
  const qs = query.toString();
  history.pushState(null, "", qs ? `?${qs}` : window.location.pathname);
  load();
}

// With a rubric, a score per criterion (all of them, as the API asks); the total is then
// their sum unless a score is given.
function rubricFields(submission, id) {
  if (!assignment.rubric.length) return null;
  const given = submission.rubric_scores || {};
  return el(
    "fieldset",
    { class: "kind-part rubric" },
    el("legend", {}, "Rubric"),
    ...assignment.rubric.map((criterion, n) =>
      el(
        "div",
        { class: "field" },
        el("label", { for: `${id}-criterion-${n}` }, `${criterion.title} (0 to ${criterion.points})`),
        el("input", {
          id: `${id}-criterion-${n}`,
          type: "number",
          min: 0,
          max: criterion.points,
          step: "any",
          required: true,
          "data-criterion": criterion.id,
          value: given[criterion.id] ?? "",
          inputmode: "decimal",
        }),
      ),
    ),
  );
}

function gradeBody(form) {
  const f = form.elements;
  const body = { feedback: f.feedback.value };
  if (f.score.value.trim() !== "") body.score = Number(f.score.value);
  const criteria = form.querySelectorAll("input[data-criterion]");
  if (criteria.length) {
    body.rubric_scores = Object.fromEntries([...criteria].map((input) => [input.dataset.criterion, Number(input.value)]));
  }
  return body;
}

function gradeForm(submission, name) {
  const id = `s${submission.id}`;
  const rubric = assignment.rubric.length > 0;
  const form = el(
    "form",
    {
      class: "stack grade-form",
      "aria-label": `Grade ${name}`,
      onsubmit: async (event) => {
        event.preventDefault();
        const body = gradeBody(event.currentTarget);
        await act(event.currentTarget, `${SUBMISSIONS}${submission.id}/grade/`, body, `Graded ${name}.`);
      },
    },
    rubricFields(submission, id),
    el(
      "div",
      { class: "field" },
      el("label", { for: `${id}-score` }, rubric ? `Score (0 to ${assignment.points}; empty: the rubric's sum)` : `Score (0 to ${assignment.points})`),
      el("input", {
        id: `${id}-score`,
        name: "score",
        type: "number",
        min: 0,
        max: assignment.points,
        step: "any",
        required: !rubric,
        value: rubric ? "" : (submission.score_given ?? ""),
        inputmode: "decimal",
      }),
    ),
    el(
      "div",
      { class: "field" },
      el("label", { for: `${id}-feedback` }, "Feedback"),
      el("textarea", { id: `${id}-feedback`, name: "feedback", rows: 3 }, submission.feedback || ""),
    ),
    el(
      "div",
      { class: "actions" },
      el("button", { type: "submit" }, submission.status === "ungraded" ? "Save grade" : "Change grade"),
      submission.status === "graded"
        ? el(
            "button",
            {
              type: "button",
              class: "secondary",
              onclick: (event) =>
                act(event.currentTarget.form, `${SUBMISSIONS}${submission.id}/return/`, undefined, `Returned to ${name}.`),
            },
            `Return to ${name}`,
          )
        : null,
    ),
  );
  return form;
}

// Grades or returns, then draws the card again where it was.
async function act(form, path, body, done) {
  for (const button of form.querySelectorAll("button")) button.disabled = true;
  showError("");
  try {
    const updated = await api(path, { method: "POST", body });
    const item = form.closest("li");
    const fresh = card(updated);
    item.replaceWith(fresh);
    $("queue-count").textContent = done;
    const next = fresh.querySelector(".grade-form button[type=button]") || fresh.querySelector("h3");
    if (next) next.focus();
  } catch (error) {
    for (const button of form.querySelectorAll("button")) button.disabled = false;
    fail(error);
  }
}

function card(submission) {
  const name = personName(submission, "user_id");
  const late = submission.is_late ? ` · late by ${submission.days_late} ${submission.days_late === 1 ? "day" : "days"}` : "";
  const grade =
    submission.status === "ungraded"
      ? null
      : el(
          "p",
          { class: "grade-line" },
          `${LABELS[submission.status]}: ${points(submission.score, assignment.points)}`,
          submission.late_penalty ? ` (${submission.late_penalty} off for lateness)` : "",
        );
  return el(
    "li",
    { class: "card submission", "data-submission": submission.id, "data-status": submission.status },
    el("h3", { tabindex: -1 }, name),
    el("p", { class: "meta" }, `Version ${submission.version} · ${when(submission.submitted_at)}${late}`),
    submission.text ? el("p", { class: "prose submitted-text" }, submission.text) : null,
    fileButtons(submission.files),
    grade,
    gradeForm(submission, name),
  );
}

async function load() {
  const s = state();
  $("status-filter").value = s.status;
  showError("");
  try {
    const page = await api(
      withQuery(SUBMISSIONS, {
        assignment: assignmentId,
        status: s.status,
        ordering: "submitted_at",
        page: s.page,
        page_size: PAGE_SIZE,
      }),
    );
    $("queue").replaceChildren(...page.results.map(card));
    const what = s.status === "ungraded" ? "to grade" : s.status ? LABELS[s.status].toLowerCase() : "in all";
    $("queue-count").textContent = `${page.count} ${page.count === 1 ? "submission" : "submissions"} ${what}`;
    const pages = Math.max(1, Math.ceil(page.count / PAGE_SIZE));
    $("page-info").textContent = `Page ${s.page} of ${pages}`;
    $("prev").disabled = !page.previous;
    $("next").disabled = !page.next;
  } catch (error) {
    fail(error);
  }
}

$("status-filter").addEventListener("change", (event) => go({ status: event.currentTarget.value, page: 1 }));
$("prev").addEventListener("click", () => go({ ...state(), page: state().page - 1 }));
$("next").addEventListener("click", () => go({ ...state(), page: state().page + 1 }));
window.addEventListener("popstate", load);

async function main() {
  if (!requireSignIn()) return;
  try {
    assignment = await api(ASSIGNMENT);
    course = await api(`/api/lms/courses/courses/${assignment.course}/`);
    $("page-title").textContent = `Grading: ${assignment.title}`;
    document.title = `Grading: ${assignment.title} · LMS`;
    if (!canChangeCourse(course)) {
      showError("Only this course's instructor and admins can grade its assignments.");
      return;
    }
    $("gradebook-link").href = `/lms/courses/${assignment.course}/gradebook/`;
    $("gradebook-link").hidden = false;
    $("queue-section").hidden = false;
    await load();
  } catch (error) {
    fail(error);
  } finally {
    document.body.dataset.ready = "true";
  }
}

main();
