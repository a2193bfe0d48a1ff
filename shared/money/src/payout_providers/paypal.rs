//! PayPal Payouts, the calls a payout makes (docs/providers.md has each fact and its source):
//! a token by client credentials, a batch of one item per payout whose `sender_batch_id` is the
//! payout's id (PayPal refuses a second batch of the same id for 30 days, linking the first:
//! that is how a lost answer is recovered), a batch read back, and a webhook's signature
//! checked by `verify-webhook-signature`.

use serde_json::{Value, json};

use super::{CallError, client};

/// Where PayPal pays: an account's email (`EMAIL`) or its payer ID (`PAYPAL_ID`), the
/// `recipient_type` and `receiver` of a Payouts item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Receiver<'a> {
    pub recipient_type: &'static str,
    pub receiver: &'a str,
}

/// How a payer ID is written in a payout's sealed destination (an email is written as it is,
/// as it always was).
const PAYER_ID_PREFIX: &str = "PAYPAL_ID:";

/// A payout's destination as sealed, from its `(recipient_type, receiver)`.
pub fn destination((recipient_type, receiver): (&str, &str)) -> String {
    match recipient_type {
        "PAYPAL_ID" => format!("{PAYER_ID_PREFIX}{receiver}"),
        _ => receiver.to_owned(),
    }
}

impl<'a> Receiver<'a> {
    /// The receiver a sealed destination names ([`destination`]).
    pub fn of(destination: &'a str) -> Self {
        match destination.strip_prefix(PAYER_ID_PREFIX) {
            Some(id) => Self {
                recipient_type: "PAYPAL_ID",
                receiver: id,
            },
            None => Self {
                recipient_type: "EMAIL",
                receiver: destination,
            },
        }
    }
}

/// What a payout sends: its id, where, how much (a decimal string in the currency's units).
pub struct Item<'a> {
    pub payout_id: &'a str,
    pub to: Receiver<'a>,
    pub value: String,
    pub currency: &'a str,
    pub note: &'a str,
}

/// An item's state at PayPal (`transaction_enum`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemState {
    pub status: String,
    pub item_id: Option<String>,
    /// `errors.name` of an item that did not succeed.
    pub error: Option<String>,
}

/// An access token (`POST /v1/oauth2/token`).
pub async fn token(base: &str, id: &str, secret: &str) -> Result<String, CallError> {
    let response = client()?
        .post(format!("{base}/v1/oauth2/token"))
        .basic_auth(id, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .map_err(|e| CallError::unreachable("PayPal", &e))?;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    match status {
        200 => body["access_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| CallError::Retry("PayPal's token answer had no token.".into())),
        400 | 401 => Err(CallError::Denied(
            "PayPal refused the program's client ID and secret: an admin connects PayPal again on the console's Payouts page (Payout providers).".into(),
        )),
        s => Err(CallError::status("PayPal", s)),
    }
}

/// Sends the payout as a batch of one item; answers the batch's id, the first one's when the
/// batch was made before (a lost answer, a retry).
pub async fn create_batch(base: &str, token: &str, item: &Item<'_>) -> Result<String, CallError> {
    let body = json!({
        "sender_batch_header": {
            "sender_batch_id": item.payout_id,
            "recipient_type": item.to.recipient_type,
            "email_subject": "You have a payout",
        },
        "items": [{
            "recipient_type": item.to.recipient_type,
            "amount": {"value": item.value, "currency": item.currency},
            "receiver": item.to.receiver,
            "sender_item_id": item.payout_id,
            "note": item.note,
        }],
    });
    let response = client()?
        .post(format!("{base}/v1/payments/payouts"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .map_err(|e| CallError::unreachable("PayPal", &e))?;
    let status = response.status().as_u16();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    match status {
        200 | 201 => answer["batch_header"]["payout_batch_id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| CallError::Retry("PayPal's answer named no batch.".into())),
        400 if answer["name"] == "USER_BUSINESS_ERROR" && duplicate(&answer) => {
            original_batch(&answer).ok_or_else(|| {
                CallError::Retry("PayPal has this payout already but did not link it.".into())
            })
        }
        400 | 422 => Err(CallError::Refused(refusal(&answer))),
        401 => Err(CallError::Retry("PayPal's token expired.".into())),
        403 => Err(CallError::Denied(
            "PayPal does not let the program's app send Payouts: turn Payouts on for the app in PayPal's developer dashboard.".into(),
        )),
        s => Err(CallError::status("PayPal", s)),
    }
}

/// Whether a `USER_BUSINESS_ERROR` is the refusal of a `sender_batch_id` used before.
fn duplicate(answer: &Value) -> bool {
    answer["details"]
        .as_array()
        .is_some_and(|d| d.iter().any(|x| x["field"] == "SENDER_BATCH_ID"))
}

/// The first batch's id, from the refusal's link to it (its last path segment: the link is
/// never followed, so no host it names is called).
fn original_batch(answer: &Value) -> Option<String> {
    let links = answer["links"].as_array()?;
    links.iter().find_map(|l| {
        let href = l["href"].as_str()?;
        let id = href.trim_end_matches('/').rsplit('/').next()?;
        (!id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric())).then(|| id.to_owned())
    })
}

/// A refusal of the request in words (PayPal's `details`: the field and the issue).
fn refusal(answer: &Value) -> String {
    let detail = answer["details"]
        .as_array()
        .and_then(|d| d.first())
        .map(|d| {
            format!(
                " ({}: {})",
                d["field"].as_str().unwrap_or("?"),
                d["issue"].as_str().unwrap_or("?")
            )
        })
        .unwrap_or_default();
    format!("PayPal refused the payout{detail}.")
}

/// The batch's one item as it is now (`GET /v1/payments/payouts/{id}`).
pub async fn batch_item(base: &str, token: &str, batch_id: &str) -> Result<ItemState, CallError> {
    let response = client()?
        .get(format!("{base}/v1/payments/payouts/{batch_id}"))
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| CallError::unreachable("PayPal", &e))?;
    let status = response.status().as_u16();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    if status != 200 {
        return Err(CallError::status("PayPal", status));
    }
    let item = &answer["items"][0];
    Ok(ItemState {
        status: item["transaction_status"]
            .as_str()
            .unwrap_or("PENDING")
            .to_owned(),
        item_id: item["payout_item_id"].as_str().map(str::to_owned),
        error: item["errors"]["name"].as_str().map(str::to_owned),
    })
}

/// The headers PayPal signs a delivery with, as `verify-webhook-signature` names them.
pub struct Transmission<'a> {
    pub id: &'a str,
    pub time: &'a str,
    pub sig: &'a str,
    pub cert_url: &'a str,
    pub auth_algo: &'a str,
}

/// Whether PayPal says it signed `event` for the webhook `webhook_id`
/// (`POST /v1/notifications/verify-webhook-signature`, only `SUCCESS` accepted).
pub async fn verify(
    base: &str,
    token: &str,
    webhook_id: &str,
    t: &Transmission<'_>,
    event: &Value,
) -> Result<bool, CallError> {
    let body = json!({
        "auth_algo": t.auth_algo,
        "cert_url": t.cert_url,
        "transmission_id": t.id,
        "transmission_sig": t.sig,
        "transmission_time": t.time,
        "webhook_id": webhook_id,
        "webhook_event": event,
    });
    let response = client()?
        .post(format!("{base}/v1/notifications/verify-webhook-signature"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .map_err(|e| CallError::unreachable("PayPal", &e))?;
    let status = response.status().as_u16();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    match status {
        200 => Ok(answer["verification_status"] == "SUCCESS"),
        s => Err(CallError::status("PayPal", s)),
    }
}

/// What an item's state means for the payout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Meaning {
    Paid,
    /// Still on its way (`PENDING`, `UNCLAIMED`, `ONHOLD`), in words.
    Waiting(String),
    Failed(String),
    Returned(String),
}

/// `transaction_status` (and its error) in words for a person.
pub fn meaning(state: &ItemState) -> Meaning {
    let why = state.error.as_deref().map(error_words).unwrap_or_default();
    match state.status.as_str() {
        "SUCCESS" => Meaning::Paid,
        "UNCLAIMED" => Meaning::Waiting(
            "PayPal holds the payment until the partner claims it with the payout's email (up to 30 days; then it comes back).".into(),
        ),
        "ONHOLD" => Meaning::Waiting("PayPal is reviewing the payment.".into()),
        "FAILED" => Meaning::Failed(format!("PayPal could not pay it{why}.")),
        "BLOCKED" => Meaning::Failed(format!("PayPal blocked the payment{why}.")),
        "RETURNED" => Meaning::Returned(format!(
            "The payment came back: the partner did not claim it within 30 days{why}."
        )),
        "REFUNDED" | "REVERSED" => Meaning::Returned(format!("PayPal reversed the payment{why}.")),
        _ => Meaning::Waiting("PayPal is processing the payment.".into()),
    }
}

fn error_words(name: &str) -> String {
    match name {
        "RECEIVER_UNREGISTERED" => " (no PayPal account has this email)".into(),
        "RECEIVER_ACCOUNT_LOCKED" => " (the partner's PayPal account is locked)".into(),
        "RECEIVER_COUNTRY_NOT_ALLOWED" => " (PayPal cannot pay a partner in this country)".into(),
        other => format!(" ({other})"),
    }
}
