"""Messaging: tenancy, hostile input and the activity and audit logs."""

from __future__ import annotations

import io
from typing import Any

import orjson
import pytest

from bench.statements import StatementCounter
from tests.api.test_messaging import (
    CONVERSATIONS,
    MESSAGES,
    READ_ALL,
    UNREAD_COUNT,
    dm,
    group,
    ids,
    invalid_pk,
    message_url,
    q,
    read_url,
    to_group,
)
from tests.conftest import token_for
from tests.matchers import NOT_FOUND

__all__ = ["group"]  # the fixture, shared with test_messaging.py

ACTIVITIES = "/api/lms/activitylog/logs/"
AUDIT = "/api/lms/auditlog/logs/"
JSON = {"Content-Type": "application/json"}


# Tenancy


async def test_another_tenants_message_id_is_a_404(api):
    message = await dm(api, "student", "student-2")

    # globex's student-1 and admin-1 carry the same user ids as acme's sender.
    for who in ("b_student", "b_admin"):
        reply = await api.get(message_url(message["id"]), as_=who)
        assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_another_tenants_message_cannot_be_read_edited_or_deleted(api):
    message = await dm(api, "student", "student-2")

    read = await api.post(read_url(message["id"]), as_="b_student")
    edit = await api.patch(message_url(message["id"]), {"content": "x"}, as_="b_student")
    delete = await api.delete(message_url(message["id"]), as_="b_student")

    assert [r.status for r in (read, edit, delete)] == [404, 404, 404]


async def test_same_user_ids_in_two_tenants_never_see_each_others_messages(api):
    b_student2 = token_for("student-2", "student", tenant="globex")
    await dm(api, "student", "student-2", "acme only")
    await api.post(
        MESSAGES, {"recipient_id": "student-1", "content": "globex only"}, as_="b_instructor"
    )

    acme = await api.get(MESSAGES, as_="student")
    globex = await api.get(MESSAGES, as_="b_student")
    globex_recipient = await api.get(MESSAGES, token=b_student2)

    assert [m["content"] for m in acme.body["results"]] == ["acme only"]
    assert [m["content"] for m in globex.body["results"]] == ["globex only"]
    assert globex_recipient.body["count"] == 0


async def test_conversations_and_counts_stay_in_their_tenant(api):
    await dm(api, "student2", "student-1")

    conversations = await api.get(CONVERSATIONS, as_="b_student")
    count = await api.get(UNREAD_COUNT, as_="b_student")
    read_all = await api.post(READ_ALL, as_="b_student")

    assert conversations.body["count"] == 0
    assert count.body["unread_count"] == 0
    assert read_all.body["marked"] == 0
    assert (await api.get(UNREAD_COUNT, as_="student")).body["unread_count"] == 1


async def test_sending_to_another_tenants_group_is_a_400(api, group):
    body = {"group_id": group["id"], "content": "x", "message_type": "group"}

    reply = await api.post(MESSAGES, body, as_="b_admin")

    assert (reply.status, reply.body) == (400, invalid_pk("group_id", group["id"]))


# Hostile input


def errors(**fields: list[str]) -> dict[str, Any]:
    return {**fields, "status": 400}


REQUIRED = ["This field is required."]
PATTERN = ["This value does not match the required pattern."]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"content": "x", "message_type": "direct"}, errors(recipient_id=REQUIRED)),
        ({"content": "x"}, errors(recipient_id=REQUIRED)),
        ({"content": "x", "message_type": "group"}, errors(group_id=REQUIRED)),
        (
            {"recipient_id": "student-2", "group_id": 1, "content": "x", "message_type": "direct"},
            errors(group_id=["This field is not allowed on a direct message."]),
        ),
        (
            {"recipient_id": "student-2", "group_id": 1, "content": "x"},
            errors(group_id=["This field is not allowed on a direct message."]),
        ),
        (
            {"recipient_id": "student-2", "group_id": 1, "content": "x", "message_type": "group"},
            errors(recipient_id=["This field is not allowed on a group message."]),
        ),
        ({"recipient_id": "user 2", "content": "x"}, errors(recipient_id=PATTERN)),
        ({"recipient_id": "user\x002", "content": "x"}, errors(recipient_id=PATTERN)),
        (
            {"recipient_id": "", "content": "x"},
            errors(recipient_id=["This field may not be blank."]),
        ),
        (
            {"recipient_id": "u" * 129, "content": "x"},
            errors(recipient_id=["Ensure this field has no more than 128 characters."]),
        ),
        ({"recipient_id": 5, "content": "x"}, errors(recipient_id=["Not a valid string."])),
        (
            {"recipient_id": "student-2", "content": "x", "message_type": "broadcast"},
            errors(message_type=['"broadcast" is not a valid choice.']),
        ),
        ({"recipient_id": "student-2"}, errors(content=REQUIRED)),
        (
            {"recipient_id": "student-2", "content": "   "},
            errors(content=["This field may not be blank."]),
        ),
        (
            {"recipient_id": "student-2", "content": "a\x00b"},
            errors(content=["Null characters are not allowed."]),
        ),
        (
            {"recipient_id": "student-2", "content": "x" * 10_001},
            errors(content=["Ensure this field has no more than 10000 characters."]),
        ),
        (
            {"group_id": 2**31, "content": "x", "message_type": "group"},
            invalid_pk("group_id", 2**31),
        ),
        ({"group_id": "3", "content": "x", "message_type": "group"}, invalid_pk("group_id", "3")),
        ({"group_id": True, "content": "x"}, errors(group_id=["A valid integer is required."])),
        ({"group_id": [1], "content": "x"}, errors(group_id=["A valid integer is required."])),
    ],
)
async def test_hostile_message_bodies_are_400s(api, body, expected):
    reply = await api.post(MESSAGES, body, as_="student")

    assert (reply.status, reply.body) == (400, expected)


@pytest.mark.parametrize("body", [[], "hi", None, {"content": {"x": 1}, "recipient_id": "u"}])
async def test_bodies_of_the_wrong_shape_are_400s(api, body):
    reply = await api.post(MESSAGES, body, as_="student")

    assert reply.status == 400, reply.body


async def test_a_huge_body_is_refused_without_a_500(api):
    raw = orjson.dumps({"recipient_id": "u", "content": "x" * 2_000_000})

    # A stream, so that aiohttp sends a big body without warning about the event loop.
    reply = await api.call("POST", MESSAGES, as_="student", data=io.BytesIO(raw), headers=JSON)

    assert (reply.status, reply.body["status"]) == (413, 413)


@pytest.mark.parametrize("message_id", [99999, 2**31 - 1, 2**31, 10**30])
@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
async def test_unknown_message_ids_are_404s(api, method, message_id):
    body = {"content": "x"} if method in ("PATCH", "PUT") else None

    reply = await api.call(method, message_url(message_id), as_="student", json=body)

    assert (reply.status, reply.body) == (404, NOT_FOUND)


@pytest.mark.parametrize("message_id", [99999, 2**31, "abc", "\u0661"])
async def test_reading_an_unknown_message_is_a_404(api, message_id):
    reply = await api.post(read_url(message_id), as_="student")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"box": "trash"}, errors(box=['"trash" is not a valid choice.'])),
        ({"unread": "maybe"}, errors(unread=["Must be a valid boolean."])),
        ({"with": "a b"}, errors(**{"with": PATTERN})),
        (
            {"with": "x" * 129},
            errors(**{"with": ["Ensure this field has no more than 128 characters."]}),
        ),
        ({"with": "a\x00b"}, errors(**{"with": ["Null characters are not allowed."]})),
        ({"group_id": "abc"}, invalid_pk("group_id", "abc")),
        ({"group_id": str(2**31)}, invalid_pk("group_id", 2**31)),
        ({"group_id": "9" * 5000}, invalid_pk("group_id", "9" * 5000)),
    ],
)
async def test_hostile_list_queries_are_400s(api, query, expected):
    reply = await api.get(q(MESSAGES, query), as_="student")

    assert (reply.status, reply.body) == (400, expected)


@pytest.mark.parametrize(
    "query",
    [{"group_id": "99999"}, {"with": "nobody"}, {"ordering": "%00,-,content;drop"}, {"page": "2"}],
)
async def test_odd_but_valid_list_queries_never_500(api, query):
    await dm(api, "student", "student-2")

    reply = await api.get(q(MESSAGES, query), as_="student")

    assert reply.status in (200, 404), reply.body


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (READ_ALL, {"with": "a b"}),
        (READ_ALL, {"group_id": "abc"}),
        (q(READ_ALL, {"group_id": "x"}), None),
        (q(UNREAD_COUNT, {"with": "a\x00b"}), None),
    ],
)
async def test_hostile_read_all_and_count_limits_are_400s(api, path, body):
    method = "GET" if path.startswith(UNREAD_COUNT) else "POST"

    reply = await api.call(method, path, as_="student", json=body)

    assert (reply.status, reply.body["status"]) == (400, 400)


async def test_a_non_json_body_is_a_415(api):
    reply = await api.call(
        "POST", MESSAGES, as_="student", data=b"hi", headers={"Content-Type": "text/plain"}
    )

    assert reply.status == 415


# The list costs a bounded number of queries


async def test_a_page_of_messages_costs_a_bounded_number_of_queries(api, app, group):
    for n in range(5):
        message = await dm(api, "student2", "student-1", f"m{n}")
        await api.post(read_url(message["id"]), as_="student")
        await dm(api, "student", "student-2")
        await to_group(api, "instructor", group["id"])
    with StatementCounter() as counter:
        listed = await ids(api, MESSAGES, as_="student")
    statements = counter.statements

    assert len(listed) == 15
    # count, page, receipts, memberships: whatever the page holds
    assert 0 < len([s for s in statements if "messages" in s or "group_members" in s]) <= 4


# Activity and audit


async def test_sending_records_message_sent_without_the_content(api, group):
    direct = await dm(api, "student", "student-2", "a secret")
    grouped = await to_group(api, "student", group["id"], "another secret")
    await api.settled()

    reply = await api.get(q(ACTIVITIES, {"activity_type": "message_sent"}), as_="admin")

    rows = reply.body["results"]
    assert [(r["user_id"], r["object_type"], r["object_id"]) for r in rows] == [
        ("student-1", "message", grouped["id"]),
        ("student-1", "message", direct["id"]),
    ]
    assert [r["details"] for r in rows] == [
        "Sent a message to group 'Python Developers'.",
        "Sent a direct message to 'student-2'.",
    ]


async def test_an_explicit_read_records_message_read_once(api):
    message = await dm(api, "student", "student-2")
    await api.post(read_url(message["id"]), as_="student2")
    await api.post(read_url(message["id"]), as_="student2")
    await api.settled()

    reply = await api.get(q(ACTIVITIES, {"activity_type": "message_read"}), as_="student2")

    assert [(r["object_id"], r["details"]) for r in reply.body["results"]] == [
        (message["id"], f"Read message {message['id']}.")
    ]


async def test_read_all_records_one_message_read_for_all_it_marked(api):
    await dm(api, "student", "student-2")
    await dm(api, "instructor", "student-2")
    await api.post(READ_ALL, as_="student2")
    await api.post(READ_ALL, as_="student2")  # marks nothing: records nothing
    await api.settled()

    reply = await api.get(q(ACTIVITIES, {"activity_type": "message_read"}), as_="student2")

    assert [r["details"] for r in reply.body["results"]] == ["Marked 2 messages read."]


async def test_deleting_records_message_deleted(api):
    message = await dm(api, "student", "student-2")
    await api.delete(message_url(message["id"]), as_="student")
    await api.settled()

    reply = await api.get(q(ACTIVITIES, {"activity_type": "message_deleted"}), as_="student")

    assert [r["object_id"] for r in reply.body["results"]] == [message["id"]]


async def test_the_audit_trail_names_each_messaging_action(api):
    message = await dm(api, "student", "student-2")
    await api.patch(message_url(message["id"]), {"content": "edited"}, as_="student")
    await api.post(read_url(message["id"]), as_="student2")
    await api.post(READ_ALL, as_="student2")
    await api.delete(message_url(message["id"]), as_="student")
    await api.settled()

    reply = await api.get(q(AUDIT, {"page_size": 100}), as_="admin")

    actions = sorted(
        r["action_type"] for r in reply.body["results"] if r["action_type"] != "user_login"
    )
    assert actions == [
        "message_created",
        "message_deleted",
        "message_read",
        "message_read_all",
        "message_updated",
    ]
