//! Conversions: validation of a submitted conversion and the canonical payload hash that tells
//! an honest retry (same key, same payload) from a reused key (same key, different payload).
//!
//! Money is exact: `value` becomes a [`Decimal`] without ever passing through float arithmetic.
//! A JSON number is read through its shortest decimal text (the text `f64` prints, which is the
//! sender's own text for every number of at most 15 significant digits), a JSON string directly.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::DomainError;
use super::idempotency::{IdempotencyKey, check_token};
use super::money::Currency;

pub const MAX_EVENT_TYPE_CHARS: usize = 64;
/// `metadata`, serialized as compact JSON, may take at most this many bytes.
pub const MAX_METADATA_BYTES: usize = 4 * 1024;
pub const MAX_VALUE_DECIMALS: u32 = 6;
/// 15 significant digits: every such decimal survives a trip through an IEEE double, so the JSON
/// number webhooks receive reads back as exactly the value submitted.
pub const MAX_VALUE_DIGITS: u32 = 15;

pub use super::money::{CURRENCIES, is_active_currency};

/// A conversion as submitted (every field optional here so each gets its own message).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConversionInput {
    pub idempotency_key: Option<String>,
    pub event_type: Option<String>,
    /// A JSON number or a decimal string.
    pub value: Option<Value>,
    pub currency: Option<String>,
    pub test: Option<bool>,
    pub metadata: Option<Value>,
}

/// A conversion that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidConversion {
    pub idempotency_key: IdempotencyKey,
    pub event_type: String,
    /// Normalized (no trailing zeros), ≥ 0.
    pub value: Option<Decimal>,
    pub currency: Option<Currency>,
    pub test: bool,
    pub metadata: Option<Map<String, Value>>,
    /// How the sale used a coupon code, set by the attribution (issue 63); not part of the
    /// payload (a replay derives the same).
    pub coupon: Option<super::CouponUse>,
}

fn token(field: &str, raw: Option<String>, max: usize) -> Result<String, DomainError> {
    let raw = raw.ok_or_else(|| DomainError::new(field, "is required"))?;
    check_token(field, &raw, max)?;
    Ok(raw)
}

impl ValidConversion {
    /// Refuses a value above the server's hard maximum (`TENX_MAX_CONVERSION_VALUE`), which keeps
    /// every sum of revenue far from overflowing (issue 28).
    pub fn within_max(self, max: Decimal) -> Result<Self, DomainError> {
        match self.value {
            Some(value) if value > max => Err(DomainError::new(
                "value",
                format!("must be at most {max} (the server's TENX_MAX_CONVERSION_VALUE)"),
            )),
            _ => Ok(self),
        }
    }
}

/// Parses a money amount exactly: a JSON number (through its shortest decimal text) or a string
/// of digits with an optional fraction (`"19.99"`; no sign, exponent or spaces).
pub fn parse_value(raw: &Value) -> Result<Decimal, DomainError> {
    const FIELD: &str = "value";
    let text = match raw {
        Value::String(s) => s.clone(),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => u.to_string(),
            (None, Some(_), _) => return Err(DomainError::new(FIELD, "must not be negative")),
            // `Display` for f64 prints the shortest text that reads back as the same double,
            // never in exponent form: 19.99 stays "19.99".
            // -0.0 prints as "-0": zero is zero.
            (None, None, Some(f)) if f.abs() == 0.0 => "0".to_owned(),
            (None, None, Some(f)) => f.to_string(),
            (None, None, None) => return Err(DomainError::new(FIELD, "is not a finite number")),
        },
        _ => {
            return Err(DomainError::new(
                FIELD,
                "must be a number or a decimal string such as \"19.99\"",
            ));
        }
    };
    if text.starts_with('-') {
        return Err(DomainError::new(FIELD, "must not be negative"));
    }
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text.as_str(), None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !digits(f)) {
        return Err(DomainError::new(
            FIELD,
            "must be a number or a decimal string such as \"19.99\"",
        ));
    }
    let too_precise = || {
        DomainError::new(
            FIELD,
            format!(
                "must have at most {MAX_VALUE_DIGITS} significant digits and {MAX_VALUE_DECIMALS} decimal places"
            ),
        )
    };
    // Anything Decimal cannot hold exactly (more than 28 digits) is far past the limits anyway.
    let value = Decimal::from_str_exact(&text)
        .map_err(|_| too_precise())?
        .normalize();
    if value.scale() > MAX_VALUE_DECIMALS || significant_digits(&value) > MAX_VALUE_DIGITS {
        return Err(too_precise());
    }
    Ok(value)
}

/// Digits of the normalized mantissa (leading zeros do not count; `0` has one).
fn significant_digits(d: &Decimal) -> u32 {
    let m = d.mantissa().unsigned_abs();
    if m == 0 { 1 } else { m.ilog10() + 1 }
}

fn parse_metadata(raw: Value) -> Result<Map<String, Value>, DomainError> {
    let Value::Object(map) = raw else {
        return Err(DomainError::new("metadata", "must be a JSON object"));
    };
    let size = serde_json::to_vec(&map)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > MAX_METADATA_BYTES {
        return Err(DomainError::new(
            "metadata",
            format!(
                "must be at most {} KiB as JSON (it is {size} bytes)",
                MAX_METADATA_BYTES / 1024
            ),
        ));
    }
    Ok(map)
}

impl ConversionInput {
    /// Checks every field, in the order of the API's field list.
    pub fn validate(self) -> Result<ValidConversion, DomainError> {
        let idempotency_key = IdempotencyKey::required(self.idempotency_key)?;
        let event_type = token("eventType", self.event_type, MAX_EVENT_TYPE_CHARS)?;
        let value = self.value.as_ref().map(parse_value).transpose()?;
        let currency = self.currency.as_deref().map(Currency::parse).transpose()?;
        if value.is_some() && currency.is_none() {
            return Err(DomainError::new(
                "currency",
                "is required when a value is given",
            ));
        }
        let metadata = self.metadata.map(parse_metadata).transpose()?;
        Ok(ValidConversion {
            idempotency_key,
            event_type,
            value,
            currency,
            test: self.test.unwrap_or(false),
            metadata,
            coupon: None,
        })
    }
}

impl ValidConversion {
    /// SHA-256 (hex) of the canonical JSON of everything that defines the conversion: the
    /// request minus its idempotency key, with the ctx reduced to its click id (a token re-signed
    /// after a key rotation is still the same click). The value is hashed in normalized decimal
    /// form, so `19.9`, `19.90` and `"19.90"` are the same payload.
    pub fn payload_hash(&self, click_id: &str) -> String {
        let payload = serde_json::json!({
            "clickId": click_id,
            "eventType": self.event_type,
            "value": self.value.map(|v| v.to_string()),
            "currency": self.currency,
            "test": self.test,
            "metadata": self.metadata,
        });
        let mut text = String::new();
        canonical_json(&payload, &mut text);
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}

/// Compact JSON with object keys sorted at every level, whatever map order serde_json was built
/// with: the same document always hashes the same.
pub fn canonical_json(value: &Value, out: &mut String) {
    super::proof::jcs::write_sorted(value, out, str::cmp);
}

/// The JSON number for an exact value: the double nearest to it (correctly rounded by the
/// standard parser), which prints back as the same decimal for every value this module accepts.
pub fn value_to_f64(value: &Decimal) -> f64 {
    f64::from_str(&value.to_string()).unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn input() -> ConversionInput {
        ConversionInput {
            idempotency_key: Some("order-1001".into()),
            event_type: Some("purchase".into()),
            value: Some(json!(49.99)),
            currency: Some("EUR".into()),
            test: None,
            metadata: Some(json!({"sku": "A1", "qty": 2})),
        }
    }

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn a_full_conversion_validates() {
        let v = input().validate().unwrap();
        assert_eq!(v.idempotency_key.as_str(), "order-1001");
        assert_eq!(v.event_type, "purchase");
        assert_eq!(v.value, Some(dec("49.99")));
        assert_eq!(v.currency.map(|c| c.to_string()).as_deref(), Some("EUR"));
        assert!(!v.test);
        assert_eq!(v.metadata.unwrap()["qty"], 2);
        let minimal = ConversionInput {
            idempotency_key: Some("k".into()),
            event_type: Some("signup".into()),
            ..Default::default()
        };
        let v = minimal.validate().unwrap();
        assert_eq!((v.value, v.currency, v.metadata), (None, None, None));
    }

    #[test]
    fn numbers_and_strings_parse_exactly() {
        let cases = [
            (json!(19.99), "19.99"),
            (json!(0.1), "0.1"),
            (json!(0), "0"),
            (json!(-0.0), "0"),
            (json!(10), "10"),
            (json!(1.5e3), "1500"),
            (json!(0.000001), "0.000001"),
            (json!(123456789.123456), "123456789.123456"),
            (json!(999999999999999u64), "999999999999999"),
            (json!(99999999.999999), "99999999.999999"),
            (json!("19.90"), "19.9"),
            (json!("007.50"), "7.5"),
            (json!("0.000001"), "0.000001"),
            (json!("123456789012345"), "123456789012345"),
        ];
        for (raw, want) in cases {
            let got = parse_value(&raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(got.to_string(), want, "{raw}");
        }
    }

    #[test]
    fn bad_values_are_refused_naming_value() {
        for raw in [
            json!(-1),
            json!(-0.01),
            json!("-5"),
            json!("1e3"),
            json!("+1"),
            json!(" 1"),
            json!("1."),
            json!(".5"),
            json!(""),
            json!("abc"),
            json!("1,5"),
            json!(0.0000001),
            json!("0.0000001"),
            json!(1234567890123456u64),
            json!("1234567890123456"),
            json!("12345678901.123456"),
            json!(1e300),
            json!("99999999999999999999999999999999"),
            json!(true),
            json!([1]),
            json!({"amount": 1}),
        ] {
            let e = parse_value(&raw).expect_err(&raw.to_string());
            assert_eq!(e.field, "value", "{raw}");
        }
    }

    #[test]
    fn accepted_values_survive_the_json_number_round_trip() {
        // What webhooks receive is a double; it must read back as the exact decimal.
        for d in [
            "0.1",
            "19.99",
            "0.000001",
            "123456789.123456",
            "999999999.999999",
            "999999999999999",
            "1.000001",
            "450359962.737049",
        ]
        .map(dec)
        .into_iter()
        .chain(pseudo_random_values(20_000))
        {
            let f = value_to_f64(&d);
            assert_eq!(parse_value(&json!(f)).ok(), Some(d), "{d}");
            // The shared event payload (`events::ConversionData`) serializes the same way.
            let n = serde_json::to_value(rust_decimal::prelude::ToPrimitive::to_f64(&d)).unwrap();
            assert_eq!(parse_value(&n).ok(), Some(d), "ConversionData {d}: {n}");
        }
    }

    /// Deterministic decimals of 1 to 15 significant digits and 0 to 6 decimal places.
    fn pseudo_random_values(n: usize) -> impl Iterator<Item = Decimal> {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        (0..n).map(move |_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let digits = 1 + (x % 15) as u32;
            let scale = ((x >> 8) % 7) as u32;
            let mantissa = (x >> 16) % 10u64.pow(digits);
            Decimal::new(i64::try_from(mantissa).unwrap_or(0), scale).normalize()
        })
    }

    #[test]
    fn keys_and_event_types_follow_the_charset() {
        let key = |k: &str| ConversionInput {
            idempotency_key: Some(k.into()),
            ..input()
        };
        assert!(key("A-z_0.9:x").validate().is_ok());
        assert!(key(&"k".repeat(255)).validate().is_ok());
        for bad in ["", "has space", "a#b", "ünï", "a/b", &"k".repeat(256)] {
            let e = key(bad).validate().unwrap_err();
            assert_eq!(e.field, "idempotencyKey", "{bad}");
        }
        let e = ConversionInput {
            idempotency_key: None,
            ..input()
        }
        .validate()
        .unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.message.as_str()),
            ("idempotencyKey", "is required")
        );

        let et = |t: &str| ConversionInput {
            event_type: Some(t.into()),
            ..input()
        };
        assert!(et(&"e".repeat(64)).validate().is_ok());
        for bad in ["", "sign up", &"e".repeat(65), "a\nb"] {
            assert_eq!(et(bad).validate().unwrap_err().field, "eventType", "{bad}");
        }
        let e = ConversionInput {
            event_type: None,
            ..input()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.field, "eventType");
    }

    #[test]
    fn currency_rules() {
        let cur = |c: Option<&str>| ConversionInput {
            currency: c.map(str::to_owned),
            ..input()
        };
        for ok in ["USD", "EUR", "JPY", "XCG", "ZWG"] {
            assert!(cur(Some(ok)).validate().is_ok(), "{ok}");
        }
        for bad in ["usd", "US", "USDD", "ABC", "HRK", "XXX", "XTS", "XAU", "€"] {
            let e = cur(Some(bad)).validate().unwrap_err();
            assert_eq!(e.field, "currency", "{bad}");
        }
        let e = cur(None).validate().unwrap_err();
        assert_eq!(e.field, "currency");
        assert!(e.message.contains("required"), "{e}");
        // A currency alone is harmless.
        let no_value = ConversionInput {
            value: None,
            ..input()
        };
        assert!(no_value.validate().is_ok());
    }

    #[test]
    fn currency_list_is_sorted_and_unique() {
        assert!(CURRENCIES.windows(2).all(|w| w[0] < w[1]));
        assert!(
            CURRENCIES
                .iter()
                .all(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()))
        );
    }

    #[test]
    fn metadata_must_be_a_small_object() {
        let meta = |m: Value| ConversionInput {
            metadata: Some(m),
            ..input()
        };
        for bad in [json!([1]), json!("x"), json!(1), json!(true)] {
            assert_eq!(meta(bad).validate().unwrap_err().field, "metadata");
        }
        // `{"k":"…"}` is 8 bytes of framing.
        assert!(
            meta(json!({"k": "x".repeat(MAX_METADATA_BYTES - 8)}))
                .validate()
                .is_ok()
        );
        let e = meta(json!({"k": "x".repeat(MAX_METADATA_BYTES - 7)}))
            .validate()
            .unwrap_err();
        assert_eq!(e.field, "metadata");
    }

    #[test]
    fn payload_hash_is_canonical() {
        let a = input().validate().unwrap();
        let same = ConversionInput {
            value: Some(json!("49.990")),
            metadata: Some(json!({"qty": 2, "sku": "A1"})),
            idempotency_key: Some("another-key".into()),
            ..input()
        }
        .validate()
        .unwrap();
        assert_eq!(a.payload_hash("clk_1"), same.payload_hash("clk_1"));
        assert_eq!(a.payload_hash("clk_1").len(), 64);
        assert_ne!(a.payload_hash("clk_1"), a.payload_hash("clk_2"));
        let changes = [
            ConversionInput {
                value: Some(json!(49.98)),
                ..input()
            },
            ConversionInput {
                currency: Some("USD".into()),
                ..input()
            },
            ConversionInput {
                event_type: Some("refund".into()),
                ..input()
            },
            ConversionInput {
                test: Some(true),
                ..input()
            },
            ConversionInput {
                metadata: Some(json!({"sku": "A1", "qty": 3})),
                ..input()
            },
            ConversionInput {
                metadata: None,
                ..input()
            },
        ];
        for changed in changes {
            let h = changed.clone().validate().unwrap().payload_hash("clk_1");
            assert_ne!(h, a.payload_hash("clk_1"), "{changed:?}");
        }
    }

    #[test]
    fn canonical_json_sorts_nested_keys() {
        let mut out = String::new();
        canonical_json(
            &json!({"b": [{"z": 1, "a": "x\"y"}], "a": null, "c": 1.5}),
            &mut out,
        );
        assert_eq!(out, r#"{"a":null,"b":[{"a":"x\"y","z":1}],"c":1.5}"#);
    }
}
