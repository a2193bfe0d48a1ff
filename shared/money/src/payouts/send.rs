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
//!   `metadata[payout]` are the payout's id (and after a day, when Stripe has forgotten the key,
//!   the transfer is looked up by its group first); PayPal's `sender_batch_id` is the payout's
//!   id, which PayPal refuses twice, linking the first batch. A lost answer, a timeout, a crash
//!   between the send and its record: the resend finds the payment that was made;
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
/// Stripe keeps an idempotency key about 24 hours: a resend later than this after the first
/// attempt looks the transfer up by its group before sending.
pub const STRIPE_KEY_KEPT_MS: i64 = 23 * 3_600_000;
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
    let ops = match &rail.held {
        None => vec![
            put_payout(handle, &next, payout.version)?,
            dispatch.put(Cond::Absent)?,
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
        Err(reason) => return settle_with(sender, &d, Outcome::Failed(reason)).await,
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
    match call(sender, &lease, &destination, now_ms).await? {
        Ok(reference) => record_sent(sender, lease, reference).await,
        Err(CallError::Retry(why)) => {
            lease.not_before_ms = now_ms + backoff_ms(lease.attempts);
            lease.last_error = Some(why.clone());
            let read = lease.version;
            match store.write(lease.put(Cond::Version(read))?).await {
                Ok(_) | Err(StoreError::ConditionFailed { .. }) => Ok(Step::Retry(why)),
                Err(e) => Err(e.into()),
            }
        }
        Err(CallError::Refused(why)) => settle_with(sender, &lease, Outcome::Failed(why)).await,
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

/// Where the money goes: the destination sealed on the first attempt, else the partner's
/// method if it is the one the payout was made with (`Err`: why nothing is sent, in words).
async fn destination(
    sender: Sender<'_>,
    d: &Dispatch,
) -> Result<Result<String, String>, PayoutError> {
    if let Some(sealed) = &d.destination {
        let plain = sender
            .keys?
            .open(&aad(&d.handle, &d.payout_id), sealed)
            .map_err(|e| StoreError::Corrupt(format!("payout destination: {e}")))?;
        return Ok(Ok(String::from_utf8_lossy(&plain).into_owned()));
    }
    let store = sender.io.store.as_ref();
    let method = crate::payout_methods::get(store, &d.handle, &d.partner_id).await?;
    let Some(method) = method.filter(|m| m.version == d.method_version) else {
        return Ok(Err("Not sent: the partner changed its payout method after this payout was made. The amount is back on the partner's balance for the next payout run, to the new method.".into()));
    };
    let details = crate::payout_methods::open(
        sender.keys,
        &d.handle,
        &d.partner_id,
        method.sealed.as_deref(),
    )
    .map_err(|e| StoreError::Corrupt(format!("payout method: {e}")))?;
    match (d.provider, details) {
        (Provider::Paypal, details @ Details::Paypal { .. }) => Ok(details
            .paypal_receiver()
            .map(paypal::destination)
            .ok_or_else(|| {
                "Not sent: the partner's PayPal account names no email nor payer ID.".to_owned()
            })),
        (Provider::Stripe, Details::StripeConnect { account_id }) => Ok(Ok(account_id)),
        (p, _) => Ok(Err(format!(
            "Not sent: the partner is no longer paid through {}.",
            p.title()
        ))),
    }
}

/// The provider called with the program's credentials: its reference for the payment.
async fn call(
    sender: Sender<'_>,
    d: &Dispatch,
    to: &str,
    now_ms: i64,
) -> Result<Result<String, CallError>, PayoutError> {
    let store = sender.io.store.as_ref();
    let credentials =
        match payout_providers::credentials(store, sender.keys, &d.handle, d.provider).await {
            Ok(c) => c,
            Err(payout_providers::ProviderError::NotConnected(p)) => {
                return Ok(Err(CallError::Refused(format!(
                    "{p} was disconnected before this payout was sent."
                ))));
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
            send_stripe(sender.stripe_base, &secret_key, d, to, now_ms).await
        }
    })
}

/// A Stripe transfer: looked up by its group first when Stripe may have forgotten the key.
async fn send_stripe(
    base: &str,
    key: &str,
    d: &Dispatch,
    to: &str,
    now_ms: i64,
) -> Result<String, CallError> {
    let id = d.payout_id.as_str();
    if key_may_be_forgotten(d, now_ms)
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

/// Whether Stripe may have forgotten the idempotency key of `d`'s first attempt by this
/// resend at `now_ms` ([`STRIPE_KEY_KEPT_MS`]): then its transfer is looked up before sending.
fn key_may_be_forgotten(d: &Dispatch, now_ms: i64) -> bool {
    let first = d.first_attempt_ms.unwrap_or(now_ms);
    d.attempts > 1 && now_ms - first >= STRIPE_KEY_KEPT_MS
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
    Returned(String),
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

/// Stripe's word: the payout's transfer as found by its group (paid unless reversed), or why
/// there is none to go by.
fn stripe_word(found: Result<Option<stripe::Made>, CallError>) -> Word {
    match found {
        Ok(Some(m)) if !m.reversed => Word::Settles(Outcome::Paid(m.id)),
        Ok(Some(_)) => Word::Settles(Outcome::Returned("Stripe reversed the transfer.".into())),
        Ok(None) => Word::Retry("Stripe shows no transfer yet.".into()),
        Err(e) => Word::Retry(e.to_string()),
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
/// the partner's balance), then forgets the dispatch. A payout settled already is left as it is.
pub async fn settle_with(
    sender: Sender<'_>,
    d: &Dispatch,
    outcome: Outcome,
) -> Result<Step, PayoutError> {
    let store = sender.io.store.as_ref();
    let returned = match &outcome {
        Outcome::Returned(reason) => Some(reason.clone()),
        _ => None,
    };
    let change = match outcome {
        Outcome::Paid(reference) => Change::Paid { reference },
        Outcome::Failed(reason) => Change::Failed { reason },
        Outcome::Returned(reason) => Change::Returned { reason },
    };
    // A failure or a return tells the partner in the same transaction.
    let id = (&d.payout_id, sender.origin);
    let step = match settle::change_telling(sender.io, &d.handle, id, change).await {
        Ok(p) => Step::Settled(p.status),
        Err(PayoutError::InvalidState(why)) => {
            let paid = crate::payouts::get(store, &d.handle, &d.payout_id).await?;
            match (returned, paid) {
                // Given back after it was paid: a new line, never a rewrite.
                (Some(reason), Some(p)) if p.status == PayoutStatus::Paid => {
                    let io = (sender.io, sender.origin);
                    match crate::payouts::returned::credit_back(io, &d.handle, &p, &reason).await? {
                        true => Step::Settled(PayoutStatus::Returned),
                        false => Step::Gone,
                    }
                }
                _ => {
                    tracing::warn!(payout = %d.payout_id, %why, "a provider's word for a settled payout");
                    Step::Gone
                }
            }
        }
        Err(e) => return Err(e),
    };
    let (pk, sk) = d.key();
    store
        .write(WriteOp::Delete {
            pk,
            sk,
            cond: Cond::None,
        })
        .await?;
    Ok(step)
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
