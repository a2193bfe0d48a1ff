//! A payout's lines, in its statement's order, kept beside it a page at a time (issue 43): the
//! payout record holds how many pages, never the ids themselves (10^5 ids would pass DynamoDB's
//! 400 KB item limit). Payouts made before the pages keep their ids in the record.

use serde::{Deserialize, Serialize};

use crate::domain::proof::merkle;
use crate::domain::{CommissionId, Handle, PayoutId};
use crate::payouts::model::Payout;
use futures::StreamExt;

use crate::platform::store::{Cond, Item, Query, Store, StoreError, WriteOp, keys};

/// Ids per page: ~35 KB per item.
pub const PAGE: usize = 1000;
/// Page writes in flight at once.
const WRITES_IN_FLIGHT: usize = 8;

#[derive(Serialize, Deserialize)]
struct Page {
    ids: Vec<CommissionId>,
    /// The lines' leaf hashes (hex), in the same order: what a statement page's proof is made
    /// of (`payouts::page_proof`). Absent on payouts made before them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    leaves: Vec<String>,
}

/// Leaves per block: the tree's complete subtrees of this size have their roots stored
/// (`ROOTS_SK`), so a page's proof reads a few blocks of leaves, never the whole tree.
pub const BLOCK: usize = 1024;
/// The item beside the pages holding the blocks' roots (sorts after every `{page:06}`).
const ROOTS_SK: &str = "roots";

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Roots {
    block_roots: Vec<String>,
}

/// Writes `ids` (with their `leaves`, in the same order) as pages of payout `id`, and the roots
/// of its blocks of [`BLOCK`] leaves, before the payout itself; answers the page count. A
/// retried run writes the same pages again (its ids come in the same order); pages past the
/// count of the payout that is finally written are never read.
/// Round trips: ONE put per [`PAGE`] ids, [`WRITES_IN_FLIGHT`] at a time, and ONE put.
pub async fn write(
    store: &dyn Store,
    handle: &Handle,
    id: &PayoutId,
    (ids, leaves): (&[CommissionId], &[merkle::Hash]),
) -> Result<u32, StoreError> {
    let pk = keys::payout_lines_pk(handle, id);
    let roots = Roots {
        block_roots: leaves
            .chunks_exact(BLOCK)
            .map(|b| hex::encode(merkle::root(b)))
            .collect(),
    };
    let item = Item::new(
        pk.clone(),
        ROOTS_SK,
        crate::platform::store::to_doc(&roots)?,
    );
    store
        .write(WriteOp::Put {
            item,
            cond: Cond::None,
        })
        .await?;
    // Collected first: a stream over the closure's futures is not provably `Send`.
    let puts: Vec<_> = ids
        .chunks(PAGE)
        .zip(leaves.chunks(PAGE))
        .enumerate()
        .map(|(n, (chunk, hashes))| {
            let doc = crate::platform::store::to_doc(&Page {
                ids: chunk.to_vec(),
                leaves: hashes.iter().map(hex::encode).collect(),
            });
            let pk = pk.clone();
            async move {
                let item = Item::new(pk, format!("{n:06}"), doc?);
                let put = WriteOp::Put {
                    item,
                    cond: Cond::None,
                };
                store.write(put).await.map(|_| ())
            }
        })
        .collect();
    let mut writes = futures::stream::iter(puts).buffered(WRITES_IN_FLIGHT);
    while let Some(written) = writes.next().await {
        written?;
    }
    u32::try_from(ids.len().div_ceil(PAGE))
        .map_err(|_| StoreError::Invalid("a payout of more than 4e12 lines".into()))
}

/// The payout's line ids, in its order. Round trips: ONE query per 1,000 pages (none for a
/// payout made before the pages).
pub async fn ids(
    store: &dyn Store,
    handle: &Handle,
    p: &Payout,
) -> Result<Vec<CommissionId>, StoreError> {
    ids_and_leaves(store, handle, p).await.map(|(ids, _)| ids)
}

/// The payout's line ids and their stored leaf hashes, in its order (no hashes for a payout
/// made before they were stored). Round trips: ONE query per 1,000 pages (none for a payout
/// made before the pages).
pub async fn ids_and_leaves(
    store: &dyn Store,
    handle: &Handle,
    p: &Payout,
) -> Result<(Vec<CommissionId>, Vec<merkle::Hash>), StoreError> {
    if p.line_pages == 0 {
        return Ok((p.commission_ids.clone(), Vec::new()));
    }
    let pk = keys::payout_lines_pk(handle, &p.payout_id);
    let (mut out, mut leaves) = (Vec::with_capacity(p.commission_count), Vec::new());
    let mut query = Query::all(pk);
    query.limit = usize::try_from(p.line_pages)
        .unwrap_or(usize::MAX)
        .min(1000);
    let pages = usize::try_from(p.line_pages).unwrap_or(usize::MAX);
    let mut read = 0;
    crate::platform::store::for_each_item(store, query, |item: &Item| {
        let page: Page = item.parse()?;
        out.extend(page.ids);
        leaves.extend(page.leaves.iter().filter_map(|raw| decode(raw)));
        read += 1;
        Ok::<_, StoreError>(match read < pages {
            true => std::ops::ControlFlow::Continue(()),
            false => std::ops::ControlFlow::Break(()),
        })
    })
    .await?;
    if out.len() != p.commission_count {
        return Err(StoreError::Corrupt(format!(
            "payout {} lists {} lines in its pages, {} in its record",
            p.payout_id,
            out.len(),
            p.commission_count
        )));
    }
    if leaves.len() != out.len() {
        leaves.clear();
    }
    Ok((out, leaves))
}

fn decode(raw: &str) -> Option<merkle::Hash> {
    hex::decode(raw)
        .ok()
        .and_then(|b| merkle::Hash::try_from(b).ok())
}

/// The ids of lines `offset .. offset + count` of the payout (fewer past its end), in its
/// order: what one statement page answers. Round trips: ONE read per page of ids the range
/// touches (`count / 1,000 + 2` at most), none for a payout made before the pages.
pub async fn ids_range(
    store: &dyn Store,
    handle: &Handle,
    p: &Payout,
    offset: usize,
    count: usize,
) -> Result<Vec<CommissionId>, StoreError> {
    let end = offset.saturating_add(count).min(p.commission_count);
    if offset >= end {
        return Ok(Vec::new());
    }
    if p.line_pages == 0 {
        return Ok(p
            .commission_ids
            .get(offset..end)
            .unwrap_or_default()
            .to_vec());
    }
    let pk = keys::payout_lines_pk(handle, &p.payout_id);
    let mut out = Vec::with_capacity(end - offset);
    for n in offset / PAGE..=(end - 1) / PAGE {
        let item = store.get(&pk, &format!("{n:06}")).await?;
        let page: Page = item
            .ok_or_else(|| {
                StoreError::Corrupt(format!("payout {} misses its line page {n}", p.payout_id))
            })?
            .parse()?;
        let from = offset.saturating_sub(n * PAGE).min(page.ids.len());
        let to = (end - n * PAGE).min(page.ids.len());
        out.extend_from_slice(&page.ids[from..to]);
    }
    if out.len() != end - offset {
        return Err(StoreError::Corrupt(format!(
            "payout {}: its line pages hold fewer ids than its record counts",
            p.payout_id
        )));
    }
    Ok(out)
}

/// The stored leaf hashes of lines `lo..hi` (within the pages), or `None` for a payout made
/// before they were stored. Round trips: ONE read per page of 1,000 the range touches.
pub async fn leaves_range(
    store: &dyn Store,
    handle: &Handle,
    p: &Payout,
    (lo, hi): (usize, usize),
) -> Result<Option<Vec<merkle::Hash>>, StoreError> {
    if p.line_pages == 0 || lo >= hi {
        return Ok(None);
    }
    let pk = keys::payout_lines_pk(handle, &p.payout_id);
    let mut out = Vec::with_capacity(hi - lo);
    for n in lo / PAGE..=(hi - 1) / PAGE {
        let Some(item) = store.get(&pk, &format!("{n:06}")).await? else {
            return Ok(None);
        };
        let page: Page = item.parse()?;
        let from = lo.saturating_sub(n * PAGE).min(page.leaves.len());
        let to = (hi - n * PAGE).min(page.leaves.len());
        for raw in &page.leaves[from..to] {
            let hash = decode(raw);
            out.push(hash.ok_or_else(|| {
                StoreError::Corrupt(format!("payout {}: a leaf hash", p.payout_id))
            })?);
        }
    }
    Ok((out.len() == hi - lo).then_some(out))
}

/// The stored roots of the payout's complete blocks of [`BLOCK`] leaves, or `None` for a payout
/// made before they were stored. Round trips: ONE read.
pub async fn block_roots(
    store: &dyn Store,
    handle: &Handle,
    p: &Payout,
) -> Result<Option<Vec<merkle::Hash>>, StoreError> {
    let pk = keys::payout_lines_pk(handle, &p.payout_id);
    let Some(item) = store.get(&pk, ROOTS_SK).await? else {
        return Ok(None);
    };
    let roots: Roots = item.parse()?;
    let decoded: Option<Vec<merkle::Hash>> = roots
        .block_roots
        .iter()
        .map(|r| {
            hex::decode(r)
                .ok()
                .and_then(|b| merkle::Hash::try_from(b).ok())
        })
        .collect();
    Ok(decoded.filter(|d| d.len() == p.commission_count / BLOCK))
}
