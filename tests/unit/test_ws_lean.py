"""bench/ws_lean.py, the fan-out load tool that reads frames where they arrive: it must
count what a subscriber got exactly as the shared ws_fanout.py does, whatever the chunking."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from bench.ws_lean import Subscriber, Tally, masked_frame, percentile, run, upgrade_request


def server_frame(payload: bytes, opcode: int = 0x1, fin: bool = True) -> bytes:
    """A frame as a server sends it: unmasked, with the 7, 16 or 64-bit length."""
    first = bytes([(0x80 if fin else 0) | opcode])
    if len(payload) < 126:
        return first + bytes([len(payload)]) + payload
    if len(payload) < 1 << 16:
        return first + bytes([126]) + len(payload).to_bytes(2, "big") + payload
    return first + bytes([127]) + len(payload).to_bytes(8, "big") + payload


def post(seq: int, sent_ms: float, wrapped: bool = True, padding: str = "x") -> bytes:
    content = f"{seq}:{sent_ms:.3f}:{padding}"
    frame: dict[str, Any] = {"type": "post", "content": content}
    if wrapped:  # the LMS service's shape; bare aiohttp sends `content` at the top
        frame = {"type": "forum.post", "room": "forum:1", "seq": seq, "data": frame}
    return orjson.dumps(frame)


class Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> None:
        self.written.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


async def upgraded(tally: Tally) -> tuple[Subscriber, Transport]:
    _, _, request, accept = upgrade_request("ws://127.0.0.1:1/ws/room/", "t")
    subscriber = Subscriber(0, tally, request, accept)
    transport = Transport()
    subscriber.connection_made(transport)
    subscriber.data_received(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n")
    subscriber.data_received(b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
    await subscriber.opened
    return subscriber, transport


def unmask(frame: bytes) -> tuple[int, bytes]:
    opcode, length, mask = frame[0] & 0x0F, frame[1] & 0x7F, frame[2:6]
    return opcode, bytes(byte ^ mask[i % 4] for i, byte in enumerate(frame[6 : 6 + length]))


async def test_the_upgrade_request_carries_the_token_and_the_accept_matches_its_key() -> None:
    host, port, request, accept = upgrade_request("ws://127.0.0.1:9196/ws/lms/forum/7/", "abc")

    assert (host, port) == ("127.0.0.1", 9196)
    assert request.startswith(b"GET /ws/lms/forum/7/?token=abc HTTP/1.1\r\n")
    assert b"Upgrade: websocket" in request and request.endswith(b"\r\n\r\n")
    assert len(accept) == 28  # base64 of a SHA-1 digest


async def test_a_handshake_without_the_expected_accept_fails_the_socket() -> None:
    _, _, request, accept = upgrade_request("ws://127.0.0.1:1/", "t")
    subscriber = Subscriber(0, Tally(1, 1), request, accept)
    subscriber.connection_made(Transport())

    subscriber.data_received(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")

    assert isinstance(subscriber.opened.exception(), ConnectionError)


async def test_frames_split_anywhere_are_each_counted_once_with_their_latency() -> None:
    tally = Tally(1, 3)
    subscriber, _ = await upgraded(tally)
    stream = b"".join(
        server_frame(post(seq, 1000.0, padding="x" * size))
        for seq, size in ((0, 10), (1, 300), (2, 70_000))  # 7-, 16- and 64-bit lengths
    )

    for start in range(0, len(stream), 7):
        subscriber.data_received(stream[start : start + 7])

    assert (tally.delivered, tally.duplicates, tally.other) == (3, 0, 0)
    assert len(tally.latencies) == 3 and min(tally.latencies) > 0


async def test_both_frame_shapes_count_and_a_second_copy_is_a_duplicate() -> None:
    tally = Tally(1, 2)
    subscriber, _ = await upgraded(tally)

    subscriber.data_received(server_frame(post(0, 1.0, wrapped=False)))
    subscriber.data_received(server_frame(post(1, 1.0)) + server_frame(post(1, 1.0)))

    assert (tally.delivered, tally.duplicates) == (2, 1)


async def test_frames_that_are_not_posts_are_set_aside() -> None:
    tally = Tally(1, 2)
    subscriber, _ = await upgraded(tally)

    subscriber.data_received(server_frame(b'{"type": "joined", "room": "forum:1"}'))
    subscriber.data_received(server_frame(post(5, 1.0)))  # a seq beyond the run

    assert (tally.delivered, tally.other) == (0, 2)


async def test_a_message_in_fragments_is_counted_when_it_is_whole() -> None:
    tally = Tally(1, 1)
    subscriber, _ = await upgraded(tally)
    body = post(0, 1.0)

    subscriber.data_received(server_frame(body[:10], fin=False))
    assert tally.delivered == 0
    subscriber.data_received(server_frame(body[10:], opcode=0x0))

    assert tally.delivered == 1


async def test_a_ping_is_answered_with_a_masked_pong_of_the_same_payload() -> None:
    subscriber, transport = await upgraded(Tally(1, 1))

    subscriber.data_received(server_frame(b"still there?", opcode=0x9))

    assert unmask(transport.written[-1]) == (0xA, b"still there?")


async def test_a_server_close_is_answered_and_counts_the_socket_as_closed_early() -> None:
    tally = Tally(1, 1)
    subscriber, transport = await upgraded(tally)

    subscriber.data_received(server_frame(b"\x03\xe8", opcode=0x8))
    subscriber.connection_lost(None)

    assert transport.closed and unmask(transport.written[-1])[0] == 0x8
    assert tally.closed_early == 1


def test_client_frames_are_masked() -> None:
    frame = masked_frame(0x9, b"abc")

    assert frame[0] == 0x89 and frame[1] == 0x80 | 3
    assert unmask(frame) == (0x9, b"abc")


def test_percentiles_are_nearest_rank_like_the_shared_tool() -> None:
    values = [float(n) for n in range(1, 101)]

    assert percentile(values, 50) == 51.0  # rank round(49.5) = 50, as ws_fanout.py takes it
    assert percentile(values, 99) == 99.0
    assert percentile([], 99) != percentile([], 99)  # NaN when nothing arrived


def room_app() -> web.Application:
    """A room that relays each post to every member, as the bare aiohttp peer does."""
    members: set[web.WebSocketResponse] = set()

    async def room(request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        members.add(socket)
        try:
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    for member in list(members):
                        await member.send_str(message.data)
        finally:
            members.discard(socket)
        return socket

    app = web.Application()
    app.router.add_get("/ws/room/", room)
    return app


async def test_a_run_against_a_relaying_room_delivers_every_post_to_every_subscriber(
    aiohttp_server: Any,
) -> None:
    server = await aiohttp_server(room_app())
    args = argparse.Namespace(
        url=f"ws://127.0.0.1:{server.port}/ws/room/",
        token="t",
        subscribers=5,
        messages=8,
        rate=200.0,
        payload_bytes=16,
        connect_concurrency=4,
        connect_timeout=5.0,
        connect_retries=1,
        idle_timeout=2.0,
        max_wait=10.0,
        server_pid=0,
    )

    fields = await run(args)

    assert fields["connected"] == 5 and fields["expected"] == 40
    assert (fields["delivered"], fields["lost"], fields["dup"]) == (40, 0, 0)
    assert fields["closed_early"] == 0
    assert 0 < fields["p50_ms"] <= fields["p99_ms"] <= fields["max_ms"]
