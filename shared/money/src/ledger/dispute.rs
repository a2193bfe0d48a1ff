//! A payment dispute on a sale (issue 45: Stripe's `charge.dispute.*`): while it is open, the
//! sale's commission is held with reason `dispute`, unless it is paid or in a payout already (a
//! lost dispute then claws it back through the sale's reversal). Won, the line returns to the
//! status it had (`disputed_from`). Each change is ONE version-checked transaction with the
//! line's balance moves, so a repeat finds it done.

use crate::domain::{CommissionId, ConversionId, Handle};
use crate::ledger::due;
use crate::ledger::model::{Commission, Status};
use crate::platform::store::Store;
use crate::platform::store::StoreError;

pub const DISPUTE: &str = "dispute";

/// What a dispute did to the sale's commission.
#[derive(Debug, PartialEq, Eq)]
pub enum Disputed {
    Held,
    Released,
    /// Nothing to change, and why.
    Unchanged(&'static str),
}

/// Holds the commission of `conversion` for a dispute.
pub async fn hold(
    store: &dyn Store,
    handle: &Handle,
    conversion: &ConversionId,
) -> Result<Disputed, StoreError> {
    change(store, handle, conversion, |line| {
        if line.disputed_from.is_some() {
            return Err("held for this dispute already");
        }
        if line.payout_id.is_some() || !matches!(line.status, Status::Pending | Status::Approved) {
            return Err("not held: it is paid, in a payout, held, rejected or capped");
        }
        let mut next = line.clone();
        next.disputed_from = Some(line.status);
        next.status = Status::Held;
        next.reasons.push(DISPUTE.to_owned());
        Ok((next, Disputed::Held))
    })
    .await
}

/// Releases the commission of `conversion` after a won dispute.
pub async fn release(
    store: &dyn Store,
    handle: &Handle,
    conversion: &ConversionId,
) -> Result<Disputed, StoreError> {
    change(store, handle, conversion, |line| {
        let Some(before) = line.disputed_from else {
            return Err("not held for a dispute");
        };
        let mut next = line.clone();
        next.disputed_from = None;
        next.status = before;
        next.reasons.retain(|r| r != DISPUTE);
        Ok((next, Disputed::Released))
    })
    .await
}

/// Reads the conversion's line, applies `decide` and commits it at the version read.
async fn change(
    store: &dyn Store,
    handle: &Handle,
    conversion: &ConversionId,
    decide: impl Fn(&Commission) -> Result<(Commission, Disputed), &'static str>,
) -> Result<Disputed, StoreError> {
    let id = CommissionId::of_conversion(conversion);
    for _ in 0..8 {
        let Some(line) = crate::ledger::get(store, handle, &id).await? else {
            return Ok(Disputed::Unchanged("the sale earned no commission"));
        };
        let (next, done) = match decide(&line) {
            Ok(change) => change,
            Err(why) => return Ok(Disputed::Unchanged(why)),
        };
        let mut ops = next.update(handle)?;
        ops.extend(due::follow(handle, &line, &next));
        match store.transact(crate::ledger::running::merged(ops)).await {
            Ok(()) => return Ok(done),
            Err(StoreError::TxConflict { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Unavailable(
        "the disputed commission kept changing".into(),
    ))
}
