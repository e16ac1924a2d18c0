-- Paced load for wrk: the connections together offer a fixed request rate (open loop while
-- the server keeps up), so two servers can be compared at the same offered load.
--
--   wrk -t1 -c64 -d10s --latency -s bench/paced.lua URL -- RATE [THREADS]
--
-- RATE is the total rate in requests a second; THREADS must match wrk's -t (default 1),
-- since each thread paces its own share. Each thread keeps an absolute schedule (one slot
-- every THREADS/RATE seconds); a connection ready to send takes the next slot and waits for
-- it through wrk's delay() hook. When every connection is busy a slot passes unserved and
-- the next request goes out late: `late` counts requests sent 10 ms or more after their
-- slot (then the latencies hide that queueing, as wrk does not correct for it).
--
-- Last line (the shared report.lua's fields, plus offered_rps and late):
--   RESULT offered_rps=.. rps=.. p50_ms=.. p90_ms=.. p99_ms=.. max_ms=.. requests=..
--          non2xx=.. sock_errors=.. late=..
-- Needs wrk built with LuaJIT (Debian's is): the clock comes from clock_gettime via ffi.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } paced_clock_t;
int clock_gettime(int clock_id, paced_clock_t *tp);
]])
local CLOCK_MONOTONIC = 1
local LATE_MS = 10
local clock = ffi.new("paced_clock_t")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

-- main state: the threads, to read their counters in done()
local threads = {}
local offered = 0

function setup(thread)
  table.insert(threads, thread)
end

-- thread state
interval_ms = nil
next_slot = nil
late = 0

function init(args)
  local rate = tonumber(args[1])
  local count = tonumber(args[2] or "1")
  if rate == nil or rate <= 0 then
    error("paced.lua: give the total rate after --, e.g. -- 350")
  end
  interval_ms = 1000 * count / rate
end

function delay()
  local now = now_ms()
  if next_slot == nil then
    next_slot = now
  end
  local wait = next_slot - now
  next_slot = next_slot + interval_ms
  if wait <= -LATE_MS then
    late = late + 1
  end
  if wait <= 0 then
    return 0
  end
  return wait
end

function done(summary, latency, requests)
  local late_total = 0
  for _, thread in ipairs(threads) do
    offered = offered + 1000 / thread:get("interval_ms")
    late_total = late_total + thread:get("late")
  end
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format(
    "RESULT offered_rps=%.1f rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f "
      .. "requests=%d non2xx=%d sock_errors=%d late=%d\n",
    offered, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    summary.requests, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout, late_total))
end
