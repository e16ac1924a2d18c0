"""The peers measured in the same `make bench` run: the shared `run_peers.sh` (each peer's
server pinned to CPU 0, the load pinned to CPU 1), its RESULT files read back as figures.

Env: BENCH_PEERS (default `drf-wsgi drf-core drf-uvicorn bare`; empty skips the peers),
PEERS_VENV (default var/peers-venv; the peer checkout is read-only), BENCH_SHARED (the
peer checkout's bench folder, see bench/run.py), and run_peers.sh's own knobs
(HTTP_DURATION defaults to BENCH_SECONDS).
Raw outputs go to var/bench-peers/<timestamp>/. When the peers cannot run, the notes say why.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from bench import ws_pinned
from bench.report import PeerFigures, parse_result_text
from bench.run import ROOT, SHARED

RUN_PEERS = SHARED / "run_peers.sh"
PEERS_DIR = SHARED.parent / "peers"
VENV = Path(os.environ.get("PEERS_VENV", ROOT / "var" / "peers-venv"))
PYTHON = VENV / "bin" / "python"
DEFAULT_PEERS = "drf-wsgi drf-core drf-uvicorn bare"
PHASES = ("list", "list_db", "create", "ws", "wslow")
# The peers' JWT secret (run_peers.sh's default), set explicitly so a caller's
# LMS_JWT_SECRET for our service does not leak into the peers.
JWT_SECRET = "lms-bench-secret-0123456789abcdef"


@dataclass
class PeerRun:
    figures: PeerFigures = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    """`<peer>.<phase>: RESULT ...`, for the raw block of the report."""
    notes: list[str] = field(default_factory=list)
    """What did not run, and why."""
    out_dir: Path | None = None


def selected() -> list[str]:
    return os.environ.get("BENCH_PEERS", DEFAULT_PEERS).split()


def out_dir() -> Path:
    return ROOT / "var" / "bench-peers" / f"{datetime.now(UTC):%Y%m%d-%H%M%S}"


def available() -> str | None:
    """Why the peers cannot run here, or None."""
    if not RUN_PEERS.exists():
        return f"{RUN_PEERS} not found (BENCH_SHARED names the shared bench folder)"
    for tool in ("wrk", "taskset", "bash", "curl"):
        if not shutil.which(tool):
            return f"{tool} is needed"
    return None


def environment(out: Path, peers: list[str]) -> dict[str, str]:
    env = {**os.environ, "PEERS": " ".join(peers), "PEERS_VENV": str(VENV)}
    env.update(OUT_DIR=str(out), LMS_JWT_SECRET=JWT_SECRET)
    env.setdefault("HTTP_DURATION", os.environ.get("BENCH_SECONDS", "10"))
    return env


def read_results(out: Path, peers: list[str]) -> tuple[PeerFigures, list[str]]:
    """The RESULT files run_peers.sh left in `out` (`<peer>.<phase>.txt`)."""
    figures: PeerFigures = {}
    lines: list[str] = []
    for peer in peers:
        for phase in PHASES:
            path = out / f"{peer}.{phase}.txt"
            if not path.exists():
                continue
            text = path.read_text(errors="replace")
            result = parse_result_text(text)
            if result is None:
                continue
            figures.setdefault(peer, {})[phase] = result
            last = [line for line in text.splitlines() if line.startswith("RESULT ")][-1]
            lines.append(f"{peer}.{phase}: {last}")
    return figures, lines


def _log(path: Path) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "wb")


async def run_peers(out: Path, peers: list[str]) -> tuple[int, list[str]]:
    """run_peers.sh, its progress echoed to stderr; its exit code and last log lines."""
    with _log(out / "run_peers.stdout") as stdout:
        process = await asyncio.create_subprocess_exec(
            "bash",
            str(RUN_PEERS),
            env=environment(out, peers),
            stdout=stdout,
            stderr=asyncio.subprocess.PIPE,
        )
        tail: deque[str] = deque(maxlen=8)
        assert process.stderr is not None
        async for raw in process.stderr:
            line = raw.decode(errors="replace").rstrip()
            tail.append(line)
            print(f"peers| {line}", file=sys.stderr, flush=True)
        code = await process.wait()
    return code, list(tail)


async def run() -> PeerRun:
    """The selected peers, measured now; never raises for a peer that cannot run."""
    peers = selected()
    if not peers:
        return PeerRun(notes=["peers skipped: BENCH_PEERS is empty"])
    reason = available()
    if reason is not None:
        return PeerRun(notes=[f"peers not run: {reason}"])
    out = out_dir()
    try:
        code, tail = await run_peers(out, peers)
    except OSError as error:
        return PeerRun(notes=[f"peers not run: {error}"], out_dir=out)
    figures, lines = read_results(out, peers)
    notes = [f"peers ({' '.join(peers)}): raw outputs and server logs in {out}"]
    if code != 0:
        notes.append(f"run_peers.sh exited {code}: {' / '.join(tail[-3:])}")
    if code == 0 or figures:  # else the setup failed: the exit note says why
        notes += [
            f"peer {peer}: no results (see {out}/{peer}.server.log)"
            for peer in peers
            if peer not in figures
        ]
    return PeerRun(figures, lines, notes, out)


if __name__ == "__main__":
    result = asyncio.run(run())
    print("\n".join(result.notes + result.lines))


BARE_PORT = 8002


async def bare_fanout(
    out: Path, subscribers: str, messages: str, rate: str, tool: str, phase: str
) -> str:
    """The bare aiohttp peer under the fan-out the peers' script does not run (5,000
    subscribers), or any fan-out read by our bench/ws_lean.py (`tool="lean"`, as our own
    server is measured both ways): started as run_peers.sh starts it, pinned to CPU 0, the
    load tool pinned to CPU 1. Its `bare.<phase>: RESULT ...` line, or why it was skipped."""
    phase = f"bare.{phase}"
    reason = available()
    if reason is not None or not PYTHON.exists():
        return f"{phase}: skipped, {reason or f'no peers venv at {VENV}'}"
    env = {**os.environ, "LMS_JWT_SECRET": JWT_SECRET}
    with _log(out / f"{phase}.server.log") as log:
        server = await asyncio.create_subprocess_exec(
            *("taskset", "-c", "0", str(PYTHON), "app.py", "--port", str(BARE_PORT)),
            cwd=PEERS_DIR / "bare",
            env=env,
            stdout=log,
            stderr=log,
        )
    # The shared tool runs in the peers' venv, as run_peers.sh runs it; ours in this one.
    shared = [str(PYTHON), str(SHARED / "ws_fanout.py")]
    load = ws_pinned.load_tool(tool) if tool == ws_pinned.LEAN else shared
    try:
        token = await _output(str(PYTHON), str(SHARED / "make_token.py"), env=env)
        await asyncio.sleep(2)  # run_peers.sh polls the list; the socket is what is used here
        result = await _output(
            *("taskset", "-c", "1", *load),
            *("--url", f"ws://127.0.0.1:{BARE_PORT}/ws/lms/forum/1/", "--token", token),
            *("--subscribers", subscribers, "--messages", messages, "--rate", rate),
            *("--server-pid", str(server.pid)),
            env=env,
        )
    except RuntimeError as error:
        return f"{phase}: skipped, {error}"
    finally:
        server.terminate()
        await server.wait()
    (out / f"{phase}.txt").write_text(result + "\n")
    return f"{phase}: {result.splitlines()[-1]}"


async def _output(*command: str, env: dict[str, str]) -> str:
    process = await asyncio.create_subprocess_exec(
        *command,
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await process.communicate()
    if process.returncode != 0 or not out.strip():
        tool = next(
            (Path(arg).name for arg in command if arg.endswith(".py") or arg.startswith("bench.")),
            command[0],
        )
        raise RuntimeError(f"{tool} exited {process.returncode}")
    return out.decode().strip()
