//! "Test the connection": one harmless authenticated call to the provider with the stored
//! credentials, answered in words (what works, else what to fix and where). Stripe: a list of
//! at most one transfer (`GET /v1/transfers?limit=1`, what sending needs the key for); PayPal:
//! an OAuth token (`POST /v1/oauth2/token`), whose scope must include Payouts.

use std::time::Duration;

use serde::Serialize;

use super::{Credentials, Provider};

/// The check's answer: whether the provider accepted the credentials, in words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckOutcome {
    pub provider: Provider,
    pub ok: bool,
    pub message: String,
}

/// The scope PayPal grants an app that may send Payouts.
const PAYOUTS_SCOPE: &str = "https://uri.paypal.com/payments/payouts";

/// How long the provider is waited for.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Calls the provider at `base` (its API's origin) with `credentials`.
#[tracing::instrument(skip_all)]
pub async fn check(base: &str, credentials: &Credentials) -> CheckOutcome {
    let provider = credentials.provider();
    let (ok, message) = match call(base, credentials).await {
        Ok(words) => (true, words),
        Err(words) => (false, words),
    };
    CheckOutcome {
        provider,
        ok,
        message,
    }
}

async fn call(base: &str, credentials: &Credentials) -> Result<String, String> {
    let title = credentials.provider().title();
    let client = crate::platform::http_client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("{title} could not be reached: {e}."))?;
    let base = base.trim_end_matches('/');
    match credentials {
        Credentials::Stripe { secret_key, .. } => stripe(&client, base, secret_key).await,
        Credentials::Paypal {
            client_id,
            client_secret,
            ..
        } => paypal(&client, base, client_id, client_secret).await,
    }
}

/// What a status other than success and a refused key says: the provider busy or down.
fn unavailable(title: &str, status: u16) -> String {
    match status {
        429 => format!("{title} asked us to slow down (too many requests). Try again in a minute."),
        500..=599 => format!(
            "{title} did not answer properly (its error {status}). Try again in a few minutes."
        ),
        _ => format!("{title} answered in an unexpected way (HTTP {status})."),
    }
}

fn unreachable(title: &str, e: &reqwest::Error) -> String {
    if e.is_timeout() {
        format!(
            "{title} did not answer within {} seconds. Try again in a few minutes.",
            TIMEOUT.as_secs()
        )
    } else {
        format!("{title} could not be reached. Try again in a few minutes.")
    }
}

async fn stripe(client: &reqwest::Client, base: &str, key: &str) -> Result<String, String> {
    let response = client
        .get(format!("{base}/v1/transfers?limit=1"))
        .bearer_auth(key)
        .send()
        .await
        .map_err(|e| unreachable("Stripe", &e))?;
    match response.status().as_u16() {
        200 => {
            let mode = match key.contains("_test_") {
                true => "It is a test-mode key: payouts move Stripe's test money, not real money.",
                false => "It is a live key: payouts move real money.",
            };
            Ok(format!("Stripe accepted the secret key. {mode}"))
        }
        401 => Err("Stripe refused the secret key. Copy it again from Stripe's Dashboard → Developers → API keys, and save it here.".into()),
        403 => Err("Stripe accepted the key but it may not make transfers: use the account's secret key, or give a restricted key the Transfers permission (write).".into()),
        s => Err(unavailable("Stripe", s)),
    }
}

async fn paypal(
    client: &reqwest::Client,
    base: &str,
    id: &str,
    secret: &str,
) -> Result<String, String> {
    let response = client
        .post(format!("{base}/v1/oauth2/token"))
        .basic_auth(id, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .map_err(|e| unreachable("PayPal", &e))?;
    match response.status().as_u16() {
        200 => {
            let body: serde_json::Value = response
                .json()
                .await
                .map_err(|_| "PayPal's answer could not be read. Try again in a few minutes.")?;
            let scope = body["scope"].as_str().unwrap_or_default();
            if scope.split_whitespace().any(|s| s == PAYOUTS_SCOPE) {
                Ok("PayPal accepted the client ID and secret, and the app may send Payouts.".into())
            } else {
                Err("PayPal accepted the client ID and secret, but the app may not send Payouts: turn on Payouts for the app in PayPal's developer dashboard (Apps & Credentials → the app → Features).".into())
            }
        }
        400 | 401 => Err("PayPal refused the client ID and secret. Copy both again from PayPal's developer dashboard → Apps & Credentials → the app, and save them here.".into()),
        s => Err(unavailable("PayPal", s)),
    }
}
