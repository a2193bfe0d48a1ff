"""Every console screen a manager reaches, in words: no code, no raw id, no machine time or word.

Used by scripts/browser_test.py and scripts/browser_test_manager.py once their walks have filled
the handle (programs, partners, payouts, claims, domains, webhooks, …): `every_screen(c, extra)`
visits every page of the navigation (console/nav.js's PLACES, read from the page itself so a new
tab is checked without a change here), every partner's page and link editor the lists show, and
asserts the text a person reads (document.body.innerText, and the title, aria-label and
placeholder attributes) holds none of what `FORBIDDEN` lists. An input's value is not read: it is
what the person typed (a slug, a partner id they chose).

BROWSER_WORDS_REPORT_ONLY=1 prints every finding instead of failing on the first screen (to list
them all).
"""
import os
import re
import time

# What a person never reads on a screen: [(pattern, what it is)].
# shared/kernel/src/domain/prefixed.rs's prefixes, and the few ids made elsewhere.
ID_PREFIXES = ("clk|cnv|evt|rcv|req|rev|com|pay|bat|tok|wh|app|imp|usr|inv|pk|ses|ntc|msg|brd|clm"
               "|att|run|upl|cus|wc|cc|ml|cli|sie|acct")
FORBIDDEN = [
    (re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b"), "an UPPER_SNAKE code"),
    (re.compile(r"\b(?!(?:%s)_[0-9A-Za-z]{6,})[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b" % ID_PREFIXES), "a snake_case code"),
    # Brand names written so (iPhone, PayPal's own) are words.
    (re.compile(r"\b(?!(?:iPhone|iPad|iOS|macOS|eBay)\b)[a-z][a-z0-9]*[A-Z][A-Za-z0-9]*\b"), "a camelCase field name"),
    (re.compile(r"\b(?:%s)_[0-9A-Za-z]{6,}" % ID_PREFIXES), "a raw id"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"), "an RFC 3339 time"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}\b(?!T)"), "a machine's date (2026-11-28)"),
    (re.compile(r"[€$£¥]\s?-?\d[\d,]*\.\d(?!\d)|\b\d[\d,]*\.\d\s?(?:EUR|USD|GBP|CAD|AUD|CHF|JPY)\b"),
     "an amount with one decimal"),
    (re.compile(r"\b(?:JWT|JWTs|sessionStorage|localStorage|RFC|HTTP|JSON|SQS|DynamoDB|Kinesis|enum|null|undefined|NaN)\b"),
     "a machine word"),
    (re.compile(r"\b(?:status|answered|returned|error)\s+[1-5]\d\d\b|\b[1-5]\d\d\s+(?:OK|Not Found|Conflict|Bad Request|"
                r"Forbidden|Unauthorized|Unprocessable|Too Many)", re.I), "an HTTP status"),
    (re.compile(r"\[object Object\]"), "a script's object"),
]

# Text that looks like a code but is what a person copies or types, each with why it may show.
ALLOWED = [
    # An address is copied whole (a short URL, a webhook's endpoint, the DNS record's value): its
    # query (`utm_source`, `ctx`) and path are the merchant's, not words of ours.
    re.compile(r"\b(?:https?://|[a-z0-9-]+\.[a-z0-9.-]+/)\S*"),
    # An email address (a partner's or a manager's, typed by them): `rosa_reviews@…`.
    re.compile(r"\S+@\S+\.\S+"),
    # UTM parameters are the marketing vocabulary managers use every day (Google Analytics' own
    # names): the link editor names them as a manager tags a link.
    re.compile(r"\butm_(?:source|medium|campaign|term|content)\b"),
    # A DNS record's name a manager copies into the DNS provider (`_tenx-challenge.go.shop…`).
    re.compile(r"\b_[a-z0-9-]+(?:\.[a-z0-9-]+)+\b"),
]

# What a screen may show beyond ALLOWED, by its address (a prefix), each with why.
ALLOWED_ON = {
    # Stripe's and Shopify's own names, typed or ticked in their dashboards as the screen says
    # (`invoice_payment.paid`, Shopify's "Format: JSON"): the person copies them there.
    "#/integrations": [re.compile(r"\b[a-z_]+(?:\.[a-z_]+)+\b"), re.compile(r"\bformat JSON\b")],
    # The merchant's engineer's screen for their own receiver: an event's type is the name their
    # code switches on (`coupon.leak_suspected`, ticked in the form), a delivery's event id is
    # the `webhook-id` header their receiver logged (the one way to find it in their logs), and
    # a status is what their own server answered (`500 Internal Server Error`), not our words.
    # The lifecycle rules are the merchant's engineer's, typed in the rule editor on this screen:
    # their triggers and signal types are the names the merchant's site sends (`exit_intent`,
    # `add_to_cart`).
    "#/links/lifecycle": [re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")],
    "#/integrations/webhooks": [re.compile(r"\b[a-z_]+(?:\.[a-z_]+)+\b"), re.compile(r"\bevt_[0-9a-z]{32}\b"),
                                re.compile(r"\b[1-5]\d\d [A-Z][A-Za-z ]+")],
}


def _visible(c):
    """The screen's words: innerText and the attributes a person (or their screen reader) reads."""
    return c.d.execute_script("""
        const parts = [document.body.innerText, document.title];
        for (const el of document.querySelectorAll('[title], [aria-label], [placeholder]')) {
          for (const a of ['title', 'aria-label', 'placeholder']) {
            const v = el.getAttribute(a);
            if (v) parts.push(v);
          }
        }
        return parts.join('\\n');""")


def findings(text, allowed=(), screen=""):
    """[(what, the match, the line it is on)] for each forbidden thing in `text`; `ALLOWED`, the
    screen's `ALLOWED_ON` and `allowed` (a walk's own: what its person typed) taken out first."""
    on = [p for prefix, ps in ALLOWED_ON.items() if screen == prefix or screen.startswith(prefix + "/") for p in ps]
    for pattern in ALLOWED + on + [re.compile(re.escape(a)) for a in allowed]:
        text = pattern.sub(" ", text)
    found = []
    for line in text.splitlines():
        for pattern, what in FORBIDDEN:
            m = pattern.search(line)
            if m:
                found.append((what, m.group(0), line.strip()[:160]))
    return found


def _where(c, match):
    """The innermost element showing `match` (in its text or an attribute a person reads)."""
    return c.d.execute_script("""
        const m = arguments[0];
        for (const el of [...document.querySelectorAll('body *')].reverse()) {
          if (['title', 'aria-label', 'placeholder'].some((a) => (el.getAttribute(a) || '').includes(m))
              || [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.includes(m))) return el.outerHTML.slice(0, 200);
        }
        return '';""", match)


def check(c, name, allowed=()):
    """Fails (or prints, under BROWSER_WORDS_REPORT_ONLY=1) when the screen shows a code."""
    found = findings(_visible(c), allowed, name)
    if not found:
        return 0
    found = [(what, match, line, _where(c, match)) for what, match, line in found]
    if os.environ.get("BROWSER_WORDS_REPORT_ONLY") == "1":
        for what, match, line, where in found:
            print("WORDS %s: %s %r in %r at %s" % (name, what, match, line, where), flush=True)
        return len(found)
    raise AssertionError("%s: a person reads code: %s" % (name, "; ".join("%s %r in %r at %s" % f for f in found[:5])))


def _settled(c):
    """A screen's sections fetch after the page renders: wait until none says it is loading."""
    c.wait(lambda: c.d.execute_script(
        "return !document.querySelector('main .loading, main [aria-busy=true]')"
        " && !/\\bLoading\\b/.test(document.querySelector('main').innerText)"), "the screen's sections to load")


def pages(c):
    """Every tab of the navigation: each place's link, then each tab strip it shows."""
    c.go("#/home")
    places = c.d.execute_script("return [...document.querySelectorAll('#nav a[href^=\"#/\"]')].map((a) => a.getAttribute('href'))")
    seen = []
    for place in places:
        if place in seen:
            continue
        seen.append(place)
        c.go(place)
        tabs = c.d.execute_script("return [...document.querySelectorAll('main .tabs a[href^=\"#/\"]')].map((a) => a.getAttribute('href'))")
        seen += [t for t in tabs if t not in seen]
    return seen


def every_screen(c, step, allowed=(), partner_pages=3, link_pages=2):
    """Visits every page (and a few partners' pages and link editors the lists show) and checks
    each. `allowed`: what the walk's person typed that is shown back as they typed it."""
    hashes = pages(c)
    c.go("#/partners")
    _settled(c)
    partners = c.d.execute_script("return [...new Set([...document.querySelectorAll('main a[href^=\"#/partners/\"]')].map((a) => a.getAttribute('href')))]")
    c.go("#/links")
    _settled(c)
    links = c.d.execute_script("return [...new Set([...document.querySelectorAll('main a[href^=\"#/links/edit/\"]')].map((a) => a.getAttribute('href')))]")
    hashes += partners[:partner_pages] + links[:link_pages] + ["#/links/new"]
    screens(c, step, hashes, allowed)


def screens(c, step, hashes, allowed=()):
    """Checks each screen of `hashes` (addresses), once its sections have loaded."""
    count = 0
    started = time.monotonic()
    for hash_ in hashes:
        c.go(hash_)
        _settled(c)
        count += check(c, hash_, allowed)
    step("%d screens in words: no code, raw id, machine time or word, one-decimal amount (%.0f s)%s"
         % (len(hashes), time.monotonic() - started, " (%d findings printed)" % count if count else ""))
