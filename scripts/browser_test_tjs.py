#!/usr/bin/env python3
"""`GET /t.js` on a merchant's pages, in headless Chromium (WebDriver: Python selenium).

Run by scripts/browser_test.sh after the console's walk, against the same `tenx serve`: the test
serves a small shop on another loopback port under its own site (`store.localhost:PORT`, so the
API at 127.0.0.1 is another site, as in production), makes a short link to its landing page
(handle `merchant`, its own), clicks it in the browser and checks what docs/connectors-script.md
promises:

- landing (`?utm_source=news&ctx=…`, the script tag has `data-clean-url`): the `tenx_ctx` cookie
  is set on the shop's origin (host-only, `path=/`, `SameSite=Lax`, living as long as the ctx),
  `ctx` is gone from the address bar and `utm_source` kept, `tenx.ctx()` is the ctx, and the
  Payment Link (its other parameters kept), an anchor added later, and the `<stripe-buy-button>`
  carry the ref `POST /v2/public/refs` answers for that ctx; `tenx.ref()` resolves to it; one
  context call and one refs call; the script travels gzipped under 3 KB;
- a second page without ctx, embedding t.js with the integrity hash the docs show:
  `tenx.ctx()` from the cookie, a `<stripe-pricing-table>` gets the
  ref from sessionStorage (no call to the API at all);
- a page with nothing to fill: no call to the API (no ref per page view);
- a page whose URL carries a dead ctx (an old bookmark): the stored ctx is kept;
- no cookie anywhere but `tenx_ctx` on the shop, and no error in the browser's console but the
  dead ctx's 400;
- a visit from a coupon site (`www.retailmenot.com`, on loopback) with no partner click: t.js
  keeps the site in `tenx_landing` (no API call), `tenx.landingReferrer()` answers it, and the
  shop's checkout, sending it as `landingReferrer` with a partner's coupon code, records a sale
  whose coupon use carries that host and counts in the code's leak report.

Usage: browser_test_tjs.py BASE_URL SIGN_IN_URL (as scripts/browser_test.py)
"""
import calendar
import http.server
import json
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BASE = sys.argv[1].rstrip("/")
CODE = urllib.parse.parse_qs(urllib.parse.urlsplit(sys.argv[2]).query)["code"][0]
API_PORT = urllib.parse.urlsplit(BASE).port
HANDLE = "merchant"
SLUG = "tjs"
TIMEOUT = 20
# A visitor the redirect counts as a person (HeadlessChrome is a bot, and gets no ctx).
DESKTOP_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/124.0 Safari/537.36")
PAY = "https://buy.stripe.com/test_6oE5mN?prefilled_email=jo%40example.com&locale=en"

# The integrity line docs/connectors-script.md shows.
SRI = re.search(r'integrity="(sha384-[A-Za-z0-9+/=]+)"',
                open(os.path.join(ROOT, "docs", "connectors-script.md"), encoding="utf-8").read()).group(1)
SCRIPT_TAG = '<script src="%s/t.js" async%s></script>'
PAGES = {
    # The landing page: a Payment Link, a buy button, and a second Payment Link added later.
    "/landing.html": """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Landing</title>
{script}</head><body>
<a id="pay" href="{pay}">Buy now</a>
<stripe-buy-button id="button" buy-button-id="buy_btn_1" publishable-key="pk_test_1"></stripe-buy-button>
<a id="other" href="https://example.com/not-stripe">Elsewhere</a>
<script>setTimeout(() => {{ const a = document.createElement('a'); a.id = 'late';
a.href = 'https://buy.stripe.com/test_late'; a.textContent = 'Later'; document.body.append(a); }}, 400);</script>
</body></html>""",
    "/next.html": """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Checkout</title>
{script}</head><body>
<stripe-pricing-table id="table" pricing-table-id="prctbl_1" publishable-key="pk_test_1"></stripe-pricing-table>
</body></html>""",
    "/plain.html": """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>About</title>
{script}</head><body><p>Nothing to fill here.</p></body></html>""",
    # A coupon site's page (browsed as www.retailmenot.com), linking to the shop without a click.
    "/coupons.html": """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Codes</title>
</head><body><a id="deal" href="{store}/plain.html">TJS10: 10 % off</a></body></html>""",
}
COUPON_SITE = "www.retailmenot.com"


class Shop(http.server.BaseHTTPRequestHandler):
    """The merchant's site: the pages above, each embedding t.js from the API."""

    def do_GET(self):  # noqa: N802 - http.server's naming
        path = urllib.parse.urlsplit(self.path).path
        if path == "/favicon.ico":
            self.send_response(204)
            self.end_headers()
            return
        page = PAGES.get(path)
        if page is None:
            self.send_error(404)
            return
        # The landing page takes ctx out of its URL; the checkout pins the documented hash (SRI).
        extra = {"/landing.html": " data-clean-url", "/next.html": ' integrity="%s" crossorigin="anonymous"' % SRI}
        store = "http://store.localhost:%d" % self.server.server_address[1]
        body = page.format(script=SCRIPT_TAG % (BASE, extra.get(path, "")), pay=PAY, store=store).encode()
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
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
    print("ok  t.js: %s" % name, flush=True)


def browser(work):
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for arg in [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--user-data-dir=" + os.path.join(work, "profile-tjs"),
        "--user-agent=" + DESKTOP_UA,
        # The short-link host and the shop's host, both on loopback.
        "--host-resolver-rules=MAP *.localhost 127.0.0.1, MAP %s 127.0.0.1" % COUPON_SITE,
    ]:
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")),
                            options=options)


def wait(d, predicate, what):
    try:
        return WebDriverWait(d, TIMEOUT, poll_frequency=0.1).until(lambda _: predicate())
    except Exception as e:
        raise AssertionError("timed out waiting for %s (%s)" % (what, type(e).__name__)) from None


def loaded(d):
    try:
        wait(d, lambda: d.execute_script("return !!(window.tenx && window.tenx.ref)"), "window.tenx")
    except AssertionError as e:
        logs = [entry.get("message", "") for entry in d.get_log("browser")]
        raise AssertionError("%s on %s; browser console: %s" % (e, d.current_url, logs)) from None


def api_calls(d):
    """The page's requests to the API (performance entries), as [path, encoded size, decoded size]."""
    entries = d.execute_script(
        "return performance.getEntriesByType('resource').map((e) => [e.name, e.encodedBodySize, e.decodedBodySize])")
    return [[urllib.parse.urlsplit(n).path, enc, dec] for n, enc, dec in entries if n.startswith(BASE + "/")]


def cookies(d):
    return d.execute_cdp_cmd("Network.getAllCookies", {})["cookies"]


def check_logs(d, allowed):
    for entry in d.get_log("browser"):
        message = entry.get("message", "")
        if any(re.search(p, message) for p in allowed):
            continue
        if entry.get("level") in ("SEVERE", "WARNING"):
            raise AssertionError("browser console: %s" % message)


def main():
    work = os.environ.get("BROWSER_TEST_TMP") or os.path.join(ROOT, "target", "browser-test")
    os.makedirs(work, exist_ok=True)
    shop = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Shop)
    threading.Thread(target=shop.serve_forever, daemon=True).start()
    store = "http://store.localhost:%d" % shop.server_address[1]

    status, body = api("POST", "/console/sign-in", body={"handle": HANDLE, "role": "operator", "code": CODE})
    assert status == 200, (status, body)
    token = body["token"]
    status, body = api("PUT", "/v2/handles/%s/links/%s" % (HANDLE, SLUG), token,
                       {"destinationUrl": store + "/landing.html?utm_source=news"})
    assert status in (200, 201), (status, body)

    d = browser(work)
    try:
        # The visitor clicks the short link and lands with a ctx.
        d.get("http://%s.localhost:%d/%s" % (HANDLE, API_PORT, SLUG))
        wait(d, lambda: d.current_url.startswith(store + "/landing.html"), "the landing page")
        loaded(d)
        landed = d.execute_script("return performance.getEntriesByType('navigation')[0].name")
        ctx = urllib.parse.parse_qs(urllib.parse.urlsplit(landed).query).get("ctx", [None])[0]
        assert ctx, "the redirect handed a ctx: %s" % landed
        assert d.execute_script("return tenx.ctx()") == ctx
        wait(d, lambda: d.current_url == store + "/landing.html?utm_source=news",
             "ctx out of the address bar, utm_source kept (%s)" % d.current_url)
        step("landed with a ctx; tenx.ctx() is it; data-clean-url took it out of the address bar")

        status, claims = api("GET", "/v2/public/context?ctx=" + urllib.parse.quote(ctx))
        assert status == 200, (status, claims)
        expires = calendar.timegm(time.strptime(claims["expiresAt"][:19], "%Y-%m-%dT%H:%M:%S"))
        status, made = api("POST", "/v2/public/refs", body={"ctx": ctx})
        assert status == 201, (status, made)
        ref = made["ref"]

        def stored():
            return [c for c in cookies(d) if c["name"] == "tenx_ctx"]
        # Written at once with the 30-day cap, then to the ctx's own life once the API said it.
        wait(d, lambda: len(stored()) == 1 and abs(stored()[0]["expires"] - expires) < 5,
             "tenx_ctx living as long as the ctx (%s, expiresAt %s)" % (stored(), claims["expiresAt"]))
        cookie = stored()[0]
        assert cookie["value"] == ctx and cookie["domain"] == "store.localhost" and cookie["path"] == "/", cookie
        assert cookie["sameSite"] == "Lax" and not cookie["secure"] and not cookie["httpOnly"], cookie
        assert d.execute_script("return document.cookie") == "tenx_ctx=" + ctx
        step("tenx_ctx set on the shop's origin: host-only, path=/, SameSite=Lax, until %s" % claims["expiresAt"])

        def href(selector):
            return d.execute_script("const e = document.querySelector(arguments[0]); return e && e.href", selector)

        def param(url, name):
            return urllib.parse.parse_qs(urllib.parse.urlsplit(url or "").query).get(name, [None])[0]
        wait(d, lambda: param(href("#pay"), "client_reference_id") == ref,
             "client_reference_id=%s on the Payment Link (%s)" % (ref, href("#pay")))
        pay = href("#pay")
        assert pay.startswith("https://buy.stripe.com/test_6oE5mN?"), pay
        assert param(pay, "prefilled_email") == "jo@example.com" and param(pay, "locale") == "en", pay
        wait(d, lambda: param(href("#late"), "client_reference_id") == ref, "the anchor added later (%s)" % href("#late"))
        assert href("#other") == "https://example.com/not-stripe", href("#other")
        button = d.execute_script("return document.querySelector('#button').getAttribute('client-reference-id')")
        assert button == ref, (button, ref)
        got = d.execute_async_script("tenx.ref().then(arguments[arguments.length - 1])")
        assert got == ref, (got, ref)
        step("client_reference_id=%s (POST /v2/public/refs' answer) on the Payment Link (its parameters kept), "
             "on one added later and on <stripe-buy-button>; tenx.ref() resolves to it" % ref)

        calls = api_calls(d)
        paths = [p for p, _, _ in calls]
        assert paths.count("/v2/public/context") == 1 and paths.count("/v2/public/refs") == 1, calls
        size = [(enc, dec) for p, enc, dec in calls if p == "/t.js"]
        with urllib.request.urlopen(BASE + "/t.js", timeout=10) as r:
            script = r.read()
        assert size and 0 < size[0][0] < 3 * 1024 and size[0][1] == len(script), (size, len(script))
        step("one context call and one refs call; t.js traveled as %d bytes (%d unpacked)" % size[0])

        # A second page of the shop, without ctx: the cookie and the session's ref.
        d.get(store + "/next.html")
        loaded(d)
        assert d.execute_script("return tenx.ctx()") == ctx
        wait(d, lambda: d.execute_script(
            "return document.querySelector('#table').getAttribute('client-reference-id')") == ref,
            "client-reference-id on <stripe-pricing-table>")
        assert not [p for p in paths_of(d) if p.startswith("/v2/")], api_calls(d)
        step("next page (t.js under the documented integrity hash) without ctx: tenx.ctx() from the cookie, "
             "<stripe-pricing-table> filled, no API call")

        # Nothing to fill: no ref per page view.
        d.execute_script("sessionStorage.clear()")
        d.get(store + "/plain.html")
        loaded(d)
        time.sleep(1)
        assert d.execute_script("return tenx.ctx()") == ctx
        assert not [p for p in paths_of(d) if p.startswith("/v2/")], api_calls(d)
        step("a page with nothing to fill calls nothing")

        # An old bookmark: a dead ctx in the URL does not replace the live one.
        d.get(store + "/plain.html?ctx=k1.ZGVhZA.c2ln")
        loaded(d)
        wait(d, lambda: "/v2/public/context" in paths_of(d), "the dead ctx checked")
        wait(d, lambda: d.execute_script("return tenx.ctx()") == ctx, "the live ctx kept")
        assert d.execute_async_script("tenx.ref().then(arguments[arguments.length - 1])") == ref
        assert [c["value"] for c in stored()] == [ctx], stored()
        step("a dead ctx in the URL (an old bookmark) is refused; the stored one stays")

        others = [(c["name"], c["domain"]) for c in cookies(d) if c["name"] != "tenx_ctx"]
        assert not [c for c in others if c[1] in ("127.0.0.1", "store.localhost")], others
        check_logs(d, [r"/v2/public/context\?ctx=k1\.ZGVhZA\.c2ln - Failed to load resource: the server responded "
                       r"with a status of 400"])
        step("no cookie on the API or the shop but tenx_ctx; no error in the browser's console")

        coupon_visit(d, token, store, shop.server_address[1])
        print("t.js in headless Chromium: every check passed")
    finally:
        d.quit()
        shop.shutdown()


def coupon_visit(d, token, store, port):
    """A buyer lands on the shop from a coupon site, no partner click: the sale carries the site."""
    for path, body in [("/partners", {"partnerId": "tjs-pub", "name": "Jo's deals"}),
                       ("/campaigns", {"campaignId": "tjs-deals", "goalType": "PURCHASE", "partnerId": "tjs-pub",
                                       "primaryLink": {"slug": "tjs-deals", "destinationUrl": store + "/landing.html"}}),
                       ("/partners/tjs-pub/coupon-codes", {"code": "TJS10", "campaignId": "tjs-deals"})]:
        status, made = api("POST", "/v2/handles/%s%s" % (HANDLE, path), token, body)
        assert status == 201, (path, status, made)
    site = "http://%s:%d" % (COUPON_SITE, port)
    d.get(site + "/coupons.html")
    d.find_element("id", "deal").click()
    wait(d, lambda: d.current_url.startswith(store + "/plain.html"), "the shop from the coupon site")
    loaded(d)
    assert d.execute_script("return tenx.landingReferrer()") == site
    kept = [c for c in cookies(d) if c["name"] == "tenx_landing"]
    assert len(kept) == 1 and kept[0]["domain"] == "store.localhost" and kept[0]["sameSite"] == "Lax", kept
    assert not [p for p in paths_of(d) if p.startswith("/v2/")], api_calls(d)
    # The shop's own next page keeps where the visit came from.
    d.get(store + "/plain.html")
    loaded(d)
    assert d.execute_script("return tenx.landingReferrer()") == site
    step("a visit from %s without a click: tenx_landing kept on the shop (no API call), "
         "tenx.landingReferrer() answers it on the shop's next page" % COUPON_SITE)

    # The shop's checkout reads the cookie (its server sees it, first-party) and reports the sale.
    sent = urllib.parse.unquote(kept[0]["value"])
    status, sale = api("POST", "/v2/handles/%s/conversions" % HANDLE, token, {
        "couponCode": "TJS10", "landingReferrer": sent, "idempotencyKey": "tjs-coupon-1",
        "eventType": "purchase", "value": "20.00", "currency": "EUR"})
    assert status == 202, (status, sale)
    status, got = api("GET", "/v2/handles/%s/conversions/%s" % (HANDLE, sale["conversionId"]), token)
    assert status == 200, (status, got)
    used = got.get("coupon") or {}
    assert used.get("landingReferrer") == "retailmenot.com" and used.get("withClick") is False, got
    # The events worker records the use; the code's report then names the site.
    leak = {}

    def reported():
        nonlocal leak
        status, leak = api("GET", "/v2/handles/%s/coupon-codes/TJS10/leak" % HANDLE, token)
        return status == 200 and leak["conversions"] == 1
    wait(d, reported, "the sale in TJS10's leak report")
    assert leak["sources"] == [{"referrerDomain": "retailmenot.com", "count": 1}], leak
    assert "coupon_site_referrer" in leak["reasons"], leak
    step("the sale with TJS10 records coupon.landingReferrer retailmenot.com (no click of its partner); "
         "the code's leak report names the site")


def paths_of(d):
    return [p for p, _, _ in api_calls(d)]


if __name__ == "__main__":
    main()
