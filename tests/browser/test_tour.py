"""Every page at phone width: labelled controls, no sideways scrolling, no script error;
a screenshot of each for the CI artifacts. Also signing in by pasting a token."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.fakes.commerce import add_to_cart

# What a screen reader or a phone user would trip over, as a list of findings.
AUDIT = """() => {
  const findings = [];
  for (const control of document.querySelectorAll("input, select, textarea")) {
    const named = control.labels.length || control.getAttribute("aria-label")
      || control.getAttribute("aria-labelledby");
    if (!named) findings.push(`unlabelled ${control.outerHTML.slice(0, 80)}`);
  }
  for (const action of document.querySelectorAll("button, a[href]")) {
    if (action.offsetParent && !action.textContent.trim() && !action.getAttribute("aria-label")) {
      findings.push(`nameless ${action.outerHTML.slice(0, 80)}`);
    }
  }
  if (document.querySelectorAll("h1").length !== 1) findings.push("not exactly one h1");
  const width = document.documentElement.scrollWidth;
  if (width > window.innerWidth) findings.push(`scrolls sideways: ${width} > ${window.innerWidth}`);
  return findings;
}"""


@pytest.fixture
async def world(api: Any, make: Any) -> dict[str, str]:
    """One of everything a student sees, so that no page is shown empty."""
    free = await make.course(title="Python Fundamentals", short_description="From zero.")
    module = await make.module(free["id"], title="Getting started")
    await make.lesson(module["id"], title="Installing Python")
    await make.enroll(free["id"], as_="student")
    paid = await make.course(title="Advanced Python", price="99.99", level="Advanced")
    await add_to_cart(api, paid["id"])
    forum = await api.post("/api/lms/forum/forums/", {"title": "Study hall"}, as_="instructor")
    await api.post(
        "/api/lms/forum/posts/",
        {"forum": forum.body["id"], "content": "Welcome, everyone!"},
        as_="instructor",
    )
    group = await api.post("/api/lms/groups/groups/", {"name": "Cohort 7"}, as_="instructor")
    await api.post(
        "/api/lms/groups/members/",
        {"group": group.body["id"], "user_id": "student-1"},
        as_="instructor",
    )
    await api.post(
        "/api/lms/messaging/messages/",
        {"group_id": group.body["id"], "content": "Meet at 6?", "message_type": "group"},
        as_="instructor",
    )
    await api.settled()
    return {
        "signin": "/lms/signin/",
        "catalogue": "/lms/",
        "course": f"/lms/courses/{free['id']}/",
        "cart": "/lms/cart/",
        "forums": "/lms/forums/",
        "forum": f"/lms/forums/{forum.body['id']}/",
        "groups": "/lms/groups/",
        "group": f"/lms/groups/{group.body['id']}/",
        "tutor": "/lms/tutor/",
        "notifications": "/lms/notifications/",
        "messages": "/lms/messages/",
        "schedule": "/lms/schedule/",
    }


@pytest.mark.parametrize("width", ["phone", "desktop"])
async def test_every_page_is_labelled_fits_the_screen_and_runs_without_errors(
    signed_in, world, width
):
    page = await signed_in("student", viewport=PHONE if width == "phone" else DESKTOP)
    findings = {}
    for name, path in world.items():
        await page.goto(path)
        await page.wait_for_load_state("networkidle")
        await screenshot(page, f"tour-{name}-{width}")
        if found := await page.evaluate(AUDIT):
            findings[name] = found
    assert findings == {}
    assert page.script_errors == []


async def test_the_first_tab_reaches_the_skip_link_which_moves_focus_to_the_content(signed_in):
    page = await signed_in("student")

    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    await page.keyboard.press("Enter")

    await expect(page.locator("main")).to_be_focused()


async def test_pasting_a_token_signs_in_and_returns_to_the_page_asked_for(browser, base_url, api):
    async with await browser.new_context(base_url=base_url, viewport=PHONE) as context:
        page = await context.new_page()
        await page.goto("/lms/cart/")
        await page.get_by_role("alert").get_by_role("link", name="Sign in").click()

        await page.get_by_label("Access token").fill(api.tokens["student2"])
        await page.get_by_role("button", name="Sign in").click()

        await expect(page).to_have_url(f"{base_url}/lms/cart/")
        await expect(page.locator("#whoami")).to_have_text("Signed in as student-2")
        await expect(page.locator("#items")).to_contain_text("Your cart is empty.")


async def test_a_token_from_the_auth_service_redirect_is_kept_and_taken_out_of_the_address(
    signed_in, base_url
):
    page = await signed_in("student", "/lms/forums/")

    await expect(page).to_have_url(f"{base_url}/lms/forums/")
    await expect(page.locator("#whoami")).to_have_text("Signed in as student-1")
