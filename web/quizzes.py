"""Routes: quizzes, their questions, and learners' attempts (start, save, submit, grade)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from models.base import utcnow
from models.courses.visibility import can_change_course
from models.listing import paginate, paginate_rows
from models.quizzes import attempts
from models.quizzes import operations as quizzes
from models.quizzes.schemas import (
    AnswersSave,
    AttemptListQuery,
    AttemptQuery,
    AttemptRead,
    AttemptSummary,
    EssayGrades,
    QuestionCreate,
    QuestionQuery,
    QuestionRead,
    QuestionUpdate,
    QuizCreate,
    QuizQuery,
    QuizRead,
    QuizUpdate,
)
from models.quizzes.tables import Quiz, QuizAttempt
from web.handlers import actor, no_content, ok, path_id, read_update, render, session
from web.jsonio import read_body, read_query
from web.pagination import page_body, page_request
from web.routing import RouteTable

routes = RouteTable()
TAG = "quizzes"
QUIZZES = "/api/lms/courses/quizzes/"
QUIZ = QUIZZES + r"{quiz_id:[0-9]+}/"
QUIZ_ATTEMPTS = QUIZ + "attempts/"
QUESTIONS = "/api/lms/courses/questions/"
QUESTION = QUESTIONS + r"{question_id:[0-9]+}/"
ATTEMPTS = "/api/lms/courses/attempts/"
ATTEMPT = ATTEMPTS + r"{attempt_id:[0-9]+}/"


async def _quiz_body(request: web.Request, quiz: Quiz) -> dict[str, Any]:
    view = await quizzes.quiz_view(session(request), quiz=quiz)
    return render(QuizRead, view.fields())


async def _attempt_body(
    request: web.Request,
    attempt: QuizAttempt,
    quiz: Quiz,
    *,
    teacher: bool,
    material: attempts.Material | None = None,
) -> dict[str, Any]:
    view = await attempts.attempt_view(
        session(request), attempt=attempt, quiz=quiz, teacher=teacher, material=material
    )
    return render(AttemptRead, view.fields())


# Quizzes


@routes.read(QUIZZES, tag=TAG, query=QuizQuery, response=QuizRead, paginated=True)
async def list_quizzes(request: web.Request) -> web.Response:
    """List the quizzes I may see (`course`, `lesson`): a course's instructor and admins
    every one, its enrollees the published ones."""
    query = read_query(request, QuizQuery)
    result = await quizzes.quiz_page(
        session(request), actor=actor(request), query=query, page=page_request(request)
    )
    views = [quizzes.QuizView.of(row) for row in result.rows]
    return ok(page_body(request, result, [render(QuizRead, v.fields()) for v in views]))


@routes.route("POST", QUIZZES, tag=TAG, body=QuizCreate, response=QuizRead, status=201)
async def create_quiz(request: web.Request) -> web.Response:
    """Create a quiz on a lesson of type `quiz` (the course's instructor or an admin)."""
    data = await read_body(request, QuizCreate)
    course = await quizzes.check_new_quiz(session(request), actor=actor(request), data=data)
    view = await quizzes.do_create_quiz(
        session(request), actor=actor(request), course=course, data=data
    )
    return ok(render(QuizRead, view.fields()), status=201)


@routes.read(QUIZ, tag=TAG, response=QuizRead)
async def get_quiz(request: web.Request) -> web.Response:
    """Retrieve a quiz I may see."""
    view = await quizzes.quiz_detail(
        session(request), actor=actor(request), quiz_id=path_id(request, "quiz_id")
    )
    return ok(render(QuizRead, view.fields()))


async def _update_quiz(request: web.Request) -> web.Response:
    quiz, _ = await quizzes.access_quiz(
        session(request),
        actor=actor(request),
        quiz_id=path_id(request, "quiz_id"),
        for_change=True,
    )
    data = await read_update(request, QuizCreate, QuizUpdate)
    changes = quizzes.check_quiz_update(quiz, data)
    quiz = await quizzes.do_update_quiz(session(request), quiz=quiz, changes=changes)
    return ok(await _quiz_body(request, quiz))


routes.update_routes(
    QUIZ,
    tag=TAG,
    partial=QuizUpdate,
    whole=QuizCreate,
    response=QuizRead,
    summary="Change a quiz (the course's instructor or an admin)",
)(_update_quiz)


@routes.route("DELETE", QUIZ, tag=TAG, status=204)
async def delete_quiz(request: web.Request) -> web.Response:
    """Delete a quiz with its questions, attempts and grades."""
    quiz, _ = await quizzes.access_quiz(
        session(request),
        actor=actor(request),
        quiz_id=path_id(request, "quiz_id"),
        for_change=True,
    )
    await quizzes.do_delete_quiz(session(request), quiz=quiz)
    return no_content()


# Questions


@routes.read(QUESTIONS, tag=TAG, query=QuestionQuery, response=QuestionRead, paginated=True)
async def list_questions(request: web.Request) -> web.Response:
    """List the questions, with their answers, of quizzes I change (`quiz`), by position."""
    query = read_query(request, QuestionQuery)
    stmt = quizzes.questions_query(actor(request), query)
    result = await paginate(session(request), stmt, page_request(request))
    rows = [render(QuestionRead, quizzes.question_fields(q)) for q in result.rows]
    return ok(page_body(request, result, rows))


@routes.route("POST", QUESTIONS, tag=TAG, body=QuestionCreate, response=QuestionRead, status=201)
async def create_question(request: web.Request) -> web.Response:
    """Add a question to a quiz I change."""
    data = await read_body(request, QuestionCreate)
    quiz = await quizzes.access_question_quiz(
        session(request), actor=actor(request), quiz_id=data.quiz
    )
    fields = quizzes.check_new_question(data)
    question = await quizzes.do_create_question(session(request), quiz=quiz, fields=fields)
    return ok(render(QuestionRead, quizzes.question_fields(question)), status=201)


@routes.read(QUESTION, tag=TAG, response=QuestionRead)
async def get_question(request: web.Request) -> web.Response:
    """Retrieve a question of a quiz I change (learners: 404)."""
    question, _ = await quizzes.access_question(
        session(request), actor=actor(request), question_id=path_id(request, "question_id")
    )
    return ok(render(QuestionRead, quizzes.question_fields(question)))


async def _update_question(request: web.Request) -> web.Response:
    question, quiz = await quizzes.access_question(
        session(request), actor=actor(request), question_id=path_id(request, "question_id")
    )
    data = await read_update(request, QuestionCreate, QuestionUpdate)
    changes = quizzes.check_question_update(question, data)
    question = await quizzes.do_update_question(
        session(request), question=question, quiz=quiz, changes=changes
    )
    return ok(render(QuestionRead, quizzes.question_fields(question)))


routes.update_routes(
    QUESTION,
    tag=TAG,
    partial=QuestionUpdate,
    whole=QuestionCreate,
    response=QuestionRead,
    summary="Change a question",
)(_update_question)


@routes.route("DELETE", QUESTION, tag=TAG, status=204)
async def delete_question(request: web.Request) -> web.Response:
    """Delete a question (attempts already started leave it out of their score)."""
    question, quiz = await quizzes.access_question(
        session(request), actor=actor(request), question_id=path_id(request, "question_id")
    )
    await quizzes.do_delete_question(session(request), question=question, quiz=quiz)
    return no_content()


# Attempts


@routes.route(
    "POST", QUIZ_ATTEMPTS, tag=TAG, response=AttemptRead, status=201, also=(200,), errors=(409,)
)
async def start_attempt(request: web.Request) -> web.Response:
    """Start an attempt (an enrolled learner), or get back the one in progress (200)."""
    quiz, course = await quizzes.access_quiz(
        session(request), actor=actor(request), quiz_id=path_id(request, "quiz_id")
    )
    # Anyone but the course's teachers reached the quiz by being enrolled in the course.
    enrolled = None if can_change_course(actor(request), course) else True
    attempt, created, material = await attempts.do_start_attempt(
        session(request), actor=actor(request), quiz=quiz, enrolled=enrolled
    )
    body = await _attempt_body(request, attempt, quiz, teacher=False, material=material)
    return ok(body, status=201 if created else 200)


@routes.read(QUIZ_ATTEMPTS, tag=TAG, query=AttemptQuery, response=AttemptSummary, paginated=True)
async def list_attempts(request: web.Request) -> web.Response:
    """My attempts at a quiz, newest first (its instructor and admins: everyone's)."""
    quiz, course = await quizzes.access_quiz(
        session(request), actor=actor(request), quiz_id=path_id(request, "quiz_id")
    )
    teacher = can_change_course(actor(request), course)
    query = read_query(request, AttemptQuery)
    stmt = attempts.attempts_query(actor(request), quiz=quiz, teacher=teacher, query=query)
    result = await paginate(session(request), stmt, page_request(request))
    rows = [
        render(AttemptSummary, attempts.attempt_summary(a, quiz, teacher=teacher).fields())
        for a in result.rows
    ]
    return ok(page_body(request, result, rows))


@routes.read(ATTEMPTS, tag=TAG, query=AttemptListQuery, response=AttemptSummary, paginated=True)
async def list_all_attempts(request: web.Request) -> web.Response:
    """My attempts at any quiz, newest first (`quiz`); an instructor's also include every
    attempt at the quizzes of the courses they teach (`user_id`)."""
    query = read_query(request, AttemptListQuery)
    stmt = attempts.all_attempts_query(actor(request), query)
    result = await paginate_rows(session(request), stmt, page_request(request))
    rows = [
        render(AttemptSummary, attempts.attempt_summary(r[0], r[1], teacher=bool(r[2])).fields())
        for r in result.rows
    ]
    return ok(page_body(request, result, rows))


@routes.read(ATTEMPT, tag=TAG, response=AttemptRead)
async def get_attempt(request: web.Request) -> web.Response:
    """My attempt with its questions and saved answers (the quiz's instructor: anyone's)."""
    attempt, quiz, teacher = await attempts.access_attempt(
        session(request), actor=actor(request), attempt_id=path_id(request, "attempt_id")
    )
    return ok(await _attempt_body(request, attempt, quiz, teacher=teacher))


@routes.route("PATCH", ATTEMPT, tag=TAG, body=AnswersSave, response=AttemptRead, errors=(409,))
async def save_answers(request: web.Request) -> web.Response:
    """Save answers to my attempt in progress, merged with those saved before."""
    db, me, now = session(request), actor(request), utcnow()
    attempt_id = path_id(request, "attempt_id")
    # My attempt still taking answers, its row held for this save; else the checks below
    # say why, in their order (404, 403, 400, then 409).
    claimed = await attempts.claim_for_save(db, attempt_id=attempt_id, user_id=me.user_id, now=now)
    attempt = claimed
    if attempt is None:
        attempt, _, _ = await attempts.access_attempt(db, actor=me, attempt_id=attempt_id)
        attempts.check_own(me, attempt)
    data = await read_body(request, AnswersSave)  # read ahead, before the row was held
    # Read once the row is held: no other save or submit of the attempt writes meanwhile.
    quiz, material = await attempts.attempt_material(db, attempt=attempt)
    answers = attempts.check_answers(attempt=attempt, material=material, answers=data.answers)
    if claimed is None:
        await attempts.refuse_save(db, attempt=attempt, now=now)
    await attempts.write_answers(db, attempt=attempt, answers=answers, now=now, material=material)
    return ok(await _attempt_body(request, attempt, quiz, teacher=False, material=material))


@routes.route("POST", ATTEMPT + "submit/", tag=TAG, response=AttemptRead)
async def submit_attempt(request: web.Request) -> web.Response:
    """Submit my attempt and get its result; again, the same result."""
    db, me, now = session(request), actor(request), utcnow()
    attempt_id = path_id(request, "attempt_id")
    claimed = await attempts.claim_for_submit(
        db, attempt_id=attempt_id, user_id=me.user_id, now=now
    )
    if claimed is None:  # not mine (404, 403), or submitted already: shown as it is
        attempt, quiz, teacher = await attempts.access_attempt(db, actor=me, attempt_id=attempt_id)
        attempts.check_own(me, attempt)
        attempt = await attempts.do_submit_attempt(db, attempt=attempt, quiz=quiz, now=now)
        return ok(await _attempt_body(request, attempt, quiz, teacher=teacher))
    quiz, material = await attempts.attempt_material(db, attempt=claimed)
    attempt = await attempts.grade_submitted(
        db, attempt=claimed, quiz=quiz, material=material, now=now
    )
    return ok(await _attempt_body(request, attempt, quiz, teacher=False, material=material))


@routes.route(
    "POST", ATTEMPT + "grade/", tag=TAG, body=EssayGrades, response=AttemptRead, errors=(409,)
)
async def grade_attempt(request: web.Request) -> web.Response:
    """Grade the essays of a submitted attempt (the quiz's instructor or an admin)."""
    attempt, quiz, teacher = await attempts.access_attempt(
        session(request), actor=actor(request), attempt_id=path_id(request, "attempt_id")
    )
    attempts.check_teacher(teacher)
    data = await read_body(request, EssayGrades)
    points = await attempts.check_essay_grades(
        session(request), attempt=attempt, points=data.points
    )
    attempt = await attempts.do_grade_essays(
        session(request), attempt=attempt, quiz=quiz, points=points
    )
    return ok(await _attempt_body(request, attempt, quiz, teacher=teacher))
