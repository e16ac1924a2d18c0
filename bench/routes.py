"""Every route family, as the peers are measured: each domain's hottest list, detail and
create, with req/s, p50/p99, the server's CPU per request and the database round trips per
request, beside the peers where they serve the route (the posts page here; course create
comes from the peers' own run in `make bench`).

    python -m bench.routes          # alone: ours and the peers' posts page, one section
    BENCH_ROUTES=posts python -m bench.routes   # only the posts routes (and the peers)
    BENCH_ROUTES=courses BENCH_KINDS=create python -m bench.routes   # only course create

1. A fresh PostgreSQL database, seeded through the service itself (an in-process app): 30
   rows in every list (courses, lessons, enrollments, forums, groups, members, messages,
   conversations, schedules, orders, AI sessions, quizzes, assignments; the gradebook's
   30 enrollees) and one forum of 200 posts.
2. Counting pass, in that process: each route once to warm up, then `COUNT_SAMPLES`
   requests under `bench.statements.StatementCounter`: statements, transactions and round
   trips of the median one. The served process carries no counter.
3. Load pass: `lms serve` pinned to CPU 0, wrk (64 connections, `BENCH_ROUTE_SECONDS`
   each, after a 1 s warm-up) pinned to CPU 1; the server's CPU is its utime + stime
   (/proc/<pid>/stat) over the run, divided by the requests served. Creates come last (they
   add rows), each request with a body of its own (`bench/routes.lua`).
4. The peers (BENCH_PEERS: drf-wsgi and bare, when their venv exists): the forum posts page
   3 of their 200-post forum, started as run_peers.sh starts them, pinned the same way.

Lines: `route <family> <kind>: RESULT rps= p50_ms= p99_ms= requests= non2xx= cpu_us=
statements= transactions= round_trips=` and `route <family> <kind>: STATEMENTS <kinds>`;
`route <peer> posts page 3 of 200: RESULT ...` for the peers (bench/report.py reads them).
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bench import paced, peers, pinned
from bench.pinned_server import pinned_server, temporary_database
from bench.proc_stats import tree_cpu_s
from bench.report import ROUTE_POSTS, PeerFigures, parse_labelled, parse_result, routes_section
from bench.run import ROOT, SECRET, SHARED
from bench.statements import StatementCounter, round_trips, summary
from migrations.runner import provision_tenant
from models.settings import Settings
from web.app import create_app
from web.keys import DISPATCHER
from web.tokens import mint_token

PORT = 9194
SECONDS = os.environ.get("BENCH_ROUTE_SECONDS", "5")
# BENCH_ROUTES=posts,courses: only those families (and the peers), for a quick figure.
FAMILIES = tuple(f for f in os.environ.get("BENCH_ROUTES", "").split(",") if f)
# BENCH_KINDS=create: only those kinds of the chosen families (list, detail, create).
KINDS = tuple(k for k in os.environ.get("BENCH_KINDS", "").split(",") if k)
CONNECTIONS = "64"
COUNT_SAMPLES = 5
ROWS = 30
POSTS = 200
SCRIPT = ROOT / "bench" / "routes.lua"
REPORT = SHARED / "report.lua"
# Sealing the dummy gateway's settings needs a key; the same on both processes.
SECRET_KEY = "bench-sealing-key-0123456789abcdef0123456789"
TENANT = "default"
# Who calls: lists that are the caller's own are read by the user who owns the 30 rows.
USERS: dict[str, tuple[str, str]] = {
    "admin": ("bench-admin", "admin"),
    "instructor": ("bench-instructor", "instructor"),
    "reader": ("bench-reader", "student"),
    "buyer": ("bench-buyer", "student"),
    "learner": ("bench-student-0", "student"),
}
WINDOW = "start=2027-01-01T00:00:00Z&end=2027-02-01T00:00:00Z"
API = "/api/lms"
PEER_POSTS = "/api/lms/forum/forums/1/posts/?page=3"


@dataclass(frozen=True)
class Route:
    family: str
    kind: str
    path: str
    user: str = "admin"
    body: str | None = None
    """A create's JSON, each `$n` replaced by a token unique to the request."""

    @property
    def label(self) -> str:
        return f"route {self.family} {self.kind}"


def table(ids: dict[str, int]) -> list[Route]:
    """The routes, reads first: the creates add rows the reads would then count."""
    c, f, g = f"{API}/courses", f"{API}/forum", f"{API}/groups"
    m, s, ai = f"{API}/messaging", f"{API}/schedule/schedules", f"{API}/ai_chat/sessions"
    reads = [
        Route("courses", "list", f"{c}/courses/"),
        Route("courses", "detail", f"{c}/courses/{ids['course']}/"),
        Route("lessons", "list", f"{c}/lessons/?module={ids['module']}"),
        Route("lessons", "detail", f"{c}/lessons/{ids['lesson']}/"),
        Route("enrollments", "list", f"{c}/enrollments/?course={ids['course']}"),
        Route("enrollments", "detail", f"{c}/enrollments/{ids['enrollment']}/"),
        Route("forums", "list", f"{f}/forums/"),
        Route("forums", "detail", f"{f}/forums/{ids['forum']}/"),
        Route("posts", "page 3 of 200", f"{f}/forums/{ids['forum']}/posts/?page=3"),
        Route("posts", "detail", f"{f}/posts/{ids['post']}/"),
        Route("groups", "list", f"{g}/groups/"),
        Route("groups", "detail", f"{g}/groups/{ids['group']}/"),
        Route("members", "list", f"{g}/members/?group={ids['group']}"),
        Route("members", "detail", f"{g}/members/{ids['member']}/"),
        Route("messages", "list", f"{m}/messages/", "reader"),
        Route("messages", "detail", f"{m}/messages/{ids['message']}/", "reader"),
        Route("conversations", "list", f"{m}/conversations/", "reader"),
        Route("schedules", "window", f"{s}/?{WINDOW}"),
        Route("schedules", "detail", f"{s}/{ids['schedule']}/"),
        Route("orders", "list", f"{API}/payments/orders/", "buyer"),
        Route("orders", "detail", f"{API}/payments/orders/{ids['order']}/", "buyer"),
        Route("AI sessions", "list", f"{ai}/", "reader"),
        Route("AI sessions", "detail", f"{ai}/{ids['session']}/", "reader"),
        Route("activity logs", "list", f"{API}/activitylog/logs/"),
        Route("activity logs", "detail", f"{API}/activitylog/logs/{ids['activity']}/"),
        Route("audit logs", "list", f"{API}/auditlog/logs/"),
        Route("audit logs", "detail", f"{API}/auditlog/logs/{ids['audit']}/"),
        Route("quizzes", "list", f"{c}/quizzes/?course={ids['course']}"),
        Route("quizzes", "detail", f"{c}/quizzes/{ids['quiz']}/"),
        Route("assignments", "list", f"{c}/assignments/?course={ids['course']}"),
        Route("assignments", "detail", f"{c}/assignments/{ids['assignment']}/"),
        Route("grades", "gradebook", f"{c}/courses/{ids['course']}/gradebook/", "instructor"),
        Route("grades", "mine", f"{c}/grades/", "learner"),
    ]
    creates = [
        Route(
            "courses",
            "create",
            f"{c}/courses/",
            "instructor",
            '{"title": "Bench $n", "code": "$n", "level": "Beginner", "price": "10.00"}',
        ),
        Route("lessons", "create", f"{c}/lessons/", "instructor", lesson_body(ids["module"])),
        Route(
            "enrollments",
            "create",
            f"{c}/enrollments/course/{ids['course']}/",
            body='{"user_id": "bench-new-$n"}',
        ),
        Route("forums", "create", f"{f}/forums/", body='{"title": "Forum $n"}'),
        Route(
            "posts",
            "create",
            f"{f}/posts/",
            body=f'{{"forum": {ids["quiet_forum"]}, "content": "Post $n"}}',
        ),
        Route("groups", "create", f"{g}/groups/", body='{"name": "Group $n"}'),
        Route(
            "members",
            "create",
            f"{g}/members/",
            body=f'{{"group": {ids["quiet_group"]}, "user_id": "bench-member-$n"}}',
        ),
        Route(
            "messages",
            "create",
            f"{m}/messages/",
            "reader",
            '{"recipient_id": "bench-pen-1", "content": "Hello $n"}',
        ),
        Route("schedules", "create", f"{s}/", body=schedule_body("$n", 0)),
        Route("AI sessions", "create", f"{ai}/", "reader", '{"topic": "Topic $n"}'),
        Route(
            "quizzes",
            "create",
            f"{c}/quizzes/",
            "instructor",
            f'{{"lesson": {ids["quiz_lesson"]}, "title": "Quiz $n", "is_published": true}}',
        ),
        Route(
            "assignments",
            "create",
            f"{c}/assignments/",
            "instructor",
            f'{{"course": {ids["course"]}, "title": "Essay $n", "points": 10}}',
        ),
    ]
    return reads + creates


def lesson_body(module: int) -> str:
    return f'{{"module": {module}, "title": "Lesson $n", "content": "Read this."}}'


def schedule_body(title: str, day: int) -> str:
    start = f"2027-01-{day % 28 + 1:02d}T10:00:00Z"
    end = f"2027-01-{day % 28 + 1:02d}T11:00:00Z"
    return f'{{"title": "Meeting {title}", "start_time": "{start}", "end_time": "{end}"}}'


def tokens() -> dict[str, str]:
    return {
        name: mint_token(secret=SECRET, user=user, tenant=TENANT, roles=[role])
        for name, (user, role) in USERS.items()
    }


def token_of(user: str) -> str:
    return mint_token(secret=SECRET, user=user, tenant=TENANT, roles=["student"])


class Client:
    """The in-process app, called as `user` (a name in USERS, or any user id as a student)."""

    def __init__(self, client: TestClient[Any, Any]) -> None:
        self.client = client
        self.tokens = tokens()

    async def call(self, method: str, path: str, user: str, body: Any = None) -> Any:
        token = self.tokens.get(user) or token_of(user)
        headers = {"Authorization": f"Bearer {token}"}
        async with self.client.request(method, path, json=body, headers=headers) as response:
            payload = await response.json(content_type=None)
            if response.status >= 300:
                raise RuntimeError(f"{method} {path} as {user}: {response.status} {payload}")
            return payload

    async def settled(self) -> None:
        await self.client.app[DISPATCHER].drain()


def settings(url: str, media: Path) -> Settings:
    return Settings(
        database_url=url,
        jwt_secret=SECRET,
        secret_key=SECRET_KEY,
        rate_limits=False,
        media_root=media,
        dev_secret_file=media / "no-dev-secret",
        ai_base_url=None,
        ai_api_key=None,
        ai_model=None,
    )


@asynccontextmanager
async def in_process(url: str) -> AsyncIterator[Client]:
    with tempfile.TemporaryDirectory() as media:
        client: TestClient[Any, Any] = TestClient(
            TestServer(create_app(settings(url, Path(media))))
        )
        await client.start_server()
        try:
            yield Client(client)
        finally:
            await client.close()


async def rows(
    api: Client, path: str, bodies: Iterable[dict[str, Any]], user: str | Callable[[int], str]
) -> list[int]:
    """POST each body in turn (as `user`, or `user(n)` for the n-th): the ids created."""
    ids = []
    for n, body in enumerate(bodies):
        reply = await api.call("POST", path, user if isinstance(user, str) else user(n), body)
        ids.append(int(reply["id"] if "id" in reply else reply["order_id"]))
    return ids


async def seed(api: Client) -> dict[str, int]:
    """30 rows in every list, a forum of 200 posts; the ids the routes name (the last row
    of each list, or its first where the routes need a busy parent)."""
    c, f, g = f"{API}/courses", f"{API}/forum", f"{API}/groups"
    await api.call(
        "POST", f"{API}/payments/gateways/", "admin", {"name": "Dummy", "is_default": True}
    )
    published = {"status": "Published", "price": "10.00"}
    courses = await rows(
        api,
        f"{c}/courses/",
        ({"title": f"Course {n}", "code": f"S{n:03d}", **published} for n in range(ROWS)),
        "instructor",
    )
    module = (
        await rows(api, f"{c}/modules/", [{"course": courses[0], "title": "Module"}], "instructor")
    )[0]
    lessons = await rows(
        api,
        f"{c}/lessons/",
        (json.loads(lesson_body(module).replace("$n", str(n))) for n in range(ROWS)),
        "instructor",
    )
    students = [f"bench-student-{n}" for n in range(ROWS)]
    enrollments = await rows(
        api, f"{c}/enrollments/course/{courses[0]}/", ({"user_id": s} for s in students), "admin"
    )
    orders = []
    for course in courses:  # one order per checkout, paid at once by the dummy gateway
        await api.call("POST", f"{API}/carts/cart-items/", "buyer", {"course": course})
        orders += await rows(api, f"{API}/carts/checkout/", [{"payment_method": "dummy"}], "buyer")
    forums = await rows(
        api, f"{f}/forums/", ({"title": f"Forum {n}"} for n in range(ROWS)), "admin"
    )
    text = "A post of the benchmark, about as long as the peers' posts. " * 2
    posts = await rows(
        api,
        f"{f}/posts/",
        ({"forum": forums[0], "content": f"{text}{n}"} for n in range(POSTS)),
        lambda n: students[n % ROWS],
    )
    groups = await rows(api, f"{g}/groups/", ({"name": f"Group {n}"} for n in range(ROWS)), "admin")
    # The creator is the first member: 29 more make 30.
    members = await rows(
        api, f"{g}/members/", ({"group": groups[0], "user_id": s} for s in students[1:]), "admin"
    )
    # From 30 people: 30 messages, 30 conversations.
    messages = await rows(
        api,
        f"{API}/messaging/messages/",
        ({"recipient_id": USERS["reader"][0], "content": f"Hello {n}"} for n in range(ROWS)),
        lambda n: f"bench-pen-{n}",
    )
    schedules = await rows(
        api,
        f"{API}/schedule/schedules/",
        (json.loads(schedule_body(str(n), n)) for n in range(ROWS)),
        "admin",
    )
    sessions = await rows(
        api, f"{API}/ai_chat/sessions/", ({"topic": f"Topic {n}"} for n in range(ROWS)), "reader"
    )
    quiz_lesson = (
        await rows(
            api,
            f"{c}/lessons/",
            [{"module": module, "title": "Quizzes", "lesson_type": "quiz"}],
            "instructor",
        )
    )[0]
    quizzes = await rows(
        api,
        f"{c}/quizzes/",
        ({"lesson": quiz_lesson, "title": f"Quiz {n}", "is_published": True} for n in range(ROWS)),
        "instructor",
    )
    assignments = await rows(
        api,
        f"{c}/assignments/",
        ({"course": courses[0], "title": f"Essay {n}", "points": 10} for n in range(ROWS)),
        "instructor",
    )
    await api.settled()  # the activity and audit records of all the above
    activity = await api.call("GET", f"{API}/activitylog/logs/", "admin")
    audit = await api.call("GET", f"{API}/auditlog/logs/", "admin")
    return {
        "course": courses[0],
        "module": module,
        "lesson": lessons[-1],
        "enrollment": enrollments[-1],
        "order": orders[-1],
        "forum": forums[0],
        "quiet_forum": forums[1],
        "post": posts[-1],
        "group": groups[0],
        "quiet_group": groups[1],
        "member": members[-1],
        "message": messages[-1],
        "schedule": schedules[-1],
        "session": sessions[-1],
        "activity": activity["results"][0]["id"],
        "audit": audit["results"][0]["id"],
        "quiz_lesson": quiz_lesson,
        "quiz": quizzes[-1],
        "assignment": assignments[-1],
    }


@dataclass(frozen=True)
class Counted:
    statements: int
    transactions: int
    kinds: str
    """The request's statements (`bench.statements.summary`)."""

    @property
    def round_trips(self) -> int:
        return round_trips(self.statements, self.transactions)

    def fields(self) -> str:
        return (
            f"statements={self.statements:g} transactions={self.transactions:g} "
            f"round_trips={self.round_trips:g}"
        )


async def count(api: Client, route: Route, samples: int = COUNT_SAMPLES) -> Counted:
    """Statements and transactions of the median request of `samples`, after one warm-up:
    the median leaves out a sample that also carried the tenant registry's periodic reload."""

    def body(n: int) -> Any:
        return None if route.body is None else json.loads(route.body.replace("$n", f"c{n}"))

    method = "GET" if route.body is None else "POST"
    await api.call(method, route.path, route.user, body(0))
    seen: list[Counted] = []
    with StatementCounter() as counter:
        for n in range(1, samples + 1):
            counter.reset()
            await api.call(method, route.path, route.user, body(n))
            statements = counter.statements
            seen.append(Counted(len(statements), counter.transactions, summary(statements)))
    return sorted(seen, key=lambda c: c.round_trips)[len(seen) // 2]


async def _lines(*command: str) -> list[str]:
    """A command's output lines; report.lua finds its siblings through BENCH_DIR."""
    process = await asyncio.create_subprocess_exec(
        *command,
        env={**os.environ, "BENCH_DIR": str(SHARED)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await process.communicate()
    return out.decode(errors="replace").strip().splitlines()


def wrk_command(url: str, token: str, seconds: str, body: str | None) -> list[str]:
    """wrk pinned to CPU 1 (one thread, 64 connections) with the shared report hook, or
    routes.lua (which loads it) for a create."""
    command = ["taskset", "-c", "1", "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s"]
    command += ["--timeout", "5s", "--latency", "-H", f"Authorization: Bearer {token}"]
    if body is None:
        return [*command, "-s", str(REPORT), url]
    return [*command, "-s", str(SCRIPT), url, "--", body]


async def idle(pid: int, *, within: float = 15.0) -> None:
    """Until the server stops working on what the last wrk run left in flight (wrk abandons
    its open requests when its time is up; the server still serves them), so neither its
    CPU nor its queue carries over into the next run. At most `within` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        before = tree_cpu_s(pid)
        await asyncio.sleep(0.2)
        if tree_cpu_s(pid) - before < 0.02:  # under 10% of a core
            return


async def measure(url: str, token: str, pid: int, body: str | None = None) -> str:
    """wrk's RESULT line for `url` after a 1 s warm-up, plus the server's CPU per request:
    over the run, divided by the requests wrk saw answered (what it left unanswered at the
    end was partly served: the figure errs high by that much, little over several seconds)."""
    await _lines(*wrk_command(url, token, "1", body))
    await idle(pid)
    before = tree_cpu_s(pid)
    lines = await _lines(*wrk_command(url, token, SECONDS, body))
    cpu = tree_cpu_s(pid) - before
    await idle(pid)
    results = [line for line in lines if line.startswith("RESULT ")]
    if not results:
        return f"no RESULT ({lines[-1] if lines else 'no output'})"
    served = (parse_result(results[-1]) or {}).get("requests", 0)
    # No request finished in time (a loaded machine): no CPU figure rather than a wrong one.
    return f"{results[-1]} cpu_us={cpu / served * 1e6:.1f}" if served else results[-1]


def available() -> str | None:
    """Why this scenario cannot run here (no peer checkout, no wrk or taskset), or None."""
    return pinned.available()


async def ours() -> list[str]:
    """Seed, count in process, then load the pinned server route by route."""
    lines: list[str] = []
    async with temporary_database("lms_routes") as url:
        await provision_tenant(url, slug=TENANT)
        async with in_process(url) as api:
            ids = await seed(api)
            routes = [
                r
                for r in table(ids)
                if (not FAMILIES or r.family in FAMILIES) and (not KINDS or r.kind in KINDS)
            ]
            counted = {route.label: await count(api, route) for route in routes}
        callers = tokens()
        async with pinned_server(url, PORT, LMS_SECRET_KEY=SECRET_KEY) as server:
            for route in routes:
                target, token = server.base + route.path, callers[route.user]
                result = await measure(target, token, server.pid, route.body)
                if not result.startswith("RESULT "):
                    lines.append(f"{route.label}: skipped, {result}")
                    continue
                numbers = counted[route.label]
                lines.append(f"{route.label}: {result} {numbers.fields()}")
                lines.append(f"{route.label}: STATEMENTS {numbers.kinds}")
                print(lines[-2])
    return lines


async def peer_posts(name: str) -> str:
    """A peer's posts page 3 of its 200-post forum (reseeded by its `seed_forum`): started
    as run_peers.sh starts it, pinned to CPU 0; its `route <peer> posts page 3 of 200:
    RESULT ...` line, or why it was skipped."""
    label = f"route {name} {ROUTE_POSTS}"
    if not peers.PYTHON.exists():
        return f"{label}: skipped, no peers venv at {peers.VENV}"
    drf, env, python = peers.PEERS_DIR / "drf", paced.peer_env(), str(peers.PYTHON)
    seed_forum = (python, "manage.py", "seed_forum", "--posts", str(POSTS))
    try:
        await paced.quiet(*seed_forum, cwd=drf, env=env)
        token = await paced.quiet(python, str(SHARED / "make_token.py"), cwd=drf, env=env)
    except (OSError, RuntimeError) as error:
        return f"{label}: skipped, {error}"
    if name == "bare":  # its /db routes read the DRF peer's tables
        command, cwd = [python, "app.py", "--port", str(peers.BARE_PORT)], drf.parent / "bare"
        base, path = f"http://127.0.0.1:{peers.BARE_PORT}", f"/db{PEER_POSTS}"
    else:
        command, cwd = paced.DRF_COMMANDS[name][0], drf
        base, path = f"http://127.0.0.1:{paced.DRF_PORT}", PEER_POSTS
    quiet = asyncio.subprocess.DEVNULL
    server = await asyncio.create_subprocess_exec(
        *("taskset", "-c", "0", *command), cwd=cwd, env=env, stdout=quiet, stderr=quiet
    )
    try:
        await paced.wait_up(base, server)
        return f"{label}: {await measure(base + path, token, server.pid)}"
    except RuntimeError as error:
        return f"{label}: skipped, {name} {error}"
    finally:
        await paced.stop(server)


PEERS_WITH_POSTS = ("drf-wsgi", "bare")


async def main() -> list[str]:
    """Ours, then the peers' posts page (those of BENCH_PEERS that serve it)."""
    lines = await ours()
    for name in PEERS_WITH_POSTS:
        if name in peers.selected():
            lines.append(await peer_posts(name))
            print(lines[-1])
    return lines


def section(lines: list[str], peer_figures: PeerFigures) -> str:
    """The section `python -m bench.routes` appends: the table, what was skipped, the lines."""
    stamp = datetime.now(UTC)
    title = f"## {stamp:%Y-%m-%d %H:%M} UTC: `python -m bench.routes` (server CPU 0, load CPU 1)"
    skipped = [f"- {line}" for line in lines if ": skipped, " in line]
    table = routes_section(parse_labelled(lines), peer_figures, lines)
    raw = ["Raw lines:", "", "```", *lines, "```", ""]
    return "\n".join([title, "", *skipped, *([""] if skipped else []), *table, *raw])


if __name__ == "__main__":
    reason = available()
    if reason is not None:
        raise SystemExit(reason)
    found = asyncio.run(main())
    text = section(found, {})
    print(text)
    results = Path(os.environ.get("BENCH_RESULTS_DIR", ROOT / "bench" / "results"))
    results.mkdir(parents=True, exist_ok=True)
    with open(results / f"{datetime.now(UTC):%Y-%m-%d}.md", "a") as handle:
        handle.write(text + "\n")
