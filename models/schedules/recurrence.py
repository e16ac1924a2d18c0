"""Recurrence rules (RFC 5545 RRULE): their checks, and their form in a feed.

A rule is checked here (names, ranges, which parts go with which frequency), then by
dateutil. Parts a calendar of classes and meetings has no use for, and that multiply the
occurrences of a day, are refused when a rule is saved: BYSECOND, BYMINUTE, FREQ finer
than DAILY, and BYHOUR lists longer than `MAX_HOURS`. A rule stored before those checks
is still read (`parse_stored`); `models.schedules.walk` expands it with bounded work.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, available_timezones

from dateutil.rrule import rrulestr

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
# Times of a day a rule may list; with BYMINUTE and BYSECOND refused, the most a day holds.
MAX_HOURS = 6

INVALID = "Enter a valid RRULE, e.g. FREQ=WEEKLY;BYDAY=MO."
ONLY_RRULE = "Give only the rule (FREQ=…); DTSTART and other properties are not accepted."
NO_OCCURRENCE = "This rule produces no occurrence."
# Refused when a rule is saved; older stored rules holding them are still expanded.
_REFUSED = {
    "BYSECOND": "BYSECOND is not supported: an occurrence starts at the second of start_time.",
    "BYMINUTE": "BYMINUTE is not supported: an occurrence starts at the minute of start_time.",
}

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
_NOT_CHECKED = ("UNTIL", "COUNT", "BYHOUR", "BYMINUTE", "BYSECOND")
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


def _check_cost(parts: Mapping[str, str]) -> None:
    """What a rule saved now may not hold, so that a day has at most `MAX_HOURS` times."""
    for name, message in _REFUSED.items():
        if name in parts:
            raise RuleError(message)
    if len(set(parts.get("BYHOUR", "0").split(","))) > MAX_HOURS:
        raise RuleError(f"BYHOUR may list at most {MAX_HOURS} hours.")


def parse_rule(text: str) -> dict[str, str]:
    """The parts of a rule being saved (a fresh dict); see `_parse` and `_check_cost`."""
    parts = dict(_parse(text))
    _check_cost(parts)
    return parts


def parse_stored(text: str) -> dict[str, str]:
    """The parts of a stored rule, which older checks let in (a fresh dict)."""
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
    try:  # what dateutil still refuses (UNTIL and COUNT are read here; times cannot fail)
        body = join_rule({k: v for k, v in ordered.items() if k not in _NOT_CHECKED})
        rrulestr(f"RRULE:{body}", dtstart=datetime(2000, 1, 1))
    except (ValueError, TypeError, OverflowError):
        raise RuleError(INVALID) from None
    return tuple(ordered.items())


def normalize_rule(text: str) -> str:
    """The rule as stored: upper case, no "RRULE:" prefix, FREQ first."""
    return join_rule(parse_rule(text))


def join_rule(parts: Mapping[str, str]) -> str:
    return ";".join(f"{name}={value}" for name, value in parts.items())


def until_wall(value: str, tz: ZoneInfo) -> datetime:
    """UNTIL as a wall-clock time: a date means that whole day, a Z time is converted."""
    if len(value) == 8:
        return datetime.strptime(value, "%Y%m%d") + timedelta(days=1, microseconds=-1)
    if value.endswith("Z"):
        return to_local(datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC), tz)
    return datetime.strptime(value, "%Y%m%dT%H%M%S")


def ical_rule(rule: str, *, tz: ZoneInfo, all_day: bool) -> str:
    """The rule for an iCalendar feed: UNTIL in the form RFC 5545 wants next to DTSTART.

    With a DATE start it is a DATE; with a TZID or UTC start it is a UTC time.
    """
    parts = parse_stored(rule)
    if "UNTIL" in parts:
        wall = until_wall(parts["UNTIL"], tz)
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
