//! Balances: per partner and currency, what is pending, held, approved (payable or in a payout
//! not yet paid), paid, and owed back (open negative lines). Summed in `i128` from the ledger, so
//! they match it to the minor unit.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::commissions::ledger::{Commission, Status};
use crate::domain::{Currency, Handle, PartnerId};
use crate::state::AppState;
use crate::store::StoreError;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sums {
    pub pending: i128,
    pub held: i128,
    pub approved: i128,
    pub paid: i128,
    pub open_negative: i128,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Balance {
    pub partner_id: PartnerId,
    pub currency: Currency,
    pub pending: String,
    pub held: String,
    pub approved: String,
    pub paid: String,
    pub open_negative: String,
}

impl Sums {
    pub fn add(&mut self, c: &Commission) {
        let m = c.minor();
        let slot = match c.status {
            Status::Pending => &mut self.pending,
            Status::Held => &mut self.held,
            Status::Approved if m < 0 && c.payout_id.is_none() => &mut self.open_negative,
            Status::Approved => &mut self.approved,
            Status::Paid => &mut self.paid,
            Status::Rejected | Status::Capped => return,
        };
        *slot = slot.saturating_add(m);
    }
}

/// The balances of a handle (one partner's, when given). Round trips: the ledger scan.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn balances(
    state: &AppState,
    handle: &Handle,
    partner: Option<&PartnerId>,
) -> Result<Vec<Balance>, StoreError> {
    let mut sums: BTreeMap<(PartnerId, Currency), Sums> = BTreeMap::new();
    super::for_each_line(state, handle, |c| {
        if partner.is_none_or(|p| &c.partner_id == p) {
            sums.entry((c.partner_id.clone(), c.currency))
                .or_default()
                .add(&c);
        }
    })
    .await?;
    Ok(sums
        .into_iter()
        .map(|((partner_id, currency), s)| Balance {
            partner_id,
            currency,
            pending: currency.format(s.pending),
            held: currency.format(s.held),
            approved: currency.format(s.approved),
            paid: currency.format(s.paid),
            open_negative: currency.format(s.open_negative),
        })
        .collect())
}

/// Per campaign, the commission amounts of the lines created from `from_ms` to `to_ms` (the
/// funnel's days). Round trips: the ledger scan.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn per_campaign(
    state: &AppState,
    handle: &Handle,
    from_ms: i64,
    to_ms: i64,
) -> Result<BTreeMap<String, crate::analytics::report::CommissionAmounts>, StoreError> {
    let mut sums: BTreeMap<(String, Currency), Sums> = BTreeMap::new();
    super::for_each_line(state, handle, |c| {
        let at = c.commission_id.unix_millis();
        if let (Some(campaign), true) = (&c.campaign_id, at >= from_ms && at <= to_ms) {
            sums.entry((campaign.to_string(), c.currency))
                .or_default()
                .add(&c);
        }
    })
    .await?;
    let mut out: BTreeMap<String, crate::analytics::report::CommissionAmounts> = BTreeMap::new();
    for ((campaign, currency), s) in sums {
        let entry = out.entry(campaign).or_default();
        let code = currency.to_string();
        let pending = s.pending.saturating_add(s.held);
        entry
            .commissions_pending_amount
            .insert(code.clone(), currency.format(pending));
        let approved = s.approved.saturating_add(s.open_negative);
        entry
            .commissions_approved_amount
            .insert(code.clone(), currency.format(approved));
        entry
            .commissions_paid_amount
            .insert(code, currency.format(s.paid));
    }
    Ok(out)
}
