//! Ledger writes and their events in ONE transaction (`kernel::emit`), with the balance moves
//! of several lines on one item summed first (a transaction names an item once). Every
//! commission and payout event has an id derived from its line, so a retry of the same change
//! emits the same event.

use crate::domain::Handle;
use crate::kernel::emit::Emit;
use crate::kernel::io::Io;
use crate::platform::store::{StoreError, WriteOp};

/// [`crate::kernel::emit::commit`] of `ops` with their balance moves merged.
/// Round trips: ONE transaction, ONE send.
pub async fn commit(
    io: Io<'_>,
    handle: &Handle,
    ops: Vec<WriteOp>,
    emits: Vec<Emit>,
) -> Result<(), StoreError> {
    let ops = crate::ledger::running::merged(ops);
    crate::kernel::emit::commit(io, handle, ops, emits).await
}
