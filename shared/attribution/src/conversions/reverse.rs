//! Reversals (refunds, chargebacks): `POST …/conversions/{id}/reverse`. One per conversion, in
//! full or in part; a second call answers the first reversal. Exactly once like a conversion:
//! the reversal is written into the conversion record (version-checked) in the same transaction
//! as its `conversion.reversed` outbox entry, whose event id derives from the reversal id.

use rust_decimal::Decimal;
use serde::Deserialize;

use crate::domain::conversion::parse_value;
use crate::domain::{ConversionId, DomainError, Handle, ReversalId};
use crate::kernel::events::{ConversionData, Event, Reversal, ReversalData};
use crate::kernel::io::Io;
use crate::platform::store::{Cond, Item, StoreError};

pub const MAX_REASON_CHARS: usize = 200;
/// Concurrent reversals of one conversion settle within a few re-reads.
const MAX_ATTEMPTS: usize = 4;

/// The body of a reversal.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReverseInput {
    pub reason: Option<String>,
    /// A JSON number or decimal string; default: the conversion's whole value.
    pub amount: Option<serde_json::Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReverseError {
    #[error("Conversion {0} not found.")]
    NotFound(String),
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error("This conversion is being reversed concurrently; retry the same request.")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A validated reversal request.
pub struct ValidReverse {
    pub reason: String,
    pub amount: Option<Decimal>,
}

impl ReverseInput {
    pub fn validate(self) -> Result<ValidReverse, DomainError> {
        let reason = self
            .reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty())
            .ok_or_else(|| DomainError::new("reason", "is required"))?;
        if reason.chars().count() > MAX_REASON_CHARS || reason.chars().any(char::is_control) {
            return Err(DomainError::new(
                "reason",
                format!("must be 1 to {MAX_REASON_CHARS} printable characters"),
            ));
        }
        let amount = self.amount.as_ref().map(parse_value).transpose();
        let amount = amount.map_err(|e| DomainError::new("amount", e.message))?;
        // A reversal is final (one per conversion): reversing nothing would only use it up.
        if amount.is_some_and(|a| a.is_zero()) {
            return Err(DomainError::new("amount", "must be greater than zero"));
        }
        Ok(ValidReverse { reason, amount })
    }
}

/// The conversion with its reversal, and whether this call made it (`false`: it answers an
/// earlier one). Round trips: ONE read, ONE transaction, ONE enqueue (a replay: the read only).
#[tracing::instrument(skip_all, fields(handle = %handle, conversion = %id))]
pub async fn reverse(
    io: Io<'_>,
    handle: &Handle,
    id: &ConversionId,
    request: &ValidReverse,
    by: &str,
) -> Result<(ConversionData, bool), ReverseError> {
    let first_only = |data: &ConversionData| data.reversal.is_none().then_some(None);
    reverse_if(io, handle, id, request, by, first_only).await
}

/// A reversal to `request.amount` in all (a connector's refunds add up): the first one as
/// [`reverse`]; a larger amount than the conversion's reversal holds replaces it by a new
/// reversal naming what the earlier one reversed (`previousAmount`), and its
/// `conversion.reversed` moves the difference only; a smaller or equal one changes nothing.
/// Round trips: as [`reverse`].
#[tracing::instrument(skip_all, fields(handle = %handle, conversion = %id))]
pub async fn reverse_to(
    io: Io<'_>,
    handle: &Handle,
    id: &ConversionId,
    request: &ValidReverse,
    by: &str,
) -> Result<(ConversionData, bool), ReverseError> {
    let growing = |data: &ConversionData| match &data.reversal {
        None => Some(None),
        Some(r) if grows(r.amount, request.amount) => Some(r.amount),
        Some(_) => None,
    };
    reverse_if(io, handle, id, request, by, growing).await
}

/// Reverses the conversion when `due` says so (`Some(previous amount)`), version-checked and
/// re-read on a race; `None` answers the conversion as it is.
async fn reverse_if(
    io: Io<'_>,
    handle: &Handle,
    id: &ConversionId,
    request: &ValidReverse,
    by: &str,
    due: impl Fn(&ConversionData) -> Option<Option<Decimal>>,
) -> Result<(ConversionData, bool), ReverseError> {
    for _ in 0..MAX_ATTEMPTS {
        let (item, data) = super::record::load(io.store.as_ref(), handle, id)
            .await?
            .ok_or_else(|| ReverseError::NotFound(id.to_string()))?;
        let Some(previous) = due(&data) else {
            return Ok((data, false));
        };
        let reversal = Reversal {
            previous_amount: previous,
            ..reversal_of(&data, request, by)?
        };
        match commit(io, handle, item, &data, reversal).await {
            Ok(reversed) => return Ok((reversed, true)),
            // Another reversal won the race: answer it on the next read.
            Err(StoreError::TxConflict { index: 0, .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ReverseError::Busy)
}

/// Whether `wanted` reverses more than `held` (a reversal of the whole value holds all).
fn grows(held: Option<Decimal>, wanted: Option<Decimal>) -> bool {
    matches!((held, wanted), (Some(h), Some(w)) if w > h)
}

fn reversal_of(
    data: &ConversionData,
    request: &ValidReverse,
    by: &str,
) -> Result<Reversal, DomainError> {
    let amount = match (request.amount, data.value) {
        (None, value) => value,
        (Some(_), None) => {
            return Err(DomainError::new(
                "amount",
                "this conversion has no value to reverse an amount of",
            ));
        }
        (Some(amount), Some(value)) if amount > value => {
            return Err(DomainError::new(
                "amount",
                format!("must be at most the conversion's value ({value})"),
            ));
        }
        (Some(amount), Some(_)) => Some(amount),
    };
    Ok(Reversal {
        reversal_id: ReversalId::new(),
        reason: request.reason.clone(),
        amount,
        currency: data.currency,
        reversed_at: crate::platform::time::timestamp(),
        reversed_by: by.to_owned(),
        previous_amount: None,
    })
}

/// Round trip: `[conversion record at the version read, outbox entry]`, then the enqueue.
async fn commit(
    io: Io<'_>,
    handle: &Handle,
    item: Item,
    data: &ConversionData,
    reversal: Reversal,
) -> Result<ConversionData, StoreError> {
    let id = reversal.reversal_id.clone();
    let event_data = ReversalData {
        reversal: reversal.clone(),
        conversion: data.clone(),
    };
    let mut event = Event::new(handle, &event_data);
    event.id = id.event_id();
    let reversed = ConversionData {
        reversal: Some(reversal),
        ..data.clone()
    };
    let put = crate::platform::store::WriteOp::Put {
        item: Item::new(item.pk, item.sk, crate::platform::store::to_doc(&reversed)?)
            .with_version(item.version + 1),
        cond: Cond::Version(item.version),
    };
    let target = format!("{} (reversal {id})", data.conversion_id);
    let ops = vec![
        put,
        crate::kernel::outbox::record(&mut event),
        crate::kernel::audit::entry(handle, "conversion.reversed", &target)?,
    ];
    crate::kernel::outbox::commit_and_publish(
        io.store.clone(),
        io.queue.clone(),
        ops,
        std::slice::from_ref(&event),
    )
    .await?;
    Ok(reversed)
}
