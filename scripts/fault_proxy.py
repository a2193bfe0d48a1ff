#!/usr/bin/env python3
"""A fault-injecting HTTP proxy in front of the AWS emulator (moto), for the project's own tests.

    fault_proxy.py UPSTREAM_URL        # prints "FAULT_PROXY_URL=http://127.0.0.1:PORT", then serves
    fault_proxy.py UPSTREAM_URL --dynamodb DYNAMODB_URL

Every request is forwarded to UPSTREAM_URL (DynamoDB's to DYNAMODB_URL when given: a second
emulator, or DynamoDB Local, so the faults reach DynamoDB there too) unless a fault is drawn for
it. Each of the proxy's threads keeps its connection to an upstream open, as an SDK's pool does
(a connection per request cost the emulator a thread and a handshake each). Faults are off until a
test turns them on, per service (dynamodb, sqs, kinesis, read from the request's X-Amz-Target or
its SigV4 credential scope), each a probability:

    POST /__faults {"dynamodb": {"throttle": 0.05, "error": 0.05, "slow": 0.05, "drop": 0.05,
                                 "slow_ms": 300}, "sqs": {...}, "kinesis": {...}}
    DELETE /__faults                   # all off
    GET /__faults                      # the settings and what was injected so far

- throttle: 400 with the service's throttling error (the SDK backs off and retries);
- error: 500 InternalFailure (retried as transient);
- slow: forwarded after slow_ms;
- drop: forwarded and APPLIED, then the connection is closed without an answer (a lost answer:
  the caller cannot tell whether its write landed, and retries it).

A fault aimed at one operation (issue 42) is keyed "service.Operation", the operation read from
X-Amz-Target (e.g. "kinesis.PutRecord": {"drop": 0.05, "slow": 0.05, "slow_ms": 800} drops the
answers of applied appends and slows others past the redirect's budget, while the put still
lands). Its rates are drawn first; the service's own apply to the rest. "seed" (an integer)
seeds the draws, so a run's mix of faults can be told and repeated.

Standard library only, so it runs with the venv's (or any) Python 3.
"""

import http.client
import http.server
import json
import random
import socket
import sys
import threading
import time
import urllib.parse

UPSTREAM = urllib.parse.urlsplit(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5000")
UPSTREAMS = {}
if "--dynamodb" in sys.argv:
    UPSTREAMS["dynamodb"] = urllib.parse.urlsplit(sys.argv[sys.argv.index("--dynamodb") + 1])
CONNECTIONS = threading.local()
LOCK = threading.Lock()
FAULTS = {}
INJECTED = {}
THROTTLE = {
    "dynamodb": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
    "kinesis": "ProvisionedThroughputExceededException",
    "sqs": "ThrottlingException",
}
SERVICES = (("DynamoDB_", "dynamodb"), ("Kinesis_", "kinesis"), ("AmazonSQS", "sqs"))


RNG = random.Random()


def operation_of(headers):
    """The operation named by X-Amz-Target ("Kinesis_20131202.PutRecord" -> "PutRecord")."""
    return headers.get("X-Amz-Target", "").rpartition(".")[2]


def service_of(headers):
    target = headers.get("X-Amz-Target", "")
    for prefix, name in SERVICES:
        if target.startswith(prefix):
            return name
    # SigV4: Credential=KEY/DATE/REGION/SERVICE/aws4_request
    auth = headers.get("Authorization", "")
    parts = auth.split("Credential=")[-1].split("/") if "Credential=" in auth else []
    return parts[3] if len(parts) > 3 else "other"


def draw_from(key, rates, roll):
    """The fault `roll` falls on among `rates` (and what is left of the roll), or None."""
    for kind in ("throttle", "error", "slow", "drop"):
        p = float(rates.get(kind, 0))
        if roll < p:
            INJECTED[key + "." + kind] = INJECTED.get(key + "." + kind, 0) + 1
            return (kind, int(rates.get("slow_ms", 300))), roll
        roll -= p
    return None, roll


def draw(service, operation):
    """The fault for one request of `service`'s `operation`, or None."""
    with LOCK:
        roll = RNG.random()
        aimed = FAULTS.get("%s.%s" % (service, operation))
        if isinstance(aimed, dict):
            fault, roll = draw_from("%s.%s" % (service, operation), aimed, roll)
            if fault:
                return fault
        rates = FAULTS.get(service)
        if isinstance(rates, dict):
            fault, _ = draw_from(service, rates, roll)
            if fault:
                return fault
    return None, 0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def answer(self, status, payload, content_type="application/x-amz-json-1.0", extra=None):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def control(self, method, body):
        global FAULTS
        with LOCK:
            if method == "POST":
                FAULTS = json.loads(body or b"{}")
                if "seed" in FAULTS:
                    RNG.seed(int(FAULTS["seed"]))
            elif method == "DELETE":
                FAULTS = {}
            snapshot = {"faults": FAULTS, "injected": dict(INJECTED)}
        self.answer(200, snapshot, "application/json")

    def forward(self, method, body, service):
        upstream = UPSTREAMS.get(service, UPSTREAM)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
        for attempt in (0, 1):
            conn, reused = upstream_connection(upstream)
            try:
                conn.request(method, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                drop_connection(upstream)
                # A kept connection the upstream had closed while idle: the request never
                # reached it, so it is sent once more on a new one. A new one failing is news.
                if reused and attempt == 0:
                    continue
                raise
            if resp.will_close:
                drop_connection(upstream)
            return resp, data

    def relay(self, resp, data):
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length", "date", "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        method = self.command
        body = self.body()
        if self.path.startswith("/__faults"):
            return self.control(method, body)
        service = service_of(self.headers)
        kind, slow_ms = draw(service, operation_of(self.headers))
        if kind == "throttle":
            code = THROTTLE.get(service, "ThrottlingException")
            return self.answer(400, {"__type": code, "message": "Rate exceeded (injected)"},
                               extra={"x-amzn-query-error": "%s;Sender" % code.split("#")[-1]})
        if kind == "error":
            return self.answer(500, {"__type": "InternalFailure", "message": "injected"})
        if kind == "slow":
            time.sleep(slow_ms / 1000.0)
        resp, data = self.forward(method, body, service)
        if kind == "drop":
            # Applied upstream; the caller never hears of it.
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return None
        return self.relay(resp, data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = handle_any


def upstream_connection(upstream):
    """This thread's kept connection to `upstream`, and whether it served a request before."""
    pool = CONNECTIONS.__dict__.setdefault("pool", {})
    conn = pool.get(upstream.netloc)
    if conn is not None:
        return conn, True
    conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
    pool[upstream.netloc] = conn
    return conn, False


def drop_connection(upstream):
    pool = CONNECTIONS.__dict__.setdefault("pool", {})
    conn = pool.pop(upstream.netloc, None)
    if conn is not None:
        conn.close()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A caller killed mid-request (the test's kill -9) is expected, not news.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def main():
    server = Server(("127.0.0.1", 0), Handler)
    print("FAULT_PROXY_URL=http://127.0.0.1:%d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
