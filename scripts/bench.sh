#!/usr/bin/env bash
# The load benchmark of BENCHMARKS.md, in one command (loopback only, every run bounded in time).
#
#   scripts/bench.sh          # load: tenx serve vs nginx (the machine's limit), op counts, cost
#   scripts/bench.sh sizes    # stripped release sizes of every function binary + a hello world
#   scripts/bench.sh criterion  # cargo bench --bench hot_paths (the micro-benchmarks)
#   scripts/bench.sh coldstart  # init duration and peak RSS of every function vs a hello world
#   scripts/bench.sh all      # the runs of BENCHMARKS.md: load (with its profile), criterion, sizes, deliveries, coldstart
#   scripts/bench.sh profile [SCENARIO]   # perf profile of tenx under one load (redirect)
#   scripts/bench.sh deliveries   # webhook deliveries/s to a receiver on loopback answering 204
#   scripts/bench.sh ledger   # the ledger's scaling: reads and payout runs at 10^3 … 10^6 lines
#   scripts/bench.sh uploads  # issue 64: a 50 MB link export's upload staged on moto
#   scripts/bench.sh settle   # issue 58: the six kill -9 chaos runs (no faults, 5 %, 20 %; two
#                             # seeds each) with the server's own outbox settings, on moto
#                             # (BENCH_SETTLE_BACKEND=dynamodb-local: DynamoDB on DynamoDB Local)
#   scripts/bench.sh fuzz     # issue 75: the schema fuzzer's deeper run, 100 examples per operation
#                             # and phase (CI runs 20; FUZZ_MAX_EXAMPLES sets it)
#   scripts/bench.sh aws-all  # issue 75: every api test on the AWS backend (moto), the ones CI runs
#                             # on the embedded engine only included (tests/api/engines.toml)
#   scripts/bench.sh fsyncs A B   # the fsyncs a conversion costs, two builds in turn (strace)
#   scripts/bench.sh instructions A [B]  # instructions per redirect and conversion (callgrind),
#                             # each build's and nginx's `return` on the same routes
#   scripts/bench.sh compare A B  # two builds of tenx side by side in one run (the release and the
#                             # lambda-release profiles, or this commit against the one before):
#                             # the redirect, context and conversion runs of `load`, alternating
#                             # A, B, A, B (BENCH_ROUNDS, 3), each server pinned to core 0 and wrk to
#                             # core 1 (taskset), a fresh data dir each; the median of each side and
#                             # B/A (scripts/bench/compare.py; labels BENCH_A_LABEL, BENCH_B_LABEL)
#
# load: builds `tenx` with the workspace release profile, starts `tenx serve` on its durable
# embedded default (a fresh data dir, fsync on every commit) with operation counting on, seeds
# short links with the CLI's token and curl, and starts nginx (Debian's package) with a generated
# config whose locations answer `return 302` / `return 200` / `return 202` like the three
# routes. wrk (Debian's package) drives both servers with the same Lua scripts: redirects
# (cached links, a mix of User-Agents), context resolution (a real ctx), conversions (a real ctx,
# a unique idempotency key per request). Printed: requests/s, p50/p99 latency, peak RSS, the
# ratio to nginx, operations per request from the seam counters, and the cost per million on AWS
# (prices in scripts/bench/report.py). Raw results land in bench-out/.
#
# Knobs: BENCH_DURATION (10s), BENCH_THREADS (2), BENCH_CONNECTIONS (64),
# BENCH_LATENCY_CONNECTIONS (8: the conversion latency run), BENCH_PORT (18080, nginx: +1),
# BENCH_ONLY (a space-separated subset of: redirect context conversion conversion-c8 commission; the
# report then covers only those, and no profile is taken, so BENCHMARKS.md is always made from a
# full run), BENCH_TENX_BIN (a prebuilt tenx instead of building one). After each scenario's drain
# the server's resident memory is split by mapping (scripts/bench/memory.py); after the last, the
# same server is profiled under one more redirect load (perf; not a measured run).
#
# deliveries: starts `tenx serve` (fresh data dir, private endpoints allowed), subscribes
# BENCH_SUBSCRIPTIONS (8) endpoints of a receiver on loopback that answers 204 at once
# (scripts/bench/deliveries.py) to link.clicked, clicks a link BENCH_DELIVERY_EVENTS (2000)
# times and measures deliveries/s until every delivery arrived; fails unless every delivery
# verifies (Standard Webhooks) and no webhook-id arrived twice at an endpoint except by retry.
# BENCH_DELIVERY_CONCURRENCY / BENCH_DELIVERY_CONCURRENCY_PER_ENDPOINT set the worker's bounds
# (TENX_DELIVERY_CONCURRENCY*; 64 / 8 by default); BENCH_DELIVERY_CRASH=1 kills the server with
# SIGKILL halfway and restarts it on its data dir (every delivery must still arrive; a crashed
# attempt comes back after the queue's visibility timeout and the attempt's lease, ~90 s);
# BENCH_TENX_BIN applies here too. Builds honour CARGO_TARGET_DIR and cargo's
# CARGO_PROFILE_RELEASE_* variables (e.g. CARGO_PROFILE_RELEASE_LTO=false for a faster build).
#
# ledger (issue 43): for each size in BENCH_LEDGER_SIZES ("1000 10000 100000"; 1000000 too), a
# fresh data dir: a big partner whose ledger holds N lines and 20 small partners of 10 approved
# lines, created through the API and seeded with `tenx ledger seed` (the lines as the ledger
# stores them, running balances and indexes included; `tenx ledger check` must find no drift);
# then, with operation counting on, BENCH_LEDGER_SAMPLES (50) of each read (a small partner's
# balances, the funnel, filtered listing pages) and one payout run per small partner: latency
# median and p99 and the store operations per call. At the largest size >= 10^5 (or
# BENCH_LEDGER_BIG_PAYOUT), once: a payout run of the big partner (wall time, peak RSS, its
# statement's Merkle root, its mark-paid). Every size's server runs at once and the sizes take
# turns sample by sample. BENCH_LEDGER_BACKEND=aws runs it on DynamoDB, SQS and Kinesis on moto
# (scripts/moto_server.py, started here; moto's queries slow down with its table, so 10^3 and
# 10^4 with few samples: the operation counts, not the latency); BENCH_LEDGER_BACKEND=dynamodb-local
# puts DynamoDB on Amazon's DynamoDB Local (scripts/dynamodb_local.sh, Java 17) and the rest on moto. scripts/bench/ledger.py has the
# rest; results in bench-out/ledger-*.json.
#
# uploads (issue 64): an uploaded link export of BENCH_UPLOAD_MB (50) MB staged by the imports
# worker of `tenx serve --backend aws` on moto (started here, with a pid and log of its own):
# the wall time, the invocations it takes at the product's staging budget (60 s;
# BENCH_UPLOAD_STAGING_SECS), and the server's peak RSS. scripts/bench/uploads.py has the rest;
# results in bench-out/uploads.json. Not a CI run.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=${1:-load}
DURATION=${BENCH_DURATION:-10s}
THREADS=${BENCH_THREADS:-2}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
LATENCY_CONNECTIONS=${BENCH_LATENCY_CONNECTIONS:-8}
PORT=${BENCH_PORT:-18080}
NGINX_PORT=$((PORT + 1))
SLUGS=20
HANDLE=acme
OUT=bench-out
LUA_DIR=$PWD/scripts/bench

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# wrk and nginx from Debian's packages (installed when missing); curl and python3 for the rest.
ensure_tools() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
  command -v curl >/dev/null || missing+=(curl)
  command -v python3 >/dev/null || missing+=(python3)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing ${missing[*]} (apt-get)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
}

machine() {
  python3 - "$OUT/machine.json" <<'EOF'
import json, os, platform, re, subprocess, sys
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem_kb = int(re.search(r"MemTotal:\s+(\d+)", open("/proc/meminfo").read()).group(1))
info = {"nproc": os.cpu_count(), "cpu": cpu, "clkTck": os.sysconf("SC_CLK_TCK"), "memGiB": round(mem_kb / 1048576, 1),
        "kernel": platform.release(), "loadBefore": open("/proc/loadavg").read().split()[:3],
        "wrk": subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("\n")[0].strip(),
        "nginx": subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()}
json.dump(info, open(sys.argv[1], "w"))
print(f"machine: {info['nproc']} cores, {cpu}, {info['memGiB']} GiB, Linux {info['kernel']}, load {' '.join(info['loadBefore'])}")
EOF
}

# ---------------------------------------------------------------------------------------------
# load

TENX_BIN=${BENCH_TENX_BIN:-${CARGO_TARGET_DIR:-target}/release/tenx}
TENX_PID=
NGINX_PID=
WORK=

cleanup() {
  [ -n "$TENX_PID" ] && kill "$TENX_PID" 2>/dev/null && wait "$TENX_PID" 2>/dev/null
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
  [ -n "$WORK" ] && rm -rf "$WORK"
  return 0
}

# wait_http URL [TRIES] [PAUSE]: 100 tries 0.1 s apart unless told (a server under valgrind
# starts in tens of seconds).
wait_http() {
  for _ in $(seq 1 "${2:-100}"); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep "${3:-0.1}"
  done
  echo "server at $1 did not come up" >&2
  return 1
}

# Resets a process's peak RSS (VmHWM) so each run reports its own peak.
reset_peak() { for pid in "$@"; do echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || true; done; }
# Sum of VmHWM (kB) over the given pids.
peak_kb() {
  local total=0 kb
  for pid in "$@"; do
    kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}
nginx_pids() { echo "$NGINX_PID" $(pgrep -P "$NGINX_PID" || true); }

ops() { curl -fsS "http://127.0.0.1:$PORT/internal/ops"; }
# CPU time (user + system, in clock ticks) tenx has used so far, every thread.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$TENX_PID/stat"; }

start_nginx() {
  start_nginx_config
  "$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" -g 'daemon off;' &
  NGINX_PID=$!
  wait_http "http://127.0.0.1:$NGINX_PORT/v2/public/context"
}

start_nginx_config() {
  mkdir -p "$WORK/nginx/logs"
  # Same shapes as tenx's answers: a 302 with a Location, small JSON bodies for the API routes.
  cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  default_type application/json;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      add_header cache-control "private, no-cache, no-store, max-age=0, must-revalidate";
      return 302 https://example.com/product?ref=alpha&utm_source=newsletter&utm_medium=email;
    }
    location = /v2/public/context { return 200 '{"clickId":"clk_0","handle":"$HANDLE"}'; }
    location = /v2/public/conversions { return 202 '{"accepted":true,"deduped":false}'; }
  }
}
EOF
}

# How every measured server runs: operations counted, quiet logs, and the conversion limits
# lifted (every conversion lands on one handle, one ctx and one client address here).
SERVER_ENV=(env TENX_COUNT_OPS=1 TENX_LOG=warn TENX_RATE_LIMIT_CONVERSIONS=4000000000
  TENX_RATE_LIMIT_CONVERSIONS_PER_CLICK=4000000000 TENX_RATE_LIMIT_CONVERSIONS_PER_ADDRESS=4000000000)

start_tenx() {
  "${SERVER_ENV[@]}" "$TENX_BIN" serve --addr "127.0.0.1:$PORT" --data-dir "$WORK/data" &
  TENX_PID=$!
  wait_http "http://127.0.0.1:$PORT/healthz"
}

seed() {
  local jwt i
  jwt=$("$TENX_BIN" token --handle "$HANDLE" --role operator --data-dir "$WORK/data")
  for i in $(seq 0 $((SLUGS - 1))); do
    curl -fsS -o /dev/null -X PUT "http://127.0.0.1:$PORT/v2/handles/$HANDLE/links/l$i" \
      -H "authorization: Bearer $jwt" -H 'content-type: application/json' \
      -d '{"destinationUrl":"https://example.com/product?ref=alpha","title":"Link '"$i"'",
           "tracking":{"utmSource":"newsletter","utmMedium":"email","utmCampaign":"spring"},
           "routingRules":[
             {"priority":1,"destinationUrl":"https://example.com/de","conditions":{"countryIn":["DE","AT","CH"]}},
             {"priority":2,"destinationUrl":"https://example.com/app","conditions":{"deviceIn":["mobile"],"sourceIn":["instagram"]}},
             {"priority":3,"destinationUrl":"https://example.com/tablet","conditions":{"deviceIn":["tablet"]}}]}'
  done
  # Warm the link cache (as a live redirect function would be) and capture a real ctx.
  local location
  for i in $(seq 0 $((SLUGS - 1))); do
    location=$(curl -fsS -o /dev/null -w '%{redirect_url}' \
      -A 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1' \
      -H "host: $HANDLE.localhost:$PORT" "http://127.0.0.1:$PORT/l$i")
  done
  CTX=$(printf '%s' "$location" | sed -n 's/.*[?&]ctx=\([^&#]*\).*/\1/p')
  [ -n "$CTX" ] || { echo "no ctx in $location" >&2; return 1; }
  VIEWER_JWT=$jwt
  seed_commission "$jwt"
}

# A campaign with a partner and a CPA + revenue-share plan, its link clicked once for a ctx: the
# `commission` run's conversions each earn a commission line (the events worker's extra work).
seed_commission() {
  local jwt=$1 api="http://127.0.0.1:$PORT/v2/handles/$HANDLE" location
  local auth=(-H "authorization: Bearer $jwt" -H 'content-type: application/json')
  curl -fsS -o /dev/null -X POST "$api/partners" "${auth[@]}" \
    -d '{"partnerId":"alpha-media","name":"Alpha Media","email":"payouts@alpha-media.example"}'
  curl -fsS -o /dev/null -X POST "$api/campaigns" "${auth[@]}" \
    -d '{"campaignId":"partner-alpha","goalType":"AFFILIATE_CLICKOUT","status":"ACTIVE","partnerId":"alpha-media",
         "primaryLink":{"slug":"deal-alpha","destinationUrl":"https://example.com/product?ref=alpha"}}'
  curl -fsS -o /dev/null -X PUT "$api/campaigns/partner-alpha/commission-plan" "${auth[@]}" \
    -d '{"currency":"USD","rules":[{"eventType":"purchase","percent":"10"},{"eventType":"lead","flat":"2.50"}],"holdDays":30}'
  location=$(curl -fsS -o /dev/null -w '%{redirect_url}' \
    -A 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1' \
    -H "host: $HANDLE.localhost:$PORT" "http://127.0.0.1:$PORT/deal-alpha")
  CTX_COMMISSION=$(printf '%s' "$location" | sed -n 's/.*[?&]ctx=\([^&#]*\).*/\1/p')
  [ -n "$CTX_COMMISSION" ] || { echo "no ctx in $location" >&2; return 1; }
}

# run_wrk SERVER SCENARIO SCRIPT CONNECTIONS URL [CTX]
run_wrk() {
  local server=$1 scenario=$2 script=$3 conns=$4 url=$5 ctx=${6:-$CTX} pids
  if [ -n "${BENCH_ONLY:-}" ] && [[ " $BENCH_ONLY " != *" $scenario "* ]]; then return 0; fi
  if [ "$server" = tenx ]; then pids=$TENX_PID; else pids=$(nginx_pids); fi
  reset_peak $pids
  [ "$server" = tenx ] && ops >"$OUT/ops-$scenario-before.json" && cpu_ticks >"$OUT/cpu-$scenario-before.txt"
  BENCH_LUA_DIR=$LUA_DIR BENCH_HOST="$HANDLE.localhost:$PORT" BENCH_SLUGS=$SLUGS \
    BENCH_CTX=$ctx BENCH_RUN="r$(date +%s%N)" \
    wrk -t"$THREADS" -c"$conns" -d"$DURATION" --timeout 5s -s "$LUA_DIR/$script" "$url" \
    >"$OUT/wrk-$server-$scenario.txt"
  if [ "$server" = tenx ]; then
    ops >"$OUT/ops-$scenario-after.json"
    cpu_ticks >"$OUT/cpu-$scenario-after.txt"
    drain "$scenario"
  fi
  peak_kb $pids >"$OUT/rss-$server-$scenario.txt"
  [ "$server" = tenx ] && python3 scripts/bench/memory.py "$TENX_PID" "$OUT/memory-$scenario.json"
  grep '^BENCH' "$OUT/wrk-$server-$scenario.txt" | sed 's/^BENCH //' >"$OUT/wrk-$server-$scenario.json"
  python3 - "$OUT/wrk-$server-$scenario.json" "$server" "$scenario" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
print("  %5s %-16s %10.0f req/s  p50 %.2f ms  p99 %.2f ms  errors %s" % (sys.argv[2], sys.argv[3],
      r["rps"], r["p50Us"] / 1000, r["p99Us"] / 1000, sum(r["errors"].values())))
EOF
}

# Waits (at most 300 s) until the background consumers have processed every enqueued event and
# read back every record appended to the stream (clicks, conversions, commission events), the
# funnel counts every click, and nothing moved for a poll, so the next run starts quiet and the
# background operations per event can be counted.
drain() {
  local scenario=$1 start=$SECONDS
  rm -f "$WORK/ops-before.json"
  while [ $((SECONDS - start)) -lt 300 ]; do
    ops >"$WORK/ops-now.json"
    curl -fsS "http://127.0.0.1:$PORT/v2/handles/$HANDLE/analytics?funnel=true" \
      -H "authorization: Bearer $VIEWER_JWT" >"$WORK/funnel-now.json" || true
    if python3 scripts/bench/drained.py "$WORK/ops-now.json" "$WORK/funnel-now.json" "$WORK/ops-before.json"; then
      break
    fi
    cp "$WORK/ops-now.json" "$WORK/ops-before.json"
    sleep 1
  done
  echo $((SECONDS - start)) >"$OUT/drain-$scenario.txt"
  ops >"$OUT/ops-$scenario-drained.json"
}

load() {
  ensure_tools
  build_tenx
  rm -rf "$OUT" && mkdir -p "$OUT"
  machine
  WORK=$(mktemp -d /tmp/tenx-bench.XXXXXX)
  trap cleanup EXIT
  start_tenx
  start_nginx
  seed
  echo "== wrk: $THREADS threads, $CONNECTIONS connections, $DURATION per run (loopback)"
  run_wrk nginx redirect redirect.lua "$CONNECTIONS" "http://127.0.0.1:$NGINX_PORT/"
  run_wrk tenx redirect redirect.lua "$CONNECTIONS" "http://127.0.0.1:$PORT/"
  run_wrk nginx context context.lua "$CONNECTIONS" "http://127.0.0.1:$NGINX_PORT/"
  run_wrk tenx context context.lua "$CONNECTIONS" "http://127.0.0.1:$PORT/"
  run_wrk nginx conversion conversion.lua "$CONNECTIONS" "http://127.0.0.1:$NGINX_PORT/"
  run_wrk tenx conversion conversion.lua "$CONNECTIONS" "http://127.0.0.1:$PORT/"
  run_wrk nginx conversion-c$LATENCY_CONNECTIONS conversion.lua "$LATENCY_CONNECTIONS" "http://127.0.0.1:$NGINX_PORT/"
  run_wrk tenx conversion-c$LATENCY_CONNECTIONS conversion.lua "$LATENCY_CONNECTIONS" "http://127.0.0.1:$PORT/"
  # The same conversions on a campaign with a commission plan: what a commission adds.
  run_wrk tenx commission conversion.lua "$CONNECTIONS" "http://127.0.0.1:$PORT/" "$CTX_COMMISSION"
  # End to end: every click and conversion the server accepted reached the analytics counters.
  curl -fsS "http://127.0.0.1:$PORT/v2/handles/$HANDLE/analytics?funnel=true" \
    -H "authorization: Bearer $VIEWER_JWT" >"$OUT/funnel.json"
  cut -d' ' -f1-3 /proc/loadavg >"$OUT/load-after.txt"
  # The same server, after its measured runs: where a redirect's CPU goes.
  [ -n "${BENCH_ONLY:-}" ] || profile_run redirect
  python3 scripts/bench/report.py "$OUT" | tee "$OUT/report.md"
  stop_servers
}

# Stops what a mode started (so `all` can run the next one on the same ports).
stop_servers() {
  cleanup
  TENX_PID= NGINX_PID= WORK=
}

# ---------------------------------------------------------------------------------------------
# profile: where tenx's CPU goes under one load (perf, call graphs). The load's build keeps its
# symbols (line tables only: the same machine code), so `load` profiles the very server it
# measured, after its measured runs, and `profile` alone starts a fresh one.

build_tenx() {
  if [ -n "${BENCH_TENX_BIN:-}" ]; then echo "== using $TENX_BIN"; return 0; fi
  echo "== building tenx (workspace release profile, symbols kept for the profile)"
  CARGO_PROFILE_RELEASE_STRIP=false CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
    cargo build --release -p tenx --bin tenx
}

profile() {
  ensure_tools
  build_tenx
  mkdir -p "$OUT"
  WORK=$(mktemp -d /tmp/tenx-bench.XXXXXX)
  trap cleanup EXIT
  start_tenx
  seed
  profile_run "${1:-redirect}"
  stop_servers
}

# Per-thread CPU (ticks) of tenx, to split request handling from the writer threads and the
# background consumers.
thread_cpu() {
  for t in /proc/"$TENX_PID"/task/*; do
    printf '%s %s %s\n' "$(basename "$t")" "$(tr ' ' '_' <"$t/comm")" "$(awk '{print $14 + $15}' "$t/stat")"
  done | sort
}

# profile_run SCENARIO: a 10 s load on the running server under perf (not one of the measured
# runs: the profiler's unwinding slows the server), then the inclusive share per function.
profile_run() {
  local scenario=$1 script conns=$CONNECTIONS
  case "$scenario" in
    redirect) script=redirect.lua ;;
    context) script=context.lua ;;
    conversion) script=conversion.lua ;;
    conversion-c*) script=conversion.lua; conns=${scenario#conversion-c} ;;
    *) echo "unknown scenario $scenario" >&2; exit 2 ;;
  esac
  command -v perf >/dev/null || { as_root apt-get install -y -qq linux-perf >/dev/null; }
  thread_cpu >"$OUT/threads-before.txt"
  perf record -F 999 -e cpu-clock -g --call-graph dwarf,16384 -p "$TENX_PID" -o "$OUT/perf.data" -- sleep 12 \
    >/dev/null 2>&1 &
  local perf_pid=$!
  sleep 1
  echo "== profile: $scenario under perf (10 s, not measured)"
  BENCH_LUA_DIR=$LUA_DIR BENCH_HOST="$HANDLE.localhost:$PORT" BENCH_SLUGS=$SLUGS \
    BENCH_CTX=$CTX BENCH_RUN="p$(date +%s%N)" \
    wrk -t"$THREADS" -c"$conns" -d10s --timeout 5s -s "$LUA_DIR/$script" "http://127.0.0.1:$PORT/" \
    | grep -v '^BENCH' >"$OUT/wrk-profile-$scenario.txt"
  thread_cpu >"$OUT/threads-after.txt"
  wait "$perf_pid" || true
  join "$OUT/threads-before.txt" "$OUT/threads-after.txt" \
    | awk '{cpu[$2] += $5 - $3} END {for (n in cpu) printf "%-24s %6d\n", n, cpu[n]}' | sort -k2 -nr \
    >"$OUT/threads-$scenario.txt"
  # Inclusive time per function (what each part of the server costs, callees included).
  perf report -i "$OUT/perf.data" --children --sort comm,symbol --stdio -g none --percent-limit 1.5 \
    2>/dev/null | grep '%' | grep -v '(inlined)' | sed 's/ *- *- *$//; s/ *$//' \
    >"$OUT/profile-$scenario.txt" || true
  # Self time per function (where the instructions themselves run, callees apart).
  perf report -i "$OUT/perf.data" --no-children --sort comm,dso,symbol --stdio -g none --percent-limit 0.4 \
    2>/dev/null | grep '%' | sed 's/ *$//' >"$OUT/profile-$scenario-self.txt" || true
  rm -f "$OUT/perf.data"
  echo "== CPU ticks per thread: $OUT/threads-$scenario.txt; inclusive samples: $OUT/profile-$scenario.txt; self: $OUT/profile-$scenario-self.txt"
}

# ---------------------------------------------------------------------------------------------
# deliveries: webhook delivery throughput (see the header).

# Writes $WORK/serve.sh, which starts `tenx serve` for the deliveries part on $WORK/data (its
# pid in $WORK/tenx.pid) and waits until it answers: run at the start and again after a crash.
write_delivery_server() {
  cat >"$WORK/serve.sh" <<EOF
#!/usr/bin/env bash
TENX_LOG=warn TENX_WEBHOOKS_ALLOW_PRIVATE=true \\
  TENX_DELIVERY_CONCURRENCY=${BENCH_DELIVERY_CONCURRENCY:-64} \\
  TENX_DELIVERY_CONCURRENCY_PER_ENDPOINT=${BENCH_DELIVERY_CONCURRENCY_PER_ENDPOINT:-8} \\
  "$TENX_BIN" serve --addr "127.0.0.1:$PORT" --data-dir "$WORK/data" &
echo \$! >"$WORK/tenx.pid"
for _ in \$(seq 1 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && exit 0
  sleep 0.1
done
echo "tenx did not come up" >&2
exit 1
EOF
  chmod +x "$WORK/serve.sh"
}

# Stops the deliveries part's server (not a child of this shell once restarted).
stop_delivery_server() {
  local pid
  pid=$(cat "$WORK/tenx.pid")
  kill "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

deliveries() {
  local jwt label=${BENCH_DELIVERY_LABEL:-c${BENCH_DELIVERY_CONCURRENCY:-64}}
  command -v python3 >/dev/null && command -v curl >/dev/null || { echo "needs python3 and curl" >&2; exit 1; }
  if [ -z "${BENCH_TENX_BIN:-}" ]; then
    echo "== building tenx (release profile${CARGO_PROFILE_RELEASE_LTO:+, lto=$CARGO_PROFILE_RELEASE_LTO})"
    cargo build --release -p tenx --bin tenx
  fi
  mkdir -p "$OUT"
  WORK=$(mktemp -d /tmp/tenx-bench.XXXXXX)
  trap cleanup EXIT
  echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); tenx: $TENX_BIN ($label)"
  write_delivery_server
  "$WORK/serve.sh"
  jwt=$("$TENX_BIN" token --handle "$HANDLE" --role operator --data-dir "$WORK/data")
  local crash=
  if [ "${BENCH_DELIVERY_CRASH:-0}" = 1 ]; then
    crash="kill -9 \$(cat $WORK/tenx.pid) && sleep 0.5 && $WORK/serve.sh"
  fi
  BENCH_CRASH_CMD=$crash BENCH_CRASH_DUPLICATES_MAX=${BENCH_DELIVERY_CONCURRENCY:-64} \
    python3 scripts/bench/deliveries.py "http://127.0.0.1:$PORT" "$HANDLE.localhost:$PORT" \
    "$jwt" "$OUT/deliveries-$label.json" || { stop_delivery_server; exit 1; }
  echo "  tenx peak RSS: $(($(peak_kb "$(cat "$WORK/tenx.pid")") / 1024)) MiB"
  stop_delivery_server
  stop_servers
}

# ---------------------------------------------------------------------------------------------
# criterion: the micro-benchmarks of the hot paths, their summary lines kept in bench-out/.

criterion() {
  mkdir -p "$OUT"
  cargo bench --bench hot_paths -- --noplot | tee "$OUT/criterion.txt" | grep -E '^[a-z_]+/|time:'
}

# ---------------------------------------------------------------------------------------------
# sizes

sizes() {
  local functions=() bin
  for dir in functions/*/; do functions+=(-p "fn-$(basename "$dir")"); done
  echo "== building $((${#functions[@]} / 2)) functions (the lambda-release profile they ship with; long on 2 cores)"
  cargo build --profile lambda-release "${functions[@]}"
  echo "== building the lambda_http hello world (same profile)"
  cargo build --release --manifest-path benches/hello-lambda/Cargo.toml --target-dir target/hello-lambda
  mkdir -p "$OUT"
  {
    echo "| binary | stripped size |"
    echo "|---|---:|"
    for dir in functions/*/; do
      bin=$(sed -n 's/^name = "\(.*\)"/\1/p' "$dir/Cargo.toml" | tail -1)
      size_row "$bin" "target/lambda-release/$bin"
    done
    size_row "hello-lambda (lambda_http hello world)" target/hello-lambda/release/hello-lambda
  } | tee "$OUT/sizes.md"
}

# The release profile already strips; strip a copy anyway so the number is the stripped size
# whatever the profile says.
size_row() {
  local tmp
  tmp=$(mktemp)
  cp "$2" "$tmp" && strip "$tmp"
  printf '| %s | %s |\n' "$1" "$(python3 -c 'import os,sys; print(f"{os.path.getsize(sys.argv[1])/1048576:.2f} MiB")' "$tmp")"
  rm -f "$tmp"
}

# ---------------------------------------------------------------------------------------------
# coldstart

# Init duration of every function next to a lambda_http hello world, all built with the CI
# profile of scripts/lambda_build.sh (release, lto=false, codegen-units=16), started through the
# Runtime API emulator of scripts/bench/coldstart.py. Knob: BENCH_COLDSTART_RUNS (15).
coldstart() {
  local functions=() args=() bin
  export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
  for dir in functions/*/; do functions+=(-p "fn-$(basename "$dir")"); done
  echo "== building $((${#functions[@]} / 2)) functions and the hello world (lto=false, codegen-units=16)"
  cargo build --release --target-dir target/coldstart "${functions[@]}"
  # The hello world linked as the functions are (functions/link.rs: -no-pie), for reference;
  # then as cargo links it by default (PIE), the baseline of the ratios.
  cargo rustc --release --manifest-path benches/hello-lambda/Cargo.toml --target-dir target/coldstart \
    -- -C link-arg=-no-pie
  cp target/coldstart/release/hello-lambda target/coldstart/release/hello-lambda-no-pie
  cargo build --release --manifest-path benches/hello-lambda/Cargo.toml --target-dir target/coldstart
  args=("hello-lambda=target/coldstart/release/hello-lambda")
  for dir in functions/*/; do
    bin=$(sed -n 's/^name = "\(.*\)"/\1/p' "$dir/Cargo.toml" | tail -1)
    args+=("$bin=target/coldstart/release/$bin")
  done
  args+=("hello-lambda-no-pie=target/coldstart/release/hello-lambda-no-pie")
  mkdir -p "$OUT"
  python3 scripts/bench/coldstart.py "${BENCH_COLDSTART_RUNS:-15}" "${args[@]}" | tee "$OUT/coldstart.md"
}

# ---------------------------------------------------------------------------------------------
# ledger: the scaling benchmark of the commission ledger (see the header).

ledger() {
  command -v python3 >/dev/null || { echo "needs python3" >&2; exit 1; }
  if [ -z "${BENCH_TENX_BIN:-}" ]; then
    echo "== building tenx (release profile${CARGO_PROFILE_RELEASE_LTO:+, lto=$CARGO_PROFILE_RELEASE_LTO})"
    cargo build --release -p tenx --bin tenx
  fi
  mkdir -p "$OUT"
  echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); tenx: $TENX_BIN"
  case "${BENCH_LEDGER_BACKEND:-embedded}" in embedded|aws|dynamodb-local) ;;
    *) echo "BENCH_LEDGER_BACKEND: embedded, aws (moto) or dynamodb-local" >&2; exit 2 ;; esac
  if [ "${BENCH_LEDGER_BACKEND:-embedded}" != embedded ]; then
    # moto as scripts/moto.sh starts it, but with a pid and log of its own (.venv/moto.pid is
    # the test command's).
    scripts/moto.sh --install
    local port
    port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    .venv/bin/python scripts/moto_server.py 127.0.0.1 "$port" >"$OUT/ledger-moto.log" 2>&1 &
    LEDGER_MOTO_PID=$!
    trap 'kill "$LEDGER_MOTO_PID" 2>/dev/null || true' EXIT
    wait_http "http://127.0.0.1:$port/moto-api/"
    export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
      AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
    echo "== moto at $AWS_ENDPOINT_URL"
  fi
  if [ "${BENCH_LEDGER_BACKEND:-embedded}" = dynamodb-local ]; then
    # DynamoDB on DynamoDB Local (Java), the queues and the stream on moto.
    eval "$(scripts/dynamodb_local.sh)"
    LEDGER_DDB_PID=$(cat .venv/dynamodb-local.pid)
    trap 'kill "$LEDGER_MOTO_PID" "$LEDGER_DDB_PID" 2>/dev/null || true' EXIT
    echo "== DynamoDB Local at $AWS_ENDPOINT_URL_DYNAMODB"
  fi
  python3 scripts/bench/ledger.py "$TENX_BIN" "$OUT" | tee "$OUT/ledger-${BENCH_LEDGER_BACKEND:-embedded}.md"
}

uploads() {
  if [ -z "${BENCH_TENX_BIN:-}" ]; then
    echo "== building tenx (release profile${CARGO_PROFILE_RELEASE_LTO:+, lto=$CARGO_PROFILE_RELEASE_LTO})"
    cargo build --release -p tenx --bin tenx
  fi
  mkdir -p "$OUT"
  scripts/moto.sh --install
  local port
  port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  # moto as scripts/moto.sh starts it, with a pid and log of its own (.venv/moto.pid is the tests').
  .venv/bin/python scripts/moto_server.py 127.0.0.1 "$port" >"$OUT/uploads-moto.log" 2>&1 &
  UPLOADS_MOTO_PID=$!
  trap 'kill "$UPLOADS_MOTO_PID" 2>/dev/null || true' EXIT
  wait_http "http://127.0.0.1:$port/moto-api/"
  echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); tenx: $TENX_BIN; moto at 127.0.0.1:$port"
  AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
    AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
    python3 scripts/bench/uploads.py "$TENX_BIN" "$OUT" | tee "$OUT/uploads.md"
}

# The backtest at 10^3 and 10^5 conversions (issue 47): scripts/bench/backtest.py.
backtest() {
  if [ -z "${BENCH_TENX_BIN:-}" ]; then
    cargo build --release -p tenx --bin tenx
  fi
  mkdir -p "$OUT"
  echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); tenx: $TENX_BIN"
  python3 scripts/bench/backtest.py "$TENX_BIN" "$OUT" | tee "$OUT/backtest-embedded.md"
}

# settle: every chaos_clicks run, the ignored second seeds included, one at a time (as CI runs
# its three), and the drain of a 1,000-event backlog, on moto or with DynamoDB on DynamoDB
# Local; each run prints how long after the restart that ends its fault window the clicks,
# conversions and webhooks settled, and the drain how long its events and webhooks took.
settle() {
  case "${BENCH_SETTLE_BACKEND:-aws}" in aws|dynamodb-local) ;;
    *) echo "BENCH_SETTLE_BACKEND: aws (moto) or dynamodb-local" >&2; exit 2 ;; esac
  mkdir -p "$OUT"
  scripts/moto.sh --install
  # Two motos, as CI's chaos stage has them: the chaos runs put DynamoDB on the first and SQS
  # and Kinesis on the second (tests/api/chaos.rs, chaos_upstreams).
  eval "$(TENX_MOTO_SERVERS=2 scripts/moto.sh)"
  trap 'kill $(cat .venv/moto.pid) 2>/dev/null || true' EXIT
  if [ "${BENCH_SETTLE_BACKEND:-aws}" = dynamodb-local ]; then
    # DynamoDB on DynamoDB Local; SQS and Kinesis on moto. The fault proxy sends DynamoDB's
    # calls to DynamoDB Local, so the faults reach all three services in this variant too.
    eval "$(scripts/dynamodb_local.sh)"
    trap 'kill $(cat .venv/moto.pid) $(cat .venv/dynamodb-local.pid) 2>/dev/null || true' EXIT
  fi
  echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); backend ${BENCH_SETTLE_BACKEND:-aws}"
  TENX_TEST_BACKEND=aws TENX_CHAOS_CONVERT_EVERY=1 cargo nextest run --profile ci --all-features --run-ignored all \
    --test-threads 1 --no-capture \
    -E 'binary(api) & (test(/^chaos_clicks::/) | test(/^backlog::a_backlog_of_1000/))' 2>&1 |
    tee "$OUT/settle-${BENCH_SETTLE_BACKEND:-aws}.log" | grep -E '^seed [0-9]+, rate|^drain of|PASS|FAIL'
}

# The schema fuzzer at the size CI ran before issue 75 and beyond: 100 examples per operation and
# phase (about 7,000 requests; CI runs 20). The debug build of tenx unless TENX_BIN names one.
fuzz() {
  mkdir -p "$OUT"
  scripts/fuzz.sh --install
  FUZZ_MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-100} scripts/fuzz.sh 2>&1 | tee "$OUT/fuzz.log"
}

# Every api test on the AWS backend (two motos, as CI), the ones tests/api/engines.toml runs on
# the embedded engine only included: what CI's end-to-end stage on moto ran before issue 75
# (the chaos runs are `settle`'s). The tests' own tools (SMTP, DNS, OIDC, the SEPA schema) as CI.
aws_all() {
  mkdir -p "$OUT"
  scripts/moto.sh --install
  scripts/smtp_server.sh --install && eval "$(scripts/smtp_server.sh)"
  scripts/dns_server.sh --install && eval "$(scripts/dns_server.sh)"
  scripts/oidc_provider.sh --install
  scripts/sepa_schema.sh --install && eval "$(scripts/sepa_schema.sh)"
  eval "$(TENX_MOTO_SERVERS=2 scripts/moto.sh)"
  trap 'kill $(cat .venv/moto.pid) 2>/dev/null || true' EXIT
  TENX_TEST_BACKEND=aws cargo nextest run --profile ci --all-features \
    -E 'binary(api) & not test(/^chaos/)' 2>&1 | tee "$OUT/aws-all.log"
}

# Two builds, one run: each scenario alternates between them round by round, so a drift of the
# machine (another process, the CPU's clock) falls on both. Both servers live for the whole run,
# one at a time under load; after each run its server drains (the consumers' backlog) before the
# other's run starts.
compare() {
  local a=$1 b=$2 round scenario side
  [ -x "$a" ] && [ -x "$b" ] || { echo "usage: $0 compare BIN_A BIN_B (two tenx binaries)" >&2; exit 2; }
  ensure_tools
  OUT=${BENCH_OUT:-bench-out}/compare
  rm -rf "$OUT" && mkdir -p "$OUT"
  machine
  local pin_server=() pin_wrk=()
  if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then pin_server=(taskset -c 0); pin_wrk=(taskset -c 1); fi
  declare -A bin=([a]=$a [b]=$b) port=([a]=$PORT [b]=$((PORT + 2))) work ctx jwt
  COMPARE_PIDS=""
  for side in a b; do
    work[$side]=$(mktemp -d /tmp/tenx-compare.XXXXXX)
    "${SERVER_ENV[@]}" "${pin_server[@]}" "${bin[$side]}" serve --addr "127.0.0.1:${port[$side]}" --data-dir "${work[$side]}/data" &
    COMPARE_PIDS+=" $!"
  done
  # nginx answering the same routes with `return`, pinned like the servers (one worker on core 0):
  # the redirect's and the context's ratio to it, measured the way issue 80 asks.
  work[n]=$(mktemp -d /tmp/tenx-compare.XXXXXX)
  WORK=${work[n]} NGINX_PORT=$((PORT + 4))
  start_nginx_config
  sed -i 's/^worker_processes auto;/worker_processes 1;/' "$WORK/nginx/nginx.conf"
  "${pin_server[@]}" "$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" -g 'daemon off;' &
  COMPARE_PIDS+=" $!"
  wait_http "http://127.0.0.1:$NGINX_PORT/v2/public/context"
  COMPARE_WORK="${work[a]} ${work[b]} ${work[n]}"
  # Globals: the trap runs after this function's locals are gone.
  trap 'kill $COMPARE_PIDS 2>/dev/null; wait $COMPARE_PIDS 2>/dev/null; rm -rf $COMPARE_WORK' EXIT
  for side in a b; do
    TENX_BIN=${bin[$side]} PORT=${port[$side]} WORK=${work[$side]}
    wait_http "http://127.0.0.1:$PORT/healthz"
    seed
    ctx[$side]=$CTX jwt[$side]=$VIEWER_JWT
  done
  echo "== compare: A ${BENCH_A_LABEL:-$a}, B ${BENCH_B_LABEL:-$b}; wrk $THREADS threads, $DURATION per run, ${BENCH_ROUNDS:-3} rounds"
  for scenario in redirect context conversion "conversion-c$LATENCY_CONNECTIONS"; do
    local script=${scenario%%-*}.lua conns=$CONNECTIONS
    [ "$scenario" = "conversion-c$LATENCY_CONNECTIONS" ] && conns=$LATENCY_CONNECTIONS
    for round in $(seq 1 "${BENCH_ROUNDS:-3}"); do
      for side in a b; do
        PORT=${port[$side]} VIEWER_JWT=${jwt[$side]} WORK=${work[$side]}
        BENCH_LUA_DIR=$LUA_DIR BENCH_HOST="$HANDLE.localhost:$PORT" BENCH_SLUGS=$SLUGS \
          BENCH_CTX=${ctx[$side]} BENCH_RUN="r$(date +%s%N)" \
          "${pin_wrk[@]}" wrk -t"$THREADS" -c"$conns" -d"$DURATION" --timeout 5s -s "$LUA_DIR/$script" \
          "http://127.0.0.1:$PORT/" | grep '^BENCH' | sed 's/^BENCH //' >"$OUT/$side-$scenario-$round.json"
        drain "$scenario" >/dev/null
      done
      if [ "$scenario" = redirect ] || [ "$scenario" = context ]; then
        BENCH_LUA_DIR=$LUA_DIR BENCH_HOST="$HANDLE.localhost:$NGINX_PORT" BENCH_SLUGS=$SLUGS \
          BENCH_CTX=${ctx[a]} BENCH_RUN="r$(date +%s%N)" \
          "${pin_wrk[@]}" wrk -t"$THREADS" -c"$conns" -d"$DURATION" --timeout 5s -s "$LUA_DIR/$script" \
          "http://127.0.0.1:$NGINX_PORT/" | grep '^BENCH' | sed 's/^BENCH //' >"$OUT/n-$scenario-$round.json"
      fi
    done
  done
  python3 scripts/bench/compare.py "$OUT" "${BENCH_A_LABEL:-A}" "${BENCH_B_LABEL:-B}" | tee "$OUT/report.md"
  kill $COMPARE_PIDS 2>/dev/null; wait $COMPARE_PIDS 2>/dev/null || true
}

# fsyncs A B: the fsyncs one conversion costs, each build in turn on a fresh data dir under
# strace (which counts every fsync/fdatasync of every thread; it slows the server, so no latency
# is read here). BENCH_FSYNC_CONVERSIONS (200) conversions one at a time, then as many again 8 at a
# time, each followed by a drain (the events worker's writes counted too).
fsyncs() {
  local a=$1 b=$2 side n=${BENCH_FSYNC_CONVERSIONS:-200}
  [ -x "$a" ] && [ -x "$b" ] || { echo "usage: $0 fsyncs BIN_A BIN_B (two tenx binaries)" >&2; exit 2; }
  command -v strace >/dev/null || { echo "fsyncs needs strace (Debian's package)" >&2; exit 2; }
  OUT=${BENCH_OUT:-bench-out}/fsyncs
  rm -rf "$OUT" && mkdir -p "$OUT"
  trap cleanup EXIT
  for side in a b; do
    TENX_BIN=$([ $side = a ] && echo "$a" || echo "$b")
    WORK=$(mktemp -d /tmp/tenx-fsyncs.XXXXXX)
    "${SERVER_ENV[@]}" strace -f -qq -e trace=fsync,fdatasync -o "$OUT/strace-$side.txt" \
      "$TENX_BIN" serve --addr "127.0.0.1:$PORT" --data-dir "$WORK/data" &
    TENX_PID=$!
    wait_http "http://127.0.0.1:$PORT/healthz"
    seed
    drain seed >/dev/null
    local before sequential concurrent
    before=$(grep -c 'f\(data\)\?sync(' "$OUT/strace-$side.txt" || true)
    seq 1 "$n" | xargs -I{} curl -fsS -o /dev/null -X POST "http://127.0.0.1:$PORT/v2/public/conversions" \
      -H 'content-type: application/json' \
      -d '{"ctx":"'"$CTX"'","idempotencyKey":"seq-{}","eventType":"purchase","value":24.99,"currency":"USD"}'
    drain sequential >/dev/null
    sequential=$(grep -c 'f\(data\)\?sync(' "$OUT/strace-$side.txt" || true)
    seq 1 "$n" | xargs -P 8 -I{} curl -fsS -o /dev/null -X POST "http://127.0.0.1:$PORT/v2/public/conversions" \
      -H 'content-type: application/json' \
      -d '{"ctx":"'"$CTX"'","idempotencyKey":"par-{}","eventType":"purchase","value":24.99,"currency":"USD"}'
    drain concurrent >/dev/null
    concurrent=$(grep -c 'f\(data\)\?sync(' "$OUT/strace-$side.txt" || true)
    # The server, not strace (which outlives a signal to itself): strace ends with it.
    pkill -P "$TENX_PID" 2>/dev/null; wait "$TENX_PID" 2>/dev/null || true
    TENX_PID=
    rm -rf "$WORK"; WORK=
    python3 -c 'import sys; n, b, s, c = map(int, sys.argv[2:]); print("%s: %.2f fsyncs per conversion one at a time, %.2f eight at a time (%d conversions each, the events worker included)" % (sys.argv[1], (s - b) / n, (c - s) / n, n))' \
      "$side ($TENX_BIN)" "$n" "$before" "$sequential" "$concurrent" | tee -a "$OUT/report.txt"
  done
}

# instructions A [B]: instructions per request, counted by valgrind's callgrind (every thread,
# the background consumers' work for the requests included: counted until the drain), for each
# build and for nginx answering the same routes with `return`. Counts, not seconds: repeatable
# on a busy machine. BENCH_INSTR_REQUESTS (300) requests per scenario, one at a time (curl).
instructions() {
  local n=${BENCH_INSTR_REQUESTS:-300} label bin scenario
  [ -x "${1:-}" ] || { echo "usage: $0 instructions BIN_A [BIN_B] (tenx binaries)" >&2; exit 2; }
  command -v valgrind >/dev/null && command -v callgrind_control >/dev/null ||
    { echo "instructions needs valgrind (Debian's package)" >&2; exit 2; }
  ensure_tools
  OUT=${BENCH_OUT:-bench-out}/instructions
  rm -rf "$OUT" && mkdir -p "$OUT"
  trap cleanup EXIT
  local redirect_url conversion_body
  for label in nginx a b; do
    case $label in
      nginx) bin=$NGINX ;;
      a) bin=$1 ;;
      b) bin=${2:-}; [ -n "$bin" ] || continue ;;
    esac
    WORK=$(mktemp -d /tmp/tenx-instr.XXXXXX)
    local cg=(valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind-$label.%p" --dump-line=no)
    if [ "$label" = nginx ]; then
      start_nginx_under "${cg[@]}"
      TARGET_PID=$NGINX_PID TARGET_PORT=$NGINX_PORT CTX=unused
    else
      TENX_BIN=$bin
      "${SERVER_ENV[@]}" "${cg[@]}" "$TENX_BIN" serve --addr "127.0.0.1:$PORT" --data-dir "$WORK/data" 2>"$OUT/valgrind-$label.log" &
      TENX_PID=$!
      wait_http "http://127.0.0.1:$PORT/healthz" 600 0.5
      seed
      drain seed >/dev/null
      TARGET_PID=$TENX_PID TARGET_PORT=$PORT
    fi
    # What the server does with no request (its timers, sweeps and polls), per second, is taken
    # out of each scenario's count for the time the scenario took under valgrind.
    for scenario in idle redirect conversion; do
      callgrind_control --zero "$TARGET_PID" >/dev/null 2>&1
      local i began ended
      began=$(date +%s.%N)
      for i in $(seq 1 "$n"); do
        case $scenario in
          idle) sleep 10; break ;;
          redirect) curl -fsS -o /dev/null -A 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1' \
            -H "host: $HANDLE.localhost:$TARGET_PORT" "http://127.0.0.1:$TARGET_PORT/l$((i % SLUGS))" ;;
          conversion) curl -fsS -o /dev/null -X POST "http://127.0.0.1:$TARGET_PORT/v2/public/conversions" -H 'content-type: application/json' \
            -d '{"ctx":"'"$CTX"'","idempotencyKey":"i-'"$i"'","eventType":"purchase","value":24.99,"currency":"USD"}' ;;
        esac
      done
      [ "$label" = nginx ] || [ "$scenario" = idle ] || drain "$scenario" >/dev/null
      ended=$(date +%s.%N)
      callgrind_control --dump="$scenario" "$TARGET_PID" >/dev/null 2>&1
      python3 - "$OUT" "$label" "$scenario" "$n" "$TARGET_PID" "$began" "$ended" <<'PY' | tee -a "$OUT/report.txt"
import glob, json, os, re, sys
out, label, scenario, n, pid, began, ended = sys.argv[1:8]
n, seconds = int(n), float(ended) - float(began)
dumps = sorted(glob.glob(os.path.join(out, "callgrind-%s.%s.*" % (label, pid))), key=os.path.getmtime)
total = int(re.search(r"^(?:summary|totals): (\d+)", open(dumps[-1]).read(), re.M).group(1))
idle_file = os.path.join(out, "idle-%s.json" % label)
if scenario == "idle":
    json.dump({"perSecond": total / seconds}, open(idle_file, "w"))
    print("%-6s %-10s %12.0f instructions per second with no request" % (label, scenario, total / seconds))
else:
    idle = json.load(open(idle_file))["perSecond"] * seconds
    if idle >= total / 2:
        # The idle work would be most of the count: its noise would be the answer.
        print("%-6s %-10s %12.0f instructions per request with the idle work in; too few requests (%d) to take it out"
              % (label, scenario, total / n, n))
    else:
        print("%-6s %-10s %12.0f instructions per request (%d requests in %.0f s; %.0f per request before taking out the idle work)"
              % (label, scenario, (total - idle) / n, n, seconds, total / n))
PY
    done
    if [ "$label" = nginx ]; then kill "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null || true; NGINX_PID=
    else kill "$TENX_PID"; wait "$TENX_PID" 2>/dev/null || true; TENX_PID=; fi
    rm -rf "$WORK"; WORK=
  done
}

# nginx as one process (no master, no workers) under the given command, for callgrind.
start_nginx_under() {
  start_nginx_config
  "$@" "$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" -g 'daemon off; master_process off;' \
    2>"$OUT/valgrind-nginx.log" &
  NGINX_PID=$!
  wait_http "http://127.0.0.1:$NGINX_PORT/v2/public/context" 600 0.5
}

case "$MODE" in
  load) load ;;
  instructions) instructions "${2:-}" "${3:-}" ;;
  fsyncs) fsyncs "${2:-}" "${3:-}" ;;
  settle) settle ;;
  coldstart) coldstart ;;
  sizes) sizes ;;
  criterion) criterion ;;
  all) load && criterion && sizes && deliveries && coldstart ;;
  profile) profile "${2:-redirect}" ;;
  deliveries) deliveries ;;
  ledger) ledger ;;
  backtest) backtest ;;
  uploads) uploads ;;
  fuzz) fuzz ;;
  aws-all) aws_all ;;
  compare) compare "${2:-}" "${3:-}" ;;
  *) echo "usage: $0 [load|sizes|criterion|all|profile [SCENARIO]|deliveries|coldstart|ledger|backtest|settle|uploads|fuzz|aws-all|compare A B|fsyncs A B|instructions A [B]]" >&2; exit 2 ;;
esac
