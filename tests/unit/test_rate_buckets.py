"""The limiter's buckets (GCRA): a budget of N a minute, N at once then one per 60/N s."""

from __future__ import annotations

import logging
from typing import Any

from web.ratebuckets import Budget, MemoryBuckets, RedisBuckets

WRITES = Budget("writes", 3)


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


def test_blocked_reads_a_bucket_without_spending_it():
    buckets = MemoryBuckets()
    buckets.hit("k", Budget("auth", 1), 0)

    assert buckets.blocked("k", Budget("auth", 1), 0) is not None
    assert buckets.blocked("k", Budget("auth", 1), 60_000) is None
    assert buckets.blocked("unknown", Budget("auth", 1), 0) is None


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
