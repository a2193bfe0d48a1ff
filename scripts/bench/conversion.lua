-- Conversions with a real ctx and a unique idempotency key per request (run id, wrk thread,
-- counter): every request is a first submission, the exactly-once transaction's full cost.
-- Env: BENCH_LUA_DIR, BENCH_CTX, BENCH_RUN (unique per run).
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local ctx = os.getenv("BENCH_CTX")
local run = os.getenv("BENCH_RUN")
local next_thread = 0
local headers = { ["Content-Type"] = "application/json" }
local counter = 0

function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_id", next_thread)
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"ctx":"%s","idempotencyKey":"%s-%d-%d","eventType":"purchase","value":24.99,"currency":"USD"}',
    ctx, run, thread_id, counter)
  return wrk.format("POST", "/v2/public/conversions", headers, body)
end

done = common.done
