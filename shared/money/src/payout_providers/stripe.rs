//! Stripe Connect, the calls a payout makes (docs/providers.md has each fact and its source):
//! a transfer to the partner's connected account whose `Idempotency-Key`, `transfer_group` and
//! `metadata[payout]` are the payout's id (Stripe keeps a key about 24 hours: after that, the
//! transfer is looked up by its group before any resend), a transfer read back, and a webhook's
//! `Stripe-Signature` checked (HMAC-SHA256, compared in constant time).

use serde_json::Value;

use super::{CallError, client};

/// What a payout sends.
pub struct Transfer<'a> {
    pub payout_id: &'a str,
    pub destination: &'a str,
    pub amount_minor: i64,
    /// ISO 4217, lowercase as Stripe writes it.
    pub currency: String,
}

/// A transfer as Stripe answers it (an answer's, or a `transfer.*` event's `data.object`): its
/// id, its amount and how much of it Stripe has reversed so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Made {
    pub id: String,
    /// `amount`, in minor units.
    pub amount: i64,
    /// `amount_reversed`: every reversal of the transfer so far, in all (minor units).
    pub amount_reversed: i64,
    /// `reversed`: true only once the whole transfer is reversed.
    pub reversed: bool,
}

/// What Stripe has given back of a transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reversal {
    Nothing,
    /// Part of it: the amount reversed so far in all (minor units), less than the transfer's.
    Part(i64),
    Whole,
}

impl Made {
    pub fn of(v: &Value) -> Option<Made> {
        Some(Made {
            id: v["id"].as_str()?.to_owned(),
            amount: v["amount"].as_i64().unwrap_or(0),
            amount_reversed: v["amount_reversed"].as_i64().unwrap_or(0),
            reversed: v["reversed"].as_bool().unwrap_or(false),
        })
    }

    /// Whole once `amount_reversed` reaches `amount` (or Stripe says `reversed`); a partial
    /// reversal leaves `reversed` false, so only the amounts tell it.
    pub fn reversal(&self) -> Reversal {
        if self.reversed || (self.amount > 0 && self.amount_reversed >= self.amount) {
            Reversal::Whole
        } else if self.amount_reversed > 0 {
            Reversal::Part(self.amount_reversed)
        } else {
            Reversal::Nothing
        }
    }
}

/// `POST /v1/transfers` with the payout's id as its idempotency key.
pub async fn create_transfer(base: &str, key: &str, t: &Transfer<'_>) -> Result<Made, CallError> {
    let amount = t.amount_minor.to_string();
    let form = [
        ("amount", amount.as_str()),
        ("currency", t.currency.as_str()),
        ("destination", t.destination),
        ("transfer_group", t.payout_id),
        ("metadata[payout]", t.payout_id),
        ("description", "Partner payout"),
    ];
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let response = client()?
        .post(format!("{base}/v1/transfers"))
        .bearer_auth(key)
        .header("idempotency-key", t.payout_id)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .map_err(|e| CallError::unreachable("Stripe", &e))?;
    let status = response.status().as_u16();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    match status {
        200 => Made::of(&answer)
            .ok_or_else(|| CallError::Retry("Stripe's answer named no transfer.".into())),
        400 | 402 | 404 => Err(CallError::Refused(refusal(&answer))),
        401 | 403 => Err(key_refused()),
        s => Err(CallError::status("Stripe", s)),
    }
}

/// The program's secret key refused (401, 403): it says nothing of a payment.
fn key_refused() -> CallError {
    CallError::Denied(
        "Stripe refused the program's secret key: an admin connects Stripe again on the console's Payouts page (Payout providers).".into(),
    )
}

/// A refusal in words, by Stripe's error code.
fn refusal(answer: &Value) -> String {
    let code = answer["error"]["code"].as_str().unwrap_or_default();
    match code {
        "insufficient_capabilities_for_transfer" => "The partner's Stripe account cannot receive transfers yet: the partner finishes its Stripe onboarding from the portal's Getting paid.".into(),
        "balance_insufficient" => "The program's Stripe balance did not cover this payout: add funds in Stripe; the amount is back on the partner's balance for the next payout run.".into(),
        "resource_missing" => "Stripe does not know the partner's connected account any more: the partner connects Stripe again from the portal.".into(),
        "idempotency_error" => "Stripe holds another payout under this payout's id.".into(),
        _ => format!(
            "Stripe refused the transfer: {}",
            answer["error"]["message"].as_str().unwrap_or("no reason given.")
        ),
    }
}

/// The newest transfer of the payout's group (`GET /v1/transfers?transfer_group=…`), if any.
pub async fn find_by_group(base: &str, key: &str, group: &str) -> Result<Option<Made>, CallError> {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("transfer_group", group), ("limit", "1")])
        .finish();
    let response = client()?
        .get(format!("{base}/v1/transfers?{query}"))
        .bearer_auth(key)
        .send()
        .await
        .map_err(|e| CallError::unreachable("Stripe", &e))?;
    let status = response.status().as_u16();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    match status {
        200 => Ok(answer["data"]
            .as_array()
            .and_then(|d| d.first())
            .and_then(Made::of)),
        401 | 403 => Err(key_refused()),
        s => Err(CallError::status("Stripe", s)),
    }
}

/// An Express account for a partner (`POST /v1/accounts`), its id.
pub async fn create_account(
    base: &str,
    key: &str,
    email: Option<&str>,
    metadata: [(&str, &str); 2],
) -> Result<String, CallError> {
    // Built before any await: the serializer is not `Send`.
    let body = {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("type", "express");
        if let Some(e) = email {
            form.append_pair("email", e);
        }
        for (k, v) in metadata {
            form.append_pair(&format!("metadata[{k}]"), v);
        }
        form.finish()
    };
    let answer = post_form(base, key, "/v1/accounts", body).await?;
    answer["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| CallError::Retry("Stripe's answer named no account.".into()))
}

/// A one-use onboarding link for `account` (`POST /v1/account_links`): its URL and when it
/// expires (unix seconds).
pub async fn account_link(
    base: &str,
    key: &str,
    account: &str,
    return_url: &str,
    refresh_url: &str,
) -> Result<(String, i64), CallError> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("account", account),
            ("type", "account_onboarding"),
            ("return_url", return_url),
            ("refresh_url", refresh_url),
        ])
        .finish();
    let answer = post_form(base, key, "/v1/account_links", body).await?;
    match (answer["url"].as_str(), answer["expires_at"].as_i64()) {
        (Some(url), Some(at)) => Ok((url.to_owned(), at)),
        _ => Err(CallError::Retry("Stripe's answer had no link.".into())),
    }
}

async fn post_form(base: &str, key: &str, path: &str, body: String) -> Result<Value, CallError> {
    let response = client()?
        .post(format!("{base}{path}"))
        .bearer_auth(key)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .map_err(|e| CallError::unreachable("Stripe", &e))?;
    let status = response.status().as_u16();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    match status {
        200 => Ok(answer),
        400 | 404 => Err(CallError::Refused(refusal(&answer))),
        401 | 403 => Err(key_refused()),
        s => Err(CallError::status("Stripe", s)),
    }
}

/// A connected account's state, from the fields docs/providers.md lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub details_submitted: bool,
    pub payouts_enabled: bool,
    pub disabled_reason: Option<String>,
    pub currently_due: Vec<String>,
}

/// `GET /v1/accounts/{id}`.
pub async fn account(base: &str, key: &str, id: &str) -> Result<Account, CallError> {
    let response = client()?
        .get(format!("{base}/v1/accounts/{id}"))
        .bearer_auth(key)
        .send()
        .await
        .map_err(|e| CallError::unreachable("Stripe", &e))?;
    let status = response.status().as_u16();
    let a: Value = response.json().await.unwrap_or(Value::Null);
    if status != 200 {
        return Err(match status {
            404 => CallError::Refused("Stripe does not know this account any more.".into()),
            s => CallError::status("Stripe", s),
        });
    }
    Ok(Account::of(&a))
}

impl Account {
    /// The fields read of Stripe's `account` object (an answer's, or an `account.updated`
    /// event's `data.object`).
    pub fn of(a: &Value) -> Self {
        let due = a["requirements"]["currently_due"].as_array();
        Account {
            details_submitted: a["details_submitted"].as_bool().unwrap_or(false),
            payouts_enabled: a["payouts_enabled"].as_bool().unwrap_or(false),
            disabled_reason: a["requirements"]["disabled_reason"]
                .as_str()
                .map(str::to_owned),
            currently_due: due
                .map(|d| {
                    d.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// The state's name: `restricted`, `details_missing`, `payouts_enabled` or `verified`.
    pub fn state(&self) -> &'static str {
        // A new account is disabled until its details are in (`requirements.past_due`):
        // missing details come first.
        match (
            self.details_submitted,
            &self.disabled_reason,
            self.payouts_enabled,
        ) {
            (false, _, _) => "details_missing",
            (true, Some(_), _) => "restricted",
            (true, None, true) => "payouts_enabled",
            (true, None, false) => "verified",
        }
    }

    /// The state in words for the partner.
    pub fn words(&self) -> String {
        match self.state() {
            "restricted" => format!(
                "Stripe has restricted the account ({}): open Stripe's onboarding again to see what it needs.",
                self.disabled_reason
                    .as_deref()
                    .unwrap_or("no reason given")
                    .replace(['.', '_'], " ")
            ),
            "details_missing" => {
                "Stripe still needs details from you: continue the onboarding.".into()
            }
            "payouts_enabled" => "Connected: payouts are sent to your Stripe account.".into(),
            _ => "Your details are submitted; Stripe is verifying them before payouts can be sent."
                .into(),
        }
    }
}

/// The signature tolerance: a `t` further than this from now is refused (Stripe's libraries'
/// default).
pub const TOLERANCE_S: i64 = 300;

/// Whether `header` (`Stripe-Signature: t=…,v1=…[,v1=…]`) signs `body` with `secret` at a time
/// within [`TOLERANCE_S`] of `now_s`: HMAC-SHA256 over `"{t}.{body}"`, each `v1` compared in
/// constant time.
pub fn signature_ok(secret: &str, header: &str, body: &[u8], now_s: i64) -> bool {
    use hmac::Mac;
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => sigs.extend(hex::decode(v).ok()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    if now_s.abs_diff(t) > TOLERANCE_S.unsigned_abs() {
        return false;
    }
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    // `verify_slice` compares in constant time.
    sigs.iter().any(|s| mac.clone().verify_slice(s).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::Mac;

    fn sign(secret: &str, t: i64, body: &[u8]) -> String {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn a_transfer_is_reversed_whole_only_once_its_whole_amount_is() {
        let transfer = |reversed: i64, whole: bool| {
            let v = serde_json::json!({"id": "tr_1", "object": "transfer", "amount": 1200,
                "amount_reversed": reversed, "reversed": whole});
            Made::of(&v).unwrap().reversal()
        };
        assert_eq!(transfer(0, false), Reversal::Nothing);
        assert_eq!(
            transfer(400, false),
            Reversal::Part(400),
            "reversed stays false"
        );
        assert_eq!(transfer(1199, false), Reversal::Part(1199));
        assert_eq!(transfer(1200, true), Reversal::Whole);
        assert_eq!(transfer(1200, false), Reversal::Whole, "the amounts tell");
        let old = serde_json::json!({"id": "tr_1", "reversed": true});
        assert_eq!(Made::of(&old).unwrap().reversal(), Reversal::Whole);
        assert_eq!(Made::of(&serde_json::json!({"amount": 1})), None);
    }

    #[test]
    fn a_signature_is_checked_over_the_raw_body_within_the_tolerance() {
        let body = br#"{"id":"evt_1"}"#;
        let good = format!("t=1000,v1={}", sign("whsec_a", 1000, body));
        assert!(signature_ok("whsec_a", &good, body, 1000));
        assert!(signature_ok("whsec_a", &good, body, 1000 + TOLERANCE_S));
        assert!(
            !signature_ok("whsec_a", &good, body, 1001 + TOLERANCE_S),
            "too old"
        );
        assert!(
            !signature_ok("whsec_b", &good, body, 1000),
            "another secret"
        );
        assert!(
            !signature_ok("whsec_a", &good, br#"{"id":"evt_2"}"#, 1000),
            "another body"
        );
        let rotated = format!("t=1000,v1=00,v1={}", sign("whsec_a", 1000, body));
        assert!(
            signature_ok("whsec_a", &rotated, body, 1000),
            "any v1 of the header"
        );
        assert!(!signature_ok("whsec_a", "v1=00", body, 1000), "no time");
    }
}
