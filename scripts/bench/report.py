#!/usr/bin/env python3
"""Turns the raw results of scripts/bench.sh (bench-out/) into the tables of BENCHMARKS.md:
throughput and latency against nginx, peak memory, operations per request from the seam
counters, and the cost per million requests on AWS from the prices below."""

import json
import math
import os
import sys

# Published on-demand prices, us-east-1 (N. Virginia), as listed on the AWS pricing pages in
# 2025-2026 (DynamoDB on-demand after the November 2024 reduction). Free tiers ignored.
PRICES = {
    "cloudfront_https_per_10k": 0.0100,  # HTTPS requests, United States / Europe (PriceClass_100)
    "cloudfront_function_per_million": 0.10,  # CloudFront Functions invocations
    "cloudfront_dto_per_gb": 0.085,  # data transfer out to the internet, first 10 TB, US / Europe
    "cloudfront_origin_per_gb": 0.020,  # regional data transfer out to origin, US / Europe
    "apigw_http_per_million": 1.00,  # HTTP API, first 300 M requests/month (per 512 KB)
    "lambda_arm_gb_s": 0.0000133334,  # Lambda arm64, per GB-second (billed per 1 ms)
    "lambda_per_million": 0.20,  # Lambda requests
    "ddb_wru_per_million": 0.625,  # on-demand write request unit (1 KB; 2 per item in a transaction)
    "ddb_rru_per_million": 0.125,  # on-demand read request unit (4 KB strongly consistent)
    "sqs_per_million": 0.40,  # standard queue requests (per 64 KB chunk)
    "kinesis_put_per_million": 0.014,  # provisioned stream, PUT payload units (25 KB each)
    "kinesis_shard_hour": 0.015,  # provisioned stream, per shard-hour
    "logs_ingest_per_gb": 0.50,  # CloudWatch Logs standard ingestion
    "logs_store_per_gb_month": 0.03,  # CloudWatch Logs storage (compressed), per GB-month
}
# The stated traffic: the click stream's shards (template.yaml) are paid by the hour whatever
# the traffic, so their share of a click depends on it: an average of 100 clicks/s (259 million
# a month, about 1 in 20 of a shard pair's capacity).
STREAM_SHARDS = 2
TRAFFIC_CLICKS_PER_S = 100
# The clicks worker's batches on Lambda: up to 5,000 records within 30 s (template.yaml); at the
# stated traffic a batch holds 30 s of one shard's clicks.
CLICKS_BATCH = TRAFFIC_CLICKS_PER_S * 30 // STREAM_SHARDS
LAMBDA_GB = 128 / 1024  # Lambda bills memory in GB of 1024 MB
# Billed Lambda duration, argued from what was measured here: the CPU a request took on this
# machine, scaled to a 128 MB function's CPU share (Lambda gives one vCPU at 1,769 MB, in
# proportion below), plus one in-region network round trip per counted store, queue and stream
# call at the latencies below (stated medians for calls inside one region; not measured here),
# rounded up to Lambda's 1 ms billing unit.
LAMBDA_VCPU_MB = 1769
ROUND_TRIP_MS = {"get": 4, "query": 5, "write": 5, "transact": 10, "sendCalls": 6, "appends": 8}
# Bytes CloudFront adds to each answer (via, x-cache, x-amz-cf-pop, x-amz-cf-id) and sends to the
# origin per request (forwarded viewer headers, CloudFront's headers, the SigV4 authorization).
CLOUDFRONT_ANSWER_EXTRA_BYTES = 200
CLOUDFRONT_ORIGIN_REQUEST_BYTES = 1500
# Log lines per request: Lambda's START/END/REPORT are filtered out (SystemLogLevel WARN) and the
# functions log nothing at INFO for a success (template.yaml), so a successful request writes 0
# and pays neither ingestion nor storage (the logs_* prices apply to errors only).
# On AWS the events consumer receives up to 100 messages per invocation (template.yaml) and the
# event source mapping deletes them in batches of 10 (DeleteMessageBatch).
EVENTS_BATCH = 100
DELETE_BATCH = 10

SCENARIOS = ["redirect", "context", "conversion", "commission"]
# bench.sh's seeding clicks each of its 20 links once and the commission campaign's link once.
WARMUP_CLICKS = 21


def load(out, name):
    path = os.path.join(out, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f) if name.endswith(".json") else f.read().strip()


def diff(after, before):
    return {k: after[k] - before[k] for k in after}


def ms(us):
    return f"{us / 1000:.2f} ms"


def mib(kb):
    return f"{int(kb) / 1024:.1f} MiB" if kb else "?"


def main(out):
    machine = load(out, "machine.json") or {}
    print("# Load benchmark results\n")
    print(
        f"Machine: {machine.get('nproc')} cores ({machine.get('cpu')}), {machine.get('memGiB')} GiB, "
        f"Linux {machine.get('kernel')}; load average before {' '.join(machine.get('loadBefore', []))}, "
        f"after {load(out, 'load-after.txt')}. {machine.get('wrk')}; {machine.get('nginx')}.\n"
    )
    print("| scenario | server | requests/s | p50 | p99 | max | peak RSS | vs nginx | errors |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    runs = {}
    scenarios = sorted(
        {f[len("wrk-tenx-"):-len(".json")] for f in os.listdir(out) if f.startswith("wrk-tenx-") and f.endswith(".json")},
        key=lambda s: (SCENARIOS.index(s.split("-c")[0]) if s.split("-c")[0] in SCENARIOS else 9, s),
    )
    for scenario in scenarios:
        for server in ["nginx", "tenx"]:
            r = load(out, f"wrk-{server}-{scenario}.json")
            if r is None:
                continue
            runs[(server, scenario)] = r
            nginx = runs.get(("nginx", scenario))
            ratio = f"{r['rps'] / nginx['rps']:.2f}×" if nginx and server == "tenx" else ""
            errors = ", ".join(f"{k} {v}" for k, v in r["errors"].items() if v) or "none"
            rss = load(out, f"rss-{server}-{scenario}.txt")
            print(
                f"| {scenario} | {server} | {r['rps']:,.0f} | {ms(r['p50Us'])} | {ms(r['p99Us'])} | "
                f"{ms(r['maxUs'])} | {mib(rss)} | {ratio} | {errors} |"
            )

    print("\n## Operations per request (seam counters, request path)\n")
    print("| scenario | HTTP requests | get | query | write | transact (items) | enqueue calls (messages) | stream appends |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    per = {}
    for scenario in scenarios:
        before, after = load(out, f"ops-{scenario}-before.json"), load(out, f"ops-{scenario}-after.json")
        if not before or not after:
            continue
        n = after["httpRequests"] - before["httpRequests"]
        d = diff(after["requests"], before["requests"])
        if n == 0:
            continue
        p = {k: v / n for k, v in d.items()}
        per[scenario] = (n, d, p)
        print(
            f"| {scenario} | {n:,} | {p['get']:.4f} | {p['query']:.4f} | {p['write']:.4f} | "
            f"{p['transact']:.4f} ({p['transactItems']:.2f}) | {p['sendCalls']:.4f} ({p['sendMessages']:.4f}) | "
            f"{p.get('appends', 0):.4f} |"
        )

    print("\n## Background work per event (consumers, counted until the queue and the stream drained)\n")
    print("| after | events | drained in | get | query | write | transact (items) | receive | ack | stream appends | stream reads |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    background = {}
    for scenario in scenarios:
        before, drained = load(out, f"ops-{scenario}-before.json"), load(out, f"ops-{scenario}-drained.json")
        if not before or not drained:
            continue
        events = recorded(drained["requests"]) - recorded(before["requests"])
        if events == 0:
            print(f"| {scenario} | 0 | {load(out, f'drain-{scenario}.txt')} s | – | – | – | – | – | – | – | – |")
            continue
        d = diff(drained["background"], before["background"])
        p = {k: v / events for k, v in d.items()}
        background[scenario] = p
        print(
            f"| {scenario} | {events:,} | {load(out, f'drain-{scenario}.txt')} s | {p['get']:.3f} | {p['query']:.3f} | "
            f"{p['write']:.3f} | {p['transact']:.3f} ({p['transactItems']:.2f}) | {p['receive']:.3f} | {p['ack']:.3f} | "
            f"{p.get('appends', 0):.3f} | {p.get('streamReads', 0):.4f} |"
        )

    print("\n## Durability and exactly-once checks\n")
    for scenario in scenarios:
        if scenario not in per or ("tenx", scenario) not in runs:
            continue
        n, d, _ = per[scenario]
        answered = runs[("tenx", scenario)]["requests"]
        print(
            f"- {scenario}: wrk received {answered:,} responses; the server handled {n:,} requests and "
            f"durably recorded {recorded(d):,} events before answering ({d.get('appends', 0):,} appended to the "
            f"click stream, {d['sendMessages']:,} enqueued; in-flight requests at the end of a run are handled "
            f"but not counted by wrk)."
        )
    funnel = load(out, "funnel.json")
    if funnel:
        t = funnel.get("totals", {})
        sent_clicks = sum(recorded(per[s][1]) for s in per if s.startswith("redirect"))
        sent_conv = sum(per[s][1]["transact"] for s in per if s.startswith(("conversion", "commission")))
        print(
            f"- analytics after the runs (funnel totals): {t.get('clicks', '?'):,} clicks "
            f"({t.get('botClicks', '?'):,} bots), {t.get('conversions', '?'):,} conversions; the load runs recorded "
            f"{sent_clicks:,} clicks (plus {WARMUP_CLICKS} warm-up clicks) and committed {sent_conv:,} conversions."
        )
        clicks_ok = t.get("clicks") == sent_clicks + WARMUP_CLICKS
        conv_ok = t.get("conversions") == sent_conv
        print(
            "- verdict: "
            + ("every click and every conversion reached analytics exactly once."
               if clicks_ok and conv_ok else
               "MISMATCH between what was accepted and what analytics counted (see above).")
        )

    print_memory(out, scenarios)
    print_costs(per, background, runs, out, machine)
    print_profile(out)


def print_memory(out, scenarios):
    """Where tenx's resident memory sat after each scenario's drain (scripts/bench/memory.py)."""
    rows = [(s, load(out, f"memory-{s}.json")) for s in scenarios]
    rows = [(s, m) for s, m in rows if m]
    if not rows:
        return
    groups = list(rows[0][1]["rssKb"])
    print("\n## Where the memory sits (tenx, after each drain, MiB)\n")
    print("| after | peak (VmHWM) | resident now | " + " | ".join(groups) + " | threads |")
    print("|---|---:|---:|" + "---:|" * len(groups) + "---:|")
    for scenario, m in rows:
        parts = " | ".join(f"{m['rssKb'][g] / 1024:.1f}" for g in groups)
        print(f"| {scenario} | {m['VmHWM'] / 1024:.1f} | {m['VmRSS'] / 1024:.1f} | {parts} | {m['Threads']} |")


def print_profile(out):
    """The redirect's CPU profile, taken on the same server after the measured runs."""
    threads, samples = load(out, "threads-redirect.txt"), load(out, "profile-redirect.txt")
    if not threads or not samples:
        return
    print("\n## Profile: a redirect load under perf (same server, after the measured runs)\n")
    wrk = load(out, "wrk-profile-redirect.txt") or ""
    rate = next((line.split()[1] for line in wrk.splitlines() if line.startswith("Requests/sec")), "?")
    print(f"{rate} requests/s under the profiler. CPU ticks per thread during the run:\n")
    print("```\n" + threads + "\n```\n")
    print("Inclusive share of the samples (callees included), top 40:\n")
    print("```\n" + "\n".join(samples.splitlines()[:40]) + "\n```")


def recorded(counts):
    """Events a request made durable: clicks appended to the stream, events enqueued."""
    return counts.get("appends", 0) + counts["sendMessages"]


def ddb_cost(p):
    # Items of a transaction cost 2 WRU each (<= 1 KB); a single write 1 WRU; a strongly
    # consistent read 1 RRU (<= 4 KB).
    return (
        (p["transactItems"] * 2 + p["write"]) * PRICES["ddb_wru_per_million"]
        + (p["get"] + p["query"]) * PRICES["ddb_rru_per_million"]
    )


def waits_ms(p):
    """In-region network time of the counted calls (one round trip each)."""
    return sum(p.get(k, 0) * ms for k, ms in ROUND_TRIP_MS.items())


def billed_ms(cpu_us, p):
    """A request's billed duration on a 128 MB function (see LAMBDA_VCPU_MB, ROUND_TRIP_MS)."""
    return max(1, math.ceil(cpu_us / 1000 * LAMBDA_VCPU_MB / 128 + waits_ms(p)))


def duration_cost(ms_per_call, calls=1.0):
    return calls * 1e6 * LAMBDA_GB * ms_per_call / 1000 * PRICES["lambda_arm_gb_s"]


def shard_share():
    """The provisioned shards' cost per million clicks at the stated traffic."""
    return STREAM_SHARDS * PRICES["kinesis_shard_hour"] / (TRAFFIC_CLICKS_PER_S * 3600) * 1e6


def cpu_us_per_request(out, scenario, n, clk_tck):
    before, after = load(out, f"cpu-{scenario}-before.txt"), load(out, f"cpu-{scenario}-after.txt")
    if before is None or after is None or n == 0:
        return None
    return (int(after) - int(before)) / clk_tck * 1e6 / n


def edge_rows(answer_bytes):
    gb = 1e6 / 1e9
    dto = (answer_bytes + CLOUDFRONT_ANSWER_EXTRA_BYTES) * gb * PRICES["cloudfront_dto_per_gb"]
    origin = CLOUDFRONT_ORIGIN_REQUEST_BYTES * gb * PRICES["cloudfront_origin_per_gb"]
    return [
        ("CloudFront HTTPS requests", "1", 100 * PRICES["cloudfront_https_per_10k"]),
        ("CloudFront Function (viewer host)", "1", PRICES["cloudfront_function_per_million"]),
        ("CloudFront data transfer out", f"{answer_bytes:.0f} B answer + {CLOUDFRONT_ANSWER_EXTRA_BYTES} B", dto),
        ("CloudFront to origin", f"{CLOUDFRONT_ORIGIN_REQUEST_BYTES} B", origin),
    ]


def request_rows(p, cpu_us):
    ms_billed = billed_ms(cpu_us or 0, p)
    cpu = f"{cpu_us:.0f} µs CPU here" if cpu_us is not None else "CPU not measured"
    calls = " + ".join(f"{p.get(k, 0):.2f} {k}" for k in ROUND_TRIP_MS if p.get(k, 0) >= 0.005) or "no calls"
    return [
        ("Lambda requests", "1", PRICES["lambda_per_million"]),
        ("Lambda duration (128 MB)", f"{ms_billed} ms billed: {cpu}; {calls}", duration_cost(ms_billed)),
        ("DynamoDB", f"{p['get'] + p['query']:.2f} reads, {p['write']:.2f} writes, {p['transact']:.2f} transactions ({p['transactItems']:.2f} items)", ddb_cost(p)),
        ("SQS", f"{p['sendCalls']:.2f} sends", p["sendCalls"] * PRICES["sqs_per_million"]),
        ("Kinesis PUT payload units", f"{p.get('appends', 0):.2f}", p.get("appends", 0) * PRICES["kinesis_put_per_million"]),
        ("Kinesis shard-hours (share)", f"{p.get('appends', 0):.2f} clicks at {TRAFFIC_CLICKS_PER_S}/s", p.get("appends", 0) * shard_share()),
        ("CloudWatch Logs", "0 lines (a success logs nothing)", 0.0),
    ]


def fan_out_rows(p, b):
    """The consumers' work per request: measured store calls per recorded event, their
    invocations (and SQS receive + delete for queued events), their billed waits."""
    queued, appended = p["sendMessages"], p.get("appends", 0)
    events = queued + appended
    if not b or events == 0:
        return []
    relayed = b.get("appends", 0) * events
    events_ms = EVENTS_BATCH * waits_ms(b)  # one invocation's calls for a full batch
    rows = [("fan-out: DynamoDB", f"{events:.2f} events × {b['get'] + b['query']:.3f} reads, {b['write']:.3f} writes, {b['transact']:.3f} transactions", ddb_cost(b) * events)]
    if queued:
        sqs = queued * (1 / EVENTS_BATCH + 1 / DELETE_BATCH) * PRICES["sqs_per_million"]
        rows.append(("fan-out: SQS receive + delete", f"batches of {EVENTS_BATCH} / {DELETE_BATCH}", sqs))
        lam = queued / EVENTS_BATCH * (PRICES["lambda_per_million"] + duration_cost(math.ceil(events_ms)))
        rows.append(("fan-out: events worker", f"1/{EVENTS_BATCH} invocation, {math.ceil(events_ms)} ms billed per batch", lam))
    if appended + relayed:
        put = relayed * (PRICES["kinesis_put_per_million"] + shard_share())
        if relayed:
            rows.append(("fan-out: relayed to the stream", f"{relayed:.2f} PUT units + shard share", put))
        # The clicks worker's batch: one counter transaction per link and day, not per click.
        lam = (appended + relayed) / CLICKS_BATCH * (PRICES["lambda_per_million"] + duration_cost(100))
        rows.append(("fan-out: clicks worker", f"1/{CLICKS_BATCH} invocation (~100 ms per batch)", lam))
    return rows


def print_table(title, rows):
    print(f"\n### {title}\n")
    print("| billed part | per request | $ per million |")
    print("|---|---|---:|")
    for part, qty, cost in rows:
        print(f"| {part} | {qty} | ${cost:.3f} |")
    print(f"| **total** | | **${sum(r[2] for r in rows):.2f}** |")


def print_costs(per, background, runs, out, machine):
    print("\n## Cost per million on AWS\n")
    print(
        f"us-east-1 list prices, Lambda arm64 at 128 MB, DynamoDB on demand, at a stated traffic of "
        f"{TRAFFIC_CLICKS_PER_S} clicks/s on average ({STREAM_SHARDS} provisioned shards). Every store, "
        "queue and stream call is counted by the seams during this run; the billed Lambda duration is "
        f"the CPU a request took here scaled to a 128 MB function's share of a vCPU (×{LAMBDA_VCPU_MB / 128:.1f}), "
        "plus one in-region round trip per counted call at "
        + ", ".join(f"{k} {v} ms" for k, v in ROUND_TRIP_MS.items())
        + " (stated, not measured here), rounded up to 1 ms. The CPU is the whole server's during the "
        "run (consumers included) divided by the requests: an upper bound."
    )
    clk = machine.get("clkTck", 100)
    for scenario in ["redirect", "context", "conversion"]:
        if scenario not in per:
            continue
        n, _, p = per[scenario]
        cpu = cpu_us_per_request(out, scenario, n, clk)
        rows = request_rows(p, cpu)
        if scenario == "redirect":
            r = runs.get(("tenx", "redirect"), {})
            answer = r.get("bytes", 0) / max(r.get("requests", 1), 1)
            rows = edge_rows(answer) + rows
            title = "redirect: CloudFront → function URL → Lambda → Kinesis"
        else:
            rows = [("API Gateway HTTP API", "1", PRICES["apigw_http_per_million"])] + rows
            title = f"{scenario}: API Gateway → Lambda"
        rows += fan_out_rows(p, background.get(scenario))
        print_table(title, [r for r in rows if r[2] > 0 or r[0].startswith("CloudWatch")])
    if "commission" in background and "conversion" in background:
        extra = {k: background["commission"].get(k, 0) - background["conversion"].get(k, 0) for k in background["conversion"]}
        ms_extra = max(0, math.ceil(waits_ms(extra)))
        rows = [
            ("DynamoDB", f"{extra['get'] + extra['query']:.2f} reads, {extra['write']:.2f} writes, {extra['transact']:.2f} transactions ({extra['transactItems']:.2f} items)", ddb_cost(extra)),
            ("SQS", f"{extra['sendCalls']:.2f} sends", max(0.0, extra["sendCalls"]) * PRICES["sqs_per_million"]),
            ("events worker duration", f"{ms_extra} ms more billed", duration_cost(ms_extra)),
        ]
        print_table("a commission: what the events worker does more for a conversion on a campaign with a plan", rows)
    print("\nPrices: " + ", ".join(f"{k} ${v}" for k, v in PRICES.items()) + ".")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench-out")
