"""Quizzes and their questions: who sees them, who changes them, and the changes.

A quiz sits on a lesson of type `quiz`. The course's instructor and admins see and change
every quiz of the course, published or not, and its questions with their answers. An
active enrollee sees the course's published quizzes, and never a question with its answer
(the questions reach a learner only inside an attempt, `attempts.py`). Everyone else gets
404, so a quiz's existence does not leak.

Each quiz is a grade item (`models/grades/record.py`): registered when the quiz or any of
its questions changes (its maximum is the sum of the questions' points), removed with it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.courses.operations import check_published_item, row_with_course
from models.courses.structure import access_parent_lesson
from models.courses.tables import Course, Enrollment
from models.courses.visibility import COURSES, can_change_course, course_visible, visible_in
from models.errors import NotFound, ValidationFailed, invalid_pk
from models.grades import record
from models.identity import Principal
from models.listing import ACTOR_PARAM, Listing, ListShape, PageRequest, PageResult, counted
from models.quizzes.schemas import QuestionCreate, QuestionQuery, QuizCreate, QuizQuery
from models.quizzes.scoring import question_problems
from models.quizzes.tables import Quiz, QuizQuestion
from models.validation import check_changes

QUIZ_LESSON_TYPE = "quiz"
QUIZ_KIND = "quiz"

QUIZZES = Listing(
    filters={"course": Quiz.course_id, "lesson": Quiz.lesson_id},
    default=(Quiz.course_id, Quiz.lesson_id, Quiz.id),
)
QUESTIONS = Listing(
    filters={"quiz": QuizQuestion.quiz_id},
    default=(QuizQuestion.quiz_id, QuizQuestion.position, QuizQuestion.id),
)


# Who sees a quiz


def _teaches(is_admin: bool, user: Any) -> ColumnElement[bool]:
    """The condition on `Course` that the user changes it (its instructor, admins); `user`
    a value or a bound parameter, as for `_enrolled`."""
    return true() if is_admin else Course.instructor_id == user


def _enrolled(user: Any) -> ColumnElement[bool]:
    return exists().where(
        Enrollment.course_id == Course.id,
        Enrollment.user_id == user,
        Enrollment.is_active.is_(True),
    )


async def is_enrolled(session: AsyncSession, *, actor: Principal, course_id: int) -> bool:
    stmt = select(Enrollment.id).where(
        Enrollment.course_id == course_id,
        Enrollment.user_id == actor.user_id,
        Enrollment.is_active.is_(True),
    )
    return await session.scalar(stmt) is not None


async def access_quiz(
    session: AsyncSession, *, actor: Principal, quiz_id: int, for_change: bool = False
) -> tuple[Quiz, Course]:
    """The quiz and its course, if the actor may see it (404), and change it (403): the
    quiz, its course and the actor's enrollment in one statement."""
    found = await _accessed(session, actor=actor, quiz_id=quiz_id, for_change=for_change)
    return found[0], found[1]


async def quiz_detail(session: AsyncSession, *, actor: Principal, quiz_id: int) -> QuizView:
    """The quiz the actor may see (404 as `access_quiz`), counted in the same statement."""
    found = await _accessed(
        session, actor=actor, quiz_id=quiz_id, for_change=False, also=(_QUESTION_COUNT, _MAX_POINTS)
    )
    return QuizView(found[0], int(found[3]), float(found[4] or 0.0))


async def _accessed(
    session: AsyncSession,
    *,
    actor: Principal,
    quiz_id: int,
    for_change: bool,
    also: tuple[Any, ...] = (),
) -> Any:
    found = await row_with_course(session, Quiz, quiz_id, _enrolled(actor.user_id), *also)
    if found is None or not course_visible(actor, found[1]):
        raise NotFound()
    quiz, course, enrolled = found[:3]
    check_published_item(
        actor, course, published=quiz.is_published, enrolled=bool(enrolled), for_change=for_change
    )
    return found


async def quiz_page(
    session: AsyncSession, *, actor: Principal, query: QuizQuery, page: PageRequest
) -> PageResult:
    """The quizzes the actor sees, each row with its question count and maximum points
    (`QuizView.of`) and the total."""
    statement = functools.partial(_quizzes_statement, actor.is_admin)
    params = {ACTOR_PARAM: actor.user_id}
    return await QUIZZES.page_of(session, statement, query, page, params, whole_rows=True)


@functools.lru_cache(maxsize=256)
def _quizzes_statement(is_admin: bool, shape: ListShape) -> Select[Any]:
    me: BindParameter[str] = bindparam(ACTOR_PARAM)
    stmt = (
        select(Quiz, _QUESTION_COUNT, _MAX_POINTS)
        .join(Course, Course.id == Quiz.course_id)
        .where(
            visible_in(COURSES, is_admin=is_admin, user=me),
            or_(_teaches(is_admin, me), and_(Quiz.is_published.is_(True), _enrolled(me))),
        )
    )
    return QUIZZES.apply_shape(counted(stmt), shape)


# What a response adds to a quiz, as columns beside it: a list reads them with its page.
_QUESTION_COUNT = (
    select(func.count())
    .where(QuizQuestion.quiz_id == Quiz.id)
    .correlate(Quiz)
    .scalar_subquery()
    .label("question_count")
)
_MAX_POINTS = (
    select(func.coalesce(func.sum(QuizQuestion.points), 0.0))
    .where(QuizQuestion.quiz_id == Quiz.id)
    .correlate(Quiz)
    .scalar_subquery()
    .label("max_points")
)
_STATS = select(func.count(), func.coalesce(func.sum(QuizQuestion.points), 0.0)).where(
    QuizQuestion.quiz_id == bindparam("quiz_id")
)


@dataclass(frozen=True, slots=True)
class QuizView:
    quiz: Quiz
    question_count: int
    max_points: float

    @classmethod
    def of(cls, row: Any) -> QuizView:
        """A row of `quiz_page`: the quiz, its question count, its maximum points."""
        return cls(row[0], int(row[1]), float(row[2] or 0.0))

    def fields(self) -> dict[str, Any]:
        q = self.quiz
        return {
            "id": q.id,
            "course": q.course_id,
            "lesson": q.lesson_id,
            "title": q.title,
            "description": q.description,
            "is_published": q.is_published,
            "time_limit_minutes": q.time_limit_minutes,
            "attempts_allowed": q.attempts_allowed,
            "passing_score": q.passing_score,
            "grading_method": q.grading_method,
            "shuffle_questions": q.shuffle_questions,
            "shuffle_options": q.shuffle_options,
            "available_from": q.available_from,
            "available_until": q.available_until,
            "reveal_answers": q.reveal_answers,
            "question_count": self.question_count,
            "max_points": self.max_points,
            "created_at": q.created_at,
            "updated_at": q.updated_at,
        }


async def quiz_view(session: AsyncSession, *, quiz: Quiz) -> QuizView:
    """The quiz with its question count and maximum points."""
    stats = (await session.execute(_STATS, {"quiz_id": quiz.id})).one()
    return QuizView(quiz, int(stats[0]), float(stats[1]))


# Changes


def _check_window(available_from: Any, available_until: Any) -> None:
    if (
        available_from is not None
        and available_until is not None
        and (available_until <= available_from)
    ):
        raise ValidationFailed.field("available_until", "Must be later than available_from.")


async def check_new_quiz(session: AsyncSession, *, actor: Principal, data: QuizCreate) -> Course:
    """The lesson named must be a `quiz` lesson of a course the actor changes (an unknown or
    unseen lesson: 400; a lesson the actor sees but may not change: 403)."""
    lesson, course = await access_parent_lesson(session, actor=actor, lesson_id=data.lesson)
    if lesson.lesson_type != QUIZ_LESSON_TYPE:
        raise ValidationFailed.field("lesson", "The lesson must be of type quiz.")
    _check_window(data.available_from, data.available_until)
    return course


async def register_grade_item(session: AsyncSession, *, quiz: Quiz) -> None:
    """The quiz's grade item as it now stands: its maximum, the sum of its questions'
    points, and the pass mark `passing_score` percent of that."""
    total = await session.scalar(
        select(func.coalesce(func.sum(QuizQuestion.points), 0.0)).where(
            QuizQuestion.quiz_id == quiz.id
        )
    )
    max_points = float(total or 0.0)
    if max_points <= 0:
        # Nothing to grade yet (no questions): the item waits for the first question. One
        # whose questions were all deleted keeps its last maximum and its grades.
        return
    await record.register_item(
        session,
        course_id=quiz.course_id,
        kind=QUIZ_KIND,
        source_id=quiz.id,
        title=quiz.title,
        max_points=max_points,
        pass_points=max_points * quiz.passing_score / 100.0,
    )


async def do_create_quiz(
    session: AsyncSession, *, actor: Principal, course: Course, data: QuizCreate
) -> QuizView:
    """Create a quiz once `check_new_quiz` has passed. It has no questions yet, so nothing
    to count and no grade item: its first question registers one."""
    quiz = Quiz(
        course_id=course.id,
        lesson_id=data.lesson,
        created_by=actor.user_id,
        **data.model_dump(exclude={"lesson"}),
    )
    session.add(quiz)
    await session.flush()
    return QuizView(quiz, question_count=0, max_points=0.0)


def check_quiz_update(quiz: Quiz, data: Any) -> dict[str, Any]:
    changes = check_changes(data)
    _check_window(
        changes.get("available_from", quiz.available_from),
        changes.get("available_until", quiz.available_until),
    )
    return changes


async def do_update_quiz(session: AsyncSession, *, quiz: Quiz, changes: dict[str, Any]) -> Quiz:
    """Apply checked changes (after `access_quiz(for_change=True)`); the grade item follows."""
    for field, value in changes.items():
        setattr(quiz, field, value)
    quiz.updated_at = utcnow()
    await session.flush()
    await register_grade_item(session, quiz=quiz)
    return quiz


async def do_delete_quiz(session: AsyncSession, *, quiz: Quiz) -> None:
    """Delete a quiz with its questions and attempts, and its grade item with its grades."""
    await record.remove_item(session, kind=QUIZ_KIND, source_id=quiz.id)
    await session.delete(quiz)
    await session.flush()


# Questions: only those who change the quiz see them (they carry the answers)


def questions_query(actor: Principal, query: QuestionQuery) -> Select[Any]:
    stmt = (
        select(QuizQuestion)
        .join(Quiz, Quiz.id == QuizQuestion.quiz_id)
        .join(Course, Course.id == Quiz.course_id)
        .where(_teaches(actor.is_admin, actor.user_id))
    )
    return QUESTIONS.apply(stmt, query)


async def access_question(
    session: AsyncSession, *, actor: Principal, question_id: int
) -> tuple[QuizQuestion, Quiz]:
    """A question of a quiz the actor changes; 404 for anyone else (learners included)."""
    question = await session.get(QuizQuestion, question_id)
    if question is None:
        raise NotFound()
    quiz = await session.get(Quiz, question.quiz_id)
    course = None if quiz is None else await session.get(Course, quiz.course_id)
    if quiz is None or course is None or not can_change_course(actor, course):
        raise NotFound()
    return question, quiz


async def access_question_quiz(session: AsyncSession, *, actor: Principal, quiz_id: int) -> Quiz:
    """The quiz a new question names in `quiz`: 400 unless the actor sees it; 403 unless
    they change it."""
    try:
        quiz, _ = await access_quiz(session, actor=actor, quiz_id=quiz_id, for_change=True)
    except NotFound:
        raise ValidationFailed.field("quiz", invalid_pk(quiz_id)) from None
    return quiz


def _numbered(
    options: Sequence[dict[str, Any]], current: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Options with ids: those sent keep theirs, new ones get ids above every id the
    question has had, so an id never names two options."""
    highest = max([int(o["id"]) for o in current] + [int(o.get("id") or 0) for o in options] + [0])
    numbered = []
    for option in options:
        given = option.get("id")
        if given is None:
            highest += 1
            given = highest
        numbered.append(
            {
                "id": int(given),
                "text": option["text"],
                "correct": bool(option.get("correct", False)),
            }
        )
    return numbered


def _checked(fields: dict[str, Any]) -> dict[str, Any]:
    problems = question_problems(
        kind=fields["kind"],
        options=fields["options"],
        true_false_answer=fields["true_false_answer"],
        accepted_answers=fields["accepted_answers"],
        numeric_answer=fields["numeric_answer"],
    )
    if problems:
        raise ValidationFailed(problems)
    return fields


def check_new_question(data: QuestionCreate) -> dict[str, Any]:
    """The new question's columns, once it can be answered and graded."""
    fields = data.model_dump(exclude={"quiz"})
    fields["options"] = _numbered(fields["options"], [])
    return _checked(fields)


def check_question_update(question: QuizQuestion, data: Any) -> dict[str, Any]:
    """The changed columns, once the question as changed can be answered and graded."""
    changes = check_changes(data)
    if "options" in changes:
        changes["options"] = _numbered(changes["options"], question.options)
    merged = {
        name: changes.get(name, getattr(question, name))
        for name in ("kind", "options", "true_false_answer", "accepted_answers", "numeric_answer")
    }
    _checked(merged)
    return changes


async def do_create_question(
    session: AsyncSession, *, quiz: Quiz, fields: dict[str, Any]
) -> QuizQuestion:
    question = QuizQuestion(quiz_id=quiz.id, **fields)
    session.add(question)
    await session.flush()
    await register_grade_item(session, quiz=quiz)
    return question


async def do_update_question(
    session: AsyncSession, *, question: QuizQuestion, quiz: Quiz, changes: dict[str, Any]
) -> QuizQuestion:
    for field, value in changes.items():
        setattr(question, field, value)
    question.updated_at = utcnow()
    await session.flush()
    await register_grade_item(session, quiz=quiz)
    return question


async def do_delete_question(session: AsyncSession, *, question: QuizQuestion, quiz: Quiz) -> None:
    await session.delete(question)
    await session.flush()
    await register_grade_item(session, quiz=quiz)


def question_fields(question: QuizQuestion) -> dict[str, Any]:
    return {
        "id": question.id,
        "quiz": question.quiz_id,
        "kind": question.kind,
        "prompt": question.prompt,
        "position": question.position,
        "points": question.points,
        "options": question.options,
        "true_false_answer": question.true_false_answer,
        "accepted_answers": question.accepted_answers,
        "numeric_answer": question.numeric_answer,
        "tolerance": question.tolerance,
        "feedback": question.feedback,
        "created_at": question.created_at,
        "updated_at": question.updated_at,
    }
