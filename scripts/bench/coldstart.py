#!/usr/bin/env python3
"""Cold-start (init) duration of Lambda binaries, measured through a Lambda Runtime API emulator.

    coldstart.py RUNS NAME=BINARY [NAME=BINARY ...]

Each binary is started RUNS times as Lambda starts a function: with `AWS_LAMBDA_RUNTIME_API`
pointing at an emulator on loopback and the function's environment. Its init duration is the
time from the process's spawn to its first `GET /2018-06-01/runtime/invocation/next` (what
Lambda reports as "Init Duration": the runtime is ready for its first event); the peak RSS is the
process's `VmHWM` at that moment. The process is then killed. A binary that posts an init error
or exits before asking for an event fails the run. Prints a Markdown table (median, min, max,
peak RSS) and, per binary, its median as a multiple of the first binary's (the hello world).

The environment is the deployed one without AWS: table and queue URLs given (as template.yaml
gives them), the click stream's name to the functions that write it, secrets given directly (as the SSM parameters would resolve), dummy credentials and
a region, and AWS_ENDPOINT_URL pointing at a closed loopback port, so a network call at init
would fail the run rather than be hidden.
"""

import base64
import http.server
import os
import socket
import statistics
import subprocess
import sys
import threading
import time

NEXT = "/2018-06-01/runtime/invocation/next"
INIT_ERROR = "/2018-06-01/runtime/init/error"


class Emulator(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.asked = threading.Event()
        self.asked_at = 0.0
        self.init_error = None

    def reset(self):
        self.asked.clear()
        self.asked_at = 0.0
        self.init_error = None


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *_):
        pass

    def do_GET(self):
        if self.path == NEXT:
            self.server.asked_at = time.perf_counter()
            self.server.asked.set()
            # Never answer: the process is measured and killed while it waits for its event.
            time.sleep(30)
        self.send_response(404)
        self.end_headers()

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode(errors="replace")
        if self.path == INIT_ERROR:
            self.server.init_error = body
            self.server.asked.set()
        self.send_response(202)
        self.end_headers()


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def environment(runtime_api):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_LAMBDA_FUNCTION_NAME": "coldstart",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/coldstart",
        "AWS_LAMBDA_LOG_STREAM_NAME": "coldstart",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "coldstart",
        "AWS_SECRET_ACCESS_KEY": "coldstart",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{closed_port()}",
        # Deployed, there is no AWS_ENDPOINT_URL, so the clients trust the embedded AWS roots
        # (shared/src/runtime/aws/tls.rs); the closed endpoint above would otherwise select the platform's.
        "TENX_TLS_ROOTS": "aws",
        "TENX_TABLE": "tenx",
        "TENX_EVENTS_QUEUE_URL": "http://127.0.0.1/000000000000/tenx-events",
        "TENX_DELIVERIES_QUEUE_URL": "http://127.0.0.1/000000000000/tenx-deliveries",
        "TENX_REDIRECT_DOMAIN": "links.example.com",
        "TENX_JWT_SECRET": "coldstart-secret-coldstart-secret-0123456789",
        "TENX_CTX_KEYS": "k1:" + base64.b64encode(b"coldstart-ctx-key-" * 2).decode(),
        "TENX_EDGE": "cloudfront-oac",
        # Ed25519 seeds (base64url, 32 bytes): the functions that sign statements and receipts.
        "TENX_SIGNING_KEYS": base64.urlsafe_b64encode(b"coldstart-signing-seed-32-bytes!").decode().rstrip("="),
        "RUST_LOG": "warn",
    }
    return env


def peak_rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(binary, emulator, env):
    emulator.reset()
    start = time.perf_counter()
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while not emulator.asked.wait(0.05):
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace")[-600:]
                raise RuntimeError(f"{binary} exited ({proc.returncode}) before init: {err}")
            if time.perf_counter() - start > 20:
                raise RuntimeError(f"{binary} did not ask for an event within 20 s")
        if emulator.init_error is not None:
            raise RuntimeError(f"{binary} reported an init error: {emulator.init_error[:600]}")
        return (emulator.asked_at - start) * 1000.0, peak_rss_kib(proc.pid)
    finally:
        proc.kill()
        proc.wait()


# The functions template.yaml gives the click stream's name (TENX_CLICK_STREAM), as
# tests/lambda/template.rs checks: they append to it, so they build its client at init.
STREAM_WRITERS = {"redirect", "console", "events"}


def function_environment(env, name):
    if name in STREAM_WRITERS:
        return {**env, "TENX_CLICK_STREAM": "tenx-clicks"}
    return env


def main():
    runs = int(sys.argv[1])
    targets = [arg.split("=", 1) for arg in sys.argv[2:]]
    emulator = Emulator()
    threading.Thread(target=emulator.serve_forever, daemon=True).start()
    base_env = environment(f"127.0.0.1:{emulator.server_address[1]}")
    rows = []
    for name, binary in targets:
        env = function_environment(base_env, name)
        measure(binary, emulator, env)  # warm the page cache: every run then starts alike
        samples = [measure(binary, emulator, env) for _ in range(runs)]
        ms = [s[0] for s in samples]
        rows.append((name, statistics.median(ms), min(ms), max(ms), max(s[1] for s in samples)))
    base = rows[0][1]
    print(f"| binary | init median | min | max | × {rows[0][0]} | peak RSS |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, med, lo, hi, rss in rows:
        print(f"| {name} | {med:.2f} ms | {lo:.2f} ms | {hi:.2f} ms | {med / base:.1f}× | {rss / 1024:.1f} MiB |")


if __name__ == "__main__":
    main()
