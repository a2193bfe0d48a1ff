//! The conversion write path: one conditional transaction, then one enqueue.

use axum::http::{header, HeaderValue, StatusCode};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::idempotency::{judge, Existing, IdempotencyRecord};
use crate::domain::conversion::ValidConversion;
use crate::domain::{CtxClaims, Handle};
use crate::error::ApiError;
use crate::events::{ConversionData, Event, EventType};
use crate::ratelimit::{self, Window};
use crate::state::AppState;
use crate::store::{keys, now_unix, Cond, Item, StoreError, WriteOp};

/// Rate-limit bucket of conversion submissions (per handle).
pub const CONVERSIONS_BUCKET: &str = "c";

/// Positions in the transaction (the idempotency record first: a replay is recognised before
/// any other condition is looked at).
const OP_KEY: usize = 0;
const OP_RATE: usize = 3;

/// Abandoned in-progress records or a record that expired mid-race may cost a retry; more than
/// a few means something else is wrong.
const MAX_ATTEMPTS: usize = 4;

/// The response of a submission, stored verbatim in the idempotency record and replayed with
/// `deduped: true`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    pub accepted: bool,
    pub deduped: bool,
    pub conversion_id: String,
    pub click_id: String,
    pub campaign_id: Option<String>,
    pub event_type: String,
    #[serde(with = "money")]
    pub value: Option<Decimal>,
    pub currency: Option<String>,
    pub test: bool,
    pub received_at: String,
}

/// `value` as a JSON number that reads back as exactly the stored decimal.
mod money {
    use rust_decimal::Decimal;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        use rust_decimal::prelude::ToPrimitive;
        match v {
            // Whole amounts print as integers (`10`, not `10.0`).
            Some(d) if d.fract().is_zero() => match d.to_u64() {
                Some(n) => s.serialize_u64(n),
                None => s.serialize_f64(crate::domain::conversion::value_to_f64(d)),
            },
            Some(d) => s.serialize_f64(crate::domain::conversion::value_to_f64(d)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        // Reads a number through its shortest decimal text, as the API input does.
        rust_decimal::serde::float_option::deserialize(d)
    }
}

/// Records a conversion exactly once per `(handle, idempotency key)`.
///
/// Round-trip budget (enforced here): ONE store transaction, then ONE enqueue on a first
/// submission; a replay is answered from the cancelled transaction's `current` item (plus one
/// consistent read only if the backend did not return it) and enqueues nothing.
pub async fn submit(
    state: &AppState,
    ctx: &CtxClaims,
    conversion: ValidConversion,
) -> Result<Receipt, ApiError> {
    // The ctx is signed by us, so its handle is valid; refuse rather than trust otherwise.
    let handle = Handle::parse(&ctx.handle)
        .map_err(|_| ApiError::invalid_ctx("The ctx token names an invalid handle."))?;
    let payload_hash = conversion.payload_hash(&ctx.click_id);
    let uuid = uuid::Uuid::now_v7().simple().to_string();
    let received_at = crate::time::now_rfc3339();
    let data = ConversionData {
        conversion_id: format!("cnv_{uuid}"),
        idempotency_key: conversion.idempotency_key.clone(),
        click_id: ctx.click_id.clone(),
        campaign_id: ctx.campaign_id.clone(),
        slug: ctx.slug.clone(),
        event_type: conversion.event_type.clone(),
        value: conversion.value,
        currency: conversion.currency.clone(),
        test: conversion.test,
        metadata: conversion.metadata.clone().map(serde_json::Value::Object),
        country: ctx.country.clone(),
        device: ctx.device.clone(),
        source: ctx.source.clone(),
        referrer: ctx.referrer.clone(),
        segment: ctx.segment.clone(),
        received_at: received_at.clone(),
    };
    let receipt = Receipt {
        accepted: true,
        deduped: false,
        conversion_id: data.conversion_id.clone(),
        click_id: data.click_id.clone(),
        campaign_id: data.campaign_id.clone(),
        event_type: data.event_type.clone(),
        value: data.value,
        currency: data.currency.clone(),
        test: data.test,
        received_at,
    };
    let record = IdempotencyRecord::completed(
        payload_hash.clone(),
        receipt.clone(),
        now_unix().saturating_add(state.config.idempotency_retention.as_secs() as i64),
    );
    let kind = if data.test {
        EventType::ConversionTested
    } else {
        EventType::ConversionCreated
    };
    let data_doc = serde_json::to_value(&data).map_err(ApiError::internal)?;
    let (conv_pk, conv_sk) = keys::conversion(handle.as_str(), &data.conversion_id);
    let conversion_put = WriteOp::Put {
        item: Item::new(conv_pk, conv_sk, data_doc.clone()),
        cond: Cond::Absent,
    };
    let limit = state.config.rate_limits.conversions;
    let window_secs = state.config.rate_limits.window_secs;

    let mut key_cond = Cond::Absent;
    for _ in 0..MAX_ATTEMPTS {
        let mut event = Event::new(kind, handle.as_str(), data_doc.clone());
        // Stable per conversion: every copy of the event (enqueue, sweep, redelivery) carries
        // the same id, which is what consumers dedupe on.
        event.id = format!("evt_{uuid}");
        let now = now_unix();
        let window = Window::at(now, window_secs);
        let ops = vec![
            record.put(
                handle.as_str(),
                &conversion.idempotency_key,
                key_cond.clone(),
            ),
            conversion_put.clone(),
            crate::outbox::record(&mut event),
            ratelimit::increment_op(&handle, CONVERSIONS_BUCKET, limit, window)
                .map_err(ApiError::internal)?,
        ];
        // Round trip 1 (the transaction), then round trip 2 (the enqueue), as one unit a
        // departing client cannot interrupt. An enqueue failure is logged: the outbox entry is
        // durable.
        let committed = crate::outbox::commit_and_publish(
            state.store.clone(),
            state.queue.clone(),
            ops,
            std::slice::from_ref(&event),
        )
        .await;
        match committed {
            Ok(()) => return Ok(receipt),
            Err(StoreError::TxConflict {
                index: OP_KEY,
                current,
            }) => {
                let current = match current {
                    Some(item) => Some(*item),
                    None => {
                        let (pk, sk) =
                            keys::idempotency(handle.as_str(), &conversion.idempotency_key);
                        state.store.get(&pk, &sk).await?
                    }
                };
                // Gone since (expired): the key is free again.
                let Some(item) = current else {
                    key_cond = Cond::Absent;
                    continue;
                };
                let existing: IdempotencyRecord = item.parse()?;
                match judge(
                    &existing,
                    item.version,
                    &payload_hash,
                    crate::time::now_millis(),
                ) {
                    Existing::Replay(stored) => {
                        return Ok(Receipt {
                            deduped: true,
                            ..*stored
                        })
                    }
                    Existing::Reused => return Err(key_reused(&conversion.idempotency_key)),
                    Existing::InFlight { retry_after_secs } => {
                        return Err(in_flight(&conversion.idempotency_key, retry_after_secs))
                    }
                    Existing::Abandoned { version } => key_cond = Cond::Version(version),
                    Existing::Corrupt => {
                        return Err(ApiError::internal(format!(
                            "idempotency record {}/{} is completed without a response",
                            item.pk, item.sk
                        )))
                    }
                }
            }
            Err(StoreError::TxConflict { index: OP_RATE, .. }) => {
                return Err(ratelimit::limited(&handle, limit, window_secs, window, now))
            }
            Err(StoreError::TxConflict { index, .. }) => {
                return Err(ApiError::internal(format!(
                    "conversion transaction cancelled by operation {index}"
                )))
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::conflict(
        "This idempotency key is being written concurrently; retry the same request.",
    )
    .with_header(header::RETRY_AFTER, HeaderValue::from_static("1")))
}

fn key_reused(key: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "idempotency_key_reused",
        format!(
            "Idempotency key {key} was already used with a different payload; use a new key for a new conversion."
        ),
    )
}

fn in_flight(key: &str, retry_after_secs: i64) -> ApiError {
    ApiError::conflict(format!(
        "A request with idempotency key {key} is still being processed; retry the same request after {retry_after_secs} s."
    ))
    .with_header(header::RETRY_AFTER, HeaderValue::from(retry_after_secs))
}
