#!/usr/bin/env python3
"""Passkeys end to end in headless Chromium with its virtual authenticator (issue 60).

Run by scripts/browser_test.sh (`--passkeys` alone) against the same `tenx serve`, at
http://localhost:PORT (WebAuthn takes a domain as RP id, never an address; localhost is a
secure context over plain HTTP). The virtual authenticator (CDP `WebAuthn.enable`,
`WebAuthn.addVirtualAuthenticator`: CTAP2, internal, resident keys, user verification) plays
the device's lock. The walk:

- an admin invited by email signs in with the mailed link, opens the account screen, adds a
  passkey (named): the server lists it, the authenticator holds one resident credential;
- signs out, and signs in again with "Sign in with a passkey": the console is theirs, and the
  account screen shows the passkey used;
- the API refuses what is not a fresh assertion of that passkey: the same assertion again (its
  challenge is spent), an assertion whose signature was changed, and an older assertion sent
  after a newer one (the sign counter did not grow: a cloned key);
- the passkey removed from the account screen signs in no more;
- the team screen (issue 60): an invitation sent with a role, its expiry shown, resent (a new
  one) and revoked; a teammate's role changed; the last admin kept (the refusal in words); a
  teammate removed, and the personal access token they made listed and revoked;
- the audit log screen: those changes by the admin (named by email), filtered by person, and
  exported as CSV.

Screenshots land in target/console-screenshots/ (passkeys-*.png). Exit status 1 on a failure.

Usage: browser_test_passkeys.py BASE_URL SIGN_IN_URL (as scripts/browser_test.py)
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser_test as bt  # noqa: E402

HANDLE = "keys"
EMAIL = "kim@example.com"
# The same server under its name: passkeys are bound to a domain.
bt.BASE = bt.BASE.replace("127.0.0.1", "localhost")
# The refusals this walk provokes on purpose (401s are listed already).
bt.EXPECTED_FAILURES += [
    (409, r"/members/usr_[0-9a-f]+$", "the last admin, kept"),
    (400, r"/v2/auth/passkeys/authenticate/finish$", "a tampered assertion"),
    (403, r"/sign-in-policy$", "passkeys required of admins by an admin without one"),
    (403, r"/v2/handles/", "an admin without a passkey, on a team that requires one"),
]


def admin_token():
    status, body = bt.api("POST", "/console/sign-in", body={"handle": HANDLE, "role": "admin", "code": bt.CODE})
    assert status == 200, (status, body)
    return body["token"]


def authenticator(c):
    c.d.execute_cdp_cmd("WebAuthn.enable", {"enableUI": False})
    r = c.d.execute_cdp_cmd("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True}})
    return r["authenticatorId"]


def credentials(c, auth_id):
    return c.d.execute_cdp_cmd("WebAuthn.getCredentials", {"authenticatorId": auth_id})["credentials"]


def invited_sign_in(c):
    status, _ = bt.api("POST", "/v2/handles/%s/members/invitations" % HANDLE, admin_token(),
                       {"email": EMAIL, "role": "admin"})
    assert status == 201, status
    link = bt.mailed_link(EMAIL, "invitation").replace("127.0.0.1", "localhost")
    c.d.get(link)
    c.css("main form button[type=submit]").click()
    c.wait_text("#who-am-i", "admin · " + EMAIL)


def add_passkey(c, auth_id):
    c.go("#/settings/account")
    c.wait_text("main h1", "Your account")
    c.wait_text("#session-list", "This browser")
    f = c.form("#passkey-add")
    c.fill(f, "name", "Test laptop")
    c.submit(f)
    c.wait_text("#passkey-add .form-out", "Test laptop is added")
    c.wait_text("#passkey-list", "Test laptop")
    assert "not yet" in c.text_of("#passkey-list"), c.text_of("#passkey-list")
    held = credentials(c, auth_id)
    assert len(held) == 1 and held[0]["isResidentCredential"], held
    c.shot("passkeys-account")
    bt.step("the account screen adds a passkey: listed by the server, one resident credential on the device")


def sign_in_with_passkey(c):
    c.css("#sign-out").click()
    c.wait_css("#passkey-sign-in")
    assert c.text_of("#who-am-i") == "", "signed out"
    c.shot("passkeys-sign-in")
    c.submit(c.css("#passkey-sign-in"))
    c.wait_text("#who-am-i", "admin · " + EMAIL)
    c.wait(lambda: c.h1() == "Welcome, %s" % HANDLE, "the start page")
    assert c.d.get_cookie("tenx_session"), "the session is the server's cookie"
    c.go("#/settings/account")
    c.wait_text("#passkey-list", "Test laptop")
    assert "not yet" not in c.text_of("#passkey-list"), "the passkey's last use is shown"
    c.shot("passkeys-signed-in")
    bt.step("signed out, then signed in with the passkey alone: the console is the admin's")


# Runs in the page: a fresh assertion (begin, then the authenticator), as the console makes one.
ASSERT_JS = """
const done = arguments[arguments.length - 1];
(async () => {
  const b = await (await fetch('/v2/auth/passkeys/authenticate/begin', {method: 'POST',
    headers: {'content-type': 'application/json'}, body: '{}'})).json();
  const cred = await navigator.credentials.get({publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(b.publicKey)});
  return cred.toJSON();
})().then(done, (e) => done({error: String(e)}));
"""

FINISH_JS = """
const done = arguments[arguments.length - 1];
fetch('/v2/auth/passkeys/authenticate/finish', {method: 'POST', credentials: 'same-origin',
  headers: {'content-type': 'application/json'}, body: JSON.stringify({credential: arguments[0]})})
  .then(async (r) => done({status: r.status, body: await r.json()}), (e) => done({error: String(e)}));
"""


def fresh_assertion(c):
    a = c.d.execute_async_script(ASSERT_JS)
    assert "error" not in a, a
    return a


def finish(c, assertion):
    r = c.d.execute_async_script(FINISH_JS, assertion)
    assert "error" not in r, r
    return r


def tampered(assertion):
    """The same assertion with one byte of its signature changed."""
    import base64
    sig = assertion["response"]["signature"]
    raw = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
    raw[-1] ^= 0x01
    bad = dict(assertion, response=dict(assertion["response"]))
    bad["response"]["signature"] = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    return bad


def refusals(c):
    a = fresh_assertion(c)
    bad = finish(c, tampered(a))
    assert bad["status"] == 401 and bad["body"]["error"]["code"] == "unauthorized", bad
    # Its challenge was spent by the refused try: the genuine assertion is refused too.
    again = finish(c, a)
    assert again["status"] == 401, again
    bt.step("an assertion whose signature was changed is refused (401), and spends its challenge")

    a = fresh_assertion(c)
    ok = finish(c, a)
    assert ok["status"] == 200 and ok["body"]["next"] == "/", ok
    replay = finish(c, a)
    assert replay["status"] == 401 and "already used" in replay["body"]["error"]["message"], replay
    bt.step("a fresh assertion signs in; the same assertion replayed is refused (401)")

    older = fresh_assertion(c)
    newer = fresh_assertion(c)
    ok = finish(c, newer)
    assert ok["status"] == 200, ok
    late = finish(c, older)
    assert late["status"] == 401, late
    bt.step("an older assertion sent after a newer one is refused: the sign counter did not grow (%s)"
            % late["body"]["error"]["message"])


def remove_passkey(c):
    # The page's own sign-ins above replaced the cookie: the console reads its session afresh.
    c.d.execute_script("sessionStorage.removeItem('tenx.console.session')")
    c.go("#/settings/account")
    c.wait_text("#passkey-list", "Test laptop")
    c.css("button[aria-label='Remove Test laptop']").click()
    c.wait_text("#passkey-list", "No passkey yet")
    a = fresh_assertion(c)
    r = finish(c, a)
    assert r["status"] == 401 and "not registered" in r["body"]["error"]["message"], r
    c.shot("passkeys-removed")
    bt.step("a removed passkey signs in no more (401, not registered here)")


def person_cookie(email, token):
    """Spends a mailed link's token outside the browser (a teammate on their own machine): the
    session cookie and its CSRF token."""
    import json
    import urllib.request
    req = urllib.request.Request(bt.BASE + "/v2/auth/email-link/verify", data=json.dumps({"token": token}).encode(),
                                 method="POST", headers={"content-type": "application/json"})
    try:
        urllib.request.build_opener(bt.NoRedirect).open(req, timeout=10)
        raise AssertionError("not a 303")
    except urllib.error.HTTPError as e:
        assert e.code == 303, e.code
        cookie = e.headers["set-cookie"].split(";")[0]
    status, me = bt.api("GET", "/v2/me", headers={"cookie": cookie})
    assert status == 200 and me["user"]["email"] == email, (status, me)
    return cookie, me["csrfToken"]


def team(c):
    c.d.execute_script("sessionStorage.removeItem('tenx.console.session')")
    c.go("#/settings")
    c.wait_text("#member-list", EMAIL)
    f = c.form("#invite-form")
    c.fill(f, "email", "lee@example.com")
    c.fill(f, "role", "viewer")
    c.submit(f)
    c.wait_text("#invite-form .form-out", "Invitation mailed to lee@example.com as viewer")
    c.wait_text("#invitation-list", "lee@example.com")
    listed = c.text_of("#invitation-list")
    assert "viewer" in listed and "usr_" not in listed and "in 7 days" in listed, listed
    first = bt.mailed_link("lee@example.com", "invitation")
    c.css("button[aria-label='Resend the invitation to lee@example.com']").click()
    c.wait_text("#invitation-out", "A new invitation is mailed to lee@example.com")
    second = bt.mailed_link("lee@example.com", "invitation", other_than=first)
    status, _ = bt.api("POST", "/v2/auth/email-link/verify", body={"token": first.split("token=")[1]})
    assert status == 401, ("the resent invitation's old link is withdrawn", status)
    c.css("button[aria-label='Revoke the invitation to lee@example.com']").click()
    c.wait_text("#invitation-list", "No invitation waiting")
    bt.step("team: an invitation sent with a role (expiry shown), resent as a new one (the old link withdrawn), revoked")

    # A teammate joins on their own machine and makes a personal access token.
    c.fill(c.form("#invite-form"), "email", "max@example.com")
    c.fill(c.form("#invite-form"), "role", "operator")
    c.submit(c.form("#invite-form"))
    c.wait_text("#invitation-list", "max@example.com")
    link = bt.mailed_link("max@example.com", "invitation")
    cookie, csrf = person_cookie("max@example.com", link.split("token=")[1])
    status, pat = bt.api("POST", "/v2/handles/%s/tokens" % HANDLE, body={"name": "max-ci", "scopes": ["links.read"]},
                         headers={"cookie": cookie, "x-csrf-token": csrf})
    assert status == 201, (status, pat)
    c.go("#/settings")
    c.wait_text("#member-list", "max@example.com")
    bt.Select(c.css("select[aria-label='Role of max@example.com']")).select_by_value("creator")
    c.wait_text("#member-list", "max@example.com is creator now")
    c.css("button[aria-label='Remove %s']" % EMAIL).click()
    c.wait_text("#member-list", "The last admin of %s cannot be removed" % HANDLE)
    c.shot("team-last-admin")
    c.css("button[aria-label='Remove max@example.com']").click()
    c.wait_text("#removed-member", "max@example.com made 1 personal access token")
    status, _ = bt.api("GET", "/v2/handles/%s/links" % HANDLE, headers={"cookie": cookie})
    assert status == 403, ("a removed member is refused at once", status)
    status, _ = bt.api("GET", "/v2/handles/%s/links" % HANDLE, pat["token"])
    assert status == 200, ("their token works until revoked", status)
    c.shot("team-removed")
    c.css("button[aria-label='Revoke max-ci']").click()
    c.wait_text("#removed-member", "Every token max@example.com made is revoked")
    status, _ = bt.api("GET", "/v2/handles/%s/links" % HANDLE, pat["token"])
    assert status == 401, ("the revoked token is refused", status)
    bt.step("team: a role changed, the last admin kept, a member removed (refused at once) and the token they made revoked")

    # The admin has a passkey no more (removed above): requiring them is refused, in words.
    f = c.form("#sign-in-policy")
    c.fill(f, "requirePasskeyForAdmins", True)
    c.submit(f)
    c.wait_text("#sign-in-policy .form-out", "Add a passkey to your own account first")
    status, policy = bt.api("GET", "/v2/handles/%s/sign-in-policy" % HANDLE, admin_token())
    assert policy == {"requirePasskeyForAdmins": False}, policy
    bt.step("team: requiring passkeys of admins is refused to an admin who has none (nothing saved)")


PERSON_WRITES_JS = """
const done = arguments[arguments.length - 1];
(async () => {
  const me = await (await fetch('/v2/me', {credentials: 'same-origin'})).json();
  const post = (path, body) => fetch(path, {method: 'POST', credentials: 'same-origin',
    headers: {'content-type': 'application/json', 'x-csrf-token': me.csrfToken}, body: JSON.stringify(body)});
  const p = await post('/v2/handles/keys/partners', {partnerId: 'june', name: 'June Media', email: 'june@example.com'});
  const m = await post('/v2/handles/keys/commissions', {partnerId: 'june', amount: '25.00', currency: 'EUR', reason: 'Launch bonus'});
  return [p.status, m.status];
})().then(done, (e) => done({error: String(e)}));
"""


def reviewed_by(c):
    """The ledger says who approved a line, by their email and the day: a manual line made by
    the signed-in admin is approved by her."""
    statuses = c.d.execute_async_script(PERSON_WRITES_JS)
    assert statuses == [201, 201], statuses
    c.go("#/commissions")
    c.wait_text("main", "Launch bonus")
    c.wait_text("main", "by " + EMAIL + ", ")
    assert "usr_" not in c.text_of("main"), "people are named, not numbered"
    c.shot("ledger-approved-by")
    bt.step("the ledger shows who approved a line and when: by %s, the day" % EMAIL)


def passkeys_required(c):
    """An admin with a passkey requires them of the team's admins; a new admin without one is
    taken to the account screen before anything else, and adds one there."""
    c.d.execute_script("sessionStorage.removeItem('tenx.console.session')")
    c.go("#/settings/account")
    f = c.form("#passkey-add")
    c.fill(f, "name", "Desk key")
    c.submit(f)
    c.wait_text("#passkey-list", "Desk key")
    c.go("#/settings")
    f = c.form("#sign-in-policy")
    c.fill(f, "requirePasskeyForAdmins", True)
    c.submit(f)
    c.wait_text("#sign-in-policy .form-out", "Admins of this team now need a passkey")
    status, _ = bt.api("POST", "/v2/handles/%s/members/invitations" % HANDLE, admin_token(),
                       {"email": "nia@example.com", "role": "admin"})
    assert status == 201, status
    c.d.execute_script("sessionStorage.clear()")
    c.d.get(bt.mailed_link("nia@example.com", "invitation").replace("127.0.0.1", "localhost"))
    c.css("main form button[type=submit]").click()
    c.wait_text("main", "Admins of this team sign in with a passkey: add one here before anything else")
    assert c.d.current_url.endswith("#/settings/account"), c.d.current_url
    c.shot("passkeys-required")
    f = c.form("#passkey-add")
    c.submit(f)
    c.wait_text("#passkey-list", "Passkey added")
    c.go("#/links")
    c.wait(lambda: c.h1() == "Links", "the links screen, open now")
    bt.step("passkeys required of admins: a new admin without one lands on the account screen, adds one, and is in")


def audit(c):
    c.go("#/settings/audit")
    c.wait_text("#audit-list", "member removed")
    text = c.text_of("#audit-list")
    assert EMAIL in text and "invitation created" in text and "max@example.com, operator to creator" in text, text[:800]
    assert "usr_" not in text, "people are named, not numbered: " + text[:800]
    f = c.form("#audit-filter")
    c.fill(f, "action", "member.role_changed")
    c.submit(f)
    c.wait(lambda: "member removed" not in c.text_of("#audit-list"), "the filtered log")
    c.shot("audit-log")
    c.fill(f, "action", "")
    c.css("#audit-export").click()
    c.wait(lambda: [n for n in os.listdir(c.downloads) if n.startswith("audit-") and n.endswith(".csv")], "the CSV download")
    name = [n for n in os.listdir(c.downloads) if n.startswith("audit-")][0]
    with open(os.path.join(c.downloads, name)) as fh:
        csv_text = fh.read()
    assert "member.removed" in csv_text, csv_text[:500]
    bt.step("the audit log screen: the team's changes by the admin's email, filtered, exported as CSV")


def main():
    work = os.environ.get("BROWSER_TEST_TMP") or os.path.join(bt.ROOT, "target", "browser-test")
    downloads = os.path.join(work, "downloads-passkeys")
    os.makedirs(downloads, exist_ok=True)
    os.makedirs(bt.SHOTS, exist_ok=True)
    c = bt.Console(downloads)
    try:
        auth_id = authenticator(c)
        invited_sign_in(c)
        add_passkey(c, auth_id)
        sign_in_with_passkey(c)
        refusals(c)
        remove_passkey(c)
        team(c)
        audit(c)
        reviewed_by(c)
        passkeys_required(c)
        print("passkeys in headless Chromium with a virtual authenticator: every flow passed")
    except BaseException:
        try:
            c.d.save_screenshot(os.path.join(bt.SHOTS, "FAILED-passkeys.png"))
            print("--- page at the failure (%s):\n%s" % (c.d.current_url, c.text_of("main")[:3000]), file=sys.stderr)
        except Exception:
            pass
        raise
    finally:
        c.d.quit()


if __name__ == "__main__":
    main()
