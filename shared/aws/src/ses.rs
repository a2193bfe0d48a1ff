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

use tenx_kernel::platform::mail::{Mailer, Outcome, RawMail};

/// Tries of one `SendEmail` while SES throttles (its own retries come first): 0.2, 0.8, 3.2 s.
const THROTTLED_TRIES: u32 = 4;
const THROTTLED_BACKOFF: Duration = Duration::from_millis(200);

pub struct Ses {
    endpoint: Option<String>,
    configuration_set: Option<String>,
    client: OnceCell<Client>,
    /// The first wait after a throttled send (then four times longer each time).
    backoff: Duration,
}

impl Ses {
    pub fn new(endpoint: Option<String>, configuration_set: Option<String>) -> Self {
        Self {
            endpoint,
            configuration_set,
            client: OnceCell::new(),
            backoff: THROTTLED_BACKOFF,
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
        let mut delay = self.backoff;
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

#[cfg(test)]
mod tests {
    //! SES throttling against a loopback server that answers as SES v2 does (`429`,
    //! `x-amzn-ErrorType: TooManyRequestsException`), the SDK's own retries off and no backoff,
    //! so the test counts the engine's tries and never waits.

    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::http::StatusCode;
    use axum::response::IntoResponse;

    use super::*;

    /// A loopback SES answering `throttled` throttles, then success; and its request count.
    async fn fake_ses(throttled: usize) -> (String, Arc<AtomicUsize>) {
        let seen = Arc::new(AtomicUsize::new(0));
        let count = seen.clone();
        let app = axum::Router::new().route(
            "/v2/email/outbound-emails",
            axum::routing::post(move || {
                let n = count.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n < throttled {
                        (
                            StatusCode::TOO_MANY_REQUESTS,
                            [("x-amzn-ErrorType", "TooManyRequestsException")],
                            r#"{"message":"Maximum sending rate exceeded."}"#,
                        )
                            .into_response()
                    } else {
                        (
                            StatusCode::OK,
                            [("content-type", "application/json")],
                            r#"{"MessageId":"ses-id-1"}"#,
                        )
                            .into_response()
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, seen)
    }

    fn engine(url: &str) -> Ses {
        use aws_sdk_sesv2::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};
        let conf = aws_sdk_sesv2::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .endpoint_url(url)
            .retry_config(RetryConfig::disabled())
            .build();
        Ses {
            endpoint: None,
            configuration_set: None,
            client: OnceCell::new_with(Some(Client::from_conf(conf))),
            backoff: Duration::ZERO,
        }
    }

    fn mail() -> RawMail {
        RawMail {
            from: "program@shop.example".into(),
            to: "kim@reviews.example".into(),
            message_id: "evt-1@shop.example".into(),
            bytes: b"Subject: hi\r\n\r\nhello\r\n".to_vec(),
        }
    }

    #[tokio::test]
    async fn a_throttled_send_is_retried_until_ses_takes_it() {
        let (url, seen) = fake_ses(THROTTLED_TRIES as usize - 1).await;
        let outcome = engine(&url).send(&mail()).await;
        assert_eq!(
            outcome,
            Outcome::Sent {
                provider_id: Some("ses-id-1".into())
            }
        );
        assert_eq!(seen.load(Ordering::SeqCst), THROTTLED_TRIES as usize);
    }

    #[tokio::test]
    async fn throttling_that_lasts_leaves_the_mail_waiting_never_lost() {
        let (url, seen) = fake_ses(usize::MAX).await;
        let outcome = engine(&url).send(&mail()).await;
        assert_eq!(
            outcome,
            Outcome::Temporary("SES kept throttling the send".into())
        );
        assert_eq!(seen.load(Ordering::SeqCst), THROTTLED_TRIES as usize);
    }
}
