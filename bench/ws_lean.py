"""Fan-out load generator that reads frames where they arrive, for the 5,000-subscriber run.

    taskset -c 1 python -m bench.ws_lean --url ws://127.0.0.1:9196/ws/lms/forum/1/ \
        --token T --subscribers 5000 --messages 40 --rate 2 [--server-pid PID]

Why a second tool beside the shared `ws_fanout.py`: that one reads every socket with
aiohttp's client, a task per socket woken for each frame, about 30 us of client CPU per
frame; one post to 5,000 sockets keeps the load core busy for ~150 ms, so the last
subscriber's latency is mostly the generator's own queue (bare aiohttp misses 250 ms under
it). Here each socket is an asyncio protocol that splits frames inside `data_received`,
and a frame's arrival time is read once per chunk, when its bytes reach this process,
before any parsing. Same protocol, payload and `RESULT` fields as `ws_fanout.py` (the
subset this tool measures), so `bench/report.py` reads both, and the suite runs it
against bare aiohttp as well as against us. One process on uvloop: the load core is one
core, and more processes would only take turns on it.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import os
import time
from array import array
from typing import Any, cast
from urllib.parse import urlsplit

import aiohttp
import orjson

from bench.proc_stats import raise_nofile, tree_cpu_s, tree_rss_kb

HANDSHAKE_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, BINARY, CONTINUATION, CLOSE, PING = 0x1, 0x2, 0x0, 0x8, 0x9


def percentile(ordered: list[float], p: float) -> float:
    """The nearest-rank percentile, as ws_fanout.py takes it."""
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """A client frame (clients must mask); only short control frames are sent here."""
    mask = os.urandom(4)
    body = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    return bytes((0x80 | opcode, 0x80 | len(payload))) + mask + body


class Tally:
    """What every subscriber received: first copies, duplicates and latencies."""

    def __init__(self, subscribers: int, messages: int) -> None:
        self.seen = [bytearray(messages) for _ in range(subscribers)]
        self.latencies = array("d")
        self.delivered = self.duplicates = self.other = self.closed_early = 0
        self.last_arrival = time.monotonic()

    def record(self, subscriber: int, body: bytes, arrived_ms: float) -> None:
        try:
            frame = orjson.loads(body)
            # bare echoes {"content", ...}; the LMS service sends {"type", "data": {...}}.
            content = frame.get("content")
            if content is None:
                content = frame["data"]["content"]
            seq_text, sent_text, _ = content.split(":", 2)
            seq, sent_ms = int(seq_text), float(sent_text)
        except (ValueError, KeyError, TypeError, AttributeError, orjson.JSONDecodeError):
            self.other += 1  # joined, presence and other frames that are not posts
            return
        seen = self.seen[subscriber]
        if not 0 <= seq < len(seen):
            self.other += 1
        elif seen[seq]:
            self.duplicates += 1
        else:
            seen[seq] = 1
            self.delivered += 1
            self.latencies.append(arrived_ms - sent_ms)
            self.last_arrival = time.monotonic()


class Subscriber(asyncio.Protocol):
    """One socket: the upgrade handshake, then frames split as they come."""

    def __init__(self, index: int, tally: Tally, request: bytes, accept: bytes) -> None:
        self.index, self.tally, self.request, self.accept = index, tally, request, accept
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.buffer = bytearray()
        self.fragments = bytearray()
        self.upgraded = False
        self.transport: asyncio.Transport | None = None
        self.finished = False  # set when the run is over: a close then is not "early"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        arrived_ms = time.time() * 1000.0
        self.buffer += data
        if not self.upgraded and not self._upgrade():
            return
        self._frames(arrived_ms)

    def _upgrade(self) -> bool:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self.buffer[:end]).lower()
        del self.buffer[: end + 4]
        if not head.startswith(b"http/1.1 101") or self.accept.lower() not in head:
            self.opened.set_exception(ConnectionError(head.split(b"\r\n", 1)[0].decode()))
            self.close()
            return False
        self.upgraded = True
        self.opened.set_result(None)
        return True

    def _frames(self, arrived_ms: float) -> None:
        buffer, start, size = self.buffer, 0, len(self.buffer)
        while size - start >= 2:
            first, length, head = buffer[start], buffer[start + 1] & 0x7F, 2
            if length == 126:
                length, head = int.from_bytes(buffer[start + 2 : start + 4], "big"), 4
            elif length == 127:
                length, head = int.from_bytes(buffer[start + 2 : start + 10], "big"), 10
            if size - start < head + length:
                break
            payload = bytes(buffer[start + head : start + head + length])
            start += head + length
            self._frame(first & 0x80, first & 0x0F, payload, arrived_ms)
        del buffer[:start]

    def _frame(self, fin: int, opcode: int, payload: bytes, arrived_ms: float) -> None:
        if opcode == PING and self.transport is not None:
            self.transport.write(masked_frame(0xA, payload))
        elif opcode == CLOSE:
            self.close()
        elif opcode in (TEXT, BINARY, CONTINUATION):
            if not fin or self.fragments:
                self.fragments += payload
                if not fin:
                    return
                payload, self.fragments = bytes(self.fragments), bytearray()
            self.tally.record(self.index, payload, arrived_ms)

    def finish(self) -> None:
        self.finished = True
        self.close()

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(masked_frame(CLOSE, b""))
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during the handshake"))
        elif not self.finished:
            self.tally.closed_early += 1


def upgrade_request(url: str, token: str) -> tuple[str, int, bytes, bytes]:
    """Host, port, the GET that asks for the upgrade, and the accept value to expect."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}&" if parts.query else "?") + f"token={token}"
    key = base64.b64encode(os.urandom(16))
    request = (
        f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key.decode()}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    accept = base64.b64encode(hashlib.sha1(key + HANDSHAKE_GUID).digest())
    return parts.hostname or "127.0.0.1", parts.port or 80, request, accept


async def connect_all(args: argparse.Namespace, tally: Tally) -> list[Subscriber]:
    loop = asyncio.get_running_loop()
    host, port, request, accept = upgrade_request(args.url, args.token)
    gate = asyncio.Semaphore(args.connect_concurrency)
    connected: list[Subscriber] = []

    async def open_one(index: int) -> None:
        async with gate:
            for attempt in range(args.connect_retries + 1):
                if attempt:
                    await asyncio.sleep(0.2 * attempt)
                try:
                    _, subscriber = await loop.create_connection(
                        lambda: Subscriber(index, tally, request, accept), host, port
                    )
                except OSError:
                    continue
                try:
                    await asyncio.wait_for(subscriber.opened, args.connect_timeout)
                except (OSError, TimeoutError):  # ConnectionError is an OSError
                    subscriber.close()
                    continue
                connected.append(subscriber)
                return

    await asyncio.gather(*(open_one(index) for index in range(args.subscribers)))
    return connected


async def publish(args: argparse.Namespace, session: aiohttp.ClientSession) -> dict[str, Any]:
    """The posts, at the rate, on a socket of their own (a member that drains its copies)."""
    url = args.url + ("&" if "?" in args.url else "?") + f"token={args.token}"
    socket = await session.ws_connect(url, autoping=True, max_msg_size=1 << 22)
    drain = asyncio.create_task(_drain(socket))
    padding = "x" * args.payload_bytes
    await asyncio.sleep(0.2)
    started = time.monotonic()
    for seq in range(args.messages):
        delay = started + seq / args.rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        now_ms = time.time() * 1000.0
        post = {"type": "post", "content": f"{seq}:{now_ms:.3f}:{padding}", "client_ts": now_ms}
        await socket.send_str(orjson.dumps(post).decode())
    seconds = time.monotonic() - started
    rate = (args.messages - 1) / seconds if args.messages > 1 and seconds else args.rate
    return {"rate": rate, "socket": socket, "drain": drain}


async def _drain(socket: aiohttp.ClientWebSocketResponse) -> None:
    async for _ in socket:
        pass


async def run(args: argparse.Namespace) -> dict[str, float]:
    server_rss0 = tree_rss_kb(args.server_pid) if args.server_pid else None
    tally = Tally(args.subscribers, args.messages)
    began = time.monotonic()
    subscribers = await connect_all(args, tally)
    connect_s = time.monotonic() - began
    server_rss1 = tree_rss_kb(args.server_pid) if args.server_pid else None
    server_cpu0 = tree_cpu_s(args.server_pid) if args.server_pid else None
    own_cpu0, fan_start = time.process_time(), time.monotonic()
    expected = args.subscribers * args.messages
    async with aiohttp.ClientSession() as session:
        sent = await publish(args, session)
        published = time.monotonic()
        while tally.delivered < len(subscribers) * args.messages:
            now = time.monotonic()
            quiet = now - max(tally.last_arrival, published)
            if quiet > args.idle_timeout or now - published > args.max_wait:
                break
            await asyncio.sleep(0.05)
        fan_wall = time.monotonic() - fan_start
        own_cpu = time.process_time() - own_cpu0
        server_cpu1 = tree_cpu_s(args.server_pid) if args.server_pid else None
        for subscriber in subscribers:
            subscriber.finish()
        sent["drain"].cancel()
        await sent["socket"].close()
    ordered = sorted(tally.latencies)
    fields: dict[str, float] = {
        "delivered": tally.delivered,
        "expected": expected,
        "lost": expected - tally.delivered,
        "dup": tally.duplicates,
        "p50_ms": percentile(ordered, 50),
        "p90_ms": percentile(ordered, 90),
        "p99_ms": percentile(ordered, 99),
        "max_ms": ordered[-1] if ordered else float("nan"),
        "connect_s": connect_s,
        "connected": len(subscribers),
        "connect_failed": args.subscribers - len(subscribers),
        "closed_early": tally.closed_early,
        "pub_rate": sent["rate"],
        "fanout_wall_s": fan_wall,
        "gen_cpu_pct": 100 * own_cpu / fan_wall,
    }
    if server_rss0 is not None and server_rss1 is not None:
        fields["kb_per_conn"] = (server_rss1 - server_rss0) / max(1, len(subscribers))
    if server_cpu0 is not None and server_cpu1 is not None:
        fields["server_cpu_s"] = server_cpu1 - server_cpu0
        fields["srv_us_per_delivery"] = 1e6 * fields["server_cpu_s"] / max(1, tally.delivered)
    return fields


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", default="")
    parser.add_argument("--subscribers", type=int, default=5000)
    parser.add_argument("--messages", type=int, default=40)
    parser.add_argument("--rate", type=float, default=2.0)
    parser.add_argument("--payload-bytes", type=int, default=64)
    parser.add_argument("--connect-concurrency", type=int, default=64)
    parser.add_argument("--connect-timeout", type=float, default=30.0)
    parser.add_argument("--connect-retries", type=int, default=2)
    parser.add_argument("--idle-timeout", type=float, default=5.0)
    parser.add_argument("--max-wait", type=float, default=120.0)
    parser.add_argument("--server-pid", type=int, default=0)
    return parser.parse_args()


def main() -> None:
    args = arguments()
    raise_nofile()
    try:
        import uvloop
    except ImportError:  # the generator still works, only slower
        fields = asyncio.run(run(args))
    else:
        fields = uvloop.run(run(args))
    print(
        "RESULT "
        + " ".join(
            f"{key}={value:.2f}" if isinstance(value, float) else f"{key}={value}"
            for key, value in fields.items()
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
