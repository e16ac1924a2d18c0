"""Recurrence rules: validation, DST-true expansion, and bounded work (no API, no database)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from dateutil.rrule import rrulestr

from models.schedules import walk
from models.schedules.recurrence import (
    MAX_HOURS,
    RuleError,
    ical_rule,
    normalize_rule,
    to_local,
    to_utc,
    zone,
)
from models.schedules.walk import Budget, TooMuchWork, expand, occurrences, series_end

BERLIN = zone("Europe/Berlin")
NEW_YORK = zone("America/New_York")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("FREQ=WEEKLY;BYDAY=MO", "FREQ=WEEKLY;BYDAY=MO"),
        ("RRULE:FREQ=WEEKLY;BYDAY=MO", "FREQ=WEEKLY;BYDAY=MO"),
        ("  rrule:byday=mo,we;freq=weekly  ", "FREQ=WEEKLY;BYDAY=MO,WE"),
        ("FREQ=MONTHLY;BYDAY=-1FR", "FREQ=MONTHLY;BYDAY=-1FR"),
    ],
)
def test_rules_are_normalized(given, stored):
    assert normalize_rule(given) == stored


def test_weekly_rule_keeps_local_time_across_the_autumn_dst_change():
    found = occurrences(
        "FREQ=WEEKLY",
        start=utc(2025, 10, 13, 8),
        end=utc(2025, 10, 13, 9),
        tz=BERLIN,
        ends=None,
        window=(utc(2025, 10, 20), utc(2025, 11, 4)),
    )

    assert [b for b, _ in found] == [
        utc(2025, 10, 20, 8),
        utc(2025, 10, 27, 9),
        utc(2025, 11, 3, 9),
    ]


def test_daily_rule_keeps_local_time_across_the_spring_dst_change():
    found = occurrences(
        "FREQ=DAILY",
        start=utc(2025, 3, 7, 14),  # 09:00 EST
        end=utc(2025, 3, 7, 15),
        tz=NEW_YORK,
        ends=None,
        window=(utc(2025, 3, 8), utc(2025, 3, 11)),
    )

    assert [b for b, _ in found] == [utc(2025, 3, 8, 14), utc(2025, 3, 9, 13), utc(2025, 3, 10, 13)]


async def test_all_day_occurrences_last_a_calendar_day_across_dst():
    start = to_utc(datetime(2025, 10, 25), BERLIN)
    found = occurrences(
        "FREQ=DAILY;COUNT=2",
        start=start,
        end=to_utc(datetime(2025, 10, 26), BERLIN),
        tz=BERLIN,
        ends=await series_end(
            "FREQ=DAILY;COUNT=2", start=start, end=to_utc(datetime(2025, 10, 26), BERLIN), tz=BERLIN
        ),
        window=(utc(2025, 10, 1), utc(2025, 11, 1)),
    )

    assert [e - b for b, e in found] == [timedelta(hours=24), timedelta(hours=25)]


async def test_count_series_end_is_its_last_occurrences_end():
    end = await series_end(
        "FREQ=WEEKLY;COUNT=3", start=utc(2025, 1, 6, 9), end=utc(2025, 1, 6, 10), tz=zone("UTC")
    )

    assert end == utc(2025, 1, 20, 10)


async def test_infinite_series_has_no_end():
    end = await series_end("FREQ=DAILY", start=utc(2025, 1, 1), end=utc(2025, 1, 1, 1), tz=BERLIN)

    assert end is None


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=DAILY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=DAILY;INTERVAL=7;BYDAY=TU",  # the start is a Monday: every 7th day is one
        "FREQ=WEEKLY;BYMONTH=4;BYDAY=MO;BYSETPOS=6",
        "FREQ=WEEKLY;INTERVAL=2;BYMONTH=2;BYDAY=MO;BYSETPOS=5",
        "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=31",
        "FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=31",  # the start is in February
        "FREQ=YEARLY;BYMONTH=11;BYMONTHDAY=31",
        "FREQ=YEARLY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=29",  # odd years only
    ],
)
async def test_a_rule_that_never_matches_is_refused(rule):
    with pytest.raises(RuleError, match="no occurrence"):
        await series_end(rule, start=utc(1901, 2, 4), end=utc(1901, 2, 4, 1), tz=BERLIN)


async def test_the_probe_gives_up_after_its_units_of_work(monkeypatch):
    # A Monday 29 February: the first is in 2044, 20 years (20 units at least) on.
    monkeypatch.setattr(walk, "MAX_PROBE", 10)

    with pytest.raises(RuleError, match="no occurrence"):
        await series_end(
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO",
            start=utc(2025, 1, 1),
            end=utc(2025, 1, 1, 1),
            tz=BERLIN,
        )


async def test_a_count_too_far_away_to_reach_is_refused(monkeypatch):
    monkeypatch.setattr(walk, "MAX_PROBE", 100)

    with pytest.raises(RuleError, match="too far apart"):
        await series_end(
            "FREQ=DAILY;COUNT=500", start=utc(2025, 1, 1), end=utc(2025, 1, 1, 1), tz=BERLIN
        )


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("FREQ=DAILY;BYSECOND=0,30", "BYSECOND is not supported"),
        ("FREQ=WEEKLY;BYMINUTE=0,15,30,45", "BYMINUTE is not supported"),
        ("FREQ=DAILY;BYHOUR=" + ",".join(str(h) for h in range(MAX_HOURS + 1)), "BYHOUR may"),
        ("FREQ=HOURLY", "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY"),
        ("FREQ=MINUTELY;BYSECOND=1", "FREQ must be"),
    ],
)
def test_parts_that_multiply_a_days_occurrences_are_refused(rule, message):
    with pytest.raises(RuleError, match=message):
        normalize_rule(rule)


def test_six_hours_a_day_are_allowed():
    assert normalize_rule("FREQ=DAILY;BYHOUR=8,10,12,14,16,18") == (
        "FREQ=DAILY;BYHOUR=8,10,12,14,16,18"
    )


# The walk that jumps to the window finds what a walk from the first occurrence finds.
RULES = [
    "FREQ=DAILY",
    "FREQ=DAILY;INTERVAL=3",
    "FREQ=DAILY;BYDAY=MO,FR",
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29",
    "FREQ=DAILY;INTERVAL=5;BYMONTH=1,7",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH",
    "FREQ=WEEKLY;INTERVAL=3;WKST=SU;BYDAY=SU,MO",
    "FREQ=WEEKLY;BYMONTH=12",
    "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
    "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1,3",
    "FREQ=WEEKLY;INTERVAL=3;WKST=SU;BYDAY=SU,WE;BYHOUR=8,17;BYSETPOS=2,-1",
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
    "FREQ=MONTHLY;INTERVAL=2;BYDAY=MO,FR;BYHOUR=9,15;BYSETPOS=1,-2",
    "FREQ=MONTHLY;BYMONTHDAY=31",
    "FREQ=MONTHLY;INTERVAL=5;BYMONTHDAY=31",
    "FREQ=DAILY;BYHOUR=8,13,18",
    "FREQ=DAILY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=29",
    "FREQ=YEARLY;INTERVAL=2;BYMONTH=1,3;BYDAY=1MO,-1FR",
    "FREQ=YEARLY;BYYEARDAY=1,-1,100",
    "FREQ=YEARLY;BYWEEKNO=1,53;BYDAY=MO;WKST=SU",
    "FREQ=YEARLY;BYDAY=MO;BYSETPOS=1,-1",
    "FREQ=MONTHLY",
    "FREQ=MONTHLY;INTERVAL=5",
    "FREQ=MONTHLY;BYDAY=2TU",
    "FREQ=MONTHLY;INTERVAL=7;BYMONTHDAY=-1",
    "FREQ=YEARLY",
    "FREQ=YEARLY;INTERVAL=3;BYWEEKNO=1;BYDAY=MO",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO",
    "FREQ=WEEKLY;COUNT=40",
    "FREQ=MONTHLY;UNTIL=20310615T000000",
]


@pytest.mark.parametrize("rule", RULES)
async def test_expansion_matches_a_plain_walk_from_the_start(rule):
    start, end = utc(2024, 1, 31, 9, 30), utc(2024, 1, 31, 11)
    local = to_local(start, BERLIN)
    plain = rrulestr(f"RRULE:{rule}", dtstart=local)
    ends = await series_end(rule, start=start, end=end, tz=BERLIN)
    for low in (utc(2024, 1, 1), utc(2027, 2, 27), utc(2030, 12, 1), utc(2052, 2, 1)):
        high = low + timedelta(days=366)
        expected = []
        for wall in plain.between(local - timedelta(days=1), to_local(high, BERLIN), inc=True):
            begins = to_utc(wall, BERLIN)
            finishes = to_utc(wall + (end - start), BERLIN)
            if begins < high and finishes > low:
                expected.append((begins, finishes))
            if len(expected) == 1000:
                break

        found = occurrences(rule, start=start, end=end, tz=BERLIN, ends=ends, window=(low, high))

        assert found == expected, (rule, low)


def test_expansion_is_capped_per_window():
    found = occurrences(
        "FREQ=DAILY;BYHOUR=0,4,8,12,16,20",
        start=utc(2025, 1, 1),
        end=utc(2025, 1, 1, 0, 30),
        tz=BERLIN,
        ends=None,
        window=(utc(2025, 1, 1), utc(2026, 1, 1)),
        limit=50,
    )

    assert len(found) == 50


# Stored before BYMINUTE and BYSECOND were refused: 86,400 occurrences a day.
EVERY_SECOND = "FREQ=DAILY;BYHOUR={};BYMINUTE={};BYSECOND={}".format(
    ",".join(str(h) for h in range(24)), *[",".join(str(m) for m in range(60))] * 2
)


def every_second(**kwargs):
    return occurrences(
        EVERY_SECOND,
        start=utc(2025, 1, 1),
        end=utc(2025, 1, 1, 0, 30),
        tz=BERLIN,
        ends=None,
        window=(utc(2025, 6, 1), utc(2026, 6, 1)),
        **kwargs,
    )


def test_a_stored_rule_of_every_second_is_expanded_from_the_window_within_its_cap():
    found = every_second()

    assert len(found) == walk.MAX_OCCURRENCES
    # The walk starts near the window, not a day or two before it.
    assert found[0] == (utc(2025, 5, 31, 23, 30, 1), utc(2025, 6, 1, 0, 0, 1))


def test_a_schedules_units_of_work_are_capped_keeping_its_first_occurrences():
    whole = every_second()
    capped = every_second(examined=500)

    assert 0 < len(capped) < 500
    assert capped == whole[: len(capped)]


def test_a_requests_budget_is_shared_by_its_schedules():
    budget = Budget(left=1500)
    every_second(budget=budget)  # a little over 1,000 units: 1,000 found

    with pytest.raises(TooMuchWork):
        every_second(budget=budget)


async def test_expansion_lets_other_tasks_run_while_it_works():
    seen: list[bool] = []
    expansion = asyncio.create_task(
        expand(
            EVERY_SECOND,
            start=utc(2025, 1, 1),
            end=utc(2025, 1, 1, 0, 30),
            tz=BERLIN,
            ends=None,
            window=(utc(2025, 6, 1), utc(2026, 6, 1)),
            budget=Budget(),
        )
    )
    await asyncio.sleep(0)  # the expansion begins, up to its first pause
    other = asyncio.create_task(asyncio.sleep(0, result=None))
    other.add_done_callback(lambda _: seen.append(expansion.done()))

    found = await expansion
    await other

    assert seen == [False]  # the other task finished while the expansion was under way
    assert len(found) == walk.MAX_OCCURRENCES


@pytest.mark.parametrize(
    ("rule", "all_day", "expected"),
    [
        ("FREQ=DAILY;UNTIL=20251231", False, "FREQ=DAILY;UNTIL=20251231T225959Z"),
        ("FREQ=DAILY;UNTIL=20251231T100000", False, "FREQ=DAILY;UNTIL=20251231T090000Z"),
        ("FREQ=DAILY;UNTIL=20251231T100000Z", True, "FREQ=DAILY;UNTIL=20251231"),
        ("FREQ=DAILY;COUNT=3", False, "FREQ=DAILY;COUNT=3"),
    ],
)
def test_ical_until_takes_the_form_of_the_start(rule, all_day, expected):
    assert ical_rule(rule, tz=BERLIN, all_day=all_day) == expected


@pytest.mark.parametrize("name", ["Mars/Base", "../etc/passwd", "", "utc "])
def test_unknown_timezones_are_refused(name):
    with pytest.raises(RuleError):
        zone(name)
