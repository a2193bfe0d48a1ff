//! `TENX_MAIL_*`, parsed once (`platform::config`): which engine sends, from which address, how
//! often a message is tried, and the hourly limits.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};

/// Where mail goes (`TENX_MAIL_URL`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailUrl {
    /// A Maildir (`{dir}/tmp`, `{dir}/new`): the default of a process with a data dir.
    Maildir(PathBuf),
    /// `smtp://user:pass@host:port` (STARTTLS when offered, required unless the host is a
    /// loopback address), `smtps://…` (TLS from the start). Kept as given: `lettre` parses it.
    Smtp(String),
    /// Amazon SES v2 (`ses:`); `ses:?endpoint=URL` points it at an emulator (tests).
    Ses { endpoint: Option<String> },
}

impl MailUrl {
    pub fn parse(raw: &str) -> anyhow::Result<Self> {
        if let Some(rest) = raw.strip_prefix("ses:") {
            let endpoint = match rest {
                "" => None,
                _ => {
                    let url = url::Url::parse(&format!("ses://x/{rest}"))
                        .context("TENX_MAIL_URL: ses:?endpoint=URL")?;
                    let endpoint = url.query_pairs().find(|(k, _)| k == "endpoint");
                    match endpoint {
                        Some((_, v)) => Some(v.into_owned()),
                        None => bail!("TENX_MAIL_URL={raw}: expected ses: or ses:?endpoint=URL"),
                    }
                }
            };
            return Ok(MailUrl::Ses { endpoint });
        }
        if let Some(dir) = raw.strip_prefix("maildir:") {
            return Ok(MailUrl::Maildir(PathBuf::from(dir)));
        }
        let url = url::Url::parse(raw).with_context(|| format!("TENX_MAIL_URL={raw}"))?;
        match url.scheme() {
            "smtp" | "smtps" if url.host_str().is_some() => Ok(MailUrl::Smtp(raw.to_owned())),
            _ => bail!("TENX_MAIL_URL={raw}: expected smtp://, smtps://, ses: or maildir:PATH"),
        }
    }

    /// The URL with its password hidden (logs, `tenx status`).
    pub fn describe(&self) -> String {
        match self {
            MailUrl::Maildir(dir) => format!("maildir:{}", dir.display()),
            MailUrl::Smtp(raw) => match url::Url::parse(raw) {
                Ok(mut u) => {
                    if u.password().is_some() {
                        let _ = u.set_password(Some("…"));
                    }
                    u.to_string()
                }
                Err(_) => "smtp".into(),
            },
            MailUrl::Ses { .. } => "ses:".into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailSettings {
    /// `None`: the default engine, a Maildir under [`Self::data_dir`], or SES without one.
    pub url: Option<MailUrl>,
    /// The local server's data dir (`tenx serve`, tests); `None` on Lambda.
    pub data_dir: Option<PathBuf>,
    /// The sender (`TENX_MAIL_FROM`, a bare address; the handle's brand name is its display
    /// name). Default `mail@{redirect domain without port}`.
    pub from: Option<String>,
    /// SES configuration set (`TENX_SES_CONFIGURATION_SET`): where bounces and complaints go.
    pub ses_configuration_set: Option<String>,
    /// Base of the retry schedule (`TENX_MAIL_RETRY_BASE_MS`, default 30 s: 30 s, 1, 2, 4 min).
    pub retry_base: Duration,
    /// Tries of one message before it is `failed` (`TENX_MAIL_ATTEMPTS`, default 5).
    pub attempts: u32,
    /// Mails one handle sends per hour before the rest waits (`TENX_MAIL_PER_HANDLE_HOUR`,
    /// default 1,000: a broadcast to 200 partners goes out; a loop mailing a list does not).
    pub per_handle_hour: u32,
    /// Mails to one address per hour (`TENX_MAIL_PER_RECIPIENT_HOUR`, default 20).
    pub per_recipient_hour: u32,
    /// The public origin of the API and console (`TENX_PUBLIC_URL`): every link in a mail is
    /// absolute to it. Default `http://{redirect domain}` locally.
    pub public_url: Option<String>,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            url: None,
            data_dir: None,
            from: None,
            ses_configuration_set: None,
            retry_base: Duration::from_secs(30),
            attempts: 5,
            per_handle_hour: 1000,
            per_recipient_hour: 20,
            public_url: None,
        }
    }
}

impl MailSettings {
    /// The engine in force: the URL given, else a Maildir under the data dir, else SES.
    pub fn effective_url(&self) -> MailUrl {
        match (&self.url, &self.data_dir) {
            (Some(url), _) => url.clone(),
            (None, Some(dir)) => MailUrl::Maildir(dir.join("mail")),
            (None, None) => MailUrl::Ses { endpoint: None },
        }
    }

    /// The sender's bare address, given or derived from `domain` (the redirect domain).
    pub fn from_address(&self, domain: &str) -> String {
        match &self.from {
            Some(from) => from.clone(),
            None => {
                let host = domain.split(':').next().unwrap_or("localhost");
                let host = if host.contains('.') {
                    host
                } else {
                    "localhost.localdomain"
                };
                format!("mail@{host}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_urls_parse_and_hide_their_password() {
        assert_eq!(
            MailUrl::parse("ses:").unwrap(),
            MailUrl::Ses { endpoint: None }
        );
        assert_eq!(
            MailUrl::parse("ses:?endpoint=http://127.0.0.1:5000").unwrap(),
            MailUrl::Ses {
                endpoint: Some("http://127.0.0.1:5000".into())
            }
        );
        let smtp = MailUrl::parse("smtp://ann:secret@mail.example.com:587").unwrap();
        assert_eq!(smtp.describe(), "smtp://ann:%E2%80%A6@mail.example.com:587");
        assert!(MailUrl::parse("http://example.com").is_err());
        assert!(MailUrl::parse("smtp://").is_err());
        assert!(MailUrl::parse("ses:nonsense").is_err());
    }

    #[test]
    fn the_default_engine_is_the_data_dirs_maildir_else_ses() {
        let mut s = MailSettings::default();
        assert_eq!(s.effective_url(), MailUrl::Ses { endpoint: None });
        s.data_dir = Some("/d".into());
        assert_eq!(s.effective_url(), MailUrl::Maildir("/d/mail".into()));
        assert_eq!(
            s.from_address("localhost:8080"),
            "mail@localhost.localdomain"
        );
        assert_eq!(s.from_address("go.example.com"), "mail@go.example.com");
    }
}
