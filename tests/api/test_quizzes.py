"""Quizzes and questions: who sees and changes them, what a question must hold, and the
quiz as a grade item."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from models.grades.tables import GradeItem
from tests.api.quiz_helpers import QUESTIONS, QUIZZES, new_quiz, quiz_lesson
from web.keys import DATABASES


async def grade_item(api: Any, quiz_id: int) -> GradeItem | None:
    async with api.client.app[DATABASES].tenant_sessions("acme")() as session:
        item: GradeItem | None = await session.scalar(
            select(GradeItem).where(GradeItem.kind == "quiz", GradeItem.source_id == quiz_id)
        )
        return item


async def test_a_quiz_is_created_on_a_quiz_lesson_with_its_settings(api, make):
    course = await make.course()
    lesson = await quiz_lesson(api, make, course["id"])

    reply = await api.post(
        QUIZZES,
        {
            "lesson": lesson["id"],
            "title": "Week 1",
            "time_limit_minutes": 30,
            "attempts_allowed": 2,
            "passing_score": 60,
            "grading_method": "average",
            "reveal_answers": "after_close",
            "available_until": "2030-01-01T00:00:00Z",
        },
        as_="instructor",
    )

    assert reply.status == 201, reply.body
    assert reply.body["course"] == course["id"]
    assert reply.body["lesson"] == lesson["id"]
    assert reply.body["time_limit_minutes"] == 30
    assert reply.body["grading_method"] == "average"
    assert reply.body["available_until"] == "2030-01-01T00:00:00Z"
    assert reply.body["is_published"] is False
    assert reply.body["question_count"] == 0


async def test_a_quiz_on_a_lesson_of_another_type_is_a_400(api, make):
    course = await make.course()
    module = await make.module(course["id"])
    lesson = await make.lesson(module["id"], lesson_type="text")

    reply = await api.post(QUIZZES, {"lesson": lesson["id"], "title": "Q"}, as_="instructor")

    assert reply.status == 400
    assert reply.body["lesson"] == ["The lesson must be of type quiz."]


async def test_a_quiz_on_a_lesson_of_someone_elses_course_is_refused(api, make):
    course = await make.course()
    lesson = await quiz_lesson(api, make, course["id"])

    other = await api.post(QUIZZES, {"lesson": lesson["id"], "title": "Q"}, as_="instructor2")
    student = await api.post(QUIZZES, {"lesson": lesson["id"], "title": "Q"}, as_="student")

    assert (other.status, student.status) == (403, 403)


async def test_a_quiz_on_a_lesson_that_does_not_exist_is_a_400(api):
    reply = await api.post(QUIZZES, {"lesson": 999999, "title": "Q"}, as_="instructor")

    assert reply.status == 400
    assert "lesson" in reply.body


async def test_available_until_must_follow_available_from(api, make):
    course = await make.course()
    lesson = await quiz_lesson(api, make, course["id"])

    reply = await api.post(
        QUIZZES,
        {
            "lesson": lesson["id"],
            "title": "Q",
            "available_from": "2030-01-02T00:00:00Z",
            "available_until": "2030-01-01T00:00:00Z",
        },
        as_="instructor",
    )

    assert reply.status == 400
    assert "available_until" in reply.body


async def test_enrolled_learners_see_only_published_quizzes(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",))
    hidden = await api.post(
        QUIZZES, {"lesson": setup.lesson["id"], "title": "Draft"}, as_="instructor"
    )

    mine = await api.get(f"{QUIZZES}?course={setup.course['id']}", as_="student")
    teacher = await api.get(f"{QUIZZES}?course={setup.course['id']}", as_="instructor")
    draft = await api.get(f"{QUIZZES}{hidden.body['id']}/", as_="student")

    assert [q["id"] for q in mine.body["results"]] == [setup.id]
    assert {q["id"] for q in teacher.body["results"]} == {setup.id, hidden.body["id"]}
    assert draft.status == 404


async def test_a_learner_not_enrolled_does_not_see_the_quiz(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",))

    listed = await api.get(QUIZZES, as_="instructor2")
    detail = await api.get(f"{QUIZZES}{setup.id}/", as_="instructor2")

    assert listed.body["count"] == 0
    assert detail.status == 404


async def test_learners_may_not_change_a_quiz(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",))

    patch = await api.patch(f"{QUIZZES}{setup.id}/", {"title": "Mine"}, as_="student")
    delete = await api.delete(f"{QUIZZES}{setup.id}/", as_="student")

    assert (patch.status, delete.status) == (403, 403)


async def test_the_instructor_changes_and_deletes_a_quiz(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",))

    patch = await api.patch(
        f"{QUIZZES}{setup.id}/", {"title": "Renamed", "time_limit_minutes": None}, as_="instructor"
    )
    delete = await api.delete(f"{QUIZZES}{setup.id}/", as_="instructor")
    gone = await api.get(f"{QUIZZES}{setup.id}/", as_="instructor")

    assert patch.status == 200
    assert patch.body["title"] == "Renamed"
    assert delete.status == 204
    assert gone.status == 404
    assert await grade_item(api, setup.id) is None


async def test_the_quiz_is_a_grade_item_worth_its_questions_points(api, make):
    setup = await new_quiz(api, make, passing_score=50)

    item = await grade_item(api, setup.id)

    assert item is not None
    assert item.max_points == 14.0  # 2 + 4 + 1 + 1 + 1 + 5
    assert item.pass_points == 7.0
    assert item.course_id == setup.course["id"]


async def test_a_question_change_updates_the_grade_items_points(api, make):
    setup = await new_quiz(api, make, kinds=("true_false", "essay"))

    await api.patch(f"{QUESTIONS}{setup.q('essay')}/", {"points": 9}, as_="instructor")
    await api.delete(f"{QUESTIONS}{setup.q('true_false')}/", as_="instructor")

    item = await grade_item(api, setup.id)
    assert item is not None and item.max_points == 9.0


async def test_questions_and_their_answers_are_hidden_from_learners(api, make):
    setup = await new_quiz(api, make, kinds=("single_choice",))

    listed = await api.get(f"{QUESTIONS}?quiz={setup.id}", as_="student")
    detail = await api.get(f"{QUESTIONS}{setup.q('single_choice')}/", as_="student")
    teacher = await api.get(f"{QUESTIONS}?quiz={setup.id}", as_="instructor")

    assert listed.body["count"] == 0
    assert detail.status == 404
    assert teacher.body["results"][0]["options"][1]["correct"] is True


async def test_questions_are_listed_by_position(api, make):
    setup = await new_quiz(api, make, kinds=("true_false", "essay"))
    await api.patch(f"{QUESTIONS}{setup.q('true_false')}/", {"position": 5}, as_="instructor")

    listed = await api.get(f"{QUESTIONS}?quiz={setup.id}", as_="instructor")

    assert [q["kind"] for q in listed.body["results"]] == ["essay", "true_false"]


async def test_a_choice_question_needs_two_options(api, make):
    setup = await new_quiz(api, make, kinds=("essay",))
    body = {
        "quiz": setup.id,
        "kind": "single_choice",
        "prompt": "?",
        "options": [{"text": "only", "correct": True}],
    }

    reply = await api.post(QUESTIONS, body, as_="instructor")

    assert reply.status == 400
    assert reply.body["options"] == ["A choice question needs at least 2 options."]


async def test_a_single_choice_question_needs_exactly_one_right_option(api, make):
    setup = await new_quiz(api, make, kinds=("essay",))
    options = [{"text": "a", "correct": True}, {"text": "b", "correct": True}]

    two = await api.post(
        QUESTIONS,
        {"quiz": setup.id, "kind": "single_choice", "prompt": "?", "options": options},
        as_="instructor",
    )
    none = await api.post(
        QUESTIONS,
        {
            "quiz": setup.id,
            "kind": "multiple_choice",
            "prompt": "?",
            "options": [{"text": "a"}, {"text": "b"}],
        },
        as_="instructor",
    )

    assert two.status == 400 and "options" in two.body
    assert none.status == 400 and "options" in none.body


async def test_other_kinds_need_their_answer(api, make):
    setup = await new_quiz(api, make, kinds=("essay",))

    replies = [
        await api.post(QUESTIONS, {"quiz": setup.id, "kind": kind, "prompt": "?"}, as_="instructor")
        for kind in ("true_false", "short_text", "numeric")
    ]

    assert [r.status for r in replies] == [400, 400, 400]
    assert [next(iter(r.body)) for r in replies] == [
        "true_false_answer",
        "accepted_answers",
        "numeric_answer",
    ]


async def test_changing_a_questions_kind_must_leave_a_valid_question(api, make):
    setup = await new_quiz(api, make, kinds=("essay",))

    reply = await api.patch(
        f"{QUESTIONS}{setup.q('essay')}/", {"kind": "true_false"}, as_="instructor"
    )

    assert reply.status == 400
    assert "true_false_answer" in reply.body


async def test_a_kept_option_keeps_its_id_and_a_new_one_gets_a_fresh_id(api, make):
    setup = await new_quiz(api, make, kinds=("single_choice",))
    options = setup.questions["single_choice"]["options"]
    kept = options[1]

    reply = await api.patch(
        f"{QUESTIONS}{setup.q('single_choice')}/",
        {"options": [kept, {"text": "new wrong"}]},
        as_="instructor",
    )

    assert reply.status == 200, reply.body
    assert reply.body["options"][0]["id"] == kept["id"]
    assert reply.body["options"][1]["id"] > max(o["id"] for o in options)


async def test_a_question_for_a_quiz_the_caller_cannot_change_is_refused(api, make):
    setup = await new_quiz(api, make, kinds=("essay",))
    body = {"quiz": setup.id, "kind": "essay", "prompt": "?"}

    student = await api.post(QUESTIONS, body, as_="student")
    outsider = await api.post(QUESTIONS, body, as_="instructor2")

    assert student.status == 403
    assert outsider.status == 400
    assert "quiz" in outsider.body


async def test_deleting_the_quiz_lesson_removes_the_quiz_and_its_grade_item(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",))

    reply = await api.delete(f"/api/lms/courses/lessons/{setup.lesson['id']}/", as_="instructor")

    assert reply.status == 204
    assert (await api.get(f"{QUIZZES}{setup.id}/", as_="instructor")).status == 404
    assert await grade_item(api, setup.id) is None


async def test_deleting_the_module_removes_its_quizzes_grade_items(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",))

    reply = await api.delete(
        f"/api/lms/courses/modules/{setup.lesson['module']}/", as_="instructor"
    )

    assert reply.status == 204
    assert await grade_item(api, setup.id) is None


async def test_the_list_and_the_detail_count_each_quizs_questions_and_points(api, make):
    setup = await new_quiz(api, make, kinds=("true_false", "essay"))
    empty = await api.post(
        QUIZZES,
        {"lesson": setup.lesson["id"], "title": "Empty", "is_published": True},
        as_="instructor",
    )

    listed = await api.get(f"{QUIZZES}?course={setup.course['id']}", as_="student")
    detail = await api.get(f"{QUIZZES}{setup.id}/", as_="student")

    counts = {q["id"]: (q["question_count"], q["max_points"]) for q in listed.body["results"]}
    assert counts == {setup.id: (2, 6.0), empty.body["id"]: (0, 0.0)}
    assert (detail.body["question_count"], detail.body["max_points"]) == (2, 6.0)


async def test_a_new_quiz_has_no_grade_item_until_its_first_question(api, make):
    course = await make.course()
    lesson = await quiz_lesson(api, make, course["id"])
    quiz = await api.post(QUIZZES, {"lesson": lesson["id"], "title": "Q"}, as_="instructor")

    before = await grade_item(api, quiz.body["id"])
    question = {"quiz": quiz.body["id"], "kind": "essay", "prompt": "Why?", "points": 3}
    assert (await api.post(QUESTIONS, question, as_="instructor")).status == 201
    after = await grade_item(api, quiz.body["id"])

    assert before is None
    assert after is not None and after.max_points == 3.0
