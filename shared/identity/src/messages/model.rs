//! A message, a thread's state and their words: what the routes answer.

use serde::{Deserialize, Serialize};

use crate::domain::error::DomainError;
use crate::domain::time::Timestamp;
use crate::domain::{BroadcastId, MessageId, PartnerId};

/// Who wrote a message: the program (any of the merchant's people) or the partner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Merchant,
    Partner,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Merchant => "merchant",
            Side::Partner => "partner",
        }
    }

    pub fn other(self) -> Side {
        match self {
            Side::Merchant => Side::Partner,
            Side::Partner => Side::Merchant,
        }
    }
}

/// One message of a partner's thread.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub message_id: MessageId,
    pub partner_id: PartnerId,
    pub from: Side,
    pub at: Timestamp,
    /// Plain text: shown as text everywhere, never as HTML.
    pub body: String,
    /// A broadcast's subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broadcast_id: Option<BroadcastId>,
}

/// A partner's thread as the merchant's inbox lists it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadView {
    pub partner_id: PartnerId,
    pub last_at: Timestamp,
    pub last_from: Side,
    /// The last message's first characters.
    pub preview: String,
    /// Messages from the partner the merchant has not opened.
    pub unread: u64,
}

/// The longest message body, in characters.
pub const MAX_BODY_CHARS: usize = 5_000;
/// The longest broadcast subject, in characters.
pub const MAX_SUBJECT_CHARS: usize = 150;
/// A thread's preview, in characters.
pub const PREVIEW_CHARS: usize = 120;

/// A body as sent: trimmed, 1 to [`MAX_BODY_CHARS`] characters of text (line breaks and tabs
/// kept, other control characters refused, so nothing invisible reaches the other side).
pub fn validate_body(raw: &str) -> Result<String, DomainError> {
    let body = raw.trim();
    if body.is_empty() {
        return Err(DomainError::new("body", "must not be empty"));
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(DomainError::new(
            "body",
            format!("must be at most {MAX_BODY_CHARS} characters"),
        ));
    }
    if body
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(DomainError::new(
            "body",
            "must be text: control characters are not allowed",
        ));
    }
    Ok(body.to_owned())
}

/// A broadcast's subject: one line of 1 to [`MAX_SUBJECT_CHARS`] characters.
pub fn validate_subject(raw: &str) -> Result<String, DomainError> {
    let subject = raw.trim();
    if subject.is_empty() || subject.chars().count() > MAX_SUBJECT_CHARS {
        return Err(DomainError::new(
            "subject",
            format!("must be 1 to {MAX_SUBJECT_CHARS} characters"),
        ));
    }
    if subject.chars().any(char::is_control) {
        return Err(DomainError::new("subject", "must be one line of text"));
    }
    Ok(subject.to_owned())
}

/// The first [`PREVIEW_CHARS`] characters of a body, on one line.
pub fn preview(body: &str) -> String {
    let line: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(PREVIEW_CHARS)
        .collect();
    line.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_text_of_bounded_length() {
        assert_eq!(validate_body("  hello\nthere \t").unwrap(), "hello\nthere");
        assert_eq!(validate_body(" \n ").unwrap_err().field, "body");
        assert!(validate_body("a\u{0}b").is_err());
        assert!(validate_body("a\u{1b}[31mred").is_err());
        assert!(validate_body(&"é".repeat(MAX_BODY_CHARS)).is_ok());
        assert!(validate_body(&"é".repeat(MAX_BODY_CHARS + 1)).is_err());
        // HTML is text: kept as written, escaped wherever it is shown.
        assert_eq!(validate_body("<b>hi</b>").unwrap(), "<b>hi</b>");
    }

    #[test]
    fn subjects_are_one_line() {
        assert_eq!(validate_subject(" News ").unwrap(), "News");
        assert!(validate_subject("a\nb").is_err());
        assert!(validate_subject("").is_err());
        assert!(validate_subject(&"x".repeat(MAX_SUBJECT_CHARS + 1)).is_err());
    }

    #[test]
    fn previews_are_one_short_line() {
        assert_eq!(preview("hi\nthere"), "hi there");
        assert_eq!(preview(&"x".repeat(500)).chars().count(), PREVIEW_CHARS);
    }
}
