//! The lines crediting a paid payout back with what its provider gave back of it
//! (`payouts::returned` writes them): a chain, each line keyed by how much was credited before
//! it, so the chain read from 0 says how much is back in all. Read by the return itself and by
//! the credit note, which cancels the payout's invoice only once the whole of it is back.

use crate::domain::{CommissionId, Handle, PayoutId};
use crate::ledger::model::Commission;
use crate::payouts::model::Payout;
use crate::platform::store::{Store, StoreError};

/// The line crediting back what came back beyond the first `from` minor units credited: the
/// first one (`from` 0) is the payout's `returned_line_id`, so a whole return told in one word
/// (the usual case) is that one line.
pub fn line_id(payout: &PayoutId, from: i64) -> CommissionId {
    match from {
        0 => payout.returned_line_id(),
        _ => CommissionId::derived(payout.unix_millis(), &format!("returned:{payout}:{from}")),
    }
}

/// The lines crediting `payout` back so far, in the chain's order, and what they put back in
/// all. Round trips: ONE read per line, and ONE more.
pub async fn credited(
    store: &dyn Store,
    handle: &Handle,
    payout: &Payout,
) -> Result<(i64, Vec<Commission>), StoreError> {
    let (mut total, mut lines) = (0, Vec::new());
    while total < payout.amount_minor {
        let id = line_id(&payout.payout_id, total);
        let Some(line) = crate::ledger::get(store, handle, &id).await? else {
            break;
        };
        // Every line of the chain is positive: anything else would read the same line forever.
        let Some(amount) = line.amount_minor.filter(|a| *a > 0) else {
            return Err(StoreError::Corrupt(format!(
                "returned line {id} has no amount"
            )));
        };
        total += amount;
        lines.push(line);
    }
    Ok((total, lines))
}

/// Why the whole of `payout` came back, when it did: the words of the line that completed its
/// chain (`None`: nothing, or only part of it, came back). Round trips: [`credited`]'s.
pub async fn given_back_whole(
    store: &dyn Store,
    handle: &Handle,
    payout: &Payout,
) -> Result<Option<String>, StoreError> {
    let (total, lines) = credited(store, handle, payout).await?;
    Ok((total >= payout.amount_minor)
        .then(|| lines.last().and_then(|l| l.reasons.first().cloned()))
        .flatten())
}
