"""The iCalendar feed of a user's schedules (RFC 5545), built with the icalendar library."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC

from icalendar import Calendar, Event, vRecur

from models.base import utcnow
from models.schedules.recurrence import all_day_dates, ical_rule, zone
from models.schedules.tables import Schedule

PRODID = "-//LMS//Schedules//EN"
# A feed is fetched whole by calendar clients; the most recent ones are kept beyond this.
MAX_FEED_EVENTS = 1000


def event_uid(schedule: Schedule, tenant: str) -> str:
    """Stable for the schedule's life, and unique across tenants."""
    return f"schedule-{schedule.id}@{tenant}.lms"


def _event(schedule: Schedule, tenant: str) -> Event:
    tz = zone(schedule.timezone)
    event = Event()
    event.add("uid", event_uid(schedule, tenant))
    event.add("summary", schedule.title)
    if schedule.description:
        event.add("description", schedule.description)
    if schedule.location:
        event.add("location", schedule.location)
    if schedule.is_all_day:
        first, after = all_day_dates(schedule.start_time, schedule.end_time, tz)
        event.add("dtstart", first)
        event.add("dtend", after)
    elif schedule.timezone == "UTC":
        event.add("dtstart", schedule.start_time.astimezone(UTC))
        event.add("dtend", schedule.end_time.astimezone(UTC))
    else:
        # With its TZID, so clients keep the wall-clock time of a recurrence across DST.
        event.add("dtstart", schedule.start_time.astimezone(tz))
        event.add("dtend", schedule.end_time.astimezone(tz))
    if schedule.recurrence:
        rule = ical_rule(schedule.recurrence, tz=tz, all_day=schedule.is_all_day)
        event.add("rrule", vRecur.from_ical(rule))
    event.add("status", "CANCELLED" if schedule.status == "cancelled" else "CONFIRMED")
    event.add("dtstamp", utcnow())
    event.add("created", schedule.created_at)
    event.add("last-modified", schedule.updated_at)
    return event


def calendar_feed(schedules: Sequence[Schedule], *, tenant: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "My schedules")
    for schedule in schedules:
        calendar.add_component(_event(schedule, tenant))
    calendar.add_missing_timezones()  # a VTIMEZONE for every TZID used
    feed: bytes = calendar.to_ical()
    return feed
