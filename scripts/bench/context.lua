-- Resolves one real ctx token (captured from a redirect) over and over: verification is a pure
-- HMAC check, no store read. Env: BENCH_LUA_DIR, BENCH_CTX.
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
wrk.method = "GET"
wrk.path = "/v2/public/context?ctx=" .. os.getenv("BENCH_CTX")
done = common.done
