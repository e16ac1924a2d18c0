"""A socket's outgoing side alone (realtime/connection.py), on a transport whose buffer the
test fills and empties: frames go out in order, whether written at once or queued."""

from __future__ import annotations

import asyncio
from typing import Any

from models.identity import Principal
from realtime import frames
from realtime.connection import TOO_SLOW, WRITE_LIMIT, Connection


class Transport:
    """Records writes; `backlog` is what the peer has not read yet."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.backlog = 0
        self.closing = False
        self.wrote = asyncio.Event()

    def write(self, data: bytes) -> None:
        self.written.append(data)
        self.wrote.set()

    def get_write_buffer_size(self) -> int:
        return self.backlog

    def is_closing(self) -> bool:
        return self.closing

    def abort(self) -> None:
        self.closing = True


class Request:
    def __init__(self, transport: Transport) -> None:
        self.transport = transport


class Socket:
    def __init__(self) -> None:
        self.closed_with: tuple[int, bytes] | None = None

    async def close(self, *, code: int, message: bytes) -> None:
        self.closed_with = (code, message)


def connection(transport: Transport, queue_size: int = 8) -> tuple[Connection, Socket]:
    ws = Socket()
    request: Any = Request(transport)
    principal = Principal(user_id="u", tenant="acme")
    return Connection(ws, request, principal=principal, queue_size=queue_size), ws  # type: ignore[arg-type]


async def written_count(transport: Transport, n: int) -> None:
    async with asyncio.timeout(5):
        while len(transport.written) < n:
            transport.wrote.clear()
            await transport.wrote.wait()


async def test_a_client_that_keeps_up_gets_each_frame_written_at_once():
    transport = Transport()
    conn, _ = connection(transport)

    for n in range(3):
        assert conn.offer(frames.wire(b"%d" % n))

    assert transport.written == [frames.wire(b"0"), frames.wire(b"1"), frames.wire(b"2")]


async def test_a_lagging_client_gets_its_frames_in_order_once_it_reads_then_at_once_again():
    transport = Transport()
    conn, _ = connection(transport)
    conn.offer(b"a")
    transport.backlog = WRITE_LIMIT + 1  # the client stops reading

    conn.offer(b"b")
    conn.offer(b"c")
    await asyncio.sleep(0.02)
    assert transport.written == [b"a"]  # b and c wait

    transport.backlog = 0  # it reads again
    await written_count(transport, 3)
    await asyncio.sleep(0)  # the writer steps aside
    conn.offer(b"d")  # caught up: written straight away, not queued behind anything

    assert transport.written == [b"a", b"b", b"c", b"d"]


async def test_a_client_that_lags_twice_still_gets_everything_in_order():
    transport = Transport()
    conn, _ = connection(transport)
    for round_ in range(2):
        transport.backlog = WRITE_LIMIT + 1
        conn.offer(b"%d-1" % round_)
        conn.offer(b"%d-2" % round_)
        transport.backlog = 0
        await written_count(transport, 2 * (round_ + 1))
        await asyncio.sleep(0)

    assert transport.written == [b"0-1", b"0-2", b"1-1", b"1-2"]


async def test_a_full_queue_cuts_the_client_off_with_1008():
    transport = Transport()
    conn, ws = connection(transport, queue_size=2)
    transport.backlog = WRITE_LIMIT + 1

    assert conn.offer(b"1") and conn.offer(b"2")
    assert not conn.offer(b"3")
    await conn.wait_closed()

    assert ws.closed_with is not None and ws.closed_with[0] == TOO_SLOW
    assert not conn.offer(b"4")
