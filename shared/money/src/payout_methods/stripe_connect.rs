//! A partner connects the Stripe account it is paid into, from the portal's "Getting paid":
//! the program's Stripe makes an Express account for it (once: kept here, `PMSTRIPE#`), and
//! an onboarding link (one use, a few minutes) returns to the product's own origin. The
//! account becomes the partner's payout method only once Stripe says its details are
//! submitted ([`status`]), through [`super::set::set`]: a change of method is held and mailed
//! ("this was not me") as any other. Nobody types an account id.

use serde::{Deserialize, Serialize};

use crate::domain::sealed::Keyring;
use crate::domain::time::Timestamp;
use crate::domain::{Handle, PartnerId};
use crate::kernel::io::Io;
use crate::kernel::state::Unconfigured;
use crate::payout_methods::model::Details;
use crate::payout_providers::{self, CallError, Credentials, Provider, stripe};
use crate::platform::store::{Cond, Item, StoreError, WriteOp, keys, to_doc};

/// What connecting uses: the store and queue, the payout keys, Stripe's API base, and the
/// product's own origin (where Stripe sends the partner back).
#[derive(Clone, Copy)]
pub struct Connect<'a> {
    pub io: Io<'a>,
    pub keys: Result<&'a Keyring, Unconfigured>,
    pub stripe_base: &'a str,
    pub origin: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("Partner {0} was not found.")]
    PartnerNotFound(PartnerId),
    #[error("This program does not pay through Stripe: an admin connects Stripe first.")]
    NotConnected,
    #[error("Partner {0} has not started Stripe's onboarding.")]
    NotStarted(PartnerId),
    /// Stripe refused (in words).
    #[error("{0}")]
    StripeRefused(String),
    /// Stripe busy, down or not answering: try again.
    #[error("{0}")]
    StripeBusy(String),
    #[error(transparent)]
    Method(#[from] crate::payout_methods::MethodError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<payout_providers::ProviderError> for ConnectError {
    fn from(e: payout_providers::ProviderError) -> Self {
        match e {
            payout_providers::ProviderError::NotConnected(_) => ConnectError::NotConnected,
            other => ConnectError::Store(StoreError::Other(other.to_string())),
        }
    }
}

impl From<CallError> for ConnectError {
    fn from(e: CallError) -> Self {
        match e {
            CallError::Refused(why) | CallError::Denied(why) => ConnectError::StripeRefused(why),
            CallError::Retry(why) => ConnectError::StripeBusy(why),
        }
    }
}

/// The account Stripe made for the partner.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Started {
    account_id: String,
    created_at: Timestamp,
    /// What Stripe's newest `account.updated` said of the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    told: Option<Told>,
}

/// An account's state as Stripe's event said it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Told {
    state: String,
    words: String,
    /// The event's `created` (unix seconds): an older event changes nothing.
    at_s: i64,
}

/// `POST …/payout-method/stripe-connect/onboarding`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    pub url: String,
    pub expires_at: Timestamp,
}

/// `GET …/payout-method/stripe-connect`: the account's state, in words.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// `details_missing`, `verified`, `payouts_enabled` or `restricted`.
    pub state: &'static str,
    pub words: String,
    /// `acct_…WXYZ`.
    pub account: String,
    /// Whether it is the partner's payout method now.
    pub is_payout_method: bool,
}

async fn secret_key(c: Connect<'_>, handle: &Handle) -> Result<String, ConnectError> {
    let store = c.io.store.as_ref();
    match payout_providers::credentials(store, c.keys, handle, Provider::Stripe).await? {
        Credentials::Stripe { secret_key, .. } => Ok(secret_key),
        Credentials::Paypal { .. } => Err(ConnectError::NotConnected),
    }
}

async fn started(
    c: Connect<'_>,
    handle: &Handle,
    partner: &PartnerId,
) -> Result<Option<Started>, StoreError> {
    let (pk, sk) = keys::payout_method_stripe(handle, partner);
    let item = c.io.store.get(&pk, &sk).await?;
    item.map(|i| i.parse()).transpose()
}

/// An onboarding link for the partner's Express account (made on its first call, kept after).
/// Round trips: TWO or THREE reads, ONE put-if-absent the first time; ONE or TWO calls to
/// Stripe.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn onboarding(
    c: Connect<'_>,
    handle: &Handle,
    partner: &PartnerId,
) -> Result<Link, ConnectError> {
    let store = c.io.store.as_ref();
    let Some(p) = crate::partners::get(store, handle, partner).await? else {
        return Err(ConnectError::PartnerNotFound(partner.clone()));
    };
    let key = secret_key(c, handle).await?;
    let account = match started(c, handle, partner).await? {
        Some(s) => s.account_id,
        None => {
            let meta = [("handle", handle.as_str()), ("partner", partner.as_str())];
            let made =
                stripe::create_account(c.stripe_base, &key, p.email.as_deref(), meta).await?;
            keep(c, handle, partner, made).await?
        }
    };
    let back = format!("{}/portal/{handle}?stripe=", c.origin.trim_end_matches('/'));
    let (url, expires) = stripe::account_link(
        c.stripe_base,
        &key,
        &account,
        &format!("{back}return"),
        &format!("{back}refresh"),
    )
    .await?;
    Ok(Link {
        url,
        expires_at: Timestamp::from_millis(expires.saturating_mul(1000)),
    })
}

/// Keeps the first account made for the partner (a second call racing it keeps the first).
async fn keep(
    c: Connect<'_>,
    handle: &Handle,
    partner: &PartnerId,
    account_id: String,
) -> Result<String, ConnectError> {
    let (pk, sk) = keys::payout_method_stripe(handle, partner);
    let s = Started {
        account_id,
        created_at: crate::platform::time::timestamp(),
        told: None,
    };
    let put = WriteOp::Put {
        item: Item::new(pk, sk, to_doc(&s)?),
        cond: Cond::Absent,
    };
    match c.io.store.write(put).await {
        Ok(_) => Ok(s.account_id),
        Err(StoreError::ConditionFailed { .. }) => started(c, handle, partner)
            .await?
            .map(|s| s.account_id)
            .ok_or_else(|| ConnectError::NotStarted(partner.clone())),
        Err(e) => Err(e.into()),
    }
}

/// The account's state at Stripe, in words; once its details are submitted, it becomes the
/// partner's payout method (a change: held and mailed as any). Round trips: THREE reads, ONE
/// call to Stripe, and the method's write when it changes.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn status(
    c: Connect<'_>,
    handle: &Handle,
    partner: &PartnerId,
    by: &str,
) -> Result<Status, ConnectError> {
    let Some(s) = started(c, handle, partner).await? else {
        return Err(ConnectError::NotStarted(partner.clone()));
    };
    let key = secret_key(c, handle).await?;
    let account = match stripe::account(c.stripe_base, &key, &s.account_id).await {
        Ok(account) => account,
        // Stripe cannot be asked now: what its last event said, if it said anything.
        Err(CallError::Retry(why)) => {
            let Some(mut told) = s.told_status() else {
                return Err(ConnectError::StripeBusy(why));
            };
            let method = crate::payout_methods::get(c.io.store.as_ref(), handle, partner).await?;
            told.is_payout_method =
                method.is_some_and(|m| m.masked.account == Some(told.account.clone()));
            return Ok(told);
        }
        Err(e) => return Err(e.into()),
    };
    adopt(c, handle, partner, &s.account_id, &account, by).await
}

impl Started {
    fn told_status(&self) -> Option<Status> {
        let told = self.told.as_ref()?;
        let state = match told.state.as_str() {
            "details_missing" => "details_missing",
            "verified" => "verified",
            "payouts_enabled" => "payouts_enabled",
            _ => "restricted",
        };
        let details = Details::StripeConnect {
            account_id: self.account_id.clone(),
        };
        Some(Status {
            state,
            words: told.words.clone(),
            account: details.masked().account.unwrap_or_default(),
            is_payout_method: false,
        })
    }
}

/// The account's state in words; once its details are submitted and nothing restricts it, it
/// becomes the partner's payout method (a change: held and mailed as any; the same account
/// again changes nothing).
async fn adopt(
    c: Connect<'_>,
    handle: &Handle,
    partner: &PartnerId,
    account_id: &str,
    account: &stripe::Account,
    by: &str,
) -> Result<Status, ConnectError> {
    let details = Details::StripeConnect {
        account_id: account_id.to_owned(),
    };
    let masked = details.masked().account.unwrap_or_default();
    let mut is_method = false;
    if account.details_submitted && account.disabled_reason.is_none() {
        let set = crate::payout_methods::set::set(c.io, c.keys, handle, partner, details, by);
        is_method = set.await?.record.masked.account == Some(masked.clone());
    }
    Ok(Status {
        state: account.state(),
        words: account.words(),
        account: masked,
        is_payout_method: is_method,
    })
}

/// Stripe's `account.updated` about `account_id`, which it says is `partner`'s (the account's
/// `metadata.partner`), sent at `at_s`: its state kept in words for when Stripe cannot be
/// asked, and the account made the partner's payout method once its details are in, as
/// [`status`] does, so the partner's "Getting paid" says so without going back through
/// Stripe. `None`: not the account 10x made for that partner, or an event older than the one
/// kept (ignored). Round trips: TWO reads, ONE conditional put, and the method's write when it
/// changes.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn updated(
    c: Connect<'_>,
    handle: &Handle,
    partner: &PartnerId,
    (account_id, account): (&str, &stripe::Account),
    at_s: i64,
) -> Result<Option<Status>, ConnectError> {
    let (pk, sk) = keys::payout_method_stripe(handle, partner);
    let Some(item) = c.io.store.get(&pk, &sk).await? else {
        return Ok(None);
    };
    let mut s: Started = item.parse()?;
    if s.account_id != account_id || s.told.as_ref().is_some_and(|t| t.at_s > at_s) {
        return Ok(None);
    }
    s.told = Some(Told {
        state: account.state().to_owned(),
        words: account.words(),
        at_s,
    });
    let put = WriteOp::Put {
        item: Item::new(pk, sk, to_doc(&s)?).with_version(item.version + 1),
        cond: Cond::Version(item.version),
    };
    match c.io.store.write(put).await {
        Ok(_) => {}
        // Another event about the account was kept meanwhile: Stripe's state is read again
        // on the next one, or the next status.
        Err(StoreError::ConditionFailed { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    adopt(c, handle, partner, account_id, account, "stripe")
        .await
        .map(Some)
}
