// Taking a quiz: start (or resume) an attempt, answer with every change saved shortly after
// it is made (a debounced PATCH of the answers changed, "Saved" once the API has them), a
// countdown to the attempt's deadline as the server set it, submit, and the result. When the
// countdown ends the page submits what it has; the server closes an overdue attempt anyway.
import { $, ApiError, api, claims, el, fail, me, requireSignIn, showError, when, withQuery } from "./app.js";
import { questionField, reviewNote } from "./quizview.js";

const quizId = Number(document.body.dataset.roomId);
const QUIZ = `/api/lms/courses/quizzes/${quizId}/`;
const ATTEMPTS = "/api/lms/courses/attempts/";
const SAVE_DELAY_MS = 800;

let quiz = null;
let course = null;
let attempt = null;
let attempts = [];
// Answers changed since the last save, by question id; the save in flight, if any.
let pending = {};
let saveTimer = null;
let saving = null;
let ticker = null;
let submitting = false;
let warned = false;

function teacher() {
  const roles = (claims() || {}).roles || [];
  return roles.includes("admin") || (course && course.instructor_id === me());
}

function setSave(state, text) {
  const box = $("save-state");
  box.dataset.state = state;
  box.textContent = text;
}

function clock(date) {
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

// Answers

function answered(questionId, value) {
  pending[questionId] = value;
  setSave("dirty", "Not saved yet…");
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => save().catch(() => {}), SAVE_DELAY_MS);
}

/** Sends the answers changed since the last save; one save at a time, in order. */
async function save() {
  clearTimeout(saveTimer);
  if (saving) await saving.catch(() => {});
  if (!attempt || attempt.status !== "in_progress" || !Object.keys(pending).length) return;
  const answers = pending;
  pending = {};
  setSave("saving", "Saving…");
  saving = api(`${ATTEMPTS}${attempt.id}/`, { method: "PATCH", body: { answers } });
  try {
    const saved = await saving;
    attempt = { ...attempt, status: saved.status, saved_at: saved.saved_at, deadline: saved.deadline };
    if (!Object.keys(pending).length) {
      const at = saved.saved_at ? new Date(saved.saved_at) : new Date();
      setSave("saved", `Saved at ${clock(at)}`);
    }
  } catch (error) {
    // Keep what was not saved, unless it changed again meanwhile.
    pending = { ...answers, ...pending };
    if (error instanceof ApiError && error.status === 409) {
      setSave("error", `Not saved: ${error.message}`);
      await closed();
    } else {
      setSave("error", `Not saved: ${error.message} The page tries again with your next change.`);
    }
    throw error;
  } finally {
    saving = null;
  }
}

// The attempt ended on the server (deadline passed, or submitted elsewhere): show its result.
async function closed() {
  stopClock();
  attempt = await api(`${ATTEMPTS}${attempt.id}/`);
  if (attempt.status === "in_progress") return;
  showResult(attempt);
  await loadHistory();
}

// The countdown

function stopClock() {
  clearInterval(ticker);
  ticker = null;
}

function left(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(h ? 2 : 1, "0");
  return `${h ? `${h}:` : ""}${mm}:${String(s).padStart(2, "0")}`;
}

function startClock() {
  stopClock();
  const box = $("countdown");
  box.hidden = !attempt.deadline;
  if (!attempt.deadline) return;
  const deadline = new Date(attempt.deadline).getTime();
  const value = $("countdown-value");
  value.setAttribute("datetime", attempt.deadline);
  const tick = () => {
    const ms = deadline - Date.now();
    value.textContent = left(ms);
    box.dataset.urgent = String(ms <= 60_000);
    if (ms <= 60_000 && ms > 0 && !warned) {
      warned = true;
      $("time-alert").textContent = "Less than a minute left.";
    }
    if (ms <= 0) {
      stopClock();
      $("time-alert").textContent = "Time is up: your answers are being submitted.";
      submit(true);
    }
  };
  tick();
  ticker = setInterval(tick, 250);
}

// Views

function renderFacts() {
  const facts = [
    `${quiz.question_count} ${quiz.question_count === 1 ? "question" : "questions"}, ${quiz.max_points} points`,
    quiz.time_limit_minutes ? `Time limit: ${quiz.time_limit_minutes} min` : "No time limit",
    quiz.attempts_allowed ? `Attempts allowed: ${quiz.attempts_allowed}` : "Unlimited attempts",
    `Pass mark: ${quiz.passing_score}%`,
  ];
  if (quiz.available_until) facts.push(`Closes ${when(quiz.available_until)}`);
  $("quiz-facts").replaceChildren(...facts.map((fact) => el("li", {}, fact)));
}

function attemptsLeft() {
  return quiz.attempts_allowed === null ? Infinity : quiz.attempts_allowed - attempts.length;
}

function showAttempt() {
  $("result").hidden = true;
  $("intro").hidden = true;
  $("attempt").hidden = false;
  $("attempt-title").textContent = `Attempt ${attempt.number}`;
  $("questions").replaceChildren(
    ...attempt.questions.map((question, n) =>
      questionField(question, question.answer, { onAnswer: answered, number: n + 1 }),
    ),
  );
  setSave("idle", attempt.saved_at ? `Saved at ${clock(new Date(attempt.saved_at))}` : "No answers saved yet.");
  $("submit").disabled = false;
  startClock();
  const first = $("questions").querySelector("input, textarea");
  if (first) first.focus();
}

function summary(a) {
  if (a.status === "in_progress") return "In progress";
  if (a.pending_review) return "Submitted: waiting for the instructor to grade the essays";
  if (a.score === null) return "Submitted";
  const verdict = a.passed ? "Passed" : `Not passed (pass mark ${quiz.passing_score}%)`;
  return `${a.score} of ${a.max_score} points (${Math.round(a.percent)}%): ${verdict}`;
}

function showResult(a) {
  stopClock();
  $("attempt").hidden = true;
  $("intro").hidden = false;
  $("start").hidden = true;
  $("result").hidden = false;
  const late = a.auto_submitted ? " Submitted when the time ran out." : "";
  $("result-summary").textContent = `${summary(a)}.${late}`;
  $("result-summary").dataset.passed = String(a.passed);
  const reviewed = (a.questions || []).filter((question) => question.review);
  $("result-questions").replaceChildren(
    ...reviewed.map((question) => el("li", {}, el("p", { class: "prose" }, question.prompt), reviewNote(question))),
  );
  $("again").hidden = attemptsLeft() <= 0;
  $("result").focus();
}

function renderHistory() {
  $("history-section").hidden = !attempts.length;
  $("history").replaceChildren(
    ...attempts.map((a) =>
      el(
        "li",
        { "data-attempt": a.id },
        el("span", {}, `Attempt ${a.number} · ${when(a.submitted_at || a.started_at)}`),
        el("span", { class: "attempt-score" }, summary(a)),
      ),
    ),
  );
}

async function loadHistory() {
  const page = await api(withQuery(`${QUIZ}attempts/`, { page_size: 100 }));
  attempts = page.results.filter((a) => a.user_id === me());
  renderHistory();
}

// Actions

async function start() {
  showError("");
  $("start").disabled = true;
  $("again").disabled = true;
  try {
    attempt = await api(`${QUIZ}attempts/`, { method: "POST" });
    pending = {};
    warned = false;
    showAttempt();
  } catch (error) {
    fail(error);
  } finally {
    $("start").disabled = false;
    $("again").disabled = false;
  }
}

async function submit(auto = false) {
  if (submitting || !attempt || attempt.status !== "in_progress") return;
  submitting = true;
  $("submit").disabled = true;
  showError("");
  try {
    try {
      await save();
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 409) && !auto) throw error;
    }
    if (attempt.status === "in_progress") {
      attempt = await api(`${ATTEMPTS}${attempt.id}/submit/`, { method: "POST" });
    }
    await loadHistory();
    showResult(attempt);
  } catch (error) {
    $("submit").disabled = false;
    fail(error);
  } finally {
    submitting = false;
  }
}

$("start").addEventListener("click", start);
$("again").addEventListener("click", start);
$("answers").addEventListener("submit", (event) => {
  event.preventDefault();
  submit(false);
});
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "hidden") save().catch(() => {});
});
window.addEventListener("beforeunload", (event) => {
  if (Object.keys(pending).length || saving) event.preventDefault();
});

async function main() {
  if (!requireSignIn()) return;
  try {
    quiz = await api(QUIZ);
    course = await api(`/api/lms/courses/courses/${quiz.course}/`);
    $("page-title").textContent = quiz.title;
    document.title = `${quiz.title} · LMS`;
    $("quiz-description").textContent = quiz.description;
    $("course-link").href = `/lms/courses/${quiz.course}/`;
    $("course-link").hidden = false;
    $("edit-link").hidden = !teacher();
    renderFacts();
    $("intro").hidden = false;
    await loadHistory();
    const open = attempts.find((a) => a.status === "in_progress");
    if (open) {
      attempt = await api(`${ATTEMPTS}${open.id}/`);
      if (attempt.status === "in_progress") {
        showAttempt();
        return;
      }
    }
    $("start").hidden = teacher() || attemptsLeft() <= 0;
    $("start").textContent = attempts.length ? "Start another attempt" : "Start the quiz";
    if (attemptsLeft() <= 0) $("quiz-facts").append(el("li", {}, "No attempts left."));
    if (teacher()) $("quiz-facts").append(el("li", {}, "You teach this course: preview the quiz in its editor."));
  } catch (error) {
    fail(error);
  } finally {
    document.body.dataset.ready = "true";
  }
}

main();
