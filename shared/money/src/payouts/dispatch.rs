//! A payout's dispatch: the record of a payout on its way through a payment provider, written
//! when it is handed over (`payouts::send`) and read when it settles (`payouts::settle`) or its
//! provider's webhook comes (`payouts::provider_hooks`).

use serde::{Deserialize, Serialize};

use crate::domain::{Currency, Handle, PartnerId, PayoutId};
use crate::payout_methods::model::Exclusion;
use crate::payout_providers::Provider;
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys, to_doc};

/// A payout on its way through a provider (`PAYSEND` / `{handle}#{payoutId}`), deleted once the
/// payout is settled.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dispatch {
    pub handle: Handle,
    pub payout_id: PayoutId,
    pub partner_id: PartnerId,
    pub provider: Provider,
    pub amount_minor: i64,
    pub currency: Currency,
    /// The partner's payout method's version when the payout was made.
    pub method_version: u64,
    /// Where the money goes, sealed, from the first attempt on (every resend goes there).
    #[serde(default)]
    pub destination: Option<String>,
    pub attempts: u32,
    /// No attempt starts before this (a lease held, or a retry's wait).
    pub not_before_ms: i64,
    #[serde(default)]
    pub first_attempt_ms: Option<i64>,
    /// The provider's name for the payment, once it answered one.
    #[serde(default)]
    pub reference: Option<String>,
    /// Why the last attempt did not go through, in words.
    #[serde(default)]
    pub last_error: Option<String>,
    pub created_ms: i64,
    /// Why the payout is not handed over yet, in words for the manager (never the partner's):
    /// it stays `pending` until a sweep finds the hold over (`payouts::send::HOLD_RECHECK_MS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<String>,
    /// The code of the hold its payout waits on (the words are `held`, or `last_error` for a
    /// payout handed over before a hold began): what the manager's screen offers to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<Exclusion>,
    #[serde(skip)]
    pub version: u64,
}

impl Dispatch {
    pub(crate) fn key(&self) -> (String, String) {
        key(&self.handle, &self.payout_id)
    }

    pub(crate) fn put(&self, cond: Cond) -> Result<WriteOp, StoreError> {
        let (pk, sk) = self.key();
        Ok(WriteOp::Put {
            item: Item::new(pk, sk, to_doc(self)?).with_version(self.version + 1),
            cond,
        })
    }
}

fn key(handle: &Handle, id: &PayoutId) -> (String, String) {
    (
        keys::PAYOUT_SENDS_PK.to_owned(),
        keys::payout_send_sk(handle, id),
    )
}

/// The dispatch of a payout, if it is being sent. Round trips: ONE read.
pub async fn find(
    store: &dyn Store,
    handle: &Handle,
    id: &PayoutId,
) -> Result<Option<Dispatch>, StoreError> {
    let (pk, sk) = key(handle, id);
    let Some(item) = store.get(&pk, &sk).await? else {
        return Ok(None);
    };
    let mut d: Dispatch = item.parse()?;
    d.version = item.version;
    Ok(Some(d))
}
