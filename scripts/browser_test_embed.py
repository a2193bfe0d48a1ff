#!/usr/bin/env python3
"""`<tenx-referrals>` (`GET /embed.js`, issue 61) inside a merchant's app, in headless Chromium.

Run by scripts/browser_test.sh after the other walks, against the same `tenx serve`. The test
serves the merchant's app on another loopback port under its own site (`app.localhost:PORT`, so
the API at localhost is another origin, as in production) with a strict Content-Security-Policy
(nothing inline, scripts and connections to the API's origin only, styles only from the app's
own origin), mints an embed token for a partner whose name is markup, and checks what
docs/api.md promises:

- the element shows the partner's link and earnings inside its shadow root;
- the partner's name is text: the markup is shown, not run (no `window.pwned`, no image);
- no CSP violation and no cookie for the API's origin (nothing third-party is needed);
- the request carried the token in `x-embed-token` (a preflight), never a credential;
- a suspended partner's token shows the refusal in words.

Usage: browser_test_embed.py BASE_URL SIGN_IN_URL (as scripts/browser_test.py)
"""
import http.server
import json
import os
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BASE = sys.argv[1].rstrip("/")
CODE = urllib.parse.parse_qs(urllib.parse.urlsplit(sys.argv[2]).query)["code"][0]
HANDLE = "embedshop"
PARTNER = "ann"
NAME = 'Ann <img src=x onerror="window.pwned=1">'
TIMEOUT = 20
TOKENS = {}


def csp():
    return ("default-src 'none'; script-src %s; connect-src %s; style-src 'self'; img-src 'self'"
            % (BASE, BASE))


class App(http.server.BaseHTTPRequestHandler):
    """The merchant's app: one page embedding the element with the token of its query."""

    def do_GET(self):  # noqa: N802 - http.server's naming
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/referrals":
            self.send_error(404)
            return
        token = TOKENS[urllib.parse.parse_qs(url.query)["who"][0]]
        body = ("""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>My referrals</title>
<script src="%s/embed.js" defer></script></head><body><main><h1>My referrals</h1>
<tenx-referrals token="%s"></tenx-referrals></main></body></html>""" % (BASE, token)).encode()
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-security-policy", csp())
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def api(method, path, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def step(name):
    print("ok  embed: %s" % name, flush=True)


def browser(work):
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for arg in [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--user-data-dir=" + os.path.join(work, "profile-embed"),
        "--host-resolver-rules=MAP *.localhost 127.0.0.1", "--window-size=390,844",
    ]:
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")),
                            options=options)


def shadow_text(d):
    return d.execute_script(
        "const e = document.querySelector('tenx-referrals');"
        "return e && e.shadowRoot ? e.shadowRoot.textContent : '';")


def wait(d, predicate, what):
    try:
        return WebDriverWait(d, TIMEOUT, poll_frequency=0.1).until(lambda _: predicate())
    except Exception as e:
        logs = [entry.get("message", "") for entry in d.get_log("browser")]
        raise AssertionError("timed out waiting for %s (%s); browser console: %s"
                             % (what, type(e).__name__, logs)) from None


def setup(token):
    status, body = api("POST", "/v2/handles/%s/partners" % HANDLE, token,
                       {"partnerId": PARTNER, "name": NAME})
    assert status == 201, (status, body)
    campaign = {"campaignId": "spring", "goalType": "PURCHASE", "partnerId": PARTNER,
                "primaryLink": {"slug": "ann-spring", "destinationUrl": "https://shop.example.com/"}}
    status, body = api("POST", "/v2/handles/%s/campaigns" % HANDLE, token, campaign)
    assert status == 201, (status, body)
    status, body = api("POST", "/v2/handles/%s/embed-tokens" % HANDLE, token, {"partnerId": PARTNER})
    assert status == 201, (status, body)
    return body["token"]


def main():
    work = os.environ.get("BROWSER_TEST_TMP") or os.path.join(ROOT, "target", "browser-test")
    os.makedirs(work, exist_ok=True)
    shots = os.path.join(ROOT, "target", "console-screenshots")
    os.makedirs(shots, exist_ok=True)
    app = http.server.ThreadingHTTPServer(("127.0.0.1", 0), App)
    threading.Thread(target=app.serve_forever, daemon=True).start()
    origin = "http://app.localhost:%d" % app.server_address[1]

    status, body = api("POST", "/console/sign-in", body={"handle": HANDLE, "role": "operator", "code": CODE})
    assert status == 200, (status, body)
    operator = body["token"]
    TOKENS["ann"] = setup(operator)

    d = browser(work)
    try:
        d.get(origin + "/referrals?who=ann")
        wait(d, lambda: "Your links" in shadow_text(d), "the dashboard")
        text = shadow_text(d)
        assert "embedshop referrals" in text, text
        assert "/ann-spring" in text, text
        assert NAME in text, "the partner's name is shown as text: %s" % text
        assert d.execute_script("return window.pwned === undefined"), "markup from the API ran"
        images = d.execute_script(
            "return document.querySelector('tenx-referrals').shadowRoot.querySelectorAll('img').length")
        assert images == 0, images
        step("the partner's link and earnings shown in the merchant's page; its name is text")

        messages = [e.get("message", "") for e in d.get_log("browser")]
        violations = [m for m in messages if "Content Security Policy" in m or "Refused to" in m]
        assert not violations, violations
        api_host = urllib.parse.urlsplit(BASE).hostname
        cookies = [c for c in d.execute_cdp_cmd("Network.getAllCookies", {})["cookies"]
                   if c["domain"].lstrip(".") == api_host]
        assert not cookies, cookies
        step("no CSP violation under default-src 'none', no cookie for the API's origin")

        requests = []
        for entry in d.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg["method"] == "Network.requestWillBeSent":
                req = msg["params"]["request"]
                if req["url"].startswith(BASE + "/v2/embed/referrals"):
                    requests.append(req)
        gets = [r for r in requests if r["method"] == "GET"]
        assert gets and all("x-embed-token" in {k.lower() for k in r["headers"]} for r in gets), requests
        assert all("authorization" not in {k.lower() for k in r["headers"]} for r in gets), requests
        step("the token travels in x-embed-token, no credential")
        d.save_screenshot(os.path.join(shots, "embed-referrals-390.png"))

        status, body = api("PATCH", "/v2/handles/%s/partners/%s" % (HANDLE, PARTNER), operator,
                           {"status": "suspended"})
        assert status == 200, (status, body)
        d.get(origin + "/referrals?who=ann")
        wait(d, lambda: "could not be shown" in shadow_text(d), "the refusal")
        assert "ask the app for a new one" in shadow_text(d), shadow_text(d)
        step("a suspended partner's token is refused in words")
    finally:
        d.quit()
        app.shutdown()


if __name__ == "__main__":
    main()
