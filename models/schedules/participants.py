"""Schedule participants: invitations of users and groups, and their answers.

The creator of a schedule (or an admin) invites a user by id or a whole group; members of
an invited group see the schedule for as long as they are members. A member who answers a
group invitation gets a row of their own (`via_group_id`) holding the answer; it is
removed with the group's invitation and grants no access by itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from models.groups.operations import access_group, is_member
from models.identity import Principal
from models.listing import Listing
from models.schedules.operations import (
    Participant,
    access_schedule,
    check_organizer,
    live,
    mine,
    schedule_activity,
)
from models.schedules.schemas import ParticipantCreate, ParticipantQuery
from models.schedules.tables import Schedule
from models.unique import add_unique

ALREADY_USER = "This user is already a participant of this schedule."
ALREADY_GROUP = "This group is already a participant of this schedule."


def _invalid_pk(value: object) -> str:
    return f'Invalid pk "{value}" - object does not exist.'


def _who(participant: Participant) -> str:
    if participant.group_id is not None:
        return f"group {participant.group_id}"
    return repr(participant.user_id)


PARTICIPANTS = Listing(
    filters={
        "schedule": Participant.schedule_id,
        "user_id": Participant.user_id,
        "group": Participant.group_id,
        "response_status": Participant.response_status,
    },
    default=(Participant.schedule_id, Participant.created_at, Participant.id),
)


def participants_query(actor: Principal, query: ParticipantQuery) -> Select[Any]:
    """Invitations of the schedules I see; an admin sees every invitation."""
    stmt = select(Participant).where(live())
    if not actor.is_admin:
        visible = select(Schedule.id).where(mine(actor.user_id))
        stmt = stmt.where(Participant.schedule_id.in_(visible))
    return PARTICIPANTS.apply(stmt, query)


async def access_participant(
    session: AsyncSession, *, actor: Principal, participant_id: int
) -> tuple[Participant, Schedule]:
    """An invitation and its schedule, if the actor may see the schedule (404 otherwise)."""
    participant = await session.get(Participant, participant_id)
    if participant is None:
        raise NotFound()
    schedule = await access_schedule(session, actor=actor, schedule_id=participant.schedule_id)
    via, user_id = participant.via_group_id, participant.user_id
    # An answer left behind by someone who has since left the group is gone with them.
    if (
        via is not None
        and user_id is not None
        and not await is_member(session, group_id=via, user_id=user_id)
    ):
        raise NotFound()
    return participant, schedule


async def _find(
    session: AsyncSession,
    *,
    schedule_id: int,
    user_id: str | None = None,
    group_id: int | None = None,
) -> Participant | None:
    stmt = select(Participant).where(Participant.schedule_id == schedule_id)
    if group_id is not None:
        stmt = stmt.where(Participant.group_id == group_id)
    else:
        stmt = stmt.where(Participant.user_id == user_id)
    return (await session.scalars(stmt)).one_or_none()


async def do_add_participant(
    session: AsyncSession, *, actor: Principal, data: ParticipantCreate
) -> Participant:
    """Invite a user or a group (the schedule's creator or an admin).

    A schedule the actor cannot see is a 400 on `schedule`, a group they cannot see a 400
    on `group`; an invitation that exists already is a 409.
    """
    try:
        schedule = await access_schedule(session, actor=actor, schedule_id=data.schedule)
    except NotFound:
        raise ValidationFailed.field("schedule", _invalid_pk(data.schedule)) from None
    check_organizer(actor, schedule)
    if data.group is not None:
        try:
            await access_group(session, actor=actor, group_id=data.group)
        except NotFound:
            raise ValidationFailed.field("group", _invalid_pk(data.group)) from None
        participant = await _invite(session, actor, schedule, data, group_id=data.group)
    else:
        participant = await _invite(session, actor, schedule, data, user_id=data.user_id)
    schedule_activity(
        session,
        actor,
        schedule,
        "schedule_participant_added",
        f"Invited {_who(participant)} to schedule {schedule.title!r}.",
    )
    return participant


async def _invite(
    session: AsyncSession,
    actor: Principal,
    schedule: Schedule,
    data: ParticipantCreate,
    *,
    user_id: str | None = None,
    group_id: int | None = None,
) -> Participant:
    conflict = ALREADY_GROUP if group_id is not None else ALREADY_USER
    existing = await _find(session, schedule_id=schedule.id, user_id=user_id, group_id=group_id)
    if existing is not None and existing.via_group_id is not None:
        # They had only answered through a group: now they are invited by name.
        existing.via_group_id = None
        existing.is_optional = data.is_optional
        existing.added_by = actor.user_id
        await session.flush()
        return existing
    if existing is not None:
        raise Conflict(conflict)
    row = Participant(
        schedule_id=schedule.id,
        user_id=user_id,
        group_id=group_id,
        is_optional=data.is_optional,
        added_by=actor.user_id,
    )
    # A concurrent invitation of the same user or group loses the race on the unique key.
    row, created = await add_unique(
        session,
        row,
        lambda: _find(session, schedule_id=schedule.id, user_id=user_id, group_id=group_id),
    )
    if not created:
        raise Conflict(conflict)
    return row


async def do_update_participant(
    session: AsyncSession, *, actor: Principal, participant_id: int, is_optional: bool | None
) -> Participant:
    """Mark an invitation optional or not (the schedule's creator or an admin)."""
    participant, schedule = await access_participant(
        session, actor=actor, participant_id=participant_id
    )
    check_organizer(actor, schedule)
    if is_optional is None or is_optional == participant.is_optional:
        return participant
    participant.is_optional = is_optional
    await session.flush()
    schedule_activity(
        session,
        actor,
        schedule,
        "schedule_updated",
        f"Made {_who(participant)} {'optional' if is_optional else 'required'} "
        f"in schedule {schedule.title!r}.",
    )
    return participant


async def do_respond(
    session: AsyncSession, *, actor: Principal, participant_id: int, answer: str
) -> Participant:
    """Answer an invitation: my own (403 for anyone else's), or my group's.

    Answering a group invitation as one of its members creates or updates my own row for
    the schedule and returns it; the group's row stays as it is for the other members.
    """
    participant, schedule = await access_participant(
        session, actor=actor, participant_id=participant_id
    )
    if participant.group_id is not None:
        group_id = participant.group_id
        if not await is_member(session, group_id=group_id, user_id=actor.user_id):
            raise PermissionDenied()
        participant = await _own_answer_row(session, actor, schedule, participant)
    elif participant.user_id != actor.user_id:
        raise PermissionDenied()
    participant.response_status = answer
    participant.responded_at = utcnow()
    await session.flush()
    schedule_activity(
        session,
        actor,
        schedule,
        "schedule_responded",
        f"Answered {answer} to schedule {schedule.title!r}.",
    )
    return participant


async def _own_answer_row(
    session: AsyncSession, actor: Principal, schedule: Schedule, group_row: Participant
) -> Participant:
    own = await _find(session, schedule_id=schedule.id, user_id=actor.user_id)
    if own is None:
        row = Participant(
            schedule_id=schedule.id,
            user_id=actor.user_id,
            via_group_id=group_row.group_id,
            is_optional=group_row.is_optional,
            added_by=actor.user_id,
        )
        added: Participant
        added, _ = await add_unique(
            session, row, lambda: _find(session, schedule_id=schedule.id, user_id=actor.user_id)
        )
        return added
    elif own.via_group_id is not None:
        own.via_group_id = group_row.group_id  # answered through this group now
    return own


async def do_remove_participant(
    session: AsyncSession, *, actor: Principal, participant_id: int
) -> None:
    """Remove an invitation: the creator and admins any, a user their own (leaving).

    Removing a group's invitation removes its members' answers with it.
    """
    participant, schedule = await access_participant(
        session, actor=actor, participant_id=participant_id
    )
    leaving = participant.user_id is not None and participant.user_id == actor.user_id
    if not leaving:
        check_organizer(actor, schedule)
    if participant.group_id is not None:
        await session.execute(
            delete(Participant).where(
                Participant.schedule_id == schedule.id,
                Participant.via_group_id == participant.group_id,
            )
        )
    schedule_activity(
        session,
        actor,
        schedule,
        "schedule_participant_removed",
        (
            f"Left schedule {schedule.title!r}."
            if leaving
            else f"Removed {_who(participant)} from schedule {schedule.title!r}."
        ),
    )
    await session.delete(participant)
    await session.flush()
