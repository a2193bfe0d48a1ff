#!/usr/bin/env python3
"""Webhook delivery throughput of a running `tenx serve` (scripts/bench.sh deliveries).

Starts a receiver on loopback that answers every POST with 204 at once and records it,
subscribes BENCH_SUBSCRIPTIONS endpoints (paths /s0, /s1, ...) of one handle to `link.clicked`,
clicks one short link BENCH_DELIVERY_EVENTS times (each click: one event, fanned out to every
subscription), and waits until every delivery arrived. Then it checks that every request
verifies under the Standard Webhooks scheme with its subscription's secret, and that no
(endpoint, webhook-id) arrived twice except as a retry (the notifications' failed-attempt
counts bound the duplicates). Prints one `BENCH {...}` JSON line and a summary.

With BENCH_CRASH_CMD set, that command runs once half the deliveries have arrived (scripts/bench.sh
passes one that kills the server with SIGKILL and starts it again on the same data dir): every
delivery must still arrive, and besides retries only attempts cut off mid-flight by the crash
may arrive twice (at most BENCH_CRASH_DUPLICATES_MAX, the worker's concurrency).

Usage: deliveries.py BASE_URL SHORT_HOST JWT OUT_JSON
Env: BENCH_SUBSCRIPTIONS (8), BENCH_DELIVERY_EVENTS (2000), BENCH_DELIVERY_TIMEOUT (600 s),
BENCH_HANDLE (acme), BENCH_RECEIVER_PORT (0: any free port), BENCH_CRASH_CMD,
BENCH_CRASH_DUPLICATES_MAX (64).
"""

import asyncio
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import urllib.request

SUBSCRIPTIONS = int(os.environ.get("BENCH_SUBSCRIPTIONS", "8"))
EVENTS = int(os.environ.get("BENCH_DELIVERY_EVENTS", "2000"))
TIMEOUT = float(os.environ.get("BENCH_DELIVERY_TIMEOUT", "600"))
HANDLE = os.environ.get("BENCH_HANDLE", "acme")
CLICK_CONNECTIONS = 8
UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"


class Receiver:
    """HTTP/1.1 with keep-alive: reads a request, records it, answers 204."""

    def __init__(self):
        self.requests = []  # (monotonic time, path, headers, body)

    async def serve(self, reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append((time.monotonic(), path, headers, body))
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the client closed the connection, or the benchmark is over
        finally:
            writer.close()


def api(base, jwt, method, path, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=None if body is None else json.dumps(body).encode())
    req.add_header("authorization", f"Bearer {jwt}")
    req.add_header("content-type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.status, json.loads(resp.read() or b"null")


async def click(host, port, short_host, n, counts):
    """n clicks on /bench over one keep-alive connection; counts 302s."""
    reader, writer = await asyncio.open_connection(host, port)
    request = (f"GET /bench HTTP/1.1\r\nhost: {short_host}\r\nuser-agent: {UA}\r\n\r\n").encode()
    for _ in range(n):
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        if length:
            await reader.readexactly(length)
        counts[status] = counts.get(status, 0) + 1
    writer.close()


def verify(secret, headers, body):
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers.get('webhook-id')}.{headers.get('webhook-timestamp')}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(sig.split(",", 1)[1], expected)
               for sig in headers.get("webhook-signature", "").split(" ") if sig.startswith("v1,"))


async def main(base, short_host, jwt, out):
    receiver = Receiver()
    server = await asyncio.start_server(receiver.serve, "127.0.0.1",
                                        int(os.environ.get("BENCH_RECEIVER_PORT", "0")))
    rport = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    secrets = {}
    for i in range(SUBSCRIPTIONS):
        status, body = await loop.run_in_executor(None, api, base, jwt, "POST",
                                                  f"/v2/handles/{HANDLE}/webhooks",
                                                  {"endpointUrl": f"http://127.0.0.1:{rport}/s{i}",
                                                   "eventTypes": ["link.clicked"]})
        assert status == 201, (status, body)
        secrets[f"/s{i}"] = body["secret"]
    status, _ = await loop.run_in_executor(None, api, base, jwt, "PUT",
                                           f"/v2/handles/{HANDLE}/links/bench",
                                           {"destinationUrl": "https://example.com/product"})
    assert status in (200, 201), status

    host, port = base.removeprefix("http://").split(":")
    counts = {}
    started = time.monotonic()
    per = [EVENTS // CLICK_CONNECTIONS + (1 if i < EVENTS % CLICK_CONNECTIONS else 0)
           for i in range(CLICK_CONNECTIONS)]
    await asyncio.gather(*(click(host, int(port), short_host, n, counts) for n in per))
    clicked = time.monotonic()
    assert counts == {302: EVENTS}, counts
    expected = EVENTS * SUBSCRIPTIONS

    def distinct():
        return {(r[1], r[2].get("webhook-id")) for r in receiver.requests}

    deadline = started + TIMEOUT
    crash = os.environ.get("BENCH_CRASH_CMD")
    crashed_at = None
    while len(distinct()) < expected and time.monotonic() < deadline:
        if crash and crashed_at is None and len(receiver.requests) >= expected // 2:
            crashed_at = len(receiver.requests)
            print(f"  crash after {crashed_at} deliveries: {crash}")
            await loop.run_in_executor(None, lambda: subprocess.run(crash, shell=True, check=True))
        await asyncio.sleep(0.2)
    # A moment more for stray duplicates to show up before counting them.
    await asyncio.sleep(1.0)
    requests = list(receiver.requests)
    server.close()

    seen = distinct()
    first, last = requests[0][0], max(r[0] for r in requests)
    unsigned = sum(1 for _, path, h, b in requests if not verify(secrets[path], h, b))
    wrong_type = sum(1 for _, _, _, b in requests if json.loads(b).get("type") != "link.clicked")
    _, notes = await loop.run_in_executor(None, api, base, jwt, "GET",
                                          f"/v2/handles/{HANDLE}/notifications")
    failed_attempts = sum(s["failedAttempts"] for s in notes["subscriptions"])
    duplicates = len(requests) - len(seen)
    allowed = failed_attempts
    if crashed_at is not None:
        allowed += int(os.environ.get("BENCH_CRASH_DUPLICATES_MAX", "64"))
    result = {
        "crashedAfter": crashed_at,
        "subscriptions": SUBSCRIPTIONS, "events": EVENTS, "expected": expected,
        "received": len(requests), "distinct": len(seen), "duplicates": duplicates,
        "failedAttempts": failed_attempts, "unsigned": unsigned, "wrongType": wrong_type,
        "clickSeconds": round(clicked - started, 2),
        "deliverySeconds": round(last - first, 2),
        "drainSeconds": round(last - started, 2),
        "deliveriesPerSecond": round(len(requests) / max(last - first, 1e-9), 1),
    }
    json.dump(result, open(out, "w"))
    print("BENCH " + json.dumps(result))
    print(f"  {len(seen)} of {expected} deliveries ({SUBSCRIPTIONS} endpoints x {EVENTS} clicks) in "
          f"{result['deliverySeconds']} s: {result['deliveriesPerSecond']} deliveries/s; "
          f"unsigned {unsigned}, duplicates {duplicates} (failed attempts {failed_attempts})")
    problems = []
    if len(seen) != expected:
        problems.append(f"{expected - len(seen)} deliveries missing after {TIMEOUT} s")
    if unsigned or wrong_type:
        problems.append(f"{unsigned} unsigned, {wrong_type} of the wrong type")
    if duplicates > allowed:
        problems.append(f"{duplicates} duplicates but only {allowed} allowed "
                        f"({failed_attempts} failed attempts, crashed: {crashed_at is not None})")
    if problems:
        sys.exit("FAILED: " + "; ".join(problems))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
