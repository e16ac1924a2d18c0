"""`make run` from the README: serves, prints a working token, and a second run reuses the first."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from tests.conftest import SEED_COURSE, free_port

ROOT = Path(__file__).resolve().parent.parent
TOKEN_LINE = re.compile(rb"export LMS_TOKEN=(\S+)")
STARTUP_SECONDS = 120


def _env(tmp_path: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update(
        PORT=str(port),
        LMS_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'var' / 'lms.db'}",
        LMS_MEDIA_ROOT=str(tmp_path / "var" / "media"),
        LMS_DEV_SECRET_FILE=str(tmp_path / "var" / "dev-jwt-secret"),
        PYTHON=sys.executable,
    )
    return env


@asynccontextmanager
async def make_run(env: dict[str, str]) -> AsyncIterator[str]:
    """Start `make run`, yield the token it prints once the server answers, then stop it."""
    process = await asyncio.create_subprocess_exec(
        "make",
        "--no-print-directory",
        "run",
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    output = b""
    drain: asyncio.Task[bytes] | None = None
    try:
        async with asyncio.timeout(STARTUP_SECONDS):
            token = None
            while b"Running on" not in output:
                line = await process.stdout.readline()
                assert line, f"make run stopped early:\n{output.decode(errors='replace')}"
                output += line
                if match := TOKEN_LINE.search(line):
                    token = match.group(1).decode()
        assert token, output.decode(errors="replace")
        drain = asyncio.create_task(process.stdout.read())
        yield token
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        await process.wait()
        if drain is not None:
            drain.cancel()


async def _lms(env: dict[str, str], *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        str(ROOT / ".venv" / "bin" / "lms"),
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_make_run_serves_the_seed_course_and_a_second_run_reuses_everything(tmp_path):
    port = free_port()
    env = _env(tmp_path, port)
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        async with make_run(env) as token:
            headers = {"Authorization": f"Bearer {token}"}
            async with http.post(
                f"{base}/api/lms/courses/courses/", json=SEED_COURSE, headers=headers
            ) as r:
                created = await r.json()
                assert r.status == 201, created
            assert created["slug"] == "python-programming-fundamentals"
            assert created["current_price"] == "99.99"
            assert created["title"] == SEED_COURSE["title"]

            # A tenant made by the CLI while the server runs is served at once.
            await _lms(env, "tenant", "create", "newco", "--domain", "newco.test")
            newco_token = (await _lms(env, "token", "--user", "u-1", "--tenant", "newco")).strip()
            newco = {"Authorization": f"Bearer {newco_token}", "Host": "newco.test"}
            async with http.get(f"{base}/api/lms/courses/courses/", headers=newco) as r:
                assert r.status == 200
                assert (await r.json())["count"] == 0

        async with make_run(env) as second_token:
            assert second_token
            # The first run's secret and database are still in use: its token still works.
            async with http.get(f"{base}/api/lms/courses/courses/", headers=headers) as r:
                listing = await r.json()
                assert r.status == 200
            assert [c["code"] for c in listing["results"]] == ["PY101"]
    assert "newco" in await _lms(env, "tenant", "list")
