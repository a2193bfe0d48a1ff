//! A conversion's attribution, in the contract's order: the customer's binding, else the ctx,
//! else the coupon code. Both channels (`POST /v2/public/conversions` and the merchant's
//! `POST /v2/handles/{handle}/conversions`) call this one use case: the order spans the
//! conversions and the customers, so it lives here, in the context that owns both, not in a
//! handler.

use tracing::instrument;

use crate::conversions::{Channel, Intake, Receipt, submit as record};
use crate::customers::CustomerError;
use crate::customers::bind::{self, Binder, LeadError};
use crate::customers::coupon_use::{self, Sale};
use crate::domain::conversion::ValidConversion;
use crate::domain::{CouponCode, CtxClaims, CustomerId, Handle};
use crate::platform::store::StoreError;

/// What a conversion is attributed by, as the caller sent it.
pub struct By {
    /// The click's signed context (verified by the caller).
    pub ctx: Option<CtxClaims>,
    /// The merchant's customer, whose binding (if any) wins over everything else.
    pub customer: Option<CustomerId>,
    /// A coupon code used at checkout.
    pub coupon: Option<CouponCode>,
    /// The page the buyer landed on (a coupon's leak is told by its referrer).
    pub landing: Option<String>,
}

/// What attributing uses: the conversion's intake and the customers' binder.
#[derive(Clone, Copy)]
pub struct Attribution<'a> {
    pub intake: Intake<'a>,
    pub binder: Binder<'a>,
}

#[derive(Debug, thiserror::Error)]
pub enum AttributeError {
    /// No customer, no ctx and no coupon: nothing says whose sale it is.
    #[error("ctx is required.")]
    NothingToAttributeBy,
    #[error(transparent)]
    Lead(#[from] LeadError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<CustomerError> for AttributeError {
    fn from(e: CustomerError) -> Self {
        AttributeError::Lead(e.into())
    }
}

impl From<crate::conversions::ConversionError> for AttributeError {
    fn from(e: crate::conversions::ConversionError) -> Self {
        AttributeError::Lead(e.into())
    }
}

/// Records `conversion` for `handle`, attributed by its customer's binding (binding the customer
/// to the ctx's click or the coupon's partner first when it has none), else by its ctx, else by
/// its coupon code alone.
#[instrument(skip_all, fields(handle = %handle))]
pub async fn submit(
    deps: Attribution<'_>,
    handle: &Handle,
    by: By,
    mut conversion: ValidConversion,
    channel: Channel,
) -> Result<Receipt, AttributeError> {
    let store = deps.intake.io.store.as_ref();
    let sale = Sale {
        ctx: by.ctx.as_ref(),
        customer: by.customer.as_ref(),
        code: by.coupon.as_ref(),
        landing_referrer: by.landing.clone(),
    };
    conversion.coupon = coupon_use::of(store, handle, sale).await?;
    let Some(id) = by.customer else {
        let claims = match (by.ctx, &by.coupon) {
            (Some(claims), _) => claims,
            (None, Some(code)) => {
                bind::coupon_claims(store, handle, code, &conversion.idempotency_key).await?
            }
            (None, None) => return Err(AttributeError::NothingToAttributeBy),
        };
        return Ok(record(deps.intake, &claims, conversion, channel).await?);
    };
    let bound = bind::attributed(deps.binder, handle, &id, by.ctx, by.coupon.as_ref()).await?;
    Ok(match bound {
        Some(bound) => bind::convert(deps.intake, handle, &bound, conversion, channel).await?,
        // Bound to no one and nothing to bind it by: recorded, unattributed.
        None => bind::unattributed(deps.intake, handle, &id, conversion, channel).await?,
    })
}
