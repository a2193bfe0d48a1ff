//! A partner's summary (issue 61): earnings per day, its balance and its next payout, with the
//! reasons in words, all from ONE rule ([`Tally`]) so the figures add up on every screen:
//!
//! - **pending**: lines pending or held (approved when their hold ends);
//! - **approved**: approved lines not yet paid: due by the cutoff, approved after it, or in a
//!   payout made and not yet paid (exactly the balances' `approved`);
//! - **owed back**: approved negative lines not yet netted (a refund's adjustment or clawback, a
//!   correction): the balances' `openNegative`, as a positive amount;
//! - **next payout**: what is in payouts made and not yet paid, plus what a run up to the
//!   cutoff would pay (the lines due by then net of what is owed back, when positive: a run
//!   carries a net of zero or less over, `docs/commissions.md`).
//!
//! The cutoff is the end of the last whole month (UTC): a payout pays what was approved by then.
//! So `approved − owed back = next payout − in payouts + approved after the cutoff` whenever
//! the due lines cover what is owed back.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;
use time::OffsetDateTime;

use crate::domain::{Currency, Handle, PartnerId};
use crate::ledger::model::{Commission, Kind, Status};
use crate::platform::store::{Store, StoreError};

/// The longest window of the earnings series, in days.
pub const MAX_DAYS: i64 = 366;
const DAY_MS: i64 = 86_400_000;

/// A partner's summary as answered.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub currency: Currency,
    pub earnings: Vec<Day>,
    pub balance: Balance,
    pub next_payout: NextPayout,
    /// Messages land with the messages issue: none until then.
    pub unread_messages: u64,
    /// Its clicks and conversions over the window, and its top links (`super::traffic`).
    pub traffic: super::traffic::Traffic,
}

/// One day of earnings: the lines created that day, by their status now.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Day {
    pub day: String,
    pub pending: String,
    pub approved: String,
    pub paid: String,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Balance {
    pub pending: String,
    pub approved: String,
    pub owed_back: String,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct NextPayout {
    pub amount: String,
    pub reasons: Vec<String>,
}

/// The days asked for (unix ms, inclusive).
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub from_ms: i64,
    pub to_ms: i64,
}

/// The end of the last whole month before `now_ms` (its last millisecond), and its day in words
/// ("31 Oct").
pub fn cutoff(now_ms: i64) -> (i64, String) {
    let now = OffsetDateTime::from_unix_timestamp_nanos(i128::from(now_ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let first = now
        .date()
        .replace_day(1)
        .unwrap_or(now.date())
        .midnight()
        .assume_utc();
    let last_day = first.date().previous_day().unwrap_or(first.date());
    let words = format!("{} {}", last_day.day(), &last_day.month().to_string()[..3]);
    (crate::domain::time::unix_millis(first) - 1, words)
}

/// The sums of the one rule, in minor units of the summary's currency (owed back positive).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub pending: i128,
    pub due: i128,
    pub later: i128,
    pub in_payouts: i128,
    pub owed_refund: i128,
    pub owed_other: i128,
}

impl Tally {
    /// The live lines (pending, or approved and unpaid) of `currency`, against the cutoff.
    pub fn of(lines: &[Commission], currency: Currency, cutoff_ms: i64) -> Self {
        let mut t = Tally::default();
        for c in lines.iter().filter(|c| c.currency == currency) {
            let m = c.minor();
            match c.status {
                Status::Pending | Status::Held => t.pending += m,
                Status::Approved if c.payout_id.is_some() => t.in_payouts += m,
                Status::Approved
                    if m < 0 && matches!(c.kind, Kind::Adjustment | Kind::Clawback) =>
                {
                    t.owed_refund -= m;
                }
                Status::Approved if m < 0 => t.owed_other -= m,
                Status::Approved if c.available_at_ms() <= cutoff_ms => t.due += m,
                Status::Approved => t.later += m,
                _ => {}
            }
        }
        t
    }

    pub fn owed_back(&self) -> i128 {
        self.owed_refund + self.owed_other
    }

    /// What is approved and not yet paid (the balances' `approved`).
    pub fn approved(&self) -> i128 {
        self.due + self.later + self.in_payouts
    }

    /// What the next payout pays: payouts made and unpaid, and the net due by the cutoff.
    pub fn next_payout(&self) -> i128 {
        self.in_payouts + (self.due - self.owed_back()).max(0)
    }

    /// Why the next payout is what it is, in words.
    pub fn reasons(&self, currency: Currency, cutoff_day: &str) -> Vec<String> {
        let money = |m: i128| words(currency, m);
        let mut out = Vec::new();
        if self.in_payouts != 0 {
            out.push(format!(
                "{} in a payout already made, not yet paid",
                money(self.in_payouts)
            ));
        }
        if self.due != 0 {
            out.push(format!("{} approved by {cutoff_day}", money(self.due)));
        }
        if self.owed_refund != 0 {
            out.push(format!(
                "{} owed back from a refund",
                money(self.owed_refund)
            ));
        }
        if self.owed_other != 0 {
            out.push(format!(
                "{} owed back from a correction",
                money(self.owed_other)
            ));
        }
        if self.owed_back() > self.due {
            out.push(format!(
                "{} still owed back is taken from later earnings",
                money(self.owed_back() - self.due)
            ));
        }
        if self.later != 0 {
            out.push(format!(
                "{} approved after {cutoff_day} comes in the payout after",
                money(self.later)
            ));
        }
        if self.pending != 0 {
            out.push(format!(
                "{} still pending, approved when its hold ends",
                money(self.pending)
            ));
        }
        if out.is_empty() {
            out.push("Nothing is due yet.".to_owned());
        }
        out
    }
}

/// An amount in words for a person: `€24.90`, `$5.00`, `12.00 CHF`.
pub fn words(currency: Currency, minor: i128) -> String {
    let value = Decimal::from_i128_with_scale(minor, currency.minor_units());
    crate::mail::locale::Locale::En.money(value, currency.as_str())
}

/// The currency a partner's summary is in: the one most of its lines are in (ties: the code
/// first in order), else the program template's plan's, else euros.
pub(crate) async fn currency_of(
    store: &dyn Store,
    handle: &Handle,
    lines: &[&Commission],
) -> Result<Currency, StoreError> {
    let mut counts: BTreeMap<Currency, usize> = BTreeMap::new();
    for c in lines {
        *counts.entry(c.currency).or_default() += 1;
    }
    if let Some((c, _)) = counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))) {
        return Ok(*c);
    }
    let template = crate::programs::settings::get(store, handle)
        .await?
        .and_then(|p| p.template);
    if let Some(t) = template
        && let Some(plan) = crate::plans::current(store, handle, &t.campaign_id).await?
    {
        return Ok(plan.currency);
    }
    Ok(Currency::parse("EUR").expect("EUR is a currency"))
}

/// The lines of `partner` created in the window. Round trips: ONE query per 1,000 lines, ONE
/// read per line.
async fn created_in(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    window: Window,
) -> Result<Vec<Commission>, StoreError> {
    let filter = crate::ledger::Filter {
        partner_id: Some(partner.clone()),
        from_ms: Some(window.from_ms),
        to_ms: Some(window.to_ms),
        ..Default::default()
    };
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let (page, next) = crate::ledger::list(store, handle, &filter, 1000, after).await?;
        out.extend(page);
        match next {
            Some(n) => after = Some(n),
            None => return Ok(out),
        }
    }
}

/// The earnings series: every day of the window, zero when nothing was earned.
fn series(lines: &[Commission], currency: Currency, window: Window) -> Vec<Day> {
    let mut days: BTreeMap<i64, [i128; 3]> = BTreeMap::new();
    let first = window.from_ms.div_euclid(DAY_MS);
    let last = window.to_ms.div_euclid(DAY_MS);
    for d in first..=last {
        days.insert(d, [0; 3]);
    }
    for c in lines.iter().filter(|c| c.currency == currency) {
        let slot = match c.status {
            Status::Pending | Status::Held => 0,
            Status::Approved => 1,
            Status::Paid => 2,
            _ => continue,
        };
        if let Some(day) = days.get_mut(&c.created_at.millis().div_euclid(DAY_MS)) {
            day[slot] += c.minor();
        }
    }
    let text = |m: i128| currency.format(m);
    days.into_iter()
        .map(|(d, [p, a, paid])| Day {
            day: crate::domain::time::unix_millis_to_rfc3339(d * DAY_MS)[..10].to_owned(),
            pending: text(p),
            approved: text(a),
            paid: text(paid),
        })
        .collect()
}

/// The summary of `partner` over `window`, its next payout against the cutoff before `now_ms`.
/// Round trips: the partner's live lines (ONE query, ONE read per line), the window's lines
/// (ONE query per 1,000, ONE read per line), TWO reads when it has no line at all, then its
/// traffic's counters (`super::traffic::traffic`).
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn summary(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    window: Window,
    now_ms: i64,
) -> Result<Summary, StoreError> {
    let live = crate::ledger::scan_index(
        store,
        handle,
        crate::ledger::index::LIVE,
        Some(partner.as_str()),
        |_| true,
    )
    .await?;
    let (created, unread) = tokio::try_join!(
        created_in(store, handle, partner, window),
        crate::messages::thread::unread(store, handle, partner, crate::messages::Side::Partner),
    )?;
    let all: Vec<&Commission> = live.iter().chain(created.iter()).collect();
    let currency = currency_of(store, handle, &all).await?;
    let (cutoff_ms, cutoff_day) = cutoff(now_ms);
    let t = Tally::of(&live, currency, cutoff_ms);
    let span = (window.from_ms, window.to_ms);
    let mut traffic = super::traffic::traffic(store, handle, partner, span, currency).await?;
    traffic.top_links.earned_before_links = super::traffic::before_links(&created, currency);
    Ok(Summary {
        currency,
        earnings: series(&created, currency, window),
        balance: Balance {
            pending: currency.format(t.pending),
            approved: currency.format(t.approved()),
            owed_back: currency.format(t.owed_back()),
        },
        next_payout: NextPayout {
            amount: currency.format(t.next_payout()),
            reasons: t.reasons(currency, &cutoff_day),
        },
        unread_messages: unread,
        traffic,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::CommissionId;
    use crate::domain::time::Timestamp;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    fn line(kind: Kind, minor: i64, status: Status, available_ms: i64) -> Commission {
        let partner = PartnerId::parse("jane").unwrap();
        let mut c = Commission::blank(
            CommissionId::new(),
            kind,
            partner,
            Some(minor),
            eur(),
            status,
        );
        c.available_at = Timestamp::from_millis(available_ms);
        c
    }

    /// The issue's case: the funnel's approved €39.80, the balance's €44.80 with €5.00 owed
    /// back, and a payout of €24.90, reconciled by the one rule.
    #[test]
    fn the_issues_figures_add_up() {
        // 3 Dec 2026: the cutoff is the end of 30 Nov.
        let now = 1_796_256_000_000;
        let (cut, day) = cutoff(now);
        assert_eq!(day, "30 Nov");
        assert_eq!(
            crate::domain::time::unix_millis_to_rfc3339(cut + 1),
            "2026-12-01T00:00:00Z"
        );
        let lines = [
            line(Kind::Conversion, 1990, Status::Approved, cut - 5 * DAY_MS),
            line(Kind::Conversion, 1000, Status::Approved, cut - DAY_MS),
            line(Kind::Conversion, 1490, Status::Approved, cut + DAY_MS),
            line(Kind::Adjustment, -500, Status::Approved, cut - DAY_MS),
            line(Kind::Conversion, 700, Status::Pending, cut + 20 * DAY_MS),
        ];
        let t = Tally::of(&lines, eur(), cut);
        assert_eq!(t.approved(), 4480, "the balance's approved");
        assert_eq!(t.owed_back(), 500);
        assert_eq!(t.approved() - t.owed_back(), 3980, "the funnel's approved");
        assert_eq!(t.next_payout(), 2490);
        assert_eq!(
            t.reasons(eur(), &day),
            [
                "€29.90 approved by 30 Nov",
                "€5.00 owed back from a refund",
                "€14.90 approved after 30 Nov comes in the payout after",
                "€7.00 still pending, approved when its hold ends",
            ]
        );
        // Next payout + what comes after = what is approved net of what is owed back.
        assert_eq!(t.next_payout() + t.later, t.approved() - t.owed_back());
    }

    #[test]
    fn owed_back_beyond_what_is_due_pays_nothing_and_says_so() {
        let (cut, day) = cutoff(1_796_256_000_000);
        let lines = [
            line(Kind::Conversion, 300, Status::Approved, cut - DAY_MS),
            line(Kind::Clawback, -500, Status::Approved, cut - DAY_MS),
            line(Kind::Manual, -100, Status::Approved, cut - DAY_MS),
        ];
        let t = Tally::of(&lines, eur(), cut);
        assert_eq!(t.next_payout(), 0);
        assert_eq!(
            t.reasons(eur(), &day),
            [
                "€3.00 approved by 30 Nov",
                "€5.00 owed back from a refund",
                "€1.00 owed back from a correction",
                "€3.00 still owed back is taken from later earnings",
            ]
        );
    }

    #[test]
    fn a_payout_made_and_unpaid_is_the_next_one_and_other_currencies_stay_out() {
        let (cut, day) = cutoff(1_796_256_000_000);
        let mut claimed = line(Kind::Conversion, 2490, Status::Approved, cut - DAY_MS);
        claimed.payout_id = Some(crate::domain::PayoutId::new());
        let mut dollars = line(Kind::Conversion, 999, Status::Approved, cut - DAY_MS);
        dollars.currency = Currency::parse("USD").unwrap();
        let t = Tally::of(&[claimed, dollars], eur(), cut);
        assert_eq!((t.next_payout(), t.approved()), (2490, 2490));
        assert_eq!(
            t.reasons(eur(), &day),
            ["€24.90 in a payout already made, not yet paid"]
        );
        assert_eq!(
            Tally::default().reasons(eur(), &day),
            ["Nothing is due yet."]
        );
    }
}
