#!/usr/bin/env python3
"""The public partner program page, /programs/{handle}, in headless Chromium (issue 46).

Run by scripts/browser_test.sh after the console's walk, against the same `tenx serve`. Sets up
(through the API, signed in locally as an admin of its own handle `shoes`) a template campaign
with a plan and an open program, then at 1440×900 and at 390×844 (a phone):

- the page shows the program's name, description, terms link and commission summary; every
  control is labelled, nothing scrolls sideways, axe-core finds no serious or critical
  violation, and the browser's console stays free of errors (the same checks as every console
  screen, `Console.check_screen` of scripts/browser_test.py);
- the empty form, sent by keyboard alone (Tab to the button, Enter): each required field is
  marked `aria-invalid` with its message tied by `aria-describedby`, an alert sums them up, and
  focus lands on the first field to fix;
- a valid application typed by keyboard and sent with Enter: the thanks are shown (a status
  region, focused heading) with the application id, which the queue then holds as `pending`;

then, signed in to the console as the handle's admin, the Program screen: the settings and the
queue, an approval in words (the partner mailed a sign-in link, no token shown), a rejection with its reason, and the
rejected list showing it.

Screenshots land in target/console-screenshots/ (program-*.png). Exit status 1 on a failure.

Usage: browser_test_program.py BASE_URL SIGN_IN_URL (as scripts/browser_test.py)
"""
import os
import sys

from selenium.webdriver.common.keys import Keys

# The console test's browser and checks (it reads the same two arguments).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser_test as bt  # noqa: E402

HANDLE = "shoes"
PAGE = "/programs/" + HANDLE


def admin_token():
    status, body = bt.api("POST", "/console/sign-in", body={"handle": HANDLE, "role": "admin", "code": bt.CODE})
    assert status == 200, (status, body)
    return body["token"]


def set_up(token):
    base = "/v2/handles/" + HANDLE
    status, body = bt.api("POST", base + "/campaigns", token, {
        "campaignId": "tpl", "goalType": "PURCHASE",
        "primaryLink": {"slug": "join", "destinationUrl": "https://shoes.example/"}})
    assert status == 201, (status, body)
    plan = {"currency": "EUR", "rules": [{"eventType": "purchase", "percent": "12.5"}]}
    status, body = bt.api("PUT", base + "/campaigns/tpl/commission-plan", token, plan)
    assert status in (200, 201), (status, body)
    program = {"name": "Shoes & Co partners",
               "description": "Earn on every pair your readers buy.\n\nWe pay monthly.",
               "termsUrl": "https://shoes.example/partner-terms", "applications": "open",
               "template": {"campaignId": "tpl"}}
    status, body = bt.api("PUT", base + "/program", token, program)
    assert status == 201, (status, body)


def open_page(c, name):
    c.d.get(bt.BASE + PAGE)
    c.wait(lambda: c.d.execute_script("return document.querySelector('main .loading') === null"), "the program page")
    c.wait_text("main h1", "Shoes & Co partners")
    text = c.text_of("main")
    for needle in ["Earn on every pair", "We pay monthly.", "Program terms", "12.5% of each purchase"]:
        assert needle in text, "%s: %r not on the page: %s" % (name, needle, text[:800])
    terms = c.css("main a[href='https://shoes.example/partner-terms']")
    assert terms.text == "Program terms", terms.text
    c.shot(name)


def tab_to(c, predicate_js, what):
    c.d.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
    c.d.find_element(bt.By.TAG_NAME, "body").send_keys(Keys.TAB)
    for _ in range(30):
        if c.d.execute_script(predicate_js):
            return c.d.switch_to.active_element
        c.d.switch_to.active_element.send_keys(Keys.TAB)
    raise AssertionError("%s is not reachable with Tab" % what)


def empty_form_by_keyboard(c, name):
    button = tab_to(c, "return document.activeElement.matches('main form button[type=submit]')", "the send button")
    button.send_keys(Keys.ENTER)
    summary = c.wait_text("main [role=alert]", "2 fields need your attention")
    assert "Your name or company" in summary and "Email" in summary, summary
    state = c.d.execute_script("""
        const f = (n) => document.querySelector(`main form [name=${n}]`);
        const described = (el) => (el.getAttribute('aria-describedby') || '').split(' ')
          .map((id) => document.getElementById(id)).filter(Boolean).map((e) => e.textContent).join(' | ');
        return {active: document.activeElement.name, nameInvalid: f('name').getAttribute('aria-invalid'),
                emailInvalid: f('email').getAttribute('aria-invalid'), websiteInvalid: f('website').getAttribute('aria-invalid'),
                nameSays: described(f('name')), emailSays: described(f('email')),
                live: document.querySelector('main form .form-out').getAttribute('aria-live')};""")
    assert state["active"] == "name", "focus moves to the first field to fix: %s" % state
    assert state["nameInvalid"] == "true" and state["emailInvalid"] == "true", state
    assert state["websiteInvalid"] is None, state
    assert "is required" in state["nameSays"] and "is required" in state["emailSays"], state
    assert state["live"] == "polite", state
    c.shot(name + "-errors")
    bt.step("%s: the empty form sent by keyboard: each field marked and described, an alert, focus on the first" % name)


def apply_by_keyboard(c, name, applicant, email, token):
    field = c.d.switch_to.active_element
    assert field.get_attribute("name") == "name", field.get_attribute("outerHTML")
    field.send_keys(applicant, Keys.TAB)
    c.d.switch_to.active_element.send_keys(email, Keys.TAB)
    c.d.switch_to.active_element.send_keys("https://jane-runs.example", Keys.TAB)
    c.d.switch_to.active_element.send_keys("I review trail shoes for 20k readers.", Keys.TAB)
    button = c.d.switch_to.active_element
    assert button.text == "Send my application", button.text
    button.send_keys(Keys.ENTER)
    thanks = c.wait_text("main [role=status]", "Thank you")
    app_id = c.text_of("main [role=status] code")
    assert app_id.startswith("app_"), thanks
    assert c.d.execute_script("return document.activeElement.tagName") == "H2", "focus on the thanks"
    c.shot(name + "-sent")
    status, body = bt.api("GET", "/v2/handles/%s/partner-applications/%s" % (HANDLE, app_id), token)
    assert status == 200 and body["status"] == "pending" and body["email"] == email, (status, body)
    bt.step("%s: a valid application typed and sent by keyboard: thanks shown and focused, pending in the queue" % name)


def queue(c):
    """The signed-in Program screen: the queue, an approval (in words, no token), a rejection
    with its reason, and the rejected list."""
    c.d.get(bt.SIGN_IN_URL)  # the code the server printed, as a person opens it
    f = c.form("#local-sign-in")
    c.fill(f, "handle", HANDLE)
    c.fill(f, "role", "admin")
    c.submit(f)
    c.wait(lambda: c.h1() == "Welcome, %s" % HANDLE, "the start page")
    c.go("#/program")
    c.wait_text("main", "June Runner")
    assert "Shoes & Co partners" in c.css("main form [name=name]").get_attribute("value")
    c.shot("program-queue")
    c.css("button[aria-label='Approve Jane Runner']").click()
    # The approval in words: the partner was mailed a sign-in link; no token is shown to copy.
    c.wait_text("main", "Jane Runner is now a partner")
    assert "mailed" in c.text_of("main"), c.text_of("main")
    assert not c.all("#approved-token") and "tenx_ptk_" not in c.d.page_source, "a partner token on the approval screen"
    c.shot("program-approved")
    c.wait(lambda: not c.all("button[aria-label='Approve Jane Runner']"), "the approved row to leave the queue")
    # The reject box has a visible label naming the applicant (issue 62), not an aria-label only.
    label = [l for l in c.all("main label") if l.text == "Why reject June Runner?"][0]
    reason = c.css("#" + label.get_attribute("for"))
    reason.send_keys("No running audience.")
    c.css("button[aria-label='Reject June Runner']").click()
    c.wait_text("main", "No pending application.")
    Select = bt.Select
    Select(c.css("main select[name=status]")).select_by_value("rejected")
    c.wait_text("main", "Rejected: No running audience.")
    # Who decided, from the audit log (issue 60), beside the decision.
    c.wait_text("main", "Rejected: No running audience., by ")
    c.shot("program-rejected")
    bt.step("the Program screen: the queue, approval in words (the partner mailed, no token shown), rejection with its reason")


def main():
    work = os.environ.get("BROWSER_TEST_TMP") or os.path.join(bt.ROOT, "target", "browser-test")
    downloads = os.path.join(work, "downloads-program")
    os.makedirs(downloads, exist_ok=True)
    os.makedirs(bt.SHOTS, exist_ok=True)
    for old in os.listdir(bt.SHOTS):
        if old.startswith(("program-", "FAILED-program")) or "-program-" in old:
            os.remove(os.path.join(bt.SHOTS, old))
    token = admin_token()
    set_up(token)
    c = bt.Console(downloads)
    try:
        for (width, height), name, applicant, email in [
                (bt.DESKTOP, "program-desktop", "Jane Runner", "jane@runs.example"),
                (bt.PHONE, "program-phone", "June Runner", "june@runs.example")]:
            c.viewport(width, height, mobile=(width, height) == bt.PHONE)
            open_page(c, name)
            bt.step("%s (%dx%d): the program, its terms and what a partner earns; labelled, axe-clean, no console error" % (name, width, height))
            empty_form_by_keyboard(c, name)
            apply_by_keyboard(c, name, applicant, email, token)
        c.viewport(*bt.DESKTOP)
        queue(c)
        c.check_logs("the end")
        print("program page in headless Chromium: every flow passed; screenshots in %s" % bt.SHOTS)
    except BaseException:
        try:
            c.d.save_screenshot(os.path.join(bt.SHOTS, "FAILED-program.png"))
            print("--- page at the failure (%s):\n%s" % (c.d.current_url, c.text_of("main")[:3000]), file=sys.stderr)
        except Exception:
            pass
        raise
    finally:
        c.d.quit()


if __name__ == "__main__":
    main()
