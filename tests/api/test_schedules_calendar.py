"""Scheduling: the iCalendar feed at `schedules/calendar.ics` (the token may come as `?token=`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest

from tests.conftest import token_for

SCHEDULES = "/api/lms/schedule/schedules/"
PARTICIPANTS = "/api/lms/schedule/participants/"
GROUPS = "/api/lms/groups/groups/"
MEMBERS = "/api/lms/groups/members/"
FEED = "/api/lms/schedule/schedules/calendar.ics"


async def create(api, as_: str = "student", **fields: Any) -> dict[str, Any]:
    body = {
        "title": "Team Meeting",
        "description": "Weekly team sync",
        "location": "Conference Room A",
        "start_time": "2025-11-20T10:00:00Z",
        "end_time": "2025-11-20T11:00:00Z",
        **fields,
    }
    reply = await api.post(SCHEDULES, body, as_=as_)
    assert reply.status == 201, reply.body
    return dict(reply.body)


async def feed(api, as_: str = "student") -> dict[str, icalendar.Event]:
    reply = await api.get(FEED, as_=as_)
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(reply.body)
    return {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}


async def test_feed_parses_and_describes_each_schedule(api):
    schedule = await create(api)

    events = await feed(api)

    event = events["Team Meeting"]
    assert str(event["UID"]) == f"schedule-{schedule['id']}@acme.lms"
    assert str(event["DESCRIPTION"]) == "Weekly team sync"
    assert str(event["LOCATION"]) == "Conference Room A"
    assert event.decoded("DTSTART") == datetime(2025, 11, 20, 10, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2025, 11, 20, 11, tzinfo=UTC)
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "DTSTAMP" in event
    assert "LAST-MODIFIED" in event


async def test_uid_is_stable_across_changes(api):
    schedule = await create(api)
    before = (await feed(api))["Team Meeting"]["UID"]

    await api.patch(f"{SCHEDULES}{schedule['id']}/", {"location": "Room B"}, as_="student")

    assert (await feed(api))["Team Meeting"]["UID"] == before


async def test_recurring_schedule_carries_its_rule_and_timezone(api):
    await create(
        api,
        start_time="2025-10-13T08:00:00Z",
        end_time="2025-10-13T09:00:00Z",
        timezone="Europe/Berlin",
        recurrence="FREQ=WEEKLY;UNTIL=20251231",
    )

    reply = await api.get(FEED, as_="student")
    calendar = icalendar.Calendar.from_ical(reply.body)
    [event] = calendar.walk("VEVENT")

    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert event.decoded("DTSTART") == datetime(2025, 10, 13, 10, tzinfo=ZoneInfo("Europe/Berlin"))
    # UNTIL is in UTC next to a TZID start (RFC 5545 3.3.10).
    assert event["RRULE"].to_ical() == b"FREQ=WEEKLY;UNTIL=20251231T225959Z"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]


async def test_cancelled_schedule_is_status_cancelled(api):
    schedule = await create(api)
    await api.patch(f"{SCHEDULES}{schedule['id']}/", {"status": "cancelled"}, as_="student")

    event = (await feed(api))["Team Meeting"]

    assert str(event["STATUS"]) == "CANCELLED"


async def test_all_day_schedule_uses_dates(api):
    await create(
        api,
        title="Holiday",
        is_all_day=True,
        start_time="2025-12-24T00:00:00Z",
        end_time="2025-12-26T00:00:00Z",
    )

    event = (await feed(api))["Holiday"]

    assert (event.decoded("DTSTART"), event.decoded("DTEND")) == (
        date(2025, 12, 24),
        date(2025, 12, 26),
    )


async def test_feed_has_what_i_created_or_am_invited_to_and_nothing_else(api):
    await create(api, title="Mine")
    invited = await create(api, as_="instructor", title="Invited")
    await api.post(
        PARTICIPANTS, {"schedule": invited["id"], "user_id": "student-1"}, as_="instructor"
    )
    through_group = await create(api, as_="instructor", title="Group")
    group = await api.post(GROUPS, {"name": "Crew"}, as_="instructor")
    await api.post(MEMBERS, {"group": group.body["id"], "user_id": "student-1"}, as_="instructor")
    await api.post(
        PARTICIPANTS, {"schedule": through_group["id"], "group": group.body["id"]}, as_="instructor"
    )
    await create(api, as_="student2", title="Not mine")

    assert sorted(await feed(api)) == ["Group", "Invited", "Mine"]


async def test_admin_feed_holds_only_their_own_schedules(api):
    await create(api, title="A student's")
    await create(api, as_="admin", title="The admin's")

    assert sorted(await feed(api, as_="admin")) == ["The admin's"]


async def test_token_may_come_in_the_query_for_calendar_clients(api):
    await create(api)
    token = token_for("student-1", "student")

    reply = await api.get(f"{FEED}?token={token}")

    assert reply.status == 200
    [event] = icalendar.Calendar.from_ical(reply.body).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Team Meeting"


@pytest.mark.parametrize("query", ["", "?token=not-a-token"])
async def test_feed_without_a_valid_token_is_401(api, query):
    reply = await api.get(f"{FEED}{query}")

    assert reply.status == 401


async def test_token_in_the_query_is_not_accepted_elsewhere(api):
    token = token_for("student-1", "student")

    reply = await api.get(f"{SCHEDULES}?token={token}")

    assert reply.status == 401


async def test_feed_of_another_tenant_is_empty(api):
    await create(api)

    reply = await api.get(FEED, as_="b_student")

    assert icalendar.Calendar.from_ical(reply.body).walk("VEVENT") == []
