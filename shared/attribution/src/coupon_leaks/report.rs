//! A code's leak report (`GET …/coupon-codes/{code}/leak`) and the alert it raises.

use serde::{Deserialize, Serialize};

use super::days::{self, Day};
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

/// The report of `code` over its newest sales (at most 1,000, today and the 90 days before).
/// Round trips: the coupon's read and the program's, side by side; ONE query.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn of_code(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    code: &CouponCode,
) -> Result<Leak, LeakError> {
    Ok(rated(store, handle, code).await?.0)
}

/// [`of_code`], and the same sales counted by day (what [`keep`] keeps).
async fn rated(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    code: &CouponCode,
) -> Result<(Leak, Vec<Day>), LeakError> {
    let (coupon, program) = tokio::try_join!(
        crate::customers::coupons::lookup(store, handle, code),
        crate::programs::settings::get(store, handle),
    )?;
    let coupon = coupon.ok_or_else(|| LeakError::NotFound(code.clone()))?;
    let threshold = program.map(|p| p.coupon_rules()).unwrap_or_default();
    let now = crate::platform::time::now_millis();
    let dated = super::uses::recent(store, handle, &code.key(), now).await?;
    let uses: Vec<score::Use> = dated.iter().map(|(_, u)| u.clone()).collect();
    let found = leak(
        coupon.code.to_string(),
        coupon.partner_id,
        &uses,
        threshold.leak_threshold,
    );
    Ok((found, days::of(&dated)))
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
    let (found, by_day) = rated(io.store.as_ref(), handle, code).await?;
    keep(io.store.as_ref(), handle, &code.key(), &found, by_day).await?;
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

/// A code's report as kept: as listed, and its sales by day, which the ranking re-scores as of
/// the day it reads them (`days`). A report kept before the days were (`None`) is rated again
/// from its sales by the first ranking that reads it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Kept {
    #[serde(flatten)]
    pub ranked: Ranked,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<Vec<Day>>,
}

/// Keeps `leak` as the code's report, with its sales by day. Round trips: ONE write (a
/// redelivery writes it again).
pub async fn keep(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    code_key: &str,
    leak: &Leak,
    by_day: Vec<Day>,
) -> Result<(), StoreError> {
    let kept = Kept {
        ranked: Ranked {
            leak: leak.clone(),
            rated_at: crate::platform::time::now_rfc3339(),
        },
        days: Some(by_day),
    };
    let doc = crate::platform::store::to_doc(&kept)?;
    let item = Item::new(keys::coupon_leak_scores_pk(handle), code_key, doc);
    crate::platform::store::put(store, item).await
}
