//! A batch's hold on a payout, as the payouts room sees it (issue 57). The hold's item
//! (`H#{handle}#BATCLAIM` / `{payoutId}`, naming the batch) is written and deleted by
//! `payout_batches::claim`; its key and the conditions that tie it to the payout are the
//! payouts room's, because a payout's settlement and its hold exclude each other: each side's
//! transaction carries a condition on the other, never a read made before it.

use crate::domain::{Handle, PayoutId};
use crate::platform::store::{Cond, WriteOp, keys};

/// The key of the batch hold on `payout`.
pub fn key(handle: &Handle, payout: &PayoutId) -> (String, String) {
    keys::batch_claim(handle, payout)
}

/// A hold's condition on its payout: at `version` (it was pending when the batch selected it),
/// so a payout settled meanwhile is never held.
pub fn payout_unchanged(handle: &Handle, payout: &PayoutId, version: u64) -> WriteOp {
    WriteOp::Check {
        pk: keys::payouts_pk(handle),
        sk: payout.as_str().to_owned(),
        cond: Cond::Version(version),
    }
}
