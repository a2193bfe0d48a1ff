//! The Amazon SES v2 engine (`ses:`): `SendEmail` with the raw message, in the configuration
//! set whose events (bounce, complaint, delivery) reach the suppression worker through SNS and
//! SQS (`template.yaml`). Throttling is retried here with backoff; a rejected message is a
//! permanent failure; the rest (a paused account, an unverified domain, a network failure) is
//! temporary, so the message waits, visibly, and ends `failed` if it lasts.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::error::SdkError;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};
use tokio::sync::OnceCell;

use super::{Mailer, Outcome, RawMail};

/// Tries of one `SendEmail` while SES throttles (its own retries come first): 0.2, 0.8, 3.2 s.
const THROTTLED_TRIES: u32 = 4;
const THROTTLED_BACKOFF: Duration = Duration::from_millis(200);

pub(super) struct Ses {
    endpoint: Option<String>,
    configuration_set: Option<String>,
    client: OnceCell<Client>,
}

impl Ses {
    pub(super) fn new(endpoint: Option<String>, configuration_set: Option<String>) -> Self {
        Self {
            endpoint,
            configuration_set,
            client: OnceCell::new(),
        }
    }

    /// Built on first use (a process that sends nothing never loads the SDK's configuration).
    async fn client(&self) -> &Client {
        self.client
            .get_or_init(|| async {
                let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
                if let Some(url) = &self.endpoint {
                    loader = loader.endpoint_url(url);
                }
                Client::new(&loader.load().await)
            })
            .await
    }

    async fn send_once(&self, mail: &RawMail) -> Result<Outcome, bool> {
        let raw = RawMessage::builder()
            .data(Blob::new(mail.bytes.clone()))
            .build()
            .map_err(|_| false)?;
        let sent = self
            .client()
            .await
            .send_email()
            .from_email_address(&mail.from)
            .destination(Destination::builder().to_addresses(&mail.to).build())
            .content(EmailContent::builder().raw(raw).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await;
        match sent {
            Ok(out) => Ok(Outcome::Sent {
                provider_id: out.message_id,
            }),
            Err(SdkError::ServiceError(e)) => {
                let err = e.err();
                if err.is_too_many_requests_exception() || err.is_limit_exceeded_exception() {
                    return Err(true);
                }
                let words = format!(
                    "SES refused it: {}",
                    aws_sdk_sesv2::error::DisplayErrorContext(err)
                );
                if err.is_message_rejected() || err.is_bad_request_exception() {
                    Ok(Outcome::Permanent(words))
                } else {
                    Ok(Outcome::Temporary(words))
                }
            }
            Err(e) => Ok(Outcome::Temporary(format!(
                "SES did not answer: {}",
                aws_sdk_sesv2::error::DisplayErrorContext(&e)
            ))),
        }
    }
}

#[async_trait]
impl Mailer for Ses {
    fn name(&self) -> &'static str {
        "ses"
    }

    async fn send(&self, mail: &RawMail) -> Outcome {
        let mut delay = THROTTLED_BACKOFF;
        for attempt in 1..=THROTTLED_TRIES {
            match self.send_once(mail).await {
                Ok(outcome) => return outcome,
                Err(false) => {
                    return Outcome::Permanent("the raw message could not be built".into());
                }
                Err(true) if attempt < THROTTLED_TRIES => {
                    tracing::debug!(attempt, "SES throttled the send; backing off");
                    tokio::time::sleep(delay).await;
                    delay *= 4;
                }
                Err(true) => {}
            }
        }
        Outcome::Temporary("SES kept throttling the send".into())
    }
}
