//! A partner's traffic over its summary's window (issue 61): its clicks and conversions, and
//! its top links by clicks and by earnings, all read from counters, never the ledger's lines:
//!
//! - clicks and conversions: the analytics counters of the partner's campaigns, the same read as
//!   the funnel's (`GET …/analytics?funnel=true&partnerId=`), so both answer the same numbers;
//! - per link: the counters' `link` dimension (the funnel's clicks split by slug: they add up to
//!   the funnel's), and the ledger's running earnings per link (`ledger::balances::link_sums`),
//!   counted by the summary's rule (a line counts on its day, pending, approved or paid as it
//!   stands now; rejected and capped lines nowhere), so a link's earnings add up with the
//!   earnings chart's days. Lines that came through no link (bonuses, claims, manual lines)
//!   are in the chart and in no link;
//! - the sales' lines recorded before a line carried its link (the ledger's earnings per link
//!   start with them): summed from the summary's own lines of the window, already read, as
//!   `earnedBeforeLinks`, so the links and that sum add up to what the sales earned
//!   ([`before_links`]).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::analytics::days::DayRange;
use crate::analytics::report::{self, GroupBy, Scope};
use crate::domain::{Currency, Handle, PartnerId};
use crate::ledger::model::Commission;
use crate::platform::store::{Store, StoreError};

/// Links listed in each ranking.
pub const TOP_LINKS: usize = 5;

/// The partner's clicks and conversions over the window, and its top links.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Traffic {
    pub clicks: i64,
    /// Clicks by people (bots left out): what the conversion rate is of.
    pub qualified_clicks: i64,
    pub conversions: i64,
    /// conversions / qualifiedClicks (4 decimal places; `null` without a qualified click).
    pub conversion_rate: Option<f64>,
    pub top_links: TopLinks,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TopLinks {
    /// Most clicks first (ties: the slug's order).
    pub by_clicks: Vec<TopLink>,
    /// Most earned first (ties: the slug's order); only links that earned something.
    pub by_earnings: Vec<TopLink>,
    /// What the window's sales earned through lines recorded before lines carried their link
    /// (in no link's figures), by the same rule; absent when nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earned_before_links: Option<String>,
}

/// What the sales' lines in `lines` without a link earned in `currency` (pending, held,
/// approved or paid as they stand, as the earnings per link count them): conversion lines, and
/// the reversals that keep their sale, written before lines carried their link (a sale of a
/// campaign always carries one since: its click's, or the campaign's primary link). `None`
/// when there are none.
pub fn before_links(lines: &[Commission], currency: Currency) -> Option<String> {
    use crate::ledger::model::{Kind, Status};
    let mut minor: i128 = 0;
    let mut any = false;
    for c in lines {
        let sale = matches!(c.kind, Kind::Conversion | Kind::Adjustment | Kind::Clawback)
            && c.conversion_id.is_some();
        let counted = matches!(
            c.status,
            Status::Pending | Status::Held | Status::Approved | Status::Paid
        );
        if sale && counted && c.link.is_none() && c.currency == currency {
            minor += c.minor();
            any = true;
        }
    }
    any.then(|| currency.format(minor))
}

/// One link's figures over the window.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TopLink {
    pub slug: String,
    pub clicks: i64,
    pub conversions: i64,
    /// What its lines earned, in the summary's currency (pending, approved and paid).
    pub earned: String,
}

/// The UTC days the window covers (unix ms, inclusive), as the analytics counters are kept.
fn days(from_ms: i64, to_ms: i64) -> DayRange {
    let date = |ms: i64| {
        time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
            .date()
    };
    DayRange {
        from: date(from_ms),
        to: date(to_ms),
    }
}

/// Per link: clicks and conversions from the counters, and what it earned in `currency`.
fn rank(
    counted: &[report::GroupRow],
    earned: &BTreeMap<String, i128>,
    currency: Currency,
) -> TopLinks {
    let mut all: BTreeMap<&str, (i64, i64, i128)> = BTreeMap::new();
    for row in counted {
        let e = all.entry(row.key.as_str()).or_default();
        (e.0, e.1) = (row.metrics.clicks, row.metrics.conversions);
    }
    for (slug, minor) in earned {
        all.entry(slug.as_str()).or_default().2 = *minor;
    }
    let link = |(slug, (clicks, conversions, minor)): (&&str, &(i64, i64, i128))| TopLink {
        slug: (*slug).to_owned(),
        clicks: *clicks,
        conversions: *conversions,
        earned: currency.format(*minor),
    };
    let mut by_clicks: Vec<_> = all.iter().filter(|(_, v)| v.0 > 0).collect();
    by_clicks.sort_by_key(|(_, v)| std::cmp::Reverse(v.0));
    let mut by_earnings: Vec<_> = all.iter().filter(|(_, v)| v.2 != 0).collect();
    by_earnings.sort_by_key(|(_, v)| std::cmp::Reverse(v.2));
    TopLinks {
        by_clicks: by_clicks.into_iter().take(TOP_LINKS).map(link).collect(),
        by_earnings: by_earnings.into_iter().take(TOP_LINKS).map(link).collect(),
        earned_before_links: None,
    }
}

/// The partner's traffic over the window `from_ms..=to_ms` (the summary's, unix ms), its
/// earnings in `currency` (the summary's). Round
/// trips: the handle's campaigns (ONE listing), then at once: ONE query per campaign of the
/// partner for the funnel's totals and ONE for its `link` counters (plus the funnel's staleness
/// read per active campaign), and ONE query of its earnings per link.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn traffic(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    (from_ms, to_ms): (i64, i64),
    currency: Currency,
) -> Result<Traffic, StoreError> {
    let campaigns: Vec<_> = crate::campaigns::list_all(store, handle)
        .await?
        .into_iter()
        .filter(|c| c.partner_id.as_ref() == Some(partner))
        .collect();
    let scope = Scope::Campaigns(campaigns);
    let range = days(from_ms, to_ms);
    let now = to_ms.div_euclid(1000);
    let (from, to) = (range.from_day(), range.to_day());
    let (funnel, per_link, sums) = tokio::try_join!(
        report::funnel(store, handle, &scope, &range, now),
        report::group_by(store, handle, &scope, GroupBy::Link, &range),
        crate::ledger::balances::link_sums(store, handle, partner, &from, &to),
    )?;
    let earned: BTreeMap<String, i128> = sums
        .into_iter()
        .filter(|((_, c), _)| *c == currency)
        .map(|((slug, _), s)| {
            let minor = s.pending + s.held + s.approved + s.open_negative + s.paid;
            (slug, minor)
        })
        .collect();
    let t = &funnel.totals;
    Ok(Traffic {
        clicks: t.clicks,
        qualified_clicks: t.qualified_clicks,
        conversions: t.conversions,
        conversion_rate: t.conversion_rate,
        top_links: rank(&per_link.rows, &earned, currency),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &str, clicks: i64, conversions: i64) -> report::GroupRow {
        let c = crate::analytics::Counters {
            clicks,
            conversions,
            ..Default::default()
        };
        report::GroupRow {
            key: key.to_owned(),
            metrics: report::Metrics::from(&c),
        }
    }

    #[test]
    fn links_rank_by_clicks_and_by_earnings_apart() {
        let eur = Currency::parse("EUR").unwrap();
        let counted = [
            row("kim", 40, 2),
            row("kim-spring", 90, 1),
            row("kim-old", 0, 0),
        ];
        let earned = BTreeMap::from([
            ("kim".to_owned(), 1200),
            ("kim-spring".to_owned(), 300),
            ("kim-gone".to_owned(), 50),
        ]);
        let top = rank(&counted, &earned, eur);
        let slugs = |v: &[TopLink]| v.iter().map(|l| l.slug.clone()).collect::<Vec<_>>();
        assert_eq!(slugs(&top.by_clicks), ["kim-spring", "kim"]);
        assert_eq!(slugs(&top.by_earnings), ["kim", "kim-spring", "kim-gone"]);
        assert_eq!(top.by_earnings[0].earned, "12.00");
        assert_eq!(
            (
                top.by_earnings[2].clicks,
                top.by_earnings[2].earned.as_str()
            ),
            (0, "0.50"),
            "a link with earnings and no click in the window still ranks by what it earned"
        );
    }

    #[test]
    fn the_window_covers_its_utc_days() {
        let r = days(1_796_256_000_000 - 1, 1_796_256_000_000);
        assert_eq!(
            (r.from_day(), r.to_day()),
            ("2026-12-02".into(), "2026-12-03".into())
        );
    }
}
