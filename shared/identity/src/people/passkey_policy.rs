//! A handle's sign-in policy (issue 60): an admin may require a passkey of the handle's admins.
//! An admin without one is then refused on the handle's routes (`403 passkey_required`) until
//! they register one from their account screen (their own routes stay open); a lost passkey is
//! recovered by the email link, removed, and a new one registered.

use serde::{Deserialize, Serialize};

use crate::domain::Handle;
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys, to_doc};

/// `GET`/`PUT /v2/handles/{handle}/sign-in-policy`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignInPolicy {
    pub require_passkey_for_admins: bool,
}

/// The handle's policy (the default when it set none). Round trips: ONE read.
pub async fn get(store: &dyn Store, handle: &Handle) -> Result<SignInPolicy, StoreError> {
    let item = store
        .get(&keys::handle_pk(handle), keys::SIGN_IN_POLICY_SK)
        .await?;
    Ok(item.map(|i| i.parse()).transpose()?.unwrap_or_default())
}

/// Stores the policy, audited in the same transaction.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn put(
    store: &dyn Store,
    handle: &Handle,
    policy: &SignInPolicy,
) -> Result<(), StoreError> {
    let item = Item::new(
        keys::handle_pk(handle),
        keys::SIGN_IN_POLICY_SK,
        to_doc(policy)?,
    );
    let op = WriteOp::Put {
        item,
        cond: Cond::None,
    };
    let target = if policy.require_passkey_for_admins {
        "admins need a passkey"
    } else {
        "admins need no passkey"
    };
    crate::kernel::audit::write(store, op, handle, "sign_in_policy.updated", target).await
}
