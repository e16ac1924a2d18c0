"""Shared quiz fixtures: a published quiz on a quiz lesson with one question of each kind,
whose right answers are unique markers a leak test can search response bodies for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from models.quizzes.tables import QuizAttempt
from web.keys import DATABASES

QUIZZES = "/api/lms/courses/quizzes/"
QUESTIONS = "/api/lms/courses/questions/"
ATTEMPTS = "/api/lms/courses/attempts/"

# The right answers, each a text found nowhere else (a wrong option is just "wrong ...").
RIGHT_SINGLE = "RIGHT-SINGLE-7f3a"
RIGHT_MULTI = ("RIGHT-MULTI-A-91c2", "RIGHT-MULTI-B-91c2")
ACCEPTED = "ACCEPTED-SHORT-5d1e"
NUMERIC = 271828.125
FEEDBACK = "FEEDBACK-MARKER-0b7d"
SECRETS = (ACCEPTED, str(NUMERIC), FEEDBACK)


@dataclass
class QuizSetup:
    course: dict[str, Any]
    lesson: dict[str, Any]
    quiz: dict[str, Any]
    questions: dict[str, dict[str, Any]]  # by kind

    @property
    def id(self) -> int:
        return int(self.quiz["id"])

    def q(self, kind: str) -> int:
        return int(self.questions[kind]["id"])

    def option(self, kind: str, text: str) -> int:
        return next(int(o["id"]) for o in self.questions[kind]["options"] if o["text"] == text)


QUESTION_BODIES: dict[str, dict[str, Any]] = {
    "single_choice": {
        "prompt": "Capital of France?",
        "points": 2,
        "options": [
            {"text": "wrong Lyon"},
            {"text": RIGHT_SINGLE, "correct": True},
            {"text": "wrong Nice"},
        ],
    },
    "multiple_choice": {
        "prompt": "Pick the primes.",
        "points": 4,
        "options": [
            {"text": RIGHT_MULTI[0], "correct": True},
            {"text": RIGHT_MULTI[1], "correct": True},
            {"text": "wrong four"},
            {"text": "wrong six"},
        ],
    },
    "true_false": {"prompt": "The sky is green.", "points": 1, "true_false_answer": False},
    "short_text": {"prompt": "Say the word.", "points": 1, "accepted_answers": [ACCEPTED]},
    "numeric": {
        "prompt": "The number?",
        "points": 1,
        "numeric_answer": NUMERIC,
        "tolerance": 0.5,
    },
    "essay": {"prompt": "Discuss.", "points": 5},
}


async def quiz_lesson(api: Any, make: Any, course_id: int, as_: str = "instructor") -> Any:
    module = await make.module(course_id, as_=as_)
    return await make.lesson(module["id"], as_=as_, lesson_type="quiz")


async def new_quiz(
    api: Any, make: Any, *, kinds: tuple[str, ...] | None = None, **fields: Any
) -> QuizSetup:
    """A published quiz with a question of each kind (or of `kinds`), student and student2
    enrolled in its course."""
    course = await make.course()
    lesson = await quiz_lesson(api, make, course["id"])
    await make.enroll(course["id"], as_="student")
    await make.enroll(course["id"], as_="student2")
    body = {"lesson": lesson["id"], "title": "Quiz", "is_published": True, **fields}
    reply = await api.post(QUIZZES, body, as_="instructor")
    assert reply.status == 201, reply.body
    questions = {}
    for position, kind in enumerate(kinds or tuple(QUESTION_BODIES)):
        q = {
            "quiz": reply.body["id"],
            "kind": kind,
            "position": position,
            "feedback": FEEDBACK,
            **QUESTION_BODIES[kind],
        }
        made = await api.post(QUESTIONS, q, as_="instructor")
        assert made.status == 201, made.body
        questions[kind] = made.body
    return QuizSetup(course, lesson, reply.body, questions)


async def start(api: Any, quiz_id: int, as_: str = "student") -> Any:
    return await api.post(f"{QUIZZES}{quiz_id}/attempts/", as_=as_)


async def save(api: Any, attempt_id: int, answers: dict[Any, Any], as_: str = "student") -> Any:
    body = {"answers": {str(k): v for k, v in answers.items()}}
    return await api.patch(f"{ATTEMPTS}{attempt_id}/", body, as_=as_)


async def submit(api: Any, attempt_id: int, as_: str = "student") -> Any:
    return await api.post(f"{ATTEMPTS}{attempt_id}/submit/", as_=as_)


def right_answers(setup: QuizSetup) -> dict[int, Any]:
    return {
        setup.q("single_choice"): setup.option("single_choice", RIGHT_SINGLE),
        setup.q("multiple_choice"): [setup.option("multiple_choice", t) for t in RIGHT_MULTI],
        setup.q("true_false"): False,
        setup.q("short_text"): f"  {ACCEPTED.lower()}  ",
        setup.q("numeric"): NUMERIC + 0.25,
        setup.q("essay"): "My essay.",
    }


async def move_deadline_to_the_past(api: Any, attempt_id: int) -> None:
    """The attempt's clock runs out (as if its time limit had passed)."""
    past = datetime.now(UTC) - timedelta(seconds=5)
    async with api.client.app[DATABASES].tenant_sessions("acme").begin() as session:
        await session.execute(
            update(QuizAttempt).where(QuizAttempt.id == attempt_id).values(deadline=past)
        )
