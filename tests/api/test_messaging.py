"""Messaging: sending and reading messages ("Send Message"; who reads what).

Read state, unread counts and conversations: test_messaging_reads.py; tenancy, hostile
input and the logs: test_messaging_hostile.py. Those files import the helpers below.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.matchers import FORBIDDEN, ID, NOT_FOUND, TIMESTAMP, invalid_pk, person, q

MESSAGES = "/api/lms/messaging/messages/"
READ_ALL = MESSAGES + "read-all/"
UNREAD_COUNT = MESSAGES + "unread-count/"
CONVERSATIONS = "/api/lms/messaging/conversations/"
GROUPS = "/api/lms/groups/groups/"
MEMBERS = "/api/lms/groups/members/"

SEED_MESSAGE = {
    "recipient_id": "user-456",
    "content": "Hello! How are you?",
    "message_type": "direct",
}


def message_url(message_id: int) -> str:
    return f"{MESSAGES}{message_id}/"


def read_url(message_id: int) -> str:
    return f"{MESSAGES}{message_id}/read/"


async def dm(api, sender: str, recipient: str, content: str = "hi") -> dict[str, Any]:
    """A direct message from the `sender` fixture user to the user id `recipient`."""
    body = {"recipient_id": recipient, "content": content, "message_type": "direct"}
    reply = await api.post(MESSAGES, body, as_=sender)
    assert reply.status == 201, reply.body
    return dict(reply.body)


async def to_group(api, sender: str, group_id: int, content: str = "hello all") -> dict[str, Any]:
    body = {"group_id": group_id, "content": content, "message_type": "group"}
    reply = await api.post(MESSAGES, body, as_=sender)
    assert reply.status == 201, reply.body
    return dict(reply.body)


async def add_member(api, group_id: int, user: str) -> dict[str, Any]:
    reply = await api.post(MEMBERS, {"group": group_id, "user_id": user}, as_="instructor")
    assert reply.status == 201, reply.body
    return dict(reply.body)


async def remove_member(api, member_id: int) -> None:
    reply = await api.delete(f"{MEMBERS}{member_id}/", as_="instructor")
    assert reply.status == 204, reply.body


async def ids(api, path: str, as_: str) -> list[int]:
    reply = await api.get(path, as_=as_)
    assert reply.status == 200, reply.body
    return [m["id"] for m in reply.body["results"]]


@pytest.fixture
async def group(api) -> dict[str, Any]:
    """A group owned by instructor-1, with student-1 as a member (student-2 is outside)."""
    reply = await api.post(GROUPS, {"name": "Python Developers"}, as_="instructor")
    assert reply.status == 201, reply.body
    await add_member(api, reply.body["id"], "student-1")
    return dict(reply.body)


# Sending


async def test_seed_body_sends_a_direct_message(api):
    reply = await api.post(MESSAGES, SEED_MESSAGE, as_="student")

    assert reply.status == 201
    assert reply.body == {
        "id": ID,
        "sender_id": "student-1",
        "sender": person("student-1"),
        "recipient_id": "user-456",
        "recipient": person("user-456"),
        "group_id": None,
        "message_type": "direct",
        "content": "Hello! How are you?",
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
        "edited_at": None,
        "is_read": True,
        "read_at": None,
        "recipient_read_at": None,
    }


async def test_member_sends_a_group_message_with_the_documented_body(api, group):
    body = {"group_id": group["id"], "content": "Welcome!", "message_type": "group"}

    reply = await api.post(MESSAGES, body, as_="student")

    assert reply.status == 201
    assert reply.body["message_type"] == "group"
    assert (reply.body["group_id"], reply.body["recipient_id"]) == (group["id"], None)


async def test_group_may_be_named_in_the_seed_spelling(api, group):
    body = {"group_id": f"group-{group['id']}", "content": "hi", "message_type": "group"}

    reply = await api.post(MESSAGES, body, as_="student")

    assert (reply.status, reply.body["group_id"]) == (201, group["id"])


async def test_message_type_defaults_to_group_when_only_a_group_is_named(api, group):
    reply = await api.post(MESSAGES, {"group_id": group["id"], "content": "hi"}, as_="student")

    assert (reply.status, reply.body["message_type"]) == (201, "group")


async def test_message_type_defaults_to_direct(api):
    reply = await api.post(MESSAGES, {"recipient_id": "student-2", "content": "hi"}, as_="student")

    assert (reply.status, reply.body["message_type"]) == (201, "direct")


async def test_content_is_trimmed(api):
    message = await dm(api, "student", "student-2", "  hi there \n")

    assert message["content"] == "hi there"


async def test_a_direct_message_to_myself_is_a_400(api):
    reply = await api.post(MESSAGES, {"recipient_id": "student-1", "content": "x"}, as_="student")

    assert (reply.status, reply.body) == (
        400,
        {"recipient_id": ["You cannot send a message to yourself."], "status": 400},
    )


async def test_non_member_cannot_send_to_a_group_it_cannot_see(api, group):
    body = {"group_id": group["id"], "content": "x", "message_type": "group"}

    reply = await api.post(MESSAGES, body, as_="student2")

    assert (reply.status, reply.body) == (400, invalid_pk("group_id", group["id"]))


async def test_admin_outside_a_group_sees_it_but_cannot_send_to_it(api, group):
    body = {"group_id": group["id"], "content": "x", "message_type": "group"}

    reply = await api.post(MESSAGES, body, as_="admin")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_sending_to_an_unknown_group_is_a_400(api):
    body = {"group_id": 99999, "content": "x", "message_type": "group"}

    reply = await api.post(MESSAGES, body, as_="admin")

    assert (reply.status, reply.body) == (400, invalid_pk("group_id", 99999))


async def test_removed_member_can_no_longer_send_to_the_group(api, group):
    member = await add_member(api, group["id"], "student-2")
    await remove_member(api, member["id"])
    body = {"group_id": group["id"], "content": "x", "message_type": "group"}

    reply = await api.post(MESSAGES, body, as_="student2")

    assert (reply.status, reply.body) == (400, invalid_pk("group_id", group["id"]))


# Who reads a message


async def test_sender_and_recipient_read_a_direct_message(api):
    message = await dm(api, "student", "student-2")

    by_sender = await api.get(message_url(message["id"]), as_="student")
    by_recipient = await api.get(message_url(message["id"]), as_="student2")

    assert (by_sender.status, by_recipient.status) == (200, 200)
    assert by_recipient.body["content"] == "hi"


async def test_a_third_user_cannot_read_a_direct_message(api):
    message = await dm(api, "student", "student-2")

    reply = await api.get(message_url(message["id"]), as_="instructor")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_not_even_an_admin_reads_other_peoples_messages(api):
    message = await dm(api, "student", "student-2")

    reply = await api.get(message_url(message["id"]), as_="admin")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


@pytest.mark.parametrize(
    "params",
    [{}, {"box": "inbox"}, {"box": "sent"}, {"unread": "true"}, {"with": "student-1"}],
)
async def test_a_third_user_lists_none_of_a_direct_message(api, params):
    await dm(api, "student", "student-2")

    assert await ids(api, q(MESSAGES, params), as_="instructor") == []


async def test_a_third_user_has_no_conversation_with_their_message(api):
    await dm(api, "student", "student-2")

    reply = await api.get(CONVERSATIONS, as_="instructor")

    assert (reply.status, reply.body["count"]) == (200, 0)


async def test_group_members_read_a_group_message(api, group):
    message = await to_group(api, "student", group["id"])

    reply = await api.get(message_url(message["id"]), as_="instructor")

    assert (reply.status, reply.body["content"]) == (200, "hello all")


async def test_non_member_cannot_read_a_group_message(api, group):
    message = await to_group(api, "student", group["id"])

    by_id = await api.get(message_url(message["id"]), as_="student2")
    listed = await ids(api, q(MESSAGES, {"group_id": group["id"]}), as_="student2")

    assert (by_id.status, by_id.body) == (404, NOT_FOUND)
    assert listed == []


async def test_admin_outside_the_group_cannot_read_its_messages(api, group):
    message = await to_group(api, "student", group["id"])

    reply = await api.get(message_url(message["id"]), as_="admin")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_removed_member_loses_the_groups_messages_at_once(api, group):
    member = await add_member(api, group["id"], "student-2")
    message = await to_group(api, "instructor", group["id"])
    own = await to_group(api, "student2", group["id"])
    assert await ids(api, MESSAGES, as_="student2") == [own["id"], message["id"]]

    await remove_member(api, member["id"])

    for message_id in (message["id"], own["id"]):
        reply = await api.get(message_url(message_id), as_="student2")
        assert (reply.status, reply.body) == (404, NOT_FOUND)
    assert await ids(api, MESSAGES, as_="student2") == []
    assert await ids(api, q(MESSAGES, {"group_id": group["id"]}), as_="student2") == []
    assert (await api.get(CONVERSATIONS, as_="student2")).body["count"] == 0


async def test_a_deleted_group_takes_its_messages_along(api, group):
    message = await to_group(api, "student", group["id"])

    await api.delete(f"{GROUPS}{group['id']}/", as_="instructor")

    reply = await api.get(message_url(message["id"]), as_="student")
    assert (reply.status, reply.body) == (404, NOT_FOUND)


# Lists


async def test_list_holds_what_i_sent_and_received_newest_first(api):
    first = await dm(api, "student", "student-2")
    second = await dm(api, "student2", "student-1")
    await dm(api, "instructor", "student-2")

    assert await ids(api, MESSAGES, as_="student") == [second["id"], first["id"]]


async def test_inbox_and_sent_boxes(api, group):
    sent = await dm(api, "student", "student-2")
    received = await dm(api, "student2", "student-1")
    in_group = await to_group(api, "instructor", group["id"])
    await to_group(api, "student", group["id"])

    inbox = await ids(api, q(MESSAGES, {"box": "inbox"}), as_="student")
    outbox = await ids(api, q(MESSAGES, {"box": "sent"}), as_="student")

    assert inbox == [in_group["id"], received["id"]]
    assert sent["id"] in outbox and len(outbox) == 2


async def test_with_lists_one_direct_conversation(api):
    mine = await dm(api, "student", "student-2")
    theirs = await dm(api, "student2", "student-1")
    await dm(api, "student", "instructor-1")

    listed = await ids(api, q(MESSAGES, {"with": "student-2"}), as_="student")

    assert listed == [theirs["id"], mine["id"]]


async def test_group_id_lists_one_groups_messages(api, group):
    message = await to_group(api, "instructor", group["id"])
    await dm(api, "instructor", "student-1")

    assert await ids(api, q(MESSAGES, {"group_id": group["id"]}), as_="student") == [message["id"]]
    assert await ids(api, q(MESSAGES, {"group_id": f"group-{group['id']}"}), as_="student") == [
        message["id"]
    ]


async def test_ordering_oldest_first(api):
    first = await dm(api, "student", "student-2")
    second = await dm(api, "student2", "student-1")

    listed = await ids(api, q(MESSAGES, {"ordering": "created_at"}), as_="student")

    assert listed == [first["id"], second["id"]]


async def test_list_is_paginated_with_the_filters_kept(api):
    for n in range(3):
        await dm(api, "student", "student-2", f"m{n}")

    reply = await api.get(q(MESSAGES, {"with": "student-2", "page_size": 2}), as_="student")

    assert (reply.body["count"], len(reply.body["results"])) == (3, 2)
    assert "with=student-2" in reply.body["next"]


# Editing and deleting


async def test_sender_edits_the_content(api):
    message = await dm(api, "student", "student-2")

    reply = await api.patch(message_url(message["id"]), {"content": "hello"}, as_="student")

    assert reply.status == 200
    assert (reply.body["content"], reply.body["edited_at"]) == ("hello", TIMESTAMP)


async def test_edit_changes_nothing_but_the_content(api):
    message = await dm(api, "student", "student-2")

    body = {"content": "x", "recipient_id": "instructor-1", "sender_id": "admin-1"}
    reply = await api.put(message_url(message["id"]), body, as_="student")

    assert reply.status == 200
    assert (reply.body["recipient_id"], reply.body["sender_id"]) == ("student-2", "student-1")


async def test_put_needs_the_content(api):
    message = await dm(api, "student", "student-2")

    reply = await api.put(message_url(message["id"]), {}, as_="student")

    assert (reply.status, reply.body) == (
        400,
        {"content": ["This field is required."], "status": 400},
    )


async def test_empty_patch_is_no_edit(api):
    message = await dm(api, "student", "student-2")

    reply = await api.patch(message_url(message["id"]), {}, as_="student")

    assert (reply.status, reply.body["edited_at"]) == (200, None)


async def test_recipient_cannot_edit_a_message(api):
    message = await dm(api, "student", "student-2")

    reply = await api.patch(message_url(message["id"]), {"content": "mine"}, as_="student2")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_third_user_cannot_edit_a_message_it_cannot_see(api):
    message = await dm(api, "student", "student-2")

    reply = await api.patch(message_url(message["id"]), {"content": "mine"}, as_="admin")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_sender_deletes_a_message_for_everyone(api):
    message = await dm(api, "student", "student-2")

    reply = await api.delete(message_url(message["id"]), as_="student")

    assert reply.status == 204
    gone = await api.get(message_url(message["id"]), as_="student2")
    assert (gone.status, gone.body) == (404, NOT_FOUND)


async def test_group_member_cannot_delete_anothers_group_message(api, group):
    message = await to_group(api, "instructor", group["id"])

    reply = await api.delete(message_url(message["id"]), as_="student")

    assert (reply.status, reply.body) == (403, FORBIDDEN)
