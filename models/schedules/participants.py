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
from models.errors import Conflict, NotFound, PermissionDenied, ValidationFailed, invalid_pk
from models.groups.operations import access_group, is_member
from models.identity import Principal
from models.listing import Listing
from models.notifications.operations import group_member_ids, notify_users
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


async def access_invited_schedule(
    session: AsyncSession, *, actor: Principal, schedule_id: int
) -> Schedule:
    """The schedule an invitation names, if the actor may see it (else a 400 on `schedule`)."""
    try:
        return await access_schedule(session, actor=actor, schedule_id=schedule_id)
    except NotFound:
        raise ValidationFailed.field("schedule", invalid_pk(schedule_id)) from None


async def check_new_participant(
    session: AsyncSession, *, actor: Principal, schedule: Schedule, data: ParticipantCreate
) -> None:
    """The schedule's creator or an admin invites (403), a group they can see (400 on
    `group` otherwise)."""
    check_organizer(actor, schedule)
    if data.group is not None:
        try:
            await access_group(session, actor=actor, group_id=data.group)
        except NotFound:
            raise ValidationFailed.field("group", invalid_pk(data.group)) from None


async def do_add_participant(
    session: AsyncSession, *, actor: Principal, schedule: Schedule, data: ParticipantCreate
) -> Participant:
    """Invite a user or a group, once `check_new_participant` passed; an invitation that
    exists already is a 409."""
    if data.group is not None:
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
    if participant.group_id is not None:
        invited = await group_member_ids(session, group_id=participant.group_id)
    else:
        invited = [participant.user_id] if participant.user_id is not None else []
    notify_users(
        session,
        actor_id=actor.user_id,
        event_key=f"schedule_invitation:{schedule.id}:{participant.id}",
        type_="schedule_invitation",
        recipients=invited,
        title=schedule.title,
        data={"schedule_id": schedule.id, "participant_id": participant.id},
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
    session: AsyncSession,
    *,
    actor: Principal,
    participant: Participant,
    schedule: Schedule,
    is_optional: bool | None,
) -> Participant:
    """Mark an invitation optional or not (after `check_organizer`); None changes nothing."""
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


async def check_responder(
    session: AsyncSession, *, actor: Principal, participant: Participant
) -> None:
    """I answer my own invitation or my group's (403 for anyone else's)."""
    if participant.group_id is not None:
        if not await is_member(session, group_id=participant.group_id, user_id=actor.user_id):
            raise PermissionDenied()
    elif participant.user_id != actor.user_id:
        raise PermissionDenied()


async def do_respond(
    session: AsyncSession,
    *,
    actor: Principal,
    participant: Participant,
    schedule: Schedule,
    answer: str,
) -> Participant:
    """Answer an invitation `check_responder` passed.

    Answering a group invitation as one of its members creates or updates my own row for
    the schedule and returns it; the group's row stays as it is for the other members.
    """
    if participant.group_id is not None:
        participant = await _own_answer_row(session, actor, schedule, participant)
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


def _leaving(actor: Principal, participant: Participant) -> bool:
    return participant.user_id is not None and participant.user_id == actor.user_id


def check_participant_remover(
    actor: Principal, participant: Participant, schedule: Schedule
) -> None:
    """The creator and admins remove any invitation, a user their own (leaving; 403 else)."""
    if not _leaving(actor, participant):
        check_organizer(actor, schedule)


async def do_remove_participant(
    session: AsyncSession, *, actor: Principal, participant: Participant, schedule: Schedule
) -> None:
    """Remove an invitation (after `check_participant_remover`).

    Removing a group's invitation removes its members' answers with it.
    """
    leaving = _leaving(actor, participant)
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
