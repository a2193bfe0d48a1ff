//! Which payouts a batch takes: pending payouts whose partner is paid on the batch's rail, in
//! the rail's currencies (EUR only for SEPA), not in another live batch. Payouts held back are
//! listed with their reason: `no_payout_method`, `manual`, `payout_method_unconfirmed` (details
//! changed in the last 24 hours, not confirmed), `payout_method_invalid` (details stored before
//! a rule that now refuses them: [`MethodRecord::payable_by`]), `payout_method_disputed` (the
//! partner said a change was not theirs: frozen until an admin lifts it),
//! `payout_tax_profile_missing` (the program's `requireTaxProfile`, and no tax profile given),
//! `payout_tax_profile_not_accepted` (`requireTaxProfile: "accepted"`, and the profile is not),
//! `payout_fraud_hold` (a partner signal the program's `fraudRules` hold payouts on fired:
//! the words name the signals), `payout_min_customers` (a first payout before the program's
//! `minCustomersBeforePayout`: the words say how many so far), `currency_not_supported`,
//! `in_live_batch`, each with its words.

use std::collections::HashMap;

use crate::domain::{BatchId, Currency, Handle, PartnerId, PayoutId};
use crate::payout_batches::model::{BatchItem, Excluded, MAX_PAYOUTS};
use crate::payout_batches::{BatchError, claim};
use crate::payout_methods::{self, Exclusion, MethodRecord, MethodType};
use crate::payouts::{Payout, PayoutStatus};
use crate::platform::store::Store;

/// A batch request, validated (its fingerprint is what an idempotency key is bound to).
#[derive(Clone, Debug, serde::Serialize)]
pub struct BatchSpec {
    pub method: MethodType,
    pub payout_ids: Option<Vec<PayoutId>>,
    /// `YYYY-MM-DD`, when given.
    pub execution_date: Option<String>,
}

/// What a batch would take, and what it leaves out.
pub struct Selection {
    pub items: Vec<BatchItem>,
    pub excluded: Vec<Excluded>,
}

/// The candidates, then each one's verdict. A payout named in `payoutIds` that cannot be in
/// this batch at all (unknown, not pending, another rail, a currency the rail does not pay) is
/// refused by name; one that only waits (no method, manual, unconfirmed change) is listed.
/// Claims of batch `own` (a creation resumed under its key) do not count as another batch's.
pub async fn select(
    store: &dyn Store,
    handle: &Handle,
    spec: &BatchSpec,
    now_ms: i64,
    own: &BatchId,
) -> Result<Selection, BatchError> {
    let named = spec.payout_ids.is_some();
    let candidates = match &spec.payout_ids {
        Some(ids) => named_payouts(store, handle, ids).await?,
        None => pending_payouts(store, handle).await?,
    };
    let mut methods: HashMap<PartnerId, Option<MethodRecord>> = HashMap::new();
    // A program that asks for tax details holds the payouts of partners who gave none.
    let program = crate::programs::settings::get(store, handle).await?;
    let require_tax = program.as_ref().and_then(|p| p.require_tax_profile);
    let mut taxed: HashMap<PartnerId, Option<Exclusion>> = HashMap::new();
    let mut gate = crate::payouts::gates::Gate::new(program.as_ref());
    let mut out = Selection {
        items: Vec::new(),
        excluded: Vec::new(),
    };
    for (i, p) in candidates.into_iter().enumerate() {
        if !methods.contains_key(&p.partner_id) {
            let m = payout_methods::get(store, handle, &p.partner_id).await?;
            methods.insert(p.partner_id.clone(), m);
        }
        let method = methods.get(&p.partner_id).and_then(Option::as_ref);
        let ctx = Ctx {
            store,
            handle,
            spec,
            now_ms,
            own,
        };
        let mut verdict = verdict(&ctx, &p, method).await?;
        if let (Some(required), true) = (require_tax, verdict.is_ok()) {
            if !taxed.contains_key(&p.partner_id) {
                let profile = payout_methods::tax::get(store, handle, &p.partner_id).await?;
                taxed.insert(
                    p.partner_id.clone(),
                    crate::payouts::gates::tax_hold(required, profile.as_ref()),
                );
            }
            if let Some(Some(hold)) = taxed.get(&p.partner_id) {
                verdict = Err(*hold);
            }
        }
        let mut words = None;
        if verdict.is_ok()
            && let Some((reason, why)) = gate.holds(store, handle, &p.partner_id).await?
        {
            verdict = Err(reason);
            words = Some(why);
        }
        if let (true, Err(reason)) = (named, verdict) {
            refuse_named(i, &p, reason, spec)?;
        }
        match verdict {
            Ok(()) if out.items.len() < MAX_PAYOUTS => out.items.push(BatchItem {
                payout_id: p.payout_id.clone(),
                partner_id: p.partner_id.clone(),
                amount_minor: p.amount_minor,
                currency: p.currency,
                sequence: p.sequence,
                sealed: method.and_then(|m| m.sealed.clone()),
                payout_version: p.version,
            }),
            Ok(()) => {}
            Err(Exclusion::OtherMethod) if !named => {}
            Err(reason) => out.excluded.push(Excluded {
                payout_id: p.payout_id.clone(),
                partner_id: p.partner_id.clone(),
                reason,
                words: words.unwrap_or_else(|| reason.words().to_owned()),
            }),
        }
    }
    Ok(out)
}

/// What a verdict is given in.
struct Ctx<'a> {
    store: &'a dyn Store,
    handle: &'a Handle,
    spec: &'a BatchSpec,
    now_ms: i64,
    own: &'a BatchId,
}

/// One payout's verdict: `Ok` to batch, else why not.
async fn verdict(
    ctx: &Ctx<'_>,
    p: &Payout,
    method: Option<&MethodRecord>,
) -> Result<Result<(), Exclusion>, BatchError> {
    let (store, handle, spec, now_ms) = (ctx.store, ctx.handle, ctx.spec, ctx.now_ms);
    let Some(method) = method else {
        return Ok(Err(Exclusion::NoPayoutMethod));
    };
    if method.masked.kind != MethodType::Manual && method.masked.kind != spec.method {
        return Ok(Err(Exclusion::OtherMethod));
    }
    if let Err(reason) = method.payable_by(now_ms) {
        return Ok(Err(reason));
    }
    if spec.method == MethodType::Sepa && p.currency != eur() {
        return Ok(Err(Exclusion::CurrencyNotSupported));
    }
    if spec.payout_ids.is_none()
        && claim::holder(store, handle, &p.payout_id)
            .await?
            .is_some_and(|(b, _)| &b != ctx.own)
    {
        return Ok(Err(Exclusion::InLiveBatch));
    }
    Ok(Ok(()))
}

fn eur() -> Currency {
    Currency::parse("EUR").unwrap_or_else(|_| unreachable!("EUR is a currency"))
}

/// A named payout that cannot be in this batch: a `400` naming it. Those that only wait are
/// listed in the answer's `excluded`.
fn refuse_named(
    i: usize,
    p: &Payout,
    reason: Exclusion,
    spec: &BatchSpec,
) -> Result<(), BatchError> {
    let id = &p.payout_id;
    let field = format!("payoutIds[{i}]");
    match reason {
        Exclusion::OtherMethod => Err(BatchError::Invalid(format!(
            "{field}: payout {id}'s partner {} is not paid by {}.",
            p.partner_id,
            spec.method.as_str()
        ))),
        Exclusion::CurrencyNotSupported => Err(BatchError::Invalid(format!(
            "{field}: payout {id} is in {}; a SEPA batch pays EUR only.",
            p.currency.as_str()
        ))),
        _ => Ok(()),
    }
}

/// The payouts named, in their order: each must exist and be pending.
async fn named_payouts(
    store: &dyn Store,
    handle: &Handle,
    ids: &[PayoutId],
) -> Result<Vec<Payout>, BatchError> {
    if ids.is_empty() || ids.len() > MAX_PAYOUTS {
        return Err(BatchError::Invalid(format!(
            "payoutIds: name 1 to {MAX_PAYOUTS} payouts, or leave it out for every pending one."
        )));
    }
    let mut out = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        if ids[..i].contains(id) {
            return Err(BatchError::Invalid(format!(
                "payoutIds[{i}]: {id} is named twice."
            )));
        }
        let p = crate::payouts::get(store, handle, id)
            .await?
            .ok_or_else(|| {
                BatchError::Invalid(format!("payoutIds[{i}]: payout {id} was not found."))
            })?;
        // Test money is never in a file.
        if p.test {
            return Err(BatchError::Invalid(format!(
                "payoutIds[{i}]: payout {id} is a test payout; test money is never paid by file."
            )));
        }
        if p.status != PayoutStatus::Pending {
            return Err(BatchError::InvalidState(format!(
                "payoutIds[{i}]: payout {id} is {}; only a pending payout is batched.",
                serde_json::to_value(p.status)
                    .unwrap_or_default()
                    .as_str()
                    .unwrap_or("settled")
            )));
        }
        out.push(p);
    }
    Ok(out)
}

/// Every pending payout of the handle but test ones (never in a file), oldest first: from the
/// pending list (`payouts::pending`), not every payout ever made.
async fn pending_payouts(store: &dyn Store, handle: &Handle) -> Result<Vec<Payout>, BatchError> {
    let mut pending = crate::payouts::pending::all(store, handle).await?;
    pending.retain(|p| !p.test);
    Ok(pending)
}
