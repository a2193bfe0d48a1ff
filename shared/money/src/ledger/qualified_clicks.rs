//! Qualified-click commissions (CPC): accrued once per campaign and UTC day, after the day closes
//! and a grace period for late clicks. A campaign whose plan has a `qualifiedClick` rule is listed
//! in one registry partition (`CPC`); the scheduled sweep reads each listed campaign's qualified
//! clicks of every closed day from the analytics counters and writes a `click_day` line whose id
//! derives from the campaign and the day (put-if-absent: a second sweep finds it there). Three
//! days later the day is read again, and clicks that arrived late become ONE adjustment line
//! (its id derived too).

use crate::analytics::days::{DayRange, day_of_unix};
use crate::analytics::report::{self, Scope};
use crate::domain::time::Timestamp;
use crate::domain::{CampaignId, CommissionId, Handle};
use crate::kernel::io::Io;
use crate::ledger::model::{Commission, Kind, Status};
use crate::ledger::{emit, view};
use crate::platform::store::Store;
use crate::platform::store::StoreError;
use crate::{ledger::due, partners, plans};

/// After a UTC day ends, how long its late clicks are waited for before it is accrued.
pub const GRACE_MS: i64 = 3_600_000;
/// When a day is read again for late clicks (after its end).
pub const LATE_CHECK_MS: i64 = 3 * 86_400_000;
/// How many closed days a sweep looks back (a longer outage is caught up a week at a time).
const LOOKBACK_DAYS: i64 = 7;

/// The sweep: every listed campaign's closed days accrued, and late clicks adjusted. Returns
/// how many lines it wrote.
#[tracing::instrument(skip_all)]
pub async fn sweep(io: Io<'_>, now_ms: i64) -> Result<usize, StoreError> {
    let mut written = 0;
    for (handle, campaign) in plans::registered(io.store.as_ref()).await? {
        written += accrue_campaign(io, &handle, &campaign, now_ms).await?;
    }
    Ok(written)
}

fn day_end_ms(day_start_ms: i64) -> i64 {
    day_start_ms + 86_400_000 - 1
}

async fn accrue_campaign(
    io: Io<'_>,
    handle: &Handle,
    campaign: &CampaignId,
    now_ms: i64,
) -> Result<usize, StoreError> {
    let today_start = now_ms - now_ms.rem_euclid(86_400_000);
    let mut written = 0;
    for back in 1..=LOOKBACK_DAYS {
        let start = today_start - back * 86_400_000;
        let end = day_end_ms(start);
        if end + GRACE_MS > now_ms {
            continue;
        }
        written += usize::from(accrue_day(io, handle, campaign, start, None).await?);
        if end + LATE_CHECK_MS <= now_ms {
            written += usize::from(accrue_day(io, handle, campaign, start, Some(now_ms)).await?);
        }
    }
    Ok(written)
}

/// The day's qualified clicks. Round trips: the campaign, the day's counter items.
async fn qualified_clicks(
    store: &dyn Store,
    handle: &Handle,
    campaign: &CampaignId,
    day: &str,
) -> Result<i64, StoreError> {
    let Some(c) = crate::campaigns::get(store, handle, campaign).await? else {
        return Ok(0);
    };
    let today = crate::platform::time::now().date();
    let range = DayRange::parse(Some(day), Some(day), today)
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    let funnel = report::funnel(
        store,
        handle,
        &Scope::One(c),
        &range,
        crate::platform::store::now_unix(),
    )
    .await?;
    Ok(funnel.totals.qualified_clicks)
}

/// Writes the day's line (`late: None`) or its late-click adjustment; true when written now.
async fn accrue_day(
    io: Io<'_>,
    handle: &Handle,
    campaign: &CampaignId,
    start_ms: i64,
    late: Option<i64>,
) -> Result<bool, StoreError> {
    let day = day_of_unix(start_ms / 1000);
    let end = day_end_ms(start_ms);
    let base_id = CommissionId::derived(end, &format!("click_day:{handle}:{campaign}:{day}"));
    let id = match late {
        None => base_id.clone(),
        Some(_) => CommissionId::derived(end, &format!("click_day_late:{handle}:{campaign}:{day}")),
    };
    if crate::ledger::get(io.store.as_ref(), handle, &id)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let Some(plan) = plans::in_force_at(io.store.as_ref(), handle, campaign, end).await? else {
        return Ok(false);
    };
    let Some(rule) = plan.click_rule() else {
        return Ok(false);
    };
    let Some(campaign_rec) = crate::campaigns::get(io.store.as_ref(), handle, campaign).await?
    else {
        return Ok(false);
    };
    let Some(partner_id) = campaign_rec.partner_id.clone() else {
        return Ok(false);
    };
    let clicks = qualified_clicks(io.store.as_ref(), handle, campaign, &day).await?;
    let counted = match late {
        None => clicks,
        // No line for the day yet (it had no clicks when it closed): the base line's turn.
        Some(_) => match crate::ledger::get(io.store.as_ref(), handle, &base_id).await? {
            Some(base) => clicks - base.click_count.unwrap_or(0),
            None => return Box::pin(accrue_day(io, handle, campaign, start_ms, None)).await,
        },
    };
    // A day without (new) qualified clicks owes nothing and writes no line.
    if counted <= 0 {
        return Ok(false);
    }
    let flat = rule.flat.unwrap_or_default();
    let exact = flat * rust_decimal::Decimal::from(counted);
    let minor = plan.currency.round_to_minor(exact).unwrap_or(0);
    let suspended = partners::get(io.store.as_ref(), handle, &partner_id)
        .await?
        .is_some_and(|p| p.status == partners::PartnerStatus::Suspended);
    let kind = [Kind::ClickDay, Kind::Adjustment][usize::from(late.is_some())];
    let status = [Status::Pending, Status::Held][usize::from(suspended)];
    let mut line = Commission::blank(id, kind, partner_id, Some(minor), plan.currency, status);
    line.adjusts_commission_id = late.map(|_| base_id);
    line.click_day = Some(day);
    line.campaign_id = Some(campaign.clone());
    line.reasons = late
        .map(|_| vec!["late_clicks".to_owned()])
        .unwrap_or_default();
    line.plan_version = Some(plan.version);
    line.available_at = Timestamp::from_millis(end + 1);
    line.click_count = Some(counted);
    write_line(io, handle, &line).await
}

/// Writes a new line once, with its due entry and `commission.created`. True when written now.
async fn write_line(io: Io<'_>, handle: &Handle, line: &Commission) -> Result<bool, StoreError> {
    let mut ops = line.create(handle)?;
    ops.extend(due::entry(handle, line));
    let created = view::event(view::CommissionEvent::Created, line);
    match emit::commit(io, handle, ops, vec![created]).await {
        Ok(()) => Ok(true),
        Err(StoreError::TxConflict { index: 0, .. }) => Ok(false),
        Err(e) => Err(e),
    }
}
