"""Scheduling: schedules ("Create Schedule"; the creator and participants see a
schedule, the creator changes it; its status)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.schedules_data import SEED_SCHEDULE, schedule_url
from tests.matchers import FORBIDDEN, ID, NOT_FOUND, TIMESTAMP, person, q

SCHEDULES = "/api/lms/schedule/schedules/"
PARTICIPANTS = "/api/lms/schedule/participants/"
GROUPS = "/api/lms/groups/groups/"
MEMBERS = "/api/lms/groups/members/"
ACTIVITIES = "/api/lms/activitylog/logs/"
AUDIT = "/api/lms/auditlog/logs/"


@pytest.fixture
async def schedule(api) -> dict[str, Any]:
    """The documented example schedule, created by `student` (student-1)."""
    reply = await api.post(SCHEDULES, SEED_SCHEDULE, as_="student")
    assert reply.status == 201, reply.body
    return dict(reply.body)


async def invite(api, schedule_id: int, user: str, as_: str = "student") -> Any:
    return await api.post(PARTICIPANTS, {"schedule": schedule_id, "user_id": user}, as_=as_)


# Creating


async def test_any_user_creates_a_schedule_with_the_seed_body(api):
    reply = await api.post(SCHEDULES, SEED_SCHEDULE, as_="student")

    assert reply.status == 201
    assert reply.body == {
        "id": ID,
        "title": "Team Meeting",
        "description": "Weekly team sync",
        "start_time": "2025-11-20T10:00:00Z",
        "end_time": "2025-11-20T11:00:00Z",
        "location": "Conference Room A",
        "is_all_day": False,
        "timezone": "UTC",
        "recurrence": None,
        "status": "scheduled",
        "created_by": "student-1",
        "created_by_person": person("student-1"),
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
        "participant_count": 0,
        "my_response": None,
        "recurrence_id": None,
    }


async def test_times_with_an_offset_are_returned_in_utc(api):
    body = {**SEED_SCHEDULE, "start_time": "2025-11-20T11:00:00+01:00"}

    reply = await api.post(SCHEDULES, body, as_="student")

    assert (reply.status, reply.body["start_time"]) == (201, "2025-11-20T10:00:00Z")


async def test_recurrence_is_stored_normalized(api):
    body = {**SEED_SCHEDULE, "recurrence": "RRULE:freq=weekly;byday=th;count=4"}

    reply = await api.post(SCHEDULES, body, as_="student")

    assert (reply.status, reply.body["recurrence"]) == (201, "FREQ=WEEKLY;BYDAY=TH;COUNT=4")


async def test_end_time_before_start_time_is_a_400_on_end_time(api):
    body = {**SEED_SCHEDULE, "end_time": "2025-11-20T09:00:00Z"}

    reply = await api.post(SCHEDULES, body, as_="student")

    assert (reply.status, reply.body) == (
        400,
        {"end_time": ["End time must be after start time."], "status": 400},
    )


async def test_end_time_equal_to_start_time_is_a_400(api):
    body = {**SEED_SCHEDULE, "end_time": SEED_SCHEDULE["start_time"]}

    reply = await api.post(SCHEDULES, body, as_="student")

    assert (reply.status, list(reply.body)) == (400, ["end_time", "status"])


async def test_patch_moving_only_the_start_past_the_end_is_a_400_on_end_time(api, schedule):
    reply = await api.patch(
        schedule_url(schedule["id"]), {"start_time": "2025-11-20T12:00:00Z"}, as_="student"
    )

    assert (reply.status, reply.body) == (
        400,
        {"end_time": ["End time must be after start time."], "status": 400},
    )


# Seeing


async def test_creator_retrieves_the_schedule(api, schedule):
    reply = await api.get(schedule_url(schedule["id"]), as_="student")

    assert (reply.status, reply.body) == (200, schedule)


async def test_invited_user_sees_the_schedule_and_an_outsider_gets_404(api, schedule):
    await invite(api, schedule["id"], "student-2")

    invited = await api.get(schedule_url(schedule["id"]), as_="student2")
    outsider = await api.get(schedule_url(schedule["id"]), as_="instructor")

    assert (invited.status, invited.body["my_response"]) == (200, "pending")
    assert (outsider.status, outsider.body) == (404, NOT_FOUND)


async def test_admin_sees_any_schedule(api, schedule):
    reply = await api.get(schedule_url(schedule["id"]), as_="admin")

    assert (reply.status, reply.body["my_response"]) == (200, None)


async def test_list_shows_only_schedules_i_created_or_am_invited_to(api, schedule):
    await api.post(SCHEDULES, {**SEED_SCHEDULE, "title": "Other"}, as_="instructor")
    await invite(api, schedule["id"], "student-2")

    mine = await api.get(SCHEDULES, as_="student2")
    everything = await api.get(SCHEDULES, as_="admin")

    assert [s["title"] for s in mine.body["results"]] == ["Team Meeting"]
    assert everything.body["count"] == 2


async def test_list_filters_by_status_and_searches_titles(api, schedule):
    other = await api.post(SCHEDULES, {**SEED_SCHEDULE, "title": "Retro"}, as_="student")
    await api.patch(schedule_url(other.body["id"]), {"status": "cancelled"}, as_="student")

    cancelled = await api.get(q(SCHEDULES, {"status": "cancelled"}), as_="student")
    found = await api.get(q(SCHEDULES, {"search": "team"}), as_="student")

    assert [s["title"] for s in cancelled.body["results"]] == ["Retro"]
    assert [s["title"] for s in found.body["results"]] == ["Team Meeting"]


async def test_list_orders_by_start_time_by_default_and_by_title_on_request(api):
    for title, day in (("B", "22"), ("A", "23"), ("C", "21")):
        body = {
            **SEED_SCHEDULE,
            "title": title,
            "start_time": f"2025-11-{day}T10:00:00Z",
            "end_time": f"2025-11-{day}T11:00:00Z",
        }
        await api.post(SCHEDULES, body, as_="student")

    default = await api.get(SCHEDULES, as_="student")
    by_title = await api.get(q(SCHEDULES, {"ordering": "title"}), as_="student")

    assert [s["title"] for s in default.body["results"]] == ["C", "B", "A"]
    assert [s["title"] for s in by_title.body["results"]] == ["A", "B", "C"]


# Changing


async def test_creator_edits_the_schedule(api, schedule):
    reply = await api.patch(
        schedule_url(schedule["id"]),
        {"title": "Standup", "timezone": "Europe/Berlin"},
        as_="student",
    )

    assert reply.status == 200
    assert (reply.body["title"], reply.body["timezone"]) == ("Standup", "Europe/Berlin")


async def test_participant_cannot_edit_or_delete_the_schedule(api, schedule):
    await invite(api, schedule["id"], "student-2")

    edited = await api.patch(schedule_url(schedule["id"]), {"title": "Mine"}, as_="student2")
    deleted = await api.delete(schedule_url(schedule["id"]), as_="student2")

    assert (edited.status, edited.body) == (403, FORBIDDEN)
    assert (deleted.status, deleted.body) == (403, FORBIDDEN)


async def test_outsider_changing_the_schedule_gets_404(api, schedule):
    reply = await api.patch(schedule_url(schedule["id"]), {"title": "Mine"}, as_="student2")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_cancelling_is_a_patch_of_status(api, schedule):
    reply = await api.patch(schedule_url(schedule["id"]), {"status": "cancelled"}, as_="student")

    assert (reply.status, reply.body["status"]) == (200, "cancelled")


async def test_unknown_status_is_a_400_under_status(api, schedule):
    reply = await api.patch(schedule_url(schedule["id"]), {"status": "success"}, as_="student")

    assert (reply.status, reply.body) == (400, {"status": ['"success" is not a valid choice.']})


async def test_patch_with_null_recurrence_removes_the_rule(api):
    created = await api.post(
        SCHEDULES, {**SEED_SCHEDULE, "recurrence": "FREQ=DAILY"}, as_="student"
    )

    reply = await api.patch(schedule_url(created.body["id"]), {"recurrence": None}, as_="student")

    assert (reply.status, reply.body["recurrence"]) == (200, None)


async def test_patch_with_null_title_is_a_400(api, schedule):
    reply = await api.patch(schedule_url(schedule["id"]), {"title": None}, as_="student")

    assert (reply.status, reply.body) == (
        400,
        {"title": ["This field may not be null."], "status": 400},
    )


async def test_put_needs_every_required_field(api, schedule):
    reply = await api.put(schedule_url(schedule["id"]), {"title": "x"}, as_="student")

    assert reply.status == 400
    assert set(reply.body) == {"start_time", "end_time", "status"}


async def test_put_replaces_the_schedule(api, schedule):
    body = {**SEED_SCHEDULE, "title": "Replaced", "recurrence": "FREQ=MONTHLY"}

    reply = await api.put(schedule_url(schedule["id"]), body, as_="student")

    assert (reply.status, reply.body["title"], reply.body["recurrence"]) == (
        200,
        "Replaced",
        "FREQ=MONTHLY",
    )


async def test_admin_deletes_a_schedule_and_its_participants_go_with_it(api, schedule):
    await invite(api, schedule["id"], "student-2")

    reply = await api.delete(schedule_url(schedule["id"]), as_="admin")

    assert reply.status == 204
    assert (await api.get(schedule_url(schedule["id"]), as_="student")).status == 404
    assert (await api.get(PARTICIPANTS, as_="admin")).body["count"] == 0


# Activity and audit


@pytest.mark.parametrize(
    "activity_type",
    [
        "schedule_created",
        "schedule_updated",
        "schedule_cancelled",
        "schedule_participant_added",
        "schedule_responded",
        "schedule_participant_removed",
        "schedule_deleted",
    ],
)
async def test_every_schedule_change_records_its_activity(api, schedule, activity_type):
    sid = schedule["id"]
    invited = await invite(api, sid, "student-2")
    await api.patch(schedule_url(sid), {"description": "new"}, as_="student")
    await api.post(
        f"{PARTICIPANTS}{invited.body['id']}/respond/",
        {"response_status": "accepted"},
        as_="student2",
    )
    await api.patch(schedule_url(sid), {"status": "cancelled"}, as_="student")
    await api.delete(f"{PARTICIPANTS}{invited.body['id']}/", as_="student")
    await api.delete(schedule_url(sid), as_="student")
    await api.settled()

    reply = await api.get(q(ACTIVITIES, {"activity_type": activity_type}), as_="admin")

    assert [
        (r["activity_type"], r["object_type"], r["object_id"]) for r in reply.body["results"]
    ] == [(activity_type, "schedule", sid)]


async def test_changes_are_audited_under_schedule_names(api, schedule):
    invited = await invite(api, schedule["id"], "student-2")
    pid = invited.body["id"]
    await api.post(f"{PARTICIPANTS}{pid}/respond/", {"response_status": "declined"}, as_="student2")
    await api.patch(f"{PARTICIPANTS}{pid}/", {"is_optional": True}, as_="student")
    await api.delete(f"{PARTICIPANTS}{pid}/", as_="student")
    await api.patch(schedule_url(schedule["id"]), {"title": "x"}, as_="student")
    await api.delete(schedule_url(schedule["id"]), as_="student")
    await api.settled()

    reply = await api.get(q(AUDIT, {"page_size": 100}), as_="admin")

    actions = sorted(
        r["action_type"] for r in reply.body["results"] if r["action_type"] != "user_login"
    )
    assert actions == [
        "schedule_created",
        "schedule_deleted",
        "schedule_participant_created",
        "schedule_participant_deleted",
        "schedule_participant_updated",
        "schedule_participant_updated",
        "schedule_updated",
    ]
