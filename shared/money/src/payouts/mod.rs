//! Payouts: a run (`POST …/payouts`, an idempotency key) gathers per partner and currency every
//! approved line available by `periodEnd` plus the open negative lines (never netted across
//! currencies), and creates a payout when the net reaches the currency's minimum (else it
//! carries over). A line is claimed by a version-checked write naming the payout, so two runs
//! never pay it twice; the payout itself is written with the partner's chain head (its next
//! `sequence`, version-checked) in ONE transaction. A retry with the same key resumes: the
//! payout ids derive from the key.

pub mod background;
pub mod budget;
pub mod claim;
pub mod credit_note;
pub mod credit_note_pdf;
pub mod dispatch;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod gates;
pub mod given_back;
pub mod hold;
pub mod invoice;
pub mod invoice_mail;
pub mod invoice_pdf;
pub mod jobs;
pub mod lines;
pub mod model;
pub mod of_partner;
pub mod page_proof;
pub mod pending;
pub mod place;
pub mod provider_hooks;
pub mod returned;
pub mod select;
pub mod send;
pub mod settle;
pub mod stage;
pub mod statement;
pub mod tax_report;
pub mod tax_report_pdf;
pub mod test_removal;
pub mod verify;
pub mod waiting;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::domain::proof::jws::ProofKeyring;
use crate::domain::proof::merkle;
use crate::domain::{Currency, Handle, PartnerId, PayoutId, PayoutRunKey};
use crate::kernel::io::Io;
use crate::kernel::state::Unconfigured;
use crate::ledger::emit;
use crate::partners;
use crate::payouts::budget::Budget;
pub use crate::payouts::model::{
    Payout, PayoutError, PayoutEvent, PayoutStatus, PayoutView, ProviderRef, get, list,
    payout_event,
};
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys};

/// What a payout run, its jobs and their statements' seals use of the process (issue 48): the
/// store and the queue, and the statements' signing keys (a process built without them fails
/// only where a statement is sealed).
#[derive(Clone, Copy)]
pub struct Payer<'a> {
    pub io: Io<'a>,
    pub signing: Result<&'a ProofKeyring, Unconfigured>,
}

impl<'a> Payer<'a> {
    pub fn new(io: Io<'a>, signing: Result<&'a ProofKeyring, Unconfigured>) -> Self {
        Self { io, signing }
    }
}

/// A validated run request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSpec {
    pub period_end_ms: i64,
    pub partner_id: Option<PartnerId>,
    /// Minimum net per currency, minor units (none: any positive net).
    pub minimums: BTreeMap<Currency, i64>,
    /// A run of test mode's lines: it pays only them, with test payouts (a chain of their
    /// own, never sent to a provider nor put in a batch file).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub test: bool,
}

#[derive(Serialize, Deserialize)]
struct RunRecord {
    fingerprint: String,
    created_ms: i64,
    /// Finished in the background (`payouts::jobs`): its repeat answers the payouts it made
    /// rather than running again. A run finished in its request stays `false`, as before.
    #[serde(default)]
    done: bool,
}

/// A run as stored: its key's hash, when it was first asked for (its payout ids derive from
/// both), and whether it finished in the background.
#[derive(Clone, Debug)]
pub struct RunId {
    pub key_hash: String,
    pub created_ms: i64,
    pub done: bool,
}

/// The stored form of an idempotency key (never the key itself).
pub fn key_hash(key: &PayoutRunKey) -> String {
    hex::encode(&sha2::Sha256::digest(key.as_str().as_bytes())[..16])
}

/// The run's record: created once per key; a key reused with another request is refused.
/// Round trips: ONE read (a new run: and ONE put-if-absent).
pub async fn run_record(
    store: &dyn Store,
    handle: &Handle,
    key_hash: &str,
    spec: &RunSpec,
) -> Result<RunId, PayoutError> {
    let fingerprint = serde_json::to_string(spec).unwrap_or_default();
    let (pk, sk) = keys::payout_run(handle, key_hash);
    let id = |r: RunRecord| RunId {
        key_hash: key_hash.to_owned(),
        created_ms: r.created_ms,
        done: r.done,
    };
    for _ in 0..3 {
        if let Some(item) = store.get(&pk, &sk).await? {
            let r: RunRecord = item.parse()?;
            if r.fingerprint != fingerprint {
                return Err(PayoutError::KeyReused);
            }
            return Ok(id(r));
        }
        let r = RunRecord {
            fingerprint: fingerprint.clone(),
            created_ms: crate::platform::time::now_millis(),
            done: false,
        };
        let item = Item::new(pk.clone(), sk.clone(), crate::platform::store::to_doc(&r)?)
            .expiring_at(Some(crate::platform::store::now_unix() + 365 * 86_400));
        // The run's one audit entry (issue 60), with its first write: the payouts it makes are
        // many, the action one.
        let ops = vec![
            WriteOp::Put {
                item,
                cond: Cond::Absent,
            },
            crate::kernel::audit::entry(handle, "payout_run.started", &run_target(spec))?,
        ];
        match store.transact(ops).await {
            Ok(()) => return Ok(id(r)),
            Err(StoreError::TxConflict { index: 0, .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(PayoutError::Busy)
}

/// How the audit log names a run: its period's end and whom it pays.
fn run_target(spec: &RunSpec) -> String {
    let end = crate::domain::time::Timestamp::from_millis(spec.period_end_ms);
    match &spec.partner_id {
        Some(p) => format!("payouts up to {end} for partner {p}"),
        None => format!("payouts up to {end} for every partner"),
    }
}

/// Records that the run finished in the background. Round trips: ONE put.
pub async fn run_done(
    store: &dyn Store,
    handle: &Handle,
    id: &RunId,
    spec: &RunSpec,
) -> Result<(), StoreError> {
    let (pk, sk) = keys::payout_run(handle, &id.key_hash);
    let r = RunRecord {
        fingerprint: serde_json::to_string(spec).unwrap_or_default(),
        created_ms: id.created_ms,
        done: true,
    };
    let item = Item::new(pk, sk, crate::platform::store::to_doc(&r)?)
        .expiring_at(Some(crate::platform::store::now_unix() + 365 * 86_400));
    let put = WriteOp::Put {
        item,
        cond: Cond::None,
    };
    store.write(put).await.map(|_| ())
}

/// A run from `place` (its start, or where an earlier call of the same run stopped): every
/// payout it created for the partners it reached. Streamed (issue 43): per partner, two passes
/// over its live lines ([`select::tally`], then [`claim::claim_all`]), holding sums, never the
/// lines. Stops with `Suspended` when `budget` is spent (between pages, its claims staged and
/// its payouts kept), `place` saying where: the same run from there goes on.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn run(
    payer: Payer<'_>,
    handle: &Handle,
    id: &RunId,
    (spec, budget): (&RunSpec, &Budget),
    by: &str,
    place: &mut place::Place,
) -> Result<Vec<Payout>, PayoutError> {
    let run = Run {
        payer,
        handle,
        spec,
        budget,
        by,
        key_hash: id.key_hash.clone(),
        created_ms: id.created_ms,
        now_ms: crate::platform::time::now_millis(),
    };
    let mut out = Vec::new();
    for partner in run.partners().await? {
        if place.finished(&partner.partner_id) {
            continue;
        }
        out.extend(run.pay_partner(&partner, place).await?);
        place.finish(&partner.partner_id);
    }
    Ok(out)
}

/// The payout a run of `key_hash` first asked for at `created_ms` makes for a partner and
/// currency: derived from both, so a retry finds the lines it claimed and the payout it made.
pub fn payout_id_of(
    key_hash: &str,
    created_ms: i64,
    partner: &PartnerId,
    currency: Currency,
) -> PayoutId {
    PayoutId::of_run(created_ms, &format!("{key_hash}:{partner}:{currency}"))
}

/// One run's request and identity.
struct Run<'a> {
    payer: Payer<'a>,
    handle: &'a Handle,
    spec: &'a RunSpec,
    budget: &'a Budget,
    by: &'a str,
    key_hash: String,
    created_ms: i64,
    now_ms: i64,
}

impl Run<'_> {
    /// The payout this run makes for a partner and currency: derived from the key, so a retry
    /// finds the lines it claimed and the payout it made.
    fn id_of(&self, partner: &PartnerId, currency: Currency) -> PayoutId {
        payout_id_of(&self.key_hash, self.created_ms, partner, currency)
    }

    /// The partner named, else every partner of the handle. Round trips: ONE read, or ONE
    /// query per 100 partners.
    async fn partners(&self) -> Result<Vec<partners::Partner>, StoreError> {
        let store = self.payer.io.store.as_ref();
        if let Some(id) = &self.spec.partner_id {
            return Ok(partners::get(store, self.handle, id)
                .await?
                .into_iter()
                .collect());
        }
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let (page, next) = partners::list(store, self.handle, 100, after).await?;
            out.extend(page);
            match next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        // In id order: a place names the last partner finished.
        out.sort_by(|a, b| a.partner_id.cmp(&b.partner_id));
        Ok(out)
    }

    /// A partner's payouts, one per currency whose net reaches its minimum, from the pass
    /// `place` holds for it.
    async fn pay_partner(
        &self,
        partner: &partners::Partner,
        place: &mut place::Place,
    ) -> Result<Vec<Payout>, PayoutError> {
        let p = &partner.partner_id;
        let (nets, from) = match place.pass_of(p).cloned() {
            Some(place::Pass::Claim {
                nets,
                currency,
                after,
            }) => (nets, Some((currency, after))),
            tally => (self.tally(p, tally, place).await?, None),
        };
        let mut out = Vec::new();
        for (&currency, &net) in &nets.0 {
            let after = match &from {
                Some((at, _)) if currency < *at => continue,
                Some((at, after)) if currency == *at => after.clone(),
                _ => None,
            };
            let mut claim = place::Pass::Claim {
                nets: nets.clone(),
                currency,
                after,
            };
            let paid = self.pay_currency(partner, currency, net, &mut claim).await;
            place.reach(p, claim);
            out.extend(paid?);
        }
        Ok(out)
    }

    /// Pass one for partner `p`, from where `at` left it; `place` follows each page.
    async fn tally(
        &self,
        p: &PartnerId,
        at: Option<place::Pass>,
        place: &mut place::Place,
    ) -> Result<place::Nets, PayoutError> {
        let mut sums = match at {
            Some(place::Pass::Tally { after, nets }) => (after, nets),
            _ => (None, place::Nets::default()),
        };
        let ours = |currency| self.id_of(p, currency);
        let within = (self.spec, self.budget);
        let (io, handle) = (self.payer.io, self.handle);
        let done = select::tally(io, handle, p, within, self.now_ms, &ours, &mut sums).await;
        let (after, nets) = sums;
        place.reach(
            p,
            place::Pass::Tally {
                after,
                nets: nets.clone(),
            },
        );
        done.map(|()| nets)
    }

    /// Claims the partner's lines in `currency` from where `claim` left them and makes their
    /// payout, or carries them over (net below the minimum, or a suspended partner). A payout
    /// already made by this run is answered as it is.
    async fn pay_currency(
        &self,
        partner: &partners::Partner,
        currency: Currency,
        net: i128,
        claim: &mut place::Pass,
    ) -> Result<Option<Payout>, PayoutError> {
        let handle = self.handle;
        let store = self.payer.io.store.as_ref();
        let id = self.id_of(&partner.partner_id, currency);
        if let Some(existing) = get(store, handle, &id).await? {
            // A payout made by an earlier call of this run is handed to its provider again,
            // in case that call stopped before (a no-op once it was).
            return send::start(self.payer.io, handle, existing).await.map(Some);
        }
        let minimum = self
            .spec
            .minimums
            .get(&currency)
            .copied()
            .unwrap_or(1)
            .max(1);
        if partner.status == partners::PartnerStatus::Suspended || net < i128::from(minimum) {
            return Ok(None);
        }
        let p = &partner.partner_id;
        let within = (self.spec, self.budget);
        if let place::Pass::Claim { after, .. } = claim {
            claim::claim_all(store, handle, (p, currency), &id, within, after).await?;
        }
        let claimed = stage::gather(store, handle, &id).await?;
        let amount = i64::try_from(claimed.net).ok().filter(|a| *a >= minimum);
        let Some(amount) = amount else {
            stage::clear(store, handle, &id).await?;
            claim::release(store, handle, &id, &claimed.ids).await?;
            return Ok(None);
        };
        let stored = (claimed.ids.as_slice(), claimed.leaves.as_slice());
        let line_pages = lines::write(store, handle, &id, stored).await?;
        let payout = self.payout(id, partner, currency, amount, &claimed, line_pages);
        let made = create_with_sequence(self.payer, handle, payout).await?;
        send::start(self.payer.io, handle, made).await.map(Some)
    }

    /// The new payout's record (sealed and sequenced by [`create_with_sequence`]).
    fn payout(
        &self,
        payout_id: PayoutId,
        partner: &partners::Partner,
        currency: Currency,
        amount_minor: i64,
        claimed: &stage::Claimed,
        line_pages: u32,
    ) -> Payout {
        let period_end_ms = self.spec.period_end_ms;
        let start_ms = claimed.first_available_ms.min(period_end_ms);
        Payout {
            payout_id,
            partner_id: partner.partner_id.clone(),
            amount_minor,
            currency,
            commission_count: claimed.ids.len(),
            commission_ids: Vec::new(),
            line_pages,
            status: PayoutStatus::Pending,
            period_start: crate::domain::time::unix_millis_to_rfc3339(start_ms),
            period_end: crate::domain::time::unix_millis_to_rfc3339(period_end_ms),
            sequence: 0,
            created_at: crate::platform::time::timestamp(),
            paid_at: None,
            reference: None,
            reason: None,
            created_by: self.by.to_owned(),
            provider: None,
            merkle_root: hex::encode(merkle::root(&claimed.leaves)),
            previous_statement_hash: None,
            statement_hash: String::new(),
            jws: String::new(),
            invoice_sequence: None,
            test: self.spec.test,
            version: 1,
        }
    }
}

#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Head {
    sequence: u64,
    last_payout_id: Option<PayoutId>,
    #[serde(default)]
    last_statement_hash: Option<String>,
}

/// Writes the payout with the partner's next sequence: [chain head advanced at the version read,
/// payout put-if-absent, its pointers in the partner's list and the pending one] in ONE
/// transaction, with its `payout.created` event.
async fn create_with_sequence(
    payer: Payer<'_>,
    handle: &Handle,
    mut payout: Payout,
) -> Result<Payout, PayoutError> {
    let (pk, sk) = match payout.test {
        true => keys::test_payout_head(handle, &payout.partner_id),
        false => keys::payout_head(handle, &payout.partner_id),
    };
    let store = payer.io.store.as_ref();
    for _ in 0..16 {
        let current = store.get(&pk, &sk).await?;
        let (head, cond, version): (Head, Cond, u64) = match &current {
            Some(item) => (item.parse()?, Cond::Version(item.version), item.version),
            None => (Head::default(), Cond::Absent, 0),
        };
        payout.sequence = head.sequence + 1;
        payout.previous_statement_hash = head.last_statement_hash.clone();
        crate::payouts::statement::seal(payer.signing?, handle, &mut payout);
        let next = Head {
            sequence: payout.sequence,
            last_payout_id: Some(payout.payout_id.clone()),
            last_statement_hash: Some(payout.statement_hash.clone()),
        };
        let head_op = WriteOp::Put {
            item: Item::new(
                pk.clone(),
                sk.clone(),
                crate::platform::store::to_doc(&next)?,
            )
            .with_version(version + 1),
            cond,
        };
        let pay_op = WriteOp::Put {
            item: payout.item(handle)?,
            cond: Cond::Absent,
        };
        let listed_op = of_partner::entry_op(handle, &payout);
        let pending_op = pending::entry_op(handle, &payout.payout_id);
        let emits = vec![payout_event(&payout, PayoutEvent::Created)];
        let ops = vec![head_op, pay_op, listed_op, pending_op];
        match emit::commit(payer.io, handle, ops, emits).await {
            Ok(()) => return Ok(payout),
            Err(StoreError::TxConflict { index: 0, .. }) => continue,
            Err(StoreError::TxConflict { .. }) => {
                return get(store, handle, &payout.payout_id)
                    .await?
                    .ok_or(PayoutError::Busy);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(PayoutError::Busy)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partner(id: &str) -> PartnerId {
        PartnerId::parse(id).unwrap()
    }

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    #[test]
    fn a_runs_key_is_kept_as_its_digest_alone() {
        let key = PayoutRunKey::parse("run-2026-11").unwrap();
        let hash = key_hash(&key);
        assert_eq!(
            hash,
            key_hash(&PayoutRunKey::parse(" run-2026-11 ").unwrap())
        );
        assert_ne!(hash, key_hash(&PayoutRunKey::parse("run-2026-12").unwrap()));
        assert_eq!(hash.len(), 32);
        assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()) && !hash.contains("run"));
    }

    #[test]
    fn a_retried_run_finds_the_payout_it_made_for_each_partner_and_currency() {
        let id = payout_id_of("k1", 1_764_000_000_000, &partner("pub-one"), eur());
        assert_eq!(
            id,
            payout_id_of("k1", 1_764_000_000_000, &partner("pub-one"), eur())
        );
        let usd = Currency::parse("USD").unwrap();
        for other in [
            payout_id_of("k2", 1_764_000_000_000, &partner("pub-one"), eur()),
            payout_id_of("k1", 1_764_000_000_000, &partner("pub-two"), eur()),
            payout_id_of("k1", 1_764_000_000_000, &partner("pub-one"), usd),
        ] {
            assert_ne!(id, other);
        }
        assert!(PayoutId::parse(id.as_str()).is_ok(), "{id}");
    }

    #[test]
    fn the_audit_log_names_a_runs_period_and_whom_it_pays() {
        let spec = |partner_id| RunSpec {
            period_end_ms: 1_764_000_000_000,
            partner_id,
            minimums: BTreeMap::new(),
            test: false,
        };
        let all = run_target(&spec(None));
        assert!(all.starts_with("payouts up to 2025-11-24T"), "{all}");
        assert!(all.ends_with("for every partner"), "{all}");
        let one = run_target(&spec(Some(partner("pub-one"))));
        assert!(one.ends_with("for partner pub-one"), "{one}");
    }
}
