//! Coupon codes (issue 44): a code a partner hands out, bound to one of its campaigns, so a sale
//! that carries it and nothing else (no ctx, no binding) is attributed to that partner and binds
//! its customer (`boundBy: "coupon"`).
//!
//! Items: `H#{handle}#CPN` / `{code in lower case}` (unique per handle whatever the case: the
//! put is conditional on its absence), and a copy in `H#{handle}#CPNP#{partner}` for the
//! partner's listing. Both are written, and deleted, in one transaction. A code is never
//! changed: delete it and create another.

use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::{CampaignId, CouponCode, Handle, PartnerId};
use crate::platform::store::{Cond, Item, Query, Store, StoreError, WriteOp, keys};

/// A coupon code as stored and answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Coupon {
    pub code: CouponCode,
    pub partner_id: PartnerId,
    pub campaign_id: CampaignId,
    pub created_at: Timestamp,
}

/// Why a coupon request failed.
#[derive(Debug, thiserror::Error)]
pub enum CouponError {
    #[error("{0}")]
    Invalid(String),
    #[error("Coupon code {0} already exists (codes are unique per handle, whatever their case).")]
    Taken(CouponCode),
    #[error("{0} was not found.")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates `code` for `partner` on `campaign` (which must be the partner's). Round trips: the
/// partner's and the campaign's reads (concurrent), then ONE transaction.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn create(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    code: CouponCode,
    campaign: &CampaignId,
) -> Result<Coupon, CouponError> {
    let (found_partner, found_campaign) = tokio::try_join!(
        crate::partners::get(store, handle, partner),
        crate::campaigns::get(store, handle, campaign),
    )?;
    if found_partner.is_none() {
        return Err(CouponError::NotFound(format!("Partner {partner}")));
    }
    let owner = found_campaign.map(|c| c.partner_id);
    if owner != Some(Some(partner.clone())) {
        return Err(CouponError::Invalid(format!(
            "campaignId: campaign {campaign} is not partner {partner}'s."
        )));
    }
    let coupon = Coupon {
        code,
        partner_id: partner.clone(),
        campaign_id: campaign.clone(),
        created_at: crate::platform::time::timestamp(),
    };
    let doc = crate::platform::store::to_doc(&coupon)?;
    let key = coupon.code.key();
    let index = keys::partner_coupons_pk(handle, partner);
    let ops = vec![
        WriteOp::Put {
            item: Item::new(keys::coupons_pk(handle), key.clone(), doc.clone()),
            cond: Cond::Absent,
        },
        WriteOp::Put {
            item: Item::new(index, key, doc),
            cond: Cond::None,
        },
    ];
    match store.transact(ops).await {
        Ok(()) => Ok(coupon),
        Err(StoreError::TxConflict { index: 0, .. }) => Err(CouponError::Taken(coupon.code)),
        Err(e) => Err(e.into()),
    }
}

/// The coupon `code` names on `handle`, whatever its case. Round trips: ONE read.
pub async fn lookup(
    store: &dyn Store,
    handle: &Handle,
    code: &CouponCode,
) -> Result<Option<Coupon>, StoreError> {
    let item = store.get(&keys::coupons_pk(handle), &code.key()).await?;
    item.map(|i| i.parse::<Coupon>()).transpose()
}

/// A page of `partner`'s codes, in code order. Round trips: ONE query.
pub async fn list(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    limit: usize,
    after: Option<String>,
) -> Result<(Vec<Coupon>, Option<String>), StoreError> {
    let pk = keys::partner_coupons_pk(handle, partner);
    let mut q = Query::all(pk);
    q.limit = limit;
    q.after = after;
    store.query(q).await?.parsed()
}

/// Deletes `partner`'s `code` (404 when it is not the partner's). Conversions it attributed and
/// customers it bound stay as they are. Round trips: ONE read, ONE transaction.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn delete(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    code: &CouponCode,
) -> Result<(), CouponError> {
    let not_found = || CouponError::NotFound(format!("Coupon code {code} of partner {partner}"));
    let coupon = lookup(store, handle, code).await?.ok_or_else(not_found)?;
    if coupon.partner_id != *partner {
        return Err(not_found());
    }
    let key = code.key();
    let index = keys::partner_coupons_pk(handle, partner);
    let ops = vec![
        WriteOp::Delete {
            pk: keys::coupons_pk(handle),
            sk: key.clone(),
            cond: Cond::Exists,
        },
        WriteOp::Delete {
            pk: index,
            sk: key,
            cond: Cond::None,
        },
    ];
    match store.transact(ops).await {
        Ok(()) => Ok(()),
        // Deleted by a concurrent request: the outcome asked for.
        Err(StoreError::TxConflict { index: 0, .. }) => Err(not_found()),
        Err(e) => Err(e.into()),
    }
}
