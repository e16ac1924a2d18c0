"""Attempts: starting, saving, submitting, grading, the deadline, and bad input."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import orjson
from sqlalchemy import func, select

from models.grades.tables import Grade, GradeItem
from models.quizzes.attempts import SUBMIT_OVERDUE_TASK
from models.quizzes.tables import QuizAnswer, QuizAttempt
from tests.api.quiz_helpers import (
    ATTEMPTS,
    QUIZZES,
    move_deadline_to_the_past,
    new_quiz,
    right_answers,
    save,
    start,
    submit,
)
from tests.conftest import Factory
from tests.workers.conftest import eventually
from web.keys import DATABASES, DISPATCHER


async def posted_grade(api: Any, quiz_id: int, user_id: str = "student-1") -> Grade | None:
    async with api.client.app[DATABASES].tenant_sessions("acme")() as session:
        grade: Grade | None = await session.scalar(
            select(Grade)
            .join(GradeItem, GradeItem.id == Grade.item_id)
            .where(
                GradeItem.kind == "quiz",
                GradeItem.source_id == quiz_id,
                Grade.user_id == user_id,
            )
        )
        return grade


async def count_rows(api: Any, model: Any) -> int:
    async with api.client.app[DATABASES].tenant_sessions("acme")() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


# Starting


async def test_an_enrolled_learner_starts_an_attempt_with_the_questions(api, make):
    setup = await new_quiz(api, make, time_limit_minutes=20)

    reply = await start(api, setup.id)

    assert reply.status == 201, reply.body
    assert reply.body["status"] == "in_progress"
    assert reply.body["number"] == 1
    assert reply.body["deadline"] is not None
    assert len(reply.body["questions"]) == 6
    assert all(q["review"] is None for q in reply.body["questions"])


async def test_starting_again_returns_the_attempt_in_progress(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",))

    first = await start(api, setup.id)
    again = await start(api, setup.id)

    assert (first.status, again.status) == (201, 200)
    assert again.body["id"] == first.body["id"]


async def test_two_starts_at_once_make_one_attempt(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",))
    for round_ in range(1, 6):
        replies = await asyncio.gather(start(api, setup.id), start(api, setup.id))

        assert sorted(r.status for r in replies) == [200, 201]
        assert replies[0].body["id"] == replies[1].body["id"]
        assert replies[0].body["number"] == round_
        assert await count_rows(api, QuizAttempt) == round_
        await submit(api, replies[0].body["id"])


async def test_no_deadline_without_a_time_limit_or_closing_time(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",))

    reply = await start(api, setup.id)

    assert reply.body["deadline"] is None


async def test_the_deadline_is_the_closing_time_when_that_comes_first(api, make):
    setup = await new_quiz(
        api,
        make,
        kinds=("true_false",),
        time_limit_minutes=600,
        available_until="2999-01-01T00:00:00Z",
    )
    await api.patch(f"{QUIZZES}{setup.id}/", {"time_limit_minutes": None}, as_="instructor")

    reply = await start(api, setup.id)

    assert reply.body["deadline"] == "2999-01-01T00:00:00Z"


async def test_the_instructor_does_not_take_the_quiz(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",))

    reply = await start(api, setup.id, as_="instructor")

    assert reply.status == 403


async def test_a_quiz_not_open_yet_or_closed_cannot_be_started(api, make):
    early = await new_quiz(api, make, kinds=("true_false",), available_from="2999-01-01T00:00:00Z")
    late = await new_quiz(api, make, kinds=("true_false",), available_until="2000-01-01T00:00:00Z")

    not_yet = await start(api, early.id)
    closed = await start(api, late.id)

    assert (not_yet.status, closed.status) == (403, 403)
    assert not_yet.body["detail"] == "This quiz is not open yet."
    assert closed.body["detail"] == "This quiz is closed."


async def test_attempts_allowed_is_the_most_a_learner_starts(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",), attempts_allowed=1)
    first = await start(api, setup.id)
    await submit(api, first.body["id"])

    second = await start(api, setup.id)

    assert second.status == 403
    assert second.body["detail"] == "No attempts left at this quiz."


async def test_shuffled_orders_are_kept_for_the_attempt(api, make):
    setup = await new_quiz(api, make, shuffle_questions=True, shuffle_options=True)
    first = await start(api, setup.id)

    reloaded = await api.get(f"{ATTEMPTS}{first.body['id']}/", as_="student")

    def order(body: dict[str, Any]) -> list[Any]:
        return [(q["id"], [o["id"] for o in q["options"]]) for q in body["questions"]]

    assert order(reloaded.body) == order(first.body)
    assert {q["id"] for q in first.body["questions"]} == {q["id"] for q in setup.questions.values()}


# Saving


async def test_saves_merge_and_the_last_write_wins_per_question(api, make):
    setup = await new_quiz(api, make, kinds=("true_false", "short_text"))
    attempt = (await start(api, setup.id)).body
    tf, st = setup.q("true_false"), setup.q("short_text")

    await save(api, attempt["id"], {tf: True, st: "first"})
    reply = await save(api, attempt["id"], {st: "second"})

    answers = {q["id"]: q["answer"] for q in reply.body["questions"]}
    assert reply.status == 200
    assert answers == {tf: True, st: "second"}


async def test_null_clears_a_saved_answer(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",))
    attempt = (await start(api, setup.id)).body
    await save(api, attempt["id"], {setup.q("true_false"): True})

    reply = await save(api, attempt["id"], {setup.q("true_false"): None})

    assert reply.body["questions"][0]["answer"] is None


async def test_answers_to_questions_not_in_the_attempt_are_refused(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",))
    other = await new_quiz(api, make, kinds=("true_false",))
    attempt = (await start(api, setup.id)).body

    reply = await save(
        api, attempt["id"], {setup.q("true_false"): True, other.q("true_false"): True}
    )
    nonsense = await save(api, attempt["id"], {"abc": True})

    assert reply.status == 400
    assert reply.body[f"answers.{other.q('true_false')}"] == [
        "This question is not part of this attempt."
    ]
    assert nonsense.status == 400
    assert await count_rows(api, QuizAnswer) == 0


async def test_an_answer_of_the_wrong_shape_is_refused(api, make):
    setup = await new_quiz(api, make, kinds=("single_choice", "multiple_choice", "numeric"))
    attempt = (await start(api, setup.id)).body

    replies = [
        await save(api, attempt["id"], {setup.q("single_choice"): 999999}),
        await save(api, attempt["id"], {setup.q("multiple_choice"): "all"}),
        await save(api, attempt["id"], {setup.q("numeric"): True}),
    ]

    assert [r.status for r in replies] == [400, 400, 400]


async def test_a_save_after_the_deadline_is_refused(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",), time_limit_minutes=5)
    attempt = (await start(api, setup.id)).body
    await move_deadline_to_the_past(api, attempt["id"])

    reply = await save(api, attempt["id"], {setup.q("true_false"): True})

    assert reply.status == 409
    assert reply.body["detail"] == (
        "This attempt's deadline has passed; it can no longer be changed."
    )
    assert await count_rows(api, QuizAnswer) == 0


async def test_a_save_after_submitting_is_refused(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",))
    attempt = (await start(api, setup.id)).body
    await submit(api, attempt["id"])

    reply = await save(api, attempt["id"], {setup.q("true_false"): True})

    assert reply.status == 409
    assert reply.body["detail"] == "This attempt has already been submitted."


async def test_an_essay_over_100000_characters_is_a_400(api, make):
    setup = await new_quiz(api, make, kinds=("essay",))
    attempt = (await start(api, setup.id)).body

    reply = await save(api, attempt["id"], {setup.q("essay"): "x" * 100_001})

    assert reply.status == 400
    assert await count_rows(api, QuizAnswer) == 0


async def test_a_10_mb_essay_is_a_413_and_nothing_is_written(api, make):
    setup = await new_quiz(api, make, kinds=("essay",))
    attempt = (await start(api, setup.id)).body

    body = orjson.dumps({"answers": {str(setup.q("essay")): "x" * (10 * 1024 * 1024)}})

    reply = await api.call(
        "PATCH",
        f"{ATTEMPTS}{attempt['id']}/",
        as_="student",
        data=io.BytesIO(body),
        headers={"Content-Type": "application/json"},
    )

    assert reply.status == 413
    assert await count_rows(api, QuizAnswer) == 0


async def test_the_instructor_may_not_save_a_learners_answers(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",))
    attempt = (await start(api, setup.id)).body

    reply = await save(api, attempt["id"], {setup.q("true_false"): True}, as_="instructor")

    assert reply.status == 403


# Reading


async def test_another_learners_attempt_is_a_404(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",))
    attempt = (await start(api, setup.id)).body

    read = await api.get(f"{ATTEMPTS}{attempt['id']}/", as_="student2")
    saved = await save(api, attempt["id"], {setup.q("true_false"): True}, as_="student2")
    submitted = await submit(api, attempt["id"], as_="student2")

    assert (read.status, saved.status, submitted.status) == (404, 404, 404)


async def test_the_instructor_reads_an_attempt_with_its_answers_revealed(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",), reveal_answers="never")
    attempt = (await start(api, setup.id)).body

    reply = await api.get(f"{ATTEMPTS}{attempt['id']}/", as_="instructor")

    assert reply.status == 200
    assert reply.body["questions"][0]["review"]["correct_answer"] is False


async def test_a_learner_lists_their_own_attempts_and_the_instructor_everyones(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",))
    mine = (await start(api, setup.id)).body
    await start(api, setup.id, as_="student2")

    own = await api.get(f"{QUIZZES}{setup.id}/attempts/", as_="student")
    everyone = await api.get(f"{QUIZZES}{setup.id}/attempts/", as_="instructor")

    assert [a["id"] for a in own.body["results"]] == [mine["id"]]
    assert everyone.body["count"] == 2
    assert "questions" not in own.body["results"][0]


# Submitting and grading


async def test_submitting_grades_each_kind_and_leaves_essays_pending(api, make):
    setup = await new_quiz(api, make)
    attempt = (await start(api, setup.id)).body
    await save(api, attempt["id"], right_answers(setup))

    reply = await submit(api, attempt["id"])

    assert reply.status == 200
    assert reply.body["status"] == "submitted"
    assert reply.body["pending_review"] is True
    assert reply.body["score"] is None
    points = {q["kind"]: q["review"]["points_awarded"] for q in reply.body["questions"]}
    assert points == {
        "single_choice": 2,
        "multiple_choice": 4,
        "true_false": 1,
        "short_text": 1,
        "numeric": 1,
        "essay": None,
    }


async def test_a_graded_essay_completes_the_attempt_and_posts_the_grade(api, make):
    setup = await new_quiz(api, make)
    attempt = (await start(api, setup.id)).body
    await save(api, attempt["id"], right_answers(setup))
    await submit(api, attempt["id"])

    reply = await api.post(
        f"{ATTEMPTS}{attempt['id']}/grade/",
        {"points": {str(setup.q("essay")): 3.5}},
        as_="instructor",
    )

    assert reply.status == 200, reply.body
    assert reply.body["status"] == "graded"
    assert reply.body["score"] == 12.5
    assert reply.body["max_score"] == 14
    grade = await posted_grade(api, setup.id)
    assert grade is not None and grade.score == 12.5 and grade.released


async def test_essay_points_must_be_within_the_questions_points(api, make):
    setup = await new_quiz(api, make, kinds=("essay", "true_false"))
    attempt = (await start(api, setup.id)).body
    await save(api, attempt["id"], {setup.q("essay"): "text"})
    await submit(api, attempt["id"])
    url = f"{ATTEMPTS}{attempt['id']}/grade/"

    too_many = await api.post(url, {"points": {str(setup.q("essay")): 6}}, as_="instructor")
    negative = await api.post(url, {"points": {str(setup.q("essay")): -1}}, as_="instructor")
    not_essay = await api.post(url, {"points": {str(setup.q("true_false")): 1}}, as_="instructor")
    learner = await api.post(url, {"points": {str(setup.q("essay")): 1}}, as_="student")

    assert (too_many.status, negative.status, not_essay.status) == (400, 400, 400)
    assert learner.status == 403


async def test_a_quiz_without_essays_is_graded_on_submit_and_its_grade_posted(api, make):
    setup = await new_quiz(api, make, kinds=("true_false", "single_choice"), passing_score=60)
    attempt = (await start(api, setup.id)).body
    await save(api, attempt["id"], {setup.q("true_false"): False})

    reply = await submit(api, attempt["id"])

    assert reply.body["status"] == "graded"
    assert reply.body["score"] == 1
    assert reply.body["percent"] == round(100 / 3, 4)
    assert reply.body["passed"] is False
    grade = await posted_grade(api, setup.id)
    assert grade is not None and grade.score == 1


async def test_a_double_submit_returns_the_first_result(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",))
    attempt = (await start(api, setup.id)).body
    await save(api, attempt["id"], {setup.q("true_false"): False})

    first = await submit(api, attempt["id"])
    second = await submit(api, attempt["id"])

    assert second.status == 200
    assert second.body == first.body


async def test_two_submits_at_once_grade_once(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",))
    attempt = (await start(api, setup.id)).body

    replies = await asyncio.gather(submit(api, attempt["id"]), submit(api, attempt["id"]))

    assert [r.status for r in replies] == [200, 200]
    assert replies[0].body["submitted_at"] == replies[1].body["submitted_at"]


async def test_a_submit_after_the_deadline_submits_what_was_saved_marked_late(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",), time_limit_minutes=5)
    attempt = (await start(api, setup.id)).body
    await save(api, attempt["id"], {setup.q("true_false"): False})
    await move_deadline_to_the_past(api, attempt["id"])

    reply = await submit(api, attempt["id"])

    assert reply.status == 200
    assert reply.body["late"] is True
    assert reply.body["auto_submitted"] is False
    assert reply.body["score"] == 1


async def test_the_sweep_submits_an_overdue_attempt_with_what_was_saved(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",), time_limit_minutes=5)
    attempt = (await start(api, setup.id)).body
    await save(api, attempt["id"], {setup.q("true_false"): False})
    await move_deadline_to_the_past(api, attempt["id"])

    await api.client.app[DISPATCHER].send(SUBMIT_OVERDUE_TASK, "acme")
    await api.settled()

    reply = await api.get(f"{ATTEMPTS}{attempt['id']}/", as_="student")
    assert reply.body["status"] == "graded"
    assert reply.body["auto_submitted"] is True
    assert reply.body["score"] == 1
    grade = await posted_grade(api, setup.id)
    assert grade is not None and grade.score == 1


async def test_the_web_app_asks_for_the_sweep_every_round(custom_api):
    api = await custom_api(quiz_sweep_seconds=0.2)
    setup = await new_quiz(api, Factory(api), kinds=("true_false",), time_limit_minutes=5)
    attempt = (await start(api, setup.id)).body
    await move_deadline_to_the_past(api, attempt["id"])

    async def submitted() -> bool:
        reply = await api.get(f"{ATTEMPTS}{attempt['id']}/", as_="student")
        return bool(reply.body["status"] == "graded")

    # The round runs on the app's own clock: there is no event to await, only its effect.
    await eventually(submitted)
    reply = await api.get(f"{ATTEMPTS}{attempt['id']}/", as_="student")
    assert reply.body["auto_submitted"] is True


async def test_a_submit_after_the_sweep_returns_the_swept_result(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",), time_limit_minutes=5)
    attempt = (await start(api, setup.id)).body
    await move_deadline_to_the_past(api, attempt["id"])
    await api.client.app[DISPATCHER].send(SUBMIT_OVERDUE_TASK, "acme")
    await api.settled()
    swept = await api.get(f"{ATTEMPTS}{attempt['id']}/", as_="student")

    reply = await submit(api, attempt["id"])

    assert reply.status == 200
    assert reply.body == swept.body


async def test_the_sweep_leaves_attempts_within_their_deadline(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",), time_limit_minutes=5)
    attempt = (await start(api, setup.id)).body

    await api.client.app[DISPATCHER].send(SUBMIT_OVERDUE_TASK, "acme")
    await api.settled()

    reply = await api.get(f"{ATTEMPTS}{attempt['id']}/", as_="student")
    assert reply.body["status"] == "in_progress"


async def test_starting_after_an_overdue_attempt_submits_it_and_starts_the_next(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",), time_limit_minutes=5)
    first = (await start(api, setup.id)).body
    await move_deadline_to_the_past(api, first["id"])

    second = await start(api, setup.id)
    old = await api.get(f"{ATTEMPTS}{first['id']}/", as_="student")

    assert second.status == 201
    assert second.body["number"] == 2
    assert old.body["status"] == "graded"


async def test_the_grading_method_picks_the_quiz_grade(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",), grading_method="latest")
    right = (await start(api, setup.id)).body
    await save(api, right["id"], {setup.q("true_false"): False})
    await submit(api, right["id"])
    wrong = (await start(api, setup.id)).body
    await save(api, wrong["id"], {setup.q("true_false"): True})
    await submit(api, wrong["id"])

    latest = await posted_grade(api, setup.id)
    await api.patch(f"{QUIZZES}{setup.id}/", {"grading_method": "highest"}, as_="instructor")
    third = (await start(api, setup.id)).body
    await submit(api, third["id"])
    highest = await posted_grade(api, setup.id)

    assert latest is not None and latest.score == 0
    assert highest is not None and highest.score == 1


async def test_a_quiz_without_questions_cannot_be_started(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",))
    await api.delete(f"/api/lms/courses/questions/{setup.q('true_false')}/", as_="instructor")

    reply = await start(api, setup.id)

    assert reply.status == 409
    assert reply.body["detail"] == "This quiz has no questions yet."


async def test_the_attempts_list_shows_mine_and_the_instructor_those_of_their_courses(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",))
    mine = (await start(api, setup.id)).body
    theirs = (await start(api, setup.id, as_="student2")).body

    own = await api.get(ATTEMPTS, as_="student")
    taught = await api.get(f"{ATTEMPTS}?quiz={setup.id}", as_="instructor")
    outsider = await api.get(ATTEMPTS, as_="instructor2")

    assert [a["id"] for a in own.body["results"]] == [mine["id"]]
    assert {a["id"] for a in taught.body["results"]} == {mine["id"], theirs["id"]}
    assert taught.body["results"][0]["user"]["id"] in ("student-1", "student-2")
    assert outsider.body["count"] == 0


async def test_a_save_racing_a_submit_is_either_graded_or_refused(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",), attempts_allowed=None)
    for _ in range(5):
        attempt = (await start(api, setup.id)).body

        saved, submitted = await asyncio.gather(
            save(api, attempt["id"], {setup.q("true_false"): False}),
            submit(api, attempt["id"]),
        )

        final = await api.get(f"{ATTEMPTS}{attempt['id']}/", as_="student")
        assert submitted.status == 200
        assert saved.status in (200, 409)
        answer = final.body["questions"][0]["answer"]
        assert (answer is False) == (saved.status == 200)
        if saved.status == 200:
            assert final.body["score"] == 1  # the saved answer was graded
