"""Scheduling: other tenants' ids and hostile input give 400/404, never a 500."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from tests.matchers import FORBIDDEN, NOT_FOUND
from tests.matchers import invalid_pk as invalid

SCHEDULES = "/api/lms/schedule/schedules/"
PARTICIPANTS = "/api/lms/schedule/participants/"
GROUPS = "/api/lms/groups/groups/"
BODY = {
    "title": "Team Meeting",
    "start_time": "2025-11-20T10:00:00Z",
    "end_time": "2025-11-20T11:00:00Z",
}


@pytest.fixture
async def schedule(api) -> dict[str, Any]:
    reply = await api.post(SCHEDULES, BODY, as_="instructor")
    assert reply.status == 201, reply.body
    return dict(reply.body)


@pytest.fixture
async def participant(api, schedule) -> dict[str, Any]:
    reply = await api.post(
        PARTICIPANTS, {"schedule": schedule["id"], "user_id": "student-1"}, as_="instructor"
    )
    assert reply.status == 201, reply.body
    return dict(reply.body)


# Other tenants


@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
async def test_schedule_of_another_tenant_is_404(api, schedule, method):
    reply = await api.call(method, f"{SCHEDULES}{schedule['id']}/", as_="b_admin", json=BODY)

    assert (reply.status, reply.body) == (404, NOT_FOUND)


@pytest.mark.parametrize(
    ("method", "tail", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"is_optional": True}),
        ("DELETE", "", None),
        ("POST", "respond/", {"response_status": "accepted"}),
    ],
)
async def test_participant_of_another_tenant_is_404(api, participant, method, tail, body):
    reply = await api.call(
        method, f"{PARTICIPANTS}{participant['id']}/{tail}", as_="b_admin", json=body
    )

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_inviting_to_a_schedule_of_another_tenant_is_a_400(api, schedule):
    reply = await api.post(
        PARTICIPANTS, {"schedule": schedule["id"], "user_id": "student-1"}, as_="b_admin"
    )

    assert (reply.status, reply.body) == (400, invalid("schedule", schedule["id"]))


async def test_inviting_a_group_of_another_tenant_is_a_400(api):
    group = await api.post(GROUPS, {"name": "Acme crew"}, as_="admin")
    mine = await api.post(SCHEDULES, BODY, as_="b_admin")

    reply = await api.post(
        PARTICIPANTS, {"schedule": mine.body["id"], "group": group.body["id"]}, as_="b_admin"
    )

    assert (reply.status, reply.body) == (400, invalid("group", group.body["id"]))


async def test_lists_of_another_tenant_show_none_of_ours(api, participant):
    schedules = await api.get(SCHEDULES, as_="b_admin")
    participants = await api.get(PARTICIPANTS, as_="b_admin")
    window = await api.get(
        f"{SCHEDULES}?start=2025-11-01T00:00:00Z&end=2025-12-01T00:00:00Z", as_="b_admin"
    )

    assert (schedules.body["count"], participants.body["count"], window.body["count"]) == (0, 0, 0)


# Someone else's schedule in a participant body


async def test_participant_body_naming_a_schedule_i_cannot_see_is_a_400(api, schedule):
    reply = await api.post(
        PARTICIPANTS, {"schedule": schedule["id"], "user_id": "student-2"}, as_="student2"
    )

    assert (reply.status, reply.body) == (400, invalid("schedule", schedule["id"]))


async def test_participant_body_naming_a_schedule_i_only_attend_is_a_403(api, participant):
    reply = await api.post(
        PARTICIPANTS, {"schedule": participant["schedule"], "user_id": "student-2"}, as_="student"
    )

    assert (reply.status, reply.body) == (403, FORBIDDEN)


# Ids


@pytest.mark.parametrize("resource", [SCHEDULES, PARTICIPANTS])
@pytest.mark.parametrize("value", [99999, 2**31 - 1, 2**31, 10**30])
async def test_unknown_and_huge_ids_in_the_path_are_404s(api, resource, value):
    reply = await api.get(f"{resource}{value}/", as_="admin")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"schedule": 2**31, "user_id": "u"},
            {"schedule": [f'Invalid pk "{2**31}" - object does not exist.']},
        ),
        (
            {"schedule": 99999, "user_id": "u"},
            {"schedule": ['Invalid pk "99999" - object does not exist.']},
        ),
        ({"schedule": "abc", "user_id": "u"}, {"schedule": ["A valid integer is required."]}),
        ({"schedule": True, "user_id": "u"}, {"schedule": ["A valid integer is required."]}),
        ({"user_id": "u"}, {"schedule": ["This field is required."]}),
        (
            {"schedule": 1, "group": 2**31},
            {"group": [f'Invalid pk "{2**31}" - object does not exist.']},
        ),
        (
            {"schedule": 1, "group": "group-x"},
            {"group": ['Invalid pk "group-x" - object does not exist.']},
        ),
        (
            {"schedule": 1, "user_id": "u" * 129},
            {"user_id": ["Ensure this field has no more than 128 characters."]},
        ),
        (
            {"schedule": 1, "user_id": "a\x00b"},
            {"user_id": ["This value does not match the required pattern."]},
        ),
        (
            {"schedule": 1, "user_id": "u", "is_optional": "maybe"},
            {"is_optional": ["Must be a valid boolean."]},
        ),
    ],
)
async def test_hostile_participant_bodies_are_400s(api, body, errors):
    reply = await api.post(PARTICIPANTS, body, as_="admin")

    assert (reply.status, reply.body) == (400, {**errors, "status": 400})


@pytest.mark.parametrize(
    "params",
    [
        {"schedule": "2147483648"},
        {"schedule": "x"},
        {"group": "group-"},
        {"group": "9" * 40},
        {"response_status": "maybe"},
        {"user_id": "a\x00"},
    ],
)
async def test_bad_participant_filters_are_400s(api, params):
    reply = await api.get(f"{PARTICIPANTS}?{urlencode(params)}", as_="admin")

    assert (reply.status, reply.body["status"]) == (400, 400)


# Schedule bodies


RULE = "recurrence"


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"title": "x" * 201}, {"title": ["Ensure this field has no more than 200 characters."]}),
        ({"title": "a\x00b"}, {"title": ["Null characters are not allowed."]}),
        (
            {"description": "d" * 20_001},
            {"description": ["Ensure this field has no more than 20000 characters."]},
        ),
        (
            {"start_time": 1763632800},
            {"start_time": ["Datetime has wrong format. Use ISO 8601, e.g. 2025-11-20T10:00:00Z."]},
        ),
        (
            {"start_time": "soon"},
            {"start_time": ["Datetime has wrong format. Use ISO 8601, e.g. 2025-11-20T10:00:00Z."]},
        ),
        (
            {"start_time": "0001-01-01T00:00:00+14:00"},
            {"start_time": ["Datetime must fall between 1900 and 2999."]},
        ),
        (
            {"end_time": "9999-12-31T23:59:59-14:00"},
            {"end_time": ["Datetime must fall between 1900 and 2999."]},
        ),
        (
            {"timezone": "Mars/Olympus"},
            {"timezone": ['"Mars/Olympus" is not a valid IANA timezone.']},
        ),
        (
            {"timezone": "../../etc/passwd"},
            {"timezone": ['"../../etc/passwd" is not a valid IANA timezone.']},
        ),
        ({"timezone": "Europe/Berlin\x00"}, {"timezone": ["Null characters are not allowed."]}),
        (
            {"timezone": "x" * 65},
            {"timezone": ["Ensure this field has no more than 64 characters."]},
        ),
        ({RULE: "FREQ=SECONDLY"}, {RULE: ["FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY."]}),
        (
            {RULE: "FREQ=HOURLY;INTERVAL=2"},
            {RULE: ["FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY."]},
        ),
        ({RULE: "BYDAY=MO"}, {RULE: ["FREQ is required."]}),
        (
            {RULE: "FREQ=WEEKLY;BYDAY=XX"},
            {RULE: ["BYDAY value XX is not a weekday (MO, 1MO, -1FR…)."]},
        ),
        ({RULE: "FREQ=MONTHLY;BYMONTHDAY=32"}, {RULE: ["BYMONTHDAY value 32 is out of range."]}),
        ({RULE: "FREQ=DAILY;COUNT=0"}, {RULE: ["COUNT value 0 is out of range."]}),
        (
            {RULE: "FREQ=DAILY;COUNT=99999999999999999999"},
            {RULE: ["COUNT must be a whole number."]},
        ),
        ({RULE: "FREQ=DAILY;COUNT=2;UNTIL=20260101"}, {RULE: ["Give COUNT or UNTIL, not both."]}),
        ({RULE: "FREQ=DAILY;FREQ=WEEKLY"}, {RULE: ["FREQ is given twice."]}),
        ({RULE: "FREQ=DAILY;X-NAME=1"}, {RULE: ["Unknown rule part X-NAME."]}),
        (
            {RULE: "DTSTART:20251120T100000Z\nRRULE:FREQ=DAILY"},
            {RULE: ["Give only the rule (FREQ=…); DTSTART and other properties are not accepted."]},
        ),
        (
            {RULE: "FREQ=DAILY;UNTIL=tomorrow"},
            {RULE: ["UNTIL must look like 20251231, 20251231T235959 or 20251231T235959Z."]},
        ),
        ({RULE: "FREQ=DAILY;UNTIL=99991231"}, {RULE: ["UNTIL must fall between 1900 and 2999."]}),
        ({RULE: "FREQ=DAILY;UNTIL=20250101"}, {RULE: ["This rule produces no occurrence."]}),
        (
            {RULE: "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"},
            {RULE: ["This rule produces no occurrence."]},
        ),
        (
            {RULE: "FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29"},
            {RULE: ["This rule produces no occurrence."]},
        ),
        ({RULE: "FREQ=WEEKLY;BYDAY=MO;BYSETPOS=2"}, {RULE: ["This rule produces no occurrence."]}),
        (
            {RULE: "FREQ=DAILY;BYSETPOS=1"},
            {RULE: ["BYSETPOS needs FREQ=WEEKLY, MONTHLY or YEARLY."]},
        ),
        (
            {RULE: "FREQ=DAILY;BYSECOND=0,1,2,3,4,5,6,7,8,9"},
            {
                RULE: [
                    "BYSECOND is not supported: an occurrence starts at the second of start_time."
                ]
            },
        ),
        (
            {RULE: "FREQ=DAILY;BYHOUR=9;BYMINUTE=0,30"},
            {
                RULE: [
                    "BYMINUTE is not supported: an occurrence starts at the minute of start_time."
                ]
            },
        ),
        (
            {RULE: "FREQ=DAILY;BYHOUR=" + ",".join(str(h) for h in range(24))},
            {RULE: ["BYHOUR may list at most 6 hours."]},
        ),
        (
            {RULE: "FREQ=MINUTELY;INTERVAL=1"},
            {RULE: ["FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY."]},
        ),
        (
            {RULE: "FREQ=DAILY;INTERVAL=7;BYDAY=TU"},  # BODY starts on a Thursday
            {RULE: ["This rule produces no occurrence."]},
        ),
        (
            {RULE: "FREQ=DAILY;BYHOUR=" + "1," * 245 + "1"},
            {RULE: ["Ensure the rule has no more than 500 characters."]},
        ),
        ({RULE: "r" * 10_000}, {RULE: ["Ensure this field has no more than 600 characters."]}),
        ({RULE: ""}, {RULE: ["Enter a valid RRULE, e.g. FREQ=WEEKLY;BYDAY=MO."]}),
        ({RULE: "FREQ=DAILY\x00"}, {RULE: ["Enter a valid RRULE, e.g. FREQ=WEEKLY;BYDAY=MO."]}),
        ({RULE: 5}, {RULE: ["Not a valid string."]}),
    ],
)
async def test_hostile_schedule_bodies_are_400s(api, fields, errors):
    reply = await api.post(SCHEDULES, {**BODY, **fields}, as_="student")

    assert (reply.status, reply.body) == (400, {**errors, "status": 400})


async def test_unknown_status_keeps_its_messages_under_status(api):
    reply = await api.post(SCHEDULES, {**BODY, "status": "done"}, as_="student")

    assert (reply.status, reply.body) == (400, {"status": ['"done" is not a valid choice.']})


async def test_changing_the_start_revalidates_the_rule(api):
    created = await api.post(SCHEDULES, {**BODY, RULE: "FREQ=DAILY;UNTIL=20251201"}, as_="student")

    reply = await api.patch(
        f"{SCHEDULES}{created.body['id']}/",
        {"start_time": "2025-12-05T10:00:00Z", "end_time": "2025-12-05T11:00:00Z"},
        as_="student",
    )

    assert (reply.status, reply.body) == (
        400,
        {RULE: ["This rule produces no occurrence."], "status": 400},
    )
