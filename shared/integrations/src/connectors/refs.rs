//! Checkout refs (issue 45): `POST /v2/public/refs {ctx}` → a short ref a checkout can carry
//! where a ctx does not fit (Stripe's `client_reference_id`: 200 of `[A-Za-z0-9_-]`). Made only
//! when a visitor reaches checkout (never per click); the same click always answers the same
//! ref (a keyed digest of its click id); it lives as long as its ctx (the item's TTL).

use serde::{Deserialize, Serialize};

use crate::domain::{CtxClaims, CtxKeyring, Handle};
use crate::platform::store::{Item, Store, StoreError, keys};

#[derive(Serialize, Deserialize)]
struct Stored {
    ctx: String,
}

/// A ref's shape: 1 to 64 of `[A-Za-z0-9_-]`.
pub fn well_formed(raw: &str) -> bool {
    (1..=64).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The ref of the verified `claims` (of the token `ctx`), stored until the ctx expires.
/// Round trips: ONE write (a repeat writes the same item again).
pub async fn create(
    store: &dyn Store,
    keyring: &CtxKeyring,
    claims: &CtxClaims,
    ctx: &str,
) -> Result<String, StoreError> {
    let reference = keyring.ref_of(claims.click_id.as_str());
    let (pk, sk) = keys::checkout_ref(&claims.handle, &reference);
    let doc = crate::platform::store::to_doc(&Stored {
        ctx: ctx.to_owned(),
    })?;
    let item = Item::new(pk, sk, doc).expiring_at(Some(claims.expires_at));
    crate::platform::store::put(store, item).await?;
    Ok(reference)
}

/// The ctx token `reference` stands for on `handle`, while it lives. Round trips: ONE read.
pub async fn resolve(
    store: &dyn Store,
    handle: &Handle,
    reference: &str,
) -> Result<Option<String>, StoreError> {
    if !well_formed(reference) {
        return Ok(None);
    }
    let (pk, sk) = keys::checkout_ref(handle, reference);
    let item = store.get(&pk, &sk).await?;
    let now = crate::platform::store::now_unix();
    let live = item.filter(|i| i.expires_at.is_none_or(|t| t > now));
    Ok(live
        .map(|i| i.parse::<Stored>())
        .transpose()?
        .map(|s| s.ctx))
}
