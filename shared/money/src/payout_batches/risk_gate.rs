//! The payouts a batch leaves out on the program's word about fraud (issue 83): a partner with
//! a fired signal its `fraudRules` hold payouts on (`payout_fraud_hold`), and a partner never
//! paid before that has brought fewer customers than `minCustomersBeforePayout`
//! (`payout_min_customers`). Each answer says why in words, for the manager's batch screen;
//! nothing of it reaches the partner. Judged once per partner per batch.

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
