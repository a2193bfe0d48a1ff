#!/usr/bin/env python3
"""A local Stripe Connect and PayPal Payouts for the payout tests: no emulator of either exists.

    provider_server.py [--port N] [--stdin]

Listens on 127.0.0.1 (a free port unless --port), prints `READY {port}` once it listens, then
serves until killed, or until its stdin closes with --stdin (the test that started it ended), as
scripts/smtp_server.py does. scripts/provider_server.sh starts one and prints `export` lines.

It speaks the parts of the providers' published APIs a payout needs, with the shapes, error
envelopes and signatures of their OpenAPI documents (every fact, its source file and the spec's
version: docs/providers.md):

- Stripe (form-encoded bodies, `Authorization: Bearer sk_test_…`, `Stripe-Account`,
  `Idempotency-Key`): POST /v1/accounts, GET /v1/accounts/{id}, POST /v1/account_links (the
  onboarding URL is served here: a GET completes onboarding and redirects to return_url),
  POST /v1/transfers, GET /v1/transfers?transfer_group=…, GET /v1/transfers/{id},
  POST /v1/transfers/{id}/reversals; events signed as Stripe signs them (`Stripe-Signature`).
- PayPal (JSON): POST /v1/oauth2/token, POST /v1/payments/payouts (sender_batch_id deduped),
  GET /v1/payments/payouts/{id}, GET /v1/payments/payouts-item/{id},
  POST /v1/payments/payouts-item/{id}/cancel, POST /v1/notifications/verify-webhook-signature;
  events with PayPal's transmission headers,
  signed SHA256withRSA by a certificate served here (made with the openssl command at start).
- A control API under /_control/ for tests (no auth: loopback only), described at CONTROL below.

Standard library only (plus the `openssl` command for PayPal's certificate and signatures).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from datetime import datetime, timezone

# The versions the shapes were read from (docs/providers.md).
STRIPE_API_VERSION = "2026-07-29.dahlia"
PAYPAL_EVENT_VERSION = "1.0"

CONTROL = """
POST /_control/reset                      everything forgotten (config, faults, objects, counters)
POST /_control/config {...}               any of: stripe_api_key, paypal_client_id,
      paypal_client_secret (default: any sk_test_/rk_test_ key, any client), idempotency_ttl_s
      (86400: Stripe forgets keys after it), paypal_batch_id_ttl_s (30 days), paypal_token_ttl_s
      (32400), account_link_ttl_s (300), webhook_retry_delays_s ([0.2, 0.5, 1, 2]),
      stripe_balance {"usd": 1000} (minor units; default unlimited), paypal_auto_settle
      ("SUCCESS" … : every new item settles so after paypal_auto_settle_s, default 0.2)
POST /_control/webhooks {"provider": "stripe"|"paypal", "url": …, "secret": "whsec_…"
      (stripe) | "webhook_id": "…" (paypal)}            where events go (one URL per provider)
POST /_control/webhooks/faults {"provider": …, "duplicate": N, "out_of_order": N,
      "before_answer": N, "drop": N, "delay_s": S}       the next N events of that provider:
      delivered twice; held and delivered in the reverse of the order they happened in once N
      are held (or at flush);
      delivered before the HTTP answer is written; never delivered; delivered S seconds late
POST /_control/webhooks/flush             deliver what out_of_order holds now, in reverse order
GET  /_control/webhooks/deliveries        every attempt: event id, type, status, body, headers
POST /_control/faults {"route": "POST /v1/transfers", "fault": "429"|"500"|"hang"|"lost_answer",
      "count": N, "seconds": T, "retry_after": S}        the next N requests of that route:
      429 (Retry-After S), 500, an answer T seconds late (hang), or the effect performed then
      the connection closed without an answer (lost_answer)
POST /_control/stripe/accounts/{id}/complete            onboarding done: payouts enabled
POST /_control/stripe/accounts/{id}/restrict {"disabled_reason": …, "currently_due": [...]}
POST /_control/stripe/accounts/{id}/payout_failed {"amount", "currency", "failure_code"}
POST /_control/stripe/transfers/{id}/reverse {"amount": N?}   a reversal made on Stripe's side
POST /_control/stripe/idempotency/expire  every idempotency key forgotten now
POST /_control/paypal/items/{id}/settle {"status": "SUCCESS"|"FAILED"|"UNCLAIMED"|"RETURNED"|
      "PENDING"|…, "error": "RECEIVER_UNREGISTERED"?}
POST /_control/paypal/batches/{id}/settle {"status": …, "error": …?}   every item of the batch
GET  /_control/counters                   what was actually created, replayed, refused, sent
GET  /_control/requests                   every API request: route, headers that matter, body
GET  /_control/state                      every object
"""

# Stripe's names (docs/providers.md): error types of `api_errors`, the codes used here.
STRIPE_REQUIREMENTS_DUE = [
    "business_profile.url",
    "external_account",
    "individual.dob.day",
    "individual.first_name",
    "individual.last_name",
    "tos_acceptance.date",
]
PAYPAL_ITEM_ERRORS = {
    # transaction_status -> the error name PayPal reports on the item (docs/providers.md)
    "FAILED": ("RECEIVER_ACCOUNT_LOCKED", "Receiver's account is locked or inactive."),
    "UNCLAIMED": ("RECEIVER_UNREGISTERED", "Receiver is unregistered."),
    "RETURNED": (
        "RECEIVER_UNREGISTERED",
        "The payment was not claimed within 30 days and was returned.",
    ),
    "BLOCKED": ("RECEIVER_COUNTRY_NOT_ALLOWED", "The payment was blocked."),
    "ONHOLD": ("PENDING_RECIPIENT_NON_HOLD_REVIEW", "The payment is on hold for review."),
    "REFUNDED": ("REFUNDED", "The payment was refunded."),
    "REVERSED": ("REVERSED", "The payment was reversed."),
}
PAYPAL_ITEM_EVENTS = {
    "SUCCESS": "PAYMENT.PAYOUTS-ITEM.SUCCEEDED",
    "FAILED": "PAYMENT.PAYOUTS-ITEM.FAILED",
    "UNCLAIMED": "PAYMENT.PAYOUTS-ITEM.UNCLAIMED",
    "RETURNED": "PAYMENT.PAYOUTS-ITEM.RETURNED",
    "BLOCKED": "PAYMENT.PAYOUTS-ITEM.BLOCKED",
    "ONHOLD": "PAYMENT.PAYOUTS-ITEM.HELD",
    "REFUNDED": "PAYMENT.PAYOUTS-ITEM.REFUNDED",
    "REVERSED": "PAYMENT.PAYOUTS-ITEM.REFUNDED",
}
PAYPAL_ITEM_STATES = {
    "SUCCESS",
    "FAILED",
    "PENDING",
    "UNCLAIMED",
    "RETURNED",
    "ONHOLD",
    "BLOCKED",
    "REFUNDED",
    "REVERSED",
}
PAYPAL_INFO_LINK = "https://developer.paypal.com/docs/api/payments.payouts-batch/#errors"


def now() -> float:
    return time.time()


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def rand_id(prefix: str, n: int = 16) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(n))


# A PayPal account's payer ID, the receiver of a PAYPAL_ID item (docs/providers.md): 13
# capital letters and digits, the shape paypal_id() makes.
PAYER_ID = re.compile(r"[A-Z0-9]{13}")


def paypal_id(n: int = 13) -> str:
    return "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(n))


def parse_form(body: bytes) -> dict:
    """Stripe's form encoding: `metadata[k]=v` nests, `a[]=x` lists; a repeated key keeps the last."""
    out: dict = {}
    for key, value in urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True):
        parts = key.replace("]", "").split("[")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(key)
        last = parts[-1]
        if last == "":
            node.setdefault("_list", []).append(value)
        else:
            node[last] = value
    return out


class Fail(Exception):
    """An API answer other than success: status, body, extra headers."""

    def __init__(self, status: int, body: dict, headers: dict | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def stripe_error(
    status: int,
    etype: str,
    message: str,
    code: str | None = None,
    param: str | None = None,
    headers: dict | None = None,
) -> Fail:
    err = {"type": etype, "message": message}
    if code:
        err["code"] = code
        err["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
    if param:
        err["param"] = param
    return Fail(status, {"error": err}, headers)


def paypal_error(
    status: int,
    name: str,
    message: str,
    details: list | None = None,
    links: list | None = None,
    headers: dict | None = None,
) -> Fail:
    body = {
        "name": name,
        "message": message,
        "debug_id": secrets.token_hex(7)[:13],
        "information_link": PAYPAL_INFO_LINK,
    }
    if details is not None:
        body["details"] = details
    body["links"] = links or []
    return Fail(status, body, headers)


class Signer:
    """PayPal's transmission signature: SHA256withRSA by a self-signed certificate (openssl)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="provider-server-")
        self.key = os.path.join(self.dir, "key.pem")
        self.cert = os.path.join(self.dir, "cert.pem")
        self.cert_id = "CERT-360caa42-fca2a594-" + secrets.token_hex(4)
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                self.key,
                "-out",
                self.cert,
                "-days",
                "2",
                "-subj",
                "/CN=messageverificationcerts.local",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        with open(self.cert, "rb") as f:
            self.cert_pem = f.read()

    def sign(self, message: bytes) -> str:
        out = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", self.key],
            input=message,
            check=True,
            capture_output=True,
        ).stdout
        return base64.b64encode(out).decode()


def paypal_message(transmission_id: str, time_: str, webhook_id: str, body: bytes) -> bytes:
    """What PayPal signs: `transmission_id|transmission_time|webhook_id|crc32(body)` (decimal)."""
    return f"{transmission_id}|{time_}|{webhook_id}|{binascii.crc32(body) & 0xFFFFFFFF}".encode()


def stripe_signature(secret: str, t: int, payload: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


DEFAULT_CONFIG = {
    "stripe_api_key": None,
    "paypal_client_id": None,
    "paypal_client_secret": None,
    "idempotency_ttl_s": 86400.0,
    "paypal_batch_id_ttl_s": 30 * 86400.0,
    "paypal_token_ttl_s": 32400,
    "account_link_ttl_s": 300,
    "webhook_retry_delays_s": [0.2, 0.5, 1.0, 2.0],
    "stripe_balance": None,
    "paypal_auto_settle": None,
    "paypal_auto_settle_s": 0.2,
}


class World:
    """Every object, fault and counter; one lock guards all of it."""

    def __init__(self, base_url: str, signer: Signer):
        self.base_url, self.signer = base_url, signer
        self.lock = threading.RLock()
        self.deliveries = Deliveries(self)
        self.reset()

    def reset(self):
        with self.lock:
            self.config = json.loads(json.dumps(DEFAULT_CONFIG))
            self.accounts: dict = {}
            self.links: dict = {}
            self.transfers: dict = {}
            self.transfer_order: list = []
            self.idempotency: dict = {}  # (api key, account, idem key) -> record
            self.in_flight: set = set()
            self.tokens: dict = {}  # access token -> expiry
            self.batches: dict = {}
            self.items: dict = {}
            self.sender_batch_ids: dict = {}  # sender_batch_id -> (batch id, time)
            self.faults: dict = {}  # route -> [fault, ...]
            self.requests: list = []
            self.transmissions: dict = {}  # PayPal transmission id -> what was sent
            self.counters = {
                "stripe": {
                    "accounts_created": 0,
                    "account_links_created": 0,
                    "transfers_created": 0,
                    "reversals_created": 0,
                    "idempotent_replays": 0,
                    "idempotency_errors": 0,
                    "idempotency_in_use": 0,
                    "payouts_failed": 0,
                },
                "paypal": {
                    "tokens_issued": 0,
                    "batches_created": 0,
                    "items_created": 0,
                    "duplicate_batches_refused": 0,
                    "verifications": 0,
                },
                "faults_injected": 0,
            }
        self.deliveries.reset()

    def take_fault(self, route: str) -> dict | None:
        with self.lock:
            queue = self.faults.get(route)
            if not queue:
                return None
            fault = queue[0]
            fault["count"] -= 1
            if fault["count"] <= 0:
                queue.pop(0)
            self.counters["faults_injected"] += 1
            return dict(fault)


_request = threading.local()  # the events an API request caused, held until it answers


class Deliveries:
    """Webhook deliveries, in order, retried after a failure (Stripe and PayPal both retry)."""

    def __init__(self, world: World):
        self.world = world
        self.cv = threading.Condition()
        self.queue: list = []  # [due, seq, delivery]
        self.seq = 0
        threading.Thread(target=self.run, daemon=True).start()

    def reset(self):
        with self.cv:
            self.queue = []
            self.hooks = {}  # provider -> {"url", "secret"/"webhook_id"}
            self.faults = {}  # provider -> {"duplicate": n, ...}
            self.held = {}  # provider -> [event, ...]
            self.happened = {}  # event id -> the order it happened in
            self.log = []
            self.counts = {"delivered": 0, "attempts": 0, "failed_attempts": 0, "dropped": 0}

    def emit(self, provider: str, event: dict):
        """An event happened. During an API request it waits for the request's answer (see
        `captured`), as a provider's delivery follows its answer; otherwise it is queued now."""
        with self.cv:
            # The order events happened in: a request's events are scheduled by its own thread
            # after its answer, so a later request's can be scheduled first.
            self.seq += 1
            self.happened[event["id"]] = self.seq
        capture = getattr(_request, "events", None)
        if capture is not None:
            capture.append((provider, event))
            return
        before, after = self.plan([(provider, event)])
        self.schedule(before + after)  # no answer to precede: a control call's events

    def plan(self, events: list) -> tuple[list, list]:
        """Applies the faults drawn for these events: (to deliver before the answer, after it)."""
        before, after = [], []
        with self.cv:
            for provider, event in events:
                faults = self.faults.setdefault(provider, {})
                if self._take(faults, "drop"):
                    self.counts["dropped"] += 1
                    continue
                copies = [(provider, event)] * (2 if self._take(faults, "duplicate") else 1)
                (before if self._take(faults, "before_answer") else after).extend(copies)
        return before, after

    def schedule(self, events: list):
        with self.cv:
            for provider, event in events:
                faults = self.faults.setdefault(provider, {})
                if faults.get("out_of_order", 0) > 0:
                    faults["out_of_order"] -= 1
                    self.held.setdefault(provider, []).append(event)
                    if faults["out_of_order"] == 0:
                        self._release(provider)
                    continue
                self._push(now() + float(faults.get("delay_s") or 0), provider, event, 0)

    @staticmethod
    def _take(faults: dict, name: str) -> bool:
        if faults.get(name, 0) > 0:
            faults[name] -= 1
            return True
        return False

    def _release(self, provider: str):
        held = sorted(self.held.pop(provider, []), key=lambda e: self.happened.get(e["id"], 0))
        t = now()
        for i, event in enumerate(reversed(held)):
            self._push(t + i * 0.01, provider, event, 0)

    def flush(self):
        with self.cv:
            for provider in list(self.held):
                self._release(provider)

    def _push(self, due: float, provider: str, event: dict, attempt: int):
        self.seq += 1
        self.queue.append([due, self.seq, (provider, event, attempt)])
        self.queue.sort(key=lambda q: (q[0], q[1]))
        self.cv.notify_all()

    def run(self):
        while True:
            with self.cv:
                while not self.queue or self.queue[0][0] > now():
                    self.cv.wait(None if not self.queue else max(0.0, self.queue[0][0] - now()))
                _, _, (provider, event, attempt) = self.queue.pop(0)
            ok = self.deliver(provider, event)
            if not ok:
                with self.cv:
                    delays = self.world.config["webhook_retry_delays_s"]
                    if attempt < len(delays):
                        self._push(now() + float(delays[attempt]), provider, event, attempt + 1)

    def deliver(self, provider: str, event: dict) -> bool:
        """One attempt (signed afresh, as each provider signs each attempt); True on a 2xx."""
        with self.cv:
            hook = self.hooks.get(provider)
        if not hook:
            return True  # nowhere to send: the event stays readable in the state
        body = json.dumps(event, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "provider-server"}
        if provider == "stripe":
            headers["Stripe-Signature"] = stripe_signature(hook["secret"], int(now()), body)
        else:
            tid = str(uuid.uuid1())
            ttime = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            sig = self.world.signer.sign(paypal_message(tid, ttime, hook["webhook_id"], body))
            headers.update(
                {
                    "PAYPAL-TRANSMISSION-ID": tid,
                    "PAYPAL-TRANSMISSION-TIME": ttime,
                    "PAYPAL-TRANSMISSION-SIG": sig,
                    "PAYPAL-AUTH-ALGO": "SHA256withRSA",
                    "PAYPAL-CERT-URL": f"{self.world.base_url}/_paypal/certs/{self.world.signer.cert_id}",
                }
            )
            with self.world.lock:
                self.world.transmissions[tid] = {
                    "time": ttime,
                    "sig": sig,
                    "body": body,
                    "webhook_id": hook["webhook_id"],
                }
        status, error = self._post(hook["url"], body, headers)
        with self.cv:
            self.counts["attempts"] += 1
            ok = status is not None and 200 <= status < 300
            self.counts["delivered" if ok else "failed_attempts"] += 1
            self.log.append(
                {
                    "provider": provider,
                    "event_id": event.get("id"),
                    "type": event.get("type") or event.get("event_type"),
                    "status": status,
                    "error": error,
                    "at": now(),
                    "headers": headers,
                    "body": body.decode(),
                }
            )
        return ok

    @staticmethod
    def _post(url: str, body: bytes, headers: dict):
        u = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=10)
        try:
            conn.request(
                "POST", (u.path or "/") + (f"?{u.query}" if u.query else ""), body, headers
            )
            resp = conn.getresponse()
            resp.read()
            return resp.status, None
        except OSError as e:
            return None, str(e)
        finally:
            conn.close()


# ---------------------------------------------------------------------------------------- Stripe


def account_view(acct: dict) -> dict:
    return json.loads(json.dumps(acct))


def new_account(params: dict) -> dict:
    if params.get("type", "express") not in ("express", "standard", "custom"):
        raise stripe_error(
            400,
            "invalid_request_error",
            f"Invalid type: must be one of custom, express, or standard",
            "parameter_invalid_string",
            "type",
        )
    return {
        "id": rand_id("acct_", 16),
        "object": "account",
        "type": params.get("type", "express"),
        "country": params.get("country", "US"),
        "email": params.get("email"),
        "default_currency": "usd",
        "created": int(now()),
        "livemode": False,
        "business_type": params.get("business_type"),
        "charges_enabled": False,
        "payouts_enabled": False,
        "details_submitted": False,
        "capabilities": {"transfers": "inactive"},
        "requirements": {
            "currently_due": list(STRIPE_REQUIREMENTS_DUE),
            "eventually_due": list(STRIPE_REQUIREMENTS_DUE),
            "past_due": list(STRIPE_REQUIREMENTS_DUE),
            "pending_verification": [],
            "disabled_reason": "requirements.past_due",
            "current_deadline": None,
            "errors": [],
            "alternatives": [],
        },
        "metadata": dict(params.get("metadata") or {}),
    }


def transfer_view(tr: dict) -> dict:
    return json.loads(json.dumps(tr))


class StripeApi:
    def __init__(self, world: World):
        self.w = world

    def authenticate(self, headers) -> str:
        auth = headers.get("Authorization", "")
        key = ""
        if auth.startswith("Bearer "):
            key = auth[7:].strip()
        elif auth.startswith("Basic "):
            try:
                key = base64.b64decode(auth[6:]).decode().split(":")[0]
            except (ValueError, UnicodeDecodeError):
                key = ""
        if not key:
            raise stripe_error(
                401,
                "invalid_request_error",
                "You did not provide an API key. You need to provide your API key in "
                "the Authorization header, using Bearer auth.",
            )
        wanted = self.w.config["stripe_api_key"]
        ok = (
            hmac.compare_digest(key, wanted) if wanted else key.startswith(("sk_test_", "rk_test_"))
        )
        if not ok:
            raise stripe_error(
                401,
                "invalid_request_error",
                f"Invalid API Key provided: {key[:8]}****{key[-4:]}",
                "api_key_invalid",
            )
        return key

    def connected(self, headers):
        acct = headers.get("Stripe-Account")
        if acct and acct not in self.w.accounts:
            raise stripe_error(
                403,
                "invalid_request_error",
                f"The provided key does not have access to account '{acct}' (or that "
                "account does not exist). Application access may have been revoked.",
                "account_invalid",
            )
        return acct

    def account(self, acct_id: str) -> dict:
        acct = self.w.accounts.get(acct_id)
        if acct is None:
            raise stripe_error(
                404,
                "invalid_request_error",
                f"No such account: '{acct_id}'",
                "resource_missing",
                "account",
            )
        return acct

    def transfer(self, tr_id: str) -> dict:
        tr = self.w.transfers.get(tr_id)
        if tr is None:
            raise stripe_error(
                404,
                "invalid_request_error",
                f"No such transfer: '{tr_id}'",
                "resource_missing",
                "id",
            )
        return tr

    # Events -----------------------------------------------------------------------------------

    def event(self, etype: str, obj: dict, ctx, account: str | None = None, previous=None) -> None:
        ev = {
            "id": rand_id("evt_", 24),
            "object": "event",
            "api_version": STRIPE_API_VERSION,
            "created": int(now()),
            "livemode": False,
            "pending_webhooks": 1,
            "type": etype,
            "data": {"object": obj},
            "request": {
                "id": ctx.get("request_id") if ctx else None,
                "idempotency_key": ctx.get("idempotency_key") if ctx else None,
            },
        }
        if previous is not None:
            ev["data"]["previous_attributes"] = previous
        if account:
            ev["account"] = account
        self.w.deliveries.emit("stripe", ev)

    # Routes -----------------------------------------------------------------------------------

    def create_account(self, params, ctx):
        acct = new_account(params)
        self.w.accounts[acct["id"]] = acct
        self.w.counters["stripe"]["accounts_created"] += 1
        return 200, account_view(acct)

    def get_account(self, params, ctx, acct_id):
        return 200, account_view(self.account(acct_id))

    def create_account_link(self, params, ctx):
        for name in ("account", "type"):
            if not params.get(name):
                raise stripe_error(
                    400,
                    "invalid_request_error",
                    f"Missing required param: {name}.",
                    "parameter_missing",
                    name,
                )
        if params["type"] not in ("account_onboarding", "account_update"):
            raise stripe_error(
                400,
                "invalid_request_error",
                "Invalid type: must be one of account_onboarding or account_update",
                "parameter_invalid_string",
                "type",
            )
        acct = self.w.accounts.get(params["account"])
        if acct is None:
            raise stripe_error(
                400,
                "invalid_request_error",
                f"No such account: '{params['account']}'",
                "resource_missing",
                "account",
            )
        for name in ("return_url", "refresh_url"):
            url = params.get(name)
            if url is not None and urllib.parse.urlsplit(url).scheme not in ("http", "https"):
                raise stripe_error(
                    400, "invalid_request_error", f"Not a valid URL", "url_invalid", name
                )
        token = secrets.token_urlsafe(18)
        created = int(now())
        link = {
            "object": "account_link",
            "created": created,
            "expires_at": created + int(self.w.config["account_link_ttl_s"]),
            "url": f"{self.w.base_url}/_connect/onboarding/{token}",
        }
        self.w.links[token] = {
            "account": acct["id"],
            "return_url": params.get("return_url"),
            "refresh_url": params.get("refresh_url"),
            "used": False,
            "expires_at": link["expires_at"],
        }
        self.w.counters["stripe"]["account_links_created"] += 1
        return 200, link

    def create_transfer(self, params, ctx):
        amount = self._amount(params.get("amount"), "amount", required=True)
        currency = (params.get("currency") or "").lower()
        if not currency:
            raise stripe_error(
                400,
                "invalid_request_error",
                "Missing required param: currency.",
                "parameter_missing",
                "currency",
            )
        if len(currency) != 3 or not currency.isalpha():
            raise stripe_error(
                400,
                "invalid_request_error",
                f"Invalid currency: {currency}.",
                "parameter_invalid_string",
                "currency",
            )
        dest = params.get("destination")
        if not dest:
            raise stripe_error(
                400,
                "invalid_request_error",
                "Missing required param: destination.",
                "parameter_missing",
                "destination",
            )
        acct = self.w.accounts.get(dest)
        if acct is None:
            raise stripe_error(
                400,
                "invalid_request_error",
                f"No such destination: '{dest}'",
                "resource_missing",
                "destination",
            )
        if acct["capabilities"].get("transfers") != "active":
            raise stripe_error(
                400,
                "invalid_request_error",
                "Your destination account needs to have at least one of the following "
                "capabilities enabled: transfers, crypto_transfers, legacy_payments",
                "insufficient_capabilities_for_transfer",
                "destination",
            )
        metadata = params.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise stripe_error(
                400,
                "invalid_request_error",
                "Invalid metadata: must be an object",
                "parameter_invalid_string",
                "metadata",
            )
        balance = self.w.config["stripe_balance"]
        if balance is not None:
            available = int(balance.get(currency, 0))
            if available < amount:
                raise stripe_error(
                    400,
                    "invalid_request_error",
                    "You have insufficient available funds in your Stripe account. Try "
                    "adding funds directly to your available balance by creating Top-ups.",
                    "balance_insufficient",
                )
            balance[currency] = available - amount
        tr_id = rand_id("tr_", 24)
        tr = {
            "id": tr_id,
            "object": "transfer",
            "amount": amount,
            "amount_reversed": 0,
            "balance_transaction": rand_id("txn_", 24),
            "created": int(now()),
            "currency": currency,
            "description": params.get("description"),
            "destination": dest,
            "destination_payment": rand_id("py_", 14),
            "livemode": False,
            "metadata": {k: str(v) for k, v in metadata.items()},
            "reversals": {
                "object": "list",
                "data": [],
                "has_more": False,
                "total_count": 0,
                "url": f"/v1/transfers/{tr_id}/reversals",
            },
            "reversed": False,
            "source_transaction": params.get("source_transaction"),
            "source_type": params.get("source_type", "card"),
            "transfer_group": params.get("transfer_group"),
        }
        self.w.transfers[tr_id] = tr
        self.w.transfer_order.append(tr_id)
        self.w.counters["stripe"]["transfers_created"] += 1
        self.event("transfer.created", transfer_view(tr), ctx)
        return 200, transfer_view(tr)

    @staticmethod
    def _amount(raw, name, required):
        if raw is None or raw == "":
            if required:
                raise stripe_error(
                    400,
                    "invalid_request_error",
                    f"Missing required param: {name}.",
                    "parameter_missing",
                    name,
                )
            return None
        if not (isinstance(raw, str) and raw.isdigit()):
            raise stripe_error(
                400,
                "invalid_request_error",
                f"Invalid integer: {raw}",
                "parameter_invalid_integer",
                name,
            )
        value = int(raw)
        if value < 1:
            raise stripe_error(
                400,
                "invalid_request_error",
                "This value must be greater than or equal to 1.",
                "parameter_invalid_integer",
                name,
            )
        return value

    def list_transfers(self, params, ctx):
        group, dest = params.get("transfer_group"), params.get("destination")
        limit = params.get("limit") or "10"
        if not limit.isdigit() or not 1 <= int(limit) <= 100:
            raise stripe_error(
                400,
                "invalid_request_error",
                "Invalid limit: must be between 1 and 100",
                "parameter_invalid_integer",
                "limit",
            )
        found = [
            self.w.transfers[t]
            for t in reversed(self.w.transfer_order)
            if (group is None or self.w.transfers[t]["transfer_group"] == group)
            and (dest is None or self.w.transfers[t]["destination"] == dest)
        ]
        after = params.get("starting_after")
        if after:
            ids = [t["id"] for t in found]
            found = found[ids.index(after) + 1 :] if after in ids else []
        page = found[: int(limit)]
        return 200, {
            "object": "list",
            "url": "/v1/transfers",
            "has_more": len(found) > len(page),
            "data": [transfer_view(t) for t in page],
        }

    def get_transfer(self, params, ctx, tr_id):
        return 200, transfer_view(self.transfer(tr_id))

    def create_reversal(self, params, ctx, tr_id):
        tr = self.transfer(tr_id)
        remaining = tr["amount"] - tr["amount_reversed"]
        amount = self._amount(params.get("amount"), "amount", required=False)
        amount = remaining if amount is None else amount
        if remaining == 0:
            raise stripe_error(
                400, "invalid_request_error", f"Transfer {tr_id} has already been fully reversed."
            )
        if amount > remaining:
            raise stripe_error(
                400,
                "invalid_request_error",
                f"Attempted to reverse {amount} on a transfer with {remaining} remaining.",
                None,
                "amount",
            )
        return 200, self.reverse(tr, amount, params.get("metadata") or {}, ctx)

    def reverse(self, tr: dict, amount: int, metadata: dict, ctx) -> dict:
        rev = {
            "id": rand_id("trr_", 24),
            "object": "transfer_reversal",
            "amount": amount,
            "balance_transaction": rand_id("txn_", 24),
            "created": int(now()),
            "currency": tr["currency"],
            "destination_payment_refund": rand_id("pyr_", 24),
            "metadata": {k: str(v) for k, v in metadata.items()},
            "source_refund": None,
            "transfer": tr["id"],
        }
        previous = {"amount_reversed": tr["amount_reversed"], "reversed": tr["reversed"]}
        tr["amount_reversed"] += amount
        tr["reversed"] = tr["amount_reversed"] == tr["amount"]
        tr["reversals"]["data"].insert(0, rev)
        tr["reversals"]["total_count"] += 1
        self.w.counters["stripe"]["reversals_created"] += 1
        self.event("transfer.reversed", transfer_view(tr), ctx, previous=previous)
        return dict(rev)

    # Control ----------------------------------------------------------------------------------

    def complete(self, acct: dict, ctx=None):
        previous = {
            "details_submitted": acct["details_submitted"],
            "payouts_enabled": acct["payouts_enabled"],
            "charges_enabled": acct["charges_enabled"],
        }
        acct.update({"details_submitted": True, "payouts_enabled": True, "charges_enabled": True})
        acct["capabilities"]["transfers"] = "active"
        acct["requirements"].update(
            {"currently_due": [], "eventually_due": [], "past_due": [], "disabled_reason": None}
        )
        self.event(
            "account.updated", account_view(acct), ctx, account=acct["id"], previous=previous
        )

    def restrict(self, acct: dict, reason: str, due: list):
        previous = {
            "payouts_enabled": acct["payouts_enabled"],
            "charges_enabled": acct["charges_enabled"],
        }
        acct.update({"payouts_enabled": False, "charges_enabled": False})
        acct["capabilities"]["transfers"] = "inactive"
        acct["requirements"].update(
            {"currently_due": list(due), "past_due": list(due), "disabled_reason": reason}
        )
        self.event(
            "account.updated", account_view(acct), None, account=acct["id"], previous=previous
        )

    def payout_failed(self, acct: dict, amount: int, currency: str, code: str):
        messages = {
            "account_closed": "The bank account has been closed.",
            "no_account": "The bank account details on file are probably incorrect. No bank account "
            "could be located with those details.",
            "account_frozen": "The bank account has been frozen.",
            "could_not_process": "The bank could not process this payout.",
        }
        payout = {
            "id": rand_id("po_", 24),
            "object": "payout",
            "amount": amount,
            "currency": currency,
            "arrival_date": int(now()),
            "automatic": True,
            "created": int(now()),
            "livemode": False,
            "metadata": {},
            "method": "standard",
            "status": "failed",
            "type": "bank_account",
            "failure_code": code,
            "failure_message": messages.get(code, "The payout failed."),
            "destination": rand_id("ba_", 24),
        }
        self.w.counters["stripe"]["payouts_failed"] += 1
        self.event("payout.failed", payout, None, account=acct["id"])
        return payout


# ---------------------------------------------------------------------------------------- PayPal


class PaypalApi:
    def __init__(self, world: World):
        self.w = world

    def token(self, headers, body: bytes):
        auth = headers.get("Authorization", "")
        try:
            client, _, secret = (
                base64.b64decode(auth[6:]).decode().partition(":")
                if auth.startswith("Basic ")
                else ("", "", "")
            )
        except (ValueError, UnicodeDecodeError):
            client, secret = "", ""
        want_id, want_secret = (
            self.w.config["paypal_client_id"],
            self.w.config["paypal_client_secret"],
        )
        ok = bool(client and secret)
        if want_id is not None:
            ok = (
                ok
                and hmac.compare_digest(client, want_id)
                and hmac.compare_digest(secret, want_secret or "")
            )
        if not ok:
            raise Fail(
                401,
                {"error": "invalid_client", "error_description": "Client Authentication failed"},
            )
        form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
        if form.get("grant_type") != "client_credentials":
            raise Fail(
                400,
                {
                    "error": "unsupported_grant_type",
                    "error_description": (
                        "Grant Type is NULL"
                        if not form.get("grant_type")
                        else f"{form['grant_type']} is not supported"
                    ),
                },
            )
        token = "A21AA" + secrets.token_urlsafe(40)
        ttl = int(self.w.config["paypal_token_ttl_s"])
        self.w.tokens[token] = now() + ttl
        self.w.counters["paypal"]["tokens_issued"] += 1
        return 200, {
            "scope": "https://uri.paypal.com/payments/payouts",
            "access_token": token,
            "token_type": "Bearer",
            "app_id": "APP-80W284485P519543T",
            "expires_in": ttl,
            "nonce": iso(now()) + secrets.token_hex(8),
        }

    def authenticate(self, headers):
        auth = headers.get("Authorization", "")
        token = auth[7:].strip() if auth.startswith("Bearer ") else ""
        expiry = self.w.tokens.get(token)
        if expiry is None or expiry < now():
            raise paypal_error(
                401,
                "AUTHENTICATION_FAILURE",
                "Authentication failed due to invalid authentication credentials or a "
                "missing Authorization header.",
            )

    def batch_view(self, batch: dict) -> dict:
        items = [self.item_view(self.w.items[i], with_sender_batch=False) for i in batch["items"]]
        header = {
            "payout_batch_id": batch["id"],
            "batch_status": batch["status"],
            "time_created": iso(batch["created"]),
            "sender_batch_header": dict(batch["sender_batch_header"]),
            "amount": {"currency": batch["currency"], "value": batch["total"]},
            "fees": {"currency": batch["currency"], "value": "0.00"},
        }
        if batch.get("completed"):
            header["time_completed"] = iso(batch["completed"])
            header["time_closed"] = iso(batch["completed"])
        return {
            "batch_header": header,
            "items": items,
            "links": [
                {
                    "href": f"{self.w.base_url}/v1/payments/payouts/{batch['id']}",
                    "rel": "self",
                    "method": "GET",
                    "encType": "application/json",
                }
            ],
        }

    def item_view(self, item: dict, with_sender_batch=True) -> dict:
        out = {
            "payout_item_id": item["id"],
            "transaction_id": item.get("transaction_id"),
            "activity_id": item["activity_id"],
            "transaction_status": item["status"],
            "payout_item_fee": {"currency": item["amount"]["currency"], "value": "0.00"},
            "payout_batch_id": item["batch"],
            "payout_item": dict(item["payout_item"]),
            "links": [
                {
                    "href": f"{self.w.base_url}/v1/payments/payouts-item/{item['id']}",
                    "rel": "item",
                    "method": "GET",
                    "encType": "application/json",
                }
            ],
        }
        if with_sender_batch:
            out["sender_batch_id"] = self.w.batches[item["batch"]]["sender_batch_header"].get(
                "sender_batch_id"
            )
        if item.get("processed"):
            out["time_processed"] = iso(item["processed"])
        if item.get("errors"):
            out["errors"] = dict(item["errors"])
        if out["transaction_id"] is None:
            del out["transaction_id"]
        return out

    def create_batch(self, body: dict, ctx):
        header = body.get("sender_batch_header") if isinstance(body, dict) else None
        items = body.get("items") if isinstance(body, dict) else None
        details = []
        if not isinstance(header, dict):
            details.append(
                {
                    "field": "sender_batch_header",
                    "location": "body",
                    "issue": "Required field is missing",
                }
            )
            header = {}
        if not isinstance(items, list) or not items:
            details.append(
                {"field": "items", "location": "body", "issue": "Required field is missing"}
            )
            items = []
        sbid = header.get("sender_batch_id")
        if sbid is not None and (not isinstance(sbid, str) or len(sbid) > 256):
            details.append(
                {
                    "field": "sender_batch_header.sender_batch_id",
                    "location": "body",
                    "issue": "Value is invalid",
                }
            )
        currencies = set()
        for i, it in enumerate(items):
            details.extend(self._check_item(i, it, header, currencies))
        if len(currencies) > 1:
            details.append(
                {
                    "field": "items",
                    "location": "body",
                    "issue": "All items of a batch must have the same currency",
                }
            )
        if details:
            raise paypal_error(
                400,
                "INVALID_REQUEST",
                "Request is not well-formed, syntactically incorrect, or violates schema.",
                details,
            )
        if sbid:
            seen = self.w.sender_batch_ids.get(sbid)
            if seen and now() - seen[1] < float(self.w.config["paypal_batch_id_ttl_s"]):
                self.w.counters["paypal"]["duplicate_batches_refused"] += 1
                raise paypal_error(
                    400,
                    "USER_BUSINESS_ERROR",
                    "User business error.",
                    [
                        {
                            "field": "SENDER_BATCH_ID",
                            "location": "body",
                            "issue": f"Batch with given sender_batch_id already exists: {sbid}",
                        }
                    ],
                    [
                        {
                            "href": f"{self.w.base_url}/v1/payments/payouts/{seen[0]}",
                            "rel": "self",
                            "method": "GET",
                            "encType": "application/json",
                        }
                    ],
                )
        return 201, self._store_batch(header, items, currencies, ctx)

    @staticmethod
    def _check_item(i: int, it, header: dict, currencies: set) -> list:
        bad = []
        if not isinstance(it, dict):
            return [{"field": f"items[{i}]", "location": "body", "issue": "Value is invalid"}]
        rtype = it.get("recipient_type") or header.get("recipient_type") or "EMAIL"
        if rtype not in ("EMAIL", "PHONE", "PAYPAL_ID"):
            bad.append(
                {
                    "field": f"items[{i}].recipient_type",
                    "location": "body",
                    "issue": "Value is invalid",
                }
            )
        receiver = it.get("receiver")
        if (
            not isinstance(receiver, str)
            or not receiver
            or len(receiver) > 127
            or (rtype == "EMAIL" and "@" not in receiver)
            or (rtype == "PAYPAL_ID" and not PAYER_ID.fullmatch(receiver))
        ):
            bad.append(
                {
                    "field": f"items[{i}].receiver",
                    "location": "body",
                    "issue": "Receiver is invalid or does not match with type",
                }
            )
        amount = it.get("amount")
        value = amount.get("value") if isinstance(amount, dict) else None
        currency = amount.get("currency") if isinstance(amount, dict) else None
        if not (isinstance(value, str) and _decimal_ok(value)):
            bad.append(
                {
                    "field": f"items[{i}].amount.value",
                    "location": "body",
                    "issue": "Value is invalid",
                }
            )
        if not (isinstance(currency, str) and len(currency) == 3 and currency.isupper()):
            bad.append(
                {
                    "field": f"items[{i}].amount.currency",
                    "location": "body",
                    "issue": "Value is invalid",
                }
            )
        else:
            currencies.add(currency)
        return bad

    def _store_batch(self, header: dict, items: list, currencies: set, ctx) -> dict:
        batch_id = paypal_id()
        currency = next(iter(currencies))
        cents = sum(_cents(it["amount"]["value"]) for it in items)
        sender_header = {
            k: header[k]
            for k in ("sender_batch_id", "email_subject", "email_message", "recipient_type")
            if k in header
        }
        batch = {
            "id": batch_id,
            "status": "PENDING",
            "created": now(),
            "completed": None,
            "sender_batch_header": sender_header,
            "currency": currency,
            "total": f"{cents // 100}.{cents % 100:02d}",
            "items": [],
        }
        self.w.batches[batch_id] = batch
        if header.get("sender_batch_id"):
            self.w.sender_batch_ids[header["sender_batch_id"]] = (batch_id, now())
        for it in items:
            item_id = paypal_id()
            payout_item = {
                "recipient_type": it.get("recipient_type")
                or header.get("recipient_type")
                or "EMAIL",
                "amount": {"currency": it["amount"]["currency"], "value": it["amount"]["value"]},
                "receiver": it["receiver"],
                "recipient_wallet": it.get("recipient_wallet", "PAYPAL"),
            }
            for k in ("note", "sender_item_id", "purpose"):
                if k in it:
                    payout_item[k] = it[k]
            self.w.items[item_id] = {
                "id": item_id,
                "batch": batch_id,
                "status": "PENDING",
                "activity_id": paypal_id(17),
                "payout_item": payout_item,
                "amount": payout_item["amount"],
                "processed": None,
                "errors": None,
            }
            batch["items"].append(item_id)
        self.w.counters["paypal"]["batches_created"] += 1
        self.w.counters["paypal"]["items_created"] += len(items)
        auto = self.w.config["paypal_auto_settle"]
        if auto and float(self.w.config["paypal_auto_settle_s"]) <= 0:
            for item_id in batch["items"]:
                self.settle(self.w.items[item_id], auto, None)  # within the request: see plan()
        elif auto:
            t = threading.Timer(
                float(self.w.config["paypal_auto_settle_s"]), self._auto_settle, (batch_id, auto)
            )
            t.daemon = True
            t.start()
        view = self.batch_view(batch)
        return {
            "batch_header": {
                k: view["batch_header"][k]
                for k in ("payout_batch_id", "batch_status", "sender_batch_header")
            },
            "links": view["links"],
        }

    def _auto_settle(self, batch_id: str, status: str):
        with self.w.lock:
            batch = self.w.batches.get(batch_id)
            if batch:
                for item_id in batch["items"]:
                    if self.w.items[item_id]["status"] == "PENDING":
                        self.settle(self.w.items[item_id], status, None)

    def get_batch(self, batch_id: str):
        batch = self.w.batches.get(batch_id)
        if batch is None:
            raise paypal_error(
                404, "RESOURCE_NOT_FOUND", "The specified resource does not exist.", []
            )
        return 200, self.batch_view(batch)

    def get_item(self, item_id: str):
        item = self.w.items.get(item_id)
        if item is None:
            raise paypal_error(
                404, "RESOURCE_NOT_FOUND", "The specified resource does not exist.", []
            )
        return 200, self.item_view(item)

    def cancel_item(self, item_id: str):
        """Only an UNCLAIMED item can be cancelled; it becomes RETURNED (the spec's
        transaction_enum note) and the money is back with the sender."""
        item = self.w.items.get(item_id)
        if item is None:
            raise paypal_error(
                404, "RESOURCE_NOT_FOUND", "The specified resource does not exist.", []
            )
        if item["status"] == "RETURNED" and item.get("cancelled"):
            raise paypal_error(
                400, "ITEM_ALREADY_CANCELLED", "The requested item is already cancelled.", []
            )
        if item["status"] != "UNCLAIMED":
            raise paypal_error(
                400,
                "ITEM_INCORRECT_STATUS",
                "You can only cancel items that have an Unclaimed state.",
                [],
            )
        item["cancelled"] = True
        self.settle(item, "RETURNED", None)
        return 200, self.item_view(item)

    def settle(self, item: dict, status: str, error: str | None):
        """An item reaches `status` (its webhook follows); the batch completes with its last item."""
        item["status"] = status
        item["processed"] = now()
        if status == "SUCCESS":
            item["transaction_id"] = item.get("transaction_id") or paypal_id(17)
            item["errors"] = None
        elif status in PAYPAL_ITEM_ERRORS:
            name, message = PAYPAL_ITEM_ERRORS[status]
            name = error or name
            item["errors"] = {
                "name": name,
                "message": message if not error else f"{error}.",
                "debug_id": secrets.token_hex(7)[:13],
                "information_link": PAYPAL_INFO_LINK,
            }
        if status in PAYPAL_ITEM_EVENTS:
            self.event(PAYPAL_ITEM_EVENTS[status], "payouts_item", self.item_view(item))
        batch = self.w.batches[item["batch"]]
        done = all(self.w.items[i]["status"] != "PENDING" for i in batch["items"])
        if done and batch["status"] in ("PENDING", "PROCESSING"):
            batch["status"] = "SUCCESS"
            batch["completed"] = now()
            view = self.batch_view(batch)
            self.event("PAYMENT.PAYOUTSBATCH.SUCCESS", "payouts", view)

    def event(self, etype: str, resource_type: str, resource: dict):
        ev = {
            "id": "WH-" + paypal_id(17) + "-" + paypal_id(17),
            "event_version": PAYPAL_EVENT_VERSION,
            "create_time": iso(now()),
            "resource_type": resource_type,
            "event_type": etype,
            "summary": _summary(etype),
            "resource": resource,
            "links": [],
        }
        ev["links"].append(
            {
                "href": f"{self.w.base_url}/v1/notifications/webhooks-events/{ev['id']}",
                "rel": "self",
                "method": "GET",
            }
        )
        self.w.deliveries.emit("paypal", ev)

    def verify(self, body: dict, raw: bytes = b""):
        """PayPal's verify-webhook-signature: SUCCESS only for a transmission sent from here whose
        headers, webhook id and event all match what was sent (a tampered event: FAILURE). The
        signature covers the CRC32 of the delivery's raw body, so the event is checked as the
        verifier sent it, byte for byte: one parsed and written again (its keys sorted, its
        spacing changed) no longer matches what was signed."""
        required = (
            "auth_algo",
            "cert_url",
            "transmission_id",
            "transmission_sig",
            "transmission_time",
            "webhook_id",
            "webhook_event",
        )
        missing = [k for k in required if not isinstance(body, dict) or k not in body]
        if missing:
            raise paypal_error(
                400,
                "INVALID_REQUEST",
                "Request is not well-formed, syntactically incorrect, or violates schema.",
                [
                    {"field": k, "location": "body", "issue": "MISSING_REQUIRED_PARAMETER"}
                    for k in missing
                ],
            )
        self.w.counters["paypal"]["verifications"] += 1
        sent = self.w.transmissions.get(body["transmission_id"])
        ok = (
            sent is not None
            and body["auth_algo"] == "SHA256withRSA"
            and body["cert_url"].endswith(f"/_paypal/certs/{self.w.signer.cert_id}")
            and hmac.compare_digest(str(body["transmission_sig"]), sent["sig"])
            and body["transmission_time"] == sent["time"]
            and body["webhook_id"] == sent["webhook_id"]
            and body["webhook_event"] == json.loads(sent["body"])
            and _crc32_of(_raw_member(raw.decode("utf-8", "replace"), "webhook_event"))
            == binascii.crc32(sent["body"])
        )
        return 200, {"verification_status": "SUCCESS" if ok else "FAILURE"}


def _raw_member(text: str, key: str):
    """The text of member `key`'s value in the JSON object `text`, as written (None if absent)."""
    decoder, space = json.JSONDecoder(), re.compile(r"[ \t\n\r]*")
    at = space.match(text, 0).end()
    if text[at : at + 1] != "{":
        return None
    at = space.match(text, at + 1).end()
    while at < len(text) and text[at] != "}":
        name, at = decoder.raw_decode(text, at)
        at = space.match(text, at).end()
        if text[at : at + 1] != ":":
            return None
        start = space.match(text, at + 1).end()
        _, at = decoder.raw_decode(text, start)
        if name == key:
            return text[start:at]
        at = space.match(text, at).end()
        if text[at : at + 1] == ",":
            at = space.match(text, at + 1).end()
    return None


def _crc32_of(text):
    return None if text is None else binascii.crc32(text.encode("utf-8"))


def _decimal_ok(value: str) -> bool:
    whole, _, frac = value.partition(".")
    return (
        whole.isdigit()
        and (frac == "" or (frac.isdigit() and len(frac) <= 2))
        and _cents(value) > 0
    )


def _cents(value: str) -> int:
    whole, _, frac = value.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def _summary(etype: str) -> str:
    return {
        "PAYMENT.PAYOUTSBATCH.SUCCESS": "Payouts batch completed successfully.",
        "PAYMENT.PAYOUTS-ITEM.SUCCEEDED": "A payout item has succeeded.",
        "PAYMENT.PAYOUTS-ITEM.FAILED": "A payout item has failed.",
        "PAYMENT.PAYOUTS-ITEM.UNCLAIMED": "A payout item is unclaimed.",
        "PAYMENT.PAYOUTS-ITEM.RETURNED": "A payout item was returned.",
    }.get(etype, etype)


# ---------------------------------------------------------------------------------------- HTTP

STRIPE_ROUTES = [
    ("POST", ["v1", "accounts"], "create_account", True),
    ("GET", ["v1", "accounts", "*"], "get_account", False),
    ("POST", ["v1", "account_links"], "create_account_link", True),
    ("POST", ["v1", "transfers"], "create_transfer", True),
    ("GET", ["v1", "transfers"], "list_transfers", False),
    ("GET", ["v1", "transfers", "*"], "get_transfer", False),
    ("POST", ["v1", "transfers", "*", "reversals"], "create_reversal", True),
]
ROUTE_NAMES = {
    "create_account": "POST /v1/accounts",
    "get_account": "GET /v1/accounts/{id}",
    "create_account_link": "POST /v1/account_links",
    "create_transfer": "POST /v1/transfers",
    "list_transfers": "GET /v1/transfers",
    "get_transfer": "GET /v1/transfers/{id}",
    "create_reversal": "POST /v1/transfers/{id}/reversals",
    "token": "POST /v1/oauth2/token",
    "create_batch": "POST /v1/payments/payouts",
    "get_batch": "GET /v1/payments/payouts/{id}",
    "get_item": "GET /v1/payments/payouts-item/{id}",
    "cancel_item": "POST /v1/payments/payouts-item/{id}/cancel",
    "verify": "POST /v1/notifications/verify-webhook-signature",
}


def match(routes, method: str, parts: list):
    for m, pattern, name, mutating in routes:
        if (
            m == method
            and len(pattern) == len(parts)
            and all(p == "*" or p == q for p, q in zip(pattern, parts))
        ):
            return name, [q for p, q in zip(pattern, parts) if p == "*"], mutating
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    world: World = None  # set by main

    def log_message(self, fmt, *args):  # quiet: the control API keeps the log
        pass

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def dispatch(self, method: str):
        url = urllib.parse.urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.answer_extra = {}
        try:
            if parts[:1] == ["_control"]:
                return self.control(method, parts[1:], body, url.query)
            if parts[:2] == ["_connect", "onboarding"] and len(parts) == 3 and method == "GET":
                return self.onboarding(parts[2])
            if parts[:2] == ["_paypal", "certs"] and len(parts) == 3 and method == "GET":
                return self.send(200, self.world.signer.cert_pem, "application/x-pem-file")
            if parts[:1] == ["v1"]:
                return self.api(method, parts, body, url.query)
            self.send_json(
                404,
                {
                    "error": {
                        "type": "invalid_request_error",
                        "message": f"Unrecognized request URL ({method}: {url.path}).",
                    }
                },
            )
        except Fail as f:
            self.send_json(f.status, f.body, f.headers)
        except Exception as e:  # a bug here must read as one, not as a provider's answer
            self.send_json(599, {"provider_server_bug": repr(e)})
            raise

    # The providers' APIs ------------------------------------------------------------------------

    def api(self, method: str, parts: list, body: bytes, query: str):
        w = self.world
        paypal = parts[1:2] in (["oauth2"], ["payments"], ["notifications"])
        route = self.paypal_route(method, parts) if paypal else match(STRIPE_ROUTES, method, parts)
        if route is None:
            raise (
                paypal_error(
                    404, "RESOURCE_NOT_FOUND", "The specified resource does not exist.", []
                )
                if paypal
                else stripe_error(
                    404,
                    "invalid_request_error",
                    f"Unrecognized request URL ({method}: /{'/'.join(parts)}).",
                )
            )
        name, args, mutating = route
        with w.lock:
            w.requests.append(
                {
                    "route": ROUTE_NAMES[name],
                    "path": self.path,
                    "at": now(),
                    "idempotency_key": self.headers.get("Idempotency-Key"),
                    "stripe_account": self.headers.get("Stripe-Account"),
                    "paypal_request_id": self.headers.get("PayPal-Request-Id"),
                    "body": body.decode("utf-8", "replace"),
                }
            )
        fault = w.take_fault(ROUTE_NAMES[name])
        if fault and fault["fault"] in ("429", "500"):
            raise self.fault_answer(paypal, fault)
        # A hang holds the request while it runs (its idempotency key in use), then answers late.
        self.pause = (
            (lambda: time.sleep(float(fault.get("seconds") or 5)))
            if fault and fault["fault"] == "hang"
            else (lambda: None)
        )
        _request.events = []
        try:
            if paypal:
                status, out = self.paypal_call(name, args, body)
            else:
                status, out = self.stripe_call(name, args, body, query, mutating)
        finally:
            captured, _request.events = _request.events, None
        before, after = w.deliveries.plan(captured)
        for provider, event in before:
            w.deliveries.deliver(provider, event)
        if fault and fault["fault"] == "lost_answer":
            # The effect is done (its events follow); the caller never hears of it.
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        else:
            self.send_json(status, out, self.answer_extra)
        w.deliveries.schedule(after)

    @staticmethod
    def fault_answer(paypal: bool, fault: dict) -> Fail:
        if fault["fault"] == "429":
            headers = {"Retry-After": str(fault.get("retry_after", 1))}
            if paypal:
                return paypal_error(
                    429,
                    "RATE_LIMIT_REACHED",
                    "Too many requests. Blocked due to rate limiting.",
                    None,
                    None,
                    headers,
                )
            headers["Stripe-Should-Retry"] = "true"
            return stripe_error(
                429,
                "invalid_request_error",
                "Request rate limit exceeded. Learn more about rate limits here "
                "https://stripe.com/docs/rate-limits.",
                "rate_limit",
                None,
                headers,
            )
        if paypal:
            return paypal_error(500, "INTERNAL_SERVER_ERROR", "An internal server error occurred.")
        return stripe_error(
            500,
            "api_error",
            "An unknown error occurred",
            None,
            None,
            {"Stripe-Should-Retry": "true"},
        )

    def stripe_call(self, name, args, body, query, mutating):
        w, api = self.world, StripeApi(self.world)
        with w.lock:
            key = api.authenticate(self.headers)
            account = api.connected(self.headers)
        try:
            params = parse_form(body if method_has_body(name) else query.encode())
        except (ValueError, UnicodeDecodeError):
            raise stripe_error(400, "invalid_request_error", "Invalid request body.")
        ctx = {
            "request_id": rand_id("req_", 14),
            "idempotency_key": self.headers.get("Idempotency-Key"),
        }
        self.answer_extra["Request-Id"] = ctx["request_id"]
        self.answer_extra["Stripe-Version"] = STRIPE_API_VERSION
        idem = self.headers.get("Idempotency-Key") if mutating else None
        if not idem:
            self.pause()
            with w.lock:
                return getattr(api, name)(params, ctx, *args)
        return self.idempotent(api, name, args, params, ctx, (key, account or "", idem))

    def idempotent(self, api, name, args, params, ctx, scope):
        """Stripe's idempotency: a replay of the first answer for the same key and parameters, an
        idempotency_error for other parameters, 409 while the first is still running; the key is
        forgotten after idempotency_ttl_s. An answer that failed validation is not saved."""
        w = self.world
        fingerprint = json.dumps([ROUTE_NAMES[name], args, params], sort_keys=True)
        with w.lock:
            saved = w.idempotency.get(scope)
            if saved and now() - saved["at"] > float(w.config["idempotency_ttl_s"]):
                del w.idempotency[scope]
                saved = None
            if saved:
                if saved["fingerprint"] != fingerprint:
                    w.counters["stripe"]["idempotency_errors"] += 1
                    raise stripe_error(
                        400,
                        "idempotency_error",
                        "Keys for idempotent requests can only be used with the same parameters they "
                        f"were first used with. Try using a key other than '{scope[2]}' if you meant "
                        "to execute a different request.",
                    )
                w.counters["stripe"]["idempotent_replays"] += 1
                self.answer_extra["Idempotent-Replayed"] = "true"
                self.answer_extra["Original-Request"] = saved["request_id"]
                return saved["status"], json.loads(saved["body"])
            if scope in w.in_flight:
                w.counters["stripe"]["idempotency_in_use"] += 1
                raise stripe_error(
                    409,
                    "idempotency_error",
                    "There is currently another in-progress request using this Idempotent Key (that "
                    "probably means you submitted twice, and the other request is still going "
                    "through): " + scope[2] + ". Please try again later.",
                    "idempotency_key_in_use",
                    None,
                    {"Stripe-Should-Retry": "true"},
                )
            w.in_flight.add(scope)
        try:
            self.pause()
            with w.lock:
                try:
                    status, out = getattr(api, name)(params, ctx, *args)
                except Fail as f:
                    code = f.body["error"].get("code") or ""
                    if (
                        f.status >= 500
                        or code.startswith("parameter_")
                        or code == "resource_missing"
                    ):
                        raise  # validation failed: the endpoint never ran, nothing is saved
                    status, out = f.status, f.body  # a refusal after the endpoint ran is saved
                w.idempotency[scope] = {
                    "fingerprint": fingerprint,
                    "status": status,
                    "at": now(),
                    "body": json.dumps(out),
                    "request_id": ctx["request_id"],
                }
        finally:
            with w.lock:
                w.in_flight.discard(scope)
        return status, out

    def paypal_route(self, method, parts):
        tail = parts[1:]
        if method == "POST" and tail == ["oauth2", "token"]:
            return "token", [], True
        if method == "POST" and tail == ["payments", "payouts"]:
            return "create_batch", [], True
        if method == "GET" and len(tail) == 3 and tail[:2] == ["payments", "payouts"]:
            return "get_batch", [tail[2]], False
        if method == "GET" and len(tail) == 3 and tail[:2] == ["payments", "payouts-item"]:
            return "get_item", [tail[2]], False
        if (
            method == "POST"
            and len(tail) == 4
            and tail[:2] == ["payments", "payouts-item"]
            and tail[3] == "cancel"
        ):
            return "cancel_item", [tail[2]], True
        if method == "POST" and tail == ["notifications", "verify-webhook-signature"]:
            return "verify", [], False
        return None

    def paypal_call(self, name, args, body):
        w, api = self.world, PaypalApi(self.world)
        self.answer_extra["Paypal-Debug-Id"] = secrets.token_hex(7)[:13]
        self.pause()
        with w.lock:
            if name == "token":
                return api.token(self.headers, body)
            api.authenticate(self.headers)
            if name == "get_batch":
                return api.get_batch(*args)
            if name == "get_item":
                return api.get_item(*args)
            if name == "cancel_item":
                return api.cancel_item(*args)
        try:
            doc = json.loads(body or b"null")
        except ValueError:
            raise paypal_error(
                400, "MALFORMED_REQUEST_JSON", "The request JSON is not well formed.", []
            )
        with w.lock:
            if name == "verify":
                return api.verify(doc, body)
            return api.create_batch(doc, {})

    # Stripe's hosted onboarding --------------------------------------------------------------

    def onboarding(self, token: str):
        w = self.world
        with w.lock:
            link = w.links.get(token)
            if link is None:
                return self.send(404, b"This link is not valid.", "text/plain")
            if link["used"] or link["expires_at"] < now():
                target = link["refresh_url"]
            else:
                link["used"] = True
                StripeApi(w).complete(w.accounts[link["account"]])
                target = link["return_url"]
        if not target:
            return self.send(200, b"Onboarding complete.", "text/plain")
        self.send(302, b"", "text/plain", {"Location": target})

    # Control ---------------------------------------------------------------------------------

    def control(self, method: str, parts: list, body: bytes, query: str):
        w = self.world
        try:
            doc = json.loads(body) if body else {}
        except ValueError:
            return self.send_json(400, {"error": "body is not JSON"})
        path = "/".join(parts)
        with w.lock:
            out = self.control_call(method, path, parts, doc)
        if out is None:
            return self.send_json(
                404, {"error": f"no control route {method} /_control/{path}", "routes": CONTROL}
            )
        status, payload = out
        self.send_json(status, payload)

    def control_call(self, method, path, parts, doc):
        w, d = self.world, self.world.deliveries
        if method == "GET":
            views = {
                "counters": lambda: dict(w.counters, webhooks=dict(d.counts)),
                "requests": lambda: w.requests,
                "webhooks/deliveries": lambda: d.log,
                "state": lambda: {
                    "accounts": w.accounts,
                    "transfers": w.transfers,
                    "batches": w.batches,
                    "items": w.items,
                },
            }
            if path not in views:
                return None
            with d.cv:
                return 200, json.loads(json.dumps(views[path]()))
        if path == "reset":
            w.reset()
            return 200, {"reset": True}
        if path == "config":
            unknown = [k for k in doc if k not in DEFAULT_CONFIG]
            if unknown:
                return 400, {"error": f"unknown settings: {unknown}"}
            w.config.update(doc)
            return 200, w.config
        if path == "webhooks":
            if doc.get("provider") not in ("stripe", "paypal") or not doc.get("url"):
                return 400, {"error": "provider (stripe|paypal) and url are required"}
            hook = {
                "url": doc["url"],
                "secret": doc.get("secret") or "whsec_" + secrets.token_hex(16),
                "webhook_id": doc.get("webhook_id") or paypal_id(17),
            }
            with d.cv:
                d.hooks[doc["provider"]] = hook
            return 200, hook
        if path == "webhooks/faults":
            if doc.get("provider") not in ("stripe", "paypal"):
                return 400, {"error": "provider (stripe|paypal) is required"}
            with d.cv:
                d.faults.setdefault(doc["provider"], {}).update(
                    {k: v for k, v in doc.items() if k != "provider"}
                )
            return 200, d.faults[doc["provider"]]
        if path == "webhooks/flush":
            d.flush()
            return 200, {"flushed": True}
        if path == "faults":
            if doc.get("route") not in ROUTE_NAMES.values() or doc.get("fault") not in (
                "429",
                "500",
                "hang",
                "lost_answer",
            ):
                return 400, {
                    "error": "route (one of the API's) and fault (429|500|hang|lost_answer)",
                    "routes": sorted(ROUTE_NAMES.values()),
                }
            fault = {
                "fault": doc["fault"],
                "count": int(doc.get("count", 1)),
                "seconds": doc.get("seconds", 5),
                "retry_after": doc.get("retry_after", 1),
            }
            w.faults.setdefault(doc["route"], []).append(fault)
            return 200, {"route": doc["route"], "queued": w.faults[doc["route"]]}
        if parts[:1] == ["stripe"]:
            return self.control_stripe(parts[1:], doc)
        if parts[:1] == ["paypal"]:
            return self.control_paypal(parts[1:], doc)
        return None

    def control_stripe(self, parts, doc):
        w, api = self.world, StripeApi(self.world)
        if parts == ["idempotency", "expire"]:
            n = len(w.idempotency)
            w.idempotency.clear()
            return 200, {"forgotten": n}
        if len(parts) == 3 and parts[0] == "accounts":
            acct = w.accounts.get(parts[1])
            if acct is None:
                return 404, {"error": f"no account {parts[1]}"}
            if parts[2] == "complete":
                api.complete(acct)
            elif parts[2] == "restrict":
                api.restrict(
                    acct,
                    doc.get("disabled_reason", "requirements.past_due"),
                    doc.get("currently_due", ["external_account"]),
                )
            elif parts[2] == "payout_failed":
                return 200, api.payout_failed(
                    acct,
                    int(doc.get("amount", 1000)),
                    doc.get("currency", "usd"),
                    doc.get("failure_code", "account_closed"),
                )
            else:
                return None
            return 200, account_view(acct)
        if len(parts) == 3 and parts[0] == "transfers" and parts[2] == "reverse":
            tr = w.transfers.get(parts[1])
            if tr is None:
                return 404, {"error": f"no transfer {parts[1]}"}
            remaining = tr["amount"] - tr["amount_reversed"]
            amount = int(doc.get("amount", remaining))
            if not 0 < amount <= remaining:
                return 400, {"error": f"amount must be 1..{remaining}"}
            return 200, api.reverse(tr, amount, {}, None)
        return None

    def control_paypal(self, parts, doc):
        w, api = self.world, PaypalApi(self.world)
        if len(parts) != 3 or parts[2] != "settle" or parts[0] not in ("items", "batches"):
            return None
        status = doc.get("status")
        if status not in PAYPAL_ITEM_STATES:
            return 400, {"error": f"status must be one of {sorted(PAYPAL_ITEM_STATES)}"}
        if parts[0] == "items":
            item = w.items.get(parts[1])
            if item is None:
                return 404, {"error": f"no item {parts[1]}"}
            api.settle(item, status, doc.get("error"))
            return 200, api.item_view(item)
        batch = w.batches.get(parts[1])
        if batch is None:
            return 404, {"error": f"no batch {parts[1]}"}
        for item_id in batch["items"]:
            api.settle(w.items[item_id], status, doc.get("error"))
        return 200, api.batch_view(batch)

    # Writing -----------------------------------------------------------------------------------

    def send_json(self, status: int, payload, headers: dict | None = None):
        self.send(status, json.dumps(payload, indent=2).encode(), "application/json", headers)

    def send(self, status: int, body: bytes, ctype: str, headers: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up waiting (a test's timeout)


def method_has_body(name: str) -> bool:
    return name in ("create_account", "create_account_link", "create_transfer", "create_reversal")


def main():
    args = sys.argv[1:]
    port = int(args[args.index("--port") + 1]) if "--port" in args else 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    Handler.world = World(f"http://127.0.0.1:{port}", Signer())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"READY {port}", flush=True)
    if "--stdin" in args:
        sys.stdin.read()
    else:
        threading.Event().wait()


if __name__ == "__main__":
    main()
