// A quiz question as a learner sees it, shared by the quiz page and the editor's preview:
// a fieldset per question (its prompt the legend), with the control its kind needs. The
// answer's shape is the API's: an option id (single_choice), a list of option ids
// (multiple_choice), true/false, a text (short_text, essay), a number (numeric).
import { el } from "./app.js";

export const KINDS = {
  single_choice: "Single choice",
  multiple_choice: "Multiple choice",
  true_false: "True or false",
  short_text: "Short answer",
  numeric: "Number",
  essay: "Essay",
};

function points(value) {
  return `${value} ${Number(value) === 1 ? "point" : "points"}`;
}

/**
 * A question's fieldset. `onAnswer(questionId, value)` is called as the answer changes
 * (null when cleared); `prefix` keeps ids apart when a page shows a quiz twice.
 */
export function questionField(question, answer, { onAnswer = () => {}, prefix = "q", number = 1 } = {}) {
  const id = `${prefix}-${question.id}`;
  const tell = (value) => onAnswer(question.id, value);
  let control;
  if (question.kind === "single_choice" || question.kind === "true_false") {
    const choices =
      question.kind === "true_false"
        ? [
            { id: true, text: "True" },
            { id: false, text: "False" },
          ]
        : question.options;
    control = el(
      "div",
      { class: "choices" },
      ...choices.map((option, n) =>
        el(
          "div",
          { class: "choice" },
          el("input", {
            type: "radio",
            id: `${id}-${n}`,
            name: id,
            value: String(option.id),
            checked: answer === option.id,
            onchange: () => tell(option.id),
          }),
          el("label", { for: `${id}-${n}` }, option.text),
        ),
      ),
    );
  } else if (question.kind === "multiple_choice") {
    const chosen = new Set(Array.isArray(answer) ? answer : []);
    control = el(
      "div",
      { class: "choices" },
      ...question.options.map((option, n) =>
        el(
          "div",
          { class: "choice" },
          el("input", {
            type: "checkbox",
            id: `${id}-${n}`,
            value: String(option.id),
            checked: chosen.has(option.id),
            onchange: (event) => {
              if (event.currentTarget.checked) chosen.add(option.id);
              else chosen.delete(option.id);
              tell(question.options.map((o) => o.id).filter((o) => chosen.has(o)));
            },
          }),
          el("label", { for: `${id}-${n}` }, option.text),
        ),
      ),
    );
  } else if (question.kind === "numeric") {
    control = el(
      "div",
      { class: "field" },
      el("label", { for: `${id}-answer` }, "Your answer (a number)"),
      el("input", {
        id: `${id}-answer`,
        type: "text",
        inputmode: "decimal",
        autocomplete: "off",
        value: answer === null || answer === undefined ? "" : String(answer),
        oninput: (event) => {
          const raw = event.currentTarget.value.trim().replace(",", ".");
          const value = Number(raw);
          if (raw === "") tell(null);
          else if (Number.isFinite(value)) tell(value);
        },
      }),
    );
  } else {
    const essay = question.kind === "essay";
    const props = {
      id: `${id}-answer`,
      autocomplete: "off",
      oninput: (event) => tell(event.currentTarget.value === "" ? null : event.currentTarget.value),
    };
    control = el(
      "div",
      { class: "field" },
      el("label", { for: props.id }, essay ? "Your essay" : "Your answer"),
      essay
        ? el("textarea", { ...props, rows: 8 }, typeof answer === "string" ? answer : "")
        : el("input", { ...props, type: "text", value: typeof answer === "string" ? answer : "" }),
    );
  }
  return el(
    "fieldset",
    { class: "question", "data-question": question.id },
    el(
      "legend",
      {},
      el("span", { class: "question-number" }, `Question ${number}`),
      el("span", { class: "help" }, ` · ${points(question.points)}`),
    ),
    el("p", { class: "prose prompt" }, question.prompt),
    control,
  );
}

/** What the review says of one question (when the quiz reveals it). */
export function reviewNote(question) {
  const review = question.review;
  if (!review) return null;
  const parts = [];
  if (review.correct === true) parts.push("Correct.");
  else if (review.correct === false) parts.push("Not correct.");
  else parts.push("Waiting for the instructor's review.");
  if (review.points_awarded !== null && review.points_awarded !== undefined) {
    parts.push(`${review.points_awarded} of ${points(question.points)}.`);
  }
  if (review.feedback) parts.push(review.feedback);
  return el("p", { class: `review ${review.correct === false ? "wrong" : "right"}` }, parts.join(" "));
}
