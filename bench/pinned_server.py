"""What the pinned benchmarks share: a PostgreSQL database of their own, and `lms serve`
pinned to CPU 0 on it (the load tools then run pinned to CPU 1)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg

from bench.run import ROOT, SECRET, UNLIMITED, wait_healthy
from web.tokens import mint_token

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class PinnedServer:
    base: str
    pid: int
    admin_token: str


@asynccontextmanager
async def temporary_database(prefix: str) -> AsyncIterator[str]:
    """A fresh database (its SQLAlchemy URL), dropped afterwards."""
    database = f"{prefix}_{os.getpid()}"
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{database}"')
    await admin.close()
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}"
    finally:
        admin = await asyncpg.connect(ADMIN_DSN)
        await admin.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
        await admin.close()


@asynccontextmanager
async def pinned_server(url: str, port: int, **env: str) -> AsyncIterator[PinnedServer]:
    """`lms serve` on `url` pinned to CPU 0, healthy; `env` adds LMS_ settings."""
    environment = {**os.environ, **UNLIMITED, "LMS_DATABASE_URL": url, "LMS_JWT_SECRET": SECRET}
    environment.update(LMS_LOG_LEVEL="WARNING", **env)
    command = ["taskset", "-c", "0", sys.executable, "-m", "web.cli", "serve"]
    server = await asyncio.create_subprocess_exec(
        *command,
        "--port",
        str(port),
        env=environment,
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        await wait_healthy(base)
        token = mint_token(secret=SECRET, user="bench-admin", tenant="default", roles=["admin"])
        yield PinnedServer(base, server.pid, token)
    finally:
        server.terminate()
        await server.wait()
