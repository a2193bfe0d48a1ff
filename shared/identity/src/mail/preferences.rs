//! A recipient's choices per kind, stored by (handle, address): what `List-Unsubscribe` and the
//! unsubscribe page turn off, and what `GET`/`PUT /v2/me/notifications` (`http::notifications`)
//! reads and writes through [`get`] and [`set`]. A kind not mentioned is on.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::MailKind;
use crate::domain::Handle;
use crate::domain::email::key_of;
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preferences {
    /// `kind → on`; absent kinds are on.
    #[serde(default)]
    pub kinds: BTreeMap<String, bool>,
}

impl Preferences {
    pub fn allows(&self, kind: MailKind) -> bool {
        !kind.unsubscribable() || self.kinds.get(kind.as_str()).copied().unwrap_or(true)
    }
}

/// The recipient's preferences with `handle` (the defaults when none were stored). ONE read.
pub async fn get(
    store: &dyn Store,
    handle: Option<&Handle>,
    email: &str,
) -> Result<(Preferences, u64), StoreError> {
    let (pk, sk) = keys::mail_preferences(handle, &key_of(email));
    match store.get(&pk, &sk).await? {
        Some(item) => Ok((item.parse()?, item.version)),
        None => Ok((Preferences::default(), 0)),
    }
}

/// Turns `kind` on or off for the recipient. A read and ONE conditional write (retried once on
/// a concurrent change).
pub async fn set(
    store: &dyn Store,
    handle: Option<&Handle>,
    email: &str,
    kind: MailKind,
    on: bool,
) -> Result<(), StoreError> {
    for _ in 0..3 {
        let (mut prefs, version) = get(store, handle, email).await?;
        prefs.kinds.insert(kind.as_str().to_owned(), on);
        let (pk, sk) = keys::mail_preferences(handle, &key_of(email));
        let item =
            Item::new(pk, sk, crate::platform::store::to_doc(&prefs)?).with_version(version + 1);
        let cond = if version == 0 {
            Cond::Absent
        } else {
            Cond::Version(version)
        };
        match store.write(WriteOp::Put { item, cond }).await {
            Ok(_) => return Ok(()),
            Err(StoreError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Unavailable(
        "the preferences kept changing".into(),
    ))
}
