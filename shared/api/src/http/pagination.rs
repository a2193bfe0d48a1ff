//! Cursor pagination: the cursor is the opaque (base64url) sort key to resume after.

use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::http::error::{ApiError, ApiResult};
use crate::platform::store::{Listing, Query, Store};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 100;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn limit(&self) -> ApiResult<usize> {
        match &self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(raw) => raw
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    ApiError::invalid_request(format!(
                        "limit: expected an integer from 1 to {MAX_LIMIT}."
                    ))
                }),
        }
    }

    pub fn after(&self) -> ApiResult<Option<String>> {
        self.cursor.as_deref().map(decode_cursor).transpose()
    }

    /// The store query for one page of `pk`'s items under `sk_prefix`, oldest first, resuming
    /// after the cursor.
    fn prefix_query(&self, pk: String, sk_prefix: &str) -> ApiResult<Query> {
        let mut q = Query::prefix(pk, sk_prefix, self.limit()?);
        q.after = self.after()?;
        Ok(q)
    }

    /// This page of a service's [`Listing`].
    pub fn page_of(&self, listing: Listing) -> ApiResult<Query> {
        let mut q = self.prefix_query(listing.pk, listing.prefix)?;
        q.descending = listing.descending;
        Ok(q)
    }
}

/// One page of a list route, as every list route answers it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<V> {
    pub items: Vec<V>,
    pub next_cursor: Option<String>,
}

/// Runs `q` (one store round trip) and shows each stored `T` with `view`.
pub async fn fetch<T: DeserializeOwned, V>(
    store: &dyn Store,
    q: Query,
    view: impl Fn(T) -> V,
) -> ApiResult<Page<V>> {
    let page = store.query(q).await?;
    let items = page
        .items
        .iter()
        .map(|i| i.parse::<T>().map(&view))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page {
        items,
        next_cursor: page.next.as_deref().map(encode_cursor),
    })
}

pub fn encode_cursor(sort_key: &str) -> String {
    B64.encode(sort_key)
}

pub fn decode_cursor(cursor: &str) -> ApiResult<String> {
    B64.decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| ApiError::invalid_request("cursor: not a cursor returned by this API."))
}

/// A listing's `from`/`to` (RFC 3339) as unix milliseconds, inclusive; `from` after `to` is
/// `400` naming `from` (a key range cannot run backwards, and an empty answer would hide a
/// client's swapped bounds).
pub fn time_range(from: Option<&str>, to: Option<&str>) -> ApiResult<(Option<i64>, Option<i64>)> {
    let parse = |name: &str, raw: Option<&str>| {
        raw.map(|r| {
            crate::domain::time::rfc3339_millis(r).ok_or_else(|| {
                ApiError::invalid_request(format!("{name}: must be an RFC 3339 time."))
            })
        })
        .transpose()
    };
    let (from_ms, to_ms) = (parse("from", from)?, parse("to", to)?);
    if let (Some(f), Some(t)) = (from_ms, to_ms)
        && f > t
    {
        return Err(ApiError::invalid_request("from: must not be after to."));
    }
    Ok((from_ms, to_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        assert_eq!(
            decode_cursor(&encode_cursor("L#launch")).unwrap(),
            "L#launch"
        );
        assert!(decode_cursor("%%%").is_err());
        let p = PageParams {
            limit: Some("0".into()),
            cursor: None,
        };
        assert!(p.limit().is_err());
        let p = PageParams {
            limit: Some("100".into()),
            cursor: None,
        };
        assert_eq!(p.limit().unwrap(), 100);
    }
}
