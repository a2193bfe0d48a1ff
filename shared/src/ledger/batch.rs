//! Many lines changed together (issue 43): a payout that claims, pays or frees 10^5 lines does
//! it in ~10^3 transactions, not 10^5. Each transaction holds as many whole line changes as fit
//! [`MAX_TRANSACT_OPS`] on distinct items, the counters several lines move on one balance item
//! summed into one add. Each line's put stays conditional on the version read, so a transaction
//! is all or nothing: a line changed meanwhile cancels its transaction, and its lines come back
//! to the caller to be changed one by one (no amount moves twice, none is skipped).

use std::collections::HashMap;

use crate::domain::Handle;
use crate::ledger::model::Commission;
use crate::ledger::running::merged;
use crate::platform::store::{MAX_TRANSACT_OPS, Store, StoreError, WriteOp};

/// What [`update_many`] did.
#[derive(Default)]
pub struct Updated {
    /// Written, as stored now (their versions bumped).
    pub committed: Vec<Commission>,
    /// In a transaction that was refused (a line changed since it was read): not written.
    pub refused: Vec<Commission>,
}

/// Writes each changed line (`changed` holds the lines as they should become, at the version
/// read, as [`Commission::update`] takes them). Round trips: ONE transaction per batch of lines
/// (up to ~99 lines whose only write is the line itself, ~20 when each also moves balances and
/// index entries).
pub async fn update_many(
    store: &dyn Store,
    handle: &Handle,
    changed: Vec<Commission>,
) -> Result<Updated, StoreError> {
    let mut out = Updated::default();
    let mut batch = Batch::default();
    for line in changed {
        let ops = line.update(handle)?;
        if !batch.fits(&ops) {
            batch.commit(store, &mut out).await?;
        }
        batch.add(line, ops);
    }
    batch.commit(store, &mut out).await?;
    Ok(out)
}

/// The lines of one transaction and their writes, merged; `at` finds an item's write.
#[derive(Default)]
struct Batch {
    lines: Vec<Commission>,
    ops: Vec<WriteOp>,
    at: HashMap<(String, String), usize>,
}

/// An unconditional counter add: the one kind of write two lines may share (summed).
fn is_plain_add(op: &WriteOp) -> bool {
    matches!(op, WriteOp::Add { cap: None, .. })
}

impl Batch {
    /// Whether `ops` join the batch and still name each item once, within the limit.
    fn fits(&self, ops: &[WriteOp]) -> bool {
        let mut new = 0;
        for op in ops {
            let (pk, sk) = op.key();
            match self.at.get(&(pk.to_owned(), sk.to_owned())) {
                Some(&i) if is_plain_add(op) && is_plain_add(&self.ops[i]) => {}
                Some(_) => return false,
                None => new += 1,
            }
        }
        self.ops.len() + new <= MAX_TRANSACT_OPS
    }

    fn add(&mut self, line: Commission, ops: Vec<WriteOp>) {
        for op in merged(ops) {
            let (pk, sk) = op.key();
            let key = (pk.to_owned(), sk.to_owned());
            match self.at.get(&key) {
                Some(&i) => add_into(&mut self.ops[i], op),
                None => {
                    self.at.insert(key, self.ops.len());
                    self.ops.push(op);
                }
            }
        }
        self.lines.push(line);
    }

    /// Commits what the batch holds (if anything) and empties it.
    async fn commit(&mut self, store: &dyn Store, out: &mut Updated) -> Result<(), StoreError> {
        if self.lines.is_empty() {
            return Ok(());
        }
        let lines = std::mem::take(&mut self.lines);
        self.at.clear();
        match store.transact(std::mem::take(&mut self.ops)).await {
            Ok(()) => out.committed.extend(lines.into_iter().map(|mut l| {
                l.updated();
                l
            })),
            Err(StoreError::TxConflict { .. }) => out.refused.extend(lines),
            Err(e) => return Err(e),
        }
        Ok(())
    }
}

/// Sums the counters of `more` (an add on the same item) into `into`.
fn add_into(into: &mut WriteOp, more: WriteOp) {
    let (WriteOp::Add { deltas, .. }, WriteOp::Add { deltas: more, .. }) = (into, more) else {
        return;
    };
    for (name, d) in more {
        match deltas.iter_mut().find(|(n, _)| *n == name) {
            Some((_, sum)) => *sum = sum.saturating_add(d),
            None => deltas.push((name, d)),
        }
    }
}
