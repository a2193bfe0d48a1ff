//! A connector's sale (issue 45): the conversion of a bound customer, submitted through the
//! customers service like the API's (its plan's `appliesTo` sees first and renewal sales), on
//! the verified channel, with a key derived from the provider's payment; then linked from the
//! payment's ids so its refunds and disputes find it.

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::Provider;
use super::payments::{self, Payment};
use crate::connectors::Deps;
use crate::conversions::record::Channel;
use crate::conversions::{ConversionError, Receipt};
use crate::customers::Customer;
use crate::customers::bind::{self, LeadError};
use crate::domain::Handle;
use crate::domain::conversion::ConversionInput;
use crate::platform::store::StoreError;

/// A sale as a provider reports it.
pub struct Sale<'a> {
    pub provider: Provider,
    pub customer: &'a Customer,
    /// `stripe:{invoice or payment intent id}`, `shopify:{order id}`.
    pub key: String,
    pub value: Decimal,
    pub currency: String,
    pub event_type: &'a str,
    pub test: bool,
    pub metadata: Map<String, Value>,
    /// Every id the provider may name this payment by later.
    pub payment_ids: Vec<String>,
    /// How the sale used a coupon code, when it named one (issue 63: the leak report's source).
    pub coupon: Option<crate::domain::CouponUse>,
}

/// The sale's conversion (`Ok(Err(why))` when it cannot be one: a value past the maximum, a
/// currency 10x does not take), linked from its payment ids. `Err`: transient, retry.
pub async fn record(
    deps: Deps<'_>,
    handle: &Handle,
    sale: Sale<'_>,
) -> Result<Result<Receipt, String>, StoreError> {
    let input = ConversionInput {
        idempotency_key: Some(sale.key.clone()),
        event_type: Some(sale.event_type.to_owned()),
        value: Some(Value::String(sale.value.to_string())),
        currency: Some(sale.currency.clone()),
        test: Some(sale.test),
        metadata: Some(Value::Object(sale.metadata.clone())),
    };
    let valid = input.validate().and_then(|c| c.within_max(deps.max_value));
    let mut conversion = match valid {
        Ok(c) => c,
        Err(e) => return Ok(Err(e.to_string())),
    };
    conversion.coupon = sale.coupon.clone();
    // Validated above with the sale's currency: the payment keeps the typed code.
    let Some(currency) = conversion.currency else {
        return Ok(Err("the sale has no currency".to_owned()));
    };
    let receipt = match bind::convert(
        deps.intake,
        handle,
        sale.customer,
        conversion,
        Channel::Verified,
    )
    .await
    {
        Ok(receipt) => receipt,
        Err(e) if transient(&e) => return Err(StoreError::Unavailable(e.to_string())),
        Err(e) => return Ok(Err(e.to_string())),
    };
    let payment = Payment {
        conversion_id: receipt.conversion_id.clone(),
        value: sale.value,
        currency,
    };
    payments::link(
        deps.store(),
        handle,
        sale.provider,
        &sale.payment_ids,
        &payment,
    )
    .await?;
    Ok(Ok(receipt))
}

/// Whether the provider should retry (the store or a rate limit), not be told it failed.
pub fn transient(e: &LeadError) -> bool {
    matches!(
        e,
        LeadError::Customer(crate::customers::CustomerError::Store(_))
            | LeadError::Conversion(ConversionError::Store(_) | ConversionError::Limited(_))
    )
}
