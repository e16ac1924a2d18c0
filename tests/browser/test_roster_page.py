"""A course's roster page, at phone and desktop width: enrollees by name, the completed
filter and search, sorting by a header, pages, the CSV download, bulk enrollment followed
live to its end with its row errors, and a student shown why there is nothing to see."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from models.courses.tables import Enrollment
from tests.api.test_roster import add_rows, enrollment, three_enrollees
from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.browser.test_tour import AUDIT


@pytest.fixture(params=["phone", "desktop"])
def width(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def viewport(width: str) -> dict[str, int]:
    return PHONE if width == "phone" else DESKTOP


def roster_path(course_id: int) -> str:
    return f"/lms/courses/{course_id}/roster/"


@pytest.fixture
async def course(api: Any, make: Any) -> dict[str, Any]:
    """instructor-1's course with yan (completed), bob (no name: shown by id), cyd (half way)."""
    made = await make.course(title="Data Science 101")
    await three_enrollees(api, made["id"])
    return made


async def csv_rows(download: Any) -> list[list[str]]:
    """The rows of the file the browser saved."""
    text = await asyncio.to_thread(Path(await download.path()).read_text)
    return list(csv.reader(io.StringIO(text)))


def names(page: Any) -> Any:
    return page.locator("#roster-rows td.name")


async def test_the_roster_lists_each_enrollee_by_name_with_dates_and_progress(
    signed_in, course, width
):
    page = await signed_in("instructor", roster_path(course["id"]), viewport=viewport(width))

    await expect(names(page)).to_have_text(["yan", "bob", "cyd"])
    await expect(page.locator("#page-title")).to_have_text("Roster: Data Science 101")
    await expect(page.locator("#result-count")).to_have_text("3 enrollees")
    yan = page.locator('#roster-rows tr[data-user="ann"]')
    await expect(yan.locator("td")).to_have_count(7)
    await expect(yan.locator("td.progress")).to_contain_text("100%")
    await expect(yan.locator("td").nth(3).locator("time")).to_have_attribute(
        "datetime", re.compile(r"^2026-01-06")
    )
    await screenshot(page, f"roster-{width}")
    assert await page.evaluate(AUDIT) == []
    assert page.script_errors == []


async def test_the_completed_filter_lists_only_those_who_completed_and_stays_in_the_address(
    signed_in, course
):
    page = await signed_in("instructor", roster_path(course["id"]))
    await expect(names(page)).to_have_count(3)

    await page.get_by_label("Completed").select_option("true")
    await page.get_by_role("button", name="Apply").click()

    await expect(names(page)).to_have_text(["yan"])
    await expect(page).to_have_url(re.compile(r"\?completed=true$"))
    await page.reload()
    await expect(page.get_by_label("Completed")).to_have_value("true")
    await expect(names(page)).to_have_text(["yan"])


async def test_search_finds_an_enrollee_by_name(signed_in, course):
    page = await signed_in("instructor", roster_path(course["id"]))
    await expect(names(page)).to_have_count(3)

    await page.get_by_label("Search names and ids").fill("cyd")
    await page.get_by_role("button", name="Apply").click()

    await expect(names(page)).to_have_text(["cyd"])
    await expect(page.locator("#result-count")).to_have_text("1 enrollee")


async def test_a_header_sorts_by_its_column_and_a_second_click_reverses(signed_in, course, width):
    page = await signed_in("instructor", roster_path(course["id"]), viewport=viewport(width))
    await expect(names(page)).to_have_count(3)
    progress = page.get_by_role("columnheader", name="Progress")

    await progress.get_by_role("button").click()
    await expect(names(page)).to_have_text(["bob", "cyd", "yan"])
    await expect(progress).to_have_attribute("aria-sort", "ascending")

    await progress.get_by_role("button").click()
    await expect(names(page)).to_have_text(["yan", "cyd", "bob"])
    await expect(progress).to_have_attribute("aria-sort", "descending")
    await expect(page).to_have_url(re.compile(r"ordering=-progress"))


async def test_the_pager_walks_a_roster_longer_than_a_page(signed_in, api, make):
    made = await make.course()
    await add_rows(
        api, Enrollment, [enrollment(made["id"], f"user-{n:02d}", n) for n in range(1, 31)]
    )
    page = await signed_in("instructor", roster_path(made["id"]))
    await expect(names(page)).to_have_count(25)
    await expect(page.locator("#page-info")).to_have_text("Page 1 of 2")

    await page.get_by_role("button", name="Next page").click()

    await expect(names(page)).to_have_text([f"user-{n}" for n in range(26, 31)])
    await expect(page.locator("#page-info")).to_have_text("Page 2 of 2")


async def test_download_csv_saves_the_whole_roster_with_names(signed_in, course, width):
    page = await signed_in("instructor", roster_path(course["id"]), viewport=viewport(width))
    await expect(names(page)).to_have_count(3)

    async with page.expect_download() as downloading:
        await page.get_by_role("button", name="Download CSV").click()
    download = await downloading.value

    assert download.suggested_filename == f"course-{course['id']}-roster.csv"
    rows = await csv_rows(download)
    assert rows[0][:2] == ["user_id", "name"]
    assert [row[:2] for row in rows[1:]] == [["ann", "yan"], ["bob", "bob"], ["cy", "cyd"]]
    assert page.script_errors == []


async def test_the_csv_download_keeps_the_filter_shown(signed_in, course):
    page = await signed_in("instructor", f"{roster_path(course['id'])}?completed=true")
    await expect(names(page)).to_have_text(["yan"])

    async with page.expect_download() as downloading:
        await page.get_by_role("button", name="Download CSV").click()
    download = await downloading.value

    rows = await csv_rows(download)
    assert [row[0] for row in rows[1:]] == ["ann"]


async def test_bulk_enrollment_shows_progress_to_done_and_lists_a_bad_rows_error(
    signed_in, course, width
):
    page = await signed_in("instructor", roster_path(course["id"]), viewport=viewport(width))
    await expect(page.locator("#bell")).to_have_attribute("data-state", "live")
    await expect(names(page)).to_have_count(3)

    await page.get_by_label("User ids, one a line").fill("new-1\nnew-2\nnot an id\nnew-1")
    await page.get_by_role("button", name="Start bulk enrollment").click()

    bar = page.locator("#job-progress")
    await expect(bar).to_have_attribute("data-status", "done")
    assert await bar.evaluate("(bar) => [bar.value, bar.max]") == [4, 4]
    await expect(page.locator("#job-status")).to_have_text(
        "Done: 2 enrolled, 2 of 4 rows applied, 2 not enrolled."
    )
    errors = page.locator("#job-errors li")
    await expect(errors).to_have_count(2)
    await expect(errors.first).to_contain_text("Row 3 (not an id)")
    await expect(errors.nth(1)).to_contain_text("Row 4 (new-1): Duplicate of row 1.")
    await expect(names(page)).to_have_count(5)
    await screenshot(page, f"roster-bulk-{width}")
    assert await page.evaluate(AUDIT) == []
    assert page.script_errors == []


async def test_bulk_progress_is_told_by_job_progress_frames(signed_in, course):
    page = await signed_in("instructor", roster_path(course["id"]))
    await expect(page.locator("#bell")).to_have_attribute("data-state", "live")

    await page.get_by_label("User ids, one a line").fill("new-1")
    await page.get_by_role("button", name="Start bulk enrollment").click()

    bar = page.locator("#job-progress")
    await expect(bar).to_have_attribute("data-frames", re.compile("[1-9]"))
    await expect(bar).to_have_attribute("data-status", "done")


async def without_job_frames(page: Any) -> None:
    """The page reloaded with its notifications socket relayed minus `job_progress` frames."""

    def relay(socket: Any) -> None:
        server = socket.connect_to_server()
        server.on_message(
            lambda message: None if "job_progress" in str(message) else socket.send(message)
        )
        socket.on_message(server.send)

    await page.route_web_socket(re.compile(r"/ws/lms/notifications/"), relay)
    await page.reload()


async def test_without_frames_the_job_is_polled_to_its_end(signed_in, course):
    page = await signed_in("instructor", roster_path(course["id"]))
    await without_job_frames(page)
    await expect(page.locator("#bell")).to_have_attribute("data-state", "live")

    await page.get_by_label("User ids, one a line").fill("new-1\nnew-2")
    await page.get_by_role("button", name="Start bulk enrollment").click()

    bar = page.locator("#job-progress")
    await expect(bar).to_have_attribute("data-status", "done")
    await expect(page.locator("#job-status")).to_have_text(
        "Done: 2 enrolled, 2 of 2 rows applied, 0 not enrolled."
    )
    await expect(bar).to_have_attribute("data-frames", "0")


async def test_bulk_enrollment_from_a_csv_file(signed_in, course):
    page = await signed_in("instructor", roster_path(course["id"]))
    await expect(names(page)).to_have_count(3)

    await page.get_by_label(re.compile("^Or a CSV file")).set_input_files(
        files=[
            {
                "name": "people.csv",
                "mimeType": "text/csv",
                "buffer": b"user_id,name\r\nzed,Zed Zimmer\r\n,Nobody\r\n",
            }
        ]
    )
    await page.get_by_role("button", name="Start bulk enrollment").click()

    await expect(page.locator("#job-status")).to_have_text(
        "Done: 1 enrolled, 1 of 2 rows applied, 1 not enrolled."
    )
    await expect(page.locator("#job-errors li")).to_have_count(1)
    await expect(page.locator("#job-errors li")).to_contain_text("Row 2")
    await expect(names(page)).to_contain_text(["Zed Zimmer"])


async def test_a_student_is_told_the_roster_is_not_theirs_and_sees_none_of_it(
    signed_in, course, width
):
    page = await signed_in("student", roster_path(course["id"]), viewport=viewport(width))

    await expect(page.locator("#page-error")).to_contain_text(
        "Only this course's instructor and admins can see its roster."
    )
    await expect(page.locator("#roster-section")).to_be_hidden()
    await expect(page.locator("#bulk-section")).to_be_hidden()
    assert await page.locator("#roster-rows tr").count() == 0
    await screenshot(page, f"roster-refused-{width}")
    assert page.script_errors == []


async def test_a_course_not_visible_is_a_message_too(signed_in, make):
    draft = await make.course(status="Draft")
    page = await signed_in("student", roster_path(draft["id"]))

    await expect(page.locator("#page-error")).to_contain_text("does not exist or is not visible")
    await expect(page.locator("#roster-section")).to_be_hidden()


async def test_the_course_page_links_its_instructor_to_the_roster(signed_in, course):
    page = await signed_in("instructor", f"/lms/courses/{course['id']}/")

    await page.get_by_role("link", name="Roster and bulk enrollment").click()

    await expect(page).to_have_url(re.compile(rf"/lms/courses/{course['id']}/roster/$"))
    await expect(names(page)).to_have_count(3)


async def test_the_course_page_offers_no_roster_link_to_a_student(signed_in, course):
    page = await signed_in("student", f"/lms/courses/{course['id']}/")
    await expect(page.locator("#course-instructor")).to_have_text("Taught by instructor-1")

    await expect(page.get_by_role("link", name="Roster and bulk enrollment")).to_have_count(0)
