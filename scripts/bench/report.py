#!/usr/bin/env python3
"""Turns the raw results of scripts/bench.sh (bench-out/) into the tables of BENCHMARKS.md:
throughput and latency against nginx, peak memory, operations per request from the seam
counters, and the cost per million requests on AWS from the prices below."""

import json
import math
import os
import sys

# Published on-demand prices, us-east-1 (N. Virginia), as listed on the AWS pricing pages in
# 2025 (DynamoDB on-demand after the November 2024 reduction). Free tiers ignored.
PRICES = {
    "apigw_http_per_million": 1.00,  # HTTP API, first 300 M requests/month (per 512 KB)
    "lambda_arm_gb_s": 0.0000133334,  # Lambda arm64, per GB-second (billed per 1 ms)
    "lambda_per_million": 0.20,  # Lambda requests
    "ddb_wru_per_million": 0.625,  # on-demand write request unit (1 KB; 2 per item in a transaction)
    "ddb_rru_per_million": 0.125,  # on-demand read request unit (4 KB strongly consistent)
    "sqs_per_million": 0.40,  # standard queue requests (per 64 KB chunk)
    "kinesis_put_per_million": 0.014,  # provisioned stream, PUT payload units (25 KB each)
    "kinesis_shard_hour": 0.015,  # provisioned stream, per shard-hour
}
# The click stream's shards (template.yaml) are paid by the hour whatever the traffic, so their
# share of a click depends on the traffic: stated here, an average of 100 clicks/s (259 million a
# month, about 1 in 20 of a shard pair's capacity).
STREAM_SHARDS = 2
TRAFFIC_CLICKS_PER_S = 100
# The clicks worker's batches on Lambda: up to 5,000 records within 30 s (template.yaml); at the
# stated traffic a batch holds 30 s of one shard's clicks.
CLICKS_BATCH = TRAFFIC_CLICKS_PER_S * 30 // STREAM_SHARDS
LAMBDA_GB = 128 / 1024  # Lambda bills memory in GB of 1024 MB
# Billed Lambda durations are assumptions: on Lambda the CPU work measured here (tens of µs) is
# dwarfed by the network round trips it awaits (SQS SendMessage ~5-10 ms, DynamoDB
# TransactWriteItems ~10-15 ms in-region), and a 128 MB function gets ~7 % of a vCPU.
ASSUMED_MS = {"redirect": 10, "context": 2, "conversion": 25, "events_batch": 50, "clicks_batch": 100}
# On AWS the events consumer receives up to 100 messages per invocation (template.yaml) and the
# event source mapping deletes them in batches of 10 (DeleteMessageBatch).
EVENTS_BATCH = 100
DELETE_BATCH = 10

SCENARIOS = ["redirect", "context", "conversion"]


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


def lambda_cost(duration_ms, gb=LAMBDA_GB):
    return PRICES["lambda_per_million"] + 1e6 * gb * duration_ms / 1000 * PRICES["lambda_arm_gb_s"]


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
        sent_conv = sum(per[s][1]["transact"] for s in per if s.startswith("conversion"))
        print(
            f"- analytics after the runs (funnel totals): {t.get('clicks', '?'):,} clicks "
            f"({t.get('botClicks', '?'):,} bots), {t.get('conversions', '?'):,} conversions; the load runs recorded "
            f"{sent_clicks:,} clicks (plus {20} warm-up clicks) and committed {sent_conv:,} conversions."
        )
        clicks_ok = t.get("clicks") == sent_clicks + 20
        conv_ok = t.get("conversions") == sent_conv
        print(
            "- verdict: "
            + ("every click and every conversion reached analytics exactly once."
               if clicks_ok and conv_ok else
               "MISMATCH between what was accepted and what analytics counted (see above).")
        )

    print_costs(per, background)


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


def stream_cost(appends_per_request):
    """PUT payload units plus the shards' share of a click at the stated traffic."""
    clicks_per_hour = TRAFFIC_CLICKS_PER_S * 3600
    shards = STREAM_SHARDS * PRICES["kinesis_shard_hour"] / clicks_per_hour * 1e6
    return appends_per_request * (PRICES["kinesis_put_per_million"] + shards)


def fan_out_cost(p, b):
    """Per million requests: the consumers' measured store operations per recorded event, plus
    the consumer invocations (and SQS receive + delete for queued events)."""
    queued, appended = p["sendMessages"], p.get("appends", 0)
    events = queued + appended
    if not b or events == 0:
        return 0.0
    cost = ddb_cost(b) * events
    cost += queued * (1 / EVENTS_BATCH + 1 / DELETE_BATCH) * PRICES["sqs_per_million"]
    cost += queued / EVENTS_BATCH * lambda_cost(ASSUMED_MS["events_batch"])
    # Events the events worker relays to the stream to be counted there (conversions): their
    # PUT payload units and their share of the clicks worker's invocations.
    relayed = b.get("appends", 0) * events
    cost += relayed * PRICES["kinesis_put_per_million"]
    cost += (appended + relayed) / CLICKS_BATCH * lambda_cost(ASSUMED_MS["clicks_batch"])
    return cost


def print_costs(per, background):
    print("\n## Cost per million on AWS (us-east-1, Lambda arm64 at 128 MB, DynamoDB on-demand)\n")
    print(
        "Request path: API Gateway HTTP API + the Lambda invocation (assumed billed duration) + the "
        "measured store, queue and stream operations. Stream: a click's PUT payload unit plus its "
        f"share of {STREAM_SHARDS} provisioned shards at {TRAFFIC_CLICKS_PER_S} clicks/s on average. "
        "Fan-out: the consumers' measured store operations per event, and their invocations: the "
        f"events worker's ({ASSUMED_MS['events_batch']} ms per {EVENTS_BATCH} events, with SQS receive + "
        f"delete at batches of {EVENTS_BATCH} / {DELETE_BATCH}), the clicks worker's "
        f"({ASSUMED_MS['clicks_batch']} ms per {CLICKS_BATCH} clicks: 30 s of a shard at that traffic).\n"
    )
    print("| per million | API Gateway | Lambda | DynamoDB | SQS | Kinesis | request path | fan-out | total |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for scenario in ["redirect", "conversion", "context"]:
        if scenario not in per:
            continue
        _, _, p = per[scenario]
        apigw = PRICES["apigw_http_per_million"]
        lam = lambda_cost(ASSUMED_MS[scenario])
        ddb = ddb_cost(p)
        sqs = p["sendCalls"] * PRICES["sqs_per_million"]
        kinesis = stream_cost(p.get("appends", 0))
        path = apigw + lam + ddb + sqs + kinesis
        fan = fan_out_cost(p, background.get(scenario))
        print(
            f"| {scenario} | ${apigw:.2f} | ${lam:.2f} | ${ddb:.3f} | ${sqs:.3f} | ${kinesis:.3f} | "
            f"${path:.2f} | ${fan:.3f} | ${path + fan:.2f} |"
        )
    print(
        f"\nAssumed billed Lambda durations: {', '.join(f'{k} {v} ms' for k, v in ASSUMED_MS.items())}. "
        f"At 256 MB (template.yaml's setting) the Lambda column doubles less the request fee: "
        f"redirect ${lambda_cost(ASSUMED_MS['redirect'], 0.25):.2f}, conversion "
        f"${lambda_cost(ASSUMED_MS['conversion'], 0.25):.2f} per million. The shards' share scales "
        f"inversely with traffic: ${stream_cost(1) - PRICES['kinesis_put_per_million']:.3f} per million "
        f"clicks at {TRAFFIC_CLICKS_PER_S}/s, ten times less at ten times the traffic."
    )
    print("\nPrices: " + ", ".join(f"{k} ${v}" for k, v in PRICES.items()) + ".")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench-out")
