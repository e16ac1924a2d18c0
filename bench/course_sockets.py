"""What the socket benchmarks share: one published course with many enrolled users, and the
load generator (`bench/socket_load.py`) pinned to CPU 1, holding one socket per user."""

from __future__ import annotations

import asyncio
import os
import resource
import shutil
import sys
import time
from dataclasses import dataclass

import aiohttp
from sqlalchemy import insert

from bench.run import ROOT, SECRET
from migrations.runner import provision_tenant
from models.courses.operations import check_new_course, do_create_course
from models.courses.schemas import CourseCreate
from models.courses.tables import Enrollment
from models.identity import Principal
from models.tenancy import Databases
from models.unit_of_work import unit_of_work
from web.tokens import mint_token

PREFIX = "bench-user-"
INSTRUCTOR = "bench-instructor"


def missing_tools(sockets: int) -> str | None:
    if not shutil.which("taskset"):
        return "taskset is needed"
    if (os.cpu_count() or 1) < 2:
        return "two CPUs are needed (server on CPU 0, load on CPU 1)"
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < sockets + 1000:
        return f"{sockets} sockets need a descriptor limit above {sockets + 1000} (hard {hard})"
    return None


async def seed_course(url: str, users: int) -> int:
    """The `default` tenant, one published course, and `users` active enrollments in it
    (users `bench-user-0`..): the course through the domain, the enrollments in bulk."""
    await provision_tenant(url, slug="default")
    databases = Databases.connect(url)
    actor = Principal(user_id=INSTRUCTOR, tenant="default", roles=frozenset({"instructor"}))
    try:
        async with unit_of_work(databases, "default") as unit:  # the course goes in at commit
            data = CourseCreate(
                title="Announced course",
                code="ANN0001",
                level="Beginner",
                status="Published",
                price="0.00",
                short_description="A course the socket benchmarks enroll users in.",
            )
            reads = databases.tenant_reads("default")
            new = await check_new_course(unit.session, reads, actor=actor, data=data)
            course = await do_create_course(unit.session, actor=actor, new=new)
            course_id = int(course.id)
        async with databases.tenant_sessions("default").begin() as session:
            rows = [
                {"user_id": f"{PREFIX}{n}", "course_id": course_id, "is_active": True}
                for n in range(users)
            ]
            for start in range(0, len(rows), 5000):
                await session.execute(insert(Enrollment), rows[start : start + 5000])
    finally:
        await databases.dispose()
    return course_id


@dataclass
class SocketLoad:
    """The running load generator: commands in, result lines out."""

    process: asyncio.subprocess.Process

    async def line(self, prefix: str, seconds: float = 300.0) -> str:
        """The next output line starting with `prefix` (others are echoed)."""
        assert self.process.stdout is not None
        async with asyncio.timeout(seconds):
            while True:
                raw = await self.process.stdout.readline()
                if not raw:
                    raise RuntimeError(f"load generator ended before {prefix}")
                text = raw.decode().strip()
                if text.startswith(prefix):
                    return text
                print(f"  load: {text}")

    async def command(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text.encode() + b"\n")
        await self.process.stdin.drain()

    async def quit(self) -> None:
        if self.process.returncode is None:
            try:
                await self.command("quit")
                await asyncio.wait_for(self.line("CLOSED"), 60)
            except (RuntimeError, TimeoutError, ConnectionError):
                self.process.kill()
            await self.process.wait()


async def start_load(url: str, users: int, *extra: str) -> SocketLoad:
    """`bench/socket_load.py` pinned to CPU 1; returns once it has said CONNECTED."""
    process = await asyncio.create_subprocess_exec(
        *["taskset", "-c", "1", sys.executable, "-m", "bench.socket_load"],
        *["--url", url, "--secret", SECRET, "--users", str(users), "--prefix", PREFIX],
        *extra,
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    return SocketLoad(process)


async def announce_round(base: str, course: int, n: int) -> tuple[float, int]:
    """The instructor announces round `n` to the course: when it was sent (epoch s), and
    the announcement's id."""
    token = mint_token(secret=SECRET, user=INSTRUCTOR, tenant="default", roles=["instructor"])
    url = f"{base}/api/lms/courses/courses/{course}/announce/"
    body = {"title": f"Round {n}", "message": "To every enrolled user."}
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        sent = time.time()
        async with http.post(url, json=body) as reply:
            assert reply.status == 201, await reply.text()
            announcement: int = (await reply.json())["id"]
    return sent, announcement


def received(line: str, sent: float) -> tuple[float, str]:
    """From the load's `RECEIVED got= of= last=` line: seconds from `sent` until the last
    socket had it, and `got/of`."""
    fields = dict(part.split("=") for part in line.split()[1:])
    return float(fields["last"]) - sent, f"{fields['got']}/{fields['of']}"
