"""No answer leaks: a learner playing a quiz through (start, saves, submit, every read they
may make) and listening on their notifications socket never receives the right answers,
which options are right, the feedback, or another learner's answers, unless the quiz's
`reveal_answers` allows; then they do, after submitting."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import update

from models.quizzes.tables import Quiz
from tests.api.quiz_helpers import (
    ACCEPTED,
    ATTEMPTS,
    FEEDBACK,
    NUMERIC,
    QUESTIONS,
    QUIZZES,
    QuizSetup,
    new_quiz,
    save,
    start,
    submit,
)
from tests.realtime.sockets import joined, next_frame, open_socket
from web.keys import DATABASES

# No essay: the attempt is graded on submit, so a grade notification reaches the socket.
KINDS = ("single_choice", "multiple_choice", "true_false", "short_text", "numeric")
OTHER_LEARNERS_ANSWER = "STUDENT2-PRIVATE-ANSWER-3e8f"
# What only a review (or the questions' own endpoint) carries.
REVIEW_KEYS = ('"correct"', '"correct_answer"', '"feedback"', '"points_awarded"')
ANSWER_KEYS = ('"true_false_answer"', '"accepted_answers"', '"numeric_answer"', '"tolerance"')
SECRET_TEXTS = (ACCEPTED.lower(), FEEDBACK.lower(), "271828", OTHER_LEARNERS_ANSWER.lower())


def wrong_answers(setup: QuizSetup) -> dict[int, Any]:
    """Answers that echo nothing right back (a right short answer would be the marker)."""
    return {
        setup.q("single_choice"): setup.option("single_choice", "wrong Lyon"),
        setup.q("multiple_choice"): [setup.option("multiple_choice", "wrong four")],
        setup.q("true_false"): True,
        setup.q("short_text"): "no idea",
        setup.q("numeric"): 5,
    }


async def play_through(api: Any, setup: QuizSetup) -> list[str]:
    """Everything student-1 receives while taking the quiz, as text: every response body
    and every frame on their notifications socket until their grade arrives."""
    seen: list[str] = []

    def keep(reply: Any) -> Any:
        seen.append(orjson.dumps(reply.body).decode().lower())
        return reply

    # Another learner's attempt, with an answer of their own in it.
    theirs = (await start(api, setup.id, as_="student2")).body
    await save(api, theirs["id"], {setup.q("short_text"): OTHER_LEARNERS_ANSWER}, as_="student2")
    await submit(api, theirs["id"], as_="student2")

    await api.settled()  # the course's own notifications (a lesson created) come first
    ws = await open_socket(api, "/ws/lms/notifications/", as_="student")
    await joined(ws)
    keep(await api.get(f"{QUIZZES}?course={setup.course['id']}", as_="student"))
    keep(await api.get(f"{QUIZZES}{setup.id}/", as_="student"))
    keep(await api.get(f"{QUESTIONS}?quiz={setup.id}", as_="student"))
    keep(await api.get(f"{QUESTIONS}{setup.q('single_choice')}/", as_="student"))
    attempt = keep(await start(api, setup.id)).body
    keep(await start(api, setup.id))
    answers = wrong_answers(setup)
    for question_id, answer in answers.items():
        keep(await save(api, attempt["id"], {question_id: answer}))
    keep(await api.get(f"{ATTEMPTS}{attempt['id']}/", as_="student"))
    keep(await submit(api, attempt["id"]))
    keep(await submit(api, attempt["id"]))
    keep(await api.get(f"{ATTEMPTS}{attempt['id']}/", as_="student"))
    keep(await api.get(f"{QUIZZES}{setup.id}/attempts/", as_="student"))
    keep(await api.get(f"{ATTEMPTS}{theirs['id']}/", as_="student"))
    keep(await api.get(f"{QUIZZES}{setup.id}/attempts/?user_id=student-2", as_="student"))
    await api.settled()
    frame = await next_frame(ws, "notification")
    seen.append(orjson.dumps(frame).decode().lower())
    await ws.close()
    assert frame["data"]["type"] == "grade", frame
    return seen


def leaks(seen: list[str]) -> list[str]:
    return [
        marker
        for marker in (*SECRET_TEXTS, *REVIEW_KEYS, *ANSWER_KEYS)
        if any(marker in body for body in seen)
    ]


async def test_reveal_never_leaks_no_answer_to_the_learner(api, make):
    setup = await new_quiz(api, make, kinds=KINDS, reveal_answers="never")

    seen = await play_through(api, setup)

    assert len(seen) == 19
    assert leaks(seen) == []


async def test_reveal_after_close_leaks_no_answer_while_the_quiz_is_open(api, make):
    setup = await new_quiz(
        api, make, kinds=KINDS, reveal_answers="after_close", available_until="2999-01-01T00:00:00Z"
    )

    seen = await play_through(api, setup)

    assert leaks(seen) == []


async def test_reveal_after_attempt_shows_the_answers_once_submitted(api, make):
    setup = await new_quiz(api, make, kinds=KINDS, reveal_answers="after_attempt")

    seen = await play_through(api, setup)

    before_submit, after_submit = seen[:12], seen[12:]
    assert leaks(before_submit) == []
    revealed = "\n".join(after_submit)
    assert ACCEPTED.lower() in revealed
    assert FEEDBACK.lower() in revealed
    assert str(NUMERIC) in revealed
    # Still never another learner's answer, nor the questions' own endpoint.
    assert OTHER_LEARNERS_ANSWER.lower() not in revealed
    assert '"accepted_answers"' not in revealed


async def test_reveal_after_close_shows_the_answers_once_the_quiz_has_closed(api, make):
    setup = await new_quiz(
        api, make, kinds=KINDS, reveal_answers="after_close", available_until="2999-01-01T00:00:00Z"
    )
    attempt = (await start(api, setup.id)).body
    await submit(api, attempt["id"])
    closed = await api.get(f"{ATTEMPTS}{attempt['id']}/", as_="student")
    async with api.client.app[DATABASES].tenant_sessions("acme").begin() as session:
        await session.execute(
            update(Quiz).where(Quiz.id == setup.id).values(available_until=Quiz.created_at)
        )

    reply = await api.get(f"{ATTEMPTS}{attempt['id']}/", as_="student")

    assert closed.body["review_available"] is False
    assert reply.body["review_available"] is True
    assert FEEDBACK in orjson.dumps(reply.body).decode()


async def test_an_admin_taking_a_quiz_reads_their_attempt_as_a_learner(api, make):
    setup = await new_quiz(api, make, kinds=KINDS, reveal_answers="never")
    await make.enroll(setup.course["id"], as_="admin")

    started = await start(api, setup.id, as_="admin")
    submitted = await submit(api, started.body["id"], as_="admin")

    assert started.status == 201
    assert leaks([orjson.dumps(r.body).decode().lower() for r in (started, submitted)]) == []
