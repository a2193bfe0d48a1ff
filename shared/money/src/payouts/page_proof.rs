//! A statement page's proof (issue 43): the O(log n) subtree hashes outside the page's lines
//! (`merkle::range_proof`), with which the page alone verifies against the signed root. Made
//! from what the payout stored beside its ids when it was created: each line's leaf hash, and
//! the roots of its complete blocks of [`BLOCK`] leaves. A subtree of whole blocks is their
//! roots; one inside a block is that block's leaves, and only the blocks holding the page's
//! first and last lines and the tree's last, partial block are ever needed, so a page reads
//! O(1) items more than its lines, whatever the payout's size.

use std::collections::{BTreeMap, BTreeSet};

use crate::domain::Handle;
use crate::domain::proof::merkle::{self, Hash};
use crate::payouts::lines::{self, BLOCK};
use crate::payouts::model::Payout;
use crate::platform::store::{Store, StoreError};

/// The proof of lines `a..b` of the payout's statement, or `None` for a payout made before its
/// leaf hashes were stored. Round trips: ONE read of the block roots, then ONE read per page of
/// 1,000 ids of at most 3 blocks (6 reads at most).
pub async fn of_range(
    store: &dyn Store,
    handle: &Handle,
    p: &Payout,
    (a, b): (usize, usize),
) -> Result<Option<Vec<Hash>>, StoreError> {
    let n = p.commission_count;
    if a >= b || b > n {
        return Ok(None);
    }
    let Some(roots) = lines::block_roots(store, handle, p).await? else {
        return Ok(None);
    };
    let partial = (!n.is_multiple_of(BLOCK)).then_some(n / BLOCK);
    let needed: BTreeSet<usize> = [a / BLOCK, (b - 1) / BLOCK]
        .into_iter()
        .chain(partial)
        .collect();
    let mut blocks = BTreeMap::new();
    for block in needed {
        let lo = block * BLOCK;
        let range = (lo, (lo + BLOCK).min(n));
        let Some(leaves) = lines::leaves_range(store, handle, p, range).await? else {
            return Ok(None);
        };
        blocks.insert(block, leaves);
    }
    let known = Known { roots, blocks };
    let proof = merkle::range_proof(n, (a, b), &mut |lo, hi| known.subtree(lo, hi));
    if proof.is_err() {
        tracing::error!(payout = %p.payout_id, "a page proof needed a block it did not read");
    }
    Ok(proof.ok())
}

/// The hashes read: every complete block's root, and the leaves of a few blocks.
struct Known {
    roots: Vec<Hash>,
    blocks: BTreeMap<usize, Vec<Hash>>,
}

/// A subtree the hashes read do not cover (never, by the choice of blocks).
struct Unknown;

impl Known {
    /// The root of the tree's subtree over leaves `lo..hi` (an RFC 6962 node).
    fn subtree(&self, lo: usize, hi: usize) -> Result<Hash, Unknown> {
        let block = lo / BLOCK;
        if lo.is_multiple_of(BLOCK) && hi - lo == BLOCK {
            return self.roots.get(block).copied().ok_or(Unknown);
        }
        if (hi - 1) / BLOCK == block {
            let start = block * BLOCK;
            let leaves = self.blocks.get(&block).ok_or(Unknown)?;
            return leaves
                .get(lo - start..hi - start)
                .map(merkle::root)
                .ok_or(Unknown);
        }
        let k = merkle::split(hi - lo);
        let left = self.subtree(lo, lo + k)?;
        Ok(merkle::node_hash(&left, &self.subtree(lo + k, hi)?))
    }
}
