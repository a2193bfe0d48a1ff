//! What the embedded dashboard shows of one partner: its links, its earnings per currency and
//! its latest payouts. Amounts are decimal strings, as everywhere in the API.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::domain::time::Timestamp;
use crate::domain::{Handle, PartnerId, PayoutId};
use crate::platform::config::Config;
use crate::platform::store::{Store, StoreError};

/// Links and payouts one answer holds at most.
const MAX_LINKS: usize = 20;
const MAX_PAYOUTS: usize = 12;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Referrals {
    pub partner_id: PartnerId,
    pub partner_name: String,
    /// The program's name (its mail branding's, else the handle).
    pub program: String,
    pub links: Vec<EmbedLink>,
    pub earnings: Vec<Earnings>,
    pub payouts: Vec<EmbedPayout>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EmbedLink {
    pub short_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// One currency's amounts: waiting (pending and held), approved, paid, and owed back.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Earnings {
    pub currency: String,
    pub pending: String,
    pub approved: String,
    pub paid: String,
    pub owed_back: String,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EmbedPayout {
    pub payout_id: PayoutId,
    pub amount: String,
    pub currency: String,
    pub status: crate::payouts::model::PayoutStatus,
    pub created_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<Timestamp>,
}

/// `partner`'s dashboard. Round trips: the partner, the branding, the campaigns, the balance
/// items and the payouts side by side, then the handle's links (a page per 1,000).
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn referrals(
    store: &dyn Store,
    config: &Config,
    handle: &Handle,
    partner: &PartnerId,
) -> Result<Referrals, StoreError> {
    let (found, branding, campaigns, sums, payouts) = futures::try_join!(
        crate::partners::get(store, handle, partner),
        crate::mail::branding::get(store, handle),
        crate::campaigns::list_all(store, handle),
        crate::ledger::balances::partner_sums(store, handle, Some(partner)),
        crate::payouts::of_partner::list(store, handle, partner, MAX_PAYOUTS, None),
    )?;
    let own: BTreeSet<_> = campaigns
        .into_iter()
        .filter(|c| c.partner_id.as_ref() == Some(partner))
        .map(|c| c.campaign_id)
        .collect();
    let links = crate::links::of_campaigns(store, handle, &own, MAX_LINKS).await?;
    Ok(Referrals {
        partner_id: partner.clone(),
        partner_name: found.map(|p| p.name).unwrap_or_default(),
        program: branding.map_or_else(|| handle.to_string(), |b| b.name),
        links: links
            .into_iter()
            .map(|l| EmbedLink {
                short_url: config.short_url(handle.as_str(), l.slug.as_str()),
                title: l.title,
            })
            .collect(),
        earnings: sums
            .into_iter()
            .map(|((_, currency), s)| Earnings {
                currency: currency.to_string(),
                pending: currency.format(s.pending.saturating_add(s.held)),
                approved: currency.format(s.approved),
                paid: currency.format(s.paid),
                owed_back: currency.format(s.open_negative.saturating_neg()),
            })
            .collect(),
        payouts: payouts
            .0
            .into_iter()
            .map(|p| EmbedPayout {
                amount: p.currency.format(i128::from(p.amount_minor)),
                currency: p.currency.to_string(),
                status: p.status,
                payout_id: p.payout_id,
                created_at: p.created_at,
                paid_at: p.paid_at,
            })
            .collect(),
    })
}
