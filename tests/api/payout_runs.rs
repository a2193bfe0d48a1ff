//! Issue 43: a payout run at scale. Its lines are read a page at a time and claimed, paid or
//! freed in batched transactions. Its ids are kept in pages beside the payout, since 10^5 ids
//! would not fit one item. A run cut by a failed write leaves the running balances exact, and
//! its retry with the same key pays every line once.

use serde_json::{Value, json};
use tenx_shared::domain::proof::jws::Jwks;
use tenx_shared::http::auth::Role;
use tenx_shared::payouts::verify;

use crate::commissions::no_drift;
use crate::helpers::*;
use crate::scenario::{as_partner, partner, seed_lines};

/// More lines than a page of the live index (500) and than a page of payout ids (1,000).
const LINES: usize = 1_234;

fn period() -> Value {
    json!({"partnerId": "big", "periodEnd": tenx_shared::platform::time::now_rfc3339()})
}

async fn balance(app: &TestApp, partner: &str) -> Value {
    let op = app.as_role("acme", Role::Operator);
    let got = json_of(op.balances(&format!("partnerId={partner}")).await, 200).await;
    got["items"][0].clone()
}

#[tokio::test]
async fn a_payout_of_1234_lines_is_paged_sealed_and_settled_in_batches() {
    let (app, _switch) = spawn_with_failing_queue().await;
    partner(&app, "big").await;
    partner(&app, "small").await;
    let ids = seed_lines(&app, "big", LINES, 101).await;
    seed_lines(&app, "small", 3, 500).await;
    let op = app.as_role("acme", Role::Operator);

    let run = json_of(op.run_payouts("big-run", &period()).await, 201).await;
    let payouts = run["payouts"].as_array().unwrap();
    assert_eq!(payouts.len(), 1, "the named partner only: {run}");
    let payout = &payouts[0];
    assert_eq!(payout["amount"], "1246.34", "1,234 × 1.01");
    assert_eq!(payout["commissionCount"], LINES);
    let pid = payout["payoutId"].as_str().unwrap().to_owned();
    assert_eq!(balance(&app, "small").await["approved"], "15.00");

    // The statement lists every line once, in id order, under the signed root.
    let statement = json_of(op.statement(&pid, "json").await, 200).await;
    let listed: Vec<&str> = statement["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["commissionId"].as_str().unwrap())
        .collect();
    let mut expected: Vec<String> = ids.iter().map(ToString::to_string).collect();
    expected.sort();
    assert_eq!(listed, expected);
    assert_eq!(statement["header"]["treeSize"], LINES);
    let jwks: Jwks = serde_json::from_value(
        json_of(
            app.client
                .get(app.url("/v2/public/keys"))
                .send()
                .await
                .unwrap(),
            200,
        )
        .await,
    )
    .unwrap();
    verify::statement(&statement, &jwks).expect("the statement verifies");
    let last = listed[LINES - 1];
    let proof = json_of(
        op.get(&format!("/payouts/{pid}/proof?commissionId={last}"))
            .await,
        200,
    )
    .await;
    assert_eq!(proof["leafIndex"], LINES - 1);
    verify::proof(&proof, &jwks).expect("the last line's proof verifies");

    // Paid: every line moves from approved to paid, the balances with them.
    let paid = json!({"reference": "SEPA-2026-11"});
    assert_eq!(
        op.settle_payout(&pid, "mark-paid", &paid).await.status(),
        200
    );
    // One audit entry, by the operator's JWT, naming the payout and its reference (issue 60).
    let audit = json_of(op.get("/audit?action=payout.marked_paid").await, 200).await;
    let entries = audit["items"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert_eq!(entries[0]["actor"]["type"], "jwt");
    let target = entries[0]["target"].as_str().unwrap();
    assert!(
        target.contains(pid.as_str()) && target.contains("SEPA-2026-11"),
        "{target}"
    );
    let big = balance(&app, "big").await;
    assert_eq!(
        (big["approved"].as_str(), big["paid"].as_str()),
        (Some("0.00"), Some("1246.34"))
    );
    let listed = json_of(
        op.list_commissions("partnerId=big&status=paid&limit=1")
            .await,
        200,
    )
    .await;
    assert_eq!(listed["items"][0]["payoutId"], pid.as_str());
    no_drift(&app).await;
    // Nothing is left to pay.
    let again = json_of(op.run_payouts("big-run-2", &period()).await, 201).await;
    assert_eq!(again["payouts"], json!([]));
}

/// A run cut at several points by a failed transaction: the run answers 503, the balances
/// equal the lines, and the retry with the same key makes one payout of every line.
#[tokio::test]
async fn a_payout_run_cut_by_a_failed_write_leaves_balances_exact_and_its_retry_pays_once() {
    let (app, switch) = spawn_with_failing_queue().await;
    partner(&app, "big").await;
    seed_lines(&app, "big", 300, 100).await;
    let op = app.as_role("acme", Role::Operator);
    // One request, retried as it is (another periodEnd would be another run: 409).
    let period = period();
    // 300 lines are claimed in transactions of 100; each retry claims only what is left. Cut
    // at once, after 1 batch (100 lines), after 1 more (200), then after the last: at the
    // payout's own write.
    for pass in [0, 1, 1, 1] {
        switch.fail_transacts_after(pass, 1);
        let cut = op.run_payouts("cut-run", &period).await;
        let status = cut.status();
        assert_eq!(
            status,
            503,
            "cut after {pass}: {}",
            cut.text().await.unwrap()
        );
        assert_eq!(switch.remaining_transact_failures(), 0);
        no_drift(&app).await;
        let big = balance(&app, "big").await;
        assert_eq!(big["approved"], "300.00", "claimed lines stay approved");
    }
    let run = json_of(op.run_payouts("cut-run", &period).await, 201).await;
    let payout = &run["payouts"][0];
    assert_eq!(
        (
            payout["amount"].as_str(),
            payout["commissionCount"].as_u64()
        ),
        (Some("300.00"), Some(300))
    );
    let pid = payout["payoutId"].as_str().unwrap();
    let again = json_of(op.run_payouts("cut-run", &period).await, 201).await;
    assert_eq!(
        again["payouts"][0]["payoutId"], pid,
        "the retry answers the same payout"
    );
    let statement = json_of(op.statement(pid, "json").await, 200).await;
    assert_eq!(statement["lines"].as_array().unwrap().len(), 300);

    // Marking it paid, cut halfway: the repeat finishes the lines, nothing moves twice.
    switch.fail_transacts_after(2, 1);
    let body = json!({"reference": "WIRE-1"});
    let cut = op.settle_payout(pid, "mark-paid", &body).await;
    assert_eq!(cut.status(), 503);
    no_drift(&app).await;
    assert_eq!(
        op.settle_payout(pid, "mark-paid", &body).await.status(),
        200
    );
    let big = balance(&app, "big").await;
    assert_eq!(
        (big["approved"].as_str(), big["paid"].as_str()),
        (Some("0.00"), Some("300.00"))
    );
    no_drift(&app).await;
}

/// The payout ids of a page, and its cursor.
async fn payout_page(resp: reqwest::Response) -> (Vec<String>, Option<String>) {
    let page = json_of(resp, 200).await;
    let ids = page["items"].as_array().unwrap().iter();
    let ids = ids.map(|p| p["payoutId"].as_str().unwrap().to_owned());
    (
        ids.collect(),
        page["nextCursor"].as_str().map(str::to_owned),
    )
}

/// A partner's payouts are read from its own list: a page holds `limit` of its payouts, not
/// what is left of `limit` of the handle's after a filter, for the operator's `partnerId` and
/// the partner's own token alike. A payout made before the lists (its pointer deleted here) is
/// missing from it until `reindex` (`tenx ledger rebuild-balances`) puts it back, once.
#[tokio::test]
async fn a_partners_payout_page_is_its_own_and_full() {
    let app = spawn_app().await;
    let others: Vec<String> = (0..8).map(|i| format!("other-{i}")).collect();
    partner(&app, "solo").await;
    for other in &others {
        partner(&app, other).await;
    }
    let op = app.as_role("acme", Role::Operator);
    let mut solo_payouts = Vec::new();
    for run in 0..3 {
        for who in others.iter().map(String::as_str).chain(["solo"]) {
            seed_lines(&app, who, 1, 100 + run).await;
        }
        let body = json!({"periodEnd": tenx_shared::platform::time::now_rfc3339()});
        let made = json_of(op.run_payouts(&format!("run-{run}"), &body).await, 201).await;
        let made = made["payouts"].as_array().unwrap();
        assert_eq!(made.len(), 9, "one payout per partner");
        let solo = made.iter().find(|p| p["partnerId"] == "solo").unwrap();
        solo_payouts.push(solo["payoutId"].as_str().unwrap().to_owned());
    }
    solo_payouts.reverse(); // newest first, as pages are
    let (first, cursor) = payout_page(op.list_payouts("partnerId=solo&limit=2").await).await;
    assert_eq!(first, solo_payouts[..2]);
    let cursor = cursor.expect("a third payout follows");
    let next = format!("partnerId=solo&limit=2&cursor={cursor}");
    let rest = op.list_payouts(&next);
    assert_eq!(
        payout_page(rest.await).await,
        (solo_payouts[2..].to_vec(), None)
    );
    let portal = as_partner(&app, "acme", "solo").await;
    let (own, _) = payout_page(portal.list_payouts("limit=2").await).await;
    assert_eq!(own, solo_payouts[..2]);
    let (all, _) = payout_page(op.list_payouts("limit=100").await).await;
    assert_eq!(all.len(), 27, "the handle's page is every partner's");

    // The oldest as if made before the lists: missing from solo's, until put back.
    let handle = tenx_shared::domain::Handle::parse("acme").unwrap();
    let solo = tenx_shared::domain::PartnerId::parse("solo").unwrap();
    let pk = tenx_shared::platform::store::keys::payouts_of_partner_pk(&handle, &solo);
    let sk = solo_payouts[2].clone();
    let cond = tenx_shared::platform::store::Cond::None;
    let delete = tenx_shared::platform::store::WriteOp::Delete { pk, sk, cond };
    app.store.write(delete).await.unwrap();
    let listed = || op.list_payouts("partnerId=solo&limit=10");
    assert_eq!(payout_page(listed().await).await.0, solo_payouts[..2]);
    let of_partner = tenx_shared::payouts::of_partner::unindexed;
    assert_eq!(of_partner(app.store.as_ref(), &handle).await.unwrap(), 1);
    let reindex = tenx_shared::payouts::of_partner::reindex;
    assert_eq!(reindex(app.store.as_ref(), &handle).await.unwrap(), 1);
    assert_eq!(reindex(app.store.as_ref(), &handle).await.unwrap(), 0);
    assert_eq!(payout_page(listed().await).await.0, solo_payouts);
}

/// The pending list holds what a batch of "every pending payout" pays: a new payout is put in
/// it in its own transaction and leaves it in the one that settles it. Its repair puts the
/// pointer of a payout made before the list and drops one left to a settled payout, once.
#[tokio::test]
async fn the_pending_list_follows_the_payouts_and_its_repair_mends_it() {
    use tenx_shared::payouts::pending;
    use tenx_shared::platform::store::{Cond, Item, WriteOp, keys};
    let app = spawn_app().await;
    partner(&app, "one").await;
    partner(&app, "two").await;
    seed_lines(&app, "one", 1, 100).await;
    seed_lines(&app, "two", 1, 200).await;
    let op = app.as_role("acme", Role::Operator);
    let body = json!({"periodEnd": tenx_shared::platform::time::now_rfc3339()});
    let made = json_of(op.run_payouts("run", &body).await, 201).await;
    let id_of = |who: &str| {
        let payouts = made["payouts"].as_array().unwrap();
        let p = payouts.iter().find(|p| p["partnerId"] == who).unwrap();
        p["payoutId"].as_str().unwrap().to_owned()
    };
    let (one, two) = (id_of("one"), id_of("two"));
    let handle = tenx_shared::domain::Handle::parse("acme").unwrap();
    let store = app.store.as_ref();
    let pending_ids = || async {
        let all = pending::all(store, &handle).await.unwrap();
        let mut ids: Vec<String> = all.iter().map(|p| p.payout_id.to_string()).collect();
        ids.sort();
        ids
    };
    let mut both = vec![one.clone(), two.clone()];
    both.sort();
    assert_eq!(pending_ids().await, both);

    let paid = json!({"reference": "SEPA-1"});
    json_of(op.settle_payout(&one, "mark-paid", &paid).await, 200).await;
    assert_eq!(pending_ids().await, std::slice::from_ref(&two));
    let pk = keys::payouts_pending_pk(&handle);
    assert_eq!(
        store.get(&pk, &one).await.unwrap(),
        None,
        "left with the change"
    );
    assert_eq!(pending::unindexed(store, &handle).await.unwrap(), 0);

    // As if `two` were made before the list, and a pointer were left to the paid `one`.
    let (sk, cond) = (two.clone(), Cond::None);
    store
        .write(WriteOp::Delete {
            pk: pk.clone(),
            sk,
            cond,
        })
        .await
        .unwrap();
    let stale = Item::new(pk.clone(), one.clone(), json!({}));
    store
        .write(WriteOp::Put {
            item: stale,
            cond: Cond::None,
        })
        .await
        .unwrap();
    assert_eq!(
        pending_ids().await,
        Vec::<String>::new(),
        "a settled payout is not pending"
    );
    assert_eq!(pending::unindexed(store, &handle).await.unwrap(), 2);
    assert_eq!(pending::reindex(store, &handle).await.unwrap(), 2);
    assert_eq!(pending::reindex(store, &handle).await.unwrap(), 0);
    assert_eq!(pending_ids().await, [two]);
    assert_eq!(store.get(&pk, &one).await.unwrap(), None);
}
