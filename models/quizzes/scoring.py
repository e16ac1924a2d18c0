"""What an answer is worth, per kind of question; what a learner may send as one.

Pure functions of a question and an answer: no session, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from models.quizzes.schemas import ESSAY_MAX_CHARS, SHORT_ANSWER_MAX_CHARS
from models.quizzes.tables import QuizQuestion

CHOICE_KINDS = frozenset({"single_choice", "multiple_choice"})
# Two floats that differ by less than this are equal (a tolerance of 0 still matches 0.1+0.2).
EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class Mark:
    """A question's result: points None for an essay waiting for the instructor."""

    points: float | None
    correct: bool | None

    def as_json(self) -> dict[str, Any]:
        return {"points": self.points, "correct": self.correct}


def option_ids(question: QuizQuestion) -> list[int]:
    return [int(o["id"]) for o in question.options]


def correct_option_ids(question: QuizQuestion) -> list[int]:
    return [int(o["id"]) for o in question.options if o.get("correct")]


def normalized(text: str) -> str:
    """Case-insensitive, whitespace collapsed: what short answers are compared as."""
    return " ".join(text.split()).casefold()


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_answer(question: QuizQuestion, value: Any) -> str | None:
    """Why `value` cannot be an answer to `question`, or None when it can (null clears)."""
    if value is None:
        return None
    kind = question.kind
    if kind == "single_choice":
        if not _is_int(value) or value not in option_ids(question):
            return "Expected the id of one of the question's options."
    elif kind == "multiple_choice":
        ids = option_ids(question)
        if not isinstance(value, list) or not all(_is_int(v) and v in ids for v in value):
            return "Expected a list of ids of the question's options."
        if len(set(value)) != len(value):
            return "An option is picked more than once."
    elif kind == "true_false":
        if not isinstance(value, bool):
            return "Expected true or false."
    elif kind == "numeric":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "Expected a number."
        if not math.isfinite(value) or abs(value) > 1e15:
            return "Expected a finite number."
    else:  # short_text, essay
        limit = ESSAY_MAX_CHARS if kind == "essay" else SHORT_ANSWER_MAX_CHARS
        if not isinstance(value, str):
            return "Expected a text."
        if len(value) > limit:
            return f"Ensure this answer has no more than {limit} characters."
        if "\x00" in value:
            return "Null characters are not allowed."
    return None


def mark(question: QuizQuestion, answer: Any) -> Mark:
    """The points `answer` earns (None: an essay to grade by hand)."""
    points, kind = question.points, question.kind
    if kind == "essay":
        has_text = isinstance(answer, str) and answer.strip() != ""
        # An essay left blank earns nothing; there is nothing to grade.
        return Mark(None, None) if has_text else Mark(0.0, False)
    if answer is None:
        return Mark(0.0, False)
    if kind == "single_choice":
        right = answer in correct_option_ids(question)
        return Mark(points if right else 0.0, right)
    if kind == "multiple_choice":
        return _multiple(points, correct_option_ids(question), answer)
    if kind == "true_false":
        right = answer is question.true_false_answer
        return Mark(points if right else 0.0, right)
    if kind == "short_text":
        accepted = {normalized(a) for a in question.accepted_answers}
        right = isinstance(answer, str) and normalized(answer) in accepted
        return Mark(points if right else 0.0, right)
    if kind == "numeric":
        target = question.numeric_answer
        right = target is not None and abs(float(answer) - target) <= question.tolerance + EPSILON
        return Mark(points if right else 0.0, right)
    return Mark(0.0, False)


def _multiple(points: float, correct: Sequence[int], picked: Sequence[int]) -> Mark:
    """Partial credit: each right pick adds points/n_correct, each wrong one takes as much
    away, never below zero."""
    if not correct:
        return Mark(0.0, False)
    each = points / len(correct)
    rights = sum(1 for p in picked if p in correct)
    wrongs = len(picked) - rights
    earned = max(0.0, each * (rights - wrongs))
    return Mark(min(points, earned), set(picked) == set(correct))


def correct_answer(question: QuizQuestion) -> Any:
    """The right answer as a review shows it."""
    kind = question.kind
    if kind in CHOICE_KINDS:
        return correct_option_ids(question)
    if kind == "true_false":
        return question.true_false_answer
    if kind == "short_text":
        return list(question.accepted_answers)
    if kind == "numeric":
        return {"value": question.numeric_answer, "tolerance": question.tolerance}
    return None


def question_problems(
    *,
    kind: str,
    options: Sequence[dict[str, Any]],
    true_false_answer: bool | None,
    accepted_answers: Sequence[str],
    numeric_answer: float | None,
) -> dict[str, list[str]]:
    """What makes a question of `kind` unanswerable or ungradable, per field."""
    problems: dict[str, list[str]] = {}
    if kind in CHOICE_KINDS:
        ids = [o["id"] for o in options]
        right = sum(1 for o in options if o.get("correct"))
        if len(options) < 2:
            problems["options"] = ["A choice question needs at least 2 options."]
        elif len(set(ids)) != len(ids):
            problems["options"] = ["Option ids must be unique."]
        elif kind == "single_choice" and right != 1:
            problems["options"] = ["A single choice question needs exactly one correct option."]
        elif kind == "multiple_choice" and right < 1:
            problems["options"] = ["A multiple choice question needs at least one correct option."]
    elif kind == "true_false" and true_false_answer is None:
        problems["true_false_answer"] = ["A true/false question needs its answer."]
    elif kind == "short_text" and not accepted_answers:
        problems["accepted_answers"] = ["A short text question needs at least one accepted answer."]
    elif kind == "numeric" and numeric_answer is None:
        problems["numeric_answer"] = ["A numeric question needs its answer."]
    return problems
