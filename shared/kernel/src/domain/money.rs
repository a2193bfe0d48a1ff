//! Money: an ISO 4217 currency with its minor unit, and amounts held as integer minor units
//! (`i64`; sums are `i128`). Never a float. An amount is computed exactly (`Decimal`) and rounded
//! ONCE to the currency's minor unit, half away from zero; on the wire it is a decimal string.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::DomainError;

/// Currencies whose minor unit is not 2 digits (ISO 4217, the list maintained by SIX). Every
/// other well-formed code has 2.
const MINOR_UNITS: &[(&str, u32)] = &[
    ("BIF", 0),
    ("CLP", 0),
    ("DJF", 0),
    ("GNF", 0),
    ("ISK", 0),
    ("JPY", 0),
    ("KMF", 0),
    ("KRW", 0),
    ("PYG", 0),
    ("RWF", 0),
    ("UGX", 0),
    ("UYI", 0),
    ("VND", 0),
    ("VUV", 0),
    ("XAF", 0),
    ("XOF", 0),
    ("XPF", 0),
    ("BHD", 3),
    ("IQD", 3),
    ("JOD", 3),
    ("KWD", 3),
    ("LYD", 3),
    ("OMR", 3),
    ("TND", 3),
    ("CLF", 4),
    ("UYW", 4),
];

/// The largest amount one commission line may carry, in major units (a conversion's value is
/// capped lower; this bounds manual entries and flat rules so no sum overflows).
pub const MAX_AMOUNT_UNITS: i64 = 1_000_000_000;

/// Active ISO 4217 currency and fund codes (sorted, for binary search). Precious metals, bond
/// market units, SDR-like units and the testing/no-currency codes (XTS, XXX) are left out: no
/// conversion is paid in them. Withdrawn codes (HRK, SLL, CUC, VEF, ZWL…) are refused.
pub const CURRENCIES: [&str; 166] = [
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD",
    "CAD", "CDF", "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUP", "CVE",
    "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL",
    "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR",
    "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD",
    "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK",
    "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO",
    "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON",
    "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD",
    "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD",
    "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES", "VND", "VUV",
    "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
];

pub fn is_active_currency(code: &str) -> bool {
    CURRENCIES.binary_search(&code).is_ok()
}

pub(crate) fn parse_currency(raw: String) -> Result<String, DomainError> {
    if raw.len() != 3 || !raw.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(DomainError::new(
            "currency",
            "must be an ISO 4217 code of three upper-case letters, such as \"USD\"",
        ));
    }
    if !is_active_currency(&raw) {
        return Err(DomainError::new(
            "currency",
            format!("{raw} is not an active ISO 4217 currency code"),
        ));
    }
    Ok(raw)
}

/// A three-letter ISO 4217 code, upper case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    /// An active ISO 4217 code ("AAA" has the shape of one but pays nobody): the conversions'
    /// own rule and messages ([`parse_currency`]).
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let code = parse_currency(raw.to_owned())?;
        match code.as_bytes() {
            [a, b, c] => Ok(Self([*a, *b, *c])),
            _ => unreachable!("parse_currency keeps three ASCII letters"),
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII upper-case letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Digits after the decimal point (JPY 0, EUR 2, KWD 3).
    pub fn minor_units(self) -> u32 {
        MINOR_UNITS
            .iter()
            .find(|(code, _)| *code == self.as_str())
            .map_or(2, |(_, n)| *n)
    }

    /// An exact amount rounded once to this currency's minor unit, half away from zero, in minor
    /// units. `None` when it does not fit (far beyond any accepted amount).
    pub fn round_to_minor(self, exact: Decimal) -> Option<i64> {
        let rounded = exact
            .round_dp_with_strategy(self.minor_units(), RoundingStrategy::MidpointAwayFromZero);
        let scaled = rounded.checked_mul(Decimal::from(10i64.pow(self.minor_units())))?;
        i64::try_from(scaled.trunc()).ok()
    }

    /// Minor units as the wire's decimal string (`"24.99"`, `"-3.50"`, `"1200"` for JPY), for
    /// any `i128` (plain digits, no `Decimal` range to overflow).
    pub fn format(self, minor: i128) -> String {
        let digits = minor.unsigned_abs().to_string();
        let scale = self.minor_units() as usize;
        let sign = if minor < 0 { "-" } else { "" };
        if scale == 0 {
            return format!("{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        format!("{sign}{int}.{frac}")
    }

    /// A decimal string in this currency: at most its minor digits, within ±[`MAX_AMOUNT_UNITS`].
    pub fn parse_amount(self, field: &str, raw: &str) -> Result<i64, DomainError> {
        let d = parse_decimal(field, raw)?;
        if d.scale() > self.minor_units() {
            return Err(DomainError::new(
                field,
                format!(
                    "{} has {} decimal places; {} has {}.",
                    raw,
                    d.scale(),
                    self.as_str(),
                    self.minor_units()
                ),
            ));
        }
        if d.abs() > Decimal::from(MAX_AMOUNT_UNITS) {
            return Err(DomainError::new(field, "must be at most 1000000000."));
        }
        self.round_to_minor(d)
            .ok_or_else(|| DomainError::new(field, "is out of range."))
    }
}

/// A plain decimal string (`"12.5"`, `"-3"`): digits, an optional sign and point, no exponent.
pub fn parse_decimal(field: &str, raw: &str) -> Result<Decimal, DomainError> {
    let shape_ok = !raw.is_empty()
        && raw.len() <= 40
        && raw
            .trim_start_matches('-')
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.')
        && raw.bytes().filter(|b| *b == b'.').count() <= 1;
    let parsed = shape_ok.then(|| raw.parse::<Decimal>().ok()).flatten();
    parsed.ok_or_else(|| {
        DomainError::new(
            field,
            format!("`{raw}` is not a decimal string such as \"24.99\"."),
        )
    })
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::str::FromStr for Currency {
    type Err = DomainError;

    fn from_str(raw: &str) -> Result<Self, DomainError> {
        Currency::parse(raw)
    }
}

/// Read from the store and the queues: a record keeps the code it was accepted with, so only
/// its shape (three upper-case letters) is checked here, not today's list of active codes. A
/// code withdrawn after a conversion was recorded (as HRK was in 2023) must not make the
/// conversion, its lines or its events unreadable. Every edge parses with [`Currency::parse`];
/// no request body deserializes a `Currency`. Lower case never reached the store (refused
/// at every edge since the first release), so it stays refused: what is read is written back
/// byte for byte.
impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        match raw.as_bytes() {
            [a, b, c] if raw.bytes().all(|b| b.is_ascii_uppercase()) => Ok(Self([*a, *b, *c])),
            _ => Err(serde::de::Error::custom(format!(
                "`{raw}` is not an ISO 4217 code (three upper-case letters)"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(s: &str) -> Currency {
        Currency::parse(s).unwrap()
    }

    #[test]
    fn minor_units_follow_iso_4217() {
        assert_eq!(cur("JPY").minor_units(), 0);
        assert_eq!(cur("EUR").minor_units(), 2);
        assert_eq!(cur("KWD").minor_units(), 3);
        assert!(Currency::parse("eur").is_err());
        assert!(Currency::parse("EURO").is_err());
        assert!(
            Currency::parse("AAA").is_err(),
            "the shape of a code, but none"
        );
        assert!(Currency::parse("HRK").is_err(), "withdrawn");
    }

    /// Stored records read back whatever active list they were accepted under, and write
    /// back the same string.
    #[test]
    fn a_stored_code_reads_back_by_its_shape() {
        let read = |s: &str| serde_json::from_str::<Currency>(s);
        assert_eq!(read("\"EUR\"").unwrap(), cur("EUR"));
        let withdrawn = read("\"HRK\"").unwrap();
        assert_eq!(serde_json::to_string(&withdrawn).unwrap(), "\"HRK\"");
        assert_eq!(withdrawn.minor_units(), 2);
        for bad in ["\"eur\"", "\"EURO\"", "\"€\"", "\"\"", "3"] {
            assert!(read(bad).is_err(), "{bad}");
        }
        assert_eq!("JPY".parse::<Currency>().unwrap(), cur("JPY"));
        assert!(
            "HRK".parse::<Currency>().is_err(),
            "an edge takes active codes only"
        );
    }

    #[test]
    fn rounding_is_once_and_half_away_from_zero() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(cur("EUR").round_to_minor(d("2.345")), Some(235));
        assert_eq!(cur("EUR").round_to_minor(d("-2.345")), Some(-235));
        assert_eq!(cur("EUR").round_to_minor(d("2.3449")), Some(234));
        assert_eq!(cur("JPY").round_to_minor(d("1250.5")), Some(1251));
        assert_eq!(cur("KWD").round_to_minor(d("1.0005")), Some(1001));
    }

    #[test]
    fn amounts_print_with_the_currency_digits_and_parse_back() {
        assert_eq!(cur("EUR").format(2499), "24.99");
        assert_eq!(cur("EUR").format(-350), "-3.50");
        assert_eq!(cur("JPY").format(1200), "1200");
        assert_eq!(cur("KWD").format(1), "0.001");
        assert_eq!(cur("EUR").format(-5), "-0.05");
        assert_eq!(
            cur("EUR").format(i128::MIN).len(),
            41,
            "sign, 39 digits, point"
        );
        assert_eq!(cur("EUR").parse_amount("amount", "24.99").unwrap(), 2499);
        assert_eq!(cur("JPY").parse_amount("amount", "1200").unwrap(), 1200);
        let e = cur("JPY").parse_amount("amount", "12.5").unwrap_err();
        assert_eq!(e.field, "amount");
        assert!(cur("EUR").parse_amount("amount", "1e3").is_err());
        assert!(cur("EUR").parse_amount("amount", "2000000000").is_err());
        assert!(cur("EUR").parse_amount("amount", "").is_err());
    }
}
