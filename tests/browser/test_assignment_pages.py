"""Assignments in the browser, at phone (375 px) and desktop width: the instructor creates
one; a learner submits text and a file; the instructor grades it from the queue with a score
and feedback and returns it; the learner then reads the score and the feedback."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.conftest import DESKTOP, screenshot
from tests.browser.test_tour import AUDIT

PHONE_375 = {"width": 375, "height": 812}
ASSIGNMENTS = "/api/lms/courses/assignments/"
SUBMISSIONS = "/api/lms/courses/submissions/"


@pytest.fixture(params=["phone", "desktop"])
def width(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def viewport(width: str) -> dict[str, int]:
    return PHONE_375 if width == "phone" else DESKTOP


async def make_assignment(api: Any, make: Any, **fields: Any) -> dict[str, Any]:
    """An essay of 20 points taking PDFs, in a course the student is enrolled in."""
    course = await make.course(title="Writing")
    body = {
        "course": course["id"],
        "title": "Essay 1",
        "instructions": "Write 300 words.",
        "points": 20,
        "allowed_file_types": ["pdf"],
        **fields,
    }
    reply = await api.post(ASSIGNMENTS, body, as_="instructor")
    assert reply.status == 201, reply.body
    await make.enroll(course["id"], as_="student")
    return dict(reply.body)


async def submit_text(api: Any, assignment: dict[str, Any], text: str) -> dict[str, Any]:
    reply = await api.post(
        SUBMISSIONS, {"assignment": assignment["id"], "text": text}, as_="student"
    )
    assert reply.status == 201, reply.body
    return dict(reply.body)


async def test_a_learner_submits_text_and_a_file(signed_in, api, make, width):
    assignment = await make_assignment(api, make)
    page = await signed_in(
        "student", f"/lms/assignments/{assignment['id']}/", viewport=viewport(width)
    )
    await expect(page.locator("#page-title")).to_have_text("Essay 1")
    await expect(page.locator("#facts")).to_contain_text("20 points")

    await page.get_by_label("Your answer").fill("My essay.")
    await page.get_by_label(re.compile("^Files")).set_input_files(
        files=[{"name": "essay.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 mine"}]
    )
    await page.get_by_role("button", name="Submit").click()

    await expect(page.locator("#submit-status")).to_have_text("Submitted (version 1).")
    await expect(page.locator("#mine-state")).to_contain_text("waiting to be graded")
    await expect(page.locator(".submitted-text")).to_have_text("My essay.")
    await expect(page.get_by_role("button", name="Download “essay.pdf”")).to_be_visible()
    await screenshot(page, f"assignment-submitted-{width}")
    assert await page.evaluate(AUDIT) == []
    mine = await api.get(f"{SUBMISSIONS}?assignment={assignment['id']}", as_="student")
    [submission] = mine.body["results"]
    assert (submission["text"], [f["name"] for f in submission["files"]]) == (
        "My essay.",
        ["essay.pdf"],
    )
    assert page.script_errors == []


async def test_a_file_of_a_type_not_taken_is_refused_with_the_reason(signed_in, api, make):
    assignment = await make_assignment(api, make)
    page = await signed_in("student", f"/lms/assignments/{assignment['id']}/")

    await page.get_by_label(re.compile("^Files")).set_input_files(
        files=[{"name": "essay.exe", "mimeType": "application/octet-stream", "buffer": b"MZ"}]
    )
    await page.get_by_role("button", name="Submit").click()

    await expect(page.locator("#page-error")).to_contain_text("are not accepted here")
    await expect(page.locator("#mine")).to_be_hidden()


async def test_the_instructor_grades_from_the_queue_and_returns_the_grade(
    signed_in, api, make, width
):
    assignment = await make_assignment(api, make)
    await submit_text(api, assignment, "Ready for grading.")
    page = await signed_in(
        "instructor", f"/lms/assignments/{assignment['id']}/grading/", viewport=viewport(width)
    )
    await expect(page.locator("#queue-count")).to_have_text("1 submission to grade")
    card = page.locator("#queue > li")
    await expect(card.locator(".submitted-text")).to_have_text("Ready for grading.")

    await card.get_by_label("Score (0 to 20)").fill("17")
    await card.get_by_label("Feedback").fill("Well argued.")
    await card.get_by_role("button", name="Save grade").click()
    await expect(card.locator(".grade-line")).to_have_text("Graded, not returned: 17 / 20")
    await screenshot(page, f"grading-{width}")
    assert await page.evaluate(AUDIT) == []
    await card.get_by_role("button", name=re.compile("^Return to")).click()

    await expect(card.locator(".grade-line")).to_have_text("Returned: 17 / 20")
    await page.reload()
    await expect(page.locator("#queue-count")).to_have_text("0 submissions to grade")
    await page.get_by_label("Show").select_option("returned")
    await expect(page).to_have_url(re.compile(r"\?status=returned$"))
    await expect(page.locator("#queue > li")).to_have_count(1)
    assert page.script_errors == []


async def test_the_learner_reads_the_returned_score_and_feedback(signed_in, api, make, width):
    assignment = await make_assignment(api, make)
    submission = await submit_text(api, assignment, "Done.")
    graded = await api.post(
        f"{SUBMISSIONS}{submission['id']}/grade/",
        {"score": 15, "feedback": "Good structure."},
        as_="instructor",
    )
    assert graded.status == 200, graded.body
    returned = await api.post(f"{SUBMISSIONS}{submission['id']}/return/", as_="instructor")
    assert returned.status == 200, returned.body

    page = await signed_in(
        "student", f"/lms/assignments/{assignment['id']}/", viewport=viewport(width)
    )

    await expect(page.locator("#mine-score")).to_have_text("Score: 15 / 20")
    await expect(page.locator("#mine-feedback")).to_have_text("Good structure.")
    await expect(page.get_by_role("button", name="Submit a new version")).to_be_visible()
    await screenshot(page, f"assignment-returned-{width}")


async def test_a_grade_not_returned_is_not_shown_to_the_learner(signed_in, api, make):
    assignment = await make_assignment(api, make)
    submission = await submit_text(api, assignment, "Done.")
    await api.post(f"{SUBMISSIONS}{submission['id']}/grade/", {"score": 3}, as_="instructor")

    page = await signed_in("student", f"/lms/assignments/{assignment['id']}/")

    await expect(page.locator("#mine-state")).to_contain_text("shown once it is returned")
    await expect(page.locator("#mine-grade")).to_be_hidden()


async def test_the_grader_downloads_a_submitted_file(signed_in, api, make):
    assignment = await make_assignment(api, make)
    student = await signed_in("student", f"/lms/assignments/{assignment['id']}/")
    await student.get_by_label(re.compile("^Files")).set_input_files(
        files=[{"name": "essay.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 mine"}]
    )
    await student.get_by_role("button", name="Submit").click()
    await expect(student.locator("#submit-status")).to_have_text("Submitted (version 1).")
    page = await signed_in("instructor", f"/lms/assignments/{assignment['id']}/grading/")

    async with page.expect_download() as downloading:
        await page.get_by_role("button", name="Download “essay.pdf”").click()
    download = await downloading.value

    assert download.suggested_filename == "essay.pdf"
    saved = await download.path()
    assert await asyncio.to_thread(Path(saved).read_bytes) == b"%PDF-1.4 mine"


async def test_the_instructor_creates_an_assignment_from_the_course(signed_in, make, width):
    course = await make.course(title="Writing")
    page = await signed_in("instructor", f"/lms/courses/{course['id']}/", viewport=viewport(width))

    await page.get_by_role("link", name="Assignments").first.click()
    await page.get_by_label("Title").fill("Reading log")
    await page.get_by_label("Points").fill("5")
    await page.get_by_label(re.compile("^File types allowed")).fill("pdf, docx")
    await page.get_by_role("button", name="Create assignment").click()

    await expect(page.locator("#assignments .card h3")).to_have_text(["Reading log"])
    await expect(page.locator("#assignments .card .meta")).to_have_text("5 points · no due date")
    assert await page.evaluate(AUDIT) == []
    await page.get_by_role("link", name="Reading log", exact=True).click()
    await expect(page.locator("#facts")).to_contain_text("Files: pdf, docx")
    await expect(page.get_by_role("link", name="Grading queue")).to_be_visible()


async def test_a_student_is_told_the_queue_is_not_theirs(signed_in, api, make):
    assignment = await make_assignment(api, make)
    page = await signed_in("student", f"/lms/assignments/{assignment['id']}/grading/")

    await expect(page.locator("#page-error")).to_have_text(
        "Only this course's instructor and admins can grade its assignments."
    )
    await expect(page.locator("#queue-section")).to_be_hidden()


async def test_a_rubric_is_scored_criterion_by_criterion_and_summed(signed_in, api, make):
    rubric = [
        {"id": "content", "title": "Content", "points": 15},
        {"id": "style", "title": "Style", "points": 5},
    ]
    assignment = await make_assignment(api, make, rubric=rubric)
    submission = await submit_text(api, assignment, "Rubric me.")
    page = await signed_in("instructor", f"/lms/assignments/{assignment['id']}/grading/")
    card = page.locator("#queue > li")

    await card.get_by_label("Content (0 to 15)").fill("12")
    await card.get_by_label("Style (0 to 5)").fill("4")
    await card.get_by_role("button", name="Save grade").click()

    await expect(card.locator(".grade-line")).to_have_text("Graded, not returned: 16 / 20")
    saved = await api.get(f"{SUBMISSIONS}{submission['id']}/", as_="instructor")
    assert saved.body["rubric_scores"] == {"content": 12, "style": 4}
