//! Messages, partner groups and broadcasts (issue 61): a thread per partner, written from either
//! side and mailed to the other (the mail room's `message` kind), with unread counts; named
//! groups of partners; broadcasts to every active partner or a group, one message and one mail
//! per recipient, once.
//!
//! What it owns (`platform/store/keys.rs`): the threads (`keys::messages_pk`), the inbox items
//! (`keys::threads_pk`: last message, counters, read markers), the groups and the broadcasts.
//!
//! Unread counts without a lost update: each side's messages are a counter only ever added to
//! (in the message's own transaction), and each side's read marker remembers how many it had
//! seen (a version-checked put), so a message posted while the other side reads stays unread.

pub mod broadcasts;
pub mod groups;
pub mod model;
pub mod post;
pub mod thread;

use crate::domain::error::DomainError;
use crate::domain::{BroadcastId, GroupId, PartnerId};
use crate::kernel::ratelimit::{Limited, RateLimitError};
use crate::mail::MailError;
use crate::platform::store::StoreError;

pub use model::{Message, Side, ThreadView};

#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error("Partner {0} was not found.")]
    PartnerNotFound(PartnerId),
    #[error("Group {0} was not found.")]
    GroupNotFound(GroupId),
    #[error("Broadcast {0} was not found.")]
    BroadcastNotFound(BroadcastId),
    #[error("{0}")]
    Invalid(#[from] DomainError),
    #[error(transparent)]
    Limited(#[from] Limited),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<RateLimitError> for MessageError {
    fn from(e: RateLimitError) -> Self {
        match e {
            RateLimitError::Limited(l) => MessageError::Limited(l),
            RateLimitError::Store(s) => MessageError::Store(s),
        }
    }
}
