"""Attempts: a learner starts one, saves answers as they go, submits; it is graded at once
(essays by the instructor, later), and the quiz's grade is posted to the gradebook.

The server keeps the clock. An attempt's `deadline` is min(start + time limit, the quiz's
`available_until`), fixed at start; saves after it are refused, a submit after it submits
what was saved, and a worker sweep (`SUBMIT_OVERDUE_TASK`) submits whatever is left in
progress past its deadline. Submitting is one conditional UPDATE (`WHERE status =
'in_progress'`): of a learner's submit and the sweep, or two submits, exactly one grades.
A save touches the attempt's row with the same condition before writing its answers, so
a save and a submit are ordered by the row's lock: an answer is either saved before the
submit (and graded) or refused.

What a learner reads of the questions never carries the right answers, which options are
correct, or feedback, unless the quiz's `reveal_answers` allows it (`answers_revealed`);
the score is always shown once graded.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Select, delete, func, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from models.base import utcnow
from models.courses.tables import Course
from models.dialects import conflict_insert, dialect_of
from models.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from models.grades import record
from models.identity import Principal
from models.listing import Listing
from models.people.names import named, person_at
from models.quizzes.operations import QUIZ_KIND, is_enrolled
from models.quizzes.schemas import AttemptListQuery, AttemptQuery
from models.quizzes.scoring import CHOICE_KINDS, Mark, check_answer, correct_answer, mark
from models.quizzes.tables import (
    GRADED,
    IN_PROGRESS,
    SUBMITTED,
    Quiz,
    QuizAnswer,
    QuizAttempt,
    QuizQuestion,
)

SUBMIT_OVERDUE_TASK = "quizzes.submit_overdue"
# Attempts the sweep submits per round and tenant; the next round takes the rest.
SWEEP_BATCH = 200

ATTEMPTS = Listing(
    filters={"user_id": QuizAttempt.user_id, "quiz": QuizAttempt.quiz_id},
    default=(QuizAttempt.started_at.desc(),),
    tiebreak=QuizAttempt.id.desc(),
)

SUBMITTED_ALREADY = "This attempt has already been submitted."
DEADLINE_PASSED = "This attempt's deadline has passed; it can no longer be changed."
_shuffler = random.SystemRandom()


# Reading


async def access_attempt(
    session: AsyncSession, *, actor: Principal, attempt_id: int
) -> tuple[QuizAttempt, Quiz, bool]:
    """The attempt, its quiz, and whether the actor reads it as the course's teacher (its
    instructor, admins) rather than as its learner; the learner reads their own (a teacher
    who takes their own course's quiz reads their attempt as a learner does); anyone else
    gets 404. One statement."""
    stmt = (
        select(QuizAttempt, Quiz, Course.instructor_id)
        .join(Quiz, Quiz.id == QuizAttempt.quiz_id)
        .join(Course, Course.id == Quiz.course_id)
        .where(QuizAttempt.id == attempt_id)
    )
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        raise NotFound()
    attempt, quiz, instructor_id = row
    if attempt.user_id == actor.user_id:
        return attempt, quiz, False
    if not (actor.is_admin or instructor_id == actor.user_id):
        raise NotFound()
    return attempt, quiz, True


def attempts_query(
    actor: Principal, *, quiz: Quiz, teacher: bool, query: AttemptQuery
) -> Select[Any]:
    """A quiz's attempts: the learner's own; the teacher's, everyone's (`user_id` filter)."""
    stmt = select(QuizAttempt).where(QuizAttempt.quiz_id == quiz.id)
    if not teacher:
        stmt = stmt.where(QuizAttempt.user_id == actor.user_id)
    return ATTEMPTS.apply(stmt, query)


def all_attempts_query(actor: Principal, query: AttemptListQuery) -> Select[Any]:
    """Attempts the actor may read: their own, and every attempt at a quiz of a course they
    teach (admins: all), as rows of (attempt, quiz, whether the actor teaches it)."""
    teaches = true() if actor.is_admin else Course.instructor_id == actor.user_id
    columns: tuple[Any, ...] = (QuizAttempt, Quiz, teaches.label("teacher"))
    stmt = (
        select(*columns)
        .join(Quiz, Quiz.id == QuizAttempt.quiz_id)
        .join(Course, Course.id == Quiz.course_id)
        .where(or_(QuizAttempt.user_id == actor.user_id, teaches))
    )
    return ATTEMPTS.apply(stmt, query)


def answers_revealed(quiz: Quiz, attempt: QuizAttempt, *, teacher: bool, now: datetime) -> bool:
    """Whether the right answers, each question's result and feedback may be shown."""
    if teacher:
        return True
    if attempt.status == IN_PROGRESS or quiz.reveal_answers == "never":
        return False
    if quiz.reveal_answers == "after_attempt":
        return True
    return quiz.available_until is not None and now >= quiz.available_until


# Starting


def check_taker(quiz: Quiz, *, enrolled: bool, now: datetime) -> None:
    """Only active enrollees take a published quiz, inside its window."""
    if not enrolled or not quiz.is_published:
        raise PermissionDenied("Only learners enrolled in the course take its quizzes.")
    if quiz.available_from is not None and now < quiz.available_from:
        raise PermissionDenied("This quiz is not open yet.")
    if quiz.available_until is not None and now >= quiz.available_until:
        raise PermissionDenied("This quiz is closed.")


def deadline_of(quiz: Quiz, started: datetime) -> datetime | None:
    ends = []
    if quiz.time_limit_minutes is not None:
        ends.append(started + timedelta(minutes=quiz.time_limit_minutes))
    if quiz.available_until is not None:
        ends.append(quiz.available_until)
    return min(ends) if ends else None


async def _in_progress(session: AsyncSession, *, quiz_id: int, user_id: str) -> QuizAttempt | None:
    stmt = select(QuizAttempt).where(
        QuizAttempt.quiz_id == quiz_id,
        QuizAttempt.user_id == user_id,
        QuizAttempt.status == IN_PROGRESS,
    )
    return (await session.scalars(stmt.order_by(QuizAttempt.number.desc()).limit(1))).first()


async def _quiz_questions(session: AsyncSession, *, quiz_id: int) -> list[QuizQuestion]:
    stmt = (
        select(QuizQuestion)
        .where(QuizQuestion.quiz_id == quiz_id)
        .order_by(QuizQuestion.position, QuizQuestion.id)
    )
    return list((await session.scalars(stmt)).all())


async def do_start_attempt(
    session: AsyncSession, *, actor: Principal, quiz: Quiz, now: datetime | None = None
) -> tuple[QuizAttempt, bool]:
    """The actor's attempt in progress if there is one, else a new one; and whether it
    is new. One still in progress past its deadline is submitted first."""
    now = now or utcnow()
    enrolled = await is_enrolled(session, actor=actor, course_id=quiz.course_id)
    current = await _in_progress(session, quiz_id=quiz.id, user_id=actor.user_id)
    if current is not None and enrolled:
        if current.deadline is None or now < current.deadline:
            return current, False
        await do_submit_attempt(session, attempt=current, quiz=quiz, now=now, auto=True)
    check_taker(quiz, enrolled=enrolled, now=now)
    taken = await session.scalar(
        select(QuizAttempt.number)
        .where(QuizAttempt.quiz_id == quiz.id, QuizAttempt.user_id == actor.user_id)
        .order_by(QuizAttempt.number.desc())
        .limit(1)
    )
    taken = taken or 0
    if quiz.attempts_allowed is not None and taken >= quiz.attempts_allowed:
        raise PermissionDenied("No attempts left at this quiz.")
    questions = await _quiz_questions(session, quiz_id=quiz.id)
    if not questions:
        raise Conflict("This quiz has no questions yet.")
    order = [q.id for q in questions]
    if quiz.shuffle_questions:
        _shuffler.shuffle(order)
    options: dict[str, list[int]] = {}
    for question in questions:
        if question.kind in CHOICE_KINDS:
            ids = [int(o["id"]) for o in question.options]
            if quiz.shuffle_options:
                _shuffler.shuffle(ids)
            options[str(question.id)] = ids
    attempt = QuizAttempt(
        quiz_id=quiz.id,
        user_id=actor.user_id,
        number=taken + 1,
        status=IN_PROGRESS,
        started_at=now,
        deadline=deadline_of(quiz, now),
        question_ids=order,
        option_order=options,
        results={},
    )
    try:
        async with session.begin_nested():
            session.add(attempt)
            await session.flush()
    except IntegrityError:
        # Another start of the same learner won the number: theirs is the attempt.
        winner = await _in_progress(session, quiz_id=quiz.id, user_id=actor.user_id)
        if winner is None:
            raise Conflict("Another attempt was just started; try again.") from None
        return winner, False
    return attempt, True


# Saving


async def check_answers(
    session: AsyncSession, *, attempt: QuizAttempt, answers: dict[str, Any]
) -> dict[int, Any]:
    """The answers by question id, each a valid answer to a question of this attempt."""
    questions = {
        q.id: q
        for q in await session.scalars(
            select(QuizQuestion).where(QuizQuestion.id.in_(attempt.question_ids or [0]))
        )
    }
    checked: dict[int, Any] = {}
    errors: dict[str, list[str]] = {}
    for key, value in answers.items():
        question_id = int(key) if key.isascii() and key.isdigit() and len(key) < 12 else None
        question = questions.get(question_id) if question_id is not None else None
        if question_id is None or question is None or question_id not in attempt.question_ids:
            errors[f"answers.{key[:20]}"] = ["This question is not part of this attempt."]
            continue
        problem = check_answer(question, value)
        if problem is not None:
            errors[f"answers.{key}"] = [problem]
            continue
        checked[question_id] = value
    if errors:
        raise ValidationFailed(errors)
    return checked


def check_teacher(teacher: bool) -> None:
    """Only the course's instructor and admins grade (the learner reads their attempt: 403)."""
    if not teacher:
        raise PermissionDenied()


def check_own(actor: Principal, attempt: QuizAttempt) -> None:
    """Only the learner saves and submits their attempt (the teacher reads it: 403)."""
    if attempt.user_id != actor.user_id:
        raise PermissionDenied()


async def do_save_answers(
    session: AsyncSession,
    *,
    attempt: QuizAttempt,
    answers: dict[int, Any],
    now: datetime | None = None,
) -> QuizAttempt:
    """Merge `answers` into what the attempt has saved (null clears one), while it is in
    progress and before its deadline (409 otherwise)."""
    now = now or utcnow()
    touched = cast(
        CursorResult[Any],
        await session.execute(
            update(QuizAttempt)
            .where(
                QuizAttempt.id == attempt.id,
                QuizAttempt.status == IN_PROGRESS,
                or_(QuizAttempt.deadline.is_(None), QuizAttempt.deadline > now),
            )
            .values(saved_at=now)
            .execution_options(synchronize_session=False)
        ),
    )
    if touched.rowcount != 1:
        await session.refresh(attempt)
        raise Conflict(SUBMITTED_ALREADY if attempt.status != IN_PROGRESS else DEADLINE_PASSED)
    cleared = [qid for qid, value in answers.items() if value is None]
    if cleared:
        await session.execute(
            delete(QuizAnswer).where(
                QuizAnswer.attempt_id == attempt.id, QuizAnswer.question_id.in_(cleared)
            )
        )
    rows = [
        {"attempt_id": attempt.id, "question_id": qid, "answer": value, "saved_at": now}
        for qid, value in answers.items()
        if value is not None
    ]
    if rows:
        insert = conflict_insert(dialect_of(session))(QuizAnswer.__table__).values(rows)
        await session.execute(
            insert.on_conflict_do_update(
                index_elements=["attempt_id", "question_id"],
                set_={"answer": insert.excluded.answer, "saved_at": insert.excluded.saved_at},
            )
        )
    set_committed_value(attempt, "saved_at", now)
    return attempt


async def saved_answers(session: AsyncSession, *, attempt_id: int) -> dict[int, Any]:
    rows = await session.execute(
        select(QuizAnswer.question_id, QuizAnswer.answer).where(QuizAnswer.attempt_id == attempt_id)
    )
    return {question_id: answer for question_id, answer in rows.all()}


# Submitting and grading


async def do_submit_attempt(
    session: AsyncSession,
    *,
    attempt: QuizAttempt,
    quiz: Quiz,
    now: datetime | None = None,
    auto: bool = False,
) -> QuizAttempt:
    """Submit the attempt with what it saved and grade it, once: a second submit (or the
    sweep after the learner) finds it submitted and returns it as it is."""
    now = now or utcnow()
    late = attempt.deadline is not None and now > attempt.deadline
    claimed = cast(
        CursorResult[Any],
        await session.execute(
            update(QuizAttempt)
            .where(QuizAttempt.id == attempt.id, QuizAttempt.status == IN_PROGRESS)
            .values(status=SUBMITTED, submitted_at=now, late=late, auto_submitted=auto)
            .execution_options(synchronize_session=False)
        ),
    )
    await session.refresh(attempt)
    if claimed.rowcount != 1:
        return attempt
    questions = {
        q.id: q
        for q in await session.scalars(
            select(QuizQuestion).where(QuizQuestion.id.in_(attempt.question_ids or [0]))
        )
    }
    answers = await saved_answers(session, attempt_id=attempt.id)
    results: dict[str, dict[str, Any]] = {}
    for question_id in attempt.question_ids:
        question = questions.get(question_id)
        if question is not None:  # deleted since the start: not part of the score
            results[str(question_id)] = mark(question, answers.get(question_id)).as_json()
    attempt.results = results
    attempt.max_score = sum(q.points for q in questions.values())
    _settle(attempt, now)
    await session.flush()
    await post_quiz_grade(session, quiz=quiz, user_id=attempt.user_id)
    return attempt


def _settle(attempt: QuizAttempt, now: datetime) -> None:
    """Graded once no question waits for the instructor: then the score is known."""
    results = attempt.results or {}
    if any(r["points"] is None for r in results.values()):
        attempt.status, attempt.score, attempt.graded_at = SUBMITTED, None, None
        return
    attempt.status = GRADED
    attempt.score = float(sum(r["points"] for r in results.values()))
    attempt.graded_at = now


def aggregate(method: str, fractions: Sequence[float]) -> float | None:
    """The quiz's grade, as a fraction of its points, from the graded attempts' fractions
    in the order they were taken."""
    if not fractions:
        return None
    if method == "latest":
        return fractions[-1]
    if method == "average":
        return sum(fractions) / len(fractions)
    return max(fractions)


async def post_quiz_grade(session: AsyncSession, *, quiz: Quiz, user_id: str) -> None:
    """Post the learner's grade for the quiz: the grading method over their graded
    attempts (each as a fraction of its own maximum), scaled to the quiz's points now."""
    rows = await session.execute(
        select(QuizAttempt.score, QuizAttempt.max_score)
        .where(
            QuizAttempt.quiz_id == quiz.id,
            QuizAttempt.user_id == user_id,
            QuizAttempt.status == GRADED,
        )
        .order_by(QuizAttempt.number)
    )
    fractions = [
        (score or 0.0) / max_score if max_score else 0.0 for score, max_score in rows.all()
    ]
    fraction = aggregate(quiz.grading_method, fractions)
    if fraction is None:
        return
    points = await session.scalar(
        select(func.coalesce(func.sum(QuizQuestion.points), 0.0)).where(
            QuizQuestion.quiz_id == quiz.id
        )
    )
    await record.post_grade(
        session,
        kind=QUIZ_KIND,
        source_id=quiz.id,
        user_id=user_id,
        score=round(fraction * float(points or 0.0), 6),
        released=True,
    )


async def check_essay_grades(
    session: AsyncSession, *, attempt: QuizAttempt, points: dict[str, float]
) -> dict[str, float]:
    """Points for essay questions of this submitted attempt, each within 0..its points."""
    if attempt.status == IN_PROGRESS:
        raise Conflict("This attempt has not been submitted yet.")
    questions = {
        str(q.id): q
        for q in await session.scalars(
            select(QuizQuestion).where(QuizQuestion.id.in_(attempt.question_ids or [0]))
        )
    }
    errors: dict[str, list[str]] = {}
    for key, value in points.items():
        question = questions.get(key)
        if question is None or key not in (attempt.results or {}):
            errors[f"points.{key[:20]}"] = ["This question is not part of this attempt."]
        elif question.kind != "essay":
            errors[f"points.{key}"] = ["Only essay questions are graded by hand."]
        elif value > question.points:
            errors[f"points.{key}"] = [
                f"Ensure this value is less than or equal to {question.points:g}."
            ]
    if errors:
        raise ValidationFailed(errors)
    return points


async def do_grade_essays(
    session: AsyncSession,
    *,
    attempt: QuizAttempt,
    quiz: Quiz,
    points: dict[str, float],
    now: datetime | None = None,
) -> QuizAttempt:
    """Record the instructor's points for essays (again, to regrade); once none waits the
    attempt is graded, and the quiz's grade posted again."""
    now = now or utcnow()
    results = {key: dict(value) for key, value in (attempt.results or {}).items()}
    for key, value in points.items():
        results[key] = Mark(float(value), None).as_json()
    attempt.results = results
    _settle(attempt, now)
    await session.flush()
    await post_quiz_grade(session, quiz=quiz, user_id=attempt.user_id)
    return attempt


# The deadline sweep


async def overdue_attempt_ids(session: AsyncSession, *, now: datetime) -> list[int]:
    stmt = (
        select(QuizAttempt.id)
        .where(QuizAttempt.status == IN_PROGRESS, QuizAttempt.deadline < now)
        .order_by(QuizAttempt.deadline)
        .limit(SWEEP_BATCH)
    )
    return list((await session.scalars(stmt)).all())


async def do_submit_overdue(session: AsyncSession, *, attempt_id: int, now: datetime) -> bool:
    """Submit one attempt past its deadline with what it saved; False if it was no longer
    in progress (its learner submitted first)."""
    attempt = await session.get(QuizAttempt, attempt_id)
    if attempt is None or attempt.status != IN_PROGRESS:
        return False
    quiz = await session.get(Quiz, attempt.quiz_id)
    if quiz is None:
        return False
    before = attempt.submitted_at
    attempt = await do_submit_attempt(session, attempt=attempt, quiz=quiz, now=now, auto=True)
    return attempt.auto_submitted and before is None


# Rendering


@dataclass(frozen=True, slots=True)
class AttemptView:
    attempt: QuizAttempt
    quiz: Quiz
    revealed: bool
    questions: list[dict[str, Any]] | None

    def fields(self) -> dict[str, Any]:
        a, quiz = self.attempt, self.quiz
        graded = a.status == GRADED and a.score is not None
        percent = (
            round(100.0 * (a.score or 0.0) / a.max_score, 4)
            if graded and a.max_score
            else (0.0 if graded else None)
        )
        fields: dict[str, Any] = {
            "id": a.id,
            "quiz": a.quiz_id,
            "user_id": a.user_id,
            "user": person_at(a, "user_id"),
            "number": a.number,
            "status": a.status,
            "started_at": a.started_at,
            "deadline": a.deadline,
            "saved_at": a.saved_at,
            "submitted_at": a.submitted_at,
            "late": a.late,
            "auto_submitted": a.auto_submitted,
            "score": a.score if graded else None,
            "max_score": a.max_score,
            "percent": percent,
            "passed": None if percent is None else percent >= quiz.passing_score,
            "pending_review": a.status == SUBMITTED,
            "review_available": self.revealed,
        }
        if self.questions is not None:
            fields["questions"] = self.questions
        return fields


def attempt_summary(
    attempt: QuizAttempt, quiz: Quiz, *, teacher: bool, now: datetime | None = None
) -> AttemptView:
    revealed = answers_revealed(quiz, attempt, teacher=teacher, now=now or utcnow())
    return AttemptView(attempt, quiz, revealed, None)


async def attempt_view(
    session: AsyncSession,
    *,
    attempt: QuizAttempt,
    quiz: Quiz,
    teacher: bool,
    now: datetime | None = None,
) -> AttemptView:
    """The attempt with its questions in its order, each with the answer saved; the right
    answers and results only when `answers_revealed`."""
    revealed = answers_revealed(quiz, attempt, teacher=teacher, now=now or utcnow())
    await named(session, [attempt])
    questions = {
        q.id: q
        for q in await session.scalars(
            select(QuizQuestion).where(QuizQuestion.id.in_(attempt.question_ids or [0]))
        )
    }
    answers = await saved_answers(session, attempt_id=attempt.id)
    order = attempt.option_order or {}
    results = attempt.results or {}
    shown = []
    for question_id in attempt.question_ids:
        question = questions.get(question_id)
        if question is None:
            continue
        texts = {int(o["id"]): o["text"] for o in question.options}
        option_ids = order.get(str(question_id), [])
        # Options added since the start come last; removed ones are gone.
        option_ids = [i for i in option_ids if i in texts] + [
            i for i in texts if i not in option_ids
        ]
        review = None
        if revealed:
            result = results.get(str(question_id), {})
            review = {
                "correct_answer": correct_answer(question),
                "feedback": question.feedback,
                "points_awarded": result.get("points"),
                "correct": result.get("correct"),
            }
        shown.append(
            {
                "id": question.id,
                "kind": question.kind,
                "prompt": question.prompt,
                "points": question.points,
                "options": [{"id": i, "text": texts[i]} for i in option_ids]
                if question.kind in CHOICE_KINDS
                else [],
                "answer": answers.get(question_id),
                "review": review,
            }
        )
    return AttemptView(attempt, quiz, revealed, shown)
