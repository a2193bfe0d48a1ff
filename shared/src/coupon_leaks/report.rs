//! A code's leak report (`GET …/coupon-codes/{code}/leak`) and the alert it raises.

use serde::{Deserialize, Serialize};

use super::score;
use crate::domain::{CouponCode, EventId, Handle, PartnerId};
use crate::kernel::emit::Emit;
use crate::kernel::events::{EventPayload, EventType, Payload};
use crate::kernel::io::Io;
use crate::platform::store::{Cond, Item, StoreError, WriteOp, keys};

/// The report as answered, and the `coupon.leak_suspected` payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Leak {
    pub code: String,
    pub partner_id: PartnerId,
    /// The score of the code's recent sales and what it is made of.
    #[serde(flatten)]
    pub scored: score::Scored,
    /// The program's threshold the score is judged against.
    pub threshold: u8,
}

impl EventPayload for Leak {
    const TYPES: &'static [EventType] = &[EventType::CouponLeakSuspected];
    fn event_type(&self) -> EventType {
        EventType::CouponLeakSuspected
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LeakError {
    #[error("Coupon code {0} was not found.")]
    NotFound(CouponCode),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The report of `code` over its newest sales (at most 1,000, the last 90 days).
/// Round trips: the coupon's read and the program's, side by side; ONE query.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn of_code(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    code: &CouponCode,
) -> Result<Leak, LeakError> {
    let (coupon, program) = tokio::try_join!(
        crate::customers::coupons::lookup(store, handle, code),
        crate::programs::settings::get(store, handle),
    )?;
    let coupon = coupon.ok_or_else(|| LeakError::NotFound(code.clone()))?;
    let threshold = program.map(|p| p.coupon_rules()).unwrap_or_default();
    let now = crate::platform::time::now_millis();
    let uses = super::uses::recent(store, handle, &code.key(), now).await?;
    Ok(leak(
        coupon.code.to_string(),
        coupon.partner_id,
        &uses,
        threshold.leak_threshold,
    ))
}

fn leak(code: String, partner_id: PartnerId, uses: &[score::Use], threshold: u8) -> Leak {
    Leak {
        code,
        partner_id,
        scored: score::score(uses),
        threshold,
    }
}

/// A 30-day window: a code raises at most one alert in each.
const ALERT_WINDOW_MS: i64 = 30 * 86_400_000;

/// Raises `coupon.leak_suspected` for `code` when its score is at or over the program's
/// threshold and it has not been raised in this window: the alert's marker is put-if-absent in
/// the event's own transaction, so a redelivered batch or two workers raise it once.
/// Round trips: the report's reads; ONE transaction and ONE send when it raises.
/// Also keeps the report for the ranking (`super::ranked`): ONE more write.
pub async fn alert(io: Io<'_>, handle: &Handle, code: &CouponCode) -> Result<bool, LeakError> {
    let found = of_code(io.store.as_ref(), handle, code).await?;
    keep(io.store.as_ref(), handle, &code.key(), &found).await?;
    if found.scored.score < found.threshold || found.scored.conversions < score::FEW_SALES {
        return Ok(false);
    }
    let now = crate::platform::time::now_millis();
    let window = now / ALERT_WINDOW_MS;
    let sk = format!("{}#{window}", code.key());
    let marker = WriteOp::Put {
        item: Item::new(
            keys::coupon_leak_alerts_pk(handle),
            sk.clone(),
            serde_json::json!({"score": found.scored.score}),
        )
        .expiring_at(Some((window + 2) * ALERT_WINDOW_MS / 1000)),
        cond: Cond::Absent,
    };
    let emit = Emit {
        id: EventId::derived(window * ALERT_WINDOW_MS, &format!("{handle}\nleak\n{sk}")),
        payload: Payload::of(&found),
    };
    match crate::kernel::emit::commit(io, handle, vec![marker], vec![emit]).await {
        Ok(()) => Ok(true),
        Err(StoreError::TxConflict { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// A code's report as kept, and as listed.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ranked {
    #[serde(flatten)]
    pub leak: Leak,
    /// When the report was made (RFC 3339): the code's last rated sale.
    pub rated_at: String,
}

/// Keeps `leak` as the code's report. Round trips: ONE write (a redelivery writes it again).
pub async fn keep(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    code_key: &str,
    leak: &Leak,
) -> Result<(), StoreError> {
    let kept = Ranked {
        leak: leak.clone(),
        rated_at: crate::platform::time::now_rfc3339(),
    };
    let doc = crate::platform::store::to_doc(&kept)?;
    let item = Item::new(keys::coupon_leak_scores_pk(handle), code_key, doc);
    crate::platform::store::put(store, item).await
}
