//! Fraud a bot list cannot see (issue 83): one payout account or tax id behind two partners of
//! a handle (compared by keyed digests, never in the clear), a partner at a throwaway-mail
//! domain, refunds on lines already paid out above the program's share; each named in words on
//! the manager's `GET …/partners/{partnerId}/risk`, with the other partner by its name.

use reqwest::Method;
use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::helpers::*;
use crate::scenario::{Line, as_partner, human_ctx, seed_ledger};

/// The risk tests' program ([`crate::risk::program`]), both partners named: `pub-one` (Jo's
/// Deals) on `/deal`, `pub-two` (Deal Hunters) on `/offer`.
async fn program(app: &TestApp) {
    crate::risk::program(app).await;
    let op = app.as_role("acme", Role::Operator);
    for (id, name) in [("pub-one", "Jo's Deals"), ("pub-two", "Deal Hunters")] {
        let path = format!("/partners/{id}");
        let patched = op
            .send_json(Method::PATCH, &path, &json!({"name": name}))
            .await;
        json_of(patched, 200).await;
    }
}

fn signal<'a>(risk: &'a Value, code: &str) -> &'a Value {
    crate::helpers::find_by(&risk["signals"], "code", code)
}

async fn risk_of(app: &TestApp, partner: &str) -> Value {
    let viewer = app.as_role("acme", Role::Viewer);
    json_of(viewer.partner_risk(partner).await, 200).await
}

/// The partner's risk once `ready` holds (lines reach the ledger through the events worker).
async fn risk_when(app: &TestApp, partner: &str, ready: impl Fn(&Value) -> bool) -> Value {
    eventually_or(&format!("{partner}'s risk to get there"), || async {
        let risk = risk_of(app, partner).await;
        if ready(&risk) {
            Ok(risk)
        } else {
            Err(risk.to_string())
        }
    })
    .await
}

#[tokio::test]
async fn one_payout_account_behind_two_partners_names_the_other_and_a_change_ends_it() {
    let app = spawn_app().await;
    program(&app).await;
    let one = as_partner(&app, "acme", "pub-one").await;
    let two = as_partner(&app, "acme", "pub-two").await;
    let paypal = |e: &str| json!({"type": "paypal", "email": e});
    json_of(
        one.put_payout_method("pub-one", &paypal("jo@example.com"))
            .await,
        201,
    )
    .await;
    // Nothing shared yet: the signal is answered, not fired.
    let alone = risk_of(&app, "pub-one").await;
    let s = signal(&alone, "shared_payout_account");
    assert_eq!(
        (&s["fired"], &s["count"]),
        (&json!(false), &json!(0)),
        "{alone:#}"
    );
    // The same PayPal account, written another way, behind the second partner.
    json_of(
        two.put_payout_method("pub-two", &paypal("Jo+2@Example.com"))
            .await,
        201,
    )
    .await;
    let risk = risk_of(&app, "pub-one").await;
    let s = signal(&risk, "shared_payout_account");
    assert_eq!(
        (&s["fired"], &s["weight"]),
        (&json!(true), &json!(50)),
        "{risk:#}"
    );
    assert_eq!(
        s["examples"],
        json!(["Deal Hunters is paid into the same PayPal account"])
    );
    assert_eq!(risk["score"], 50);
    let back = risk_of(&app, "pub-two").await;
    assert_eq!(
        signal(&back, "shared_payout_account")["examples"],
        json!(["Jo's Deals is paid into the same PayPal account"])
    );
    // Kept as keyed digests: the address is in no stored item but the sealed record.
    let items = app.store.query(tenx_shared::platform::store::Query::all(
        tenx_shared::platform::store::keys::payout_digests_pk(
            &tenx_shared::domain::Handle::parse("acme").unwrap(),
        ),
    ));
    let items = items.await.unwrap().items;
    assert_eq!(items.len(), 2);
    let raw = serde_json::to_string(&items.iter().map(|i| (&i.sk, &i.doc)).collect::<Vec<_>>());
    assert!(!raw.unwrap().to_lowercase().contains("jo@example"));
    // The second partner changes to its own account: the first is alone again.
    let own = json!({"type": "sepa", "accountName": "Deal Hunters",
        "iban": crate::payout_batches::DE_IBAN});
    json_of(two.put_payout_method("pub-two", &own).await, 200).await;
    let risk = risk_of(&app, "pub-one").await;
    assert_eq!(
        signal(&risk, "shared_payout_account")["fired"],
        false,
        "{risk:#}"
    );
    assert_eq!(risk["score"], 0);
}

#[tokio::test]
async fn one_tax_id_behind_two_partners_is_signalled_and_another_is_not() {
    let app = spawn_app().await;
    program(&app).await;
    let one = as_partner(&app, "acme", "pub-one").await;
    let two = as_partner(&app, "acme", "pub-two").await;
    let w9 = |tin: &str| {
        json!({"form": "w9", "legalName": "Jane Doe", "country": "US",
        "taxId": tin})
    };
    let put = |who: &'static str| format!("/partners/{who}/tax-profile");
    json_of(
        one.send_json(Method::PUT, &put("pub-one"), &w9("123-45-6789"))
            .await,
        200,
    )
    .await;
    json_of(
        two.send_json(Method::PUT, &put("pub-two"), &w9("234-56-7890"))
            .await,
        200,
    )
    .await;
    let risk = risk_of(&app, "pub-one").await;
    assert_eq!(signal(&risk, "shared_tax_id")["fired"], false, "{risk:#}");
    // The same SSN, typed without dashes.
    json_of(
        two.send_json(Method::PUT, &put("pub-two"), &w9("123456789"))
            .await,
        200,
    )
    .await;
    let risk = risk_of(&app, "pub-one").await;
    let s = signal(&risk, "shared_tax_id");
    assert_eq!(
        (&s["fired"], &s["count"]),
        (&json!(true), &json!(1)),
        "{risk:#}"
    );
    assert_eq!(s["examples"], json!(["Deal Hunters gave the same tax id"]));
    assert!(!risk.to_string().contains("6789"), "{risk:#}");
}

#[tokio::test]
async fn a_partner_at_a_throwaway_mail_domain_is_signalled_and_one_at_a_mailbox_provider_is_not() {
    let app = spawn_app().await;
    program(&app).await;
    let op = app.as_role("acme", Role::Operator);
    for (id, email) in [
        ("pub-one", "jo@mailinator.com"),
        ("pub-two", "deals@gmail.com"),
    ] {
        let body = json!({"email": email});
        json_of(
            op.send_json(Method::PATCH, &format!("/partners/{id}"), &body)
                .await,
            200,
        )
        .await;
    }
    let risk = risk_of(&app, "pub-one").await;
    let s = signal(&risk, "disposable_email");
    assert_eq!(
        (&s["fired"], &s["weight"]),
        (&json!(true), &json!(20)),
        "{risk:#}"
    );
    let example = s["examples"][0].as_str().unwrap();
    assert!(example.starts_with("The partner's address j"), "{example}");
    assert!(
        example.ends_with("is at mailinator.com, a throwaway-mail domain"),
        "{example}"
    );
    assert!(!example.contains("jo@"), "the address is masked: {example}");
    let clean = risk_of(&app, "pub-two").await;
    assert_eq!(
        signal(&clean, "disposable_email")["fired"],
        false,
        "{clean:#}"
    );
}

/// A click on `slug` converted at once by the merchant: a conversion id.
async fn sale(app: &TestApp, slug: &str, key: &str) -> String {
    let ctx = human_ctx(app, "acme", &format!("/{slug}")).await;
    let body = json!({"ctx": ctx, "idempotencyKey": key, "eventType": "purchase",
        "value": "50.00", "currency": "EUR"});
    let op = app.as_role("acme", Role::Operator);
    json_of(op.convert_verified(&body).await, 202).await["conversionId"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn refunds_after_payout_fire_above_the_programs_share_and_refunds_before_do_not() {
    let app = spawn_app().await;
    program(&app).await;
    let mut sales = Vec::new();
    for i in 0..2 {
        sales.push(sale(&app, "deal", &format!("o-{i}")).await);
    }
    let early = sale(&app, "offer", "t-0").await;
    sale(&app, "offer", "t-1").await;
    crate::commissions::ledger(&app, 4).await;
    let op = app.as_role("acme", Role::Operator);
    // pub-two's refund comes before any payout: an adjustment, not this signal.
    json_of(op.reverse(&early, &json!({"reason": "refund"})).await, 201).await;
    crate::commissions::ledger(&app, 5).await;
    let period = json!({"periodEnd": tenx_shared::platform::time::now_rfc3339()});
    let run = json_of(op.run_payouts("run-1", &period).await, 201).await;
    assert_eq!(run["payouts"].as_array().unwrap().len(), 2, "{run}");
    json_of(
        op.reverse(&sales[0], &json!({"reason": "chargeback"}))
            .await,
        201,
    )
    .await;
    let risk = risk_when(&app, "pub-one", |r| {
        signal(r, "refunds_after_payout")["count"] == 1
    })
    .await;
    let s = signal(&risk, "refunds_after_payout");
    assert_eq!(
        (&s["fired"], &s["weight"]),
        (&json!(true), &json!(40)),
        "{risk:#}"
    );
    assert_eq!(
        s["examples"],
        json!([format!("{} was refunded after it was paid", sales[0])])
    );
    assert!(
        s["detail"]
            .as_str()
            .unwrap()
            .starts_with("1 of 2 paid conversions"),
        "{s}"
    );
    let two = risk_of(&app, "pub-two").await;
    let quiet = signal(&two, "refunds_after_payout");
    assert_eq!(
        (&quiet["fired"], &quiet["count"]),
        (&json!(false), &json!(0)),
        "{two:#}"
    );
    // A program that tolerates half its paid lines refunded: 1 of 2 is not above it.
    edit_program(&app, |p| {
        p["refundAfterPayoutThreshold"] = json!(50);
    })
    .await;
    let risk = risk_of(&app, "pub-one").await;
    assert_eq!(
        signal(&risk, "refunds_after_payout")["fired"],
        false,
        "{risk:#}"
    );
}

#[tokio::test]
async fn program_fraud_settings_are_validated_naming_the_field() {
    let app = spawn_app().await;
    program(&app).await;
    let admin = app.as_role("acme", Role::Admin);
    let mut program = edit_program(&app, |_| {}).await;
    for k in ["version", "updatedAt", "updatedBy"] {
        program.as_object_mut().unwrap().remove(k);
    }
    for (field, value) in [
        ("fraudRules", json!({"bogus": "flag"})),
        ("fraudRules", json!({"shared_tax_id": "hold"})),
        ("fraudRules", json!("hold_payouts")),
        ("refundAfterPayoutThreshold", json!(101)),
        ("minCustomersBeforePayout", json!(0)),
    ] {
        let mut body = program.clone();
        body[field] = value.clone();
        let message = assert_error(admin.put_program(&body).await, 400, "invalid_request").await;
        assert!(message.contains(field), "{field} {value}: {message}");
    }
    program["fraudRules"] = json!({"shared_tax_id": "hold_payouts", "disposable_email": "flag"});
    program["minCustomersBeforePayout"] = json!(3);
    let saved = json_of(admin.put_program(&program).await, 200).await;
    assert_eq!(
        saved["fraudRules"]["shared_tax_id"], "hold_payouts",
        "{saved:#}"
    );
    assert_eq!(saved["minCustomersBeforePayout"], 3);
}

/// The program as stored (a named one when there is none yet), changed by `edit`, put back (a
/// `PUT` replaces the whole program; an admin's): as saved.
async fn edit_program(app: &TestApp, edit: impl FnOnce(&mut Value)) -> Value {
    let admin = app.as_role("acme", Role::Admin);
    let got = admin.get_program().await;
    let mut program = match got.status().as_u16() {
        404 => json!({"name": "Acme partners"}),
        _ => json_of(got, 200).await,
    };
    for k in ["version", "updatedAt", "updatedBy"] {
        program.as_object_mut().unwrap().remove(k);
    }
    edit(&mut program);
    let put = admin.put_program(&program).await;
    let status = put.status().as_u16();
    assert!(status == 200 || status == 201, "{status}");
    put.json().await.unwrap()
}

async fn set_email(app: &TestApp, partner: &str, email: &str) {
    let op = app.as_role("acme", Role::Operator);
    let body = json!({"email": email});
    let path = format!("/partners/{partner}");
    json_of(op.send_json(Method::PATCH, &path, &body).await, 200).await;
}

#[tokio::test]
async fn a_click_from_an_ad_is_paid_traffic_unless_the_program_allows_it() {
    let app = spawn_app().await;
    program(&app).await;
    let phone = ("user-agent", crate::scenario::IPHONE);
    // Organic: Facebook's click id rides on every outbound link, posts included.
    for path in ["/offer?fbclid=IwAR0x", "/offer"] {
        assert_eq!(
            app.visit(Method::GET, "acme", path, &[phone])
                .await
                .status(),
            302
        );
    }
    // A link preview carrying an ad's id is a bot's fetch, not a person from an ad.
    let slack = (
        "user-agent",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    );
    app.visit(Method::GET, "acme", "/deal?gclid=bot", &[slack])
        .await;
    let ad = app
        .visit(Method::GET, "acme", "/deal?sub1=x&GCLID=EAIaIQ", &[phone])
        .await;
    assert_eq!(ad.status(), 302);
    let referred = (
        "referer",
        "https://googleads.g.doubleclick.net/pagead/aclk?sa=L",
    );
    let by_ad_server = app
        .visit(Method::GET, "acme", "/deal", &[phone, referred])
        .await;
    assert_eq!(by_ad_server.status(), 302);
    let risk = risk_when(&app, "pub-one", |r| signal(r, "paid_traffic")["count"] == 2).await;
    let s = signal(&risk, "paid_traffic");
    assert_eq!(
        (&s["fired"], &s["weight"]),
        (&json!(true), &json!(30)),
        "{risk:#}"
    );
    let examples = s["examples"].to_string();
    assert!(
        examples.contains("on /deal came with a Google Ads click id (gclid)"),
        "{examples}"
    );
    assert!(
        examples.contains("the ad server doubleclick.net (Google Ads)"),
        "{examples}"
    );
    assert!(
        !examples.contains("EAIaIQ"),
        "the ad's click id value is not kept: {examples}"
    );
    // Assessed again from what is stored: the same signals.
    let again = risk_of(&app, "pub-one").await;
    assert_eq!(again["signals"], risk["signals"]);
    let organic = risk_of(&app, "pub-two").await;
    assert_eq!(signal(&organic, "paid_traffic")["count"], 0, "{organic:#}");
    // A program that lets its partners buy ads: counted, never fired.
    edit_program(&app, |p| {
        p["allowPaidTraffic"] = json!(true);
    })
    .await;
    let risk = risk_of(&app, "pub-one").await;
    let s = signal(&risk, "paid_traffic");
    assert_eq!(
        (&s["fired"], &s["count"]),
        (&json!(false), &json!(2)),
        "{risk:#}"
    );
    assert!(
        s["detail"]
            .as_str()
            .unwrap()
            .contains("allows paid traffic")
    );
}

#[tokio::test]
async fn a_sale_from_where_the_partners_people_sign_in_is_signalled() {
    let app = spawn_app().await;
    program(&app).await;
    set_email(&app, "pub-one", "jo@pub-one.example").await;
    // Jo signs in to the partner portal (from this test's one address).
    let link =
        crate::partner_users::invite_by_operator(&app, "pub-one", "jo@pub-one.example").await;
    crate::partner_users::Browser::from_link(&app, &link).await;
    let quiet = risk_of(&app, "pub-one").await;
    assert_eq!(
        signal(&quiet, "customer_matches_partner")["fired"],
        false,
        "{quiet:#}"
    );
    // A sale through pub-one's link from that address; pub-two's people never signed in.
    let own = sale(&app, "deal", "o-1").await;
    sale(&app, "offer", "t-1").await;
    let risk = risk_when(&app, "pub-one", |r| r["conversionsConsidered"] == 1).await;
    let s = signal(&risk, "customer_matches_partner");
    assert_eq!(
        (&s["fired"], &s["weight"]),
        (&json!(true), &json!(40)),
        "{risk:#}"
    );
    assert_eq!(
        s["examples"],
        json!([format!(
            "The sale {own} came from the address j***@pub-one.example signs in from"
        )])
    );
    let two = risk_when(&app, "pub-two", |r| r["conversionsConsidered"] == 1).await;
    assert_eq!(
        signal(&two, "customer_matches_partner")["fired"],
        false,
        "{two:#}"
    );
}

/// Jo's laptop browser.
const JO_BROWSER: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15";

/// A click on `/{slug}` with `headers` (a browser, an address), then a sale on its ctx; returns
/// the click's answer (its cookie) and the sale's id.
async fn sale_from(
    app: &TestApp,
    slug: &str,
    key: &str,
    headers: &[(&str, &str)],
) -> (reqwest::Response, String) {
    let click = app
        .visit(Method::GET, "acme", &format!("/{slug}"), headers)
        .await;
    assert_eq!(click.status(), 302, "{slug}");
    let ctx = query_param(header_str(click.headers(), "location"), "ctx").expect("a human's ctx");
    let body = json!({"ctx": ctx, "idempotencyKey": key, "eventType": "purchase",
        "value": "50.00", "currency": "EUR"});
    let op = app.as_role("acme", Role::Operator);
    let sale = json_of(op.convert_verified(&body).await, 202).await["conversionId"]
        .as_str()
        .unwrap()
        .to_owned();
    (click, sale)
}

#[tokio::test]
async fn a_sale_from_a_browser_the_partners_people_sign_in_from_is_signalled_from_any_address() {
    // Jo's laptop got its visitor cookie at home and signs in from there.
    sale_from_jos_browser("198.51.100.7", false).await;
}

#[tokio::test]
async fn a_sign_in_that_brings_the_visitor_cookie_is_known_by_it() {
    // The cookie came from a café; the sign-in at home brings it (the same host), so the laptop
    // is known by it and not by its home address.
    sale_from_jos_browser("192.0.2.80", true).await;
}

/// Jo's laptop opens a short link from `first_from` (keeping the visitor cookie it is given),
/// signs in from home (with the cookie when `cookie_at_sign_in`), then buys through Jo's link
/// from another address; a stranger's phone, elsewhere, buys through it too. Only Jo's sale is
/// `customer_matches_partner`'s, by its browser.
async fn sale_from_jos_browser(first_from: &str, cookie_at_sign_in: bool) {
    let mut config = test_config();
    config.trusted_proxy = true;
    let app = spawn_with(config, None).await;
    program(&app).await;
    set_email(&app, "pub-one", "jo@pub-one.example").await;
    let first = [("user-agent", JO_BROWSER), ("x-forwarded-for", first_from)];
    let first = app.visit(Method::GET, "acme", "/deal", &first).await;
    assert_eq!(first.status(), 302);
    let cookie = header_str(first.headers(), "set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("tenx_vid="), "{cookie}");
    let link =
        crate::partner_users::invite_by_operator(&app, "pub-one", "jo@pub-one.example").await;
    let mut sign_in = app
        .client
        .post(app.url("/v2/auth/email-link/verify"))
        .header("user-agent", JO_BROWSER)
        .header("x-forwarded-for", "198.51.100.7");
    if cookie_at_sign_in {
        sign_in = sign_in.header("cookie", &cookie);
    }
    let token = crate::people::token_of(&link);
    let signed = sign_in.form(&[("token", token)]).send().await.unwrap();
    assert_eq!(signed.status(), 303);
    let road = [
        ("user-agent", JO_BROWSER),
        ("x-forwarded-for", "203.0.113.9"),
        ("cookie", cookie.as_str()),
    ];
    let (_, own) = sale_from(&app, "deal", "o-1", &road).await;
    let stranger = [
        ("user-agent", crate::scenario::IPHONE),
        ("x-forwarded-for", "192.0.2.44"),
    ];
    let (_, other) = sale_from(&app, "deal", "o-2", &stranger).await;
    let risk = risk_when(&app, "pub-one", |r| r["conversionsConsidered"] == 2).await;
    let s = signal(&risk, "customer_matches_partner");
    assert_eq!(
        (&s["fired"], &s["count"]),
        (&json!(true), &json!(1)),
        "{risk:#}"
    );
    assert_eq!(
        s["examples"],
        json!([format!(
            "The sale {own} came from a browser j***@pub-one.example signs in from"
        )]),
        "the stranger's sale {other} is not Jo's"
    );
}

#[tokio::test]
async fn a_fraud_rule_holds_the_partners_new_commissions_naming_the_signal_but_not_to_it() {
    let app = spawn_app().await;
    program(&app).await;
    set_email(&app, "pub-one", "jo@mailinator.com").await;
    let saved = edit_program(&app, |p| {
        p["fraudRules"] = json!({"disposable_email": "hold_commissions"});
    })
    .await;
    assert_eq!(
        saved["fraudRules"],
        json!({"disposable_email": "hold_commissions"})
    );
    let held = sale(&app, "deal", "o-1").await;
    let clean = sale(&app, "offer", "t-1").await;
    let lines = crate::commissions::ledger(&app, 2).await;
    let line = |id: &str| {
        lines
            .iter()
            .find(|l| l["conversionId"] == id)
            .unwrap()
            .clone()
    };
    let one = line(&held);
    assert_eq!(one["status"], "held", "{one:#}");
    let reasons = one["reasons"].as_array().unwrap();
    assert!(
        reasons.contains(&json!("partner_risk_disposable_email")),
        "{one:#}"
    );
    assert_eq!(
        reasons
            .iter()
            .filter(|r| r.to_string().contains("partner_risk"))
            .count(),
        1,
        "only the signal the rule names: {one:#}"
    );
    let two = line(&clean);
    assert!(
        !two["reasons"].to_string().contains("partner_risk"),
        "{two:#}"
    );
    // The partner reads its line held for a review, never why.
    let partner = as_partner(&app, "acme", "pub-one").await;
    let own = json_of(partner.get("/commissions").await, 200).await;
    let mine = &own["items"][0];
    assert_eq!(mine["status"], "held", "{own:#}");
    assert!(!mine["reasons"].to_string().contains("risk"), "{own:#}");
    // A flag rule never loosens the plan's hold above a score, and never holds alone.
    edit_program(&app, |p| {
        p["fraudRules"] = json!({"disposable_email": "flag"});
    })
    .await;
    let flagged = sale(&app, "deal", "o-2").await;
    let lines = crate::commissions::ledger(&app, 3).await;
    let l = lines.iter().find(|l| l["conversionId"] == flagged).unwrap();
    assert!(!l["reasons"].to_string().contains("partner_risk"), "{l:#}");
    crate::commissions::no_drift(&app).await;
}

/// An assessment the process dies in, before its one write (the partner's snapshot), leaves
/// nothing of itself: the sale's accrual then assesses the partner afresh from the same stored
/// facts and holds the line once for the signal the rule names, and after a restart on the same
/// data every signal, its evidence and the score read as before.
#[tokio::test]
async fn an_assessment_cut_by_a_crash_is_made_again_the_same_from_stored_facts() {
    use tenx_shared::domain::{Handle, PartnerId};
    use tenx_shared::risk::{RiskError, assess};
    let app = spawn_app().await;
    program(&app).await;
    set_email(&app, "pub-one", "jo@mailinator.com").await;
    edit_program(&app, |p| {
        p["fraudRules"] = json!({"disposable_email": "hold_commissions"});
    })
    .await;
    let (handle, partner) = (
        Handle::parse("acme").unwrap(),
        PartnerId::parse("pub-one").unwrap(),
    );
    let switch = tenx_shared::testing::FailSwitch::default();
    let store = tenx_shared::testing::failing_store(app.state().store.clone(), switch.clone());
    switch.fail_writes_next(1);
    let cut = assess(&store, &handle, &partner).await;
    assert!(matches!(cut, Err(RiskError::Store(_))), "{cut:?}");
    assert_eq!(
        switch.remaining_write_failures(),
        0,
        "the cut was its write"
    );
    let (pk, sk) = tenx_shared::platform::store::keys::partner_risk(&handle, &partner);
    assert!(
        app.state().store.get(&pk, &sk).await.unwrap().is_none(),
        "nothing of the cut assessment is kept"
    );
    drop(store);
    // The accrual finds no snapshot, assesses, and holds the line for the rule's signal, once.
    let held = sale(&app, "deal", "o-1").await;
    let lines = crate::commissions::ledger(&app, 1).await;
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_eq!(lines[0]["conversionId"], held.as_str());
    assert_eq!(lines[0]["status"], "held", "{lines:#?}");
    assert_eq!(
        lines[0]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r.as_str().is_some_and(|r| r.starts_with("partner_risk")))
            .collect::<Vec<_>>(),
        [&json!("partner_risk_disposable_email")],
    );
    let before = risk_when(&app, "pub-one", |r| r["conversionsConsidered"] == 1).await;
    assert_eq!(
        signal(&before, "disposable_email")["fired"],
        true,
        "{before:#}"
    );
    let (_tmp, dir, config) = app.stop().await;
    let app = spawn_with(config, Some(dir)).await;
    let after = risk_of(&app, "pub-one").await;
    assert_eq!(
        (
            &after["score"],
            &after["signals"],
            &after["conversionsConsidered"]
        ),
        (
            &before["score"],
            &before["signals"],
            &before["conversionsConsidered"]
        ),
    );
    crate::commissions::no_drift(&app).await;
}

/// `customers` (distinct ids) of `partner`'s approved conversion lines of 5.00 EUR.
async fn seed_sales(app: &TestApp, partner: &str, customers: &[&str]) {
    use tenx_shared::ledger::model::Kind;
    let lines = customers
        .iter()
        .map(|c| Line::of(partner, Kind::Conversion, 500).customer(c));
    seed_ledger(app, lines).await;
}

#[tokio::test]
async fn payouts_wait_on_a_fraud_rule_or_a_first_payout_below_the_customer_minimum_in_words() {
    use crate::payout_batches::{run, sepa};
    use crate::scenario::partners;
    let app = spawn_app().await;
    partners(&app, &["pub-one", "pub-two", "pub-three"]).await;
    let admin = app.as_role("acme", Role::Admin);
    let settings = json!({"debtorName": "ACME GmbH", "debtorIban": crate::payout_batches::DE_IBAN});
    json_of(admin.put_payout_settings(&settings).await, 200).await;
    let program = json!({"name": "Acme partners", "minCustomersBeforePayout": 2,
        "fraudRules": {"disposable_email": "hold_payouts"}});
    json_of(admin.put_program(&program).await, 201).await;
    let op = app.as_role("acme", Role::Operator);
    for (p, iban) in [
        ("pub-one", "DE89370400440532013000"),
        ("pub-two", "DE02120300000000202051"),
        ("pub-three", "DE02500105170137075030"),
    ] {
        json_of(op.put_payout_method(p, &sepa("Holder", iban)).await, 201).await;
    }
    set_email(&app, "pub-one", "jo@mailinator.com").await;
    seed_sales(&app, "pub-one", &["cus_a", "cus_b"]).await;
    // pub-two: one customer twice is one customer; pub-three: two customers.
    seed_sales(&app, "pub-two", &["cus_c", "cus_c"]).await;
    seed_sales(&app, "pub-three", &["cus_d", "cus_e"]).await;
    let payouts = run(&app, "run-1").await;
    let id = |p: &str| payouts[&(p.to_owned(), "EUR".to_owned())].clone();
    let batch = json_of(
        op.create_batch("b-1", &json!({"method": "sepa"})).await,
        201,
    )
    .await;
    assert_eq!(
        crate::payout_batches::ids(&batch),
        [id("pub-three")],
        "{batch:#}"
    );
    let excluded = batch["excluded"].as_array().unwrap();
    let why = |p: &str| {
        excluded
            .iter()
            .find(|e| e["partnerId"] == p)
            .unwrap()
            .clone()
    };
    assert_eq!(
        why("pub-one"),
        json!({"payoutId": id("pub-one"), "partnerId": "pub-one", "reason": "payout_fraud_hold",
            "words": "Held for a fraud review: An address of the partner is at a throwaway-mail domain."})
    );
    assert_eq!(
        why("pub-two"),
        json!({"payoutId": id("pub-two"), "partnerId": "pub-two", "reason": "payout_min_customers",
            "words": "The partner's first payout waits until they have brought 2 paying customers; 1 so far."})
    );
    // The partner reads its payout as it is, with nothing about why it waits.
    let one = as_partner(&app, "acme", "pub-one").await;
    let seen = one
        .get(&format!("/payouts/{}", id("pub-one")))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !seen.contains("fraud") && !seen.contains("throwaway"),
        "{seen}"
    );

    // A manager looks, finds it fine, and dismisses the signal: the next batch pays.
    let path = "/partners/pub-one/risk/signals/disposable_email/dismiss";
    let body = json!({"reason": "A real person: we spoke on the phone."});
    let risk = json_of(op.send_json(Method::POST, path, &body).await, 200).await;
    let s = signal(&risk, "disposable_email");
    assert_eq!(s["fired"], false, "{risk:#}");
    assert_eq!(
        s["dismissed"]["reason"],
        "A real person: we spoke on the phone."
    );
    let next = json_of(
        op.create_batch("b-2", &json!({"method": "sepa"})).await,
        201,
    )
    .await;
    assert_eq!(
        crate::payout_batches::ids(&next),
        [id("pub-one")],
        "{next:#}"
    );
    // A first payout made by hand ends the minimum's wait for the partner's later payouts.
    let paid = json!({"reference": "by hand"});
    json_of(
        op.settle_payout(&id("pub-two"), "mark-paid", &paid).await,
        200,
    )
    .await;
    seed_sales(&app, "pub-two", &["cus_c"]).await;
    let later = run(&app, "run-2").await;
    let again = json_of(
        op.create_batch("b-3", &json!({"method": "sepa"})).await,
        201,
    )
    .await;
    let two = later[&("pub-two".to_owned(), "EUR".to_owned())].clone();
    assert_eq!(crate::payout_batches::ids(&again), [two], "{again:#}");
}

#[tokio::test]
async fn a_dismissed_signal_stays_quiet_on_its_evidence_and_fires_on_new_evidence() {
    let app = spawn_app().await;
    program(&app).await;
    set_email(&app, "pub-one", "jo@mailinator.com").await;
    let op = app.as_role("acme", Role::Operator);
    let path = |code: &str| format!("/partners/pub-one/risk/signals/{code}/dismiss");
    let why = json!({"reason": "Known to us"});
    // Nothing to dismiss on a quiet signal; a bad code or reason is named.
    let r = op
        .send_json(Method::POST, &path("shared_tax_id"), &why)
        .await;
    assert_error(r, 409, "invalid_state").await;
    let r = op.send_json(Method::POST, &path("bogus"), &why).await;
    let message = assert_error(r, 400, "invalid_request").await;
    assert!(message.contains("code"), "{message}");
    let r = op
        .send_json(
            Method::POST,
            &path("disposable_email"),
            &json!({"reason": " "}),
        )
        .await;
    let message = assert_error(r, 400, "invalid_request").await;
    assert!(message.contains("reason"), "{message}");
    // A viewer reads risk but does not dismiss it; a partner does neither.
    let viewer = app.as_role("acme", Role::Viewer);
    let r = viewer
        .send_json(Method::POST, &path("disposable_email"), &why)
        .await;
    assert_eq!(r.status(), 403);
    let partner = as_partner(&app, "acme", "pub-one").await;
    let r = partner
        .send_json(Method::POST, &path("disposable_email"), &why)
        .await;
    assert_eq!(r.status(), 403);
    let dismissed = json_of(
        op.send_json(Method::POST, &path("disposable_email"), &why)
            .await,
        200,
    );
    let dismissed = dismissed.await;
    assert_eq!(dismissed["score"], 0, "{dismissed:#}");
    // Dismissed twice: the same answer.
    let twice = json_of(
        op.send_json(Method::POST, &path("disposable_email"), &why)
            .await,
        200,
    );
    assert_eq!(
        signal(&twice.await, "disposable_email")["dismissed"]["reason"],
        "Known to us"
    );
    let audit = json_of(
        app.as_role("acme", Role::Admin)
            .get("/audit?action=risk_signal.dismissed")
            .await,
        200,
    )
    .await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit:#}");
    // The same evidence read again stays quiet; a new address at a throwaway domain fires.
    let same = risk_of(&app, "pub-one").await;
    assert_eq!(
        signal(&same, "disposable_email")["fired"],
        false,
        "{same:#}"
    );
    set_email(&app, "pub-one", "jo@yopmail.com").await;
    let again = risk_of(&app, "pub-one").await;
    let s = signal(&again, "disposable_email");
    assert_eq!(s["fired"], true, "{again:#}");
    assert!(s.get("dismissed").is_none(), "{s}");
    assert_eq!(again["score"], 20);
}

/// Whether `body` says anything about risk: a signal's code or a held line's reason
/// (`partner_risk_…`, `risk_…`), or the words risk, risky, fraud, throwaway, paid ads, signs in.
/// Compared word by word, so a signature or an id that happens to hold the letters is not one.
fn risk_words(body: &str) -> Vec<String> {
    let lower = body.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let mut found: Vec<String> = words
        .iter()
        .filter(|w| {
            tenx_shared::domain::fraud_rules::SIGNALS.contains(w)
                || w.starts_with("partner_risk")
                || w.starts_with("risk_")
                || ["risk", "risky", "fraud", "throwaway"].contains(w)
        })
        .map(|w| (*w).to_owned())
        .collect();
    for phrase in ["paid ads", "signs in from", "ad click id"] {
        if lower.contains(phrase) {
            found.push(phrase.to_owned());
        }
    }
    found
}

#[tokio::test]
async fn no_route_a_partner_reads_carries_its_risk() {
    let app = spawn_app().await;
    program(&app).await;
    set_email(&app, "pub-one", "jo@mailinator.com").await;
    edit_program(&app, |p| {
        p["fraudRules"] = json!({"disposable_email": "hold_commissions",
            "customer_matches_partner": "hold_commissions"});
    })
    .await;
    // Jo signs in to the portal; a customer with Jo's own address buys through Jo's link, from
    // where Jo signs in, after a click from an ad.
    let link = crate::partner_users::invite_by_operator(&app, "pub-one", "jo@mailinator.com").await;
    let (jo, _) = crate::partner_users::Browser::from_link(&app, &link).await;
    let phone = ("user-agent", crate::scenario::IPHONE);
    app.visit(Method::GET, "acme", "/deal?gclid=EAIaIQ", &[phone])
        .await;
    let ctx = human_ctx(&app, "acme", "/deal").await;
    let lead = json!({"ctx": ctx, "customerId": "cus_self", "email": "jo@mailinator.com"});
    json_of(app.lead(&lead).await, 202).await;
    let op = app.as_role("acme", Role::Operator);
    let body = json!({"customerId": "cus_self", "idempotencyKey": "o-1", "eventType": "purchase",
        "value": "50.00", "currency": "EUR"});
    let conversion = json_of(op.convert_verified(&body).await, 202).await;
    // And a sale of someone else, from where Jo signs in.
    sale(&app, "deal", "o-2").await;
    let lines = crate::commissions::ledger_at_least(&app, 2).await;
    let held = lines
        .iter()
        .find(|l| l["conversionId"] == conversion["conversionId"] && l["status"] == "held")
        .unwrap_or_else(|| panic!("no held line: {lines:#?}"));
    assert!(
        held["reasons"].to_string().contains("partner_risk_"),
        "{held:#}"
    );
    let commission = held["commissionId"].as_str().unwrap().to_owned();
    let risk = risk_when(&app, "pub-one", |r| {
        [
            "disposable_email",
            "customer_matches_partner",
            "paid_traffic",
            "self_referral",
        ]
        .iter()
        .all(|c| signal(r, c)["fired"] == true)
    })
    .await;
    assert!(risk["score"].as_u64().unwrap() >= 60, "{risk:#}");
    // A claim (its reasons about risk are the program's), and a payout.
    let token = as_partner(&app, "acme", "pub-one").await;
    let claim = json!({"orderId": "o-1", "occurredAt": tenx_shared::platform::time::now_rfc3339()});
    let claim = json_of(
        crate::claims::open_claim(&token, "pub-one", &claim).await,
        201,
    )
    .await;
    let claim_id = claim["claimId"].as_str().unwrap().to_owned();
    let png = crate::claims::PNG;
    let added = crate::claims::attach(&token, "pub-one", &claim_id, "image/png", png).await;
    let attachment = json_of(added, 201).await["attachmentId"]
        .as_str()
        .unwrap()
        .to_owned();
    crate::scenario::seed_amounts(&app, "pub-one", "EUR", &[700]).await;
    let payouts = crate::payout_batches::run(&app, "run-1").await;
    let payout = payouts[&("pub-one".to_owned(), "EUR".to_owned())].clone();
    let in_payout = json_of(
        op.get("/commissions?partnerId=pub-one&limit=100").await,
        200,
    )
    .await;
    let paid_line = in_payout["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["payoutId"] == payout.as_str())
        .map(|l| l["commissionId"].as_str().unwrap().to_owned())
        .expect("a line in the payout");

    let fill = |path: &str| {
        path.replace("{handle}", "acme")
            .replace("{partnerId}", "pub-one")
            .replace("{slug}", "deal")
            .replace("{campaignId}", "alpha")
            .replace("{commissionId}", &commission)
            .replace("{payoutId}", &payout)
            .replace("{customerId}", "cus_self")
            .replace("{claimId}", &claim_id)
            .replace("{attachmentId}", &attachment)
    };
    let mut read = 0;
    let mut leaks = Vec::new();
    let mut unread = Vec::new();
    for (method, path) in tenx_shared::http::auth::access::PARTNER_ROUTES {
        if *method != Method::GET {
            continue;
        }
        let mut path = fill(path);
        if path.ends_with("/proof") {
            path = format!("{path}?commissionId={paid_line}");
        }
        assert!(!path.contains('{'), "a route this test cannot fill: {path}");
        let rest = path.trim_start_matches("/v2/handles/acme");
        for (who, resp) in [
            ("token", token.get(rest).await),
            ("session", jo.get(&path).await),
        ] {
            let status = resp.status().as_u16();
            let body = resp.text().await.unwrap();
            // A route with nothing of this partner's to show (no tax profile, no A/B test, no
            // invoice of a payout not paid, no credit note of a payout not given back: `409` in
            // words) or that a token may not use answers
            // so; its answer is read all the same.
            let nothing_yet =
                status == 409 && (path.ends_with("/invoice") || path.ends_with("/credit-note"));
            assert!(
                [200, 403, 404].contains(&status) || nothing_yet,
                "{who} GET {path}: {status} {body}"
            );
            let found = risk_words(&body);
            if !found.is_empty() {
                leaks.push(format!("{who} GET {path}: {found:?}"));
            }
            match status {
                200 => read += 1,
                _ => unread.push(format!("{who} GET {path}: {status}")),
            }
        }
    }
    assert!(read >= 40, "{read} reads; not read: {unread:#?}");
    assert!(
        leaks.is_empty(),
        "risk reached the partner:\n{}",
        leaks.join("\n")
    );
    // Every mail Jo was sent: the sign-in, the day's digest of its commissions and the claim's
    // decision (the reason the manager typed), read whole.
    let why = json!({"decision": "deny", "reason": "The order was cancelled before it shipped."});
    json_of(crate::claims::decide(&op, &claim_id, &why).await, 200).await;
    let base = format!("http://{}", app.config.redirect_domain);
    let tomorrow = tenx_shared::platform::time::now()
        .date()
        .next_day()
        .unwrap();
    tenx_shared::mail::digest::sweep(app.state().io(), tomorrow, &base)
        .await
        .unwrap();
    let wanted = ["invitation", "commission_digest", "claim_decided"];
    let mails = partner_mails(&app, "jo@mailinator.com", &wanted).await;
    for m in &mails {
        let found = risk_words(&format!("{}\n{}\n{}", m.subject, m.text, m.html));
        assert!(
            found.is_empty(),
            "the {} mail carries {found:?}: {}",
            m.kind,
            m.text
        );
    }
    // The manager reads the same line's reasons, the claim's reasons about risk, and what 10x
    // found said of the partner in the third person.
    let line = json_of(op.get(&format!("/commissions/{commission}")).await, 200).await;
    assert!(
        line["reasons"].to_string().contains("partner_risk_"),
        "{line:#}"
    );
    let claim = json_of(op.get(&format!("/claims/{claim_id}")).await, 200).await;
    assert!(
        !claim["proposal"]["forManagers"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{claim:#}"
    );
    let to_the_partner = ["you", "your", "yours"];
    let said = crate::claims::reasons(&claim).to_lowercase();
    let second: Vec<&str> = said
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| to_the_partner.contains(w))
        .collect();
    assert!(second.is_empty(), "the manager reads {second:?}: {said}");
}

/// The mails sent to `to` once one of each `wanted` kind is there (others may be too: a plan
/// notice arrives when it will), oldest first.
async fn partner_mails(
    app: &TestApp,
    to: &str,
    wanted: &[&str],
) -> Vec<tenx_shared::testing::mail::SentMail> {
    eventually_or(&format!("the mails {wanted:?} to {to}"), || async {
        let mine: Vec<_> = app.sent_mail().into_iter().filter(|m| m.to == to).collect();
        let kinds: Vec<&str> = mine.iter().map(|m| m.kind.as_str()).collect();
        match wanted.iter().all(|w| kinds.contains(w)) {
            true => Ok(mine),
            false => Err(format!("{kinds:?}")),
        }
    })
    .await
}

#[tokio::test]
async fn a_member_never_dismisses_a_signal_of_the_partner_she_acts_for() {
    let app = spawn_app().await;
    program(&app).await;
    set_email(&app, "pub-two", "deals@mailinator.com").await;
    crate::people::member(&app, "mia@acme.example", Role::Admin).await;
    let link = crate::partner_users::invite_by_operator(&app, "pub-two", "mia@acme.example").await;
    let (mia, _) = crate::partner_users::Browser::from_link(&app, &link).await;
    let mia = mia.acting_as("member");
    let path = "/v2/handles/acme/partners/pub-two/risk/signals/disposable_email/dismiss";
    let why = json!({"reason": "She is one of us"});
    let refused = mia.post(path, &why).await;
    assert_eq!(refused.status(), 403, "{}", refused.text().await.unwrap());
    let risk = risk_of(&app, "pub-two").await;
    assert_eq!(
        signal(&risk, "disposable_email")["fired"],
        true,
        "nothing changed: {risk:#}"
    );
    // Another member may.
    let op = app.as_role("acme", Role::Operator);
    let rest = "/partners/pub-two/risk/signals/disposable_email/dismiss";
    json_of(op.send_json(Method::POST, rest, &why).await, 200).await;
}
