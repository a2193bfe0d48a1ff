#!/usr/bin/env python3
"""The console's import screen in headless Chromium (issue 64).

Run by scripts/browser_test.sh after the manager's walk, against the same `tenx serve`, on a
handle of its own (`switching`); `scripts/browser_test.sh --imports` runs it alone. As an admin
signed in on this machine, on Links → "Import from another tool": the empty form refused beside
its fields (by keyboard alone); a CSV chosen for FirstPromoter refused beside the file before
anything is sent ("a wrong tool for the file"); FirstPromoter given Bitly's JSON, refused by the
server and said beside the file; Rebrandly asking for its API key, not a file; a file over the upload's limit refused beside the file (its size made 2 GiB in
the page: no such file is written); then 10x's CSV with a refused row: the dry run in sentences
(2 links would be created, row 4's slug refused in words), "Import it" pressed by keyboard, its
progress, the finished report, the links there (a mixed-case slug answering as it was); the same file again:
nothing would be created, 2 skipped; and Rewardful's program export checked and imported (its
partners there); Dub Partners asking for its key or its three exports zipped (a CSV alone refused
beside the file), its zip checked (a refused row named by its file) and imported; Rebrandly's
links pulled by key from a local server answering as its API (a wrong key refused beside its
field; the pull followed in words, pages and items so far, through its dry run and import); Bitly's links CSV given as Dub's, refused by the server in words (whose file
it looks like); another tool's CSV (semicolons) with its name, the mapping step (its first rows,
10x's guess, a column chosen by hand), checked and imported, its map remembered. Every screen checked (labels, axe-core, no sideways scrolling, no console
error) at 1440×900, and the whole import again by keyboard at 390×844.

Usage: browser_test_imports.py BASE_URL SIGN_IN_URL (as scripts/browser_test.py).
"""
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser_test as bt  # noqa: E402
import browser_words  # noqa: E402

bt.EXPECTED_FAILURES.append((400, r"/imports/pull$", "a Rebrandly key its tool refuses, said beside its field"))

HANDLE = "switching"
BASE_API = "/v2/handles/" + HANDLE
WORK = os.environ.get("BROWSER_TEST_TMP") or os.path.join(bt.ROOT, "target", "browser-test")
FIXTURES = os.path.join(bt.ROOT, "tests", "fixtures", "imports")


def admin_token():
    status, body = bt.api("POST", "/console/sign-in", body={"handle": HANDLE, "role": "admin", "code": bt.CODE})
    assert status == 200, (status, body)
    return body["token"]


def sign_in(c):
    c.d.get(bt.SIGN_IN_URL)
    f = c.form("#local-sign-in")
    c.fill(f, "handle", HANDLE)
    c.fill(f, "role", "admin")
    c.submit(f)
    c.wait(lambda: c.h1() == "Welcome, %s" % HANDLE, "the start page")


def write(name, text):
    path = os.path.join(WORK, "imports-" + name)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path


LINKS_CSV = (
    "slug,destination_url,title,tags,utm_source,utm_medium,utm_campaign,utm_term,utm_content,clicks\n"
    "Spring_Sale,https://shop.example/spring,Spring sale,seasonal|email,newsletter,email,spring,,,120\n"
    "summer,https://shop.example/summer,,,,,,,,\n"
    "bad slug,https://shop.example/x,,,,,,,,\n"
)


def redirect_location(slug):
    """A visitor's request for the short link on the handle's host (not followed)."""
    port = urllib.parse.urlsplit(bt.BASE).port
    req = urllib.request.Request(bt.BASE + "/" + slug, headers={
        "Host": "%s.localhost:%d" % (HANDLE, port), "User-Agent": bt.UA["desktop"]})
    try:
        urllib.request.build_opener(bt.NoRedirect).open(req, timeout=10)
    except urllib.error.HTTPError as e:
        assert e.code == 302, (slug, e.code)
        return e.headers["location"]
    raise AssertionError("%s: not a 302" % slug)


def open_screen(c):
    """Links → the import tab, as a person would."""
    c.go("#/links")
    tab = [a for a in c.all("main .tabs a") if a.text.strip() == "Import from another tool"]
    assert tab, [a.text for a in c.all("main .tabs a")]
    tab[0].click()
    c.wait(lambda: c.h1() == "Import from another tool", "the import screen")
    c.wait_css("#import-form")


def field_error(c, name):
    """The error shown beside the control `name`: its text, once the control is marked."""
    c.wait(lambda: c.css("#import-form [name=%s]" % name).get_attribute("aria-invalid") == "true",
           "an error on %s" % name)
    control = c.css("#import-form [name=%s]" % name)
    described = control.get_attribute("aria-describedby").split()
    error_id = [i for i in described if i.endswith("-error")][0]
    assert c.d.switch_to.active_element == control, "focus on %s" % name
    return c.css("#" + error_id).text


def choose(c, source, path):
    f = c.css("#import-form")
    Select(c.css("[name=source]", f)).select_by_value(source)
    c.css("[name=file]", f).send_keys(path)


def press(c, key):
    """A key pressed on whatever has the focus (a file input's send_keys would take a path)."""
    ActionChains(c.d).send_keys(key).perform()


def submit_by_keyboard(c):
    """Tab from the file field to the button (past the checkbox), Enter."""
    c.d.execute_script("arguments[0].focus()", c.css("#import-form [name=file]"))
    for _ in range(4):
        press(c, Keys.TAB)
        if c.d.switch_to.active_element.get_attribute("type") == "submit":
            break
    assert c.d.switch_to.active_element.text == "Check the file", c.d.switch_to.active_element.text
    press(c, Keys.ENTER)


def refusals(c, token):
    c.go("#/links/import")
    c.wait_css("#import-form")
    c.shot("imports-empty")
    # Keyboard only: Tab from the page's heading to the button, Enter.
    c.css("main h1").click()
    for _ in range(10):
        press(c, Keys.TAB)
        if c.d.switch_to.active_element.get_attribute("type") == "submit":
            break
    assert c.d.switch_to.active_element.text == "Check the file", c.d.switch_to.active_element.text
    press(c, Keys.ENTER)
    said = field_error(c, "source")
    assert said == "Choose the tool the export comes from.", said
    Select(c.css("#import-form [name=source]")).select_by_value("csv")
    submit_by_keyboard(c)
    said = field_error(c, "file")
    assert said == "Choose the export file.", said
    bt.step("the empty form refused by keyboard, each error beside its field, focus there")

    choose(c, "firstpromoter", write("links.csv", LINKS_CSV))
    submit_by_keyboard(c)
    said = field_error(c, "file")
    assert "This file is a table (CSV), but FirstPromoter's export is a JSON file" in said, said
    c.shot("imports-wrong-format")
    bt.step("a CSV chosen for FirstPromoter, refused beside the file before anything is sent: " + said)

    # Rebrandly has no export: its key is asked for, not a file.
    f = c.css("#import-form")
    Select(c.css("[name=source]", f)).select_by_value("rebrandly")
    assert not c.css("[name=file]", f).is_displayed(), "Rebrandly's form asks for a file"
    assert c.css("[name=apiKey]", f).is_displayed(), "Rebrandly's form asks for no key"
    c.css("#import-form button[type=submit]").click()
    said = field_error(c, "apiKey")
    assert said == "Give its API key.", said
    bt.step("Rebrandly asks for its API key instead of a file: " + said)

    choose(c, "dub", os.path.join(FIXTURES, "bitly-links.csv"))
    submit_by_keyboard(c)
    said = field_error(c, "file")
    assert said.startswith("Dub cannot read this file:") and "It looks like Bitly's links export (choose Bitly)" in said, said
    c.shot("imports-another-tools-csv")
    bt.step("Bitly's links CSV given as Dub's, refused by the server in words, beside the file: " + said)

    choose(c, "firstpromoter", os.path.join(FIXTURES, "bitly.json"))
    submit_by_keyboard(c)
    said = field_error(c, "file")
    assert said.startswith("FirstPromoter cannot read this file:") and "another tool" in said, said
    bt.step("Bitly's JSON given as FirstPromoter's, refused by the server and said beside the file: " + said)

    choose(c, "csv", write("links.csv", LINKS_CSV))
    c.d.execute_script("Object.defineProperty(document.querySelector('#import-form [name=file]').files[0],"
                       " 'size', {value: 2 * 1024 ** 3})")
    submit_by_keyboard(c)
    said = field_error(c, "file")
    assert said == "This file is 2,048 MB; an import takes at most 1,024 MB. Split it in two and import each.", said
    c.shot("imports-too-large")
    bt.step("a file over the upload's limit, refused beside the file: " + said)
    status, body = bt.api("GET", BASE_API + "/links?limit=100", token)
    assert status == 200 and body["items"] == [], body
    bt.step("nothing written by any of them")


def dry_run_then_import(c, token, name):
    """10x's CSV: the dry run in words, then the import by keyboard, its progress and report."""
    c.go("#/links/import")
    c.wait_css("#import-form")
    choose(c, "csv", write("links.csv", LINKS_CSV))
    submit_by_keyboard(c)
    c.wait_css("#import-dry-run")
    said = c.text_of("#import-dry-run")
    assert "2 links would be created." in said, said
    assert "1 row cannot come in" in said, said
    errors = c.text_of("#import-errors tbody")
    assert "Row 4" in errors and "the short link's name (slug)" in errors and "'bad slug'" in errors, errors
    assert c.d.switch_to.active_element.get_attribute("id") == "import-go", "focus on Import it"
    status, body = bt.api("GET", BASE_API + "/links?limit=100", token)
    assert body["items"] == [], body
    c.shot(name + "-dry-run", at="#import-report")
    bt.step("%s: the dry run in words: %s" % (name, " · ".join(said.split("\n"))))

    press(c, Keys.ENTER)
    c.wait_css("#import-finished", timeout=60)
    said = c.text_of("#import-finished")
    assert "2 links created." in said and "1 row not imported" in said, said
    assert "Importing the same file again changes nothing." in said, said
    status, body = bt.api("GET", BASE_API + "/links?limit=100", token)
    slugs = sorted(link["slug"] for link in body["items"])
    # An imported slug the native rule refuses is the alias of a native one (docs/redirects.md).
    assert len(slugs) == 2 and slugs[0].startswith("spring-sale-") and slugs[1] == "summer", slugs
    location = redirect_location("Spring_Sale")
    assert location.startswith("https://shop.example/spring"), location
    c.shot(name + "-finished", at="#import-report")
    bt.step("%s: imported by keyboard, the finished report: %s" % (name, " · ".join(said.split("\n"))))

    # The same file again: nothing would be created, both skipped.
    c.go("#/links/import")
    c.wait_css("#import-form")
    choose(c, "csv", write("links.csv", LINKS_CSV))
    submit_by_keyboard(c)
    c.wait_css("#import-dry-run")
    said = c.text_of("#import-dry-run")
    assert "0 links would be created." in said and "2 exist already and would be left as they are (skipped)." in said, said
    bt.step("%s: the same file again: nothing would change (%s)" % (name, " · ".join(said.split("\n"))))


REBRANDLY_KEY = "walk_rebrandly_key"
REBRANDLY_LINKS = [
    {"id": "rb_%d" % i, "slashtag": "pulled-%d" % i, "destination": "https://shop.example/pulled/%d" % i,
     "title": "Pulled %d" % i, "clicks": i, "createdAt": "2026-01-0%dT00:00:00.000Z" % (i + 1)}
    for i in range(4)
]


def rebrandly_server():
    """Rebrandly's `GET /v1/links` on BROWSER_TEST_TOOL_PORT (the port `tenx serve` was given
    as TENX_REBRANDLY_API_BASE by browser_test.sh), as its API v1 documents it: the `apikey`
    header, `?limit=&last={the last link's id}`, the list itself; one link a page, each page a
    moment late, so the screen's progress shows while the worker reads."""
    import http.server
    import json
    import threading
    import time

    class Rebrandly(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            if url.path != "/v1/links":
                return self.answer(404, {"message": "Not found"})
            if self.headers.get("apikey") != REBRANDLY_KEY:
                return self.answer(401, {"message": "Unauthorized", "code": "Unauthorized"})
            last = urllib.parse.parse_qs(url.query).get("last", [None])[0]
            at = 0 if last is None else [l["id"] for l in REBRANDLY_LINKS].index(last) + 1
            time.sleep(0.4)
            self.answer(200, REBRANDLY_LINKS[at:at + 1])

        def answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    port = int(os.environ["BROWSER_TEST_TOOL_PORT"])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Rebrandly)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def watch_words(c, done_css, words, timeout=60):
    """The screen's status words seen until `done_css` shows: those holding `words`."""
    import time
    seen = []
    deadline = time.time() + timeout
    while not c.d.find_elements("css selector", done_css):
        assert time.time() < deadline, "no %s; said: %s" % (done_css, seen)
        for e in c.d.find_elements("css selector", "main [role=status]"):
            try:
                text = e.text
            except Exception:
                continue
            if words in text and text not in seen:
                seen.append(text)
        time.sleep(0.05)
    return seen


def rebrandly_pulled(c, token):
    """Rebrandly's links pulled by its API key, followed to the end: a wrong key refused beside
    its field; the right one checked (the worker reading a page at a time, its progress said in
    words: pages and items so far), the dry run in sentences, then imported by keyboard, the
    progress said again, the finished report, the links redirecting."""
    server = rebrandly_server()
    try:
        c.go("#/links/import")
        c.wait_css("#import-form")
        f = c.css("#import-form")
        Select(c.css("[name=source]", f)).select_by_value("rebrandly")
        c.fill(f, "apiKey", "wrong_key")
        c.css("#import-form button[type=submit]").click()
        said = field_error(c, "apiKey")
        assert said.startswith("Rebrandly refused this API key."), said
        bt.step("Rebrandly's key refused by the tool, said beside the field: " + said)

        f = c.css("#import-form")
        c.fill(f, "apiKey", REBRANDLY_KEY)
        c.css("#import-form button[type=submit]").click()
        seen = watch_words(c, "#import-dry-run", "so far")
        assert any(w.startswith("Reading your links from Rebrandly: ") for w in seen), seen
        said = c.text_of("#import-dry-run")
        assert "4 links would be created." in said and "Every row can come in." in said, said
        status, body = bt.api("GET", BASE_API + "/links?limit=100", token)
        assert not [l for l in body["items"] if l["slug"].startswith("pulled-")], body
        c.shot("imports-rebrandly-dry-run", at="#import-report")
        bt.step("Rebrandly pulled by key, followed as it read (%s), then the dry run: %s"
                % (" · ".join(seen), " · ".join(said.split("\n"))))

        assert c.d.switch_to.active_element.get_attribute("id") == "import-go", "focus on Import it"
        press(c, Keys.ENTER)
        seen = watch_words(c, "#import-finished", "so far")
        assert any("pages" in w or "page," in w for w in seen), seen
        said = c.text_of("#import-finished")
        assert "4 links created." in said and "Importing from Rebrandly again changes nothing." in said, said
        for i in range(4):
            location = redirect_location("pulled-%d" % i)
            assert location.startswith("https://shop.example/pulled/%d" % i), location
        c.shot("imports-rebrandly-finished", at="#import-report")
        bt.step("Rebrandly imported by keyboard, followed to its end (%s): %s"
                % (" · ".join(seen), " · ".join(said.split("\n"))))
    finally:
        server.shutdown()


def dub_partners_zip(c, token):
    """Dub Partners: the screen asks for its key or its three exports in one zip (where each is
    in Dub said beside them); a CSV alone refused beside the file before it is sent; the zip
    checked (its payouts read, a refused row named by its file) and imported."""
    import zipfile
    c.go("#/links/import")
    c.wait_css("#import-form")
    f = c.css("#import-form")
    Select(c.css("[name=source]", f)).select_by_value("dub-partners")
    hint = c.text_of("#import-form .field small.hint")
    assert "Partners, Commissions and Payouts" in hint and "one zip" in hint, hint
    assert c.css("[name=apiKey]", f).is_displayed(), "Dub Partners' form asks for no key"
    assert "Settings → API Keys" in c.text_of("#import-form"), c.text_of("#import-form")
    c.css("[name=file]", f).send_keys(write("dub-partners.csv", "ID,Name,Email\npn_walk_kim,Kim,kim@partner.example\n"))
    submit_by_keyboard(c)
    said = field_error(c, "file")
    assert "This file is a table (CSV), but Dub Partners's export is a zip of its CSV files" in said, said
    bt.step("Dub Partners asks for its API key or its exports zipped; a CSV alone refused beside the file: " + said)

    path = os.path.join(WORK, "imports-dub-program.zip")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("partners.csv", "\ufeffID,Name,Email,Country,Status,Group,Enrolled at\n"
                   "pn_walk_kim,Kim Walk,kim.walk@partner.example,US,approved,Default,2026-01-02T00:00:00.000Z\n")
        z.writestr("commissions.csv", "id;type;amount;earnings;currency;status;createdAt;partnerId\n"
                   "cm_walk_1;sale;$100.00;$1,234.50;usd;paid;2026-03-01T00:00:00.000Z;pn_walk_kim\n"
                   "cm_walk_2;sale;5000;1500;usd;processed;2026-02-01T00:00:00.000Z;pn_walk_ghost\n")
        z.writestr("payouts.csv", "id,amount,currency,status,periodStart,periodEnd,initiatedAt,paidAt,partnerId\n"
                   "po_walk_1,$15.00,usd,completed,,,,,pn_walk_kim\n")
    c.go("#/links/import")
    c.wait_css("#import-form")
    choose(c, "dub-partners", path)
    submit_by_keyboard(c)
    c.wait_css("#import-dry-run", timeout=60)
    said = c.text_of("#import-dry-run")
    assert "2 rows (partners, customers and past commissions) would be created." in said, said
    assert "Dub's payouts, read for which commissions Dub is paying" in said, said
    errors = c.text_of("#import-errors tbody")
    assert "commissions.csv, row 3" in errors and "'pn_walk_ghost' is not a partner of the partners CSV" in errors, errors
    c.shot("imports-dub-zip-dry-run", at="#import-report")
    bt.step("Dub Partners' zip checked: " + " · ".join(said.split("\n")))
    press(c, Keys.ENTER)
    c.wait_css("#import-finished", timeout=60)
    status, body = bt.api("GET", BASE_API + "/partners/pn_walk_kim", token)
    assert status == 200 and body["name"] == "Kim Walk", (status, body)
    bt.step("Dub Partners' zip imported: Kim Walk is a partner")


def another_tool(c, token):
    """A CSV of a tool 10x does not know: its name, its file, the mapping step with its first
    rows (10x's guess checked, one column chosen by hand), then the dry run and the import."""
    c.go("#/links/import")
    c.wait_css("#import-form")
    f = c.css("#import-form")
    Select(c.css("[name=source]", f)).select_by_value("other")
    c.fill(f, "tool", "Link Tree")
    c.css("[name=file]", f).send_keys(write("linktree.csv", "Alias;Target;Hits;Label\n"
                                            "tree-spring;https://shop.example/spring;1.204;Spring\n"
                                            "tree bad;https://shop.example/x;3;X\n"))
    submit_by_keyboard(c)
    c.wait_css("#import-mapping")
    m = c.css("#import-mapping")
    assert Select(c.css("[name=slug]", m)).first_selected_option.text == "Alias"
    assert Select(c.css("[name=destinationUrl]", m)).first_selected_option.text == "Target"
    assert "tree-spring" in c.text_of("#import-report table"), c.text_of("#import-report")
    Select(c.css("[name=title]", m)).select_by_visible_text("Label")
    c.shot("imports-mapping", at="#import-report")
    c.css("#import-mapping button[type=submit]").click()
    c.wait_css("#import-dry-run", timeout=60)
    said = c.text_of("#import-dry-run")
    assert "1 links would be created." in said or "1 link" in said, said
    assert "Row 3" in c.text_of("#import-errors"), c.text_of("#import-errors")
    c.css("#import-go").click()
    c.wait_css("#import-finished", timeout=60)
    status, body = bt.api("GET", BASE_API + "/imports/column-maps/linktree", token)
    assert status == 200 and body["columns"]["title"] == "Label", body
    bt.step("another tool's CSV mapped by hand (its first rows shown), checked and imported; the map remembered")


def program(c, token):
    """Rewardful's export: partners, customers and commissions, checked then imported."""
    c.go("#/links/import")
    c.wait_css("#import-form")
    choose(c, "rewardful", os.path.join(FIXTURES, "rewardful.json"))
    submit_by_keyboard(c)
    c.wait_css("#import-dry-run")
    said = c.text_of("#import-dry-run")
    assert "rows (partners, customers and past commissions) would be created." in said, said
    assert "the partner it belongs to" in c.text_of("#import-errors"), c.text_of("#import-errors")
    c.shot("imports-program-dry-run", at="#import-report")
    press(c, Keys.ENTER)
    c.wait_css("#import-finished", timeout=60)
    status, body = bt.api("GET", BASE_API + "/partners?limit=100", token)
    assert status == 200 and len(body["items"]) >= 2, body
    c.shot("imports-program-finished", at="#import-report")
    bt.step("Rewardful's program export checked and imported: %d partners" % len(body["items"]))


def phone(c, token):
    c.viewport(*bt.PHONE, mobile=True)
    # A fresh CSV of other slugs, imported at 390 px by keyboard.
    global LINKS_CSV
    LINKS_CSV = LINKS_CSV.replace("Spring_Sale", "Phone_Sale").replace("summer,", "winter,")
    dry_run_then_import_phone(c, token)
    c.viewport(*bt.DESKTOP)


def dry_run_then_import_phone(c, token):
    c.go("#/links/import")
    c.wait_css("#import-form")
    c.shot("imports-phone-empty")
    choose(c, "csv", write("phone.csv", LINKS_CSV))
    submit_by_keyboard(c)
    c.wait_css("#import-dry-run")
    assert "2 links would be created." in c.text_of("#import-dry-run"), c.text_of("#import-dry-run")
    c.shot("imports-phone-dry-run", at="#import-report")
    press(c, Keys.ENTER)
    c.wait_css("#import-finished", timeout=60)
    assert "2 links created." in c.text_of("#import-finished")
    c.shot("imports-phone-finished", at="#import-report")
    status, body = bt.api("GET", BASE_API + "/links?limit=100", token)
    assert "winter" in {link["slug"] for link in body["items"]}, body
    assert redirect_location("Phone_Sale").startswith("https://shop.example/spring"), "the alias answers"
    bt.step("at 390×844: checked and imported by keyboard, the reports readable")


def main():
    # A browser profile of its own (Console keeps it beside the downloads): the walks before
    # this one leave a person's session cookie in theirs.
    downloads = os.path.join(WORK, "imports", "downloads")
    os.makedirs(downloads, exist_ok=True)
    os.makedirs(bt.SHOTS, exist_ok=True)
    token = admin_token()
    c = bt.Console(downloads)
    try:
        sign_in(c)
        open_screen(c)
        refusals(c, token)
        dry_run_then_import(c, token, "imports")
        program(c, token)
        dub_partners_zip(c, token)
        rebrandly_pulled(c, token)
        another_tool(c, token)
        # The import screen, and the lists the imports filled, once every import is done. Allowed:
        # the ids of the manager's own export file from Dub (a partner's and a commission's), shown
        # as the file named them so each line can be found again in the previous tool.
        browser_words.screens(c, bt.step, ["#/links/import", "#/links", "#/partners", "#/commissions"],
                              allowed=["pn_walk_kim", "cm_walk_1"])
        phone(c, token)
        c.check_logs("the end")
        print("the import screen in headless Chromium: every step passed; screenshots in %s" % bt.SHOTS)
    except BaseException:
        try:
            c.d.save_screenshot(os.path.join(bt.SHOTS, "FAILED-imports.png"))
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
