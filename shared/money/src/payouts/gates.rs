//! The payouts the program holds, whether they would leave in a batch's file or through a
//! payment provider: a partner whose tax details the program asks for are missing or not
//! accepted (`payout_tax_profile_missing`, `payout_tax_profile_not_accepted`), a partner with a
//! fired signal its `fraudRules` hold payouts on (`payout_fraud_hold`), and a partner never
//! paid before that has brought fewer customers than `minCustomersBeforePayout`
//! (`payout_min_customers`). Each answer says why in words, for the manager; nothing of it
//! reaches the partner. A batch judges each partner once ([`Gate`]).

use std::collections::{BTreeMap, HashMap};

use crate::domain::fraud_rules::FraudAction;
use crate::domain::{Handle, PartnerId};
use crate::payout_methods::Exclusion;
use crate::platform::store::{Store, StoreError};
use crate::programs::Program;

/// A batch's judge of its partners, with what it found so far.
pub struct Gate {
    rules: BTreeMap<String, FraudAction>,
    min_customers: Option<u32>,
    judged: HashMap<PartnerId, Option<(Exclusion, String)>>,
}

impl Gate {
    pub fn new(program: Option<&Program>) -> Self {
        Gate {
            rules: program.map(|p| p.fraud_rules.clone()).unwrap_or_default(),
            min_customers: program.and_then(|p| p.min_customers_before_payout),
            judged: HashMap::new(),
        }
    }

    /// Why `partner`'s payouts wait, in words, if they do. Round trips (once per partner):
    /// those of `risk::snapshot::payouts_held` when a rule holds payouts, those of
    /// `risk::customers::below_minimum` with a minimum.
    pub async fn holds(
        &mut self,
        store: &dyn Store,
        handle: &Handle,
        partner: &PartnerId,
    ) -> Result<Option<(Exclusion, String)>, StoreError> {
        if let Some(known) = self.judged.get(partner) {
            return Ok(known.clone());
        }
        let verdict = self.judge(store, handle, partner).await?;
        self.judged.insert(partner.clone(), verdict.clone());
        Ok(verdict)
    }

    async fn judge(
        &self,
        store: &dyn Store,
        handle: &Handle,
        partner: &PartnerId,
    ) -> Result<Option<(Exclusion, String)>, StoreError> {
        let fired =
            crate::risk::snapshot::payouts_held(store, handle, partner, &self.rules).await?;
        if !fired.is_empty() {
            let why: Vec<&str> = fired
                .iter()
                .map(|c| crate::domain::words::or_code(c))
                .collect();
            let words = format!("Held for a fraud review: {}.", why.join("; "));
            return Ok(Some((Exclusion::PayoutFraudHold, words)));
        }
        let Some(minimum) = self.min_customers else {
            return Ok(None);
        };
        let below = crate::risk::customers::below_minimum(store, handle, partner, minimum).await?;
        Ok(below.map(|(brought, minimum)| {
            let words = format!(
                "The partner's first payout waits until they have brought {minimum} paying \
                 customers; {brought} so far."
            );
            (Exclusion::PayoutMinCustomers, words)
        }))
    }
}

/// Why the program holds `partner`'s payouts, in words for the manager, if it does: its tax
/// requirement first, then its fraud rules and first-payout customer minimum. A batch and a
/// payment provider's send ask the same question. Round trips: the program's read, the tax
/// profile's (with a requirement), and [`Gate::holds`]'s.
pub async fn program_hold(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
) -> Result<Option<(Exclusion, String)>, StoreError> {
    let program = crate::programs::settings::get(store, handle).await?;
    if let Some(required) = program.as_ref().and_then(|p| p.require_tax_profile) {
        let profile = crate::payout_methods::tax::get(store, handle, partner).await?;
        if let Some(hold) = tax_hold(required, profile.as_ref()) {
            return Ok(Some((hold, hold.words().to_owned())));
        }
    }
    Gate::new(program.as_ref())
        .holds(store, handle, partner)
        .await
}

/// Why the program's tax requirement holds a partner's payouts, if it does.
pub fn tax_hold(
    required: crate::programs::model::TaxRequirement,
    profile: Option<&crate::payout_methods::tax::TaxRecord>,
) -> Option<Exclusion> {
    use crate::programs::model::TaxRequirement;
    match (required, profile) {
        (_, None) => Some(Exclusion::PayoutTaxProfileMissing),
        (TaxRequirement::Accepted, Some(p))
            if p.status != crate::payout_methods::tax::TaxStatus::Accepted =>
        {
            Some(Exclusion::PayoutTaxProfileNotAccepted)
        }
        _ => None,
    }
}
