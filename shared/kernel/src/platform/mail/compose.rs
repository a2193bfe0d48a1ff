//! One message, built with `lettre`'s builder: addresses parsed as addresses (a display name
//! is quoted and encoded, never spliced), every header value encoded (RFC 2047) and folded, so
//! a newline in a subject or a name cannot start a header of its own. Multipart: text and HTML,
//! and the files a message carries (a self-billing invoice's PDF) beside them.

use lettre::Message;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart};

use super::RawMail;

/// What a message says and to whom.
#[derive(Clone, Debug)]
pub struct Composed<'a> {
    /// The display name of the sender (the handle's brand name).
    pub from_name: &'a str,
    pub from: &'a str,
    pub reply_to: Option<&'a str>,
    pub to: &'a str,
    pub subject: &'a str,
    /// `{id}@{domain}`, without angle brackets.
    pub message_id: &'a str,
    /// `X-Tenx-Kind`: `sign_in`, `payout_sent`, …
    pub kind: &'a str,
    /// The one-click unsubscribe URL (RFC 8058), on every kind but sign-in and invitation.
    pub unsubscribe: Option<&'a str>,
    pub text: String,
    pub html: String,
    /// Files carried beside the text (none: a text and HTML message only).
    pub files: Vec<MailFile>,
}

/// A file a message carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailFile {
    /// Its name as the recipient saves it (`invoice-pub-one-00001.pdf`).
    pub name: String,
    /// Its MIME type (`application/pdf`).
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("{field} is not an address: {why}")]
    Address { field: &'static str, why: String },
    #[error("the message could not be built: {0}")]
    Build(String),
}

/// A header's text on one line: a control character (a line break among them) becomes a space.
/// The encoder would refuse it (a panic inside lettre); a header must never split anyway.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The message's bytes and envelope.
pub fn compose(c: Composed<'_>) -> Result<RawMail, ComposeError> {
    let address = |field: &'static str, raw: &str| {
        raw.parse::<lettre::Address>()
            .map_err(|e| ComposeError::Address {
                field,
                why: e.to_string(),
            })
    };
    let from = Mailbox::new(Some(one_line(c.from_name)), address("from", c.from)?);
    let to = Mailbox::new(None, address("to", c.to)?);
    let mut builder = Message::builder()
        .from(from)
        .to(to)
        .subject(one_line(c.subject))
        .date_now()
        .message_id(Some(format!("<{}>", c.message_id)))
        .header(TenxKind(one_line(c.kind)));
    if let Some(reply_to) = c.reply_to {
        builder = builder.reply_to(Mailbox::new(None, address("replyTo", reply_to)?));
    }
    if let Some(url) = c.unsubscribe {
        builder = builder
            .header(ListUnsubscribe(format!("<{url}>")))
            .header(ListUnsubscribePost);
    }
    let body = MultiPart::alternative_plain_html(c.text, c.html);
    let body = if c.files.is_empty() {
        body
    } else {
        let mut mixed = MultiPart::mixed().multipart(body);
        for f in c.files {
            let kind = ContentType::parse(&f.content_type)
                .map_err(|e| ComposeError::Build(format!("{}: {e}", f.content_type)))?;
            mixed = mixed.singlepart(Attachment::new(one_line(&f.name)).body(f.bytes, kind));
        }
        mixed
    };
    let message = builder
        .multipart(body)
        .map_err(|e| ComposeError::Build(e.to_string()))?;
    Ok(RawMail {
        from: c.from.to_owned(),
        to: c.to.to_owned(),
        message_id: c.message_id.to_owned(),
        bytes: message.formatted(),
    })
}

/// `X-Tenx-Kind: payout_sent`: what the message is, for filters and the tests.
#[derive(Clone, Debug)]
struct TenxKind(String);

impl Header for TenxKind {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Tenx-Kind")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe: <https://…/v2/public/unsubscribe?token=…>` (RFC 2369).
#[derive(Clone, Debug)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058): a mail client may unsubscribe
/// with one POST, without opening a page.
#[derive(Clone, Debug)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn composed<'a>(subject: &'a str, name: &'a str) -> Composed<'a> {
        Composed {
            from_name: name,
            from: "mail@example.com",
            reply_to: Some("help@acme.example"),
            to: "ann@example.org",
            subject,
            message_id: "ml_1@example.com",
            kind: "payout_sent",
            unsubscribe: Some("https://x.example/v2/public/unsubscribe?token=t"),
            text: "hello".into(),
            html: "<p>hello</p>".into(),
            files: vec![],
        }
    }

    #[test]
    fn a_file_rides_beside_both_parts_and_reads_back_whole() {
        let mut c = composed("Your payout", "Acme");
        let pdf = b"%PDF-1.7\n\x00\xff binary".to_vec();
        c.files = vec![MailFile {
            name: "invoice-pub-one-00001.pdf".into(),
            content_type: "application/pdf".into(),
            bytes: pdf.clone(),
        }];
        let raw = compose(c).unwrap();
        let read = super::super::read_message(&raw.bytes).unwrap();
        assert_eq!(read.text.trim(), "hello");
        assert_eq!(read.files.len(), 1, "{}", read.raw);
        let f = &read.files[0];
        assert_eq!(
            (f.name.as_str(), f.content_type.as_str(), &f.bytes),
            ("invoice-pub-one-00001.pdf", "application/pdf", &pdf)
        );
    }

    #[test]
    fn a_message_has_its_headers_and_both_parts() {
        let raw = compose(composed("Your payout", "Acme")).unwrap();
        let text = String::from_utf8(raw.bytes).unwrap();
        for needle in [
            "Message-ID: <ml_1@example.com>",
            "X-Tenx-Kind: payout_sent",
            "List-Unsubscribe: <https://x.example/v2/public/unsubscribe?token=t>",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            "Reply-To: help@acme.example",
            "multipart/alternative",
            "text/plain",
            "text/html",
        ] {
            assert!(text.contains(needle), "{needle} missing in {text}");
        }
    }

    #[test]
    fn a_newline_in_a_subject_or_name_starts_no_header() {
        let raw = compose(composed(
            "Hi\r\nBcc: victim@example.com",
            "Acme\r\nBcc: x@y.z",
        ))
        .unwrap();
        let text = String::from_utf8(raw.bytes).unwrap();
        assert!(
            !text.lines().any(|l| l.starts_with("Bcc:")),
            "a header was injected: {text}"
        );
    }

    #[test]
    fn a_malformed_address_is_refused() {
        let mut c = composed("s", "n");
        c.to = "not an address";
        assert!(matches!(
            compose(c),
            Err(ComposeError::Address { field: "to", .. })
        ));
    }
}
