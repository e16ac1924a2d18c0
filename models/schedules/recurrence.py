"""Recurrence rules (RFC 5545 RRULE) and their occurrences in a schedule's timezone.

A rule is checked here (names, ranges, which parts go with which frequency), then by
dateutil. Occurrences are computed by dateutil on naive wall-clock times of the schedule's
timezone, so a 10:00 meeting stays at 10:00 across a DST change, and converted to UTC.

Bounding the work: dateutil's iterator returns only when a candidate matches, so a rule
that matches nothing (FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30) would walk every day up to year
9999, seconds of CPU. Hence:

- a daily or weekly rule with INTERVAL=1 that filters by month or day of month is walked
  as the yearly rule with the same days (`_walkable`), one dateutil step per year;
- a rule is probed once when it is saved, on dates moved by whole 400-year Gregorian cycles
  (same weekdays, same leap years) close to year 9999, where dateutil runs out of calendar
  after at most 800 years: a rule with no occurrence there is refused, and the end of a
  COUNT or UNTIL series is noted then (`series_end`) so nothing later counts from the start;
- a rule that occurs once occurs again within a bounded number of steps (the calendar and
  the INTERVAL grid repeat), so expansion never waits long for the next occurrence;
- expansion starts near the window: the walk jumps whole intervals forward, which keeps
  the rule's grid, instead of stepping from a start that may be centuries earlier.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, available_timezones

from dateutil.rrule import rrule, rrulestr

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
FINER = ("SECONDLY", "MINUTELY", "HOURLY")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
MAX_RULE_LENGTH = 500
MAX_INTERVAL = 1000
MAX_COUNT = 1000
# Occurrences of one schedule in one window; a rule with several times a day could
# otherwise fill a page with thousands of rows.
MAX_OCCURRENCES = 1000
# Every stored time lies in these years: expansion walks at most this span, and no
# arithmetic on a time (plus a duration, in another timezone) can leave datetime's range.
FIRST_YEAR, LAST_YEAR = 1900, 2999
CYCLE_YEARS = 400  # the Gregorian calendar repeats exactly every 400 years

INVALID = "Enter a valid RRULE, e.g. FREQ=WEEKLY;BYDAY=MO."
ONLY_RRULE = "Give only the rule (FREQ=…); DTSTART and other properties are not accepted."
NO_OCCURRENCE = "This rule produces no occurrence."

# Integer list parts: (smallest, largest, may be negative).
_INT_LISTS = {
    "BYSECOND": (0, 59, False),
    "BYMINUTE": (0, 59, False),
    "BYHOUR": (0, 23, False),
    "BYMONTHDAY": (1, 31, True),
    "BYYEARDAY": (1, 366, True),
    "BYWEEKNO": (1, 53, True),
    "BYMONTH": (1, 12, False),
    "BYSETPOS": (1, 366, True),
}
_PARTS = ("FREQ", "UNTIL", "COUNT", "INTERVAL", "BYDAY", "WKST", *_INT_LISTS)
_INT = re.compile(r"[+-]?[0-9]{1,4}")
_BYDAY = re.compile(r"([+-]?[0-9]{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_UNTIL = re.compile(r"([0-9]{8})(T[0-9]{6}Z?)?")


class RuleError(ValueError):
    """A rule, or a timezone, that cannot be used; the message is the field's error."""


# Timezones


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def zone(name: str) -> ZoneInfo:
    """The IANA timezone called `name`; RuleError for anything else (paths, junk)."""
    if name not in _zone_names():
        raise RuleError(f'"{name[:100]}" is not a valid IANA timezone.')
    return ZoneInfo(name)


def to_local(moment: datetime, tz: ZoneInfo) -> datetime:
    """The wall-clock time of a UTC moment in `tz`, naive."""
    return moment.astimezone(tz).replace(tzinfo=None)


def to_utc(wall: datetime, tz: ZoneInfo) -> datetime:
    """The UTC moment of a wall-clock time in `tz`.

    A time skipped by a DST change is read with the offset before the change, and one that
    happens twice means the first, as RFC 5545 (3.3.5) says.
    """
    return wall.replace(tzinfo=tz).astimezone(UTC)


def in_range(moment: datetime) -> bool:
    return FIRST_YEAR <= moment.year <= LAST_YEAR


# Rules


def _int(value: str, name: str, low: int, high: int, signed: bool) -> int:
    if not _INT.fullmatch(value):
        raise RuleError(f"{name} must be a whole number.")
    number = int(value)
    if not (low <= abs(number) <= high and (signed or number >= 0)):
        raise RuleError(f"{name} value {value} is out of range.")
    return number


def _check_until(value: str) -> None:
    match = _UNTIL.fullmatch(value)
    if not match:
        raise RuleError("UNTIL must look like 20251231, 20251231T235959 or 20251231T235959Z.")
    try:
        moment = datetime.strptime(
            value[:15].rstrip("Z"), "%Y%m%dT%H%M%S" if match[2] else "%Y%m%d"
        )
    except ValueError:
        raise RuleError("UNTIL is not a valid date.") from None
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise RuleError(f"UNTIL must fall between {FIRST_YEAR} and {LAST_YEAR}.")


def _check_part(name: str, value: str, freq: str) -> None:
    if name == "FREQ":
        if value in FINER:
            raise RuleError("FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY.")
        if value not in FREQUENCIES:
            raise RuleError(f"Unknown FREQ {value}.")
    elif name == "INTERVAL":
        _int(value, name, 1, MAX_INTERVAL, False)
    elif name == "COUNT":
        _int(value, name, 1, MAX_COUNT, False)
    elif name == "UNTIL":
        _check_until(value)
    elif name == "WKST":
        if value not in WEEKDAYS:
            raise RuleError(f"Unknown WKST {value}.")
    elif name == "BYDAY":
        for item in value.split(","):
            match = _BYDAY.fullmatch(item)
            if not match:
                raise RuleError(f"BYDAY value {item} is not a weekday (MO, 1MO, -1FR…).")
            if match[1] is not None:
                if freq not in ("MONTHLY", "YEARLY"):
                    raise RuleError("A numbered BYDAY needs FREQ=MONTHLY or YEARLY.")
                _int(match[1], name, 1, 53, True)
    else:
        low, high, signed = _INT_LISTS[name]
        for item in value.split(","):
            _int(item, name, low, high, signed)


def _check_combination(parts: Mapping[str, str]) -> None:
    """The pairings RFC 5545 (3.3.10) forbids; dateutil would accept some of them."""
    freq = parts["FREQ"]
    if "COUNT" in parts and "UNTIL" in parts:
        raise RuleError("Give COUNT or UNTIL, not both.")
    if "BYWEEKNO" in parts and freq != "YEARLY":
        raise RuleError("BYWEEKNO needs FREQ=YEARLY.")
    if "BYYEARDAY" in parts and freq != "YEARLY":
        raise RuleError("BYYEARDAY needs FREQ=YEARLY.")
    if "BYMONTHDAY" in parts and freq == "WEEKLY":
        raise RuleError("BYMONTHDAY cannot go with FREQ=WEEKLY.")
    if "BYSETPOS" in parts and freq == "DAILY":
        # It would only pick among one day's times; refused so daily rules stay cheap.
        raise RuleError("BYSETPOS needs FREQ=WEEKLY, MONTHLY or YEARLY.")
    numbered = any(item[0] in "+-0123456789" for item in parts.get("BYDAY", "MO").split(","))
    if numbered and "BYWEEKNO" in parts:
        raise RuleError("A numbered BYDAY cannot go with BYWEEKNO.")


def parse_rule(text: str) -> dict[str, str]:
    """The parts of a rule (a fresh dict); see `_parse`."""
    return dict(_parse(text))


@lru_cache(maxsize=1024)
def _parse(text: str) -> tuple[tuple[str, str], ...]:
    """The parts of a rule, FREQ first, upper-cased; RuleError with the reason otherwise.

    "RRULE:" in front is allowed; anything else that is not a rule part (DTSTART, a second
    line, x-names) is refused, since those come from the schedule's own fields.
    """
    body = text.strip()
    if body[:6].upper() == "RRULE:":
        body = body[6:].strip()
    if not body:
        raise RuleError(INVALID)
    if len(body) > MAX_RULE_LENGTH:
        raise RuleError(f"Ensure the rule has no more than {MAX_RULE_LENGTH} characters.")
    if ":" in body or "\n" in body or "\r" in body:
        raise RuleError(ONLY_RRULE)
    if not body.isascii() or not body.isprintable() or " " in body:
        raise RuleError(INVALID)
    parts: dict[str, str] = {}
    for item in body.upper().split(";"):
        name, sep, value = item.partition("=")
        if not sep or not value:
            raise RuleError(INVALID)
        if name not in _PARTS:
            raise RuleError(f"Unknown rule part {name[:40]}.")
        if name in parts:
            raise RuleError(f"{name} is given twice.")
        parts[name] = value
    if "FREQ" not in parts:
        raise RuleError("FREQ is required.")
    for name, value in parts.items():
        _check_part(name, value, parts["FREQ"])
    _check_combination(parts)
    ordered = {"FREQ": parts.pop("FREQ"), **parts}
    try:  # what dateutil still refuses
        _build(ordered, dtstart=datetime(2000, 1, 1))
    except (ValueError, TypeError, OverflowError):
        raise RuleError(INVALID) from None
    return tuple(ordered.items())


def normalize_rule(text: str) -> str:
    """The rule as stored: upper case, no "RRULE:" prefix, FREQ first."""
    return join_rule(parse_rule(text))


def join_rule(parts: Mapping[str, str]) -> str:
    return ";".join(f"{name}={value}" for name, value in parts.items())


def _build(
    parts: Mapping[str, str],
    *,
    dtstart: datetime,
    until: datetime | None = None,
    count: int | None = None,
) -> rrule:
    """dateutil's rule for naive wall-clock times; UNTIL and COUNT come as arguments."""
    body = join_rule({k: v for k, v in parts.items() if k not in ("UNTIL", "COUNT")})
    rule = rrulestr(f"RRULE:{body}", dtstart=dtstart)
    assert isinstance(rule, rrule)
    return rule.replace(until=until, count=count) if until or count else rule


_DAY_PARTS = ("BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY")


def _walkable(parts: Mapping[str, str], first: datetime) -> dict[str, str]:
    """The same occurrences from `first`, in a form that is cheap to walk and to jump.

    dateutil fills what a rule leaves out from DTSTART (the weekday of a weekly rule, the
    day of a monthly one); written out here, a later DTSTART on the rule's grid gives the
    same occurrences. A daily or weekly rule filtered by month or day of month becomes the
    yearly rule with the same days, which finds a rare day in one step per year, not 365.
    """
    walk = {k: v for k, v in parts.items() if k not in ("UNTIL", "COUNT")}
    freq = walk["FREQ"]
    weekday = WEEKDAYS[first.weekday()]
    if freq == "WEEKLY":
        walk.setdefault("BYDAY", weekday)
    if freq in ("MONTHLY", "YEARLY") and not any(p in walk for p in _DAY_PARTS):
        walk["BYMONTHDAY"] = str(first.day)
        if freq == "YEARLY":
            walk.setdefault("BYMONTH", str(first.month))
    filtered = "BYMONTH" in walk or "BYMONTHDAY" in walk
    if (
        freq in ("DAILY", "WEEKLY")
        and filtered
        and walk.get("INTERVAL", "1") == "1"
        and "BYSETPOS" not in walk
    ):
        # Every day the filters allow, at the rule's times: the same set, yearly.
        walk["FREQ"] = "YEARLY"
        walk.setdefault("BYDAY", ",".join(WEEKDAYS))
        walk.pop("WKST", None)
    return walk


def _jump(walk: Mapping[str, str], first: datetime, earliest: datetime) -> datetime:
    """The latest start on the rule's grid, at `first`'s time, no later than `earliest`."""
    if earliest <= first:
        return first
    interval = int(walk.get("INTERVAL", "1"))
    freq = walk["FREQ"]
    if freq in ("DAILY", "WEEKLY"):
        step = timedelta(days=interval) if freq == "DAILY" else timedelta(weeks=interval)
        return first + step * ((earliest - first) // step)
    if freq == "MONTHLY":
        months = (earliest.year - first.year) * 12 + earliest.month - first.month
        index = first.month - 1 + interval * (months // interval)
        return first.replace(year=first.year + index // 12, month=index % 12 + 1, day=1)
    # A year early: week 1 of a year may begin in the December before it.
    years = interval * ((earliest.year - 1 - first.year) // interval)
    return first.replace(year=first.year + years, month=1, day=1) if years > 0 else first


def _until_wall(value: str, tz: ZoneInfo) -> datetime:
    """UNTIL as a wall-clock time: a date means that whole day, a Z time is converted."""
    if len(value) == 8:
        return datetime.strptime(value, "%Y%m%d") + timedelta(days=1, microseconds=-1)
    if value.endswith("Z"):
        return to_local(datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC), tz)
    return datetime.strptime(value, "%Y%m%dT%H%M%S")


def _shift(moment: datetime, years: int) -> datetime:
    return moment.replace(year=moment.year + years)


def series_end(rule: str, *, start: datetime, end: datetime, tz: ZoneInfo) -> datetime | None:
    """When the series of a schedule ends (UTC), None when it never does.

    RuleError when the rule produces no occurrence from `start`. For UNTIL the end is a
    bound (the last occurrence ends no later); for COUNT it is the last occurrence's end,
    or the last one within the probe's 400 years when COUNT reaches further.
    """
    parts = parse_rule(rule)
    first = to_local(start, tz)
    length = to_local(end, tz) - first
    # Moved by whole cycles to at most 800 years before 9999, where dateutil stops.
    years = CYCLE_YEARS * ((datetime.max.year - CYCLE_YEARS - first.year) // CYCLE_YEARS)
    until = _until_wall(parts["UNTIL"], tz) if "UNTIL" in parts else None
    count = int(parts["COUNT"]) if "COUNT" in parts else None
    if until is not None and until < first:
        raise RuleError(NO_OCCURRENCE)
    # An UNTIL past the year 9999 once moved is past where dateutil stops anyway.
    moved_until = _shift(until, years) if until is not None and until.year + years <= 9999 else None
    probe = _build(
        _walkable(parts, first), dtstart=_shift(first, years), until=moved_until, count=count
    )
    last: datetime | None = None
    for occurrence in probe:
        last = occurrence
        if count is None:
            break  # one is enough to know it occurs; the end is UNTIL's or none
    if last is None:
        raise RuleError(NO_OCCURRENCE)
    if count is not None:
        return to_utc(_shift(last, -years) + length, tz)
    if until is not None:
        return to_utc(until + length, tz)
    return None


def occurrences(
    rule: str,
    *,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    ends: datetime | None,
    window: tuple[datetime, datetime],
    limit: int = MAX_OCCURRENCES,
) -> list[tuple[datetime, datetime]]:
    """The (start, end) pairs in UTC of the occurrences that overlap the window, in order.

    `ends` is the series' end from `series_end`; it stands in for COUNT and UNTIL, so the
    walk may begin near the window instead of at the first occurrence.
    """
    first = to_local(start, tz)
    length = to_local(end, tz) - first
    low, high = window
    walk = _walkable(parse_rule(rule), first)
    until = to_local(ends, tz) - length if ends is not None else None
    # Two days of slack: the window is in UTC, the walk in wall-clock time.
    dtstart = _jump(walk, first, to_local(low, tz) - length - timedelta(days=2))
    found: list[tuple[datetime, datetime]] = []
    for wall in _build(walk, dtstart=dtstart, until=until):
        begins = to_utc(wall, tz)
        if begins >= high:
            break
        finishes = to_utc(wall + length, tz)
        if finishes > low:
            found.append((begins, finishes))
            if len(found) >= limit:
                break
    return found


def ical_rule(rule: str, *, tz: ZoneInfo, all_day: bool) -> str:
    """The rule for an iCalendar feed: UNTIL in the form RFC 5545 wants next to DTSTART.

    With a DATE start it is a DATE; with a TZID or UTC start it is a UTC time.
    """
    parts = parse_rule(rule)
    if "UNTIL" in parts:
        wall = _until_wall(parts["UNTIL"], tz)
        parts["UNTIL"] = (
            wall.strftime("%Y%m%d") if all_day else to_utc(wall, tz).strftime("%Y%m%dT%H%M%SZ")
        )
    return join_rule(parts)


def all_day_dates(start: datetime, end: datetime, tz: ZoneInfo) -> tuple[date, date]:
    """The first day and the day after the last of an all-day schedule, in its timezone."""
    first = to_local(start, tz).date()
    last = to_local(end, tz)
    after = last.date() if last.time() == datetime.min.time() else last.date() + timedelta(days=1)
    return first, max(after, first + timedelta(days=1))
