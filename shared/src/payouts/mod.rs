//! Payouts: a run (`POST …/payouts`, an idempotency key) gathers per partner and currency every
//! approved line available by `periodEnd` plus the open negative lines (never netted across
//! currencies), and creates a payout when the net reaches the currency's minimum (else it
//! carries over). A line is claimed by a version-checked write naming the payout, so two runs
//! never pay it twice; the payout itself is written with the partner's chain head (its next
//! `sequence`, version-checked) in ONE transaction. A retry with the same key resumes: the
//! payout ids derive from the key.

pub mod model;
pub mod settle;
pub mod statement;
pub mod verify;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::domain::{Currency, Handle, PartnerId, PayoutId, PayoutRunKey};
use crate::kernel::events::EventType;
use crate::kernel::state::AppState;
use crate::ledger::emit;
use crate::ledger::model::{Commission, Status};
pub use crate::payouts::model::{
    Payout, PayoutError, PayoutStatus, PayoutView, get, list, payout_event,
};
use crate::platform::store::{Cond, Item, StoreError, WriteOp, keys};
use crate::{ledger::due, partners};

/// A validated run request.
#[derive(Clone, Debug, Serialize)]
pub struct RunSpec {
    pub period_end_ms: i64,
    pub partner_id: Option<PartnerId>,
    /// Minimum net per currency, minor units (none: any positive net).
    pub minimums: BTreeMap<Currency, i64>,
}

#[derive(Serialize, Deserialize)]
struct RunRecord {
    fingerprint: String,
    created_ms: i64,
}

/// The run's record: created once per key; a key reused with another request is refused.
async fn run_record(
    state: &AppState,
    handle: &Handle,
    key: &PayoutRunKey,
    spec: &RunSpec,
) -> Result<(String, i64), PayoutError> {
    let key_hash = hex::encode(&sha2::Sha256::digest(key.as_str().as_bytes())[..16]);
    let fingerprint = serde_json::to_string(spec).unwrap_or_default();
    let (pk, sk) = keys::payout_run(handle, &key_hash);
    for _ in 0..3 {
        if let Some(item) = state.store.get(&pk, &sk).await? {
            let r: RunRecord = item.parse()?;
            if r.fingerprint != fingerprint {
                return Err(PayoutError::KeyReused);
            }
            return Ok((key_hash, r.created_ms));
        }
        let r = RunRecord {
            fingerprint: fingerprint.clone(),
            created_ms: crate::platform::time::now_millis(),
        };
        let item = Item::new(pk.clone(), sk.clone(), crate::platform::store::to_doc(&r)?)
            .expiring_at(Some(crate::platform::store::now_unix() + 365 * 86_400));
        if crate::platform::store::put_new(state.store.as_ref(), item).await? {
            return Ok((key_hash, r.created_ms));
        }
    }
    Err(PayoutError::Busy)
}

/// A run: every payout it created (or, on a retry, had created).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn run(
    state: &AppState,
    handle: &Handle,
    key: &PayoutRunKey,
    spec: &RunSpec,
    by: &str,
) -> Result<Vec<Payout>, PayoutError> {
    let (key_hash, created_ms) = run_record(state, handle, key, spec).await?;
    let now = crate::platform::time::now_millis();
    let id_of = |partner: &PartnerId, currency: Currency| {
        PayoutId::of_run(created_ms, &format!("{key_hash}:{partner}:{currency}"))
    };
    let lines = gather(state, handle, spec, now, &id_of).await?;
    let mut groups: BTreeMap<(PartnerId, Currency), Vec<Commission>> = BTreeMap::new();
    for line in lines {
        groups
            .entry((line.partner_id.clone(), line.currency))
            .or_default()
            .push(line);
    }
    let mut out = Vec::new();
    for ((partner, currency), lines) in groups {
        let id = id_of(&partner, currency);
        let minimum = spec.minimums.get(&currency).copied().unwrap_or(1).max(1);
        let group = Group {
            id,
            partner,
            currency,
            minimum,
            lines,
        };
        if let Some(p) = pay_group(state, handle, group, spec, by).await? {
            out.push(p);
        }
    }
    Ok(out)
}

/// The lines a run may pay: approved (due pending lines are approved first), open, positive ones
/// available by the period's end, and every open negative line; on a retry, also the lines this
/// run already claimed (`id_of` derives its payout ids), so it answers the payouts it made.
async fn gather(
    state: &AppState,
    handle: &Handle,
    spec: &RunSpec,
    now: i64,
    id_of: &(dyn Fn(&PartnerId, Currency) -> PayoutId + Sync),
) -> Result<Vec<Commission>, StoreError> {
    let ours = |c: &Commission| c.payout_id.as_ref() == Some(&id_of(&c.partner_id, c.currency));
    let wanted = |c: &Commission| {
        spec.partner_id.as_ref().is_none_or(|p| &c.partner_id == p)
            && (matches!(c.status, Status::Approved | Status::Pending) || ours(c))
    };
    let mut out = Vec::new();
    // The live lines only (pending, or approved and unpaid): a run reads what it may pay, not
    // the partners' paid history.
    let partner = spec.partner_id.as_ref().map(PartnerId::as_str);
    for line in
        crate::ledger::scan_index(state, handle, crate::ledger::index::LIVE, partner, wanted)
            .await?
    {
        if ours(&line) {
            out.push(line);
            continue;
        }
        let line = due::approve_if_due(state, handle, line, now).await?;
        let payable = line.status == Status::Approved
            && (line.payout_id.is_none())
            && line.amount_minor.is_some()
            && (line.minor() < 0 || line.available_at_ms() <= spec.period_end_ms);
        if payable {
            out.push(line);
        }
    }
    Ok(out)
}

struct Group {
    id: PayoutId,
    partner: PartnerId,
    currency: Currency,
    minimum: i64,
    lines: Vec<Commission>,
}

/// Claims a group's lines and creates its payout, or carries it over (net below the minimum,
/// or a suspended partner). A payout already created by this run is answered as it is.
async fn pay_group(
    state: &AppState,
    handle: &Handle,
    g: Group,
    spec: &RunSpec,
    by: &str,
) -> Result<Option<Payout>, PayoutError> {
    if let Some(existing) = get(state, handle, &g.id).await? {
        return Ok(Some(existing));
    }
    let partner = partners::get(state.store.as_ref(), handle, &g.partner).await?;
    if partner.is_none_or(|p| p.status == partners::PartnerStatus::Suspended) {
        return Ok(None);
    }
    let net: i128 = g.lines.iter().map(Commission::minor).sum();
    if net < i128::from(g.minimum) {
        return Ok(None);
    }
    let claimed = claim(state, handle, &g.id, g.lines).await?;
    let net: i128 = claimed.iter().map(Commission::minor).sum();
    let Ok(amount) = i64::try_from(net) else {
        release(state, handle, &g.id, &claimed).await?;
        return Ok(None);
    };
    if amount < g.minimum {
        release(state, handle, &g.id, &claimed).await?;
        return Ok(None);
    }
    let period_start = claimed
        .iter()
        .map(Commission::available_at_ms)
        .min()
        .unwrap_or(0);
    let payout = Payout {
        payout_id: g.id,
        partner_id: g.partner,
        amount_minor: amount,
        currency: g.currency,
        commission_count: claimed.len(),
        commission_ids: claimed.iter().map(|c| c.commission_id.clone()).collect(),
        status: PayoutStatus::Pending,
        period_start: crate::domain::time::unix_millis_to_rfc3339(
            period_start.min(spec.period_end_ms),
        ),
        period_end: crate::domain::time::unix_millis_to_rfc3339(spec.period_end_ms),
        sequence: 0,
        created_at: crate::platform::time::now_rfc3339(),
        paid_at: None,
        reference: None,
        reason: None,
        created_by: by.to_owned(),
        merkle_root: crate::payouts::statement::root_of(&claimed),
        previous_statement_hash: None,
        statement_hash: String::new(),
        jws: String::new(),
        version: 1,
    };
    create_with_sequence(state, handle, payout).await.map(Some)
}

/// Claims each line for the payout (version-checked); a line another run took is left out.
/// Round trips: ONE conditional write per line (a lost race: a read and another try).
async fn claim(
    state: &AppState,
    handle: &Handle,
    id: &PayoutId,
    lines: Vec<Commission>,
) -> Result<Vec<Commission>, StoreError> {
    let mut claimed = Vec::with_capacity(lines.len());
    for line in lines {
        claimed.extend(claim_one(state, handle, id, line).await?);
    }
    Ok(claimed)
}

/// One line: claimed for `id` (or found claimed by it), or `None` when another payout has it or
/// it is no longer payable. A version that moved for another reason (the approval sweep, a
/// review) is read again and the claim retried: dropping it would leave the line in no payout.
async fn claim_one(
    state: &AppState,
    handle: &Handle,
    id: &PayoutId,
    mut line: Commission,
) -> Result<Option<Commission>, StoreError> {
    for _ in 0..8 {
        let mut next = line.clone();
        next.payout_id = Some(id.clone());
        match state.store.transact(next.update(handle)?).await {
            Ok(()) => {
                next.updated();
                return Ok(Some(next));
            }
            Err(StoreError::TxConflict { index: 0, .. }) => {
                let Some(fresh) =
                    crate::ledger::get(state.store.as_ref(), handle, &line.commission_id).await?
                else {
                    return Ok(None);
                };
                if fresh.payout_id.as_ref() == Some(id) {
                    return Ok(Some(fresh));
                }
                if !fresh.is_open() || fresh.amount_minor != line.amount_minor {
                    return Ok(None);
                }
                line = fresh;
            }
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Unavailable(
        "the commission kept changing".into(),
    ))
}

/// Gives lines claimed by `id` back to the next run (a failed or canceled payout).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn release(
    state: &AppState,
    handle: &Handle,
    id: &PayoutId,
    lines: &[Commission],
) -> Result<(), StoreError> {
    for line in lines {
        set_line(state, handle, &line.commission_id, |c| {
            (c.payout_id.as_ref() == Some(id)).then(|| {
                let mut n = c.clone();
                n.payout_id = None;
                n.status = Status::Approved;
                n
            })
        })
        .await?;
    }
    Ok(())
}

/// Rewrites one line with `change` (None: leave it), version-checked and retried.
pub(crate) async fn set_line(
    state: &AppState,
    handle: &Handle,
    id: &crate::domain::CommissionId,
    change: impl Fn(&Commission) -> Option<Commission>,
) -> Result<(), StoreError> {
    for _ in 0..8 {
        let Some(line) = crate::ledger::get(state.store.as_ref(), handle, id).await? else {
            return Ok(());
        };
        let Some(mut next) = change(&line) else {
            return Ok(());
        };
        next.version = line.version;
        next.as_read = line.as_read.clone();
        match state.store.transact(next.update(handle)?).await {
            Ok(()) => return Ok(()),
            Err(StoreError::TxConflict { index: 0, .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Unavailable(
        "the commission kept changing".into(),
    ))
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
/// payout put-if-absent] in ONE transaction, with its `payout.created` event.
async fn create_with_sequence(
    state: &AppState,
    handle: &Handle,
    mut payout: Payout,
) -> Result<Payout, PayoutError> {
    let (pk, sk) = keys::payout_head(handle, &payout.partner_id);
    for _ in 0..16 {
        let current = state.store.get(&pk, &sk).await?;
        let (head, cond, version): (Head, Cond, u64) = match &current {
            Some(item) => (item.parse()?, Cond::Version(item.version), item.version),
            None => (Head::default(), Cond::Absent, 0),
        };
        payout.sequence = head.sequence + 1;
        payout.previous_statement_hash = head.last_statement_hash.clone();
        crate::payouts::statement::seal(state.signing()?, handle, &mut payout);
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
        let emits = vec![payout_event(&payout, EventType::PayoutCreated)];
        match emit::commit(state, handle, vec![head_op, pay_op], emits).await {
            Ok(()) => return Ok(payout),
            Err(StoreError::TxConflict { index: 0, .. }) => continue,
            Err(StoreError::TxConflict { .. }) => {
                return get(state, handle, &payout.payout_id)
                    .await?
                    .ok_or(PayoutError::Busy);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(PayoutError::Busy)
}
