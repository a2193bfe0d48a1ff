//! A batch's conversions accrued together (issue 58): the events consumer hands the ledger up to
//! ten `conversion.created` events at once, and a backlog of 1,000 must drain within two
//! minutes. One by one ([`accrue::accrue_in`]) each cost its own reads of the line, the
//! campaign, the plan and the partner, then its own transaction, send and confirmations: about
//! ten round trips in a row per conversion. Here the batch reads each campaign's terms once,
//! drafts every line, and writes them in as few transactions as fit ([`batch::create_many`]),
//! their balance moves summed; the lines' `commission.created` events go in one send.
//!
//! The lines are the ones [`accrue::accrue_in`] writes (the same draft, confidence hold and
//! caps, the same put-if-absent), so the rules are written once: whatever the batch cannot
//! decide alone goes to it, one by one. That is a line whose plan counts the partner's month
//! (tiers, bonuses: each line is rated by the tally the one before it moved), and every line of
//! a transaction that was refused (a line already there from an earlier delivery, a cap met, a
//! counter moved meanwhile): the one-by-one path reads the line first and finds it, or decides
//! the cap, so nothing is written twice and nothing is skipped.

use std::collections::HashMap;

use crate::domain::{CampaignId, CommissionId, Handle};
use crate::kernel::events::ConversionData;
use crate::kernel::io::Io;
use crate::ledger::accrue::{self, Terms, Write};
use crate::ledger::confidence::{self, Memo};
use crate::ledger::risk_holds::RiskHolds;
use crate::ledger::{batch, due, view};
use crate::plans::model::Plan;
use crate::plans::tally::Standing;
use crate::platform::store::{Store, StoreError};
use crate::{campaigns, partners, plans};

/// Accrues every conversion of `conversions` (one handle's, in the order received): each gets
/// its one line, or none when nothing is owed.
/// Round trips: per campaign of the batch, the campaign, its recent plan versions (one query)
/// and its partner; the confidence per campaign and day; ONE transaction per ~10 lines (8-9 writes each, measured; one
/// send of their events, one confirmation each); then the one-by-one cost for the lines it
/// leaves to [`accrue::accrue_in`].
#[tracing::instrument(skip_all, fields(handle = %handle, conversions = conversions.len()))]
pub async fn accrue_many(
    io: Io<'_>,
    risk: &dyn RiskHolds,
    (handle, memo): (&Handle, &mut Memo),
    conversions: &[&ConversionData],
) -> Result<(), StoreError> {
    let store = io.store.as_ref();
    let mut terms = TermsMemo::default();
    let mut drafts = Vec::with_capacity(conversions.len());
    let mut alone = Vec::new();
    for &c in conversions {
        // A test conversion is test money only in test mode, which the one-by-one path reads.
        if c.test {
            alone.push(c);
            continue;
        }
        let Some(t) = terms.of(store, handle, c).await? else {
            continue;
        };
        if t.plan.counts_month(&c.event_type) {
            alone.push(c);
            continue;
        }
        let received_ms = c.received_at.millis();
        let confidence = confidence::at_memo(store, handle, &t.campaign, received_ms, memo).await?;
        let id = CommissionId::of_conversion(&c.conversion_id);
        let month = Standing::default();
        let mut line = accrue::draft(store, risk, handle, c, id, &t, month).await?;
        confidence::hold_if_low(&mut line, confidence);
        let mut ops = line.create(handle)?;
        let caps = accrue::cap_ops(handle, &line, &t.plan, Write::Create);
        ops.extend(caps.into_iter().map(|(op, _)| op));
        ops.extend(due::entry(handle, &line));
        let emit = view::event(view::CommissionEvent::Created, &line);
        drafts.push(batch::Draft {
            line,
            ops,
            emit,
            source: c,
        });
    }
    let refused = batch::create_many(io, handle, drafts).await?;
    if !refused.is_empty() {
        tracing::debug!(
            refused = refused.len(),
            "lines of a refused transaction accrued one by one"
        );
    }
    for c in refused.into_iter().chain(alone) {
        accrue::accrue_in(io, risk, (handle, memo), c).await?;
    }
    Ok(())
}

/// The terms of a batch's conversions, read once per campaign: the campaign, its partner and
/// its recent plan versions (the version in force is picked per conversion by its time).
#[derive(Default)]
struct TermsMemo {
    campaigns: HashMap<CampaignId, Option<Known>>,
}

/// A campaign with a partner, as the batch read it.
struct Known {
    campaign: campaigns::Campaign,
    partner_id: crate::domain::PartnerId,
    partner_suspended: bool,
    plans: Vec<Plan>,
}

impl TermsMemo {
    /// [`accrue::terms`] of `c`, reading its campaign's items only the first time.
    async fn of(
        &mut self,
        store: &dyn Store,
        handle: &Handle,
        c: &ConversionData,
    ) -> Result<Option<Terms>, StoreError> {
        let Some(campaign_id) = c.campaign_id.clone() else {
            return Ok(None);
        };
        if !self.campaigns.contains_key(&campaign_id) {
            let known = read(store, handle, &campaign_id).await?;
            self.campaigns.insert(campaign_id.clone(), known);
        }
        let Some(known) = &self.campaigns[&campaign_id] else {
            return Ok(None);
        };
        let received = c.received_at.millis();
        let plan = match plans::in_force_among(&known.plans, received) {
            plans::Among::Found(plan) => plan.cloned(),
            plans::Among::Older => {
                plans::in_force_at(store, handle, &campaign_id, received).await?
            }
        };
        Ok(plan.map(|plan| Terms {
            campaign_id,
            campaign: known.campaign.clone(),
            plan,
            partner_suspended: known.partner_suspended,
            partner_id: known.partner_id.clone(),
        }))
    }
}

/// A campaign's terms as [`accrue::terms`] reads them. Round trips: the campaign, then ONE query
/// of its plans and its partner, side by side.
async fn read(
    store: &dyn Store,
    handle: &Handle,
    campaign_id: &CampaignId,
) -> Result<Option<Known>, StoreError> {
    let Some(campaign) = campaigns::get(store, handle, campaign_id).await? else {
        return Ok(None);
    };
    let Some(partner_id) = campaign.partner_id.clone() else {
        return Ok(None);
    };
    let (plans, partner) = futures::try_join!(
        plans::recent(store, handle, campaign_id),
        partners::get(store, handle, &partner_id)
    )?;
    let partner_suspended = partner.is_some_and(|p| p.status == partners::PartnerStatus::Suspended);
    Ok(Some(Known {
        campaign,
        partner_id,
        partner_suspended,
        plans,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::model::Status;
    use crate::ledger::tests::{
        Risk, acme, assert_books_agree, campaign_with_plan, conversion, events, io_parts, ledger,
        sums,
    };
    use serde_json::json;

    fn plan(caps: serde_json::Value) -> serde_json::Value {
        json!({"currency": "EUR", "holdDays": 0, "caps": caps,
            "rules": [{"eventType": "purchase", "flat": "1.00"}]})
    }

    #[tokio::test]
    async fn a_batch_writes_one_line_per_conversion_with_redeliveries_among_it() {
        let (store, queue) = io_parts();
        campaign_with_plan(store.as_ref(), plan(json!({})), false).await;
        let io = Io::new(&store, &queue);
        let (early, a, b) = (conversion("10"), conversion("10"), conversion("10"));
        let mut test = conversion("10");
        test.test = true;
        accrue::accrue(io, &Risk(Vec::new()), &acme(), &early)
            .await
            .unwrap();
        let batch = [&early, &a, &b, &a, &test];
        let mut memo = Memo::default();
        accrue_many(io, &Risk(Vec::new()), (&acme(), &mut memo), &batch)
            .await
            .unwrap();
        let mut ids: Vec<CommissionId> = ledger(store.as_ref())
            .await
            .into_iter()
            .map(|l| l.commission_id)
            .collect();
        ids.sort();
        let mut expected: Vec<CommissionId> = [&early, &a, &b]
            .iter()
            .map(|c| CommissionId::of_conversion(&c.conversion_id))
            .collect();
        expected.sort();
        assert_eq!(
            ids, expected,
            "one line each; none for test money outside test mode"
        );
        assert_eq!(sums(store.as_ref()).await.pending, 300);
        assert_eq!(
            events(queue.as_ref()).await.len(),
            3,
            "one commission.created each"
        );
        assert_books_agree(store.as_ref()).await;
    }

    #[tokio::test]
    async fn a_batch_caps_its_lines_as_the_one_by_one_path_does() {
        let (store, queue) = io_parts();
        campaign_with_plan(store.as_ref(), plan(json!({"conversionsPerDay": 2})), false).await;
        let io = Io::new(&store, &queue);
        let batch = [conversion("10"), conversion("10"), conversion("10")];
        let refs: Vec<&ConversionData> = batch.iter().collect();
        let mut memo = Memo::default();
        accrue_many(io, &Risk(Vec::new()), (&acme(), &mut memo), &refs)
            .await
            .unwrap();
        let mut statuses: Vec<(Status, Option<i64>)> = ledger(store.as_ref())
            .await
            .into_iter()
            .map(|l| (l.status, l.amount_minor))
            .collect();
        statuses.sort();
        assert_eq!(
            statuses,
            [
                (Status::Pending, Some(100)),
                (Status::Pending, Some(100)),
                (Status::Capped, Some(0))
            ]
        );
        assert_eq!(sums(store.as_ref()).await.pending, 200);
        assert_books_agree(store.as_ref()).await;
    }

    #[tokio::test]
    async fn a_batch_holds_a_suspended_partners_lines() {
        let (store, queue) = io_parts();
        campaign_with_plan(store.as_ref(), plan(json!({})), true).await;
        let io = Io::new(&store, &queue);
        let (a, b) = (conversion("10"), conversion("10"));
        let mut memo = Memo::default();
        accrue_many(io, &Risk(Vec::new()), (&acme(), &mut memo), &[&a, &b])
            .await
            .unwrap();
        let lines = ledger(store.as_ref()).await;
        assert_eq!(lines.len(), 2);
        for l in lines {
            assert_eq!(l.status, Status::Held);
            assert_eq!(l.reasons, ["partner_suspended"]);
        }
    }
}
