-- wrk script: POST the JSON body given after `--`, its every `$n` replaced by a token unique
-- to this run, thread and request (so slugs, codes and user ids never collide), then print
-- the shared report.lua's RESULT line.
--   wrk ... -s bench/routes.lua URL -- '{"title":"Forum $n"}'
local bench_dir = os.getenv("BENCH_DIR") or "."
dofile(bench_dir .. "/report.lua")

local thread_no = 0
function setup(thread)
  thread_no = thread_no + 1
  thread:set("tid", thread_no)
end

local counter = 0
local run_id = os.getenv("RUN_ID") or string.format("%x", os.time())
local template = "{}"

function init(args)
  template = args[1] or template
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local unique = string.format("w%s-%d-%d", run_id, tid or 0, counter)
  local body = string.gsub(template, "%$n", unique)
  return wrk.format("POST", wrk.path, nil, body)
end
