//! Where a conversion record lives, how it is read back, and who submitted it.

use crate::analytics::days::day_of_unix;
use crate::domain::{CampaignId, ConversionId, Handle};
use crate::kernel::events::ConversionData;
use crate::platform::store::{Cond, Item, Query, StoreError, WriteOp, keys};

/// Who submitted a conversion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Channel {
    /// `POST /v2/public/conversions`: the ctx alone; `client` is the caller's address.
    Public { client: String },
    /// `POST /v2/handles/{handle}/conversions`: the merchant's server, authenticated.
    Verified,
}

/// The key of a conversion record (its day comes from the time-ordered id).
pub fn record_key(handle: &Handle, id: &ConversionId) -> (String, String) {
    let day = day_of_unix(id.unix_millis() / 1000);
    keys::conversion(handle, &day, id.as_str())
}

/// One conversion and its stored item (the item's version guards a reversal). Round trips: ONE
/// consistent read.
#[tracing::instrument(skip_all, fields(handle = %handle, conversion = %id))]
pub async fn load(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    id: &ConversionId,
) -> Result<Option<(Item, ConversionData)>, StoreError> {
    let (pk, sk) = record_key(handle, id);
    let Some(item) = store.get(&pk, &sk).await? else {
        return Ok(None);
    };
    let data = item.parse::<ConversionData>()?;
    Ok(Some((item, data)))
}

/// The conversion's entry in its campaign's index (issue 57): `H#{handle}#VC#{campaignId}` /
/// `{conversionId}`, no payload (the id names the record). Put, unconditionally, in the
/// conversion's own transaction: one more item, no more round trips, and never a conflict (the
/// id is new). `None` for a conversion without a campaign, and for a test one (never counted).
pub fn campaign_entry(handle: &Handle, data: &ConversionData) -> Option<WriteOp> {
    let campaign = data.campaign_id.as_ref().filter(|_| !data.test)?;
    let pk = keys::conversion_campaign_pk(handle, campaign);
    let item = Item::new(pk, data.conversion_id.as_str(), serde_json::json!({}));
    Some(WriteOp::Put {
        item,
        cond: Cond::None,
    })
}

/// The campaign index's entries of the conversions received in `[from_ms, to_ms)`, oldest
/// first: ONE key range (the ids are time-ordered).
pub fn of_campaign(handle: &Handle, campaign: &CampaignId, from_ms: i64, to_ms: i64) -> Query {
    let bound = |ms: i64| format!("{}{:012x}", ConversionId::PREFIX, ms.max(0));
    Query::between(
        keys::conversion_campaign_pk(handle, campaign),
        bound(from_ms),
        bound(to_ms),
    )
}
