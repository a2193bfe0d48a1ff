//! Addresses no mail goes to, per handle: bounced, complained about, or refused for good by the
//! receiving server. Listed and removable by an admin (`GET`/`DELETE …/mail/suppressions`).

use serde::{Deserialize, Serialize};

use crate::domain::Handle;
use crate::domain::email::key_of;
use crate::domain::time::Timestamp;
use crate::platform::store::{Cond, Item, Query, Store, StoreError, WriteOp, keys};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The receiving server bounced a message (SES's bounce event).
    Bounced,
    /// The recipient marked a message as spam (SES's complaint event).
    Complained,
    /// The server refused the address for good while we sent (an SMTP 5xx).
    Refused,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Suppression {
    pub email: String,
    pub reason: Reason,
    pub at: Timestamp,
    /// What the server said, in its words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The write that suppresses `email` for `handle` (a repeat overwrites: the latest reason).
pub fn suppress_op(
    handle: Option<&Handle>,
    email: &str,
    reason: Reason,
    detail: Option<String>,
) -> Result<WriteOp, StoreError> {
    let (pk, sk) = keys::mail_suppression(handle, &key_of(email));
    let doc = crate::platform::store::to_doc(&Suppression {
        email: email.to_owned(),
        reason,
        at: crate::platform::time::timestamp(),
        detail,
    })?;
    Ok(WriteOp::Put {
        item: Item::new(pk, sk, doc),
        cond: Cond::None,
    })
}

/// Why `email` is suppressed for `handle`, `None` when it is not. ONE read.
pub async fn of(
    store: &dyn Store,
    handle: Option<&Handle>,
    email: &str,
) -> Result<Option<Suppression>, StoreError> {
    let (pk, sk) = keys::mail_suppression(handle, &key_of(email));
    store.get(&pk, &sk).await?.map(|i| i.parse()).transpose()
}

/// Every suppressed address of `handle`. ONE query per 1,000.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn list(store: &dyn Store, handle: &Handle) -> Result<Vec<Suppression>, StoreError> {
    let mut out = Vec::new();
    crate::platform::store::for_each_item(
        store,
        Query::all(keys::mail_suppressions_pk(Some(handle))),
        |item| {
            out.push(item.parse::<Suppression>()?);
            Ok::<_, StoreError>(std::ops::ControlFlow::Continue(()))
        },
    )
    .await?;
    Ok(out)
}

/// Lifts the suppression of `email`; `false` when there was none. ONE write.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn remove(store: &dyn Store, handle: &Handle, email: &str) -> Result<bool, StoreError> {
    let (pk, sk) = keys::mail_suppression(Some(handle), &key_of(email));
    match store
        .write(WriteOp::Delete {
            pk,
            sk,
            cond: Cond::Exists,
        })
        .await
    {
        Ok(_) => Ok(true),
        Err(StoreError::ConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}
