"""My schedule, a week at a time, at phone and desktop width: occurrences on their days
from the window query, previous and next week, accepting and declining invitations.

Weeks in the far future are named in the address (`?week=`), so the tests do not depend on
today's date; times are at noon UTC, the same day in any browser time zone."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.browser.test_tour import AUDIT

SCHEDULES = "/api/lms/schedule/schedules/"
PARTICIPANTS = "/api/lms/schedule/participants/"
MONDAY = "2030-03-04"
NEXT_MONDAY = "2030-03-11"


@pytest.fixture(params=["phone", "desktop"])
def width(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def viewport(width: str) -> dict[str, int]:
    return PHONE if width == "phone" else DESKTOP


async def schedule(
    api: Any, title: str, day: str, invite: str | None = "student-1", **fields: Any
) -> dict[str, Any]:
    """A schedule of instructor-1 from noon to one on `day` (UTC), `invite` invited."""
    body = {
        "title": title,
        "start_time": f"{day}T12:00:00Z",
        "end_time": f"{day}T13:00:00Z",
        "location": "Room 4",
        **fields,
    }
    reply = await api.post(SCHEDULES, body, as_="instructor")
    assert reply.status == 201, reply.body
    if invite:
        invited = await api.post(
            PARTICIPANTS, {"schedule": reply.body["id"], "user_id": invite}, as_="instructor"
        )
        assert invited.status == 201, invited.body
    return dict(reply.body)


def day(page: Any, date: str) -> Any:
    return page.locator(f'#week .day[data-day="{date}"]')


async def test_the_week_shows_my_schedules_on_their_days(signed_in, api, width):
    await schedule(api, "Lecture: joins", "2030-03-05")
    await schedule(api, "Lab session", "2030-03-07")
    page = await signed_in("student", f"/lms/schedule/?week={MONDAY}", viewport=viewport(width))

    await expect(page.locator("#week .day")).to_have_count(7)
    await expect(day(page, "2030-03-05").locator(".occurrence h3")).to_have_text(["Lecture: joins"])
    await expect(day(page, "2030-03-07").locator(".occurrence h3")).to_have_text(["Lab session"])
    await expect(day(page, "2030-03-05")).to_contain_text("Room 4")
    await expect(day(page, MONDAY)).to_contain_text("Nothing planned.")
    await screenshot(page, f"schedule-{width}")
    assert await page.evaluate(AUDIT) == []
    assert page.script_errors == []


async def test_next_and_previous_week_move_the_window_and_the_address(signed_in, api, width):
    await schedule(api, "This week's seminar", "2030-03-06")
    await schedule(api, "Next week's seminar", "2030-03-13")
    page = await signed_in("student", f"/lms/schedule/?week={MONDAY}", viewport=viewport(width))
    await expect(page.locator("#week .occurrence h3")).to_have_text(["This week's seminar"])

    await page.get_by_role("button", name="Next week").click()

    await expect(page).to_have_url(re.compile(rf"\?week={NEXT_MONDAY}$"))
    await expect(page.locator("#week .occurrence h3")).to_have_text(["Next week's seminar"])
    await page.get_by_role("button", name="Previous week").click()
    await expect(page).to_have_url(re.compile(rf"\?week={MONDAY}$"))
    await expect(page.locator("#week .occurrence h3")).to_have_text(["This week's seminar"])
    await page.go_back()
    await expect(page.locator("#week .occurrence h3")).to_have_text(["Next week's seminar"])


async def test_a_recurring_schedule_shows_each_occurrence_of_the_week(signed_in, api):
    await schedule(api, "Stand-up", "2030-03-04", recurrence="FREQ=DAILY;COUNT=10")
    page = await signed_in("student", f"/lms/schedule/?week={MONDAY}")

    await expect(page.locator("#week .occurrence h3")).to_have_count(7)
    await expect(day(page, "2030-03-10").locator(".occurrence h3")).to_have_text(["Stand-up"])


async def test_accepting_an_invitation_saves_the_answer(signed_in, api, width):
    made = await schedule(api, "Office hours", "2030-03-05")
    page = await signed_in("student", f"/lms/schedule/?week={MONDAY}", viewport=viewport(width))
    item = page.locator("#week .occurrence")
    await expect(item.locator(".answer")).to_have_text("Your answer: pending")

    await item.get_by_role("button", name="Accept Office hours").click()

    await expect(item.locator(".answer")).to_have_text("Your answer: accepted")
    await expect(item.get_by_role("button", name="Accept Office hours")).to_have_count(0)
    seen = await api.get(f"{SCHEDULES}{made['id']}/", as_="student")
    assert seen.body["my_response"] == "accepted"
    assert page.script_errors == []


async def test_declining_a_groups_invitation_answers_for_me(signed_in, api):
    group = await api.post("/api/lms/groups/groups/", {"name": "Cohort 7"}, as_="instructor")
    await api.post(
        "/api/lms/groups/members/",
        {"group": group.body["id"], "user_id": "student-1"},
        as_="instructor",
    )
    made = await schedule(api, "Cohort review", "2030-03-08", invite=None)
    await api.post(
        PARTICIPANTS, {"schedule": made["id"], "group": group.body["id"]}, as_="instructor"
    )
    page = await signed_in("student", f"/lms/schedule/?week={MONDAY}")

    await page.get_by_role("button", name="Decline Cohort review").click()

    await expect(page.locator("#week .occurrence .answer")).to_have_text("Your answer: declined")
    seen = await api.get(f"{SCHEDULES}{made['id']}/", as_="student")
    assert seen.body["my_response"] == "declined"


async def test_my_own_schedule_offers_no_answer(signed_in, api):
    await schedule(api, "Planning", "2030-03-05", invite=None)
    page = await signed_in("instructor", f"/lms/schedule/?week={MONDAY}")

    await expect(page.locator("#week .occurrence h3")).to_have_text(["Planning"])
    await expect(page.locator("#week .occurrence button")).to_have_count(0)


async def test_a_cancelled_schedule_is_marked_and_offers_no_answer(signed_in, api):
    made = await schedule(api, "Field trip", "2030-03-05")
    await api.patch(f"{SCHEDULES}{made['id']}/", {"status": "cancelled"}, as_="instructor")
    page = await signed_in("student", f"/lms/schedule/?week={MONDAY}")

    await expect(page.locator("#week .occurrence.cancelled")).to_contain_text("Cancelled")
    await expect(page.locator("#week .occurrence button")).to_have_count(0)


async def test_an_invitation_arriving_while_the_week_is_open_is_shown_at_once(signed_in, api):
    page = await signed_in("student", f"/lms/schedule/?week={MONDAY}")
    await expect(page.locator("#bell")).to_have_attribute("data-state", "live")
    await expect(page.locator("#week .day")).to_have_count(7)

    await schedule(api, "Surprise quiz", "2030-03-06")
    await api.settled()

    await expect(day(page, "2030-03-06").locator(".occurrence h3")).to_have_text(["Surprise quiz"])
