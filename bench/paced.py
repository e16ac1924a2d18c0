"""The course list at the same offered load: `bench/paced.lua` (wrk, 64 connections that
together send a fixed rate) against the best DRF deployment of this run and against our
service, so their p99s compare at one rate instead of under wrk's closed-loop queueing.

The rate is 80% of the best DRF deployment's closed-loop req/s from the same run
(BENCH_PACED_RPS sets it instead). run_peers.sh stops each peer when done, so the DRF peer
is started here again, reseeded, with run_peers.sh's own command line, pinned to CPU 0.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import BinaryIO

import aiohttp

from bench import peers, pinned
from bench.pinned_server import pinned_server, temporary_database
from bench.report import PACED, PeerFigures, best_drf
from bench.run import ROOT, seed

SCRIPT = ROOT / "bench" / "paced.lua"
SHARE = 0.8
QUERY = "page=3"
DRF_PORT = 8001
# run_peers.sh's start_server(), per DRF deployment: (command, LMS_CHANNEL_LAYER).
DRF_COMMANDS: dict[str, tuple[list[str], str]] = {
    "drf-wsgi": (
        [
            *("gunicorn", "lmspeer.wsgi:application", "-b", f"127.0.0.1:{DRF_PORT}"),
            *("--workers", "1", "-k", "gthread", "--threads", "8", "--backlog", "4096"),
            *("--log-level", "warning"),
        ],
        "core",
    ),
    "drf-uvicorn": (
        [
            *("uvicorn", "lmspeer.asgi:application", "--host", "127.0.0.1"),
            *("--port", str(DRF_PORT), "--workers", "1", "--no-access-log"),
            *("--log-level", "warning", "--loop", "uvloop", "--http", "httptools"),
            *("--ws", "websockets", "--backlog", "4096"),
        ],
        "core",
    ),
    "drf-core": (
        ["daphne", "-v", "0", "-b", "127.0.0.1", "-p", str(DRF_PORT), "lmspeer.asgi:application"],
        "core",
    ),
    "drf-pubsub": (
        ["daphne", "-v", "0", "-b", "127.0.0.1", "-p", str(DRF_PORT), "lmspeer.asgi:application"],
        "pubsub",
    ),
}


def rate(figures: PeerFigures) -> float | None:
    """The offered rate: BENCH_PACED_RPS, else 80% of the best DRF list req/s measured."""
    if os.environ.get("BENCH_PACED_RPS"):
        return float(os.environ["BENCH_PACED_RPS"])
    best = best_drf(figures)
    return None if best is None else round(SHARE * best[1])


async def wrk_paced(url: str, token: str, rps: float, seconds: str) -> str:
    """paced.lua's RESULT line (wrk pinned to CPU 1, one thread, 64 connections)."""
    command = ["taskset", "-c", "1", "wrk", "-t1", "-c64", f"-d{seconds}s", "--timeout", "5s"]
    command += ["--latency", "-H", f"Authorization: Bearer {token}", "-s", str(SCRIPT), url]
    command += ["--", f"{rps:.1f}", "1"]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await process.communicate()
    lines = out.decode(errors="replace").strip().splitlines()
    results = [line for line in lines if line.startswith("RESULT ")]
    return results[-1] if results else f"no RESULT ({lines[-1] if lines else 'no output'})"


async def ours(rps: float) -> list[str]:
    """Our service on a fresh, seeded database, at `rps`."""
    reason = pinned.available()
    if reason is not None:
        return [f"{PACED}: skipped, {reason}"]
    async with temporary_database("lms_paced") as url:
        await seed(url, 1000)
        async with pinned_server(url, pinned.PORT) as server:
            await pinned.wrk(server.base, server.admin_token, QUERY, "2")  # warm-up
            target = f"{server.base}/api/lms/courses/courses/?{QUERY}"
            line = f"{PACED}: {await wrk_paced(target, server.admin_token, rps, pinned.SECONDS)}"
    print(line)
    return [line]


async def wait_up(base: str, server: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(60):
            if server.returncode is not None:
                raise RuntimeError(f"exited {server.returncode} on start")
            try:
                async with http.get(f"{base}/api/lms/courses/courses/?page=1"):
                    return
            except aiohttp.ClientError:
                await asyncio.sleep(0.5)
    raise RuntimeError("did not come up in 30 s")


async def quiet(*command: str, cwd: Path, env: dict[str, str]) -> str:
    process = await asyncio.create_subprocess_exec(
        *command, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"{command[1]} failed: {err.decode(errors='replace').strip()[-200:]}")
    return out.decode().strip()


def peer_env(layer: str = "core") -> dict[str, str]:
    """A peer's environment, as run_peers.sh gives it: its secret, its venv first on PATH."""
    env = {**os.environ, "LMS_JWT_SECRET": peers.JWT_SECRET, "LMS_CHANNEL_LAYER": layer}
    env["PATH"] = f"{peers.VENV / 'bin'}:{env.get('PATH', '')}"
    return env


async def stop(server: asyncio.subprocess.Process) -> None:
    """A peer's server ended: asked to, then made to after 10 s."""
    if server.returncode is None:
        server.terminate()
    try:
        await asyncio.wait_for(server.wait(), 10)
    except TimeoutError:
        server.kill()
        await server.wait()


def _log(path: Path) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "ab")


async def peer(name: str, rps: float, out: Path) -> str:
    """The DRF peer `name` started again (reseeded, pinned to CPU 0) and paced at `rps`:
    its `<name>.paced: RESULT ...` line, also kept in out/<name>.paced.txt."""
    if name not in DRF_COMMANDS:
        return f"{name}.paced: skipped, no start command for it"
    command, layer = DRF_COMMANDS[name]
    drf = peers.PEERS_DIR / "drf"
    env = peer_env(layer)
    python = str(peers.PYTHON)
    try:
        await quiet(python, "manage.py", "seed_courses", "--count", "1000", cwd=drf, env=env)
        token = await quiet(python, str(peers.SHARED / "make_token.py"), cwd=drf, env=env)
    except (OSError, RuntimeError) as error:
        return f"{name}.paced: skipped, {error}"
    with _log(out / f"{name}.paced.server.log") as log:
        server = await asyncio.create_subprocess_exec(
            "taskset", "-c", "0", *command, cwd=drf, env=env, stdout=log, stderr=log
        )
    base = f"http://127.0.0.1:{DRF_PORT}"
    try:
        await wait_up(base, server)
        await pinned.wrk(base, token, QUERY, "2")  # warm-up, as run_peers.sh does
        target = f"{base}/api/lms/courses/courses/?{QUERY}"
        result = await wrk_paced(target, token, rps, pinned.SECONDS)
    except RuntimeError as error:
        return f"{name}.paced: skipped, {name} {error} (see {out}/{name}.paced.server.log)"
    finally:
        await stop(server)
    (out / f"{name}.paced.txt").write_text(result + "\n")
    line = f"{name}.paced: {result}"
    print(line)
    return line
