#!/usr/bin/env python3
"""The provider server's own tests (python3 scripts/provider_server_test.py; a few seconds).

Starts scripts/provider_server.py and drives every route, fault and settlement of its Stripe and
PayPal APIs as a client would, with a webhook receiver of its own. The signatures are checked
independently of the server's code: Stripe's HMAC recomputed here from the raw body, PayPal's
RSA signature checked with the `openssl` command against the certificate the delivery names,
and PayPal's verify endpoint asked about a genuine and a tampered delivery. Standard library only.
"""

import base64
import binascii
import hashlib
import hmac
import http.client
import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = "sk_test_provider_server_test"


class Receiver(http.server.ThreadingHTTPServer):
    """Records every webhook (headers and raw body); answers `fail_next` of them with 500."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), ReceiverHandler)
        self.daemon_threads = True
        self.got, self.fail_next, self.cv = [], 0, threading.Condition()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def wait(self, n, timeout=3.0):
        """The first n deliveries, or a failure after `timeout`."""
        deadline = time.time() + timeout
        with self.cv:
            while len(self.got) < n:
                left = deadline - time.time()
                if left <= 0:
                    raise AssertionError(f"{len(self.got)} webhooks arrived, {n} expected")
                self.cv.wait(left)
            return list(self.got[:n])

    def clear(self):
        with self.cv:
            self.got, self.fail_next = [], 0


class ReceiverHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        srv = self.server
        with srv.cv:
            fail = srv.fail_next > 0
            srv.fail_next -= 1 if fail else 0
            if not fail:
                srv.got.append(
                    {
                        "headers": dict(self.headers),
                        "raw": raw,
                        "json": json.loads(raw),
                        "at": time.time(),
                    }
                )
                srv.cv.notify_all()
        self.send_response(500 if fail else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def stripe_signature_ok(secret: str, header: str, raw: bytes, tolerance=300) -> bool:
    """Stripe's scheme as its docs state it, written here from scratch: `t=…,v1=…`, v1 the hex
    HMAC-SHA256 of `{t}.{raw body}` under the endpoint's secret, t within the tolerance."""
    fields = [kv.split("=", 1) for kv in header.split(",")]
    t = [v for k, v in fields if k == "t"]
    v1 = [v for k, v in fields if k == "v1"]
    if len(t) != 1 or not v1 or abs(time.time() - int(t[0])) > tolerance:
        return False
    want = hmac.new(secret.encode(), t[0].encode() + b"." + raw, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(want, sig) for sig in v1)


def paypal_signature_ok(headers: dict, raw: bytes, webhook_id: str) -> bool:
    """PayPal's scheme: SHA256withRSA over `transmission_id|transmission_time|webhook_id|crc32`,
    checked with openssl against the certificate PAYPAL-CERT-URL serves."""
    h = {k.lower(): v for k, v in headers.items()}
    if h["paypal-auth-algo"] != "SHA256withRSA":
        return False
    u = urllib.parse.urlsplit(h["paypal-cert-url"])
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
    try:
        conn.request("GET", u.path)
        cert = conn.getresponse().read()
    finally:
        conn.close()
    message = "|".join(
        [
            h["paypal-transmission-id"],
            h["paypal-transmission-time"],
            webhook_id,
            str(binascii.crc32(raw) & 0xFFFFFFFF),
        ]
    ).encode()
    with tempfile.TemporaryDirectory() as d:
        paths = {n: os.path.join(d, n) for n in ("cert.pem", "pub.pem", "sig", "msg")}
        with open(paths["cert.pem"], "wb") as f:
            f.write(cert)
        with open(paths["sig"], "wb") as f:
            f.write(base64.b64decode(h["paypal-transmission-sig"]))
        with open(paths["msg"], "wb") as f:
            f.write(message)
        subprocess.run(
            [
                "openssl",
                "x509",
                "-in",
                paths["cert.pem"],
                "-pubkey",
                "-noout",
                "-out",
                paths["pub.pem"],
            ],
            check=True,
        )
        done = subprocess.run(
            [
                "openssl",
                "dgst",
                "-sha256",
                "-verify",
                paths["pub.pem"],
                "-signature",
                paths["sig"],
                paths["msg"],
            ],
            capture_output=True,
        )
        return done.returncode == 0


class ProviderServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "provider_server.py"), "--stdin"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = cls.proc.stdout.readline()
        assert line.startswith("READY "), line
        cls.port = int(line.split()[1])
        cls.receiver = Receiver()
        threading.Thread(target=cls.receiver.serve_forever, daemon=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.receiver.shutdown()
        cls.receiver.server_close()
        cls.proc.stdin.close()
        cls.proc.wait(5)
        cls.proc.stdout.close()

    def setUp(self):
        self.control("POST", "reset")
        self.control("POST", "config", {"webhook_retry_delays_s": [0.05, 0.05]})
        self.receiver.clear()
        self.secret = self.control(
            "POST",
            "webhooks",
            {"provider": "stripe", "url": self.receiver.url, "secret": "whsec_test"},
        )["secret"]
        self.webhook_id = self.control(
            "POST",
            "webhooks",
            {"provider": "paypal", "url": self.receiver.url, "webhook_id": "4JH86294D6297924G"},
        )["webhook_id"]

    # Clients ----------------------------------------------------------------------------------

    def request(self, method, path, body=None, headers=None, timeout=5):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body, headers or {})
            resp = conn.getresponse()
            raw = resp.read()
            ctype = resp.getheader("Content-Type", "")
            return resp.status, dict(resp.getheaders()), json.loads(raw) if "json" in ctype else raw
        finally:
            conn.close()

    def control(self, method, path, doc=None):
        status, _, out = self.request(
            method, "/_control/" + path, json.dumps(doc).encode() if doc is not None else None
        )
        self.assertEqual(status, 200, out)
        return out

    def stripe(self, method, path, params=None, key=KEY, idem=None, account=None):
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        if idem:
            headers["Idempotency-Key"] = idem
        if account:
            headers["Stripe-Account"] = account
        body = urllib.parse.urlencode(params or {}).encode()
        if method == "GET":
            path, body = (f"{path}?{body.decode()}" if body else path), None
        else:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return self.request(method, path, body, headers)

    def ready_account(self):
        status, _, acct = self.stripe("POST", "/v1/accounts", {"type": "express", "country": "US"})
        self.assertEqual(status, 200, acct)
        self.control("POST", f"stripe/accounts/{acct['id']}/complete")
        return acct["id"]

    def paypal_token(self):
        basic = base64.b64encode(b"client-id:client-secret").decode()
        status, _, out = self.request(
            "POST",
            "/v1/oauth2/token",
            b"grant_type=client_credentials",
            {
                "Authorization": f"Basic {basic}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        self.assertEqual(status, 200, out)
        return out["access_token"]

    def paypal(self, method, path, doc=None, token=None):
        headers = {
            "Authorization": f"Bearer {token or self.paypal_token()}",
            "Content-Type": "application/json",
        }
        return self.request(
            method, path, json.dumps(doc).encode() if doc is not None else None, headers
        )

    @staticmethod
    def batch(sender_batch_id, *receivers):
        return {
            "sender_batch_header": {
                "sender_batch_id": sender_batch_id,
                "recipient_type": "EMAIL",
                "email_subject": "You have a payout",
            },
            "items": [
                {
                    "amount": {"value": "12.34", "currency": "EUR"},
                    "receiver": r,
                    "sender_item_id": f"{sender_batch_id}-{i}",
                }
                for i, r in enumerate(receivers)
            ],
        }

    def counters(self):
        return self.control("GET", "counters")

    # Stripe -----------------------------------------------------------------------------------

    def test_stripe_refuses_a_missing_or_wrong_key_in_its_envelope(self):
        status, _, out = self.stripe("GET", "/v1/transfers", key=None)
        self.assertEqual(status, 401)
        self.assertEqual(out["error"]["type"], "invalid_request_error")
        self.control("POST", "config", {"stripe_api_key": KEY})
        status, _, out = self.stripe("GET", "/v1/transfers", key="sk_test_other")
        self.assertEqual((status, out["error"]["code"]), (401, "api_key_invalid"))
        self.assertEqual(self.stripe("GET", "/v1/transfers")[0], 200)
        status, _, out = self.stripe("GET", "/v1/transfers", account="acct_unknown")
        self.assertEqual((status, out["error"]["code"]), (403, "account_invalid"))

    def test_express_onboarding_through_the_link_then_redirects_to_return_url(self):
        status, _, acct = self.stripe(
            "POST",
            "/v1/accounts",
            {
                "type": "express",
                "country": "FR",
                "email": "p@example.test",
                "metadata[partner]": "pub-one",
            },
        )
        self.assertEqual(status, 200)
        self.assertEqual((acct["object"], acct["type"]), ("account", "express"))
        self.assertFalse(
            acct["payouts_enabled"] or acct["charges_enabled"] or acct["details_submitted"]
        )
        self.assertIn("external_account", acct["requirements"]["currently_due"])
        self.assertEqual(acct["requirements"]["disabled_reason"], "requirements.past_due")
        status, _, link = self.stripe(
            "POST",
            "/v1/account_links",
            {
                "account": acct["id"],
                "type": "account_onboarding",
                "return_url": "https://tenx.example/portal/getting-paid?done=1",
                "refresh_url": "https://tenx.example/portal/getting-paid?again=1",
            },
        )
        self.assertEqual(status, 200, link)
        self.assertEqual(link["object"], "account_link")
        self.assertGreater(link["expires_at"], link["created"])
        path = urllib.parse.urlsplit(link["url"]).path
        status, headers, _ = self.request("GET", path)
        self.assertEqual(
            (status, headers["Location"]), (302, "https://tenx.example/portal/getting-paid?done=1")
        )
        _, _, after = self.stripe("GET", f"/v1/accounts/{acct['id']}")
        self.assertTrue(
            after["payouts_enabled"] and after["details_submitted"] and after["charges_enabled"]
        )
        self.assertEqual(
            (after["requirements"]["currently_due"], after["requirements"]["disabled_reason"]),
            ([], None),
        )
        # A link is single-use: a second visit goes to refresh_url, as Stripe's spec says.
        status, headers, _ = self.request("GET", path)
        self.assertEqual(headers["Location"], "https://tenx.example/portal/getting-paid?again=1")
        hook = self.receiver.wait(1)[0]
        self.assertEqual(
            (hook["json"]["type"], hook["json"]["account"]), ("account.updated", acct["id"])
        )
        # The account as it is now, with the metadata 10x finds its partner by.
        updated = hook["json"]["data"]["object"]
        self.assertEqual((updated["id"], updated["metadata"]), (acct["id"], {"partner": "pub-one"}))
        self.assertTrue(updated["details_submitted"] and updated["payouts_enabled"])
        self.assertIsNone(updated["requirements"]["disabled_reason"])
        self.assertIsInstance(hook["json"]["created"], int)
        self.assertTrue(
            stripe_signature_ok(self.secret, hook["headers"]["Stripe-Signature"], hook["raw"])
        )
        self.assertFalse(
            stripe_signature_ok(
                self.secret, hook["headers"]["Stripe-Signature"], hook["raw"] + b" "
            )
        )
        self.assertFalse(
            stripe_signature_ok("whsec_other", hook["headers"]["Stripe-Signature"], hook["raw"])
        )

    def test_restricted_account_says_why_and_refuses_transfers(self):
        acct = self.ready_account()
        self.control(
            "POST",
            f"stripe/accounts/{acct}/restrict",
            {"disabled_reason": "rejected.fraud", "currently_due": []},
        )
        _, _, view = self.stripe("GET", f"/v1/accounts/{acct}")
        self.assertFalse(view["payouts_enabled"])
        self.assertEqual(view["requirements"]["disabled_reason"], "rejected.fraud")
        status, _, out = self.stripe(
            "POST", "/v1/transfers", {"amount": 500, "currency": "eur", "destination": acct}
        )
        self.assertEqual(
            (status, out["error"]["code"]), (400, "insufficient_capabilities_for_transfer")
        )
        self.assertEqual(self.counters()["stripe"]["transfers_created"], 0)

    def test_transfer_created_found_by_group_and_by_id(self):
        acct = self.ready_account()
        self.receiver.wait(1)
        status, _, tr = self.stripe(
            "POST",
            "/v1/transfers",
            {
                "amount": 12345,
                "currency": "eur",
                "destination": acct,
                "transfer_group": "po_1",
                "metadata[payout]": "po_1",
                "metadata[program]": "pg_9",
            },
        )
        self.assertEqual(status, 200, tr)
        self.assertEqual(
            (tr["object"], tr["amount"], tr["currency"], tr["destination"]),
            ("transfer", 12345, "eur", acct),
        )
        self.assertEqual(tr["metadata"], {"payout": "po_1", "program": "pg_9"})
        self.assertEqual(
            (tr["reversed"], tr["amount_reversed"], tr["reversals"]["data"]), (False, 0, [])
        )
        self.stripe(
            "POST",
            "/v1/transfers",
            {"amount": 1, "currency": "eur", "destination": acct, "transfer_group": "po_2"},
        )
        _, _, listed = self.stripe("GET", "/v1/transfers", {"transfer_group": "po_1"})
        self.assertEqual(
            (listed["object"], [t["id"] for t in listed["data"]]), ("list", [tr["id"]])
        )
        self.assertEqual(self.stripe("GET", f"/v1/transfers/{tr['id']}")[2], tr)
        status, _, out = self.stripe("GET", "/v1/accounts/acct_missing")
        self.assertEqual((status, out["error"]["code"]), (404, "resource_missing"))
        status, _, out = self.stripe("GET", "/v1/transfers/tr_missing")
        self.assertEqual(
            (status, out["error"]["code"], out["error"]["type"]),
            (404, "resource_missing", "invalid_request_error"),
        )
        hooks = self.receiver.wait(3)[1:]
        self.assertEqual([h["json"]["type"] for h in hooks], ["transfer.created"] * 2)
        self.assertEqual(hooks[0]["json"]["data"]["object"]["id"], tr["id"])
        self.assertTrue(
            all(
                stripe_signature_ok(self.secret, h["headers"]["Stripe-Signature"], h["raw"])
                for h in hooks
            )
        )

    def test_transfer_bad_input_named_by_param(self):
        acct = self.ready_account()
        cases = [
            ({"currency": "eur", "destination": acct}, "amount", "parameter_missing"),
            (
                {"amount": "12.5", "currency": "eur", "destination": acct},
                "amount",
                "parameter_invalid_integer",
            ),
            (
                {"amount": "0", "currency": "eur", "destination": acct},
                "amount",
                "parameter_invalid_integer",
            ),
            ({"amount": 5, "destination": acct}, "currency", "parameter_missing"),
            ({"amount": 5, "currency": "eur"}, "destination", "parameter_missing"),
            (
                {"amount": 5, "currency": "eur", "destination": "acct_nope"},
                "destination",
                "resource_missing",
            ),
        ]
        for params, param, code in cases:
            status, _, out = self.stripe("POST", "/v1/transfers", params)
            self.assertEqual(
                (status, out["error"]["param"], out["error"]["code"]), (400, param, code), params
            )
        self.control("POST", "config", {"stripe_balance": {"eur": 100}})
        status, _, out = self.stripe(
            "POST", "/v1/transfers", {"amount": 101, "currency": "eur", "destination": acct}
        )
        self.assertEqual(out["error"]["code"], "balance_insufficient")
        self.assertEqual(self.counters()["stripe"]["transfers_created"], 0)

    def test_idempotency_replays_refuses_other_params_and_forgets_after_ttl(self):
        acct = self.ready_account()
        params = {"amount": 700, "currency": "usd", "destination": acct, "transfer_group": "po_7"}
        s1, h1, first = self.stripe("POST", "/v1/transfers", params, idem="po_7")
        s2, h2, again = self.stripe("POST", "/v1/transfers", params, idem="po_7")
        self.assertEqual((s1, s2, first), (200, 200, again))
        self.assertNotIn("Idempotent-Replayed", h1)
        self.assertEqual(h2["Idempotent-Replayed"], "true")
        status, _, out = self.stripe("POST", "/v1/transfers", dict(params, amount=701), idem="po_7")
        self.assertEqual((status, out["error"]["type"]), (400, "idempotency_error"))
        self.assertEqual(self.counters()["stripe"]["transfers_created"], 1)
        # Stripe forgets keys (about 24 hours): the same key then makes a second transfer, which is
        # why a resend after a day looks the transfer up by its group first.
        self.control("POST", "config", {"idempotency_ttl_s": 0.1})
        time.sleep(0.15)
        _, h3, third = self.stripe("POST", "/v1/transfers", params, idem="po_7")
        self.assertNotIn("Idempotent-Replayed", h3)
        self.assertNotEqual(third["id"], first["id"])
        self.control("POST", "config", {"idempotency_ttl_s": 86400})
        self.control("POST", "stripe/idempotency/expire")
        self.assertNotEqual(
            self.stripe("POST", "/v1/transfers", params, idem="po_7")[2]["id"], third["id"]
        )
        self.assertEqual(self.counters()["stripe"]["transfers_created"], 3)
        _, _, listed = self.stripe("GET", "/v1/transfers", {"transfer_group": "po_7"})
        self.assertEqual(len(listed["data"]), 3)

    def test_same_key_while_the_first_runs_is_409_and_one_transfer(self):
        acct = self.ready_account()
        self.control(
            "POST", "faults", {"route": "POST /v1/transfers", "fault": "hang", "seconds": 1.0}
        )
        params = {"amount": 300, "currency": "usd", "destination": acct}
        results = []
        first = threading.Thread(
            target=lambda: results.append(self.stripe("POST", "/v1/transfers", params, idem="k"))
        )
        first.start()
        deadline = time.time() + 3  # the first request arrived (and then holds its key for 1 s)
        while not [
            r for r in self.control("GET", "requests") if r["route"] == "POST /v1/transfers"
        ]:
            self.assertLess(time.time(), deadline)
            time.sleep(0.02)
        time.sleep(0.1)
        status, headers, out = self.stripe("POST", "/v1/transfers", params, idem="k")
        first.join()
        self.assertEqual((status, out["error"]["code"]), (409, "idempotency_key_in_use"))
        self.assertEqual(headers["Stripe-Should-Retry"], "true")
        self.assertEqual(results[0][0], 200)
        self.assertEqual(self.counters()["stripe"]["transfers_created"], 1)

    def test_reversals_partial_then_full_and_one_made_on_stripes_side(self):
        acct = self.ready_account()
        _, _, tr = self.stripe(
            "POST", "/v1/transfers", {"amount": 1000, "currency": "eur", "destination": acct}
        )
        status, _, rev = self.stripe("POST", f"/v1/transfers/{tr['id']}/reversals", {"amount": 400})
        self.assertEqual(status, 200, rev)
        self.assertEqual(
            (rev["object"], rev["amount"], rev["transfer"], rev["currency"]),
            ("transfer_reversal", 400, tr["id"], "eur"),
        )
        status, _, out = self.stripe("POST", f"/v1/transfers/{tr['id']}/reversals", {"amount": 601})
        self.assertEqual((status, out["error"]["param"]), (400, "amount"))
        self.stripe("POST", f"/v1/transfers/{tr['id']}/reversals")
        _, _, after = self.stripe("GET", f"/v1/transfers/{tr['id']}")
        self.assertEqual(
            (after["amount_reversed"], after["reversed"], len(after["reversals"]["data"])),
            (1000, True, 2),
        )
        _, _, tr2 = self.stripe(
            "POST", "/v1/transfers", {"amount": 50, "currency": "eur", "destination": acct}
        )
        self.control("POST", f"stripe/transfers/{tr2['id']}/reverse", {})
        types = [h["json"]["type"] for h in self.receiver.wait(6)]
        self.assertEqual(
            types,
            [
                "account.updated",
                "transfer.created",
                "transfer.reversed",
                "transfer.reversed",
                "transfer.created",
                "transfer.reversed",
            ],
        )
        last = self.receiver.got[5]["json"]
        self.assertEqual(
            (last["data"]["object"]["id"], last["data"]["object"]["reversed"]), (tr2["id"], True)
        )
        self.assertEqual(
            last["data"]["previous_attributes"], {"amount_reversed": 0, "reversed": False}
        )

    def test_payout_failed_on_the_connected_account(self):
        acct = self.ready_account()
        self.control(
            "POST",
            f"stripe/accounts/{acct}/payout_failed",
            {"amount": 2500, "currency": "eur", "failure_code": "account_closed"},
        )
        ev = self.receiver.wait(2)[1]["json"]
        self.assertEqual((ev["type"], ev["account"]), ("payout.failed", acct))
        self.assertEqual(
            (ev["data"]["object"]["status"], ev["data"]["object"]["failure_code"]),
            ("failed", "account_closed"),
        )

    def test_faults_429_500_hang_and_a_lost_answer_that_still_transferred(self):
        acct = self.ready_account()
        params = {"amount": 900, "currency": "usd", "destination": acct, "transfer_group": "po_9"}
        self.control(
            "POST", "faults", {"route": "POST /v1/transfers", "fault": "429", "retry_after": 2}
        )
        status, headers, out = self.stripe("POST", "/v1/transfers", params, idem="po_9")
        self.assertEqual(
            (status, headers["Retry-After"], out["error"]["code"]), (429, "2", "rate_limit")
        )
        self.control("POST", "faults", {"route": "POST /v1/transfers", "fault": "500"})
        status, _, out = self.stripe("POST", "/v1/transfers", params, idem="po_9")
        self.assertEqual((status, out["error"]["type"]), (500, "api_error"))
        self.assertEqual(self.counters()["stripe"]["transfers_created"], 0)
        self.control("POST", "faults", {"route": "POST /v1/transfers", "fault": "lost_answer"})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.stripe("POST", "/v1/transfers", params, idem="po_9")
        self.assertEqual(self.counters()["stripe"]["transfers_created"], 1)
        status, headers, replay = self.stripe("POST", "/v1/transfers", params, idem="po_9")
        self.assertEqual((status, headers["Idempotent-Replayed"]), (200, "true"))
        _, _, listed = self.stripe("GET", "/v1/transfers", {"transfer_group": "po_9"})
        self.assertEqual([t["id"] for t in listed["data"]], [replay["id"]])
        self.control(
            "POST", "faults", {"route": "GET /v1/transfers/{id}", "fault": "hang", "seconds": 0.6}
        )
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=0.2)
        conn.request(
            "GET", f"/v1/transfers/{replay['id']}", headers={"Authorization": f"Bearer {KEY}"}
        )
        with self.assertRaises(socket.timeout):
            conn.getresponse()
        conn.close()
        self.assertEqual(self.counters()["faults_injected"], 4)
        status, _, out = self.request(
            "POST",
            "/_control/faults",
            json.dumps({"route": "POST /v1/nope", "fault": "500"}).encode(),
        )
        self.assertEqual(status, 400)

    def test_webhook_faults_duplicate_out_of_order_before_answer_drop_and_retry(self):
        acct = self.ready_account()
        self.receiver.wait(1)
        params = {"currency": "usd", "destination": acct}
        self.control("POST", "webhooks/faults", {"provider": "stripe", "duplicate": 1})
        _, _, t1 = self.stripe("POST", "/v1/transfers", dict(params, amount=1))
        hooks = self.receiver.wait(3)[1:]
        self.assertEqual([h["json"]["id"] for h in hooks], [hooks[0]["json"]["id"]] * 2)
        self.control("POST", "webhooks/faults", {"provider": "stripe", "out_of_order": 2})
        _, _, t2 = self.stripe("POST", "/v1/transfers", dict(params, amount=2))
        _, _, t3 = self.stripe("POST", "/v1/transfers", dict(params, amount=3))
        # The two transfers' events, by their objects (an account's event may arrive between).
        pair = {t2["id"], t3["id"]}
        got = [h["json"]["data"]["object"]["id"] for h in self.receiver.wait(5)
               if h["json"]["data"]["object"].get("id") in pair]
        self.assertEqual(got, [t3["id"], t2["id"]])
        self.control("POST", "webhooks/faults", {"provider": "stripe", "before_answer": 1})
        _, _, t4 = self.stripe("POST", "/v1/transfers", dict(params, amount=4))
        with self.receiver.cv:  # already there when the answer came: no wait
            self.assertEqual(self.receiver.got[-1]["json"]["data"]["object"]["id"], t4["id"])
        self.control("POST", "webhooks/faults", {"provider": "stripe", "drop": 1})
        self.stripe("POST", "/v1/transfers", dict(params, amount=5))
        self.receiver.fail_next = 1
        _, _, t6 = self.stripe("POST", "/v1/transfers", dict(params, amount=6))
        hooks = self.receiver.wait(7)
        self.assertEqual(hooks[6]["json"]["data"]["object"]["id"], t6["id"])  # after one 500
        counts = self.counters()["webhooks"]
        self.assertEqual((counts["dropped"], counts["failed_attempts"]), (1, 1))
        self.control("POST", "webhooks/faults", {"provider": "stripe", "delay_s": 0.4})
        sent = time.time()
        self.stripe("POST", "/v1/transfers", dict(params, amount=7))
        self.assertGreaterEqual(self.receiver.wait(8)[7]["at"] - sent, 0.4)
        log = self.control("GET", "webhooks/deliveries")
        self.assertEqual(
            [d["status"] for d in log if d["event_id"] == hooks[6]["json"]["id"]], [500, 200]
        )

    # PayPal -----------------------------------------------------------------------------------

    def test_paypal_token_by_client_credentials_and_refusals(self):
        self.control(
            "POST",
            "config",
            {
                "paypal_client_id": "client-id",
                "paypal_client_secret": "client-secret",
                "paypal_token_ttl_s": 1,
            },
        )
        bad = base64.b64encode(b"client-id:wrong").decode()
        status, _, out = self.request(
            "POST",
            "/v1/oauth2/token",
            b"grant_type=client_credentials",
            {"Authorization": f"Basic {bad}"},
        )
        self.assertEqual((status, out["error"]), (401, "invalid_client"))
        token = self.paypal_token()
        self.assertEqual(self.paypal("GET", "/v1/payments/payouts/NOPE", token=token)[0], 404)
        status, _, out = self.paypal("GET", "/v1/payments/payouts/NOPE", token="A21AAnot-issued")
        self.assertEqual((status, out["name"]), (401, "AUTHENTICATION_FAILURE"))
        time.sleep(1.05)
        status, _, out = self.paypal("GET", "/v1/payments/payouts/NOPE", token=token)
        self.assertEqual((status, out["name"]), (401, "AUTHENTICATION_FAILURE"))

    def test_paypal_batch_created_once_per_sender_batch_id(self):
        status, _, out = self.paypal(
            "POST", "/v1/payments/payouts", self.batch("po_42", "p@example.test")
        )
        self.assertEqual(status, 201, out)
        header = out["batch_header"]
        self.assertEqual(
            (header["batch_status"], header["sender_batch_header"]["sender_batch_id"]),
            ("PENDING", "po_42"),
        )
        status, _, dup = self.paypal(
            "POST", "/v1/payments/payouts", self.batch("po_42", "p@example.test")
        )
        self.assertEqual(
            (status, dup["name"], dup["details"][0]["field"]),
            (400, "USER_BUSINESS_ERROR", "SENDER_BATCH_ID"),
        )
        self.assertTrue(
            dup["links"][0]["href"].endswith(f"/v1/payments/payouts/{header['payout_batch_id']}")
        )
        counters = self.counters()["paypal"]
        self.assertEqual(
            (counters["batches_created"], counters["duplicate_batches_refused"]), (1, 1)
        )
        status, _, bad = self.paypal(
            "POST",
            "/v1/payments/payouts",
            {
                "sender_batch_header": {"sender_batch_id": "po_43"},
                "items": [
                    {"amount": {"value": "1.234", "currency": "EUR"}, "receiver": "not-an-email"}
                ],
            },
        )
        self.assertEqual((status, bad["name"]), (400, "INVALID_REQUEST"))
        self.assertEqual(
            {d["field"] for d in bad["details"]}, {"items[0].receiver", "items[0].amount.value"}
        )
        by_id = self.batch("po_44", "7ZQ4L8NWK2M3P")
        by_id["sender_batch_header"]["recipient_type"] = "PAYPAL_ID"
        status, _, out = self.paypal("POST", "/v1/payments/payouts", by_id)
        self.assertEqual(status, 201, out)
        status, _, read = self.paypal(
            "GET", f"/v1/payments/payouts/{out['batch_header']['payout_batch_id']}", None
        )
        item = read["items"][0]["payout_item"]
        self.assertEqual((item["recipient_type"], item["receiver"]), ("PAYPAL_ID", "7ZQ4L8NWK2M3P"))
        for wrong in ("7zq4l8nwk2m3p", "7ZQ4L8NWK2M3", "p@example.test"):
            not_an_id = self.batch("po_45", wrong)
            not_an_id["items"][0]["recipient_type"] = "PAYPAL_ID"
            status, _, bad = self.paypal("POST", "/v1/payments/payouts", not_an_id)
            self.assertEqual((status, bad["name"]), (400, "INVALID_REQUEST"), wrong)
            self.assertEqual([d["field"] for d in bad["details"]], ["items[0].receiver"], wrong)
        status, _, bad = self.request(
            "POST",
            "/v1/payments/payouts",
            b"{not json",
            {"Authorization": f"Bearer {self.paypal_token()}"},
        )
        self.assertEqual((status, bad["name"]), (400, "MALFORMED_REQUEST_JSON"))

    def test_paypal_items_settle_into_each_state_with_their_webhooks(self):
        receivers = ["a@example.test", "b@example.test", "c@example.test"]
        _, _, out = self.paypal("POST", "/v1/payments/payouts", self.batch("po_50", *receivers))
        batch_id = out["batch_header"]["payout_batch_id"]
        _, _, batch = self.paypal("GET", f"/v1/payments/payouts/{batch_id}")
        self.assertEqual(batch["batch_header"]["amount"], {"currency": "EUR", "value": "37.02"})
        items = [i["payout_item_id"] for i in batch["items"]]
        self.assertEqual([i["transaction_status"] for i in batch["items"]], ["PENDING"] * 3)
        self.control("POST", f"paypal/items/{items[0]}/settle", {"status": "SUCCESS"})
        self.control("POST", f"paypal/items/{items[1]}/settle", {"status": "FAILED"})
        self.control("POST", f"paypal/items/{items[2]}/settle", {"status": "UNCLAIMED"})
        self.control("POST", f"paypal/items/{items[2]}/settle", {"status": "RETURNED"})
        _, _, item = self.paypal("GET", f"/v1/payments/payouts-item/{items[1]}")
        self.assertEqual(
            (item["transaction_status"], item["errors"]["name"], item["sender_batch_id"]),
            ("FAILED", "RECEIVER_ACCOUNT_LOCKED", "po_50"),
        )
        _, _, item = self.paypal("GET", f"/v1/payments/payouts-item/{items[2]}")
        self.assertEqual(
            (item["transaction_status"], item["errors"]["name"]),
            ("RETURNED", "RECEIVER_UNREGISTERED"),
        )
        _, _, batch = self.paypal("GET", f"/v1/payments/payouts/{batch_id}")
        self.assertEqual(batch["batch_header"]["batch_status"], "SUCCESS")
        types = [h["json"]["event_type"] for h in self.receiver.wait(5)]
        self.assertEqual(
            types,
            [
                "PAYMENT.PAYOUTS-ITEM.SUCCEEDED",
                "PAYMENT.PAYOUTS-ITEM.FAILED",
                "PAYMENT.PAYOUTS-ITEM.UNCLAIMED",
                "PAYMENT.PAYOUTSBATCH.SUCCESS",
                "PAYMENT.PAYOUTS-ITEM.RETURNED",
            ],
        )
        self.assertEqual(self.receiver.got[0]["json"]["resource"]["payout_item_id"], items[0])
        # Only an unclaimed item can be cancelled (it is then RETURNED): the others are refused.
        _, _, out = self.paypal(
            "POST", "/v1/payments/payouts", self.batch("po_51", "d@example.test", "e@example.test")
        )
        _, _, batch = self.paypal(
            "GET", f"/v1/payments/payouts/{out['batch_header']['payout_batch_id']}"
        )
        unclaimed, pending = [i["payout_item_id"] for i in batch["items"]]
        self.control("POST", f"paypal/items/{unclaimed}/settle", {"status": "UNCLAIMED"})
        status, _, item = self.paypal("POST", f"/v1/payments/payouts-item/{unclaimed}/cancel")
        self.assertEqual((status, item["transaction_status"]), (200, "RETURNED"))
        status, _, out = self.paypal("POST", f"/v1/payments/payouts-item/{unclaimed}/cancel")
        self.assertEqual((status, out["name"]), (400, "ITEM_ALREADY_CANCELLED"))
        status, _, out = self.paypal("POST", f"/v1/payments/payouts-item/{pending}/cancel")
        self.assertEqual((status, out["name"]), (400, "ITEM_INCORRECT_STATUS"))
        status, _, out = self.paypal("GET", "/v1/payments/payouts-item/NOPE")
        self.assertEqual((status, out["name"]), (404, "RESOURCE_NOT_FOUND"))

    def test_paypal_webhook_signature_checks_out_and_verify_endpoint_agrees(self):
        _, _, out = self.paypal(
            "POST", "/v1/payments/payouts", self.batch("po_60", "a@example.test")
        )
        self.control(
            "POST",
            f"paypal/batches/{out['batch_header']['payout_batch_id']}/settle",
            {"status": "SUCCESS"},
        )
        hook = self.receiver.wait(1)[0]
        self.assertTrue(paypal_signature_ok(hook["headers"], hook["raw"], self.webhook_id))
        self.assertFalse(
            paypal_signature_ok(
                hook["headers"], hook["raw"].replace(b"SUCCESS", b"FAILED"), self.webhook_id
            )
        )
        h = {k.lower(): v for k, v in hook["headers"].items()}
        request = {
            "auth_algo": h["paypal-auth-algo"],
            "cert_url": h["paypal-cert-url"],
            "transmission_id": h["paypal-transmission-id"],
            "transmission_sig": h["paypal-transmission-sig"],
            "transmission_time": h["paypal-transmission-time"],
            "webhook_id": self.webhook_id,
            "webhook_event": hook["json"],
        }
        # The event goes back as it came, byte for byte (the signature covers its raw body's
        # CRC32): the fields' object with the raw event as its last member.
        fields = json.dumps({k: v for k, v in request.items() if k != "webhook_event"})
        as_sent = fields[:-1].encode() + b', "webhook_event": ' + hook["raw"] + b"}"
        headers = {
            "Authorization": f"Bearer {self.paypal_token()}",
            "Content-Type": "application/json",
        }
        path = "/v1/notifications/verify-webhook-signature"
        status, _, answer = self.request("POST", path, as_sent, headers)
        self.assertEqual((status, answer), (200, {"verification_status": "SUCCESS"}))
        # The same event parsed and written again (keys sorted, spaced): not what was signed.
        rewritten = json.loads(json.dumps(hook["json"], sort_keys=True))
        status, _, answer = self.paypal("POST", path, dict(request, webhook_event=rewritten))
        self.assertEqual((status, answer), (200, {"verification_status": "FAILURE"}))
        tampered = json.loads(json.dumps(hook["json"]))
        tampered["resource"]["payout_item"]["amount"]["value"] = "9999.00"
        for changed in (
            {"webhook_event": tampered},
            {"webhook_id": "OTHERWEBHOOKID"},
            {"transmission_sig": base64.b64encode(b"forged").decode()},
        ):
            status, _, answer = self.paypal(
                "POST", "/v1/notifications/verify-webhook-signature", dict(request, **changed)
            )
            self.assertEqual(answer, {"verification_status": "FAILURE"}, changed)
        status, _, answer = self.paypal(
            "POST", "/v1/notifications/verify-webhook-signature", {"webhook_id": "X"}
        )
        self.assertEqual((status, answer["name"]), (400, "INVALID_REQUEST"))

    def test_paypal_faults_and_a_lost_answer_found_again_by_its_sender_batch_id(self):
        self.control(
            "POST",
            "faults",
            {"route": "POST /v1/payments/payouts", "fault": "429", "retry_after": 3},
        )
        status, headers, out = self.paypal(
            "POST", "/v1/payments/payouts", self.batch("po_70", "a@example.test")
        )
        self.assertEqual(
            (status, out["name"], headers["Retry-After"]), (429, "RATE_LIMIT_REACHED", "3")
        )
        self.control("POST", "faults", {"route": "POST /v1/payments/payouts", "fault": "500"})
        status, _, out = self.paypal(
            "POST", "/v1/payments/payouts", self.batch("po_70", "a@example.test")
        )
        self.assertEqual((status, out["name"]), (500, "INTERNAL_SERVER_ERROR"))
        self.control(
            "POST", "faults", {"route": "POST /v1/payments/payouts", "fault": "lost_answer"}
        )
        token = self.paypal_token()
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.paypal(
                "POST", "/v1/payments/payouts", self.batch("po_70", "a@example.test"), token=token
            )
        status, _, dup = self.paypal(
            "POST", "/v1/payments/payouts", self.batch("po_70", "a@example.test"), token=token
        )
        self.assertEqual((status, dup["name"]), (400, "USER_BUSINESS_ERROR"))
        batch_path = urllib.parse.urlsplit(dup["links"][0]["href"]).path
        status, _, batch = self.paypal("GET", batch_path, token=token)
        self.assertEqual(
            (status, batch["batch_header"]["sender_batch_header"]["sender_batch_id"]),
            (200, "po_70"),
        )
        self.assertEqual(self.counters()["paypal"]["batches_created"], 1)

    def test_paypal_auto_settle_with_the_webhook_before_the_answer(self):
        self.control("POST", "config", {"paypal_auto_settle": "SUCCESS", "paypal_auto_settle_s": 0})
        self.control("POST", "webhooks/faults", {"provider": "paypal", "before_answer": 2})
        status, _, out = self.paypal(
            "POST", "/v1/payments/payouts", self.batch("po_80", "a@example.test")
        )
        self.assertEqual(status, 201)
        with self.receiver.cv:
            self.assertEqual(
                [h["json"]["event_type"] for h in self.receiver.got],
                ["PAYMENT.PAYOUTS-ITEM.SUCCEEDED", "PAYMENT.PAYOUTSBATCH.SUCCESS"],
            )


if __name__ == "__main__":
    unittest.main(verbosity=1)
