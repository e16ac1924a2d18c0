"""The messages page at phone and desktop width: conversations, a conversation, sending,
and a new direct message arriving live (through the notifications socket) without reload."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.browser.test_inbox_pages import bell_live, direct_message
from tests.browser.test_tour import AUDIT

MESSAGES = "/api/lms/messaging/messages/"
NOTIFICATIONS = "/api/lms/notifications/notifications/"


@pytest.fixture(params=["phone", "desktop"])
def width(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def viewport(width: str) -> dict[str, int]:
    return PHONE if width == "phone" else DESKTOP


async def test_the_conversations_list_each_user_with_the_last_message(signed_in, api):
    await direct_message(api, "Hello from two")
    await direct_message(api, "Hello from the teacher", as_="instructor")
    page = await signed_in("student", "/lms/messages/")

    links = page.locator("#conversations a")
    await expect(links).to_have_count(2)
    await expect(links.first).to_contain_text("instructor-1")
    await expect(links.first).to_contain_text("Hello from the teacher")
    await expect(links.nth(1)).to_contain_text("student-2")


async def test_opening_a_conversation_shows_its_messages_and_marks_them_read(signed_in, api):
    await direct_message(api, "Did you finish the exercise?")
    page = await signed_in("student", "/lms/messages/")

    await page.locator("#conversations a").filter(has_text="student-2").click()

    await expect(page.locator("#conversation-title")).to_have_text("With student-2")
    entry = page.locator("#entries .entry")
    await expect(entry.locator(".who")).to_have_text(["student-2"])
    await expect(entry.locator(".text")).to_have_text(["Did you finish the exercise?"])
    await expect(page.locator("#conversations a")).not_to_contain_text("unread")
    unread = await api.get(MESSAGES + "unread-count/", as_="student")
    assert unread.body["direct_unread_count"] == 0


async def test_opening_a_conversation_marks_its_notifications_read(signed_in, api):
    await direct_message(api, "From two")
    await direct_message(api, "From the teacher", as_="instructor")
    page = await signed_in("student", "/lms/messages/")
    await expect(page.locator("#bell-count")).to_have_text("2")

    await page.locator("#conversations a").filter(has_text="student-2").click()

    await expect(page.locator("#bell-count")).to_have_text("1")
    left = await api.get(NOTIFICATIONS + "?unread=true", as_="student")
    assert [n["body"] for n in left.body["results"]] == ["From the teacher"]


async def test_a_message_sent_from_the_page_is_shown_and_reaches_the_api(signed_in, api, width):
    await direct_message(api, "Lunch?")
    page = await signed_in("student", "/lms/messages/?with=student-2", viewport=viewport(width))
    await expect(page.locator("#entries .entry")).to_have_count(1)

    await page.get_by_label("Your message").fill("Yes, at noon")
    await page.get_by_role("button", name="Send").click()

    mine = page.locator("#entries .entry.mine")
    await expect(mine).to_contain_text("Yes, at noon")
    await expect(mine).to_contain_text("student-1 (you)")
    await expect(page.get_by_label("Your message")).to_have_value("")
    sent = await api.get(MESSAGES + "?box=sent", as_="student")
    assert [m["content"] for m in sent.body["results"]] == ["Yes, at noon"]


async def test_a_new_direct_message_arrives_live_in_the_open_conversation(signed_in, api, width):
    await direct_message(api, "Are you there?")
    page = await signed_in("student", "/lms/messages/?with=student-2", viewport=viewport(width))
    await bell_live(page)
    await expect(page.locator("#entries .entry")).to_have_count(1)

    await direct_message(api, "The room changed to B12")

    await expect(page.locator("#entries .entry")).to_have_count(2)
    await expect(page.locator("#entries .entry").last).to_contain_text("The room changed to B12")
    await expect(page.locator("#bell-count")).to_have_text("0")  # read where it is shown
    await screenshot(page, f"messages-{width}")
    assert await page.evaluate(AUDIT) == []
    assert page.script_errors == []


async def test_a_first_message_from_someone_new_adds_their_conversation_live(signed_in, api):
    page = await signed_in("student", "/lms/messages/")
    await bell_live(page)
    await expect(page.locator("#conversations li")).to_have_text(["No conversations yet."])

    await direct_message(api, "Welcome to the course", as_="instructor")

    await expect(page.locator("#conversations a")).to_contain_text("instructor-1")


async def test_a_new_message_to_someone_opens_that_conversation(signed_in, api):
    page = await signed_in("student", "/lms/messages/")

    await page.get_by_label("To (user id)").fill("student-2")
    await page.get_by_label("Your message").fill("Hi, I am in your group")
    await page.get_by_role("button", name="Send").click()

    await expect(page.locator("#conversation-title")).to_have_text("With student-2")
    await expect(page.locator("#entries .entry.mine")).to_contain_text("Hi, I am in your group")
    await expect(page.get_by_label("To (user id)")).to_be_hidden()
    received = await api.get(MESSAGES + "?box=inbox", as_="student2")
    assert [m["content"] for m in received.body["results"]] == ["Hi, I am in your group"]


def rewrite_senders(change: Callable[[dict[str, Any]], None]) -> Callable[..., Any]:
    """A route handler passing the messages list through, each message changed by `change`:
    the page is shown both shapes (with and without a sender object) whatever the API gives."""

    async def handle(route: Any) -> None:
        response = await route.fetch()
        body = await response.json()
        for message in body["results"]:
            change(message)
        await route.fulfill(response=response, json=body)

    return handle


def with_name(message: dict[str, Any]) -> None:
    message["sender"] = {"id": message["sender_id"], "name": f"Name of {message['sender_id']}"}


def without_object(message: dict[str, Any]) -> None:
    message.pop("sender", None)


@pytest.mark.parametrize(
    ("change", "shown"), [(with_name, "Name of student-2"), (without_object, "student-2")]
)
async def test_the_sender_is_shown_by_name_when_the_api_gives_one_else_by_id(
    signed_in, api, change, shown
):
    await direct_message(api, "Named or not")
    page = await signed_in("student", "/lms/messages/")
    await page.route("**/api/lms/messaging/messages/?*", rewrite_senders(change))

    await page.locator("#conversations a").filter(has_text="student-2").click()

    await expect(page.locator("#entries .entry .who")).to_have_text([shown])
    await expect(page.locator("#conversation-title")).to_have_text(f"With {shown}")


async def test_a_group_conversation_is_named_and_leads_to_the_group_chat(signed_in, api):
    group = await api.post("/api/lms/groups/groups/", {"name": "Cohort 7"}, as_="instructor")
    await api.post(
        "/api/lms/groups/members/",
        {"group": group.body["id"], "user_id": "student-1"},
        as_="instructor",
    )
    await api.post(
        MESSAGES,
        {"group_id": group.body["id"], "content": "Meet at 6?", "message_type": "group"},
        as_="instructor",
    )
    page = await signed_in("student", "/lms/messages/")

    link = page.locator("#conversations a").filter(has_text="Cohort 7 (group chat)")
    await expect(link).to_contain_text("Meet at 6?")
    await expect(link).to_have_attribute("href", f"/lms/groups/{group.body['id']}/")
