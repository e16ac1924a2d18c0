"""Completion and certificates: meeting the course's rule issues one certificate (a task,
however often delivered), verified by anyone through its code, downloaded as a PDF by its
holder and the course's staff only, revoked by the staff."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from models.grades.completion import CHECK_TASK
from models.grades.tables import Certificate
from models.unit_of_work import unit_of_work
from tests.api.grades_data import Sources, grade_url, gradebook, grading_url, row_of
from tests.api.test_notifications import inbox
from tests.matchers import FORBIDDEN, NOT_FOUND
from web.keys import DATABASES, DISPATCHER

CERTIFICATES = "/api/lms/courses/certificates/"
VERIFY = "/api/lms/certificates/verify/"
VERIFY_PAGE = "/lms/certificates/verify/"


@pytest.fixture
def sources(api: Any) -> Sources:
    return Sources(api)


@pytest.fixture
async def course(make: Any) -> dict[str, Any]:
    """A published course of instructor-1; student-1 and student-2 enrolled."""
    course = await make.course(title="Astronomy 101")
    await make.enroll(course["id"], as_="student")
    await make.enroll(course["id"], as_="student2")
    return course


@pytest.fixture
async def quiz(api: Any, course: dict[str, Any], sources: Sources) -> dict[str, Any]:
    """A quiz (pass 6 of 10); completing the course takes passing it."""
    quiz = await sources.item(course["id"], title="Final quiz", max_points=10, pass_points=6)
    rule = {"completion": {"items_passed": "all", "min_total_percent": 50}}
    reply = await api.put(grading_url(course["id"]), rule, as_="instructor")
    assert reply.status == 200, reply.body
    return quiz


async def certificates_of(api: Any, as_: str) -> list[dict[str, Any]]:
    await api.settled()
    reply = await api.get(CERTIFICATES, as_=as_)
    assert reply.status == 200, reply.body
    return list(reply.body["results"])


async def count_certificates(api: Any) -> int:
    async with unit_of_work(api.client.app[DATABASES], "acme") as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(Certificate)) or 0)


@pytest.fixture
async def certificate(api: Any, quiz: dict[str, Any], sources: Sources) -> dict[str, Any]:
    """student-1's certificate, earned with 8/10 on the quiz."""
    await sources.grade(quiz, "student-1", 8)
    [certificate] = await certificates_of(api, "student")
    return certificate


# Completion


async def test_passing_what_the_rule_asks_issues_a_certificate(api, course, certificate):
    assert certificate["course"] == course["id"]
    assert certificate["course_title"] == "Astronomy 101"
    assert certificate["holder_name"] == "student-1"
    assert certificate["status"] == "valid"
    assert certificate["code"].startswith("acme.")
    assert certificate["verify_url"].endswith(f"{VERIFY_PAGE}{certificate['code']}/")
    assert certificate["download_url"] == f"{CERTIFICATES}{certificate['id']}/download/"
    assert await certificates_of(api, "student2") == []


async def test_the_learner_is_told_of_their_certificate(api, certificate):
    notes = [n for n in await inbox(api, "student") if n["type"] == "certificate"]
    assert [n["title"] for n in notes] == ["Certificate earned: Astronomy 101"]
    assert notes[0]["data"]["code"] == certificate["code"]
    assert [n for n in await inbox(api, "student2") if n["type"] == "certificate"] == []


async def test_a_grade_below_the_pass_mark_issues_nothing(api, quiz, sources):
    await sources.grade(quiz, "student-1", 5)
    assert await certificates_of(api, "student") == []


async def test_an_unreleased_grade_does_not_count(api, quiz, sources):
    await sources.grade(quiz, "student-1", 10, released=False)
    assert await certificates_of(api, "student") == []
    await sources.grade(quiz, "student-1", 10, released=True)
    assert len(await certificates_of(api, "student")) == 1


async def test_an_override_that_passes_issues_the_certificate(api, course, quiz, sources):
    await sources.grade(quiz, "student-1", 2)
    book = await gradebook(api, course["id"])
    grade = row_of(book, "student-1")["scores"][0]["grade_id"]
    body = {"override_score": 7, "reason": "Question 2 was ambiguous"}
    assert (await api.patch(grade_url(grade), body, as_="instructor")).status == 200
    assert len(await certificates_of(api, "student")) == 1


async def test_a_course_without_a_rule_issues_nothing(api, course, sources):
    item = await sources.item(course["id"], max_points=10)
    await sources.grade(item, "student-1", 10)
    assert await certificates_of(api, "student") == []


async def test_a_rule_set_after_the_grades_certifies_those_who_meet_it(api, course, sources):
    item = await sources.item(course["id"], max_points=10)
    await sources.grade(item, "student-1", 9)
    await sources.grade(item, "student-2", 3)
    rule = {"completion": {"min_total_percent": 80}}
    assert (await api.put(grading_url(course["id"]), rule, as_="instructor")).status == 200
    assert len(await certificates_of(api, "student")) == 1
    assert await certificates_of(api, "student2") == []


async def test_completing_the_lessons_issues_the_certificate(api, make, course):
    module = await make.module(course["id"])
    first, second = await make.lesson(module["id"]), await make.lesson(module["id"])
    rule = {"completion": {"lessons_completed": "all"}}
    assert (await api.put(grading_url(course["id"]), rule, as_="instructor")).status == 200
    done = f"/api/lms/courses/lessons/{first['id']}/complete/"
    assert (await api.post(done, {}, as_="student")).status == 200
    assert await certificates_of(api, "student") == []
    done = f"/api/lms/courses/lessons/{second['id']}/complete/"
    assert (await api.post(done, {}, as_="student")).status == 200
    assert len(await certificates_of(api, "student")) == 1


async def test_a_check_delivered_twice_leaves_one_certificate(api, course, certificate):
    dispatcher = api.client.app[DISPATCHER]
    for _ in range(2):
        await dispatcher.send(CHECK_TASK, "acme", course["id"], {})
    await api.settled()
    assert await count_certificates(api) == 1
    assert [c["code"] for c in await certificates_of(api, "student")] == [certificate["code"]]
    notes = [n for n in await inbox(api, "student") if n["type"] == "certificate"]
    assert len(notes) == 1


async def test_checks_running_side_by_side_leave_one_certificate(api, course, quiz, sources):
    await sources.grade(quiz, "student-1", 9)
    dispatcher = api.client.app[DISPATCHER]
    for _ in range(4):
        await dispatcher.send(CHECK_TASK, "acme", course["id"], {"users": ["student-1"]})
    await api.settled()
    assert await count_certificates(api) == 1


# Verification


async def test_anyone_verifies_a_certificate_by_its_code_without_a_token(api, certificate):
    reply = await api.get(f"{VERIFY}{certificate['code']}/")
    assert reply.status == 200, reply.body
    assert reply.body == {
        "code": certificate["code"],
        "holder_name": "student-1",
        "course_title": "Astronomy 101",
        "issued_at": certificate["issued_at"],
        "status": "valid",
        "revoked_at": None,
    }


async def test_an_unknown_code_is_a_404(api, certificate):
    for code in ("acme.AAAAAAAAAAAAAAAAAAAAAAAA", "nosuch.AAAAAAAAAAAAAAAAAAAAAAAA"):
        reply = await api.get(f"{VERIFY}{code}/")
        assert (reply.status, reply.body) == (404, NOT_FOUND)
    assert (await api.get(f"{VERIFY}not-a-code/")).status == 404


async def test_a_code_on_another_tenant_s_domain_is_a_404(api, certificate):
    reply = await api.get(f"{VERIFY}{certificate['code']}/", headers={"Host": "globex.test"})
    assert reply.status == 404
    reply = await api.get(f"{VERIFY}{certificate['code']}/", headers={"Host": "acme.test"})
    assert reply.status == 200


async def test_the_verification_page_shows_valid_then_revoked(api, certificate):
    page = await api.get(f"{VERIFY_PAGE}{certificate['code']}/")
    assert page.status == 200
    html = page.body.decode()
    assert 'data-status="valid"' in html and "Astronomy 101" in html and "student-1" in html
    revoke = f"{CERTIFICATES}{certificate['id']}/revoke/"
    reply = await api.post(revoke, {"reason": "Academic misconduct"}, as_="instructor")
    assert reply.status == 200, reply.body
    assert (reply.body["status"], reply.body["revoke_reason"]) == ("revoked", "Academic misconduct")
    page = await api.get(f"{VERIFY_PAGE}{certificate['code']}/")
    assert 'data-status="revoked"' in page.body.decode()
    verified = await api.get(f"{VERIFY}{certificate['code']}/")
    assert verified.body["status"] == "revoked" and verified.body["revoked_at"]


async def test_the_verification_page_of_an_unknown_code_says_so(api):
    page = await api.get(f"{VERIFY_PAGE}acme.AAAAAAAAAAAAAAAAAAAAAAAA/")
    assert page.status == 200
    assert 'data-status="unknown"' in page.body.decode()


# Download


async def test_the_pdf_carries_the_code(api, certificate):
    reply = await api.get(certificate["download_url"], as_="student")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/pdf"
    assert reply.body.startswith(b"%PDF")
    assert certificate["code"].encode() in reply.body
    assert b"student-1" in reply.body and b"Astronomy 101" in reply.body


async def test_the_course_s_staff_download_a_learner_s_certificate(api, certificate):
    for who in ("instructor", "admin"):
        reply = await api.get(certificate["download_url"], as_=who)
        assert reply.status == 200 and reply.body.startswith(b"%PDF")


async def test_nobody_else_downloads_a_learner_s_certificate(api, certificate):
    for who in ("student2", "instructor2"):
        reply = await api.get(certificate["download_url"], as_=who)
        assert (reply.status, reply.body) == (404, NOT_FOUND)
    assert (await api.get(certificate["download_url"])).status == 401


# Revocation


async def test_revoking_needs_a_reason(api, certificate):
    revoke = f"{CERTIFICATES}{certificate['id']}/revoke/"
    for body in ({}, {"reason": "  "}):
        reply = await api.post(revoke, body, as_="instructor")
        assert reply.status == 400 and "reason" in reply.body
    assert (await api.get(f"{VERIFY}{certificate['code']}/")).body["status"] == "valid"


async def test_a_learner_may_not_revoke_their_certificate_nor_see_another_s(api, certificate):
    revoke = f"{CERTIFICATES}{certificate['id']}/revoke/"
    reply = await api.post(revoke, {"reason": "x"}, as_="student")
    assert (reply.status, reply.body) == (403, FORBIDDEN)
    reply = await api.post(revoke, {"reason": "x"}, as_="student2")
    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_revoking_twice_is_a_400(api, certificate):
    revoke = f"{CERTIFICATES}{certificate['id']}/revoke/"
    assert (await api.post(revoke, {"reason": "x"}, as_="admin")).status == 200
    reply = await api.post(revoke, {"reason": "y"}, as_="admin")
    assert reply.status == 400
    assert (await api.get(f"{VERIFY}{certificate['code']}/")).body["status"] == "revoked"
