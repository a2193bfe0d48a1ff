//! A draft plan replayed on real history (issue 47): the campaign's conversions of a period go
//! through the draft with the ledger's own arithmetic ([`earn::earn`], as the accrual computes
//! a line), and are set beside what the ledger accrued for them, per partner and currency, with
//! the largest per-conversion differences. Nothing is written.
//!
//! What it reads, and only that: the campaign's conversions of the period (its conversion
//! index, one key range, and each conversion's record; a campaign created before the index
//! existed reads the handle's day partitions instead, one query per day: see
//! [`crate::conversions::record`]) and the handle's ledger lines of the period
//! (one key range of the ledger: a conversion's line has the conversion's time-ordered id),
//! both a page at a time; a rate query for a percentage of a value in another currency.
//! Caps are not replayed: a line a cap cut (`capped`) is left out of both sides and counted in
//! `skipped`.

use crate::domain::time::Timestamp;
use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;

use serde::Serialize;

use crate::campaigns::Campaign;
use crate::domain::{CampaignId, CommissionId, Currency, DomainError, Handle, PartnerId};
use crate::kernel::events::ConversionData;
use crate::ledger::model::{Commission, Kind, Status};
use crate::plans::earn;
use crate::plans::model::Plan;
use crate::plans::tally::{self, MonthTally};
use crate::platform::store::{Query, Store, StoreError, for_each_item};
use crate::programs::coupon_rules::CouponRules;

/// The longest period a backtest replays.
pub const MAX_DAYS: i64 = 366;
/// How many per-conversion differences are answered.
pub const LARGEST: usize = 10;

/// A replayed period: `from` inclusive, `to` exclusive (unix ms).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from_ms: i64,
    pub to_ms: i64,
}

impl Period {
    /// Two RFC 3339 times, `from` before `to`, at most [`MAX_DAYS`] apart.
    pub fn parse(from: &str, to: &str) -> Result<Period, DomainError> {
        let time = |field: &str, raw: &str| {
            crate::domain::time::rfc3339_millis(raw)
                .ok_or_else(|| DomainError::new(field, "must be an RFC 3339 time"))
        };
        let (from_ms, to_ms) = (time("from", from)?, time("to", to)?);
        if to_ms <= from_ms {
            return Err(DomainError::new("to", "must be after from"));
        }
        if to_ms - from_ms > MAX_DAYS * 86_400_000 {
            return Err(DomainError::new(
                "to",
                format!("the period must be at most {MAX_DAYS} days"),
            ));
        }
        Ok(Period { from_ms, to_ms })
    }

    fn holds(&self, ms: i64) -> bool {
        (self.from_ms..self.to_ms).contains(&ms)
    }
}

/// One partner and currency: what the ledger accrued, what the draft would have.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartnerDifference {
    pub partner_id: PartnerId,
    pub currency: Currency,
    pub conversions: u64,
    pub actual: String,
    pub draft: String,
    /// `draft` − `actual`.
    pub difference: String,
}

/// One conversion whose draft amount differs from its line's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversionDifference {
    pub conversion_id: String,
    pub partner_id: PartnerId,
    pub event_type: String,
    pub received_at: Timestamp,
    pub currency: Currency,
    pub actual: String,
    pub draft: String,
    pub difference: String,
}

/// What was left out of the replay, and why.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    /// Lines a cap cut: caps are not replayed.
    pub capped: u64,
    /// Conversions of a campaign without a partner: nobody is owed anything.
    pub no_partner: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Backtest {
    pub campaign_id: CampaignId,
    pub from: String,
    pub to: String,
    pub conversions: u64,
    pub partners: Vec<PartnerDifference>,
    pub largest: Vec<ConversionDifference>,
    pub skipped: Skipped,
    /// Conversions on a partner's coupon code with no click of that partner, and how many of
    /// them the coupon policy replayed (`couponWithoutClick`) changed (issue 63).
    pub coupon_without_click: CouponReplay,
}

/// What the coupon policy did in the replay.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CouponReplay {
    pub policy: String,
    pub conversions: u64,
    pub changed: u64,
}

/// A conversion line's partner, currency, amount (0 while unknown), whether a cap cut it, and
/// where its partner stood in the month when it was rated (tiers).
struct Accrued {
    partner: PartnerId,
    currency: Currency,
    minor: i64,
    capped: bool,
    counted: Option<crate::ledger::model::Counted>,
}

/// The replay of `draft` over `campaign`'s conversions of `period`, streamed: the period's
/// conversion lines are held as small entries by id (what the ledger paid), and the
/// conversions are replayed a page at a time, never held. Round trips: one query per 1,000
/// lines of the handle's ledger in the period; the conversions through the campaign's
/// conversion index (one query per 1,000, one read each), or, for a campaign older than the
/// index, one query per day (and 1,000 conversions) of the period; and a rate query per
/// conversion whose percentage needs one.
#[tracing::instrument(skip_all, fields(handle = %handle, campaign = %campaign.campaign_id))]
pub async fn run(
    store: &dyn Store,
    handle: &Handle,
    campaign: &Campaign,
    (draft, coupons): (&Plan, CouponRules),
    period: Period,
) -> Result<Backtest, StoreError> {
    let (accrued, bonuses) = accrued(store, handle, &campaign.campaign_id, period).await?;
    let mut tally = Tally::default();
    tally.coupon.policy = policy_name(coupons);
    let mut replay = Replay {
        store,
        handle,
        campaign,
        draft,
        coupons,
        accrued: &accrued,
        months: HashMap::new(),
        tally,
    };
    for b in &bonuses {
        replay
            .tally
            .add_bonus(b.partner.clone(), b.currency, b.minor, 0);
    }
    if campaign.conversion_index {
        replay_indexed(&mut replay, period).await?;
    } else {
        replay_days(&mut replay, period).await?;
    }
    Ok(replay.tally.answer(campaign.campaign_id.clone(), period))
}

/// The policy as the program names it (`reduce_35` for a reduction by 35 %).
fn policy_name(rules: CouponRules) -> String {
    use crate::programs::coupon_rules::CouponWithoutClick as W;
    match rules.without_click {
        W::Pay => "pay".into(),
        W::Hold => "hold".into(),
        W::Reduce => format!("reduce_{}", rules.reduce_percent.unwrap_or(0)),
        W::None => "none".into(),
    }
}

/// How many conversion records are read at once from the campaign index's ids.
const READS_AT_ONCE: usize = 16;

/// The campaign's conversions of the period through its conversion index (issue 57): ONE
/// query per 1,000 conversions, then ONE read per conversion, 16 at a time, replayed in id
/// (time) order. An empty period costs one query, whatever its length.
async fn replay_indexed(replay: &mut Replay<'_>, period: Period) -> Result<(), StoreError> {
    let (store, handle, campaign) = (replay.store, replay.handle, replay.campaign);
    let mut ids = Vec::new();
    let (from, to) = (period.from_ms, period.to_ms);
    let query = crate::conversions::record::of_campaign(handle, &campaign.campaign_id, from, to);
    for_each_item(store, query, |item| {
        ids.extend(crate::domain::ConversionId::parse(&item.sk).ok());
        Ok::<_, StoreError>(ControlFlow::Continue(()))
    })
    .await?;
    for chunk in ids.chunks(READS_AT_ONCE) {
        let reads = chunk
            .iter()
            .map(|id| crate::conversions::record::load(store, handle, id));
        // An entry whose record is gone names nothing to replay.
        let found = futures::future::try_join_all(reads).await?;
        for (_, c) in found.into_iter().flatten() {
            replay.consider(&c, period).await?;
        }
    }
    Ok(())
}

/// The handle's conversions of the period, a day partition at a time: for a campaign created
/// before its conversion index existed (its older conversions have no entry). ONE query per day
/// (and 1,000 conversions).
async fn replay_days(replay: &mut Replay<'_>, period: Period) -> Result<(), StoreError> {
    let (store, handle) = (replay.store, replay.handle);
    let mut day_ms = period.from_ms - period.from_ms.rem_euclid(86_400_000);
    while day_ms < period.to_ms {
        let day = crate::analytics::days::day_of_unix(day_ms / 1000);
        let mut query = crate::conversions::list::of_day(handle, &day);
        loop {
            let page = store.query(query.clone()).await?;
            for item in &page.items {
                let c: ConversionData = item.parse()?;
                replay.consider(&c, period).await?;
            }
            match page.next {
                Some(next) => query.after = Some(next),
                None => break,
            }
        }
        day_ms += 86_400_000;
    }
    Ok(())
}

/// One replay under way.
struct Replay<'a> {
    store: &'a dyn Store,
    handle: &'a Handle,
    campaign: &'a Campaign,
    draft: &'a Plan,
    accrued: &'a HashMap<CommissionId, Accrued>,
    /// Each partner's months as the draft's tiers and bonuses see them.
    months: HashMap<(PartnerId, String), MonthTally>,
    tally: Tally,
    /// The coupon policy replayed beside the draft.
    coupons: CouponRules,
}

impl Replay<'_> {
    /// `c` replayed if it counts: the campaign's, in the period, neither a test nor superseded.
    async fn consider(&mut self, c: &ConversionData, period: Period) -> Result<(), StoreError> {
        let counted = !c.test && c.superseded_by.is_none();
        if counted
            && c.campaign_id.as_ref() == Some(&self.campaign.campaign_id)
            && period.holds(c.conversion_id.unix_millis())
        {
            self.one(c).await?;
        }
        Ok(())
    }

    /// `c` through the draft, beside its line.
    async fn one(&mut self, c: &ConversionData) -> Result<(), StoreError> {
        let id = CommissionId::of_conversion(&c.conversion_id);
        let actual = self.accrued.get(&id);
        if actual.is_some_and(|a| a.capped) {
            self.tally.skipped.capped += 1;
            return Ok(());
        }
        let Some(partner) = actual
            .map(|a| a.partner.clone())
            .or_else(|| self.campaign.partner_id.clone())
        else {
            self.tally.skipped.no_partner += 1;
            return Ok(());
        };
        let rate = rate_for(self.store, self.handle, self.draft, c).await?;
        let month = tally::month_of(c.conversion_id.unix_millis());
        let t = self.months.entry((partner.clone(), month)).or_default();
        if let Some(counted) = actual.and_then(|a| a.counted.as_ref()) {
            // Where the partner really stood when the line was rated: its other campaigns'
            // conversions and the reversals before it included.
            stand_at(t, &c.event_type, self.draft.currency, counted);
        }
        let facts = earn::Facts::of(c, tally::Standing::default());
        let campaign = self.campaign.campaign_id.as_str();
        let (earned, due) = earn::earn_in_month(self.draft, t, facts, rate, campaign);
        let mut drafted = earned.minor.unwrap_or(0);
        if c.coupon
            .as_ref()
            .is_some_and(|u| u.without_click_of(&partner))
        {
            let governed = self.coupons.govern(Some(drafted)).amount_minor.unwrap_or(0);
            self.tally.coupon.conversions += 1;
            self.tally.coupon.changed += u64::from(governed != drafted);
            drafted = governed;
        }
        let actual_minor = actual.map_or(0, |a| a.minor);
        let currency = actual.map_or(self.draft.currency, |a| a.currency);
        self.tally
            .add(c, partner.clone(), currency, actual_minor, drafted);
        for d in due {
            self.tally
                .add_bonus(partner.clone(), self.draft.currency, 0, d.minor);
        }
        Ok(())
    }
}

/// Sets `t`'s standing for `event_type` to what a line recorded before its conversion.
fn stand_at(
    t: &mut MonthTally,
    event_type: &str,
    currency: Currency,
    counted: &crate::ledger::model::Counted,
) {
    let slot = t.types.entry(event_type.to_owned()).or_default();
    slot.count = counted.count_before;
    slot.revenue.insert(
        currency.as_str().to_owned(),
        i128::from(counted.revenue_before),
    );
}

/// The rate the draft needs for `c`, if any (a line waiting for its rate pays 0 meanwhile).
async fn rate_for(
    store: &dyn Store,
    handle: &Handle,
    draft: &Plan,
    c: &ConversionData,
) -> Result<Option<rust_decimal::Decimal>, StoreError> {
    let facts = earn::Facts::of(c, tally::Standing::default());
    match earn::rate_needed(draft, &facts) {
        Some(from) => {
            crate::fx::rate_at(store, handle, from, draft.currency, facts.received_ms).await
        }
        None => Ok(None),
    }
}

/// The campaign's conversion lines of the period, by id, and its bonus lines: ONE key range of
/// the ledger.
async fn accrued(
    store: &dyn Store,
    handle: &Handle,
    campaign: &CampaignId,
    period: Period,
) -> Result<(HashMap<CommissionId, Accrued>, Vec<Accrued>), StoreError> {
    let bound = |ms: i64, end: &str| format!("{}{:012x}{end}", CommissionId::PREFIX, ms.max(0));
    let query = Query::between(
        crate::ledger::model::pk(handle),
        bound(period.from_ms, ""),
        bound(period.to_ms, ""),
    );
    let mut out = HashMap::new();
    for_each_item(store, query, |item| {
        let line = Commission::from_item(item)?;
        if line.campaign_id.as_ref() != Some(campaign) {
            return Ok(ControlFlow::Continue(()));
        }
        if line.kind == Kind::Conversion {
            out.insert(line.commission_id.clone(), accrued_of(&line));
        }
        Ok::<_, StoreError>(ControlFlow::Continue(()))
    })
    .await?;
    let bonuses = bonus_lines(store, handle, campaign, period).await?;
    Ok((out, bonuses))
}

/// The campaign's bonus lines reached in the period: their ids carry their month's start, so
/// the kind index from the first month's start, then the lines (few: one per partner, rule and
/// month). Round trips: ONE index query per 1,000 bonuses, ONE read each.
async fn bonus_lines(
    store: &dyn Store,
    handle: &Handle,
    campaign: &CampaignId,
    period: Period,
) -> Result<Vec<Accrued>, StoreError> {
    use crate::ledger::index;
    let since = crate::ledger::tally::month_start_ms(period.from_ms);
    let (from, to) = index::range(Kind::Bonus.as_str(), Some(since), Some(period.to_ms));
    let mut ids = Vec::new();
    let query = index::between(handle, index::BY_KIND, from, to);
    for_each_item(store, query, |item| {
        ids.extend(index::line_id(&item.sk));
        Ok::<_, StoreError>(ControlFlow::Continue(()))
    })
    .await?;
    let mut out = Vec::new();
    for id in ids {
        let Some(line) = crate::ledger::get(store, handle, &id).await? else {
            continue;
        };
        let reached = line.created_at.millis();
        if line.campaign_id.as_ref() == Some(campaign) && period.holds(reached) {
            out.push(accrued_of(&line));
        }
    }
    Ok(out)
}

fn accrued_of(line: &Commission) -> Accrued {
    Accrued {
        partner: line.partner_id.clone(),
        currency: line.currency,
        minor: line.amount_minor.unwrap_or(0),
        capped: line.status == Status::Capped,
        counted: line.counted.clone(),
    }
}

/// The sums per partner and currency, and the largest differences, as the replay goes.
#[derive(Default)]
struct Tally {
    conversions: u64,
    per_partner: BTreeMap<(PartnerId, Currency), (u64, i128, i128)>,
    largest: Vec<ConversionDifference>,
    largest_by: Vec<i128>,
    skipped: Skipped,
    coupon: CouponReplay,
}

impl Tally {
    fn add(
        &mut self,
        c: &ConversionData,
        partner: PartnerId,
        cur: Currency,
        actual: i64,
        draft: i64,
    ) {
        self.conversions += 1;
        let sums = self.per_partner.entry((partner.clone(), cur)).or_default();
        sums.0 += 1;
        sums.1 += i128::from(actual);
        sums.2 += i128::from(draft);
        let diff = i128::from(draft) - i128::from(actual);
        if diff == 0 {
            return;
        }
        let at = self.largest_by.partition_point(|d| d.abs() >= diff.abs());
        if at >= LARGEST {
            return;
        }
        self.largest_by.insert(at, diff);
        self.largest.insert(
            at,
            ConversionDifference {
                conversion_id: c.conversion_id.to_string(),
                partner_id: partner,
                event_type: c.event_type.clone(),
                received_at: c.received_at.clone(),
                currency: cur,
                actual: cur.format(i128::from(actual)),
                draft: cur.format(i128::from(draft)),
                difference: cur.format(diff),
            },
        );
        self.largest.truncate(LARGEST);
        self.largest_by.truncate(LARGEST);
    }

    /// A bonus line (what the ledger paid) or one the draft would pay, at the partner's level.
    fn add_bonus(&mut self, partner: PartnerId, cur: Currency, actual: i64, draft: i64) {
        let sums = self.per_partner.entry((partner, cur)).or_default();
        sums.1 += i128::from(actual);
        sums.2 += i128::from(draft);
    }

    fn answer(self, campaign_id: CampaignId, period: Period) -> Backtest {
        let partners = self
            .per_partner
            .into_iter()
            .map(
                |((partner_id, currency), (n, actual, draft))| PartnerDifference {
                    partner_id,
                    currency,
                    conversions: n,
                    actual: currency.format(actual),
                    draft: currency.format(draft),
                    difference: currency.format(draft - actual),
                },
            )
            .collect();
        Backtest {
            campaign_id,
            from: crate::domain::time::unix_millis_to_rfc3339(period.from_ms),
            to: crate::domain::time::unix_millis_to_rfc3339(period.to_ms),
            conversions: self.conversions,
            partners,
            largest: self.largest,
            skipped: self.skipped,
            coupon_without_click: self.coupon,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_is_ordered_and_at_most_366_days() {
        let ok = Period::parse("2026-01-01T00:00:00Z", "2027-01-02T00:00:00Z").unwrap();
        assert_eq!(ok.to_ms - ok.from_ms, 366 * 86_400_000);
        let long = Period::parse("2026-01-01T00:00:00Z", "2027-01-02T00:00:01Z").unwrap_err();
        assert_eq!(long.field, "to");
        let backwards = Period::parse("2026-02-01T00:00:00Z", "2026-01-01T00:00:00Z").unwrap_err();
        assert_eq!(backwards.field, "to");
        let bad = Period::parse("yesterday", "2026-01-01T00:00:00Z").unwrap_err();
        assert_eq!(bad.field, "from");
    }
}
