"""Schemathesis hooks of scripts/fuzz.sh.

openapi.yaml states every rule a JSON Schema can state. A few of the server's documented rules
cannot be: they relate two fields, depend on stored state or on the clock, or concern a
credential the fuzzer cannot forge. A *positive* case (one the schema calls valid) that breaks
one of them is refused with `400`, which `positive_data_acceptance` would report although both
the spec and the server are right. So, before a positive case is sent, `before_call` brings it
within those rules, each named below with the place the spec documents it. Negative cases are
sent exactly as generated: the server has to refuse them whatever else they contain.

The rules (positive cases only):
  cursor      a `cursor` the API did not return is 400 (the `Cursor` parameter): a generated one
              is dropped unless it is a `nextCursor` seen in an earlier response.
  report      `funnel=true` with `groupBy`, `funnel=false` without it, and `orphans=true` with
              `funnel`, `groupBy` or `campaignId` are 400 (the `Funnel` parameter, `getAnalytics`).
  day range   `from` after `to` or more than 366 days apart is 400 (the `From` parameter), and
              on the listings that take times (commissions, customers) `from` after `to` is 400.
  ctx         a ctx is an HMAC-signed token (`ConversionRequest.ctx`, `LeadRequest.ctx`,
              `CustomerRequest.ctx`): the real one minted for this run (TENX_FUZZ_CTX, a click on
              TENX_FUZZ_CTX_HANDLE) stands in for a generated one; the authenticated conversion
              and customer routes take it only on its own handle.
  coupon      a `couponCode` must name one of the handle's coupon codes (`CouponCode`, stored
              state): dropped from a positive conversion; a customer binding is by ctx alone
              (`CustomerRequest`: exactly one way to bind).
  money       a JSON number past 6 decimal places or 15 significant digits is 400 (`Money`); a
              `value` needs a `currency` (`ConversionRequest.value`); a reversal's `amount` may
              not exceed the conversion's value, nor be given for one without a value (looked
              up with the run's JWT: `ReverseRequest.amount`).
  expiry      a link's `expiredUrl` needs an `expiresAt` (`LinkSpec.expiredUrl`).
  unique      duplicate routing-rule priorities, chain rule ids, chain priorities per trigger
              and prefetch triggers (case-insensitive) are 400 (`RoutingRule`, `ChainRule`,
              `ChainRulesRequest`, `PrefetchRequest`).
  campaign    a link's `campaignId` must name an existing campaign (`LinkSpec.campaignId`).
  partner     a campaign's or a manual commission's `partnerId` must name an existing partner
              (`CampaignCreateRequest.partnerId`, `ManualCommissionRequest`): dropped from a
              campaign, and the manual entry's partner created first.
  minor units an amount has at most its currency's minor digits (`Amount`; JPY 0, KWD 3): a
              generated amount, minimum, flat fee or cap is written as a whole number.
  rates       an exchange rate is positive, at most 1e9, with at most 10 decimals (`Rate`): a
              generated one outside that is replaced by 1.25.
  coupon owner a coupon code's `campaignId` must be a campaign of the path's partner
              (`CouponCodeRequest`): the partner and a campaign of its own are created first and
              named in the body.
  postback    a partner's `postbackUrl` is an absolute https URL whose macros are known
              (`PostbackUrl`): a generated one becomes https://postback.example/pb?c={click_id}.
  plan rules  a rule has exactly one of `eventType` or `qualifiedClick: true`, a flat fee or a
              percentage (0 to 100, a click only a flat fee), one rule per target
              (`CommissionRule`): generated rules are brought within that.
  plan bounds at most 20 rules, `holdDays` at most 365, `conversionsPerDay` at least 1, and
              `attributionWindow.maxDays` at most the click context's lifetime
              (`CommissionPlanRequest`): generated values are brought within them (30 days);
              a preview's draft `plan` likewise (`CommissionPreviewRequest`), and its sample
              `value` is an amount that is not negative, its `eventType` at most 64 bytes.
  clock       a signal's `at`, a recovery's `since` and a payout run's `periodEnd` may be neither
              before 1970 nor in the future (`SignalInput.at`, `recoverDeliveries`,
              `PayoutRunRequest.periodEnd`).
  endpoint    a webhook endpoint on a loopback, private or otherwise non-public address is 400
              (`createWebhook`): such a host is replaced by a public name (which cannot resolve
              inside the fuzzer's network namespace, so nothing is ever delivered).
  portal      allowed destinations, a partner's own link and a tax profile (issue 61): see
              `fit_portal`.
  doubles     the API reads JSON numbers as IEEE 754 doubles (openapi.yaml's `info.description`):
              one too large for a double in free-form `metadata` or signal `data` is 400 (and
              serde_json already refuses long integer literals a little below the bound): one of
              magnitude 1e308 or more becomes 0.
  currencies  `maxValue`'s keys are currencies (`propertyNames`), which schemathesis's coverage
              phase does not honour: other keys are dropped.
  payout      an IBAN's check digits and country length, a BIC's country, an email's shape and a
              method's fields by its type (a PayPal payer ID's 13 capitals and digits) are checked
              beyond any schema (`PayoutMethodRequest`,
              `PayoutSettingsRequest`): a positive case gets valid details of its type (and its
              partner is created first); a batch's `executionDate` is today or later
              (`PayoutBatchRequest`): a generated one becomes 2099-01-01.
  emails      an application's, a partner's, a sign-in link's and an invitation's email pass RFC 5321's shape
              (a sign-in link's `handle` the `Handle` rule, reserved words included) as the `email_address`
              crate reads it (a local part of at most 64 characters, domain labels of at most 63)
              and refuse markup characters (`Email`, `PartnerEmail`, issue 57): a generated one
              outside that becomes partner@pub.example.
  mail        a branding's `replyTo` and a suppression's `email` take the same address rule (a
              generated one outside it becomes partner@pub.example); a branding's `logoUrl` is an
              https URL with a host (`Branding`): one that is not becomes
              https://cdn.pub.example/logo.png; its `name` is trimmed and may hold no control
              character: a generated one that breaks that becomes `Acme`.
  lead ids    a public lead may not name a customer id anyone can derive from a buyer (`email:`,
              `shopify:`, `import:` in any case, or any id holding an `@`: `LeadRequest`,
              issue 57): such a generated id becomes `cus_` and its digest.
  imports     an import's body is its source's own export, read beyond any schema (`startImport`:
              a file that is not its source's format is 400): a positive case imports a one-row
              CSV of 10x's columns (`source=csv`) or an empty Dub list (`source=dub`), by its
              media type.
  integers    JSON Schema's `integer` includes `3.0`; the API reads an integer only as written
              without a fraction or exponent (openapi.yaml's `info.description`): integral
              floats in a body, and `limit=3.0`, are written as integers.
"""

from __future__ import annotations

import ast
import datetime
import hashlib
import ipaddress
import os
import re
import uuid
import threading
import unicodedata
from decimal import ROUND_DOWN, Decimal
from urllib.parse import urlsplit, urlunsplit

import requests
import schemathesis

CTX = os.environ["TENX_FUZZ_CTX"]
CTX_HANDLE = os.environ["TENX_FUZZ_CTX_HANDLE"]
BASE = os.environ["TENX_FUZZ_BASE"]
JWT = os.environ["TENX_FUZZ_JWT"]
ISSUED_CURSORS: set[str] = set()

MAX_RANGE_DAYS = 366
MONEY_MAX = Decimal("999999999999999")
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


# CPython 3.11's AST constructor is not safe across threads: with `workers = 2` hypothesis, which
# parses lambdas' source to describe its strategies, once failed a run with "SystemError: AST
# constructor recursion depth mismatch" (an error of the tool, not of the server). One parse at
# a time.
_ast_parse = ast.parse
_ast_lock = threading.Lock()


def _serial_ast_parse(*args, **kwargs):
    with _ast_lock:
        return _ast_parse(*args, **kwargs)


ast.parse = _serial_ast_parse


def is_positive(case) -> bool:
    meta = case.meta
    return meta is not None and meta.generation.mode.is_positive


@schemathesis.hook
def after_call(context, case, response) -> None:
    """Remembers every `nextCursor` the API hands out: those are the valid cursors."""
    if "json" not in (response.headers.get("content-type") or [""])[0]:
        return
    try:
        body = response.json()
    except Exception:
        return
    if isinstance(body, dict) and isinstance(body.get("nextCursor"), str):
        ISSUED_CURSORS.add(body["nextCursor"])


@schemathesis.hook
def before_call(context, case, kwargs) -> None:
    if not is_positive(case):
        return
    method, path = case.operation.method.upper(), case.operation.path
    if method == "POST" and path == "/v2/handles/{handle}/imports":
        fit_import(case)
        return
    if isinstance(case.query, dict):
        fit_query(path, case.query)
    if isinstance(case.body, dict):
        case.body = integral_floats(case.body)
        fit_body(case, method, path, case.body)


def fit_query(path: str, query: dict) -> None:
    if isinstance(query.get("limit"), (str, float)):
        query["limit"] = integral(query["limit"])
    fit_cursor(query)
    if path.startswith("/v2/handles/{handle}/analytics"):
        fit_report(query)
    if "from" in query or "to" in query:
        fit_day_range(query)
    if path == "/v2/public/context" and "ctx" in query:
        query["ctx"] = CTX
    if path == "/v2/handles/{handle}/mail/suppressions" and isinstance(query.get("email"), str):
        query["email"] = fit_email(query["email"])


def fit_body(case, method: str, path: str, body: dict) -> None:
    for free in [body] + [s for s in body.get("signals") or [] if isinstance(s, dict)]:
        for name in ("metadata", "data"):
            if isinstance(free.get(name), (dict, list)):
                free[name] = within_doubles(free[name])
    if method == "POST" and path == "/v2/public/leads" and isinstance(body.get("customerId"), str):
        body["customerId"] = fit_lead_customer(body["customerId"])
    if path in PERSON_EMAILS and isinstance(body.get("email"), str):
        body["email"] = fit_email(body["email"])
    if path == "/v2/auth/email-link" and isinstance(body.get("handle"), str):
        body["handle"] = fit_handle(body["handle"])
    if path == "/v2/handles/{handle}/branding":
        fit_branding(body)
    fit_wave5(method, path, body)
    fit_portal(case, method, path, body)
    if method == "POST" and path in ("/v2/public/leads", "/v2/handles/{handle}/customers"):
        body["ctx"] = CTX
        for name in ("couponCode", "partnerId", "campaignId"):
            body.pop(name, None)
        if path.startswith("/v2/handles/"):
            case.path_parameters["handle"] = CTX_HANDLE
    elif method == "POST" and path in ("/v2/public/conversions", "/v2/handles/{handle}/conversions"):
        body["ctx"] = CTX
        body.pop("couponCode", None)
        if path.startswith("/v2/handles/"):
            case.path_parameters["handle"] = CTX_HANDLE
        if body.get("value") is not None:
            body["value"] = fit_money(body["value"])
            if body.get("currency") is None:
                body["currency"] = "USD"
    elif path.endswith("/reverse") and body.get("amount") is not None:
        body["amount"] = fit_reversal(case, fit_money(body["amount"], positive=True))
    elif path.endswith("/conversion-policy") and isinstance(body.get("maxValue"), dict):
        body["maxValue"] = {
            k: fit_money(v) for k, v in body["maxValue"].items() if k in currencies()
        }
    elif path in ("/v2/handles/{handle}/campaigns", "/v2/handles/{handle}/campaigns/{campaignId}"):
        body.pop("partnerId", None)
    elif method == "POST" and path.endswith("/coupon-codes"):
        body["campaignId"] = ensure_partner_campaign(case)
    elif method == "POST" and path == "/v2/handles/{handle}/commissions":
        ensure_partner(case, body.get("partnerId"))
        body["amount"] = whole(body.get("amount"))
    elif method == "POST" and path == "/v2/handles/{handle}/payouts":
        if isinstance(body.get("periodEnd"), str):
            body["periodEnd"] = fit_past(body["periodEnd"])
        if isinstance(body.get("minimums"), dict):
            body["minimums"] = {k: whole(v).lstrip("-") for k, v in body["minimums"].items()}
    elif method == "POST" and path == "/v2/handles/{handle}/test-sales":
        # A sale of more than zero, whole (valid in every currency's decimals).
        if isinstance(body.get("amount"), str):
            body["amount"] = whole(body["amount"]).lstrip("-").lstrip("0") or "1"
    elif method == "POST" and path == "/v2/handles/{handle}/fx-rates":
        if isinstance(body.get("rates"), dict):
            body["rates"] = {k: fit_rate(v) for k, v in body["rates"].items()}
    elif path in ("/v2/handles/{handle}/partners", "/v2/handles/{handle}/partners/{partnerId}"):
        if isinstance(body.get("postbackUrl"), str):
            body["postbackUrl"] = "https://postback.example/pb?c={click_id}"
    elif path.endswith("/commission-plan"):
        fit_plan(body)
    elif path.endswith("/commission-plan/preview"):
        # The draft plan as a PUT's; a sample's value is an amount (not negative) of its currency.
        if isinstance(body.get("plan"), dict):
            fit_plan(body["plan"])
        if isinstance(body.get("value"), str):
            body["value"] = whole(body["value"]).lstrip("-") or "0"
        if isinstance(body.get("eventType"), str) and body["eventType"]:
            body["eventType"] = body["eventType"][:16]
    elif method == "PUT" and path == "/v2/handles/{handle}/links/{slug}":
        if body.get("campaignId") is not None:
            body["campaignId"] = None
        if isinstance(body.get("expiredUrl"), str) and not isinstance(body.get("expiresAt"), str):
            body["expiresAt"] = "2000-01-01T00:00:00Z"
        unique_priorities(body.get("routingRules"), key=lambda rule: ())
        fit_variants(body)
    elif path.endswith("/chain/rules"):
        fit_chain_rules(body.get("rules"))
    elif path == "/v2/public/chain/prefetch":
        fit_triggers(body)
    elif path == "/v2/public/chain/signals":
        for signal in body.get("signals") or []:
            if isinstance(signal, dict) and isinstance(signal.get("at"), str):
                signal["at"] = fit_past(signal["at"])
    elif path.endswith("/recover") and isinstance(body.get("since"), str):
        body["since"] = fit_past(body["since"])
    elif method == "PUT" and path.endswith("/payout-method"):
        ensure_partner(case, case.path_parameters.get("partnerId"))
        fit_payout_method(body)
    elif method == "PUT" and path == "/v2/handles/{handle}/payout-settings":
        body["debtorName"], body["debtorIban"] = "ACME GmbH", "DE89 3704 0044 0532 0130 00"
        if "debtorBic" in body:
            body["debtorBic"] = "DEUTDEFF"
    elif method == "POST" and path == "/v2/handles/{handle}/payout-batches":
        if "executionDate" in body:
            body["executionDate"] = "2099-01-01"
    elif method == "POST" and path == "/v2/handles/{handle}/webhooks":
        if isinstance(body.get("endpointUrl"), str):
            body["endpointUrl"] = public_endpoint(body["endpointUrl"])


# The routes that store an email a person typed, under the one address rule (domain::email).
PERSON_EMAILS = (
    "/v2/auth/email-link",
    "/v2/handles/{handle}/partners/{partnerId}/members/invitations",
    "/v2/handles/{handle}/members/invitations",
    "/v2/handles/{handle}/partners",
    "/v2/handles/{handle}/partners/{partnerId}",
    "/v2/public/programs/{handle}/applications",
)
EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


HANDLE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,30})[a-z0-9]$")


def fit_variants(body: dict) -> None:
    """An A/B test the schema cannot fully say: none, or 2 to 4 distinct destinations whose
    whole weights add up to 100 (the server refuses the rest in words, tested in
    tests/api/variants.rs)."""
    variants = body.get("variants")
    if not isinstance(variants, list) or not variants:
        return
    if len(variants) == 1:
        body["variants"] = []
        return
    n = len(variants[:4])
    weights = [100 // n] * n
    weights[0] += 100 - sum(weights)
    body["variants"] = [
        {"destinationUrl": "https://shop.example/variant-%d" % i, "weight": weights[i]}
        for i in range(n)
    ]


def fit_handle(raw: str) -> str:
    """A generated handle the `Handle` rule takes (3-32 of [a-z0-9-], no `--`, not reserved:
    the reserved words are too many for a pattern), kept; any other becomes `acme`."""
    ok = HANDLE.match(raw) and "--" not in raw and raw not in RESERVED_HANDLES
    return raw if ok else "acme"


RESERVED_HANDLES = {
    "api", "app", "www", "admin", "root", "static", "assets", "docs", "status", "mail",
    "localhost", "v2", "public", "support", "help", "dashboard", "login", "auth", "billing",
    "cdn", "ns1", "ns2",
}


def fit_email(raw: str) -> str:
    """A generated address the rule takes, kept; any other becomes one it takes."""
    ok = EMAIL.match(raw) and len(raw) <= 254 and ".." not in raw and not raw.startswith(".")
    return raw if ok and not raw.split("@")[0].endswith(".") else "partner@pub.example"


# A plain https URL the `url` crate parses with a host (a stricter subset, for the hook only).
HTTPS_LOGO = re.compile(r"^https://[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?:/[A-Za-z0-9._~/-]*)?$")


def fit_branding(body: dict) -> None:
    """A branding within `Branding`'s rules (mail::branding::Branding::validate)."""
    if isinstance(body.get("replyTo"), str):
        body["replyTo"] = fit_email(body["replyTo"])
    logo = body.get("logoUrl")
    if isinstance(logo, str) and not (HTTPS_LOGO.match(logo) and len(logo) <= 2048):
        body["logoUrl"] = "https://cdn.pub.example/logo.png"
    name = body.get("name")
    if isinstance(name, str):
        trimmed = name.strip()
        # Python's strip() takes \x1c-\x1f as spaces, Rust's trim() does not: look at all of it.
        if not trimmed or len(trimmed) > 80 or any(unicodedata.category(c) == "Cc" for c in name):
            body["name"] = "Acme"


RESERVED_CUSTOMER = re.compile(r"^(email|shopify|import):", re.IGNORECASE)


def fit_lead_customer(raw: str) -> str:
    """An id a public lead may bind: a derivable one becomes `cus_` and its digest."""
    if "@" in raw or RESERVED_CUSTOMER.match(raw):
        return "cus_" + hashlib.sha256(raw.encode()).hexdigest()[:24]
    return raw


PAYOUT_DETAILS = {
    "sepa": {"accountName": "Publisher One", "iban": "DE89 3704 0044 0532 0130 00", "bic": "DEUTDEFF"},
    "paypal": {"email": "payouts@pub.example"},
    "wise": {"email": "payouts@pub.example", "accountName": "Publisher One"},
    "manual": {},
}


def fit_payout_method(body: dict) -> None:
    """Valid details of the body's type: the fields it takes (a BIC only if one was generated; a
    PayPal account by a payer ID, 13 capital letters and digits, if one was generated)."""
    details = PAYOUT_DETAILS.get(body.get("type"))
    if details is None:
        return
    keep_bic = "bic" in body
    if body.get("type") == "paypal" and "payerId" in body:
        details = {"payerId": "7ZQ4L8NWK2M3P"}
    for name in ("accountName", "iban", "bic", "email", "payerId"):
        body.pop(name, None)
    body.update(details)
    if not keep_bic:
        body.pop("bic", None)


def whole(value):
    """A decimal string without its fraction (valid in every currency), sign kept."""
    if not isinstance(value, str):
        return value
    if not re.fullmatch(r"-?[0-9]+(\.[0-9]*)?", value) or abs(Decimal(value)) > 1_000_000_000:
        return "1"
    whole_part = value.split(".")[0]
    return whole_part if whole_part not in ("", "-", "-0") else "0"


def fit_rate(value):
    """A positive rate of at most 1e9 with at most 10 decimals, or 1.25."""
    try:
        d = Decimal(value) if isinstance(value, str) and re.fullmatch(r"[0-9]+(\.[0-9]+)?", value) else None
    except Exception:
        d = None
    if d is None or d <= 0 or d > Decimal(1_000_000_000) or -d.as_tuple().exponent > 10:
        return "1.25"
    return value


def fit_plan(body: dict) -> None:
    """A commission plan within the rules "plan rules" and "plan bounds" name."""
    if isinstance(body.get("rules"), list):
        body["rules"] = fit_rules(body["rules"])[:20]
    if isinstance(body.get("holdDays"), int):
        body["holdDays"] = min(max(body["holdDays"], 0), 365)
    window = body.get("attributionWindow")
    if isinstance(window, dict) and isinstance(window.get("maxDays"), int):
        window["maxDays"] = min(max(window["maxDays"], 1), 30)
    caps = body.get("caps")
    if isinstance(caps, dict) and isinstance(caps.get("conversionsPerDay"), int):
        caps["conversionsPerDay"] = max(caps["conversionsPerDay"], 1)
    if isinstance(caps, dict) and caps.get("amountPerMonth") is not None:
        cap = whole(caps["amountPerMonth"]).lstrip("-")
        caps["amountPerMonth"] = cap if cap not in ("", "0") else "1"


def fit_rules(rules):
    """Each rule within `CommissionRule`'s rules; one per target."""
    out, seen = [], set()
    for rule in rules:
        if not isinstance(rule, dict):
            continue
        if isinstance(rule.get("eventType"), str) and rule["eventType"]:
            rule["eventType"] = rule["eventType"][:16]
            rule.pop("qualifiedClick", None)
            target = ("event", rule["eventType"])
        else:
            rule.pop("eventType", None)
            rule["qualifiedClick"] = True
            rule.pop("percent", None)
            target = ("click",)
        if target in seen:
            continue
        seen.add(target)
        if rule.get("flat") is not None:
            rule["flat"] = whole(rule["flat"]).lstrip("-")
        if rule.get("percent") is not None:
            p = rule["percent"]
            ok = isinstance(p, str) and re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,4})?", p) and Decimal(p) <= 100
            rule["percent"] = p if ok else "10"
        if rule.get("flat") is None and rule.get("percent") is None:
            rule["flat"] = "1"
        out.append(rule)
    return out


def ensure_partner(case, partner_id) -> None:
    """Creates the partner a positive case names (409 if it exists: fine)."""
    if not isinstance(partner_id, str):
        return
    handle = case.path_parameters.get("handle")
    requests.post(
        f"{BASE}/v2/handles/{handle}/partners",
        json={"partnerId": partner_id, "name": "fuzz"},
        headers={"authorization": f"Bearer {JWT}"},
        timeout=10,
    )


def ensure_partner_campaign(case) -> str:
    """The path's partner and a campaign of its own (409s when they exist: fine); its id."""
    handle = case.path_parameters.get("handle")
    partner = case.path_parameters.get("partnerId")
    ensure_partner(case, partner)
    name = "c" + hashlib.sha256(str(partner).encode()).hexdigest()[:12]
    requests.post(
        f"{BASE}/v2/handles/{handle}/campaigns",
        json={"campaignId": name, "goalType": "PURCHASE", "partnerId": partner,
              "primaryLink": {"slug": name, "destinationUrl": "https://shop.example.com/p"}},
        headers={"authorization": f"Bearer {JWT}"},
        timeout=10,
    )
    return name


def integral(value):
    """`3.0` (or `"3.0"`) as `3`; anything else as it is."""
    if isinstance(value, str):
        return value.split(".")[0] if re.fullmatch(r"-?[0-9]+\.0*", value) else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def integral_floats(value):
    if isinstance(value, float):
        return integral(value)
    if isinstance(value, dict):
        return {k: integral_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [integral_floats(v) for v in value]
    return value


def within_doubles(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value if abs(value) < 1e308 else 0
    if isinstance(value, dict):
        return {k: within_doubles(v) for k, v in value.items()}
    if isinstance(value, list):
        return [within_doubles(v) for v in value]
    return value


def fit_cursor(query: dict) -> None:
    if "cursor" in query and query["cursor"] not in ISSUED_CURSORS:
        del query["cursor"]


def fit_report(query: dict) -> None:
    if query.get("orphans") == "true":
        for name in ("funnel", "groupBy", "campaignId"):
            query.pop(name, None)
    if query.get("funnel") == "true" and "groupBy" in query:
        del query["groupBy"]
    if query.get("funnel") == "false" and "groupBy" not in query:
        del query["funnel"]


def parse_day(raw) -> datetime.date | None:
    """A `DayOrTimestamp` as the server reads it: a day, or an RFC 3339 timestamp's UTC day."""
    if not isinstance(raw, str):
        return None
    raw = raw.strip()
    try:
        return datetime.date.fromisoformat(raw) if len(raw) == 10 else (
            datetime.datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
            .astimezone(datetime.timezone.utc)
            .date()
        )
    except ValueError:
        return None


def fit_day_range(query: dict) -> None:
    today = datetime.datetime.now(datetime.timezone.utc).date()
    to = parse_day(query["to"]) if "to" in query else today
    start = parse_day(query["from"]) if "from" in query else None
    if to is None or ("from" in query and start is None):
        return  # not a day: the schema's own format check (the server refuses it too)
    if start is None:
        if to.toordinal() < datetime.date.min.toordinal() + 29:
            query["to"] = today.isoformat()
        return
    if start > to or (to - start).days + 1 > MAX_RANGE_DAYS:
        query["from"] = to.isoformat()
    else:
        t_from, t_to = parse_time(query.get("from")), parse_time(query.get("to"))
        if t_from and t_to and t_from > t_to:
            query["from"] = query["to"]


def parse_time(raw) -> datetime.datetime | None:
    """An RFC 3339 timestamp (with its offset), or None."""
    if not isinstance(raw, str) or len(raw.strip()) <= 10:
        return None
    try:
        t = datetime.datetime.fromisoformat(raw.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo is not None else None


def fit_money(value, positive: bool = False):
    """A JSON number within 6 decimal places and 15 significant digits (strings are exact already)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    d = min(Decimal(repr(value)), MONEY_MAX)
    d = d.quantize(Decimal("0.000001"), rounding=ROUND_DOWN)
    while d != d.to_integral_value() and len(d.normalize().as_tuple().digits) > 15:
        d = d.quantize(Decimal(1).scaleb(d.as_tuple().exponent + 1), rounding=ROUND_DOWN)
    if positive and d <= 0:
        d = Decimal("0.01")
    return int(d) if d == d.to_integral_value() else float(d)


def fit_reversal(case, amount):
    """At most the conversion's value, and none for a conversion without one."""
    if amount is None:
        return None
    handle = case.path_parameters.get("handle")
    conversion = case.path_parameters.get("conversionId")
    resp = requests.get(
        f"{BASE}/v2/handles/{handle}/conversions/{conversion}",
        headers={"authorization": f"Bearer {JWT}"},
        timeout=10,
    )
    if resp.status_code != 200:
        return amount  # 404: nothing to reverse, whatever the amount
    value = resp.json().get("value")
    if value is None:
        return None
    return amount if Decimal(str(amount)) <= Decimal(str(value)) else value


_CURRENCIES: set[str] = set()


def currencies() -> set[str]:
    """The `Currency` enum of openapi.yaml."""
    if not _CURRENCIES:
        import yaml

        spec_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "openapi.yaml")
        with open(spec_path) as f:
            spec = yaml.safe_load(f)
        _CURRENCIES.update(spec["components"]["schemas"]["Currency"]["enum"])
    return _CURRENCIES


def unique_priorities(rules, key) -> None:
    """Renumbers repeated priorities (within the same `key`) to unused ones."""
    if not isinstance(rules, list):
        return
    taken = {(key(r), r.get("priority")) for r in rules if isinstance(r, dict)}
    seen = set()
    for rule in rules:
        if not isinstance(rule, dict) or not isinstance(rule.get("priority"), int):
            continue
        slot = (key(rule), rule["priority"])
        if slot in seen:
            # Step away from the i64 bound nearest to the value, so that the new one fits too.
            p, step = rule["priority"], (-1 if rule["priority"] > 0 else 1)
            while (key(rule), p) in taken:
                p += step
            rule["priority"] = p
            taken.add((key(rule), p))
            slot = (key(rule), p)
        seen.add(slot)


def fit_chain_rules(rules) -> None:
    if not isinstance(rules, list):
        return
    ids = set()
    for i, rule in enumerate(rules):
        if isinstance(rule, dict) and isinstance(rule.get("ruleId"), str):
            if rule["ruleId"] in ids:
                rule["ruleId"] = f"r{i}-{rule['ruleId']}"[:64]
            ids.add(rule["ruleId"])
    unique_priorities(rules, key=lambda rule: str(rule.get("trigger", "")).lower())


def fit_triggers(body: dict) -> None:
    triggers = body.get("triggers")
    if not isinstance(triggers, list):
        return
    seen, kept = set(), []
    for t in triggers:
        if isinstance(t, str) and t.lower() not in seen:
            seen.add(t.lower())
            kept.append(t)
    body["triggers"] = kept or triggers[:1]


def fit_past(raw: str) -> str:
    """An RFC 3339 timestamp between 1970 and now (the server's clock), else one in 2000."""
    try:
        t = datetime.datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return raw
    if t.tzinfo is not None and EPOCH <= t <= datetime.datetime.now(datetime.timezone.utc):
        return raw
    return "2000-01-01T00:00:00Z"


def public_endpoint(url: str) -> str:
    """The URL with a public host name instead of an address or a loopback name."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return url
    last_label = host.rstrip(".").rsplit(".", 1)[-1]
    looks_numeric = bool(re.fullmatch(r"(0x[0-9a-f]*|[0-9]+)", last_label, re.IGNORECASE))
    try:
        ipaddress.ip_address(host)
        is_address = True
    except ValueError:
        is_address = False
    loopback_name = host == "localhost" or host.endswith(".localhost")
    if not (is_address or looks_numeric or loopback_name):
        return url
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme, f"fuzz.example.com{port}", parts.path, parts.query, parts.fragment))


def fit_wave5(method: str, path: str, body: dict) -> None:
    """Rules across fields that a schema cannot say: a denial has no amount; a claim names its
    sale by exactly one id; a group's partners must exist (none here)."""
    decide = path == "/v2/handles/{handle}/claims/{claimId}/decide"
    # An amount and its currency go together (one without the other is 400 naming it).
    if decide and (body.get("decision") == "deny" or "currency" not in body
                   or "amount" not in body):
        body.pop("amount", None)
        body.pop("currency", None)
    elif decide:
        # A whole amount is one every currency takes (JPY has no minor unit, BHD three),
        # within what one claim may be worth (the schema's pattern says digits, not places).
        whole = str(body["amount"]).split(".")[0].lstrip("0") or "0"
        body["amount"] = str(min(int(whole), 10_000))
    # Only an approval moves or keeps the buyer's binding (with a denial: 400 naming binding).
    if decide and body.get("decision") == "deny":
        body.pop("binding", None)
    if path == "/v2/handles/{handle}/conversions/{conversionId}/reassign":
        body.pop("campaignId", None)
    # Text the schema states in words (no control characters, not blank); no group here.
    if method == "POST" and path.endswith("/messages"):
        body["body"] = "A message to the program."
    if method == "POST" and path == "/v2/handles/{handle}/broadcasts":
        body.update(subject="News", body="A word to every partner.")
        body.pop("groupId", None)
    if method == "POST" and path == "/v2/handles/{handle}/partners/{partnerId}/claims":
        for name in ("conversionId", "customerId"):
            body.pop(name, None)
        # A fresh order each time (a second open claim on one sale is refused, naming it), a
        # sale in the past, no evidence (a ctx or receipt the fuzzer makes never verifies).
        body["orderId"] = "order-" + uuid.uuid4().hex[:12]
        body["occurredAt"] = (datetime.datetime.now(datetime.timezone.utc)
                              - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        body.pop("evidence", None)
        # What the partner says the sale was: an amount above 0 with the program's currency,
        # both or neither (the program's currency is stored state: its template's plan).
        body.pop("amount", None)
        body.pop("currency", None)
    if method == "PUT" and path == "/v2/handles/{handle}/partner-groups/{groupId}":
        body["partnerIds"] = []
    # Coupon policies (issue 63): a percent goes with "reduce", and only with it (openapi.yaml's
    # couponReducePercent: "with couponWithoutClick reduce only (and then required)").
    coupon = path in ("/v2/handles/{handle}/program",
                      "/v2/handles/{handle}/campaigns/{campaignId}/commission-plan/backtest")
    if coupon and method in ("PUT", "POST"):
        if body.get("couponWithoutClick") == "reduce":
            if body.get("couponReducePercent") is None:
                body["couponReducePercent"] = 25
        else:
            body.pop("couponReducePercent", None)


def fit_portal(case, method: str, path: str, body: dict) -> None:
    """The partner portal's rules a schema cannot say (issue 61, docs/api.md): allowed
    destinations are prefixes a browser cannot misread (`ProgramRequest.allowedDestinations`);
    a partner's own link needs the program to allow its destination, a campaign of the
    partner's, and a slug not taken (`createPartnerLink`); a tax profile asks for each form's own
    fields, its ids with their check digits (`putTaxProfile`)."""
    if method == "PUT" and path == "/v2/handles/{handle}/program" and body.get("allowedDestinations"):
        body["allowedDestinations"] = ["https://shop.example/"]
    if method == "POST" and path == "/v2/handles/{handle}/partners/{partnerId}/links":
        # The link's slug is `{partnerId}-{slug}`, at most 64 characters.
        partner = case.path_parameters.get("partnerId")
        if isinstance(partner, str) and len(partner) > 40:
            case.path_parameters["partnerId"] = partner[:40]
        ensure_partner_campaign(case)
        handle = case.path_parameters.get("handle")
        requests.put(
            f"{BASE}/v2/handles/{handle}/program",
            json={"name": "Fuzz partners", "allowedDestinations": ["https://shop.example/"]},
            headers={"authorization": f"Bearer {JWT}"},
            timeout=10,
        )
        body["slug"] = "l" + uuid.uuid4().hex[:10]
        body["destinationUrl"] = "https://shop.example/p"
    if method == "PUT" and path == "/v2/handles/{handle}/partners/{partnerId}/tax-profile":
        ensure_partner(case, case.path_parameters.get("partnerId"))
        body.clear()
        body.update(form="w8ben", legalName="Fuzz Ltd", country="GB")


def fit_import(case) -> None:
    """A file its source reads: a one-row CSV of 10x's columns, or an empty Dub list."""
    query = case.query if isinstance(case.query, dict) else {}
    if (case.media_type or "").startswith("text/csv"):
        query["source"] = "csv"
        case.body = "slug,destination_url\nfuzz,https://shop.example/f\n"
    else:
        query["source"] = "dub"
        case.body = []
    case.query = query

