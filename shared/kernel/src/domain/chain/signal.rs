//! Session signals: what a visitor did (`view`, `add_to_cart`, `purchase`, …), when, and a small
//! free-form payload. Also the names shared with rules: signal types, triggers and session ids.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::domain::DomainError;

/// Signal types and triggers: 1 to this many characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Session ids: 1 to this many characters.
pub const MAX_SESSION_ID_CHARS: usize = 128;
/// Signals one append request may carry (their puts and the session counter share one
/// transaction of at most 100 operations).
pub const MAX_SIGNALS_PER_REQUEST: usize = 50;
/// A signal's `data`, serialized as JSON, may not exceed this.
pub const MAX_SIGNAL_DATA_BYTES: usize = 2 * 1024;
/// How far in the future a signal's `at` may lie (client clock skew).
pub const MAX_FUTURE_SKEW_MS: i64 = 5 * 60 * 1000;

/// `Some(normalized)` for a valid signal type or trigger: ASCII lowercased, then 1–64 of
/// `[a-z0-9_.:-]`.
fn normalize_name(raw: &str) -> Result<String, String> {
    let lower = raw.to_ascii_lowercase();
    if lower.is_empty() || lower.len() > MAX_NAME_CHARS {
        return Err(format!("must be 1 to {MAX_NAME_CHARS} characters long"));
    }
    let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.:-".contains(&b);
    if !lower.bytes().all(allowed) {
        return Err(
            "may only contain letters, digits, underscores, dots, colons and hyphens".into(),
        );
    }
    Ok(lower)
}

/// Newtypes whose only constructor validates; serde deserializes through the same check and
/// reports only the reason, since the JSON path already names the field.
macro_rules! chain_name {
    ($(#[$doc:meta])* $name:ident, $field:literal, $normalize:path) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, DomainError> {
                $normalize(raw)
                    .map(Self)
                    .map_err(|message| DomainError::new($field, message))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                $normalize(&raw).map(Self).map_err(serde::de::Error::custom)
            }
        }
    };
}

chain_name!(
    /// A signal's type, e.g. `view` (case-insensitive: stored lowercased).
    SignalType,
    "type",
    normalize_name
);
chain_name!(
    /// The moment a decision is asked for, e.g. `checkout` (case-insensitive: lowercased).
    Trigger,
    "trigger",
    normalize_name
);
chain_name!(
    /// A client-chosen session id: 1–128 of `[A-Za-z0-9._:-]`, case-sensitive (never `#`, so it
    /// is safe inside store keys).
    SessionId,
    "sessionId",
    check_session_id
);

fn check_session_id(raw: &str) -> Result<String, String> {
    if raw.is_empty() || raw.len() > MAX_SESSION_ID_CHARS {
        return Err(format!(
            "must be 1 to {MAX_SESSION_ID_CHARS} characters long"
        ));
    }
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"._:-".contains(&b);
    if !raw.bytes().all(allowed) {
        return Err(
            "may only contain letters, digits, dots, underscores, colons and hyphens".into(),
        );
    }
    Ok(raw.to_owned())
}

/// One signal as sent: `{type, at?, data?}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignalInput {
    #[serde(rename = "type")]
    pub signal_type: SignalType,
    #[serde(default)]
    pub at: Option<String>,
    #[serde(default)]
    pub data: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A validated signal, as stored (`at` in unix milliseconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Signal {
    #[serde(rename = "type")]
    pub signal_type: SignalType,
    pub at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Validates one append request's signals at `now_ms` (the received time, used for a missing
/// `at`). Every limit is an error, never a truncation.
pub fn validate_signals(inputs: Vec<SignalInput>, now_ms: i64) -> Result<Vec<Signal>, DomainError> {
    if inputs.is_empty() || inputs.len() > MAX_SIGNALS_PER_REQUEST {
        return Err(DomainError::new(
            "signals",
            format!(
                "must contain 1 to {MAX_SIGNALS_PER_REQUEST} signals per request (got {})",
                inputs.len()
            ),
        ));
    }
    inputs
        .into_iter()
        .enumerate()
        .map(|(i, input)| validate_signal(i, input, now_ms))
        .collect()
}

fn validate_signal(i: usize, input: SignalInput, now_ms: i64) -> Result<Signal, DomainError> {
    let at_ms = match &input.at {
        None => now_ms,
        Some(raw) => parse_at(&format!("signals[{i}].at"), raw, now_ms)?,
    };
    if let Some(data) = &input.data {
        // Serializing a Map of Values cannot fail; treat a failure as oversize rather than panic.
        let size = serde_json::to_vec(data).map_or(usize::MAX, |v| v.len());
        if size > MAX_SIGNAL_DATA_BYTES {
            return Err(DomainError::new(
                format!("signals[{i}].data"),
                format!("must be at most {MAX_SIGNAL_DATA_BYTES} bytes as JSON (got {size})"),
            ));
        }
    }
    Ok(Signal {
        signal_type: input.signal_type,
        at_ms,
        data: input.data,
    })
}

fn parse_at(field: &str, raw: &str, now_ms: i64) -> Result<i64, DomainError> {
    let t = OffsetDateTime::parse(raw, &Rfc3339).map_err(|_| {
        DomainError::new(
            field,
            "must be an RFC 3339 timestamp such as 2026-03-08T12:00:00Z",
        )
    })?;
    let ms = i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
    if ms < 0 {
        return Err(DomainError::new(field, "must not be before 1970-01-01"));
    }
    if ms > now_ms.saturating_add(MAX_FUTURE_SKEW_MS) {
        return Err(DomainError::new(
            field,
            "must not be more than 5 minutes in the future",
        ));
    }
    Ok(ms)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NOW: i64 = 1_772_971_200_000; // 2026-03-08T12:00:00Z

    #[test]
    fn names_are_lowercased_and_checked() {
        let long = "a".repeat(64);
        let too_long = "a".repeat(65);
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("view", Ok("view")),
            ("Add_To_Cart", Ok("add_to_cart")),
            ("page.view:v2-x", Ok("page.view:v2-x")),
            (&long, Ok(&long)),
            ("", Err("must be 1 to 64 characters long")),
            (&too_long, Err("must be 1 to 64 characters long")),
            ("add to cart", Err("may only contain")),
            ("a#b", Err("may only contain")),
            ("vïew", Err("may only contain")),
        ];
        for (raw, want) in cases {
            match (SignalType::parse(raw), want) {
                (Ok(t), Ok(w)) => assert_eq!(t.as_str(), *w, "{raw}"),
                (Err(e), Err(w)) => {
                    assert_eq!(e.field, "type");
                    assert!(e.message.starts_with(w), "{raw}: {}", e.message);
                }
                (got, want) => panic!("{raw}: got {got:?}, want {want:?}"),
            }
        }
        assert_eq!(Trigger::parse("CHECKOUT").unwrap().as_str(), "checkout");
        assert_eq!(Trigger::parse("").unwrap_err().field, "trigger");
    }

    #[test]
    fn session_ids_keep_case_and_refuse_key_separators() {
        let long = "s".repeat(128);
        let too_long = "s".repeat(129);
        for ok in ["sess-1", "Sess_1.a:b", long.as_str()] {
            assert_eq!(SessionId::parse(ok).unwrap().as_str(), ok);
        }
        for bad in ["", too_long.as_str(), "a#b", "a b", "a/b", "é"] {
            let e = SessionId::parse(bad).unwrap_err();
            assert_eq!(e.field, "sessionId", "{bad}");
        }
    }

    #[test]
    fn serde_reports_only_the_reason() {
        let e = serde_json::from_value::<SignalInput>(json!({"type": "a b"})).unwrap_err();
        assert!(e.to_string().starts_with("may only contain"), "{e}");
    }

    fn input(v: serde_json::Value) -> SignalInput {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn signal_validation_table() {
        let big = "x".repeat(MAX_SIGNAL_DATA_BYTES);
        let fits = "x".repeat(MAX_SIGNAL_DATA_BYTES - 8); // {"k":"…"} adds 8 bytes
        let cases: Vec<(serde_json::Value, Result<i64, &str>)> = vec![
            (json!({"type": "view"}), Ok(NOW)),
            (
                json!({"type": "view", "at": "2026-03-08T11:00:00Z"}),
                Ok(NOW - 3_600_000),
            ),
            (
                json!({"type": "view", "at": "2026-03-08T13:00:00+01:00"}),
                Ok(NOW),
            ),
            (
                json!({"type": "view", "at": "2026-03-08T12:05:00Z"}),
                Ok(NOW + 300_000),
            ),
            (
                json!({"type": "view", "at": "2026-03-08T12:05:00.001Z"}),
                Err("signals[0].at: must not be more than 5 minutes in the future"),
            ),
            (
                json!({"type": "view", "at": "yesterday"}),
                Err("signals[0].at: must be an RFC 3339 timestamp such as 2026-03-08T12:00:00Z"),
            ),
            (
                json!({"type": "view", "at": "1969-12-31T23:59:59Z"}),
                Err("signals[0].at: must not be before 1970-01-01"),
            ),
            (json!({"type": "view", "data": {"k": fits}}), Ok(NOW)),
            (
                json!({"type": "view", "data": {"k": big}}),
                Err("signals[0].data: must be at most 2048 bytes as JSON (got 2056)"),
            ),
        ];
        for (raw, want) in cases {
            let got = validate_signals(vec![input(raw.clone())], NOW);
            match (got, want) {
                (Ok(s), Ok(at)) => assert_eq!(s[0].at_ms, at, "{raw}"),
                (Err(e), Err(msg)) => assert_eq!(e.to_string(), msg, "{raw}"),
                (got, want) => panic!("{raw}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn request_size_is_bounded_not_truncated() {
        let one = || input(json!({"type": "view"}));
        assert!(validate_signals(vec![], NOW).is_err());
        assert_eq!(
            validate_signals((0..50).map(|_| one()).collect(), NOW)
                .unwrap()
                .len(),
            50
        );
        let e = validate_signals((0..51).map(|_| one()).collect(), NOW).unwrap_err();
        assert_eq!(e.field, "signals");
        assert!(e.message.contains("1 to 50"), "{}", e.message);
    }

    #[test]
    fn data_must_be_an_object() {
        assert!(serde_json::from_value::<SignalInput>(json!({"type": "v", "data": [1]})).is_err());
        assert!(serde_json::from_value::<SignalInput>(json!({"type": "v", "extra": 1})).is_err());
    }
}
