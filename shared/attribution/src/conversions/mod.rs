//! Exactly-once conversions: `POST /v2/public/conversions`.
//!
//! # Design note: where each guarantee comes from
//!
//! **One conversion per idempotency key** comes from a single conditional store transaction
//! ([`submit`]): `[idempotency record put-if-absent, conversion record put-if-absent, outbox
//! entry]`, plus the click's counter (add-with-cap) when the handle's policy caps conversions
//! per click. The idempotency record is operation 0, so however many submissions of one key
//! race, on however many function instances, the store admits exactly one transaction; every
//! other one is cancelled *as a whole* with `TxConflict { index: 0, current }` and answers from
//! the stored record: `200 deduped` with the original response when the payload hash matches,
//! `409 idempotency_key_reused` when it does not. A cancelled transaction writes nothing, so a
//! replay never creates a second conversion and never emits a second event.
//!
//! **No hot item in the transaction.** The rate limits are atomic counters of their own, counted
//! just before the transaction (the handle's spread over several items when one would be hot),
//! and taken back when the submission created nothing, so a replay spends no rate-limit budget
//! (`conversions/limits.rs`). No item of the transaction is shared by conversions of different
//! clicks, so concurrent conversions of one handle never cancel each other's transactions on
//! DynamoDB (which cancels a transaction that meets another one in flight on any of its items).
//!
//! **No in-progress window on this path.** Powertools-style records have an `in_progress` state
//! because the handler's work runs *between* taking the key and storing the result, so the key
//! must be held while the work runs and released if the function dies. Here the response is fully
//! determined before the write (the conversion id is minted up front and nothing else is
//! computed), so the record is written `completed`, response included, in the same transaction
//! as the conversion itself: there is no instant at which the key is taken but the conversion is
//! not recorded, or the other way round. The `in_progress` state and its expiry are still
//! honoured when read ([`idempotency::judge`]): a record still in progress answers `409
//! conflict` with `retry-after`; one whose in-progress expiry has passed was abandoned by a dead
//! writer and is overwritten with a version-checked put. That keeps the records compatible with
//! any future path that must do work before it knows its response.
//!
//! **Keys live 365 days** (`TENX_IDEMPOTENCY_RETENTION_SECS`): the record carries the store's
//! expiry, and every store read and every "absent" condition ignores expired items (DynamoDB TTL
//! deletes lazily), so a key past its retention is accepted anew.
//!
//! **The fan-out is never lost** because of the transactional outbox ([`crate::kernel::outbox`]): the
//! `conversion.created` / `conversion.tested` event is written in the same transaction as the
//! conversion. After the commit it is enqueued once; if the process dies (or the queue fails)
//! between the commit and the enqueue, the outbox sweeper finds the entry and enqueues it later.
//! The events consumer deletes the entry once every sink applied the event.
//!
//! **The fan-out is never counted twice** because the event id is derived from the conversion id
//! (`evt_<uuid>` for `cnv_<uuid>`) and is therefore the same in every copy (the first enqueue,
//! any sweep, any SQS redelivery). Consumers dedupe by event id (a processed-event marker written
//! in the same transaction as their effect), so at-least-once delivery becomes exactly-once
//! counting and one webhook event per conversion (`webhook-id` = event id).
//!
//! **Exact money**: `value` is an exact decimal (see [`crate::domain::conversion`]).

pub mod idempotency;
pub mod intake;
mod limits;
pub mod list;
pub mod policy;
pub mod record;
pub mod reverse;
pub mod signed;
mod submit;
mod supersede;

pub use intake::Intake;
pub use record::Channel;
pub use submit::{ConversionError, CustomerSale, Receipt, submit, submit_as};
