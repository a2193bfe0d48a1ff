//! `charge.dispute.created`: the disputed sale's commission held (reason `dispute`);
//! `charge.dispute.closed`: `won` releases it, `lost` reverses the whole sale (its commission
//! adjusted, or clawed back when paid). A dispute whose sale has not arrived is parked.

use super::{Event, STRIPE, StripeError};
use crate::connectors::log::{Outcome, Status};
use crate::connectors::payments;
use crate::conversions::reverse::{self, ReverseError, ValidReverse};
use crate::domain::ConversionId;
use crate::ledger::dispute::{self, Disputed};

/// Applies `charge.dispute.created` (`closed: false`) or `charge.dispute.closed`.
pub async fn changed(ev: &Event<'_>, closed: bool) -> Result<Outcome, StripeError> {
    let ids: Vec<String> = ["charge", "payment_intent"]
        .iter()
        .filter_map(|f| ev.id_of(f))
        .map(str::to_owned)
        .collect();
    if ids.is_empty() {
        return Ok(Outcome::with(Status::Failed, "the dispute names no charge"));
    }
    let store = ev.deps.store();
    let Some(sale) = payments::find(store, ev.handle, STRIPE, &ids).await? else {
        super::parked::park(ev, &ids).await?;
        return Ok(Outcome::with(
            Status::Parked,
            "its sale has not arrived yet: applied when it does",
        ));
    };
    let conversion = sale.conversion_id.clone();
    let done = match (closed, ev.str("status")) {
        (false, _) => dispute::hold(ev.deps.store(), ev.handle, &conversion).await?,
        (true, Some("won")) => dispute::release(ev.deps.store(), ev.handle, &conversion).await?,
        (true, Some("lost")) => return lost(ev, &conversion, &sale).await,
        (true, other) => {
            let why = format!("a closed dispute with status {}", other.unwrap_or("none"));
            return Ok(Outcome::with(Status::Ignored, why));
        }
    };
    let outcome = Outcome::processed(Some(sale.conversion_id));
    Ok(match done {
        Disputed::Held | Disputed::Released => outcome,
        Disputed::Unchanged(why) => Outcome {
            reason: Some(why.to_owned()),
            ..outcome
        },
    })
}

/// A lost dispute: the whole sale reversed (its hold replaced by the reversal's adjustment, or
/// a clawback once paid).
async fn lost(
    ev: &Event<'_>,
    conversion: &ConversionId,
    sale: &payments::Payment,
) -> Result<Outcome, StripeError> {
    let request = ValidReverse {
        reason: "dispute_lost".to_owned(),
        amount: Some(sale.value),
    };
    match reverse::reverse_to(ev.deps.io(), ev.handle, conversion, &request, "stripe").await {
        Ok(_) => Ok(Outcome::processed(Some(sale.conversion_id.clone()))),
        Err(ReverseError::Store(e)) => Err(e.into()),
        Err(ReverseError::Busy) => {
            Err(crate::platform::store::StoreError::Unavailable("busy".into()).into())
        }
        Err(e) => Ok(Outcome::with(Status::Failed, e.to_string())),
    }
}
