//! The ledger's sink: each counted conversion of a campaign with a plan gets exactly ONE
//! commission line, whose id is the conversion's (`com_` + its UUID). The line is a
//! put-if-absent in the same transaction as its cap counters, its due-index entry and its
//! `commission.created` outbox entry, so a redelivery, a replay, a sweep or a kill -9 between
//! any two steps can only find it already there. Runs in the events worker: a conversion's
//! request path gains no round trip.

use crate::domain::time::Timestamp;
use crate::domain::{CampaignId, CommissionId, ConversionId, Handle};
use crate::kernel::events::ConversionData;
use crate::kernel::io::Io;
use crate::ledger::emit;
use crate::ledger::model::{Commission, Counted, Kind, Status};
use crate::ledger::risk_holds::RiskHolds;
use crate::ledger::tally as ledger_tally;
use crate::plans::model::Plan;
use crate::plans::tally::{self, Standing};
use crate::platform::store::{CounterCap, Store, StoreError, WriteOp, keys};
use crate::{fx, ledger::due, ledger::view, partners, plans};
use crate::{plans::earn, plans::earn::Facts};

/// What a conversion's commission is computed under: its campaign's plan then, and partner.
pub(crate) struct Terms {
    pub campaign_id: CampaignId,
    pub campaign: crate::campaigns::Campaign,
    pub plan: Plan,
    pub partner_suspended: bool,
    pub partner_id: crate::domain::PartnerId,
}

/// The plan in force at the conversion's time and the campaign's partner; `None`: nothing is
/// owed for it (no campaign, no partner, no plan then, or a test conversion received while the
/// handle's test mode was off: a test conversion earns test money only in test mode).
/// Round trips: the campaign, the plan (one query), the partner; a test conversion's first,
/// the test mode.
pub(crate) async fn terms(
    store: &dyn Store,
    handle: &Handle,
    c: &ConversionData,
) -> Result<Option<Terms>, StoreError> {
    let Some(campaign_id) = c.campaign_id.clone() else {
        return Ok(None);
    };
    if c.test
        && !crate::test_mode::get(store, handle)
            .await?
            .covers(&c.received_at)
    {
        return Ok(None);
    }
    let Some(campaign) = crate::campaigns::get(store, handle, &campaign_id).await? else {
        return Ok(None);
    };
    let Some(partner_id) = campaign.partner_id.clone() else {
        return Ok(None);
    };
    let received = c.received_at.millis();
    let Some(plan) = plans::in_force_at(store, handle, &campaign_id, received).await? else {
        return Ok(None);
    };
    let partner = partners::get(store, handle, &partner_id).await?;
    let partner_suspended = partner.is_some_and(|p| p.status == partners::PartnerStatus::Suspended);
    Ok(Some(Terms {
        campaign_id,
        campaign,
        plan,
        partner_suspended,
        partner_id,
    }))
}

/// The conversion's facts; `month`: where its partner stands in its month before it (a replay
/// builds them here too, then rates them with `plans::earn::earn_in_month`).
pub fn facts(c: &ConversionData, month: Standing) -> Facts<'_> {
    Facts::of(c, month)
}

/// The line a conversion earns, before caps, rated at the partner's `month` standing before it
/// (recorded in `counted` when the plan counts its event type in the month).
/// Round trips: the rate lookup when one is needed; `risk`'s (the program, and the partner's
/// risk snapshot when the plan or the program holds on risk).
pub(crate) async fn draft(
    store: &dyn Store,
    risk: &dyn RiskHolds,
    handle: &Handle,
    c: &ConversionData,
    id: CommissionId,
    t: &Terms,
    month: Standing,
) -> Result<Commission, StoreError> {
    let f = facts(c, month);
    let rate = match earn::rate_needed(&t.plan, &f) {
        Some(from) => fx::rate_at(store, handle, from, t.plan.currency, f.received_ms).await?,
        None => None,
    };
    let earned = earn::earn(&t.plan, &f, rate);
    let mut reasons = earned.reasons;
    let mut holds = earn::hold_reasons(&t.plan, &f, t.partner_suspended);
    let above = t.plan.hold_above_risk;
    holds.extend(risk.reasons(store, handle, &t.partner_id, above).await?);
    let governed = coupon_policy(c, t, earned.minor);
    let status = status_of(&governed, &mut reasons, holds);
    let available = f.received_ms + i64::from(t.plan.hold_days) * 86_400_000;
    // Test money never moves the partner's month (its tiers and bonuses stay real).
    let counted = (t.plan.counts_month(&c.event_type) && !c.test).then(|| Counted {
        month: tally::month_of(f.received_ms),
        count_before: month.count,
        revenue_before: i64::try_from(month.revenue_minor).unwrap_or(i64::MAX),
        revenue_minor: earned.revenue_minor,
    });
    Ok(Commission {
        commission_id: id,
        kind: Kind::Conversion,
        adjusts_commission_id: None,
        conversion_id: Some(c.conversion_id.clone()),
        click_id: Some(c.click_id.clone()),
        click_day: None,
        event_type: Some(c.event_type.clone()),
        sub_ids: c.sub_ids.clone(),
        campaign_id: Some(t.campaign_id.clone()),
        partner_id: t.partner_id.clone(),
        customer_id: c.customer_id.clone(),
        amount_minor: governed.amount_minor,
        currency: t.plan.currency,
        value: c.value,
        value_currency: c.currency,
        status,
        reasons,
        plan_version: Some(t.plan.version),
        fx_rate: earned.fx_rate,
        available_at: Timestamp::from_millis(available),
        created_at: crate::platform::time::timestamp(),
        payout_id: None,
        reviewed_by: None,
        reviewed_at: None,
        review_note: None,
        adjusted_by: None,
        confidence: None,
        receipt: c.receipt.clone(),
        click_count: None,
        disputed_from: None,
        address_hash: c.address_hash.clone(),
        visitor_hash: c.visitor_hash.clone(),
        rule_index: earned.rule_index.and_then(|i| u32::try_from(i).ok()),
        tier_index: earned.tier_index.and_then(|i| u32::try_from(i).ok()),
        claim_id: None,
        claim_decision: None,
        link: (!c.slug.is_empty()).then(|| c.slug.clone()),
        counted,
        test: c.test,
        balanced: false,
        version: 0,
        as_read: None,
    })
}

/// The line's status, its reasons gaining the holds and the coupon policy's reason: rejected by
/// the policy, held (no amount yet, a hold, or the policy's review), else pending.
fn status_of(
    governed: &crate::programs::coupon_rules::Governed,
    reasons: &mut Vec<String>,
    mut holds: Vec<String>,
) -> Status {
    if governed.held {
        holds.extend(governed.reason.map(str::to_owned));
    } else if let Some(reason) = governed.reason {
        reasons.push(reason.to_owned());
    }
    let status = if governed.rejected {
        Status::Rejected
    } else if governed.amount_minor.is_none() || !holds.is_empty() {
        Status::Held
    } else {
        Status::Pending
    };
    reasons.extend(holds);
    status
}

/// The `couponWithoutClick` policy the sale carries (the program's when it arrived) on a sale
/// that used the partner's coupon code with no click of the partner behind it (issue 63); any
/// other line is unchanged. No round trip: the policy travels with the sale.
fn coupon_policy(
    c: &ConversionData,
    t: &Terms,
    minor: Option<i64>,
) -> crate::programs::coupon_rules::Governed {
    let rules = match &c.coupon {
        Some(used) if used.without_click_of(&t.partner_id) => used.rules.unwrap_or_default(),
        _ => Default::default(),
    };
    rules.govern(minor)
}

/// How often an accrual re-reads its partner's month tally after a concurrent line moved it
/// before it gives up (the events worker redelivers the conversion).
const TALLY_TRIES: u32 = 40;

/// The conversion's commission: created once, or the one already there. `None`: nothing owed.
/// Under a plan with tiers or a bonus for its event type, the line is rated by its partner's
/// month tally and moves it in its own transaction (`ledger::tally`): a concurrent line that
/// moved it first makes this one re-read and re-rate.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn accrue(
    io: Io<'_>,
    risk: &dyn RiskHolds,
    handle: &Handle,
    c: &ConversionData,
) -> Result<Option<Commission>, StoreError> {
    let mut memo = crate::ledger::confidence::Memo::default();
    accrue_in(io, risk, (handle, &mut memo), c).await
}

/// [`accrue`] within a batch: the campaign's confidence read once per campaign and day of
/// `memo` (the events consumer's batch).
pub async fn accrue_in(
    io: Io<'_>,
    risk: &dyn RiskHolds,
    (handle, memo): (&Handle, &mut crate::ledger::confidence::Memo),
    c: &ConversionData,
) -> Result<Option<Commission>, StoreError> {
    let id = CommissionId::of_conversion(&c.conversion_id);
    if let Some(existing) = crate::ledger::get(io.store.as_ref(), handle, &id).await? {
        return Ok(Some(existing));
    }
    let Some(t) = terms(io.store.as_ref(), handle, c).await? else {
        return Ok(None);
    };
    let received_ms = facts(c, Standing::default()).received_ms;
    let store = io.store.as_ref();
    let confidence =
        crate::ledger::confidence::at_memo(store, handle, &t.campaign, received_ms, memo).await?;
    let counts = t.plan.counts_month(&c.event_type);
    for attempt in 0..TALLY_TRIES {
        let month = match counts {
            true => Some(
                ledger_tally::read(
                    io.store.as_ref(),
                    handle,
                    &t.partner_id,
                    &tally::month_of(received_ms),
                )
                .await?,
            ),
            false => None,
        };
        let standing = month.as_ref().map_or_else(Standing::default, |m| {
            m.tally.standing(&c.event_type, t.plan.currency)
        });
        let mut line = draft(io.store.as_ref(), risk, handle, c, id.clone(), &t, standing).await?;
        crate::ledger::confidence::hold_if_low(&mut line, confidence.clone());
        let extra = match &month {
            Some(m) if !line.test => ledger_tally::extra(handle, m, &line, &t.plan, received_ms)?,
            _ => ledger_tally::Extra::default(),
        };
        match write_capped_with(io, handle, line, &t.plan, Write::Create, extra).await? {
            Outcome::Written(line) => return Ok(Some(*line)),
            Outcome::LineLost => {
                return crate::ledger::get(io.store.as_ref(), handle, &id)
                    .await?
                    .ok_or_else(|| StoreError::Unavailable("commission vanished".into()))
                    .map(Some);
            }
            Outcome::ExtraLost => backoff(attempt).await,
        }
    }
    Err(StoreError::Unavailable(
        "the partner's month tally kept changing".into(),
    ))
}

/// A short, jittered pause before re-reading a tally another line moved.
async fn backoff(attempt: u32) {
    let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0] % 32);
    let ms = u64::from(attempt.min(10)) * 5 + jitter;
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}

/// The cap counters a line takes, each with the cap it is. A new line takes its day's slot
/// when it pays something or waits for its rate (it is that day's conversion whenever the rate
/// comes); its amount counts on the month once it is known (a line computed again takes only
/// that).
pub(crate) fn cap_ops(
    handle: &Handle,
    line: &Commission,
    plan: &Plan,
    how: Write,
) -> Vec<(WriteOp, &'static str)> {
    let minor = line.amount_minor.unwrap_or(0);
    let takes_day = how == Write::Create && (minor > 0 || line.amount_minor.is_none());
    // Test money takes no slot of a real cap.
    let (Some(campaign), false) = (&line.campaign_id, line.test) else {
        return Vec::new();
    };
    let pk = keys::commission_caps_pk(handle, campaign);
    let day = &line.created_at_day();
    let mut ops = Vec::new();
    if let (Some(max), true) = (plan.caps.conversions_per_day, takes_day) {
        ops.push((
            cap_add(&pk, format!("D#{day}"), "n", 1, max.into()),
            "cap_conversions_per_day",
        ));
    }
    if let (Some(max), true) = (plan.month_cap_minor(), minor > 0) {
        let month = &day[..7];
        ops.push((
            cap_add(&pk, format!("M#{month}"), "minor", minor, max),
            "cap_amount_per_month",
        ));
    }
    ops
}

fn cap_add(pk: &str, sk: String, counter: &str, delta: i64, max: i64) -> WriteOp {
    WriteOp::Add {
        pk: pk.to_owned(),
        sk,
        deltas: vec![(counter.to_owned(), delta.into())],
        cap: Some(CounterCap {
            counter: counter.to_owned(),
            max,
        }),
        expires_at: None,
    }
}

/// How a line is written with its caps: created (put-if-absent, with its `commission.created`
/// event), or computed again (a rate arrived) and updated at the version it was read at.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Write {
    Create,
    Update,
}

/// Writes `line` with the cap counters it takes: a cap that does not hold makes it `capped`
/// (amount 0), except the monthly amount cap, which first grants the headroom left. `None`: the
/// line's own write lost (created already, or changed meanwhile).
/// Round trips: ONE transaction per attempt (a cap met costs one more, and a counter read).
pub(crate) async fn write_capped(
    io: Io<'_>,
    handle: &Handle,
    line: Commission,
    plan: &Plan,
    how: Write,
) -> Result<Option<Commission>, StoreError> {
    let extra = ledger_tally::Extra::default();
    match write_capped_with(io, handle, line, plan, how, extra).await? {
        Outcome::Written(line) => Ok(Some(*line)),
        Outcome::LineLost | Outcome::ExtraLost => Ok(None),
    }
}

/// What [`write_capped_with`] did.
pub(crate) enum Outcome {
    Written(Box<Commission>),
    /// The line's own write lost (created already, or changed meanwhile).
    LineLost,
    /// A conditional write of `extra` lost (the month tally moved): re-read and retry.
    ExtraLost,
}

/// [`write_capped`] with `extra` in the same transaction: its conditional writes after the
/// caps, its moves last, its events beside the line's.
async fn write_capped_with(
    io: Io<'_>,
    handle: &Handle,
    mut line: Commission,
    plan: &Plan,
    how: Write,
    extra: ledger_tally::Extra,
) -> Result<Outcome, StoreError> {
    for _ in 0..6 {
        let caps = cap_ops(handle, &line, plan, how);
        let mut ops = match how {
            Write::Create => line.create(handle)?,
            Write::Update => line.update(handle)?,
        };
        // The line's put stays first, the caps next and the extra conditional writes after
        // them (a cancellation names them by index); the unconditional moves go last.
        let moves = ops.split_off(1);
        let cap_names: Vec<&str> = caps.iter().map(|(_, n)| *n).collect();
        ops.extend(caps.into_iter().map(|(op, _)| op));
        let extra_end = 1 + cap_names.len() + extra.conditional.len();
        ops.extend(extra.conditional.iter().cloned());
        ops.extend(due::entry(handle, &line));
        ops.extend(moves);
        ops.extend(extra.moves.iter().cloned());
        let mut emits = match how {
            Write::Create => vec![view::event(view::CommissionEvent::Created, &line)],
            Write::Update => Vec::new(),
        };
        emits.extend(extra.emits.iter().cloned());
        match emit::commit(io, handle, ops, emits).await {
            Ok(()) => {
                match how {
                    Write::Create => line.created(),
                    Write::Update => line.updated(),
                }
                return Ok(Outcome::Written(Box::new(line)));
            }
            Err(StoreError::TxConflict { index: 0, .. }) => return Ok(Outcome::LineLost),
            Err(StoreError::TxConflict { index, current }) if index <= cap_names.len() => {
                let cap = cap_names[index - 1];
                let used = match current {
                    Some(item) => item.counter_wide("minor"),
                    None => month_used(io.store.as_ref(), handle, &line).await?,
                };
                apply_cap(&mut line, plan, cap, used);
            }
            Err(StoreError::TxConflict { index, .. }) if index < extra_end => {
                return Ok(Outcome::ExtraLost);
            }
            // DynamoDB cancels transactions that meet in flight on an item (`TransactionConflict`);
            // the store retries them, and on a partner's month tally, hot by design when its
            // conversions arrive together, they may outlast its retries: re-read and retry too.
            Err(StoreError::Unavailable(why))
                if !extra.conditional.is_empty() && why.contains("(contended:") =>
            {
                return Ok(Outcome::ExtraLost);
            }
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Unavailable(
        "commission caps kept changing".into(),
    ))
}

/// What the line's month has used of its amount cap. Round trips: ONE read.
async fn month_used(
    store: &dyn Store,
    handle: &Handle,
    line: &Commission,
) -> Result<i128, StoreError> {
    let Some(campaign) = &line.campaign_id else {
        return Ok(0);
    };
    let pk = keys::commission_caps_pk(handle, campaign);
    let month = line.created_at_day()[..7].to_owned();
    let item = store.get(&pk, &format!("M#{month}")).await?;
    Ok(item.map_or(0, |i| i.counter_wide("minor")))
}

/// A cap did not hold: the monthly amount cap grants the headroom left (a concurrent line may
/// have taken it meanwhile: then the next attempt meets the cap again); any other cap, or no
/// headroom, makes the line `capped` with amount 0 and the cap named.
fn apply_cap(line: &mut Commission, plan: &Plan, cap: &str, used: i128) {
    const PARTIAL: &str = "cap_amount_per_month_partial";
    let headroom = plan
        .month_cap_minor()
        .map_or(0, |max| i128::from(max) - used)
        .max(0);
    if cap == "cap_amount_per_month" && headroom > 0 {
        if headroom < line.minor() {
            line.amount_minor = i64::try_from(headroom).ok();
            if !line.reasons.iter().any(|r| r == PARTIAL) {
                line.reasons.push(PARTIAL.to_owned());
            }
        }
        return;
    }
    line.amount_minor = Some(0);
    line.status = Status::Capped;
    line.reasons.retain(|r| r != PARTIAL);
    line.reasons.push(cap.to_owned());
}

impl Commission {
    /// The UTC day (`yyyy-mm-dd`) the line's caps count on: its conversion's day.
    fn created_at_day(&self) -> String {
        let ms = self
            .conversion_id
            .as_ref()
            .map_or_else(crate::platform::time::now_millis, ConversionId::unix_millis);
        crate::analytics::days::day_of_unix(ms / 1000)
    }
}
