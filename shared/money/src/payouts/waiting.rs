//! Why a payout sent through a provider has not left yet, for the manager's screen: the
//! program holds it (its tax requirement, fraud rules or first-payout minimum, or the partner's
//! method not confirmed or disputed), or the provider has not taken it yet (its last answer in
//! words, tried again later). Read from the payout's dispatch (`payouts::send`); a partner's
//! caller never gets it (a hold may be the program's fraud rules).

use std::collections::HashMap;

use crate::domain::time::Timestamp;
use crate::domain::{Handle, PartnerId, PayoutId};
use crate::payouts::model::{Payout, PayoutStatus, WaitState, Waiting};
use crate::payouts::send::{self, Dispatch};
use crate::platform::store::{Store, StoreError};

/// What `d` says of its payout, if it is waiting.
pub fn of(d: &Dispatch) -> Option<Waiting> {
    let (state, words) = match (&d.held, d.hold, &d.last_error, &d.reference) {
        (Some(words), _, _, _) => (WaitState::Held, words.clone()),
        // Handed over, then held before its first attempt.
        (None, Some(_), Some(words), None) => (WaitState::Held, words.clone()),
        (None, None, Some(words), None) => (WaitState::Retrying, words.clone()),
        _ => return None,
    };
    Some(Waiting {
        state,
        reason: d.hold.filter(|_| state == WaitState::Held),
        words,
        attempts: d.attempts,
        next_check_at: Timestamp::from_millis(d.not_before_ms),
    })
}

/// Why each of `payouts` that is pending or being sent waits, by id. Round trips: ONE read per
/// such payout, at once.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn of_payouts(
    store: &dyn Store,
    handle: &Handle,
    payouts: &[Payout],
) -> Result<HashMap<PayoutId, Waiting>, StoreError> {
    let open = payouts
        .iter()
        .filter(|p| matches!(p.status, PayoutStatus::Pending | PayoutStatus::Sending));
    let reads = open.map(|p| send::find(store, handle, &p.payout_id));
    let found = futures::future::try_join_all(reads).await?;
    Ok(found
        .into_iter()
        .flatten()
        .filter_map(|d| of(&d).map(|w| (d.payout_id, w)))
        .collect())
}

/// The views of `payouts`, each waiting one saying why when `told(partner)`: a manager's
/// read, never the partner's own (a partner's token, or a member reading its own partner's: a
/// hold may be the program's fraud rules). Round trips: [`of_payouts`]'s for those told.
pub async fn views(
    store: &dyn Store,
    handle: &Handle,
    payouts: &[Payout],
    told: impl Fn(&PartnerId) -> bool,
) -> Result<Vec<crate::payouts::PayoutView>, StoreError> {
    let asked: Vec<Payout> = payouts
        .iter()
        .filter(|p| told(&p.partner_id))
        .cloned()
        .collect();
    let mut waits = of_payouts(store, handle, &asked).await?;
    Ok(payouts
        .iter()
        .map(|p| {
            let mut view = crate::payouts::PayoutView::from(p);
            view.waiting = waits.remove(&p.payout_id);
            view
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payout_methods::model::Exclusion;
    use crate::payout_providers::Provider;

    fn dispatch() -> Dispatch {
        Dispatch {
            handle: Handle::parse("acme").unwrap(),
            payout_id: PayoutId::new(),
            partner_id: PartnerId::parse("pub-one").unwrap(),
            provider: Provider::Paypal,
            amount_minor: 1_200,
            currency: crate::domain::Currency::parse("EUR").unwrap(),
            method_version: 1,
            destination: None,
            attempts: 0,
            not_before_ms: 1_000,
            first_attempt_ms: None,
            reference: None,
            last_error: None,
            created_ms: 0,
            held: None,
            hold: None,
            version: 1,
        }
    }

    #[test]
    fn a_dispatch_says_held_with_its_code_retrying_or_nothing() {
        let mut held = dispatch();
        held.held = Some("The partner's tax details are missing".into());
        held.hold = Some(Exclusion::PayoutTaxProfileMissing);
        let w = of(&held).unwrap();
        assert_eq!(
            (w.state, w.reason, w.words.as_str()),
            (
                WaitState::Held,
                Some(Exclusion::PayoutTaxProfileMissing),
                "The partner's tax details are missing"
            )
        );
        assert_eq!(w.next_check_at, Timestamp::from_millis(1_000));

        // Handed over, then a fraud rule fired before its first attempt.
        let mut stopped = dispatch();
        stopped.hold = Some(Exclusion::PayoutFraudHold);
        stopped.last_error = Some("Held for a fraud review.".into());
        let w = of(&stopped).unwrap();
        assert_eq!(
            (w.state, w.reason),
            (WaitState::Held, Some(Exclusion::PayoutFraudHold))
        );

        let mut retrying = dispatch();
        retrying.attempts = 2;
        retrying.last_error = Some("PayPal could not be reached.".into());
        let w = of(&retrying).unwrap();
        assert_eq!(
            (w.state, w.reason, w.attempts),
            (WaitState::Retrying, None, 2)
        );

        // At the provider (its reference), or not started: nothing waits.
        let mut sent = retrying.clone();
        sent.reference = Some("BATCH1".into());
        assert_eq!(of(&sent), None);
        assert_eq!(of(&dispatch()), None);
    }
}
