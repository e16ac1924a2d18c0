"""Schedules: who sees them, who changes them, the changes, and their occurrences.

A schedule is visible to its creator, to its participants (users invited by name, and the
members of invited groups, checked at query time so leaving a group ends access at once)
and to admins; everyone else gets 404. Its creator and admins change it (403 for
participants). Participants themselves live in `models.schedules.participants`.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import repeat
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from models.errors import NotFound, PermissionDenied, ValidationFailed
from models.groups.tables import GroupMember
from models.identity import Principal
from models.listing import (
    ACTOR_PARAM,
    Listing,
    ListShape,
    PageRequest,
    PageResult,
    UserRef,
    check_page_exists,
    counted,
)
from models.logs.operations import record_activity_on
from models.notifications.operations import notify_users
from models.one_of import one_of
from models.people.names import named, person_at
from models.schedules.recurrence import RuleError, zone
from models.schedules.schemas import ScheduleCreate, ScheduleQuery, ScheduleUpdate
from models.schedules.tables import Schedule, ScheduleParticipant
from models.schedules.walk import PAUSE_EVERY, Budget, TooMuchWork, expand, series_end
from models.validation import check_changes

SCHEDULED, CANCELLED = "scheduled", "cancelled"
END_NOT_AFTER_START = "End time must be after start time."
MAX_WINDOW = timedelta(days=366)
TOO_MUCH = "This window holds too many occurrences to list; ask for a shorter one."
SCHEDULES = Listing(
    filters={"status": Schedule.status},
    search=(Schedule.title,),
    ordering={
        "start_time": Schedule.start_time,
        "created_at": Schedule.created_at,
        "title": Schedule.title,
        "id": Schedule.id,
    },
    default=(Schedule.start_time.asc(),),
    tiebreak=Schedule.id.asc(),
)
Participant = ScheduleParticipant


# Who sees what


def my_groups(user_id: UserRef) -> Select[Any]:
    return select(GroupMember.group_id).where(GroupMember.user_id == user_id)


def live() -> ColumnElement[bool]:
    """Participant rows that count: all but a group member's answer after they left it."""
    still_member = exists(
        select(GroupMember.id).where(
            GroupMember.group_id == Participant.via_group_id,
            GroupMember.user_id == Participant.user_id,
        )
    )
    return or_(Participant.via_group_id.is_(None), still_member)


def participating(user_id: UserRef) -> Select[Any]:
    """Ids of the schedules the user is invited to, by name or through a group.

    An answer given through a group (`via_group_id`) grants nothing by itself: the group's
    own row does, for as long as the user is a member.
    """
    return select(Participant.schedule_id).where(
        or_(
            and_(Participant.user_id == user_id, Participant.via_group_id.is_(None)),
            Participant.group_id.in_(my_groups(user_id)),
        )
    )


async def participant_ids(session: AsyncSession, *, schedule_id: int) -> list[str]:
    """Everyone the schedule is shared with now: its invited users and the members of its
    invited groups (`participating`'s rule, from the schedule's side)."""
    by_name = select(Participant.user_id).where(
        Participant.schedule_id == schedule_id,
        Participant.user_id.is_not(None),
        Participant.via_group_id.is_(None),
    )
    groups = select(Participant.group_id).where(
        Participant.schedule_id == schedule_id, Participant.group_id.is_not(None)
    )
    members = select(GroupMember.user_id).where(GroupMember.group_id.in_(groups))
    rows = (await session.scalars(by_name.union(members))).all()
    return sorted(str(user_id) for user_id in rows)


def _notify_participants(
    session: AsyncSession,
    actor: Principal,
    schedule: Schedule,
    users: Sequence[str],
    type_: str,
    event: str,
    **data: Any,
) -> None:
    notify_users(
        session,
        actor_id=actor.user_id,
        event_key=f"{type_}:{schedule.id}:{event}",
        type_=type_,
        recipients=users,
        title=schedule.title,
        data={"schedule_id": schedule.id, **data},
    )


def mine(user_id: UserRef) -> ColumnElement[bool]:
    """Schedules the user created or is invited to."""
    return or_(Schedule.created_by == user_id, Schedule.id.in_(participating(user_id)))


async def access_schedule(
    session: AsyncSession, *, actor: Principal, schedule_id: int, for_change: bool = False
) -> Schedule:
    """The schedule, if the actor may see it (404 otherwise, so existence does not leak).

    For a change the actor must be its creator or an admin (403 otherwise).
    """
    schedule = await session.get(Schedule, schedule_id)
    if schedule is None:
        raise NotFound()
    is_creator = schedule.created_by == actor.user_id
    if not (is_creator or actor.is_admin):
        stmt = select(
            participating(actor.user_id).where(Participant.schedule_id == schedule.id).exists()
        )
        if not await session.scalar(stmt):
            raise NotFound()
    if for_change and not (is_creator or actor.is_admin):
        raise PermissionDenied()
    return schedule


def check_organizer(actor: Principal, schedule: Schedule) -> None:
    """The creator and admins change a schedule and its invitations."""
    if not (actor.is_admin or schedule.created_by == actor.user_id):
        raise PermissionDenied()


# What a response adds


@dataclass(frozen=True, slots=True)
class ScheduleView:
    """A schedule (or one occurrence of it) with its invitation count and my answer."""

    schedule: Schedule
    participant_count: int
    my_response: str | None
    occurrence: tuple[datetime, datetime] | None = None

    def fields(self) -> dict[str, Any]:
        s = self.schedule
        start, end = self.occurrence or (s.start_time, s.end_time)
        return {
            "id": s.id,
            "title": s.title,
            "description": s.description,
            "start_time": start,
            "end_time": end,
            "location": s.location,
            "is_all_day": s.is_all_day,
            "timezone": s.timezone,
            "recurrence": s.recurrence,
            "status": s.status,
            "created_by": s.created_by,
            "created_by_person": person_at(s, "created_by"),
            "created_at": s.created_at,
            "updated_at": s.updated_at,
            "participant_count": self.participant_count,
            "my_response": self.my_response,
            "recurrence_id": start if self.occurrence and s.recurrence else None,
        }


def _counts_and_answers_statement() -> Select[int, Any, Any, Any]:
    """Per schedule of `ids`: its invitations (users by name and groups; a member's answer
    through a group is not one), whether one of the reader's groups is invited, and the
    reader's own live answer (one row at most: a schedule has one per user)."""
    me: BindParameter[str] = bindparam(ACTOR_PARAM)
    invitation = case((Participant.via_group_id.is_(None), 1), else_=0)
    via_my_group = case((Participant.group_id.in_(my_groups(me)), 1), else_=0)
    my_answer = case((and_(Participant.user_id == me, live()), Participant.response_status))
    return (
        select(
            Participant.schedule_id,
            func.sum(invitation),
            func.max(via_my_group),
            func.max(my_answer),
        )
        .where(one_of(Participant.schedule_id, "ids"))
        .group_by(Participant.schedule_id)
    )


_COUNTS_AND_ANSWERS = _counts_and_answers_statement()


async def _counts_and_answers(
    session: AsyncSession, actor: Principal, ids: Sequence[int]
) -> tuple[dict[int, int], dict[int, str]]:
    """Invitation counts and the actor's answers for these schedules: one query. Invited
    through a group and not answered yet: "pending"."""
    if not ids:
        return {}, {}
    rows = await session.execute(_COUNTS_AND_ANSWERS, {"ids": ids, ACTOR_PARAM: actor.user_id})
    counts: dict[int, int] = {}
    answers: dict[int, str] = {}
    for schedule_id, invitations, via_my_group, my_answer in rows.all():
        counts[schedule_id] = int(invitations or 0)
        if my_answer is not None:
            answers[schedule_id] = my_answer
        elif via_my_group:
            answers[schedule_id] = "pending"
    return counts, answers


async def schedule_views(
    session: AsyncSession,
    *,
    actor: Principal,
    schedules: Sequence[Schedule],
    occurrences_of: Sequence[tuple[datetime, datetime] | None] | None = None,
) -> list[ScheduleView]:
    await named(session, schedules)
    counts, answers = await _counts_and_answers(session, actor, list({s.id for s in schedules}))
    spans = occurrences_of or [None] * len(schedules)
    return [
        ScheduleView(s, counts.get(s.id, 0), answers.get(s.id), span)
        for s, span in zip(schedules, spans, strict=True)
    ]


async def schedule_view(
    session: AsyncSession, *, actor: Principal, schedule: Schedule
) -> ScheduleView:
    return (await schedule_views(session, actor=actor, schedules=[schedule]))[0]


# Listing


_LOW, _HIGH = "lms_window_start", "lms_window_end"


async def schedule_page(
    session: AsyncSession, *, actor: Principal, query: ScheduleQuery, page: PageRequest
) -> PageResult:
    """The schedules I created or am invited to; an admin sees every schedule."""
    statement = functools.partial(_schedules_statement, actor.is_admin)
    return await SCHEDULES.page_of(session, statement, query, page, {ACTOR_PARAM: actor.user_id})


def _visible_schedules(is_admin: bool) -> Select[Any]:
    stmt = select(Schedule)
    return stmt if is_admin else stmt.where(mine(bindparam(ACTOR_PARAM)))


@functools.lru_cache(maxsize=256)
def _schedules_statement(is_admin: bool, shape: ListShape) -> Select[Any]:
    return SCHEDULES.apply_shape(counted(_visible_schedules(is_admin)), shape)


@functools.lru_cache(maxsize=256)
def _window_statement(is_admin: bool, shape: ListShape) -> Select[Any]:
    """Every schedule of `shape` with an occurrence that may overlap the window: series
    ending before it or beginning after it are left out (in no order: they are merged)."""
    return _visible_schedules(is_admin).where(
        *SCHEDULES.where_shape(shape),
        Schedule.start_time < bindparam(_HIGH),
        or_(Schedule.series_end.is_(None), Schedule.series_end > bindparam(_LOW)),
    )


def window_of(query: ScheduleQuery) -> tuple[datetime, datetime] | None:
    """The `start`/`end` window of a listing, None without one; 400 when it is unusable."""
    if query.start is None and query.end is None:
        return None
    if query.start is None:
        raise ValidationFailed.field("start", "This field is required when end is given.")
    if query.end is None:
        raise ValidationFailed.field("end", "This field is required when start is given.")
    if query.end <= query.start:
        raise ValidationFailed.field("end", "End must be after start.")
    if query.end - query.start > MAX_WINDOW:
        raise ValidationFailed.field("end", "The window may span at most 366 days.")
    return query.start, query.end


async def _spans(
    schedule: Schedule, window: tuple[datetime, datetime], budget: Budget
) -> list[tuple[datetime, datetime]]:
    low, high = window
    once = [(schedule.start_time, schedule.end_time)]
    if schedule.recurrence is None:
        return once
    try:
        return await expand(
            schedule.recurrence,
            start=schedule.start_time,
            end=schedule.end_time,
            tz=zone(schedule.timezone),
            ends=schedule.series_end,
            window=window,
            budget=budget,
        )
    except RuleError:  # a stored rule no check lets in any more: its first occurrence only
        return once if schedule.start_time < high and schedule.end_time > low else []


async def occurrence_page(
    session: AsyncSession,
    *,
    actor: Principal,
    query: ScheduleQuery,
    window: tuple[datetime, datetime],
    page: PageRequest,
) -> tuple[PageResult, list[ScheduleView]]:
    """One item per occurrence overlapping the window, by start, a page of them.

    Series that end before the window or begin after it are left out in SQL; the rest are
    expanded in memory, sorted, and the page's views take three queries. The expansion is
    bounded per schedule (its first occurrences) and per request: a window needing more
    work than a request may take is a 400 on `end`, the same for every page of it.
    """
    shape = SCHEDULES.shape(query)
    params = {**SCHEDULES.values(query, shape), ACTOR_PARAM: actor.user_id}
    params[_LOW], params[_HIGH] = window
    statement = _window_statement(actor.is_admin, replace(shape, order=()))  # merged by start
    candidates = (await session.scalars(statement, params)).all()
    budget = Budget()
    runs: list[tuple[Schedule, list[tuple[datetime, datetime]]]] = []
    try:
        for schedule in candidates:
            runs.append((schedule, await _spans(schedule, window, budget)))
    except TooMuchWork:
        raise ValidationFailed.field("end", TOO_MUCH) from None
    count = sum(len(spans) for _, spans in runs)
    check_page_exists(page, count)
    chunk = await _merged_page(runs, page)
    views = await schedule_views(
        session,
        actor=actor,
        schedules=[s for _, s in chunk],
        occurrences_of=[span for span, _ in chunk],
    )
    return PageResult(count=count, rows=chunk, page=page), views


async def _merged_page(
    runs: Sequence[tuple[Schedule, list[tuple[datetime, datetime]]]], page: PageRequest
) -> list[tuple[tuple[datetime, datetime], Schedule]]:
    """The page's occurrences, by start then schedule id: each schedule's are in order
    already, so they are merged only as far as the page, pausing for the event loop."""
    merged = heapq.merge(
        *(zip(spans, repeat(schedule)) for schedule, spans in runs),
        key=lambda item: (item[0][0], item[1].id),
    )
    chunk = []
    for index, item in enumerate(merged):
        if index >= page.offset + page.size:
            break
        if index >= page.offset:
            chunk.append(item)
        if index % PAUSE_EVERY == PAUSE_EVERY - 1:
            await asyncio.sleep(0)
    return chunk


async def calendar_schedules(
    session: AsyncSession, *, actor: Principal, limit: int
) -> Sequence[Schedule]:
    """My schedules for a calendar feed: created or invited to, admins included."""
    stmt = (
        select(Schedule)
        .where(mine(actor.user_id))
        .order_by(Schedule.start_time.desc(), Schedule.id.desc())
        .limit(limit)
    )
    return (await session.scalars(stmt)).all()


# Changes


async def _series_end(
    *, start: datetime, end: datetime, recurrence: str | None, timezone: str
) -> datetime | None:
    """Check the times and the rule together; when the series ends (None: never)."""
    if end <= start:
        raise ValidationFailed.field("end_time", END_NOT_AFTER_START)
    if recurrence is None:
        return end
    try:
        return await series_end(recurrence, start=start, end=end, tz=zone(timezone))
    except RuleError as exc:
        raise ValidationFailed.field("recurrence", str(exc)) from None


@dataclass(frozen=True, slots=True)
class ScheduleChange:
    """Checked columns of a schedule, and when its series ends with them."""

    columns: dict[str, Any]
    series_end: datetime | None


async def check_new_schedule(data: ScheduleCreate) -> ScheduleChange:
    """A new schedule's times and rule (400s); anyone may create one (the rules limit who
    sees and changes it, not who creates)."""
    columns = data.model_dump()
    end = await _series_end(
        start=data.start_time,
        end=data.end_time,
        recurrence=data.recurrence,
        timezone=data.timezone,
    )
    return ScheduleChange(columns, end)


async def do_create_schedule(
    session: AsyncSession, *, actor: Principal, change: ScheduleChange
) -> Schedule:
    """Create the schedule `check_new_schedule` returned."""
    schedule = Schedule(**change.columns, series_end=change.series_end, created_by=actor.user_id)
    session.add(schedule)
    await session.flush()
    schedule_activity(
        session, actor, schedule, "schedule_created", f"Created schedule {schedule.title!r}."
    )
    return schedule


async def check_schedule_update(schedule: Schedule, data: ScheduleUpdate) -> ScheduleChange:
    """The body's changes, with the times and rule they leave the schedule checked (400s)."""
    columns = check_changes(data)
    end = await _series_end(
        start=columns.get("start_time", schedule.start_time),
        end=columns.get("end_time", schedule.end_time),
        recurrence=columns.get("recurrence", schedule.recurrence),
        timezone=columns.get("timezone", schedule.timezone),
    )
    return ScheduleChange(columns, end)


async def do_update_schedule(
    session: AsyncSession, *, actor: Principal, schedule: Schedule, change: ScheduleChange
) -> Schedule:
    """Apply a change `check_schedule_update` returned (to a schedule
    `access_schedule(for_change=True)` returned); status "cancelled" cancels it."""
    was = schedule.status
    for field, value in change.columns.items():
        setattr(schedule, field, value)
    schedule.series_end = change.series_end
    await session.flush()
    if schedule.status == CANCELLED and was != CANCELLED:
        kind, details = "schedule_cancelled", f"Cancelled schedule {schedule.title!r}."
        notice = "schedule_cancelled"
    else:
        kind, details = "schedule_updated", f"Updated schedule {schedule.title!r}."
        notice = "schedule_changed"
    schedule_activity(session, actor, schedule, kind, details)
    if change.columns:
        users = await participant_ids(session, schedule_id=schedule.id)
        # Each change is an event of its own: its key is made here, once, so a redelivered
        # task still creates nothing twice.
        _notify_participants(
            session,
            actor,
            schedule,
            users,
            notice,
            uuid.uuid4().hex,
            changed=sorted(change.columns),
        )
    return schedule


async def do_delete_schedule(
    session: AsyncSession, *, actor: Principal, schedule: Schedule
) -> None:
    """Delete a schedule and its invitations (after `access_schedule(for_change=True)`); its
    participants are told it is cancelled."""
    users = await participant_ids(session, schedule_id=schedule.id)
    _notify_participants(
        session, actor, schedule, users, "schedule_cancelled", "deleted", deleted=True
    )
    schedule_activity(
        session, actor, schedule, "schedule_deleted", f"Deleted schedule {schedule.title!r}."
    )
    await session.delete(schedule)
    await session.flush()


def schedule_activity(
    session: AsyncSession, actor: Principal, schedule: Schedule, activity_type: str, details: str
) -> None:
    record_activity_on(session, actor, ("schedule", schedule.id), activity_type, details)
