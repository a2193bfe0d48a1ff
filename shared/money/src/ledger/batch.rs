//! Many lines changed together (issue 43): a payout that claims, pays or frees 10^5 lines does
//! it in ~10^3 transactions, not 10^5. Each transaction holds as many whole line changes as fit
//! [`MAX_TRANSACT_OPS`] on distinct items, the counters several lines move on one balance item
//! summed into one add. Each line's put stays conditional on the version read, so a transaction
//! is all or nothing: a line changed meanwhile cancels its transaction, and its lines come back
//! to the caller to be changed one by one (no amount moves twice, none is skipped).

use std::collections::HashMap;

use crate::domain::Handle;
use crate::kernel::emit::Emit;
use crate::kernel::io::Io;
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

/// A new line to create with others ([`create_many`]): its writes (its put-if-absent first),
/// its `commission.created` event, and what it came from (`source`, handed back when its
/// transaction is refused).
pub struct Draft<S> {
    pub line: Commission,
    pub ops: Vec<WriteOp>,
    pub emit: Emit,
    pub source: S,
}

/// Creates the drafted lines, as many to a transaction as fit (each line's event's outbox
/// entry counted), their events sent together after each commit. Returns the sources of the
/// lines whose transaction was refused (one of its lines there already, a cap met, a counter
/// moved): none of those was written, and each is for the caller to create one by one.
/// Round trips: ONE transaction and ONE send per transaction's worth, ONE confirmation per line.
pub async fn create_many<S>(
    io: Io<'_>,
    handle: &Handle,
    drafts: Vec<Draft<S>>,
) -> Result<Vec<S>, StoreError> {
    let mut refused = Vec::new();
    let mut batch = Batch::default();
    let mut sources = Vec::new();
    for d in drafts {
        if !batch.fits_with_emit(&d.ops) {
            refused.extend(
                batch
                    .create(io, handle, std::mem::take(&mut sources))
                    .await?,
            );
        }
        batch.emits.push(d.emit);
        batch.add(d.line, d.ops);
        sources.push(d.source);
    }
    refused.extend(batch.create(io, handle, sources).await?);
    Ok(refused)
}

/// The lines of one transaction and their writes, merged; `at` finds an item's write; `emits`:
/// the events of lines it creates (an outbox entry each in the transaction).
#[derive(Default)]
struct Batch {
    lines: Vec<Commission>,
    ops: Vec<WriteOp>,
    at: HashMap<(String, String), usize>,
    emits: Vec<Emit>,
}

/// An unconditional counter add: the one kind of write two lines may share (summed).
fn is_plain_add(op: &WriteOp) -> bool {
    matches!(op, WriteOp::Add { cap: None, .. })
}

impl Batch {
    /// Whether `ops` join the batch and still name each item once, within the limit.
    fn fits(&self, ops: &[WriteOp]) -> bool {
        self.new_items(ops)
            .is_some_and(|new| self.ops.len() + new <= MAX_TRANSACT_OPS)
    }

    /// [`Self::fits`] with one more outbox entry (a created line's event); an empty batch takes
    /// any line.
    fn fits_with_emit(&self, ops: &[WriteOp]) -> bool {
        let items = self.ops.len() + self.emits.len() + 1;
        self.lines.is_empty()
            || self
                .new_items(ops)
                .is_some_and(|new| items + new <= MAX_TRANSACT_OPS)
    }

    /// How many items `ops` add to the batch; `None`: one names an item the batch writes
    /// otherwise than by a plain add.
    fn new_items(&self, ops: &[WriteOp]) -> Option<usize> {
        let mut new = 0;
        for op in ops {
            let (pk, sk) = op.key();
            match self.at.get(&(pk.to_owned(), sk.to_owned())) {
                Some(&i) if is_plain_add(op) && is_plain_add(&self.ops[i]) => {}
                Some(_) => return None,
                None => new += 1,
            }
        }
        Some(new)
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

impl Batch {
    /// Creates what the batch holds (if anything) with its events and empties it; `sources`
    /// are its lines' (in order). Returns them all when the transaction was refused.
    async fn create<S>(
        &mut self,
        io: Io<'_>,
        handle: &Handle,
        sources: Vec<S>,
    ) -> Result<Vec<S>, StoreError> {
        if self.lines.is_empty() {
            return Ok(Vec::new());
        }
        self.lines.clear();
        self.at.clear();
        let (ops, emits) = (
            std::mem::take(&mut self.ops),
            std::mem::take(&mut self.emits),
        );
        match crate::ledger::emit::commit(io, handle, ops, emits).await {
            Ok(()) => Ok(Vec::new()),
            Err(StoreError::TxConflict { .. }) => Ok(sources),
            Err(StoreError::Unavailable(why)) if why.contains("(contended:") => Ok(sources),
            Err(e) => Err(e),
        }
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
