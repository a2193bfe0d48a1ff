//! The event kernel every service stands on: the application state built once per process, the
//! events and their consumers' seams, the transactional outbox, per-handle rate limits and
//! settings documents.

pub mod audit;
pub mod backlog;
pub mod consume;
pub mod emit;
pub mod events;
pub mod handle_settings;
pub mod io;
pub mod outbox;
pub mod ratelimit;
pub mod signed;
pub mod state;
