// An assignment for a learner: its instructions and due date, my submission as it stands
// (its text and files, its status, and once returned my score and the feedback), and the
// form to submit text and files (again, for a new version, while the assignment allows).
import { $, api, canChangeCourse, el, fail, me, points, requireSignIn, showError, when, withQuery } from "./app.js";
import { fileButtons, size } from "./files.js";

const assignmentId = Number(document.body.dataset.roomId);
const ASSIGNMENT = `/api/lms/courses/assignments/${assignmentId}/`;
const SUBMISSIONS = "/api/lms/courses/submissions/";
const STATES = {
  ungraded: "Submitted: waiting to be graded.",
  graded: "Graded: the grade is shown once it is returned to you.",
  returned: "Returned with a grade.",
};

let assignment = null;
let course = null;

function renderFacts() {
  const facts = [
    `${assignment.points} points`,
    assignment.due_at ? `Due ${when(assignment.due_at)}` : "No due date",
    {
      accept: "Late work is accepted.",
      percent_per_day: `Late work loses ${assignment.late_percent_per_day}% a day.`,
      refuse: "Late work is refused.",
    }[assignment.late_policy],
    assignment.allowed_file_types.length
      ? `Files: ${assignment.allowed_file_types.join(", ")}, up to ${size(assignment.max_file_bytes)} each`
      : "Text only, no files",
  ];
  $("facts").replaceChildren(...facts.map((fact) => el("li", {}, fact)));
  $("instructions").textContent = assignment.instructions;
  $("about").hidden = false;
}

function renderMine(submission) {
  $("mine").hidden = !submission;
  if (!submission) return;
  const late = submission.is_late ? ` Late by ${submission.days_late} ${submission.days_late === 1 ? "day" : "days"}.` : "";
  $("mine-state").textContent = `Version ${submission.version}, ${when(submission.submitted_at)}. ${STATES[submission.status]}${late}`;
  $("mine-work").replaceChildren(
    submission.text ? el("p", { class: "prose submitted-text" }, submission.text) : null,
    fileButtons(submission.files) || "",
  );
  const returned = submission.status === "returned" && submission.score !== null;
  $("mine-grade").hidden = !returned;
  if (returned) {
    const penalty = submission.late_penalty ? ` (${submission.late_penalty} off for lateness)` : "";
    $("mine-score").textContent = `Score: ${points(submission.score, assignment.points)}${penalty}`;
    $("mine-feedback").textContent = submission.feedback || "No feedback.";
  }
  $("submit-title").textContent = "Submit a new version";
  $("submit-button").textContent = "Submit a new version";
}

async function loadMine() {
  const page = await api(withQuery(SUBMISSIONS, { assignment: assignmentId, user_id: me() }));
  renderMine(page.results.find((s) => s.user_id === me()) || null);
}

$("submit").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const text = $("submit-text").value;
  const files = [...$("submit-files").files];
  if (!text.trim() && !files.length) {
    showError("Write an answer or choose a file to submit.");
    return;
  }
  const button = $("submit-button");
  button.disabled = true;
  showError("");
  $("submit-status").textContent = "Submitting…";
  try {
    // The assignment field comes first: the server checks it before reading any file.
    const body = new FormData();
    body.append("assignment", String(assignmentId));
    body.append("text", text);
    for (const file of files) body.append("files", file);
    const submission = await api(SUBMISSIONS, { method: "POST", body });
    form.reset();
    renderMine(submission);
    $("submit-status").textContent = `Submitted (version ${submission.version}).`;
  } catch (error) {
    $("submit-status").textContent = "";
    fail(error);
  } finally {
    button.disabled = false;
  }
});

async function main() {
  if (!requireSignIn()) return;
  try {
    assignment = await api(ASSIGNMENT);
    course = await api(`/api/lms/courses/courses/${assignment.course}/`);
    $("page-title").textContent = assignment.title;
    document.title = `${assignment.title} · LMS`;
    $("list-link").href = `/lms/courses/${assignment.course}/assignments/`;
    $("list-link").hidden = false;
    renderFacts();
    if (canChangeCourse(course)) {
      $("grading-link").hidden = false;
      return;
    }
    const types = assignment.allowed_file_types;
    $("files-field").hidden = !types.length;
    $("files-label").textContent = `Files (${types.join(", ")}; optional)`;
    $("submit-files").setAttribute("accept", types.map((type) => `.${type}`).join(","));
    $("submit-section").hidden = false;
    await loadMine();
  } catch (error) {
    fail(error);
  } finally {
    document.body.dataset.ready = "true";
  }
}

main();
