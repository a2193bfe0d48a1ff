//! Issue 43: what a small partner's reads cost does not grow with the ledger beside it. A handle
//! holds N lines of a big partner and 10 of a small one; the small partner's balance, its
//! campaign's funnel amounts, a filtered listing page and a payout run's selection are counted
//! (store operations, by the same counting hook as the load benchmark) at two sizes of N and
//! must cost exactly the same. Before the running balances and indexes each of them read the
//! whole ledger, a query per 1,000 lines.

use std::sync::Arc;

use tenx_shared::domain::{CampaignId, CommissionId, Currency, Handle, PartnerId};
use tenx_shared::ledger::model::{Commission, Kind, Status};
use tenx_shared::ledger::{Filter, balances, index};
use tenx_shared::platform::config::{Config, Secrets};
use tenx_shared::platform::op_counts::{OpCounters, OpCounts, counted};
use tenx_shared::platform::store::Store;
use tenx_shared::platform::store::embedded::EmbeddedStore;

const SMALL: usize = 10;

fn line(partner: &PartnerId, campaign: &CampaignId) -> Commission {
    let mut c = Commission::blank(
        CommissionId::new(),
        Kind::Conversion,
        partner.clone(),
        Some(250),
        Currency::parse("EUR").unwrap(),
        Status::Approved,
    );
    c.campaign_id = Some(campaign.clone());
    c
}

/// Each read's operations with `big` lines beside the small partner's.
async fn reads_beside(big: usize) -> Vec<(&'static str, OpCounts)> {
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::in_memory());
    let (whale, minnow) = (
        PartnerId::parse("whale").unwrap(),
        PartnerId::parse("minnow").unwrap(),
    );
    let (ocean, pond) = (
        CampaignId::parse("ocean").unwrap(),
        CampaignId::parse("pond").unwrap(),
    );
    for i in 0..big + SMALL {
        let c = if i < big {
            line(&whale, &ocean)
        } else {
            line(&minnow, &pond)
        };
        store
            .transact(c.create(&Handle::parse("acme").unwrap()).unwrap())
            .await
            .unwrap();
    }
    let counters = OpCounters::new();
    let counting: Arc<dyn Store> = Arc::new(counted(store, &counters));
    let queue = Arc::new(tenx_shared::platform::queue::embedded::EmbeddedQueue::in_memory());
    let config = Config::from_env().unwrap();
    let state = tenx_shared::aws::app_state(config, counting, queue, Secrets::NONE).unwrap();
    let handle = Handle::parse("acme").unwrap();
    let today = tenx_shared::ledger::running::day_of(tenx_shared::platform::time::now_millis());
    let mut out = Vec::new();
    let mut measure = |name, before: OpCounts| {
        out.push((name, counters.snapshot().background.since(&before)));
    };

    let before = counters.snapshot().background;
    let b = balances::balances(state.store.as_ref(), &handle, Some(&minnow))
        .await
        .unwrap();
    assert_eq!(b[0].approved, "25.00");
    measure("balance", before);

    let before = counters.snapshot().background;
    let amounts = balances::per_campaign(
        state.store.as_ref(),
        &handle,
        std::slice::from_ref(&pond),
        &today,
        &today,
    )
    .await
    .unwrap();
    assert_eq!(amounts[&pond].commissions_approved_amount["EUR"], "25.00");
    measure("funnel amounts", before);

    let before = counters.snapshot().background;
    let filter = Filter {
        partner_id: Some(minnow.clone()),
        ..Filter::default()
    };
    let (page, _) = tenx_shared::ledger::list(state.store.as_ref(), &handle, &filter, 100, None)
        .await
        .unwrap();
    assert_eq!(page.len(), SMALL);
    measure("listing by partner", before);

    let before = counters.snapshot().background;
    let live = tenx_shared::ledger::scan_index(
        state.store.as_ref(),
        &handle,
        index::LIVE,
        Some(minnow.as_str()),
        Commission::is_open,
    )
    .await
    .unwrap();
    assert_eq!(live.len(), SMALL);
    measure("payout selection", before);
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_small_partners_reads_cost_the_same_beside_1000_or_5000_lines() {
    let small = reads_beside(1_000).await;
    let large = reads_beside(5_000).await;
    for ((name, at_1k), (_, at_5k)) in small.iter().zip(&large) {
        assert_eq!(at_1k, at_5k, "{name}: operations at 1,000 and 5,000 lines");
        assert!(at_1k.reads() <= 1 + SMALL as u64, "{name}: {at_1k:?}");
    }
}
