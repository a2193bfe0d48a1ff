//! Program imports (issue 64): each partner tool's export (`tests/fixtures/imports/`, in the
//! shape of the tool's own API list answers) comes in as partners, their referral links (served
//! by the redirect under the old tokens, case and characters kept) and coupon codes, the
//! customers the tool had bound to them (`boundBy: import`), and past commissions as `imported`
//! lines with their status: a payout run afterwards pays what the old tool owed and never what
//! it paid; a dry run writes nothing; a re-run changes nothing; each bad row is reported with
//! its row and field while the rest goes in; no mail is sent. A partner comes in with its
//! PayPal email in the old tool as its payout method (a first setting: no hold, no mail), and a
//! customer with its email kept as a lead's is (masked, and digested for the self-referral
//! check).

use reqwest::StatusCode;
use serde_json::Value;
use tenx_shared::http::auth::Role;

use crate::helpers::{TestApp, assert_error, json_of, spawn_app};
use crate::imports::{counts, finished, fixture, post_import, target};

struct Case {
    source: &'static str,
    file: &'static str,
    /// The first import's counts (and the dry run's): created, updated, skipped, failed.
    counts: [u64; 4],
    /// Every reported (row, field), in row order.
    errors: &'static [(u64, &'static str)],
    /// (partner id, name)
    partners: &'static [(&'static str, &'static str)],
    /// (old token, where the redirect sends it)
    links: &'static [(&'static str, &'static str)],
    /// (partner id, coupon code)
    coupons: &'static [(&'static str, &'static str)],
    /// (customer id, partner id, its email masked)
    customers: &'static [(&'static str, &'static str, &'static str)],
    /// (partner id, its PayPal email masked): the partners that come in with a payout method
    /// (the others come in without one).
    methods: &'static [(&'static str, &'static str)],
    /// The PayPal email a PayPal batch's file pays the payout run's partner at (`None`: the
    /// export has no payout email of it).
    paypal: Option<&'static str>,
    /// (partner id, its imported lines' statuses, sorted)
    lines: &'static [(&'static str, &'static [&'static str])],
    /// The payout run after the import: (partner id, amount, lines paid).
    payout: (&'static str, &'static str, u64),
}

async fn run(app: &TestApp, case: &Case, dry: bool) -> Value {
    let query = format!(
        "source={}{}",
        case.source,
        if dry { "&dryRun=true" } else { "" }
    );
    let body = fixture(case.file);
    let r = post_import(app, "acme", &query, "application/json", body, Role::Admin).await;
    assert_eq!(
        r.status(),
        StatusCode::ACCEPTED,
        "{}",
        r.text().await.unwrap()
    );
    let id = r.json::<Value>().await.unwrap()["importId"]
        .as_str()
        .unwrap()
        .to_owned();
    let v = finished(app, &id).await;
    assert_eq!(v["status"], "done", "{v}");
    v
}

/// The report's (row, field)s of refused rows and notes, in row order. Its refused rows are as
/// many as the failed count, and each list is in the file's order as the report gives it.
fn errors_of(v: &Value) -> Vec<(u64, String)> {
    let refused = v["errors"].as_array().unwrap();
    let notes = v["notes"].as_array().unwrap();
    assert_eq!(
        refused.len() as u64,
        v["counts"]["failed"].as_u64().unwrap(),
        "{v}"
    );
    for list in [refused, notes] {
        let rows: Vec<u64> = list.iter().map(|e| e["row"].as_u64().unwrap()).collect();
        assert!(rows.is_sorted(), "not in the file's order: {v}");
    }
    let mut errors: Vec<(u64, String)> = refused
        .iter()
        .chain(notes)
        .map(|e| {
            assert!(!e["message"].as_str().unwrap().is_empty(), "{e}");
            (
                e["row"].as_u64().unwrap(),
                e["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    errors.sort();
    errors
}

async fn check(case: Case) {
    let app = spawn_app().await;
    let op = app.as_role("acme", Role::Operator);
    // Program imports are an admin's.
    let r = post_import(
        &app,
        "acme",
        &format!("source={}", case.source),
        "application/json",
        fixture(case.file),
        Role::Operator,
    )
    .await;
    assert_error(r, 403, "insufficient_role").await;

    let dry = run(&app, &case, true).await;
    assert_eq!(counts(&dry), case.counts, "dry run: {dry}");
    let want: Vec<(u64, String)> = case
        .errors
        .iter()
        .map(|(r, f)| (*r, f.to_string()))
        .collect();
    assert_eq!(errors_of(&dry), want, "dry run: {dry}");
    for (id, _) in case.partners {
        let r = op.get(&format!("/partners/{id}")).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "the dry run wrote {id}");
    }
    for (token, _) in case.links {
        assert_eq!(target(&app, "acme", &format!("/{token}")).await, None);
    }

    let v = run(&app, &case, false).await;
    assert_eq!(counts(&v), case.counts, "{v}");
    assert_eq!(errors_of(&v), want, "{v}");
    for (id, name) in case.partners {
        let p = json_of(op.get(&format!("/partners/{id}")).await, 200).await;
        assert_eq!(p["name"], *name, "{p}");
    }
    for (token, destination) in case.links {
        let got = target(&app, "acme", &format!("/{token}")).await;
        assert_eq!(got.as_deref(), Some(*destination), "/{token}");
    }
    for (partner, code) in case.coupons {
        let list = json_of(
            op.get(&format!("/partners/{partner}/coupon-codes")).await,
            200,
        )
        .await;
        let codes: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["code"].as_str().unwrap())
            .collect();
        assert!(codes.contains(code), "{partner}: {list}");
    }
    for (customer, partner, masked) in case.customers {
        let c = json_of(op.get(&format!("/customers/{customer}")).await, 200).await;
        assert_eq!(c["boundBy"], "import", "{c}");
        assert_eq!(c["partnerId"], *partner, "{c}");
        assert_eq!(c["emailMasked"], *masked, "{c}");
        assert_eq!(c["flags"], serde_json::json!([]), "{c}");
    }
    let methods = payout_methods(&app, &case).await;
    for (partner, statuses) in case.lines {
        let lines = json_of(
            op.get(&format!("/commissions?partnerId={partner}")).await,
            200,
        )
        .await;
        let mut got: Vec<&str> = lines["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                assert_eq!(l["kind"], "imported", "{l}");
                l["status"].as_str().unwrap()
            })
            .collect();
        got.sort();
        assert_eq!(got, *statuses, "{partner}: {lines}");
    }
    crate::commissions::no_drift(&app).await;

    // A re-run changes nothing: every row that came in is skipped, the bad ones reported again.
    let again = run(&app, &case, false).await;
    let [created, _, _, failed] = case.counts;
    assert_eq!(counts(&again), [0, 0, created, failed], "{again}");
    assert_eq!(
        payout_methods(&app, &case).await,
        methods,
        "the re-run set none again"
    );
    for (partner, statuses) in case.lines {
        let lines = json_of(
            op.get(&format!("/commissions?partnerId={partner}")).await,
            200,
        )
        .await;
        assert_eq!(lines["items"].as_array().unwrap().len(), statuses.len());
    }

    // The payout run pays what the old tool owed, never what it paid.
    let (partner, amount, count) = case.payout;
    let period = serde_json::json!({
        "partnerId": partner,
        "periodEnd": tenx_shared::platform::time::now_rfc3339(),
    });
    let run = json_of(op.run_payouts("after-import", &period).await, 201).await;
    let payout = &run["payouts"][0];
    assert_eq!(payout["amount"], amount, "{run}");
    assert_eq!(payout["commissionCount"], count, "{run}");
    crate::commissions::no_drift(&app).await;
    // The imported PayPal email opens in a PayPal batch's file: sealed for this partner, and
    // never held (a first setting, not a change).
    if let Some(email) = case.paypal {
        let batch = json_of(
            op.create_batch("imported-paypal", &serde_json::json!({"method": "paypal"}))
                .await,
            201,
        )
        .await;
        assert_eq!(batch["excluded"], serde_json::json!([]), "{batch}");
        let id = batch["batchId"].as_str().unwrap();
        let file = op.batch_file(id, "currency=USD").await;
        assert_eq!(file.status(), StatusCode::OK);
        let file = file.text().await.unwrap();
        let line = format!("{email},{amount},USD,{partner},");
        assert!(file.starts_with(&line), "{line} in {file}");
    }
    // Imports send no mail: none sent, none staged.
    assert!(app.sent_mail().is_empty());
    no_mail_staged(&app).await;
}

/// Each imported partner's payout method as the API answers it: PayPal at the export's email
/// (masked) for those of `case.methods`, set as a first setting (nothing pending, no change);
/// none for the others (`404`).
async fn payout_methods(app: &TestApp, case: &Case) -> Vec<Value> {
    let op = app.as_role("acme", Role::Operator);
    let mut got = Vec::new();
    for (id, _) in case.partners {
        let r = op.payout_method(id).await;
        let Some((_, masked)) = case.methods.iter().find(|(p, _)| p == id) else {
            assert_eq!(
                r.status(),
                StatusCode::NOT_FOUND,
                "{id} has no payout email"
            );
            continue;
        };
        let m = json_of(r, 200).await;
        assert_eq!(m["type"], "paypal", "{m}");
        assert_eq!(m["email"], *masked, "{m}");
        assert_eq!(m["pendingConfirmation"], false, "{m}");
        assert_eq!(m["change"], Value::Null, "{m}");
        got.push(m);
    }
    got
}

/// The handle's mail partition is empty: no mail was staged (sent or not).
async fn no_mail_staged(app: &TestApp) {
    let pk = tenx_shared::platform::store::keys::mail_pk(&crate::helpers::acme());
    let q = tenx_shared::platform::store::Query::prefix(pk, "", 10);
    let page = app.store.query(q).await.unwrap();
    assert!(page.items.is_empty(), "{} mail items", page.items.len());
}

#[tokio::test]
async fn a_rewardful_program_comes_in_with_links_coupons_customers_and_paid_lines_never_paid_again()
{
    check(Case {
        source: "rewardful",
        file: "rewardful.json",
        // 2 affiliates, 1 customer (the lead is left out), 3 commissions; Omar's referral has
        // no link here to bind to (his token is not a slug), and a commission's affiliate is
        // not in the file.
        counts: [6, 0, 0, 2],
        errors: &[
            (2, "links[0].token"),
            (5, "affiliate.id"),
            (9, "affiliate.id"),
        ],
        partners: &[
            ("jane", "Jane Doe"),
            ("5a8c3e21-7b4d-4c6e-9f1a-3b2c4d5e6f70", "Omar Haddad"),
        ],
        links: &[("jane", "https://shop.example/?via=jane")],
        coupons: &[("jane", "JANE15")],
        customers: &[("cus_RwJane1", "jane", "b***@example.com")],
        // Omar's `paypal_email` is null.
        methods: &[("jane", "j***@partner.example")],
        paypal: Some("jane.pay@partner.example"),
        lines: &[("jane", &["approved", "paid"])],
        payout: ("jane", "20.00", 1),
    })
    .await;
}

#[tokio::test]
async fn a_firstpromoter_program_comes_in_and_its_paid_commissions_are_never_paid_again() {
    check(Case {
        source: "firstpromoter",
        file: "firstpromoter.json",
        // 2 promoters (the third's email is refused), 2 customers (the lead left out), 3
        // commissions (one has more decimals than the dollar).
        counts: [7, 0, 0, 2],
        errors: &[(3, "email"), (10, "amount")],
        partners: &[("lena", "Lena Vogel"), ("98766", "Raj Patel")],
        links: &[
            ("lena", "https://shop.example/?fpr=lena"),
            ("Raj_P", "https://shop.example/?fpr=Raj_P"),
        ],
        coupons: &[("lena", "LENA10")],
        customers: &[
            ("user_1001", "lena", "b***@example.com"),
            ("import:firstpromoter:55003", "98766", "b***@example.com"),
        ],
        methods: &[("lena", "l***@partner.example")],
        paypal: Some("lena.pay@partner.example"),
        lines: &[("lena", &["approved", "paid"]), ("98766", &["rejected"])],
        payout: ("lena", "25.00", 1),
    })
    .await;
}

#[tokio::test]
async fn a_partnerstack_program_comes_in_and_its_paid_rewards_are_never_paid_again() {
    check(Case {
        source: "partnerstack",
        file: "partnerstack.json",
        counts: [6, 0, 0, 2],
        errors: &[(4, "partnership_key"), (8, "payment_status")],
        partners: &[("maria", "Maria Costa"), ("theo", "Theo Martin")],
        links: &[
            ("maria", "https://shop.example/?ps_partner_key=maria"),
            ("theo", "https://shop.example/?ps_partner_key=theo"),
        ],
        coupons: &[],
        customers: &[("cus_PsA100", "maria", "c***@example.com")],
        // PartnerStack's partnerships carry no payout address.
        methods: &[],
        paypal: None,
        lines: &[("maria", &["approved", "paid"]), ("theo", &["paid"])],
        payout: ("maria", "15.00", 1),
    })
    .await;
}

#[tokio::test]
async fn a_tolt_program_comes_in_and_its_paid_commissions_are_never_paid_again() {
    check(Case {
        source: "tolt",
        file: "tolt.json",
        // Ana's code is not a code 10x takes: noted on her row, which came in.
        counts: [7, 0, 0, 1],
        errors: &[(2, "coupons"), (8, "amount")],
        partners: &[("sam", "Sam Rivera"), ("ana", "Ana Lima")],
        links: &[
            ("sam", "https://shop.example/?ref=sam"),
            ("ana", "https://shop.example/?ref=ana"),
        ],
        coupons: &[("sam", "SAM20")],
        customers: &[
            ("cus_Stripe900", "sam", "x***@example.com"),
            ("import:tolt:cus_T2", "ana", "y***@example.com"),
        ],
        // Tolt's partners carry no payout address.
        methods: &[],
        paypal: None,
        lines: &[("sam", &["approved", "paid"]), ("ana", &["rejected"])],
        payout: ("sam", "20.00", 1),
    })
    .await;
}

#[tokio::test]
async fn a_dub_partners_program_comes_in_and_its_paid_commissions_are_never_paid_again() {
    check(Case {
        source: "dub-partners",
        file: "dub-partners.json",
        counts: [7, 0, 0, 1],
        errors: &[(4, "partner.id")],
        partners: &[
            ("pn_1jvr7xrcsr0edbaf39fz4pmye", "Kim Lee"),
            ("noor", "Noor Aziz"),
        ],
        links: &[
            ("Kim-Lee", "https://shop.example/"),
            ("noor", "https://shop.example/pricing"),
        ],
        coupons: &[],
        customers: &[(
            "user_42",
            "pn_1jvr7xrcsr0edbaf39fz4pmye",
            "b***@example.com",
        )],
        // Noor's `paypalEmail` is null.
        methods: &[("pn_1jvr7xrcsr0edbaf39fz4pmye", "k***@partner.example")],
        paypal: Some("kim.pay@partner.example"),
        lines: &[
            ("pn_1jvr7xrcsr0edbaf39fz4pmye", &["approved", "paid"]),
            ("noor", &["pending", "rejected"]),
        ],
        payout: ("pn_1jvr7xrcsr0edbaf39fz4pmye", "15.00", 1),
    })
    .await;
}

/// A program import whose worker dies inside each chunk (partners with their links and codes,
/// customers, commissions) resumes with exact counts: no partner, link, binding or line is
/// written twice, none counted skipped for having been written before the crash.
#[tokio::test]
async fn a_program_import_killed_inside_each_chunk_resumes_with_exact_counts() {
    use crate::imports::{crash_in_chunk, write_chunks};
    use tenx_shared::domain::ImportId;
    use tenx_shared::imports::run::Progress;
    let app = crate::helpers::spawn_app_without_workers().await;
    let r = post_import(
        &app,
        "acme",
        "source=tolt",
        "application/json",
        fixture("tolt.json"),
        Role::Admin,
    )
    .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let raw = r.json::<Value>().await.unwrap()["importId"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = ImportId::parse(&raw).unwrap();
    // Three chunks: partners, customers, commissions; each written, then the worker dies
    // before its cursor moves, and the message comes back.
    for (size, then) in [
        (2, Progress::Paused),
        (2, Progress::Paused),
        (3, Progress::Finished),
    ] {
        assert_eq!(crash_in_chunk(&app, &id).await, size);
        assert_eq!(write_chunks(&app, &id, 1).await, then);
    }
    let v = finished(&app, &raw).await;
    assert_eq!(counts(&v), [7, 0, 0, 1], "{v}");
    let op = app.as_role("acme", Role::Operator);
    let lines = json_of(op.get("/commissions?partnerId=sam").await, 200).await;
    assert_eq!(lines["items"].as_array().unwrap().len(), 2, "{lines}");
    let c = json_of(op.get("/customers/cus_Stripe900").await, 200).await;
    assert_eq!(c["boundBy"], "import");
    assert_eq!(
        target(&app, "acme", "/sam").await.as_deref(),
        Some("https://shop.example/?ref=sam")
    );
    crate::commissions::no_drift(&app).await;
}

/// A Rewardful export of two affiliates, Mia (a PayPal email that is no address) and Leo (a
/// PayPal email in another case), and three converted referrals: one of Leo's own address
/// (another case and a `+tag`), one of a buyer's, and one of Mia's with no address.
fn payout_and_emails_export() -> Vec<u8> {
    let link = |t: &str| serde_json::json!([{"token": t, "url": format!("https://shop.example/?via={t}")}]);
    serde_json::to_vec(&serde_json::json!({
        "affiliates": [
            {"id": "aff_mia", "first_name": "Mia", "last_name": "Wong",
             "email": "mia@partner.example", "paypal_email": "mia at paypal", "links": link("mia")},
            {"id": "aff_leo", "first_name": "Leo", "last_name": "Berg",
             "email": "leo@partner.example", "paypal_email": "Leo.Pay@Partner.Example",
             "links": link("leo")},
        ],
        "referrals": [
            {"id": "r1", "conversion_state": "conversion", "stripe_customer_id": "cus_LeoSelf",
             "affiliate": {"id": "aff_leo"}, "customer": {"id": "c1", "email": "LEO+shop@Partner.example"}},
            {"id": "r2", "conversion_state": "conversion", "stripe_customer_id": "cus_LeoBuyer",
             "affiliate": {"id": "aff_leo"}, "customer": {"id": "c2", "email": "buyer@example.com"}},
            {"id": "r3", "conversion_state": "conversion", "stripe_customer_id": "cus_MiaBuyer",
             "affiliate": {"id": "aff_mia"}, "customer": {"id": "c3", "email": "no address"}},
        ],
    }))
    .unwrap()
}

/// Starts a Rewardful import of `body` as an admin; its id.
async fn start_rewardful(app: &TestApp, body: Vec<u8>, dry: bool) -> String {
    let query = if dry {
        "source=rewardful&dryRun=true"
    } else {
        "source=rewardful"
    };
    let r = post_import(app, "acme", query, "application/json", body, Role::Admin).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    r.json::<Value>().await.unwrap()["importId"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The message of the report's refused row or note at (`row`, `field`).
fn message_at(v: &Value, row: u64, field: &str) -> String {
    v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .chain(v["notes"].as_array().unwrap())
        .find(|e| e["row"] == row && e["field"] == field)
        .unwrap_or_else(|| panic!("no error at {row} {field}: {v}"))["message"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A payout email that is no address is noted by its row and field, naming the partner, and
/// the partner still comes in (without a payout method); a dry run reports the same. A
/// customer's email is kept as a lead's is: the customer of its partner's own address (another
/// case, a `+tag`) is a self-referral and its commission is held for it, another buyer's is
/// not; a customer's email that is no address is noted and the customer still bound. No
/// address is ever written into the report.
#[tokio::test]
async fn a_bad_payout_email_is_noted_and_an_imported_customers_email_finds_a_self_referral() {
    let app = spawn_app().await;
    let op = app.as_role("acme", Role::Operator);
    let want = vec![
        (1, "paypal_email".to_owned()),
        (5, "customer.email".to_owned()),
    ];
    let dry = finished(
        &app,
        &start_rewardful(&app, payout_and_emails_export(), true).await,
    )
    .await;
    assert_eq!(counts(&dry), [5, 0, 0, 0], "{dry}");
    assert_eq!(
        errors_of(&dry),
        want,
        "the dry run notes what the run will: {dry}"
    );

    let id = start_rewardful(&app, payout_and_emails_export(), false).await;
    let v = finished(&app, &id).await;
    assert_eq!(v["status"], "done", "{v}");
    // Its staged rows, which held the export's addresses, are gone once written.
    let (pk, _) = tenx_shared::platform::store::keys::import_chunk(&crate::helpers::acme(), &id, 0);
    let q = tenx_shared::platform::store::Query::prefix(pk, "", 10);
    assert!(
        app.store.query(q).await.unwrap().items.is_empty(),
        "chunks left"
    );
    assert_eq!(counts(&v), [5, 0, 0, 0], "{v}");
    assert_eq!(errors_of(&v), want, "{v}");
    let mia = message_at(&v, 1, "paypal_email");
    assert!(
        mia.contains("Mia Wong") && mia.contains("without a payout method"),
        "{mia}"
    );
    let buyer = message_at(&v, 5, "customer.email");
    assert!(buyer.contains("cus_MiaBuyer"), "{buyer}");
    for address in [
        "mia at paypal",
        "no address",
        "Leo.Pay",
        "LEO+shop",
        "buyer@",
    ] {
        assert!(
            !v.to_string().contains(address),
            "{address} in the report: {v}"
        );
    }
    // Mia came in, without a payout method; Leo with his PayPal email, as a first setting.
    json_of(op.get("/partners/mia").await, 200).await;
    assert_eq!(
        op.payout_method("mia").await.status(),
        StatusCode::NOT_FOUND
    );
    let leo = json_of(op.payout_method("leo").await, 200).await;
    assert_eq!(
        (&leo["type"], &leo["email"], &leo["pendingConfirmation"]),
        (
            &serde_json::json!("paypal"),
            &serde_json::json!("L***@partner.example"),
            &serde_json::json!(false)
        ),
        "{leo}"
    );
    let c = json_of(op.get("/customers/cus_MiaBuyer").await, 200).await;
    assert_eq!(
        (&c["boundBy"], &c["emailMasked"]),
        (&serde_json::json!("import"), &Value::Null),
        "{c}"
    );

    // The import sent no mail, nor staged any (the sales below may).
    assert!(app.sent_mail().is_empty());
    no_mail_staged(&app).await;

    // The self-referral check compares the imported customer's email with its partner's.
    let own = json_of(op.get("/customers/cus_LeoSelf").await, 200).await;
    assert_eq!(own["flags"], serde_json::json!(["self_referral"]), "{own}");
    assert_eq!(own["emailMasked"], "L***@partner.example", "{own}");
    let other = json_of(op.get("/customers/cus_LeoBuyer").await, 200).await;
    assert_eq!(other["flags"], serde_json::json!([]), "{other}");
    let plan = serde_json::json!({"currency": "EUR", "holdDays": 0,
        "rules": [{"eventType": "purchase", "percent": "10"}]});
    json_of(op.put_plan("imp_leo", &plan).await, 200).await;
    for (customer, key) in [("cus_LeoSelf", "s-1"), ("cus_LeoBuyer", "s-2")] {
        let sale = serde_json::json!({"customerId": customer, "idempotencyKey": key,
            "eventType": "purchase", "value": "100.00", "currency": "EUR"});
        json_of(op.convert_verified(&sale).await, 202).await;
    }
    let lines = crate::commissions::ledger(&app, 2).await;
    let self_referral = |l: &&Value| {
        l["reasons"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("self_referral"))
    };
    let held: Vec<&Value> = lines.iter().filter(self_referral).collect();
    assert_eq!(held.len(), 1, "the self-referral's sale alone: {lines:#?}");
    assert_eq!(held[0]["status"], "held", "{lines:#?}");
    assert_eq!(held[0]["amount"], "10.00", "{lines:#?}");
    crate::commissions::no_drift(&app).await;
}

/// A process without the payout key (or the ctx keys) still imports every partner and
/// customer: each row notes in words, naming the partner, that its payout email (or the
/// customer's email) could not be kept; nothing is set that the server could not open.
#[tokio::test]
async fn without_the_keys_partners_and_customers_come_in_and_their_rows_say_what_was_not_kept() {
    use tenx_shared::domain::ImportId;
    use tenx_shared::imports::keyrings::Keys;
    use tenx_shared::imports::run::{Progress, run};
    let app = crate::helpers::spawn_app_without_workers().await;
    let raw = start_rewardful(&app, fixture("rewardful.json"), false).await;
    let (state, id) = (app.state(), ImportId::parse(&raw).unwrap());
    let none = Keys {
        payout: None,
        email: None,
    };
    let p = run(
        state.io(),
        &state.link_cache,
        none,
        &crate::helpers::acme(),
        &id,
        usize::MAX,
    )
    .await
    .unwrap();
    assert_eq!(p, Progress::Finished);
    let v = finished(&app, &raw).await;
    assert_eq!(counts(&v), [6, 0, 0, 2], "{v}");
    let want: Vec<(u64, String)> = [
        (1, "paypal_email"),
        (2, "links[0].token"),
        (3, "customer.email"),
        (5, "affiliate.id"),
        (9, "affiliate.id"),
    ]
    .iter()
    .map(|(r, f)| (*r, f.to_string()))
    .collect();
    assert_eq!(errors_of(&v), want, "{v}");
    let jane = message_at(&v, 1, "paypal_email");
    assert!(
        jane.contains("Jane Doe")
            && jane.contains("could not be stored")
            && !jane.contains("jane.pay"),
        "{jane}"
    );
    let op = app.as_role("acme", Role::Operator);
    json_of(op.get("/partners/jane").await, 200).await;
    assert_eq!(
        op.payout_method("jane").await.status(),
        StatusCode::NOT_FOUND
    );
    let c = json_of(op.get("/customers/cus_RwJane1").await, 200).await;
    assert_eq!(
        (&c["boundBy"], &c["emailMasked"]),
        (&serde_json::json!("import"), &Value::Null),
        "{c}"
    );
}

/// Writes a Rewardful export of `partners` affiliates (each with a referral link and a coupon
/// code), a converted referral per customer and `commissions` commissions (each with a 64 KiB
/// field the importer ignores, as exports carry), its lists in the order that needs every pass:
/// the commissions and customers before the affiliates they name, the coupon codes after them.
/// Written as it is generated, never held whole. Its size.
pub(crate) fn write_large_rewardful(
    path: &std::path::Path,
    partners: usize,
    customers: usize,
    commissions: usize,
) -> u64 {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let pad = "n".repeat(64 * 1024);
    let list = |f: &mut std::io::BufWriter<std::fs::File>,
                key: &str,
                n: usize,
                item: &dyn Fn(usize) -> Value| {
        write!(f, "\"{key}\": {{\"data\": [").unwrap();
        for i in 0..n {
            if i > 0 {
                f.write_all(b",").unwrap();
            }
            serde_json::to_writer(&mut *f, &item(i)).unwrap();
        }
        f.write_all(b"]}").unwrap();
    };
    f.write_all(b"{").unwrap();
    list(&mut f, "commissions", commissions, &|i| {
        serde_json::json!({
            "id": format!("com_{i}"), "amount": 1000, "currency": "USD",
            "state": if i % 2 == 0 { "paid" } else { "due" },
            "sale": {"affiliate": {"id": format!("aff_{}", i % partners)}}, "notes": pad,
        })
    });
    f.write_all(b",").unwrap();
    list(&mut f, "referrals", customers, &|i| {
        serde_json::json!({
            "id": format!("ref_{i}"), "conversion_state": "conversion",
            "stripe_customer_id": format!("cus_Big{i}"),
            "affiliate": {"id": format!("aff_{}", i % partners)},
            "customer": {"email": format!("buyer{i}@example.com")},
        })
    });
    f.write_all(b",").unwrap();
    list(&mut f, "affiliates", partners, &|i| {
        serde_json::json!({
            "id": format!("aff_{i}"), "first_name": "Big", "last_name": format!("Partner {i}"),
            "email": format!("big{i}@example.com"),
            "paypal_email": format!("big{i}.pay@example.com"),
            "links": [{"token": format!("big{i}"), "url": format!("https://shop.example/?via=big{i}")}],
        })
    });
    f.write_all(b",").unwrap();
    list(
        &mut f,
        "affiliate_coupons",
        partners,
        &|i| serde_json::json!({"token": format!("BIG{i}"), "affiliate_id": format!("aff_{i}"), "archived": false}),
    );
    f.write_all(b"}").unwrap();
    f.flush().unwrap();
    drop(f);
    std::fs::metadata(path).unwrap().len()
}

/// A program's export over the API's limit goes through `tenx import`, read as a stream (item
/// by item, a pass per kind of row, whatever the order of its lists): every partner, customer
/// and commission in, a re-run changing nothing, the partners with their links and coupon codes
/// joined from the lists after them, and its peak memory not growing with the file (a file four
/// times as large takes less than 8 MiB more: the file held whole would take at least twice its
/// size).
#[tokio::test]
async fn tenx_import_streams_a_program_file_over_the_api_limit() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let cli = |file: &std::path::Path, extra: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tenx"))
            .args(["import", "--source", "rewardful", "--handle", "acme"])
            .arg(file)
            .arg("--data-dir")
            .arg(&data)
            .args(["--backend", "embedded"])
            .args(extra)
            .env("TENX_LOG", "warn")
            .env("TENX_REPORT_PEAK_MEMORY", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        let peak_kib: u64 = stderr
            .lines()
            .find_map(|l| l.strip_prefix("peak memory: "))
            .and_then(|v| v.trim_end_matches(" kB").parse().ok())
            .unwrap_or_else(|| panic!("no peak memory in {stderr}"));
        (
            serde_json::from_slice::<Value>(&out.stdout).unwrap(),
            peak_kib,
        )
    };
    let (partners, customers, commissions) = (6, 20, 70);
    let file = dir.path().join("rewardful.json");
    let size = write_large_rewardful(&file, partners, customers, commissions);
    assert!(size > tenx_shared::imports::MAX_BODY_BYTES as u64, "{size}");
    let all = (partners + customers + commissions) as u64;
    let (dry, small_peak) = cli(&file, &["--dry-run"]);
    assert_eq!(counts(&dry), [all, 0, 0, 0], "{dry}");
    let (report, _) = cli(&file, &[]);
    assert_eq!(report["status"], "done", "{report}");
    assert_eq!(counts(&report), [all, 0, 0, 0], "{report}");
    let (again, _) = cli(&file, &[]);
    assert_eq!(counts(&again), [0, 0, all, 0], "{again}");
    let store = tenx_shared::runtime::local::DataDir::prepare(&data)
        .unwrap()
        .open_store()
        .unwrap();
    let acme = crate::helpers::acme();
    // The keys `tenx serve` uses on this data dir: what the CLI sealed and digested opens and
    // compares there.
    let secrets = tenx_shared::runtime::local::LocalSecrets::load_or_create(&data).unwrap();
    let payout_key = tenx_shared::domain::sealed::Keyring::parse(&secrets.payout_key).unwrap();
    let ctx_keys = tenx_shared::domain::CtxKeyring::parse(&secrets.ctx_keys).unwrap();
    for i in [0, partners - 1] {
        let id = tenx_shared::domain::PartnerId::parse(&format!("big{i}")).unwrap();
        let p = tenx_shared::partners::get(store.as_ref(), &acme, &id)
            .await
            .unwrap()
            .expect("the partner");
        assert_eq!(p.name, format!("Big Partner {i}"));
        let method = tenx_shared::payout_methods::get(store.as_ref(), &acme, &id)
            .await
            .unwrap()
            .expect("the imported payout method");
        assert!(method.pending.is_none(), "a first setting");
        let details = tenx_shared::payout_methods::open(
            Ok(&payout_key),
            &acme,
            &id,
            method.sealed.as_deref(),
        )
        .unwrap();
        let email = format!("big{i}.pay@example.com");
        assert_eq!(
            details,
            tenx_shared::payout_methods::Details::Paypal {
                email: Some(email),
                payer_id: None
            }
        );
    }
    for i in [0, customers - 1] {
        let id = tenx_shared::domain::CustomerId::parse(&format!("cus_Big{i}")).unwrap();
        let (customer, _) = tenx_shared::customers::repo::get(store.as_ref(), &acme, &id)
            .await
            .unwrap()
            .expect("the customer");
        let partner = format!("big{}", i % partners);
        assert_eq!(customer.partner_id.map(|p| p.to_string()), Some(partner));
        let digest = ctx_keys.email_digest(&format!("buyer{i}@example.com"));
        assert_eq!(
            customer.email_hash,
            Some(digest),
            "the server's key digested it"
        );
        assert_eq!(customer.email_masked.as_deref(), Some("b***@example.com"));
    }
    drop(store);
    // Four times the commissions (a dry run: the same reading and staging): memory stays.
    let larger = dir.path().join("larger.json");
    let larger_size = write_large_rewardful(&larger, partners, customers, 4 * commissions);
    let (dry, large_peak) = cli(&larger, &["--dry-run"]);
    let more = (3 * commissions) as u64;
    assert_eq!(counts(&dry), [more, 0, all, 0], "{dry}");
    let grew_kib = large_peak.saturating_sub(small_peak);
    assert!(
        grew_kib < 8 * 1024,
        "{larger_size} bytes took {grew_kib} KiB more than {size} ({small_peak} → {large_peak} KiB)"
    );
}
