"""Recurrence rules: validation, DST-true expansion, and bounded work (no API, no database)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from dateutil.rrule import rrulestr

from models.schedules.recurrence import (
    RuleError,
    ical_rule,
    normalize_rule,
    occurrences,
    series_end,
    to_local,
    to_utc,
    zone,
)

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


def test_all_day_occurrences_last_a_calendar_day_across_dst():
    start = to_utc(datetime(2025, 10, 25), BERLIN)
    found = occurrences(
        "FREQ=DAILY;COUNT=2",
        start=start,
        end=to_utc(datetime(2025, 10, 26), BERLIN),
        tz=BERLIN,
        ends=series_end(
            "FREQ=DAILY;COUNT=2", start=start, end=to_utc(datetime(2025, 10, 26), BERLIN), tz=BERLIN
        ),
        window=(utc(2025, 10, 1), utc(2025, 11, 1)),
    )

    assert [e - b for b, e in found] == [timedelta(hours=24), timedelta(hours=25)]


def test_count_series_end_is_its_last_occurrences_end():
    end = series_end(
        "FREQ=WEEKLY;COUNT=3", start=utc(2025, 1, 6, 9), end=utc(2025, 1, 6, 10), tz=zone("UTC")
    )

    assert end == utc(2025, 1, 20, 10)


def test_infinite_series_has_no_end():
    assert (
        series_end("FREQ=DAILY", start=utc(2025, 1, 1), end=utc(2025, 1, 1, 1), tz=BERLIN) is None
    )


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=WEEKLY;BYMONTH=4;BYDAY=MO;BYSETPOS=6",
        "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=31",
        "FREQ=YEARLY;BYMONTH=11;BYMONTHDAY=31",
    ],
)
def test_a_rule_that_never_matches_is_refused_quickly(rule):
    began = time.perf_counter()
    with pytest.raises(RuleError, match="no occurrence"):
        series_end(rule, start=utc(1900, 1, 1), end=utc(1900, 1, 1, 1), tz=BERLIN)

    # dateutil alone would walk every day to the year 9999: several seconds.
    assert time.perf_counter() - began < 2


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
def test_expansion_matches_a_plain_walk_from_the_start(rule):
    start, end = utc(2024, 1, 31, 9, 30), utc(2024, 1, 31, 11)
    local = to_local(start, BERLIN)
    plain = rrulestr(f"RRULE:{rule}", dtstart=local)
    ends = series_end(rule, start=start, end=end, tz=BERLIN)
    for low in (utc(2024, 1, 1), utc(2027, 2, 27), utc(2030, 12, 1), utc(2052, 2, 1)):
        high = low + timedelta(days=366)
        expected = []
        for wall in plain.between(local - timedelta(days=1), to_local(high, BERLIN), inc=True):
            begins = to_utc(wall, BERLIN)
            finishes = to_utc(wall + (end - start), BERLIN)
            if begins < high and finishes > low:
                expected.append((begins, finishes))
            if len(expected) > 1000:
                break

        found = occurrences(rule, start=start, end=end, tz=BERLIN, ends=ends, window=(low, high))

        assert found == expected, (rule, low)


def test_expansion_is_capped_per_window():
    found = occurrences(
        "FREQ=DAILY;BYHOUR=" + ",".join(str(h) for h in range(24)),
        start=utc(2025, 1, 1),
        end=utc(2025, 1, 1, 0, 30),
        tz=BERLIN,
        ends=None,
        window=(utc(2025, 1, 1), utc(2026, 1, 1)),
        limit=50,
    )

    assert len(found) == 50


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
