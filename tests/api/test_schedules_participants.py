"""Scheduling: participants ("Add Participants"; answering an invitation)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.schedules_data import SEED_SCHEDULE, schedule_url
from tests.matchers import FORBIDDEN, ID, NOT_FOUND, TIMESTAMP, person, q
from tests.matchers import invalid_pk as invalid

SCHEDULES = "/api/lms/schedule/schedules/"
PARTICIPANTS = "/api/lms/schedule/participants/"
GROUPS = "/api/lms/groups/groups/"
MEMBERS = "/api/lms/groups/members/"


def participant_url(participant_id: int, tail: str = "") -> str:
    return f"{PARTICIPANTS}{participant_id}/{tail}"


@pytest.fixture
async def schedule(api) -> dict[str, Any]:
    """A schedule created by `instructor` (instructor-1)."""
    reply = await api.post(SCHEDULES, SEED_SCHEDULE, as_="instructor")
    assert reply.status == 201, reply.body
    return dict(reply.body)


@pytest.fixture
async def group(api) -> dict[str, Any]:
    """A group owned by instructor-1, with student-1 as a member."""
    reply = await api.post(GROUPS, {"name": "Python Developers"}, as_="instructor")
    assert reply.status == 201, reply.body
    added = await api.post(
        MEMBERS, {"group": reply.body["id"], "user_id": "student-1"}, as_="instructor"
    )
    return {**reply.body, "student_membership": added.body["id"]}


async def invite(api, schedule_id: int, as_: str = "instructor", **fields: Any) -> Any:
    return await api.post(PARTICIPANTS, {"schedule": schedule_id, **fields}, as_=as_)


async def respond(api, participant_id: int, answer: str, as_: str) -> Any:
    return await api.post(
        participant_url(participant_id, "respond/"), {"response_status": answer}, as_=as_
    )


# Inviting


async def test_creator_invites_a_user_with_the_seed_body(api, schedule):
    reply = await invite(api, schedule["id"], user_id="user-456", is_optional=False)

    assert reply.status == 201
    assert reply.body == {
        "id": ID,
        "schedule": schedule["id"],
        "user_id": "user-456",
        "user": person("user-456"),
        "group": None,
        "via_group": None,
        "is_optional": False,
        "response_status": "pending",
        "responded_at": None,
        "added_by": "instructor-1",
        "added_by_person": person("instructor-1"),
        "created_at": TIMESTAMP,
    }


@pytest.mark.parametrize("ref", ["id", "seed spelling"])
async def test_creator_invites_a_group_by_id_or_as_group_n(api, schedule, group, ref):
    value = group["id"] if ref == "id" else f"group-{group['id']}"

    reply = await invite(api, schedule["id"], group=value)

    assert reply.status == 201
    assert (reply.body["group"], reply.body["user_id"]) == (group["id"], None)


async def test_schedule_counts_its_invitations(api, schedule, group):
    await invite(api, schedule["id"], user_id="student-2")
    await invite(api, schedule["id"], group=group["id"])

    reply = await api.get(schedule_url(schedule["id"]), as_="instructor")

    assert reply.body["participant_count"] == 2


@pytest.mark.parametrize(
    "fields", [{}, {"user_id": "student-2", "group": 1}], ids=["neither", "both"]
)
async def test_exactly_one_of_user_id_and_group_is_required(api, schedule, fields):
    reply = await invite(api, schedule["id"], **fields)

    assert (reply.status, reply.body) == (
        400,
        {"non_field_errors": ["Give exactly one of user_id and group."], "status": 400},
    )


async def test_inviting_the_same_user_twice_is_a_409(api, schedule):
    await invite(api, schedule["id"], user_id="student-2")

    reply = await invite(api, schedule["id"], user_id="student-2")

    assert (reply.status, reply.body) == (
        409,
        {"detail": "This user is already a participant of this schedule.", "status": 409},
    )


async def test_inviting_the_same_group_twice_is_a_409(api, schedule, group):
    await invite(api, schedule["id"], group=group["id"])

    reply = await invite(api, schedule["id"], group=f"group-{group['id']}")

    assert (reply.status, reply.body) == (
        409,
        {"detail": "This group is already a participant of this schedule.", "status": 409},
    )


async def test_participant_cannot_invite_others(api, schedule):
    await invite(api, schedule["id"], user_id="student-1")

    reply = await invite(api, schedule["id"], as_="student", user_id="student-2")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_inviting_to_a_schedule_i_cannot_see_is_a_400_on_schedule(api, schedule):
    reply = await invite(api, schedule["id"], as_="student2", user_id="student-2")

    assert (reply.status, reply.body) == (400, invalid("schedule", schedule["id"]))


async def test_inviting_a_group_i_cannot_see_is_a_400_on_group(api, group):
    mine = await api.post(SCHEDULES, SEED_SCHEDULE, as_="student2")

    reply = await invite(api, mine.body["id"], as_="student2", group=group["id"])

    assert (reply.status, reply.body) == (400, invalid("group", group["id"]))


async def test_inviting_an_unknown_group_is_a_400_on_group(api, schedule):
    reply = await invite(api, schedule["id"], as_="admin", group="group-99999")

    assert (reply.status, reply.body) == (400, invalid("group", 99999))


# Seeing


async def test_participants_list_shows_only_schedules_i_see(api, schedule):
    await invite(api, schedule["id"], user_id="student-1")
    other = await api.post(SCHEDULES, SEED_SCHEDULE, as_="instructor2")
    await invite(api, other.body["id"], as_="instructor2", user_id="student-2")

    mine = await api.get(PARTICIPANTS, as_="student")
    everything = await api.get(PARTICIPANTS, as_="admin")

    assert [p["user_id"] for p in mine.body["results"]] == ["student-1"]
    assert everything.body["count"] == 2


async def test_participants_list_filters(api, schedule, group):
    user = await invite(api, schedule["id"], user_id="student-2")
    await invite(api, schedule["id"], group=group["id"])
    await respond(api, user.body["id"], "declined", as_="student2")

    by_group = await api.get(q(PARTICIPANTS, {"group": group["id"]}), as_="instructor")
    by_user = await api.get(q(PARTICIPANTS, {"user_id": "student-2"}), as_="instructor")
    by_answer = await api.get(q(PARTICIPANTS, {"response_status": "declined"}), as_="instructor")
    by_schedule = await api.get(q(PARTICIPANTS, {"schedule": schedule["id"]}), as_="instructor")

    assert [p["group"] for p in by_group.body["results"]] == [group["id"]]
    assert [p["user_id"] for p in by_user.body["results"]] == ["student-2"]
    assert [p["user_id"] for p in by_answer.body["results"]] == ["student-2"]
    assert by_schedule.body["count"] == 2


async def test_outsider_retrieving_a_participant_gets_404(api, schedule):
    invited = await invite(api, schedule["id"], user_id="student-1")

    reply = await api.get(participant_url(invited.body["id"]), as_="student2")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


# Responding


async def test_participant_responds_to_their_invitation(api, schedule):
    invited = await invite(api, schedule["id"], user_id="student-1")

    reply = await respond(api, invited.body["id"], "accepted", as_="student")

    assert reply.status == 200
    assert (reply.body["response_status"], reply.body["responded_at"]) == ("accepted", TIMESTAMP)
    seen = await api.get(schedule_url(schedule["id"]), as_="student")
    assert seen.body["my_response"] == "accepted"


async def test_creator_cannot_respond_for_a_participant(api, schedule):
    invited = await invite(api, schedule["id"], user_id="student-1")

    reply = await respond(api, invited.body["id"], "accepted", as_="instructor")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_pending_is_not_an_answer(api, schedule):
    invited = await invite(api, schedule["id"], user_id="student-1")

    reply = await respond(api, invited.body["id"], "pending", as_="student")

    assert (reply.status, reply.body) == (
        400,
        {"response_status": ['"pending" is not a valid choice.'], "status": 400},
    )


async def test_group_member_answering_the_group_gets_their_own_answer(api, schedule, group):
    group_row = await invite(api, schedule["id"], group=group["id"], is_optional=True)

    reply = await respond(api, group_row.body["id"], "tentative", as_="student")

    assert reply.status == 200
    assert reply.body == {
        "id": ID,
        "schedule": schedule["id"],
        "user_id": "student-1",
        "user": person("student-1"),
        "group": None,
        "via_group": group["id"],
        "is_optional": True,
        "response_status": "tentative",
        "responded_at": TIMESTAMP,
        "added_by": "student-1",
        "added_by_person": person("student-1"),
        "created_at": TIMESTAMP,
    }
    unchanged = await api.get(participant_url(group_row.body["id"]), as_="instructor")
    assert unchanged.body["response_status"] == "pending"
    seen = await api.get(schedule_url(schedule["id"]), as_="student")
    assert (seen.body["my_response"], seen.body["participant_count"]) == ("tentative", 1)


async def test_group_member_answering_again_updates_the_same_answer(api, schedule, group):
    group_row = await invite(api, schedule["id"], group=group["id"])
    first = await respond(api, group_row.body["id"], "tentative", as_="student")

    second = await respond(api, group_row.body["id"], "declined", as_="student")

    assert (second.body["id"], second.body["response_status"]) == (first.body["id"], "declined")


async def test_non_member_cannot_answer_a_group_invitation(api, schedule, group):
    group_row = await invite(api, schedule["id"], group=group["id"])

    reply = await respond(api, group_row.body["id"], "accepted", as_="admin")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


# Group access


async def test_group_member_sees_the_schedule(api, schedule, group):
    await invite(api, schedule["id"], group=group["id"])

    reply = await api.get(schedule_url(schedule["id"]), as_="student")

    assert (reply.status, reply.body["my_response"]) == (200, "pending")


async def test_member_removed_from_a_group_participant_loses_access_at_once(api, schedule, group):
    await invite(api, schedule["id"], group=group["id"])
    assert (await api.get(schedule_url(schedule["id"]), as_="student")).status == 200

    await api.delete(f"{MEMBERS}{group['student_membership']}/", as_="instructor")

    reply = await api.get(schedule_url(schedule["id"]), as_="student")
    assert (reply.status, reply.body) == (404, NOT_FOUND)
    assert (await api.get(SCHEDULES, as_="student")).body["count"] == 0


async def test_an_answer_through_a_group_does_not_keep_access_after_leaving(api, schedule, group):
    group_row = await invite(api, schedule["id"], group=group["id"])
    answer = await respond(api, group_row.body["id"], "accepted", as_="student")

    await api.delete(f"{MEMBERS}{group['student_membership']}/", as_="student")

    assert (await api.get(schedule_url(schedule["id"]), as_="student")).status == 404
    left = await api.get(participant_url(answer.body["id"]), as_="instructor")
    assert (left.status, left.body) == (404, NOT_FOUND)


async def test_removing_the_group_removes_its_members_answers(api, schedule, group):
    group_row = await invite(api, schedule["id"], group=group["id"])
    await respond(api, group_row.body["id"], "accepted", as_="student")

    await api.delete(participant_url(group_row.body["id"]), as_="instructor")

    assert (await api.get(schedule_url(schedule["id"]), as_="student")).status == 404
    assert (await api.get(PARTICIPANTS, as_="admin")).body["count"] == 0


async def test_inviting_by_name_someone_who_answered_through_a_group_keeps_the_answer(
    api, schedule, group
):
    group_row = await invite(api, schedule["id"], group=group["id"])
    answer = await respond(api, group_row.body["id"], "accepted", as_="student")

    reply = await invite(api, schedule["id"], user_id="student-1")

    assert reply.status == 201
    assert (reply.body["id"], reply.body["via_group"], reply.body["response_status"]) == (
        answer.body["id"],
        None,
        "accepted",
    )


# Changing and removing


async def test_creator_marks_an_invitation_optional(api, schedule):
    invited = await invite(api, schedule["id"], user_id="student-1")

    reply = await api.patch(
        participant_url(invited.body["id"]), {"is_optional": True}, as_="instructor"
    )

    assert (reply.status, reply.body["is_optional"]) == (200, True)


async def test_participant_cannot_change_their_invitation(api, schedule):
    invited = await invite(api, schedule["id"], user_id="student-1")

    reply = await api.put(participant_url(invited.body["id"]), {"is_optional": True}, as_="student")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_participant_leaves_the_schedule(api, schedule):
    invited = await invite(api, schedule["id"], user_id="student-1")

    reply = await api.delete(participant_url(invited.body["id"]), as_="student")

    assert reply.status == 204
    assert (await api.get(schedule_url(schedule["id"]), as_="student")).status == 404


async def test_participant_cannot_remove_another_participant(api, schedule):
    await invite(api, schedule["id"], user_id="student-1")
    other = await invite(api, schedule["id"], user_id="student-2")

    reply = await api.delete(participant_url(other.body["id"]), as_="student")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_group_member_cannot_remove_the_group_invitation(api, schedule, group):
    group_row = await invite(api, schedule["id"], group=group["id"])

    reply = await api.delete(participant_url(group_row.body["id"]), as_="student")

    assert (reply.status, reply.body) == (403, FORBIDDEN)
