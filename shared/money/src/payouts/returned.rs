//! A payment its provider gives back after the payout was paid (a Stripe transfer reversed, a
//! PayPal payment returned or refunded later). The payout stays `paid` and its signed statement
//! as it was; its amount goes back on the partner's balance as a new line (approved, payable in
//! the next run, which gives it a statement of its own), the reason in words, the partner
//! mailed, `payout.returned` sent, and its self-billing invoice (if it had one) cancelled by a
//! credit note. Exactly once: the line's id follows from the payout's and is written only if
//! absent, so a second word of the same return (a poll and a webhook, a redelivery) writes
//! nothing.

use crate::domain::Handle;
use crate::kernel::io::Io;
use crate::ledger::model::{Commission, Kind, Status};
use crate::ledger::view;
use crate::payouts::model::{Payout, PayoutError, PayoutStatus};
use crate::platform::store::StoreError;

/// Credits `payout` (paid through a provider) back to its partner, `reason` in words; `true`
/// when this call did (`false`: done already, or not a provider's paid payout). `origin` is the
/// product's own, which the mail's link is absolute to. Round trips: ONE read (the partner's
/// address), ONE transaction (the line, its balance moves, the audit entry, its event, and the
/// partner's mail staged in it: a crash after it loses no mail), then the credit note.
#[tracing::instrument(skip_all, fields(handle = %handle, payout = %payout.payout_id))]
pub async fn credit_back(
    (io, origin): (Io<'_>, &str),
    handle: &Handle,
    payout: &Payout,
    reason: &str,
) -> Result<bool, PayoutError> {
    if payout.status != PayoutStatus::Paid || payout.provider.is_none() {
        tracing::warn!(%reason, "a provider's return of a payout it did not pay: ignored");
        return Ok(false);
    }
    let amount = payout.currency.format(i128::from(payout.amount_minor));
    let mut line = Commission::blank(
        payout.payout_id.returned_line_id(),
        Kind::Manual,
        payout.partner_id.clone(),
        Some(payout.amount_minor),
        payout.currency,
        Status::Approved,
    );
    // A person reads this line's reason: the payout named as the partner's payouts are
    // numbered (#1, #2), never by its id.
    line.reasons = vec![format!(
        "{reason} The {amount} {} of payout #{} is back on the balance, paid with the next payout.",
        payout.currency.as_str(),
        payout.sequence
    )];
    line.reviewed_by = Some("system".into());
    line.reviewed_at = Some(line.created_at.clone());
    let mut ops = line.create(handle)?;
    let target = format!(
        "{} (given back after it was paid: {reason}; back on the balance as {})",
        payout.payout_id, line.commission_id
    );
    ops.push(crate::kernel::audit::entry(
        handle,
        "payout.provider_returned",
        &target,
    )?);
    let emits = vec![
        view::event(view::CommissionEvent::Created, &line),
        returned_event(payout, reason),
    ];
    let mut told = payout.clone();
    told.reason = Some(reason.to_owned());
    let mail = staged_mail(io.store.as_ref(), origin, handle, &told).await;
    if let Some(staged) = &mail {
        ops.extend(staged.ops.iter().cloned());
    }
    match crate::ledger::emit::commit(io, handle, ops, emits).await {
        Ok(()) => {}
        // Credited already by an earlier word of the same return.
        Err(StoreError::TxConflict { .. } | StoreError::ConditionFailed { .. }) => {
            // An earlier word may have stopped before its credit note.
            cancel_invoice(io, handle, payout, reason).await?;
            return Ok(false);
        }
        Err(e) => return Err(e.into()),
    }
    if let Some(staged) = &mail {
        crate::mail::publish(io, staged).await;
    }
    cancel_invoice(io, handle, payout, reason).await?;
    Ok(true)
}

/// The credit note cancelling the payout's self-billing invoice, when it had one
/// (`payouts::credit_note`, exactly once however often the return is told). An error fails the
/// word, so the provider's redelivery makes the note. Round trips: see `issue_if_invoiced`.
async fn cancel_invoice(
    io: Io<'_>,
    handle: &Handle,
    payout: &Payout,
    reason: &str,
) -> Result<(), PayoutError> {
    use crate::payouts::invoice::InvoiceError;
    let store = io.store.as_ref();
    match crate::payouts::credit_note::issue_if_invoiced(store, handle, payout, reason).await {
        Ok(_) => Ok(()),
        Err(InvoiceError::Store(e)) => Err(e.into()),
        Err(InvoiceError::Busy) => Err(PayoutError::Busy),
        Err(e) => Err(PayoutError::InvalidState(e.to_string())),
    }
}

/// `payout.returned` for a payout given back after it was paid: the payout as it stays
/// (`paid`, its statement as signed), `reason` the provider's in words. Its id follows from the
/// payout's, as the line's does, so only the transaction that writes the line sends it.
fn returned_event(payout: &Payout, reason: &str) -> crate::kernel::emit::Emit {
    let mut told = payout.clone();
    told.reason = Some(reason.to_owned());
    crate::payouts::payout_event(&told, crate::payouts::PayoutEvent::Returned)
}

/// The partner's `payout_returned` mail (keyed by the payout: one however often it settles),
/// with the reason in words, staged for the transaction that records the failure or the return
/// (`mail::enqueue_ops`; the caller publishes it after the commit, else the mail sweeper does);
/// none when the partner has no address (logged). Round trips: ONE read.
pub(crate) async fn staged_mail(
    store: &dyn crate::platform::store::Store,
    origin: &str,
    handle: &Handle,
    p: &Payout,
) -> Option<crate::mail::Staged> {
    let Ok(Some(partner)) = crate::partners::get(store, handle, &p.partner_id).await else {
        return None;
    };
    let to = partner
        .email
        .as_deref()
        .and_then(|e| crate::domain::email::Email::parse("email", e).ok());
    let Some(to) = to else {
        tracing::info!(partner = %p.partner_id, "no mail of the returned payout: the partner has no address");
        return None;
    };
    let mail = crate::mail::Outgoing {
        handle: Some(handle.clone()),
        to,
        kind: crate::mail::MailKind::PayoutReturned,
        key: format!("payout-returned:{}", p.payout_id),
        data: serde_json::json!({
            "partnerName": partner.name,
            "amount": p.currency.format(i128::from(p.amount_minor)),
            "currency": p.currency,
            "reason": p.reason.clone().unwrap_or_default(),
            "portalUrl": format!("{}/portal/{handle}", origin.trim_end_matches('/')),
        }),
    };
    match crate::mail::enqueue_ops(&mail) {
        Ok(staged) => Some(staged),
        Err(e) => {
            tracing::warn!(payout = %p.payout_id, error = %e, "the returned payout's mail could not be staged");
            None
        }
    }
}
