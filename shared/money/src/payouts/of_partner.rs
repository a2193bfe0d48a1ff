//! One partner's payouts (`H#{handle}#PAYP#{partnerId}` / `{payoutId}`): a pointer per payout,
//! put in the payout's own transaction, so a partner's page (the partner portal's, or a filter
//! by `partnerId`) costs what it answers instead of filtering the handle's every payout.
//!
//! Payouts made before these pointers have none: `tenx ledger rebuild-balances` puts them
//! ([`reindex`]) and `tenx ledger check` counts the missing ones ([`unindexed`]).

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use crate::domain::{Handle, PartnerId};
use crate::payouts::model::{Payout, every, get_many, pointed_ids};
use crate::platform::store::{Cond, Item, Query, Store, StoreError, WriteOp, for_each_item, keys};

/// The pointer to `payout` in its partner's list: an unconditional put (the payout's id is
/// its key, so a repeat writes the same entry).
pub(crate) fn entry_op(handle: &Handle, payout: &Payout) -> WriteOp {
    WriteOp::Put {
        item: Item::new(
            keys::payouts_of_partner_pk(handle, &payout.partner_id),
            payout.payout_id.as_str(),
            serde_json::json!({}),
        ),
        cond: Cond::None,
    }
}

/// One page of a partner's payouts, newest first (the handle's: `model::list`). Round trips:
/// ONE query of the partner's pointers, then ONE read per payout on the page, 16 at a time.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn list(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    limit: usize,
    after: Option<String>,
) -> Result<(Vec<Payout>, Option<String>), StoreError> {
    let mut q = Query::prefix(keys::payouts_of_partner_pk(handle, partner), "pay_", limit);
    q.after = after;
    q.descending = true;
    let page = store.query(q).await?;
    let payouts = get_many(store, handle, pointed_ids(&page.items)?).await?;
    let mine = payouts.into_iter().filter(|p| &p.partner_id == partner);
    Ok((mine.collect(), page.next))
}

/// The handle's payouts whose pointer is missing. Round trips: the payouts in pages of 1,000,
/// and per partner met its pointers in pages of 1,000.
async fn missing(store: &dyn Store, handle: &Handle) -> Result<Vec<Payout>, StoreError> {
    let mut payouts = every(store, handle).await?;
    let partners: BTreeSet<PartnerId> = payouts.iter().map(|p| p.partner_id.clone()).collect();
    let mut pointed = BTreeSet::new();
    for partner in &partners {
        let pk = keys::payouts_of_partner_pk(handle, partner);
        for_each_item(store, Query::all(pk), |item| {
            pointed.insert((partner.clone(), item.sk.clone()));
            Ok::<_, StoreError>(ControlFlow::Continue(()))
        })
        .await?;
    }
    payouts.retain(|p| !pointed.contains(&(p.partner_id.clone(), p.payout_id.to_string())));
    Ok(payouts)
}

/// How many of the handle's payouts have no pointer in their partner's list.
pub async fn unindexed(store: &dyn Store, handle: &Handle) -> Result<usize, StoreError> {
    Ok(missing(store, handle).await?.len())
}

/// Puts every missing pointer: ONE unconditional write each, so it is safe beside live
/// traffic, idempotent and resumable. Answers how many it put.
pub async fn reindex(store: &dyn Store, handle: &Handle) -> Result<usize, StoreError> {
    let missing = missing(store, handle).await?;
    for payout in &missing {
        store.write(entry_op(handle, payout)).await?;
    }
    Ok(missing.len())
}
