"""Grades in the browser, at phone (375 px) and desktop width: the instructor's gradebook with
its CSV download, and a learner's own grades, both fed by a real assignment graded and
returned and a real quiz submitted."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.conftest import DESKTOP, screenshot
from tests.browser.test_assignment_pages import make_assignment, submit_text
from tests.browser.test_tour import AUDIT

PHONE_375 = {"width": 375, "height": 812}
SUBMISSIONS = "/api/lms/courses/submissions/"


@pytest.fixture(params=["phone", "desktop"])
def width(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def viewport(width: str) -> dict[str, int]:
    return PHONE_375 if width == "phone" else DESKTOP


async def grade(api: Any, submission: dict[str, Any], score: float, *, returned: bool) -> None:
    graded = await api.post(
        f"{SUBMISSIONS}{submission['id']}/grade/", {"score": score}, as_="instructor"
    )
    assert graded.status == 200, graded.body
    if returned:
        reply = await api.post(f"{SUBMISSIONS}{submission['id']}/return/", as_="instructor")
        assert reply.status == 200, reply.body


@pytest.fixture
async def graded(api: Any, make: Any) -> dict[str, Any]:
    """Essay 1 (20 points): student-1 returned 15; student-2 graded 8, not returned."""
    assignment = await make_assignment(api, make)
    await grade(api, await submit_text(api, assignment, "Mine."), 15, returned=True)
    await make.enroll(assignment["course"], as_="student2")
    reply = await api.post(
        SUBMISSIONS, {"assignment": assignment["id"], "text": "Theirs."}, as_="student2"
    )
    assert reply.status == 201, reply.body
    await grade(api, dict(reply.body), 8, returned=False)
    await api.settled()
    return assignment


def gradebook_path(assignment: dict[str, Any]) -> str:
    return f"/lms/courses/{assignment['course']}/gradebook/"


async def test_the_gradebook_shows_each_learners_score_and_total(signed_in, graded, width):
    page = await signed_in("instructor", gradebook_path(graded), viewport=viewport(width))

    await expect(page.locator("#page-title")).to_have_text("Gradebook: Writing")
    await expect(page.locator("#gradebook-head th")).to_have_text(
        ["Learner", re.compile("^Essay 1"), "Total", "Letter"]
    )
    first = page.locator('#gradebook-rows tr[data-user="student-1"]')
    await expect(first.locator("td").first).to_have_text("15 / 20")
    await expect(first.locator("td.total")).to_have_text("75.0%")
    second = page.locator('#gradebook-rows tr[data-user="student-2"]')
    await expect(second.locator("td").first).to_have_text("8 / 20 (not released)")
    await expect(page.locator("#result-count")).to_have_text("2 learners, 1 graded item")
    await screenshot(page, f"gradebook-{width}")
    assert await page.evaluate(AUDIT) == []
    assert page.script_errors == []


async def test_download_csv_saves_the_gradebook(signed_in, graded, width):
    page = await signed_in("instructor", gradebook_path(graded), viewport=viewport(width))
    await expect(page.locator("#gradebook-rows tr")).to_have_count(2)

    async with page.expect_download() as downloading:
        await page.get_by_role("button", name="Download CSV").click()
    download = await downloading.value

    assert download.suggested_filename == f"course-{graded['course']}-gradebook.csv"
    text = await asyncio.to_thread(Path(await download.path()).read_text)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:2] == ["user_id", "name"]
    assert sorted((row[0], row[2]) for row in rows[1:]) == [("student-1", "15"), ("student-2", "8")]


async def test_a_learner_is_refused_the_gradebook(signed_in, graded):
    page = await signed_in("student", gradebook_path(graded))

    await expect(page.locator("#page-error")).to_be_visible()
    await expect(page.locator("#gradebook-section")).to_be_hidden()
    assert await page.locator("#gradebook-rows tr").count() == 0


async def test_the_course_page_links_its_instructor_to_the_gradebook(signed_in, graded):
    page = await signed_in("instructor", f"/lms/courses/{graded['course']}/")

    await page.get_by_role("link", name="Gradebook").click()

    await expect(page.locator("#gradebook-rows tr")).to_have_count(2)


async def test_my_grades_lists_the_released_grades_by_course(signed_in, graded, width):
    page = await signed_in("student", "/lms/", viewport=viewport(width))

    await page.get_by_role("link", name="My grades").click()

    section = page.locator(f'section[data-course="{graded["course"]}"]')
    await expect(section.get_by_role("heading")).to_have_text("Writing")
    await expect(section.locator("tbody tr")).to_have_count(1)
    await expect(section.locator("td.score")).to_have_text("15 / 20")
    await expect(page.locator("#grades-count")).to_have_text("1 grade in 1 course")
    await screenshot(page, f"my-grades-{width}")
    assert await page.evaluate(AUDIT) == []
    assert page.script_errors == []


async def test_a_grade_not_released_is_not_among_my_grades(signed_in, graded):
    page = await signed_in("student2", "/lms/grades/")

    await expect(page.locator("#grades-count")).to_have_text("No grades released to you yet.")
    await expect(page.locator("#grades section")).to_have_count(0)


async def test_the_instructor_changes_a_score_with_a_reason_then_restores_it(
    signed_in, graded, api, width
):
    page = await signed_in("instructor", gradebook_path(graded), viewport=viewport(width))
    first = page.locator('#gradebook-rows tr[data-user="student-1"] td').first

    await first.get_by_role("button", name="15 / 20: change the score of student-1").click()
    dialog = page.get_by_role("dialog", name="Change a score")
    await dialog.get_by_label("New score (0 to 20)").fill("18")
    await dialog.get_by_label(re.compile("^Reason")).fill("Re-marked question 2.")
    await screenshot(page, f"gradebook-override-{width}")
    await dialog.get_by_role("button", name="Save the new score").click()

    await expect(first).to_have_text("18 / 20 (changed)")
    mine = await api.get("/api/lms/courses/grades/", as_="student")
    [grade] = mine.body["results"]
    assert (grade["score"], grade["override_reason"]) == (18, "Re-marked question 2.")
    await first.get_by_role("button", name="18 / 20: change the score of student-1").click()
    await dialog.get_by_role("button", name="Back to the original score").click()
    await expect(first).to_have_text("15 / 20")


async def test_a_change_without_a_reason_is_refused_inside_the_dialog(signed_in, graded):
    page = await signed_in("instructor", gradebook_path(graded))
    first = page.locator('#gradebook-rows tr[data-user="student-1"] td').first

    await first.get_by_role("button").click()
    dialog = page.get_by_role("dialog", name="Change a score")
    await dialog.get_by_label("New score (0 to 20)").fill("18")
    await dialog.get_by_role("button", name="Save the new score").click()

    await expect(dialog.locator("#override-error")).to_contain_text("reason")
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_be_hidden()
    await expect(first).to_have_text("15 / 20")
