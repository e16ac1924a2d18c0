"""What a room receives from the bus: a typed event, decoded once per process on arrival.

The domain's `RoomEvent` reaches the room on one path (the bus, in memory or through
Redis), and arrives as one of the types below; the room acts on the type, never on the
bytes of its frame. The frame the sockets get is built once per event (by the bus, with its
seq) and handed to every member as is: nothing here is done per recipient.

On Redis's channels an event travels as a one-line header, `["<effect>",<seq>,"<type>",
<user_id>]`, then the frame (JSON never holds a raw newline, so the first one ends the
header); the stamping script writes the header around the seq it draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from models.effects import Effect, RoomEvent


@dataclass(frozen=True, slots=True)
class Shown:
    """An event for the room's sockets; `seq` None: never kept (typing), not counted."""

    type: str
    seq: int | None
    frame: bytes


@dataclass(frozen=True, slots=True)
class Closing(Shown):
    """The room's last event (what it was about was deleted): shown, then the sockets close."""


@dataclass(frozen=True, slots=True)
class MemberLeft(Shown):
    """Shown, and the sockets `user_id` holds in the room are closed: access ends at once."""

    user_id: str


@dataclass(frozen=True, slots=True)
class AccessRevoked:
    """Never shown: whether `user_id` (None: anyone) may still be here is read afresh."""

    user_id: str | None


@dataclass(frozen=True, slots=True)
class Resync:
    """The bus may have missed events (Redis reconnected): catch up from the history."""


Arrival = Shown | AccessRevoked | Resync
RESYNC = Resync()
_EFFECTS = {effect.value: effect for effect in Effect}


def arrival(
    effect: Effect, type_: str, seq: int | None, frame: bytes, user_id: str | None
) -> Arrival:
    """The typed event for what the bus carried (both buses build it here)."""
    if effect is Effect.REVOKE:
        return AccessRevoked(user_id)
    if effect is Effect.CLOSE:
        return Closing(type_, seq, frame)
    if effect is Effect.EXPEL and user_id is not None:
        return MemberLeft(type_, seq, frame, user_id)
    return Shown(type_, seq, frame)


def of_event(event: RoomEvent, seq: int | None, frame: bytes) -> Arrival:
    return arrival(event.effect, event.type, seq, frame, event.user_id)


def header_halves(event: RoomEvent) -> tuple[bytes, bytes]:
    """The channel header in two halves around its seq (the stamping script draws it)."""
    head = b'["' + event.effect.value.encode() + b'",'
    tail = b"," + orjson.dumps(event.type) + b"," + orjson.dumps(event.user_id) + b"]\n"
    return head, tail


def encode_internal(event: RoomEvent) -> bytes:
    """An event for the rooms alone (a revocation): no seq, no frame."""
    head, tail = header_halves(event)
    return head + b"null" + tail


def encode_passing(type_: str, frame: bytes) -> bytes:
    """A frame shown to the sockets there now, never kept (typing)."""
    return b'["show",null,' + orjson.dumps(type_) + b",null]\n" + frame


def decode(message: bytes) -> Arrival:
    """What came over the channel, as its type (once per process, whatever the sockets)."""
    cut = message.index(b"\n")
    effect, seq, type_, user_id = orjson.loads(message[:cut])
    if effect not in _EFFECTS:
        raise ValueError(f"no such effect: {effect!r}")
    return arrival(_EFFECTS[effect], type_, seq, message[cut + 1 :], user_id)
