//! Balances: per partner and currency, what is pending, held, approved (payable or in a payout
//! not yet paid), paid, and owed back (open negative lines); and per campaign, the funnel's
//! amounts. Read from the running balance items (`commissions::running`), kept in the same
//! transaction as every ledger change, so a read costs what it answers, not the ledger's
//! length; summed in `i128`, so they match the ledger to the minor unit (`tenx ledger check`
//! proves it, [`recompute`]).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::{CampaignId, Currency, Handle, PartnerId};
use crate::ledger::model::{Commission, Status};
use crate::ledger::running;
use crate::platform::store::{Item, MAX_PAGE, Query, Store, StoreError, for_each_item, keys};

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
    /// One partner's test money in this currency (test mode's lines), apart from every figure
    /// above; only when a partner is asked for and it has test lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<Figures>,
}

/// A balance's five figures, formatted in their currency.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Figures {
    pub pending: String,
    pub held: String,
    pub approved: String,
    pub paid: String,
    pub open_negative: String,
}

impl Figures {
    fn of(currency: Currency, s: &Sums) -> Self {
        Figures {
            pending: currency.format(s.pending),
            held: currency.format(s.held),
            approved: currency.format(s.approved),
            paid: currency.format(s.paid),
            open_negative: currency.format(s.open_negative),
        }
    }
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

    /// Adds a running balance item's counters.
    pub fn add_item(&mut self, item: &Item) {
        for (slot, name) in [
            (&mut self.pending, running::PENDING),
            (&mut self.held, running::HELD),
            (&mut self.approved, running::APPROVED),
            (&mut self.paid, running::PAID),
            (&mut self.open_negative, running::OPEN_NEGATIVE),
        ] {
            *slot = slot.saturating_add(item.counter_wide(name));
        }
    }
}

/// Per (partner, currency): the running balance items summed over their parts. Round trips:
/// ONE query (a page per 1,000 items: partners × currencies × parts).
pub async fn partner_sums(
    store: &dyn Store,
    handle: &Handle,
    partner: Option<&PartnerId>,
) -> Result<BTreeMap<(PartnerId, Currency), Sums>, StoreError> {
    sums_in(store, keys::partner_balances_pk(handle), partner).await
}

/// [`partner_sums`] of test money (test mode's lines). Round trips: ONE query.
pub async fn test_partner_sums(
    store: &dyn Store,
    handle: &Handle,
    partner: Option<&PartnerId>,
) -> Result<BTreeMap<(PartnerId, Currency), Sums>, StoreError> {
    sums_in(store, keys::test_partner_balances_pk(handle), partner).await
}

async fn sums_in(
    store: &dyn Store,
    pk: String,
    partner: Option<&PartnerId>,
) -> Result<BTreeMap<(PartnerId, Currency), Sums>, StoreError> {
    let query = match partner {
        Some(p) => Query::prefix(pk, format!("{p}#"), MAX_PAGE),
        None => Query::all(pk),
    };
    let mut sums: BTreeMap<(PartnerId, Currency), Sums> = BTreeMap::new();
    for_each_item(store, query, |item| {
        let owner = item
            .sk
            .split('#')
            .next()
            .and_then(|p| PartnerId::parse(p).ok());
        let (Some(partner), Some(currency)) = (owner, running::currency_of_sk(&item.sk)) else {
            return Err(StoreError::Corrupt(format!("balance item {}", item.sk)));
        };
        sums.entry((partner, currency)).or_default().add_item(item);
        Ok(std::ops::ControlFlow::Continue(()))
    })
    .await?;
    Ok(sums)
}

/// The balances of a handle (one partner's, when given): every partner with a line, in each
/// currency it has lines in; one partner's with its test money apart. Round trips: ONE query
/// ([`partner_sums`]); for one partner, ONE more ([`test_partner_sums`]).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn balances(
    store: &dyn Store,
    handle: &Handle,
    partner: Option<&PartnerId>,
) -> Result<Vec<Balance>, StoreError> {
    let mut sums = partner_sums(store, handle, partner).await?;
    let mut test = match partner {
        Some(p) => test_partner_sums(store, handle, Some(p)).await?,
        None => BTreeMap::new(),
    };
    // Cleared test money leaves its items at zero: no test figures then.
    test.retain(|_, s| *s != Sums::default());
    for key in test.keys() {
        sums.entry(key.clone()).or_default();
    }
    Ok(sums
        .into_iter()
        .map(|((partner_id, currency), s)| {
            let test = test.get(&(partner_id.clone(), currency));
            Balance {
                test: test.map(|t| Figures::of(currency, t)),
                partner_id,
                currency,
                pending: currency.format(s.pending),
                held: currency.format(s.held),
                approved: currency.format(s.approved),
                paid: currency.format(s.paid),
                open_negative: currency.format(s.open_negative),
            }
        })
        .collect())
}

/// Per currency, a campaign's amounts of the lines created on the days `from` to `to`
/// (`yyyy-mm-dd`, inclusive). Round trips: ONE query (days × currencies × parts items).
pub async fn campaign_sums(
    store: &dyn Store,
    handle: &Handle,
    campaign: &CampaignId,
    from: &str,
    to: &str,
) -> Result<BTreeMap<Currency, Sums>, StoreError> {
    let pk = keys::campaign_balances_pk(handle, campaign);
    let query = Query::between(pk, format!("{from}#"), format!("{to}#~"));
    let mut sums: BTreeMap<Currency, Sums> = BTreeMap::new();
    for_each_item(store, query, |item| {
        let Some(currency) = running::currency_of_sk(&item.sk) else {
            return Err(StoreError::Corrupt(format!(
                "campaign amount item {}",
                item.sk
            )));
        };
        sums.entry(currency).or_default().add_item(item);
        Ok(std::ops::ControlFlow::Continue(()))
    })
    .await?;
    Ok(sums)
}

/// Per (link slug, currency): a partner's amounts of the lines that came through each of its
/// links, created on the days `from` to `to` (`yyyy-mm-dd`, inclusive). Lines without a link
/// (bonuses, claims, manual lines) are in none. Round trips: ONE query (days × links ×
/// currencies × parts items).
pub async fn link_sums(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    from: &str,
    to: &str,
) -> Result<BTreeMap<(String, Currency), Sums>, StoreError> {
    let pk = keys::link_earnings_pk(handle, partner);
    let query = Query::between(pk, format!("{from}#"), format!("{to}#~"));
    let mut sums: BTreeMap<(String, Currency), Sums> = BTreeMap::new();
    for_each_item(store, query, |item| {
        let slug = item.sk.split('#').nth(1).map(str::to_owned);
        let (Some(slug), Some(currency)) = (slug, running::currency_of_sk(&item.sk)) else {
            return Err(StoreError::Corrupt(format!(
                "link earnings item {}",
                item.sk
            )));
        };
        sums.entry((slug, currency)).or_default().add_item(item);
        Ok(std::ops::ControlFlow::Continue(()))
    })
    .await?;
    Ok(sums)
}

/// Per campaign of `campaigns`, the commission amounts of the lines created on the funnel's
/// days `from` to `to`. Round trips: ONE query per campaign, concurrently.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn per_campaign(
    store: &dyn Store,
    handle: &Handle,
    campaigns: &[CampaignId],
    from: &str,
    to: &str,
) -> Result<BTreeMap<CampaignId, crate::analytics::report::CommissionAmounts>, StoreError> {
    let reads = campaigns.iter().map(|c| async move {
        Ok::<_, StoreError>((c, campaign_sums(store, handle, c, from, to).await?))
    });
    let mut out: BTreeMap<CampaignId, crate::analytics::report::CommissionAmounts> =
        BTreeMap::new();
    for (campaign, sums) in futures::future::try_join_all(reads).await? {
        if sums.is_empty() {
            continue;
        }
        let entry = out.entry(campaign.clone()).or_default();
        for (currency, s) in sums {
            amounts(entry, currency, &s);
        }
    }
    Ok(out)
}

fn amounts(entry: &mut crate::analytics::report::CommissionAmounts, currency: Currency, s: &Sums) {
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
