"""People shown by the name the API gives beside their id (tokens carrying a `name`), in
every page that used to show the id: typing, group joins, conversations, the course's
instructor and a new enrollee."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from tests.conftest import token_for

ADA, BEN, GRACE = "Ada Lovelace", "Ben Bright", "Grace Hopper"


@pytest.fixture(autouse=True)
async def named(api: Any) -> None:
    """student-1 is Ada, student-2 Ben, instructor-1 Grace: one call each puts them in the
    users directory, as their first request would."""
    api.tokens["student"] = token_for("student-1", "student", name=ADA)
    api.tokens["student2"] = token_for("student-2", "student", name=BEN)
    api.tokens["instructor"] = token_for("instructor-1", "instructor", name=GRACE)
    for who in ("student", "student2", "instructor"):
        reply = await api.get("/api/lms/courses/courses/", as_=who)
        assert reply.status == 200, reply.body


async def test_who_is_typing_is_named(signed_in, api):
    forum = await api.post("/api/lms/forum/forums/", {"title": "Study hall"}, as_="instructor")
    path = f"/lms/forums/{forum.body['id']}/"
    ada = await signed_in("student", path)
    ben = await signed_in("student2", path)
    await expect(ada.locator("#room-status")).to_have_text("Live")
    await expect(ben.locator("#room-status")).to_have_text("Live")

    await ada.get_by_label("Your post").press_sequentially("Hel")

    await expect(ben.locator("#typing")).to_have_text(f"{ADA} is typing…")


async def test_a_member_joining_a_group_is_named_in_its_chat(signed_in, api):
    group = await api.post("/api/lms/groups/groups/", {"name": "Cohort 7"}, as_="instructor")
    page = await signed_in("instructor", f"/lms/groups/{group.body['id']}/")
    await expect(page.locator("#room-status")).to_have_text("Live")

    reply = await api.post(
        "/api/lms/groups/members/",
        {"group": group.body["id"], "user_id": "student-1"},
        as_="instructor",
    )
    assert reply.status == 201, reply.body

    await expect(page.locator("#entries .note")).to_have_text([f"{ADA} joined the group"])


async def test_a_direct_conversation_is_listed_by_the_other_persons_name(signed_in, api):
    sent = await api.post(
        "/api/lms/messaging/messages/",
        {"recipient_id": "student-1", "content": "Hello Ada", "message_type": "direct"},
        as_="student2",
    )
    assert sent.status == 201, sent.body

    page = await signed_in("student", "/lms/messages/")

    await expect(page.locator("#conversations a")).to_contain_text([BEN])


async def test_the_course_page_names_its_instructor(signed_in, make):
    course = await make.course(title="Compilers")

    page = await signed_in("student", f"/lms/courses/{course['id']}/")

    await expect(page.locator("#course-instructor")).to_have_text(f"Taught by {GRACE}")


async def test_the_instructor_is_told_a_new_enrollees_name(signed_in, make):
    course = await make.course(title="Compilers")
    page = await signed_in("instructor", f"/lms/courses/{course['id']}/")
    await expect(page.locator("body")).to_have_attribute("data-notifications", "live")

    await make.enroll(course["id"], as_="student")

    await expect(page.locator("#toasts")).to_contain_text(f"New enrollment{ADA}")
