//! Commissions end to end (issue 30): a partner's month through plan, conversions in two
//! currencies, a rate that arrives late, review, a partial reversal, a cap, a payout with its
//! statement, a refund after payout clawed back and netted; the ledger exactly once under
//! replays and concurrent payout runs.

use reqwest::Method;
use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::helpers::*;
use crate::scenario::*;

/// A partner, its campaign `alpha` (link `deal`) and the campaign's plan.
async fn partner_with_plan(app: &TestApp, plan: Value) {
    Program::on(app, "acme")
        .instant()
        .await
        .named_partner("pub-one", "Publisher One")
        .await
        .campaign("alpha", Some("pub-one"), "deal")
        .await
        .plan("alpha", &plan)
        .await;
}

async fn new_ctx(app: &TestApp) -> String {
    human_ctx(app, "acme", "/deal?sub1=abc").await
}

/// Submits a verified conversion on a fresh click: its id.
async fn convert(
    app: &TestApp,
    key: &str,
    event: &str,
    value: Option<&str>,
    currency: &str,
) -> String {
    let ctx = new_ctx(app).await;
    let mut body = json!({"ctx": ctx, "idempotencyKey": key, "eventType": event});
    if let Some(v) = value {
        body["value"] = json!(v);
        body["currency"] = json!(currency);
    }
    let resp = app
        .as_role("acme", Role::Creator)
        .convert_verified(&body)
        .await;
    json_of(resp, 202).await["conversionId"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The ledger once it holds `n` lines (the events worker writes them).
pub(crate) async fn ledger(app: &TestApp, n: usize) -> Vec<Value> {
    let viewer = app.as_role("acme", Role::Viewer);
    let items = eventually_or(&format!("the ledger to reach {n} lines"), || async {
        let page = json_of(viewer.list_commissions("limit=100").await, 200).await;
        let items = page["items"].as_array().unwrap().clone();
        if items.len() >= n {
            Ok(items)
        } else {
            Err(format!("{} lines", items.len()))
        }
    })
    .await;
    assert_eq!(items.len(), n, "{items:#?}");
    items
}

/// The handle's conversion lines once there are at least `n` (a reversal's lines aside).
pub(crate) async fn ledger_at_least(app: &TestApp, n: usize) -> Vec<Value> {
    let viewer = app.as_role("acme", Role::Viewer);
    eventually_or(
        &format!("the ledger to reach {n} conversion lines"),
        || async {
            let page = json_of(
                viewer.list_commissions("kind=conversion&limit=100").await,
                200,
            )
            .await;
            let items = page["items"].as_array().unwrap().clone();
            if items.len() >= n {
                Ok(items)
            } else {
                Err(format!("{} conversion lines", items.len()))
            }
        },
    )
    .await
}

fn op_view(app: &TestApp) -> crate::endpoints::As<'_> {
    app.as_role("acme", Role::Viewer)
}

fn line<'a>(lines: &'a [Value], conversion: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["conversionId"] == conversion && l["kind"] == "conversion")
        .unwrap_or_else(|| panic!("no line for {conversion}"))
}

/// Sum of decimal strings in minor units (2 digits).
fn cents(amounts: impl IntoIterator<Item = Value>) -> i64 {
    amounts
        .into_iter()
        .map(|a| {
            let s = a.as_str().unwrap().to_owned();
            let (int, frac) = s.split_once('.').unwrap();
            let sign = if int.starts_with('-') { -1 } else { 1 };
            let whole: i64 = int.trim_start_matches('-').parse().unwrap();
            sign * (whole * 100 + frac.parse::<i64>().unwrap())
        })
        .sum()
}

#[tokio::test]
async fn a_partners_month_is_computed_held_reversed_capped_paid_and_clawed_back() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "holdDays": 0,
        "rules": [{"eventType": "purchase", "percent": "10"}, {"eventType": "signup", "flat": "2.00"}],
        "caps": {"conversionsPerDay": 5}});
    partner_with_plan(&app, plan).await;
    let a = convert(&app, "o-1", "purchase", Some("100"), "EUR").await;
    let b = convert(&app, "o-2", "purchase", Some("50"), "USD").await;
    let c = convert(&app, "o-3", "signup", None, "EUR").await;
    let d = convert(&app, "o-4", "purchase", Some("33.35"), "EUR").await;
    let e = convert(&app, "o-5", "purchase", Some("10"), "EUR").await;
    let f = convert(&app, "o-6", "purchase", Some("20"), "EUR").await;
    let lines = ledger(&app, 6).await;
    assert_eq!(line(&lines, &a)["amount"], "10.00");
    assert_eq!(line(&lines, &a)["planVersion"], 1);
    assert_eq!(line(&lines, &a)["subIds"]["sub1"], "abc");
    // No USD rate yet: held with no amount, and it cannot be approved.
    assert_eq!(line(&lines, &b)["amount"], Value::Null);
    assert_eq!(line(&lines, &b)["status"], "held");
    assert_eq!(line(&lines, &b)["reasons"], json!(["fx_rate_missing"]));
    let op = app.as_role("acme", Role::Operator);
    let id_b = line(&lines, &b)["commissionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = op.review_commission(&id_b, "approve", &json!({})).await;
    assert_error(resp, 409, "invalid_state").await;
    assert_eq!(line(&lines, &c)["amount"], "2.00");
    // 10 % of 33.35 = 3.335, rounded once, half away from zero.
    assert_eq!(line(&lines, &d)["amount"], "3.34");
    assert_eq!(line(&lines, &e)["amount"], "1.00");
    // The sixth conversion of the day meets the cap of 5 (b, waiting for its rate, holds the
    // slot of the day's second conversion).
    assert_eq!(line(&lines, &f)["status"], "capped");
    assert_eq!(line(&lines, &f)["amount"], "0.00");
    assert_eq!(
        line(&lines, &f)["reasons"],
        json!(["cap_conversions_per_day"])
    );

    // The rate arrives: b is computed at it (50 USD at 1 EUR = 1.25 USD → 40 EUR → 4.00).
    let as_of = tenx_shared::domain::time::unix_to_rfc3339(now() - 3600);
    let rates = json!({"base": "EUR", "rates": {"USD": "1.25"}, "asOf": as_of});
    json_of(op.post_fx_rates(&rates).await, 201).await;
    let viewer = app.as_role("acme", Role::Viewer);
    let got = json_of(viewer.get(&format!("/commissions/{id_b}")).await, 200).await;
    assert_eq!(
        (got["amount"].as_str(), got["fxRate"].as_str()),
        (Some("4.00"), Some("0.8"))
    );

    // An operator rejects d; rejecting again is idempotent, approving it now is refused.
    let id_d = line(&lines, &d)["commissionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let rejected = json_of(
        op.review_commission(&id_d, "reject", &json!({"reason": "self-referral"}))
            .await,
        200,
    )
    .await;
    assert_eq!(
        (rejected["status"].as_str(), rejected["reviewedBy"].as_str()),
        (Some("rejected"), Some("tester"))
    );
    json_of(
        op.review_commission(&id_d, "reject", &json!({"reason": "again"}))
            .await,
        200,
    )
    .await;
    assert_error(
        op.review_commission(&id_d, "approve", &json!({})).await,
        409,
        "invalid_state",
    )
    .await;

    // A partial refund of a before any payout: an adjustment of the same share (30 %).
    json_of(
        op.reverse(&a, &json!({"reason": "refund", "amount": "30"}))
            .await,
        201,
    )
    .await;
    let lines = ledger(&app, 7).await;
    let adj = lines
        .iter()
        .find(|l| l["kind"] == "adjustment")
        .expect("an adjustment");
    assert_eq!(
        (adj["amount"].as_str(), adj["adjustsCommissionId"].clone()),
        (Some("-3.00"), line(&lines, &a)["commissionId"].clone())
    );

    // The payout: 10 + 4 + 2 + 1 - 3 = 14.00, five lines; d rejected and f capped stay out.
    let period = json!({"periodEnd": tenx_shared::platform::time::now_rfc3339()});
    let run = json_of(op.run_payouts("run-1", &period).await, 201).await;
    let payouts = run["payouts"].as_array().unwrap();
    assert_eq!(payouts.len(), 1, "{run}");
    let payout = &payouts[0];
    assert_eq!(
        (
            payout["amount"].as_str(),
            payout["commissionCount"].as_u64()
        ),
        (Some("14.00"), Some(5))
    );
    assert_eq!(payout["sequence"], 1);
    let pid = payout["payoutId"].as_str().unwrap().to_owned();
    // The same key answers the same payout; another run finds nothing left to pay.
    let again = json_of(op.run_payouts("run-1", &period).await, 201).await;
    assert_eq!(again["payouts"][0]["payoutId"], pid.as_str(), "{again}");
    let other = json_of(op.run_payouts("run-2", &period).await, 201).await;
    assert_eq!(other["payouts"], json!([]));

    // The statement adds up to the payout, line by line, in JSON and CSV.
    let statement = json_of(op.statement(&pid, "json").await, 200).await;
    let amounts = statement["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["amount"].clone());
    assert_eq!(cents(amounts), 1400);
    assert_eq!(statement["header"]["treeSize"], 5);
    let csv = op.statement(&pid, "csv").await;
    assert_eq!(
        header_str(csv.headers(), "content-type"),
        "text/csv; charset=utf-8"
    );
    let csv = csv.text().await.unwrap();
    assert_eq!(
        csv.split("\r\n").filter(|l| !l.is_empty()).count(),
        6,
        "{csv}"
    );

    let paid = json_of(
        op.settle_payout(&pid, "mark-paid", &json!({"reference": "SEPA-1"}))
            .await,
        200,
    )
    .await;
    assert_eq!(
        (paid["status"].as_str(), paid["reference"].as_str()),
        (Some("paid"), Some("SEPA-1"))
    );
    assert_error(
        op.settle_payout(&pid, "cancel", &json!({"reason": "late"}))
            .await,
        409,
        "invalid_state",
    )
    .await;

    // A refund after payout: a clawback that nets into the next payout with a manual bonus.
    json_of(op.reverse(&e, &json!({"reason": "refund"})).await, 201).await;
    let lines = ledger(&app, 8).await;
    let claw = lines
        .iter()
        .find(|l| l["kind"] == "clawback")
        .expect("a clawback");
    assert_eq!(
        (claw["amount"].as_str(), claw["status"].as_str()),
        (Some("-1.00"), Some("approved"))
    );
    let balances = json_of(op.balances("partnerId=pub-one").await, 200).await;
    let eur = &balances["items"][0];
    assert_eq!(
        (eur["paid"].as_str(), eur["openNegative"].as_str()),
        (Some("14.00"), Some("-1.00"))
    );
    let bonus = json!({"partnerId": "pub-one", "amount": "5.00", "currency": "EUR", "reason": "launch bonus"});
    json_of(op.create_manual_commission(&bonus).await, 201).await;
    let period = json!({"periodEnd": tenx_shared::platform::time::now_rfc3339()});
    let next = json_of(op.run_payouts("run-3", &period).await, 201).await;
    assert_eq!(next["payouts"][0]["amount"], "4.00", "{next}");
    assert_eq!(next["payouts"][0]["sequence"], 2);
    // The funnel shows the campaign's commissions: 14.00 paid, the clawback's -1.00 and the
    // bonus's 5.00 netted in the next (pending) payout's approved lines.
    let funnel = json_of(viewer.get("/analytics?campaignId=alpha").await, 200).await;
    let row = &funnel["campaigns"][0];
    assert_eq!(
        row["commissionsPaidAmount"],
        json!({"EUR": "14.00"}),
        "{row}"
    );
    assert_eq!(
        row["commissionsApprovedAmount"],
        json!({"EUR": "-1.00"}),
        "{row}"
    );
    // Every line of the paid payout is paid; the ledger and the payouts agree to the cent.
    let paid_lines = json_of(viewer.list_commissions("status=paid").await, 200).await;
    assert_eq!(paid_lines["items"].as_array().unwrap().len(), 5);
    // The running balances, campaign amounts and indexes match the lines, after every kind of
    // change the month made (issue 43's drift check).
    no_drift(&app).await;
}

/// `tenx ledger check` on the app's ledger: every running balance and index entry matches
/// the lines.
pub(crate) async fn no_drift(app: &TestApp) {
    let handle = tenx_shared::domain::Handle::parse("acme").unwrap();
    let report = tenx_shared::ledger::check::check(app.state().store.as_ref(), &handle)
        .await
        .expect("the check reads");
    assert!(
        report.clean() && report.lines > 0,
        "{} lines, {} outside, drifts: {:#?}",
        report.lines,
        report.outside,
        report.drifts
    );
}

/// Deletes every item of partition `pk` (a ledger rewound to how an older version wrote it).
async fn delete_partition(store: &dyn tenx_shared::platform::store::Store, pk: String) {
    use tenx_shared::platform::store::{Cond, Query, WriteOp};
    for item in store.query(Query::all(pk)).await.unwrap().items {
        let del = WriteOp::Delete {
            pk: item.pk,
            sk: item.sk,
            cond: Cond::None,
        };
        store.write(del).await.unwrap();
    }
}

/// A ledger written before running balances (lines without `balanced`): the check names the
/// gap and fails, the rebuild brings each line in once (a second run brings none), and the
/// balances then answer what the lines say.
#[tokio::test]
async fn lines_from_before_the_running_balances_are_brought_in_once() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "holdDays": 0, "rules": [{"eventType": "purchase", "percent": "10"}]});
    partner_with_plan(&app, plan).await;
    convert(&app, "old-1", "purchase", Some("100"), "EUR").await;
    ledger(&app, 1).await;
    let state = app.state();
    let handle = tenx_shared::domain::Handle::parse("acme").unwrap();
    // Rewind the line to how an older version stored it, and drop what it wrote beside it.
    let store = state.store.clone();
    for pk in [
        tenx_shared::platform::store::keys::partner_balances_pk(&acme()),
        tenx_shared::platform::store::keys::commission_index_pk(&acme(), "P"),
        tenx_shared::platform::store::keys::commission_index_pk(&acme(), "S"),
        tenx_shared::platform::store::keys::commission_index_pk(&acme(), "C"),
        tenx_shared::platform::store::keys::commission_index_pk(&acme(), "L"),
        tenx_shared::platform::store::keys::commission_index_pk(&acme(), "K"),
    ] {
        delete_partition(store.as_ref(), pk).await;
    }
    let campaign = tenx_shared::domain::CampaignId::parse("alpha").unwrap();
    let cbal = tenx_shared::platform::store::keys::campaign_balances_pk(&acme(), &campaign);
    delete_partition(store.as_ref(), cbal).await;
    let partner = tenx_shared::domain::PartnerId::parse("pub-one").unwrap();
    let lbal = tenx_shared::platform::store::keys::link_earnings_pk(&acme(), &partner);
    delete_partition(store.as_ref(), lbal).await;
    let lines = tenx_shared::ledger::scan(state.store.as_ref(), &handle, |_| true)
        .await
        .unwrap();
    for line in &lines {
        let mut item = line.item(&acme()).unwrap();
        item.doc.as_object_mut().unwrap().remove("balanced");
        store
            .write(tenx_shared::platform::store::WriteOp::Put {
                item,
                cond: tenx_shared::platform::store::Cond::None,
            })
            .await
            .unwrap();
    }
    let before = tenx_shared::ledger::check::check(state.store.as_ref(), &handle)
        .await
        .unwrap();
    assert_eq!(before.outside, 1, "{:?}", before.drifts);
    assert!(!before.clean() && !before.drifts.is_empty());
    let op = app.as_role("acme", Role::Operator);
    let empty = json_of(op.balances("partnerId=pub-one").await, 200).await;
    assert_eq!(empty["items"], json!([]), "not in the balances yet");

    let rebuild = tenx_shared::ledger::check::rebuild;
    assert_eq!(rebuild(state.store.as_ref(), &handle).await.unwrap(), 1);
    assert_eq!(
        rebuild(state.store.as_ref(), &handle).await.unwrap(),
        0,
        "idempotent"
    );
    no_drift(&app).await;
    let balances = json_of(op.balances("partnerId=pub-one").await, 200).await;
    // Once, as pending, or as approved when the worker approved it meanwhile (its hold is 0 days:
    // on a busy machine the approval can land between the rebuild and this read).
    let row = &balances["items"][0];
    let once = [("10.00", "0.00"), ("0.00", "10.00")];
    assert!(
        once.iter()
            .any(|(p, a)| row["pending"] == *p && row["approved"] == *a),
        "{balances}"
    );
    let listed = json_of(op.list_commissions("partnerId=pub-one").await, 200).await;
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        1,
        "indexed again"
    );
}

/// Issue 43: listing by `kind` alone (or with `from`/`to`) reads the kind's index, not the
/// ledger. A line written before that index existed is named by the check, and the rebuild
/// puts its entry once.
#[tokio::test]
async fn a_listing_by_kind_reads_its_index_and_the_rebuild_fills_entries_of_a_new_index() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "holdDays": 0, "rules": [{"eventType": "purchase", "flat": "2.00"}]});
    partner_with_plan(&app, plan).await;
    convert(&app, "k-1", "purchase", Some("100"), "EUR").await;
    convert(&app, "k-2", "purchase", Some("100"), "EUR").await;
    ledger(&app, 2).await;
    let op = app.as_role("acme", Role::Operator);
    let bonus =
        json!({"partnerId": "pub-one", "amount": "5.00", "currency": "EUR", "reason": "bonus"});
    json_of(op.create_manual_commission(&bonus).await, 201).await;
    let kinds = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["kind"].as_str().unwrap().to_owned())
            .collect()
    };
    let manual = json_of(op.list_commissions("kind=manual").await, 200).await;
    assert_eq!(kinds(&manual), ["manual"]);
    let conversions = json_of(op.list_commissions("kind=conversion").await, 200).await;
    assert_eq!(kinds(&conversions), ["conversion", "conversion"]);
    let future = tenx_shared::domain::time::unix_millis_to_rfc3339(
        tenx_shared::platform::time::now_millis() + 3_600_000,
    );
    let later = json_of(
        op.list_commissions(&format!("kind=conversion&from={future}"))
            .await,
        200,
    )
    .await;
    assert_eq!(
        kinds(&later),
        Vec::<String>::new(),
        "the time bounds are the index's key range"
    );
    assert_error(
        op.list_commissions("kind=bonus-ish").await,
        400,
        "invalid_request",
    )
    .await;

    // The kind index of a ledger written before it: entries missing, named, then put once.
    let store = app.store.clone();
    let pk = tenx_shared::platform::store::keys::commission_index_pk(&acme(), "K");
    delete_partition(store.as_ref(), pk).await;
    let (state, handle) = (app.state(), acme());
    let before = tenx_shared::ledger::check::check(state.store.as_ref(), &handle)
        .await
        .unwrap();
    assert_eq!(before.drifts.len(), 3, "{:?}", before.drifts);
    assert!(
        before
            .drifts
            .iter()
            .all(|d| d.starts_with("index K: entry"))
    );
    let rebuild = tenx_shared::ledger::check::rebuild;
    assert_eq!(rebuild(state.store.as_ref(), &handle).await.unwrap(), 3);
    assert_eq!(
        rebuild(state.store.as_ref(), &handle).await.unwrap(),
        0,
        "idempotent"
    );
    no_drift(&app).await;
    let manual = json_of(op.list_commissions("kind=manual").await, 200).await;
    assert_eq!(kinds(&manual), ["manual"]);
}

/// The ids and statuses of a listing's pages, following `nextCursor`; every page must hold
/// `per_page` lines but the last (the filters are one key range, not filtered pages).
async fn walk(
    op: &crate::endpoints::As<'_>,
    query: &str,
    per_page: usize,
) -> Vec<(String, String)> {
    let (mut out, mut cursor) = (Vec::new(), None::<String>);
    for _ in 0..20 {
        let q = match &cursor {
            Some(c) => format!("{query}&limit={per_page}&cursor={c}"),
            None => format!("{query}&limit={per_page}"),
        };
        let page = json_of(op.list_commissions(&q).await, 200).await;
        let items = page["items"].as_array().unwrap();
        let pair = |l: &Value| {
            (
                l["commissionId"].as_str().unwrap().to_owned(),
                l["status"].as_str().unwrap().to_owned(),
            )
        };
        out.extend(items.iter().map(pair));
        match page["nextCursor"].as_str() {
            Some(c) if !items.is_empty() => {
                assert_eq!(items.len(), per_page, "a full page before the last: {page}");
                cursor = Some(c.to_owned());
            }
            _ => return out,
        }
    }
    panic!("{query}: more pages than lines");
}

/// Issue 43: a partner's lines in one status are one key range (index `Q`): every page of
/// `partnerId` + `status` holds `limit` matches, never a page of the partner's other lines
/// filtered away. A ledger written before the index is named by the check, and the rebuild
/// puts each entry once, with its line's version checked.
#[tokio::test]
async fn a_partners_lines_in_one_status_are_one_key_range_and_the_rebuild_fills_it() {
    let app = spawn_app().await;
    // A 30-day hold: the lines stay pending while the test reads them (with no hold, the
    // approval sweep may approve them between two reads on a loaded machine).
    let plan = json!({"currency": "EUR", "holdDays": 30, "caps": {"conversionsPerDay": 3},
        "rules": [{"eventType": "purchase", "flat": "2.00"}]});
    partner_with_plan(&app, plan).await;
    let mut ids = Vec::new();
    for k in 0..5 {
        ids.push(convert(&app, &format!("q-{k}"), "purchase", Some("100"), "EUR").await);
    }
    let lines = ledger(&app, 5).await;
    let op = app.as_role("acme", Role::Operator);
    let first = line(&lines, &ids[0])["commissionId"]
        .as_str()
        .unwrap()
        .to_owned();
    json_of(
        op.review_commission(&first, "reject", &json!({"reason": "test"}))
            .await,
        200,
    )
    .await;
    // Newest first: capped, capped, pending, pending, rejected.
    let pending = walk(&op, "partnerId=pub-one&status=pending", 1).await;
    let want: Vec<String> = [&ids[2], &ids[1]]
        .iter()
        .map(|c| line(&lines, c)["commissionId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        pending.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(),
        want
    );
    assert!(pending.iter().all(|(_, s)| s == "pending"));
    assert_eq!(
        walk(&op, "partnerId=pub-one&status=capped", 1).await.len(),
        2
    );
    assert_eq!(
        walk(&op, "partnerId=pub-one&status=rejected", 5)
            .await
            .len(),
        1
    );
    assert!(
        walk(&op, "partnerId=pub-two&status=pending", 5)
            .await
            .is_empty()
    );

    // The index of a ledger written before it: entries missing, named, then put once.
    let pk = tenx_shared::platform::store::keys::commission_index_pk(&acme(), "Q");
    delete_partition(app.store.as_ref(), pk).await;
    let (state, handle) = (app.state(), acme());
    let before = tenx_shared::ledger::check::check(state.store.as_ref(), &handle)
        .await
        .unwrap();
    assert_eq!(before.drifts.len(), 5, "{:?}", before.drifts);
    assert!(
        before
            .drifts
            .iter()
            .all(|d| d.starts_with("index Q: entry"))
    );
    let rebuild = tenx_shared::ledger::check::rebuild;
    assert_eq!(rebuild(state.store.as_ref(), &handle).await.unwrap(), 5);
    assert_eq!(
        rebuild(state.store.as_ref(), &handle).await.unwrap(),
        0,
        "idempotent"
    );
    no_drift(&app).await;
    assert_eq!(
        walk(&op, "partnerId=pub-one&status=pending", 1).await,
        pending
    );
}

#[tokio::test]
async fn a_bulk_review_answers_each_line_and_refuses_an_empty_or_oversized_list_in_words() {
    let app = spawn_app().await;
    // A 30-day hold: the lines stay pending while the test reviews them.
    let plan = json!({"currency": "EUR", "holdDays": 30,
        "rules": [{"eventType": "purchase", "flat": "2.00"}]});
    partner_with_plan(&app, plan).await;
    let a = convert(&app, "b-1", "purchase", Some("100"), "EUR").await;
    let b = convert(&app, "b-2", "purchase", Some("100"), "EUR").await;
    let lines = ledger(&app, 2).await;
    let id = |c: &str| line(&lines, c)["commissionId"].as_str().unwrap().to_owned();
    let (id_a, id_b) = (id(&a), id(&b));
    // Another line's id with its last digit changed: well formed, no such line.
    let last = id_a.chars().last().unwrap();
    let missing = format!(
        "{}{}",
        &id_a[..id_a.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    let op = app.as_role("acme", Role::Operator);

    let body = json!({"commissionIds": [id_a, missing, id_b], "reason": "duplicate orders"});
    let results = json_of(op.review_commissions("reject", &body).await, 200).await;
    let results = results["results"].as_array().unwrap();
    assert_eq!(results.len(), 3, "{results:?}");
    assert_eq!(results[0]["commissionId"], id_a);
    assert_eq!(results[0]["commission"]["status"], "rejected");
    assert_eq!(results[1]["commissionId"], missing);
    assert_eq!(results[1]["error"]["code"], "not_found", "{results:?}");
    assert_eq!(
        results[2]["commission"]["status"], "rejected",
        "one refusal stops no other"
    );

    for (ids, words) in [
        (json!([]), "commissionIds: expected 1 to 100 ids."),
        (
            json!(vec![id_a.clone(); 101]),
            "commissionIds: expected 1 to 100 ids.",
        ),
        (
            json!([id_b, "nope"]),
            "commissionIds[1]: `nope` is not a commission id.",
        ),
    ] {
        let body = json!({"commissionIds": ids, "reason": "checked"});
        let message = assert_error(
            op.review_commissions("reject", &body).await,
            400,
            "invalid_request",
        )
        .await;
        assert!(message.contains(words), "{message}");
    }
    let message = assert_error(
        op.review_commissions("reject", &json!({"commissionIds": [id_b]}))
            .await,
        400,
        "invalid_request",
    )
    .await;
    assert!(
        message.contains("reason: is required to reject."),
        "{message}"
    );
}

#[tokio::test]
async fn yen_amounts_round_to_whole_yen_and_bad_plans_are_named() {
    let app = spawn_app().await;
    let plan = json!({"currency": "JPY", "holdDays": 0, "rules": [{"eventType": "purchase", "percent": "3"}]});
    partner_with_plan(&app, plan).await;
    let op = app.as_role("acme", Role::Operator);
    // The currency is fixed once set; a stale if-match is refused.
    let usd = json!({"currency": "USD", "rules": []});
    assert_error(op.put_plan("alpha", &usd).await, 409, "conflict").await;
    let bad = json!({"currency": "JPY", "rules": [{"eventType": "purchase", "flat": "1.5"}]});
    let message = assert_error(op.put_plan("alpha", &bad).await, 400, "invalid_request").await;
    assert!(message.starts_with("rules[0].flat"), "{message}");
    let a = convert(&app, "y-1", "purchase", Some("1250"), "JPY").await;
    let lines = ledger(&app, 1).await;
    // 3 % of 1250 = 37.5 → 38 yen.
    assert_eq!(line(&lines, &a)["amount"], "38");
    let run = json_of(
        op.run_payouts(
            "y",
            &json!({"periodEnd": tenx_shared::platform::time::now_rfc3339(), "minimums": {"JPY": "100"}}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(
        run["payouts"],
        json!([]),
        "38 yen is below the 100 yen minimum: carried over"
    );
    assert_error(
        op.run_payouts(
            "",
            &json!({"periodEnd": tenx_shared::platform::time::now_rfc3339()}),
        )
        .await,
        400,
        "invalid_request",
    )
    .await;
    let resp = op
        .run_payouts(
            "y",
            &json!({"periodEnd": tenx_shared::platform::time::now_rfc3339()}),
        )
        .await;
    assert_error(resp, 409, "idempotency_key_reused").await;
}

/// Exactly once: the same conversion accrued again and again, concurrently (a redelivery, the
/// sweeper, a replay), writes ONE line and takes ONE cap slot. With random ids, it would be five.
#[tokio::test]
async fn a_replayed_conversion_earns_one_commission_and_concurrent_runs_pay_it_once() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "holdDays": 0,
        "rules": [{"eventType": "purchase", "flat": "1.00"}], "caps": {"conversionsPerDay": 10}});
    partner_with_plan(&app, plan).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(convert(&app, &format!("k-{i}"), "purchase", Some("10"), "EUR").await);
    }
    ledger(&app, 6).await;
    let state = app.state();
    let handle = tenx_shared::domain::Handle::parse("acme").unwrap();
    let id = tenx_shared::domain::ConversionId::parse(&ids[0]).unwrap();
    let (_, data) = tenx_shared::conversions::record::load(state.store.as_ref(), &handle, &id)
        .await
        .unwrap()
        .unwrap();
    let replays = (0..5).map(|_| {
        tenx_shared::ledger::accrue::accrue(state.io(), &tenx_shared::risk::Holds, &handle, &data)
    });
    for r in futures::future::join_all(replays).await {
        assert_eq!(r.unwrap().unwrap().amount_minor, Some(100));
    }
    let lines = ledger(&app, 6).await;
    assert_eq!(
        lines
            .iter()
            .filter(|l| l["conversionId"] == ids[0].as_str())
            .count(),
        1
    );
    // The approval sweep persists the approval (the hold is 0 days): every line is approved.
    tenx_shared::ledger::due::sweep(state.io(), tenx_shared::platform::time::now_millis())
        .await
        .unwrap();
    let swept = json_of(op_view(&app).list_commissions("limit=100").await, 200).await;
    let statuses: Vec<&Value> = swept["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["status"])
        .collect();
    assert!(statuses.iter().all(|s| *s == "approved"), "{statuses:?}");
    // Two runs with different keys at once: each line in at most one payout.
    let op = app.as_role("acme", Role::Operator);
    let period = json!({"periodEnd": tenx_shared::platform::time::now_rfc3339()});
    let (r1, r2) = tokio::join!(
        op.run_payouts("race-1", &period),
        op.run_payouts("race-2", &period)
    );
    let (r1, r2) = (json_of(r1, 201).await, json_of(r2, 201).await);
    let all: Vec<&Value> = r1["payouts"]
        .as_array()
        .unwrap()
        .iter()
        .chain(r2["payouts"].as_array().unwrap())
        .collect();
    let after = json_of(op.list_commissions("limit=100").await, 200).await;
    let states: Vec<(Value, Value, Value)> = after["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["status"].clone(),
                l["payoutId"].clone(),
                l["availableAt"].clone(),
            )
        })
        .collect();
    assert_eq!(
        cents(all.iter().map(|p| p["amount"].clone())),
        600,
        "{r1} {r2} {states:?} {period}"
    );
    let counted: u64 = all
        .iter()
        .map(|p| p["commissionCount"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, 6);
    let sequences: Vec<u64> = all
        .iter()
        .map(|p| p["sequence"].as_u64().unwrap())
        .collect();
    assert!(
        sequences.iter().all(|s| *s >= 1) && (sequences.len() < 2 || sequences[0] != sequences[1]),
        "{sequences:?}"
    );
}

#[tokio::test]
async fn partners_are_validated_and_campaigns_need_an_existing_one() {
    let app = spawn_app().await;
    let op = app.as_role("acme", Role::Operator);
    let bad =
        json!({"partnerId": "p1", "name": "P", "postbackUrl": "https://t.example/?x={payout}"});
    let message = assert_error(op.create_partner(&bad).await, 400, "invalid_request").await;
    assert!(message.starts_with("postbackUrl"), "{message}");
    let ok = json!({"partnerId": "p1", "name": "P"});
    let created = json_of(op.create_partner(&ok).await, 201).await;
    assert_eq!(
        created["postbackEvents"],
        json!(["commission.approved", "commission.reversed"])
    );
    assert_error(op.create_partner(&ok).await, 409, "conflict").await;
    let suspended = json_of(
        op.update_partner("p1", &json!({"status": "suspended"}))
            .await,
        200,
    )
    .await;
    assert_eq!(suspended["status"], "suspended");
    let campaign = json!({"campaignId": "beta", "goalType": "PURCHASE", "partnerId": "nobody",
        "primaryLink": {"slug": "b", "destinationUrl": "https://shop.example.com/"}});
    let message = assert_error(op.create_campaign(&campaign).await, 400, "invalid_request").await;
    assert!(message.starts_with("partnerId"), "{message}");
    // A viewer reads but cannot write.
    let viewer = app.as_role("acme", Role::Viewer);
    assert_error(
        viewer
            .create_partner(&json!({"partnerId": "p2", "name": "Q"}))
            .await,
        403,
        "insufficient_role",
    )
    .await;
    assert_error(
        viewer.get("/commissions/com_0").await,
        400,
        "invalid_request",
    )
    .await;
    assert_error(
        viewer
            .get("/payouts/pay_0123456789abcdef0123456789abcdef")
            .await,
        404,
        "not_found",
    )
    .await;
}

/// Issue 31: a partner checks its statements offline, with `tenx verify` and with a stock JOSE
/// library; tampering with a line, the order of the chain, the type or the key fails, and a
/// rotated key still verifies what the old one signed.
#[tokio::test]
async fn statements_proofs_and_chains_verify_offline_and_tampering_fails() {
    use tenx_shared::payouts::verify;
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "holdDays": 0, "rules": [{"eventType": "purchase", "percent": "10"}]});
    partner_with_plan(&app, plan).await;
    let op = app.as_role("acme", Role::Operator);
    let mut statements = Vec::new();
    for (round, values) in [["10", "20", "30"], ["40", "50", "60"]].iter().enumerate() {
        for (i, v) in values.iter().enumerate() {
            convert(&app, &format!("s-{round}-{i}"), "purchase", Some(v), "EUR").await;
        }
        ledger(&app, 3 * (round + 1)).await;
        let period = json!({"periodEnd": tenx_shared::platform::time::now_rfc3339()});
        let run = json_of(op.run_payouts(&format!("s-{round}"), &period).await, 201).await;
        let pid = run["payouts"][0]["payoutId"].as_str().unwrap().to_owned();
        statements.push((
            pid.clone(),
            json_of(op.statement(&pid, "json").await, 200).await,
        ));
    }
    let keys = json_of(
        app.client
            .get(app.url("/v2/public/keys"))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let jwks: tenx_shared::domain::proof::jws::Jwks = serde_json::from_value(keys.clone()).unwrap();
    let (pid, first) = &statements[0];
    let second = &statements[1].1;
    assert_eq!(verify::statement(first, &jwks).map(|_| ()), Ok(()));
    // The plan versions its lines were paid under (issue 47), each once.
    assert_eq!(
        first["planVersions"],
        json!([{"campaignId": "alpha", "planVersion": 1}])
    );
    assert_eq!(first["header"]["previousStatementHash"], Value::Null);
    // Each line says when it was earned (outside its leaf: the statement verifies with it).
    for line in first["lines"].as_array().unwrap() {
        let earned = line["earnedAt"].as_str().unwrap_or_default();
        assert!(
            tenx_shared::domain::time::Timestamp::parse(earned).is_some(),
            "{line}"
        );
    }
    assert!(second["header"]["previousStatementHash"].is_string());
    verify::chain(&[first.clone(), second.clone()], &jwks).expect("the chain verifies");
    let fails = |doc: &Value| verify::any(doc, &jwks).unwrap_err().0;
    // A changed amount, a removed line, a reordered chain.
    let mut changed = first.clone();
    changed["lines"][0]["amount"] = json!("9.00");
    assert!(fails(&changed).starts_with("lines"), "{}", fails(&changed));
    let mut removed = first.clone();
    removed["lines"].as_array_mut().unwrap().pop();
    assert!(fails(&removed).starts_with("lines"), "{}", fails(&removed));
    let mut header_changed = first.clone();
    header_changed["header"]["amount"] = json!("600.00");
    assert!(
        fails(&header_changed).starts_with("header"),
        "{}",
        fails(&header_changed)
    );
    let reordered = json!([second, first]);
    assert!(
        fails(&reordered).contains("does not follow"),
        "{}",
        fails(&reordered)
    );
    // Every commission carries its conversion's signed receipt, which verifies on its own.
    let lines = json_of(op.list_commissions("limit=100").await, 200).await;
    let line0 = &lines["items"][0];
    let receipt = line0["receipt"].as_str().expect("a receipt");
    let signed = verify::receipt(receipt, &jwks).expect("the receipt verifies");
    assert_eq!(signed["conversionId"], line0["conversionId"]);
    assert_eq!(
        (signed["handle"].as_str(), signed["currency"].as_str()),
        (Some("acme"), Some("EUR"))
    );
    // A real receipt passed off as a statement's signature is refused.
    let mut passed_off = first.clone();
    passed_off["jws"] = json!(receipt);
    assert!(
        fails(&passed_off).contains("not a tenx-statement+jws"),
        "{}",
        fails(&passed_off)
    );
    // A receipt-typed signature passed off as a statement's, and a key nobody published.
    let state = app.state();
    let signer = state.signing().unwrap();
    let canonical = tenx_shared::domain::proof::jcs::canonical(&first["header"]);
    let mut retyped = first.clone();
    retyped["jws"] = json!(signer.sign(
        tenx_shared::domain::proof::jws::RECEIPT_TYP,
        canonical.as_bytes()
    ));
    assert!(
        fails(&retyped).contains("not a tenx-statement+jws"),
        "{}",
        fails(&retyped)
    );
    let stranger = tenx_shared::domain::proof::jws::ProofKeyring::parse(
        &tenx_shared::domain::proof::jws::ProofKeyring::generate_spec(),
    )
    .unwrap();
    assert!(verify::statement(first, &stranger.jwks()).is_err());
    // Rotation: a new active key with the old one retired still verifies the old statement.
    let rotated = tenx_shared::domain::proof::jws::ProofKeyring::parse(&format!(
        "{},{}",
        tenx_shared::domain::proof::jws::ProofKeyring::generate_spec(),
        app.config.signing_keys
    ))
    .unwrap();
    assert!(verify::statement(first, &rotated.jwks()).is_ok());
    // A proof for one commission: its leaf is under the signed root; a forged leaf is not.
    let commission = first["lines"][1]["commissionId"].as_str().unwrap();
    let rest = format!("/payouts/{pid}/proof?commissionId={commission}");
    let proof = json_of(op.get(&rest).await, 200).await;
    assert_eq!(proof["leafIndex"], 1);
    verify::proof(&proof, &jwks).expect("the proof verifies");
    let mut forged = proof.clone();
    forged["leaf"] = json!(
        proof["leaf"]
            .as_str()
            .unwrap()
            .replace("\"amount\":\"2.00\"", "\"amount\":\"20.00\"")
    );
    assert_ne!(forged["leaf"], proof["leaf"]);
    assert!(verify::proof(&forged, &jwks).is_err());
    let absent = format!("/payouts/{pid}/proof?commissionId=com_0123456789abcdef0123456789abcdef");
    assert_error(op.get(&absent).await, 404, "not_found").await;
    // What is not a commission id is in no statement either.
    let malformed = format!("/payouts/{pid}/proof?commissionId=not-a-line");
    let message = assert_error(op.get(&malformed).await, 404, "not_found").await;
    assert!(message.contains("not-a-line"), "{message}");
    // A stock JOSE library verifies the signature over the canonical header.
    let x = keys["keys"][0]["x"].as_str().unwrap();
    let key = jsonwebtoken::DecodingKey::from_ed_components(x).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let token = first["jws"].as_str().unwrap();
    let decoded = jsonwebtoken::decode::<Value>(token, &key, &validation).expect("EdDSA verifies");
    assert_eq!(decoded.claims, first["header"]);
    assert_eq!(decoded.header.typ.as_deref(), Some("tenx-statement+jws"));
    // `tenx verify` on files, as a partner runs it.
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, v: &Value| {
        let p = dir.path().join(name);
        std::fs::write(&p, v.to_string()).unwrap();
        p
    };
    let keys_file = write("keys.json", &keys);
    let cli = |file: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tenx"))
            .arg("verify")
            .arg(file)
            .arg("--keys")
            .arg(&keys_file)
            .output()
            .unwrap()
    };
    let ok = cli(&write("statement.json", first));
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("statement verified"));
    let bad = cli(&write("changed.json", &changed));
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("lines"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

/// Issue 31: two partners on one handle; each partner token sees exactly its own partner
/// record, campaigns, plans, commissions, balances, payouts, statements and proofs; the
/// other's ids answer 404, and a route a partner may not use answers `403 insufficient_scope`.
#[tokio::test]
async fn two_partners_each_see_only_their_own_data() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "holdDays": 0, "rules": [{"eventType": "purchase", "percent": "10"}]});
    partner_with_plan(&app, plan.clone()).await;
    let op = app.as_role("acme", Role::Operator);
    json_of(
        op.create_partner(&json!({"partnerId": "pub-two", "name": "Publisher Two"}))
            .await,
        201,
    )
    .await;
    let beta = json!({"campaignId": "beta", "goalType": "PURCHASE", "partnerId": "pub-two",
        "primaryLink": {"slug": "deal-b", "destinationUrl": "https://shop.example.com/b"}});
    json_of(op.create_campaign(&beta).await, 201).await;
    json_of(op.put_plan("beta", &plan).await, 200).await;
    convert(&app, "a-1", "purchase", Some("100"), "EUR").await;
    let headers = [("user-agent", IPHONE), ("cloudfront-viewer-country", "US")];
    let resp = app.visit(Method::GET, "acme", "/deal-b", &headers).await;
    let ctx = query_param(header_str(resp.headers(), "location"), "ctx").unwrap();
    let body = json!({"ctx": ctx, "idempotencyKey": "b-1", "eventType": "purchase", "value": "50", "currency": "EUR"});
    json_of(
        app.as_role("acme", Role::Creator)
            .convert_verified(&body)
            .await,
        202,
    )
    .await;
    ledger(&app, 2).await;
    let period = json!({"periodEnd": tenx_shared::platform::time::now_rfc3339()});
    let run = json_of(op.run_payouts("both", &period).await, 201).await;
    let payout_of = |partner: &str| {
        run["payouts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["partnerId"] == partner)
            .unwrap()["payoutId"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let ids = [
        ("pub-one", "alpha", payout_of("pub-one")),
        ("pub-two", "beta", payout_of("pub-two")),
    ];
    let all = json_of(op.list_commissions("").await, 200).await;
    let commission_of = |partner: &str| {
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["partnerId"] == partner)
            .unwrap()["commissionId"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for (me, other) in [(0, 1), (1, 0)] {
        let (partner, campaign, payout) = &ids[me];
        let (o_partner, o_campaign, o_payout) = &ids[other];
        let token = partner_token(&app, "acme", partner).await;
        let me_as = app.with_token("acme", &token);
        let mine = commission_of(partner);
        let theirs = commission_of(o_partner);
        // Its own data, on every partner route.
        for rest in [
            format!("/partners/{partner}"),
            format!("/campaigns/{campaign}"),
            format!("/campaigns/{campaign}/commission-plan"),
            format!("/commissions/{mine}"),
            format!("/payouts/{payout}"),
            format!("/payouts/{payout}/statement"),
            format!("/payouts/{payout}/proof?commissionId={mine}"),
        ] {
            json_of(me_as.get(&rest).await, 200).await;
        }
        let listed = json_of(me_as.get("/commissions").await, 200).await;
        let partners: Vec<&Value> = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| &c["partnerId"])
            .collect();
        assert_eq!(partners, [&json!(partner)], "{listed}");
        let asked_other = json_of(
            me_as
                .get(&format!("/commissions?partnerId={o_partner}"))
                .await,
            200,
        )
        .await;
        assert!(
            asked_other["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["partnerId"] == *partner)
        );
        let campaigns = json_of(me_as.get("/campaigns").await, 200).await;
        assert_eq!(campaigns["items"].as_array().unwrap().len(), 1);
        assert_eq!(campaigns["items"][0]["campaignId"], *campaign);
        // Its links (the primary link of its campaign) and its funnel, nobody else's.
        let links = json_of(me_as.get("/links").await, 200).await;
        let slugs: Vec<&Value> = links["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| &l["slug"])
            .collect();
        let (my_slug, their_slug) = if me == 0 {
            ("deal", "deal-b")
        } else {
            ("deal-b", "deal")
        };
        assert_eq!(slugs, [&json!(my_slug)], "{links}");
        json_of(me_as.get(&format!("/links/{my_slug}")).await, 200).await;
        assert_error(
            me_as.get(&format!("/links/{their_slug}")).await,
            404,
            "not_found",
        )
        .await;
        let funnel = json_of(me_as.get("/analytics").await, 200).await;
        let rows: Vec<&Value> = funnel["campaigns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| &r["campaignId"])
            .collect();
        assert_eq!(rows, [&json!(campaign)], "{funnel}");
        assert_error(
            me_as
                .get(&format!("/analytics?campaignId={o_campaign}"))
                .await,
            404,
            "not_found",
        )
        .await;
        assert_error(
            me_as.get("/analytics?orphans=true").await,
            403,
            "insufficient_scope",
        )
        .await;
        let payouts = json_of(me_as.get("/payouts").await, 200).await;
        assert_eq!(payouts["items"].as_array().unwrap().len(), 1);
        let balances = json_of(
            me_as.get(&format!("/balances?partnerId={o_partner}")).await,
            200,
        )
        .await;
        assert_eq!(balances["items"].as_array().unwrap().len(), 1);
        assert_eq!(balances["items"][0]["partnerId"], *partner);
        // `GET …/partners` answers its own record only (how the console learns whose token).
        let mine = json_of(me_as.get("/partners").await, 200).await;
        assert_eq!(mine["items"].as_array().unwrap().len(), 1, "{mine}");
        assert_eq!(mine["items"][0]["partnerId"], *partner);
        json_of(
            me_as.get(&format!("/partners/{partner}/postbacks")).await,
            200,
        )
        .await;
        // The other's ids: 404, as if they did not exist.
        for rest in [
            format!("/partners/{o_partner}"),
            format!("/partners/{o_partner}/postbacks"),
            format!("/campaigns/{o_campaign}"),
            format!("/campaigns/{o_campaign}/commission-plan"),
            format!("/commissions/{theirs}"),
            format!("/payouts/{o_payout}"),
            format!("/payouts/{o_payout}/statement"),
            format!("/payouts/{o_payout}/proof?commissionId={theirs}"),
        ] {
            assert_error(me_as.get(&rest).await, 404, "not_found").await;
        }
        // Routes a partner may not use at all.
        assert_error(me_as.get("/fx-rates").await, 403, "insufficient_scope").await;
        assert_error(me_as.list_conversions("").await, 403, "insufficient_scope").await;
        assert_error(
            me_as.run_payouts("x", &period).await,
            403,
            "insufficient_scope",
        )
        .await;
        assert_error(
            me_as.put_plan(campaign, &plan).await,
            403,
            "insufficient_scope",
        )
        .await;
        assert_error(
            app.with_token("other-handle", &token)
                .get("/commissions")
                .await,
            403,
            "forbidden",
        )
        .await;
    }
    // Revoked: refused on the next request; a suspended partner gets no new token.
    let minted = op
        .send_json(
            Method::POST,
            "/partners/pub-one/tokens",
            &json!({"name": "short"}),
        )
        .await;
    let minted = json_of(minted, 201).await;
    let token = minted["token"].as_str().unwrap();
    json_of(app.with_token("acme", token).get("/balances").await, 200).await;
    let listed = json_of(op.get("/partners/pub-one/tokens").await, 200).await;
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t.get("token").is_none() && t.get("hash").is_none())
    );
    let revoke = format!(
        "/partners/pub-one/tokens/{}",
        minted["tokenId"].as_str().unwrap()
    );
    assert_eq!(op.send_empty(Method::DELETE, &revoke).await.status(), 204);
    assert_error(
        app.with_token("acme", token).get("/balances").await,
        401,
        "unauthorized",
    )
    .await;
    json_of(
        op.update_partner("pub-two", &json!({"status": "suspended"}))
            .await,
        200,
    )
    .await;
    let refused = op
        .send_json(
            Method::POST,
            "/partners/pub-two/tokens",
            &json!({"name": "x"}),
        )
        .await;
    assert_error(refused, 409, "invalid_state").await;
}

/// The day's qualified clicks are paid once, after the day closes; clicks counted later become
/// one adjustment; sweeping again writes nothing twice.
#[tokio::test]
async fn qualified_clicks_accrue_once_per_closed_day_with_late_clicks_adjusted() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "holdDays": 0,
        "rules": [{"qualifiedClick": true, "flat": "0.05"}, {"eventType": "purchase", "flat": "1.00"}]});
    partner_with_plan(&app, plan).await;
    let viewer = app.as_role("acme", Role::Viewer);
    let qualified = |n: i64| {
        let viewer = &viewer;
        async move {
            eventually_or(&format!("{n} qualified clicks"), || async {
                let f = json_of(viewer.get("/analytics?campaignId=alpha").await, 200).await;
                if f["totals"]["qualifiedClicks"].as_i64() >= Some(n) {
                    Ok(())
                } else {
                    Err(f["totals"].to_string())
                }
            })
            .await;
        }
    };
    for _ in 0..3 {
        new_ctx(&app).await;
    }
    qualified(3).await;
    let state = app.state();
    let now = tenx_shared::platform::time::now_millis();
    let tomorrow = now + 86_400_000 + 2 * 3_600_000;
    let sweep = tenx_shared::ledger::qualified_clicks::sweep;
    assert_eq!(
        sweep(state.io(), now).await.unwrap(),
        0,
        "the day is not closed yet"
    );
    assert_eq!(sweep(state.io(), tomorrow).await.unwrap(), 1);
    assert_eq!(
        sweep(state.io(), tomorrow).await.unwrap(),
        0,
        "once per day"
    );
    let lines = ledger(&app, 1).await;
    assert_eq!(
        (lines[0]["kind"].as_str(), lines[0]["clickCount"].as_i64()),
        (Some("click_day"), Some(3))
    );
    assert_eq!(lines[0]["amount"], "0.15");
    // A click counted after the accrual: one adjustment when the day is read again.
    new_ctx(&app).await;
    qualified(4).await;
    let later = now + 4 * 86_400_000 + 3_600_000;
    assert_eq!(sweep(state.io(), later).await.unwrap(), 1);
    assert_eq!(sweep(state.io(), later).await.unwrap(), 0);
    let lines = ledger(&app, 2).await;
    let late = lines
        .iter()
        .find(|l| l["kind"] == "adjustment")
        .expect("the late clicks");
    assert_eq!(
        (late["amount"].as_str(), late["clickCount"].as_i64()),
        (Some("0.05"), Some(1))
    );
    assert_eq!(
        late["adjustsCommissionId"],
        lines.iter().find(|l| l["kind"] == "click_day").unwrap()["commissionId"]
    );
}

/// A campaign whose numbers are not to be trusted (bots, more conversions than qualified
/// clicks) has its new commissions held, with the score and its window recorded.
#[tokio::test]
async fn commissions_of_a_low_confidence_campaign_are_held() {
    let app = spawn_app().await;
    let op = app.as_role("acme", Role::Operator);
    Program::on(&app, "acme")
        .instant()
        .await
        .named_partner("pub-one", "P")
        .await
        .campaign("alpha", Some("pub-one"), "deal")
        .await;
    // Before the plan: one human click, three bot clicks, two conversions on the one click.
    let ctx = new_ctx(&app).await;
    let bot = [(
        "user-agent",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    )];
    for _ in 0..3 {
        app.visit(Method::GET, "acme", "/deal", &bot).await;
    }
    let merchant = app.as_role("acme", Role::Creator);
    for key in ["early-1", "early-2"] {
        let body = json!({"ctx": ctx, "idempotencyKey": key, "eventType": "purchase", "value": "10", "currency": "EUR"});
        json_of(merchant.convert_verified(&body).await, 202).await;
    }
    let viewer = app.as_role("acme", Role::Viewer);
    eventually_or("the campaign's confidence below 50", || async {
        let f = json_of(viewer.get("/analytics?campaignId=alpha").await, 200).await;
        match f["campaigns"][0]["confidence"].as_i64().unwrap() {
            low if low < 50 => Ok(()),
            confidence => Err(format!("the campaign's confidence stayed {confidence}")),
        }
    })
    .await;
    let plan = json!({"currency": "EUR", "holdDays": 0, "rules": [{"eventType": "purchase", "flat": "1.00"}]});
    json_of(op.put_plan("alpha", &plan).await, 200).await;
    let body = json!({"ctx": ctx, "idempotencyKey": "late-1", "eventType": "purchase", "value": "10", "currency": "EUR"});
    json_of(merchant.convert_verified(&body).await, 202).await;
    let lines = ledger(&app, 1).await;
    assert_eq!(lines[0]["status"], "held", "{}", lines[0]);
    assert!(
        lines[0]["reasons"]
            .as_array()
            .unwrap()
            .contains(&json!("low_confidence"))
    );
    let recorded = lines[0]["confidence"]["value"].as_i64().unwrap();
    assert!(recorded < 50, "{}", lines[0]);
    assert!(lines[0]["confidence"]["from"].is_string() && lines[0]["confidence"]["to"].is_string());
}

#[tokio::test]
async fn a_plan_preview_earns_what_the_ledger_writes_and_explains_bad_drafts() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "holdDays": 0,
        "rules": [{"eventType": "purchase", "percent": "10"}]});
    partner_with_plan(&app, plan).await;
    let viewer = app.as_role("acme", Role::Viewer);
    // The version in force: 10 % of 33.35 EUR = 3.335, rounded once, as the ledger rounds it.
    let sample = json!({"eventType": "purchase", "value": "33.35", "currency": "EUR"});
    let got = json_of(viewer.preview_plan("alpha", &sample).await, 200).await;
    assert_eq!(
        got,
        json!({"amount": "3.34", "currency": "EUR", "reasons": [], "fxRate": null, "planVersion": 1,
            "ruleIndex": 0})
    );
    let d = convert(&app, "o-1", "purchase", Some("33.35"), "EUR").await;
    assert_eq!(line(&ledger(&app, 1).await, &d)["amount"], got["amount"]);

    // A draft in yen, a value in dollars with no rate yet: no amount, and why.
    let draft = json!({"plan": {"currency": "JPY", "rules": [{"eventType": "purchase", "percent": "12.5"}]},
        "eventType": "purchase", "value": "24.99", "currency": "USD"});
    let got = json_of(viewer.preview_plan("alpha", &draft).await, 200).await;
    assert_eq!(got["amount"], Value::Null);
    assert_eq!(got["reasons"], json!(["fx_rate_missing"]));
    assert_eq!(got["planVersion"], Value::Null);
    let op = app.as_role("acme", Role::Operator);
    let as_of = tenx_shared::domain::time::unix_to_rfc3339(now() - 60);
    let rates = json!({"base": "USD", "rates": {"JPY": "151.37"}, "asOf": as_of});
    json_of(op.post_fx_rates(&rates).await, 201).await;
    // 24.99 × 151.37 × 12.5 % = 472.84... → 473 yen (no minor unit).
    let got = json_of(viewer.preview_plan("alpha", &draft).await, 200).await;
    assert_eq!(
        (got["amount"].as_str(), got["fxRate"].as_str()),
        (Some("473"), Some("151.37"))
    );
    // Nothing was stored: the plan in force is still version 1, in EUR.
    let plan = json_of(viewer.get("/campaigns/alpha/commission-plan").await, 200).await;
    assert_eq!(
        (plan["version"].as_u64(), plan["currency"].as_str()),
        (Some(1), Some("EUR"))
    );

    // Bad drafts and samples name the field; an unknown campaign without a draft is a 404.
    let bad =
        json!({"plan": {"currency": "EUR", "rules": [{"percent": "10"}]}, "eventType": "purchase"});
    let e = json_of(viewer.preview_plan("alpha", &bad).await, 400).await;
    assert_eq!(e["error"]["code"], "invalid_request");
    let message = e["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("plan.rules[0]"), "{e}");
    let bad = json!({"eventType": "purchase", "value": "1.234", "currency": "EUR"});
    let e = json_of(viewer.preview_plan("alpha", &bad).await, 400).await;
    assert!(
        e["error"]["message"].as_str().unwrap().starts_with("value"),
        "{e}"
    );
    let bad = json!({"eventType": "purchase", "value": "-1"});
    assert_error(
        viewer.preview_plan("alpha", &bad).await,
        400,
        "invalid_request",
    )
    .await;
    let none = json!({"eventType": "purchase"});
    assert_error(viewer.preview_plan("nope", &none).await, 404, "not_found").await;
    assert_error(viewer.preview_plan("nope", &draft).await, 404, "not_found").await;
    let fake = json!({"plan": {"currency": "AAA", "rules": [{"eventType": "purchase", "flat": "1"}]},
        "eventType": "purchase"});
    let e = json_of(viewer.preview_plan("alpha", &fake).await, 400).await;
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("plan.currency"),
        "{e}"
    );
}

#[tokio::test]
async fn postbacks_fire_with_the_macros_filled_retry_with_the_same_values_and_send_reversals_negative()
 {
    let app = spawn_with(crate::webhooks::webhook_config(50), None).await;
    let plan = json!({"currency": "EUR", "holdDays": 0,
        "rules": [{"eventType": "purchase", "percent": "10"}]});
    partner_with_plan(&app, plan).await;
    let receiver = crate::webhooks::Receiver::start().await;
    let op = app.as_role("acme", Role::Operator);
    let bad = json!({"postbackUrl": "https://t.example/pb?x={payout}"});
    let e = json_of(op.update_partner("pub-one", &bad).await, 400).await;
    assert!(
        e["error"]["message"].as_str().unwrap().contains("{payout}"),
        "{e}"
    );
    let template = receiver.url(
        "/pb?click={click_id}&s1={sub1}&amt={commission}&cur={currency}&st={status}&cid={commission_id}&cnv={conversion_id}",
    );
    let set = json!({"postbackUrl": template});
    let partner = json_of(op.update_partner("pub-one", &set).await, 200).await;
    assert_eq!(
        partner["postbackEvents"],
        json!(["commission.approved", "commission.reversed"])
    );
    // The tracker fails once: the retry carries the same values.
    receiver.script("/pb", &[503], 200);

    let a = convert(&app, "o-1", "purchase", Some("100"), "EUR").await;
    let id = line(&ledger(&app, 1).await, &a)["commissionId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        receiver.captured("/pb").is_empty(),
        "a pending line fires nothing"
    );
    // The payout run approves the line (commission.approved) and pays it.
    let period = json!({"periodEnd": tenx_shared::platform::time::now_rfc3339()});
    json_of(op.run_payouts("run-1", &period).await, 201).await;
    let got = receiver.wait_for("/pb", 2).await;
    assert_eq!(
        (got[0].method.as_str(), got[1].method.as_str()),
        ("GET", "GET")
    );
    assert_eq!(got[0].query, got[1].query, "a retry sends the same values");
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    let click = line(&ledger(&app, 1).await, &a)["clickId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        got[0].query,
        format!("click={click}&s1=abc&amt=10.00&cur=EUR&st=approved&cid={id}&cnv={a}")
    );

    // A refund after the payout: a clawback, sent with its negative amount.
    json_of(
        op.reverse(&a, &json!({"reason": "refund", "amount": "30"}))
            .await,
        201,
    )
    .await;
    let got = receiver.wait_for("/pb", 3).await;
    assert!(
        got[2].query.contains("&amt=-3.00&cur=EUR&"),
        "{}",
        got[2].query
    );

    // The postback log (the partner's deliveries), and the postback among the subscriptions.
    let log = json_of(op.get("/partners/pub-one/postbacks").await, 200).await;
    let codes: Vec<&Value> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["statusCode"])
        .collect();
    assert!(
        codes.contains(&&json!(503)) && codes.contains(&&json!(200)),
        "{log}"
    );
    let subs = json_of(op.list_webhooks().await, 200).await;
    let pb = subs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["partnerId"] == "pub-one");
    let pb_id = pb.expect("the postback is listed")["subscriptionId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_error(op.delete_webhook(&pb_id).await, 409, "conflict").await;
    assert_error(op.get("/partners/nobody/postbacks").await, 404, "not_found").await;
    // Cleared on the partner: gone from the subscriptions.
    json_of(
        op.update_partner("pub-one", &json!({"postbackUrl": null}))
            .await,
        200,
    )
    .await;
    let subs = json_of(op.list_webhooks().await, 200).await;
    assert!(
        subs["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["partnerId"].is_null()),
        "{subs}"
    );
}

#[tokio::test]
async fn a_line_waiting_for_its_rate_holds_its_days_slot_and_counts_on_the_month_when_computed() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "holdDays": 0,
        "rules": [{"eventType": "purchase", "percent": "10"}],
        "caps": {"conversionsPerDay": 2, "amountPerMonth": "5.00"}});
    partner_with_plan(&app, plan).await;
    let b = convert(&app, "o-1", "purchase", Some("30"), "USD").await;
    let lines = ledger(&app, 1).await;
    assert_eq!(line(&lines, &b)["reasons"], json!(["fx_rate_missing"]));
    let c = convert(&app, "o-2", "purchase", Some("40"), "EUR").await;
    let d = convert(&app, "o-3", "purchase", Some("10"), "EUR").await;
    let lines = ledger(&app, 3).await;
    assert_eq!(line(&lines, &c)["amount"], "4.00");
    // The day's third conversion: b holds the first slot though it has no amount yet.
    assert_eq!(line(&lines, &d)["status"], "capped");
    assert_eq!(
        line(&lines, &d)["reasons"],
        json!(["cap_conversions_per_day"])
    );

    // The rate: 30 USD = 24 EUR → 2.40, but the month has 1.00 left of its 5.00.
    let op = app.as_role("acme", Role::Operator);
    let as_of = tenx_shared::domain::time::unix_to_rfc3339(now() - 3600);
    let rates = json!({"base": "EUR", "rates": {"USD": "1.25"}, "asOf": as_of});
    json_of(op.post_fx_rates(&rates).await, 201).await;
    let id_b = line(&lines, &b)["commissionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let got = json_of(op.get(&format!("/commissions/{id_b}")).await, 200).await;
    assert_eq!(
        (got["amount"].as_str(), got["status"].as_str()),
        (Some("1.00"), Some("pending")),
        "{got}"
    );
    assert_eq!(got["reasons"], json!(["cap_amount_per_month_partial"]));
}

/// Refunds of sales whose lines wait for a rate: the rate computes each line and, in the same
/// write, the part its refund takes (a refund never lost to the wait).
#[tokio::test]
async fn a_refund_of_a_line_waiting_for_its_rate_is_taken_when_the_rate_arrives() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "holdDays": 0,
        "rules": [{"eventType": "purchase", "percent": "10"}]});
    partner_with_plan(&app, plan).await;
    let a = convert(&app, "o-1", "purchase", Some("50"), "USD").await;
    let b = convert(&app, "o-2", "purchase", Some("50"), "USD").await;
    ledger(&app, 2).await;
    let op = app.as_role("acme", Role::Operator);
    let partly = json!({"reason": "refund", "amount": "20"});
    json_of(op.reverse(&a, &partly).await, 201).await;
    json_of(op.reverse(&b, &json!({"reason": "refund"})).await, 201).await;
    let lines = ledger(&app, 4).await;
    assert!(
        lines.iter().all(|l| l["amount"].is_null()),
        "no amount before the rate: {lines:#?}"
    );

    let as_of = tenx_shared::domain::time::unix_to_rfc3339(now() - 3600);
    let rates = json!({"base": "EUR", "rates": {"USD": "1.25"}, "asOf": as_of});
    json_of(op.post_fx_rates(&rates).await, 201).await;
    let lines = ledger(&app, 4).await;
    let amounts = |conversion: &str| -> Vec<(String, String, String)> {
        let mut got: Vec<_> = lines
            .iter()
            .filter(|l| l["conversionId"] == conversion)
            .map(|l| {
                let text = |k: &str| l[k].as_str().unwrap_or("none").to_owned();
                (text("kind"), text("amount"), text("status"))
            })
            .collect();
        got.sort();
        got
    };
    // 50 USD at 1.25 is 40 EUR: 4.00; a refund of 20 of the 50 takes 40 % of it.
    let owned = |k: &str, a: &str, s: &str| (k.to_owned(), a.to_owned(), s.to_owned());
    assert_eq!(
        amounts(&a),
        [
            owned("adjustment", "-1.60", "pending"),
            owned("conversion", "4.00", "pending")
        ]
    );
    assert_eq!(
        amounts(&b),
        [
            owned("adjustment", "-4.00", "pending"),
            owned("conversion", "4.00", "pending")
        ]
    );
    assert!(
        lines.iter().all(|l| l["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r != "fx_rate_missing")),
        "{lines:#?}"
    );
    no_drift(&app).await;
}
