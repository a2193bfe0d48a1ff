#!/usr/bin/env python3
"""A manager's first hour in the console, in headless Chromium (issue 62).

Run by scripts/browser_test.sh after the console walk, against the same `tenx serve`, on a
handle of its own (`firsthour`). The API sets up only what a shop brings before a manager
arrives: a template campaign with its plan. Then, in the browser, as the manager, from the
one-time `Set up:` link `tenx serve` printed (BROWSER_TEST_SET_UP_URL: its page makes the
manager the handle's first admin, then refuses a second use in words) on: Home's set-up
checklist (nothing ticked),
the program opened on the Program page, an applicant approved, the partner found in the
searchable list and its page opened (its plan in words), a sale through its link seen as a
commission on its page and in its traffic (clicks → sales and top links, the portal's words), the
whole program in test money (test mode on from Home, a test sale, its line with its Test badge
approved, a test payout marked paid, the partner's Earnings showing it apart in a browser of its
own, the test data cleared, test mode off: Home never ticking "Pay your first partner" for it), a payout run on Payouts, a batch made and marked paid (it says paid,
never "open"), a partner's message answered by keyboard (the unread count in the navigation
goes), a claim decided (the amount asked for when nothing rates the sale; the signed decision
verified in the page), a broadcast, and the checklist ticked by what was done. Every main
screen again at 390×844. Each screen is checked (labels, axe, no sideways scrolling, no console
error); then Stripe connected on Integrations and a test event sent from its card (the event in
words, the checklist's last step ticked), and the plan editor's rows (a condition, tiers from 0,
a refused tier shown beside its field, the preview in the plan's currency), a partner added by
its name alone, its audit trail in sentences, and a coupon code's leak row on Commissions; then
every screen read for codes, raw ids, machine times and words (scripts/browser_words.py). The small screenshots docs/console.md shows are written to
target/console-screenshots/docs/console-*.png (copied into docs/console/ by hand).

Usage: browser_test_manager.py BASE_URL SIGN_IN_URL (as scripts/browser_test.py);
BROWSER_TEST_TMP is the server's work dir (its Maildir is BROWSER_TEST_TMP/data/mail).
"""
import os
import sys
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser_test as bt  # noqa: E402
import browser_words  # noqa: E402

HANDLE = "firsthour"
BASE_API = "/v2/handles/" + HANDLE
MANAGER = "lee@firsthour.example"
APPLICANT = "Rosa Reviews"
WORK = os.environ.get("BROWSER_TEST_TMP") or os.path.join(bt.ROOT, "target", "browser-test")
DOCS = os.path.join(bt.ROOT, "target", "console-screenshots", "docs")
# The refusals this walk provokes on purpose (Chromium logs each 4xx as a failed load).
bt.EXPECTED_FAILURES += [
    (400, r"/claims/clm_[0-9a-z]+/decide$", "a claim approved with nothing to rate it by: the amount is asked"),
    (400, r"/campaigns/[a-z0-9-]+/commission-plan$", "the plan's tier refused on purpose: shown beside its field"),
    (400, r"/program$", "the fraud rules' refund share of 140 %, refused on purpose: shown beside its field"),
]


def ok(status, body, *want):
    assert status in want, (status, body)
    return body


def admin_token():
    status, body = bt.api("POST", "/console/sign-in", body={"handle": HANDLE, "role": "admin", "code": bt.CODE})
    return ok(status, body, 200)["token"]


def set_up(token):
    """What the shop has before the manager arrives: a template campaign and its plan (paid at
    once) and sales counted without waiting."""
    ok(*bt.api("POST", BASE_API + "/campaigns", token, {
        "campaignId": "tpl", "goalType": "PURCHASE",
        "primaryLink": {"slug": "fh-join", "destinationUrl": "https://firsthour.example/"}}), 201)
    plan = {"currency": "EUR", "holdDays": 0, "rules": [{"eventType": "purchase", "percent": "10"}]}
    ok(*bt.api("PUT", BASE_API + "/campaigns/tpl/commission-plan", token, plan), 200, 201)
    ok(*bt.api("PUT", BASE_API + "/conversion-policy", token, {"minSecondsAfterClick": 0}), 200, 201)


def nav(c, label):
    """Clicks a place in the top navigation, as a person would."""
    href = [a for a in c.all("#nav a") if a.text.split("\n")[0].strip().startswith(label)][0].get_attribute("href")
    c.css("#nav a[href='#%s']" % href.split("#", 1)[1]).click()
    # The place is marked current once its page is drawn (the old page stays until then).
    c.wait(lambda: c.d.execute_script(
        "const a = document.querySelector('#nav a[aria-current=page]');"
        "return a && a.href === arguments[0] && document.querySelector('main .loading') === null", href),
        "the %s page" % label)


def tab(c, label):
    c.wait(lambda: [a for a in c.all("main .tabs a") if a.text.strip() == label], "the %s tab's link" % label)
    href = [a for a in c.all("main .tabs a") if a.text.strip() == label][0].get_attribute("href")
    c.css("main .tabs a[href='#%s']" % href.split("#", 1)[1]).click()
    c.wait(lambda: c.d.execute_script(
        "const a = document.querySelector('main .tabs a[aria-current=page]');"
        "return a && a.href === arguments[0] && document.querySelector('main .loading') === null", href),
        "the %s tab" % label)


def doc_shot(c, name, at=None):
    """A small screenshot for docs/console.md (a 1200 px page at 0.65)."""
    os.makedirs(DOCS, exist_ok=True)
    c.viewport(1200, 1100, scale=0.65)
    if at:
        c.d.execute_script("window.scrollTo(0, document.querySelector(arguments[0]).getBoundingClientRect().top + scrollY - 8)", at)
    else:
        c.d.execute_script("window.scrollTo(0, 0)")
    c.d.save_screenshot(os.path.join(DOCS, "console-%s.png" % name))
    c.viewport(*bt.DESKTOP)


def checklist(c):
    return {li.get_attribute("data-step"): "done" in li.get_attribute("class") for li in c.all("#setup li")}


def from_the_set_up_link(c):
    url = os.environ["BROWSER_TEST_SET_UP_URL"]
    c.d.get(url)
    f = c.wait_css("main form")
    assert c.d.title == "Set up 10x", c.d.title
    # The page a manager opens first, on a phone too: labelled, axe-clean, no sideways scrolling.
    c.viewport(*bt.PHONE, mobile=True)
    c.check_screen("the set-up page at 390x844")
    c.viewport(*bt.DESKTOP)
    c.check_screen("the set-up page")
    c.fill(f, "email", MANAGER)
    c.fill(f, "handle", HANDLE)
    c.css("button[type=submit]", f).click()
    c.wait_text("#who-am-i", "admin · " + MANAGER)
    c.wait(lambda: c.h1() == "Welcome, %s" % HANDLE, "Home")
    c.wait_css("#setup li")
    assert checklist(c) == {"connect": False, "program": False, "template": False, "page": False,
                            "partner": False, "payout": False}, checklist(c)
    # In order: a step waiting on the one before says why instead of offering its link.
    why = {li.get_attribute("data-step"): li.text for li in c.all("#setup li.locked")}
    assert sorted(why) == ["page", "partner", "payout", "template"], why
    assert "Open the program first" in why["template"], why
    assert "Welcome a partner first" in why["payout"], why
    assert not c.all("#setup li.locked a"), "a step that cannot be done yet offers no link"
    assert [a.text.split("\n")[0].strip() for a in c.all("#nav a")] == [
        "Home", "Partners", "Program", "Commissions", "Payouts", "Links", "Integrations", "Settings"], \
        [a.text for a in c.all("#nav a")]
    c.shot("manager-home")
    doc_shot(c, "home")
    bt.step("the Set up: link makes the manager the first admin, signed in on Home: the set-up in its order, nothing ticked, each later step saying what it waits for")
    c.d.get(url)
    c.wait_text("main", "This set-up link no longer works")
    c.go("#/")
    c.wait(lambda: c.h1() == "Welcome, %s" % HANDLE, "Home again")
    bt.step("the Set up: link, opened again, says in words that it no longer works")


def open_the_program(c):
    nav(c, "Program")
    f = c.form("form[aria-label='Program settings']")
    c.fill(f, "name", "First Hour partners")
    c.fill(f, "template", "tpl")
    c.submit(f)
    c.wait_text("main", "Public page:")
    status, body = bt.api("POST", "/v2/public/programs/%s/applications" % HANDLE, None,
                          {"name": APPLICANT, "email": "rosa@reviews.example"})
    assert status == 202, (status, body)
    tab(c, "Settings and applications")
    approve = c.wait_css("button[aria-label='Approve %s']" % APPLICANT)
    # The reject box has a label of its own (issue 62), visible beside it.
    assert "Why reject %s?" % APPLICANT in c.text_of("main table"), c.text_of("main table")
    c.shot("manager-program")
    doc_shot(c, "program")
    approve.click()
    c.wait_text("main", "%s is now a partner" % APPLICANT)
    assert not c.all("#approved-token"), "a partner token on the approval screen"
    bt.step("the program opened from the Program page; %s applied and was approved (mailed a sign-in link, no token shown)" % APPLICANT)
    rejections(c)
    fraud_rules(c)


def mail_kinds_to(to):
    """The kinds (X-Tenx-Kind) of every mail to `to` in the server's Maildir so far."""
    import email
    import email.policy
    box = os.path.join(os.environ["BROWSER_TEST_TMP"], "data", "mail", "new")
    kinds = []
    for name in os.listdir(box) if os.path.isdir(box) else []:
        with open(os.path.join(box, name), "rb") as f:
            m = email.message_from_binary_file(f, policy=email.policy.default)
        if to in str(m["To"]):
            kinds.append(m["X-Tenx-Kind"])
    return kinds


def rejections(c):
    """Two applicants turned down: one told why by mail (the box ticked, as it starts), one
    without a mail (unticked); each reason kept on the queue, and only the first mailed."""
    told, quiet = ("Tom Told", "tom@told.example"), ("Quinn Quiet", "quinn@quiet.example")
    for name, mail in (told, quiet):
        status, body = bt.api("POST", "/v2/public/programs/%s/applications" % HANDLE, None,
                              {"name": name, "email": mail})
        assert status == 202, (status, body)
    tab(c, "Settings and applications")
    for (name, _), reason, mailed in ((quiet, "Not our audience.", False), (told, "Too early.", True)):
        c.wait_css("button[aria-label='Reject %s']" % name)
        row = c.d.find_element(By.XPATH, "//tr[.//button[@aria-label='Reject %s']]" % name)
        row.find_element(By.CSS_SELECTOR, "input[name=reason]").send_keys(reason)
        tell = row.find_element(By.CSS_SELECTOR, "input[name=mailApplicant]")
        assert tell.is_selected(), "the applicant is mailed unless the manager says not to"
        assert "Mail %s this reason" % name in row.text, row.text
        if not mailed:
            tell.click()
        row.find_element(By.CSS_SELECTOR, "button[aria-label='Reject %s']" % name).click()
        c.wait(lambda: not c.all("button[aria-label='Reject %s']" % name), "%s rejected" % name)
    deadline = time.time() + 20
    while "application_rejected" not in mail_kinds_to(told[1]):
        assert time.time() < deadline, "no rejection mail to %s" % told[1]
        time.sleep(0.2)
    time.sleep(0.5)
    assert "application_rejected" not in mail_kinds_to(quiet[1]), mail_kinds_to(quiet[1])
    bt.step("two applicants rejected: one mailed the reason, one (the box unticked) not mailed")


def fraud_rules(c):
    """The fraud rules in words on the Program screen: a hold and a minimum saved, the rest of
    the program kept (the save starts from the program as read)."""
    f = c.form("form#fraud-rules")
    assert "Clicks from paid ads" in c.text_of("form#fraud-rules"), c.text_of("form#fraud-rules")
    c.fill(f, "rule-paid_traffic", "hold_payouts")
    c.fill(f, "rule-shared_payout_account", "hold_commissions")
    c.fill(f, "minCustomersBeforePayout", "2")
    c.submit(f)
    c.wait(lambda: (bt.api("GET", BASE_API + "/program", admin_token())[1].get("fraudRules") or {}).get("paid_traffic") == "hold_payouts",
           "the fraud rules saved")
    c.replaced(f, "the program read again after the save")
    status, p = bt.api("GET", BASE_API + "/program", admin_token())
    assert status == 200 and p["fraudRules"] == {"paid_traffic": "hold_payouts", "shared_payout_account": "hold_commissions"}, p
    assert p["minCustomersBeforePayout"] == 2 and p["name"] == "First Hour partners" and p["template"]["campaignId"] == "tpl", p
    # A bad number is refused on its field, in words, and nothing is saved.
    f = c.form("form#fraud-rules")
    c.fill(f, "refundAfterPayoutThreshold", "140")
    c.submit(f)
    refusal = c.wait(lambda: c.all("form#fraud-rules .field-error"), "the refusal beside its field")[0].text
    assert refusal.startswith("Too many refunds after payout (percent):"), refusal
    assert bt.api("GET", BASE_API + "/program", admin_token())[1].get("refundAfterPayoutThreshold") in (None, 25)
    # Back as it was, so the rest of the walk pays without holds.
    f = c.form("form#fraud-rules")
    for code in ("paid_traffic", "shared_payout_account"):
        c.fill(f, "rule-" + code, "")
    c.fill(f, "refundAfterPayoutThreshold", "25")
    c.fill(f, "minCustomersBeforePayout", "")
    c.submit(f)
    c.wait(lambda: not bt.api("GET", BASE_API + "/program", admin_token())[1].get("fraudRules"), "the rules cleared")
    c.shot("manager-fraud-rules", at="form#fraud-rules")
    bt.step("the fraud rules set in words on the Program screen (a hold on paid ads, a payout minimum), a bad share refused, the rest of the program kept")


def partner_page(c, token):
    nav(c, "Partners")
    search = c.wait_css("#partner-list [name=q]")
    search.send_keys("rosa")
    c.wait_text("#partner-list .hint", "1 of 1 partners")
    c.shot("manager-partners")
    doc_shot(c, "partners")
    [a for a in c.all("#partner-list tbody a") if a.text == APPLICANT][0].click()
    c.wait(lambda: c.h1() == APPLICANT, "the partner's page")
    partner = c.d.current_url.split("#/partners/")[1]
    plan = c.wait_text("#partner-campaigns", "10")
    assert "%" in plan, plan
    # A deep link: a reload keeps the place.
    c.d.refresh()
    c.wait(lambda: c.h1() == APPLICANT, "the partner's page after a reload")
    bt.step("the partner found in the searchable list; its page (a deep link a reload keeps) shows its plan in words")
    # A sale through its link, sent by the shop's server.
    saved, bt.HANDLE = bt.HANDLE, HANDLE
    try:
        ctx = bt.visit(partner, bt.UA["desktop"])
    finally:
        bt.HANDLE = saved
    ok(*bt.api("POST", BASE_API + "/conversions", token, {
        "ctx": ctx, "idempotencyKey": "fh-order-1", "eventType": "purchase", "value": "80.00", "currency": "EUR"}), 202)

    def seen():
        c.go("#/partners/" + partner)
        return "€8.00" in c.text_of("#partner-commissions")
    c.wait(seen, "the sale's commission on the partner's page", timeout=60)
    c.shot("manager-partner-page")
    bt.step("a sale through the partner's link: its €8.00 commission on the partner's page")
    return partner


def partner_traffic(c, token, partner):
    """The partner's page shows its traffic as the portal does (the summary's `traffic`): clicks
    → sales in words, and its top links by clicks and by earnings, the API's own figures."""
    def counted():
        got = bt.api("GET", BASE_API + "/partners/%s/summary" % partner, token)[1]["traffic"]
        return got if got["conversions"] >= 1 and got["topLinks"]["byEarnings"] else None
    deadline = time.time() + 60
    while not counted():
        assert time.time() < deadline, "the partner's sale never counted in its summary"
        time.sleep(0.5)
    t = counted()
    c.go("#/partners/" + partner)
    words = c.wait_text("#partner-traffic .traffic-words", "brought")
    assert words.startswith("%d click%s brought %d sale%s in these 30 days" % (
        t["clicks"], "" if t["clicks"] == 1 else "s", t["conversions"], "" if t["conversions"] == 1 else "s")), (words, t)
    shown = [e.text for e in c.all("#partner-traffic dl.traffic dd")]
    # The clicks, the sales, and the rate as a percentage (once a click by a person is counted).
    rate = [] if t["conversionRate"] is None else ["%d%%" % round(t["conversionRate"] * 100)]
    assert shown == [str(t["clicks"]), str(t["conversions"])] + rate, (shown, t)
    tables = c.d.execute_script(
        "return [...document.querySelectorAll('#partner-traffic .table-wrap')].map((w) => [w.getAttribute('aria-label'),"
        " [...w.querySelectorAll('tbody tr')].map((r) => [...r.cells].map((td) => td.innerText))])")
    ranked = dict((label, rows) for label, rows in tables if label.startswith("Most "))
    assert set(ranked) == {"Most clicked (table)", "Most earned (table)"}, tables
    # Where and on what its visitors clicked: the partner's own clicks only, Chrome on Windows
    # (the walk's visitors), through no edge that names a place.
    places = dict((label, rows) for label, rows in tables if not label.startswith("Most "))
    clicks = str(t["clicks"])
    assert places == {"Countries (table)": [["Not known", clicks]], "Cities (table)": [["Not known", clicks]],
                      "Systems (table)": [["Windows 10/11", clicks]], "Browsers (table)": [["Chrome", clicks]]}, places
    top = t["topLinks"]["byEarnings"][0]
    earned = ranked["Most earned (table)"][0]
    assert earned[0].endswith("/" + top["slug"]) and earned[1:] == [str(top["clicks"]), str(top["conversions"]), "€8.00"], (earned, top)
    assert ranked["Most clicked (table)"][0][0].endswith("/" + t["topLinks"]["byClicks"][0]["slug"]), ranked
    heads = [e.text for e in c.all("#partner-traffic th")]
    assert "Earned" in heads and "You earned" not in heads, heads
    c.shot("manager-partner-traffic", at="#partner-traffic")
    # The docs' shot of the page once its counters have the sale too (its figures agree).
    doc_shot(c, "partner")
    bt.step("the partner's page shows its traffic in the portal's words: %s; its top link by earnings €8.00; "
            "its clicks by country, city, system and browser" % words)
    # A token for the partner's engineer, made on request on this page (never on approval):
    # shown once, and it reads this partner's own record.
    c.css("#partner-token [data-action=partner-token]").click()
    c.wait(lambda: c.all("#partner-token-out #partner-token"), "the partner token shown")
    minted = c.css("#partner-token-out #partner-token").get_attribute("value")
    assert minted and minted.startswith("tenx_ptk_"), minted
    assert "shown once" in c.text_of("#partner-token-out") and "not shown again" in c.text_of("#partner-token-out")
    status, own = bt.api("GET", BASE_API + "/partners/" + partner, minted)
    assert status == 200 and own["partnerId"] == partner, (status, own)
    c.go("#/partners/" + partner)
    c.wait(lambda: c.all("#partner-token [data-action=partner-token]"), "the page read again")
    assert minted not in c.d.page_source, "the token is not shown again"
    bt.step("a token for the partner's engineer made on the partner's page, shown once, reading the partner's own record")


def approval_link(to):
    """The sign-in link the approval mailed to `to` (the Maildir), as the portal's walk reads it."""
    import email
    import email.policy
    import glob
    import re
    for path in sorted(glob.glob(os.path.join(WORK, "data", "mail", "new", "*"))):
        with open(path, "rb") as fh:
            m = email.message_from_binary_file(fh, policy=email.policy.default)
        if m["X-Tenx-Kind"] == "partner_approved" and to in str(m["To"]):
            found = re.search(r"https?://\S+/v2/auth/email-link/verify\?token=[A-Za-z0-9_-]+",
                              m.get_body(preferencelist=("plain",)).get_content())
            if found:
                return found.group(0)
    raise AssertionError("no approval mail with a sign-in link to " + to)


def test_lines(c):
    """Commissions with Money = Test money: the rows' cells (empty when none match)."""
    f = c.form("#ledger-filters")
    c.fill(f, "test", "true")
    c.submit(f)
    c.wait(lambda: c.all("#ledger-results table") or "No commission lines match" in c.text_of("#ledger-results"),
           "the test lines")
    return c.d.execute_script(
        "return [...document.querySelectorAll('#ledger-results tbody tr')].map((r) =>"
        " Object.fromEntries([...r.cells].map((td) => [td.dataset.label, td.innerText.trim()])))")


def test_mode_on(c, partner):
    """Home: test mode switched on, a test sale of €49.90 made for the partner picked by name."""
    nav(c, "Home")
    c.wait_text("#test-mode", "Walk your whole program before launch")
    c.css("#test-mode-switch").click()
    c.wait_text("#test-mode", "Test mode is on")
    assert c.css("#test-mode-switch").text == "Switch test mode off"
    f = c.form("#test-sale-form")
    assert c.css("[name=amount]", f).get_attribute("value") == "49.90"
    assert c.css("[name=currency]", f).get_attribute("value") == "EUR"
    # Left empty: the server records the event the partner's plan pays (a purchase, not a
    # "sale"), which the line's amount below proves.
    assert c.css("[name=eventType]", f).get_attribute("value") == ""
    c.css("[name=partnerId]", f).send_keys("Rosa")
    c.wait(lambda: [o for o in c.all("option", f) if o.get_attribute("value") == partner], "Rosa suggested by name")
    c.fill(f, "partnerId", partner)
    c.submit(f)
    c.wait_text("#test-sale-form .form-out", "Test sale made.")
    c.shot("manager-test-mode", at="#test-mode")
    doc_shot(c, "test-mode", at="section:has(#test-mode)")
    c.viewport(*bt.PHONE, mobile=True)
    c.shot("manager-phone-test-mode", at="#test-mode")
    c.viewport(*bt.DESKTOP)
    bt.step("Home: test mode switched on; a test sale of €49.90 made for %s, picked by name" % APPLICANT)


def test_line_approved(c, token, partner):
    """Commissions, Money = Test money: the test line (10 % of €49.90) with its Test badge,
    approved from the ledger; the real ledger never shows it."""
    nav(c, "Commissions")
    c.wait(lambda: [r for r in test_lines(c) if r.get("Amount") == "€4.99"], "the test line of €4.99", timeout=60)
    line = [r for r in test_lines(c) if r.get("Amount") == "€4.99"][0]
    assert line["Kind"].endswith("Test") and line["Partner"].startswith(APPLICANT) and line["Value"] == "€49.90", line
    assert len(test_lines(c)) == 1, test_lines(c)
    assert c.all("#ledger-results .test-badge"), "the Test badge"
    # The hold is 0 days: the server's sweep may approve the line before the manager does.
    pick = c.all("#ledger-results [name=pick]")
    if pick:
        pick[0].click()
        c.css("#bulk-approve").click()
        said = c.wait_text("#review-outcome", " of 1.")
        assert said.startswith("Approved 1 of 1.") or not c.all("#ledger-results [name=pick]"), said
    c.wait(lambda: [r["Status"] for r in test_lines(c)][:1] and test_lines(c)[0]["Status"].startswith("Approved"),
           "the test line approved")
    c.viewport(*bt.PHONE, mobile=True)
    c.shot("manager-phone-test-line", at="#ledger-results")
    c.viewport(*bt.DESKTOP)
    real = bt.api("GET", BASE_API + "/commissions?partnerId=" + partner, token)[1]["items"]
    assert [x["amount"] for x in real] == ["8.00"] and not any(x.get("test") for x in real), real
    bt.step("Commissions, Money = Test money: the test line, €4.99 (10 % of €49.90) with its Test badge, approved; "
            "the real ledger has only the €8.00 sale")


def test_payout_paid(c, token, partner):
    """Payouts: a run of test money only, its payout with the Test badge, marked paid with a
    reference; Home's "Pay your first partner" stays unticked, the real balance untouched."""
    time.sleep(1.1)  # a run pays what is available before its periodEnd, a time to the second
    nav(c, "Payouts")
    f = c.form("#payout-run-form")
    c.d.execute_script("arguments[0].value = arguments[1]", c.css("[name=periodEnd]", f),
                       time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime()))
    c.fill(f, "partnerId", partner)
    c.fill(f, "test", True)
    c.submit(f)
    c.wait_text("#payout-run-form .form-out", "Created 1 payout: €4.99.")
    row = c.wait_text("#payout-list tbody tr", APPLICANT + " #1")
    assert "€4.99" in row and "Test" in row and c.all("#payout-list .test-badge"), row
    c.fill(c.css("#payout-list .settle"), "note", "TEST-RUN-1")
    c.css("#payout-list [data-settle=mark-paid]").click()
    c.wait(lambda: "TEST-RUN-1" in c.text_of("#payout-list tbody tr"), "the test payout marked paid")
    assert "Paid" in c.text_of("#payout-list tbody tr"), c.text_of("#payout-list tbody tr")
    c.shot("manager-test-payout", at="#payout-list")
    doc_shot(c, "test-payout", at="#payout-list")
    c.viewport(*bt.PHONE, mobile=True)
    c.shot("manager-phone-test-payout", at="#payout-list")
    c.viewport(*bt.DESKTOP)
    got = bt.api("GET", BASE_API + "/balances?partnerId=" + partner, token)[1]["items"]
    assert [(b["paid"], b["test"]["paid"]) for b in got] == [("0.00", "4.99")], got
    nav(c, "Home")
    c.wait_css("#setup li")
    assert not checklist(c)["payout"], "a test payout is not a partner paid: %s" % checklist(c)
    bt.step("Payouts: a run of test money only, €4.99 with its Test badge, marked paid (TEST-RUN-1); the real balance "
            "untouched and Home's \"Pay your first partner\" not ticked")


def test_sale_in_portal():
    """The partner's Earnings, in a browser of its own (the portal's session is a cookie: in the
    manager's browser it would take the manager's place), signed in by the approval's link: the
    test sale under "Test sales (not real money)", never among its earnings."""
    downloads = os.path.join(WORK, "partner-browser", "downloads")
    os.makedirs(downloads, exist_ok=True)
    p = bt.Console(downloads)
    try:
        p.d.get(approval_link("rosa@reviews.example"))
        p.css("form button[type=submit]").click()
        p.wait(lambda: p.d.current_url.endswith("/portal/" + HANDLE), "the portal after the sign-in")
        for size, mobile, name in ((bt.DESKTOP, False, "manager-portal-test-sale"), (bt.PHONE, True, "manager-portal-phone-test-sale")):
            p.viewport(*size, mobile=mobile)
            button = p.wait_css("#portal-nav button[data-view='commissions']")
            if not p.d.execute_script("return arguments[0].checkVisibility()", button):
                p.css("#portal-nav details.more > summary").click()
            button.click()
            p.wait(lambda: button.get_attribute("aria-current") == "page", "the Earnings tab")
            sections = p.wait(lambda: p.d.execute_script(
                "const s = Object.fromEntries([...document.querySelectorAll('main section')].map((x) =>"
                " [x.querySelector('h2').innerText.trim(), x.innerText]));"
                " return s['What you earned'] && s;"), "the earnings")
            test = sections.get("Test sales (not real money)", "")
            assert "€4.99" in test and "Test" in test and "Paid" in test, sections
            assert "4.99" not in sections["What you earned"] and "€8.00" in sections["What you earned"], sections
            p.shot(name, at="main section")
        p.check_logs("the portal's Earnings")
    finally:
        p.d.quit()
    bt.step("the partner's Earnings (signed in by its approval link, its own browser): the €4.99 test sale under "
            "\"Test sales (not real money)\", paid; only the real €8.00 among its earnings")


def test_mode_cleared(c, token, partner):
    """Home: Clear test data (its counts said), the test line gone, test mode off."""
    nav(c, "Home")
    c.wait_css("#test-data-clear").click()
    said = c.wait_text("#test-mode", "Cleared ")
    assert "Cleared 1 test commission and 1 test payout." in said, said
    nav(c, "Commissions")
    assert test_lines(c) == [], test_lines(c)
    assert "No commission lines match." in c.text_of("#ledger-results")
    nav(c, "Home")
    c.wait_css("#test-mode-switch").click()
    c.wait(lambda: c.css("#test-mode-switch").text == "Switch test mode on", "test mode off")
    assert not c.all("#test-sale-form") and not c.all("#test-data-clear"), "no test sale once off"
    assert not bt.api("GET", BASE_API + "/test-mode", token)[1]["enabled"]
    assert not checklist(c)["payout"], checklist(c)
    got = bt.api("GET", BASE_API + "/balances?partnerId=" + partner, token)[1]["items"]
    assert [(b["paid"], (b.get("test") or {}).get("paid", "0.00")) for b in got] == [("0.00", "0.00")], got
    bt.step("Home: test data cleared (1 test commission, 1 test payout), none left under Test money; test mode off")


def test_mode(c, token, partner):
    """The whole program walked in test money before the first real payout (test mode cannot
    be switched while a payout waits to be paid)."""
    test_mode_on(c, partner)
    test_line_approved(c, token, partner)
    test_payout_paid(c, token, partner)
    test_sale_in_portal()
    test_mode_cleared(c, token, partner)


def pay(c, token, partner):
    def approved():
        got = bt.api("GET", BASE_API + "/commissions?partnerId=" + partner, token)[1]["items"]
        return any(line["status"] == "approved" for line in got)
    deadline = time.time() + 60
    while not approved():
        assert time.time() < deadline, "the commission was never approved"
        time.sleep(0.5)
    time.sleep(1.1)  # a run pays what is available before its periodEnd, a time to the second
    nav(c, "Payouts")
    f = c.form("#payout-run-form")
    # A date-and-time picker in the manager's own time zone, to the second.
    c.d.execute_script("arguments[0].value = arguments[1]", c.css("[name=periodEnd]", f),
                       time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime()))
    c.fill(f, "partnerId", partner)
    c.submit(f)
    c.wait_text("#payout-run-form .form-out", "Created 1 payout: €8.00.")
    c.wait_text("#payout-list", APPLICANT + " #1")
    bt.step("a payout run from the Payouts page: €8.00 for %s" % APPLICANT)
    nav(c, "Home")
    c.wait_css("#setup li")
    assert not checklist(c)["payout"], "a payout run is not a partner paid: %s" % checklist(c)
    bt.step("Home does not tick \"Pay your first partner\" while the payout is only pending")
    nav(c, "Payouts")
    tab(c, "Methods and batches")
    c.fill(c.css("#payout-batches-section"), "partnerId", partner)
    f = c.form("#payout-method .payout-method-form")
    c.fill(f, "type", "paypal")
    c.fill(f, "email", "rosa@reviews.example")
    c.submit(f)
    c.wait_text("#payout-method", "r***@reviews.example")
    f = c.form("#payout-batch-form")
    c.fill(f, "method", "paypal")
    c.submit(f)
    c.wait_text("#payout-batch-form .form-out", "1 payout(s)")
    c.fill(c.wait_css("#payout-batches .settle"), "note", "PAYPAL-42")
    c.css("#payout-batches [data-batch-settle=mark-paid]").click()
    c.wait(lambda: "Paid" in c.text_of("#payout-batches tbody tr"), "the batch paid")
    row = c.text_of("#payout-batches tbody tr")
    assert "Open" not in row and "PAYPAL-42" in row, row
    c.shot("manager-batches")
    tab(c, "Balances and runs")
    c.wait_text("#payout-list", "Paid")
    c.shot("manager-payouts")
    doc_shot(c, "payouts")
    bt.step("a PayPal batch made and marked paid: the batch and its payout say paid, not open")


def badge(c):
    return c.d.execute_script(
        "const b = document.querySelector('#nav .unread-badge'); return b && !b.hidden ? b.textContent : '';")


def reply(c, token, partner):
    made = ok(*bt.api("POST", BASE_API + "/partners/%s/tokens" % partner, token, {"name": "first-hour"}), 201)
    ok(*bt.api("POST", BASE_API + "/partners/%s/messages" % partner, made["token"],
               {"body": "Hi! Where do I find my banner sizes?"}), 201)
    c.go("#/home")
    c.wait(lambda: badge(c) == "1", "1 unread message beside Partners")
    assert "1 unread message" in c.css("#nav a[href='#/partners']").get_attribute("textContent")
    c.go("#/partners/" + partner)
    c.wait_text("#partner-thread", "Where do I find my banner sizes?")
    c.wait(lambda: badge(c) == "", "the unread count gone once the thread is read")
    # The reply by keyboard only: focus the box, type, Tab to Send, Enter.
    box = c.css("#reply-form textarea")
    c.d.execute_script("arguments[0].focus()", box)
    box.send_keys("Hi Rosa, they are on the Links tab of your portal.")
    box.send_keys(Keys.TAB)
    active = c.d.switch_to.active_element
    assert active.text == "Send", active.text
    active.send_keys(Keys.ENTER)
    c.wait_text("#reply-form .form-out", "Sent.")
    c.wait_text("#partner-thread", "they are on the Links tab")
    status, body = bt.api("GET", BASE_API + "/partners/%s/messages" % partner, made["token"])
    assert any(m["from"] == "merchant" and "Links tab" in m["body"] for m in body["items"]), body
    c.shot("manager-messages", at="#partner-messages")
    doc_shot(c, "messages", at="#partner-messages")
    bt.step("a partner's message: its unread count beside Partners, read on its page, answered by keyboard")
    return made["token"]


def claim(c, partner_token, partner):
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))
    ok(*bt.api("POST", BASE_API + "/partners/%s/claims" % partner, partner_token,
               {"orderId": "order-77", "occurredAt": when, "evidence": {"note": "My reader paid by bank transfer."}}), 201)
    nav(c, "Commissions")
    tab(c, "Claims")
    card = c.wait_css("#claims-queue .claim-card")
    assert "Order order-77" in card.text and "My reader paid by bank transfer." in card.text, card.text
    assert "What 10x found" in card.text, card.text
    f = card.find_element(By.CSS_SELECTOR, "form.decide-form")
    assert not c.css("[name=amount]", f).is_displayed(), "the amount waits until the server asks"
    c.fill(f, "decision", "approve")
    c.fill(f, "reason", "The bank transfer is in our books.")
    c.submit(f)
    # Nothing rates an order 10x never saw: the server asks for the amount, shown on its field.
    c.wait(lambda: c.css("[name=amount]", f).is_displayed() and c.all(".field-error", f), "the amount asked for")
    c.fill(f, "amount", "5.00")
    c.fill(f, "currency", "EUR")
    c.submit(f)
    tab(c, "Claims")
    bt.Select(c.css("main select[name=status]")).select_by_value("approved")
    verdict = c.wait_text("#claims-queue .proof-verdict", "erified")
    assert verdict.startswith("Verified"), verdict
    assert "€5.00" in c.text_of("#claims-queue"), c.text_of("#claims-queue")
    c.shot("manager-claims")
    doc_shot(c, "claims")
    bt.step("a claim approved with the amount the server asked for; its signed decision verified in the page")


def broadcast(c):
    nav(c, "Program")
    tab(c, "Broadcasts")
    f = c.form("#broadcast-form")
    c.fill(f, "subject", "Black Friday")
    c.fill(f, "body", "Double commissions this weekend.")
    c.submit(f)
    c.wait_text("#broadcast-form .form-out", "Sent to 1 partner.")
    c.wait_text("#broadcast-list", "Black Friday")
    c.shot("manager-broadcasts")
    bt.step("a broadcast to every partner")


def ticked(c):
    nav(c, "Home")
    c.wait_css("#setup li")
    assert checklist(c) == {"connect": False, "program": True, "template": True, "page": True,
                            "partner": True, "payout": True}, checklist(c)
    nav(c, "Integrations")
    c.wait_text("#connector-stripe", "not connected")
    c.shot("manager-integrations")
    doc_shot(c, "integrations")
    nav(c, "Settings")
    c.wait_text("main", MANAGER)
    c.shot("manager-settings")
    bt.step("Home's checklist ticked by what was done (program, partner, payout); Stripe still to connect")


def stripe_test_event(c):
    """Integrations: Stripe connected with its secret, "Send a test event" on its card, and the
    event shown in words under the button; Home's checklist then ticks "connect"."""
    nav(c, "Integrations")
    f = c.form("#connector-stripe form[aria-label='Connect Stripe']")
    c.fill(f, "secret", "whsec_firsthour_0123456789abcdef")
    c.submit(f)
    c.wait(lambda: c.text_of("#connector-stripe h3").endswith("connected")
           and "not connected" not in c.text_of("#connector-stripe h3"), "Stripe connected")
    c.wait_css("#test-event-stripe").click()
    c.wait_text("#connector-stripe .test-event-out", "Stripe test event received")
    said = c.wait_text("#connector-stripe .event-sentences li", "(a test event)")
    assert "a checkout was completed" in said and "evt_" not in said, said
    c.shot("manager-stripe-test")
    nav(c, "Home")
    c.wait_css("#setup li")
    c.wait(lambda: checklist(c).get("connect"), "the checklist's connect step ticked")
    bt.step("Stripe connected on Integrations; its test event sent from the card and shown in words (%s)" % said.strip())


def plan_rows(c):
    """The plan editor's rows: a condition, a tier ladder starting at 0 (the rule's own rate then
    optional), the preview in the plan's currency, and a server refusal beside its field."""
    nav(c, "Commissions")
    tab(c, "Plans and rates")
    f = c.form("#plan-form")
    rule = c.css("#plan-form .rule")
    # A condition the preview's sample (24.99) meets, so the preview shows what it earns.
    c.fill(rule, "valueAtLeast", "20")
    c.wait(lambda: "value at least 20" in c.text_of("#plan-form .rule-words"), "the condition in the rule's words")
    c.fill(rule, "percent", "")
    add = [b for b in rule.find_elements(By.CSS_SELECTOR, "button") if b.text == "Add a tier"][0]
    add.click()
    add.click()
    c.fill(rule, "tierFrom", "0", index=0)
    c.fill(rule, "tierPercent", "8", index=0)
    c.fill(rule, "tierFrom", "ten", index=1)
    c.fill(rule, "tierPercent", "12", index=1)
    c.submit(f)
    # The server names rules[0].tiers[1].from: its words beside that tier's "From", kept typed.
    err = c.wait_css("#plan-form .tier .field-error")
    near = c.d.execute_script("return arguments[0].previousElementSibling.name", err)
    assert near == "tierFrom" and "Rule 1" in err.text, (near, err.text)
    assert c.all("#plan-form .tier [name=tierFrom]")[1].get_attribute("value") == "ten"
    c.fill(rule, "tierFrom", "10", index=1)
    c.submit(f)
    c.wait_text("#plan-form .form-out", "Saved version")
    words = c.wait_text("#plan-form .rule-words", "from 0")
    assert "value at least 20" in words and "from 10" in words, words
    p = c.form("#preview-form")
    assert c.css("[name=currency]", p).get_attribute("value") == "EUR"
    c.submit(p)
    shown = c.wait_text("#plan-preview", "€")
    assert "fx_rate_missing" not in shown, shown
    c.shot("manager-plan-rows")
    doc_shot(c, "plan", at="#plan-form")
    bt.step("the plan's rows: a condition (value at least 20), tiers from 0 (no rule rate), a refused tier shown beside "
            "its field and kept, then saved; the preview in EUR (%s)" % shown.strip().splitlines()[0])


def by_name_and_sentences(c, partner):
    """A partner added by its name only (its id made from it), and the first partner's audit
    trail read as sentences ("… approved the claim on 27 Nov"), never raw actions."""
    nav(c, "Partners")
    f = c.form("#partner-form")
    assert not c.css("[name=partnerId]", f).is_displayed(), "the id is not asked for"
    c.fill(f, "name", "Jo's Deals")
    c.submit(f)
    c.wait_text("#partner-form .form-out", "Added Jo's Deals.")
    href = c.css("#partner-form .form-out a").get_attribute("href")
    assert href.endswith("#/partners/jo-s-deals"), href
    c.go("#/partners/" + partner)
    trail = c.wait_text("#partner-audit", "approved the claim on")
    assert MANAGER + " approved the claim on" in trail and "claim.approved" not in trail, trail
    assert APPLICANT + " opened a claim on" in trail, trail
    c.shot("manager-partner-audit", at="#partner-audit")
    bt.step("a partner added by its name alone (id jo-s-deals made from it); the audit trail in sentences")


def coupon_leaks(c, token, partner):
    """Commissions: the handle's coupon codes by leak score, in words. The shop gives the
    partner a code and sells with it once from a coupon site, with no click of the partner."""
    campaigns = bt.api("GET", BASE_API + "/campaigns?limit=100", token)[1]["items"]
    campaign = [k for k in campaigns if k.get("partnerId") == partner][0]["campaignId"]
    ok(*bt.api("POST", BASE_API + "/partners/%s/coupon-codes" % partner, token,
               {"code": "ROSA10", "campaignId": campaign}), 201)
    ok(*bt.api("POST", BASE_API + "/conversions", token, {
        "couponCode": "ROSA10", "landingReferrer": "https://www.retailmenot.com/view/firsthour",
        "idempotencyKey": "fh-coupon-1", "eventType": "purchase", "value": "30.00", "currency": "EUR"}), 202)

    def listed():
        c.go("#/commissions")
        return "ROSA10" in c.text_of("#coupon-leaks")
    c.wait(listed, "the code in the leak table", timeout=60)
    row = c.text_of("#coupon-leaks tbody tr")
    assert APPLICANT in row and "retailmenot.com (1)" in row and "1 (100 %)" in row, row
    assert "coupon_site_referrer" not in row and "coupon_few_sales" not in row, row
    c.shot("manager-coupon-leaks", at="#coupon-leaks")
    bt.step("Commissions lists the partner's code by leak score in words: %s" % " · ".join(row.split("\n")))


def phone(c, partner):
    c.viewport(*bt.PHONE, mobile=True)
    for hash_ in ["#/home", "#/partners", "#/partners/" + partner, "#/program", "#/commissions",
                  "#/commissions/claims", "#/payouts", "#/payouts/batches", "#/links", "#/integrations", "#/settings"]:
        c.go(hash_)
        c.shot("manager-phone-" + hash_[2:].replace("/", "-"))
    c.viewport(*bt.DESKTOP)
    bt.step("every main screen at 390×844: labelled, axe-clean, no sideways scrolling")


def main():
    downloads = os.path.join(WORK, "downloads-manager")
    os.makedirs(downloads, exist_ok=True)
    os.makedirs(bt.SHOTS, exist_ok=True)
    token = admin_token()
    set_up(token)
    c = bt.Console(downloads)
    try:
        from_the_set_up_link(c)
        open_the_program(c)
        partner = partner_page(c, token)
        partner_traffic(c, token, partner)
        test_mode(c, token, partner)
        pay(c, token, partner)
        partner_token = reply(c, token, partner)
        claim(c, partner_token, partner)
        broadcast(c)
        ticked(c)
        stripe_test_event(c)
        plan_rows(c)
        by_name_and_sentences(c, partner)
        coupon_leaks(c, token, partner)
        browser_words.every_screen(c, bt.step)
        phone(c, partner)
        c.check_logs("the end")
        print("a manager's first hour in headless Chromium: every step passed; screenshots in %s" % bt.SHOTS)
    except BaseException:
        try:
            c.d.save_screenshot(os.path.join(bt.SHOTS, "FAILED-manager.png"))
            print("--- page at the failure (%s):\n%s" % (c.d.current_url, c.text_of("main")[:3000]), file=sys.stderr)
            for entry in c.d.get_log("browser")[-10:]:
                print("browser: %s" % entry.get("message"), file=sys.stderr)
        except Exception:
            pass
        raise
    finally:
        c.d.quit()


if __name__ == "__main__":
    main()
