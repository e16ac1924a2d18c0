"""The forum room in two browsers at once: live posts, typing, presence, resume."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.conftest import PHONE, screenshot


@pytest.fixture
async def forum(api: Any) -> dict[str, Any]:
    reply = await api.post(
        "/api/lms/forum/forums/",
        {"title": "Study hall", "description": "Ask anything."},
        as_="instructor",
    )
    assert reply.status == 201, reply.body
    return dict(reply.body)


async def live(page: Any, path: str) -> None:
    await page.goto(path)
    await expect(page.locator("#room-status")).to_have_text("Live")


async def test_a_post_typed_by_one_user_appears_for_the_other_without_reload(signed_in, forum):
    path = f"/lms/forums/{forum['id']}/"
    alice = await signed_in("student", path)
    bob = await signed_in("student2", path, viewport=PHONE)
    await expect(alice.locator("#room-status")).to_have_text("Live")
    await expect(bob.locator("#room-status")).to_have_text("Live")

    await alice.get_by_label("Your post").fill("Does anyone have notes on <b>lesson 3</b>?")
    await alice.get_by_role("button", name="Send").click()

    entry = bob.locator("#entries .entry").filter(has_text="notes on <b>lesson 3</b>?")
    await expect(entry).to_contain_text("student-1")
    await expect(bob.locator("#entries b")).to_have_count(0)  # shown as text, never as markup
    await screenshot(alice, "forum-room-desktop")
    await screenshot(bob, "forum-room-phone")
    assert alice.script_errors == bob.script_errors == []


async def test_the_other_user_sees_who_is_typing(signed_in, forum):
    path = f"/lms/forums/{forum['id']}/"
    alice = await signed_in("student", path)
    bob = await signed_in("student2", path)
    await expect(alice.locator("#room-status")).to_have_text("Live")
    await expect(bob.locator("#room-status")).to_have_text("Live")

    await alice.get_by_label("Your post").press_sequentially("Hel")

    await expect(bob.locator("#typing")).to_have_text("student-1 is typing…")
    await expect(alice.locator("#typing")).to_have_text("")


async def test_who_is_online_lists_both_users_in_the_room(signed_in, forum):
    path = f"/lms/forums/{forum['id']}/"
    alice = await signed_in("student", path)
    await expect(alice.locator("#room-status")).to_have_text("Live")
    bob = await signed_in("student2", path)
    await expect(bob.locator("#room-status")).to_have_text("Live")

    await expect(bob.locator("#online li")).to_have_text(["student-1", "student-2 (you)"])


async def test_after_a_dropped_connection_the_room_resumes_with_what_was_missed(
    signed_in, forum, api
):
    alice = await signed_in("student", f"/lms/forums/{forum['id']}/")
    await expect(alice.locator("#room-status")).to_have_text("Live")

    await alice.context.set_offline(True)
    await expect(alice.locator("#room-status")).to_contain_text("Offline")
    missed = await api.post(
        "/api/lms/forum/posts/",
        {"forum": forum["id"], "content": "Posted while you were away"},
        as_="student2",
    )
    assert missed.status == 201, missed.body
    await alice.context.set_offline(False)

    await expect(alice.locator("#room-status")).to_have_text("Live")
    await expect(alice.locator("#entries .entry")).to_have_count(1)
    await expect(alice.locator("#entries .entry")).to_contain_text("Posted while you were away")
