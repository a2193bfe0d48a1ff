//! A payment its provider gives back after the payout was paid (a Stripe transfer reversed,
//! whole or in part; a PayPal payment returned or refunded later). The payout stays `paid` and
//! its signed statement as it was; what came back goes on the partner's balance as new lines
//! (approved, payable in the next run, which gives them a statement of their own), the reason
//! and the amount in words, the partner mailed; once the whole payment is back, `payout.returned`
//! is sent and its self-billing invoice (if it had one) cancelled by a credit note.
//!
//! Exactly once, whatever the order or number of the words: the provider says how much it has
//! given back in all so far (a Stripe transfer's `amount_reversed`; a whole return is the
//! payout's amount), and the lines credited back form a chain (`payouts::given_back`), each
//! keyed by how much was credited before it, written only if absent, carrying the difference. A word of
//! a total credited already writes nothing (a poll and a webhook, a redelivery, an older event
//! after a newer one); two words racing for the same place in the chain write one line, and the
//! other reads the chain again.

use crate::domain::Handle;
use crate::kernel::io::Io;
use crate::ledger::model::{Commission, Kind, Status};
use crate::ledger::view;
use crate::payouts::given_back::{credited, line_id};
use crate::payouts::model::{Payout, PayoutError, PayoutStatus};
use crate::platform::store::StoreError;

/// How often a word reads the chain again after another word wrote its next line first.
const TRIES: usize = 8;

/// Credits `payout` (paid through a provider) back whole, `reason` in words: see
/// [`credit_back_to`].
pub async fn credit_back(
    io: (Io<'_>, &str),
    handle: &Handle,
    payout: &Payout,
    reason: &str,
) -> Result<bool, PayoutError> {
    credit_back_to(io, handle, payout, (reason, payout.amount_minor)).await
}

/// Credits `payout` (paid through a provider) back up to `returned_minor`, the provider's total
/// given back so far (the payout's amount at most), `reason` in words: a line of what is not
/// credited yet. `true` when this call wrote one (`false`: credited already, or not a
/// provider's paid payout). Once the whole payout is back, its invoice is cancelled on every
/// word (an earlier one may have stopped before its credit note). `origin` is the product's
/// own, which the mail's link is absolute to. Round trips per try: [`credited`]'s, then
/// [`write_line`]'s; then the credit note's.
#[tracing::instrument(skip_all, fields(handle = %handle, payout = %payout.payout_id))]
pub async fn credit_back_to(
    (io, origin): (Io<'_>, &str),
    handle: &Handle,
    payout: &Payout,
    (reason, returned_minor): (&str, i64),
) -> Result<bool, PayoutError> {
    if payout.status != PayoutStatus::Paid || payout.provider.is_none() {
        tracing::warn!(%reason, "a provider's return of a payout it did not pay: ignored");
        return Ok(false);
    }
    let upto = returned_minor.min(payout.amount_minor);
    let mut tries = 0;
    let wrote = loop {
        let (from, _) = credited(io.store.as_ref(), handle, payout).await?;
        if from >= upto {
            break false;
        }
        if tries == TRIES {
            return Err(PayoutError::Busy);
        }
        tries += 1;
        if write_line((io, origin), handle, payout, (reason, from, upto)).await? {
            break true;
        }
    };
    if upto == payout.amount_minor {
        cancel_invoice(io, handle, payout, reason).await?;
    }
    Ok(wrote)
}

/// The line of what came back from `from` (credited before it) to `upto` (minor units), in
/// ONE transaction with its balance moves, the audit entry, its events (`payout.returned` when
/// it completes the payout) and the partner's mail staged in it (a crash after it loses no
/// mail). `false`: another word wrote the chain's line after `from` first. Round trips: ONE
/// read (the partner's address), ONE transaction.
async fn write_line(
    (io, origin): (Io<'_>, &str),
    handle: &Handle,
    payout: &Payout,
    (reason, from, upto): (&str, i64, i64),
) -> Result<bool, PayoutError> {
    let (part, c) = (upto - from, payout.currency);
    let mut line = Commission::blank(
        line_id(&payout.payout_id, from),
        Kind::Manual,
        payout.partner_id.clone(),
        Some(part),
        c,
        Status::Approved,
    );
    let part_words = part_words(payout, part);
    let words = part_words.clone().unwrap_or_else(|| {
        format!(
            "The {} {}",
            c.format(i128::from(payout.amount_minor)),
            c.as_str()
        )
    });
    // A person reads this line's reason: the payout named as the partner's payouts are
    // numbered (#1, #2), never by its id.
    line.reasons = vec![format!(
        "{reason} {words} of payout #{} is back on the balance, paid with the next payout.",
        payout.sequence
    )];
    line.reviewed_by = Some("system".into());
    line.reviewed_at = Some(line.created_at.clone());
    let mut ops = line.create(handle)?;
    let prefix = part_words.map(|w| format!("{w} ")).unwrap_or_default();
    let target = format!(
        "{} ({prefix}given back after it was paid: {reason}; back on the balance as {})",
        payout.payout_id, line.commission_id
    );
    ops.push(crate::kernel::audit::entry(
        handle,
        "payout.provider_returned",
        &target,
    )?);
    let mut emits = vec![view::event(view::CommissionEvent::Created, &line)];
    if upto == payout.amount_minor {
        emits.push(returned_event(payout, reason));
    }
    let mut told = payout.clone();
    told.reason = Some(reason.to_owned());
    let mail = staged(io.store.as_ref(), origin, handle, &told, (from, part)).await;
    if let Some(staged) = &mail {
        ops.extend(staged.ops.iter().cloned());
    }
    match crate::ledger::emit::commit(io, handle, ops, emits).await {
        Ok(()) => {}
        Err(StoreError::TxConflict { .. } | StoreError::ConditionFailed { .. }) => {
            return Ok(false);
        }
        Err(e) => return Err(e.into()),
    }
    if let Some(staged) = &mail {
        crate::mail::publish(io, staged).await;
    }
    Ok(true)
}

/// `part` (minor units) of `payout` in words when it is not the whole payout: "4.00 EUR of the
/// 12.00 EUR".
fn part_words(payout: &Payout, part: i64) -> Option<String> {
    let c = payout.currency;
    (part != payout.amount_minor).then(|| {
        format!(
            "{} {} of the {} {}",
            c.format(i128::from(part)),
            c.as_str(),
            c.format(i128::from(payout.amount_minor)),
            c.as_str()
        )
    })
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
/// (`paid`, its statement as signed), `reason` the provider's in words. Sent by the transaction
/// of the line that completes the chain, which only one can be.
fn returned_event(payout: &Payout, reason: &str) -> crate::kernel::emit::Emit {
    let mut told = payout.clone();
    told.reason = Some(reason.to_owned());
    crate::payouts::payout_event(&told, crate::payouts::PayoutEvent::Returned)
}

/// The partner's `payout_returned` mail of the whole payout (keyed by the payout: one however
/// often it settles), with the reason in words, staged for the transaction that records the
/// failure or the return (`mail::enqueue_ops`; the caller publishes it after the commit, else
/// the mail sweeper does); none when the partner has no address (logged). Round trips: ONE
/// read.
pub(crate) async fn staged_mail(
    store: &dyn crate::platform::store::Store,
    origin: &str,
    handle: &Handle,
    p: &Payout,
) -> Option<crate::mail::Staged> {
    staged(store, origin, handle, p, (0, p.amount_minor)).await
}

/// [`staged_mail`] of the `part` (minor units) given back after the first `from`: keyed by
/// where it starts in the chain of lines (the first one as the whole payout's mail), and
/// saying the amount that came back when it is not the whole payout.
async fn staged(
    store: &dyn crate::platform::store::Store,
    origin: &str,
    handle: &Handle,
    p: &Payout,
    (from, part): (i64, i64),
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
    let key = match from {
        0 => format!("payout-returned:{}", p.payout_id),
        _ => format!("payout-returned:{}:{from}", p.payout_id),
    };
    let mut data = serde_json::json!({
        "partnerName": partner.name,
        "amount": p.currency.format(i128::from(p.amount_minor)),
        "currency": p.currency,
        "reason": p.reason.clone().unwrap_or_default(),
        "portalUrl": format!("{}/portal/{handle}", origin.trim_end_matches('/')),
    });
    if part != p.amount_minor {
        data["returned"] = serde_json::json!(p.currency.format(i128::from(part)));
    }
    let mail = crate::mail::Outgoing {
        handle: Some(handle.clone()),
        to,
        kind: crate::mail::MailKind::PayoutReturned,
        key,
        data,
    };
    match crate::mail::enqueue_ops(&mail) {
        Ok(staged) => Some(staged),
        Err(e) => {
            tracing::warn!(payout = %p.payout_id, error = %e, "the returned payout's mail could not be staged");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payouts::fixtures::{self, Books, events};
    use crate::payouts::given_back::given_back_whole;
    use crate::payouts::settle::Change;
    use tenx_kernel::testing::{Meet, meeting_at_the_store};

    const ORIGIN: &str = "https://10x.example";
    const PART: &str = "Stripe reversed part of the transfer.";
    const WHOLE: &str = "Stripe reversed the transfer.";

    /// A payout of 12.00 EUR to `pub-one` (who reads mail at one@example.com), paid through
    /// Stripe by transfer `tr_1`; the events of its making already read.
    async fn paid(books: &Books) -> Payout {
        let fields = crate::partners::PartnerFields {
            email: Some(Some("one@example.com".into())),
            ..Default::default()
        };
        let (store, handle) = (books.store(), &books.handle);
        crate::partners::create(store, handle, fixtures::partner(), "One".into(), fields)
            .await
            .unwrap();
        books.paid_through_stripe().await;
        let p = books.payout(&[1200]).await;
        let p = crate::payouts::send::start(books.io(), handle, p)
            .await
            .unwrap();
        let reference = "tr_1".to_owned();
        let id = (&p.payout_id, ORIGIN);
        let change = crate::payouts::settle::change_telling;
        let paid = change(books.io(), handle, id, Change::Paid { reference }).await;
        events(books.queue.as_ref()).await;
        paid.unwrap()
    }

    /// The provider's word that it gave back `upto` of `p` in all so far.
    async fn back(books: &Books, p: &Payout, (reason, upto): (&str, i64)) -> bool {
        let io = (books.io(), ORIGIN);
        credit_back_to(io, &books.handle, p, (reason, upto))
            .await
            .unwrap()
    }

    /// The amounts of the lines credited back, in the chain's order.
    async fn lines(books: &Books, p: &Payout) -> Vec<i64> {
        let (total, lines) = credited(books.store(), &books.handle, p).await.unwrap();
        let amounts: Vec<i64> = lines.iter().filter_map(|l| l.amount_minor).collect();
        assert_eq!(amounts.iter().sum::<i64>(), total);
        amounts
    }

    /// What each of the partner's returned mails says came back (`None`: the whole payout).
    async fn mailed(books: &Books) -> Vec<Option<String>> {
        let mut said = Vec::new();
        for m in crate::mail::list(books.store(), &books.handle, 100)
            .await
            .unwrap()
        {
            let (record, _) = crate::mail::get(books.store(), Some(&books.handle), &m.mail_id)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(record.to, "one@example.com");
            said.push(record.data["returned"].as_str().map(str::to_owned));
        }
        said.sort();
        said
    }

    #[tokio::test]
    async fn a_reversal_in_part_credits_back_that_part_once_and_the_rest_returns_the_payout() {
        let books = Books::new();
        let p = paid(&books).await;
        assert!(back(&books, &p, (PART, 400)).await, "4.00 back");
        assert!(!back(&books, &p, (PART, 400)).await, "told twice");
        assert_eq!(lines(&books, &p).await, [400], "one 4.00 line");
        let first_id = line_id(&p.payout_id, 0);
        let first = crate::ledger::get(books.store(), &books.handle, &first_id);
        let first = first.await.unwrap().unwrap();
        assert_eq!(
            first.reasons,
            [
                "Stripe reversed part of the transfer. 4.00 EUR of the 12.00 EUR of payout #1 is \
              back on the balance, paid with the next payout."
            ]
        );
        assert!(first.is_open(), "payable in the next run");
        let given = given_back_whole(books.store(), &books.handle, &p).await;
        assert_eq!(given.unwrap(), None, "not returned: only part came back");
        let heard = events(books.queue.as_ref()).await;
        assert_eq!(heard, ["commission.created"], "no payout.returned yet");
        assert_eq!(mailed(&books).await, [Some("4.00".to_owned())]);

        assert!(back(&books, &p, (WHOLE, 1200)).await, "the other 8.00 back");
        assert_eq!(lines(&books, &p).await, [400, 800], "12.00 back in all");
        let given = given_back_whole(books.store(), &books.handle, &p).await;
        assert!(
            given
                .unwrap()
                .unwrap()
                .contains("8.00 EUR of the 12.00 EUR")
        );
        let heard = events(books.queue.as_ref()).await;
        assert_eq!(heard, ["commission.created", "payout.returned"]);
        assert_eq!(
            mailed(&books).await,
            [Some("4.00".to_owned()), Some("8.00".to_owned())]
        );
        for told in [(WHOLE, 1200), (PART, 400)] {
            assert!(!back(&books, &p, told).await, "{told:?} again");
        }
        assert_eq!(lines(&books, &p).await, [400, 800]);
        assert!(events(books.queue.as_ref()).await.is_empty());
        assert_eq!(books.reread(&p).await.status, PayoutStatus::Paid);
    }

    #[tokio::test]
    async fn reversals_told_out_of_order_credit_back_the_same_total() {
        let books = Books::new();
        let p = paid(&books).await;
        assert!(back(&books, &p, (WHOLE, 1200)).await);
        assert!(
            !back(&books, &p, (PART, 400)).await,
            "the older word is in it"
        );
        assert_eq!(lines(&books, &p).await, [1200]);
        let whole = p.payout_id.returned_line_id();
        let line = crate::ledger::get(books.store(), &books.handle, &whole);
        let reasons = line.await.unwrap().unwrap().reasons;
        assert!(
            reasons[0].contains("The 12.00 EUR of payout #1"),
            "{reasons:?}"
        );
        let heard = events(books.queue.as_ref()).await;
        assert_eq!(heard, ["commission.created", "payout.returned"]);
        assert_eq!(mailed(&books).await, [None], "the whole payout's mail");
    }

    #[tokio::test]
    async fn two_reversals_told_at_once_credit_back_the_total_once() {
        let mut books = Books::new();
        let p = paid(&books).await;
        // Both words read the chain empty before either writes.
        books.store = meeting_at_the_store(books.store.clone(), 2, Meet::Transactions);
        let (a, b) = tokio::join!(
            back(&books, &p, (PART, 400)),
            back(&books, &p, (WHOLE, 1200))
        );
        let written = lines(&books, &p).await;
        assert!(
            written == [400, 800] || written == [1200],
            "{written:?} ({a}, {b})"
        );
        let heard = events(books.queue.as_ref()).await;
        let returned = heard.iter().filter(|e| *e == "payout.returned").count();
        assert_eq!(returned, 1, "{heard:?}");
    }
}
