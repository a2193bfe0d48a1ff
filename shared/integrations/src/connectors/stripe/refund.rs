//! Refunds: `charge.refunded` (the charge's `amount_refunded`, what was refunded of it so far)
//! and `refund.created` (one refund's `amount`) reverse the sale the charge paid, found by the
//! charge, its payment intent or its invoice. A refund whose sale has not arrived is parked
//! under its payment and applied when the sale does. Refunds add up: a later, larger total
//! replaces the sale's reversal (`conversions::reverse::reverse_to`; its commission moves by
//! the difference), never past the sale's value; a smaller or repeated total changes nothing.

use rust_decimal::Decimal;

use super::{Event, STRIPE, StripeError, money};
use crate::connectors::log::{Outcome, Status};
use crate::connectors::payments::{self, Payment};
use crate::conversions::reverse::{self, ReverseError, ValidReverse};

/// Applies `charge.refunded`.
pub async fn charge_refunded(ev: &Event<'_>) -> Result<Outcome, StripeError> {
    let refunded = ev.int("amount_refunded").unwrap_or(0);
    let mut ids: Vec<String> = ev
        .str("id")
        .filter(|id| super::valid_id(id))
        .map(str::to_owned)
        .into_iter()
        .collect();
    ids.extend(
        ["payment_intent", "invoice"]
            .iter()
            .filter_map(|f| ev.id_of(f))
            .map(str::to_owned),
    );
    refund_to(ev, &ids, refunded).await
}

/// Applies `refund.created`: this refund's amount, as a lower bound of what was refunded.
pub async fn created(ev: &Event<'_>) -> Result<Outcome, StripeError> {
    let amount = ev.int("amount").unwrap_or(0);
    let ids: Vec<String> = ["charge", "payment_intent"]
        .iter()
        .filter_map(|f| ev.id_of(f))
        .map(str::to_owned)
        .collect();
    refund_to(ev, &ids, amount).await
}

/// Reverses the sale of `ids` to `refunded` of Stripe's minor units in all.
async fn refund_to(ev: &Event<'_>, ids: &[String], refunded: i64) -> Result<Outcome, StripeError> {
    let (Some(_), Some(currency)) = (ids.first(), ev.str("currency")) else {
        return Ok(Outcome::with(
            Status::Failed,
            "the refund names no charge or no currency",
        ));
    };
    if refunded <= 0 {
        return Ok(Outcome::with(Status::Ignored, "nothing was refunded"));
    }
    let store = ev.deps.store();
    let Some(sale) = payments::find(store, ev.handle, STRIPE, ids).await? else {
        super::parked::park(ev, ids).await?;
        return Ok(Outcome::with(
            Status::Parked,
            "its sale has not arrived yet: applied when it does",
        ));
    };
    let (amount, currency) = money::major(refunded, currency);
    if currency != sale.currency.as_str() {
        return Ok(Outcome::with(
            Status::Failed,
            format!("refund in {currency}, sale in {}", sale.currency),
        ));
    }
    reverse_sale(ev, &sale, amount.min(sale.value)).await
}

/// The sale's reversal of `amount` (`None` from an existing reversal: answered as it is).
async fn reverse_sale(
    ev: &Event<'_>,
    sale: &Payment,
    amount: Decimal,
) -> Result<Outcome, StripeError> {
    let id = sale.conversion_id.clone();
    let request = ValidReverse {
        reason: "refund".to_owned(),
        amount: Some(amount),
    };
    let done = match reverse::reverse_to(ev.deps.io(), ev.handle, &id, &request, "stripe").await {
        Ok((data, _)) => data,
        Err(ReverseError::Store(e)) => return Err(e.into()),
        Err(ReverseError::Busy) => {
            return Err(crate::platform::store::StoreError::Unavailable("busy".into()).into());
        }
        Err(e) => return Ok(Outcome::with(Status::Failed, e.to_string())),
    };
    let reversed = done
        .reversal
        .as_ref()
        .and_then(|r| r.amount)
        .unwrap_or(sale.value);
    let outcome = Outcome::processed(Some(sale.conversion_id.clone()));
    if reversed < amount {
        let why = format!(
            "{amount} {} refunded in all; the conversion's one reversal holds {reversed}",
            sale.currency
        );
        return Ok(Outcome {
            status: Status::Failed,
            reason: Some(why),
            ..outcome
        });
    }
    Ok(outcome)
}
