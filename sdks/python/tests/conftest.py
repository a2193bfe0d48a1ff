"""Helpers: the real server comes from scripts/sdk_test.sh (TENX_URL, TENX_TOKEN for an admin
of `acme`); the receivers, the dropping proxy and the stub server are made here."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

TENX_URL = os.environ.get("TENX_URL", "")
TENX_TOKEN = os.environ.get("TENX_TOKEN", "")
HANDLE = "acme"
if not TENX_URL or not TENX_TOKEN:
    raise RuntimeError("run through scripts/sdk_test.sh: TENX_URL and TENX_TOKEN are unset")


def follow_redirect(slug: str, handle: str = HANDLE) -> str:
    """Follows the short link like a phone's browser and returns the ctx of its redirect."""
    port = urlsplit(TENX_URL).port
    r = httpx.get(
        f"{TENX_URL}/{slug}",
        headers={
            "host": f"{handle}.localhost:{port}",
            "user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1",
        },
        follow_redirects=False,
    )
    assert r.status_code == 302, r.text
    return parse_qs(urlsplit(r.headers["location"]).query)["ctx"][0]


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


class Receiver:
    """A local webhook receiver: every delivery, its headers and raw body."""

    def __init__(self) -> None:
        deliveries = self.deliveries = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                deliveries.append((dict(self.headers.items()), body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/tenx"

    def wait_for(self, needle: str, timeout: float = 20.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for headers, body in self.deliveries:
                if needle.encode() in body:
                    return headers, body
            time.sleep(0.1)
        raise AssertionError(f"no delivery with {needle} in {timeout} s")

    def close(self) -> None:
        self.server.shutdown()


class DroppingProxy:
    """A TCP proxy to the server that closes the first connection as soon as the server's answer
    starts: the request reached the server and was handled, the client never hears."""

    def __init__(self) -> None:
        self.connections = 0
        self.dropped = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.upstream = (urlsplit(TENX_URL).hostname, urlsplit(TENX_URL).port)
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            upstream = socket.create_connection(self.upstream)
            drop = self.connections == 1
            threading.Thread(target=self._pipe, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, drop), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, drop: bool) -> None:
        try:
            while data := src.recv(65536):
                if drop:
                    self.dropped += 1
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self) -> None:
        self.closed = True
        self.listener.close()


class Stub:
    """A stub server: every answer has the given status, body and x-tenx-api-version."""

    def __init__(self, version: str, status: int = 200, extra: dict[str, str] | None = None) -> None:
        self.hits = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                stub.hits += 1
                length = int(self.headers.get("content-length", 0))
                if length:
                    self.rfile.read(length)
                body = (
                    b'{"status":"ok"}'
                    if status < 400
                    else json.dumps({"error": {"code": "unavailable", "message": "stub says no", "requestId": "req_stub"}}).encode()
                )
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("x-tenx-api-version", version)
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture(scope="session")
def receiver():
    r = Receiver()
    yield r
    r.close()
