//! Reading the counters back: the per-campaign funnel (with its confidence score) and the
//! group-by breakdowns, as the JSON the API returns (the CSV export renders the same structs).

use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;

use serde::Serialize;

use super::days::{self, DayRange};
use super::{Counters, Dimension, NO_CAMPAIGN, format_money};
use crate::campaigns::{Campaign, CampaignStatus};
use crate::domain::confidence::{self, ConfidenceInput, Reason, STALE_AFTER_SECS};
use crate::domain::{CampaignId, Handle};
use crate::platform::store::{Query, Store, StoreError, for_each_item, keys};

/// Store queries a report runs at once (one per campaign), in waves.
const PARALLEL_QUERIES: usize = 8;

/// What a breakdown groups by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupBy {
    Country,
    Segment,
    Referrer,
    Device,
    Source,
    /// The link's slug.
    Link,
    /// The UTC day (`yyyy-mm-dd`).
    Day,
    /// Why clicks were bots' (`human` for the rest): split from the totals' per-reason counters.
    BotReason,
    /// A partner sub-id, `sub1` … `sub5` (only the clicks and conversions that carried it).
    Sub(u8),
    /// An A/B test's variant, `{slug}/{index}@{periodStartMillis}` (only the humans a link's
    /// split sent, and their conversions).
    Variant,
    /// The visitor's OS, browser, region or city (`analytics::visitors`): clicks only.
    Os,
    Browser,
    Region,
    City,
}

impl GroupBy {
    pub const ALL: [GroupBy; 18] = [
        GroupBy::Country,
        GroupBy::Segment,
        GroupBy::Referrer,
        GroupBy::Device,
        GroupBy::Source,
        GroupBy::Link,
        GroupBy::Day,
        GroupBy::BotReason,
        GroupBy::Sub(1),
        GroupBy::Sub(2),
        GroupBy::Sub(3),
        GroupBy::Sub(4),
        GroupBy::Sub(5),
        GroupBy::Variant,
        GroupBy::Os,
        GroupBy::Browser,
        GroupBy::Region,
        GroupBy::City,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Day => "day",
            GroupBy::BotReason => "botReason",
            other => other.dimension().as_str(),
        }
    }

    pub fn parse(raw: &str) -> Option<GroupBy> {
        GroupBy::ALL.into_iter().find(|g| g.as_str() == raw)
    }

    fn dimension(self) -> Dimension {
        match self {
            GroupBy::Country => Dimension::Country,
            GroupBy::Segment => Dimension::Segment,
            GroupBy::Referrer => Dimension::Referrer,
            GroupBy::Device => Dimension::Device,
            GroupBy::Source => Dimension::Source,
            GroupBy::Link => Dimension::Link,
            GroupBy::Day | GroupBy::BotReason => Dimension::Total,
            GroupBy::Sub(n) => Dimension::Sub(n),
            GroupBy::Variant => Dimension::Variant,
            GroupBy::Os => Dimension::Os,
            GroupBy::Browser => Dimension::Browser,
            GroupBy::Region => Dimension::Region,
            GroupBy::City => Dimension::City,
        }
    }
}

/// One counter item: its day, its dimension value and its counters.
pub(super) struct Cell {
    pub(super) day: String,
    pub(super) value: String,
    pub(super) counters: Counters,
}

/// Every counter item of one campaign's dimension within the range (one paginated query).
pub(super) async fn read_cells(
    store: &dyn Store,
    handle: &Handle,
    campaign: &str,
    dimension: Dimension,
    range: &DayRange,
) -> Result<Vec<Cell>, StoreError> {
    let pk = keys::analytics_pk(handle, campaign, dimension.as_str());
    let (lo, hi) = keys::day_range(&range.from_day(), &range.to_day());
    let mut cells: Vec<Cell> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    for_each_item(store, Query::between(pk, lo, hi), |item| {
        if let Some((day, value)) = keys::analytics_sk_parts(&item.sk) {
            // A cell may have a plain item and one part per stream shard: add them up.
            let counters = Counters::of_item(item);
            let key = (day.to_owned(), value.to_owned());
            match index.get(&key) {
                Some(&i) => cells[i].counters.add(&counters),
                None => {
                    index.insert(key, cells.len());
                    cells.push(Cell {
                        day: day.to_owned(),
                        value: value.to_owned(),
                        counters,
                    });
                }
            }
        }
        Ok::<_, StoreError>(ControlFlow::Continue(()))
    })
    .await?;
    Ok(cells)
}

/// When an active campaign last saw a click, as the end of that click's UTC day (the latest
/// moment it can have happened, so the campaign is never called stale early); the campaign's
/// creation when no click falls in the last 8 days (any older click makes it stale anyway).
async fn last_activity(
    store: &dyn Store,
    handle: &Handle,
    campaign: &Campaign,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let window = DayRange {
        from: time_date(now - STALE_AFTER_SECS - 86_400),
        to: time_date(now),
    };
    let cells = read_cells(
        store,
        handle,
        campaign.campaign_id.as_str(),
        Dimension::Total,
        &window,
    )
    .await?;
    let last_click_day = cells
        .iter()
        .filter(|c| c.counters.clicks > 0)
        .map(|c| c.day.as_str())
        .max();
    Ok(match last_click_day {
        Some(day) => days::end_of_day_unix(day),
        None => Some(campaign.created_at.unix()),
    })
}

fn time_date(unix: i64) -> time::Date {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .date()
}

/// Counters as the API shows them: revenue as exact decimal strings per currency, and the
/// ratios (4 decimal places; `null` when the denominator is zero).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    pub clicks: i64,
    pub qualified_clicks: i64,
    pub bot_clicks: i64,
    pub conversions: i64,
    /// Conversions the merchant's server submitted (authenticated route).
    pub verified_conversions: i64,
    /// Conversions with at least one fraud signal.
    pub flagged_conversions: i64,
    /// Net of reversals.
    pub revenue: BTreeMap<String, String>,
    /// The part of `revenue` from verified conversions.
    pub verified_revenue: BTreeMap<String, String>,
    /// The part of `revenue` from flagged conversions.
    pub flagged_revenue: BTreeMap<String, String>,
    /// Revenue reversed (refunds, chargebacks), already taken out of `revenue`.
    pub reversed_revenue: BTreeMap<String, String>,
    /// Clicks on links past their `expiresAt` (in `clicks`, never in `qualifiedClicks`).
    pub expired_clicks: i64,
    /// The console's "try the redirect" clicks: in no other count (not `clicks`, not
    /// `qualifiedClicks`), and their conversions are test ones.
    pub test_clicks: i64,
    /// conversions / qualifiedClicks.
    pub conversion_rate: Option<f64>,
    /// botClicks / clicks.
    pub bot_ratio: Option<f64>,
    /// Conversions of type `lead` (issue 44).
    pub leads: i64,
    /// Leads that were their customer's first: customers bound through a lead.
    pub customers: i64,
    /// The part of `revenue` from a bound customer's later sales (renewals, repeat orders).
    pub recurring_revenue: BTreeMap<String, String>,
}

fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0)
}

fn money(map: &BTreeMap<String, super::Micros>) -> BTreeMap<String, String> {
    map.iter()
        .map(|(ccy, micros)| (ccy.clone(), format_money(*micros, ccy)))
        .collect()
}

impl From<&Counters> for Metrics {
    fn from(c: &Counters) -> Self {
        Metrics {
            clicks: c.clicks,
            qualified_clicks: c.qualified,
            bot_clicks: c.bots,
            conversions: c.conversions,
            verified_conversions: c.verified,
            flagged_conversions: c.flagged,
            revenue: money(&c.revenue),
            verified_revenue: money(&c.verified_revenue),
            flagged_revenue: money(&c.flagged_revenue),
            reversed_revenue: money(&c.reversed_revenue),
            expired_clicks: c.expired,
            test_clicks: c.test_clicks,
            conversion_rate: ratio(c.conversions, c.qualified),
            bot_ratio: ratio(c.bots, c.clicks),
            leads: c.leads,
            customers: c.customers,
            recurring_revenue: money(&c.recurring_revenue),
        }
    }
}

/// One campaign's funnel.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FunnelRow {
    /// `null` for clicks on links without a campaign.
    pub campaign_id: Option<CampaignId>,
    /// The campaign's partner (`null`: none, or links without a campaign).
    pub partner_id: Option<String>,
    pub status: Option<CampaignStatus>,
    #[serde(flatten)]
    pub metrics: Metrics,
    pub confidence: u8,
    pub confidence_reasons: Vec<Reason>,
    /// The campaign's commissions from the ledger over the same days (filled by the caller
    /// that reads the ledger; empty maps for a campaign without commissions).
    #[serde(flatten)]
    pub commissions: CommissionAmounts,
}

/// Commission amounts per currency (exact decimal strings): what is not payable yet (pending
/// or held), approved (payable, or in a payout not yet paid), and paid.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommissionAmounts {
    pub commissions_pending_amount: BTreeMap<String, String>,
    pub commissions_approved_amount: BTreeMap<String, String>,
    pub commissions_paid_amount: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FunnelReport {
    pub handle: String,
    pub from: String,
    pub to: String,
    pub campaigns: Vec<FunnelRow>,
    pub totals: Metrics,
    /// How far behind the counts may be (filled by the route; `None` when unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub freshness: Option<super::freshness::Freshness>,
}

/// One group of a breakdown.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupRow {
    pub key: String,
    #[serde(flatten)]
    pub metrics: Metrics,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupReport {
    pub handle: String,
    pub group_by: &'static str,
    /// The campaign filter, when one was given.
    pub campaign_id: Option<CampaignId>,
    pub from: String,
    pub to: String,
    pub rows: Vec<GroupRow>,
    pub totals: Metrics,
}

/// Which campaigns a report covers.
pub enum Scope {
    /// One campaign.
    One(Campaign),
    /// Every campaign of the handle, plus links without a campaign.
    All(Vec<Campaign>),
    /// These campaigns only (a partner's): no row for links without a campaign.
    Campaigns(Vec<Campaign>),
}

/// One campaign's row, and its exact counters (totals are summed from these, not from the
/// rounded view).
async fn funnel_row(
    store: &dyn Store,
    handle: &Handle,
    campaign: Option<&Campaign>,
    range: &DayRange,
    now: i64,
) -> Result<(FunnelRow, Counters), StoreError> {
    let key = campaign.map_or(NO_CAMPAIGN, |c| c.campaign_id.as_str());
    let mut counters = Counters::default();
    for cell in read_cells(store, handle, key, Dimension::Total, range).await? {
        counters.add(&cell.counters);
    }
    let active = campaign.is_some_and(|c| c.status == CampaignStatus::Active);
    let last_activity = match campaign {
        Some(c) if active => last_activity(store, handle, c, now).await?,
        _ => None,
    };
    let non_negative = |n: i64| u64::try_from(n).unwrap_or(0);
    let score = confidence::score(&ConfidenceInput {
        clicks: non_negative(counters.clicks),
        bot_clicks: non_negative(counters.bots),
        flagged_conversions: non_negative(counters.flagged),
        unverified_conversions: non_negative(counters.conversions - counters.verified),
        top_bot_reason: counters
            .dominant_bot_reason()
            .map(|(r, n)| (r, non_negative(n))),
        qualified_clicks: non_negative(counters.qualified),
        conversions: non_negative(counters.conversions),
        active,
        last_activity,
        now,
    });
    let row = FunnelRow {
        campaign_id: campaign.map(|c| c.campaign_id.clone()),
        partner_id: campaign.and_then(|c| c.partner_id.as_ref().map(|p| p.as_str().to_owned())),
        status: campaign.map(|c| c.status),
        metrics: Metrics::from(&counters),
        confidence: score.score,
        confidence_reasons: score.reasons,
        commissions: CommissionAmounts::default(),
    };
    Ok((row, counters))
}

/// The funnel of every campaign in scope over `range`; `now` (unix seconds) decides staleness.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn funnel(
    store: &dyn Store,
    handle: &Handle,
    scope: &Scope,
    range: &DayRange,
    now: i64,
) -> Result<FunnelReport, StoreError> {
    let targets: Vec<Option<&Campaign>> = match scope {
        Scope::One(c) => vec![Some(c)],
        Scope::All(all) => all.iter().map(Some).chain([None]).collect(),
        Scope::Campaigns(some) => some.iter().map(Some).collect(),
    };
    let mut rows: Vec<(FunnelRow, Counters)> = Vec::with_capacity(targets.len());
    for group in targets.chunks(PARALLEL_QUERIES) {
        let reads = group
            .iter()
            .map(|c| funnel_row(store, handle, *c, range, now));
        rows.extend(futures::future::try_join_all(reads).await?);
    }
    let mut totals = Counters::default();
    let mut campaigns = Vec::with_capacity(rows.len());
    for (row, counters) in rows {
        // Links without a campaign are listed only when they saw any traffic.
        if row.campaign_id.is_none() && counters.is_empty() {
            continue;
        }
        totals.add(&counters);
        campaigns.push(row);
    }
    Ok(FunnelReport {
        handle: handle.as_str().to_owned(),
        from: range.from_day(),
        to: range.to_day(),
        campaigns,
        totals: Metrics::from(&totals),
        freshness: None,
    })
}

/// A breakdown of every campaign in scope over `range`: one row per key, summed over days (and
/// campaigns). Rows are ordered by day for `day`, else by clicks (most first), then key.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn group_by(
    store: &dyn Store,
    handle: &Handle,
    scope: &Scope,
    group: GroupBy,
    range: &DayRange,
) -> Result<GroupReport, StoreError> {
    let keys: Vec<&str> = match scope {
        Scope::One(c) => vec![c.campaign_id.as_str()],
        Scope::All(all) => all
            .iter()
            .map(|c| c.campaign_id.as_str())
            .chain([NO_CAMPAIGN])
            .collect(),
        Scope::Campaigns(some) => some.iter().map(|c| c.campaign_id.as_str()).collect(),
    };
    let dimension = group.dimension();
    let mut per_campaign: Vec<Vec<Cell>> = Vec::with_capacity(keys.len());
    for group in keys.chunks(PARALLEL_QUERIES) {
        let reads = group
            .iter()
            .map(|key| read_cells(store, handle, key, dimension, range));
        per_campaign.extend(futures::future::try_join_all(reads).await?);
    }
    let mut groups: BTreeMap<String, Counters> = BTreeMap::new();
    let mut totals = Counters::default();
    for cell in per_campaign.into_iter().flatten() {
        totals.add(&cell.counters);
        let parts = match group {
            GroupBy::Day => vec![(cell.day, cell.counters)],
            GroupBy::BotReason => cell.counters.by_bot_reason(),
            _ => vec![(cell.value, cell.counters)],
        };
        for (key, counters) in parts {
            groups.entry(key).or_default().add(&counters);
        }
    }
    let mut rows: Vec<(String, Counters)> = groups.into_iter().collect();
    if group != GroupBy::Day {
        // Stable sort over the key order: ties stay alphabetical.
        rows.sort_by_key(|(_, c)| std::cmp::Reverse(c.clicks));
    }
    Ok(GroupReport {
        handle: handle.as_str().to_owned(),
        group_by: group.as_str(),
        campaign_id: match scope {
            Scope::One(c) => Some(c.campaign_id.clone()),
            Scope::All(_) | Scope::Campaigns(_) => None,
        },
        from: range.from_day(),
        to: range.to_day(),
        rows: rows
            .into_iter()
            .map(|(key, c)| GroupRow {
                key,
                metrics: Metrics::from(&c),
            })
            .collect(),
        totals: Metrics::from(&totals),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_by_names_round_trip() {
        for g in GroupBy::ALL {
            assert_eq!(GroupBy::parse(g.as_str()), Some(g));
        }
        assert_eq!(GroupBy::parse("link"), Some(GroupBy::Link));
        assert_eq!(GroupBy::parse("total"), None);
        assert_eq!(GroupBy::parse("Country"), None);
    }

    #[test]
    fn metrics_show_exact_revenue_and_null_ratios_without_a_denominator() {
        let mut c = Counters {
            clicks: 3,
            qualified: 2,
            bots: 1,
            conversions: 1,
            ..Counters::default()
        };
        c.revenue.insert("USD".into(), 24_990_000);
        let m = Metrics::from(&c);
        assert_eq!(m.revenue["USD"], "24.99");
        c.revenue.insert("USD".into(), 24_000_000);
        assert_eq!(Metrics::from(&c).revenue["USD"], "24.00");
        assert_eq!(m.conversion_rate, Some(0.5));
        assert_eq!(m.bot_ratio, Some(0.3333));
        let empty = Metrics::from(&Counters::default());
        assert_eq!((empty.conversion_rate, empty.bot_ratio), (None, None));
    }
}
