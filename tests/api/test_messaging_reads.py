"""Messaging: read state, unread counts and conversations."""

from __future__ import annotations

from typing import Any

from bench.statements import StatementCounter
from tests.api.test_messaging import (
    CONVERSATIONS,
    MESSAGES,
    READ_ALL,
    UNREAD_COUNT,
    add_member,
    dm,
    group,
    ids,
    message_url,
    q,
    read_url,
    to_group,
)
from tests.matchers import FORBIDDEN, NOT_FOUND, TIMESTAMP

__all__ = ["group"]  # the fixture, shared with test_messaging.py


async def unread(api, as_: str, **params: Any) -> int:
    reply = await api.get(q(UNREAD_COUNT, params), as_=as_)
    assert reply.status == 200, reply.body
    return int(reply.body["unread_count"])


async def conversations(api, as_: str) -> list[dict[str, Any]]:
    reply = await api.get(CONVERSATIONS, as_=as_)
    assert reply.status == 200, reply.body
    return list(reply.body["results"])


# Reading one message


async def test_a_received_message_starts_unread(api):
    message = await dm(api, "student", "student-2")

    reply = await api.get(message_url(message["id"]), as_="student2")

    assert (reply.body["is_read"], reply.body["read_at"]) == (False, None)


async def test_recipient_marks_a_message_read(api):
    message = await dm(api, "student", "student-2")

    reply = await api.post(read_url(message["id"]), as_="student2")

    assert reply.status == 200
    assert (reply.body["id"], reply.body["is_read"], reply.body["read_at"]) == (
        message["id"],
        True,
        TIMESTAMP,
    )


async def test_reading_again_keeps_the_first_read_at(api):
    message = await dm(api, "student", "student-2")
    first = await api.post(read_url(message["id"]), as_="student2")

    again = await api.post(read_url(message["id"]), as_="student2")

    assert (again.status, again.body["read_at"]) == (200, first.body["read_at"])


async def test_sender_sees_when_the_recipient_read_a_direct_message(api):
    message = await dm(api, "student", "student-2")
    before = await api.get(message_url(message["id"]), as_="student")
    read = await api.post(read_url(message["id"]), as_="student2")

    after = await api.get(message_url(message["id"]), as_="student")

    assert before.body["recipient_read_at"] is None
    assert after.body["recipient_read_at"] == read.body["read_at"]


async def test_sender_cannot_mark_their_own_message_read(api):
    message = await dm(api, "student", "student-2")

    reply = await api.post(read_url(message["id"]), as_="student")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_a_third_user_cannot_mark_a_message_read(api):
    message = await dm(api, "student", "student-2")

    reply = await api.post(read_url(message["id"]), as_="instructor")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_group_read_state_is_per_member(api, group):
    await add_member(api, group["id"], "student-2")
    message = await to_group(api, "instructor", group["id"])

    await api.post(read_url(message["id"]), as_="student")

    mine = await api.get(message_url(message["id"]), as_="student")
    theirs = await api.get(message_url(message["id"]), as_="student2")
    assert (mine.body["is_read"], theirs.body["is_read"]) == (True, False)
    assert mine.body["recipient_read_at"] is None  # no receipt to show on a group message


# Unread counts


async def test_unread_count_counts_direct_and_group_messages(api, group):
    await dm(api, "student2", "student-1")
    await dm(api, "instructor", "student-1")
    await to_group(api, "instructor", group["id"])

    reply = await api.get(UNREAD_COUNT, as_="student")

    assert (reply.status, reply.body) == (
        200,
        {"unread_count": 3, "direct_unread_count": 2, "group_unread_count": 1},
    )


async def test_my_own_messages_are_never_unread_for_me(api, group):
    await dm(api, "student", "student-2")
    await to_group(api, "student", group["id"])

    listed = await api.get(MESSAGES, as_="student")

    assert await unread(api, "student") == 0
    assert await ids(api, q(MESSAGES, {"unread": "true"}), as_="student") == []
    assert [m["is_read"] for m in listed.body["results"]] == [True, True]
    assert [c["unread_count"] for c in await conversations(api, "student")] == [0, 0]


async def test_unread_count_drops_when_a_message_is_read(api):
    message = await dm(api, "student", "student-2")
    await dm(api, "student", "student-2")

    await api.post(read_url(message["id"]), as_="student2")

    assert await unread(api, "student2") == 1


async def test_unread_filter_lists_what_i_have_not_read(api):
    read = await dm(api, "student", "student-2")
    left = await dm(api, "student", "student-2")
    await api.post(read_url(read["id"]), as_="student2")

    unread_ids = await ids(api, q(MESSAGES, {"unread": "true"}), as_="student2")
    read_ids = await ids(api, q(MESSAGES, {"unread": "false"}), as_="student2")

    assert (unread_ids, read_ids) == ([left["id"]], [read["id"]])


async def test_unread_count_narrowed_to_a_conversation(api, group):
    await dm(api, "student2", "student-1")
    await to_group(api, "instructor", group["id"])
    await to_group(api, "instructor", group["id"])

    assert await unread(api, "student", **{"with": "student-2"}) == 1
    assert await unread(api, "student", group_id=group["id"]) == 2


# Read-all


async def test_read_all_marks_everything_i_received(api, group):
    await dm(api, "student2", "student-1")
    await to_group(api, "instructor", group["id"])

    reply = await api.post(READ_ALL, as_="student")

    assert (reply.status, reply.body) == (200, {"marked": 2, "unread_count": 0})
    assert await ids(api, q(MESSAGES, {"unread": "true"}), as_="student") == []


async def test_read_all_again_marks_nothing(api):
    await dm(api, "student2", "student-1")
    await api.post(READ_ALL, as_="student")

    reply = await api.post(READ_ALL, as_="student")

    assert reply.body == {"marked": 0, "unread_count": 0}


async def test_read_all_with_a_user_marks_only_that_conversation(api, group):
    await dm(api, "student2", "student-1")
    await dm(api, "instructor", "student-1")
    await to_group(api, "instructor", group["id"])

    reply = await api.post(READ_ALL, {"with": "student-2"}, as_="student")

    assert reply.body == {"marked": 1, "unread_count": 2}
    assert await unread(api, "student", **{"with": "student-2"}) == 0


async def test_read_all_for_a_group_marks_only_its_messages(api, group):
    await dm(api, "student2", "student-1")
    await to_group(api, "instructor", group["id"])

    reply = await api.post(READ_ALL, {"group_id": f"group-{group['id']}"}, as_="student")

    assert reply.body == {"marked": 1, "unread_count": 1}


async def test_read_all_takes_its_limit_from_the_query_string_too(api):
    await dm(api, "student2", "student-1")
    await dm(api, "instructor", "student-1")

    reply = await api.post(q(READ_ALL, {"with": "instructor-1"}), as_="student")

    assert reply.body == {"marked": 1, "unread_count": 1}


async def test_read_all_leaves_other_readers_unread(api):
    await dm(api, "student", "student-2")
    await dm(api, "student", "instructor-1")

    await api.post(READ_ALL, as_="student2")

    assert await unread(api, "instructor") == 1


# Joining a group later


async def test_a_new_member_sees_the_groups_history_already_read(api, group):
    old = await to_group(api, "instructor", group["id"])
    await add_member(api, group["id"], "student-2")
    new = await to_group(api, "instructor", group["id"])

    listed = await api.get(MESSAGES, as_="student2")

    assert [(m["id"], m["is_read"]) for m in listed.body["results"]] == [
        (new["id"], False),
        (old["id"], True),
    ]
    assert await unread(api, "student2") == 1
    assert [c["unread_count"] for c in await conversations(api, "student2")] == [1]


async def test_read_all_marks_nothing_of_a_history_i_joined_after(api, group):
    await to_group(api, "instructor", group["id"])
    await add_member(api, group["id"], "student-2")

    reply = await api.post(READ_ALL, as_="student2")

    assert reply.body == {"marked": 0, "unread_count": 0}


# Conversations


async def test_conversations_show_the_latest_message_per_user_and_group(api, group):
    await dm(api, "student2", "student-1", "first")
    await to_group(api, "instructor", group["id"], "to all")
    last = await dm(api, "student", "student-2", "reply")
    await dm(api, "instructor", "student-1", "note")

    rows = await conversations(api, "student")

    assert [(c["kind"], c["with"], c["group_id"], c["unread_count"]) for c in rows] == [
        ("direct", "instructor-1", None, 1),
        ("direct", "student-2", None, 1),
        ("group", None, group["id"], 1),
    ]
    assert rows[1]["last_message"]["id"] == last["id"]
    assert rows[1]["last_message"]["content"] == "reply"


async def test_a_conversation_counts_only_its_own_unread_messages(api):
    await dm(api, "student2", "student-1")
    await dm(api, "student2", "student-1")
    await dm(api, "instructor", "student-1")

    rows = await conversations(api, "student")

    assert {c["with"]: c["unread_count"] for c in rows} == {"instructor-1": 1, "student-2": 2}


async def test_reading_a_conversation_drops_its_unread_count(api, group):
    await dm(api, "student2", "student-1")
    await to_group(api, "instructor", group["id"])

    await api.post(READ_ALL, {"group_id": group["id"]}, as_="student")

    rows = await conversations(api, "student")
    assert {(c["kind"], c["unread_count"]) for c in rows} == {("direct", 1), ("group", 0)}


async def test_conversations_are_paginated(api):
    for user in ("user-a", "user-b", "user-c"):
        await dm(api, "student", user)

    reply = await api.get(q(CONVERSATIONS, {"page_size": 2}), as_="student")
    rest = await api.get(reply.body["next"].split("://", 1)[1].split("/", 1)[1], as_="student")

    assert (reply.body["count"], [c["with"] for c in reply.body["results"]]) == (
        3,
        ["user-c", "user-b"],
    )
    assert [c["with"] for c in rest.body["results"]] == ["user-a"]


async def test_a_page_of_conversations_costs_a_bounded_number_of_queries(api, app, group):
    for n in range(5):
        await dm(api, "student", f"user-{n}")
        await dm(api, "student2", "student-1")
        await to_group(api, "instructor", group["id"])
    with StatementCounter() as counter:
        reply = await api.get(CONVERSATIONS, as_="student")
    statements = counter.statements

    assert reply.body["count"] == 7
    # count, page, last messages, unread counts, receipts, memberships: whatever the size
    assert 0 < len([s for s in statements if "messages" in s]) <= 6
