"""The notification bell in every page's header and the inbox page, at phone and desktop
width: the count follows new notifications live, mark read, filters, preferences."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.browser.test_tour import AUDIT

PREFERENCES = "/api/lms/notifications/preferences/"


@pytest.fixture(params=["phone", "desktop"])
def width(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def viewport(width: str) -> dict[str, int]:
    return PHONE if width == "phone" else DESKTOP


async def direct_message(
    api: Any, content: str, as_: str = "student2", to: str = "student-1"
) -> None:
    """A direct message: its recipient gets a `direct_message` notification."""
    reply = await api.post(
        "/api/lms/messaging/messages/",
        {"recipient_id": to, "content": content, "message_type": "direct"},
        as_=as_,
    )
    assert reply.status == 201, reply.body
    await api.settled()


async def bell_live(page: Any) -> None:
    await expect(page.locator("#bell")).to_have_attribute("data-state", "live")


async def test_the_bell_counts_a_new_notification_live_without_reload(signed_in, api, width):
    page = await signed_in("student", "/lms/", viewport=viewport(width))
    await bell_live(page)
    await expect(page.locator("#bell-count")).to_have_text("0")

    await direct_message(api, "Are you coming to the review?")

    await expect(page.locator("#bell-count")).to_have_text("1")
    await expect(page.locator("#bell")).to_have_attribute("aria-label", "Notifications: 1 unread")
    await screenshot(page, f"bell-{width}")
    assert await page.evaluate(AUDIT) == []
    assert page.script_errors == []


async def test_the_bell_counts_what_arrived_while_the_connection_was_down(signed_in, api):
    page = await signed_in("student", "/lms/forums/")
    await bell_live(page)

    await page.context.set_offline(True)
    await expect(page.locator("#bell")).not_to_have_attribute("data-state", "live")
    await direct_message(api, "Sent while you were away")
    await page.context.set_offline(False)

    await bell_live(page)
    await expect(page.locator("#bell-count")).to_have_text("1")


async def test_the_bell_leads_to_the_inbox_where_the_new_notification_stands_out(signed_in, api):
    await direct_message(api, "See you at six")
    page = await signed_in("student", "/lms/cart/")
    await expect(page.locator("#bell-count")).to_have_text("1")

    await page.locator("#bell").click()

    await expect(page).to_have_url(re.compile(r"/lms/notifications/$"))
    unread = page.locator("#notifications .notification.unread")
    await expect(unread).to_have_count(1)
    await expect(unread).to_contain_text("Message from student-2")
    await expect(unread).to_contain_text("See you at six")


async def test_a_notification_arriving_while_the_inbox_is_open_is_listed_at_once(signed_in, api):
    page = await signed_in("student", "/lms/notifications/")
    await bell_live(page)
    await expect(page.locator("#result-count")).to_have_text("0 notifications")

    await direct_message(api, "Fresh news")

    await expect(page.locator("#notifications .notification.unread")).to_contain_text("Fresh news")
    await expect(page.locator("#result-count")).to_have_text("1 notification")


async def test_marking_one_read_removes_its_emphasis_and_lowers_the_bell(signed_in, api, width):
    await direct_message(api, "First note")
    await direct_message(api, "Second note")
    page = await signed_in("student", "/lms/notifications/", viewport=viewport(width))
    await expect(page.locator("#notifications .notification.unread")).to_have_count(2)
    await expect(page.locator("#bell-count")).to_have_text("2")

    newest = page.locator("#notifications .notification").first
    await expect(newest).to_contain_text("Second note")
    await newest.get_by_role("button", name=re.compile(r"^Mark .* read$")).click()

    await expect(page.locator("#notifications .notification.unread")).to_have_count(1)
    await expect(page.locator("#notifications .notification.unread")).to_contain_text("First note")
    await expect(page.locator("#bell-count")).to_have_text("1")
    await screenshot(page, f"inbox-{width}")
    assert await page.evaluate(AUDIT) == []
    assert page.script_errors == []


async def test_mark_all_read_leaves_nothing_unread(signed_in, api):
    await direct_message(api, "One")
    await direct_message(api, "Two")
    page = await signed_in("student", "/lms/notifications/")
    await expect(page.locator("#notifications .notification.unread")).to_have_count(2)

    await page.get_by_role("button", name="Mark all read").click()

    await expect(page.locator("#notifications .notification.unread")).to_have_count(0)
    await expect(page.locator("#notifications .notification")).to_have_count(2)
    await expect(page.locator("#bell-count")).to_have_text("0")


async def test_the_unread_filter_lists_only_unread_ones_and_stays_in_the_address(signed_in, api):
    await direct_message(api, "Already seen")
    seen = await api.get("/api/lms/notifications/notifications/", as_="student")
    first = seen.body["results"][0]["id"]
    await api.post(f"/api/lms/notifications/notifications/{first}/read/", as_="student")
    await direct_message(api, "Not yet seen")
    page = await signed_in("student", "/lms/notifications/")
    await expect(page.locator("#notifications .notification")).to_have_count(2)

    await page.get_by_label("Show").select_option("unread")
    await page.get_by_role("button", name="Apply").click()

    await expect(page.locator("#notifications .notification")).to_have_count(1)
    await expect(page.locator("#notifications .notification")).to_contain_text("Not yet seen")
    await page.reload()
    await expect(page.get_by_label("Show")).to_have_value("unread")
    await expect(page.locator("#notifications .notification")).to_have_count(1)


async def test_the_type_filter_lists_only_that_type(signed_in, api):
    await direct_message(api, "A direct one")
    page = await signed_in("student", "/lms/notifications/")
    await expect(page.locator("#notifications .notification")).to_have_count(1)

    await page.get_by_label("Type").select_option("announcement")
    await page.get_by_role("button", name="Apply").click()

    await expect(page.locator("#result-count")).to_have_text("0 notifications")
    await page.get_by_label("Type").select_option("direct_message")
    await page.get_by_role("button", name="Apply").click()
    await expect(page.locator("#notifications .notification")).to_contain_text("A direct one")


async def test_a_preference_saved_in_the_form_is_the_apis_and_survives_a_reload(
    signed_in, api, width
):
    page = await signed_in("student", "/lms/notifications/", viewport=viewport(width))
    await expect(page.get_by_label("Direct messages")).to_have_value("in_app")

    await page.get_by_label("Direct messages").select_option("email")
    await page.get_by_label("Mentions").select_option("off")
    await page.get_by_role("button", name="Save preferences").click()

    await expect(page.locator("#prefs-status")).to_have_text("Preferences saved.")
    saved = await api.get(PREFERENCES, as_="student")
    assert (saved.body["direct_message"], saved.body["mention"]) == ("email", "off")
    assert saved.body["announcement"] == "in_app"
    await page.reload()
    await expect(page.get_by_label("Direct messages")).to_have_value("email")
    assert page.script_errors == []


async def test_following_a_notification_reads_it_and_opens_what_it_names(signed_in, api):
    await direct_message(api, "Look at this")
    page = await signed_in("student", "/lms/notifications/")

    await page.get_by_role("link", name="Message from student-2").click()

    await expect(page).to_have_url(re.compile(r"/lms/messages/\?with=student-2$"))
    await expect(page.locator("#entries .entry .text")).to_have_text(["Look at this"])
    await expect(page.locator("#bell-count")).to_have_text("0")
