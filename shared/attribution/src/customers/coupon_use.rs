//! How a sale used a coupon code (issue 63): with or without a click of the code's partner.
//! A click of the partner is the sale's ctx on one of that partner's campaigns, or (with no ctx)
//! the customer's binding to that partner by a click; anything else used the code alone, the
//! case a leaked code produces and the program's `couponWithoutClick` policy governs.

use crate::domain::{BoundBy, CouponCode, CouponUse, CtxClaims, CustomerId, Handle, PartnerId};
use crate::platform::store::{Store, StoreError};

/// What the sale names: its ctx, its customer, its coupon code and landing referrer.
pub struct Sale<'a> {
    pub ctx: Option<&'a CtxClaims>,
    pub customer: Option<&'a CustomerId>,
    pub code: Option<&'a CouponCode>,
    pub landing_referrer: Option<String>,
}

/// The sale's use of its coupon code; `None` without a code, or with a code the handle does
/// not have (the attribution says so when it needs the code). Round trips: the coupon's read;
/// then the ctx's campaign read when it is not the coupon's own campaign, or the customer's
/// read when the sale has no ctx; the program's read for a sale without a click (its policy
/// travels with the sale).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn of(
    store: &dyn Store,
    handle: &Handle,
    sale: Sale<'_>,
) -> Result<Option<CouponUse>, StoreError> {
    let Some(code) = sale.code else {
        return Ok(None);
    };
    let Some(coupon) = super::coupons::lookup(store, handle, code).await? else {
        return Ok(None);
    };
    let with_click = match (sale.ctx, sale.customer) {
        (Some(ctx), _) => ctx_is_partners(store, handle, ctx, &coupon).await?,
        (None, Some(customer)) => {
            bound_by_click(store, handle, customer, &coupon.partner_id).await?
        }
        (None, None) => false,
    };
    let rules = match with_click {
        true => None,
        false => crate::programs::settings::get(store, handle)
            .await?
            .map(|p| p.coupon_rules())
            .filter(|r| r.without_click != crate::domain::coupon_rules::CouponWithoutClick::Pay),
    };
    Ok(Some(CouponUse {
        code: coupon.code.to_string(),
        partner_id: coupon.partner_id,
        with_click,
        landing_referrer: sale.landing_referrer,
        rules,
    }))
}

/// The ctx's click is on one of the coupon partner's campaigns.
async fn ctx_is_partners(
    store: &dyn Store,
    handle: &Handle,
    ctx: &CtxClaims,
    coupon: &super::coupons::Coupon,
) -> Result<bool, StoreError> {
    let Some(campaign) = &ctx.campaign_id else {
        return Ok(false);
    };
    if *campaign == coupon.campaign_id {
        return Ok(true);
    }
    let found = crate::campaigns::get(store, handle, campaign).await?;
    Ok(found.and_then(|c| c.partner_id) == Some(coupon.partner_id.clone()))
}

/// The customer is bound to `partner` by a visitor's click.
async fn bound_by_click(
    store: &dyn Store,
    handle: &Handle,
    customer: &CustomerId,
    partner: &PartnerId,
) -> Result<bool, StoreError> {
    let bound = super::repo::get(store, handle, customer).await?;
    Ok(bound
        .is_some_and(|(c, _)| c.bound_by == BoundBy::Ctx && c.partner_id.as_ref() == Some(partner)))
}
