//! A code's sales as the leak report reads them: one item per conversion that named the code,
//! `{received ms}#{conversionId}` under the code, written by the events worker (a put keyed by
//! the conversion: a redelivery writes the same item again, never a second one).

use serde::{Deserialize, Serialize};

use super::score::Use;
use crate::domain::{ConversionId, CouponUse, Handle, PartnerId};
use crate::kernel::events::ConversionData;
use crate::platform::store::{Cond, Item, Query, Store, StoreError, WriteOp, keys};

use super::days::WINDOW_DAYS;

/// The report reads at most this many of a code's newest sales, in its window
/// (`days::window_start_ms`).
pub const MAX_READ: usize = 1000;
/// How long a sale stays in the report's index.
const KEEP_DAYS: i64 = WINDOW_DAYS + 1;

/// One sale of a code as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stored {
    pub conversion_id: ConversionId,
    pub partner_id: PartnerId,
    pub with_click: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landing_referrer: Option<String>,
}

/// The write recording `c`'s use of its code; `None` without one, or for a test conversion.
pub fn record(handle: &Handle, c: &ConversionData) -> Result<Option<WriteOp>, StoreError> {
    let (Some(used), false) = (&c.coupon, c.test) else {
        return Ok(None);
    };
    let stored = Stored {
        conversion_id: c.conversion_id.clone(),
        partner_id: used.partner_id.clone(),
        with_click: used.with_click,
        landing_referrer: used.landing_referrer.clone(),
    };
    let ms = c.received_at.millis();
    let sk = format!("{ms:013}#{}", c.conversion_id);
    let doc = crate::platform::store::to_doc(&stored)?;
    let item = Item::new(keys::coupon_uses_pk(handle, &code_key(used)), sk, doc)
        .expiring_at(Some(ms / 1000 + KEEP_DAYS * 86_400));
    Ok(Some(WriteOp::Put {
        item,
        cond: Cond::None,
    }))
}

/// The store's key of a use's code (codes are one whatever their case).
pub fn code_key(used: &CouponUse) -> String {
    used.code.to_ascii_lowercase()
}

/// The code's newest sales within the window, as the score reads them, each with its time
/// (ms, from its sort key). Round trips: ONE query.
pub async fn recent(
    store: &dyn Store,
    handle: &Handle,
    code_key: &str,
    now_ms: i64,
) -> Result<Vec<(i64, Use)>, StoreError> {
    let from = format!("{:013}", super::days::window_start_ms(now_ms).max(0));
    let mut q = Query::between(keys::coupon_uses_pk(handle, code_key), from, "9");
    q.limit = MAX_READ;
    q.descending = true;
    let page = store.query(q).await?;
    page.items
        .iter()
        .map(|item| {
            let s: Stored = item.parse()?;
            let ms = item
                .sk
                .get(..13)
                .and_then(|m| m.parse().ok())
                .unwrap_or(now_ms);
            let used = Use {
                with_click: s.with_click,
                referrer: s.landing_referrer,
            };
            Ok((ms, used))
        })
        .collect()
}
