//! A run's claims, staged a page at a time beside the payout to be (issue 43): what each page of
//! its claiming pass claimed (ids, leaf hashes, amounts), so a run cut between pages keeps what
//! it claimed without holding it, and the payout is made from the staged pages once the pass is
//! done. A page is keyed by where it began in the live index: a page redone (a run resumed from
//! an earlier place, two workers on one run) overwrites or overlaps its earlier self, and the
//! gathering keeps each line once.
//!
//! Every line this run's payout claims is staged by the call that claimed it, or by a later
//! call that finds it claimed: a place moves past a page only once the page is staged.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::proof::merkle;
use crate::domain::{CommissionId, Handle, PayoutId};
use crate::ledger::model::Commission;
use crate::platform::store::{Cond, Item, Query, Store, StoreError, WriteOp, keys, to_doc};

/// How long staged pages are kept: past any run's life; the payout's own pages outlive them.
const KEEP_SECS: i64 = 30 * 86_400;

/// One claimed line as staged.
#[derive(Serialize, Deserialize)]
struct Staged {
    #[serde(rename = "i")]
    id: CommissionId,
    #[serde(rename = "h")]
    leaf: String,
    #[serde(rename = "m")]
    minor: i64,
    #[serde(rename = "a")]
    available_ms: i64,
}

#[derive(Serialize, Deserialize)]
struct StagedPage {
    lines: Vec<Staged>,
}

/// What a payout claimed, in id order: ids and leaf hashes, ~100 bytes a line (10 MB at 10^5
/// lines), never the lines themselves.
#[derive(Debug, Default)]
pub struct Claimed {
    pub ids: Vec<CommissionId>,
    pub leaves: Vec<merkle::Hash>,
    pub net: i128,
    /// The earliest availability among them (unix ms; `i64::MAX` when none).
    pub first_available_ms: i64,
}

/// Stages the lines a page claimed for `payout` (the page began after `start` in the live
/// index; `None`: the first page). Round trips: ONE put (none for a page that claimed nothing).
pub async fn put(
    store: &dyn Store,
    handle: &Handle,
    payout: &PayoutId,
    start: Option<&str>,
    lines: &[Commission],
) -> Result<(), StoreError> {
    if lines.is_empty() {
        return Ok(());
    }
    let page = StagedPage {
        lines: lines.iter().map(staged).collect(),
    };
    let sk = format!("p#{}", start.unwrap_or_default());
    let item = Item::new(keys::payout_stage_pk(handle, payout), sk, to_doc(&page)?)
        .expiring_at(Some(crate::platform::store::now_unix() + KEEP_SECS));
    store
        .write(WriteOp::Put {
            item,
            cond: Cond::None,
        })
        .await
        .map(|_| ())
}

fn staged(line: &Commission) -> Staged {
    Staged {
        id: line.commission_id.clone(),
        leaf: hex::encode(crate::payouts::statement::leaf_hash_of(line)),
        minor: line.amount_minor.unwrap_or(0),
        available_ms: line.available_at_ms(),
    }
}

/// Every line staged for `payout`, each once, in id order. Round trips: ONE query per page of
/// the most a query returns (~14 staged pages per MB on DynamoDB).
pub async fn gather(
    store: &dyn Store,
    handle: &Handle,
    payout: &PayoutId,
) -> Result<Claimed, StoreError> {
    let mut by_id: BTreeMap<CommissionId, (merkle::Hash, i64, i64)> = BTreeMap::new();
    let mut query = Query::all(keys::payout_stage_pk(handle, payout));
    loop {
        let page = store.query(query.clone()).await?;
        for item in &page.items {
            for s in item.parse::<StagedPage>()?.lines {
                let leaf = merkle::Hash::try_from(hex::decode(&s.leaf).unwrap_or_default())
                    .map_err(|_| StoreError::Invalid(format!("a staged leaf of {}", s.id)))?;
                by_id.insert(s.id, (leaf, s.minor, s.available_ms));
            }
        }
        match page.next {
            Some(after) => query.after = Some(after),
            None => break,
        }
    }
    let mut out = Claimed {
        first_available_ms: i64::MAX,
        ..Claimed::default()
    };
    for (id, (leaf, minor, available_ms)) in by_id {
        out.ids.push(id);
        out.leaves.push(leaf);
        out.net += i128::from(minor);
        out.first_available_ms = out.first_available_ms.min(available_ms);
    }
    Ok(out)
}

/// Deletes what was staged for `payout`: before its claims are given back (a payout not made),
/// so a later run of the same key never gathers a line it no longer holds. Round trips: ONE
/// query per page, then ONE delete per staged page.
pub async fn clear(
    store: &dyn Store,
    handle: &Handle,
    payout: &PayoutId,
) -> Result<(), StoreError> {
    let pk = keys::payout_stage_pk(handle, payout);
    loop {
        let page = store.query(Query::all(pk.clone())).await?;
        for item in &page.items {
            let delete = WriteOp::Delete {
                pk: pk.clone(),
                sk: item.sk.clone(),
                cond: Cond::None,
            };
            store.write(delete).await?;
        }
        if page.next.is_none() {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payouts::fixtures::{Books, line};

    /// Lines of `(minor, available_ms)`, in id order.
    fn lines(of: &[(i64, i64)]) -> Vec<Commission> {
        let mut out: Vec<Commission> = of.iter().map(|&(m, at)| line(Some(m), at)).collect();
        out.sort_by(|a, b| a.commission_id.cmp(&b.commission_id));
        out
    }

    #[tokio::test]
    async fn a_page_redone_or_begun_elsewhere_keeps_each_claimed_line_once_in_id_order() {
        let books = Books::new();
        let (store, handle, payout) = (books.store(), &books.handle, PayoutId::new());
        let claimed = lines(&[(300, 2_000), (200, 1_000), (500, 3_000), (100, 4_000)]);
        put(store, handle, &payout, None, &claimed[..2])
            .await
            .unwrap();
        // The first page again: a run cut after it resumed from the same place.
        put(store, handle, &payout, None, &claimed[..2])
            .await
            .unwrap();
        // A page begun at another place of the live index, overlapping the first.
        put(store, handle, &payout, Some("entry-b"), &claimed[1..])
            .await
            .unwrap();
        let gathered = gather(store, handle, &payout).await.unwrap();
        let ids: Vec<CommissionId> = claimed.iter().map(|l| l.commission_id.clone()).collect();
        assert_eq!(gathered.ids, ids, "each line once, in id order");
        let leaves: Vec<merkle::Hash> = claimed
            .iter()
            .map(crate::payouts::statement::leaf_hash_of)
            .collect();
        assert_eq!(gathered.leaves, leaves, "the statement's leaves");
        let net: i64 = claimed.iter().filter_map(|l| l.amount_minor).sum();
        assert_eq!(gathered.net, i128::from(net), "counted once");
        assert_eq!(gathered.first_available_ms, 1_000);
    }

    #[tokio::test]
    async fn a_page_that_claimed_nothing_stages_nothing_and_a_cleared_payout_gathers_nothing() {
        let books = Books::new();
        let (store, handle) = (books.store(), &books.handle);
        let (ours, theirs) = (PayoutId::new(), PayoutId::new());
        put(store, handle, &ours, None, &[]).await.unwrap();
        let staged = store.query(Query::all(keys::payout_stage_pk(handle, &ours)));
        assert!(staged.await.unwrap().items.is_empty(), "no write");
        let nothing = gather(store, handle, &ours).await.unwrap();
        assert!(nothing.ids.is_empty() && nothing.leaves.is_empty());
        assert_eq!((nothing.net, nothing.first_available_ms), (0, i64::MAX));
        let [a, b, c] = <[Commission; 3]>::try_from(lines(&[(1, 1), (2, 2), (3, 3)])).unwrap();
        put(store, handle, &ours, None, &[a]).await.unwrap();
        put(store, handle, &ours, Some("entry-b"), &[b])
            .await
            .unwrap();
        put(store, handle, &theirs, None, std::slice::from_ref(&c))
            .await
            .unwrap();
        clear(store, handle, &ours).await.unwrap();
        assert!(gather(store, handle, &ours).await.unwrap().ids.is_empty());
        let left = gather(store, handle, &theirs).await.unwrap();
        assert_eq!(left.ids, [c.commission_id], "another payout's stage stays");
    }
}
