"""What an answer earns, per kind of question, and how attempts make the quiz's grade
(models/quizzes/scoring.py, models/quizzes/attempts.py: aggregate): no database."""

from __future__ import annotations

from typing import Any

from models.quizzes.attempts import aggregate
from models.quizzes.scoring import Mark, check_answer, mark
from models.quizzes.tables import QuizQuestion


def question(kind: str, points: float = 4.0, **fields: Any) -> QuizQuestion:
    defaults: dict[str, Any] = {
        "options": [],
        "accepted_answers": [],
        "true_false_answer": None,
        "numeric_answer": None,
        "tolerance": 0.0,
    }
    return QuizQuestion(kind=kind, points=points, prompt="?", **{**defaults, **fields})


MULTI = question(
    "multiple_choice",
    options=[
        {"id": 1, "text": "a", "correct": True},
        {"id": 2, "text": "b", "correct": True},
        {"id": 3, "text": "c", "correct": False},
        {"id": 4, "text": "d", "correct": False},
    ],
)


def test_multiple_choice_gives_each_right_pick_its_share():
    assert mark(MULTI, [1]) == Mark(2.0, False)
    assert mark(MULTI, [1, 2]) == Mark(4.0, True)


def test_multiple_choice_takes_a_share_away_for_each_wrong_pick():
    assert mark(MULTI, [1, 2, 3]) == Mark(2.0, False)


def test_multiple_choice_never_goes_below_zero():
    assert mark(MULTI, [1, 3, 4]) == Mark(0.0, False)


def test_single_choice_is_all_or_nothing():
    single = question(
        "single_choice",
        options=[{"id": 1, "text": "a", "correct": False}, {"id": 2, "text": "b", "correct": True}],
    )
    assert mark(single, 2) == Mark(4.0, True)
    assert mark(single, 1) == Mark(0.0, False)


def test_short_text_ignores_case_and_extra_whitespace():
    short = question("short_text", accepted_answers=["New  York City"])
    assert mark(short, "  new york\tcity ").correct is True
    assert mark(short, "new york").correct is False


def test_numeric_accepts_within_the_tolerance():
    numeric = question("numeric", numeric_answer=3.14, tolerance=0.01)
    assert mark(numeric, 3.15).correct is True
    assert mark(numeric, 3.16).correct is False


def test_numeric_with_no_tolerance_still_matches_float_rounding():
    assert mark(question("numeric", numeric_answer=0.3), 0.1 + 0.2).correct is True


def test_true_false_compares_the_boolean():
    tf = question("true_false", true_false_answer=False)
    assert mark(tf, False) == Mark(4.0, True)
    assert mark(tf, True) == Mark(0.0, False)


def test_an_essay_waits_for_the_instructor_unless_left_blank():
    essay = question("essay")
    assert mark(essay, "words") == Mark(None, None)
    assert mark(essay, "   ") == Mark(0.0, False)
    assert mark(essay, None) == Mark(0.0, False)


def test_an_unanswered_question_earns_nothing():
    assert mark(MULTI, None) == Mark(0.0, False)


def test_answers_of_the_wrong_shape_are_named():
    assert check_answer(MULTI, [1, 1]) == "An option is picked more than once."
    assert check_answer(MULTI, [9]) is not None
    assert check_answer(question("true_false", true_false_answer=True), 1) is not None
    assert check_answer(question("numeric", numeric_answer=1.0), float("nan")) is not None
    assert check_answer(question("essay"), "x" * 100_001) is not None
    assert check_answer(MULTI, None) is None


def test_the_grading_methods():
    fractions = [0.5, 1.0, 0.25]
    assert aggregate("highest", fractions) == 1.0
    assert aggregate("latest", fractions) == 0.25
    assert aggregate("average", fractions) == 0.5833333333333334
    assert aggregate("highest", []) is None
