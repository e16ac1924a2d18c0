// A quiz's editor, for its course's instructor and admins: the settings (PATCH), questions
// added, edited, deleted and moved (their `position` written 0, 1, 2…), and a preview of the
// questions as a learner sees them. Everything is read again from the API after a change.
import { $, api, canChangeCourse, el, fail, points, requireSignIn, showError, when, withQuery } from "./app.js";
import { KINDS, questionField } from "./quizview.js";

const quizId = Number(document.body.dataset.roomId);
const QUIZ = `/api/lms/courses/quizzes/${quizId}/`;
const QUESTIONS = "/api/lms/courses/questions/";
const CHOICE = new Set(["single_choice", "multiple_choice"]);

let quiz = null;
let course = null;
let questions = [];
const open = new Set();
let busy = false;

function say(text) {
  $("status").textContent = text;
}

async function load() {
  quiz = await api(QUIZ);
  const page = await api(withQuery(QUESTIONS, { quiz: quizId, page_size: 100 }));
  questions = page.results.slice().sort((a, b) => a.position - b.position || a.id - b.id);
}

async function change(work, done, focusId) {
  if (busy) return false;
  busy = true;
  document.body.dataset.busy = "true";
  showError("");
  say("Saving…");
  let ok = false;
  try {
    await work();
    await load();
    render();
    say(done);
    ok = true;
    const target = focusId && $(focusId);
    if (target && !target.disabled) target.focus();
  } catch (error) {
    say("");
    fail(error);
  } finally {
    busy = false;
    document.body.dataset.busy = "false";
  }
  return ok;
}

// Settings

function fillSettings() {
  const form = $("settings");
  form.elements.title.value = quiz.title;
  form.elements.description.value = quiz.description;
  form.elements.time_limit_minutes.value = quiz.time_limit_minutes ?? "";
  form.elements.attempts_allowed.value = quiz.attempts_allowed ?? "";
  form.elements.passing_score.value = quiz.passing_score;
  form.elements.grading_method.value = quiz.grading_method;
  form.elements.reveal_answers.value = quiz.reveal_answers;
  form.elements.shuffle_questions.checked = quiz.shuffle_questions;
  form.elements.shuffle_options.checked = quiz.shuffle_options;
  form.elements.is_published.checked = quiz.is_published;
  form.elements.available_from.value = localInput(quiz.available_from);
  form.elements.available_until.value = localInput(quiz.available_until);
}

// A datetime-local field shows the browser's time; the API takes and gives UTC.
function localInput(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function utc(value) {
  return value ? new Date(value).toISOString() : null;
}

function optionalNumber(value) {
  const text = String(value).trim();
  return text === "" ? null : Number(text);
}

$("settings").addEventListener("submit", (event) => {
  event.preventDefault();
  const f = event.currentTarget.elements;
  const body = {
    title: f.title.value.trim(),
    description: f.description.value,
    time_limit_minutes: optionalNumber(f.time_limit_minutes.value),
    attempts_allowed: optionalNumber(f.attempts_allowed.value),
    passing_score: Number(f.passing_score.value),
    grading_method: f.grading_method.value,
    reveal_answers: f.reveal_answers.value,
    shuffle_questions: f.shuffle_questions.checked,
    shuffle_options: f.shuffle_options.checked,
    is_published: f.is_published.checked,
    available_from: utc(f.available_from.value),
    available_until: utc(f.available_until.value),
  };
  change(() => api(QUIZ, { method: "PATCH", body }), "Settings saved.");
});

// A question's form: the parts its kind needs are shown, the others hidden.

function field(id, label, control) {
  control.id = id;
  return el("div", { class: "field" }, el("label", { for: id }, label), control);
}

function optionRow(prefix, n, option = {}) {
  const row = el(
    "li",
    { class: "option-row", "data-option-id": option.id || "" },
    field(`${prefix}-option-${n}`, `Option ${n}`, el("input", { name: "option", maxlength: 1000, value: option.text || "", autocomplete: "off" })),
    el(
      "div",
      { class: "check" },
      el("input", { type: "checkbox", id: `${prefix}-option-${n}-correct`, name: "correct", checked: Boolean(option.correct) }),
      el("label", { for: `${prefix}-option-${n}-correct` }, `Option ${n} is right`),
    ),
  );
  return row;
}

function questionForm(question, prefix, label, onSave) {
  const q = question || { kind: "single_choice", points: 1, options: [], accepted_answers: [], tolerance: 0, feedback: "" };
  const options = el("ol", { class: "option-rows" });
  const rows = q.options.length ? q.options : [{}, {}, {}];
  rows.forEach((option, n) => options.append(optionRow(prefix, n + 1, option)));
  const choiceBox = el(
    "fieldset",
    { class: "kind-part", "data-kinds": "single_choice multiple_choice" },
    el("legend", {}, "Options (tick the right ones)"),
    options,
    el(
      "button",
      {
        type: "button",
        class: "secondary small",
        onclick: () => options.append(optionRow(prefix, options.children.length + 1)),
      },
      "Add an option",
    ),
  );
  const trueFalse = el(
    "div",
    { class: "kind-part", "data-kinds": "true_false" },
    field(
      `${prefix}-truth`,
      "The right answer",
      el(
        "select",
        { name: "true_false_answer" },
        el("option", { value: "true", selected: q.true_false_answer !== false }, "True"),
        el("option", { value: "false", selected: q.true_false_answer === false }, "False"),
      ),
    ),
  );
  const shortText = el(
    "div",
    { class: "kind-part", "data-kinds": "short_text" },
    field(`${prefix}-accepted`, "Accepted answers, one a line", el("textarea", { name: "accepted_answers", rows: 3 }, (q.accepted_answers || []).join("\n"))),
  );
  const numeric = el(
    "div",
    { class: "kind-part", "data-kinds": "numeric" },
    field(`${prefix}-number`, "The right number", el("input", { name: "numeric_answer", type: "number", step: "any", value: q.numeric_answer ?? "" })),
    field(`${prefix}-tolerance`, "Tolerance (±)", el("input", { name: "tolerance", type: "number", step: "any", min: 0, value: q.tolerance ?? 0 })),
  );
  const kind = el(
    "select",
    { name: "kind" },
    ...Object.entries(KINDS).map(([value, text]) => el("option", { value, selected: value === q.kind }, text)),
  );
  const parts = [choiceBox, trueFalse, shortText, numeric];
  const showParts = () => {
    for (const part of parts) part.hidden = !part.dataset.kinds.split(" ").includes(kind.value);
  };
  kind.addEventListener("change", showParts);
  const form = el(
    "form",
    {
      class: "stack",
      "aria-label": label,
      onsubmit: (event) => {
        event.preventDefault();
        onSave(questionBody(event.currentTarget, kind.value, options), event.currentTarget);
      },
    },
    field(`${prefix}-kind`, "Kind", kind),
    field(`${prefix}-prompt`, "Question", el("textarea", { name: "prompt", rows: 3, required: true }, q.prompt || "")),
    field(`${prefix}-points`, "Points", el("input", { name: "points", type: "number", min: 0.01, step: "any", required: true, value: q.points })),
    ...parts,
    field(`${prefix}-feedback`, "Feedback shown with the result (optional)", el("textarea", { name: "feedback", rows: 2 }, q.feedback || "")),
    el("div", { class: "actions" }, el("button", { type: "submit" }, question ? "Save question" : "Add question")),
  );
  showParts();
  return form;
}

function questionBody(form, kind, options) {
  const f = form.elements;
  const body = {
    kind,
    prompt: f.prompt.value.trim(),
    points: Number(f.points.value),
    feedback: f.feedback.value.trim(),
  };
  if (CHOICE.has(kind)) {
    body.options = [...options.children]
      .map((row) => {
        const text = row.querySelector('input[name="option"]').value.trim();
        const option = { text, correct: row.querySelector('input[name="correct"]').checked };
        if (row.dataset.optionId) option.id = Number(row.dataset.optionId);
        return option;
      })
      .filter((option) => option.text);
  } else if (kind === "true_false") {
    body.true_false_answer = f.true_false_answer.value === "true";
  } else if (kind === "short_text") {
    body.accepted_answers = f.accepted_answers.value.split("\n").map((line) => line.trim()).filter(Boolean);
  } else if (kind === "numeric") {
    body.numeric_answer = optionalNumber(f.numeric_answer.value);
    body.tolerance = Number(f.tolerance.value) || 0;
  }
  return body;
}

// The list

async function renumber(list) {
  for (const [index, question] of list.entries()) {
    if (question.position !== index) {
      await api(`${QUESTIONS}${question.id}/`, { method: "PATCH", body: { position: index } });
    }
  }
}

function moveButton(index, step, word) {
  const question = questions[index];
  const id = `${word}-question-${question.id}`;
  return el(
    "button",
    {
      type: "button",
      class: "secondary small",
      id,
      "aria-label": `Move question ${index + 1} ${word}`,
      disabled: index + step < 0 || index + step >= questions.length,
      onclick: () => {
        const copy = questions.slice();
        const [item] = copy.splice(index, 1);
        copy.splice(index + step, 0, item);
        change(() => renumber(copy), `Moved question ${index + 1} ${word}.`, `${word}-question-${question.id}`);
      },
    },
    word === "up" ? "↑ Up" : "↓ Down",
  );
}

function questionItem(question, index) {
  const key = `question-${question.id}`;
  const details = el(
    "details",
    {
      open: open.has(key),
      ontoggle: (event) => (event.currentTarget.open ? open.add(key) : open.delete(key)),
    },
    el("summary", {}, `Edit question ${index + 1}`),
    questionForm(question, `q${question.id}`, `Edit question ${index + 1}`, (body) =>
      change(() => api(`${QUESTIONS}${question.id}/`, { method: "PATCH", body }), `Saved question ${index + 1}.`),
    ),
    el(
      "button",
      {
        type: "button",
        class: "danger",
        onclick: () =>
          window.confirm(`Delete question ${index + 1}? This cannot be undone.`) &&
          change(() => api(`${QUESTIONS}${question.id}/`, { method: "DELETE" }), `Deleted question ${index + 1}.`),
      },
      `Delete question ${index + 1}`,
    ),
  );
  return el(
    "li",
    { class: "outline-module", "data-question": question.id },
    el(
      "div",
      { class: "item-head" },
      el(
        "span",
        { class: "item-title" },
        el("strong", {}, `${index + 1}. `),
        question.prompt,
        el("span", { class: "help" }, ` (${KINDS[question.kind] || question.kind}, ${question.points} pt)`),
      ),
      el("div", { class: "actions" }, moveButton(index, -1, "up"), moveButton(index, 1, "down")),
    ),
    details,
  );
}

function renderPreview() {
  $("preview").replaceChildren(
    ...questions.map((question, n) => questionField(question, null, { prefix: "preview", number: n + 1 })),
  );
  if (!questions.length) $("preview").append(el("p", { class: "help" }, "No questions yet."));
}

// Attempts: everyone's, newest first; a submitted one waiting for essay points opens a form
// with each essay's answer and a points field (POST attempts/{id}/grade/).

function attemptLine(attempt) {
  if (attempt.pending_review) return "Submitted: essays to grade";
  if (attempt.status === "in_progress") return "In progress";
  return `${points(attempt.score, attempt.max_score)} (${Math.round(attempt.percent)}%), ${attempt.passed ? "passed" : "not passed"}`;
}

async function essayForm(attempt, holder) {
  const full = await api(`/api/lms/courses/attempts/${attempt.id}/`);
  const essays = full.questions.filter((question) => question.kind === "essay");
  const form = el(
    "form",
    {
      class: "stack",
      "aria-label": `Grade the essays of ${attempt.user_id}, attempt ${attempt.number}`,
      onsubmit: async (event) => {
        event.preventDefault();
        const given = {};
        for (const input of event.currentTarget.querySelectorAll("input[data-question]")) {
          if (input.value.trim() !== "") given[input.dataset.question] = Number(input.value);
        }
        const button = event.currentTarget.querySelector("button[type=submit]");
        button.disabled = true;
        showError("");
        try {
          await api(`/api/lms/courses/attempts/${attempt.id}/grade/`, { method: "POST", body: { points: given } });
          await loadAttempts();
          $("attempts-count").textContent = `Graded the essays of ${attempt.user_id}.`;
        } catch (error) {
          button.disabled = false;
          fail(error);
        }
      },
    },
    ...essays.map((question) =>
      el(
        "div",
        { class: "essay" },
        el("p", { class: "prose prompt" }, question.prompt),
        el("p", { class: "prose submitted-text" }, typeof question.answer === "string" && question.answer ? question.answer : "(no answer)"),
        el(
          "div",
          { class: "field" },
          el("label", { for: `essay-${attempt.id}-${question.id}` }, `Points (0 to ${question.points})`),
          el("input", {
            id: `essay-${attempt.id}-${question.id}`,
            type: "number",
            min: 0,
            max: question.points,
            step: "any",
            required: true,
            "data-question": question.id,
            value: question.review && question.review.points_awarded !== null ? question.review.points_awarded : "",
          }),
        ),
      ),
    ),
    el("button", { type: "submit" }, "Save essay points"),
  );
  holder.replaceChildren(form);
}

function attemptItem(attempt) {
  const holder = el("div");
  return el(
    "li",
    { class: "card", "data-attempt": attempt.id },
    el("h3", {}, `${attempt.user_id}, attempt ${attempt.number}`),
    el("p", { class: "meta" }, `${when(attempt.submitted_at || attempt.started_at)}${attempt.late ? " · late" : ""}`),
    el("p", { class: "attempt-score" }, attemptLine(attempt)),
    attempt.pending_review
      ? el(
          "details",
          { ontoggle: (event) => event.currentTarget.open && !holder.children.length && essayForm(attempt, holder).catch(fail) },
          el("summary", {}, `Grade the essays of ${attempt.user_id}`),
          holder,
        )
      : null,
  );
}

async function loadAttempts() {
  const page = await api(withQuery(`${QUIZ}attempts/`, { page_size: 100 }));
  const waiting = page.results.filter((attempt) => attempt.pending_review).length;
  $("attempts").replaceChildren(...page.results.map(attemptItem));
  $("attempts-count").textContent = page.count
    ? `${page.count} ${page.count === 1 ? "attempt" : "attempts"}, ${waiting} with essays to grade`
    : "No attempts yet.";
}

function render() {
  fillSettings();
  $("page-title").textContent = `Quiz editor: ${quiz.title}`;
  document.title = `Quiz editor: ${quiz.title} · LMS`;
  $("quiz-total").textContent = `${quiz.question_count} ${quiz.question_count === 1 ? "question" : "questions"}, ${quiz.max_points} points${quiz.is_published ? "" : " · not published yet"}`;
  $("questions").replaceChildren(...questions.map(questionItem));
  if (!questions.length) $("questions").append(el("li", { class: "help" }, "No questions yet: add the first below."));
  $("new-question").replaceChildren(
    questionForm(null, "new", "Add a question", (body, form) =>
      change(
        () => api(QUESTIONS, { method: "POST", body: { quiz: quizId, position: questions.length, ...body } }),
        "Question added.",
        "new-prompt",
      ).then((ok) => ok && form.reset()),
    ),
  );
  if (!$("preview").hidden) renderPreview();
}

$("preview-toggle").addEventListener("click", (event) => {
  const button = event.currentTarget;
  const show = $("preview").hidden;
  $("preview").hidden = !show;
  button.setAttribute("aria-expanded", String(show));
  button.textContent = show ? "Hide the preview" : "Show the preview";
  if (show) renderPreview();
});

async function main() {
  if (!requireSignIn()) return;
  try {
    quiz = await api(QUIZ);
    course = await api(`/api/lms/courses/courses/${quiz.course}/`);
    $("course-link").href = `/lms/courses/${quiz.course}/`;
    $("course-link").hidden = false;
    if (!canChangeCourse(course)) {
      $("page-title").textContent = quiz.title;
      showError("Only this course's instructor and admins can edit its quizzes.");
      return;
    }
    $("outline-link").href = `/lms/courses/${quiz.course}/outline/`;
    $("outline-link").hidden = false;
    await load();
    render();
    await loadAttempts();
    $("editor").hidden = false;
  } catch (error) {
    fail(error);
  } finally {
    document.body.dataset.ready = "true";
  }
}

main();
