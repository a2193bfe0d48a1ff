//! Partner risk (issue 46): "investigate before paying out", judged per partner. A partner's
//! score and [`signals`] come from what it brought recently: its conversion lines of the last
//! [`WINDOW_DAYS`] days (at most [`MAX_LINES`], newest first, through the ledger's partner index)
//! and its campaigns' daily qualified clicks. A read costs what it answers, never the handle's
//! ledger. The last assessment is kept as a snapshot ([`snapshot`]) that the accrual reads to
//! hold a partner's new lines above its plan's `holdAboveRisk`.

pub mod signals;
pub mod snapshot;

use crate::domain::time::Timestamp;
use serde::Serialize;

use crate::analytics::days::DayRange;
use crate::analytics::report::{GroupBy, Scope};
use crate::domain::{Handle, PartnerId};
use crate::ledger::Filter;
use crate::ledger::model::{Commission, Kind};
use crate::platform::store::Store;
use crate::platform::store::StoreError;
pub use signals::{Signal, SignalCode};
pub use snapshot::Holds;

/// The conversion lines an assessment looks back on.
pub const WINDOW_DAYS: i64 = 90;
pub const MAX_LINES: usize = 500;
/// The days of clicks read for spikes: the last [`signals::SPIKE_DAYS`] and the baseline.
pub const CLICK_DAYS: i64 = 35;

#[derive(Debug, thiserror::Error)]
pub enum RiskError {
    #[error("Partner {0} was not found.")]
    UnknownPartner(PartnerId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A partner's risk as answered by `GET …/partners/{partnerId}/risk`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartnerRisk {
    pub partner_id: PartnerId,
    /// 0 (nothing fired) to 100: the fired signals' weights.
    pub score: u8,
    pub signals: Vec<Signal>,
    /// The conversion lines looked at (at most [`MAX_LINES`]) and since when.
    pub conversions_considered: usize,
    pub since: String,
    pub assessed_at: Timestamp,
}

impl PartnerRisk {
    /// The signals that fired, strongest first.
    pub fn fired(&self) -> Vec<SignalCode> {
        let mut fired: Vec<&Signal> = self.signals.iter().filter(|s| s.fired).collect();
        fired.sort_by(|a, b| b.weight.cmp(&a.weight).then(a.code.cmp(&b.code)));
        fired.into_iter().map(|s| s.code).collect()
    }
}

/// Assesses `partner` now and keeps the result as its snapshot. Round trips: the partner (ONE
/// read); its recent lines (ONE index query, then ONE read per line, concurrently); the
/// handle's campaigns (ONE query per 1,000) and ONE day query per campaign of the partner; the
/// snapshot (ONE write).
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn assess(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
) -> Result<PartnerRisk, RiskError> {
    if crate::partners::get(store, handle, partner)
        .await?
        .is_none()
    {
        return Err(RiskError::UnknownPartner(partner.clone()));
    }
    let now_ms = crate::platform::time::now_millis();
    let since_ms = now_ms - WINDOW_DAYS * 86_400_000;
    let lines = recent_lines(store, handle, partner, since_ms).await?;
    let days = daily_clicks(store, handle, partner).await?;
    let facts: Vec<signals::LineFacts> = lines.iter().map(line_facts).collect();
    let signals = signals::all(&facts, &days);
    let risk = PartnerRisk {
        partner_id: partner.clone(),
        score: signals::score(&signals),
        signals,
        conversions_considered: lines.len(),
        since: crate::domain::time::unix_millis_to_rfc3339(since_ms),
        assessed_at: Timestamp::from_millis(now_ms),
    };
    snapshot::keep(store, handle, &risk).await?;
    Ok(risk)
}

/// The partner's newest conversion lines since `since_ms`.
async fn recent_lines(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    since_ms: i64,
) -> Result<Vec<Commission>, StoreError> {
    let filter = Filter {
        partner_id: Some(partner.clone()),
        kind: Some(Kind::Conversion),
        from_ms: Some(since_ms),
        ..Filter::default()
    };
    let (lines, _) = crate::ledger::list(store, handle, &filter, MAX_LINES, None).await?;
    Ok(lines)
}

fn line_facts(c: &Commission) -> signals::LineFacts {
    let click = c
        .click_id
        .as_deref()
        .and_then(|id| crate::domain::ClickId::parse(id).ok());
    signals::LineFacts {
        conversion_id: c.conversion_id.clone().unwrap_or_default(),
        click_id: c.click_id.clone().unwrap_or_default(),
        // A line without a click is never "fast" (its click reads as the epoch).
        click_ms: click
            .as_ref()
            .map_or(0, crate::domain::ClickId::unix_millis),
        conversion_ms: c.commission_id.unix_millis(),
        address_hash: c.address_hash.clone(),
        customer_id: c.customer_id.as_ref().map(ToString::to_string),
        self_referral: c
            .reasons
            .iter()
            .any(|r| r == crate::domain::customer::SELF_REFERRAL),
        reversed: c.adjusted_by.is_some(),
    }
}

/// The partner's qualified clicks per day over the last [`CLICK_DAYS`] days, oldest first,
/// every day present (0 for a day without clicks).
async fn daily_clicks(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
) -> Result<Vec<(String, i64)>, StoreError> {
    let campaigns: Vec<_> = crate::campaigns::list_all(store, handle)
        .await?
        .into_iter()
        .filter(|c| c.partner_id.as_ref() == Some(partner))
        .collect();
    let today = crate::platform::time::now().date();
    let from = today - time::Duration::days(CLICK_DAYS - 1);
    let range = DayRange { from, to: today };
    let mut per_day = std::collections::BTreeMap::new();
    if !campaigns.is_empty() {
        let scope = Scope::Campaigns(campaigns);
        let report =
            crate::analytics::report::group_by(store, handle, &scope, GroupBy::Day, &range);
        for row in report.await?.rows {
            per_day.insert(row.key, row.metrics.qualified_clicks);
        }
    }
    let days = (0..CLICK_DAYS).map(|n| {
        let day = crate::analytics::days::format_day(from + time::Duration::days(n));
        let clicks = per_day.get(&day).copied().unwrap_or(0);
        (day, clicks)
    });
    Ok(days.collect())
}
