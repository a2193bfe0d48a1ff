//! Writes and their events in ONE transaction (the events' outbox entries ride along), then the
//! events enqueued: every event is delivered at least once, with the id its writer derived, so
//! a retry of the same change emits the same event. The ledger's writes go through
//! `ledger::emit`, which first sums several lines' moves on one balance item.

use crate::domain::{EventId, Handle};
use crate::kernel::events::{Event, Payload};
use crate::kernel::io::Io;
use crate::platform::store::{StoreError, WriteOp};

/// An event to emit with a write: its derived id and its typed payload.
#[derive(Clone)]
pub struct Emit {
    pub id: EventId,
    pub payload: Payload,
}

/// Commits `ops` and the events' outbox entries together, then enqueues the events.
/// Round trips: ONE transaction, ONE send.
pub async fn commit(
    io: Io<'_>,
    handle: &Handle,
    mut ops: Vec<WriteOp>,
    emits: Vec<Emit>,
) -> Result<(), StoreError> {
    let mut events = Vec::with_capacity(emits.len());
    for e in emits {
        let mut event = Event::of(handle, e.payload);
        event.id = e.id;
        ops.push(crate::kernel::outbox::record(&mut event));
        events.push(event);
    }
    crate::kernel::outbox::commit_and_publish(io.store.clone(), io.queue.clone(), ops, &events)
        .await
}
