"""Routes: schedules and their participants (Scheduling), and the iCalendar feed."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from models.people.names import with_people
from models.schedules import operations as schedules
from models.schedules import participants
from models.schedules.calendar import MAX_FEED_EVENTS, calendar_feed
from models.schedules.schemas import (
    ParticipantCreate,
    ParticipantQuery,
    ParticipantRead,
    ParticipantUpdate,
    ParticipantWhole,
    RespondBody,
    ScheduleCreate,
    ScheduleQuery,
    ScheduleRead,
    ScheduleUpdate,
)
from models.schedules.tables import Schedule
from web.handlers import (
    actor,
    no_content,
    ok,
    path_id,
    read_update,
    render,
    render_named,
    session,
)
from web.jsonio import read_body, read_query
from web.pagination import page_body, page_request, paginated
from web.routing import RouteTable

routes = RouteTable()
TAG = "schedule"
SCHEDULES = "/api/lms/schedule/schedules/"
# ASCII digits only: \d would also match other scripts' digits, giving one resource many URLs.
SCHEDULE = SCHEDULES + r"{schedule_id:[0-9]+}/"
CALENDAR = SCHEDULES + "calendar.ics"
PARTICIPANTS = "/api/lms/schedule/participants/"
PARTICIPANT = PARTICIPANTS + r"{participant_id:[0-9]+}/"
RESPOND = PARTICIPANT + "respond/"
ICS_TYPE = "text/calendar"


async def _schedule_body(request: web.Request, schedule: Schedule) -> dict[str, Any]:
    view = await schedules.schedule_view(session(request), actor=actor(request), schedule=schedule)
    return render(ScheduleRead, view.fields())


@routes.read(
    SCHEDULES,
    tag=TAG,
    query=ScheduleQuery,
    response=ScheduleRead,
    paginated=True,
    expensive=("start", "end", "search"),
)
async def list_schedules(request: web.Request) -> web.Response:
    """List my schedules; with `start` and `end`, one item per occurrence in that window."""
    query = read_query(request, ScheduleQuery)
    window = schedules.window_of(query)
    page = page_request(request)
    if window is not None:
        result, views = await schedules.occurrence_page(
            session(request), actor=actor(request), query=query, window=window, page=page
        )
    else:
        result = await schedules.schedule_page(
            session(request), actor=actor(request), query=query, page=page
        )
        views = await schedules.schedule_views(
            session(request), actor=actor(request), schedules=result.rows
        )
    return ok(page_body(request, result, [render(ScheduleRead, v.fields()) for v in views]))


@routes.route("POST", SCHEDULES, tag=TAG, body=ScheduleCreate, response=ScheduleRead, status=201)
async def create_schedule(request: web.Request) -> web.Response:
    """Create a schedule (any user); new schedules are `scheduled`."""
    data = await read_body(request, ScheduleCreate)
    change = await schedules.check_new_schedule(data)
    schedule = await schedules.do_create_schedule(
        session(request), actor=actor(request), change=change
    )
    return ok(await _schedule_body(request, schedule), status=201)


@routes.read(CALENDAR, tag=TAG, media_type=ICS_TYPE, expensive=True)
async def calendar(request: web.Request) -> web.Response:
    """My schedules as an iCalendar feed; the token may come as `?token=` for calendar apps."""
    rows = await schedules.calendar_schedules(
        session(request), actor=actor(request), limit=MAX_FEED_EVENTS
    )
    return web.Response(
        body=calendar_feed(rows, tenant=actor(request).tenant),
        content_type=ICS_TYPE,
        charset="utf-8",
        headers={
            "Content-Disposition": 'inline; filename="schedules.ics"',
            "Cache-Control": "private, no-cache",
        },
    )


@routes.read(SCHEDULE, tag=TAG, response=ScheduleRead)
async def get_schedule(request: web.Request) -> web.Response:
    """Retrieve a schedule (its creator, participants and admins)."""
    schedule = await schedules.access_schedule(
        session(request), actor=actor(request), schedule_id=path_id(request, "schedule_id")
    )
    return ok(await _schedule_body(request, schedule))


async def _update_schedule(request: web.Request) -> web.Response:
    # As DRF: 404 and 403 come before anything in the body is looked at.
    schedule = await schedules.access_schedule(
        session(request),
        actor=actor(request),
        schedule_id=path_id(request, "schedule_id"),
        for_change=True,
    )
    data = await read_update(request, ScheduleCreate, ScheduleUpdate)
    change = await schedules.check_schedule_update(schedule, data)
    schedule = await schedules.do_update_schedule(
        session(request), actor=actor(request), schedule=schedule, change=change
    )
    return ok(await _schedule_body(request, schedule))


routes.update_routes(
    SCHEDULE,
    tag=TAG,
    partial=ScheduleUpdate,
    whole=ScheduleCreate,
    response=ScheduleRead,
    summary="Change or cancel a schedule (its creator or an admin)",
)(_update_schedule)


@routes.route("DELETE", SCHEDULE, tag=TAG, status=204)
async def delete_schedule(request: web.Request) -> web.Response:
    """Delete a schedule and its participants (its creator or an admin)."""
    schedule = await schedules.access_schedule(
        session(request),
        actor=actor(request),
        schedule_id=path_id(request, "schedule_id"),
        for_change=True,
    )
    await schedules.do_delete_schedule(session(request), actor=actor(request), schedule=schedule)
    return no_content()


@routes.read(
    PARTICIPANTS, tag=TAG, query=ParticipantQuery, response=ParticipantRead, paginated=True
)
async def list_participants(request: web.Request) -> web.Response:
    """Participants of the schedules I see (`schedule`, `user_id`, `group`, `response_status`)."""
    query = read_query(request, ParticipantQuery)
    stmt = participants.participants_query(actor(request), query)
    return ok(
        await paginated(
            request, session(request), stmt, lambda p: render(ParticipantRead, with_people(p))
        )
    )


@routes.route(
    "POST",
    PARTICIPANTS,
    tag=TAG,
    body=ParticipantCreate,
    response=ParticipantRead,
    status=201,
    errors=(409,),
    audit="schedule_participant_created",
)
async def add_participant(request: web.Request) -> web.Response:
    """Invite a user (`user_id`) or a group (`group`) to a schedule (its creator or an admin)."""
    data = await read_body(request, ParticipantCreate)
    schedule = await participants.access_invited_schedule(
        session(request), actor=actor(request), schedule_id=data.schedule
    )
    await participants.check_new_participant(
        session(request), actor=actor(request), schedule=schedule, data=data
    )
    participant = await participants.do_add_participant(
        session(request), actor=actor(request), schedule=schedule, data=data
    )
    return ok(await render_named(request, ParticipantRead, participant), status=201)


@routes.read(PARTICIPANT, tag=TAG, response=ParticipantRead)
async def get_participant(request: web.Request) -> web.Response:
    """Retrieve a participant of a schedule I see."""
    participant, _ = await participants.access_participant(
        session(request), actor=actor(request), participant_id=path_id(request, "participant_id")
    )
    return ok(await render_named(request, ParticipantRead, participant))


async def _update_participant(request: web.Request) -> web.Response:
    # As DRF: 404 and 403 come before anything in the body is looked at.
    participant, schedule = await participants.access_participant(
        session(request), actor=actor(request), participant_id=path_id(request, "participant_id")
    )
    schedules.check_organizer(actor(request), schedule)
    data = await read_update(request, ParticipantWhole, ParticipantUpdate)
    participant = await participants.do_update_participant(
        session(request),
        actor=actor(request),
        participant=participant,
        schedule=schedule,
        is_optional=data.is_optional,
    )
    return ok(await render_named(request, ParticipantRead, participant))


# Named `schedule_participant_updated` in the audit trail
# ("participant" alone would not say of what).
routes.update_routes(
    PARTICIPANT,
    tag=TAG,
    partial=ParticipantUpdate,
    whole=ParticipantWhole,
    response=ParticipantRead,
    summary="Make an invitation optional or required (the schedule's creator or an admin)",
    audit="schedule_participant_updated",
)(_update_participant)


@routes.route("DELETE", PARTICIPANT, tag=TAG, status=204, audit="schedule_participant_deleted")
async def remove_participant(request: web.Request) -> web.Response:
    """Remove a participant (the schedule's creator or an admin), or leave a schedule."""
    participant, schedule = await participants.access_participant(
        session(request), actor=actor(request), participant_id=path_id(request, "participant_id")
    )
    participants.check_participant_remover(actor(request), participant, schedule)
    await participants.do_remove_participant(
        session(request), actor=actor(request), participant=participant, schedule=schedule
    )
    return no_content()


@routes.route(
    "POST",
    RESPOND,
    tag=TAG,
    body=RespondBody,
    response=ParticipantRead,
    audit="schedule_participant_updated",
)
async def respond(request: web.Request) -> web.Response:
    """Answer an invitation: mine, or my group's (which answers for me alone)."""
    # As DRF: 404 comes before anything in the body is looked at.
    participant, schedule = await participants.access_participant(
        session(request), actor=actor(request), participant_id=path_id(request, "participant_id")
    )
    data = await read_body(request, RespondBody)
    await participants.check_responder(
        session(request), actor=actor(request), participant=participant
    )
    participant = await participants.do_respond(
        session(request),
        actor=actor(request),
        participant=participant,
        schedule=schedule,
        answer=data.response_status,
    )
    return ok(await render_named(request, ParticipantRead, participant))
