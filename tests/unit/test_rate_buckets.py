"""The limiter's buckets (GCRA): a budget of N a minute, N at once then one per 60/N s;
shared in Redis through leases, never more than the budget across instances."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from web.ratebuckets import LEASE_TTL_MS, Budget, MemoryBuckets, RedisBuckets

WRITES = Budget("writes", 3)
READS = Budget("reads", 60)  # one a second; a lease of 7
NOW = 1_800_000_000_000


def test_a_budget_is_spent_at_once_then_refused():
    buckets = MemoryBuckets()

    answers = [buckets.hit("k", WRITES, 0) for _ in range(4)]

    assert [(a.allowed, a.remaining) for a in answers] == [
        (True, 2),
        (True, 1),
        (True, 0),
        (False, 0),
    ]
    assert (answers[3].retry_ms, answers[3].retry_after) == (20_000, 20)


def test_a_refusal_spends_nothing():
    buckets = MemoryBuckets()
    for _ in range(10):
        buckets.hit("k", WRITES, 0)

    assert buckets.hit("k", WRITES, 20_000).allowed


def test_the_budget_comes_back_one_interval_at_a_time():
    buckets = MemoryBuckets()
    for _ in range(3):
        buckets.hit("k", WRITES, 0)

    later = buckets.hit("k", WRITES, 40_000)

    assert (later.allowed, later.remaining, later.reset_ms) == (True, 1, 40_000)


def test_the_headers_round_the_reset_up_to_whole_seconds():
    decision = MemoryBuckets().hit("k", Budget("reads", 7), 0)

    assert decision.headers() == {
        "RateLimit-Limit": "7",
        "RateLimit-Remaining": "6",
        "RateLimit-Reset": "9",
    }


def test_memory_is_bounded_by_dropping_the_least_recently_used_key():
    buckets = MemoryBuckets(size=3)
    for n in range(5):
        buckets.hit(f"client-{n}", WRITES, 0)
    buckets.hit("client-2", WRITES, 0)
    buckets.hit("client-5", WRITES, 0)

    assert len(buckets) == 3
    assert buckets.hit("client-2", WRITES, 0).remaining == 0  # kept: used recently
    assert buckets.hit("client-0", WRITES, 0).remaining == 2  # dropped: a new budget


class DeadRedis:
    """Stands for a client whose every call fails as an unreachable Redis does."""

    calls = 0

    def register_script(self, script: str) -> Any:
        async def run(**_: Any) -> Any:
            self.calls += 1
            raise ConnectionError("Connection refused")

        return run


async def test_redis_unreachable_allows_logs_once_and_pauses(caplog):
    redis = DeadRedis()
    buckets = RedisBuckets(redis, pause_ms=5_000)  # type: ignore[arg-type]

    with caplog.at_level(logging.WARNING, logger="web.ratebuckets"):
        answers = [await buckets.hit("k", WRITES, now) for now in (0, 1_000, 6_000)]

    assert answers == [None, None, None]
    assert redis.calls == 2  # the second came within the pause: Redis left alone
    assert len(caplog.records) == 1


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def key() -> str:
    """A bucket of this test's own: what earlier runs left in Redis never counts."""
    return f"test:{uuid.uuid4().hex}"


async def reserved(redis: Redis, key: str, budget: Budget, now: int) -> float:
    """The requests Redis counts against `key` at `now` (spent or leased)."""
    tat = int(await redis.get(f"lms:rate:{key}") or now)
    return max(0, tat - now) / budget.interval_ms


async def test_a_lease_is_never_more_than_what_is_left(redis, key):
    one, two = RedisBuckets(redis), RedisBuckets(redis)
    for _ in range(57):
        await one.spend(key, READS, NOW)

    first = await two.hit(key, READS, NOW)

    assert first is not None and (first.allowed, first.remaining) == (True, 2)
    assert await reserved(redis, key, READS, NOW) == 60  # 57 and a lease of 3, not 7


async def test_instances_together_admit_exactly_the_budget_in_a_window(redis, key):
    instances = [RedisBuckets(redis), RedisBuckets(redis)]

    async def admitted(now: int) -> int:
        answers = [await instances[n % 2].hit(key, READS, now) for n in range(150)]
        assert None not in answers
        return sum(1 for a in answers if a is not None and a.allowed)

    assert await admitted(NOW) == 60
    assert await admitted(NOW + 60_000) == 60  # the next window: the whole budget again


async def test_requests_within_a_lease_do_not_ask_redis(redis, key):
    buckets = RedisBuckets(redis)

    answers = [await buckets.hit(key, READS, NOW + n) for n in range(7)]

    assert all(a is not None and a.allowed for a in answers)
    assert [a.remaining for a in answers if a is not None] == [59, 58, 57, 56, 55, 54, 53]
    assert buckets.calls == 1


async def test_an_expired_lease_is_refreshed_and_its_unspent_part_given_back(redis, key):
    buckets = RedisBuckets(redis)
    await buckets.hit(key, READS, NOW)  # a lease of 7, one spent
    later = NOW + LEASE_TTL_MS

    answer = await buckets.hit(key, READS, later)

    assert answer is not None and answer.allowed
    assert buckets.calls == 2
    # The one spent a second ago has come back; the 6 unspent were given back: only the
    # new lease is counted (without the refund, 13 would be).
    assert await reserved(redis, key, READS, later) == 7


async def test_a_spent_lease_is_refreshed(redis, key):
    buckets = RedisBuckets(redis)

    answers = [await buckets.hit(key, READS, NOW) for _ in range(8)]

    assert all(a is not None and a.allowed for a in answers)
    assert buckets.calls == 2
    assert await reserved(redis, key, READS, NOW) == 14


async def test_requests_of_one_key_at_once_share_one_refresh(redis, key):
    buckets = RedisBuckets(redis)

    answers = await asyncio.gather(*(buckets.hit(key, READS, NOW) for _ in range(5)))

    assert all(a is not None and a.allowed for a in answers)
    assert buckets.calls == 1


async def test_a_refusal_is_kept_until_the_lease_life_ends(redis, key):
    buckets = RedisBuckets(redis)
    for _ in range(3):
        await buckets.hit(key, WRITES, NOW)

    refusals = [await buckets.hit(key, WRITES, NOW + n) for n in range(3)]
    retried = await buckets.hit(key, WRITES, NOW + LEASE_TTL_MS)

    assert [(r.allowed, r.retry_ms) for r in refusals if r is not None] == [
        (False, 20_000),
        (False, 19_999),
        (False, 19_998),
    ]
    assert retried is not None and not retried.allowed
    assert buckets.calls == 3 + 1 + 1


async def test_failures_are_spent_one_by_one_in_redis(redis, key):
    one, two, auth = RedisBuckets(redis), RedisBuckets(redis), Budget("auth", 3)

    answers = [await (one, two)[n % 2].spend(key, auth, NOW) for n in range(4)]

    assert [(a.allowed, a.remaining) for a in answers if a is not None] == [
        (True, 2),
        (True, 1),
        (True, 0),
        (False, 0),
    ]
    assert await reserved(redis, key, auth, NOW) == 3  # no lease: only what was spent


async def test_a_refused_failure_is_kept_until_the_lease_life_ends(redis, key):
    buckets, auth = RedisBuckets(redis), Budget("auth", 1)
    await buckets.spend(key, auth, NOW)

    refusals = [await buckets.spend(key, auth, NOW + n) for n in range(3)]
    retried = await buckets.spend(key, auth, NOW + LEASE_TTL_MS)

    assert [(r.allowed, r.retry_ms) for r in refusals if r is not None] == [
        (False, 60_000),
        (False, 59_999),
        (False, 59_998),
    ]
    assert retried is not None and not retried.allowed
    assert buckets.calls == 1 + 1 + 1


class FlakyRedis:
    """The real client, until the test says Redis is down."""

    def __init__(self, client: Redis) -> None:
        self.client = client
        self.down = False

    def register_script(self, script: str) -> Any:
        real = self.client.register_script(script)

        async def run(**kw: Any) -> Any:
            if self.down:
                raise ConnectionError("Connection refused")
            return await real(**kw)

        return run


async def test_redis_down_mid_lease_spends_the_lease_then_allows(redis, key, caplog):
    flaky = FlakyRedis(redis)
    buckets = RedisBuckets(flaky)  # type: ignore[arg-type]
    await buckets.hit(key, READS, NOW)  # a lease of 7
    flaky.down = True

    with caplog.at_level(logging.WARNING, logger="web.ratebuckets"):
        leased = [await buckets.hit(key, READS, NOW + n) for n in range(1, 7)]
        after = [await buckets.hit(key, READS, NOW + n) for n in range(7, 10)]

    assert all(a is not None and a.allowed for a in leased)
    assert after == [None, None, None]  # allowed: the caller serves them
    assert len(caplog.records) == 1
