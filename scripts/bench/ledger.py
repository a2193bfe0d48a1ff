#!/usr/bin/env python3
"""The ledger's scaling benchmark (issue 43; scripts/bench.sh ledger).

For each size N of BENCH_LEDGER_SIZES, on a fresh data dir (and, on the aws backend, a fresh
table and queues on moto): `tenx serve` creates, through the HTTP API, a big partner and
BENCH_LEDGER_SMALL small ones (small-1 …), one campaign each with a commission plan (EUR,
10 % of a purchase, 30 days' hold); the server is stopped and `tenx ledger seed` writes the big
partner's N lines (10 % pending, the newest, the rest approved; all approved at 10^5) and 10
approved lines per small partner, as the ledger's sink stores them (with running balances and
index entries); `tenx ledger check` must then find no drift. The server is started again with
operation counting on, and each query is sent BENCH_LEDGER_SAMPLES times (after
BENCH_LEDGER_WARMUP unmeasured ones), one at a time on one keep-alive connection per server; every
size's server runs at once (ports BENCH_PORT, +1, …) and the sizes take turns sample by sample, so
whatever else loads the machine weighs on each size alike:

  balances           GET …/balances?partnerId=small-K
  funnel             GET …/analytics?funnel=true&from=&to=   (the console's 30 days)
  list_partner       GET …/commissions?partnerId=small-K&status=approved&limit=50
  list_campaign      GET …/commissions?campaignId=big-campaign&limit=50
  list_big_approved  GET …/commissions?partnerId=big&status=approved&limit=50 (first page)
  payout_small       POST …/payouts {periodEnd: now, partnerId: small-K}: one per small partner

K turns over the small partners. For each: latency median and p99 (of few samples: p99 is
about the maximum) and the store operations made while serving it (`GET /internal/ops`, the
`requests` counts, read between samples), per call. Then, once: the pages of
list_big_approved read (following nextCursor) until one holds a line.

Then one size at a time (the others stopped), at the sizes of BENCH_LEDGER_BIG_PAYOUT
(space-separated; default: the largest size >= 10^5; "0": none): the big partner's payout (a run paying all its approved lines, the
payout read back, its statement as JSON with its Merkle root and size, one inclusion proof, and
its mark-paid), each step with its wall time, the server's peak RSS (VmHWM reset before, VmRSS
sampled) and its operations; the statement and the proof only up to
BENCH_LEDGER_STATEMENT_MAX lines (200000). Then the server is stopped and `tenx ledger check`
runs again.

Prints a Markdown table per size and a summary; raw results in OUT_DIR/ledger-BACKEND-N.json and
OUT_DIR/ledger-BACKEND-summary.json.

Usage: ledger.py TENX_BIN OUT_DIR
Env: BENCH_LEDGER_SIZES ("1000 10000 100000"), BENCH_LEDGER_SAMPLES (50), BENCH_LEDGER_WARMUP
(5), BENCH_LEDGER_SMALL (20), BENCH_LEDGER_BACKEND (embedded | aws: moto, with AWS_ENDPOINT_URL
and credentials in the environment | dynamodb-local: as aws, DynamoDB at AWS_ENDPOINT_URL_DYNAMODB), BENCH_LEDGER_BIG_PAYOUT, BENCH_LEDGER_STATEMENT_MAX,
BENCH_LEDGER_BIG_TIMEOUT (1800 s), BENCH_LEDGER_KEEP (1: keep the data dirs), BENCH_LEDGER_TMP
(where the data dirs go), BENCH_PORT (18080), BENCH_HANDLE (acme).
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
# dynamodb-local: the aws backend, DynamoDB on DynamoDB Local (AWS_ENDPOINT_URL_DYNAMODB).
AWS = BACKEND in ("aws", "dynamodb-local")
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
        return {int(n) for n in raw.split() if int(n) > 0}
    big = [n for n in SIZES if n >= 100_000]
    return {max(big)} if big else set()


BIG_PAYOUT = default_big_payout()
STATEMENT_MAX = int(os.environ.get("BENCH_LEDGER_STATEMENT_MAX", "200000"))


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

    def __init__(self, tenx, data, env, port):
        self.tenx, self.data, self.env, self.port = tenx, data, env, port
        self.proc = None
        self.log = open(os.path.join(data, "serve.log"), "ab")

    def start(self):
        args = [self.tenx, "serve", "--addr", f"127.0.0.1:{self.port}", "--data-dir", self.data]
        if AWS:
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
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
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

    def cpu_seconds(self):
        """User + system CPU time the server has used so far, every thread."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def reset_peak(self):
        try:
            with open(f"/proc/{self.proc.pid}/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            pass


class Api:
    """One keep-alive connection to the server."""

    def __init__(self, jwt, port, timeout=120):
        self.jwt, self.port = jwt, port
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
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout or self.timeout)
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
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
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
    return ["--backend", "aws"] if AWS else []


def seed_args():
    # On DynamoDB concurrent transactions meet on the balance items: few in flight.
    return ["--backend", "aws", "--concurrency", "2"] if AWS else []


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


def sample(api, method, path, body=None, headers=None):
    """One measured call: (status, body, ms, operations)."""
    before = api.ops()
    status, resp, dt = api.call(method, path, body, headers)
    d = ops_delta(before, api.ops())
    return status, resp, dt * 1000, d


def measure_all(sizes, n_small):
    """Every query at every size, the sizes interleaved sample by sample (what else runs on the
    machine meanwhile weighs on every size alike)."""
    for name, method, path_of, _ in queries(n_small):
        for s in sizes:
            for i in range(WARMUP):
                expect_ok(*s.api.call(method, path_of(i))[:2])
        got = {s.n: ([], [], []) for s in sizes}
        for i in range(SAMPLES):
            for s in sizes:
                status, body, ms, d = sample(s.api, method, path_of(i))
                expect_ok(status, body)
                lat, ops, items = got[s.n]
                lat.append(ms)
                ops.append(d)
                if isinstance(body, dict) and isinstance(body.get("items"), list):
                    items.append(len(body["items"]))
        for s in sizes:
            s.result["queries"].append(summarize(name, *got[s.n]))
        log(f"  {name}: " + ", ".join(f"{s.n:,}: {s.result['queries'][-1]['medianMs']:.2f} ms" for s in sizes))
    # One payout run per small partner (each pays that partner's 10 lines), sizes interleaved.
    base = f"/v2/handles/{HANDLE}"
    got = {s.n: ([], [], []) for s in sizes}
    for k in range(1, n_small + 1):
        for s in sizes:
            body = {"periodEnd": rfc3339(time.time() - 1), "partnerId": f"small-{k}"}
            key = {"idempotency-key": f"bench-{uuid.uuid4().hex}"}
            status, resp, ms, d = sample(s.api, "POST", f"{base}/payouts", body, key)
            if status not in (200, 201):
                raise RuntimeError(f"{s.n}: payout of small-{k}: {status} {resp}")
            paid = resp.get("payouts", [])
            if len(paid) != 1 or paid[0].get("commissionCount") != SMALL_LINES:
                raise RuntimeError(f"{s.n}: payout of small-{k}: expected one payout of {SMALL_LINES} lines, got {resp}")
            got[s.n][0].append(ms)
            got[s.n][1].append(d)
    for s in sizes:
        s.result["queries"].append(summarize("payout_small", *got[s.n]))
    log("  payout_small: " + ", ".join(f"{s.n:,}: {s.result['queries'][-1]['medianMs']:.2f} ms" for s in sizes))


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


class Phase:
    """One request of the big partner's payout: wall time, the server's peak RSS during it (VmHWM
    reset before, VmRSS sampled every 50 ms), and the operations it made."""

    def __init__(self, api, server):
        self.api, self.server = api, server

    def run(self, method, path, body=None, headers=None, until_done=False):
        """`until_done`: a `202` (work left to the sweeper) is asked again every second, the same
        request, until the final answer; the phase spans them all."""
        self.server.reset_peak()
        rss_before = self.server.status("VmRSS")
        samples = []
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                try:
                    samples.append(self.server.status("VmRSS"))
                except (OSError, ValueError):
                    pass
                stop.wait(0.05)

        t = threading.Thread(target=sample, daemon=True)
        t.start()
        before = self.api.ops()
        cpu_before = self.server.cpu_seconds()
        error = None
        t0, polls = time.perf_counter(), 0
        try:
            status, resp, dt = self.api.call(method, path, body, headers, timeout=BIG_TIMEOUT)
            while until_done and status == 202 and time.perf_counter() - t0 < BIG_TIMEOUT:
                time.sleep(1)
                polls += 1
                status, resp, _ = self.api.call(method, path, body, headers, timeout=BIG_TIMEOUT)
            dt = time.perf_counter() - t0
        except OSError as e:  # a timeout
            status, resp, dt, error = None, None, BIG_TIMEOUT, repr(e)
        stop.set()
        t.join()
        after = self.api.ops()
        out = {"status": status, "seconds": dt, "polls": polls,
               "cpuSeconds": self.server.cpu_seconds() - cpu_before,
               "error": error, "rssBeforeKiB": rss_before,
               "peakRssKiB": self.server.status("VmHWM"), "maxSampledRssKiB": max(samples, default=None),
               "ops": ops_delta(before, after), "storeOps": store_ops(ops_delta(before, after))}
        if status not in (200, 201):
            out["response"] = resp if not isinstance(resp, bytes) else resp[:500].decode("latin-1")
        return out, resp


def big_payout(api, server, statement=True):
    """The big partner's payout: the run, its statement (header, size), one inclusion proof, and
    its mark-paid; each with its wall time, peak RSS and operations."""
    base = f"/v2/handles/{HANDLE}"
    phase = Phase(api, server)
    key = f"bench-big-{uuid.uuid4().hex}"
    body = {"periodEnd": rfc3339(time.time() - 1), "partnerId": BIG}
    out = {}
    out["run"], resp = phase.run("POST", f"{base}/payouts", body, {"idempotency-key": key}, until_done=True)
    if out["run"]["status"] not in (200, 201) or not resp.get("payouts"):
        return out
    p = resp["payouts"][0]
    pid = p["payoutId"]
    out["payout"] = {k: p.get(k) for k in ("payoutId", "amount", "currency", "commissionCount", "sequence")}
    out["get"], _ = phase.run("GET", f"{base}/payouts/{pid}")
    if statement:
        out["statement"], first = statement_pages(phase, f"{base}/payouts/{pid}/statement?format=json&limit=5000")
        if first:
            out["proof"], proof = phase.run("GET", f"{base}/payouts/{pid}/proof?commissionId={first}")
            if isinstance(proof, dict):
                out["proof"].update(treeSize=proof.get("treeSize"), pathLength=len(proof.get("path", [])))
    out["markPaid"], _ = phase.run("POST", f"{base}/payouts/{pid}/mark-paid", {"reference": f"bench-{pid}"},
                                   until_done=True)
    return out


def statement_pages(phase, path):
    """Every page of a statement, in order (a statement over 5,000 lines is answered a page at a
    time): the pages' summed time and operations, their largest page and peak RSS, and the first
    line's id."""
    total = {"status": None, "seconds": 0.0, "cpuSeconds": 0.0, "pages": 0, "lines": 0, "bytes": 0,
             "maxPageBytes": 0, "peakRssKiB": 0, "storeOps": 0}
    cursor, first = None, None
    while True:
        page_path = path + (f"&cursor={cursor}" if cursor else "")
        one, page = phase.run("GET", page_path)
        total["status"] = one["status"]
        if not isinstance(page, dict) or one["status"] != 200:
            total["response"] = one.get("response")
            return total, first
        size = len(json.dumps(page, separators=(",", ":")))
        lines = page.get("lines", [])
        first = first or (lines[0]["commissionId"] if lines else None)
        total.update(merkleRoot=page.get("header", {}).get("merkleRoot"),
                     treeSize=page.get("header", {}).get("treeSize"))
        for k in ("seconds", "cpuSeconds", "storeOps"):
            total[k] += one[k] or 0
        total["pages"] += 1
        total["lines"] += len(lines)
        total["bytes"] += size
        total["maxPageBytes"] = max(total["maxPageBytes"], size)
        total["peakRssKiB"] = max(total["peakRssKiB"], one["peakRssKiB"] or 0)
        cursor = page.get("nextCursor")
        if not cursor:
            return total, first


def first_approved(api):
    """Pages of `partnerId=big&status=approved&limit=50` read until one holds a line: the listing
    reads the partner's index newest first and filters the status on the lines read."""
    base = f"/v2/handles/{HANDLE}"
    before = api.ops()
    cursor, pages, t0 = None, 0, time.perf_counter()
    while pages < 5000:
        path = f"{base}/commissions?partnerId={BIG}&status=approved&limit=50"
        if cursor:
            path += f"&cursor={cursor}"
        status, body, _ = api.call("GET", path)
        expect_ok(status, body)
        pages += 1
        cursor = body.get("nextCursor")
        if body.get("items") or not cursor:
            break
    d = ops_delta(before, api.ops())
    return {"pages": pages, "seconds": time.perf_counter() - t0, "storeOps": store_ops(d), "ops": d,
            "found": bool(body.get("items"))}


class Size:
    """One size's data dir, server and results."""

    def __init__(self, tenx, n, idx, env_base):
        self.tenx, self.n = tenx, n
        self.work = tempfile.mkdtemp(prefix=f"tenx-ledger-{n}.", dir=os.environ.get("BENCH_LEDGER_TMP"))
        self.data = os.path.join(self.work, "data")
        os.makedirs(self.data)
        self.env = dict(env_base)
        if AWS:
            prefix = f"bench-ledger-{n}-{uuid.uuid4().hex[:8]}"
            self.env.update(TENX_TABLE=prefix, TENX_QUEUE_PREFIX=f"{prefix}-")
        self.port = PORT + idx
        self.server = Server(tenx, self.data, self.env, self.port)
        self.api = None
        self.result = {"size": n, "backend": BACKEND, "smallPartners": SMALL, "samples": SAMPLES, "queries": []}

    def check(self, key):
        r, dt = tenx_cmd(self.tenx, self.env, "ledger", "check", "--handle", HANDLE, "--data-dir", self.data,
                         *backend_args(), check=False)
        last = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr.strip()
        log(f"  {self.n:,}: check ({dt:.1f} s): {last}")
        self.result[key] = {"seconds": dt, "exit": r.returncode, "output": r.stdout.strip()[-2000:]}
        if r.returncode != 0:
            raise RuntimeError(f"tenx ledger check found drift at {self.n}:\n{r.stdout}\n{r.stderr}")

    def prepare(self):
        """The program through the API, then the lines seeded with the server stopped, checked."""
        tenx, env, data, n = self.tenx, self.env, self.data, self.n
        if AWS:
            tenx_cmd(tenx, env, "setup")
        self.server.start()
        self.jwt = tenx_cmd(tenx, env, "token", "--handle", HANDLE, "--role", "operator", "--ttl", "12h",
                            "--data-dir", data)[0].stdout.strip()
        create_program(Api(self.jwt, self.port))
        self.server.stop()
        big_status = "approved" if n == 100_000 else "mixed"
        log(f"== {n:,} lines ({BACKEND}): seeding the big partner ({big_status}) and {SMALL} small partners")
        r, dt = tenx_cmd(tenx, env, "ledger", "seed", "--handle", HANDLE, "--data-dir", data, *seed_args(),
                         "--partner", BIG, "--campaign", BIG_CAMPAIGN, "--lines", str(n), "--status", big_status)
        log("  " + r.stdout.strip())
        self.result["seed"] = {"seconds": dt, "linesPerSecond": n / dt, "status": big_status,
                               "output": r.stdout.strip()}
        t0 = time.monotonic()
        for k in range(1, SMALL + 1):
            tenx_cmd(tenx, env, "ledger", "seed", "--handle", HANDLE, "--data-dir", data, *seed_args(),
                     "--partner", f"small-{k}", "--campaign", f"small-{k}-campaign",
                     "--lines", str(SMALL_LINES), "--status", "approved")
        self.result["seedSmallSeconds"] = time.monotonic() - t0
        self.check("check")
        if BACKEND == "embedded":
            self.result["storeBytes"] = sum(os.path.getsize(os.path.join(data, f)) for f in os.listdir(data)
                                            if os.path.isfile(os.path.join(data, f)))

    def start(self):
        self.server.start()
        self.api = Api(self.jwt, self.port)

    def finish(self, out_dir):
        """The big partner's payout (at the sizes asked), then the check again."""
        self.result["firstApprovedOfBig"] = first_approved(self.api)
        self.result["rssAfterQueriesKiB"] = self.server.status("VmHWM")
        if self.n in BIG_PAYOUT:
            log(f"  {self.n:,}: the big partner's payout ...")
            self.result["bigPayout"] = big_payout(self.api, self.server, statement=self.n <= STATEMENT_MAX)
            self.server.stop()
            self.check("checkAfterPayout")
        self.server.stop()
        with open(os.path.join(out_dir, f"ledger-{BACKEND}-{self.n}.json"), "w") as f:
            json.dump(self.result, f, indent=1)

    def close(self):
        self.server.stop()
        if KEEP:
            log(f"  kept {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)


def print_size(r):
    log(f"\n### {r['size']:,} lines ({r['backend']})\n")
    log("| query | median ms | p99 ms | store ops/call | get | query | transact (items) | write |")
    log("|---|---:|---:|---:|---:|---:|---:|---:|")
    for q in r["queries"]:
        o = q["opsPerCall"]
        log(f"| {q['query']} | {q['medianMs']:.2f} | {q['p99Ms']:.2f} | {q['storeOpsPerCall']:.1f} | "
            f"{o.get('get', 0):.1f} | {o.get('query', 0):.1f} | {o.get('transact', 0):.1f} "
            f"({o.get('transactItems', 0):.1f}) | {o.get('write', 0):.1f} |")
    f = r.get("firstApprovedOfBig")
    if f:
        log(f"\nfirst approved line of the big partner (partnerId=big&status=approved&limit=50, following "
            f"nextCursor): {f['pages']} pages, {f['seconds'] * 1000:.1f} ms, {f['storeOps']} store ops")
    b = r.get("bigPayout")
    if b:
        log("\nbig partner's payout:\n")
        log("| step | status | wall s | server CPU s | peak RSS MiB (before) | store ops | get | query | transact (items) | write |")
        log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for step in ("run", "get", "proof", "markPaid"):
            x = b.get(step)
            if not x:
                continue
            o = x["ops"]
            log(f"| {step} | {x['status']} | {x['seconds']:.2f} | {x.get('cpuSeconds', 0):.2f} | {x['peakRssKiB'] / 1024:.1f} "
                f"({x['rssBeforeKiB'] / 1024:.1f}) | {x['storeOps']} | {o.get('get', 0)} | {o.get('query', 0)} | "
                f"{o.get('transact', 0)} ({o.get('transactItems', 0)}) | {o.get('write', 0)} |")
        if b.get("payout"):
            log(f"\npayout {b['payout']['payoutId']}: {b['payout']['commissionCount']} lines, "
                f"{b['payout']['amount']} {b['payout']['currency']}")
        s = b.get("statement")
        if s and s.get("merkleRoot"):
            log(f"statement: treeSize {s['treeSize']}, {s['lines']} lines in {s['pages']} pages "
                f"({s['bytes'] / 1048576:.1f} MiB of JSON, the largest page {s['maxPageBytes'] / 1048576:.2f} MiB), "
                f"{s['seconds']:.2f} s, {s['storeOps']} store ops, peak RSS {s['peakRssKiB'] / 1024:.1f} MiB, "
                f"merkleRoot {s['merkleRoot']}")
        for step in ("run", "markPaid"):
            if b.get(step, {}).get("polls"):
                log(f"{step}: answered 202 and finished by the sweeper ({b[step]['polls']} polls, 1 s apart)")
        if "response" in b.get("run", {}):
            log(f"payout run failed: {json.dumps(b['run'].get('response'))[:300]} {b['run'].get('error') or ''}")
        c = r.get("checkAfterPayout")
        if c:
            log(f"tenx ledger check after the payout and its mark-paid: exit {c['exit']}, "
                f"{c['output'].splitlines()[-1] if c['output'] else ''}")
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


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[:3]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    tenx, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    sizes = [Size(tenx, n, i, dict(os.environ)) for i, n in enumerate(SIZES)]
    try:
        for s in sizes:
            s.prepare()
        for s in sizes:
            s.start()
        log(f"== {len(sizes)} servers up; {SAMPLES} samples per query and size, sizes interleaved "
            f"(load {' '.join(loadavg())})")
        load_before = loadavg()
        measure_all(sizes, SMALL)
        load_after = loadavg()
        for s in sizes:
            s.result["loadavg"] = {"before": load_before, "after": load_after}
        # The rest changes a ledger: one size at a time, the other servers stopped.
        for s in sizes:
            s.server.stop()
        for s in sizes:
            s.start()
            s.finish(out_dir)
            print_size(s.result)
        print_summary([s.result for s in sizes])
        with open(os.path.join(out_dir, f"ledger-{BACKEND}-summary.json"), "w") as f:
            json.dump([s.result for s in sizes], f, indent=1)
    finally:
        for s in sizes:
            s.close()


if __name__ == "__main__":
    main()
