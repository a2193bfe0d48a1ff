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
    /// A rotated code (issue 63): the code that replaced it, and when it stops attributing
    /// (after the rotation's grace period).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<CouponCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retires_at: Option<Timestamp>,
}

impl Coupon {
    /// The code still attributes sales at `now_ms` (a rotated one until its grace ends).
    pub fn attributes_at(&self, now_ms: i64) -> bool {
        self.retires_at.as_ref().is_none_or(|t| t.millis() > now_ms)
    }
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
    #[error("Coupon code {0} was already replaced by {1}; rotate {1} instead.")]
    Rotated(CouponCode, CouponCode),
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
        replaced_by: None,
        retires_at: None,
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

/// At most this many days of grace for a rotated code.
pub const MAX_GRACE_DAYS: u32 = 365;

/// A rotation's outcome: the new code, and the old one with when it stops attributing.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rotated {
    pub coupon: Coupon,
    pub replaced: Coupon,
}

/// Replaces `partner`'s `old` code with `new` (issue 63: a leaked code): `new` attributes from
/// now, on the same campaign; `old` keeps attributing for `grace_days`, then stops. A code is
/// rotated once (its lock is put-if-absent), so two rotations at once make one new code.
/// Round trips: ONE read, ONE transaction.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn rotate(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    (old, new): (&CouponCode, CouponCode),
    grace_days: u32,
) -> Result<Rotated, CouponError> {
    if grace_days > MAX_GRACE_DAYS {
        return Err(CouponError::Invalid(format!(
            "graceDays: must be 0 to {MAX_GRACE_DAYS} days."
        )));
    }
    let not_found = || CouponError::NotFound(format!("Coupon code {old} of partner {partner}"));
    let mut replaced = lookup(store, handle, old).await?.ok_or_else(not_found)?;
    if replaced.partner_id != *partner {
        return Err(not_found());
    }
    if let Some(by) = replaced.replaced_by.clone() {
        return Err(CouponError::Rotated(replaced.code, by));
    }
    if new.key() == old.key() {
        return Err(CouponError::Invalid(
            "newCode: must differ from the code it replaces (whatever the case).".into(),
        ));
    }
    let now = crate::platform::time::now_millis();
    let coupon = Coupon {
        code: new,
        partner_id: partner.clone(),
        campaign_id: replaced.campaign_id.clone(),
        created_at: Timestamp::from_millis(now),
        replaced_by: None,
        retires_at: None,
    };
    replaced.replaced_by = Some(coupon.code.clone());
    replaced.retires_at = Some(Timestamp::from_millis(
        now + i64::from(grace_days) * 86_400_000,
    ));
    let ops = rotation_ops(handle, &coupon, &replaced)?;
    match store.transact(ops).await {
        Ok(()) => Ok(Rotated { coupon, replaced }),
        Err(StoreError::TxConflict { index: 0, .. }) => {
            let by = lookup(store, handle, old)
                .await?
                .and_then(|c| c.replaced_by);
            Err(CouponError::Rotated(
                replaced.code,
                by.unwrap_or(coupon.code),
            ))
        }
        Err(StoreError::TxConflict { index: 1, .. }) => Err(CouponError::Taken(coupon.code)),
        Err(e) => Err(e.into()),
    }
}

/// The rotation's lock first, then the new code (index 1: taken), its listing copy, and the
/// old code's two items marked.
fn rotation_ops(
    handle: &Handle,
    coupon: &Coupon,
    replaced: &Coupon,
) -> Result<Vec<WriteOp>, StoreError> {
    let new_doc = crate::platform::store::to_doc(coupon)?;
    let old_doc = crate::platform::store::to_doc(replaced)?;
    let lock = serde_json::json!({"replacedBy": coupon.code.to_string()});
    let index = keys::partner_coupons_pk(handle, &coupon.partner_id);
    let (new_key, old_key) = (coupon.code.key(), replaced.code.key());
    Ok(vec![
        WriteOp::Put {
            item: Item::new(keys::coupon_rotations_pk(handle), old_key.clone(), lock),
            cond: Cond::Absent,
        },
        WriteOp::Put {
            item: Item::new(keys::coupons_pk(handle), new_key.clone(), new_doc.clone()),
            cond: Cond::Absent,
        },
        WriteOp::Put {
            item: Item::new(index.clone(), new_key, new_doc),
            cond: Cond::None,
        },
        WriteOp::Put {
            item: Item::new(keys::coupons_pk(handle), old_key.clone(), old_doc.clone()),
            cond: Cond::Exists,
        },
        WriteOp::Put {
            item: Item::new(index, old_key, old_doc),
            cond: Cond::None,
        },
    ])
}
