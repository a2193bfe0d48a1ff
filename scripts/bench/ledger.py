#!/usr/bin/env python3
"""The ledger's scaling benchmark (issue 43; scripts/bench.sh ledger).

For each size N of BENCH_LEDGER_SIZES, on a fresh data dir (and, on the aws backend, a fresh
table and queues on moto): `tenx serve` creates, through the HTTP API, a big partner and
BENCH_LEDGER_SMALL small ones (small-1 …), one campaign each with a commission plan (EUR,
10 % of a purchase, 30 days' hold); the server is stopped and `tenx ledger seed` writes the big
partner's N lines (10 % pending, the rest approved; all approved at 10^5 and at the size of the
big payout run) and 10 approved lines per small partner, as the ledger's sink stores them (with
running balances and index entries); `tenx ledger check` must then find no drift. The server is
started again with operation counting on, and each query is sent BENCH_LEDGER_SAMPLES times
(after BENCH_LEDGER_WARMUP unmeasured ones), one at a time on one keep-alive connection:

  balances       GET …/balances?partnerId=small-K
  funnel         GET …/analytics?funnel=true&from=&to=   (the console's 30 days)
  list_partner   GET …/commissions?partnerId=small-K&status=approved&limit=50
  list_campaign  GET …/commissions?campaignId=big-campaign&limit=50
  list_big_approved  GET …/commissions?partnerId=big&status=approved&limit=50
  payout_small   POST …/payouts {periodEnd: now, partnerId: small-K}: one per small partner

K turns over the small partners. For each: latency median and p99 (of few samples: p99 is
about the maximum) and the store operations made while serving it (`GET /internal/ops`, the
`requests` counts, read between samples), per call. Once per run, at the size
BENCH_LEDGER_BIG_PAYOUT (default: the largest size >= 10^5; 0: none), after the samples: one
payout run of the big partner (all its approved lines), its wall time, the server's peak RSS
during it (VmHWM reset before, and VmRSS sampled), its operations, and its statement's header
(merkleRoot, treeSize) read back.

Prints a Markdown table per size and a summary; raw results in OUT_DIR/ledger-BACKEND-N.json and
OUT_DIR/ledger-BACKEND-summary.json.

Usage: ledger.py TENX_BIN OUT_DIR
Env: BENCH_LEDGER_SIZES ("1000 10000 100000"), BENCH_LEDGER_SAMPLES (50), BENCH_LEDGER_WARMUP
(5), BENCH_LEDGER_SMALL (20), BENCH_LEDGER_BACKEND (embedded | aws: moto, with AWS_ENDPOINT_URL
and credentials in the environment), BENCH_LEDGER_BIG_PAYOUT, BENCH_LEDGER_BIG_TIMEOUT (1800 s),
BENCH_LEDGER_KEEP (1: keep the data dirs), BENCH_PORT (18080), BENCH_HANDLE (acme).
"""

import datetime
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

SIZES = [int(s) for s in os.environ.get("BENCH_LEDGER_SIZES", "1000 10000 100000").split()]
SAMPLES = int(os.environ.get("BENCH_LEDGER_SAMPLES", "50"))
WARMUP = int(os.environ.get("BENCH_LEDGER_WARMUP", "5"))
SMALL = int(os.environ.get("BENCH_LEDGER_SMALL", "20"))
BACKEND = os.environ.get("BENCH_LEDGER_BACKEND", "embedded")
BIG_TIMEOUT = float(os.environ.get("BENCH_LEDGER_BIG_TIMEOUT", "1800"))
KEEP = os.environ.get("BENCH_LEDGER_KEEP") == "1"
PORT = int(os.environ.get("BENCH_PORT", "18080"))
HANDLE = os.environ.get("BENCH_HANDLE", "acme")
SMALL_LINES = 10
BIG = "big"
BIG_CAMPAIGN = "big-campaign"
PLAN = {"currency": "EUR", "holdDays": 30, "rules": [{"eventType": "purchase", "percent": "10"}]}


def default_big_payout():
    raw = os.environ.get("BENCH_LEDGER_BIG_PAYOUT")
    if raw is not None:
        return int(raw)
    big = [n for n in SIZES if n >= 100_000]
    return max(big) if big else 0


BIG_PAYOUT = default_big_payout()


def log(msg):
    print(msg, flush=True)


def rfc3339(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def quantile(xs, q):
    """Nearest-rank quantile (q in 0..1) of a non-empty list."""
    s = sorted(xs)
    k = max(0, min(len(s) - 1, int(round(q * len(s) + 0.5)) - 1))
    return s[k]


class Server:
    """`tenx serve` on the data dir (operation counting on)."""

    def __init__(self, tenx, data, env):
        self.tenx, self.data, self.env = tenx, data, env
        self.proc = None
        self.log = open(os.path.join(data, "serve.log"), "ab")

    def start(self):
        args = [self.tenx, "serve", "--addr", f"127.0.0.1:{PORT}", "--data-dir", self.data]
        if BACKEND == "aws":
            args += ["--backend", "aws"]
        # The program's set-up and the payout runs are writes: lift the handle's write limit.
        env = dict(self.env, TENX_COUNT_OPS="1", TENX_LOG=os.environ.get("TENX_LOG", "warn"),
                   TENX_RATE_LIMIT_FREE=os.environ.get("TENX_RATE_LIMIT_FREE", "1000000"))
        self.proc = subprocess.Popen(args, env=env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tenx serve exited ({self.proc.returncode}); see {self.data}/serve.log")
            try:
                c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    c.close()
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("tenx serve did not come up")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def status(self, field):
        """A /proc/PID/status field in kB."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    def reset_peak(self):
        try:
            with open(f"/proc/{self.proc.pid}/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            pass


class Api:
    """One keep-alive connection to the server."""

    def __init__(self, jwt, timeout=120):
        self.jwt = jwt
        self.timeout = timeout
        self.conn = None

    def call(self, method, path, body=None, headers=None, timeout=None):
        """(status, parsed body or raw bytes, seconds)."""
        h = {"authorization": f"Bearer {self.jwt}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["content-type"] = "application/json"
        h.update(headers or {})
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=timeout or self.timeout)
            elif timeout:
                self.conn.timeout = timeout
                if self.conn.sock:
                    self.conn.sock.settimeout(timeout)
            try:
                t0 = time.perf_counter()
                self.conn.request(method, path, body=data, headers=h)
                r = self.conn.getresponse()
                raw = r.read()
                dt = time.perf_counter() - t0
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
        if timeout and self.conn:
            self.conn.timeout = self.timeout
            if self.conn.sock:
                self.conn.sock.settimeout(self.timeout)
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw
        return r.status, parsed, dt

    def ok(self, method, path, body=None, headers=None, want=(200, 201)):
        status, parsed, _ = self.call(method, path, body, headers)
        if status not in want:
            raise RuntimeError(f"{method} {path}: {status} {parsed}")
        return parsed

    def ops(self):
        c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        c.request("GET", "/internal/ops")
        snap = json.loads(c.getresponse().read())
        c.close()
        return snap


def ops_delta(before, after):
    b, a = before["requests"], after["requests"]
    return {k: a.get(k, 0) - b.get(k, 0) for k in a}


def store_ops(d):
    """Store round trips (gets, query pages, writes, transactions)."""
    return d.get("get", 0) + d.get("query", 0) + d.get("write", 0) + d.get("transact", 0)


def tenx_cmd(tenx, env, *args, check=True):
    t0 = time.monotonic()
    r = subprocess.run([tenx, *args], env=env, capture_output=True, text=True)
    dt = time.monotonic() - t0
    if check and r.returncode != 0:
        raise RuntimeError(f"tenx {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r, dt


def backend_args():
    return ["--backend", BACKEND] if BACKEND == "aws" else []


def create_program(api):
    """The big partner and the small ones, one campaign each with its plan."""
    base = f"/v2/handles/{HANDLE}"
    partners = [(BIG, BIG_CAMPAIGN)] + [(f"small-{k}", f"small-{k}-campaign") for k in range(1, SMALL + 1)]
    for partner, campaign in partners:
        api.ok("POST", f"{base}/partners", {"partnerId": partner, "name": partner.title(),
                                              "email": f"payouts@{partner}.example"})
        api.ok("POST", f"{base}/campaigns", {
            "campaignId": campaign, "goalType": "AFFILIATE_CLICKOUT", "status": "ACTIVE", "partnerId": partner,
            "primaryLink": {"slug": f"deal-{campaign}", "destinationUrl": f"https://example.com/{campaign}"}})
        api.ok("PUT", f"{base}/campaigns/{campaign}/commission-plan", PLAN)
    return partners


def queries(n_small):
    """(name, method, path-or-function of sample index, body function)."""
    base = f"/v2/handles/{HANDLE}"
    today = datetime.datetime.now(datetime.timezone.utc).date()
    frm = (today - datetime.timedelta(days=29)).isoformat()
    small = lambda i: f"small-{i % n_small + 1}"
    return [
        ("balances", "GET", lambda i: f"{base}/balances?partnerId={small(i)}", None),
        ("funnel", "GET", lambda i: f"{base}/analytics?funnel=true&from={frm}&to={today.isoformat()}", None),
        ("list_partner", "GET",
         lambda i: f"{base}/commissions?partnerId={small(i)}&status=approved&limit=50", None),
        ("list_campaign", "GET", lambda i: f"{base}/commissions?campaignId={BIG_CAMPAIGN}&limit=50", None),
        ("list_big_approved", "GET",
         lambda i: f"{base}/commissions?partnerId={BIG}&status=approved&limit=50", None),
    ]


def measure(api, name, method, path_of, count, check, warmup=WARMUP):
    for i in range(warmup):
        status, body, _ = api.call(method, path_of(i))
        check(status, body)
    lat, ops, items = [], [], []
    for i in range(count):
        before = api.ops()
        status, body, dt = api.call(method, path_of(i))
        after = api.ops()
        check(status, body)
        lat.append(dt * 1000)
        d = ops_delta(before, after)
        ops.append(d)
        if isinstance(body, dict) and isinstance(body.get("items"), list):
            items.append(len(body["items"]))
    return summarize(name, lat, ops, items)


def summarize(name, lat, ops, items):
    per = {k: sum(d.get(k, 0) for d in ops) / len(ops) for k in ops[0]}
    store = [store_ops(d) for d in ops]
    out = {
        "query": name, "samples": len(lat),
        "medianMs": statistics.median(lat), "p99Ms": quantile(lat, 0.99), "maxMs": max(lat),
        "minMs": min(lat), "opsPerCall": per, "storeOpsPerCall": sum(store) / len(store),
        "storeOpsMin": min(store), "storeOpsMax": max(store), "latenciesMs": lat,
    }
    if items:
        out["itemsPerPage"] = statistics.mean(items)
    return out


def expect_ok(status, body):
    if status != 200:
        raise RuntimeError(f"{status} {body}")


def payout_samples(api, n_small):
    base = f"/v2/handles/{HANDLE}"
    lat, ops = [], []
    for k in range(1, n_small + 1):
        key = f"bench-{uuid.uuid4().hex}"
        body = {"periodEnd": rfc3339(time.time() - 1), "partnerId": f"small-{k}"}
        before = api.ops()
        status, resp, dt = api.call("POST", f"{base}/payouts", body, {"idempotency-key": key})
        after = api.ops()
        if status not in (200, 201):
            raise RuntimeError(f"payout of small-{k}: {status} {resp}")
        paid = resp.get("payouts", [])
        if len(paid) != 1 or paid[0].get("commissionCount") != SMALL_LINES:
            raise RuntimeError(f"payout of small-{k}: expected one payout of {SMALL_LINES} lines, got {resp}")
        lat.append(dt * 1000)
        ops.append(ops_delta(before, after))
    return summarize("payout_small", lat, ops, [])


def big_payout(api, server):
    """One payout run of the big partner: wall time, peak RSS, operations, statement header."""
    base = f"/v2/handles/{HANDLE}"
    server.reset_peak()
    rss_before = server.status("VmRSS")
    samples = []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            try:
                samples.append(server.status("VmRSS"))
            except (OSError, ValueError):
                pass
            stop.wait(0.05)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    before = api.ops()
    key = f"bench-big-{uuid.uuid4().hex}"
    body = {"periodEnd": rfc3339(time.time() - 1), "partnerId": BIG}
    error = None
    try:
        status, resp, dt = api.call("POST", f"{base}/payouts", body, {"idempotency-key": key}, timeout=BIG_TIMEOUT)
    except OSError as e:  # a timeout
        status, resp, dt, error = None, None, BIG_TIMEOUT, repr(e)
    stop.set()
    t.join()
    after = api.ops()
    out = {
        "status": status, "wallSeconds": dt, "error": error,
        "rssBeforeKiB": rss_before, "peakRssKiB": server.status("VmHWM"),
        "maxSampledRssKiB": max(samples) if samples else None,
        "ops": ops_delta(before, after), "response": resp if status not in (200, 201) else None,
    }
    if status in (200, 201) and resp.get("payouts"):
        p = resp["payouts"][0]
        out["payout"] = {k: p.get(k) for k in ("payoutId", "amount", "currency", "commissionCount", "sequence")}
        st, got, gdt = api.call("GET", f"{base}/payouts/{p['payoutId']}")
        out["getPayout"] = {"status": st, "ms": gdt * 1000,
                            "merkleRootField": (got or {}).get("merkleRoot") if isinstance(got, dict) else None}
        st, stmt, sdt = api.call("GET", f"{base}/payouts/{p['payoutId']}/statement?format=json", timeout=BIG_TIMEOUT)
        header = stmt.get("header", {}) if isinstance(stmt, dict) else {}
        out["statement"] = {"status": st, "seconds": sdt, "merkleRoot": header.get("merkleRoot"),
                            "treeSize": header.get("treeSize"),
                            "lines": len(stmt.get("lines", [])) if isinstance(stmt, dict) else None,
                            "peakRssKiB": server.status("VmHWM")}
    return out


def one_size(tenx, out_dir, n, env_base):
    work = tempfile.mkdtemp(prefix=f"tenx-ledger-{n}.", dir=os.environ.get("BENCH_LEDGER_TMP"))
    data = os.path.join(work, "data")
    os.makedirs(data)
    env = dict(env_base)
    if BACKEND == "aws":
        prefix = f"bench-ledger-{n}-{uuid.uuid4().hex[:8]}"
        env.update(TENX_TABLE=prefix, TENX_QUEUE_PREFIX=f"{prefix}-")
        tenx_cmd(tenx, env, "setup")
    result = {"size": n, "backend": BACKEND, "smallPartners": SMALL, "samples": SAMPLES}
    server = Server(tenx, data, env)
    try:
        server.start()
        jwt = tenx_cmd(tenx, env, "token", "--handle", HANDLE, "--role", "operator", "--ttl", "12h",
                       "--data-dir", data)[0].stdout.strip()
        api = Api(jwt)
        create_program(api)
        server.stop()
        big_status = "approved" if n in (100_000, BIG_PAYOUT) else "mixed"
        log(f"== {n} lines ({BACKEND}): seeding the big partner ({big_status}) and {SMALL} small partners")
        r, dt = tenx_cmd(tenx, env, "ledger", "seed", "--handle", HANDLE, "--data-dir", data, *backend_args(),
                         "--partner", BIG, "--campaign", BIG_CAMPAIGN, "--lines", str(n), "--status", big_status)
        log("  " + r.stdout.strip())
        result["seed"] = {"seconds": dt, "linesPerSecond": n / dt, "status": big_status, "output": r.stdout.strip()}
        t0 = time.monotonic()
        for k in range(1, SMALL + 1):
            tenx_cmd(tenx, env, "ledger", "seed", "--handle", HANDLE, "--data-dir", data, *backend_args(),
                     "--partner", f"small-{k}", "--campaign", f"small-{k}-campaign",
                     "--lines", str(SMALL_LINES), "--status", "approved")
        result["seedSmallSeconds"] = time.monotonic() - t0
        r, dt = tenx_cmd(tenx, env, "ledger", "check", "--handle", HANDLE, "--data-dir", data, *backend_args(),
                         check=False)
        log(f"  check ({dt:.1f} s): {r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr.strip()}")
        result["check"] = {"seconds": dt, "exit": r.returncode, "output": r.stdout.strip()[-2000:]}
        if r.returncode != 0:
            raise RuntimeError(f"tenx ledger check found drift:\n{r.stdout}\n{r.stderr}")
        if BACKEND == "embedded":
            result["storeBytes"] = sum(os.path.getsize(os.path.join(data, f)) for f in os.listdir(data)
                                       if os.path.isfile(os.path.join(data, f)))
        server.start()
        api = Api(jwt)
        rows = []
        for name, method, path_of, _ in queries(SMALL):
            rows.append(measure(api, name, method, path_of, SAMPLES, expect_ok))
        rows.append(payout_samples(api, SMALL))
        result["queries"] = rows
        result["rssAfterQueriesKiB"] = server.status("VmHWM")
        if n == BIG_PAYOUT:
            log(f"  payout run of the big partner ({n} approved lines) ...")
            result["bigPayout"] = big_payout(api, server)
        print_size(result)
    finally:
        server.stop()
        if not KEEP:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"  kept {work}")
    with open(os.path.join(out_dir, f"ledger-{BACKEND}-{n}.json"), "w") as f:
        json.dump(result, f, indent=1)
    return result


def print_size(r):
    log(f"\n### {r['size']:,} lines ({r['backend']})\n")
    log("| query | median ms | p99 ms | store ops/call | get | query | transact (items) | write |")
    log("|---|---:|---:|---:|---:|---:|---:|---:|")
    for q in r["queries"]:
        o = q["opsPerCall"]
        log(f"| {q['query']} | {q['medianMs']:.2f} | {q['p99Ms']:.2f} | {q['storeOpsPerCall']:.1f} | "
            f"{o.get('get', 0):.1f} | {o.get('query', 0):.1f} | {o.get('transact', 0):.1f} "
            f"({o.get('transactItems', 0):.1f}) | {o.get('write', 0):.1f} |")
    b = r.get("bigPayout")
    if b:
        log("")
        if b.get("payout"):
            s = b.get("statement", {})
            log(f"big payout run: {b['wallSeconds']:.1f} s, {b['payout']['commissionCount']} lines, peak RSS "
                f"{b['peakRssKiB'] / 1024:.1f} MiB (before {b['rssBeforeKiB'] / 1024:.1f} MiB), store ops "
                f"{store_ops(b['ops'])}; statement: {s.get('seconds', 0):.1f} s, treeSize {s.get('treeSize')}, "
                f"merkleRoot {s.get('merkleRoot')}")
        else:
            log(f"big payout run FAILED after {b['wallSeconds']:.1f} s: status {b['status']} {b.get('error') or ''} "
                f"{json.dumps(b.get('response'))[:300]}; peak RSS {b['peakRssKiB'] / 1024:.1f} MiB, "
                f"store ops {store_ops(b['ops'])}")
    log("")


def print_summary(results):
    if not results:
        return
    names = [q["query"] for q in results[0]["queries"]]
    sizes = [r["size"] for r in results]
    log(f"\n### summary ({BACKEND}): median ms / p99 ms / store ops per call\n")
    log("| query | " + " | ".join(f"{n:,}" for n in sizes) + " | largest ÷ smallest (median) |")
    log("|---|" + "---:|" * (len(sizes) + 1))
    for name in names:
        cells, meds = [], []
        for r in results:
            q = next(q for q in r["queries"] if q["query"] == name)
            cells.append(f"{q['medianMs']:.2f} / {q['p99Ms']:.2f} / {q['storeOpsPerCall']:.1f}")
            meds.append(q["medianMs"])
        log(f"| {name} | " + " | ".join(cells) + f" | {meds[-1] / meds[0]:.2f}× |")
    log("")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    tenx, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    env = dict(os.environ)
    results = []
    for n in SIZES:
        results.append(one_size(tenx, out_dir, n, env))
    print_summary(results)
    with open(os.path.join(out_dir, f"ledger-{BACKEND}-summary.json"), "w") as f:
        json.dump([{k: v for k, v in r.items()} for r in results], f, indent=1)


if __name__ == "__main__":
    main()
