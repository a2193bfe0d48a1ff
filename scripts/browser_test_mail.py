"""Every kind of mail (issue 59) opened in headless Chromium at 390 px, as a phone's mail reader
shows it: `tenx mail preview` renders each kind's sample (shared/identity/src/mail/preview.rs, the fields
its sender writes) to an HTML file with its links absolute to the running `tenx serve`; each is
opened at 390x844, must not scroll sideways, load nothing, or log an error, and is saved whole
as target/mail-screenshots/{kind}.png (MAIL_SHOTS_DIR=docs/mail writes the committed ones).
Each link is then followed with a GET: it answers (a page, or the API's envelope asking for the
reader's credential; the samples' unsubscribe and dispute tokens are not signed, so those pages
refuse them in words), never a 404 or a 5xx, and answers the same the second time (a GET changes
nothing; tests/api/mail_kinds.rs follows every kind's real links, signed tokens included, and
checks the store).

Run by scripts/browser_test.sh after the console's walk (`--mail`: only this), against the same
server; TENX_BIN is the binary it serves.

Usage: browser_test_mail.py BASE_URL SIGN_IN_URL (as scripts/browser_test.py)
"""
import os
import subprocess
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser_test as bt  # noqa: E402

OUT = os.environ.get("MAIL_SHOTS_DIR") or os.path.join(bt.ROOT, "target", "mail-screenshots")
WIDTH = 390


def previews(base, name):
    work = os.path.join(os.environ.get("BROWSER_TEST_TMP") or os.path.join(bt.ROOT, "target"), name)
    listed = subprocess.run([os.environ["TENX_BIN"], "mail", "preview", "--out", work, "--base", base],
                            check=True, capture_output=True, text=True).stdout.split()
    assert len(listed) >= 14, listed
    return sorted(listed)


def status_of(url):
    req = urllib.request.Request(url, headers={"user-agent": "Mozilla/5.0 (mail link check)"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def open_at_phone_width(c, path):
    """Opens a mail's HTML at 390 px: it must fit, load nothing and log no error."""
    kind = os.path.basename(path)[: -len(".html")]
    c.viewport(WIDTH, 844, mobile=True)
    c.d.get("file://" + path)
    c.wait(lambda: c.d.execute_script("return document.readyState") == "complete", kind)
    scroll, inner = c.d.execute_script("return [document.documentElement.scrollWidth, innerWidth]")
    assert scroll <= inner == WIDTH, "%s scrolls sideways at %d px (%d)" % (kind, WIDTH, scroll)
    loaded = c.d.execute_script("return performance.getEntriesByType('resource').map((e) => e.name)")
    assert not loaded, "%s loads %s" % (kind, loaded)
    c.check_logs(kind)
    return kind


def shoot(c, path):
    """The screenshot of a mail, cut to its card (small files)."""
    kind = open_at_phone_width(c, path)
    height = c.d.execute_script("return Math.ceil(document.querySelector('table').getBoundingClientRect().bottom)")
    c.viewport(WIDTH, height, mobile=True)
    c.d.save_screenshot(os.path.join(OUT, kind + ".png"))
    return kind


def follow_links(c, path):
    """Every link of a mail whose links point at the running server, followed twice."""
    kind = open_at_phone_width(c, path)
    hrefs = c.d.execute_script("return [...document.querySelectorAll('a[href]')].map((a) => a.href)")
    assert hrefs, "%s has no link" % kind
    for href in hrefs:
        assert href.startswith(bt.BASE + "/"), "%s: %s is not absolute to the server" % (kind, href)
        first, again = status_of(href), status_of(href)
        assert first == again, "%s: %s answered %d, then %d" % (kind, href, first, again)
        path = href[len(bt.BASE):]
        if path.startswith("/v2/handles/"):
            assert first == 401, "%s: %s answered %d (the reader's credential is asked)" % (kind, href, first)
        elif "token=sample" in path and "email-link" not in path:
            assert first == 400, "%s: %s answered %d (a sample token, refused in words)" % (kind, href, first)
        else:
            assert first == 200, "%s: %s answered %d" % (kind, href, first)
    return kind, len(hrefs)


def main():
    os.makedirs(OUT, exist_ok=True)
    c = bt.Console(os.path.join(os.environ.get("BROWSER_TEST_TMP") or "/tmp", "downloads"))
    try:
        # The screenshots' links read as a merchant's would (https://acme.example).
        shots = [shoot(c, path) for path in previews("https://acme.example", "mail-shots")]
        done = [follow_links(c, path) for path in previews(bt.BASE, "mail-links")]
        assert [k for k, _ in done] == shots, (done, shots)
        for kind, links in done:
            bt.step("%s at %d px, its %d links answered" % (kind, WIDTH, links))
        print("every kind of mail in headless Chromium at %d px; screenshots in %s" % (WIDTH, OUT))
    finally:
        c.d.quit()


if __name__ == "__main__":
    main()
