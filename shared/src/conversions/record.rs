//! Where a conversion record lives, how it is read back, and who submitted it.

use crate::analytics::days::day_of_unix;
use crate::domain::{ConversionId, Handle};
use crate::kernel::events::ConversionData;
use crate::platform::store::{Item, StoreError, keys};

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
