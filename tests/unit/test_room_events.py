"""A room event crosses Redis's channel as a header and its frame, and arrives as its type:
the same object the in-memory bus hands its rooms."""

from __future__ import annotations

import pytest

from models.effects import ACCESS_REVOKED, MEMBER_LEFT, ROOM_CLOSED, RoomEvent
from realtime import frames
from realtime.events import (
    AccessRevoked,
    Closing,
    MemberLeft,
    Shown,
    decode,
    encode_internal,
    encode_passing,
    header_halves,
    of_event,
)


def stamped(event: RoomEvent, seq: int) -> tuple[bytes, bytes]:
    """What the stamping script publishes, and the frame it keeps (realtime/redis_bus.py)."""
    head, tail = frames.split_for_seq(event.type, event.room, event.data)
    frame = head + str(seq).encode() + tail
    header_head, header_tail = header_halves(event)
    return header_head + str(seq).encode() + header_tail + frame, frame


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (RoomEvent("forum:1", "post", {"id": 3, "content": "a\nb"}), Shown),
        (RoomEvent("group:2", ROOM_CLOSED, {"group_id": 2}), Closing),
        (RoomEvent("group:2", MEMBER_LEFT, {"group_id": 2, "user_id": "u\n1"}), MemberLeft),
    ],
)
def test_a_stamped_event_decodes_to_what_the_memory_bus_builds(
    event: RoomEvent, expected: type
) -> None:
    message, frame = stamped(event, 7)

    arrived = decode(message)

    assert type(arrived) is expected
    assert arrived == of_event(event, 7, frame)


def test_a_member_who_left_is_named_by_the_event_not_read_from_its_frame() -> None:
    event = RoomEvent("group:2", MEMBER_LEFT, {"group_id": 2, "user_id": "student-1"})

    arrived = decode(stamped(event, 1)[0])

    assert isinstance(arrived, MemberLeft) and arrived.user_id == "student-1"


@pytest.mark.parametrize("user_id", ["student-1", None])
def test_a_revocation_carries_no_frame_and_names_whose_access_is_read_again(
    user_id: str | None,
) -> None:
    data = {} if user_id is None else {"user_id": user_id}
    event = RoomEvent("course:4", ACCESS_REVOKED, data)

    assert decode(encode_internal(event)) == AccessRevoked(user_id)


def test_typing_arrives_shown_with_no_seq() -> None:
    frame = frames.encode("typing", "forum:1", {"user_id": "u"})

    assert decode(encode_passing("typing", frame)) == Shown("typing", None, frame)


@pytest.mark.parametrize("message", [b'{"type":"post","seq":1}', b'["nope",1,"post",null]\n{}'])
def test_a_message_in_another_format_is_refused_as_a_value_error(message: bytes) -> None:
    with pytest.raises(ValueError):
        decode(message)
