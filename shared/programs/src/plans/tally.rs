//! A partner's calendar month (UTC) as tiers and bonuses see it (issue 47, pure): per event
//! type, the conversions accrued and their value summed per plan currency, and the milestones
//! already paid. The ledger keeps one per handle × partner × month as a store item, moved in the
//! same transaction as each line it counts (`ledger::tally`); a replay (a backtest) keeps them in
//! memory, one per partner and month ([`month_of`]), and walks the conversions in order:
//!
//! ```ignore
//! let tally = tallies.entry((partner, tally::month_of(received_ms))).or_default();
//! let facts = Facts { month: tally.standing(event_type, plan.currency), ..facts };
//! let earned = earn::earn(&plan, &facts, rate);
//! tally.add(event_type, plan.currency, earned.revenue_minor);
//! for bonus in earn::bonuses_due(&plan, tally, event_type, &campaign) {
//!     tally.mark_paid(&bonus.key); // and a `bonus` line of `bonus.minor`
//! }
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::domain::Currency;

/// Where a partner stands in the month for one event type, before a conversion.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Standing {
    /// Its conversions of the type accrued in the month.
    pub count: u64,
    /// Their value, in minor units of the plan's currency.
    pub revenue_minor: i128,
}

/// One event type's side of the month.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeTally {
    pub count: u64,
    /// Minor units per currency (plans of a partner's campaigns may pay in different ones).
    #[serde(default)]
    pub revenue: BTreeMap<String, i128>,
}

/// A partner's month: per event type, and the bonuses paid (by [`BonusDue::key`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthTally {
    #[serde(default)]
    pub types: BTreeMap<String, TypeTally>,
    #[serde(default)]
    pub bonuses: BTreeSet<String>,
}

/// The calendar month (UTC, `yyyy-mm`) of a time in unix ms: the tally it counts in.
pub fn month_of(ms: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!("{:04}-{:02}", at.year(), u8::from(at.month()))
}

impl MonthTally {
    /// Where the partner stands for `event_type` (revenue in `currency`), before the next
    /// conversion.
    pub fn standing(&self, event_type: &str, currency: Currency) -> Standing {
        self.types
            .get(event_type)
            .map_or_else(Standing::default, |t| Standing {
                count: t.count,
                revenue_minor: t.revenue.get(currency.as_str()).copied().unwrap_or(0),
            })
    }

    /// The month's conversions of every type.
    pub fn total_count(&self) -> u64 {
        self.types.values().map(|t| t.count).sum()
    }

    /// Counts one conversion of `event_type` whose value was `revenue_minor` of `currency`
    /// (`None`: no value, or none known in that currency).
    pub fn add(&mut self, event_type: &str, currency: Currency, revenue_minor: Option<i64>) {
        let t = self.types.entry(event_type.to_owned()).or_default();
        t.count = t.count.saturating_add(1);
        let r = t.revenue.entry(currency.as_str().to_owned()).or_insert(0);
        *r = r.saturating_add(i128::from(revenue_minor.unwrap_or(0)));
    }

    /// Takes a counted conversion back out (a reversal or rejection): later conversions no
    /// longer count it; earlier ones keep their rate.
    pub fn remove(&mut self, event_type: &str, currency: Currency, revenue_minor: Option<i64>) {
        if let Some(t) = self.types.get_mut(event_type) {
            t.count = t.count.saturating_sub(1);
            let r = t.revenue.entry(currency.as_str().to_owned()).or_insert(0);
            *r = r
                .saturating_sub(i128::from(revenue_minor.unwrap_or(0)))
                .max(0);
        }
    }

    pub fn is_paid(&self, key: &str) -> bool {
        self.bonuses.contains(key)
    }

    pub fn mark_paid(&mut self, key: &str) {
        self.bonuses.insert(key.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tally_counts_per_type_and_currency_and_takes_back() {
        let eur = Currency::parse("EUR").unwrap();
        let usd = Currency::parse("USD").unwrap();
        let mut t = MonthTally::default();
        t.add("purchase", eur, Some(1000));
        t.add("purchase", eur, None);
        t.add("purchase", usd, Some(500));
        t.add("signup", eur, None);
        assert_eq!(
            t.standing("purchase", eur),
            Standing {
                count: 3,
                revenue_minor: 1000
            }
        );
        assert_eq!(t.standing("purchase", usd).revenue_minor, 500);
        assert_eq!(t.total_count(), 4);
        t.remove("purchase", eur, Some(1000));
        assert_eq!(
            t.standing("purchase", eur),
            Standing {
                count: 2,
                revenue_minor: 0
            }
        );
        assert_eq!(month_of(1_767_225_600_000), "2026-01");
        assert_eq!(month_of(1_767_225_599_999), "2025-12");
    }
}
