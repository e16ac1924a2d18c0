"""Rate limits: per user (else per client address), budgets for writes, expensive reads,
other reads and failed authentications; 429 with Retry-After; headers on every answer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from tests.conftest import free_port
from web.config import Settings
from web.ratelimit import LIMITER

COURSES = "/api/lms/courses/courses/"
GROUPS = "/api/lms/groups/groups/"
AUDIT = "/api/lms/auditlog/logs/"
CALENDAR = "/api/lms/schedule/schedules/calendar.ics"
HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"])


class FakeClock:
    """The limiter's clock, moved by the test: windows pass without sleeping."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limited(custom_api: Any, clock: FakeClock) -> Any:
    """An app with the given settings (small budgets), its limiter on the fake clock; the
    client address may be named by X-Forwarded-For (the test client is a trusted proxy)."""

    async def build(**overrides: Any) -> Any:
        api = await custom_api(trusted_proxies=["127.0.0.1"], **overrides)
        api.client.app[LIMITER].clock = clock
        return api

    return build


class AuditClock:
    """The audit trail's clock: which minute a counted row belongs to."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 6, 3, 30, 5, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def audit_clock(monkeypatch: pytest.MonkeyPatch) -> AuditClock:
    clock = AuditClock()
    monkeypatch.setattr("web.audit.utcnow", clock)
    return clock


def from_(address: str, **headers: str) -> dict[str, str]:
    return {"X-Forwarded-For": address, **headers}


ACME = {"Host": "acme.test"}  # a failed login is recorded in the tenant of its domain


async def new_group(api: Any, as_: str = "instructor", **kw: Any) -> Any:
    return await api.post(GROUPS, {"name": f"G {uuid.uuid4().hex[:8]}"}, as_=as_, **kw)


def limits(reply: Any) -> tuple[str, str, str]:
    return tuple(reply.headers.get(name) for name in HEADERS)  # type: ignore[return-value]


@sqlite_only
async def test_a_success_carries_the_budget_it_spent(api):
    reply = await api.get(COURSES, as_="student")

    assert (reply.status, limits(reply)) == (200, ("1200", "1199", "1"))


@sqlite_only
async def test_a_write_spends_the_write_budget(api):
    reply = await new_group(api)

    assert (reply.status, limits(reply)) == (201, ("300", "299", "1"))


@sqlite_only
async def test_a_not_found_carries_the_headers(api):
    routed = await api.get(COURSES + "999/", as_="student")
    unrouted = await api.get("/api/lms/nowhere/", as_="student")

    assert (routed.status, limits(routed)) == (404, ("1200", "1199", "1"))
    assert (unrouted.status, limits(unrouted)) == (404, ("1200", "1199", "1"))


@sqlite_only
async def test_a_failed_authentication_carries_the_failure_budget(api):
    reply = await api.get(COURSES, token="not-a-token")

    assert (reply.status, limits(reply)) == (401, ("60", "59", "1"))


@sqlite_only
async def test_health_is_exempt(api):
    reply = await api.get("/health/lms/")

    assert reply.status == 200
    assert "RateLimit-Limit" not in reply.headers


@sqlite_only
async def test_over_the_write_budget_is_a_429_with_retry_after(limited):
    api = await limited(rate_writes_per_minute=3)
    for _ in range(3):
        assert (await new_group(api)).status == 201

    reply = await new_group(api)

    assert reply.status == 429
    assert reply.json == {
        "detail": "Request was throttled. Expected available in 20 seconds.",
        "status": 429,
    }
    assert reply.headers["Retry-After"] == "20"
    assert limits(reply) == ("3", "0", "60")


@sqlite_only
async def test_a_throttled_write_changes_nothing(limited):
    api = await limited(rate_writes_per_minute=1)
    await new_group(api)

    await api.post(GROUPS, {"name": "Never made"}, as_="instructor")

    names = [g["name"] for g in (await api.get(GROUPS, as_="instructor")).json["results"]]
    assert "Never made" not in names


@sqlite_only
async def test_the_next_window_allows_again(limited, clock):
    api = await limited(rate_writes_per_minute=3)
    for _ in range(3):
        await new_group(api)
    assert (await new_group(api)).status == 429

    clock.advance(20)

    reply = await new_group(api)
    assert (reply.status, limits(reply)) == (201, ("3", "0", "60"))


@sqlite_only
async def test_reads_have_a_budget_apart_from_writes(limited):
    api = await limited(rate_writes_per_minute=1)
    await new_group(api)
    assert (await new_group(api)).status == 429

    reply = await api.get(GROUPS, as_="instructor")

    assert reply.status == 200


@sqlite_only
async def test_a_search_is_an_expensive_read(limited):
    api = await limited(rate_expensive_per_minute=2)
    for _ in range(2):
        assert (await api.get(COURSES + "?search=py", as_="student")).status == 200

    searched = await api.get(COURSES + "?search=py", as_="student")
    listed = await api.get(COURSES, as_="student")

    assert (searched.status, limits(searched)[0]) == (429, "2")
    assert (listed.status, limits(listed)[0]) == (200, "1200")


@sqlite_only
async def test_a_schedule_window_and_the_calendar_feed_are_expensive_reads(limited):
    api = await limited(rate_expensive_per_minute=2)
    window = "?start=2026-01-01T00:00:00Z&end=2026-02-01T00:00:00Z"
    first = await api.get("/api/lms/schedule/schedules/" + window, as_="student")
    feed = await api.get(CALENDAR, as_="student")

    third = await api.get(CALENDAR, as_="student")

    assert [first.status, feed.status, third.status] == [200, 200, 429]


@sqlite_only
async def test_budgets_are_per_user(limited):
    api = await limited(rate_writes_per_minute=1)
    await new_group(api, as_="instructor")
    assert (await new_group(api, as_="instructor")).status == 429

    reply = await new_group(api, as_="instructor2")

    assert reply.status == 201


@sqlite_only
async def test_budgets_are_per_tenant(limited):
    api = await limited(rate_writes_per_minute=1)
    await new_group(api, as_="instructor")  # instructor-1 of acme
    assert (await new_group(api, as_="instructor")).status == 429

    reply = await new_group(api, as_="b_instructor")  # instructor-1 of globex

    assert reply.status == 201


@sqlite_only
async def test_requests_without_a_token_are_keyed_by_client_address(limited):
    api = await limited(rate_reads_per_minute=2)
    for _ in range(2):
        await api.get("/api/lms/nowhere/", headers=from_("198.51.100.1"))

    refused = await api.get("/api/lms/nowhere/", headers=from_("198.51.100.1"))
    other = await api.get("/api/lms/nowhere/", headers=from_("198.51.100.2"))

    assert (refused.status, other.status) == (429, 404)


@sqlite_only
async def test_a_user_is_not_limited_by_their_address(limited):
    api = await limited(rate_reads_per_minute=1)
    await api.get("/api/lms/nowhere/")
    assert (await api.get("/api/lms/nowhere/")).status == 429

    reply = await api.get(COURSES, as_="student")

    assert reply.status == 200


@sqlite_only
async def test_a_socket_upgrade_spends_one_read(limited):
    api = await limited(rate_reads_per_minute=1)
    ws = await api.client.ws_connect("/ws/lms/forum/999/")
    await ws.close()

    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await api.client.ws_connect("/ws/lms/forum/999/")

    assert refused.value.status == 429


async def test_a_flood_of_bad_tokens_is_one_counted_audit_row_then_429(limited, audit_clock):
    api = await limited(rate_auth_failures_per_minute=200)
    address = from_("203.0.113.50", **ACME)
    statuses = [
        (await api.get(COURSES, token=f"bad-{n}", headers=address)).status for n in range(200)
    ]

    refused = await api.get(COURSES, token="bad-again", headers=address)

    assert set(statuses) == {401}
    assert (refused.status, refused.headers["Retry-After"]) == (429, "1")
    await api.settled()
    rows = (await api.get(AUDIT + "?action_type=authentication_failed", as_="admin")).json
    assert [(r["ip_address"], r["status_code"], r["count"]) for r in rows["results"]] == [
        ("203.0.113.50", 401, 201)  # the refused one counted too
    ]


async def test_failed_authentications_of_the_next_minute_are_a_row_of_their_own(
    limited, audit_clock
):
    api = await limited()
    await api.get(COURSES, token="bad", headers=from_("203.0.113.51", **ACME))
    await api.get(COURSES, token="bad", headers=from_("203.0.113.51", **ACME))
    audit_clock.advance(60)
    await api.get(COURSES, token="bad", headers=from_("203.0.113.51", **ACME))
    await api.settled()

    rows = (await api.get(AUDIT + "?action_type=authentication_failed", as_="admin")).json

    assert [r["count"] for r in rows["results"]] == [1, 2]  # newest first


@sqlite_only
async def test_a_valid_token_is_served_from_an_address_over_its_failed_authentication_budget(
    limited,
):
    api = await limited(rate_auth_failures_per_minute=2)
    address = from_("203.0.113.52")
    for _ in range(3):
        await api.get(COURSES, token="bad", headers=address)

    reply = await api.get(COURSES, as_="student", headers=address)

    assert (reply.status, limits(reply)) == (200, ("1200", "1199", "1"))


@sqlite_only
async def test_bad_tokens_beyond_the_budget_get_429_not_401(limited):
    api = await limited(rate_auth_failures_per_minute=2)
    address = from_("203.0.113.53")
    spent = [await api.get(COURSES, token="bad", headers=address) for _ in range(2)]

    refused = await api.get(COURSES, token="bad", headers=address)

    assert [r.status for r in spent] == [401, 401]
    assert refused.status == 429
    assert refused.json == {
        "detail": "Request was throttled. Expected available in 30 seconds.",
        "status": 429,
    }
    assert (refused.headers["Retry-After"], limits(refused)) == ("30", ("2", "0", "60"))


@sqlite_only
async def test_the_failure_budget_comes_back_with_time(limited, clock):
    api = await limited(rate_auth_failures_per_minute=2)
    address = from_("203.0.113.54")
    for _ in range(3):
        await api.get(COURSES, token="bad", headers=address)

    clock.advance(30)

    reply = await api.get(COURSES, token="bad", headers=address)
    assert (reply.status, limits(reply)) == (401, ("2", "0", "60"))


@sqlite_only
async def test_a_request_without_a_token_spends_the_failure_budget(limited):
    api = await limited(rate_auth_failures_per_minute=1)
    first = await api.get(COURSES, headers=from_("203.0.113.55"))

    second = await api.get(COURSES, headers=from_("203.0.113.55"))

    assert (first.status, limits(first)) == (401, ("1", "0", "60"))
    assert (second.status, limits(second)[0]) == (429, "1")


@sqlite_only
async def test_failures_are_counted_per_address(limited):
    api = await limited(rate_auth_failures_per_minute=1)
    await api.get(COURSES, token="bad", headers=from_("203.0.113.56"))

    elsewhere = await api.get(COURSES, token="bad", headers=from_("203.0.113.57"))

    assert elsewhere.status == 401


async def test_a_failed_authentication_refused_with_429_is_counted_as_authentication_failed(
    limited, audit_clock
):
    api = await limited(rate_auth_failures_per_minute=2)
    address = from_("203.0.113.58", **ACME)
    statuses = [(await api.get(COURSES, token="bad", headers=address)).status for _ in range(3)]
    await api.settled()

    failed = (await api.get(AUDIT + "?action_type=authentication_failed", as_="admin")).json
    limited_rows = (await api.get(AUDIT + "?action_type=rate_limited", as_="admin")).json

    assert statuses == [401, 401, 429]
    assert [(r["ip_address"], r["status_code"], r["count"]) for r in failed["results"]] == [
        ("203.0.113.58", 401, 3)
    ]
    assert [r for r in limited_rows["results"] if r["ip_address"] == "203.0.113.58"] == []


@sqlite_only
async def test_public_pages_are_served_to_an_address_out_of_failures(limited):
    api = await limited(rate_auth_failures_per_minute=1)
    await api.get(COURSES, token="bad")

    reply = await api.get("/api/lms/schema/")

    assert reply.status == 200


async def test_throttled_requests_are_one_counted_audit_row(limited, audit_clock):
    api = await limited(rate_writes_per_minute=1)
    await new_group(api)
    for _ in range(3):
        assert (await new_group(api)).status == 429
    await api.settled()

    rows = (await api.get(AUDIT + "?action_type=rate_limited", as_="admin")).json["results"]

    assert [(r["user_id"], r["status_code"], r["count"]) for r in rows] == [
        ("instructor-1", 429, 3)
    ]


@sqlite_only
async def test_limits_off_removes_the_limits_and_the_headers(custom_api):
    api = await custom_api(rate_limits=False, rate_writes_per_minute=1)

    replies = [await new_group(api) for _ in range(3)]

    assert [r.status for r in replies] == [201, 201, 201]
    assert not any(name in replies[-1].headers for name in HEADERS)


def test_lms_rate_limits_off_turns_them_off(monkeypatch):
    monkeypatch.setenv("LMS_RATE_LIMITS", "off")
    monkeypatch.setenv("LMS_RATE_WRITES_PER_MINUTE", "7")

    settings = Settings()

    assert (settings.rate_limits, settings.rate_writes_per_minute) == (False, 7)


def test_limits_are_on_by_default(monkeypatch):
    monkeypatch.delenv("LMS_RATE_LIMITS", raising=False)

    assert Settings().rate_limits is True


@sqlite_only
async def test_browsers_may_read_the_headers(api):
    reply = await api.get(COURSES, as_="student", headers={"Origin": "http://localhost:9090"})

    exposed = reply.headers["Access-Control-Expose-Headers"]
    assert all(name in exposed for name in (*HEADERS, "Retry-After"))


@sqlite_only
async def test_with_redis_unreachable_requests_are_still_served(custom_api):
    api = await custom_api(redis_url=f"redis://127.0.0.1:{free_port()}/0")

    created = await new_group(api)
    listed = await api.get(GROUPS, as_="instructor")

    assert (created.status, listed.status) == (201, 200)
