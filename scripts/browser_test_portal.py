#!/usr/bin/env python3
"""The partner portal, /portal/{handle}, in headless Chromium (issue 61).

Run by scripts/browser_test.sh after the other walks, against the same `tenx serve`. Sets up
(through the API, signed in locally as an admin of its own handle `portalshop`) a template
campaign with a plan payable at once, an open program with `allowedDestinations`, an
application approved; a sale through the partner's link, paid by a payout run (a signed
statement); a message from the program; its branding's colour. First a partner's first hour at
390×844, as a phone shows it: signed in from the approval's mail, the program's name and colour
and four places in a row (the rest behind "More"), a link copied with the button beside it (the
clipboard holds it) and its QR code opened, an earning read with its date and amount in the
partner's words, a claim filed with the sale's amount and a screenshot, a message sent; small
screenshots of it (phone-*.png). Then, as the partner, at 1440×900 and 390×844:

- signs in with the link the approval mailed (read from the mail outbox, the Maildir under the
  server's data dir), lands on its portal;
- the overview (its next payout, balance, earnings); every screen labelled, axe-clean, no
  sideways scrolling, no console error (`Console.shot` of scripts/browser_test.py);
- its payouts: the statement checked in the page says "Verified", as `tenx verify` says of the
  same file; a tampered copy is refused by both (the page's own check, run on it);
- messages: the tab shows the unread count, the program's message is there, and a reply typed
  and sent by keyboard shows in the thread;
- claims: a missing sale asked for by its order number and date; the program's decision, once
  made, shows with its signature verified in the page;
- a link of its own under the allowed destinations, and one elsewhere refused with words;
- its tax details, a mistyped VAT number named;
- a link tagged with sub1 (the tagged address and its QR code), clicks and sales per sub1;
- a commission's proof in words; the plan in words and a change's signed notice verified;
- its payout method given by keyboard only (a mistyped IBAN named); its mail preferences;
- the keyboard walk: every tab opened from the navigation by Tab and Enter, every control on
  it reached by Tab;
- a statement read a line a page, its pages joined verified in the page.

Screenshots land in target/console-screenshots/ (portal-*.png); the small ones docs/portal/
shows are written to target/console-screenshots/docs/portal-*.png, or with
PORTAL_SHOTS_DIR=docs/portal as the committed files. Exit status 1 on a failure.

Usage: browser_test_portal.py BASE_URL SIGN_IN_URL (as scripts/browser_test.py); TENX_BIN names
the `tenx` binary the server runs (for `tenx verify`), BROWSER_TEST_TMP its work dir (the data
dir is BROWSER_TEST_TMP/data).
"""
import email
import email.policy
import glob
import http.server
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser_test as bt  # noqa: E402

HANDLE = "portalshop"
VIEWS = ["overview", "links", "commissions", "messages", "payouts", "claims", "plan", "customers", "method",
         "tax", "people", "notifications"]
# The four places a phone shows in a row; the rest are behind the "More" menu.
PRIMARY = VIEWS[:4]
PROGRAM_NAME = "Portal Shop partners"
# The refusals this walk provokes on purpose (Chromium logs each 4xx as a failed load).
bt.EXPECTED_FAILURES += [
    (400, r"/partners/[a-z0-9_-]+/links$", "a partner's link to a look-alike host, refused in words"),
    (400, r"/partners/[a-z0-9_-]+/tax-profile$", "a mistyped VAT number, named"),
    (404, r"/partners/[a-z0-9_-]+/payout-method$", "no payout method yet: the form says to give one"),
    (400, r"/partners/[a-z0-9_-]+/payout-method$", "a mistyped IBAN, named"),
]
BASE_API = "/v2/handles/" + HANDLE
PARTNER_EMAIL = "kim@kimreviews.example"
WORK = os.environ.get("BROWSER_TEST_TMP") or os.path.join(bt.ROOT, "target", "browser-test")
MAILDIR = os.path.join(WORK, "data", "mail", "new")
TENX_BIN = os.environ.get("TENX_BIN") or os.path.join(bt.ROOT, "target", "debug", "tenx")


class Postbacks(http.server.BaseHTTPRequestHandler):
    """The partner's tracker on loopback: a postback (a GET) answers 200, except those of the
    sale tagged sub1=video, which answer 500 (so the log shows one delivered, one failed)."""

    received = []
    lock = threading.Lock()

    def do_GET(self):  # noqa: N802 - http.server's naming
        with self.lock:
            Postbacks.received.append(self.path)
        self.send_response(500 if "sub=video" in self.path else 200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def start_postbacks():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Postbacks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return "http://127.0.0.1:%d" % server.server_address[1]


def ok(status, body, *want):
    assert status in want, (status, body)
    return body


def admin_token():
    status, body = bt.api("POST", "/console/sign-in", body={"handle": HANDLE, "role": "admin", "code": bt.CODE})
    return ok(status, body, 200)["token"]


def set_up(token):
    """The program, an approved partner, a paid sale with its statement, a message to it."""
    ok(*bt.api("POST", BASE_API + "/campaigns", token, {
        "campaignId": "tpl", "goalType": "PURCHASE",
        "primaryLink": {"slug": "join", "destinationUrl": "https://portalshop.example/"}}), 201)
    plan = {"currency": "EUR", "holdDays": 0, "rules": [{"eventType": "purchase", "percent": "10"}]}
    ok(*bt.api("PUT", BASE_API + "/campaigns/tpl/commission-plan", token, plan), 200, 201)
    ok(*bt.api("PUT", BASE_API + "/program", token, {
        "name": "Portal Shop partners", "applications": "open", "template": {"campaignId": "tpl"},
        "allowedDestinations": ["https://portalshop.example/shop"]}), 201)
    ok(*bt.api("PUT", BASE_API + "/conversion-policy", token, {"minSecondsAfterClick": 0}), 200, 201)
    # The program's colour on every portal screen (its branding; no reply-to: a partner's
    # message goes to the admins).
    ok(*bt.api("PUT", BASE_API + "/branding", token, {"name": "Portal Shop", "color": "#0f766e"}), 200)
    applied = ok(*bt.api("POST", "/v2/public/programs/%s/applications" % HANDLE, None,
                         {"name": "Kim Reviews", "email": PARTNER_EMAIL}), 202)
    approved = ok(*bt.api("POST", BASE_API + "/partner-applications/%s/approve" % applied["applicationId"], token), 200)
    partner = approved["partnerId"]
    # Its tracker's postback, fired when a commission is approved (the program sets it).
    tracker = start_postbacks() + "/pb?sub={sub1}&payout={commission}&tx={commission_id}"
    ok(*bt.api("PATCH", BASE_API + "/partners/" + partner, token,
               {"postbackUrl": tracker, "postbackEvents": ["commission.approved"]}), 200)
    # A sale through the partner's link (its slug is its id), then a payout of its commission.
    saved, bt.HANDLE = bt.HANDLE, HANDLE
    try:
        ctx = bt.visit(partner, bt.UA["desktop"])
    finally:
        bt.HANDLE = saved
    assert ctx, "a human's click on the partner's link carries a ctx"
    ok(*bt.api("POST", BASE_API + "/conversions", token, {
        "ctx": ctx, "idempotencyKey": "order-5001", "eventType": "purchase", "value": "80.00",
        "currency": "EUR"}), 202)
    # A second sale through the link tagged for a placement (sub1): two statement lines, so
    # the page reads the statement in pages (1 line each) and checks them together.
    saved, bt.HANDLE = bt.HANDLE, HANDLE
    try:
        tagged = bt.visit(partner + "?sub1=video", bt.UA["desktop"])
    finally:
        bt.HANDLE = saved
    ok(*bt.api("POST", BASE_API + "/conversions", token, {
        "ctx": tagged, "idempotencyKey": "order-5003", "eventType": "purchase", "value": "40.00",
        "currency": "EUR"}), 202)
    lines = lambda: bt.api("GET", BASE_API + "/commissions?partnerId=" + partner, token)[1]["items"]  # noqa: E731
    def approved():
        got = lines()
        return sum(1 for l in got if l["status"] == "approved") == 2
    try:
        wait_api(approved, "the sale's approved commission", 60)
    except AssertionError:
        print("--- the partner's lines: %s" % json.dumps(lines()), file=sys.stderr)
        raise
    def counted():
        got = bt.api("GET", BASE_API + "/analytics?funnel=true&partnerId=" + partner, token)[1]
        return got["totals"]["conversions"] == 2
    wait_api(counted, "the two sales counted in the funnel", 60)
    time.sleep(1.1)  # the run pays what is available before its periodEnd, a time to the second
    period_end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    ran = ok(*bt.api("POST", BASE_API + "/payouts", token, {"periodEnd": period_end, "partnerId": partner},
                     {"idempotency-key": "portal-run-1"}), 201)
    assert ran["payouts"] and ran["payouts"][0]["amount"] == "12.00", ran
    ok(*bt.api("POST", BASE_API + "/partners/%s/messages" % partner, token,
               {"body": "Welcome, Kim!\nYour first payout is on its way."}), 201)
    return partner


def wait_api(predicate, what, timeout=20):
    # The monotonic clock: this machine's wall clock may be set while the test runs.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


def mailed_link(to, kind):
    """The sign-in link of the newest mail of `kind` to `to` in the outbox (the Maildir)."""
    found = []

    def look():
        for path in glob.glob(os.path.join(MAILDIR, "*")):
            with open(path, "rb") as fh:
                msg = email.message_from_binary_file(fh, policy=email.policy.default)
            if msg["X-Tenx-Kind"] == kind and to in str(msg["To"]):
                text = msg.get_body(preferencelist=("plain",)).get_content()
                m = re.search(r"https?://\S+/v2/auth/email-link/verify\?token=[A-Za-z0-9_-]+", text)
                if m:
                    found.append(m.group(0))
        return bool(found)

    wait_api(look, "the %s mail to %s in %s" % (kind, to, MAILDIR))
    return found[-1]


def sign_in_from_mail(c):
    link = mailed_link(PARTNER_EMAIL, "partner_approved")
    assert "token=tenx_" in link and "tenx_ptk_" not in link, link
    c.d.get(link)
    c.css("form button[type=submit]").click()
    c.wait(lambda: c.d.current_url.endswith("/portal/" + HANDLE), "the portal after the sign-in")
    c.wait_text("main", "Your next payout")
    bt.step("signed in with the link the approval mailed: on the portal, no token anywhere")


def program_brand(c):
    """The program's name in the header and the title, its colour on the header's strip."""
    c.wait_text("header .brand", PROGRAM_NAME)
    assert c.d.title == "Overview · " + PROGRAM_NAME, c.d.title
    strip = c.d.execute_script("return getComputedStyle(document.querySelector('header.top')).borderBottomColor")
    assert strip == "rgb(15, 118, 110)", strip
    hidden = c.d.execute_script(
        "return [...document.querySelectorAll('#portal-nav button[data-view]')].filter((b) => b.checkVisibility())"
        ".map((b) => b.dataset.view)")
    assert hidden == PRIMARY, hidden
    # Nothing wider than the phone: a wider page would be shown zoomed out (its layout viewport
    # widened past the device's), which the sideways-scroll check cannot see.
    assert c.d.execute_script("return innerWidth") == bt.PHONE[0], c.d.execute_script("return innerWidth")
    bt.step("the program's name (%s) in the header and the title, its colour, four places in a row" % PROGRAM_NAME)


def copy_link(c, name):
    """A link with a copy button beside it (the clipboard holds it after), its QR code on demand,
    and no form for links of the partner's own where the program allows none."""
    tab(c, "links")
    card = c.wait_css("main .link-card")
    short = c.css("a.short", card).text
    assert not c.all("main .link-card svg"), "no QR code until asked for"
    c.d.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": bt.BASE, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    copy = c.css("button.copy", card)
    copy.click()
    c.wait(lambda: copy.text == "Copied", "the Copy button says Copied")
    held = c.d.execute_async_script(
        "const done = arguments[arguments.length - 1]; navigator.clipboard.readText().then(done, (e) => done('error ' + e));")
    assert held == short, (held, short)
    c.css("button[aria-label^='Show the QR code of %s']" % short, card).click()
    c.wait_css("main .link-card svg")
    c.shot(name + "-links")
    bt.step("%s: a link copied with the button beside it (%s), its QR code on demand" % (name, short))


def an_earning(c, name):
    """An earning with its date, its amount in euros, in the partner's words."""
    tab(c, "commissions")
    rows = c.d.execute_script(
        "return [...document.querySelectorAll('main tbody tr')].map((r) => [...r.cells].map((td) => td.innerText))")
    assert rows, "an earning"
    day, amount, what, status = rows[0][:4]
    assert re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}, \d{4}", day), day
    assert amount.startswith("€"), amount
    assert what == "A sale or sign-up you brought", what
    assert status in ("Approved", "Paid", "Being reviewed", "Pending: not final yet"), status
    assert "the partner" not in c.text_of("main"), c.text_of("main")[:500]
    c.shot(name + "-earnings")
    bt.step("%s: an earning read: %s, %s, %s, %s" % (name, day, amount, what, status))


def claim_with_evidence(c, name):
    """A claim with the sale's amount and a screenshot of the order (a PNG the page sends)."""
    image = os.path.join(WORK, "order-confirmation.png")
    with open(image, "wb") as fh:
        fh.write(TINY_PNG)
    tab(c, "claims")
    f = c.form("main form")
    c.fill(f, "orderId", "order-5004")
    when = c.css("main input[name=occurredAt]")
    c.d.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'))",
                       when, time.strftime("%Y-%m-%dT%H:%M", time.localtime(time.time() - 1800)))
    c.fill(f, "amount", "80.00")
    c.css("main input[name=image]").send_keys(image)
    c.submit(f)
    c.wait_text("main [role=status]", "Your image is with it.")
    card = c.wait_text("main .claim-card", "Order order-5004")
    assert "The sale, as you said: €80.00" in card and "You added 1 image." in card, card
    c.shot(name + "-claim")
    bt.step("%s: a claim filed with the sale's amount (€80.00) and a screenshot of the order" % name)


# A 2×2 PNG: the screenshot the claim carries.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a73000000104944415478"
    "9c63f8cfc000440c100a001fee03fd8b5f14d40000000049454e44ae426082")


def overview_traffic(c, token, partner):
    """The overview's clicks and sales and its top links: the funnel's counts over the same
    days, the link's earnings the chart's (every line here came through the partner's link)."""
    summary = ok(*bt.api("GET", BASE_API + "/partners/%s/summary" % partner, token), 200)
    days = summary["earnings"]
    funnel = ok(*bt.api("GET", BASE_API + "/analytics?funnel=true&partnerId=%s&from=%s&to=%s"
                        % (partner, days[0]["day"], days[-1]["day"]), token), 200)["totals"]
    t = summary["traffic"]
    assert (t["clicks"], t["conversions"]) == (funnel["clicks"], funnel["conversions"]) == (2, 2), (t, funnel)
    shown = [e.text for e in c.all("main dl.traffic dd")]
    assert shown == ["2", "2", "100%"], shown
    words = c.text_of("main .traffic-words")
    assert words.startswith("2 clicks brought 2 sales in these 30 days: 100% of the clicks became a sale"), words
    charted = sum(int(round(float(d[k]) * 100)) for d in days for k in ("pending", "approved", "paid"))
    earned = sum(int(round(float(l["earned"]) * 100)) for l in t["topLinks"]["byEarnings"])
    assert earned == charted == 1200, (earned, charted)
    tables = c.d.execute_script(
        "return [...document.querySelectorAll('main .table-wrap')].map((w) => [w.getAttribute('aria-label'),"
        " [...w.querySelectorAll('tbody tr')].map((r) => [...r.cells].map((td) => td.innerText))])")
    ranked = {label: rows for label, rows in tables if label in ("Most clicked (table)", "Most earned (table)")}
    assert set(ranked) == {"Most clicked (table)", "Most earned (table)"}, tables
    for rows in ranked.values():
        assert len(rows) == 1 and rows[0][0].endswith("/" + partner), rows
        assert rows[0][1:] == ["2", "2", "€12.00"], rows
    # Where and on what: both clicks came from Chrome on Windows, through no edge that names a
    # place (the walk's server believes no country header), each list the analytics' own rows.
    places = {label: rows for label, rows in tables
              if label in ("Countries (table)", "Cities (table)", "Systems (table)", "Browsers (table)")}
    assert places == {"Countries (table)": [["Not known", "2"]], "Cities (table)": [["Not known", "2"]],
                      "Systems (table)": [["Windows 10/11", "2"]], "Browsers (table)": [["Chrome", "2"]]}, places
    for group, key in (("os", "Windows 10/11"), ("browser", "Chrome")):
        got = ok(*bt.api("GET", BASE_API + "/analytics?groupBy=%s&from=%s&to=%s"
                         % (group, days[0]["day"], days[-1]["day"]), token), 200)
        assert [(r["key"], r["clicks"]) for r in got["rows"]] == [(key, 2)], got
    c.shot("portal-desktop-overview-links", at="main dl.traffic")
    c.shot("portal-desktop-overview-places", at="main .visitor-lists")
    bt.step("the overview: 2 clicks → 2 sales (the funnel's), its top link by clicks and by earnings (€12.00, the chart's), "
            "and where and on what they clicked (Chrome on Windows 10/11)")


def tab(c, label):
    button = c.css("#portal-nav button[data-view='%s']" % label)
    c.d.execute_script("window.scrollTo(0, 0)")
    if not c.d.execute_script("return arguments[0].checkVisibility()", button):
        c.css("#portal-nav details.more > summary").click()
    button.click()
    try:
        c.wait(lambda: button.get_attribute("aria-current") == "page", "the %s tab chosen" % label)
    except AssertionError:
        # What the tap hit instead, and what is wider than the phone (a page wider than its
        # device is shown zoomed out, and a tap lands elsewhere).
        print("--- the %s tab's button, what is at its centre, the viewport, wider elements:" % label, c.d.execute_script(
            "const b = arguments[0]; const r = b.getBoundingClientRect();"
            " const e = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);"
            " const wide = [...document.querySelectorAll('body *')].filter((x) => x.getBoundingClientRect().right > 391)"
            ".slice(0, 12).map((x) => x.tagName + '.' + x.className + ' ' + Math.round(x.getBoundingClientRect().right) + ' ' + Math.round(x.getBoundingClientRect().width));"
            " return [JSON.stringify(r), e && e.outerHTML.slice(0, 200), window.scrollY, innerWidth, innerHeight, wide];", button))
        raise
    c.wait(lambda: c.d.execute_script("return document.querySelector('main .loading') === null"), "the %s tab" % label)


def one_heading(c, view):
    """The screen's one level-one heading, named as its tab (the page's title says it too)."""
    named = c.d.execute_script(
        "return [[...document.querySelectorAll('h1')].map((e) => e.textContent), document.title,"
        " document.querySelector('#portal-nav button[data-view=\"' + arguments[0] + '\"]').textContent]", view)
    headings, title, label = named
    assert len(headings) == 1 and label.startswith(headings[0]), (view, headings, label)
    assert title == headings[0] + " · " + PROGRAM_NAME, (view, title)


def verify_cli(doc, keys):
    """`tenx verify` of a statement file: (exit code, what it printed)."""
    path = os.path.join(WORK, "portal-statement.json")
    keys_path = os.path.join(WORK, "portal-keys.json")
    with open(path, "w") as fh:
        json.dump(doc, fh)
    with open(keys_path, "w") as fh:
        json.dump(keys, fh)
    r = subprocess.run([TENX_BIN, "verify", path, "--keys", keys_path], capture_output=True, text=True, timeout=60)
    return r.returncode, (r.stdout + r.stderr).strip()


def statements(c, name, token, partner):
    tab(c, "payouts")
    c.css("main button[aria-label^='Check the statement']").click()
    verdict = c.wait_text("main .proof-verdict", "erified")
    assert verdict.startswith("Verified"), verdict
    c.shot(name + "-statement")
    payout = bt.api("GET", BASE_API + "/payouts?partnerId=" + partner, token)[1]["items"][0]
    doc = ok(*bt.api("GET", BASE_API + "/payouts/%s/statement" % payout["payoutId"], token), 200)
    keys = ok(*bt.api("GET", "/v2/public/keys"), 200)
    code, said = verify_cli(doc, keys)
    assert code == 0 and "verified" in said, (code, said)
    tampered = json.loads(json.dumps(doc))
    tampered["lines"][0]["amount"] = "80.00"
    code, said_cli = verify_cli(tampered, keys)
    assert code != 0, said_cli
    # The page's own check, on the same tampered file (the module as the page loaded it).
    src = c.d.execute_script("return [...performance.getEntriesByType('resource')].map((e) => e.name)"
                             ".find((n) => /portal-verify\\.[0-9a-f]+\\.js$/.test(n))")
    assert src, "the page loaded portal/verify.js"
    said_page = c.d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "import(arguments[0]).then((m) => m.checkStatement(arguments[1])).then(done, (e) => done('error ' + e));",
        src, tampered)
    assert said_page and said_page.startswith("lines:"), said_page
    assert said_cli.split(": ", 1)[-1].startswith(said_page.split(":")[0]) or "lines" in said_cli, (said_cli, said_page)
    # Read a line a page (as a statement over 5,000 lines is read, 1,000 a page): the pages
    # joined verify, the same document as the whole.
    paged = c.d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const get = (p) => fetch(p, {headers: {'x-tenx-act-as': 'partner'}}).then((r) => r.json());"
        "import(arguments[0]).then(async (m) => { const d = await m.readStatement(get, arguments[1], 1);"
        " done({lines: d.lines.length, failed: await m.checkStatement(d)}); }).catch((e) => done({error: String(e)}));",
        src, BASE_API + "/payouts/%s/statement" % payout["payoutId"])
    assert paged == {"lines": 2, "failed": None}, paged
    bt.step("%s: the statement verified in the page and by tenx verify; a tampered one refused by both (%s)" % (name, said_page))


def messages(c, name):
    label = c.d.execute_script("return document.querySelector('#portal-nav button[data-view=\"messages\"]').textContent")
    badge = c.text_of("#portal-nav button[data-view='messages'] .unread-badge")
    assert label == "Messages1 (1 new)" and badge == "1", (label, badge)
    tab(c, "messages")
    c.wait_text("main .thread", "Your first payout is on its way.")
    assert c.text_of("#portal-nav button[data-view='messages']") == "Messages"
    box = c.css("main textarea[name=body]")
    box.click()
    box.send_keys("Thanks! Could I get a banner for the spring sale?")
    box.send_keys(Keys.TAB)
    button = c.d.switch_to.active_element
    assert button.text == "Send to the program", button.text
    button.send_keys(Keys.ENTER)
    c.wait_text("main .thread", "banner for the spring sale")
    c.shot(name + "-messages")
    bt.step("%s: messages: the unread count on the tab, the program's message, a reply sent by keyboard" % name)


def claims(c, name, token, partner):
    tab(c, "claims")
    f = c.form("main form")
    c.fill(f, "orderId", "order-5002")
    when = c.css("main input[name=occurredAt]")
    c.d.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'))",
                       when, time.strftime("%Y-%m-%dT%H:%M", time.localtime(time.time() - 3600)))
    c.fill(f, "note", "My reader bought after my video; the coupon field was empty.")
    c.submit(f)
    c.wait_text("main [role=status]", "What 10x found")
    c.wait_text("main .claim-card", "Order order-5002")
    claim = bt.api("GET", BASE_API + "/claims?partnerId=" + partner, token)[1]["items"][0]
    ok(*bt.api("POST", BASE_API + "/claims/%s/decide" % claim["claimId"], token,
               {"decision": "deny", "reason": "We found no sale with this order number."}), 200)
    tab(c, "claims")
    verdict = c.wait_text("main .proof-verdict", "erified")
    assert verdict.startswith("Verified"), verdict
    assert "We found no sale with this order number." in c.text_of("main .claim-card")
    c.shot(name + "-claims")
    bt.step("%s: a claim asked by order number and date; the decision shown, its signature verified" % name)


def own_links(c, name):
    tab(c, "links")
    f = c.form("main form.own-link-form")
    c.fill(f, "destinationUrl", "https://portalshop.example.evil.example/shop")
    c.submit(f)
    refused = c.wait_text("main form .error", "allows links to https://portalshop.example/shop only")
    assert "destinationUrl" in refused or "Where it goes" in refused or "allows" in refused, refused
    c.fill(f, "destinationUrl", "https://portalshop.example/shop/spring")
    c.fill(f, "slug", "spring")
    c.submit(f)
    c.wait_text("main [role=status]", "-spring")
    c.wait_text("main", "https://portalshop.example/shop/spring")
    c.shot(name + "-links")
    bt.step("%s: a link of its own to an allowed page; a look-alike host refused in words" % name)


def tax(c, name):
    tab(c, "tax")
    f = c.form("main form")
    c.fill(f, "form", "eu_vat")
    c.fill(f, "legalName", "Kim Reviews GmbH")
    c.fill(f, "country", "DE")
    c.fill(f, "vatId", "DE136695977")
    c.submit(f)
    c.wait_text("main form .error", "check digits")
    c.fill(f, "vatId", "DE136695976")
    # The details are signed with the certification's words, by typing one's name.
    c.fill(f, "signedName", "Kim Reiter")
    c.submit(f)
    c.wait_text("main", "DE•••••5976")
    c.shot(name + "-tax")
    bt.step("%s: tax details: a mistyped VAT number named, then saved and shown masked" % name)


def sub_ids(c, name, token):
    """Links: a link tagged for a placement (sub1) with its QR code; clicks and sales per sub1."""
    def counted():
        got = bt.api("GET", BASE_API + "/analytics?groupBy=sub1", token)[1]
        return any(r["key"] == "video" and r["conversions"] >= 1 for r in got.get("rows", []))
    wait_api(counted, "the tagged sale counted under sub1 video", 60)
    tab(c, "links")
    f = c.form("main form.subid-form")
    c.fill(f, "sub1", "newsletter-12")
    url = c.wait_text("main .tagged-url", "sub1=newsletter-12")
    assert not c.all("main form.subid-form svg"), "no QR code until asked for"
    c.css("main form.subid-form button[aria-label^='Show the QR code']").click()
    qr = c.css("main form.subid-form svg[role=img]").get_attribute("aria-label")
    assert qr == "QR code of " + url, (qr, url)
    c.wait_text("main", "video")
    c.shot(name + "-subids")
    bt.step("%s: a link tagged with sub1 and its QR code; clicks and sales per sub1" % name)


def commission_proof(c, name):
    tab(c, "commissions")
    c.css("main details.why summary").click()
    said = c.wait_text("main details.why", "So it is")
    assert "The rule that paid it: purchase: 10 % of the value." in said, said
    c.shot(name + "-proof")
    bt.step("%s: a commission's proof in words: the sale, the plan version, the rule, the amount" % name)


def plan_terms(c, name, token, partner):
    """The plan in words, and a change's signed notice checked in the page."""
    campaigns = bt.api("GET", BASE_API + "/campaigns", token)[1]["items"]
    own = [x for x in campaigns if x.get("partnerId") == partner]
    assert own, campaigns
    cid = own[0]["campaignId"]
    if not getattr(plan_terms, "changed", False):
        plan = {"currency": "EUR", "holdDays": 0, "rules": [{"eventType": "purchase", "percent": "12"}]}
        ok(*bt.api("PUT", BASE_API + "/campaigns/%s/commission-plan" % cid, token, plan), 200, 201)
        plan_terms.changed = True
    tab(c, "plan")
    c.wait_text("main", "purchase: 12 % of the value")
    c.css("main button[aria-label^='Check the signature of the notice']").click()
    verdict = c.wait_text("main .proof-verdict", "erified")
    assert verdict.startswith("Verified"), verdict
    c.shot(name + "-plan")
    bt.step("%s: the plan in words; the change's signed notice verified in the page" % name)


def press_tab(c):
    """Tab, as a keyboard presses it: to the page (a file input's send_keys would take it as a
    path)."""
    ActionChains(c.d).send_keys(Keys.TAB).perform()


def tab_to(c, predicate_js, what, limit=80):
    """Presses Tab until the focused element satisfies `predicate_js` (a JS expression on `a`)."""
    for _ in range(limit):
        if c.d.execute_script("const a = document.activeElement; return Boolean(%s);" % predicate_js):
            return c.d.switch_to.active_element
        press_tab(c)
    raise AssertionError("%s is not reachable with Tab" % what)


def payout_method(c, name):
    """Getting paid, by keyboard only: Tab to each field, type, Enter; a mistyped IBAN named."""
    tab(c, "method")
    c.wait_text("main", "You have not said how to pay you yet")
    c.d.execute_script("document.querySelector('main').focus()")
    tab_to(c, "a.name === 'accountName'", "the account holder field").send_keys("Kim Reviews")
    tab_to(c, "a.name === 'iban'", "the IBAN field").send_keys("DE89370400440532013001", Keys.ENTER)
    c.wait_text("main form .error", "iban")
    iban = c.css("main input[name=iban]")
    iban.send_keys(Keys.CONTROL, "a")
    iban.send_keys("DE89370400440532013000", Keys.ENTER)
    c.wait_text("main [role=status]", "Saved")
    c.wait_text("main", "3000")
    c.shot(name + "-method")
    bt.step("%s: a payout method given by keyboard only; a mistyped IBAN named" % name)


def paypal_payer_id(c, name):
    """Getting paid by PayPal through the account's payer ID (instead of its email): only that
    field asked for, a payer ID in small letters named in words, then saved and shown by its
    last 4 as a change the program confirms."""
    tab(c, "method")
    Select(c.css("main select[name=type]")).select_by_value("paypal_id")
    box = c.css("main input[name=payerId]")
    c.wait(box.is_displayed, "the payer ID field")
    assert not c.css("main input[name=email]").is_displayed(), "the email is not asked for"
    box.send_keys("7zq4l8nwk2m3p", Keys.ENTER)
    said = c.wait_text("main form .error", "payerId")
    assert "capital letters" in said, said
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("7ZQ4L8NWK2M3P", Keys.ENTER)
    c.wait_text("main [role=status]", "Saved")
    shown = c.wait_text("main", "…2M3P")
    assert "PayPal, by the account's payer ID" in shown and "PayPal payer ID" in shown, shown
    assert "waits for the program's confirmation" in shown, shown
    c.shot(name + "-method-paypal-id")
    bt.step("%s: PayPal by its payer ID: a wrong one named in words, then saved (…2M3P) and held for the program's confirmation" % name)


def notification_prefs(c, name):
    tab(c, "notifications")
    box = c.css("main input[name=commission_digest]")
    assert box.is_selected()
    box.click()
    c.submit(c.form("main form"))
    c.wait_text("main [role=status]", "Saved")
    tab(c, "notifications")
    assert not c.css("main input[name=commission_digest]").is_selected()
    c.shot(name + "-notifications")
    bt.step("%s: mail preferences saved per kind" % name)


def postback_log(c, name, token, partner):
    """The postback's log: the sale's postback delivered, the tagged sale's failed after its six
    tries (the loopback tracker answers it 500), each with its time and outcome in words."""
    log = lambda: bt.api("GET", BASE_API + "/partners/%s/postbacks?limit=100" % partner, token)[1]["items"]  # noqa: E731

    def settled():
        got = log()
        done = [a for a in got if a["status"] == "succeeded"]
        gave_up = [a for a in got if a["status"] == "failed" and not a.get("nextAttemptAt")]
        return done and gave_up
    wait_api(settled, "a postback delivered and one given up after its tries", 60)
    assert any("sub=video" in p for p in Postbacks.received) and any("sub=&" in p for p in Postbacks.received), Postbacks.received
    tab(c, "notifications")
    c.wait_text("main", "Only the program changes it.")
    rows = c.d.execute_script(
        "return [...document.querySelectorAll('main table[aria-label], main .table-wrap table')].flatMap((t) =>"
        " [...t.querySelectorAll('tbody tr')].map((r) => [...r.cells].map((td) => td.innerText)))")
    said = [r[2] for r in rows]
    assert any(w.startswith("Delivered: your server answered 200") for w in said), rows
    assert [r for r in rows if r[2] == "Not delivered: tried 6 times, your server answered 500 the last time. "
            "Ask the program to send it again."], rows
    assert all(r[1] == "A commission approved" for r in rows), rows
    # The time in words (the locale's date and time, and how long ago), never a raw stamp.
    # ("Nov 27, 2026, 1:32 AM UTC (2 minutes ago)" in en-US, the zone named), never a raw timestamp.
    assert all(re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}\s[AP]M [A-Z][A-Za-z0-9+:-]+ \((now|.+ ago)\)", r[0]) for r in rows), rows
    c.shot(name + "-postbacks", at="main .table-wrap")
    bt.step("%s: the postback log: one delivered (200), one not delivered after 6 tries (500), in words" % name)


# The focusable controls of the page, each marked with its index (visible and enabled only).
FOCUSABLE_JS = """
  const sel = 'a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select:not([disabled]),'
    + ' textarea:not([disabled]), summary, [tabindex="0"]';
  const all = [...document.querySelectorAll(sel)].filter((e) => e.getClientRects().length && !e.closest('[hidden]')
    && e.checkVisibility());
  all.forEach((e, i) => { e.dataset.kbd = String(i); });
  return all.length;"""


def keyboard_walk(c, views):
    """Every tab reached from the navigation by Tab and opened by Enter, the screen focused, and
    every control on it reached by Tab in turn (nothing needs the mouse)."""
    for view in views:
        c.d.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
        c.d.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        if view not in PRIMARY:
            tab_to(c, "a.matches('#portal-nav details.more > summary')", "the More menu").send_keys(Keys.ENTER)
        tab_to(c, "a.dataset && a.dataset.view === '%s'" % view, "the %s tab" % view).send_keys(Keys.ENTER)
        c.wait(lambda: c.d.execute_script("return document.activeElement.id === 'main' && !document.querySelector('main .loading')"),
               "the %s tab opened and focused" % view)
        n = c.d.execute_script(FOCUSABLE_JS)
        seen = set()
        for _ in range(n + 10):
            press_tab(c)
            k = c.d.execute_script("return document.activeElement.dataset ? document.activeElement.dataset.kbd : null")
            if k is not None:
                seen.add(int(k))
            if len(seen) == n:
                break
        missed = c.d.execute_script(
            "return [...document.querySelectorAll('[data-kbd]')].filter((e) => !arguments[0].includes(Number(e.dataset.kbd)))"
            ".map((e) => e.outerHTML.slice(0, 100));", sorted(seen))
        # The sign-in's skip link and the nav sit before main: Tab from main wraps to them.
        assert not missed, "%s: not reachable with Tab: %s" % (view, missed)
    bt.step("keyboard only: every tab opened from the navigation, every control on it reached by Tab")


def docs_screenshots(c):
    """The small screenshots docs/portal/ shows: the overview and its clicks, sales and top
    links, a verified statement, messages, claims, the postback log. Written to
    target/console-screenshots/docs/portal-*.png, or with PORTAL_SHOTS_DIR=docs/portal as the
    committed files themselves (overview.png, …)."""
    out = os.environ.get("PORTAL_SHOTS_DIR") or os.path.join(bt.ROOT, "target", "console-screenshots", "docs")
    named = (lambda n: n + ".png") if os.environ.get("PORTAL_SHOTS_DIR") else (lambda n: "portal-%s.png" % n)
    os.makedirs(out, exist_ok=True)
    c.viewport(1100, 900, scale=0.65)
    for view, name, at in [("overview", "overview", None), ("overview", "traffic", "main dl.traffic"),
                           ("messages", "messages", None), ("claims", "claims", None),
                           ("notifications", "postbacks", "main .table-wrap")]:
        tab(c, view)
        if view == "claims":
            c.wait_text("main .proof-verdict", "erified")
        c.d.execute_script("window.scrollTo(0, 0)")
        if at:
            c.d.execute_script("document.querySelector(arguments[0]).closest('section').scrollIntoView()", at)
        c.d.save_screenshot(os.path.join(out, named(name)))
    tab(c, "payouts")
    c.css("main button[aria-label^='Check the statement']").click()
    c.wait_text("main .proof-verdict", "erified")
    c.d.save_screenshot(os.path.join(out, named("statement")))
    c.viewport(*bt.DESKTOP)


def phone_screenshots(c):
    """The small screenshots of the first hour at 390 px docs/portal/ shows (phone-*.png), as
    docs_screenshots writes the others."""
    out = os.environ.get("PORTAL_SHOTS_DIR") or os.path.join(bt.ROOT, "target", "console-screenshots", "docs")
    named = (lambda n: "phone-%s.png" % n) if os.environ.get("PORTAL_SHOTS_DIR") else (lambda n: "portal-phone-%s.png" % n)
    os.makedirs(out, exist_ok=True)
    c.viewport(*bt.PHONE, mobile=True, scale=0.5)
    for view in ["overview", "links", "commissions", "claims"]:
        tab(c, view)
        c.d.execute_script("window.scrollTo(0, 0)")
        c.d.save_screenshot(os.path.join(out, named(view)))
    c.css("#portal-nav details.more > summary").click()
    c.d.save_screenshot(os.path.join(out, named("menu")))
    c.css("#portal-nav details.more > summary").click()
    c.viewport(*bt.PHONE, mobile=True)


def main():
    downloads = os.path.join(WORK, "downloads-portal")
    os.makedirs(downloads, exist_ok=True)
    os.makedirs(bt.SHOTS, exist_ok=True)
    for old in os.listdir(bt.SHOTS):
        if old.startswith(("portal-", "FAILED-portal")) or "-portal-" in old:
            os.remove(os.path.join(bt.SHOTS, old))
    token = admin_token()
    partner = set_up(token)
    c = bt.Console(downloads)
    try:
        # A partner's first hour, on a phone: signed in from the mail, the program's name and
        # colour, a link copied, an earning and its date, a claim with the sale's amount and a
        # screenshot, a message to the program.
        c.viewport(*bt.PHONE, mobile=True)
        sign_in_from_mail(c)
        program_brand(c)
        c.shot("portal-phone-first-overview")
        copy_link(c, "portal-phone-first")
        an_earning(c, "portal-phone-first")
        claim_with_evidence(c, "portal-phone-first")
        messages(c, "portal-phone-first")
        phone_screenshots(c)
        bt.step("portal-phone (390x844): a partner's first hour, every screen axe-clean, no sideways scrolling")
        c.viewport(*bt.DESKTOP)
        tab(c, "overview")
        c.shot("portal-desktop-overview")
        bt.step("portal-desktop (1440x900): the overview, labelled, axe-clean, no console error")
        overview_traffic(c, token, partner)
        statements(c, "portal-desktop", token, partner)
        claims(c, "portal-desktop", token, partner)
        own_links(c, "portal-desktop")
        tax(c, "portal-desktop")
        sub_ids(c, "portal-desktop", token)
        commission_proof(c, "portal-desktop")
        plan_terms(c, "portal-desktop", token, partner)
        payout_method(c, "portal-desktop")
        paypal_payer_id(c, "portal-desktop")
        notification_prefs(c, "portal-desktop")
        postback_log(c, "portal-desktop", token, partner)
        keyboard_walk(c, VIEWS)
        c.viewport(*bt.PHONE, mobile=True)
        for view in VIEWS:
            tab(c, view)
            one_heading(c, view)
            c.shot("portal-phone-" + view)
        bt.step("portal-phone (390x844): every tab labelled, one level-one heading each, axe-clean, no sideways scrolling")
        c.viewport(*bt.DESKTOP)
        docs_screenshots(c)
        c.check_logs("the end")
        print("partner portal in headless Chromium: every flow passed; screenshots in %s" % bt.SHOTS)
    except BaseException:
        try:
            c.d.save_screenshot(os.path.join(bt.SHOTS, "FAILED-portal.png"))
            print("--- page at the failure (%s):\n%s" % (c.d.current_url, c.text_of("main")[:3000]), file=sys.stderr)
        except Exception:
            pass
        raise
    finally:
        c.d.quit()


if __name__ == "__main__":
    main()
