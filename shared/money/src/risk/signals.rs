//! The partner-level signals (pure): each one a count over the partner's recent conversion lines
//! or its daily clicks, its threshold, and a few examples a manager can follow up.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::domain::{ClickId, ConversionId, CustomerId};

/// How many examples a signal names at most.
pub const MAX_EXAMPLES: usize = 5;
/// A conversion this soon after its click is one no human reading the page makes.
pub const FAST_SECONDS: i64 = 10;
/// A reversal rate at or above this share of at least [`MIN_CONVERSIONS_FOR_RATE`] conversions.
pub const HIGH_REVERSAL_PERCENT: u64 = 20;
pub const MIN_CONVERSIONS_FOR_RATE: u64 = 5;
/// A day's qualified clicks are a spike at this multiple of the partner's own daily mean before
/// it (and at least [`MIN_SPIKE_CLICKS`], so a quiet partner's 3 clicks are not one).
pub const SPIKE_FACTOR: i64 = 5;
pub const MIN_SPIKE_CLICKS: i64 = 50;
/// The days looked at for spikes (the latest ones); the days before them are the baseline.
pub const SPIKE_DAYS: usize = 7;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalCode {
    SelfReferral,
    ClickSpike,
    ConversionIpReuse,
    FastConversions,
    HighReversalRate,
    SharedPayoutAccount,
    SharedTaxId,
    CustomerMatchesPartner,
    DisposableEmail,
    PaidTraffic,
    RefundsAfterPayout,
}

impl SignalCode {
    pub const ALL: [SignalCode; 11] = [
        SignalCode::SelfReferral,
        SignalCode::ClickSpike,
        SignalCode::ConversionIpReuse,
        SignalCode::FastConversions,
        SignalCode::HighReversalRate,
        SignalCode::SharedPayoutAccount,
        SignalCode::SharedTaxId,
        SignalCode::CustomerMatchesPartner,
        SignalCode::DisposableEmail,
        SignalCode::PaidTraffic,
        SignalCode::RefundsAfterPayout,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SignalCode::SelfReferral => "self_referral",
            SignalCode::ClickSpike => "click_spike",
            SignalCode::ConversionIpReuse => "conversion_ip_reuse",
            SignalCode::FastConversions => "fast_conversions",
            SignalCode::HighReversalRate => "high_reversal_rate",
            SignalCode::SharedPayoutAccount => "shared_payout_account",
            SignalCode::SharedTaxId => "shared_tax_id",
            SignalCode::CustomerMatchesPartner => "customer_matches_partner",
            SignalCode::DisposableEmail => "disposable_email",
            SignalCode::PaidTraffic => "paid_traffic",
            SignalCode::RefundsAfterPayout => "refunds_after_payout",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == raw)
    }

    /// Its part of the 0–100 score when it fires.
    pub fn weight(self) -> u8 {
        match self {
            SignalCode::SelfReferral => 40,
            SignalCode::ConversionIpReuse | SignalCode::FastConversions => 30,
            SignalCode::HighReversalRate => 30,
            SignalCode::ClickSpike => 25,
            SignalCode::SharedPayoutAccount | SignalCode::SharedTaxId => 50,
            SignalCode::RefundsAfterPayout | SignalCode::CustomerMatchesPartner => 40,
            SignalCode::PaidTraffic => 30,
            SignalCode::DisposableEmail => 20,
        }
    }
}

/// One signal as answered: how many, whether it passed its threshold, what it means in words,
/// and examples (conversion ids, customer ids, address digests or days).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Signal {
    pub code: SignalCode,
    pub count: u64,
    pub fired: bool,
    pub weight: u8,
    pub detail: String,
    pub examples: Vec<String>,
    /// A manager dismissed it on this evidence (`risk::dismissals`): it does not count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dismissed: Option<Dismissed>,
}

impl Signal {
    pub(crate) fn new(
        code: SignalCode,
        count: u64,
        fired: bool,
        detail: String,
        examples: Vec<String>,
    ) -> Self {
        Signal {
            code,
            count,
            fired,
            weight: code.weight(),
            detail,
            examples: examples.into_iter().take(MAX_EXAMPLES).collect(),
            dismissed: None,
        }
    }
}

/// A dismissal as answered beside its signal (`signals[].dismissed`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dismissed {
    pub reason: String,
    pub by: String,
    pub at: crate::domain::time::Timestamp,
}

/// What a signal needs of one conversion line.
#[derive(Clone, Debug, Default)]
pub struct LineFacts {
    pub conversion_id: Option<ConversionId>,
    pub click_id: Option<ClickId>,
    pub click_ms: i64,
    pub conversion_ms: i64,
    pub address_hash: Option<String>,
    /// The keyed fingerprint of the browser behind the line's click.
    pub visitor_hash: Option<String>,
    pub customer_id: Option<CustomerId>,
    pub self_referral: bool,
    pub reversed: bool,
    /// The line was in a payout when it was reversed (its reversal is a clawback).
    pub reversed_after_payout: bool,
    /// The line is or was in a payout.
    pub in_payout: bool,
}

impl LineFacts {
    /// The sale as an example names it: its conversion id.
    pub fn sale(&self) -> &str {
        self.conversion_id.as_ref().map_or("", ConversionId::as_str)
    }
}

/// Every signal, in [`SignalCode::ALL`]'s order; `days` are (day, qualified clicks), oldest first.
pub fn all(lines: &[LineFacts], days: &[(String, i64)]) -> Vec<Signal> {
    vec![
        self_referral(lines),
        click_spike(days),
        address_reuse(lines),
        fast(lines),
        reversals(lines),
    ]
}

/// The score: the fired signals' weights, at most 100.
pub fn score(signals: &[Signal]) -> u8 {
    let sum: u32 = signals
        .iter()
        .filter(|s| s.fired)
        .map(|s| u32::from(s.weight))
        .sum();
    u8::try_from(sum.min(100)).unwrap_or(100)
}

fn self_referral(lines: &[LineFacts]) -> Signal {
    let customers: BTreeSet<&str> = lines
        .iter()
        .filter(|l| l.self_referral)
        .filter_map(|l| l.customer_id.as_ref().map(CustomerId::as_str))
        .collect();
    let n = customers.len() as u64;
    let detail = format!("{n} customer(s) with the partner's own email");
    let examples = customers.into_iter().map(str::to_owned).collect();
    Signal::new(SignalCode::SelfReferral, n, n > 0, detail, examples)
}

fn fast(lines: &[LineFacts]) -> Signal {
    let quick: Vec<&LineFacts> = lines
        .iter()
        .filter(|l| (0..FAST_SECONDS * 1000).contains(&(l.conversion_ms - l.click_ms)))
        .collect();
    let n = quick.len() as u64;
    let detail = format!(
        "{n} of {} conversions under {FAST_SECONDS} s after their click",
        lines.len()
    );
    let examples = quick.iter().map(|l| l.sale().to_owned()).collect();
    Signal::new(SignalCode::FastConversions, n, n > 0, detail, examples)
}

/// Conversions whose clicks came from one address behind at least two of the partner's
/// converting clicks: one machine clicking and buying through its own links.
fn address_reuse(lines: &[LineFacts]) -> Signal {
    let mut by_address: BTreeMap<&str, (BTreeSet<Option<&ClickId>>, u64)> = BTreeMap::new();
    for l in lines {
        if let Some(a) = l.address_hash.as_deref() {
            let entry = by_address.entry(a).or_default();
            entry.0.insert(l.click_id.as_ref());
            entry.1 += 1;
        }
    }
    let mut shared: Vec<(&str, usize, u64)> = by_address
        .into_iter()
        .filter(|(_, (clicks, _))| clicks.len() >= 2)
        .map(|(a, (clicks, n))| (a, clicks.len(), n))
        .collect();
    shared.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(b.0)));
    let n: u64 = shared.iter().map(|s| s.2).sum();
    let detail = format!("{n} conversions from {} shared address(es)", shared.len());
    let examples = shared
        .iter()
        .map(|(a, clicks, convs)| format!("{a}: {convs} conversions from {clicks} clicks"))
        .collect();
    Signal::new(SignalCode::ConversionIpReuse, n, n > 0, detail, examples)
}

fn reversals(lines: &[LineFacts]) -> Signal {
    let total = lines.len() as u64;
    let reversed: Vec<&LineFacts> = lines.iter().filter(|l| l.reversed).collect();
    let n = reversed.len() as u64;
    let fired = total >= MIN_CONVERSIONS_FOR_RATE && n * 100 >= total * HIGH_REVERSAL_PERCENT;
    let percent = (n * 100).checked_div(total).unwrap_or(0);
    let detail = format!("{n} of {total} conversions reversed ({percent} %)");
    let examples = reversed.iter().map(|l| l.sale().to_owned()).collect();
    Signal::new(SignalCode::HighReversalRate, n, fired, detail, examples)
}

/// Days among the last [`SPIKE_DAYS`] whose clicks reach [`SPIKE_FACTOR`] times the mean of
/// the days before them (and [`MIN_SPIKE_CLICKS`]).
fn click_spike(days: &[(String, i64)]) -> Signal {
    let split = days.len().saturating_sub(SPIKE_DAYS);
    let (before, recent) = days.split_at(split);
    let base_days = i64::try_from(before.len().max(1)).unwrap_or(1);
    let base_sum: i64 = before.iter().map(|d| d.1).sum();
    // Mean rounded up, at least one click a day, so a new partner is measured on its threshold.
    let mean = ((base_sum + base_days - 1) / base_days).max(1);
    let spikes: Vec<&(String, i64)> = recent
        .iter()
        .filter(|d| d.1 >= MIN_SPIKE_CLICKS && d.1 >= SPIKE_FACTOR.saturating_mul(mean))
        .collect();
    let n = spikes.len() as u64;
    let detail = format!("{n} day(s) at {SPIKE_FACTOR}x or more of {mean} qualified clicks a day");
    let examples = spikes
        .iter()
        .map(|(day, clicks)| format!("{day}: {clicks} clicks"))
        .collect();
    Signal::new(SignalCode::ClickSpike, n, n > 0, detail, examples)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: u64, click_ms: i64, after_ms: i64, address: Option<&str>) -> LineFacts {
        LineFacts {
            conversion_id: ConversionId::parse(&format!("cnv_{n:032x}")).ok(),
            click_id: ClickId::parse(&format!("clk_{click_ms:032x}")).ok(),
            click_ms,
            conversion_ms: click_ms + after_ms,
            address_hash: address.map(str::to_owned),
            ..LineFacts::default()
        }
    }

    fn fired(signals: &[Signal]) -> Vec<&'static str> {
        signals
            .iter()
            .filter(|s| s.fired)
            .map(|s| s.code.as_str())
            .collect()
    }

    #[test]
    fn every_signal_is_one_a_program_rule_may_name() {
        let codes: Vec<&str> = SignalCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(codes, crate::domain::fraud_rules::SIGNALS);
        for c in SignalCode::ALL {
            assert_eq!(SignalCode::parse(c.as_str()), Some(c));
            assert!(crate::domain::words::of(c.as_str()).is_some());
            let held = format!("partner_risk_{}", c.as_str());
            assert!(crate::domain::words::of(&held).is_some(), "{held}");
        }
    }

    #[test]
    fn a_clean_partner_fires_nothing() {
        let lines: Vec<_> = (0..10)
            .map(|i| {
                line(
                    i,
                    i64::try_from(i).unwrap() * 1000,
                    3_600_000,
                    Some(&format!("a{i}")),
                )
            })
            .collect();
        let days: Vec<_> = (0..30).map(|d| (format!("d{d:02}"), 40)).collect();
        let s = all(&lines, &days);
        assert_eq!(s.len(), 5, "the line and click signals");
        assert!(fired(&s).is_empty(), "{s:?}");
        assert_eq!(score(&s), 0);
    }

    #[test]
    fn fast_conversions_are_under_ten_seconds_after_their_click() {
        let lines = [line(1, 0, 9_999, None), line(2, 0, 10_000, None)];
        let s = fast(&lines);
        assert_eq!((s.count, s.fired), (1, true));
        assert_eq!(s.examples, ["cnv_00000000000000000000000000000001"]);
    }

    #[test]
    fn one_address_behind_two_converting_clicks_is_reuse() {
        let one_click_twice = [
            line(1, 5, 60_000, Some("aa")),
            line(2, 5, 90_000, Some("aa")),
        ];
        assert_eq!(address_reuse(&one_click_twice).count, 0);
        let two_clicks = [
            line(1, 5, 60_000, Some("aa")),
            line(2, 6, 60_000, Some("aa")),
        ];
        let s = address_reuse(&two_clicks);
        assert_eq!((s.count, s.fired), (2, true));
        assert_eq!(s.examples, ["aa: 2 conversions from 2 clicks"]);
    }

    #[test]
    fn a_reversal_rate_needs_enough_conversions() {
        let mut lines: Vec<_> = (0..4).map(|i| line(i, 0, 60_000, None)).collect();
        lines[0].reversed = true;
        lines[1].reversed = true;
        assert!(!reversals(&lines).fired, "4 conversions are too few");
        lines.push(line(9, 0, 60_000, None));
        let s = reversals(&lines);
        assert_eq!((s.count, s.fired), (2, true));
        assert_eq!(s.detail, "2 of 5 conversions reversed (40 %)");
    }

    #[test]
    fn a_spike_is_measured_against_the_partners_own_days() {
        let mut days: Vec<_> = (0..23).map(|d| (format!("d{d:02}"), 20)).collect();
        days.extend((23..30).map(|d| (format!("d{d:02}"), 99)));
        assert!(!click_spike(&days).fired, "99 < 5 x 20");
        days[29].1 = 100;
        let s = click_spike(&days);
        assert_eq!((s.count, s.fired), (1, true));
        assert_eq!(s.examples, ["d29: 100 clicks"]);
        let quiet: Vec<_> = (0..30)
            .map(|d| (format!("d{d:02}"), i64::from(d == 29) * 49))
            .collect();
        assert!(!click_spike(&quiet).fired, "below the minimum");
    }

    #[test]
    fn self_referral_counts_customers_and_the_score_caps_at_100() {
        let mut lines: Vec<_> = (0..3).map(|i| line(i, 0, 1_000, Some("aa"))).collect();
        for l in &mut lines {
            l.self_referral = true;
            l.customer_id = CustomerId::parse("cus-1").ok();
            l.reversed = true;
        }
        lines[2].click_id = ClickId::parse(&format!("clk_{:032x}", 7)).ok();
        let s = all(&lines, &[]);
        assert_eq!(s[0].count, 1);
        assert_eq!(score(&s), 100, "{:?}", fired(&s));
    }
}
