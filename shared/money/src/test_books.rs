//! Test mode's money: switching test mode (`PUT …/test-mode`, not while a payout is open) and
//! clearing what it made (`DELETE …/test-data`): every test line with its test indexes' entries
//! and its amount out of the test balances, each line's conversion record, and every test
//! payout with its pages and pointers. Real money is never read for either, nor touched.

use std::ops::ControlFlow;

use crate::domain::Handle;
use crate::ledger::index;
use crate::ledger::model::Commission;
use crate::platform::store::{Cond, Store, StoreError, WriteOp, for_each_item};
use crate::test_mode::TestMode;

#[derive(Debug, thiserror::Error)]
pub enum TestBooksError {
    /// Switching while money is on its way would leave a payout of one kind in the other.
    #[error(
        "Test mode cannot be switched while a payout is waiting to be paid or a payout batch is open: pay or cancel it first."
    )]
    PayoutOpen,
    #[error("Test mode is being switched by someone else at this moment; try again.")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Switches the handle's test mode to `enabled` (the same answer when it already is).
/// Round trips: the switch, the pending payouts' pointers and the open ones, the batches (a
/// page per 100), then ONE transaction with the audit entry.
#[tracing::instrument(skip_all, fields(handle = %handle, enabled))]
pub async fn switch(
    store: &dyn Store,
    handle: &Handle,
    enabled: bool,
    by: &str,
) -> Result<TestMode, TestBooksError> {
    let current = crate::test_mode::get(store, handle).await?;
    if current.enabled == enabled {
        return Ok(current);
    }
    if payout_open(store, handle).await? {
        return Err(TestBooksError::PayoutOpen);
    }
    let (next, op) = current.switched(handle, enabled, by)?;
    let action = if enabled {
        "test_mode.on"
    } else {
        "test_mode.off"
    };
    match crate::kernel::audit::write(store, op, handle, action, "test mode").await {
        Ok(()) => Ok(next),
        Err(StoreError::ConditionFailed { .. }) => Err(TestBooksError::Busy),
        Err(e) => Err(e.into()),
    }
}

/// A payout waiting to be paid or being sent, or a batch not yet paid or canceled.
async fn payout_open(store: &dyn Store, handle: &Handle) -> Result<bool, StoreError> {
    if crate::payouts::pending::any_open(store, handle).await? {
        return Ok(true);
    }
    let mut after = None;
    loop {
        let (page, next) = crate::payout_batches::list(store, handle, 100, after).await?;
        let open = crate::payout_batches::model::BatchStatus::Open;
        if page.iter().any(|b| b.status == open) {
            return Ok(true);
        }
        match next {
            Some(n) => after = Some(n),
            None => return Ok(false),
        }
    }
}

/// What a clearing removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cleared {
    pub lines: usize,
    pub conversions: usize,
    pub payouts: usize,
}

/// Removes every test line, its conversion and every test payout of the handle. Each line goes
/// in ONE transaction at the version read (its entries and its test balance with it), so a
/// clearing stopped halfway leaves the test books consistent and the next one finishes.
/// Round trips: the test kind index (a query per 1,000), the lines (ONE read each, 64 at a
/// time), per test payout ONE read, its pages' queries and its transactions, then per line ONE
/// transaction (and ONE read again per conflict).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn clear(store: &dyn Store, handle: &Handle) -> Result<Cleared, StoreError> {
    let mut cleared = Cleared::default();
    let by_kind = index::of_test(index::BY_KIND, true);
    let mut ids = Vec::new();
    let query = index::all(handle, by_kind);
    for_each_item(store, query, |item| {
        ids.extend(index::line_id(&item.sk));
        Ok::<_, StoreError>(ControlFlow::Continue(()))
    })
    .await?;
    // A test payout is found through its lines (every payout pays at least one), not by reading
    // every payout of the handle; the payouts go first, so a stop halfway still finds them.
    let lines = crate::payouts::select::read_lines(store, handle, &ids).await?;
    let paid_by: std::collections::BTreeSet<_> = lines
        .iter()
        .filter(|l| l.test)
        .filter_map(|l| l.payout_id.clone())
        .collect();
    for id in &paid_by {
        if let Some(payout) = crate::payouts::get(store, handle, id).await?
            && payout.test
        {
            let removed = crate::payouts::test_removal::remove(store, handle, &payout).await?;
            cleared.payouts += usize::from(removed);
        }
    }
    for line in lines {
        let (removed, conversion) = remove_line(store, handle, line).await?;
        cleared.lines += usize::from(removed);
        cleared.conversions += usize::from(conversion);
    }
    Ok(cleared)
}

/// One test line out, as read (read again after a conflict): the line (at its version), its
/// entries, its test balance, its due entry and its conversion's record. Answers whether a line
/// and a conversion went.
async fn remove_line(
    store: &dyn Store,
    handle: &Handle,
    mut line: Commission,
) -> Result<(bool, bool), StoreError> {
    let id = line.commission_id.clone();
    for _ in 0..8 {
        if !line.test {
            return Ok((false, false));
        }
        let ops = line_removal(handle, &line);
        let conversion = line.conversion_id.is_some();
        match store.transact(ops).await {
            Ok(()) => return Ok((true, conversion)),
            Err(StoreError::TxConflict { .. }) => {
                match crate::ledger::get(store, handle, &id).await? {
                    Some(fresh) => line = fresh,
                    None => return Ok((false, false)),
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Unavailable(format!(
        "test line {id} kept changing"
    )))
}

/// The writes that take test line `line` out of the books, as read.
fn line_removal(handle: &Handle, line: &Commission) -> Vec<WriteOp> {
    let mut ops = vec![WriteOp::Delete {
        pk: crate::ledger::model::pk(handle),
        sk: line.commission_id.to_string(),
        cond: Cond::Version(line.version),
    }];
    let placed = line.placed();
    let entries = index::entries(&placed);
    ops.extend(index::moves_out(handle, &entries));
    ops.extend(crate::ledger::running::test_removal(handle, &placed));
    ops.push(crate::ledger::due::clear(handle, line));
    if let Some(c) = &line.conversion_id {
        let (pk, sk) = crate::conversions::record::record_key(handle, c);
        ops.push(WriteOp::Delete {
            pk,
            sk,
            cond: Cond::None,
        });
    }
    ops
}
