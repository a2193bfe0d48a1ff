//! The embedded engine: a Maildir (`{dir}/tmp`, `{dir}/new`), one `.eml` per message, written
//! to `tmp/` and renamed into `new/` (atomic on one file system: a reader never sees half a
//! message). The file is named after the Message-ID, so sending the same message again
//! replaces its file instead of adding a copy. `tenx mail list|show` and the tests read it.

use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::{Mailer, Outcome, RawMail};

pub struct Maildir {
    dir: PathBuf,
}

impl Maildir {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// `new/{file}`: the Message-ID's characters that are safe in a file name, the rest `_`.
    fn file_name(message_id: &str) -> String {
        let safe: String = message_id
            .chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' | '_' | '@' => c,
                _ => '_',
            })
            .collect();
        format!("{safe}.eml")
    }

    fn write(dir: &Path, mail: &RawMail) -> std::io::Result<()> {
        use std::io::Write;
        let (tmp, new) = (dir.join("tmp"), dir.join("new"));
        std::fs::create_dir_all(&tmp)?;
        std::fs::create_dir_all(&new)?;
        let name = Self::file_name(&mail.message_id);
        let staged = tmp.join(format!("{}.{}", name, uuid::Uuid::new_v4().simple()));
        let mut file = std::fs::File::create(&staged)?;
        file.write_all(&mail.bytes)?;
        file.sync_all()?;
        std::fs::rename(&staged, new.join(&name))?;
        // The rename is durable once the directory is.
        std::fs::File::open(&new)?.sync_all()
    }

    /// Every message in `new/`, oldest first (by modification time, then name).
    pub fn list(&self) -> std::io::Result<Vec<PathBuf>> {
        let new = self.dir.join("new");
        let entries = match std::fs::read_dir(&new) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry?;
            let modified = entry.metadata()?.modified()?;
            files.push((modified, entry.path()));
        }
        files.sort();
        Ok(files.into_iter().map(|(_, p)| p).collect())
    }
}

#[async_trait]
impl Mailer for Maildir {
    fn name(&self) -> &'static str {
        "maildir"
    }

    async fn send(&self, mail: &RawMail) -> Outcome {
        let (dir, mail) = (self.dir.clone(), mail.clone());
        match tokio::task::spawn_blocking(move || Self::write(&dir, &mail)).await {
            Ok(Ok(())) => Outcome::Sent { provider_id: None },
            Ok(Err(e)) => Outcome::Temporary(format!("writing to the Maildir: {e}")),
            Err(e) => Outcome::Temporary(format!("the Maildir writer stopped: {e}")),
        }
    }
}

/// A message read back: its headers of interest and its parts, decoded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadMessage {
    pub to: String,
    pub from: String,
    pub reply_to: Option<String>,
    pub subject: String,
    /// Without angle brackets.
    pub message_id: String,
    pub kind: String,
    pub date: String,
    pub list_unsubscribe: Option<String>,
    pub list_unsubscribe_post: Option<String>,
    pub text: String,
    pub html: String,
    /// The files it carries, decoded.
    pub files: Vec<super::MailFile>,
    pub raw: String,
}

/// Parses an RFC 5322 message (`mail-parser`: MIME parts, transfer and RFC 2047 encodings).
pub fn read_message(bytes: &[u8]) -> Option<ReadMessage> {
    let parsed = mail_parser::MessageParser::default().parse(bytes)?;
    let first = |addr: Option<&mail_parser::Address<'_>>| {
        addr.and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_owned()
    };
    let header = |name: &str| {
        parsed
            .header_raw(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    Some(ReadMessage {
        to: first(parsed.to()),
        from: first(parsed.from()),
        reply_to: parsed.reply_to().map(|a| first(Some(a))),
        subject: parsed.subject().unwrap_or_default().to_owned(),
        message_id: parsed.message_id().unwrap_or_default().to_owned(),
        kind: header("X-Tenx-Kind").unwrap_or_default(),
        date: header("Date").unwrap_or_default(),
        list_unsubscribe: header("List-Unsubscribe"),
        list_unsubscribe_post: header("List-Unsubscribe-Post"),
        text: parsed
            .body_text(0)
            .map(std::borrow::Cow::into_owned)
            .unwrap_or_default(),
        html: parsed
            .body_html(0)
            .map(std::borrow::Cow::into_owned)
            .unwrap_or_default(),
        files: files(&parsed),
        raw: String::from_utf8_lossy(bytes).into_owned(),
    })
}

/// A parsed message's attachments: name, type and decoded bytes.
fn files(parsed: &mail_parser::Message<'_>) -> Vec<super::MailFile> {
    use mail_parser::MimeHeaders;
    parsed
        .attachments()
        .map(|a| super::MailFile {
            name: a.attachment_name().unwrap_or_default().to_owned(),
            content_type: a
                .content_type()
                .map_or_else(String::new, |t| match t.subtype() {
                    Some(sub) => format!("{}/{sub}", t.ctype()),
                    None => t.ctype().to_owned(),
                }),
            bytes: a.contents().to_vec(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(id: &str, body: &str) -> RawMail {
        super::super::compose(super::super::Composed {
            from_name: "Acme <x>",
            from: "mail@example.com",
            reply_to: None,
            to: "ann@example.org",
            subject: "Grüße",
            message_id: id,
            kind: "message",
            unsubscribe: None,
            text: body.into(),
            html: format!("<p>{body}</p>"),
            files: vec![],
        })
        .unwrap()
    }

    #[tokio::test]
    async fn the_same_message_id_replaces_its_file_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let maildir = Maildir::new(dir.path().join("mail"));
        assert_eq!(maildir.list().unwrap(), Vec::<PathBuf>::new());
        for body in ["one", "two"] {
            let sent = maildir.send(&mail("ml_a@example.com", body)).await;
            assert_eq!(sent, Outcome::Sent { provider_id: None });
        }
        maildir.send(&mail("ml_b@example.com", "three")).await;
        let files = maildir.list().unwrap();
        assert_eq!(files.len(), 2, "{files:?}");
        let first = read_message(&std::fs::read(&files[0]).unwrap()).unwrap();
        assert_eq!(first.message_id, "ml_a@example.com");
        assert_eq!(first.subject, "Grüße");
        assert_eq!(first.kind, "message");
        assert_eq!(first.to, "ann@example.org");
        assert_eq!(first.text.trim(), "two");
        assert_eq!(first.html.trim(), "<p>two</p>");
        let staged = std::fs::read_dir(dir.path().join("mail/tmp"))
            .unwrap()
            .count();
        assert_eq!(staged, 0, "nothing left in tmp/");
    }
}
