//! What a service that writes and then enqueues depends on: the store and the queue, nothing
//! else of the process's state. A write whose events ride in the outbox commits and enqueues in a
//! task of its own (`outbox::commit_and_publish`), which must own both: hence the `Arc`s.

use std::sync::Arc;

use crate::platform::queue::Queue;
use crate::platform::store::Store;

/// The store and the queue, borrowed together (`AppState::io`). Copy: passed by value.
#[derive(Clone, Copy)]
pub struct Io<'a> {
    pub store: &'a Arc<dyn Store>,
    pub queue: &'a Arc<dyn Queue>,
}

impl<'a> Io<'a> {
    pub fn new(store: &'a Arc<dyn Store>, queue: &'a Arc<dyn Queue>) -> Self {
        Self { store, queue }
    }
}
