//! Idempotency keys, parsed once at the edge and carried as such to the store: a conversion's
//! `idempotencyKey` (a token, written into its store key) and a payout run's `idempotency-key`
//! header (free text: only its hash reaches the store).

use super::DomainError;
use super::ids::string_id;

pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

/// A conversion's `idempotencyKey`: 1 to 255 of `[A-Za-z0-9._:-]`, so it never puts a `#` in the
/// store key it is written into. Both conversion routes share one keyspace per handle.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

/// A payout run's `idempotency-key` header: 1 to 255 bytes of visible text once trimmed. Looser
/// than [`IdempotencyKey`] (the API has always taken any header text here); the run is stored
/// under the key's hash, never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PayoutRunKey(String);

/// A retried write's `idempotency-key` header where the key is optional (an approval): the
/// payout run's rule, stored as its digest only.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RetryKey(String);

string_id!(IdempotencyKey);
string_id!(PayoutRunKey);

/// `[A-Za-z0-9._:-]`: safe in store keys (never `#`), URLs and logs.
fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-')
}

/// The token rule, shared with the conversion's `eventType` so both say it in the same words.
pub fn check_token(field: &str, raw: &str, max: usize) -> Result<(), DomainError> {
    if raw.is_empty() || raw.len() > max || !raw.bytes().all(is_token_char) {
        return Err(DomainError::new(
            field,
            format!("must be 1 to {max} characters of letters, digits, '.', '_', ':' or '-'"),
        ));
    }
    Ok(())
}

impl IdempotencyKey {
    const FIELD: &'static str = "idempotencyKey";

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        check_token(Self::FIELD, raw, MAX_IDEMPOTENCY_KEY_CHARS)?;
        Ok(Self(raw.to_owned()))
    }

    /// The body's optional field, taken without a copy; absent is its own error.
    pub fn required(raw: Option<String>) -> Result<Self, DomainError> {
        let raw = raw.ok_or_else(|| DomainError::new(Self::FIELD, "is required"))?;
        check_token(Self::FIELD, &raw, MAX_IDEMPOTENCY_KEY_CHARS)?;
        Ok(Self(raw))
    }
}

impl PayoutRunKey {
    /// The header's text (empty when absent or not visible ASCII), surrounding spaces ignored.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let key = raw.trim();
        if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_CHARS {
            return Err(DomainError::new(
                "idempotency-key",
                "a header of 1 to 255 characters is required, so a retried run pays nothing twice.",
            ));
        }
        Ok(Self(key.to_owned()))
    }
}

impl RetryKey {
    /// The header's text, surrounding spaces ignored: `None` when absent, refused when empty
    /// or longer than 255 characters.
    pub fn parse_header(raw: Option<&str>) -> Result<Option<Self>, DomainError> {
        let Some(raw) = raw else { return Ok(None) };
        let key = raw.trim();
        if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_CHARS {
            return Err(DomainError::new(
                "idempotency-key",
                "must be 1 to 255 characters, the same on each retry of one request.",
            ));
        }
        Ok(Some(Self(key.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What is stored of it: 32 hex digits of its SHA-256, never the key.
    pub fn digest(&self) -> String {
        use sha2::Digest;
        hex::encode(&sha2::Sha256::digest(self.0.as_bytes())[..16])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_key_is_optional_bounded_and_kept_as_its_digest() {
        assert_eq!(RetryKey::parse_header(None).unwrap(), None);
        let key = RetryKey::parse_header(Some(" approve 7 "))
            .unwrap()
            .unwrap();
        assert_eq!(key.as_str(), "approve 7");
        assert_eq!(key.digest().len(), 32);
        assert_eq!(
            key.digest(),
            RetryKey::parse_header(Some("approve 7"))
                .unwrap()
                .unwrap()
                .digest()
        );
        assert_ne!(
            key.digest(),
            RetryKey::parse_header(Some("approve 8"))
                .unwrap()
                .unwrap()
                .digest()
        );
        for bad in ["", "   ", &"k".repeat(256)] {
            let e = RetryKey::parse_header(Some(bad)).unwrap_err().to_string();
            assert!(e.starts_with("idempotency-key: must be 1 to 255"), "{e}");
        }
    }

    #[test]
    fn a_conversion_key_is_a_token() {
        assert_eq!(
            IdempotencyKey::parse("A-z_0.9:x").unwrap().as_str(),
            "A-z_0.9:x"
        );
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        for bad in ["", "has space", "a#b", "ünï", "a/b", &"k".repeat(256)] {
            let e = IdempotencyKey::parse(bad).unwrap_err();
            assert_eq!(
                e.to_string(),
                "idempotencyKey: must be 1 to 255 characters of letters, digits, '.', '_', ':' or '-'",
                "{bad}"
            );
        }
        assert_eq!(
            IdempotencyKey::required(None).unwrap_err().to_string(),
            "idempotencyKey: is required"
        );
        let json: IdempotencyKey = serde_json::from_str("\"order-1\"").unwrap();
        assert_eq!(serde_json::to_string(&json).unwrap(), "\"order-1\"");
        assert!(serde_json::from_str::<IdempotencyKey>("\"a b\"").is_err());
    }

    #[test]
    fn a_run_key_is_trimmed_text() {
        assert_eq!(
            PayoutRunKey::parse("  run 1/a ").unwrap().as_str(),
            "run 1/a"
        );
        assert!(PayoutRunKey::parse(&"k".repeat(255)).is_ok());
        for bad in ["", "   ", &"k".repeat(256)] {
            assert_eq!(
                PayoutRunKey::parse(bad).unwrap_err().to_string(),
                "idempotency-key: a header of 1 to 255 characters is required, so a retried run pays nothing twice.",
            );
        }
    }
}
