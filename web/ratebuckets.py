"""The rate limiter's buckets: GCRA, in this process or in Redis (one round trip a request).

GCRA (the generic cell rate algorithm) is a token bucket kept as one number per key: the
theoretical arrival time (TAT) of the next request, in milliseconds. A budget of N a
minute lets N requests through at once, then one every 60/N s; nothing has to refill on
a timer, and a key whose TAT has passed is the same as no key, so it can expire (Redis)
or be dropped (memory) without changing any answer. Integer milliseconds: the same
arithmetic in Python and in Lua, exact in Lua's doubles.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass

from redis.asyncio import Redis

log = logging.getLogger(__name__)
WINDOW_MS = 60_000


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

    def blocked(self, key: str, budget: Budget, now: int) -> Decision | None:
        """Refused, if one more request on `key` would be; else None (nothing spent)."""
        tat = self._tats.get(key)
        if tat is None:
            return None
        wait = wait_ms(tat, now, budget)
        return refused(budget, wait, max(tat, now) - now) if wait > 0 else None


# KEYS[1]: the bucket; KEYS[2], optional: a guard bucket that must not be exhausted (the
# client address's failed authentications), read, never spent.
# ARGV: now, the bucket's interval, the guard's interval (ms). Answers {code, retry, reset}:
# 1 allowed, 0 refused, -1 refused by the guard (retry and reset are then the guard's).
GCRA_SCRIPT = """
local now = tonumber(ARGV[1])
local window = 60000
if #KEYS == 2 then
  local guard = tonumber(redis.call('GET', KEYS[2]) or 0)
  if guard < now then guard = now end
  local wait = guard + tonumber(ARGV[3]) - window - now
  if wait > 0 then return {-1, wait, guard - now} end
end
local interval = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or 0)
if tat < now then tat = now end
local wait = tat + interval - window - now
if wait > 0 then return {0, wait, tat - now} end
local new_tat = tat + interval
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
return {1, 0, new_tat - now}
"""


class RedisBuckets:
    """Buckets shared by every instance; one EVALSHA a request. Redis unreachable: every
    request is allowed (logged once an outage), and Redis is left alone for `pause_ms`."""

    def __init__(self, client: Redis, pause_ms: int = 5_000) -> None:
        self._script = client.register_script(GCRA_SCRIPT)
        self._pause_ms = pause_ms
        self._down_until = 0
        self._down = False
        self.failures = 0  # calls Redis did not answer (the benchmark checks for none)

    async def hit(
        self, key: str, budget: Budget, now: int, guard: tuple[str, Budget] | None = None
    ) -> Decision | None:
        """The decision; None when Redis could not answer (the caller allows)."""
        if now < self._down_until:
            return None
        keys = [f"lms:rate:{key}"]
        args = [now, budget.interval_ms, 0]
        if guard is not None:
            keys.append(f"lms:rate:{guard[0]}")
            args[2] = guard[1].interval_ms
        try:
            code, retry, reset = await self._script(keys=keys, args=args)
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
        if code == 1:
            return allowed(budget, int(reset))
        if code == 0:
            return refused(budget, int(retry), int(reset))
        assert guard is not None
        return refused(guard[1], int(retry), int(reset))
