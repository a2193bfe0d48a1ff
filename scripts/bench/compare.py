#!/usr/bin/env python3
"""The report of `scripts/bench.sh compare`: for each scenario, the median over the rounds of
each build's requests/s and latency, and B's throughput as a multiple of A's; for the routes
nginx also answered (pinned the same way), each build's throughput as a multiple of nginx's. A run with errors
(non-2xx/3xx answers, timeouts) is named, never averaged in silently.

Usage: compare.py OUT_DIR LABEL_A LABEL_B
"""
import glob
import json
import os
import re
import statistics
import sys


def runs(out, side, scenario):
    found = []
    pattern = re.compile(r"^%s-%s-\d+\.json$" % (side, re.escape(scenario)))
    for path in sorted(p for p in glob.glob(os.path.join(out, "%s-*.json" % side)) if pattern.match(os.path.basename(p))):
        with open(path) as f:
            text = f.read().strip()
        if not text:
            raise SystemExit("%s: wrk printed no result" % path)
        found.append((path, json.loads(text)))
    return found


def main():
    out, label_a, label_b = sys.argv[1:4]
    scenarios = []
    for path in sorted(glob.glob(os.path.join(out, "a-*-1.json"))):
        scenarios.append(re.match(r"a-(.+)-1\.json$", os.path.basename(path)).group(1))
    order = ["redirect", "context", "conversion"]
    scenarios.sort(key=lambda s: (order.index(s) if s in order else len(order), s))
    print("| scenario | %s req/s | %s req/s | B / A | %s p50 / p99 | %s p50 / p99 |" % (label_a, label_b, label_a, label_b))
    print("|---|---:|---:|---:|---:|---:|")
    failed = []
    for scenario in scenarios:
        med = {}
        for side in ("a", "b"):
            rs = runs(out, side, scenario)
            for path, r in rs:
                errors = sum(r["errors"].values())
                if errors:
                    failed.append("%s: %d errors" % (os.path.basename(path), errors))
            med[side] = (statistics.median(r["rps"] for _, r in rs),
                         statistics.median(r["p50Us"] for _, r in rs) / 1000,
                         statistics.median(r["p99Us"] for _, r in rs) / 1000, len(rs))
        a, b = med["a"], med["b"]
        print("| %s (%d rounds) | %.0f | %.0f | %.2f× | %.2f / %.2f ms | %.2f / %.2f ms |" % (
            scenario, a[3], a[0], b[0], b[0] / a[0], a[1], a[2], b[1], b[2]))
    nginx = {}
    for scenario in scenarios:
        rs = runs(out, "n", scenario)
        if rs:
            nginx[scenario] = statistics.median(r["rps"] for _, r in rs)
            a = statistics.median(r["rps"] for _, r in runs(out, "a", scenario))
            b = statistics.median(r["rps"] for _, r in runs(out, "b", scenario))
            nginx[scenario] = (nginx[scenario], a / nginx[scenario], b / nginx[scenario], len(rs))
    if nginx:
        print("\n| scenario | nginx `return` req/s | %s / nginx | %s / nginx |" % (label_a, label_b))
        print("|---|---:|---:|---:|")
        for scenario, (rps, ra, rb, rounds) in nginx.items():
            print("| %s (%d rounds) | %.0f | %.2f× | %.2f× |" % (scenario, rounds, rps, ra, rb))
    if failed:
        print("\nruns with errors (their numbers are not comparable):\n  " + "\n  ".join(failed))
        sys.exit(1)


if __name__ == "__main__":
    main()
