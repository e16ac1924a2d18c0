"""The gradebook: effective scores, weighted totals and letters for the course's
instructor and admins (as JSON pages or a streamed CSV), grading settings, audited
overrides, and a learner's own released grades, never anyone else's."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.api.grades_data import (
    GRADES,
    Sources,
    grade_url,
    gradebook,
    gradebook_url,
    grading_url,
    row_of,
    scores_of,
)
from tests.api.test_audit_logs import audit
from tests.api.test_notifications import inbox
from tests.matchers import FORBIDDEN, NOT_FOUND


@pytest.fixture
def sources(api: Any) -> Sources:
    return Sources(api)


@pytest.fixture
async def course(make: Any) -> dict[str, Any]:
    """A published course of instructor-1; student-1 and student-2 enrolled."""
    course = await make.course()
    await make.enroll(course["id"], as_="student")
    await make.enroll(course["id"], as_="student2")
    return course


@pytest.fixture
async def graded(sources: Sources, course: dict[str, Any]) -> dict[str, Any]:
    """A quiz (10 points) and an assignment (30): student-1 has 8 and 15, student-2 only
    the quiz's 4, unreleased."""
    quiz = await sources.item(course["id"], kind="quiz", title="Quiz", max_points=10)
    essay = await sources.item(course["id"], kind="assignment", title="Essay", max_points=30)
    await sources.grade(quiz, "student-1", 8)
    await sources.grade(essay, "student-1", 15)
    await sources.grade(quiz, "student-2", 4, released=False)
    return {"course": course, "quiz": quiz, "essay": essay}


async def set_grading(api: Any, course_id: int, body: dict[str, Any]) -> dict[str, Any]:
    reply = await api.put(grading_url(course_id), body, as_="instructor")
    assert reply.status == 200, reply.body
    return dict(reply.body)


async def grade_id(api: Any, course_id: int, user_id: str, item: dict[str, Any]) -> int:
    body = await gradebook(api, course_id)
    [cell] = [c for c in row_of(body, user_id)["scores"] if c["item"] == item["id"]]
    return int(cell["grade_id"])


# The gradebook


async def test_the_gradebook_lists_the_items_and_each_enrollee_s_scores(api, graded):
    body = await gradebook(api, graded["course"]["id"])
    assert body["count"] == 2
    assert [
        (i["id"], i["kind"], i["title"], i["max_points"], i["category"]) for i in body["items"]
    ] == [
        (graded["quiz"]["id"], "quiz", "Quiz", 10.0, "quizzes"),
        (graded["essay"]["id"], "assignment", "Essay", 30.0, "assignments"),
    ]
    one = row_of(body, "student-1")
    assert one["user"] == {"id": "student-1", "name": "student-1", "picture": None}
    assert scores_of(one) == [8.0, 15.0]
    assert scores_of(row_of(body, "student-2")) == [4.0, None]


async def test_without_weights_the_total_is_points_earned_over_points_graded(api, graded):
    body = await gradebook(api, graded["course"]["id"])
    assert row_of(body, "student-1")["total_percent"] == 57.5  # 23 / 40
    assert row_of(body, "student-2")["total_percent"] == 40.0  # 4 / 10: the essay is empty


async def test_category_weights_weigh_each_category_s_share(api, graded):
    await set_grading(api, graded["course"]["id"], {"weights": {"quizzes": 40, "assignments": 60}})
    body = await gradebook(api, graded["course"]["id"])
    assert row_of(body, "student-1")["total_percent"] == 62.0  # 0.4 * 80 + 0.6 * 50
    assert row_of(body, "student-2")["total_percent"] == 40.0  # only quizzes graded


async def test_weights_all_zero_count_every_point_alike(api, graded):
    await set_grading(api, graded["course"]["id"], {"weights": {"quizzes": 0}})
    body = await gradebook(api, graded["course"]["id"])
    assert row_of(body, "student-1")["total_percent"] == 57.5


async def test_the_letter_is_the_highest_band_the_total_reaches(api, graded):
    scheme = [{"letter": "A", "min": 90}, {"letter": "C", "min": 50}, {"letter": "F", "min": 0}]
    await set_grading(api, graded["course"]["id"], {"letter_scheme": scheme})
    body = await gradebook(api, graded["course"]["id"])
    assert row_of(body, "student-1")["letter"] == "C"
    assert row_of(body, "student-2")["letter"] == "F"


async def test_an_admin_reads_the_gradebook(api, graded):
    assert (await gradebook(api, graded["course"]["id"], as_="admin"))["count"] == 2


async def test_the_gradebook_pages_its_enrollees(api, graded):
    body = await gradebook(api, graded["course"]["id"], query="?page_size=1")
    assert body["count"] == 2 and len(body["results"]) == 1 and body["next"]
    second = await gradebook(api, graded["course"]["id"], query="?page_size=1&page=2")
    assert {body["results"][0]["user_id"], second["results"][0]["user_id"]} == {
        "student-1",
        "student-2",
    }


async def test_a_learner_or_another_instructor_may_not_read_the_gradebook(api, graded):
    for who in ("student", "instructor2"):
        reply = await api.get(gradebook_url(graded["course"]["id"]), as_=who)
        assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_the_gradebook_of_a_course_one_cannot_see_is_a_404(api, make):
    draft = await make.course(status="Draft")
    reply = await api.get(gradebook_url(draft["id"]), as_="student")
    assert (reply.status, reply.body) == (404, NOT_FOUND)
    reply = await api.get(gradebook_url(999_999), as_="instructor")
    assert reply.status == 404


# The CSV


def parsed_csv(raw: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(raw.decode())))


async def test_the_csv_has_a_header_then_one_row_per_enrollee_as_the_json(api, graded):
    scheme = [{"letter": "P", "min": 50}, {"letter": "F", "min": 0}]
    await set_grading(api, graded["course"]["id"], {"letter_scheme": scheme})
    reply = await api.get(gradebook_url(graded["course"]["id"]) + "?format=csv", as_="instructor")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in reply.headers["Content-Disposition"]
    header, *rows = parsed_csv(reply.body)
    quiz, essay = graded["quiz"]["id"], graded["essay"]["id"]
    assert header == [
        "user_id",
        "name",
        f"Quiz (item {quiz}, max 10)",
        f"Essay (item {essay}, max 30)",
        "total_percent",
        "letter",
    ]
    body = await gradebook(api, graded["course"]["id"])
    as_json = [
        [
            r["user_id"],
            r["name"],
            *("" if s is None else f"{s:g}" for s in scores_of(r)),
            f"{r['total_percent']:.2f}",
            r["letter"],
        ]
        for r in body["results"]
    ]
    assert rows == as_json
    assert len(rows) == 2


async def test_the_csv_streams_every_enrollee_of_a_course_larger_than_a_batch(
    api, make, sources, monkeypatch
):
    from models.grades import gradebook as model

    monkeypatch.setattr(model, "EXPORT_BATCH", 1)
    course = await make.course()
    for who in ("student", "student2", "admin"):
        await make.enroll(course["id"], as_=who)
    item = await sources.item(course["id"], max_points=5)
    await sources.grade(item, "student-2", 5)
    reply = await api.get(gradebook_url(course["id"]) + "?format=csv", as_="instructor")
    assert reply.headers.get("Content-Length") is None  # streamed, not built whole
    _, *rows = parsed_csv(reply.body)
    assert [row[0] for row in rows] == ["student-1", "student-2", "admin-1"]
    assert rows[1][2:] == ["5", "100.00", ""]


async def test_the_csv_is_refused_to_a_learner(api, graded):
    reply = await api.get(gradebook_url(graded["course"]["id"]) + "?format=csv", as_="student")
    assert (reply.status, reply.body) == (403, FORBIDDEN)


# Grading settings


async def test_the_grading_settings_read_back_as_set(api, graded):
    course_id = graded["course"]["id"]
    empty = await api.get(grading_url(course_id), as_="instructor")
    assert empty.body == {"weights": {}, "letter_scheme": None, "completion": None}
    body = {
        "weights": {"quizzes": 40, "assignments": 60},
        "letter_scheme": [{"letter": "A", "min": 90}],
        "completion": {
            "lessons_completed": "all",
            "items_passed": [graded["quiz"]["id"]],
            "min_total_percent": 50,
        },
    }
    await set_grading(api, course_id, body)
    reply = await api.get(grading_url(course_id), as_="instructor")
    assert reply.body == {
        "weights": {"quizzes": 40.0, "assignments": 60.0},
        "letter_scheme": [{"letter": "A", "min": 90.0}],
        "completion": {
            "lessons_completed": "all",
            "items_passed": [graded["quiz"]["id"]],
            "min_total_percent": 50.0,
        },
    }


async def test_a_completion_rule_naming_an_item_of_no_such_course_is_a_400(
    api, graded, make, sources
):
    other = await make.course()
    foreign = await sources.item(other["id"])
    for unknown in (foreign["id"], 999_999):
        body = {"completion": {"items_passed": [graded["quiz"]["id"], unknown]}}
        reply = await api.put(grading_url(graded["course"]["id"]), body, as_="instructor")
        assert reply.status == 400
        assert reply.body == {
            "completion.items_passed": [f'Invalid pk "{unknown}" - object does not exist.'],
            "status": 400,
        }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"weights": {"essays": 10}}, "weights.essays.[key]"),
        ({"weights": {"quizzes": -1}}, "weights.quizzes"),
        ({"letter_scheme": [{"letter": "A", "min": 101}]}, "letter_scheme.0.min"),
        ({"completion": {"lessons_completed": "some"}}, "completion.lessons_completed"),
        ({"completion": {"min_total_percent": "x"}}, "completion.min_total_percent"),
    ],
)
async def test_bad_grading_settings_are_a_400_naming_the_field(api, course, body, field):
    reply = await api.put(grading_url(course["id"]), body, as_="instructor")
    assert reply.status == 400, reply.body
    assert field in reply.body
    assert (await api.get(grading_url(course["id"]), as_="instructor")).body["weights"] == {}


async def test_a_learner_may_not_set_the_grading_settings(api, course):
    reply = await api.put(grading_url(course["id"]), {"weights": {}}, as_="student")
    assert (reply.status, reply.body) == (403, FORBIDDEN)


# Overrides


async def test_an_override_wins_in_the_gradebook_and_in_the_learner_s_grades(api, graded):
    course_id = graded["course"]["id"]
    grade = await grade_id(api, course_id, "student-1", graded["quiz"])
    reply = await api.patch(
        grade_url(grade), {"override_score": 10, "reason": "Regraded question 3"}, as_="instructor"
    )
    assert reply.status == 200, reply.body
    assert (reply.body["score"], reply.body["source_score"]) == (10.0, 8.0)
    assert reply.body["override_reason"] == "Regraded question 3"
    row = row_of(await gradebook(api, course_id), "student-1")
    assert scores_of(row) == [10.0, 15.0]
    assert row["scores"][0]["overridden"] is True
    assert row["total_percent"] == 62.5
    mine = (await api.get(GRADES, as_="student")).body["results"]
    assert {g["id"]: g["score"] for g in mine}[grade] == 10.0


async def test_an_override_is_audited_with_its_reason(api, graded):
    grade = await grade_id(api, graded["course"]["id"], "student-1", graded["quiz"])
    body = {"override_score": 9.5, "reason": "Late penalty waived"}
    assert (await api.patch(grade_url(grade), body, as_="instructor")).status == 200
    [record] = await audit(api, "?action_type=grade_override")
    assert record["user_id"] == "instructor-1"
    assert record["path"] == grade_url(grade)
    assert "8 -> 9.5" not in record["details"]  # the source's score is not the old override
    assert "none -> 9.5" in record["details"]
    assert "Late penalty waived" in record["details"]


async def test_an_override_tells_the_learner_alone(api, graded):
    grade = await grade_id(api, graded["course"]["id"], "student-1", graded["quiz"])
    body = {"override_score": 3, "reason": "Plagiarised answer"}
    assert (await api.patch(grade_url(grade), body, as_="instructor")).status == 200
    notes = [n for n in await inbox(api, "student") if n["type"] == "grade"]
    assert notes[0]["title"] == "Grade for Quiz: 3/10"
    assert [n for n in await inbox(api, "student2") if n["type"] == "grade"] == []


async def test_clearing_an_override_brings_back_the_source_s_score(api, graded):
    course_id = graded["course"]["id"]
    grade = await grade_id(api, course_id, "student-1", graded["quiz"])
    await api.patch(grade_url(grade), {"override_score": 1, "reason": "x"}, as_="instructor")
    reply = await api.patch(grade_url(grade), {"override_score": None}, as_="instructor")
    assert reply.status == 200, reply.body
    assert (reply.body["score"], reply.body["override_score"]) == (8.0, None)


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"override_score": 10.5, "reason": "Bonus"},
            {"override_score": ["Ensure this value is between 0 and the item's max_points (10)."]},
        ),
        (
            {"override_score": -1, "reason": "Penalty"},
            {"override_score": ["Ensure this value is greater than or equal to 0.0."]},
        ),
        ({"override_score": 5}, {"reason": ["A reason is required to override a score."]}),
        (
            {"override_score": 5, "reason": "   "},
            {"reason": ["A reason is required to override a score."]},
        ),
        ({"reason": "why"}, {"override_score": ["This field is required."]}),
        (
            {"override_score": "ten", "reason": "why"},
            {"override_score": ["A valid number is required."]},
        ),
        (
            {"override_score": True, "reason": "why"},
            {"override_score": ["A valid number is required."]},
        ),
    ],
)
async def test_a_bad_override_is_a_400_and_changes_nothing(api, graded, body, errors):
    course_id = graded["course"]["id"]
    grade = await grade_id(api, course_id, "student-1", graded["quiz"])
    reply = await api.patch(grade_url(grade), body, as_="instructor")
    assert (reply.status, reply.body) == (400, {**errors, "status": 400})
    assert scores_of(row_of(await gradebook(api, course_id), "student-1")) == [8.0, 15.0]


async def test_an_unknown_grade_is_a_404(api, graded):
    reply = await api.patch(grade_url(999_999), {"override_score": 1, "reason": "x"}, as_="admin")
    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_a_learner_may_not_override_their_own_grade_nor_see_another_s(api, graded):
    course_id = graded["course"]["id"]
    own = await grade_id(api, course_id, "student-1", graded["quiz"])
    other = await grade_id(api, course_id, "student-2", graded["quiz"])
    body = {"override_score": 10, "reason": "I deserve it"}
    reply = await api.patch(grade_url(own), body, as_="student")
    assert (reply.status, reply.body) == (403, FORBIDDEN)
    reply = await api.patch(grade_url(other), body, as_="student")
    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_another_instructor_may_not_override(api, graded):
    grade = await grade_id(api, graded["course"]["id"], "student-1", graded["quiz"])
    body = {"override_score": 10, "reason": "x"}
    reply = await api.patch(grade_url(grade), body, as_="instructor2")
    assert (reply.status, reply.body) == (404, NOT_FOUND)


# A learner's own grades


async def test_a_learner_sees_their_own_released_grades_only(api, graded):
    mine = (await api.get(GRADES, as_="student")).body
    assert mine["count"] == 2
    assert {g["item"]["title"] for g in mine["results"]} == {"Quiz", "Essay"}
    assert {g["user_id"] for g in mine["results"]} == {"student-1"}
    assert mine["results"][0]["course_title"] == graded["course"]["title"]


async def test_a_learner_never_sees_an_unreleased_grade(api, graded):
    theirs = (await api.get(GRADES, as_="student2")).body
    assert (theirs["count"], theirs["results"]) == (0, [])


async def test_a_learner_never_sees_another_learner_s_grade(api, graded, sources):
    await sources.grade(graded["quiz"], "student-2", 4, released=True)
    theirs = (await api.get(GRADES, as_="student2")).body["results"]
    assert [(g["user_id"], g["score"]) for g in theirs] == [("student-2", 4.0)]
    mine = (await api.get(GRADES, as_="student")).body["results"]
    assert {g["user_id"] for g in mine} == {"student-1"}


async def test_a_learner_s_grades_filter_by_course(api, graded, make, sources):
    other = await make.course()
    await make.enroll(other["id"], as_="student")
    item = await sources.item(other["id"], title="Other quiz")
    await sources.grade(item, "student-1", 1)
    reply = await api.get(f"{GRADES}?course={other['id']}", as_="student")
    assert [g["item"]["title"] for g in reply.body["results"]] == ["Other quiz"]
    assert (await api.get(f"{GRADES}?course=0", as_="student")).status == 400
