//! Funnel analytics: counters per handle × campaign × day × dimension, maintained by the
//! [`aggregate::AnalyticsSink`] from `link.clicked` and `conversion.created` events, and read back
//! by [`report`] for the funnel, group-by and export routes.
//!
//! Storage (see `docs/storage.md`): pk `H#{handle}#A#{campaign}#{dimension}`, sk
//! `{yyyy-mm-dd}#{value}`, counters `clicks`, `qualified`, `bots`, `conversions` and
//! `rev_{currency}` (revenue in integer micro-units, so sums are exact). Links without a campaign
//! count under the reserved campaign key [`NO_CAMPAIGN`].

pub mod aggregate;
pub mod days;
pub mod export;
pub mod report;

use std::collections::BTreeMap;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::store::Item;

/// The campaign key of clicks on links that belong to no campaign (campaign ids cannot start
/// with `_`, so it never collides with a real one).
pub const NO_CAMPAIGN: &str = "_none";

pub const CLICKS: &str = "clicks";
pub const QUALIFIED: &str = "qualified";
pub const BOTS: &str = "bots";
pub const CONVERSIONS: &str = "conversions";
/// `rev_usd`, `rev_eur`, …: revenue in micro-units of the currency.
pub const REVENUE_PREFIX: &str = "rev_";

/// Longest dimension value kept in a key (DynamoDB sort keys stop at 1 KiB).
const MAX_VALUE_BYTES: usize = 200;

/// What counters are broken down by. Every counted event contributes exactly one value to each
/// dimension, so any dimension's rows add up to the `total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dimension {
    Total,
    Country,
    Segment,
    Referrer,
    Device,
    Source,
    /// The link's slug.
    Link,
}

impl Dimension {
    pub const ALL: [Dimension; 7] = [
        Dimension::Total,
        Dimension::Country,
        Dimension::Segment,
        Dimension::Referrer,
        Dimension::Device,
        Dimension::Source,
        Dimension::Link,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Total => "total",
            Dimension::Country => "country",
            Dimension::Segment => "segment",
            Dimension::Referrer => "referrer",
            Dimension::Device => "device",
            Dimension::Source => "source",
            Dimension::Link => "link",
        }
    }
}

/// The value of the `total` dimension.
pub const TOTAL_VALUE: &str = "*";

/// A dimension value as stored in a key: bounded, never empty.
pub fn key_value(raw: &str) -> String {
    let raw = raw.trim();
    if raw.is_empty() {
        return "unknown".to_owned();
    }
    let mut end = raw.len().min(MAX_VALUE_BYTES);
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    raw[..end].to_owned()
}

/// Revenue in integer micro-units (values carry at most 6 decimal places); `None` when negative
/// or out of range.
pub fn to_micros(value: Decimal) -> Option<i64> {
    if value.is_sign_negative() && !value.is_zero() {
        return None;
    }
    value
        .checked_mul(Decimal::from(1_000_000))?
        .trunc()
        .to_i64()
}

/// Micro-units back to an exact decimal string without trailing zeros (`24990000` → `24.99`).
pub fn format_micros(micros: i64) -> String {
    Decimal::new(micros, 6).normalize().to_string()
}

/// The counter name of revenue in `currency` (ISO 4217, three letters), if well formed.
pub fn revenue_counter(currency: &str) -> Option<String> {
    (currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| format!("{REVENUE_PREFIX}{}", currency.to_ascii_lowercase()))
}

/// Counters read back and summed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub clicks: i64,
    pub qualified: i64,
    pub bots: i64,
    pub conversions: i64,
    /// Currency (upper case) → micro-units.
    pub revenue: BTreeMap<String, i64>,
}

impl Counters {
    pub fn of_item(item: &Item) -> Self {
        let mut c = Counters::default();
        for (name, &n) in &item.counters {
            match name.as_str() {
                CLICKS => c.clicks += n,
                QUALIFIED => c.qualified += n,
                BOTS => c.bots += n,
                CONVERSIONS => c.conversions += n,
                other => {
                    if let Some(ccy) = other.strip_prefix(REVENUE_PREFIX) {
                        *c.revenue.entry(ccy.to_ascii_uppercase()).or_default() += n;
                    }
                }
            }
        }
        c
    }

    pub fn add(&mut self, other: &Counters) {
        self.clicks += other.clicks;
        self.qualified += other.qualified;
        self.bots += other.bots;
        self.conversions += other.conversions;
        for (ccy, n) in &other.revenue {
            *self.revenue.entry(ccy.clone()).or_default() += n;
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == Counters::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_round_trips_exactly_in_micro_units() {
        let table = [
            ("24.99", 24_990_000, "24.99"),
            ("0", 0, "0"),
            ("100", 100_000_000, "100"),
            ("0.000001", 1, "0.000001"),
            ("123456789.123456", 123_456_789_123_456, "123456789.123456"),
        ];
        for (raw, micros, back) in table {
            let d: Decimal = raw.parse().unwrap();
            assert_eq!(to_micros(d), Some(micros), "{raw}");
            assert_eq!(format_micros(micros), back, "{raw}");
        }
        assert_eq!(to_micros("-1".parse().unwrap()), None);
        assert_eq!(to_micros(Decimal::MAX), None);
        // Sums stay exact where floats would not: 0.1 + 0.2.
        assert_eq!(format_micros(100_000 + 200_000), "0.3");
    }

    #[test]
    fn revenue_counters_need_a_three_letter_code() {
        assert_eq!(revenue_counter("USD").as_deref(), Some("rev_usd"));
        assert_eq!(revenue_counter("eur").as_deref(), Some("rev_eur"));
        assert_eq!(revenue_counter("US"), None);
        assert_eq!(revenue_counter("U$D"), None);
    }

    #[test]
    fn key_values_are_bounded_and_never_empty() {
        assert_eq!(key_value(""), "unknown");
        assert_eq!(key_value("  "), "unknown");
        assert_eq!(key_value("US"), "US");
        let long = "é".repeat(300);
        let v = key_value(&long);
        assert!(v.len() <= MAX_VALUE_BYTES && v.chars().all(|c| c == 'é'));
    }

    #[test]
    fn counters_read_back_from_an_item() {
        let mut item = Item::new("pk", "sk", serde_json::Value::Null);
        item.counters.insert("clicks".into(), 5);
        item.counters.insert("bots".into(), 2);
        item.counters.insert("qualified".into(), 3);
        item.counters.insert("conversions".into(), 1);
        item.counters.insert("rev_usd".into(), 24_990_000);
        let c = Counters::of_item(&item);
        assert_eq!((c.clicks, c.bots, c.qualified, c.conversions), (5, 2, 3, 1));
        assert_eq!(c.revenue["USD"], 24_990_000);
        let mut sum = c.clone();
        sum.add(&c);
        assert_eq!(sum.revenue["USD"], 49_980_000);
        assert_eq!(sum.clicks, 10);
    }
}
