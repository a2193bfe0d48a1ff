//! Where a sign-in link or an invitation goes: the one place that hands a link to a person.
//! Until the mail room's seam (`mail::enqueue`) is in this branch, a link is kept in process
//! (read by tests through [`delivered`]) and logged without its token; nothing else is built here.

use std::sync::Mutex;

use crate::domain::email::Email;

/// What a link is for (the mail's kind: `sign_in`, `invitation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    SignIn,
    Invitation,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::SignIn => "sign_in",
            Kind::Invitation => "invitation",
        }
    }
}

/// One link handed over.
#[derive(Clone, Debug)]
pub struct Delivered {
    pub kind: Kind,
    pub to: String,
    pub link: String,
    /// The template's other fields (the handle, the role).
    pub data: serde_json::Value,
}

static DELIVERED: Mutex<Vec<Delivered>> = Mutex::new(Vec::new());

/// Hands `link` to the person at `to`.
pub async fn deliver(kind: Kind, to: &Email, link: String, data: serde_json::Value) {
    tracing::info!(kind = kind.as_str(), "a one-time link was handed over");
    let mut all = DELIVERED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    all.push(Delivered {
        kind,
        to: to.as_str().to_owned(),
        link,
        data,
    });
    // A bound, so a long-running process keeps no more than the last few.
    let len = all.len();
    if len > 1000 {
        all.drain(..len - 1000);
    }
}

/// Every link handed over in this process so far (tests read the link out of it).
pub fn delivered() -> Vec<Delivered> {
    DELIVERED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}
