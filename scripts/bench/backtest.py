#!/usr/bin/env python3
"""The backtest at scale (issue 47; scripts/bench.sh backtest).

For each size N of BENCH_BACKTEST_SIZES, on a fresh data dir: `tenx serve` creates, through the
HTTP API, one partner and its campaign with a plan (EUR, 10 % of a purchase, 30 days' hold);
the server is stopped and `tenx ledger seed --with-conversions` writes N conversions and their
approved lines (spread over 30 days before the hold, as ledger.py's seed does). The server is
started again with operation counting on and the campaign's draft (12 %) is backtested over the
61 days that hold them, BENCH_BACKTEST_SAMPLES times: wall time, the server's peak RSS during the
call (VmHWM reset before) and its store operations. The answer is checked: every conversion
replayed, the partner's difference 2 % of the values.

Usage: backtest.py TENX_BIN OUT_DIR
Env: BENCH_BACKTEST_SIZES ("1000 100000"), BENCH_BACKTEST_SAMPLES (3), BENCH_PORT (18080),
BENCH_HANDLE (acme), BENCH_LEDGER_TMP (where the data dirs go).
"""

import json
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ledger as L  # noqa: E402  (the ledger benchmark's server, API client and phases)

SIZES = [int(s) for s in os.environ.get("BENCH_BACKTEST_SIZES", "1000 100000").split()]
SAMPLES = int(os.environ.get("BENCH_BACKTEST_SAMPLES", "3"))
PARTNER, CAMPAIGN = "big", "big-campaign"
DRAFT = {"currency": "EUR", "holdDays": 30, "rules": [{"eventType": "purchase", "percent": "12"}]}


def prepare(tenx, n):
    work = tempfile.mkdtemp(prefix=f"tenx-backtest-{n}.", dir=os.environ.get("BENCH_LEDGER_TMP"))
    data = os.path.join(work, "data")
    os.makedirs(data)
    env = dict(os.environ)
    server = L.Server(tenx, data, env, L.PORT)
    server.start()
    jwt = L.tenx_cmd(tenx, env, "token", "--handle", L.HANDLE, "--role", "operator", "--ttl", "12h",
                     "--data-dir", data)[0].stdout.strip()
    api = L.Api(jwt, L.PORT)
    base = f"/v2/handles/{L.HANDLE}"
    api.ok("POST", f"{base}/partners", {"partnerId": PARTNER, "name": "Big"})
    api.ok("POST", f"{base}/campaigns", {
        "campaignId": CAMPAIGN, "goalType": "AFFILIATE_CLICKOUT", "status": "ACTIVE", "partnerId": PARTNER,
        "primaryLink": {"slug": "deal-big", "destinationUrl": "https://example.com/big"}})
    api.ok("PUT", f"{base}/campaigns/{CAMPAIGN}/commission-plan", L.PLAN)
    server.stop()
    r, dt = L.tenx_cmd(tenx, env, "ledger", "seed", "--handle", L.HANDLE, "--data-dir", data, "--partner",
                       PARTNER, "--campaign", CAMPAIGN, "--lines", str(n), "--status", "approved",
                       "--with-conversions")
    L.log(f"== {n:,}: seeded in {dt:.1f} s: {r.stdout.strip()}")
    server.start()
    return work, server, L.Api(jwt, L.PORT, timeout=1800)


def run_size(tenx, n):
    work, server, api = prepare(tenx, n)
    try:
        now = time.time()
        body = {"plan": DRAFT, "from": L.rfc3339(now - 61 * 86400), "to": L.rfc3339(now)}
        path = f"/v2/handles/{L.HANDLE}/campaigns/{CAMPAIGN}/commission-plan/backtest"
        phase = L.Phase(api, server)
        runs = []
        for _ in range(SAMPLES):
            out, resp = phase.run("POST", path, body)
            if out["status"] != 200 or resp.get("conversions") != n:
                raise RuntimeError(f"{n}: backtest answered {out['status']}: {str(resp)[:400]}")
            p = resp["partners"][0]
            actual, draft, diff = (float(p[k]) for k in ("actual", "draft", "difference"))
            if abs(draft - actual - diff) > 0.001 or not (0.19 < diff / actual < 0.21):
                raise RuntimeError(f"{n}: the difference is not 2 % of 10 %: {p}")
            runs.append(out)
        secs = [r["seconds"] for r in runs]
        result = {"size": n, "medianSeconds": statistics.median(secs), "maxSeconds": max(secs),
                  "peakRssMiB": max(r["peakRssKiB"] for r in runs) / 1024,
                  "storeOps": runs[0]["storeOps"], "ops": runs[0]["ops"], "partner": p}
        L.log(f"  {n:,} conversions: median {result['medianSeconds']:.2f} s, max {result['maxSeconds']:.2f} s, "
              f"peak RSS {result['peakRssMiB']:.1f} MiB, {result['storeOps']} store operations")
        return result
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def main():
    tenx, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    results = [run_size(tenx, n) for n in SIZES]
    with open(os.path.join(out_dir, "backtest-embedded.json"), "w") as f:
        json.dump(results, f, indent=1)
    print("\n| conversions in the period | median | max | peak RSS | store operations |")
    print("|---|---|---|---|---|")
    for r in results:
        print(f"| {r['size']:,} | {r['medianSeconds']:.2f} s | {r['maxSeconds']:.2f} s | "
              f"{r['peakRssMiB']:.1f} MiB | {r['storeOps']:,} |")


if __name__ == "__main__":
    main()
