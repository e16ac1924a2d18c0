"""The catalogue's filters and pages, and a group chat, in the browser."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect


async def test_the_catalogue_filters_by_level_and_keeps_the_filter_in_the_address(signed_in, make):
    await make.course(title="Intro to SQL", level="Beginner")
    await make.course(title="Query planning", level="Advanced")
    page = await signed_in("student")
    await expect(page.locator("#result-count")).to_have_text("2 courses")

    await page.get_by_label("Level").select_option("Advanced")
    await page.get_by_role("button", name="Apply").click()

    await expect(page.locator("#courses h2")).to_have_text(["Query planning"])
    await page.reload()
    await expect(page.get_by_label("Level")).to_have_value("Advanced")
    await expect(page.locator("#courses h2")).to_have_text(["Query planning"])


async def test_the_catalogue_pages_through_more_courses_than_fit_on_one_page(signed_in, make):
    for n in range(13):
        await make.course(title=f"Course {n:02d}")
    page = await signed_in("student")
    await page.get_by_label("Sort by").select_option("title")
    await page.get_by_role("button", name="Apply").click()
    await expect(page.locator("#page-info")).to_have_text("Page 1 of 2")

    await page.get_by_role("button", name="Next page").click()

    await expect(page.locator("#page-info")).to_have_text("Page 2 of 2")
    await expect(page.locator("#courses h2")).to_have_text(["Course 12"])
    await expect(page.get_by_role("button", name="Next page")).to_be_disabled()


async def test_a_message_sent_in_a_group_chat_reaches_the_other_member(signed_in, api: Any):
    group = await api.post("/api/lms/groups/groups/", {"name": "Cohort 7"}, as_="instructor")
    await api.post(
        "/api/lms/groups/members/",
        {"group": group.body["id"], "user_id": "student-1"},
        as_="instructor",
    )
    path = f"/lms/groups/{group.body['id']}/"
    student = await signed_in("student", path)
    teacher = await signed_in("instructor", path)
    await expect(student.locator("#room-status")).to_have_text("Live")
    await expect(teacher.locator("#room-status")).to_have_text("Live")

    await student.get_by_label("Your message").fill("Running late, start without me")
    await student.get_by_label("Your message").press("Enter")

    entry = teacher.locator("#entries .entry").filter(has_text="Running late")
    await expect(entry).to_contain_text("student-1")
    await expect(student.get_by_label("Your message")).to_have_value("")
