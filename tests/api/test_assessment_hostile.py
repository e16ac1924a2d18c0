"""Quizzes, assignments, grades and certificates under attack: another tenant, another
learner, another course's instructor, a learner who left, and hostile input. Whatever is
not theirs is a 404 (a 403 where they may see it but not change it), bad input a 400 in
the contract's shape, and nothing is ever a 500 or half written."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import func, select

from models.assignments.tables import Assignment
from models.quizzes.attempts import SUBMIT_OVERDUE_TASK
from models.quizzes.tables import Quiz, QuizAttempt, QuizQuestion
from models.unit_of_work import unit_of_work
from tests.api.grades_data import GRADES, Sources, grade_url, gradebook_url, grading_url
from tests.api.quiz_helpers import (
    ATTEMPTS,
    QUESTIONS,
    QUIZZES,
    move_deadline_to_the_past,
    new_quiz,
    save,
    start,
    submit,
)
from tests.api.test_assignments import ASSIGNMENTS, new_assignment
from tests.api.test_submissions import PDF, SUBMISSIONS, form, raw_form, rows
from tests.conftest import Api, Factory
from tests.matchers import NOT_FOUND
from web.keys import DATABASES, DISPATCHER

CERTIFICATES = "/api/lms/courses/certificates/"
VERIFY = "/api/lms/certificates/verify/"
VERIFY_PAGE = "/lms/certificates/verify/"
ENROLLMENTS = "/api/lms/courses/enrollments/"
OUTSIDERS = ("b_admin", "b_instructor", "b_student")
BIG = 2**31
LEFT = {"detail": "Only learners enrolled in the course take its quizzes.", "status": 403}


async def count(api: Api, table: Any) -> int:
    async with unit_of_work(api.client.app[DATABASES], "acme") as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(table)) or 0)


def json_raw(text: str) -> tuple[bytes, dict[str, str]]:
    return text.encode(), {"Content-Type": "application/json"}


@pytest.fixture
async def scene(api: Api, make: Factory) -> dict[str, Any]:
    """acme: a quiz (student and student2 enrolled) with student's attempt submitted, an
    assignment with student's file submission graded and returned, student's released
    grade, and student's certificate."""
    setup = await new_quiz(api, make, kinds=("single_choice", "essay"))
    course_id = setup.course["id"]
    attempt = (await start(api, setup.id)).body
    assert (await submit(api, attempt["id"])).status == 200
    essay = await new_assignment(
        api, course_id, allowed_file_types=["pdf"], max_file_bytes=1000, points=10
    )
    reply = await api.post(SUBMISSIONS, data=form(essay["id"], ("essay.pdf", PDF)), as_="student")
    assert reply.status == 201, reply.body
    submission = reply.body
    graded = await api.post(
        f"{SUBMISSIONS}{submission['id']}/grade/", {"score": 9}, as_="instructor"
    )
    assert graded.status == 200, graded.body
    assert (
        await api.post(f"{SUBMISSIONS}{submission['id']}/return/", as_="instructor")
    ).status == 200
    rule = {"completion": {"items_passed": [], "min_total_percent": 10}}
    put = await api.put(grading_url(course_id), rule, as_="instructor")
    await api.settled()
    grades = (await api.get(GRADES, as_="student")).body["results"]
    [grade] = [g for g in grades if g["item"]["kind"] == "assignment"]
    certs = (await api.get(CERTIFICATES, as_="student")).body["results"]
    return {
        "setup": setup,
        "course": course_id,
        "attempt": attempt,
        "assignment": essay,
        "submission": submission,
        "file": submission["files"][0],
        "grade": grade,
        "certificate": certs[0] if certs else None,
        "rule": put,
    }


def reads(scene: dict[str, Any]) -> list[str]:
    setup = scene["setup"]
    return [
        f"{QUIZZES}{setup.id}/",
        f"{QUIZZES}{setup.id}/attempts/",
        f"{QUESTIONS}{setup.q('single_choice')}/",
        f"{ATTEMPTS}{scene['attempt']['id']}/",
        f"{ASSIGNMENTS}{scene['assignment']['id']}/",
        f"{SUBMISSIONS}{scene['submission']['id']}/",
        scene["file"]["url"],
        gradebook_url(scene["course"]),
        grading_url(scene["course"]),
        f"{CERTIFICATES}{scene['certificate']['id']}/download/",
    ]


def writes(scene: dict[str, Any]) -> list[tuple[str, str, Any]]:
    setup = scene["setup"]
    return [
        ("PATCH", f"{QUIZZES}{setup.id}/", {"title": "Mine"}),
        ("DELETE", f"{QUIZZES}{setup.id}/", None),
        ("PATCH", f"{QUESTIONS}{setup.q('single_choice')}/", {"points": 50}),
        ("POST", f"{QUIZZES}{setup.id}/attempts/", None),
        ("PATCH", f"{ATTEMPTS}{scene['attempt']['id']}/", {"answers": {}}),
        ("POST", f"{ATTEMPTS}{scene['attempt']['id']}/submit/", None),
        ("POST", f"{ATTEMPTS}{scene['attempt']['id']}/grade/", {"points": {}}),
        ("PATCH", f"{ASSIGNMENTS}{scene['assignment']['id']}/", {"title": "Mine"}),
        ("POST", f"{SUBMISSIONS}{scene['submission']['id']}/grade/", {"score": 0}),
        ("POST", f"{SUBMISSIONS}{scene['submission']['id']}/return/", None),
        ("PATCH", grade_url(scene["grade"]["id"]), {"override_score": 0, "reason": "x"}),
        ("POST", f"{CERTIFICATES}{scene['certificate']['id']}/revoke/", {"reason": "x"}),
    ]


async def unchanged(api: Api, scene: dict[str, Any]) -> None:
    """Nothing the attackers tried changed acme's records."""
    setup = scene["setup"]
    quiz = await api.get(f"{QUIZZES}{setup.id}/", as_="instructor")
    assert quiz.body["title"] == "Quiz"
    question = await api.get(f"{QUESTIONS}{setup.q('single_choice')}/", as_="instructor")
    assert question.body["points"] == 2
    assignment = await api.get(f"{ASSIGNMENTS}{scene['assignment']['id']}/", as_="instructor")
    assert assignment.body["title"] == "Essay"
    grades = (await api.get(GRADES, as_="student")).body["results"]
    [grade] = [g for g in grades if g["id"] == scene["grade"]["id"]]
    assert (grade["score"], grade["override_score"]) == (9, None)
    [cert] = (await api.get(CERTIFICATES, as_="student")).body["results"]
    assert cert["status"] == "valid"
    assert await count(api, QuizAttempt) == 1


# Another tenant


async def test_the_scene_is_what_the_attacks_aim_at(api, scene):
    assert scene["rule"].status == 200, scene["rule"].body
    assert scene["certificate"] is not None
    assert scene["grade"]["score"] == 9


@pytest.mark.parametrize("who", OUTSIDERS)
async def test_another_tenant_reads_nothing_of_acme(api, scene, who):
    for path in reads(scene):
        reply = await api.get(path, as_=who)
        assert (path, reply.status) == (path, 404)


@pytest.mark.parametrize("who", OUTSIDERS)
async def test_another_tenant_on_acme_s_host_reads_nothing(api, scene, who):
    for path in reads(scene):
        reply = await api.get(path, as_=who, headers={"Host": "acme.test"})
        assert (path, reply.status) in ((path, 404), (path, 401), (path, 403))


@pytest.mark.parametrize("who", OUTSIDERS)
async def test_another_tenant_changes_nothing_of_acme(api, scene, who):
    for method, path, body in writes(scene):
        reply = await api.call(method, path, json=body, as_=who)
        assert (method, path, reply.status) == (method, path, 404)
    await unchanged(api, scene)


@pytest.mark.parametrize("who", OUTSIDERS)
async def test_another_tenant_lists_nothing_of_acme(api, scene, who):
    for path in (QUIZZES, QUESTIONS, ATTEMPTS, ASSIGNMENTS, SUBMISSIONS, GRADES, CERTIFICATES):
        reply = await api.get(path, as_=who)
        assert (path, reply.status, reply.body["count"]) == (path, 200, 0)


async def test_a_code_is_not_verified_through_another_tenant_s_host(api, scene):
    code = scene["certificate"]["code"]
    reply = await api.get(f"{VERIFY}{code}/", headers={"Host": "globex.test"})
    assert (reply.status, reply.body) == (404, NOT_FOUND)
    page = await api.get(f"{VERIFY_PAGE}{code}/", headers={"Host": "globex.test"})
    assert page.status == 200
    html = page.body.decode()
    assert 'data-status="unknown"' in html and "student-1" not in html


async def test_a_code_renamed_to_another_tenant_is_unknown(api, scene):
    code = scene["certificate"]["code"].replace("acme.", "globex.", 1)
    assert (await api.get(f"{VERIFY}{code}/")).status == 404
    assert (await api.get(f"{VERIFY}{code}/", headers={"Host": "globex.test"})).status == 404


# Another user


async def test_another_learner_neither_reads_nor_saves_nor_submits_an_attempt(api, make):
    setup = await new_quiz(api, make, kinds=("single_choice",))
    attempt = (await start(api, setup.id)).body
    path = f"{ATTEMPTS}{attempt['id']}/"
    assert (await api.get(path, as_="student2")).status == 404
    assert (
        await save(api, attempt["id"], {setup.q("single_choice"): 1}, as_="student2")
    ).status == 404
    assert (await submit(api, attempt["id"], as_="student2")).status == 404
    mine = await api.get(path, as_="student")
    assert (mine.body["status"], mine.body["questions"][0]["answer"]) == ("in_progress", None)
    listed = await api.get(f"{QUIZZES}{setup.id}/attempts/", as_="student2")
    assert listed.body["count"] == 0
    assert (await api.get(f"{ATTEMPTS}?user_id=student-1", as_="student2")).body["count"] == 0


async def test_another_learner_sees_nothing_of_a_learner_s_work(api, scene):
    assert (
        await api.get(f"{SUBMISSIONS}{scene['submission']['id']}/", as_="student2")
    ).status == 404
    assert (await api.get(scene["file"]["url"], as_="student2")).status == 404
    assert (await api.get(GRADES, as_="student2")).body["count"] == 0
    query = f"{GRADES}?course={scene['course']}"
    assert (await api.get(query, as_="student2")).body["count"] == 0
    assert (await api.get(gradebook_url(scene["course"]), as_="student2")).status in (403, 404)
    cert = scene["certificate"]
    assert (await api.get(cert["download_url"], as_="student2")).status == 404
    revoke = await api.post(f"{CERTIFICATES}{cert['id']}/revoke/", {"reason": "x"}, as_="student2")
    assert revoke.status == 404
    assert (await api.get(CERTIFICATES, as_="student2")).body["count"] == 0


async def test_a_learner_neither_grades_nor_overrides_their_own_work(api, scene):
    attempt = scene["attempt"]
    assert (
        await api.post(f"{ATTEMPTS}{attempt['id']}/grade/", {"points": {}}, as_="student")
    ).status in (403, 404)
    grading = await api.post(
        f"{SUBMISSIONS}{scene['submission']['id']}/grade/", {"score": 10}, as_="student"
    )
    assert grading.status in (403, 404)
    override = {"override_score": 10, "reason": "I deserve it"}
    assert (await api.patch(grade_url(scene["grade"]["id"]), override, as_="student")).status == 403
    revoke = f"{CERTIFICATES}{scene['certificate']['id']}/revoke/"
    assert (await api.post(revoke, {"reason": "x"}, as_="student")).status == 403
    assert (await api.get(grading_url(scene["course"]), as_="student")).status in (403, 404)
    await unchanged(api, scene)


async def test_another_course_s_instructor_reads_no_answers_nor_grades(api, scene):
    setup = scene["setup"]
    question = await api.get(f"{QUESTIONS}{setup.q('single_choice')}/", as_="instructor2")
    assert question.status == 404
    listed = await api.get(f"{QUESTIONS}?quiz={setup.id}", as_="instructor2")
    assert listed.body["count"] == 0
    assert (await api.get(f"{ATTEMPTS}{scene['attempt']['id']}/", as_="instructor2")).status == 404
    assert (await api.get(f"{ATTEMPTS}?user_id=student-1", as_="instructor2")).body["count"] == 0
    assert (await api.get(gradebook_url(scene["course"]), as_="instructor2")).status == 403
    csv = await api.get(gradebook_url(scene["course"]) + "?format=csv", as_="instructor2")
    assert csv.status == 403
    assert (await api.get(grading_url(scene["course"]), as_="instructor2")).status == 403
    assert (
        await api.get(f"{SUBMISSIONS}{scene['submission']['id']}/", as_="instructor2")
    ).status == 404
    assert (await api.get(scene["file"]["url"], as_="instructor2")).status == 404
    assert (
        await api.get(f"{SUBMISSIONS}?assignment={scene['assignment']['id']}", as_="instructor2")
    ).body["count"] == 0
    assert (await api.get(scene["certificate"]["download_url"], as_="instructor2")).status == 404


async def test_another_course_s_instructor_changes_nothing(api, scene):
    for method, path, body in writes(scene):
        reply = await api.call(method, path, json=body, as_="instructor2")
        assert (method, path, reply.status) in (
            (method, path, 404),
            (method, path, 403),
        )
    put = await api.put(
        grading_url(scene["course"]), {"weights": {"quizzes": 1}}, as_="instructor2"
    )
    assert put.status == 403
    question = {"quiz": scene["setup"].id, "kind": "essay", "prompt": "Mine?"}
    assert (await api.post(QUESTIONS, question, as_="instructor2")).status in (400, 404)
    await unchanged(api, scene)


# A learner who left, and drafts


async def leave(api: Api, course_id: int, as_: str = "student") -> None:
    mine = await api.get(f"{ENROLLMENTS}?course={course_id}", as_=as_)
    [enrollment] = [e for e in mine.body["results"] if e["course"] == course_id]
    assert (await api.delete(f"{ENROLLMENTS}{enrollment['id']}/", as_=as_)).status == 204


async def test_a_learner_who_left_starts_no_attempt(api, make):
    setup = await new_quiz(api, make, kinds=("single_choice",))
    await leave(api, setup.course["id"])
    reply = await start(api, setup.id)
    assert reply.status in (403, 404)
    assert await count(api, QuizAttempt) == 0


async def test_a_learner_who_left_neither_saves_nor_submits_their_attempt(api, make):
    setup = await new_quiz(api, make, kinds=("single_choice",))
    attempt = (await start(api, setup.id)).body
    await leave(api, setup.course["id"])
    option = setup.option("single_choice", "wrong Lyon")
    saved = await save(api, attempt["id"], {setup.q("single_choice"): option})
    assert (saved.status, saved.body) == (403, LEFT)
    submitted = await submit(api, attempt["id"])
    assert (submitted.status, submitted.body) == (403, LEFT)
    teacher = await api.get(f"{ATTEMPTS}{attempt['id']}/", as_="instructor")
    assert teacher.body["status"] == "in_progress"
    assert teacher.body["questions"][0]["answer"] is None


async def test_the_sweep_still_submits_the_overdue_attempt_of_a_learner_who_left(api, make):
    setup = await new_quiz(api, make, kinds=("true_false",), time_limit_minutes=5)
    attempt = (await start(api, setup.id)).body
    assert (await save(api, attempt["id"], {setup.q("true_false"): False})).status == 200
    await leave(api, setup.course["id"])
    await move_deadline_to_the_past(api, attempt["id"])

    await api.client.app[DISPATCHER].send(SUBMIT_OVERDUE_TASK, "acme")
    await api.settled()

    reply = await api.get(f"{ATTEMPTS}{attempt['id']}/", as_="student")
    assert (reply.status, reply.body["status"], reply.body["auto_submitted"]) == (
        200,
        "graded",
        True,
    )
    assert reply.body["score"] == 1


async def test_a_learner_who_left_submits_no_assignment(api, make):
    course = await make.course()
    await make.enroll(course["id"])
    essay = await new_assignment(api, course["id"])
    await leave(api, course["id"])
    reply = await api.post(SUBMISSIONS, {"assignment": essay["id"], "text": "late"}, as_="student")
    assert reply.status in (400, 403, 404)
    assert await rows(api) == (0, 0, 0)


async def test_a_draft_quiz_is_not_seen_by_a_learner(api, make):
    setup = await new_quiz(api, make, kinds=("single_choice",), is_published=False)
    assert (await api.get(f"{QUIZZES}{setup.id}/", as_="student")).status == 404
    assert (await api.get(f"{QUIZZES}?course={setup.course['id']}", as_="student")).body[
        "count"
    ] == 0
    assert (await start(api, setup.id)).status == 404
    assert (await api.get(f"{QUESTIONS}?quiz={setup.id}", as_="student")).body["count"] == 0
    assert await count(api, QuizAttempt) == 0


async def test_a_draft_assignment_is_not_seen_by_a_learner(api, make):
    course = await make.course()
    await make.enroll(course["id"])
    draft = await new_assignment(api, course["id"], is_published=False)
    assert (await api.get(f"{ASSIGNMENTS}{draft['id']}/", as_="student")).status == 404
    assert (await api.get(f"{ASSIGNMENTS}?course={course['id']}", as_="student")).body["count"] == 0
    reply = await api.post(SUBMISSIONS, {"assignment": draft["id"], "text": "x"}, as_="student")
    assert reply.status in (400, 404)
    assert await rows(api) == (0, 0, 0)


# Out-of-range ids


@pytest.mark.parametrize("number", [BIG, 2**63, 10**30])
async def test_ids_out_of_range_in_paths_are_404s(api, number):
    paths = [
        f"{QUIZZES}{number}/",
        f"{QUIZZES}{number}/attempts/",
        f"{QUESTIONS}{number}/",
        f"{ATTEMPTS}{number}/",
        f"{ASSIGNMENTS}{number}/",
        f"{SUBMISSIONS}{number}/",
        f"{SUBMISSIONS}{number}/files/{number}/",
        f"{SUBMISSIONS}1/files/{number}/",
        gradebook_url(number),
        gradebook_url(number) + "?format=csv",
        grading_url(number),
        f"{CERTIFICATES}{number}/download/",
    ]
    for path in paths:
        reply = await api.get(path, as_="admin")
        assert (path, reply.status, reply.body) == (path, 404, NOT_FOUND)
    changes = [
        ("POST", f"{ATTEMPTS}{number}/submit/", None),
        ("PATCH", f"{ATTEMPTS}{number}/", {"answers": {}}),
        ("POST", f"{ATTEMPTS}{number}/grade/", {"points": {}}),
        ("POST", f"{QUIZZES}{number}/attempts/", None),
        ("POST", f"{SUBMISSIONS}{number}/grade/", {"score": 1}),
        ("POST", f"{SUBMISSIONS}{number}/return/", None),
        ("PATCH", grade_url(number), {"override_score": 1, "reason": "x"}),
        ("POST", f"{CERTIFICATES}{number}/revoke/", {"reason": "x"}),
        ("PUT", grading_url(number), {}),
    ]
    for method, path, body in changes:
        reply = await api.call(method, path, json=body, as_="admin")
        assert (method, path, reply.status) == (method, path, 404)


@pytest.mark.parametrize("value", [BIG, -1, 0, "abc", 10**30, "1e3", True])
async def test_ids_out_of_range_in_queries_are_400s(api, value):
    for path in (
        f"{QUIZZES}?course={value}",
        f"{QUIZZES}?lesson={value}",
        f"{QUESTIONS}?quiz={value}",
        f"{ATTEMPTS}?quiz={value}",
        f"{ASSIGNMENTS}?course={value}",
        f"{SUBMISSIONS}?assignment={value}",
        f"{GRADES}?course={value}",
    ):
        reply = await api.get(path, as_="instructor")
        assert (path, reply.status) == (path, 400), reply.body
        assert reply.body["status"] == 400


@pytest.mark.parametrize("value", [BIG, -1, 0, "abc", 10**30, 1.5, True, None, [1]])
async def test_ids_out_of_range_in_bodies_are_400s(api, value):
    bodies = [
        (QUIZZES, {"lesson": value, "title": "Q"}, "lesson"),
        (QUESTIONS, {"quiz": value, "kind": "essay", "prompt": "p"}, "quiz"),
        (ASSIGNMENTS, {"course": value, "title": "A", "points": 1}, "course"),
        (SUBMISSIONS, {"assignment": value, "text": "t"}, "assignment"),
    ]
    for path, body, field in bodies:
        reply = await api.post(path, body, as_="instructor" if path != SUBMISSIONS else "student")
        assert (path, reply.status, list(reply.body)) == (path, 400, [field, "status"])
    assert await count(api, Quiz) + await count(api, Assignment) == 0


# Hostile numbers


@pytest.fixture
async def quiz_setup(api: Api, make: Factory) -> Any:
    return await new_quiz(api, make, kinds=("single_choice", "numeric", "essay"))


BAD_NUMBERS = [-1, 1e308, 10**30, "five", "NaN", None, [], {}, True, False]


@pytest.mark.parametrize("value", [*BAD_NUMBERS, 0, 10**9])
async def test_hostile_time_limits_are_400s(api, quiz_setup, value):
    path = f"{QUIZZES}{quiz_setup.id}/"
    reply = await api.patch(path, {"time_limit_minutes": value}, as_="instructor")
    if value is None:  # null clears the limit
        assert reply.status == 200
        return
    assert (reply.status, list(reply.body)) == (400, ["time_limit_minutes", "status"])


@pytest.mark.parametrize("field", ["points", "tolerance", "numeric_answer"])
@pytest.mark.parametrize("value", [-1, 1e308, 10**30, "abc", [], {}, True])
async def test_hostile_question_numbers_are_400s(api, quiz_setup, field, value):
    if field == "numeric_answer" and value == -1:
        return  # a negative answer is an answer
    body = {"quiz": quiz_setup.id, "kind": "numeric", "prompt": "n", "numeric_answer": 1}
    before = await count(api, QuizQuestion)
    reply = await api.post(QUESTIONS, {**body, field: value}, as_="instructor")
    assert (reply.status, list(reply.body)) == (400, [field, "status"])
    assert await count(api, QuizQuestion) == before


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
async def test_nan_and_infinity_in_json_are_400s(api, quiz_setup, literal):
    bodies = [
        (
            QUESTIONS,
            f'{{"quiz": {quiz_setup.id}, "kind": "numeric", "prompt": "n", '
            f'"numeric_answer": {literal}}}',
        ),
        (
            QUESTIONS,
            f'{{"quiz": {quiz_setup.id}, "kind": "essay", "prompt": "n", "points": {literal}}}',
        ),
        (
            ASSIGNMENTS,
            f'{{"course": {quiz_setup.course["id"]}, "title": "A", "points": {literal}}}',
        ),
    ]
    for path, text in bodies:
        data, headers = json_raw(text)
        reply = await api.call("POST", path, data=data, headers=headers, as_="instructor")
        assert (path, reply.status) == (path, 400), reply.body
        assert reply.body["status"] == 400
    data, headers = json_raw(f'{{"weights": {{"quizzes": {literal}}}}}')
    path = grading_url(quiz_setup.course["id"])
    reply = await api.call("PUT", path, data=data, headers=headers, as_="instructor")
    assert reply.status == 400 and reply.body["status"] == 400


async def test_a_numeric_answer_of_nan_or_a_string_is_refused(api, quiz_setup):
    attempt = (await start(api, quiz_setup.id)).body
    qid = quiz_setup.q("numeric")
    for value in ("abc", [1], {"a": 1}, 1e400, True):
        reply = await save(api, attempt["id"], {qid: value})
        assert (reply.status, reply.body.get("status")) == (400, 400), (value, reply.body)
    data, headers = json_raw(f'{{"answers": {{"{qid}": NaN}}}}')
    reply = await api.call(
        "PATCH", f"{ATTEMPTS}{attempt['id']}/", data=data, headers=headers, as_="student"
    )
    assert reply.status == 400


@pytest.mark.parametrize("key", [str(BIG), "-1", "abc", "1.5", "", "0", str(10**30)])
async def test_answers_to_questions_out_of_range_are_400s(api, quiz_setup, key):
    attempt = (await start(api, quiz_setup.id)).body
    reply = await api.patch(f"{ATTEMPTS}{attempt['id']}/", {"answers": {key: 1}}, as_="student")
    assert (reply.status, reply.body["status"]) == (400, 400)


@pytest.mark.parametrize("choice", [BIG, -1, 10**30, "x", [1, 2], 1.5])
async def test_a_single_choice_answer_that_is_no_option_is_a_400(api, quiz_setup, choice):
    attempt = (await start(api, quiz_setup.id)).body
    reply = await save(api, attempt["id"], {quiz_setup.q("single_choice"): choice})
    assert (reply.status, reply.body["status"]) == (400, 400)


@pytest.mark.parametrize("points", [-1, 1e308, 10**30, "abc", None, True])
async def test_hostile_essay_points_are_400s(api, quiz_setup, points):
    attempt = (await start(api, quiz_setup.id)).body
    await submit(api, attempt["id"])
    before = await api.get(f"{ATTEMPTS}{attempt['id']}/", as_="instructor")
    body = {"points": {str(quiz_setup.q("essay")): points}}
    reply = await api.post(f"{ATTEMPTS}{attempt['id']}/grade/", body, as_="instructor")
    assert (reply.status, reply.body["status"]) == (400, 400)
    assert (await api.get(f"{ATTEMPTS}{attempt['id']}/", as_="instructor")).body == before.body


@pytest.mark.parametrize("key", [str(BIG), "abc", "-1", str(10**30)])
async def test_essay_points_for_questions_out_of_range_are_400s(api, quiz_setup, key):
    attempt = (await start(api, quiz_setup.id)).body
    await submit(api, attempt["id"])
    reply = await api.post(
        f"{ATTEMPTS}{attempt['id']}/grade/", {"points": {key: 1}}, as_="instructor"
    )
    assert (reply.status, reply.body["status"]) == (400, 400)


async def test_a_choice_question_with_no_options_is_a_400(api, quiz_setup):
    for kind in ("single_choice", "multiple_choice"):
        body = {"quiz": quiz_setup.id, "kind": kind, "prompt": "p", "options": []}
        reply = await api.post(QUESTIONS, body, as_="instructor")
        assert (reply.status, reply.body["status"]) == (400, 400)


async def test_duplicate_option_ids_are_a_400_and_change_nothing(api, quiz_setup):
    qid = quiz_setup.q("single_choice")
    before = (await api.get(f"{QUESTIONS}{qid}/", as_="instructor")).body
    first = before["options"][0]["id"]
    options = [{"id": first, "text": "a", "correct": True}, {"id": first, "text": "b"}]
    reply = await api.patch(f"{QUESTIONS}{qid}/", {"options": options}, as_="instructor")
    assert (reply.status, reply.body["status"]) == (400, 400)
    assert (await api.get(f"{QUESTIONS}{qid}/", as_="instructor")).body == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("points", -1),
        ("points", 0),
        ("points", 1e308),
        ("points", "ten"),
        ("late_percent_per_day", -5),
        ("late_percent_per_day", 1e9),
        ("late_percent_per_day", "x"),
        ("max_file_bytes", -1),
        ("max_file_bytes", 10**30),
        ("allowed_file_types", "pdf"),
        ("rubric", [{"id": "a", "title": "A", "points": -1}]),
        (
            "rubric",
            [{"id": "a", "title": "A", "points": 1}, {"id": "a", "title": "B", "points": 1}],
        ),
    ],
)
async def test_hostile_assignment_numbers_are_400s(api, make, field, value):
    course = await make.course()
    body = {"course": course["id"], "title": "A", "points": 10, field: value}
    reply = await api.post(ASSIGNMENTS, body, as_="instructor")
    assert reply.status == 400
    [named, status] = reply.body
    assert named.split(".")[0] == field and status == "status"
    assert await count(api, Assignment) == 0


@pytest.mark.parametrize("score", [-1, 11, 1e308, "nine", None, True, [], {"a": 1}])
async def test_hostile_submission_scores_are_400s(api, scene, score):
    path = f"{SUBMISSIONS}{scene['submission']['id']}/grade/"
    reply = await api.post(path, {"score": score}, as_="instructor")
    if score is None:
        assert reply.status in (200, 400)
        return
    assert (reply.status, reply.body["status"]) == (400, 400)
    await unchanged(api, scene)


# Grades


@pytest.mark.parametrize(
    "body",
    [
        {"override_score": -1, "reason": "r"},
        {"override_score": 11, "reason": "r"},
        {"override_score": 1e308, "reason": "r"},
        {"override_score": "five", "reason": "r"},
        {"override_score": True, "reason": "r"},
        {"override_score": 5},
        {"override_score": 5, "reason": "  "},
        {"override_score": 5, "reason": "x" * 1001},
        {"override_score": 5, "reason": 5},
    ],
)
async def test_hostile_overrides_are_400s(api, scene, body):
    reply = await api.patch(grade_url(scene["grade"]["id"]), body, as_="instructor")
    assert (reply.status, reply.body["status"]) == (400, 400)
    await unchanged(api, scene)


@pytest.mark.parametrize(
    "body",
    [
        {"weights": {"quizzes": -1}},
        {"weights": {"quizzes": 1e9}},
        {"weights": {"quizzes": "forty"}},
        {"weights": {"quizzes": True}},
        {"weights": {"exams": 40}},
        {"weights": [40]},
        {"letter_scheme": [{"letter": "A", "min": 101}]},
        {"letter_scheme": [{"letter": "A", "min": -1}]},
        {"letter_scheme": [{"letter": "", "min": 50}]},
        {"letter_scheme": [{"letter": "ABCDEF", "min": 50}]},
        {"letter_scheme": [{"letter": "A", "min": 90}, {"letter": "A", "min": 80}]},
        {"letter_scheme": [{"letter": "A", "min": 90}, {"letter": "B", "min": 90}]},
        {"letter_scheme": [{"letter": "A", "min": "ninety"}]},
        {"completion": {"items_passed": [BIG]}},
        {"completion": {"items_passed": [-1]}},
        {"completion": {"items_passed": ["abc"]}},
        {"completion": {"items_passed": "some"}},
        {"completion": {"lessons_completed": 101}},
        {"completion": {"lessons_completed": -1}},
        {"completion": {"min_total_percent": 1e308}},
    ],
)
async def test_hostile_grading_settings_are_400s_and_keep_the_old(api, scene, body):
    path = grading_url(scene["course"])
    before = (await api.get(path, as_="instructor")).body
    reply = await api.put(path, body, as_="instructor")
    assert (reply.status, reply.body["status"]) == (400, 400), reply.body
    assert (await api.get(path, as_="instructor")).body == before


async def test_a_letter_scheme_out_of_order_is_a_400(api, make):
    course = await make.course()
    scheme = [{"letter": "C", "min": 50}, {"letter": "A", "min": 90}, {"letter": "B", "min": 70}]
    reply = await api.put(grading_url(course["id"]), {"letter_scheme": scheme}, as_="instructor")
    assert (reply.status, reply.body) == (
        400,
        {
            "letter_scheme": ["List the bands from the highest min down, each min once."],
            "status": 400,
        },
    )
    stored = await api.get(grading_url(course["id"]), as_="instructor")
    assert stored.body["letter_scheme"] is None


async def test_weights_summing_to_zero_count_as_no_weights(api, make):
    course = await make.course()
    await make.enroll(course["id"])
    sources = Sources(api)
    item = await sources.item(course["id"], max_points=10)
    await sources.grade(item, "student-1", 5)
    body = {"weights": {"quizzes": 0, "assignments": 0}}
    assert (await api.put(grading_url(course["id"]), body, as_="instructor")).status == 200
    book = await api.get(gradebook_url(course["id"]), as_="instructor")
    assert book.status == 200
    assert book.body["results"][0]["total_percent"] == 50


async def test_an_empty_letter_scheme_and_empty_items_are_taken(api, make):
    course = await make.course()
    body = {"letter_scheme": [], "completion": {"items_passed": []}}
    reply = await api.put(grading_url(course["id"]), body, as_="instructor")
    assert reply.status == 200, reply.body
    assert (reply.body["letter_scheme"], reply.body["completion"]["items_passed"]) == ([], [])


async def test_the_csv_of_a_course_with_no_enrollees_is_its_header(api, make):
    course = await make.course()
    await Sources(api).item(course["id"], title='Quiz, "one"\n=cmd', max_points=10)
    reply = await api.get(gradebook_url(course["id"]) + "?format=csv", as_="instructor")
    assert reply.status == 200
    lines = reply.body.decode().splitlines()
    assert lines[0].startswith("user_id,name,")
    assert "total_percent,letter" in reply.body.decode()
    empty = await api.get(gradebook_url(course["id"]), as_="instructor")
    assert (empty.status, empty.body["count"], empty.body["results"]) == (200, 0, [])


@pytest.mark.parametrize("page", ["0", "-1", "abc", str(BIG), str(10**30)])
async def test_hostile_gradebook_pages_are_400s_or_404s(api, scene, page):
    reply = await api.get(gradebook_url(scene["course"]) + f"?page={page}", as_="instructor")
    assert reply.status in (400, 404)
    assert reply.body["status"] == reply.status


# Certificates


@pytest.mark.parametrize(
    "code",
    [
        "acme." + "A" * 10_000,
        "a" * 10_000 + ".AAAAAAAAAAAAAAAAAAAAAAAA",
        "acme.AAAAAAAAAAAA%00AAAAAAAAAAAA",
        "acme.AAAAAAAAAAAA%2F..%2FAAAAAAAA",
        "..%2F..%2Fetc%2Fpasswd",
        "ACME.AAAAAAAAAAAAAAAAAAAAAAAA",
        "acme.AAAAAAAAAAAA%20AAAAAAAAAAA",
        "acme.%E2%98%83AAAAAAAAAAAAAAAAAAAAA",
        "acme.AAAAAAAAAAAAAAAAAAAAAAAA'--",
        "acme.<script>alert(1)</script>",
        "default.AAAAAAAAAAAAAAAAAAAAAAAA",
        "public.AAAAAAAAAAAAAAAAAAAAAAAA",
        "pg_catalog.AAAAAAAAAAAAAAAAAAAAAAAA",
    ],
)
async def test_odd_certificate_codes_are_404s(api, scene, code):
    reply = await api.get(f"{VERIFY}{code}/")
    # A code past the request line's limit is refused before routing, in the same shape.
    assert reply.status in (404, 414, 431)
    assert reply.body["status"] == reply.status
    page = await api.get(f"{VERIFY_PAGE}{code}/")
    assert page.status in (200, 404, 414, 431)
    assert b"<script>alert" not in (page.body or b"")


async def test_a_revoke_without_a_reason_or_twice_is_a_400(api, scene):
    path = f"{CERTIFICATES}{scene['certificate']['id']}/revoke/"
    for body in (
        {},
        {"reason": ""},
        {"reason": "   "},
        {"reason": None},
        {"reason": 5},
        {"reason": "x" * 100_000},
    ):
        reply = await api.post(path, body, as_="instructor")
        assert (reply.status, list(reply.body)) == (400, ["reason", "status"])
    await unchanged(api, scene)
    assert (await api.post(path, {"reason": "cheated"}, as_="instructor")).status == 200
    again = await api.post(path, {"reason": "again"}, as_="instructor")
    assert again.status == 400


# Submission files


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd.pdf",
        "..\\..\\windows\\essay.pdf",
        "/etc/essay.pdf",
        "essay\x01\x1b[31m.pdf",
        "essay\r\nX-Injected: 1.pdf",
        "essay\x00.pdf",
        ".pdf",
        "x" * 1000 + ".pdf",
    ],
)
async def test_hostile_file_names_are_kept_harmless(api, scene, name, settings):
    body, headers = raw_form(
        ("assignment", None, str(scene["assignment"]["id"]).encode()), ("files", name, PDF)
    )
    reply = await api.call("POST", SUBMISSIONS, data=body, headers=headers, as_="student")
    assert reply.status in (201, 400, 415), reply.body
    media = settings.media_root.resolve()
    for path in media.rglob("*"):
        assert path.resolve().is_relative_to(media)
    if reply.status != 201:
        assert reply.body["status"] == reply.status
        return
    [stored] = reply.body["files"]
    assert "/" not in stored["name"] and "\\" not in stored["name"]
    assert not any(ord(c) < 32 for c in stored["name"])
    download = await api.get(stored["url"], as_="student")
    assert download.status == 200 and download.body == PDF
    disposition = download.headers["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition


async def test_a_part_with_no_file_name_is_a_400_keeping_nothing(api, make):
    course = await make.course()
    await make.enroll(course["id"])
    essay = await new_assignment(api, course["id"], allowed_file_types=["pdf"])
    body, headers = raw_form(("assignment", None, str(essay["id"]).encode()), ("files", None, PDF))
    reply = await api.call("POST", SUBMISSIONS, data=body, headers=headers, as_="student")
    assert (reply.status, reply.body["status"]) == (400, 400)
    assert await rows(api) == (0, 0, 0)


@pytest.mark.parametrize("value", [str(BIG), "-1", "abc", "", "1.5", str(10**30)])
async def test_a_form_naming_an_assignment_out_of_range_is_a_400(api, value):
    body, headers = raw_form(("assignment", None, value.encode()), ("files", "a.pdf", PDF))
    reply = await api.call("POST", SUBMISSIONS, data=body, headers=headers, as_="student")
    assert (reply.status, list(reply.body)) == (400, ["assignment", "status"])
    assert await rows(api) == (0, 0, 0)


# Reaching across courses


async def test_an_assignment_is_not_moved_to_another_s_course_or_lesson(api, make):
    mine = await make.course()
    theirs = await make.course(as_="instructor2")
    their_lesson = await make.lesson(
        (await make.module(theirs["id"], as_="instructor2"))["id"], as_="instructor2"
    )
    essay = await new_assignment(api, mine["id"])
    whole = {"course": theirs["id"], "title": "Moved", "points": 10}
    reply = await api.put(f"{ASSIGNMENTS}{essay['id']}/", whole, as_="instructor")
    assert reply.status in (200, 400)
    assert reply.status == 400 or reply.body["course"] == mine["id"]
    patch = {"lesson": their_lesson["id"]}
    reply = await api.patch(f"{ASSIGNMENTS}{essay['id']}/", patch, as_="instructor")
    assert (reply.status, list(reply.body)) == (400, ["lesson", "status"])
    created = {"course": mine["id"], "lesson": their_lesson["id"], "title": "A", "points": 1}
    reply = await api.post(ASSIGNMENTS, created, as_="instructor")
    assert (reply.status, list(reply.body)) == (400, ["lesson", "status"])
    stored = await api.get(f"{ASSIGNMENTS}{essay['id']}/", as_="instructor")
    assert (stored.body["course"], stored.body["lesson"]) == (mine["id"], None)


async def test_an_instructor_adds_nothing_to_another_s_course(api, make):
    theirs = await make.course(as_="instructor2")
    lesson = await make.lesson(
        (await make.module(theirs["id"], as_="instructor2"))["id"],
        as_="instructor2",
        lesson_type="quiz",
    )
    quiz = await api.post(QUIZZES, {"lesson": lesson["id"], "title": "Q"}, as_="instructor")
    assert quiz.status in (400, 403)
    essay = await api.post(
        ASSIGNMENTS, {"course": theirs["id"], "title": "A", "points": 1}, as_="instructor"
    )
    assert essay.status in (400, 403)
    assert await count(api, Quiz) + await count(api, Assignment) == 0


async def test_a_completion_rule_naming_another_course_s_item_is_a_400(api, make):
    mine = await make.course()
    theirs = await make.course(as_="instructor2")
    item = await Sources(api).item(theirs["id"])
    body = {"completion": {"items_passed": [item["id"]]}}
    reply = await api.put(grading_url(mine["id"]), body, as_="instructor")
    assert (reply.status, list(reply.body)) == (400, ["completion.items_passed", "status"])


# Grading hostile


async def test_essay_points_above_the_question_s_or_for_a_choice_question_are_400s(api, quiz_setup):
    attempt = (await start(api, quiz_setup.id)).body
    assert (await submit(api, attempt["id"])).status == 200
    path = f"{ATTEMPTS}{attempt['id']}/grade/"
    before = (await api.get(f"{ATTEMPTS}{attempt['id']}/", as_="instructor")).body
    for points in (
        {str(quiz_setup.q("essay")): 5.01},
        {str(quiz_setup.q("single_choice")): 1},
        {str(quiz_setup.q("essay")): 1, str(quiz_setup.q("numeric")): 1},
    ):
        reply = await api.post(path, {"points": points}, as_="instructor")
        assert (reply.status, reply.body["status"]) == (400, 400), points
    assert (await api.get(f"{ATTEMPTS}{attempt['id']}/", as_="instructor")).body == before


async def test_grading_an_attempt_in_progress_is_refused(api, quiz_setup):
    attempt = (await start(api, quiz_setup.id)).body
    body = {"points": {str(quiz_setup.q("essay")): 1}}
    reply = await api.post(f"{ATTEMPTS}{attempt['id']}/grade/", body, as_="instructor")
    assert reply.status in (400, 409)
    assert reply.body["status"] == reply.status


async def test_too_many_or_too_long_answers_are_400s(api, quiz_setup):
    attempt = (await start(api, quiz_setup.id)).body
    many = {str(n): 1 for n in range(1, 1_100)}
    reply = await api.patch(f"{ATTEMPTS}{attempt['id']}/", {"answers": many}, as_="student")
    assert (reply.status, reply.body["status"]) == (400, 400)
    long_essay = {quiz_setup.q("essay"): "x" * 100_001}
    reply = await save(api, attempt["id"], long_essay)
    assert reply.status in (400, 413)
    assert reply.body["status"] == reply.status
    stored = await api.get(f"{ATTEMPTS}{attempt['id']}/", as_="student")
    assert all(q["answer"] is None for q in stored.body["questions"])


@pytest.mark.parametrize(
    "body",
    [
        {"rubric_scores": {"content": 5, "nosuch": 1}},
        {"rubric_scores": {"content": 7, "style": 4}},
        {"rubric_scores": {"content": 5}},
        {"rubric_scores": {"content": -1, "style": 4}},
        {"rubric_scores": {"content": True, "style": 4}},
        {"rubric_scores": []},
        {"score": 10.5},
        {"feedback": "x" * 20_001, "score": 1},
        {"feedback": "a\x00b", "score": 1},
    ],
)
async def test_hostile_rubric_grades_are_400s(api, make, body):
    course = await make.course()
    await make.enroll(course["id"])
    rubric = [
        {"id": "content", "title": "Content", "points": 6},
        {"id": "style", "title": "Style", "points": 4},
    ]
    essay = await new_assignment(api, course["id"], rubric=rubric)
    made = await api.post(SUBMISSIONS, {"assignment": essay["id"], "text": "t"}, as_="student")
    path = f"{SUBMISSIONS}{made.body['id']}/grade/"
    reply = await api.post(path, body, as_="instructor")
    assert (reply.status, reply.body["status"]) == (400, 400), reply.body
    stored = await api.get(f"{SUBMISSIONS}{made.body['id']}/", as_="instructor")
    assert (stored.body["status"], stored.body["score"]) == ("ungraded", None)


async def test_returning_an_ungraded_submission_is_a_400(api, make):
    course = await make.course()
    await make.enroll(course["id"])
    essay = await new_assignment(api, course["id"])
    made = await api.post(SUBMISSIONS, {"assignment": essay["id"], "text": "t"}, as_="student")
    reply = await api.post(f"{SUBMISSIONS}{made.body['id']}/return/", as_="instructor")
    assert (reply.status, reply.body["status"]) == (400, 400)
    assert (await api.get(GRADES, as_="student")).body["count"] == 0


async def test_a_learner_sees_no_grade_before_it_is_returned(api, make):
    course = await make.course()
    await make.enroll(course["id"])
    essay = await new_assignment(api, course["id"])
    made = await api.post(SUBMISSIONS, {"assignment": essay["id"], "text": "t"}, as_="student")
    path = f"{SUBMISSIONS}{made.body['id']}/"
    graded = await api.post(
        path + "grade/", {"score": 3, "feedback": "SECRET-FB"}, as_="instructor"
    )
    assert graded.status == 200
    mine = await api.get(path, as_="student")
    assert (mine.body["score"], mine.body["feedback"], mine.body["grade_history"]) == (
        None,
        None,
        None,
    )
    assert (
        b"SECRET-FB"
        not in (await api.call("GET", SUBMISSIONS, as_="student")).body.__repr__().encode()
    )
    assert (await api.get(GRADES, as_="student")).body["count"] == 0


# Answers aimed elsewhere, bodies of the wrong shape


async def test_an_answer_to_another_quiz_s_question_is_a_400(api, make, quiz_setup):
    other = await new_quiz(api, make, kinds=("single_choice",))
    attempt = (await start(api, quiz_setup.id)).body
    foreign = other.q("single_choice")
    reply = await save(api, attempt["id"], {foreign: other.option("single_choice", "wrong Lyon")})
    assert (reply.status, reply.body["status"]) == (400, 400)


async def test_a_multiple_choice_answer_picking_an_option_twice_is_a_400(api, make):
    setup = await new_quiz(api, make, kinds=("multiple_choice",))
    attempt = (await start(api, setup.id)).body
    option = setup.questions["multiple_choice"]["options"][0]["id"]
    for answer in ([option, option], [], [option, BIG], "1,2", [True]):
        reply = await save(api, attempt["id"], {setup.q("multiple_choice"): answer})
        if answer == []:
            assert reply.status in (200, 400)
            continue
        assert (reply.status, reply.body["status"]) == (400, 400), answer


@pytest.mark.parametrize(
    "body", [[], None, "x", 5, {"answers": None}, {"answers": []}, {"answers": "x"}]
)
async def test_a_save_of_the_wrong_shape_is_a_400(api, quiz_setup, body):
    attempt = (await start(api, quiz_setup.id)).body
    reply = await api.patch(f"{ATTEMPTS}{attempt['id']}/", body, as_="student")
    assert (reply.status, reply.body["status"]) == (400, 400)


@pytest.mark.parametrize(
    ("path", "method"),
    [(QUESTIONS, "POST"), (ASSIGNMENTS, "POST"), (SUBMISSIONS, "POST"), (GRADES + "1/", "PATCH")],
)
async def test_a_body_that_is_not_json_is_a_400_or_415(api, path, method):
    for data, content_type in ((b"{not json", "application/json"), (b"a=1", "text/plain")):
        headers = {"Content-Type": content_type}
        reply = await api.call(method, path, data=data, headers=headers, as_="instructor")
        assert reply.status in (400, 404, 415), (path, content_type, reply.status)
        assert reply.body["status"] == reply.status


async def test_an_override_of_an_unreleased_grade_stays_unseen_by_its_learner(api, make):
    course = await make.course()
    await make.enroll(course["id"])
    sources = Sources(api)
    item = await sources.item(course["id"], max_points=10)
    await sources.grade(item, "student-1", 4, released=False)
    book = await api.get(gradebook_url(course["id"]), as_="instructor")
    grade_id = book.body["results"][0]["scores"][0]["grade_id"]
    body = {"override_score": 9, "reason": "Regraded"}
    reply = await api.patch(grade_url(grade_id), body, as_="instructor")
    assert reply.status == 200, reply.body
    await api.settled()
    assert (await api.get(GRADES, as_="student")).body["count"] == 0
    mine = await api.get("/api/lms/notifications/", as_="student")
    assert mine.status in (200, 404)
    if mine.status == 200:
        assert not [n for n in mine.body["results"] if n.get("notification_type") == "grade"]


async def test_a_form_with_an_unknown_part_or_a_huge_text_keeps_nothing(api, make):
    course = await make.course()
    await make.enroll(course["id"])
    essay = await new_assignment(api, course["id"], allowed_file_types=["pdf"])
    ref = ("assignment", None, str(essay["id"]).encode())
    for parts in (
        (ref, ("text", None, b"x" * 1_100_000)),
        (ref, ("text", None, b"a\x00b")),
        (ref, ("text", None, b"\xff\xfe")),
    ):
        body, headers = raw_form(*parts)
        reply = await api.call(
            "POST", SUBMISSIONS, data=io.BytesIO(body), headers=headers, as_="student"
        )
        assert reply.status in (400, 413), reply.body
        assert reply.body["status"] == reply.status
    assert await rows(api) == (0, 0, 0)


async def test_a_form_naming_two_assignments_submits_to_none_it_may_not(api, make):
    course = await make.course()
    await make.enroll(course["id"])
    essay = await new_assignment(api, course["id"], allowed_file_types=["pdf"])
    draft = await new_assignment(api, course["id"], allowed_file_types=["pdf"], is_published=False)
    for parts in (
        (
            ("assignment", None, str(essay["id"]).encode()),
            ("files", "a.pdf", PDF),
            ("assignment", None, str(draft["id"]).encode()),
        ),
        (
            ("assignment", None, str(essay["id"]).encode()),
            ("text", None, b"t"),
            ("assignment", None, str(draft["id"]).encode()),
        ),
    ):
        body, headers = raw_form(*parts)
        reply = await api.call("POST", SUBMISSIONS, data=body, headers=headers, as_="student")
        assert reply.status in (201, 400), reply.body
        if reply.status == 201:
            assert reply.body["assignment"] == essay["id"]
    drafts = await api.get(f"{SUBMISSIONS}?assignment={draft['id']}", as_="instructor")
    assert drafts.body["count"] == 0


async def test_a_question_is_not_moved_to_another_s_quiz_by_a_put(api, make, quiz_setup):
    theirs = await make.course(as_="instructor2")
    module = await make.module(theirs["id"], as_="instructor2")
    lesson = await make.lesson(module["id"], as_="instructor2", lesson_type="quiz")
    their_quiz = await api.post(QUIZZES, {"lesson": lesson["id"], "title": "T"}, as_="instructor2")
    assert their_quiz.status == 201, their_quiz.body
    qid = quiz_setup.q("essay")
    whole = {"quiz": their_quiz.body["id"], "kind": "essay", "prompt": "Moved?", "points": 1}
    reply = await api.put(f"{QUESTIONS}{qid}/", whole, as_="instructor")
    assert reply.status in (200, 400)
    assert reply.status == 400 or reply.body["quiz"] == quiz_setup.id
    listed = await api.get(f"{QUESTIONS}?quiz={their_quiz.body['id']}", as_="instructor2")
    assert listed.body["count"] == 0


async def test_a_question_changed_to_a_kind_it_cannot_be_graded_as_is_a_400(api, quiz_setup):
    qid = quiz_setup.q("single_choice")
    before = (await api.get(f"{QUESTIONS}{qid}/", as_="instructor")).body
    for change in (
        {"kind": "numeric"},
        {"kind": "short_text"},
        {"kind": "multiple_choice", "options": []},
    ):
        reply = await api.patch(f"{QUESTIONS}{qid}/", change, as_="instructor")
        assert (reply.status, reply.body["status"]) == (400, 400), change
    assert (await api.get(f"{QUESTIONS}{qid}/", as_="instructor")).body == before


async def test_a_quiz_window_closing_before_it_opens_is_a_400(api, quiz_setup):
    body = {"available_from": "2030-01-02T00:00:00Z", "available_until": "2030-01-01T00:00:00Z"}
    reply = await api.patch(f"{QUIZZES}{quiz_setup.id}/", body, as_="instructor")
    assert (reply.status, reply.body["status"]) == (400, 400)
    for value in ("yesterday", "2030-13-01T00:00:00Z", 5, "9999999-01-01T00:00:00Z"):
        reply = await api.patch(
            f"{QUIZZES}{quiz_setup.id}/", {"available_until": value}, as_="instructor"
        )
        assert (reply.status, list(reply.body)) == (400, ["available_until", "status"]), value


@pytest.mark.parametrize("user_id", ["x" * 200, "a%00b", "%0d%0a", "student-1' OR '1'='1"])
async def test_odd_user_id_filters_find_nothing_or_are_400s(api, scene, user_id):
    for path in (ATTEMPTS, SUBMISSIONS):
        reply = await api.get(f"{path}?user_id={user_id}", as_="instructor")
        assert reply.status in (200, 400), (path, reply.status)
        assert reply.status == 400 or reply.body["count"] == 0


@pytest.mark.parametrize("due_at", ["0001-01-01T00:00:00Z", "1970-01-01T00:00:00+14:00"])
async def test_a_due_date_ages_ago_penalises_to_zero_never_below(api, make, due_at):
    course = await make.course()
    await make.enroll(course["id"])
    body = {"late_policy": "percent_per_day", "late_percent_per_day": 100, "due_at": due_at}
    essay = await new_assignment(api, course["id"], **body)
    made = await api.post(SUBMISSIONS, {"assignment": essay["id"], "text": "t"}, as_="student")
    assert made.status == 201, made.body
    assert made.body["is_late"] is True and made.body["days_late"] > 0
    path = f"{SUBMISSIONS}{made.body['id']}/grade/"
    graded = await api.post(path, {"score": 10}, as_="instructor")
    assert graded.status == 200, graded.body
    assert graded.body["score"] == 0


async def test_a_due_date_far_ahead_is_taken(api, make):
    course = await make.course()
    essay = await new_assignment(api, course["id"], due_at="9999-12-31T23:59:59Z")
    assert essay["due_at"] == "9999-12-31T23:59:59Z"


async def test_a_date_without_an_offset_is_read_as_utc(api, make, quiz_setup):
    course = await make.course()
    essay = await new_assignment(api, course["id"], due_at="2030-01-01T00:00:00")
    assert essay["due_at"] == "2030-01-01T00:00:00Z"
    changed = await api.patch(
        f"{ASSIGNMENTS}{essay['id']}/", {"due_at": "2031-01-01T12:00:00"}, as_="instructor"
    )
    assert (changed.status, changed.body["due_at"]) == (200, "2031-01-01T12:00:00Z")
    window = {"available_from": "2020-01-01T00:00:00", "available_until": "2040-01-01T00:00"}
    quiz = await api.patch(f"{QUIZZES}{quiz_setup.id}/", window, as_="instructor")
    assert quiz.status == 200, quiz.body
    assert (quiz.body["available_from"], quiz.body["available_until"]) == (
        "2020-01-01T00:00:00Z",
        "2040-01-01T00:00:00Z",
    )
    assert (await start(api, quiz_setup.id)).status == 201


@pytest.mark.parametrize("text", ["a\x00b", "\x00"])
async def test_answers_with_null_characters_are_400s(api, make, text):
    setup = await new_quiz(api, make, kinds=("short_text", "essay"))
    attempt = (await start(api, setup.id)).body
    for kind in ("short_text", "essay"):
        reply = await save(api, attempt["id"], {setup.q(kind): text})
        assert (reply.status, reply.body["status"]) == (400, 400), kind
    stored = await api.get(f"{ATTEMPTS}{attempt['id']}/", as_="student")
    assert all(q["answer"] is None for q in stored.body["questions"])


async def test_reasons_with_null_characters_are_400s(api, scene):
    override = {"override_score": 1, "reason": "a\x00b"}
    reply = await api.patch(grade_url(scene["grade"]["id"]), override, as_="instructor")
    assert (reply.status, list(reply.body)) == (400, ["reason", "status"])
    revoke = f"{CERTIFICATES}{scene['certificate']['id']}/revoke/"
    reply = await api.post(revoke, {"reason": "a\x00b"}, as_="instructor")
    assert (reply.status, list(reply.body)) == (400, ["reason", "status"])
    await unchanged(api, scene)
