"""A room hands an event to its members a slice at a time, leaving the loop free between."""

from __future__ import annotations

import asyncio
from typing import Any

from realtime.bus import MemoryBus
from realtime.events import MemberLeft, Shown
from realtime.room import BROADCAST_SLICE, IN_LINE_MEMBERS, Room


class Counter:
    """Counts what the members were given; `reached(n)` waits for the n-th."""

    def __init__(self) -> None:
        self.count = 0
        self._waiting: tuple[int, asyncio.Event] | None = None

    def add(self) -> None:
        self.count += 1
        if self._waiting is not None and self.count >= self._waiting[0]:
            self._waiting[1].set()

    async def reached(self, total: int) -> None:
        if self.count < total:
            self._waiting = (total, asyncio.Event())
            await self._waiting[1].wait()


class Member:
    """A connection as the room sees it: takes frames, notes when, never closes."""

    def __init__(self, number: int, timeline: list[str], joined: Counter, got: Counter) -> None:
        self.id = number
        self.user_id = f"user-{number}"
        self.last_seq = 0
        self.checked_at = 0.0  # its handshake's read (no revocation here to be after)
        self.closed = False
        self.frames: list[bytes] = []
        self._timeline, self._joined, self._got = timeline, joined, got

    def offer(self, wire_frame: bytes) -> bool:
        self.frames.append(wire_frame)
        self._timeline.append("member")
        self._got.add()
        return True

    def send_now(self, payload: bytes) -> None:
        self._joined.add()  # the room's "joined" frame

    def close(self, code: int, reason: str) -> None:
        self.closed = True


async def room_of(size: int, timeline: list[str], got: Counter) -> tuple[Room, list[Member]]:
    room = Room(("acme", "course:1"), MemoryBus(), on_stop=lambda room: None)
    joined = Counter()
    members = [Member(n, timeline, joined, got) for n in range(size)]
    for member in members:
        room.join(member, since=None)  # type: ignore[arg-type]
    await joined.reached(size)
    return room, members


def ticker(timeline: list[str], stop: asyncio.Event) -> None:
    """Notes every turn of the loop until stopped."""
    if not stop.is_set():
        timeline.append("tick")
        asyncio.get_running_loop().call_soon(ticker, timeline, stop)


async def stop_room(room: Room, members: list[Any]) -> None:
    for member in members:
        room.leave(member)
    await room.task


async def test_other_work_runs_between_slices_of_a_large_room() -> None:
    timeline: list[str] = []
    got = Counter()
    room, members = await room_of(3 * BROADCAST_SLICE, timeline, got)
    stop = asyncio.Event()
    ticker(timeline, stop)

    room.deliver(Shown("post", 1, b'{"type":"post","seq":1}'))
    await got.reached(len(members))
    stop.set()

    handed = [i for i, entry in enumerate(timeline) if entry == "member"]
    between = timeline[handed[0] : handed[-1]]
    assert between.count("tick") >= 2  # the loop turned inside the broadcast, twice at least
    assert "tick" not in timeline[handed[0] : handed[0] + BROADCAST_SLICE]
    await stop_room(room, members)


async def test_every_member_gets_each_event_once_and_in_order_across_slices() -> None:
    got = Counter()
    room, members = await room_of(2 * BROADCAST_SLICE + 5, [], got)

    for seq in (1, 2, 3):
        room.deliver(Shown("post", seq, b'{"type":"post","seq":%d}' % seq))
    await got.reached(3 * len(members))

    first = members[0].frames
    assert all(member.frames == first for member in members)
    assert [b'"seq":1' in first[0], b'"seq":2' in first[1], b'"seq":3' in first[2]] == [True] * 3
    await stop_room(room, members)


async def test_an_event_for_an_idle_small_room_is_handed_out_before_deliver_returns() -> None:
    got = Counter()
    room, members = await room_of(3, [], got)

    room.deliver(Shown("notification", 1, b'{"type":"notification","seq":1}'))

    assert [len(member.frames) for member in members] == [1, 1, 1]  # no turn of the loop
    await stop_room(room, members)


async def test_an_event_waits_behind_what_the_room_has_not_handled_yet() -> None:
    got = Counter()
    room, members = await room_of(1, [], got)
    late = Member(1, [], Counter(), got)

    room.join(late, since=None)  # type: ignore[arg-type]  # in the mailbox, not yet handled
    room.deliver(Shown("notification", 1, b'{"type":"notification","seq":1}'))

    assert members[0].frames == []  # queued behind the join, in order
    await got.reached(2)
    assert len(members[0].frames) == 1 and len(late.frames) == 1
    await stop_room(room, [*members, late])


async def test_a_failure_handing_out_an_event_closes_the_room_not_the_bus() -> None:
    got = Counter()
    room, members = await room_of(2, [], got)
    closed: list[int] = []

    def broken_offer(wire_frame: bytes) -> bool:
        raise RuntimeError("transport broke")

    def note_close(code: int, reason: str) -> None:
        closed.append(code)

    members[0].offer = broken_offer  # type: ignore[method-assign]
    members[0].close = note_close  # type: ignore[method-assign]
    members[1].close = note_close  # type: ignore[method-assign]

    room.deliver(Shown("notification", 1, b'{"type":"notification","seq":1}'))  # no raise

    assert closed == [1011, 1011]
    await stop_room(room, members)


async def test_a_member_leaving_is_never_handed_out_in_line() -> None:
    """The expel comes first, in the room's own turn: the leaver never gets the frame."""
    got = Counter()
    room, members = await room_of(2, [], got)

    room.deliver(MemberLeft("member_left", 1, b'{"type":"member_left","seq":1}', "user-0"))

    assert [len(member.frames) for member in members] == [0, 0]  # queued for the task
    await got.reached(1)
    assert members[0].closed and members[0].frames == []
    assert len(members[1].frames) == 1
    await stop_room(room, members)


async def test_a_room_larger_than_the_in_line_limit_hands_out_in_its_own_turn() -> None:
    got = Counter()
    room, members = await room_of(IN_LINE_MEMBERS + 1, [], got)

    room.deliver(Shown("post", 1, b'{"type":"post","seq":1}'))

    assert got.count == 0
    await got.reached(len(members))
    await stop_room(room, members)
