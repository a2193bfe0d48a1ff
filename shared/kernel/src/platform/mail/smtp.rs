//! The SMTP engine (`smtp://`, `smtps://`): `lettre`'s async transport on tokio and rustls.
//! `smtps://` is TLS from the first byte; `smtp://` requires STARTTLS unless the URL says
//! otherwise (`?tls=opportunistic`, `?tls=none` for a test server on loopback) or the host is a
//! loopback address, where STARTTLS is used when the server offers it.

use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use lettre::address::Envelope;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{Mailer, Outcome, RawMail};

/// One SMTP conversation's limit: a server that stops answering is a temporary failure.
const TIMEOUT: Duration = Duration::from_secs(20);

pub(super) struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl Smtp {
    pub(super) fn new(raw: &str) -> anyhow::Result<Self> {
        let url = with_tls_default(raw)?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
            .context("TENX_MAIL_URL: not an SMTP URL lettre takes")?
            .timeout(Some(TIMEOUT))
            .build();
        Ok(Self { transport })
    }
}

/// `smtp://` without `tls=`: required, or opportunistic on a loopback host; `tls=none` (plain
/// text, lettre's URL without `tls`) only on a loopback host.
fn with_tls_default(raw: &str) -> anyhow::Result<String> {
    let mut url = url::Url::parse(raw).context("TENX_MAIL_URL")?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        // `smtp:` is not a special scheme to the URL parser: an address comes as a name.
        Some(url::Host::Domain(d)) => {
            d == "localhost"
                || d.trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        None => false,
    };
    let tls = url
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned());
    if url.scheme() != "smtp" {
        return Ok(url.into());
    }
    match tls.as_deref() {
        Some("none") if loopback => {
            url.set_query(None);
            Ok(url.into())
        }
        Some("none") => anyhow::bail!("TENX_MAIL_URL: tls=none only to a loopback host"),
        Some(_) => Ok(url.into()),
        None => {
            let tls = if loopback {
                "opportunistic"
            } else {
                "required"
            };
            url.query_pairs_mut().append_pair("tls", tls);
            Ok(url.into())
        }
    }
}

#[async_trait]
impl Mailer for Smtp {
    fn name(&self) -> &'static str {
        "smtp"
    }

    async fn send(&self, mail: &RawMail) -> Outcome {
        let envelope = match (mail.from.parse(), mail.to.parse()) {
            (Ok(from), Ok(to)) => Envelope::new(Some(from), vec![to]),
            _ => return Outcome::Permanent("the envelope's addresses do not parse".into()),
        };
        let envelope = match envelope {
            Ok(e) => e,
            Err(e) => return Outcome::Permanent(format!("no envelope: {e}")),
        };
        match self.transport.send_raw(&envelope, &mail.bytes).await {
            Ok(response) => Outcome::Sent {
                provider_id: response.message().next().map(str::to_owned),
            },
            Err(e) if e.is_permanent() => Outcome::Permanent(format!("the server refused it: {e}")),
            Err(e) => Outcome::Temporary(format!("not sent: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn smtp_requires_starttls_except_on_loopback() {
        let url = super::with_tls_default("smtp://u:p@mail.example.com:587").unwrap();
        assert!(url.ends_with("tls=required"), "{url}");
        let url = super::with_tls_default("smtp://127.0.0.1:2525").unwrap();
        assert!(url.ends_with("tls=opportunistic"), "{url}");
        let url = super::with_tls_default("smtp://127.0.0.1:2525?tls=none").unwrap();
        assert!(!url.contains("tls"), "plain text: {url}");
        assert!(super::with_tls_default("smtp://mail.example.com?tls=none").is_err());
        let url = super::with_tls_default("smtps://u:p@mail.example.com").unwrap();
        assert!(!url.contains("tls="), "{url}");
    }
}
