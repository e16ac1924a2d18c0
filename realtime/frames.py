"""The socket protocol (docs/realtime.md): the server's envelope and the client's frames."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from models.errors import DomainError, ValidationFailed

# A post is the largest frame a client may send; a little room for the envelope.
MAX_CLIENT_FRAME = 64 * 1024


def encode(type_: str, room: str, data: dict[str, Any], seq: int | None = None) -> bytes:
    """A server frame, encoded once for every recipient; ephemeral frames carry no seq."""
    frame: dict[str, Any] = {"type": type_, "room": room}
    if seq is not None:
        frame["seq"] = seq
    frame["data"] = data
    return orjson.dumps(frame)


def split_for_seq(type_: str, room: str, data: dict[str, Any]) -> tuple[bytes, bytes]:
    """The frame in two halves around its seq, so the bus can stamp it without re-encoding."""
    head = orjson.dumps({"type": type_, "room": room})[:-1] + b',"seq":'
    tail = b',"data":' + orjson.dumps(data) + b"}"
    return head, tail


def tombstone(type_: str, room: str, seq: int, item: str) -> bytes:
    """What the history keeps of a frame whose item was edited or deleted since: its type,
    room and seq (so resume still counts every seq) and the item's id, no content.

    The Redis script writes the same bytes (realtime/redis_bus.py)."""
    item_id = item.rpartition(":")[2]
    data = {"id": int(item_id) if item_id.isdigit() else item_id, "superseded": True}
    return orjson.dumps({"type": type_, "room": room, "seq": seq, "data": data})


def wire(payload: bytes) -> bytes:
    """A payload as one unmasked, uncompressed WebSocket text frame (RFC 6455, section 5.2).

    The plain path is `await ws.send_frame(payload, WSMsgType.TEXT)` per recipient. A room
    instead frames an event once (the bytes are the same for every recipient: compression
    is off, and server frames are never masked) and writes them to each transport as is
    (realtime/connection.py). What that buys: the room never awaits a member (`send_frame`
    awaits the transport's drain once a client lags, which would hold every other member's
    frames behind it), and 0.38 us of Python per delivery (`python -m bench.wire_cost`:
    0.08 against 0.46 us, of the ~13 us a delivery costs in all under `bench.ws_pinned`).
    """
    size = len(payload)
    if size < 126:
        header = bytes((0x81, size))
    elif size < 1 << 16:
        header = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return header + payload


# Control frames (RFC 6455, section 5.5): a ping with no payload; a pong echoes its ping's.
PING = bytes((0x89, 0))


def pong(payload: bytes) -> bytes:
    return bytes((0x8A, len(payload))) + payload  # a ping's payload is at most 125 bytes


def error(code: int, detail: object) -> bytes:
    """The one error frame: the REST status and detail (field errors as their dict)."""
    return orjson.dumps({"type": "error", "code": code, "detail": detail})


def domain_error(exc: DomainError) -> bytes:
    """A refused frame, with what REST answers for the same refusal."""
    detail: object = exc.errors if isinstance(exc, ValidationFailed) else exc.detail
    return error(exc.status, detail)


def control(type_: str, room: str, **data: Any) -> bytes:
    """Frames about the connection itself (pong, reset): no seq, never in history."""
    return orjson.dumps({"type": type_, "room": room, "data": data})


@dataclass(frozen=True, slots=True)
class ClientFrame:
    """A client frame: its type and its other fields, still raw.

    The fields of a frame that acts (`post`, `message`) are validated by the room's action
    with the REST body model, so both entrances share its rules and its messages.
    """

    type: str
    fields: dict[str, object]


# What clients may send, in any room that takes it.
CLIENT_TYPES = ("post", "message", "typing", "ping")


class BadFrame(Exception):
    """A frame the server cannot act on; answered with an error frame, never fatal."""


def parse(raw: str | bytes) -> ClientFrame:
    """A client frame, or BadFrame with a message fit for the client."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadFrame("Frames must be JSON.") from None
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise BadFrame('A frame is a JSON object with a "type".')
    type_ = value.pop("type")
    if type_ not in CLIENT_TYPES:
        raise BadFrame(f'A frame\'s "type" is one of {", ".join(CLIENT_TYPES)}.')
    # A type this room does not take is answered by the room ("not taken in this room").
    return ClientFrame(type_, value)
