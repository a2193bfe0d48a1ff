//! Payouts sent through a payment provider (Stripe Connect, PayPal Payouts), exactly once.
//!
//! A payout whose partner is paid by a provider the program has connected is handed over when
//! it is made ([`start`]: `pending` → `sending`, and a dispatch record, in ONE transaction). The
//! money leaves from the sweeper, never from a request ([`sweep`], [`advance`]). Exactly once
//! comes from three things together:
//! - a **lease** on the dispatch, taken by a version-checked write before any call: two workers
//!   (or a redelivery) racing for one payout, only one calls the provider; a crash leaves the
//!   lease to expire, and the next attempt is a resend;
//! - a **resend is the same request**: Stripe's `Idempotency-Key`, `transfer_group` and
//!   `metadata[payout]` are the payout's id, and a resend looks the transfer up by its group
//!   first (Stripe forgets a key after a day, and a key is the API key's: one rolled since would
//!   not find the first transfer by it); PayPal's `sender_batch_id` is the payout's id, which
//!   PayPal refuses twice, linking the first batch. A lost answer, a timeout, a crash between
//!   the send and its record: the resend finds the payment that was made;
//! - a resend **fails the payout only on the provider's word about this payment** (a refusal
//!   after the lookup found no transfer, or PayPal's refusal of the batch itself): credentials
//!   refused, the provider disconnected or an unexpected status say nothing of what an earlier
//!   attempt made, so the payout waits, tried again, and the manager reads why ([`unanswered`]);
//! - the destination is the one chosen when the payout was made: the partner's method as it
//!   was (its version) on the first attempt, sealed into the dispatch for every resend; a method
//!   changed before the first attempt sends nothing (the lines go back to the balance).
//!
//! The payout is `paid` only on the provider's confirmation: its webhook (signature verified)
//! or a poll ([`confirm`]); a failed or returned payment puts its lines back on the partner's
//! balance (`payouts::settle`, a change of status: the signed statement is never rewritten),
//! with the reason in words. Every step is in the audit log.

use crate::domain::sealed::Keyring;
use crate::domain::{Handle, PartnerId, PayoutId};
use crate::kernel::io::Io;
use crate::kernel::state::Unconfigured;
use crate::payout_methods::model::{Details, Exclusion, MethodType};
use crate::payout_providers::{self, CallError, Credentials, Provider, paypal, stripe};
pub use crate::payouts::dispatch::{Dispatch, find};
use crate::payouts::model::{Payout, PayoutError, PayoutStatus, ProviderRef};
use crate::payouts::settle::{self, Change};
use crate::platform::store::{Cond, Query, Store, StoreError, WriteOp, keys};

/// What sending uses of the process: the store and queue, the keys that open the program's
/// credentials and the partner's details, and the providers' API bases.
#[derive(Clone, Copy)]
pub struct Sender<'a> {
    pub io: Io<'a>,
    pub keys: Result<&'a Keyring, Unconfigured>,
    pub stripe_base: &'a str,
    pub paypal_base: &'a str,
    /// The product's own origin, which a mail's links are absolute to.
    pub origin: &'a str,
}

/// How long an attempt holds its dispatch: longer than a provider call may take (20 s).
pub const LEASE_MS: i64 = 60_000;
/// How long a retryable failure waits, by attempt (the last one repeats).
const BACKOFF_MS: [i64; 5] = [30_000, 60_000, 300_000, 900_000, 3_600_000];
/// Dispatches read per page of a sweep.
const PER_PAGE: usize = 100;
/// How long a sweep gives payouts being sent (the sweeper has 60 s): the rest wait for the next.
const SWEEP_TIME: std::time::Duration = std::time::Duration::from_secs(40);
/// How often a payment the provider has not settled yet is polled (its webhook usually comes
/// first).
pub const POLL_MS: i64 = 300_000;

/// How long a payout the program holds waits before its hold is judged again.
pub const HOLD_RECHECK_MS: i64 = 3_600_000;

fn aad(handle: &Handle, id: &PayoutId) -> String {
    format!("tenx/payout-send/v1/{handle}/{id}")
}

/// The provider that sends a partner's payouts: its method's, if the program connected it.
struct Rail {
    provider: Provider,
    method_version: u64,
    /// Why its payouts wait, in words for the manager: the method's own state (a change not
    /// confirmed yet, a dispute), the program's tax requirement, fraud rules or customer
    /// minimum.
    held: Option<(Exclusion, String)>,
}

/// The partner's rail (`None`: paid by file or by hand). Round trips: the method's read, the
/// provider's, and `program_hold`'s when the method is payable.
async fn rail(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    now_ms: i64,
) -> Result<Option<Rail>, StoreError> {
    let Some(method) = crate::payout_methods::get(store, handle, partner).await? else {
        return Ok(None);
    };
    let provider = match method.masked.kind {
        MethodType::Paypal => Provider::Paypal,
        MethodType::StripeConnect => Provider::Stripe,
        _ => return Ok(None),
    };
    if !payout_providers::connected(store, handle, provider).await? {
        return Ok(None);
    }
    let held = match method.payable_by(now_ms) {
        Err(reason) => Some((reason, reason.words().to_owned())),
        Ok(_) => crate::payouts::gates::program_hold(store, handle, partner).await?,
    };
    Ok(Some(Rail {
        provider,
        method_version: method.version,
        held,
    }))
}

/// Hands a pending payout to its partner's provider when the partner is paid through one the
/// program connected: `sending`, with its dispatch, in ONE transaction (audited). Any other
/// payout is answered as it is (paid by file, or by hand). Repeatable: a payout already handed
/// over is answered as it is. Round trips: TWO or THREE reads, ONE transaction.
#[tracing::instrument(skip_all, fields(handle = %handle, payout = %payout.payout_id))]
pub async fn start(io: Io<'_>, handle: &Handle, payout: Payout) -> Result<Payout, PayoutError> {
    let store = io.store.as_ref();
    // Test money never leaves: a test payout waits to be marked paid by hand.
    if payout.status != PayoutStatus::Pending || payout.test {
        return Ok(payout);
    }
    let now_ms = crate::platform::time::now_millis();
    let Some(rail) = rail(store, handle, &payout.partner_id, now_ms).await? else {
        return Ok(payout);
    };
    let (provider, method_version) = (rail.provider, rail.method_version);
    let mut next = payout.clone();
    next.status = PayoutStatus::Sending;
    next.provider = Some(handed_to(provider));
    let dispatch = Dispatch {
        handle: handle.clone(),
        payout_id: payout.payout_id.clone(),
        partner_id: payout.partner_id.clone(),
        provider,
        amount_minor: payout.amount_minor,
        currency: payout.currency,
        method_version,
        destination: None,
        attempts: 0,
        not_before_ms: 0,
        first_attempt_ms: None,
        reference: None,
        last_error: None,
        created_ms: now_ms,
        held: rail.held.as_ref().map(|(_, words)| words.clone()),
        hold: rail.held.as_ref().map(|(code, _)| *code),
        version: 0,
    };
    let target = format!("{} through {}", payout.payout_id, provider.title());
    let (claim_pk, claim_sk) = crate::payouts::hold::key(handle, &payout.payout_id);
    let ops = match &rail.held {
        // A batch's hold leaves the payout's version as it was, so the version alone would let
        // a payout a batch's file pays be handed to a provider too: its absence is a condition.
        None => vec![
            put_payout(handle, &next, payout.version)?,
            dispatch.put(Cond::Absent)?,
            WriteOp::Check {
                pk: claim_pk,
                sk: claim_sk,
                cond: Cond::Absent,
            },
            crate::kernel::audit::entry(handle, "payout.sending", &target)?,
        ],
        // Held: the payout stays pending, its dispatch waits for the hold to end.
        Some((_, why)) => {
            next = payout.clone();
            let mut waiting = dispatch;
            waiting.not_before_ms = now_ms + HOLD_RECHECK_MS;
            let target = format!("{target}: {why}");
            vec![
                waiting.put(Cond::Absent)?,
                crate::kernel::audit::entry(handle, "payout.held", &target)?,
            ]
        }
    };
    match store.transact(ops).await {
        Ok(()) => {
            if rail.held.is_none() {
                next.version = payout.version + 1;
            }
            Ok(next)
        }
        Err(StoreError::TxConflict { .. }) => crate::payouts::get(store, handle, &payout.payout_id)
            .await?
            .ok_or_else(|| PayoutError::NotFound(payout.payout_id.clone())),
        Err(e) => Err(e.into()),
    }
}

/// A payout's provider as it is handed over: no payment yet, said in words.
fn handed_to(provider: Provider) -> ProviderRef {
    ProviderRef {
        name: provider.as_str().to_owned(),
        reference: None,
        state: Some(format!("Being sent through {}.", provider.title())),
    }
}

/// The payout's put at the version read.
fn put_payout(handle: &Handle, p: &Payout, read_version: u64) -> Result<WriteOp, StoreError> {
    let mut item = p.item(handle)?;
    item.version = read_version + 1;
    Ok(WriteOp::Put {
        item,
        cond: Cond::Version(read_version),
    })
}

/// What one step did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Another attempt holds the dispatch, or a retry waits: nothing done.
    Busy,
    /// The provider has the payment (its reference); its confirmation is awaited.
    Sent(String),
    /// Not sent this time (the reason in words): tried again later.
    Retry(String),
    /// The payout settled: paid, failed or returned.
    Settled(PayoutStatus),
    /// Still on its way at the provider (in words).
    Waiting(String),
    /// Nothing to do: the payout is no longer being sent.
    Gone,
}

/// One step of the payout's sending at `now_ms`: an attempt when the provider has no payment
/// yet (under the lease), else a poll of its state. Safe to run twice at once, or again after
/// a crash at any point: see the module's comment.
#[tracing::instrument(skip_all, fields(handle = %handle, payout = %id))]
pub async fn advance(
    sender: Sender<'_>,
    handle: &Handle,
    id: &PayoutId,
    now_ms: i64,
) -> Result<Step, PayoutError> {
    let store = sender.io.store.as_ref();
    let Some(d) = find(store, handle, id).await? else {
        return Ok(Step::Gone);
    };
    if d.held.is_some() {
        return hand_over(sender, d, now_ms).await;
    }
    match &d.reference {
        None => attempt(sender, d, now_ms).await,
        Some(_) if d.not_before_ms > now_ms => Ok(Step::Busy),
        Some(_) => match confirm(sender, &d).await? {
            Step::Waiting(words) => {
                // Polled again later, not every sweep (a PayPal payment may stay unclaimed
                // for 30 days).
                let mut next = d.clone();
                next.not_before_ms = now_ms + POLL_MS;
                let put = next.put(Cond::Version(d.version))?;
                match sender.io.store.write(put).await {
                    Ok(_) | Err(StoreError::ConditionFailed { .. }) => Ok(Step::Waiting(words)),
                    Err(e) => Err(e.into()),
                }
            }
            other => Ok(other),
        },
    }
}

/// An attempt: the lease taken (version-checked), then the provider called.
async fn attempt(sender: Sender<'_>, d: Dispatch, now_ms: i64) -> Result<Step, PayoutError> {
    let store = sender.io.store.as_ref();
    if d.not_before_ms > now_ms {
        return Ok(Step::Busy);
    }
    let destination = match destination(sender, &d).await? {
        Ok(to) => to,
        Err(NotSent::Refused(reason)) => {
            return settle_with(sender, &d, Outcome::Failed(reason)).await;
        }
        Err(NotSent::Unreadable(why)) => return unreadable(store, d, now_ms, &why).await,
    };
    // Before the first attempt the program's hold is judged again (a signal may have fired
    // since the hand-over); a resend goes on, since the payment may be at the provider.
    if d.destination.is_none()
        && let Some(Rail {
            held: Some(hold), ..
        }) = rail(store, &d.handle, &d.partner_id, now_ms).await?
    {
        return wait_on_hold(store, d, hold, now_ms).await;
    }
    let sealed = sender
        .keys?
        .seal(&aad(&d.handle, &d.payout_id), destination.as_bytes());
    let mut lease = leased(&d, now_ms, sealed);
    match store.write(lease.put(Cond::Version(d.version))?).await {
        Ok(_) => lease.version = d.version + 1,
        Err(StoreError::ConditionFailed { .. }) => return Ok(Step::Busy),
        Err(e) => return Err(e.into()),
    }
    // An earlier attempt may have reached the provider (its outcome unknown: the payout would
    // be settled otherwise).
    let resend = lease.attempts > 1;
    match call(sender, &lease, &destination).await? {
        Ok(reference) => record_sent(sender, lease, reference).await,
        Err(CallError::Retry(why)) => retry_later(store, lease, now_ms, why).await,
        Err(CallError::Denied(why)) if resend => {
            let why = unanswered(lease.provider, &why);
            tracing::warn!(payout = %lease.payout_id, %why, "a resend denied: not failed");
            retry_later(store, lease, now_ms, why).await
        }
        Err(CallError::Refused(why) | CallError::Denied(why)) => {
            settle_with(sender, &lease, Outcome::Failed(why)).await
        }
    }
}

/// The attempt leased as `lease` waits its backoff, `why` in words on the manager's screen
/// (`payouts::waiting`). Round trips: ONE version-checked write.
async fn retry_later(
    store: &dyn Store,
    mut lease: Dispatch,
    now_ms: i64,
    why: String,
) -> Result<Step, PayoutError> {
    lease.not_before_ms = now_ms + backoff_ms(lease.attempts);
    lease.last_error = Some(why.clone());
    let read = lease.version;
    match store.write(lease.put(Cond::Version(read))?).await {
        Ok(_) | Err(StoreError::ConditionFailed { .. }) => Ok(Step::Retry(why)),
        Err(e) => Err(e.into()),
    }
}

/// Why a resend was not taken, and that the payout is not failed for it: an earlier attempt may
/// have paid. What to do is said once (the provider's words may say it already).
fn unanswered(provider: Provider, why: &str) -> String {
    let p = provider.title();
    let act = match why.contains("console's Payouts page") {
        true => String::new(),
        false => format!(
            " If it lasts, an admin checks {p} and connects it again on the console's Payouts page (Payout providers)."
        ),
    };
    format!(
        "{why} This payout may have reached {p} on an earlier attempt, so it is not failed: it is tried again until {p} answers for it.{act}"
    )
}

/// Said when the partner's payout details, or the destination sealed on a first attempt, no
/// longer open with this server's keys (keys replaced without the old ones kept).
pub const UNREADABLE: &str = "Not sent yet: this server can no longer read where the money goes \
     (its encryption keys changed after the partner's payout details were saved). Put the \
     previous keys back, or ask the partner to enter their payout method again; this payout is \
     tried again every hour.";

/// Nothing is sent while the destination cannot be read: no lease is taken and no attempt
/// counted, the manager's screen says why ([`UNREADABLE`]) and the payout is tried again after
/// [`HOLD_RECHECK_MS`]. It is never failed for it: restoring the keys sends it as it was.
/// Round trips: ONE version-checked write of the dispatch.
async fn unreadable(
    store: &dyn crate::platform::store::Store,
    d: Dispatch,
    now_ms: i64,
    why: &str,
) -> Result<Step, PayoutError> {
    tracing::warn!(payout = %d.payout_id, error = why, "payout destination unreadable");
    let mut waiting = d.clone();
    waiting.not_before_ms = now_ms + HOLD_RECHECK_MS;
    waiting.last_error = Some(UNREADABLE.to_owned());
    match store.write(waiting.put(Cond::Version(d.version))?).await {
        Ok(_) | Err(StoreError::ConditionFailed { .. }) => Ok(Step::Retry(UNREADABLE.into())),
        Err(e) => Err(e.into()),
    }
}

/// `d` as an attempt at `now_ms` holds it: one attempt more, no other attempt before
/// [`LEASE_MS`] from now, the first attempt's time kept, `sealed` the destination every resend
/// goes to. A hold it waited on is over: its words are no attempt's error.
fn leased(d: &Dispatch, now_ms: i64, sealed: String) -> Dispatch {
    let mut lease = d.clone();
    lease.attempts += 1;
    lease.not_before_ms = now_ms + LEASE_MS;
    lease.first_attempt_ms.get_or_insert(now_ms);
    if lease.hold.take().is_some() {
        lease.last_error = None;
    }
    lease.destination = Some(sealed);
    lease
}

/// How long a retryable failure of the `attempts`-th attempt (from 1) waits.
fn backoff_ms(attempts: u32) -> i64 {
    BACKOFF_MS[(attempts as usize - 1).min(BACKOFF_MS.len() - 1)]
}

/// Why a payout's destination gives nothing to send to.
enum NotSent {
    /// The payout fails, for this reason in words (its amount back on the balance).
    Refused(String),
    /// The destination is sealed under keys this server no longer holds: it waits for them.
    Unreadable(String),
}

/// Where the money goes: the destination sealed on the first attempt, else the partner's
/// method if it is the one the payout was made with (`Err`: why nothing is sent).
async fn destination(
    sender: Sender<'_>,
    d: &Dispatch,
) -> Result<Result<String, NotSent>, PayoutError> {
    if let Some(sealed) = &d.destination {
        return Ok(
            match sender.keys?.open(&aad(&d.handle, &d.payout_id), sealed) {
                Ok(plain) => Ok(String::from_utf8_lossy(&plain).into_owned()),
                Err(e) => Err(NotSent::Unreadable(format!("payout destination: {e}"))),
            },
        );
    }
    let store = sender.io.store.as_ref();
    let method = crate::payout_methods::get(store, &d.handle, &d.partner_id).await?;
    let Some(method) = method.filter(|m| m.version == d.method_version) else {
        return Ok(Err(NotSent::Refused("Not sent: the partner changed its payout method after this payout was made. The amount is back on the partner's balance for the next payout run, to the new method.".into())));
    };
    let details = match crate::payout_methods::open(
        sender.keys,
        &d.handle,
        &d.partner_id,
        method.sealed.as_deref(),
    ) {
        Ok(details) => details,
        Err(e @ crate::payout_methods::MethodError::Sealed(_)) => {
            return Ok(Err(NotSent::Unreadable(format!("payout method: {e}"))));
        }
        Err(e) => return Err(StoreError::Corrupt(format!("payout method: {e}")).into()),
    };
    let refused = |words: String| Ok(Err(NotSent::Refused(words)));
    match (d.provider, details) {
        (Provider::Paypal, details @ Details::Paypal { .. }) => match details.paypal_receiver() {
            Some(receiver) => Ok(Ok(paypal::destination(receiver))),
            None => refused(
                "Not sent: the partner's PayPal account names no email nor payer ID.".to_owned(),
            ),
        },
        (Provider::Stripe, Details::StripeConnect { account_id }) => Ok(Ok(account_id)),
        (p, _) => refused(format!(
            "Not sent: the partner is no longer paid through {}.",
            p.title()
        )),
    }
}

/// The provider called with the program's credentials (`d` the attempt's lease): its
/// reference for the payment.
async fn call(
    sender: Sender<'_>,
    d: &Dispatch,
    to: &str,
) -> Result<Result<String, CallError>, PayoutError> {
    let store = sender.io.store.as_ref();
    let credentials = match payout_providers::credentials(store, sender.keys, &d.handle, d.provider)
        .await
    {
        Ok(c) => c,
        Err(payout_providers::ProviderError::NotConnected(p)) => {
            return Ok(Err(CallError::Denied(match d.attempts {
                1 => format!("{p} was disconnected before this payout was sent."),
                _ => format!(
                    "{p} is not connected any more: an admin connects it again on the console's Payouts page (Payout providers)."
                ),
            })));
        }
        Err(e) => return Err(StoreError::Other(e.to_string()).into()),
    };
    let id = d.payout_id.as_str();
    Ok(match credentials {
        Credentials::Paypal {
            client_id,
            client_secret,
            ..
        } => {
            let item = paypal::Item {
                payout_id: id,
                to: paypal::Receiver::of(to),
                value: d.currency.format(i128::from(d.amount_minor)),
                currency: d.currency.as_str(),
                note: "Your partner payout",
            };
            match paypal::token(sender.paypal_base, &client_id, &client_secret).await {
                Ok(token) => paypal::create_batch(sender.paypal_base, &token, &item).await,
                Err(e) => Err(e),
            }
        }
        Credentials::Stripe { secret_key, .. } => {
            send_stripe(sender.stripe_base, &secret_key, d, to).await
        }
    })
}

/// A Stripe transfer (`d` the attempt's lease): a resend looks it up by its group first, so a
/// transfer an earlier attempt made is found whether or not Stripe still knows its idempotency
/// key under this API key; then a refusal of the transfer speaks for this payment.
async fn send_stripe(base: &str, key: &str, d: &Dispatch, to: &str) -> Result<String, CallError> {
    let id = d.payout_id.as_str();
    if d.attempts > 1
        && let Some(made) = stripe::find_by_group(base, key, id).await?
    {
        return Ok(made.id);
    }
    let transfer = stripe::Transfer {
        payout_id: id,
        destination: to,
        amount_minor: d.amount_minor,
        currency: d.currency.as_str().to_ascii_lowercase(),
    };
    stripe::create_transfer(base, key, &transfer)
        .await
        .map(|m| m.id)
}

/// The provider has the payment: its reference on the dispatch and on the payout (audited).
async fn record_sent(
    sender: Sender<'_>,
    mut d: Dispatch,
    reference: String,
) -> Result<Step, PayoutError> {
    let store = sender.io.store.as_ref();
    let read = d.version;
    d.reference = Some(reference.clone());
    d.not_before_ms = 0;
    d.last_error = None;
    let words = format!(
        "Sent through {}; waiting for its confirmation.",
        d.provider.title()
    );
    for _ in 0..4 {
        let Some(p) = crate::payouts::get(store, &d.handle, &d.payout_id).await? else {
            return Ok(Step::Gone);
        };
        let mut next = p.clone();
        if let Some(r) = next.provider.as_mut() {
            r.reference = Some(reference.clone());
            r.state = Some(words.clone());
        }
        let target = format!("{} ({reference})", d.payout_id);
        let ops = vec![
            d.put(Cond::Version(read))?,
            put_payout(&d.handle, &next, p.version)?,
            crate::kernel::audit::entry(&d.handle, "payout.sent", &target)?,
        ];
        let sent = crate::payouts::payout_event(&next, crate::payouts::PayoutEvent::Sent);
        match crate::kernel::emit::commit(sender.io, &d.handle, ops, vec![sent]).await {
            Ok(()) => return Ok(Step::Sent(reference)),
            // The dispatch moved on (another attempt recorded it): nothing more to record.
            Err(StoreError::TxConflict { index: 0, .. }) => return Ok(Step::Sent(reference)),
            Err(StoreError::TxConflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(PayoutError::Busy)
}

/// How a payment ended at its provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Paid(String),
    Failed(String),
    /// Given back whole.
    Returned(String),
    /// Paid (`reference`), then given back in part: `returned_minor` the provider's total given
    /// back so far (a Stripe transfer's `amount_reversed`), less than the payment.
    PartlyReturned {
        reference: String,
        returned_minor: i64,
        reason: String,
    },
}

/// A poll: the payment's state at the provider, and the payout settled by it.
async fn confirm(sender: Sender<'_>, d: &Dispatch) -> Result<Step, PayoutError> {
    let store = sender.io.store.as_ref();
    let reference = d.reference.clone().unwrap_or_default();
    let credentials =
        match payout_providers::credentials(store, sender.keys, &d.handle, d.provider).await {
            Ok(c) => c,
            Err(e) => return Ok(Step::Retry(e.to_string())),
        };
    let word = match credentials {
        Credentials::Paypal {
            client_id,
            client_secret,
            ..
        } => {
            let base = sender.paypal_base;
            let state = match paypal::token(base, &client_id, &client_secret).await {
                Ok(token) => paypal::batch_item(base, &token, &reference).await,
                Err(e) => Err(e),
            };
            paypal_word(state.map(|s| paypal::meaning(&s)), reference)
        }
        Credentials::Stripe { secret_key, .. } => {
            let base = sender.stripe_base;
            stripe_word(stripe::find_by_group(base, &secret_key, d.payout_id.as_str()).await)
        }
    };
    match word {
        Word::Settles(outcome) => settle_with(sender, d, outcome).await,
        Word::Waiting(words) => waiting(sender, d, words).await,
        Word::Retry(why) => Ok(Step::Retry(why)),
    }
}

/// What a poll's answer does to the payout.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Word {
    /// The payment ended: the payout settles by it.
    Settles(Outcome),
    /// Still on its way at the provider, in words.
    Waiting(String),
    /// No answer to go by (the provider unreachable, or no payment found yet): asked again.
    Retry(String),
}

/// PayPal's word on the batch `reference`: its item's meaning, or why it could not be read.
fn paypal_word(state: Result<paypal::Meaning, CallError>, reference: String) -> Word {
    match state {
        Ok(paypal::Meaning::Paid) => Word::Settles(Outcome::Paid(reference)),
        Ok(paypal::Meaning::Failed(w)) => Word::Settles(Outcome::Failed(w)),
        Ok(paypal::Meaning::Returned(w)) => Word::Settles(Outcome::Returned(w)),
        Ok(paypal::Meaning::Waiting(w)) => Word::Waiting(w),
        Err(e) => Word::Retry(e.to_string()),
    }
}

/// Stripe's word: the payout's transfer as found by its group (paid, unless reversed whole or in
/// part), or why there is none to go by.
fn stripe_word(found: Result<Option<stripe::Made>, CallError>) -> Word {
    match found {
        Ok(Some(m)) => Word::Settles(stripe_outcome(m)),
        Ok(None) => Word::Retry("Stripe shows no transfer yet.".into()),
        Err(e) => Word::Retry(e.to_string()),
    }
}

/// What a Stripe transfer of a payout says of it (an answer's, or an event's): paid; paid and
/// reversed in part; or reversed whole.
pub fn stripe_outcome(m: stripe::Made) -> Outcome {
    match m.reversal() {
        stripe::Reversal::Nothing => Outcome::Paid(m.id),
        stripe::Reversal::Part(returned_minor) => Outcome::PartlyReturned {
            reference: m.id,
            returned_minor,
            reason: "Stripe reversed part of the transfer.".into(),
        },
        stripe::Reversal::Whole => Outcome::Returned("Stripe reversed the transfer.".into()),
    }
}

/// The payout's provider state in words, when it changed. Round trips: ONE read, and ONE
/// conditional put when the words are new.
async fn waiting(sender: Sender<'_>, d: &Dispatch, words: String) -> Result<Step, PayoutError> {
    let store = sender.io.store.as_ref();
    let Some(p) = crate::payouts::get(store, &d.handle, &d.payout_id).await? else {
        return Ok(Step::Gone);
    };
    if p.status == PayoutStatus::Sending
        && p.provider.as_ref().and_then(|r| r.state.as_deref()) != Some(words.as_str())
    {
        let mut next = p.clone();
        if let Some(r) = next.provider.as_mut() {
            r.state = Some(words.clone());
        }
        match store.write(put_payout(&d.handle, &next, p.version)?).await {
            Ok(_) | Err(StoreError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Step::Waiting(words))
}

/// Settles the payout by its provider's word (paid; or failed or returned, its lines back on
/// the partner's balance; or paid and given back in part, that part credited back), then
/// forgets the dispatch. A payout settled already is left as it is, but for what its provider
/// gives back of it once paid (`payouts::returned`: a new line, never a rewrite).
pub async fn settle_with(
    sender: Sender<'_>,
    d: &Dispatch,
    outcome: Outcome,
) -> Result<Step, PayoutError> {
    let step = match outcome {
        // What was not given back reached the partner: paid first, then the part credited back.
        Outcome::PartlyReturned {
            reference,
            returned_minor,
            reason,
        } => {
            let paid = settle_once(sender, d, Outcome::Paid(reference)).await?;
            let store = sender.io.store.as_ref();
            match crate::payouts::get(store, &d.handle, &d.payout_id).await? {
                Some(p) if p.status == PayoutStatus::Paid => {
                    let io = (sender.io, sender.origin);
                    let back = (reason.as_str(), returned_minor);
                    let credited =
                        crate::payouts::returned::credit_back_to(io, &d.handle, &p, back).await?;
                    match (paid, credited) {
                        (Step::Settled(s), _) => Step::Settled(s),
                        (_, true) => Step::Settled(PayoutStatus::Paid),
                        (other, false) => other,
                    }
                }
                _ => paid,
            }
        }
        other => settle_once(sender, d, other).await?,
    };
    if step == Step::Busy {
        return Ok(step);
    }
    let (pk, sk) = d.key();
    sender
        .io
        .store
        .write(WriteOp::Delete {
            pk,
            sk,
            cond: Cond::None,
        })
        .await?;
    Ok(step)
}

/// The payout's status changed by a paid, failed or returned word (`Step::Busy`: a word about
/// a payout not handed over yet, whose dispatch stays to send it).
async fn settle_once(
    sender: Sender<'_>,
    d: &Dispatch,
    outcome: Outcome,
) -> Result<Step, PayoutError> {
    let store = sender.io.store.as_ref();
    let (change, returned) = match outcome {
        Outcome::Paid(reference) | Outcome::PartlyReturned { reference, .. } => {
            (Change::Paid { reference }, None)
        }
        Outcome::Failed(reason) => (Change::Failed { reason }, None),
        Outcome::Returned(reason) => (
            Change::Returned {
                reason: reason.clone(),
            },
            Some(reason),
        ),
    };
    // A failure or a return tells the partner in the same transaction.
    let id = (&d.payout_id, sender.origin);
    match settle::change_telling(sender.io, &d.handle, id, change).await {
        Ok(p) => Ok(Step::Settled(p.status)),
        Err(PayoutError::InvalidState(why)) => {
            let paid = crate::payouts::get(store, &d.handle, &d.payout_id).await?;
            Ok(match (returned, paid) {
                // Given back after it was paid: a new line, never a rewrite.
                (Some(reason), Some(p)) if p.status == PayoutStatus::Paid => {
                    let io = (sender.io, sender.origin);
                    match crate::payouts::returned::credit_back(io, &d.handle, &p, &reason).await? {
                        true => Step::Settled(PayoutStatus::Returned),
                        false => Step::Gone,
                    }
                }
                // Nothing was handed to the provider yet (a dispatch waiting for its hold to
                // end): a word naming it changes nothing, and the dispatch stays to send it.
                (_, Some(p)) if p.status == PayoutStatus::Pending => {
                    tracing::warn!(payout = %d.payout_id, %why, "a provider's word for a payout not sent");
                    Step::Busy
                }
                _ => {
                    tracing::warn!(payout = %d.payout_id, %why, "a provider's word for a settled payout");
                    Step::Gone
                }
            })
        }
        Err(e) => Err(e),
    }
}

/// A page of the dispatches left, in key order, after `after`, and where the next starts.
/// Round trips: ONE query.
pub async fn pending(
    store: &dyn Store,
    after: Option<String>,
) -> Result<(Vec<Dispatch>, Option<String>), StoreError> {
    let mut query = Query::all(keys::PAYOUT_SENDS_PK.to_owned());
    query.limit = PER_PAGE;
    query.after = after;
    let page = store.query(query).await?;
    let mut out = Vec::with_capacity(page.items.len());
    for item in &page.items {
        match item.parse::<Dispatch>() {
            Ok(mut d) => {
                d.version = item.version;
                out.push(d);
            }
            Err(e) => tracing::error!(sk = %item.sk, error = %e, "unreadable payout dispatch"),
        }
    }
    Ok((out, page.next))
}

/// One sweep: every payout being sent gets a step (an attempt due, or a poll), page after page
/// within [`SWEEP_TIME`]. A payout never stays `sending` for good: each sweep (every minute)
/// tries it, a refusal settles it failed, a retryable failure waits at most an hour between
/// attempts, and a payment at the provider is polled every [`POLL_MS`]. Answers how many
/// settled.
pub async fn sweep(sender: Sender<'_>) -> Result<usize, StoreError> {
    let started = std::time::Instant::now();
    let now_ms = crate::platform::time::now_millis();
    let mut settled = 0;
    let mut after = None;
    loop {
        let (page, next) = pending(sender.io.store.as_ref(), after).await?;
        for d in page {
            if started.elapsed() > SWEEP_TIME {
                return Ok(settled);
            }
            match advance(sender, &d.handle, &d.payout_id, now_ms).await {
                Ok(Step::Settled(_)) => settled += 1,
                // Sent: confirmed by the provider's webhook, or a later sweep's poll.
                Ok(_) => {}
                Err(e) => tracing::warn!(payout = %d.payout_id, error = %e, "payout send failed"),
            }
        }
        match next {
            Some(n) => after = Some(n),
            None => return Ok(settled),
        }
    }
}

/// A held payout's dispatch at `now_ms`: judged again; still held, it waits again; paid or
/// canceled meanwhile (a batch, a hand), or no longer paid through a provider, the dispatch
/// goes; else the payout is handed over (`pending` → `sending`, in ONE transaction that also
/// checks no batch holds it) and its first attempt made.
async fn hand_over(sender: Sender<'_>, d: Dispatch, now_ms: i64) -> Result<Step, PayoutError> {
    if d.not_before_ms > now_ms {
        return Ok(Step::Busy);
    }
    let store = sender.io.store.as_ref();
    let payout = crate::payouts::get(store, &d.handle, &d.payout_id).await?;
    let payout = payout.filter(|p| p.status == PayoutStatus::Pending);
    let rail = rail(store, &d.handle, &d.partner_id, now_ms).await?;
    let (Some(payout), Some(rail)) = (payout, rail) else {
        let (pk, sk) = d.key();
        let cond = Cond::Version(d.version);
        return match store.write(WriteOp::Delete { pk, sk, cond }).await {
            Ok(_) => Ok(Step::Gone),
            Err(StoreError::ConditionFailed { .. }) => Ok(Step::Busy),
            Err(e) => Err(e.into()),
        };
    };
    if let Some(hold) = rail.held {
        return wait_on_hold(store, d, hold, now_ms).await;
    }
    let mut next = payout.clone();
    next.status = PayoutStatus::Sending;
    next.provider = Some(handed_to(rail.provider));
    let mut ready = d.clone();
    (ready.held, ready.hold, ready.last_error) = (None, None, None);
    ready.not_before_ms = 0;
    (ready.provider, ready.method_version) = (rail.provider, rail.method_version);
    let (claim_pk, claim_sk) = crate::payouts::hold::key(&d.handle, &d.payout_id);
    let target = format!("{} through {}", d.payout_id, rail.provider.title());
    let ops = vec![
        put_payout(&d.handle, &next, payout.version)?,
        ready.put(Cond::Version(d.version))?,
        WriteOp::Check {
            pk: claim_pk,
            sk: claim_sk,
            cond: Cond::Absent,
        },
        crate::kernel::audit::entry(&d.handle, "payout.sending", &target)?,
    ];
    match store.transact(ops).await {
        Ok(()) => {}
        Err(StoreError::TxConflict { .. }) => return Ok(Step::Busy),
        Err(e) => return Err(e.into()),
    }
    ready.version = d.version + 1;
    attempt(sender, ready, now_ms).await
}

/// The dispatch waits [`HOLD_RECHECK_MS`] more, with why (version-checked: another worker's
/// step wins).
async fn wait_on_hold(
    store: &dyn Store,
    d: Dispatch,
    (code, why): (Exclusion, String),
    now_ms: i64,
) -> Result<Step, PayoutError> {
    let mut next = d.clone();
    next.not_before_ms = now_ms + HOLD_RECHECK_MS;
    next.last_error = Some(why.clone());
    next.hold = Some(code);
    if next.held.is_some() {
        next.held = Some(why.clone());
    }
    match store.write(next.put(Cond::Version(d.version))?).await {
        Ok(_) | Err(StoreError::ConditionFailed { .. }) => Ok(Step::Waiting(why)),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::model::{Commission, Status};
    use crate::payout_methods::model::Details;
    use crate::payout_providers::stripe::Made;
    use crate::payouts::fixtures::{self, Answer, Asked, Books, FakeStripe};
    use serde_json::json;
    use tenx_kernel::testing::{Meet, meeting_at_the_store};

    /// PayPal's base in tests that must never call it.
    const NOWHERE: &str = "http://127.0.0.1:9";

    fn sender<'a>(books: &'a Books, stripe: &'a str) -> Sender<'a> {
        Sender {
            io: books.io(),
            keys: Ok(&books.keys),
            stripe_base: stripe,
            paypal_base: NOWHERE,
            origin: "https://10x.example",
        }
    }

    fn now() -> i64 {
        crate::platform::time::now_millis()
    }

    /// A dispatch as [`start`] writes it, before any attempt.
    fn dispatch_of() -> Dispatch {
        Dispatch {
            handle: Handle::parse("acme").unwrap(),
            payout_id: PayoutId::new(),
            partner_id: fixtures::partner(),
            provider: Provider::Stripe,
            amount_minor: 1000,
            currency: fixtures::eur(),
            method_version: 1,
            destination: None,
            attempts: 0,
            not_before_ms: 0,
            first_attempt_ms: None,
            reference: None,
            last_error: None,
            created_ms: 1_000,
            held: None,
            hold: None,
            version: 1,
        }
    }

    /// A Stripe that makes each transfer asked for (`tr_1`, `tr_2`, …) and finds none by its
    /// group.
    fn transfers_made(asked: &Asked, before: usize) -> Answer {
        match asked.method.as_str() {
            "POST" => Answer::Json(200, json!({ "id": format!("tr_{}", before + 1) })),
            _ => Answer::Json(200, json!({ "data": [] })),
        }
    }

    /// A payout of 12.50 EUR handed to Stripe: `sending`, its dispatch waiting for its first
    /// attempt.
    async fn handed_over(books: &Books) -> Payout {
        books.paid_through_stripe().await;
        let p = books.payout(&[1000, 250]).await;
        start(books.io(), &books.handle, p).await.unwrap()
    }

    async fn dispatch(books: &Books, p: &Payout) -> Option<Dispatch> {
        find(books.store(), &books.handle, &p.payout_id)
            .await
            .unwrap()
    }

    async fn step(books: &Books, stripe: &FakeStripe, p: &Payout, now_ms: i64) -> Step {
        let sender = sender(books, &stripe.base);
        advance(sender, &books.handle, &p.payout_id, now_ms)
            .await
            .unwrap()
    }

    #[test]
    fn a_lease_is_one_more_attempt_that_no_other_starts_within_a_minute() {
        let d = dispatch_of();
        let first = leased(&d, 5_000, "sealed".into());
        assert_eq!(first.attempts, 1);
        assert_eq!(first.not_before_ms, 5_000 + LEASE_MS);
        assert_eq!(first.first_attempt_ms, Some(5_000));
        assert_eq!(first.destination.as_deref(), Some("sealed"));
        let resend = leased(&first, 900_000, "sealed".into());
        assert_eq!(resend.attempts, 2);
        assert_eq!(resend.not_before_ms, 900_000 + LEASE_MS);
        assert_eq!(
            resend.first_attempt_ms,
            Some(5_000),
            "the first attempt's time"
        );
        let mut retried = d.clone();
        retried.last_error = Some("Stripe was busy (HTTP 429).".into());
        let lease = leased(&retried, 5_000, "sealed".into());
        assert_eq!(
            lease.last_error, retried.last_error,
            "an attempt's error stays"
        );
        let mut waited = d;
        waited.hold = Some(Exclusion::PayoutFraudHold);
        waited.last_error = Some("Held for a fraud review: a signal.".into());
        let lease = leased(&waited, 5_000, "sealed".into());
        assert_eq!(
            (lease.hold, lease.last_error),
            (None, None),
            "the hold is over"
        );
    }

    #[test]
    fn a_retry_waits_longer_after_each_attempt_and_at_most_an_hour() {
        let waits: Vec<i64> = (1..=7).map(backoff_ms).collect();
        assert_eq!(
            waits,
            [
                30_000, 60_000, 300_000, 900_000, 3_600_000, 3_600_000, 3_600_000
            ]
        );
    }

    #[test]
    fn a_polls_answer_settles_the_payout_keeps_it_waiting_or_asks_again() {
        let made = |amount_reversed| Made {
            id: "tr_1".into(),
            amount: 1200,
            amount_reversed,
            reversed: amount_reversed == 1200,
        };
        assert_eq!(
            stripe_word(Ok(Some(made(0)))),
            Word::Settles(Outcome::Paid("tr_1".into()))
        );
        assert_eq!(
            stripe_word(Ok(Some(made(400)))),
            Word::Settles(Outcome::PartlyReturned {
                reference: "tr_1".into(),
                returned_minor: 400,
                reason: "Stripe reversed part of the transfer.".into()
            }),
            "paid, and 4.00 of it given back"
        );
        assert_eq!(
            stripe_word(Ok(Some(made(1200)))),
            Word::Settles(Outcome::Returned("Stripe reversed the transfer.".into()))
        );
        assert_eq!(
            stripe_word(Ok(None)),
            Word::Retry("Stripe shows no transfer yet.".into())
        );
        let lost = CallError::Retry("Stripe could not be reached.".into());
        assert_eq!(
            stripe_word(Err(lost)),
            Word::Retry("Stripe could not be reached.".into())
        );
        let key = CallError::Refused("Stripe refused the request (HTTP 401).".into());
        assert!(
            matches!(stripe_word(Err(key)), Word::Retry(_)),
            "a poll refused fails no payment"
        );
        let batch = || "BATCH1".to_owned();
        assert_eq!(
            paypal_word(Ok(paypal::Meaning::Paid), batch()),
            Word::Settles(Outcome::Paid(batch())),
            "paid with its batch as the reference"
        );
        let why = || "PayPal could not pay it.".to_owned();
        assert_eq!(
            paypal_word(Ok(paypal::Meaning::Failed(why())), batch()),
            Word::Settles(Outcome::Failed(why()))
        );
        assert_eq!(
            paypal_word(Ok(paypal::Meaning::Returned(why())), batch()),
            Word::Settles(Outcome::Returned(why()))
        );
        assert_eq!(
            paypal_word(Ok(paypal::Meaning::Waiting(why())), batch()),
            Word::Waiting(why())
        );
        let down = CallError::Retry("PayPal could not be reached.".into());
        assert_eq!(
            paypal_word(Err(down), batch()),
            Word::Retry("PayPal could not be reached.".into())
        );
    }

    #[tokio::test]
    async fn a_payout_of_a_partner_paid_through_a_connected_provider_is_handed_over_once() {
        let books = Books::new();
        let method = books.paid_through_stripe().await;
        let p = books.payout(&[1000]).await;
        let sending = start(books.io(), &books.handle, p.clone()).await.unwrap();
        assert_eq!(sending.status, PayoutStatus::Sending);
        assert_eq!(sending.version, p.version + 1);
        let words = Some("Being sent through Stripe.".to_owned());
        assert_eq!(
            sending.provider,
            Some(ProviderRef {
                name: "stripe".into(),
                reference: None,
                state: words
            })
        );
        assert_eq!(books.reread(&p).await, sending);
        let d = dispatch(&books, &p).await.unwrap();
        assert_eq!((d.provider, d.amount_minor), (Provider::Stripe, 1000));
        assert_eq!(d.method_version, method.version, "the method as it was");
        assert_eq!((d.attempts, d.not_before_ms), (0, 0), "due at once");
        assert_eq!((d.destination, d.held), (None, None));
        let again = start(books.io(), &books.handle, sending.clone()).await;
        assert_eq!(again.unwrap(), sending);
        let stale = start(books.io(), &books.handle, p).await;
        assert_eq!(stale.unwrap(), sending, "a retried run reads it as it is");
        let kept = dispatch(&books, &sending).await.unwrap();
        assert_eq!(kept.version, d.version, "one dispatch, written once");
    }

    #[tokio::test]
    async fn a_payout_a_batch_holds_is_never_handed_to_a_provider() {
        let books = Books::new();
        books.paid_through_stripe().await;
        let p = books.payout(&[1000]).await;
        let batch = crate::domain::BatchId::new();
        crate::payout_batches::claim::claim_all(
            books.io().store.as_ref(),
            &books.handle,
            &batch,
            &[(p.payout_id.clone(), p.version)],
        )
        .await
        .unwrap();
        let kept = start(books.io(), &books.handle, p.clone()).await.unwrap();
        assert_eq!(
            kept.status,
            PayoutStatus::Pending,
            "the batch's file pays it"
        );
        assert_eq!(books.reread(&p).await, p);
        assert!(dispatch(&books, &p).await.is_none(), "nothing to send");
    }

    #[tokio::test]
    async fn a_payout_of_a_partner_no_connected_provider_pays_or_of_test_money_waits_to_be_paid() {
        let books = Books::new();
        let p = books.payout(&[1000]).await;
        let kept = |out: Result<Payout, PayoutError>| out.unwrap();
        let no_method = kept(start(books.io(), &books.handle, p.clone()).await);
        assert_eq!(no_method, p);
        books
            .method(Details::Paypal {
                email: Some("partner@example.com".into()),
                payer_id: None,
            })
            .await;
        let not_connected = kept(start(books.io(), &books.handle, p.clone()).await);
        assert_eq!(not_connected, p, "the program has no PayPal account");
        books.connect_paypal().await;
        let mut test = p.clone();
        test.test = true;
        assert_eq!(
            kept(start(books.io(), &books.handle, test.clone()).await),
            test
        );
        assert!(
            dispatch(&books, &p).await.is_none(),
            "test money never leaves"
        );
        let sending = kept(start(books.io(), &books.handle, p).await);
        assert_eq!(
            sending.status,
            PayoutStatus::Sending,
            "once PayPal is connected"
        );
        assert_eq!(
            dispatch(&books, &sending).await.unwrap().provider,
            Provider::Paypal
        );
    }

    #[tokio::test]
    async fn a_held_payout_stays_pending_and_is_sent_at_the_first_check_after_its_hold_ends() {
        let books = Books::new();
        let method = books.paid_through_stripe().await;
        let unconfirmed = fixtures::unconfirmed(&method);
        books.put_method(&unconfirmed).await;
        let p = books.payout(&[1000]).await;
        let held = start(books.io(), &books.handle, p.clone()).await.unwrap();
        assert_eq!(held, p, "pending, as it was");
        let d = dispatch(&books, &p).await.unwrap();
        let why = Exclusion::PayoutMethodUnconfirmed;
        assert_eq!(d.hold, Some(why));
        assert_eq!(d.held.as_deref(), Some(why.words()));
        assert_eq!(d.not_before_ms, d.created_ms + HOLD_RECHECK_MS);
        let stripe = FakeStripe::start(transfers_made).await;
        let check = d.not_before_ms;
        assert_eq!(step(&books, &stripe, &p, check - 1).await, Step::Busy);
        let still = step(&books, &stripe, &p, check).await;
        assert_eq!(still, Step::Waiting(why.words().to_owned()));
        let waiting = dispatch(&books, &p).await.unwrap();
        assert_eq!(waiting.not_before_ms, check + HOLD_RECHECK_MS);
        let mut confirmed = unconfirmed.clone();
        (confirmed.pending, confirmed.version) = (None, unconfirmed.version + 1);
        books.put_method(&confirmed).await;
        let next = check + HOLD_RECHECK_MS;
        assert_eq!(step(&books, &stripe, &p, next - 1).await, Step::Busy);
        assert_eq!(
            step(&books, &stripe, &p, next).await,
            Step::Sent("tr_1".into())
        );
        assert_eq!(books.reread(&p).await.status, PayoutStatus::Sending);
        assert_eq!(stripe.transfers().len(), 1);
    }

    #[tokio::test]
    async fn a_providers_word_for_a_held_payout_never_sent_leaves_it_waiting_to_be_sent() {
        let books = Books::new();
        books.paid_through_stripe_unconfirmed().await;
        let p = books.payout(&[1000]).await;
        let held = start(books.io(), &books.handle, p.clone()).await.unwrap();
        let waiting = dispatch(&books, &held).await.unwrap();
        let stripe = FakeStripe::start(transfers_made).await;
        let word = Outcome::Paid("tr_not_ours".into());
        let step = settle_with(sender(&books, &stripe.base), &waiting, word)
            .await
            .unwrap();
        assert_eq!(step, Step::Busy, "nothing done");
        assert_eq!(books.reread(&p).await, p, "still pending");
        let kept = dispatch(&books, &held)
            .await
            .expect("still waiting to send it");
        assert_eq!(
            (kept.version, kept.not_before_ms, kept.hold),
            (waiting.version, waiting.not_before_ms, waiting.hold)
        );
        assert!(stripe.asked().is_empty());
    }

    #[tokio::test]
    async fn a_held_payout_canceled_meanwhile_is_never_sent() {
        let books = Books::new();
        books.paid_through_stripe_unconfirmed().await;
        let p = books.payout(&[1000]).await;
        let held = start(books.io(), &books.handle, p).await.unwrap();
        let by_hand = (&held.payout_id, settle::Settler::Alone);
        let canceled = Change::Canceled {
            reason: "not owed".into(),
        };
        settle::change(books.io(), &books.handle, by_hand, canceled)
            .await
            .unwrap();
        let stripe = FakeStripe::start(transfers_made).await;
        let check = dispatch(&books, &held).await.unwrap().not_before_ms;
        assert_eq!(step(&books, &stripe, &held, check).await, Step::Gone);
        assert!(dispatch(&books, &held).await.is_none());
        assert!(stripe.asked().is_empty());
        assert_eq!(books.reread(&held).await.status, PayoutStatus::Canceled);
    }

    #[tokio::test]
    async fn senders_racing_for_one_payout_make_one_transfer() {
        let mut books = Books::new();
        let p = handed_over(&books).await;
        let racers = 4;
        // Every sender reads the dispatch before any of them takes the lease.
        books.store = meeting_at_the_store(books.store.clone(), racers, Meet::Writes);
        let stripe = FakeStripe::start(transfers_made).await;
        let at = now();
        let steps = futures::future::join_all((0..racers).map(|_| step(&books, &stripe, &p, at)));
        let mut steps = steps.await;
        steps.sort_by_key(|s| matches!(s, Step::Busy));
        let mut expected = vec![Step::Busy; racers];
        expected[0] = Step::Sent("tr_1".into());
        assert_eq!(steps, expected, "one sender takes the lease");
        assert_eq!(stripe.transfers().len(), 1, "one call to Stripe");
        let d = dispatch(&books, &p).await.unwrap();
        assert_eq!(d.attempts, 1);
        assert_eq!(d.reference.as_deref(), Some("tr_1"));
        let sent = books.reread(&p).await;
        assert_eq!(sent.status, PayoutStatus::Sending);
        let reference = sent.provider.and_then(|r| r.reference);
        assert_eq!(reference.as_deref(), Some("tr_1"));
    }

    #[tokio::test]
    async fn a_lease_held_by_another_sender_is_not_taken_until_it_expires() {
        let books = Books::new();
        let p = handed_over(&books).await;
        let stripe = FakeStripe::start(transfers_made).await;
        // Another sender took the lease and was never heard of again (a crash mid-call).
        let then = now();
        let d = dispatch(&books, &p).await.unwrap();
        let sealed = books
            .keys
            .seal(&aad(&books.handle, &p.payout_id), b"acct_1PartnerOne");
        let taken = leased(&d, then, sealed);
        let put = taken.put(Cond::Version(d.version)).unwrap();
        books.store.write(put).await.unwrap();
        let expiry = then + LEASE_MS;
        assert_eq!(step(&books, &stripe, &p, expiry - 1).await, Step::Busy);
        assert!(
            stripe.asked().is_empty(),
            "nothing asked while the lease holds"
        );
        let resent = step(&books, &stripe, &p, expiry).await;
        assert_eq!(resent, Step::Sent("tr_1".into()));
        let transfers = stripe.transfers();
        assert_eq!(transfers.len(), 1);
        let key = transfers[0].idempotency_key.as_deref();
        assert_eq!(
            key,
            Some(p.payout_id.as_str()),
            "the resend is the same request"
        );
        assert!(
            transfers[0].body.contains("destination=acct_1PartnerOne"),
            "{}",
            transfers[0].body
        );
        let d = dispatch(&books, &p).await.unwrap();
        assert_eq!((d.attempts, d.first_attempt_ms), (2, Some(then)));
    }

    #[tokio::test]
    async fn a_sent_payout_waits_for_stripes_word_and_is_paid_by_it_once() {
        let books = Books::new();
        let p = handed_over(&books).await;
        let stripe = FakeStripe::start(|asked, before| match asked.method.as_str() {
            "POST" => Answer::Json(200, json!({ "id": "tr_1" })),
            _ if before == 0 => Answer::Json(200, json!({ "data": [] })),
            _ => Answer::Json(
                200,
                json!({ "data": [{ "id": "tr_1", "reversed": false }] }),
            ),
        })
        .await;
        let at = now();
        assert_eq!(
            step(&books, &stripe, &p, at).await,
            Step::Sent("tr_1".into())
        );
        let sent = books.reread(&p).await;
        assert_eq!(sent.status, PayoutStatus::Sending);
        let words = "Sent through Stripe; waiting for its confirmation.";
        let provider = sent.provider.unwrap();
        assert_eq!(provider.reference.as_deref(), Some("tr_1"));
        assert_eq!(provider.state.as_deref(), Some(words));
        let unpaid = books.lines_of(&p).await;
        assert!(
            unpaid.iter().all(|l| l.status == Status::Approved),
            "not paid yet"
        );
        let none_yet = step(&books, &stripe, &p, at).await;
        assert_eq!(
            none_yet,
            Step::Retry("Stripe shows no transfer yet.".into())
        );
        assert_eq!(
            step(&books, &stripe, &p, at).await,
            Step::Settled(PayoutStatus::Paid)
        );
        let paid = books.reread(&p).await;
        assert_eq!(paid.status, PayoutStatus::Paid);
        assert_eq!(paid.reference.as_deref(), Some("tr_1"));
        assert!(
            books
                .lines_of(&p)
                .await
                .iter()
                .all(|l| l.status == Status::Paid)
        );
        assert!(dispatch(&books, &p).await.is_none(), "its dispatch is done");
        assert_eq!(step(&books, &stripe, &p, at).await, Step::Gone);
        assert_eq!(stripe.transfers().len(), 1);
    }

    #[tokio::test]
    async fn a_transfer_stripe_refuses_fails_the_payout_in_words_and_frees_its_lines() {
        let books = Books::new();
        let p = handed_over(&books).await;
        let stripe = FakeStripe::start(|_, _| {
            let error = json!({ "error": { "code": "balance_insufficient" } });
            Answer::Json(400, error)
        })
        .await;
        let at = now();
        let failed = step(&books, &stripe, &p, at).await;
        assert_eq!(failed, Step::Settled(PayoutStatus::Failed));
        let p = books.reread(&p).await;
        assert_eq!(p.status, PayoutStatus::Failed);
        assert_eq!(
            p.reason.as_deref(),
            Some(
                "The program's Stripe balance did not cover this payout: add funds in Stripe; the amount is back on the partner's balance for the next payout run."
            )
        );
        assert!(books.lines_of(&p).await.iter().all(Commission::is_open));
        assert!(dispatch(&books, &p).await.is_none());
        assert_eq!(step(&books, &stripe, &p, at).await, Step::Gone);
        assert_eq!(stripe.transfers().len(), 1, "a refusal is not asked again");
    }

    #[tokio::test]
    async fn a_lost_answer_or_a_stripe_error_is_sent_again_later_as_the_same_transfer() {
        let books = Books::new();
        let p = handed_over(&books).await;
        // Each resend finds no transfer by the payout's group first.
        let stripe = FakeStripe::start(|asked, before| match (asked.method.as_str(), before) {
            ("GET", _) => Answer::Json(200, json!({ "data": [] })),
            (_, 0) => Answer::Lost,
            (_, 1) => Answer::Json(500, json!({})),
            _ => Answer::Json(200, json!({ "id": "tr_1" })),
        })
        .await;
        let at = now();
        let lost = step(&books, &stripe, &p, at).await;
        assert_eq!(lost, Step::Retry("Stripe could not be reached.".into()));
        let d = dispatch(&books, &p).await.unwrap();
        assert_eq!(
            d.last_error.as_deref(),
            Some("Stripe could not be reached.")
        );
        assert_eq!((d.attempts, d.not_before_ms), (1, at + 30_000));
        assert_eq!(books.reread(&p).await.status, PayoutStatus::Sending);
        assert_eq!(step(&books, &stripe, &p, at + 29_999).await, Step::Busy);
        let error = step(&books, &stripe, &p, at + 30_000).await;
        let words = "Stripe had an error of its own (HTTP 500).";
        assert_eq!(error, Step::Retry(words.into()));
        let d = dispatch(&books, &p).await.unwrap();
        assert_eq!(d.not_before_ms, at + 30_000 + 60_000, "a longer wait");
        let sent = step(&books, &stripe, &p, at + 90_000).await;
        assert_eq!(sent, Step::Sent("tr_1".into()));
        let transfers = stripe.transfers();
        assert_eq!(transfers.len(), 3);
        for t in &transfers {
            assert_eq!(t.idempotency_key.as_deref(), Some(p.payout_id.as_str()));
            assert_eq!(t.body, transfers[0].body, "the same transfer each time");
        }
        let lookups = stripe.asked().into_iter().filter(|a| a.method == "GET");
        assert_eq!(lookups.count(), 2, "each resend looked first");
    }

    #[tokio::test]
    async fn a_method_changed_or_removed_before_the_first_attempt_sends_nothing_and_says_why() {
        for removed in [false, true] {
            let books = Books::new();
            let p = handed_over(&books).await;
            let method = crate::payout_methods::get(books.store(), &books.handle, &p.partner_id)
                .await
                .unwrap()
                .unwrap();
            if removed {
                let (pk, sk) = keys::payout_method(&books.handle, &p.partner_id);
                let delete = WriteOp::Delete {
                    pk,
                    sk,
                    cond: Cond::None,
                };
                books.store.write(delete).await.unwrap();
            } else {
                let mut changed = method.clone();
                changed.version += 1;
                books.put_method(&changed).await;
            }
            let stripe = FakeStripe::start(transfers_made).await;
            let failed = step(&books, &stripe, &p, now()).await;
            assert_eq!(
                failed,
                Step::Settled(PayoutStatus::Failed),
                "removed: {removed}"
            );
            let p = books.reread(&p).await;
            assert_eq!(
                p.reason.as_deref(),
                Some(
                    "Not sent: the partner changed its payout method after this payout was made. The amount is back on the partner's balance for the next payout run, to the new method."
                )
            );
            assert!(books.lines_of(&p).await.iter().all(Commission::is_open));
            assert!(stripe.asked().is_empty(), "removed: {removed}");
        }
    }

    #[tokio::test]
    async fn a_paypal_account_naming_no_one_to_pay_sends_nothing_and_says_why() {
        let books = Books::new();
        books
            .method(Details::Paypal {
                email: None,
                payer_id: None,
            })
            .await;
        books.connect_paypal().await;
        let p = books.payout(&[1000]).await;
        let p = start(books.io(), &books.handle, p).await.unwrap();
        assert_eq!(p.status, PayoutStatus::Sending);
        let sender = sender(&books, NOWHERE);
        let failed = advance(sender, &books.handle, &p.payout_id, now()).await;
        assert_eq!(failed.unwrap(), Step::Settled(PayoutStatus::Failed));
        let reason = books.reread(&p).await.reason;
        assert_eq!(
            reason.as_deref(),
            Some("Not sent: the partner's PayPal account names no email nor payer ID.")
        );
    }

    #[tokio::test]
    async fn details_that_do_not_open_send_nothing_and_say_why_until_the_keys_are_back() {
        let books = Books::new();
        let foreign = Keyring::parse(&Keyring::generate_spec()).unwrap();
        let account = Details::StripeConnect {
            account_id: "acct_1PartnerOne".into(),
        };
        let first = crate::payout_methods::set::first_setting;
        let partner = fixtures::partner();
        let ops = first(&foreign, &books.handle, &partner, &account, "test").unwrap();
        books.store.transact(ops).await.unwrap();
        books.connect_stripe().await;
        let p = books.payout(&[1000]).await;
        let p = start(books.io(), &books.handle, p).await.unwrap();
        assert_eq!(p.status, PayoutStatus::Sending);
        let d = dispatch(&books, &p).await.unwrap();
        let stripe = FakeStripe::start(transfers_made).await;
        let sender = sender(&books, &stripe.base);
        let at = now();
        let refused = advance(sender, &books.handle, &p.payout_id, at).await;
        assert_eq!(refused.unwrap(), Step::Retry(UNREADABLE.into()));
        assert!(stripe.asked().is_empty());
        assert_eq!(books.reread(&p).await, p, "still being sent");
        let kept = dispatch(&books, &p).await.unwrap();
        assert_eq!(
            (kept.version, kept.attempts, kept.destination.as_deref()),
            (d.version + 1, 0, None),
            "no lease taken, no attempt counted, nothing sealed"
        );
        assert_eq!(kept.not_before_ms, at + HOLD_RECHECK_MS);
        let told = crate::payouts::waiting::of(&kept).expect("the manager is told why");
        assert_eq!(told.words, UNREADABLE);
        let again = advance(sender, &books.handle, &p.payout_id, at + 1).await;
        assert_eq!(
            again.unwrap(),
            Step::Busy,
            "not tried again before the hour"
        );
        assert!(stripe.asked().is_empty());
    }

    #[tokio::test]
    async fn a_payment_given_back_after_it_was_paid_is_credited_back_once() {
        let books = Books::new();
        let p = handed_over(&books).await;
        let stripe = FakeStripe::start(transfers_made).await;
        assert_eq!(
            step(&books, &stripe, &p, now()).await,
            Step::Sent("tr_1".into())
        );
        let d = dispatch(&books, &p).await.unwrap();
        let sender = sender(&books, &stripe.base);
        let paid = settle_with(sender, &d, Outcome::Paid("tr_1".into())).await;
        assert_eq!(paid.unwrap(), Step::Settled(PayoutStatus::Paid));
        let late = settle_with(sender, &d, Outcome::Failed("late".into())).await;
        assert_eq!(late.unwrap(), Step::Gone, "a paid payout fails no more");
        let back = || Outcome::Returned("Stripe reversed the transfer.".into());
        let returned = settle_with(sender, &d, back()).await;
        assert_eq!(returned.unwrap(), Step::Settled(PayoutStatus::Returned));
        let paid = books.reread(&p).await;
        assert_eq!(
            paid.status,
            PayoutStatus::Paid,
            "its statement stays as signed"
        );
        let credit = p.payout_id.returned_line_id();
        let line = crate::ledger::get(books.store(), &books.handle, &credit).await;
        let line = line.unwrap().expect("the amount is back as a line");
        assert_eq!(line.amount_minor, Some(1250));
        assert!(line.is_open(), "payable in the next run");
        let again = settle_with(sender, &d, back()).await;
        assert_eq!(again.unwrap(), Step::Gone, "told twice, credited once");
        let same = crate::ledger::get(books.store(), &books.handle, &credit).await;
        assert_eq!(same.unwrap().unwrap().version, line.version);
    }

    #[tokio::test]
    async fn a_payout_still_being_sent_when_part_of_it_comes_back_is_paid_then_credited_that_part()
    {
        let books = Books::new();
        let p = handed_over(&books).await;
        let stripe = FakeStripe::start(transfers_made).await;
        assert_eq!(
            step(&books, &stripe, &p, now()).await,
            Step::Sent("tr_1".into())
        );
        let d = dispatch(&books, &p).await.unwrap();
        let sender = sender(&books, &stripe.base);
        let part = || Outcome::PartlyReturned {
            reference: "tr_1".into(),
            returned_minor: 400,
            reason: "Stripe reversed part of the transfer.".into(),
        };
        let settled = settle_with(sender, &d, part()).await;
        assert_eq!(settled.unwrap(), Step::Settled(PayoutStatus::Paid));
        let paid = books.reread(&p).await;
        assert_eq!(
            (paid.status, paid.reference.as_deref()),
            (PayoutStatus::Paid, Some("tr_1")),
            "what was not given back reached the partner"
        );
        assert!(
            books
                .lines_of(&p)
                .await
                .iter()
                .all(|l| l.status == Status::Paid)
        );
        assert!(dispatch(&books, &p).await.is_none(), "its dispatch is done");
        let (back, credit) =
            crate::payouts::given_back::credited(books.store(), &books.handle, &paid)
                .await
                .unwrap();
        assert_eq!(back, 400, "the 4.00 given back is on the balance");
        assert!(credit[0].is_open());
        settle_with(sender, &d, part()).await.unwrap();
        let again = crate::payouts::given_back::credited(books.store(), &books.handle, &paid);
        assert_eq!(again.await.unwrap().0, 400, "told twice, credited once");
    }

    /// The transfer `tr_1` of a 12.50 payout as Stripe lists it by its group.
    fn listed() -> Answer {
        let tr = json!({ "id": "tr_1", "amount": 1250, "amount_reversed": 0, "reversed": false });
        Answer::Json(200, json!({ "data": [tr] }))
    }

    /// `p`'s lines are still the payout's: none is back on the balance.
    async fn assert_lines_held(books: &Books, p: &Payout) {
        let lines = books.lines_of(p).await;
        assert!(
            lines
                .iter()
                .all(|l| !l.is_open() && l.payout_id.as_ref() == Some(&p.payout_id)),
            "{lines:?}"
        );
    }

    #[tokio::test]
    async fn a_resend_after_stripe_was_disconnected_waits_and_is_paid_once_when_reconnected() {
        let books = Books::new();
        let p = handed_over(&books).await;
        // Stripe makes the transfer, and its answer is lost.
        let stripe = FakeStripe::start(|asked, before| match (asked.method.as_str(), before) {
            ("GET", _) => listed(),
            (_, 0) => Answer::Lost,
            _ => Answer::Json(200, json!({ "id": "tr_1" })),
        })
        .await;
        let at = now();
        let lost = step(&books, &stripe, &p, at).await;
        assert_eq!(lost, Step::Retry("Stripe could not be reached.".into()));
        let removed = payout_providers::remove(books.store(), &books.handle, Provider::Stripe);
        assert!(removed.await.unwrap());
        let words = "Stripe is not connected any more: an admin connects it again on the \
                     console's Payouts page (Payout providers). This payout may have reached \
                     Stripe on an earlier attempt, so it is not failed: it is tried again until \
                     Stripe answers for it.";
        for later in [at + 30_000, at + 90_000] {
            let waits = step(&books, &stripe, &p, later).await;
            assert_eq!(waits, Step::Retry(words.into()), "not failed");
        }
        assert_eq!(books.reread(&p).await.status, PayoutStatus::Sending);
        assert_lines_held(&books, &p).await;
        let d = dispatch(&books, &p).await.unwrap();
        let told = crate::payouts::waiting::of(&d).expect("the manager is told");
        assert_eq!(
            (told.state, told.words.as_str()),
            (crate::payouts::model::WaitState::Retrying, words)
        );
        books.connect_stripe().await;
        let found = step(&books, &stripe, &p, d.not_before_ms).await;
        assert_eq!(found, Step::Sent("tr_1".into()), "looked up first");
        assert_eq!(
            step(&books, &stripe, &p, now()).await,
            Step::Settled(PayoutStatus::Paid)
        );
        let paid = books.reread(&p).await;
        assert_eq!(paid.reference.as_deref(), Some("tr_1"));
        assert!(
            books
                .lines_of(&p)
                .await
                .iter()
                .all(|l| l.status == Status::Paid)
        );
        assert_eq!(stripe.transfers().len(), 1, "one transfer asked for, ever");
        assert_eq!(step(&books, &stripe, &p, now()).await, Step::Gone);
    }

    #[tokio::test]
    async fn a_resend_fails_the_payout_only_on_a_refusal_after_its_lookup_found_no_transfer() {
        let books = Books::new();
        let p = handed_over(&books).await;
        let stripe = FakeStripe::start(|asked, before| match (asked.method.as_str(), before) {
            (_, 0) if asked.method == "POST" => Answer::Lost,
            // The key rolled: the lookup is refused.
            ("GET", 0) => Answer::Json(401, json!({ "error": { "code": "api_key_invalid" } })),
            ("GET", _) => Answer::Json(200, json!({ "data": [] })),
            (_, 1) => Answer::Json(408, json!({})),
            (_, 2) => Answer::Json(403, json!({})),
            _ => Answer::Json(400, json!({ "error": { "code": "balance_insufficient" } })),
        })
        .await;
        let mut at = now();
        step(&books, &stripe, &p, at).await;
        let key = "Stripe refused the program's secret key: an admin connects Stripe again on \
                   the console's Payouts page (Payout providers). This payout may have reached \
                   Stripe on an earlier attempt, so it is not failed: it is tried again until \
                   Stripe answers for it.";
        let unexpected = "Stripe refused the request (HTTP 408). This payout may have reached \
                          Stripe on an earlier attempt, so it is not failed: it is tried again \
                          until Stripe answers for it. If it lasts, an admin checks Stripe and \
                          connects it again on the console's Payouts page (Payout providers).";
        for words in [key, unexpected, key] {
            at = dispatch(&books, &p).await.unwrap().not_before_ms;
            assert_eq!(
                step(&books, &stripe, &p, at).await,
                Step::Retry(words.into())
            );
            assert_eq!(books.reread(&p).await.status, PayoutStatus::Sending);
            assert_lines_held(&books, &p).await;
        }
        at = dispatch(&books, &p).await.unwrap().not_before_ms;
        let refused = step(&books, &stripe, &p, at).await;
        assert_eq!(
            refused,
            Step::Settled(PayoutStatus::Failed),
            "Stripe's word"
        );
        assert!(books.lines_of(&p).await.iter().all(Commission::is_open));
        assert_eq!(stripe.transfers().len(), 4);
    }

    #[tokio::test]
    async fn a_paypal_resend_whose_credentials_are_refused_waits_and_finds_the_first_batch() {
        let books = Books::new();
        books
            .method(Details::Paypal {
                email: Some("partner@example.com".into()),
                payer_id: None,
            })
            .await;
        books.connect_paypal().await;
        let p = books.payout(&[1000]).await;
        let p = start(books.io(), &books.handle, p).await.unwrap();
        let paypal = FakeStripe::start(|asked, before| match (asked.path.as_str(), before) {
            ("/v1/oauth2/token", 1) => Answer::Json(401, json!({ "error": "invalid_client" })),
            ("/v1/oauth2/token", _) => Answer::Json(200, json!({ "access_token": "T" })),
            (_, 0) => Answer::Lost,
            _ => Answer::Json(
                400,
                json!({ "name": "USER_BUSINESS_ERROR",
                    "details": [{ "field": "SENDER_BATCH_ID", "issue": "Batch with given sender_batch_id already exists" }],
                    "links": [{ "href": "https://api.paypal.com/v1/payments/payouts/BATCH1" }] }),
            ),
        })
        .await;
        let sender = Sender {
            paypal_base: &paypal.base,
            ..sender(&books, NOWHERE)
        };
        let mut at = now();
        let step = |at| advance(sender, &books.handle, &p.payout_id, at);
        assert!(matches!(step(at).await.unwrap(), Step::Retry(_)));
        at = dispatch(&books, &p).await.unwrap().not_before_ms;
        let Step::Retry(words) = step(at).await.unwrap() else {
            panic!("not retried")
        };
        assert!(words.contains("refused the program's client ID"), "{words}");
        assert!(words.contains("it is not failed"), "{words}");
        assert_eq!(books.reread(&p).await.status, PayoutStatus::Sending);
        at = dispatch(&books, &p).await.unwrap().not_before_ms;
        assert_eq!(step(at).await.unwrap(), Step::Sent("BATCH1".into()));
    }

    #[tokio::test]
    async fn a_first_attempt_with_its_provider_disconnected_fails_at_once_as_nothing_was_sent() {
        let books = Books::new();
        let p = handed_over(&books).await;
        let removed = payout_providers::remove(books.store(), &books.handle, Provider::Stripe);
        assert!(removed.await.unwrap());
        let stripe = FakeStripe::start(transfers_made).await;
        let failed = step(&books, &stripe, &p, now()).await;
        assert_eq!(failed, Step::Settled(PayoutStatus::Failed));
        let reason = books.reread(&p).await.reason;
        assert_eq!(
            reason.as_deref(),
            Some("Stripe was disconnected before this payout was sent.")
        );
        assert!(books.lines_of(&p).await.iter().all(Commission::is_open));
        assert!(stripe.asked().is_empty());
    }
}
