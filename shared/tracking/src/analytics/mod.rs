//! Funnel analytics: counters per handle × campaign × day × dimension, maintained by the
//! [`aggregate::AnalyticsSink`] from `link.clicked` and `conversion.created` events, and read back
//! by [`report`] for the funnel, group-by and export routes.
//!
//! Storage (see `docs/storage.md`): pk `H#{handle}#A#{campaign}#{dimension}`, sk
//! `{yyyy-mm-dd}#{value}`, counters `clicks`, `qualified`, `bots`, `conversions` and
//! `rev_{currency}` (revenue in integer micro-units, so sums are exact). Links without a campaign
//! count under the reserved campaign key [`NO_CAMPAIGN`].

pub mod aggregate;
pub mod checkpoint;
pub mod days;
pub mod export;
pub mod freshness;
pub mod paid;
pub mod poison;
pub mod report;
pub mod seen;
pub mod stream;
pub mod variants;
pub mod visitors;

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::platform::store::Item;

/// The campaign key of clicks on links that belong to no campaign (campaign ids cannot start
/// with `_`, so it never collides with a real one).
pub const NO_CAMPAIGN: &str = "_none";

pub const CLICKS: &str = "clicks";
pub const QUALIFIED: &str = "qualified";
pub const BOTS: &str = "bots";
pub const CONVERSIONS: &str = "conversions";
pub const VERIFIED: &str = "verified";
/// Clicks on a link past its `expiresAt`.
pub const EXPIRED: &str = "expired";
/// The console's "try the redirect" clicks: never in `clicks` or `qualified`.
pub const TEST_CLICKS: &str = "test";
pub const FLAGGED: &str = "flagged";
/// Revenue of verified and of flagged conversions, and revenue reversed: `vrev_usd`, `frev_usd`,
/// `rrev_usd` (micro-units, like `rev_`).
pub const VERIFIED_REVENUE_PREFIX: &str = "vrev_";
pub const FLAGGED_REVENUE_PREFIX: &str = "frev_";
pub const REVERSED_REVENUE_PREFIX: &str = "rrev_";
/// `bot_user_agent`, `bot_head_request`, …: bot clicks per reason.
pub const BOT_PREFIX: &str = "bot_";
/// The `botReason` group of humans' clicks and of conversions (bots get no ctx to convert with).
pub const HUMAN: &str = "human";
/// `rev_usd`, `rev_eur`, …: revenue in micro-units of the currency.
pub const REVENUE_PREFIX: &str = "rev_";
/// Conversions of type `lead` (issue 44), and the leads that were their customer's first.
pub const LEADS: &str = "leads";
pub const CUSTOMERS: &str = "customers";
/// `recrev_usd`, …: revenue of a bound customer's conversions that are not its first of their
/// type (renewals, repeat orders), in `rev_` too.
pub const RECURRING_REVENUE_PREFIX: &str = "recrev_";

/// Longest dimension value kept in a key (DynamoDB sort keys stop at 1 KiB).
const MAX_VALUE_BYTES: usize = 200;

/// What counters are broken down by. Every counted event contributes exactly one value to each
/// dimension of [`Dimension::ALL`], so any such dimension's rows add up to the `total`.
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
    /// A partner sub-id (`sub1` … `sub5`): written only for events that carry it, so its rows
    /// cover those events alone.
    Sub(u8),
    /// An A/B test's variant, `{slug}/{index}@{periodStartMillis}`: written only for events that
    /// carry one (humans sent by a link's split), so its rows cover those alone.
    Variant,
    /// The visitor's OS, browser, region and city ([`visitors`]): written for every click (each
    /// `unknown` where the click did not say it), never for conversions, whose ctx carries only
    /// the country and kind of device; so their rows cover clicks alone.
    Os,
    Browser,
    Region,
    City,
}

impl Dimension {
    /// The sub-id dimensions, `sub1` … `sub5`.
    pub const SUBS: [Dimension; 5] = [
        Dimension::Sub(1),
        Dimension::Sub(2),
        Dimension::Sub(3),
        Dimension::Sub(4),
        Dimension::Sub(5),
    ];

    /// The visitor's dimensions, in the order of [`visitors::values`].
    pub const VISITOR: [Dimension; 4] = [
        Dimension::Os,
        Dimension::Browser,
        Dimension::Region,
        Dimension::City,
    ];

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
            Dimension::Variant => "variant",
            Dimension::Os => "os",
            Dimension::Browser => "browser",
            Dimension::Region => "region",
            Dimension::City => "city",
            Dimension::Sub(n) => crate::domain::subids::SUB_ID_NAMES
                .get(usize::from(n).wrapping_sub(1))
                .copied()
                .unwrap_or("sub"),
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

/// Money in micro-units: i128, so sums have room (issue 28; see [`crate::platform::store::Count`]).
pub type Micros = i128;

/// Revenue in integer micro-units (values carry at most 6 decimal places); `None` when negative
/// or out of range.
pub fn to_micros(value: Decimal) -> Option<Micros> {
    if value.is_sign_negative() && !value.is_zero() {
        return None;
    }
    value
        .checked_mul(Decimal::from(1_000_000))?
        .trunc()
        .to_i128()
}

/// Micro-units back to an exact decimal string without trailing zeros (`24990000` → `24.99`).
pub fn format_micros(micros: Micros) -> String {
    with_decimals(micros, 0)
}

/// An amount in `currency` as reported: exact, with at least the currency's minor units
/// (`"1430.00"` USD, `"500"` JPY, `"1.250"` KWD), more only when the inputs had more.
pub fn format_money(micros: Micros, currency: &str) -> String {
    with_decimals(micros, minor_units(currency))
}

/// `micros` as a decimal with at least `min_scale` (≤ 6) decimals and no other trailing zeros.
/// Integer arithmetic: exact over the whole i128 range (wider than `Decimal`'s 96 bits).
fn with_decimals(micros: Micros, min_scale: u32) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    let abs = micros.unsigned_abs();
    let (int, frac) = (abs / 1_000_000, abs % 1_000_000);
    let digits = format!("{frac:06}");
    let needed = digits.trim_end_matches('0').len();
    let scale = needed.max(min_scale.min(6) as usize);
    if scale == 0 {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{}", &digits[..scale])
    }
}

/// Adds without overflow: a sum past i128 (unreachable under the per-conversion maximum, which
/// would need ~10^23 conversions) pins at the bound rather than wrapping or failing a report.
fn add_to<K: Ord>(map: &mut BTreeMap<K, Micros>, key: K, n: Micros) {
    let slot = map.entry(key).or_default();
    *slot = slot.saturating_add(n);
}

/// A count read back (clicks, conversions): i64 has room for any count; clamped, never wrapped.
fn count(n: crate::platform::store::Count) -> i64 {
    i64::try_from(n).unwrap_or(if n < 0 { i64::MIN } else { i64::MAX })
}

/// ISO 4217 minor units: 2 unless listed.
fn minor_units(currency: &str) -> u32 {
    const ZERO: &[&str] = &[
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
        "VUV", "XAF", "XOF", "XPF",
    ];
    const THREE: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
    let code = currency.to_ascii_uppercase();
    match (
        ZERO.contains(&code.as_str()),
        THREE.contains(&code.as_str()),
    ) {
        (true, _) => 0,
        (_, true) => 3,
        _ => 2,
    }
}

/// The counter name of revenue in `currency` (ISO 4217, three letters), if well formed.
pub fn revenue_counter(currency: &str) -> Option<String> {
    (currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| format!("{REVENUE_PREFIX}{}", currency.to_ascii_lowercase()))
}

/// The counter of bot clicks for `reason`.
pub fn bot_counter(reason: crate::domain::BotReason) -> String {
    format!("{BOT_PREFIX}{}", reason.as_str())
}

/// Counters read back and summed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub clicks: i64,
    pub qualified: i64,
    pub bots: i64,
    pub conversions: i64,
    /// Currency (upper case) → micro-units.
    pub revenue: BTreeMap<String, Micros>,
    /// Bot reason (`user_agent`, …) → bot clicks.
    pub bot_reasons: BTreeMap<String, i64>,
    pub verified: i64,
    pub flagged: i64,
    pub expired: i64,
    /// Console tries ([`TEST_CLICKS`]), apart from every other count.
    pub test_clicks: i64,
    pub verified_revenue: BTreeMap<String, Micros>,
    pub flagged_revenue: BTreeMap<String, Micros>,
    pub reversed_revenue: BTreeMap<String, Micros>,
    pub leads: i64,
    pub customers: i64,
    pub recurring_revenue: BTreeMap<String, Micros>,
}

impl Counters {
    pub fn of_item(item: &Item) -> Self {
        let mut c = Counters::default();
        for (name, &n) in &item.counters {
            match name.as_str() {
                CLICKS => c.clicks = c.clicks.saturating_add(count(n)),
                QUALIFIED => c.qualified = c.qualified.saturating_add(count(n)),
                BOTS => c.bots = c.bots.saturating_add(count(n)),
                CONVERSIONS => c.conversions = c.conversions.saturating_add(count(n)),
                VERIFIED => c.verified = c.verified.saturating_add(count(n)),
                FLAGGED => c.flagged = c.flagged.saturating_add(count(n)),
                EXPIRED => c.expired = c.expired.saturating_add(count(n)),
                TEST_CLICKS => c.test_clicks = c.test_clicks.saturating_add(count(n)),
                LEADS => c.leads = c.leads.saturating_add(count(n)),
                CUSTOMERS => c.customers = c.customers.saturating_add(count(n)),
                other => c.add_named(other, n),
            }
        }
        c
    }

    /// A prefixed counter (`rev_usd`, `bot_head_request`, …) read back.
    fn add_named(&mut self, name: &str, n: crate::platform::store::Count) {
        if let Some(reason) = name.strip_prefix(BOT_PREFIX) {
            let slot = self.bot_reasons.entry(reason.to_owned()).or_default();
            *slot = slot.saturating_add(count(n));
            return;
        }
        let maps: [(&str, &mut BTreeMap<String, Micros>); 5] = [
            (REVENUE_PREFIX, &mut self.revenue),
            (VERIFIED_REVENUE_PREFIX, &mut self.verified_revenue),
            (FLAGGED_REVENUE_PREFIX, &mut self.flagged_revenue),
            (REVERSED_REVENUE_PREFIX, &mut self.reversed_revenue),
            (RECURRING_REVENUE_PREFIX, &mut self.recurring_revenue),
        ];
        for (prefix, map) in maps {
            if let Some(rest) = name.strip_prefix(prefix) {
                add_to(map, rest.to_ascii_uppercase(), n);
                return;
            }
        }
    }

    pub fn add(&mut self, other: &Counters) {
        for (mine, theirs) in [
            (&mut self.clicks, other.clicks),
            (&mut self.qualified, other.qualified),
            (&mut self.bots, other.bots),
            (&mut self.conversions, other.conversions),
            (&mut self.verified, other.verified),
            (&mut self.flagged, other.flagged),
            (&mut self.expired, other.expired),
            (&mut self.test_clicks, other.test_clicks),
            (&mut self.leads, other.leads),
            (&mut self.customers, other.customers),
        ] {
            *mine = mine.saturating_add(theirs);
        }
        for (k, n) in &other.bot_reasons {
            let slot = self.bot_reasons.entry(k.clone()).or_default();
            *slot = slot.saturating_add(*n);
        }
        let money = [
            (&mut self.revenue, &other.revenue),
            (&mut self.verified_revenue, &other.verified_revenue),
            (&mut self.flagged_revenue, &other.flagged_revenue),
            (&mut self.reversed_revenue, &other.reversed_revenue),
            (&mut self.recurring_revenue, &other.recurring_revenue),
        ];
        for (mine, theirs) in money {
            for (k, n) in theirs {
                add_to(mine, k.clone(), *n);
            }
        }
    }

    /// The counters split by bot reason: one part per reason (bot clicks only) and the humans'
    /// part ([`HUMAN`]: qualified clicks, conversions and revenue). The parts add up to `self`.
    pub fn by_bot_reason(&self) -> Vec<(String, Counters)> {
        let mut parts: Vec<(String, Counters)> = self
            .bot_reasons
            .iter()
            .map(|(reason, &n)| {
                let mut c = Counters {
                    clicks: n,
                    bots: n,
                    ..Counters::default()
                };
                c.bot_reasons.insert(reason.clone(), n);
                (reason.clone(), c)
            })
            .collect();
        let human = Counters {
            clicks: self.qualified,
            qualified: self.qualified,
            bot_reasons: Default::default(),
            bots: 0,
            expired: 0,
            test_clicks: 0,
            ..self.clone()
        };
        parts.push((HUMAN.to_owned(), human));
        if self.expired > 0 {
            let expired = Counters {
                clicks: self.expired,
                expired: self.expired,
                ..Counters::default()
            };
            parts.push((EXPIRED.to_owned(), expired));
        }
        if self.test_clicks > 0 {
            let test = Counters {
                test_clicks: self.test_clicks,
                ..Counters::default()
            };
            parts.push((TEST_CLICKS.to_owned(), test));
        }
        parts
    }

    /// The reason behind most bot clicks (ties: the first by name), if any bot clicked.
    pub fn dominant_bot_reason(&self) -> Option<(&str, i64)> {
        self.bot_reasons
            .iter()
            .filter(|(_, n)| **n > 0)
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(r, n)| (r.as_str(), *n))
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
        assert_eq!(format_money(1_430_000_000, "USD"), "1430.00");
        assert_eq!(format_money(300_000, "usd"), "0.30");
        assert_eq!(format_money(125_000, "USD"), "0.125");
        assert_eq!(format_money(500_000_000, "JPY"), "500");
        assert_eq!(format_money(1_250_000, "KWD"), "1.250");
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

    #[test]
    fn bot_reasons_split_the_counters_into_parts_that_add_up() {
        let mut item = Item::new("pk", "sk", serde_json::Value::Null);
        for (name, n) in [
            ("clicks", 10),
            ("qualified", 4),
            ("bots", 6),
            ("bot_user_agent", 2),
            ("bot_link_preview", 3),
            ("bot_head_request", 1),
            ("conversions", 2),
            ("rev_eur", 5_000_000),
        ] {
            item.counters.insert(name.into(), n);
        }
        let c = Counters::of_item(&item);
        assert_eq!(c.dominant_bot_reason(), Some(("link_preview", 3)));
        let parts = c.by_bot_reason();
        let keys: Vec<&str> = parts.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["head_request", "link_preview", "user_agent", "human"]
        );
        let mut sum = Counters::default();
        for (_, part) in &parts {
            sum.add(part);
        }
        assert_eq!(sum, c);
        assert_eq!(Counters::default().dominant_bot_reason(), None);
    }

    /// Reads a formatted amount back into micro-units, in integers (the inverse of
    /// `with_decimals`, for the properties below).
    fn parse_micros(text: &str) -> Micros {
        let (neg, text) = text.strip_prefix('-').map_or((false, text), |t| (true, t));
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        let frac = format!("{frac:0<6}");
        let abs = int.parse::<u128>().unwrap() * 1_000_000 + frac.parse::<u128>().unwrap();
        let wide = i128::try_from(abs).map_or(i128::MIN, |v| v);
        if neg && wide != i128::MIN {
            -wide
        } else {
            wide
        }
    }

    fn revenue_item(values: &[(String, Micros)]) -> Item {
        let mut item = Item::new("p", "s", serde_json::Value::Null);
        for (name, n) in values {
            let slot = item.counters.entry(name.clone()).or_default();
            *slot += n;
        }
        item
    }

    proptest::proptest! {
        /// Every i128 amount formats exactly (no `Decimal` range to fall out of) and reads back.
        #[test]
        fn money_formats_exactly_over_the_whole_range(micros in proptest::num::i128::ANY) {
            proptest::prop_assume!(micros != i128::MIN);
            proptest::prop_assert_eq!(parse_micros(&format_micros(micros)), micros);
            for ccy in ["USD", "JPY", "KWD"] {
                let shown = format_money(micros, ccy);
                proptest::prop_assert_eq!(parse_micros(&shown), micros);
                let decimals = shown.split_once('.').map_or(0, |(_, f)| f.len());
                proptest::prop_assert!(decimals >= minor_units(ccy) as usize && decimals <= 6);
            }
        }

        /// Where `Decimal` can hold the amount, the integer formatting agrees with it.
        #[test]
        fn money_formatting_agrees_with_decimal(micros in -(1i128 << 95)..(1i128 << 95)) {
            let d = Decimal::from_i128_with_scale(micros, 6).normalize();
            proptest::prop_assert_eq!(format_micros(micros), d.to_string());
        }

        /// Sums of revenue at the per-conversion maximum, past i64, are exact through the read
        /// back (`of_item`) and the report's sums (`add`), in any order; counts stay counts.
        #[test]
        fn revenue_sums_past_i64_are_exact_and_order_free(
            values in proptest::collection::vec(0..=1_000_000_000_000_000i128, 1..40),
            split in 0usize..40,
        ) {
            let split = split.min(values.len());
            let exact: i128 = values.iter().sum();
            let cell = |part: &[i128]| {
                let deltas: Vec<(String, Micros)> = part
                    .iter()
                    .flat_map(|v| [("rev_usd".to_owned(), *v), ("conversions".to_owned(), 1)])
                    .collect();
                Counters::of_item(&revenue_item(&deltas))
            };
            let (a, b) = (cell(&values[..split]), cell(&values[split..]));
            let mut ab = a.clone();
            ab.add(&b);
            let mut ba = b.clone();
            ba.add(&a);
            proptest::prop_assert_eq!(&ab, &ba);
            proptest::prop_assert_eq!(ab.revenue.get("USD").copied().unwrap_or(0), exact);
            proptest::prop_assert_eq!(ab.conversions, i64::try_from(values.len()).unwrap());
            let shown = report::Metrics::from(&ab);
            proptest::prop_assert_eq!(parse_micros(&shown.revenue["USD"]), exact);
        }

        /// A sum at the edge of i128 pins at the bound: never wraps to a negative amount.
        #[test]
        fn report_sums_never_wrap(a in 0..=i128::MAX, b in 0..=i128::MAX) {
            let mut x = Counters::default();
            x.revenue.insert("USD".into(), a);
            let mut y = Counters::default();
            y.revenue.insert("USD".into(), b);
            x.add(&y);
            proptest::prop_assert!(x.revenue["USD"] >= a.max(b));
        }
    }
}
