//! A binding moved by a decision (issue 63): an approved claim on a buyer bound to another
//! partner, when the decision says `binding: "move"`, binds the buyer to the claiming partner
//! from then on, keeping who it was bound to before, by what and when, and which claim moved
//! it and who decided (`moved`).
//!
//! Precedence against the other writers of a binding: a binding is otherwise only ever
//! created (put-if-absent), so the only writer that changes one is a decision; the move is ONE
//! `SetDoc` at the version the decision read, inside the decision's transaction, so two
//! decisions moving one buyer cannot both land (the second is refused and retried against the
//! new binding). The record's counters (conversions, revenue, commissions) are added to by
//! every sale without a condition; `SetDoc` keeps them, so no sale's count is lost to a move. A
//! conversion is attributed by the binding it read: one that read it before the move commits
//! credited to the former partner (its line is not the claimed sale's, and stays), every one
//! that reads it after is the new partner's.

use serde::{Deserialize, Serialize};

use super::{Customer, CustomerError, repo};
use crate::domain::time::Timestamp;
use crate::domain::{BoundBy, CampaignId, ClaimId, CustomerId, Handle, PartnerId};
use crate::platform::store::{Cond, Item, Store, WriteOp, keys};

/// What a moved binding was, and what moved it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Moved {
    pub from_partner_id: Option<PartnerId>,
    pub from_campaign_id: Option<CampaignId>,
    pub from_bound_by: BoundBy,
    pub from_bound_at: Timestamp,
    /// The claim (or reassignment) whose decision moved it, and who decided.
    pub claim_id: ClaimId,
    pub moved_by: String,
}

/// Where a binding moves to.
pub struct MoveTo<'a> {
    pub partner: &'a PartnerId,
    pub campaign: &'a CampaignId,
    pub claim: &'a ClaimId,
    pub by: &'a str,
    pub at_ms: i64,
}

/// The moved binding and the writes that move it (the record at the version read, its index
/// entries, an audit entry), for the decision's transaction; `None` when the customer is not
/// bound or is bound to that partner already. Round trips: the customer's and the campaign's
/// reads.
pub async fn ops(
    store: &dyn Store,
    handle: &Handle,
    customer_id: &CustomerId,
    to: &MoveTo<'_>,
) -> Result<Option<(Customer, Vec<WriteOp>)>, CustomerError> {
    let (pk, sk) = (keys::customers_pk(handle), customer_id.to_string());
    let Some(item) = store.get(&pk, &sk).await? else {
        return Ok(None);
    };
    let was: Customer = item.parse()?;
    if was.partner_id.as_ref() == Some(to.partner) {
        return Ok(None);
    }
    let campaign = crate::campaigns::get(store, handle, to.campaign)
        .await?
        .ok_or_else(|| {
            CustomerError::Invalid(format!(
                "campaignId: campaign {} does not exist.",
                to.campaign
            ))
        })?;
    // Its own click id, so the new partner's sales of this buyer are not the old binding's.
    let seed = format!("{handle}\n{customer_id}\nmoved\n{}", to.claim);
    let claims = super::bind::campaign_claims(handle, &campaign, super::bind::derived_click(&seed));
    let now = Customer {
        click_id: claims.click_id.clone(),
        campaign_id: Some(to.campaign.clone()),
        partner_id: Some(to.partner.clone()),
        bound_at: Timestamp::from_millis(to.at_ms),
        bound_by: BoundBy::Claim,
        // The flag was the old partner's own email; the new partner's is not checked here.
        flags: Vec::new(),
        claims,
        moved: Some(Moved {
            from_partner_id: was.partner_id.clone(),
            from_campaign_id: was.campaign_id.clone(),
            from_bound_by: was.bound_by,
            from_bound_at: was.bound_at.clone(),
            claim_id: to.claim.clone(),
            moved_by: to.by.to_owned(),
        }),
        ..was.clone()
    };
    let doc = crate::platform::store::to_doc(&now)?;
    let mut ops = vec![WriteOp::SetDoc {
        item: Item::new(pk, sk, doc).with_version(item.version + 1),
        cond: Cond::Version(item.version),
    }];
    for (pk, sk) in repo::entries(handle, &was, was.bound_at.millis()) {
        ops.push(WriteOp::Delete {
            pk,
            sk,
            cond: Cond::None,
        });
    }
    for (pk, sk) in repo::entries(handle, &now, to.at_ms) {
        ops.push(WriteOp::Put {
            item: Item::new(pk, sk, serde_json::json!({})),
            cond: Cond::None,
        });
    }
    let from = was
        .partner_id
        .as_ref()
        .map_or_else(|| "no partner".to_owned(), |p| format!("partner {p}"));
    let what = format!(
        "customer {customer_id}: from {from} to partner {} by claim {}",
        to.partner, to.claim
    );
    ops.push(crate::kernel::audit::entry(
        handle,
        "customer.moved",
        &what,
    )?);
    Ok(Some((now, ops)))
}
