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
    Ok(fetch_token(base, id, secret).await?.0)
}

/// [`token`], kept by the process while PayPal says it is good (less a minute, at most an hour):
/// what each webhook delivery's verification asks for, so a flood of deliveries (signed or not)
/// costs the program's PayPal app one call each, not two.
pub async fn cached_token(base: &str, id: &str, secret: &str) -> Result<String, CallError> {
    let key = token_key(base, id, secret);
    let now = std::time::Instant::now();
    if let Some((token, until)) = tokens().lock().ok().and_then(|t| t.get(&key).cloned())
        && until > now
    {
        return Ok(token);
    }
    let (token, life) = fetch_token(base, id, secret).await?;
    if let Ok(mut kept) = tokens().lock() {
        kept.retain(|_, (_, until)| *until > now);
        kept.insert(key, (token.clone(), now + life));
    }
    Ok(token)
}

/// Drops a kept token PayPal no longer takes (its answer to a call made with it was 401).
pub fn forget_token(base: &str, id: &str, secret: &str) {
    if let Ok(mut kept) = tokens().lock() {
        kept.remove(&token_key(base, id, secret));
    }
}

type Kept = std::collections::HashMap<[u8; 32], (String, std::time::Instant)>;

fn tokens() -> &'static std::sync::Mutex<Kept> {
    static TOKENS: std::sync::OnceLock<std::sync::Mutex<Kept>> = std::sync::OnceLock::new();
    TOKENS.get_or_init(Default::default)
}

/// A kept token's key: the app's credentials' digest (a new secret never reuses the old
/// secret's token; the secret itself is not kept).
fn token_key(base: &str, id: &str, secret: &str) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::new()
        .chain_update(base)
        .chain_update([0])
        .chain_update(id)
        .chain_update([0])
        .chain_update(secret)
        .finalize()
        .into()
}

/// A token and how long to keep it: PayPal's `expires_in` less a minute, at most an hour.
async fn fetch_token(
    base: &str,
    id: &str,
    secret: &str,
) -> Result<(String, std::time::Duration), CallError> {
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
    let life = body["expires_in"]
        .as_u64()
        .map_or(0, |s| s.saturating_sub(60).min(3_600));
    match status {
        200 => body["access_token"]
            .as_str()
            .map(|t| (t.to_owned(), std::time::Duration::from_secs(life)))
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

impl Transmission<'_> {
    /// Whether the delivery carries PayPal's transmission headers as PayPal sends them: all
    /// five, a SHA-256 signature algorithm, a time, and a certificate served by PayPal
    /// (`*.paypal.com` over HTTPS, or the PayPal API this process calls, `base`). A delivery
    /// without them is refused before PayPal is asked (each verification is a call on the
    /// program's PayPal app).
    pub fn looks_sent_by_paypal(&self, base: &str) -> bool {
        let present = [self.id, self.time, self.sig, self.cert_url, self.auth_algo]
            .iter()
            .all(|h| !h.is_empty() && h.len() <= 4_096);
        present
            && self.auth_algo.starts_with("SHA256with")
            && crate::domain::time::parse_rfc3339(self.time).is_some()
            && served_by_paypal(self.cert_url, base)
    }
}

fn served_by_paypal(cert_url: &str, base: &str) -> bool {
    let (Ok(cert), Ok(base)) = (url::Url::parse(cert_url), url::Url::parse(base)) else {
        return false;
    };
    let paypal = cert.scheme() == "https"
        && cert
            .host_str()
            .is_some_and(|h| h == "paypal.com" || h.ends_with(".paypal.com"));
    paypal || cert.origin() == base.origin()
}

/// Whether PayPal says it signed `event` (the delivery's raw body, checked to be JSON) for the
/// webhook `webhook_id` (`POST /v1/notifications/verify-webhook-signature`, only `SUCCESS`
/// accepted). The event goes back as it came, byte for byte: PayPal's signature covers the
/// CRC32 of the raw body, and an event parsed and written again (serde_json sorts its keys)
/// is not what PayPal signed.
pub async fn verify(
    base: &str,
    token: &str,
    webhook_id: &str,
    t: &Transmission<'_>,
    event: &[u8],
) -> Result<bool, CallError> {
    let body = verification_request(webhook_id, t, event)
        .ok_or_else(|| CallError::Refused("The event is not UTF-8 JSON.".into()))?;
    let response = client()?
        .post(format!("{base}/v1/notifications/verify-webhook-signature"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
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

/// `verify-webhook-signature`'s body: the transmission's fields and `webhook_event`, the raw
/// event as it came (`None` when it is not UTF-8).
fn verification_request(webhook_id: &str, t: &Transmission<'_>, event: &[u8]) -> Option<String> {
    let event = std::str::from_utf8(event).ok()?;
    let fields = json!({
        "auth_algo": t.auth_algo,
        "cert_url": t.cert_url,
        "transmission_id": t.id,
        "transmission_sig": t.sig,
        "transmission_time": t.time,
        "webhook_id": webhook_id,
    })
    .to_string();
    // `{…fields…,"webhook_event":<the raw event>}`: the fields' object, its brace replaced.
    Some(format!(
        "{},\"webhook_event\":{event}}}",
        fields.strip_suffix('}').unwrap_or(&fields)
    ))
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

#[cfg(test)]
mod transmission_tests {
    use super::Transmission;

    const BASE: &str = "https://api-m.paypal.com";

    fn sent_with(cert_url: &str) -> Transmission<'_> {
        Transmission {
            id: "8e5e7f10-cc43-11f0-a0c8-4d7a4e1f9bd7",
            time: "2026-11-27T10:00:00Z",
            sig: "Zm9yZ2Vk",
            cert_url,
            auth_algo: "SHA256withRSA",
        }
    }

    #[test]
    fn the_event_goes_back_to_paypal_byte_for_byte() {
        let raw = br#"{"id":"WH-1","event_type":"PAYMENT.PAYOUTS-ITEM.SUCCEEDED","resource":{"z":1, "a":2}}"#;
        let t = sent_with("https://api.paypal.com/v1/notifications/certs/CERT-1");
        let body = super::verification_request("WH-ID", &t, raw).unwrap();
        assert!(
            body.ends_with(&format!(
                ",\"webhook_event\":{}}}",
                std::str::from_utf8(raw).unwrap()
            )),
            "{body}"
        );
        let read: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(read["webhook_id"], "WH-ID");
        assert_eq!(read["transmission_id"], t.id);
        assert_eq!(read["webhook_event"]["resource"]["a"], 2);
        assert!(super::verification_request("WH-ID", &t, b"\xff").is_none());
    }

    #[test]
    fn a_delivery_looks_sent_by_paypal_only_with_its_headers_and_a_certificate_it_serves() {
        for cert in [
            "https://api.paypal.com/v1/notifications/certs/CERT-360caa42",
            "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42",
        ] {
            assert!(sent_with(cert).looks_sent_by_paypal(BASE), "{cert}");
        }
        let local = "http://127.0.0.1:4010/_paypal/certs/CERT-1";
        assert!(
            sent_with(local).looks_sent_by_paypal("http://127.0.0.1:4010"),
            "the PayPal this process calls serves its own certificates"
        );
        for cert in [
            local,
            "http://api.paypal.com/v1/notifications/certs/CERT",
            "https://paypal.com.example.net/certs/CERT",
            "https://evilpaypal.com/certs/CERT",
            "not a url",
            "",
        ] {
            assert!(!sent_with(cert).looks_sent_by_paypal(BASE), "{cert}");
        }
        let cert = "https://api.paypal.com/v1/notifications/certs/CERT-360caa42";
        let mut t = sent_with(cert);
        t.auth_algo = "MD5withRSA";
        assert!(!t.looks_sent_by_paypal(BASE));
        let mut t = sent_with(cert);
        t.time = "yesterday";
        assert!(!t.looks_sent_by_paypal(BASE));
        let mut t = sent_with(cert);
        t.sig = "";
        assert!(!t.looks_sent_by_paypal(BASE));
    }
}
