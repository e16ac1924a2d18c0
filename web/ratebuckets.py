"""The rate limiter's buckets: GCRA, in this process, or shared in Redis through leases.

GCRA (the generic cell rate algorithm) is a token bucket kept as one number per key: the
theoretical arrival time (TAT) of the next request, in milliseconds. A budget of N a
minute lets N requests through at once, then one every 60/N s; nothing has to refill on
a timer, and a key whose TAT has passed is the same as no key, so it can expire (Redis)
or be dropped (memory) without changing any answer. Integer milliseconds: the same
arithmetic in Python and in Lua, exact in Lua's doubles.

Shared (Redis), a request does not ask Redis: redis-py's client work is ~100-190 µs of
this process's CPU per command, half of what a cheap request costs in all. An instance
takes a lease instead: one script call reserves up to `lease_size` requests of the key
(an eighth of the budget, at most 20; fewer if fewer are left), and the next requests of
that key are decided here from the lease, until it is spent or `LEASE_TTL_MS` old. That
call also gives back the previous lease's unspent part. What this keeps and what it gives
up:

- Never over: a request is admitted only against a reservation already counted in Redis,
  so the instances together admit at most the budget (a reservation is spent within
  `LEASE_TTL_MS` of being made).
- Under by a little: a lease not spent is given back at the key's next refresh here;
  one of a key this instance does not see again is held until it drains by itself (at
  most an eighth of the budget, for at most an eighth of a minute).
- The headers of a request served from a lease report Redis's answer at lease time plus
  what this instance spent since; what other instances spent since is not seen (for at
  most `LEASE_TTL_MS`).
- Failed authentications are spent in Redis one by one (a lease of one): every instance
  sees each at once, and no reservation counts as a failure not yet made.
- Refusals are kept as a lease of none, until the retry time and at most `LEASE_TTL_MS`:
  a client over its budget (failed authentications included) costs one call a second per
  instance, not one per request.

Measured (bench/ratelimit_cost.py, 20,000 requests of 10,000 users, CPU of this process a
request; a busy 2-core machine, old and new run in the same minute): one script call a
request cost ~140-165 µs (wall ~185-245 µs). With leases, users coming in visits of 5
requests cost ~37 µs (wall ~50-55 µs; 0.2 calls a request); a request served from a
lease ~8 µs (memory buckets: ~8-13 µs); a request that must refresh costs what a call
always did (~135-190 µs): R requests a lease cost about that / R + 8 µs. Rejected:
coalescing the calls of one loop turn into one pipeline (~30 µs a call in batches of 10
against ~100 alone, in a probe): still a call a request, and a saving only under load.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass

from redis.asyncio import Redis

log = logging.getLogger(__name__)
WINDOW_MS = 60_000
LEASE_MAX = 20  # requests a lease holds at most
LEASE_TTL_MS = 1_000  # a lease's life: how stale a shared answer may be


@dataclass(frozen=True, slots=True)
class Budget:
    """Requests a rolling minute, for one kind of request (`name`)."""

    name: str
    per_minute: int

    @property
    def interval_ms(self) -> int:
        # Rounded down: N requests at once always fit in the window.
        return WINDOW_MS // self.per_minute


@dataclass(frozen=True, slots=True)
class Decision:
    """One answer of the limiter, with what the RateLimit-* headers report."""

    allowed: bool
    budget: Budget
    remaining: int
    reset_ms: int  # until the whole budget is available again
    retry_ms: int = 0  # refused: until one request will be allowed

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.budget.per_minute),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(-(-self.reset_ms // 1000)),
        }

    @property
    def retry_after(self) -> int:
        """Whole seconds, at least one (Retry-After)."""
        return max(1, -(-self.retry_ms // 1000))


def allowed(budget: Budget, reset_ms: int) -> Decision:
    remaining = (WINDOW_MS - reset_ms) // budget.interval_ms
    return Decision(True, budget, max(0, remaining), reset_ms)


def refused(budget: Budget, retry_ms: int, reset_ms: int) -> Decision:
    return Decision(False, budget, 0, reset_ms, retry_ms)


def wait_ms(tat: int, now: int, budget: Budget) -> int:
    """How long until one more request fits (0: now)."""
    return max(tat, now) + budget.interval_ms - WINDOW_MS - now


class MemoryBuckets:
    """This process's buckets, at most `size` keys: the least recently used goes first
    (it starts again with a whole budget, the only effect of dropping it)."""

    def __init__(self, size: int = 100_000) -> None:
        self._tats: OrderedDict[str, int] = OrderedDict()
        self._size = size

    def __len__(self) -> int:
        return len(self._tats)

    def hit(self, key: str, budget: Budget, now: int) -> Decision:
        tats = self._tats
        tat = tats.get(key, now)
        wait = wait_ms(tat, now, budget)
        if wait > 0:
            return refused(budget, wait, max(tat, now) - now)
        new_tat = max(tat, now) + budget.interval_ms
        tats[key] = new_tat
        tats.move_to_end(key)
        if len(tats) > self._size:
            tats.popitem(last=False)
        return allowed(budget, new_tat - now)


# KEYS[1]: the bucket. ARGV: now, the bucket's interval, how many requests to reserve at
# most, and the milliseconds of an earlier lease given back (its unspent part still owed).
# Answers {code, count, reset}: 1 reserved `count` (reset: the bucket before them), 0
# refused (count: the wait).
LEASE_SCRIPT = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local window = 60000
local stored = tonumber(redis.call('GET', KEYS[1]) or 0)
local tat = stored - tonumber(ARGV[4])
if tat < now then tat = now end
local result
local free = math.floor((now + window - tat) / interval)
if free < 1 then
  result = {0, tat + interval - window - now, tat - now}
else
  local count = math.min(free, tonumber(ARGV[3]))
  result = {1, count, tat - now}
  tat = tat + count * interval
end
if tat > now then
  if tat ~= stored then redis.call('SET', KEYS[1], tat, 'PX', tat - now) end
elseif stored > now then
  redis.call('DEL', KEYS[1])
end
return result
"""


def lease_size(budget: Budget) -> int:
    """At most an eighth of the budget, at most 20: what an idle lease can hold back."""
    return max(1, min(budget.per_minute // 8, LEASE_MAX))


class Lease:
    """Requests of one key reserved in Redis, spent here until `expires` (ms). A refusal
    is kept as a lease of none, refused until `retry_at`."""

    __slots__ = ("base", "count", "expires", "retry_at", "spent")

    def __init__(self, count: int, base: int, expires: int, retry_at: int = 0) -> None:
        self.count = count
        self.spent = 1 if count else 0  # the request that took the lease spends the first
        self.base = base  # the bucket's TAT before the lease
        self.expires = expires
        self.retry_at = retry_at

    def refund_ms(self, budget: Budget, now: int) -> int:
        """The unspent part Redis still counts: its reservations not yet drained by time."""
        end = self.base + self.count * budget.interval_ms
        return max(0, min((self.count - self.spent) * budget.interval_ms, end - now))


class RedisBuckets:
    """Buckets shared by every instance through leases (see the module's docstring).
    Redis unreachable: every request is allowed (logged once an outage), and Redis is
    left alone for `pause_ms`; leases already taken are still spent."""

    def __init__(
        self, client: Redis, pause_ms: int = 5_000, ttl_ms: int = LEASE_TTL_MS, size: int = 100_000
    ) -> None:
        self._script = client.register_script(LEASE_SCRIPT)
        self._pause_ms = pause_ms
        self._ttl_ms = ttl_ms
        self._size = size
        self._leases: dict[str, Lease] = {}
        self._pending: dict[str, asyncio.Future[bool]] = {}  # one refresh of a key at a time
        self._down_until = 0
        self._down = False
        self.calls = 0  # script calls made (the benchmark reports them a request)
        self.failures = 0  # calls Redis did not answer (the benchmark checks for none)

    def local(self, key: str, budget: Budget, now: int) -> Decision | None:
        """The decision from this instance's lease, without Redis; None: Redis must say."""
        lease = self._leases.get(key)
        if lease is None or now >= lease.expires:
            return None
        if lease.retry_at:
            return refused(budget, lease.retry_at - now, lease.base - now)
        if lease.spent >= lease.count:
            return None
        lease.spent += 1
        interval = budget.interval_ms
        return allowed(budget, max(interval, lease.base + lease.spent * interval - now))

    async def hit(self, key: str, budget: Budget, now: int) -> Decision | None:
        """The decision; None when Redis could not answer (the caller allows)."""
        while True:
            decision = self.local(key, budget, now)
            if decision is not None:
                return decision
            pending = self._pending.get(key)
            if pending is None:
                return await self._refresh(key, budget, now)
            # Another request of this key is asking Redis: its lease may serve this one.
            if not await asyncio.shield(pending):
                return None

    async def spend(self, key: str, budget: Budget, now: int) -> Decision | None:
        """One request spent in Redis, a lease of one (failed authentications: others must
        see each at once, and no reservation may count as a failure not yet made); a
        refusal kept here answers without Redis."""
        decision = self.local(key, budget, now)  # a lease of one is spent: only a refusal
        if decision is not None:
            return decision
        answer = await self._call(key, [now, budget.interval_ms, 1, 0], now)
        return self._keep(key, budget, now, *answer) if answer is not None else None

    async def _refresh(self, key: str, budget: Budget, now: int) -> Decision | None:
        if now < self._down_until:
            return None
        lease = self._leases.pop(key, None)
        refund = lease.refund_ms(budget, now) if lease is not None else 0
        args = [now, budget.interval_ms, lease_size(budget), refund]
        pending = self._pending[key] = asyncio.get_running_loop().create_future()
        answer = None
        try:
            answer = await self._call(key, args, now)
        finally:
            del self._pending[key]
            # Cancelled: the waiters ask again themselves; Redis down: they are allowed.
            pending.set_result(answer is not None or not self._down)
        if answer is None:
            return None
        return self._keep(key, budget, now, *answer)

    def _keep(
        self, key: str, budget: Budget, now: int, code: int, count: int, reset: int
    ) -> Decision:
        if len(self._leases) >= self._size:
            # Bounded; a lease dropped is a few requests of a key under-admitted for seconds.
            self._leases.clear()
        expires = now + self._ttl_ms
        if code == 0:
            self._leases[key] = Lease(0, now + reset, min(expires, now + count), now + count)
            return refused(budget, count, reset)
        self._leases[key] = Lease(count, now + reset, expires)
        return allowed(budget, reset + budget.interval_ms)

    async def _call(self, key: str, args: list[int], now: int) -> list[int] | None:
        if now < self._down_until:
            return None
        self.calls += 1
        try:
            code, count, reset = await self._script(keys=[f"lms:rate:{key}"], args=args)
        except Exception as exc:  # any failure of Redis fails open, never a 500
            self.failures += 1
            self._down_until = now + self._pause_ms
            if not self._down:
                self._down = True
                log.warning("rate limits off while Redis cannot be reached: %r", exc)
            return None
        if self._down:
            self._down = False
            log.warning("rate limits back: Redis answers again")
        return [int(code), int(count), int(reset)]
