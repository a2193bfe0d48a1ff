//! The outbox sweeper as a scheduled Lambda function (EventBridge `rate(1 minute)`): each
//! invocation runs one [`outbox::sweep`], re-enqueueing committed events whose enqueue never
//! happened (a function that died, or a queue that was down, between a commit and its send).
//! Without it, a conversion's fan-out could be lost in production. It also carries on the payout
//! runs and status changes too large for their request (`payouts::jobs`). Overlapping invocations are
//! harmless: every copy of an event carries the same id and consumers dedupe on it.

use lambda_runtime::{LambdaEvent, service_fn};
use serde::Serialize;
use serde_json::Value;

use crate::kernel::state::AppState;
use crate::{kernel::outbox, kernel::outbox::SweepError};

/// The sweeper's secrets: the statements' signing keys, since a payout run it finishes in the
/// background seals its statements (`payouts::jobs`), and the payout keys, since it sends
/// payouts through their providers (`payouts::send`: the program's credentials and the
/// partner's destination are sealed).
pub const SECRETS: crate::platform::config::Secrets = crate::platform::config::Secrets {
    signing: true,
    payout_key: true,
    ..crate::platform::config::Secrets::NONE
};

/// What sending payouts through their providers uses of this process.
pub fn payout_sender(state: &AppState) -> crate::payouts::send::Sender<'_> {
    crate::payouts::send::Sender {
        io: state.io(),
        keys: state.payout_key(),
        stripe_base: &state.config.stripe_api_base,
        paypal_base: &state.config.paypal_api_base,
        origin: state.config.public_origin().unwrap_or_default(),
    }
}

/// What one invocation did (the function's response, visible in `cargo lambda invoke`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    /// Outbox entries older than `TENX_OUTBOX_MIN_AGE_SECS` sent to the events queue again.
    pub resent: usize,
    /// Commissions whose hold ended, approved (with their `commission.approved` events).
    pub approved: usize,
    /// Qualified-click lines written for closed days (and late clicks).
    pub accrued: usize,
    /// Payout runs and status changes finished in the background (`payouts::jobs`).
    pub payout_jobs: usize,
    /// Payouts settled by their payment provider's word (`payouts::send`).
    pub payout_sends: usize,
    /// Mail the mail queue never took, sent to it again (`mail::sweep`).
    pub mail: usize,
    /// Commission digests of the days before queued, one per partner (`mail::digest`).
    pub digests: usize,
    /// Broadcasts carried on to every recipient after their request ended (`messages`).
    pub broadcasts: usize,
    /// Overdue claims decided by their program's rule (`claims::overdue`).
    pub claims: usize,
    /// Custom domains re-checked (their TXT record looked up again after a day, `domains::recheck`).
    pub domains: usize,
    /// Last week's summaries queued to the handles' admins, once per week (`weekly`).
    pub weekly: usize,
    /// Custom domains' certificates and distributions on AWS moved a step, and given-up
    /// domains' deleted (`domains::edge`; zero where the edge is off).
    pub edge: crate::domains::edge::EdgeSweep,
}

/// One invocation. The trigger (an EventBridge scheduled event, or `{}` from a manual invoke)
/// only labels the log line: every invocation sweeps the same way. A failure fails the
/// invocation, so it shows in the function's error metrics and the next schedule retries it.
pub async fn handle(state: &AppState, trigger: &Value) -> Result<SweepReport, SweepError> {
    let swept = outbox::sweep_from(
        state.store.as_ref(),
        state.queue.as_ref(),
        state.config.outbox_min_age,
        &state.sweep_floor,
    )
    .await?;
    swept.log(state.config.outbox_min_age);
    let resent = swept.resent;
    let accrued =
        crate::ledger::qualified_clicks::sweep(state.io(), crate::platform::time::now_millis())
            .await?;
    let approved =
        crate::ledger::due::sweep(state.io(), crate::platform::time::now_millis()).await?;
    // Overdue claims (issue 63), decided by their program's rule and signed: only where the
    // statement keys are loaded (they are, in the template).
    let claims = match state.signing() {
        Ok(keys) => {
            let now = crate::platform::time::now_millis();
            let base = crate::mail::unsubscribe::public_base(&state.config);
            crate::claims::overdue::sweep((state.io(), keys), &base, now).await?
        }
        Err(_) => 0,
    };
    let mail = crate::mail::sweep::sweep(state.io(), state.config.outbox_min_age).await?;
    let base = crate::mail::unsubscribe::public_base(&state.config);
    let today = crate::platform::time::now().date();
    let digests = crate::mail::digest::sweep(state.io(), today, &base)
        .await
        .map_err(|e| SweepError::Store(crate::platform::store::StoreError::Other(e.to_string())))?;
    let weekly = crate::weekly::sweep(state.io(), today, &base)
        .await
        .map_err(|e| SweepError::Store(crate::platform::store::StoreError::Other(e.to_string())))?;
    let links = crate::messages::post::Links { base: base.clone() };
    let broadcasts =
        crate::messages::broadcasts::sweep(state.io(), &links, crate::platform::time::now_millis())
            .await
            .map_err(|e| {
                SweepError::Store(crate::platform::store::StoreError::Other(e.to_string()))
            })?;
    let payer = crate::payouts::Payer::new(state.io(), state.signing());
    let payout_jobs = crate::payouts::jobs::sweep(payer).await?;
    let payout_sends = crate::payouts::send::sweep(payout_sender(state)).await?;
    let domains = crate::domains::recheck::sweep(
        state.io(),
        state.config.dns_resolver,
        &base,
        crate::platform::time::now_millis(),
    )
    .await?;
    let edge = match &state.edge {
        Some(edge) => crate::domains::edge::sweep(state.store.as_ref(), edge.as_ref()).await?,
        None => crate::domains::edge::EdgeSweep::default(),
    };
    let scheduled = trigger.get("time").and_then(Value::as_str).unwrap_or("-");
    if resent > 0 {
        tracing::warn!(resent, scheduled, "outbox sweep re-enqueued events");
    } else {
        tracing::debug!(scheduled, "outbox sweep: nothing to re-enqueue");
    }
    Ok(SweepReport {
        resent,
        approved,
        accrued,
        payout_jobs,
        payout_sends,
        mail,
        digests,
        broadcasts,
        claims,
        domains,
        weekly,
        edge,
    })
}

/// The Lambda entry point of the sweeper.
pub async fn run(state: AppState) -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let state = state.clone();
        async move {
            handle(&state, &event.payload)
                .await
                .map_err(lambda_runtime::Error::from)
        }
    }))
    .await
}
