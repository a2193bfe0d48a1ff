//! Stripe's webhook signature, as Stripe documents it: the `stripe-signature` header holds
//! `t={unix seconds}` and one or more `v1={hex HMAC-SHA256}` over `{t}.{raw body}` keyed with the
//! endpoint's signing secret (`v0` and other schemes are ignored). Any `v1` matching any of the
//! handle's secrets verifies (rotation), compared in constant time, within [`TOLERANCE_SECS`]
//! of now.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far the signed time may be from now, either way (Stripe's default).
pub const TOLERANCE_SECS: i64 = 300;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the stripe-signature header is missing")]
    Missing,
    #[error("the stripe-signature header is malformed")]
    Malformed,
    #[error("the signature's timestamp is outside the 300 s tolerance")]
    Stale,
    #[error("no v1 signature matches a signing secret")]
    Mismatch,
}

/// Verifies `header` over `body` against `secrets` at `now_unix`.
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secrets: &[String],
    now_unix: i64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let (t, signatures) = parse(header)?;
    // `abs_diff`: any `t` at all (`i64::MIN` too) is a distance, never an overflow.
    if now_unix.abs_diff(t) > TOLERANCE_SECS.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    for secret in secrets {
        let expected = mac(secret, t, body);
        for sig in &signatures {
            let Ok(given) = hex::decode(sig) else {
                continue;
            };
            if expected.clone().verify_slice(&given).is_ok() {
                return Ok(());
            }
        }
    }
    Err(SignatureError::Mismatch)
}

/// The header's `t` and every `v1`.
fn parse(header: &str) -> Result<(i64, Vec<&str>), SignatureError> {
    let mut t = None;
    let mut v1 = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = Some(v.parse::<i64>().map_err(|_| SignatureError::Malformed)?),
            Some(("v1", v)) => v1.push(v),
            Some(_) => {}
            None => return Err(SignatureError::Malformed),
        }
    }
    match (t, v1.is_empty()) {
        (Some(t), false) => Ok((t, v1)),
        _ => Err(SignatureError::Malformed),
    }
}

fn mac(secret: &str, t: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header Stripe would send for `body` at `t` (tests and fixtures sign with it).
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    format!(
        "t={t},v1={}",
        hex::encode(mac(secret, t, body).finalize().into_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret_0123456789";

    #[test]
    fn a_signature_verifies_with_any_secret_and_any_v1_and_nothing_else() {
        let body = br#"{"id":"evt_1"}"#;
        let header = sign(SECRET, 1_000, body);
        let secrets = vec!["whsec_old_one_xxxxxxxx".to_owned(), SECRET.to_owned()];
        assert_eq!(verify(Some(&header), body, &secrets, 1_100), Ok(()));
        let two = format!(
            "t=1000,v1={},{}",
            "00".repeat(32),
            header.split_once(",").unwrap().1
        );
        assert_eq!(verify(Some(&two), body, &secrets, 1_000), Ok(()), "any v1");
        let tampered = br#"{"id":"evt_2"}"#;
        assert_eq!(
            verify(Some(&header), tampered, &secrets, 1_000),
            Err(SignatureError::Mismatch)
        );
        let wrong = vec!["whsec_wrong_secret_xxxx".to_owned()];
        assert_eq!(
            verify(Some(&header), body, &wrong, 1_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(Some(&header), body, &secrets, 1_301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(Some(&header), body, &secrets, 699),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(None, body, &secrets, 1_000),
            Err(SignatureError::Missing)
        );
        let v0_only = format!("t=1000,v0={}", "ab".repeat(32));
        assert_eq!(
            verify(Some(&v0_only), body, &secrets, 1_000),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(Some("garbage"), body, &secrets, 1_000),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn a_time_at_the_ends_of_the_range_is_stale_not_a_panic() {
        let body = br#"{"id":"evt_1"}"#;
        let secrets = vec![SECRET.to_owned()];
        for t in [i64::MIN, i64::MAX] {
            let header = format!("t={t},v1={}", "00".repeat(32));
            assert_eq!(
                verify(Some(&header), body, &secrets, 1_000),
                Err(SignatureError::Stale),
                "{t}"
            );
            assert_eq!(
                verify(Some(&sign(SECRET, t, body)), body, &secrets, -1_000),
                Err(SignatureError::Stale),
                "{t}"
            );
        }
    }
}
