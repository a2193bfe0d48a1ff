#!/usr/bin/env python3
"""A statement of over 5,000 lines in the partner portal, in headless Chromium (issue 61).

Run by scripts/browser_test.sh after the portal's walk (`--portal`, or `--statement` alone). It
runs its OWN `tenx serve` on a data dir of its own, because `tenx ledger seed` writes the
embedded store directly (with the server stopped): a program and an approved partner are set
up through the API; the server stops; `tenx ledger seed` writes 5,200 approved lines of the
partner's campaign (about 10 s with CI's debug build: each line's receipt is signed); the
server starts again on the same port; a payout
run pays them (one payout, its statement over the 5,000 lines answered whole, so it is read a
page of 1,000 lines at a time). Then, as the partner, signed in by the link its approval
mailed:

- its payouts: the statement checked in the page; the page says how far it read as the pages
  arrive (the page stays responsive: it updates between the pages), the verdict "Verified",
  the same as `tenx verify` on the same statement; one line changed and both refuse it;
- the statement's lines shown 50 at a time: next and previous pages by keyboard, the line
  numbers and "Lines 51 to 100 of 5,200" in words; labelled, axe-clean, no sideways scrolling
  at 1440×900 and 390×844.

Prints how long the seed, the run and the check in the page took, and the page's longest task.
Usage: browser_test_statement.py BASE_URL SIGN_IN_URL (the shared server's, unused but for the
module it shares with the other walks); TENX_BIN, BROWSER_TEST_TMP as the portal's walk.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

from selenium.webdriver.common.keys import Keys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import browser_test as bt  # noqa: E402
import browser_test_portal as portal  # noqa: E402

HANDLE = "bigshop"
BASE_API = "/v2/handles/" + HANDLE
PARTNER_EMAIL = "lee@leelinks.example"
LINES = 5_200
WORK = os.path.join(portal.WORK, "statement")
DATA = os.path.join(WORK, "data")
TENX_BIN = portal.TENX_BIN

# The server's environment, as scripts/browser_test.sh gives the shared one: no configured
# secrets (the data dir's), the embedded backend, no write limit in the way; a run of these
# lines answered in its request.
SERVER_ENV = {k: v for k, v in os.environ.items() if not k.startswith(("TENX_", "AWS_"))}
SERVER_ENV.update({"TENX_RATE_LIMIT_FREE": "100000", "TENX_LOG": "warn",
                   "TENX_PAYOUT_SYNC_LINES": "20000", "TENX_PAYOUT_SYNC_SECS": "60"})
if os.environ.get("BROWSER_TEST_CONSOLE_DIR"):  # console/ edits against a binary built before them
    SERVER_ENV["TENX_CONSOLE_DIR"] = os.path.abspath(os.environ["BROWSER_TEST_CONSOLE_DIR"])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`tenx serve` on its own data dir and a fixed port (the browser's origin across restarts)."""

    def __init__(self):
        self.port = free_port()
        self.base = "http://localhost:%d" % self.port
        self.proc = None
        self.log = os.path.join(WORK, "server.log")

    def start(self):
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [TENX_BIN, "serve", "--local-sign-in", "--addr", "127.0.0.1:%d" % self.port, "--data-dir", DATA],
                stdout=log, stderr=subprocess.STDOUT, env=SERVER_ENV)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("tenx serve exited: %s" % self.tail())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    pass
                status, _ = api("GET", "/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError("tenx serve did not start: %s" % self.tail())

    def code(self):
        """The local sign-in code of the server's latest start."""
        found = re.findall(r"\?code=([A-Za-z0-9]+)", open(self.log, encoding="utf-8", errors="replace").read())
        assert found, self.tail()
        return found[-1]

    def stop(self):
        """SIGTERM, and how it ended in words (a kill leaves the store to be repaired on its
        next open, which the seed then pays for)."""
        said = "not running"
        if self.proc and self.proc.poll() is None:
            started = time.monotonic()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
                said = "stopped in %.1f s" % (time.monotonic() - started)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                said = "killed after 30 s"
        self.proc = None
        return said

    def tail(self):
        try:
            return open(self.log, encoding="utf-8", errors="replace").read()[-3000:]
        except OSError:
            return ""


SERVER = Server()


def api(method, path, token=None, body=None, headers=None):
    """An API call to this walk's own server (browser_test.api against its base). A run over
    5,200 lines answers within the server's own budget, ~5-8 s alone and more on a loaded
    machine: its guard is a hang's, 120 s."""
    saved, bt.BASE = bt.BASE, SERVER.base
    try:
        return bt.api(method, path, token, body, headers, timeout=120)
    finally:
        bt.BASE = saved


def set_up():
    """The program and its approved partner, through the API: (admin token, partner, campaign)."""
    status, body = api("POST", "/console/sign-in", body={"handle": HANDLE, "role": "admin", "code": SERVER.code()})
    token = portal.ok(status, body, 200)["token"]
    portal.ok(*api("POST", BASE_API + "/campaigns", token, {
        "campaignId": "tpl", "goalType": "PURCHASE",
        "primaryLink": {"slug": "join", "destinationUrl": "https://bigshop.example/"}}), 201)
    plan = {"currency": "EUR", "holdDays": 0, "rules": [{"eventType": "purchase", "percent": "10"}]}
    portal.ok(*api("PUT", BASE_API + "/campaigns/tpl/commission-plan", token, plan), 200, 201)
    portal.ok(*api("PUT", BASE_API + "/program", token, {
        "name": "Big Shop partners", "applications": "open", "template": {"campaignId": "tpl"}}), 201)
    applied = portal.ok(*api("POST", "/v2/public/programs/%s/applications" % HANDLE, None,
                             {"name": "Lee Links", "email": PARTNER_EMAIL}), 202)
    approved = portal.ok(*api("POST", BASE_API + "/partner-applications/%s/approve" % applied["applicationId"], token), 200)
    partner = approved["partnerId"]
    campaigns = portal.ok(*api("GET", BASE_API + "/campaigns", token), 200)["items"]
    own = [x["campaignId"] for x in campaigns if x.get("partnerId") == partner]
    assert own, campaigns
    return token, partner, own[0]


def seed(partner, campaign):
    """`tenx ledger seed`: LINES approved lines of the partner (the server stopped)."""
    started = time.monotonic()
    r = subprocess.run([TENX_BIN, "ledger", "seed", "--handle", HANDLE, "--data-dir", DATA, "--partner", partner,
                        "--campaign", campaign, "--lines", str(LINES), "--status", "approved", "--days", "20"],
                       capture_output=True, text=True, timeout=300, env=SERVER_ENV)
    assert r.returncode == 0, r.stdout + r.stderr
    return time.monotonic() - started


def pay(token, partner):
    """One payout run over the seeded lines: the payout (its statement over 5,000 lines)."""
    started = time.monotonic()
    body = {"periodEnd": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "partnerId": partner}
    while True:
        status, ran = api("POST", BASE_API + "/payouts", token, body, {"idempotency-key": "big-run-1"})
        if status in (200, 201):
            break
        assert status == 202 and time.monotonic() - started < 120, (status, ran)
        time.sleep(0.5)
    assert len(ran["payouts"]) == 1, ran
    return ran["payouts"][0], time.monotonic() - started


def statement_of(token, payout_id):
    """The statement as `tenx verify` reads it: every page's lines joined under the header."""
    path = BASE_API + "/payouts/%s/statement" % payout_id
    status, whole = api("GET", path, token)
    assert status == 400, "a statement over 5,000 lines is answered in pages only (%s)" % status
    doc, cursor = None, None
    while True:
        q = "?limit=1000" + ("&cursor=" + cursor if cursor else "")
        page = portal.ok(*api("GET", path + q, token), 200)
        if doc is None:
            doc = {"header": page["header"], "lines": [], "jws": page["jws"], "planVersions": []}
        doc["lines"] += page["lines"]
        for v in page.get("planVersions") or []:
            if v not in doc["planVersions"]:
                doc["planVersions"].append(v)
        cursor = page.get("nextCursor")
        if not cursor:
            return doc


# Records the verdict's texts as the page changes them, and the page's long tasks.
WATCH_JS = """
  window.__said = []; window.__longest = 0;
  new MutationObserver(() => {
    const v = document.querySelector('main .proof-verdict');
    if (v && window.__said[window.__said.length - 1] !== v.textContent) window.__said.push(v.textContent);
  }).observe(document.querySelector('main'), {subtree: true, childList: true, characterData: true});
  try {
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__longest = Math.max(window.__longest, e.duration); })
      .observe({type: 'longtask', buffered: false});
  } catch (e) { /* no long-task timing here: reported as 0 */ }"""


def check_in_page(c, token, payout):
    portal.tab(c, "payouts")
    c.d.execute_script(WATCH_JS)
    started = time.monotonic()
    c.css("main button[aria-label^='Check the statement']").click()
    verdict = c.wait_text("main .proof-verdict", "erified", timeout=120)
    took = time.monotonic() - started
    assert verdict.startswith("Verified: signed by the program"), verdict
    said = c.d.execute_script("return window.__said")
    reads = [s for s in said if s.startswith("Read ")]
    # The page said how far it read after each page of 1,000 lines: it ran between the pages.
    assert len(reads) >= 5 and reads[0] == "Read 1,000 of 5,200 lines…" and reads[-1] == "Read 5,200 of 5,200 lines…", said
    longest = c.d.execute_script("return window.__longest")
    # `tenx verify`, on the same statement read through the API: the same verdict.
    doc = statement_of(token, payout["payoutId"])
    assert len(doc["lines"]) == LINES, len(doc["lines"])
    keys = portal.ok(*api("GET", "/v2/public/keys"), 200)
    code, cli = portal.verify_cli(doc, keys)
    assert code == 0 and "verified" in cli, (code, cli)
    tampered = json.loads(json.dumps(doc))
    tampered["lines"][4321]["amount"] = "999.00"
    code, cli_bad = portal.verify_cli(tampered, keys)
    assert code != 0, cli_bad
    src = c.d.execute_script("return [...performance.getEntriesByType('resource')].map((e) => e.name)"
                             ".find((n) => /portal-verify\\.[0-9a-f]+\\.js$/.test(n))")
    page_bad = c.d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "import(arguments[0]).then((m) => m.checkStatement(arguments[1])).then(done, (e) => done('error ' + e));",
        src, tampered)
    assert page_bad and page_bad.startswith("lines:"), page_bad
    bt.step("a statement of %d lines read in pages and verified in the page in %.1f s (longest task %d ms), "
            "the same verdict as tenx verify; one line changed: refused by both (%s)" % (LINES, took, longest, page_bad))
    return took


def lines_shown(c):
    return c.d.execute_script(
        "return [...document.querySelectorAll('main .statement-view tbody tr')].map((r) => r.cells[0].innerText)")


def paging(c):
    c.wait_text("main .statement-where", "Lines 1 to 50 of 5,200 (page 1 of 104).")
    assert lines_shown(c)[:2] == ["1", "2"] and len(lines_shown(c)) == 50, lines_shown(c)
    c.shot("statement-desktop", at="main .statement-view")
    # By keyboard: Enter on "Next lines", twice; "Previous lines" once.
    nxt = c.css("main .statement-view button[data-page=next]")
    prev = c.css("main .statement-view button[data-page=previous]")
    assert not prev.is_enabled()
    nxt.send_keys(Keys.ENTER)
    nxt.send_keys(Keys.ENTER)
    c.wait_text("main .statement-where", "Lines 101 to 150 of 5,200 (page 3 of 104).")
    prev.send_keys(Keys.ENTER)
    c.wait_text("main .statement-where", "Lines 51 to 100 of 5,200 (page 2 of 104).")
    shown = lines_shown(c)
    assert shown[0] == "51" and shown[-1] == "100", shown
    c.viewport(*bt.PHONE, mobile=True)
    c.shot("statement-phone", at="main .statement-view")
    c.viewport(*bt.DESKTOP)
    bt.step("the statement's 5,200 lines shown 50 at a time: next and previous by keyboard, where in words; 1440 and 390 px")


def main():
    os.makedirs(WORK, exist_ok=True)
    os.makedirs(bt.SHOTS, exist_ok=True)
    downloads = os.path.join(WORK, "downloads")
    os.makedirs(downloads, exist_ok=True)
    portal.MAILDIR = os.path.join(DATA, "mail", "new")
    c = None
    try:
        SERVER.start()
        token, partner, campaign = set_up()
        # The approval's sign-in mail is read before the server stops for the seed: a stop while
        # the mail worker sends it leaves it to the worker's later retry, past this wait.
        link = portal.mailed_link(PARTNER_EMAIL, "partner_approved")
        bt.step("the server %s for the seed" % SERVER.stop())
        seeded = seed(partner, campaign)
        SERVER.start()
        payout, ran = pay(token, partner)
        bt.step("seeded %d lines in %.1f s (tenx ledger seed); the payout run paid them in %.1f s" % (LINES, seeded, ran))
        saved, bt.BASE = bt.BASE, SERVER.base
        c = bt.Console(downloads)
        assert ":%d/" % SERVER.port in link, link
        c.d.get(link)
        c.css("form button[type=submit]").click()
        c.wait(lambda: c.d.current_url.endswith("/portal/" + HANDLE), "the portal after the sign-in")
        c.wait_text("main", "Your next payout")
        check_in_page(c, token, payout)
        paging(c)
        c.check_logs("the end")
        bt.BASE = saved
        print("a statement of %d lines in the partner portal: every check passed" % LINES)
    except BaseException:
        if c is not None:
            try:
                c.d.save_screenshot(os.path.join(bt.SHOTS, "FAILED-statement.png"))
                print("--- page at the failure (%s):\n%s" % (c.d.current_url, c.text_of("main")[:3000]), file=sys.stderr)
            except Exception:
                pass
        print("--- its tenx serve log:\n" + SERVER.tail(), file=sys.stderr)
        raise
    finally:
        if c is not None:
            c.d.quit()
        SERVER.stop()


if __name__ == "__main__":
    main()
