"""Scheduling: `GET schedules/?start=&end=` expands recurrences inside the window."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import update

from models.schedules import walk
from models.schedules.operations import TOO_MUCH
from models.schedules.tables import Schedule
from tests.matchers import q
from web.keys import DATABASES

SCHEDULES = "/api/lms/schedule/schedules/"
PARTICIPANTS = "/api/lms/schedule/participants/"


def window(start: str, end: str, **params: Any) -> str:
    return q(SCHEDULES, {"start": start, "end": end, **params})


async def create(api, as_: str = "student", **fields: Any) -> dict[str, Any]:
    body = {
        "title": "Standup",
        "start_time": "2025-11-20T10:00:00Z",
        "end_time": "2025-11-20T11:00:00Z",
        **fields,
    }
    reply = await api.post(SCHEDULES, body, as_=as_)
    assert reply.status == 201, reply.body
    return dict(reply.body)


def spans(reply: Any) -> list[tuple[str, str]]:
    return [(s["start_time"], s["end_time"]) for s in reply.body["results"]]


async def test_weekly_berlin_meeting_keeps_10_00_local_across_the_end_of_dst(api):
    await create(
        api,
        start_time="2025-10-13T08:00:00Z",  # 10:00 CEST
        end_time="2025-10-13T09:00:00Z",
        timezone="Europe/Berlin",
        recurrence="FREQ=WEEKLY",
    )

    reply = await api.get(window("2025-10-20T00:00:00Z", "2025-11-04T00:00:00Z"), as_="student")

    assert reply.status == 200
    # DST ends on the last Sunday of October (the 26th): 10:00 is then 09:00Z.
    assert spans(reply) == [
        ("2025-10-20T08:00:00Z", "2025-10-20T09:00:00Z"),
        ("2025-10-27T09:00:00Z", "2025-10-27T10:00:00Z"),
        ("2025-11-03T09:00:00Z", "2025-11-03T10:00:00Z"),
    ]


async def test_each_occurrence_names_its_recurrence_id(api):
    schedule = await create(api, recurrence="FREQ=DAILY;COUNT=3")

    reply = await api.get(window("2025-11-01T00:00:00Z", "2025-12-01T00:00:00Z"), as_="student")

    assert [(s["id"], s["recurrence_id"]) for s in reply.body["results"]] == [
        (schedule["id"], "2025-11-20T10:00:00Z"),
        (schedule["id"], "2025-11-21T10:00:00Z"),
        (schedule["id"], "2025-11-22T10:00:00Z"),
    ]


async def test_until_ends_the_series_inclusive(api):
    await create(api, recurrence="FREQ=DAILY;UNTIL=20251122T100000Z")

    reply = await api.get(window("2025-11-01T00:00:00Z", "2025-12-01T00:00:00Z"), as_="student")

    assert reply.body["count"] == 3


async def test_non_recurring_schedules_appear_when_they_overlap_the_window(api):
    await create(api, title="Inside")
    await create(api, title="Overlapping", start_time="2025-11-19T23:00:00Z")
    await create(
        api, title="Before", start_time="2025-11-18T10:00:00Z", end_time="2025-11-19T00:00:00Z"
    )
    await create(
        api, title="After", start_time="2025-11-21T00:00:00Z", end_time="2025-11-21T01:00:00Z"
    )

    reply = await api.get(window("2025-11-20T00:00:00Z", "2025-11-21T00:00:00Z"), as_="student")

    assert [s["title"] for s in reply.body["results"]] == ["Overlapping", "Inside"]
    assert [s["recurrence_id"] for s in reply.body["results"]] == [None, None]


async def test_occurrences_of_several_schedules_are_merged_by_start(api):
    await create(api, title="Daily", recurrence="FREQ=DAILY")
    await create(
        api,
        title="Once",
        start_time="2025-11-21T09:00:00Z",
        end_time="2025-11-21T09:30:00Z",
    )

    reply = await api.get(window("2025-11-20T00:00:00Z", "2025-11-22T00:00:00Z"), as_="student")

    assert [(s["title"], s["start_time"]) for s in reply.body["results"]] == [
        ("Daily", "2025-11-20T10:00:00Z"),
        ("Once", "2025-11-21T09:00:00Z"),
        ("Daily", "2025-11-21T10:00:00Z"),
    ]


async def test_occurrences_are_paginated_keeping_the_window(api):
    await create(api, recurrence="FREQ=DAILY")

    reply = await api.get(
        window("2025-11-20T00:00:00Z", "2025-12-20T00:00:00Z", page_size=10), as_="student"
    )

    assert (reply.body["count"], len(reply.body["results"])) == (30, 10)
    kept = parse_qs(urlsplit(reply.body["next"]).query)
    assert (kept["start"], kept["end"], kept["page"]) == (
        ["2025-11-20T00:00:00Z"],
        ["2025-12-20T00:00:00Z"],
        ["2"],
    )
    second = await api.get(
        window("2025-11-20T00:00:00Z", "2025-12-20T00:00:00Z", page_size=10, page=2), as_="student"
    )
    assert second.body["results"][0]["start_time"] == "2025-11-30T10:00:00Z"


SIX_A_DAY = "FREQ=DAILY;BYHOUR=0,4,8,12,16,20"  # the most times a day a rule may hold
# Saved before BYMINUTE and BYSECOND were refused: 86,400 occurrences a day.
EVERY_SECOND = "FREQ=DAILY;BYHOUR={};BYMINUTE={};BYSECOND={}".format(
    ",".join(str(h) for h in range(24)), *[",".join(str(m) for m in range(60))] * 2
)
YEAR = ("2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z")


async def test_a_rule_that_never_ends_is_capped_per_window(api):
    await create(
        api,
        recurrence=SIX_A_DAY,
        start_time="2025-01-01T00:00:00Z",
        end_time="2025-01-01T00:30:00Z",
    )

    reply = await api.get(window(*YEAR), as_="student")

    assert reply.status == 200
    assert reply.body["count"] == 1000


async def store_rule(api, schedule_id: int, rule: str) -> None:
    """Write a rule as an older version let it be saved, past today's checks."""
    async with api.client.app[DATABASES].tenant_sessions("acme").begin() as session:
        await session.execute(
            update(Schedule).where(Schedule.id == schedule_id).values(recurrence=rule)
        )


async def test_a_stored_rule_of_every_second_lists_its_first_occurrences_in_the_window(api):
    schedule = await create(
        api,
        recurrence="FREQ=DAILY",
        start_time="2025-01-01T00:00:00Z",
        end_time="2025-01-01T00:30:00Z",
    )
    await store_rule(api, schedule["id"], EVERY_SECOND)

    reply = await api.get(window("2025-06-01T00:00:00Z", "2025-06-08T00:00:00Z"), as_="student")

    assert reply.status == 200
    assert reply.body["count"] == 1000
    assert reply.body["results"][0]["start_time"] == "2025-05-31T23:30:01Z"


async def test_a_stored_rule_of_every_second_is_still_in_the_calendar_feed(api):
    schedule = await create(api, recurrence="FREQ=DAILY")
    await store_rule(api, schedule["id"], EVERY_SECOND)

    reply = await api.get(f"{SCHEDULES}calendar.ics", as_="student")

    assert reply.status == 200
    assert b"BYSECOND=0,1,2" in reply.body


async def test_a_stored_rule_of_every_second_can_still_be_renamed(api):
    schedule = await create(api, recurrence="FREQ=DAILY")
    await store_rule(api, schedule["id"], EVERY_SECOND)

    reply = await api.patch(f"{SCHEDULES}{schedule['id']}/", {"title": "Renamed"}, as_="student")

    assert (reply.status, reply.body["recurrence"]) == (200, EVERY_SECOND)


async def test_a_window_needing_more_work_than_a_request_may_take_is_a_400(api, monkeypatch):
    # Each of these schedules takes a little over 1,000 units of work in a year's window.
    monkeypatch.setattr(walk, "MAX_EXAMINED_PER_REQUEST", 1500)
    for _ in range(2):
        await create(
            api,
            recurrence=SIX_A_DAY,
            start_time="2025-01-01T00:00:00Z",
            end_time="2025-01-01T00:30:00Z",
        )

    first = await api.get(window(*YEAR), as_="student")
    second = await api.get(window(*YEAR, page=2), as_="student")
    shorter = await api.get(window("2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"), as_="student")

    expected = {"end": [TOO_MUCH], "status": 400}
    assert (first.status, first.body) == (400, expected)
    assert (second.status, second.body) == (400, expected)
    assert (shorter.status, shorter.body["count"]) == (200, 2 * 6 * 31)


async def test_a_series_long_before_the_window_is_expanded_from_the_window(api):
    await create(
        api,
        recurrence="FREQ=DAILY",
        start_time="1900-01-01T10:00:00Z",
        end_time="1900-01-01T11:00:00Z",
    )

    reply = await api.get(window("2999-12-30T00:00:00Z", "2999-12-31T23:59:59Z"), as_="student")

    assert spans(reply) == [
        ("2999-12-30T10:00:00Z", "2999-12-30T11:00:00Z"),
        ("2999-12-31T10:00:00Z", "2999-12-31T11:00:00Z"),
    ]


async def test_window_listing_shows_only_my_schedules(api):
    await create(api, as_="student2", recurrence="FREQ=DAILY")

    reply = await api.get(window("2025-11-20T00:00:00Z", "2025-11-22T00:00:00Z"), as_="student")

    assert reply.body["count"] == 0


async def test_window_listing_filters_by_status(api):
    schedule = await create(api, recurrence="FREQ=DAILY;COUNT=2")
    await api.patch(f"{SCHEDULES}{schedule['id']}/", {"status": "cancelled"}, as_="student")

    scheduled = await api.get(
        window("2025-11-20T00:00:00Z", "2025-11-22T00:00:00Z", status="scheduled"), as_="student"
    )
    cancelled = await api.get(
        window("2025-11-20T00:00:00Z", "2025-11-22T00:00:00Z", status="cancelled"), as_="student"
    )

    assert (scheduled.body["count"], cancelled.body["count"]) == (0, 2)


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        (
            {"start": "2025-11-20T00:00:00Z"},
            {"end": ["This field is required when start is given."]},
        ),
        ({"end": "2025-11-20T00:00:00Z"}, {"start": ["This field is required when end is given."]}),
        (
            {"start": "2025-11-20T00:00:00Z", "end": "2025-11-19T00:00:00Z"},
            {"end": ["End must be after start."]},
        ),
        (
            {"start": "2025-11-20T00:00:00Z", "end": "2025-11-20T00:00:00Z"},
            {"end": ["End must be after start."]},
        ),
        (
            {"start": "2025-01-01T00:00:00Z", "end": "2026-01-02T00:00:01Z"},
            {"end": ["The window may span at most 366 days."]},
        ),
        (
            {"start": "0001-01-01T00:00:00Z", "end": "9999-12-31T00:00:00Z"},
            {
                "start": ["Datetime must fall between 1900 and 2999."],
                "end": ["Datetime must fall between 1900 and 2999."],
            },
        ),
        (
            {"start": "yesterday", "end": "2025-11-20T00:00:00Z"},
            {"start": ["Datetime has wrong format. Use ISO 8601, e.g. 2025-11-20T10:00:00Z."]},
        ),
        (
            # A number would be read as seconds since 1970: only ISO 8601 text is a time.
            {"start": "1700000000", "end": "2025-11-20T00:00:00Z"},
            {"start": ["Datetime has wrong format. Use ISO 8601, e.g. 2025-11-20T10:00:00Z."]},
        ),
        (
            {"start": "2025-11-20T00:00:00Z\x00", "end": "2025-11-21T00:00:00Z"},
            {"start": ["Null characters are not allowed."]},
        ),
        ({"start": "9" * 5000, "end": "2025-11-21T00:00:00Z"}, None),
    ],
)
async def test_bad_windows_are_400s(api, params, errors):
    reply = await api.get(q(SCHEDULES, params), as_="student")

    assert reply.status == 400
    if errors is not None:
        assert reply.body == {**errors, "status": 400}
