//! A code's sales by UTC day, as its kept report holds them, so the ranking ages with the
//! calendar and not only at the code's next sale (issue 63).
//!
//! Why buckets and not a daily worker that re-rates every kept report: the events worker
//! already reads the code's sales when it rates it (`report::alert`), and counts them by day
//! then for free; the ranking, which reads the kept reports anyway, drops the days past the
//! window and re-scores the rest at read (pure arithmetic over at most 1,000 sales). A daily
//! worker would read every rated code's sales every day, whether anyone looks or not.
//!
//! The window is whole UTC days, the same for the one-code report (`uses::recent`) and the
//! ranking: today and the [`WINDOW_DAYS`] days before it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::score::{self, Scored, Use};

const DAY_MS: i64 = 86_400_000;
/// A code's report counts its sales of today and this many whole UTC days before it.
pub const WINDOW_DAYS: i64 = 90;

/// One UTC day of a code's sales.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Day {
    /// Days since the Unix epoch (UTC).
    pub day: i64,
    /// Sales with a click of the code's partner.
    #[serde(default)]
    pub with_click: u64,
    /// Sales without one, by their landing referrer's host (`""`: direct or unknown).
    #[serde(default)]
    pub without: BTreeMap<String, u64>,
}

/// The first moment (ms) inside the window on the day of `now_ms`.
pub fn window_start_ms(now_ms: i64) -> i64 {
    (now_ms.div_euclid(DAY_MS) - WINDOW_DAYS) * DAY_MS
}

/// `uses` (each with its sale's time, ms) counted by day, oldest first.
pub fn of(uses: &[(i64, Use)]) -> Vec<Day> {
    let mut days: BTreeMap<i64, Day> = BTreeMap::new();
    for (ms, u) in uses {
        let day = ms.div_euclid(DAY_MS);
        let slot = days.entry(day).or_insert_with(|| Day {
            day,
            ..Day::default()
        });
        if u.with_click {
            slot.with_click += 1;
        } else {
            let host = u.referrer.clone().unwrap_or_default();
            *slot.without.entry(host).or_default() += 1;
        }
    }
    days.into_values().collect()
}

/// The score of the sales in `days` still inside the window on the day of `now_ms`: what the
/// one-code report answers that day.
pub fn scored_at(days: &[Day], now_ms: i64) -> Scored {
    let first = window_start_ms(now_ms).div_euclid(DAY_MS);
    let mut uses = Vec::new();
    for d in days.iter().filter(|d| d.day >= first) {
        uses.extend((0..d.with_click).map(|_| Use {
            with_click: true,
            referrer: None,
        }));
        for (host, n) in &d.without {
            let referrer = Some(host.clone()).filter(|h| !h.is_empty());
            uses.extend((0..*n).map(|_| Use {
                with_click: false,
                referrer: referrer.clone(),
            }));
        }
    }
    score::score(&uses)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sold(day: i64, with_click: bool, from: Option<&str>) -> (i64, Use) {
        let u = Use {
            with_click,
            referrer: from.map(str::to_owned),
        };
        (day * DAY_MS + 3_600_000, u)
    }

    #[test]
    fn the_days_score_as_the_sales_do_until_they_leave_the_window() {
        let site = Some("retailmenot.com");
        let mut uses: Vec<(i64, Use)> = (0..6).map(|_| sold(100, false, site)).collect();
        uses.extend((0..6).map(|_| sold(150, true, None)));
        uses.push(sold(150, false, None));
        let days = of(&uses);
        assert_eq!(days.len(), 2);
        let plain: Vec<Use> = uses.iter().map(|(_, u)| u.clone()).collect();
        // On the day of the last sale: the same score as the sales themselves.
        assert_eq!(scored_at(&days, 150 * DAY_MS), score::score(&plain));
        // Day 100 is the window's first on day 190, and out of it on day 191.
        assert_eq!(scored_at(&days, 190 * DAY_MS + 5).conversions, 13);
        let aged = scored_at(&days, 191 * DAY_MS);
        assert_eq!((aged.conversions, aged.without_click), (7, 1));
        assert_eq!(aged.sources[0].referrer_domain, "direct");
        assert_eq!(scored_at(&days, 241 * DAY_MS).conversions, 0);
    }
}
