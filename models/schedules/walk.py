"""Occurrences of a rule with bounded work, whatever the rule.

dateutil's iterator returns only when a candidate matches, so a sparse rule would make it
walk centuries in one call, and a rule with many times a day makes it build and walk huge
lists. Here dateutil answers one small question only: which days of a year match the
rule's day parts (BYMONTH, BYMONTHDAY, BYDAY, BYYEARDAY, BYWEEKNO). The answer depends on
the year's kind alone (weekday of 1 January, leap year, leap year before), so it is asked
once per kind, of a year of that kind among the last 28 before 9999, where dateutil runs
out of calendar: at most 28 of its steps, and cached. The rest is done here, a year, a day
or a time at a time: the INTERVAL grid, BYSETPOS within each period, the times of a day.

Every step of that walk counts as one unit of work: a year, a day, a candidate time.
`MAX_EXAMINED` units are spent on one schedule at most, and a `Budget` caps a whole
request; callers that serve requests pause for the event loop every `PAUSE_EVERY` units.
"""

from __future__ import annotations

import asyncio
import calendar
from bisect import bisect_left
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from itertools import repeat
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from models.schedules.recurrence import (
    LAST_YEAR,
    MAX_OCCURRENCES,
    NO_OCCURRENCE,
    WEEKDAYS,
    RuleError,
    join_rule,
    parse_stored,
    to_local,
    to_utc,
    until_wall,
)

# Units of work one schedule may take in one window (its 1,000 occurrences of a daily rule
# with six times a day take about 1,200); beyond, its occurrences found so far are kept.
MAX_EXAMINED = 10_000
# Units one request may take over all its schedules; beyond, the window is refused.
MAX_EXAMINED_PER_REQUEST = 100_000
# Units a rule may take when it is saved to show its first occurrence (and its COUNT end).
MAX_PROBE = 50_000
# Units between two pauses for the event loop: well under a millisecond of work.
PAUSE_EVERY = 50
TOO_SPARSE = "This rule's occurrences lie too far apart to count; give a smaller COUNT."
_DAY_PARTS = ("BYMONTH", "BYMONTHDAY", "BYDAY", "BYYEARDAY", "BYWEEKNO")
_DAY = timedelta(days=1)
_ALL_DAYS = ",".join(WEEKDAYS)
_ALL_MONTHS = ",".join(str(m) for m in range(1, 13))


class TooMuchWork(Exception):
    """A request's budget of units is spent."""


@dataclass
class Budget:
    """Units left for one request, shared by the schedules it expands."""

    left: int = field(default_factory=lambda: MAX_EXAMINED_PER_REQUEST)

    def spend(self, units: int) -> None:
        self.left -= units
        if self.left < 0:
            raise TooMuchWork


# Years of each kind near 9999, the latest first found (the shortest walk to the end).
def _kind(year: int) -> tuple[int, bool, bool]:
    return date(year, 1, 1).weekday(), calendar.isleap(year), calendar.isleap(year - 1)


_SAMPLE_YEAR: dict[tuple[int, bool, bool], int] = {}
for _year in range(9999, 9971, -1):
    _SAMPLE_YEAR.setdefault(_kind(_year), _year)


@lru_cache(maxsize=16384)
def _offsets(form: str, kind: tuple[int, bool, bool]) -> tuple[int, ...]:
    """The days (0 = 1 January) a year of this kind has under the yearly day rule `form`."""
    year = _SAMPLE_YEAR[kind]
    base = date(year, 1, 1).toordinal()
    found: list[int] = []
    for moment in rrulestr(f"RRULE:{form}", dtstart=datetime(year, 1, 1)):
        if moment.year != year:
            break
        found.append(moment.toordinal() - base)
    return tuple(found)


@dataclass(frozen=True)
class Plan:
    """A rule taken apart: its days as a yearly rule, its grid, its positions, its times."""

    form: str
    freq: str
    interval: int
    first: datetime  # the first start, wall clock, to the second (as dateutil takes it)
    wkst: int
    setpos: tuple[int, ...]
    hours: tuple[int, ...]
    minutes: tuple[int, ...]
    seconds: tuple[int, ...]
    count: int | None = None
    until: datetime | None = None
    times: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "times", len(self.hours) * len(self.minutes) * len(self.seconds))

    def period(self, day: date) -> int:
        """The number of the rule's period (day, week, month, year) holding `day`."""
        if self.freq == "DAILY":
            return day.toordinal()
        if self.freq == "WEEKLY":
            return (day.toordinal() - (day.weekday() - self.wkst) % 7) // 7
        if self.freq == "MONTHLY":
            return day.year * 12 + day.month - 1
        return day.year

    def period_start(self, day: date) -> date:
        if self.freq == "WEEKLY":
            return day - timedelta(days=(day.weekday() - self.wkst) % 7)
        if self.freq == "MONTHLY":
            return day.replace(day=1)
        if self.freq == "YEARLY":
            return day.replace(month=1, day=1)
        return day

    def clock(self, index: int) -> time:
        """The `index`-th time of a day, in order."""
        per_hour = len(self.minutes) * len(self.seconds)
        hour, rest = divmod(index, per_hour)
        minute, second = divmod(rest, len(self.seconds))
        return time(self.hours[hour], self.minutes[minute], self.seconds[second])

    def clock_from(self, after: time | None) -> int:
        """The index of the first time of a day at or after `after`."""
        if after is None:
            return 0
        hour = bisect_left(self.hours, after.hour)
        if hour == len(self.hours):
            return self.times
        index = hour * len(self.minutes) * len(self.seconds)
        if self.hours[hour] != after.hour:
            return index
        minute = bisect_left(self.minutes, after.minute)
        if minute == len(self.minutes):
            return (hour + 1) * len(self.minutes) * len(self.seconds)
        index += minute * len(self.seconds)
        if self.minutes[minute] != after.minute:
            return index
        return index + bisect_left(self.seconds, after.second)


def _numbers(parts: Mapping[str, str], name: str, default: int) -> tuple[int, ...]:
    if name not in parts:
        return (default,)
    return tuple(sorted({int(v) for v in parts[name].split(",")}))


def _form(parts: Mapping[str, str], first: datetime) -> str:
    """The yearly rule giving the same days as the rule's day parts and dateutil's defaults."""
    days = {k: v for k, v in parts.items() if k in _DAY_PARTS}
    freq = parts["FREQ"]
    if freq == "DAILY":
        days.setdefault("BYDAY", _ALL_DAYS)
    elif freq == "WEEKLY":
        days.setdefault("BYDAY", WEEKDAYS[first.weekday()])
    elif freq == "MONTHLY":
        if "BYDAY" not in days and "BYMONTHDAY" not in days:
            days["BYMONTHDAY"] = str(first.day)
        # A numbered BYDAY (2TU) counts within the month only when BYMONTH is given.
        days.setdefault("BYMONTH", _ALL_MONTHS)
    elif not any(p in days for p in _DAY_PARTS[1:]):
        days["BYMONTHDAY"] = str(first.day)
        days.setdefault("BYMONTH", str(first.month))
    if "BYWEEKNO" in days and "WKST" in parts:
        days["WKST"] = parts["WKST"]
    return join_rule({"FREQ": "YEARLY", **days, "BYHOUR": "0", "BYMINUTE": "0", "BYSECOND": "0"})


def plan_of(rule: str, *, start: datetime, tz: ZoneInfo) -> Plan:
    """The plan of a stored rule (RuleError if even the older checks refuse it)."""
    parts = parse_stored(rule)
    first = to_local(start, tz).replace(microsecond=0)
    return Plan(
        form=_form(parts, first),
        freq=parts["FREQ"],
        interval=int(parts.get("INTERVAL", "1")),
        first=first,
        wkst=WEEKDAYS.index(parts.get("WKST", "MO")),
        setpos=tuple(int(v) for v in parts["BYSETPOS"].split(",")) if "BYSETPOS" in parts else (),
        hours=_numbers(parts, "BYHOUR", first.hour),
        minutes=_numbers(parts, "BYMINUTE", first.minute),
        seconds=_numbers(parts, "BYSECOND", first.second),
        count=int(parts["COUNT"]) if "COUNT" in parts else None,
        until=until_wall(parts["UNTIL"], tz) if "UNTIL" in parts else None,
    )


def _positions(plan: Plan, days: list[date]) -> list[datetime]:
    """BYSETPOS over one period's days times the day's times, in order."""
    total = len(days) * plan.times
    picked: set[datetime] = set()
    for position in plan.setpos:
        index = position - 1 if position > 0 else total + position
        if 0 <= index < total:
            day, moment = divmod(index, plan.times)
            picked.add(datetime.combine(days[day], plan.clock(moment)))
    return sorted(picked)


def walk(plan: Plan, start: datetime) -> Iterator[datetime | None]:
    """Occurrences at or after `start` (and the first start), in order, up to the last
    year there is; None for every unit of work that found none."""
    first_day = plan.first.date()
    begin = max(start, plan.first)
    # Whole periods when positions are picked in them, as dateutil picks them.
    day0 = plan.period_start(begin.date()) if plan.setpos else begin.date()
    group: list[date] = []
    key: int | None = None
    for year in range(day0.year, LAST_YEAR + 2):
        yield None
        asked = _offsets.cache_info().misses
        offsets = _offsets(plan.form, _kind(year))
        if _offsets.cache_info().misses != asked:
            # Asking dateutil (up to 28 of its yearly steps) costs a slice of its own.
            yield from repeat(None, PAUSE_EVERY)
        base = date(year, 1, 1).toordinal()
        skip = bisect_left(offsets, day0.toordinal() - base) if year == day0.year else 0
        for offset in offsets[skip:]:
            day = date.fromordinal(base + offset)
            if (plan.period(day) - plan.period(first_day)) % plan.interval:
                yield None
                continue
            if plan.freq == "WEEKLY" and day < first_day:
                yield None  # dateutil's first week begins on the first day
                continue
            yield None
            if not plan.setpos:
                after = begin.time() if day == begin.date() else None
                for index in range(plan.clock_from(after), plan.times):
                    yield datetime.combine(day, plan.clock(index))
                continue
            if key is not None and plan.period(day) != key:
                yield from (m for m in _positions(plan, group) if m >= begin)
                group = []
            key = plan.period(day)
            group.append(day)
    if group:
        yield from (m for m in _positions(plan, group) if m >= begin)


# Driving a walk


@dataclass
class Meter:
    """Units spent on one schedule, and the pauses owed to the event loop."""

    budget: Budget | None
    limit: int
    spent: int = 0
    since_pause: int = 0

    def tick(self) -> bool:
        """Count a unit; False once this schedule's limit is reached."""
        self.spent += 1
        self.since_pause += 1
        if self.budget is not None:
            self.budget.spend(1)
        return self.spent <= self.limit

    def pause_due(self) -> bool:
        if self.since_pause >= PAUSE_EVERY:
            self.since_pause = 0
            return True
        return False


def _earliest(low: datetime, length: timedelta, tz: ZoneInfo) -> datetime:
    """The earliest wall-clock start whose occurrence may end after `low`: the local time
    of `low - length`, less the widest change of UTC offset about then."""
    offsets = [
        instant.astimezone(tz).utcoffset() or timedelta()
        for instant in (low - length - _DAY, low - length, low, low + _DAY)
    ]
    return to_local(low - length, tz) - (max(offsets) - min(offsets))


def _window_steps(
    plan: Plan,
    *,
    length: timedelta,
    tz: ZoneInfo,
    ends: datetime | None,
    window: tuple[datetime, datetime],
    limit: int,
    meter: Meter,
    found: list[tuple[datetime, datetime]],
) -> Iterator[None]:
    """Fill `found` with the window's occurrences; yields where a caller may pause."""
    low, high = window
    last = to_local(ends, tz) - length if ends is not None else None
    for wall in walk(plan, _earliest(low, length, tz)):
        if not meter.tick():
            return
        if meter.pause_due():
            yield None
        if wall is None:
            continue
        if last is not None and wall > last:
            return
        begins = to_utc(wall, tz)
        if begins >= high:
            return
        finishes = to_utc(wall + length, tz)
        if finishes > low:
            found.append((begins, finishes))
            if len(found) >= limit:
                return


def _span(rule: str, start: datetime, end: datetime, tz: ZoneInfo) -> tuple[Plan, timedelta]:
    plan = plan_of(rule, start=start, tz=tz)
    return plan, to_local(end, tz) - plan.first


def occurrences(
    rule: str,
    *,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    ends: datetime | None,
    window: tuple[datetime, datetime],
    limit: int = MAX_OCCURRENCES,
    examined: int = MAX_EXAMINED,
    budget: Budget | None = None,
) -> list[tuple[datetime, datetime]]:
    """The (start, end) pairs in UTC of the occurrences overlapping the window, in order:
    at most `limit` of them, within `examined` units of work (the first ones by start).

    `ends` is the series' end from `series_end`; it stands in for COUNT and UNTIL, so the
    walk may begin near the window instead of at the first occurrence.
    """
    plan, length = _span(rule, start, end, tz)
    found: list[tuple[datetime, datetime]] = []
    meter = Meter(budget, examined)
    for _ in _window_steps(
        plan, length=length, tz=tz, ends=ends, window=window, limit=limit, meter=meter, found=found
    ):
        pass
    return found


async def expand(
    rule: str,
    *,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    ends: datetime | None,
    window: tuple[datetime, datetime],
    budget: Budget,
    limit: int = MAX_OCCURRENCES,
    examined: int = MAX_EXAMINED,
) -> list[tuple[datetime, datetime]]:
    """`occurrences`, pausing for the event loop every `PAUSE_EVERY` units.

    Expanded on the loop in slices rather than in a thread: a thread computing in Python
    holds the GIL for up to 5 ms at a time, longer than the lag the loop may show, while a
    slice here is a fraction of a millisecond and needs no executor or copy of the rows.
    """
    plan, length = _span(rule, start, end, tz)
    found: list[tuple[datetime, datetime]] = []
    meter = Meter(budget, examined)
    for _ in _window_steps(
        plan, length=length, tz=tz, ends=ends, window=window, limit=limit, meter=meter, found=found
    ):
        await asyncio.sleep(0)
    return found


# When a series ends


@dataclass
class _Probe:
    last: datetime | None = None
    counted: int = 0


def _probe_steps(plan: Plan, meter: Meter, probe: _Probe) -> Iterator[None]:
    for wall in walk(plan, plan.first):
        if not meter.tick():
            raise RuleError(TOO_SPARSE if probe.counted else NO_OCCURRENCE)
        if meter.pause_due():
            yield None
        if wall is None:
            continue
        if plan.until is not None and wall > plan.until:
            return
        probe.last, probe.counted = wall, probe.counted + 1
        if plan.count is None or probe.counted >= plan.count:
            return


async def series_end(rule: str, *, start: datetime, end: datetime, tz: ZoneInfo) -> datetime | None:
    """When the series of a schedule ends (UTC), None when it never does (or not before
    the last year there is). RuleError when the rule produces no occurrence from `start`,
    or none within `MAX_PROBE` units of work. Pauses for the event loop as `expand` does."""
    plan, length = _span(rule, start, end, tz)
    probe = _Probe()
    for _ in _probe_steps(plan, Meter(None, MAX_PROBE), probe):
        await asyncio.sleep(0)
    if probe.last is None:
        raise RuleError(NO_OCCURRENCE)
    if plan.count is not None:
        return to_utc(probe.last + length, tz) if probe.counted >= plan.count else None
    if plan.until is not None:
        return to_utc(plan.until + length, tz)
    return None
