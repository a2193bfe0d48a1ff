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
        reversed_share: None,
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
        let extra = |_: &Commission| Ok(extra.clone());
        match write_capped_with(io, handle, line, &t.plan, Write::Create, &extra).await? {
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

/// What [`write_capped_with`] did.
pub(crate) enum Outcome {
    Written(Box<Commission>),
    /// The line's own write lost (created already, or changed meanwhile).
    LineLost,
    /// A conditional write of `extra` lost (the month tally moved): re-read and retry.
    ExtraLost,
}

/// Writes `line` with the cap counters it takes: a cap that does not hold makes it `capped`
/// (amount 0), except the monthly amount cap, which first grants the headroom left; with
/// `extra` of the line as it will be written (its caps applied) in the same transaction: its
/// conditional writes after the caps, its moves last, its events beside the line's.
/// Round trips: ONE transaction per attempt (a cap met costs one more, and a counter read).
pub(crate) async fn write_capped_with(
    io: Io<'_>,
    handle: &Handle,
    mut line: Commission,
    plan: &Plan,
    how: Write,
    extra: &(dyn Fn(&Commission) -> Result<ledger_tally::Extra, StoreError> + Sync),
) -> Result<Outcome, StoreError> {
    for _ in 0..6 {
        let extra = extra(&line)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::CampaignId;
    use crate::ledger::tests::{
        Risk, acme, alpha, assert_books_agree, campaign_with_plan, conversion, due_entries, events,
        io_parts, ledger, line, sums,
    };
    use crate::platform::store::{CounterCap, Store};
    use crate::programs::coupon_rules::Governed;
    use serde_json::json;
    use std::sync::Arc;
    use tenx_kernel::testing::Meet;

    /// A flat 1.00 EUR a purchase, due after `hold_days`, under `caps`.
    fn flat_plan(hold_days: u32, caps: serde_json::Value) -> serde_json::Value {
        json!({"currency": "EUR", "holdDays": hold_days, "caps": caps,
            "rules": [{"eventType": "purchase", "flat": "1.00"}]})
    }

    fn governed(amount_minor: Option<i64>) -> Governed {
        Governed {
            amount_minor,
            held: false,
            rejected: false,
            reason: None,
        }
    }

    fn holds(reasons: &[&str]) -> Vec<String> {
        reasons.iter().map(|r| (*r).to_owned()).collect()
    }

    #[test]
    fn a_rated_line_without_holds_is_pending_and_any_hold_or_a_missing_rate_holds_it() {
        let mut reasons = Vec::new();
        let plain = status_of(&governed(Some(100)), &mut reasons, Vec::new());
        assert_eq!((plain, reasons.len()), (Status::Pending, 0));
        let mut reasons = holds(&["fx_rate_missing"]);
        let unrated = status_of(&governed(None), &mut reasons, Vec::new());
        assert_eq!(
            (unrated, reasons),
            (Status::Held, holds(&["fx_rate_missing"]))
        );
        let mut reasons = holds(&["tier_2"]);
        let held = status_of(
            &governed(Some(100)),
            &mut reasons,
            holds(&["partner_suspended"]),
        );
        assert_eq!(
            (held, reasons),
            (Status::Held, holds(&["tier_2", "partner_suspended"])),
            "the holds follow the earning's reasons"
        );
    }

    #[test]
    fn the_coupon_policy_holds_rejects_or_only_names_its_reason() {
        let policy = |held, rejected| Governed {
            held,
            rejected,
            reason: Some("coupon_without_click"),
            ..governed(Some(100))
        };
        let mut reasons = Vec::new();
        let status = status_of(&policy(true, false), &mut reasons, holds(&["unverified"]));
        assert_eq!(
            (status, reasons),
            (Status::Held, holds(&["unverified", "coupon_without_click"])),
            "a policy's hold is one more hold"
        );
        let mut reasons = Vec::new();
        let status = status_of(&policy(false, true), &mut reasons, holds(&["unverified"]));
        assert_eq!(
            (status, reasons),
            (
                Status::Rejected,
                holds(&["coupon_without_click", "unverified"])
            ),
            "a rejection wins over any hold"
        );
        let mut reasons = Vec::new();
        let status = status_of(&policy(false, false), &mut reasons, Vec::new());
        assert_eq!(
            (status, reasons),
            (Status::Pending, holds(&["coupon_without_click"]))
        );
    }

    /// A line of campaign `alpha` for a conversion made now, of `minor` cents.
    fn capped_line(minor: Option<i64>) -> Commission {
        let mut l = line(minor, Status::Pending);
        l.campaign_id = Some(alpha());
        l.conversion_id = Some(ConversionId::new());
        l
    }

    /// Each cap counter's (sort key, counter, max), named.
    fn caps_taken(
        l: &Commission,
        plan: &Plan,
        how: Write,
    ) -> Vec<(String, String, i64, &'static str)> {
        cap_ops(&acme(), l, plan, how)
            .into_iter()
            .map(|(op, name)| match op {
                WriteOp::Add {
                    pk,
                    sk,
                    cap: Some(CounterCap { counter, max }),
                    ..
                } => {
                    assert_eq!(pk, "H#acme#CAP#alpha");
                    (sk, counter, max, name)
                }
                other => panic!("a capped add, not {other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_new_line_takes_its_days_slot_when_it_pays_or_waits_for_its_rate_and_its_amount_on_the_month()
     {
        let caps = json!({"conversionsPerDay": 5, "amountPerMonth": "100"});
        let plan = tenx_programs::testing::plan(flat_plan(0, caps));
        let l = capped_line(Some(500));
        let ms = l.conversion_id.as_ref().unwrap().unix_millis();
        let day = crate::analytics::days::day_of_unix(ms / 1000);
        let (d, m) = (format!("D#{day}"), format!("M#{}", &day[..7]));
        assert_eq!(
            caps_taken(&l, &plan, Write::Create),
            [
                (d.clone(), "n".into(), 5, "cap_conversions_per_day"),
                (m.clone(), "minor".into(), 10_000, "cap_amount_per_month")
            ]
        );
        assert_eq!(
            caps_taken(&capped_line(None), &plan, Write::Create),
            [(d, "n".into(), 5, "cap_conversions_per_day")],
            "a line waiting for its rate is still that day's conversion"
        );
        assert!(caps_taken(&capped_line(Some(0)), &plan, Write::Create).is_empty());
        assert_eq!(
            caps_taken(&l, &plan, Write::Update),
            [(m, "minor".into(), 10_000, "cap_amount_per_month")],
            "a line computed again only adds its amount"
        );
    }

    #[test]
    fn test_money_and_lines_without_a_campaign_take_no_cap() {
        let caps = json!({"conversionsPerDay": 5, "amountPerMonth": "100"});
        let plan = tenx_programs::testing::plan(flat_plan(0, caps));
        let mut test = capped_line(Some(500));
        test.test = true;
        assert!(cap_ops(&acme(), &test, &plan, Write::Create).is_empty());
        let mut loose = capped_line(Some(500));
        loose.campaign_id = None;
        assert!(cap_ops(&acme(), &loose, &plan, Write::Create).is_empty());
        let uncapped = tenx_programs::testing::plan(flat_plan(0, json!({})));
        assert!(cap_ops(&acme(), &capped_line(Some(500)), &uncapped, Write::Create).is_empty());
    }

    #[test]
    fn the_month_cap_grants_what_is_left_and_then_caps_the_line_at_nothing() {
        let plan = tenx_programs::testing::plan(flat_plan(0, json!({"amountPerMonth": "10"})));
        let mut l = capped_line(Some(500));
        apply_cap(&mut l, &plan, "cap_amount_per_month", 700);
        assert_eq!(
            (l.status, l.amount_minor, l.reasons.clone()),
            (
                Status::Pending,
                Some(300),
                holds(&["cap_amount_per_month_partial"])
            )
        );
        let mut fits = capped_line(Some(500));
        apply_cap(&mut fits, &plan, "cap_amount_per_month", 200);
        assert_eq!(
            (fits.amount_minor, fits.reasons.len()),
            (Some(500), 0),
            "room for all of it (another line freed it meanwhile)"
        );
        // The next attempt finds the month full: the partial grant is withdrawn.
        apply_cap(&mut l, &plan, "cap_amount_per_month", 1_000);
        assert_eq!(
            (l.status, l.amount_minor, l.reasons),
            (Status::Capped, Some(0), holds(&["cap_amount_per_month"]))
        );
    }

    #[test]
    fn the_day_cap_caps_the_line_whatever_the_month_has_left() {
        let plan = tenx_programs::testing::plan(flat_plan(0, json!({"amountPerMonth": "10"})));
        let mut l = capped_line(Some(500));
        apply_cap(&mut l, &plan, "cap_conversions_per_day", 0);
        assert_eq!(
            (l.status, l.amount_minor, l.reasons),
            (Status::Capped, Some(0), holds(&["cap_conversions_per_day"]))
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_conversion_earns_one_line_however_often_and_however_concurrently_it_is_accrued() {
        let (store, queue) = io_parts();
        campaign_with_plan(store.as_ref(), flat_plan(0, json!({})), false).await;
        let store = tenx_kernel::testing::meeting_at_the_store(store, 2, Meet::Transactions);
        let c = conversion("10");
        let racers = (0..2).map(|_| {
            let (store, queue, c): (Arc<dyn Store>, _, _) =
                (store.clone(), queue.clone(), c.clone());
            tokio::spawn(async move {
                accrue(Io::new(&store, &queue), &Risk(Vec::new()), &acme(), &c)
                    .await
                    .unwrap()
                    .expect("a line")
            })
        });
        let mut answers = Vec::new();
        for r in futures::future::join_all(racers).await {
            answers.push(r.unwrap());
        }
        let redelivered = accrue(Io::new(&store, &queue), &Risk(Vec::new()), &acme(), &c)
            .await
            .unwrap()
            .expect("the line");
        answers.push(redelivered);
        let id = CommissionId::of_conversion(&c.conversion_id);
        for a in &answers {
            assert_eq!(
                (&a.commission_id, a.status, a.amount_minor),
                (&id, Status::Pending, Some(100))
            );
        }
        assert_eq!(ledger(store.as_ref()).await.len(), 1);
        assert_eq!(
            sums(store.as_ref()).await.pending,
            100,
            "its amount counted once"
        );
        assert_eq!(events(queue.as_ref()).await, ["commission.created"]);
        assert_eq!(due_entries(store.as_ref()).await.len(), 1);
        assert_books_agree(store.as_ref()).await;
    }

    #[tokio::test]
    async fn a_line_falls_due_when_its_plans_hold_days_end() {
        let (store, queue) = io_parts();
        campaign_with_plan(store.as_ref(), flat_plan(14, json!({})), false).await;
        let c = conversion("10");
        let l = accrue(Io::new(&store, &queue), &Risk(Vec::new()), &acme(), &c)
            .await
            .unwrap()
            .unwrap();
        let available = c.received_at.millis() + 14 * 86_400_000;
        assert_eq!(
            (l.status, l.available_at_ms()),
            (Status::Pending, available)
        );
        let due = keys::commission_due_sk(available, "acme", l.commission_id.as_str());
        assert_eq!(due_entries(store.as_ref()).await, [due]);
    }

    #[tokio::test]
    async fn a_suspended_partners_line_is_held_for_review_and_never_falls_due_by_itself() {
        let (store, queue) = io_parts();
        campaign_with_plan(store.as_ref(), flat_plan(0, json!({})), true).await;
        let l = accrue(
            Io::new(&store, &queue),
            &Risk(Vec::new()),
            &acme(),
            &conversion("10"),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(
            (l.status, l.amount_minor, l.reasons),
            (Status::Held, Some(100), holds(&["partner_suspended"]))
        );
        assert!(due_entries(store.as_ref()).await.is_empty());
        assert_eq!(sums(store.as_ref()).await.held, 100);
    }

    #[tokio::test]
    async fn a_line_is_held_for_the_reasons_partner_risk_gives() {
        let (store, queue) = io_parts();
        campaign_with_plan(store.as_ref(), flat_plan(0, json!({})), false).await;
        let risky = Risk(vec!["risk_above_threshold"]);
        let l = accrue(Io::new(&store, &queue), &risky, &acme(), &conversion("10"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (l.status, l.reasons),
            (Status::Held, holds(&["risk_above_threshold"]))
        );
        assert!(due_entries(store.as_ref()).await.is_empty());
    }

    #[tokio::test]
    async fn nothing_is_owed_without_a_known_campaign_or_for_test_money_outside_test_mode() {
        let (store, queue) = io_parts();
        campaign_with_plan(store.as_ref(), flat_plan(0, json!({})), false).await;
        let io = Io::new(&store, &queue);
        let mut no_campaign = conversion("10");
        no_campaign.campaign_id = None;
        let mut unknown = conversion("10");
        unknown.campaign_id = Some(CampaignId::parse("beta").unwrap());
        let mut test = conversion("10");
        test.test = true;
        for c in [no_campaign, unknown, test] {
            let got = accrue(io, &Risk(Vec::new()), &acme(), &c).await.unwrap();
            assert!(got.is_none(), "{:?}", c.campaign_id);
        }
        assert!(ledger(store.as_ref()).await.is_empty());
    }

    /// What `n` conversions of a day earn under `caps`, in turn: each line's status, amount and
    /// reasons; and the balance they add up to.
    async fn accrued_under(
        caps: serde_json::Value,
        n: usize,
    ) -> (Vec<(Status, Option<i64>, Vec<String>)>, i128) {
        let (store, queue) = io_parts();
        campaign_with_plan(store.as_ref(), flat_plan(0, caps), false).await;
        let io = Io::new(&store, &queue);
        let mut written = Vec::new();
        for _ in 0..n {
            let l = accrue(io, &Risk(Vec::new()), &acme(), &conversion("10"))
                .await
                .unwrap()
                .unwrap();
            written.push((l.status, l.amount_minor, l.reasons));
        }
        assert_books_agree(store.as_ref()).await;
        (written, sums(store.as_ref()).await.pending)
    }

    #[tokio::test]
    async fn the_day_cap_pays_its_conversions_and_caps_the_next_at_nothing() {
        let (written, pending) = accrued_under(json!({"conversionsPerDay": 2}), 3).await;
        assert_eq!(
            written,
            [
                (Status::Pending, Some(100), vec![]),
                (Status::Pending, Some(100), vec![]),
                (Status::Capped, Some(0), holds(&["cap_conversions_per_day"])),
            ]
        );
        assert_eq!(pending, 200);
    }

    #[tokio::test]
    async fn the_month_cap_pays_up_to_its_amount_then_caps_at_nothing() {
        let (written, pending) = accrued_under(json!({"amountPerMonth": "2.50"}), 4).await;
        assert_eq!(
            written,
            [
                (Status::Pending, Some(100), vec![]),
                (Status::Pending, Some(100), vec![]),
                (
                    Status::Pending,
                    Some(50),
                    holds(&["cap_amount_per_month_partial"])
                ),
                (Status::Capped, Some(0), holds(&["cap_amount_per_month"])),
            ]
        );
        assert_eq!(pending, 250);
    }
}
