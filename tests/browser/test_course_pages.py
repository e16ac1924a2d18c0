"""Courses in the browser: enroll in a free course and progress; buy a paid one."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp import FormData
from playwright.async_api import expect

from tests.browser.conftest import screenshot
from tests.fakes.commerce import make_gateway


async def test_a_student_enrolls_in_a_free_course_and_marks_a_lesson_complete(signed_in, make):
    course = await make.course(title="Free Python", price="0.00")
    module = await make.module(course["id"], title="Basics")
    await make.lesson(module["id"], title="Variables")
    await make.lesson(module["id"], title="Loops")
    page = await signed_in("student", f"/lms/courses/{course['id']}/")
    await expect(page.get_by_role("heading", name="Free Python")).to_be_visible()

    await page.get_by_role("button", name="Enroll for free").click()
    await expect(page.locator("#enrollment-state")).to_have_text("Enrolled")
    await page.get_by_role("button", name="Mark “Variables” complete").click()

    await expect(page.locator("#progress-text")).to_have_text("50% complete")
    await expect(page.locator("[data-lesson]").filter(has_text="Variables")).to_contain_text(
        "Completed"
    )
    await screenshot(page, "course-enrolled")
    await page.reload()
    await expect(page.locator("#progress-text")).to_have_text("50% complete")


async def test_completed_lessons_come_from_the_api_in_a_new_tab(signed_in, make, api: Any):
    course = await make.course(title="Remembered", price="0.00")
    module = await make.module(course["id"], title="Basics")
    done = await make.lesson(module["id"], title="Variables")
    await make.lesson(module["id"], title="Loops")
    await make.enroll(course["id"], as_="student")
    reply = await api.post(f"/api/lms/courses/lessons/{done['id']}/complete/", as_="student")
    assert reply.status == 200, reply.body

    page = await signed_in("student", f"/lms/courses/{course['id']}/")

    variables = page.locator("[data-lesson]").filter(has_text="Variables")
    await expect(variables).to_contain_text("Completed")
    await expect(page.get_by_role("button", name="Mark “Variables” complete")).to_have_count(0)
    await expect(page.get_by_role("button", name="Mark “Loops” complete")).to_be_visible()
    assert page.script_errors == []


async def test_the_course_page_resumes_at_the_lesson_last_read(signed_in, make):
    course = await make.course(title="Resumable", price="0.00")
    module = await make.module(course["id"], title="Basics")
    await make.lesson(module["id"], title="Variables")
    await make.lesson(module["id"], title="Loops", content="for x in y")
    await make.enroll(course["id"], as_="student")
    page = await signed_in("student", f"/lms/courses/{course['id']}/")
    await expect(page.locator("#resume")).to_be_hidden()

    await page.locator("[data-lesson]").filter(has_text="Loops").get_by_text("Read").click()
    await expect(page.get_by_role("link", name="Resume: Loops")).to_be_visible()
    await page.reload()
    await page.get_by_role("link", name="Resume: Loops").click()

    loops = page.locator("[data-lesson]").filter(has_text="Loops")
    await expect(loops.locator("details")).to_have_attribute("open", "")
    await screenshot(page, "course-resume")
    assert page.script_errors == []


async def test_a_paid_course_bought_through_the_dummy_gateway_shows_as_enrolled(
    signed_in, make, api: Any
):
    await make_gateway(api)  # Dummy, the default: approves at once (development)
    course = await make.course(title="Paid Python", price="49.99")
    page = await signed_in("student", f"/lms/courses/{course['id']}/")
    await expect(page.locator("#course-meta")).to_contain_text("49.99 USD")

    await page.get_by_role("button", name="Add to cart").click()
    await page.get_by_role("link", name="Go to cart").click()
    await expect(page.locator("#cart-total")).to_have_text("Total: 49.99 USD")
    await screenshot(page, "cart")
    await page.get_by_label("Payment method").select_option("dummy")
    await page.get_by_role("button", name="Check out").click()
    await expect(page.locator("#receipt")).to_contain_text("Paid 49.99 USD")
    await screenshot(page, "checkout-paid")
    await page.locator("#receipt").get_by_role("link", name="Paid Python").click()

    await expect(page.locator("#enrollment-state")).to_have_text("Enrolled")
    await expect(page.locator("#progress-text")).to_have_text("0% complete")
    await expect(page.get_by_role("button", name="Add to cart")).to_be_hidden()


async def test_a_course_announcement_reaches_an_open_course_page_as_a_toast(
    signed_in, make, api: Any
):
    course = await make.course(title="Announced")
    await make.enroll(course["id"], as_="student")
    page = await signed_in("student", f"/lms/courses/{course['id']}/")
    await expect(page.locator("body")).to_have_attribute("data-notifications", "live")

    reply = await api.post(
        f"/api/lms/courses/courses/{course['id']}/announce/",
        {"title": "Exam moved", "message": "The exam is on Friday now."},
        as_="instructor",
    )
    assert reply.status == 201, reply.body

    toast = page.locator(".toast").filter(has_text="Announcement: Exam moved")
    await expect(toast).to_contain_text("The exam is on Friday now.")
    await screenshot(page, "course-toast")


async def test_an_enrolled_student_downloads_a_lesson_file_under_its_name(
    signed_in, make, api: Any
):
    course = await make.course(title="Handouts", price="0.00")
    module = await make.module(course["id"], title="Week 1")
    lesson = await make.lesson(module["id"], title="Reading")
    form = FormData(quote_fields=False)
    form.add_field("file", b"%PDF-1.4 week one", filename="Übung 1, Lösungen.pdf")
    uploaded = await api.post(
        f"/api/lms/courses/lessons/{lesson['id']}/upload-file/", data=form, as_="instructor"
    )
    assert uploaded.status == 200, uploaded.body
    page = await signed_in("student", f"/lms/courses/{course['id']}/")
    download_button = page.get_by_role("button", name="Download “Übung 1, Lösungen.pdf”")
    await expect(page.locator("[data-lesson]").filter(has_text="Reading")).to_be_visible()
    await expect(download_button).to_have_count(0)  # not enrolled: no file offered

    await page.get_by_role("button", name="Enroll for free").click()
    async with page.expect_download() as started:
        await download_button.click()
    download = await started.value

    assert download.suggested_filename == "Übung 1, Lösungen.pdf"
    saved = await download.path()
    assert await asyncio.to_thread(Path(saved).read_bytes) == b"%PDF-1.4 week one"
    assert page.script_errors == []
