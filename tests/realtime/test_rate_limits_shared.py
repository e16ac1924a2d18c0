"""Rate limits shared by instances on one Redis: one budget per user and per address,
whichever instance a request reaches."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.api.test_rate_limits import COURSES, FakeClock, from_, limits, new_group
from tests.conftest import token_for
from web.ratelimit import LIMITER

sqlite_only = pytest.mark.parametrize("backend", ["sqlite"])


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def shared(redis_instances: Any, clock: FakeClock) -> Any:
    """Instances on one Redis, on one (fake) clock; users and addresses are new per test,
    so what earlier runs left in Redis never counts."""

    async def build(**overrides: Any) -> Any:
        api = await redis_instances(trusted_proxies=["127.0.0.1"], **overrides)
        api.client.app[LIMITER].clock = clock
        return api

    return build


def someone() -> str:
    return token_for(f"user-{uuid.uuid4().hex[:12]}", "instructor")


def somewhere() -> dict[str, str]:
    return from_(f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}")


@sqlite_only
async def test_the_write_budget_is_shared_by_instances_on_one_redis(shared):
    one, two = await shared(rate_writes_per_minute=3), await shared(rate_writes_per_minute=3)
    token = someone()
    await new_group(one, as_=None, token=token)
    await new_group(two, as_=None, token=token)
    await new_group(one, as_=None, token=token)

    reply = await new_group(two, as_=None, token=token)

    assert (reply.status, reply.headers["Retry-After"], limits(reply)) == (
        429,
        "20",
        ("3", "0", "60"),
    )


@sqlite_only
async def test_through_redis_the_next_window_allows_again(shared, clock):
    api = await shared(rate_writes_per_minute=1)
    token = someone()
    await new_group(api, as_=None, token=token)
    assert (await new_group(api, as_=None, token=token)).status == 429

    clock.advance(60)

    assert (await new_group(api, as_=None, token=token)).status == 201


@sqlite_only
async def test_through_redis_users_have_budgets_of_their_own(shared):
    api = await shared(rate_writes_per_minute=1)
    token = someone()
    await new_group(api, as_=None, token=token)
    assert (await new_group(api, as_=None, token=token)).status == 429

    reply = await new_group(api, as_=None, token=someone())

    assert (reply.status, limits(reply)) == (201, ("1", "0", "60"))


@sqlite_only
async def test_bad_tokens_beyond_the_budget_get_429_not_401(shared):
    one = await shared(rate_auth_failures_per_minute=2)
    two = await shared(rate_auth_failures_per_minute=2)
    address = somewhere()
    spent = [await one.get(COURSES, token="bad", headers=address) for _ in range(2)]

    refused = await two.get(COURSES, token="bad", headers=address)

    assert ([r.status for r in spent], refused.status) == ([401, 401], 429)
    assert refused.json == {
        "detail": "Request was throttled. Expected available in 30 seconds.",
        "status": 429,
    }
    assert (refused.headers["Retry-After"], limits(refused)) == ("30", ("2", "0", "60"))


@sqlite_only
async def test_a_valid_token_is_served_from_an_address_over_its_failed_authentication_budget(
    shared,
):
    one = await shared(rate_auth_failures_per_minute=2)
    two = await shared(rate_auth_failures_per_minute=2)
    address, token = somewhere(), someone()
    for _ in range(3):
        await one.get(COURSES, token="bad", headers=address)

    here = await one.get(COURSES, token=token, headers=address)
    there = await two.get(COURSES, token=token, headers=address)

    assert (here.status, limits(here)[0]) == (200, "1200")  # the reads budget, not the failures
    assert (there.status, limits(there)[0]) == (200, "1200")


@sqlite_only
async def test_instances_together_admit_exactly_the_write_budget(shared):
    # Leases of 2: the last one can only be of 1.
    one, two = await shared(rate_writes_per_minute=17), await shared(rate_writes_per_minute=17)
    token = someone()

    replies = [await new_group((one, two)[n % 2], as_=None, token=token) for n in range(21)]

    assert [r.status for r in replies].count(201) == 17
    assert {r.status for r in replies[17:]} == {429}


@sqlite_only
async def test_a_user_s_requests_within_a_lease_ask_redis_once(shared):
    api = await shared()
    token = someone()

    replies = [await api.get(COURSES, token=token) for _ in range(5)]

    assert [limits(r)[1] for r in replies] == ["1199", "1198", "1197", "1196", "1195"]
    assert api.client.app[LIMITER].redis.calls == 1
