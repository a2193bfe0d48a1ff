//! A claim's decision: signed, and written in ONE transaction with everything it moves (see the
//! module's note). An approval writes one line of kind `claim` (id derived from the claim), by
//! the plan in force at the sale on the claimed click's campaign, or by the amount given; a
//! sale credited to another partner is reassigned: that line is taken back whole (an
//! adjustment, or a clawback once paid). The buyer's binding is kept as it is.

use crate::claims::model::{Claim, ClaimEvent, Decision, Status, Verdict};
use crate::claims::names::{self, Names};
use crate::claims::open::{due_sk, event, lock_sk};
use crate::claims::{ClaimError, get};
use crate::domain::proof::jws::ProofKeyring;
use crate::domain::{ClaimId, CommissionId, Currency, Handle};
use crate::kernel::emit::Emit;
use crate::kernel::io::Io;
use crate::ledger::model::{Commission, Kind, Status as LineStatus};
use crate::ledger::{reversal, view};
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys};

/// What is decided.
pub struct Deciding {
    pub decision: Verdict,
    pub reason: String,
    /// The line's amount (minor units) and currency, instead of the plan's.
    pub amount: Option<(i64, Currency)>,
    /// Who decided (the program's rule: `system`).
    pub by: String,
    pub overdue: bool,
    /// Where the service's public pages are (`mail::unsubscribe::public_base`): the partner's
    /// mail links its portal.
    pub base: String,
    /// The campaign whose plan rates the line, instead of the claimed click's (a merchant's
    /// reassignment).
    pub campaign: Option<crate::domain::CampaignId>,
    /// Whether an approval moves the buyer's binding to the claiming partner (`None`: only a
    /// claim on a customer does: a claim on one sale leaves the buyer's later sales alone).
    pub move_binding: Option<bool>,
    /// Who decides: never for the partner they act for ([`crate::people::acting`]).
    pub decider: crate::people::acting::Decider,
}

/// Decides `id`. `Decided` (409) when it is not open any more, whoever decided it.
/// Round trips: the claim, the sale, its lines and the plan (a few reads), ONE transaction.
#[tracing::instrument(skip_all, fields(handle = %handle, claim = %id))]
pub async fn decide(
    (io, keys): (Io<'_>, &ProofKeyring),
    handle: &Handle,
    id: &ClaimId,
    d: Deciding,
) -> Result<Claim, ClaimError> {
    let store = io.store.as_ref();
    let claim = still_open(store, handle, id, &d).await?;
    let decider = d.decider.clone();
    let Moves {
        line,
        taken_back,
        moved,
        binding,
    } = moves(store, handle, &claim, &d).await?;
    // An approval that takes a sale back from another partner moves that partner's money too.
    let from = taken_back.as_ref().map(|(r, _)| r.partner_id.clone());
    decider.refuse_each(from.iter())?;
    let mut decision = Decision {
        claim_id: claim.claim_id.clone(),
        handle: handle.clone(),
        partner_id: claim.partner_id.clone(),
        decision: d.decision,
        reason: d.reason,
        decided_at: crate::platform::time::timestamp(),
        decided_by: d.by,
        overdue: d.overdue,
        amount: line.as_ref().map(|l| l.currency.format(l.minor())),
        currency: line.as_ref().map(|l| l.currency),
        commission_id: line.as_ref().map(|l| l.commission_id.clone()),
        reversed_commission_id: taken_back.as_ref().map(|(r, _)| r.commission_id.clone()),
        binding,
        jws: String::new(),
    };
    crate::claims::signed::sign(keys, &mut decision);
    // The line carries its claim and the signed decision to the partner's statement.
    let line = line.map(|mut l| {
        l.claim_id = Some(claim.claim_id.clone());
        l.claim_decision = Some(decision.jws.clone());
        l
    });
    let mut next = claim.clone();
    next.status = match d.decision {
        Verdict::Approve => Status::Approved,
        _ => Status::Denied,
    };
    next.decision = Some(decision);
    next.version = claim.version + 1;
    let (mut ops, emits) = writes(handle, &claim, &next, line.as_ref(), taken_back.as_ref())?;
    if let Some((_, moving)) = moved {
        ops.extend(moving);
        ops = fold_into_set_doc(ops);
    }
    let staged = decided_mail(store, handle, &next, &d.base).await?;
    if let Some(staged) = &staged {
        ops.extend(staged.ops.iter().cloned());
    }
    ops.extend(decider.guard(handle));
    match crate::ledger::emit::commit(io, handle, ops, emits).await {
        Ok(()) => {
            if let Some(staged) = &staged {
                crate::mail::publish(io, staged).await;
            }
            Ok(next)
        }
        Err(StoreError::TxConflict { index, .. }) => {
            let touched: Vec<&crate::domain::PartnerId> = std::iter::once(&next.partner_id)
                .chain(from.as_ref())
                .collect();
            decider.judge_again(store, handle, &touched).await??;
            conflict(store, handle, id, &next, index).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The claim, still open, that `d` may decide (never the decider's own partner's), with the
/// campaign a reassignment names. ONE read.
async fn still_open(
    store: &dyn Store,
    handle: &Handle,
    id: &ClaimId,
    d: &Deciding,
) -> Result<Claim, ClaimError> {
    let mut claim = get(store, handle, id)
        .await?
        .ok_or_else(|| ClaimError::NotFound(format!("Claim {id}")))?;
    if claim.status != Status::Open {
        return Err(ClaimError::Decided(id.clone()));
    }
    d.decider.refuse(Some(&claim.partner_id))?;
    if let Some(c) = d.campaign.clone() {
        claim.found.campaign_id = Some(c);
    }
    Ok(claim)
}

/// Why a decision's transaction failed, once the money rule held: decided meanwhile, the sale
/// credited meanwhile, or a concurrent write (retry).
async fn conflict(
    store: &dyn Store,
    handle: &Handle,
    id: &ClaimId,
    next: &Claim,
    index: usize,
) -> Result<Claim, ClaimError> {
    match get(store, handle, id).await? {
        Some(c) if c.status != Status::Open => Err(ClaimError::Decided(id.clone())),
        _ if index == 1 && next.status == Status::Approved => Err(ClaimError::AlreadyCredited(
            names::name_of(store, handle, &next.partner_id).await?,
        )),
        _ => Err(ClaimError::Busy),
    }
}

/// What an approval moves: its line, the other partner's line taken back, the buyer's binding
/// (and that move in words, for the signed decision).
#[derive(Default)]
struct Moves {
    line: Option<Commission>,
    taken_back: Option<(Commission, Commission)>,
    moved: Option<(crate::customers::Customer, Vec<WriteOp>)>,
    binding: Option<String>,
}

/// [`Moves`] of the decision (none for a denial). Round trips: the sale, its lines, the plan,
/// the buyer's record and the names of the partners it moves between (a few reads).
async fn moves(
    store: &dyn Store,
    handle: &Handle,
    claim: &Claim,
    d: &Deciding,
) -> Result<Moves, ClaimError> {
    if d.decision != Verdict::Approve {
        return Ok(Moves::default());
    }
    let line = line_of(store, handle, claim, d.amount).await?;
    let taken_back = take_back(store, handle, claim).await?;
    let moved = move_binding(store, handle, claim, &line, d).await?;
    let binding = match &moved {
        Some((c, _)) => Some(binding_words(store, handle, c).await?),
        None => None,
    };
    Ok(Moves {
        line: Some(line),
        taken_back,
        moved,
        binding,
    })
}

/// The approved claim's buyer, moved to the claiming partner when the decision says so (by
/// default when the claim named the customer): the binding and its writes (`customers::moved`),
/// `None` when there is no bound buyer or it is the partner's already.
async fn move_binding(
    store: &dyn Store,
    handle: &Handle,
    claim: &Claim,
    line: &Commission,
    d: &Deciding,
) -> Result<Option<(crate::customers::Customer, Vec<WriteOp>)>, ClaimError> {
    let asked = d.move_binding.unwrap_or(claim.target.customer_id.is_some());
    let Some(customer) = line.customer_id.as_ref().filter(|_| asked) else {
        return Ok(None);
    };
    let campaign = claim.found.campaign_id.as_ref().ok_or_else(|| {
        ClaimError::Invalid(
            "binding: no campaign of the partner's is known for this claim (no click of \
             theirs in the evidence) to bind the buyer to; keep the binding."
                .into(),
        )
    })?;
    let to = crate::customers::moved::MoveTo {
        partner: &claim.partner_id,
        campaign,
        claim: &claim.claim_id,
        by: &d.by,
        at_ms: crate::platform::time::now_millis(),
    };
    crate::customers::moved::ops(store, handle, customer, &to)
        .await
        .map_err(|e| match e {
            crate::customers::CustomerError::Store(e) => ClaimError::Store(e),
            other => ClaimError::Invalid(format!("binding: {other}")),
        })
}

/// `ops` with every uncapped add on a `SetDoc`'s item carried by that `SetDoc` (the lines'
/// adds to the moved customer's counters): a transaction names an item once.
fn fold_into_set_doc(ops: Vec<WriteOp>) -> Vec<WriteOp> {
    let Some(key) = ops.iter().find_map(|o| match o {
        WriteOp::SetDoc { item, .. } => Some((item.pk.clone(), item.sk.clone())),
        _ => None,
    }) else {
        return ops;
    };
    let mut deltas: Vec<(String, crate::platform::store::Count)> = Vec::new();
    let mut out: Vec<WriteOp> = Vec::with_capacity(ops.len());
    for op in ops {
        match op {
            WriteOp::Add {
                pk,
                sk,
                deltas: more,
                cap: None,
                ..
            } if (pk.as_str(), sk.as_str()) == (key.0.as_str(), key.1.as_str()) => {
                deltas.extend(more);
            }
            other => out.push(other),
        }
    }
    for op in &mut out {
        if let WriteOp::SetDoc { item, .. } = op {
            for (name, d) in &deltas {
                let slot = item.counters.entry(name.clone()).or_insert(0);
                *slot = slot.saturating_add(*d);
            }
        }
    }
    out
}

/// The moved binding, in words (the partners by their names), for the signed decision.
/// Round trips: ONE read per partner named.
async fn binding_words(
    store: &dyn Store,
    handle: &Handle,
    c: &crate::customers::Customer,
) -> Result<String, StoreError> {
    let from_id = c.moved.as_ref().and_then(|m| m.from_partner_id.as_ref());
    let ids = from_id.into_iter().chain(&c.partner_id).cloned().collect();
    let names = Names::of(store, handle, ids).await?;
    let from = from_id.map_or("no partner", |p| names.get(p));
    let to = c
        .partner_id
        .as_ref()
        .map_or(names::UNKNOWN, |p| names.get(p));
    Ok(format!(
        "Customer {} moved from {from} to {to} on {}.",
        c.customer_id,
        c.bound_at.as_str()
    ))
}

/// The claim at the version read first (index 0), then the line put-if-absent, the reversal
/// and the original's mark, the claim's copy, the lock and due entry gone, the audit entry;
/// the balance moves last.
fn writes(
    handle: &Handle,
    claim: &Claim,
    next: &Claim,
    line: Option<&Commission>,
    taken_back: Option<&(Commission, Commission)>,
) -> Result<(Vec<WriteOp>, Vec<Emit>), StoreError> {
    let doc = crate::platform::store::to_doc(next)?;
    let id = claim.claim_id.as_str();
    let mut ops = vec![WriteOp::Put {
        item: Item::new(keys::claims_pk(handle), id, doc.clone()).with_version(next.version),
        cond: Cond::Version(claim.version),
    }];
    // A sale is won by a partner once (index 1): a later claim or reassignment of the same
    // sale to it is refused, never paid twice.
    if next.status == Status::Approved {
        ops.push(WriteOp::Put {
            item: Item::new(
                keys::open_claims_pk(handle),
                won_sk(claim),
                serde_json::json!({"claimId": id}),
            ),
            cond: Cond::Absent,
        });
    }
    let mut moves = Vec::new();
    let mut emits = vec![event(ClaimEvent::Decided(next.view()), next)];
    if let Some(line) = line {
        let mut line_ops = line.create(handle)?;
        moves.extend(line_ops.split_off(1));
        ops.extend(line_ops);
        emits.push(view::event(view::CommissionEvent::Created, line));
    }
    if let Some((back, marked)) = taken_back {
        let mut back_ops = back.create(handle)?;
        moves.extend(back_ops.split_off(1));
        ops.extend(back_ops);
        let mut marked_ops = marked.update(handle)?;
        moves.extend(marked_ops.split_off(1));
        ops.extend(marked_ops);
        ops.extend(crate::ledger::due::entry(handle, back));
        emits.push(view::event(view::CommissionEvent::Reversed, back));
    }
    ops.push(WriteOp::Put {
        item: Item::new(keys::partner_claims_pk(handle, &claim.partner_id), id, doc)
            .with_version(next.version),
        cond: Cond::None,
    });
    ops.push(WriteOp::Delete {
        pk: keys::open_claims_pk(handle),
        sk: lock_sk(claim),
        cond: Cond::None,
    });
    ops.push(WriteOp::Delete {
        pk: keys::CLAIMS_DUE_PK.to_owned(),
        sk: due_sk(handle, claim),
        cond: Cond::None,
    });
    let verb = match next.status {
        Status::Approved => "claim.approved",
        _ => "claim.denied",
    };
    ops.push(crate::kernel::audit::entry(
        handle,
        verb,
        &format!("claim {id} of partner {}", claim.partner_id),
    )?);
    ops.extend(moves);
    Ok((ops, emits))
}

/// The approved claim's line: by the amount given, else by the plan in force at the sale on
/// the claimed click's campaign (`400` naming `amount` when there is none to rate by).
async fn line_of(
    store: &dyn Store,
    handle: &Handle,
    claim: &Claim,
    amount: Option<(i64, Currency)>,
) -> Result<Commission, ClaimError> {
    let sale = match &claim.found.conversion_id {
        Some(id) => crate::conversions::record::load(store, handle, id)
            .await?
            .map(|(_, c)| c),
        None => None,
    };
    let now = crate::platform::time::timestamp();
    let id = CommissionId::of_claim(&claim.claim_id);
    let (minor, currency, rated) = match amount {
        Some((minor, currency)) => (minor, currency, None),
        None => {
            let (minor, currency, rated) = by_plan(store, handle, claim, sale.as_ref()).await?;
            (minor, currency, Some(rated))
        }
    };
    let mut line = Commission::blank(
        id,
        Kind::Claim,
        claim.partner_id.clone(),
        Some(minor),
        currency,
        LineStatus::Approved,
    );
    line.campaign_id = claim.found.campaign_id.clone();
    line.conversion_id.clone_from(&claim.found.conversion_id);
    line.click_id.clone_from(&claim.found.click_id);
    line.customer_id = sale
        .as_ref()
        .and_then(|s| s.customer_id.clone())
        .or_else(|| claim.target.customer_id.clone());
    if let Some(s) = &sale {
        line.event_type = Some(s.event_type.clone());
        line.value = s.value;
        line.value_currency = s.currency;
    }
    if let Some((version, fx_rate)) = rated {
        line.plan_version = Some(version);
        line.fx_rate = fx_rate;
    }
    // Read by the manager and the partner beside the line (the claim itself is the audit's
    // `claim.approved` entry): words, never the claim's id.
    line.reasons = vec![format!(
        "Approved on the partner's claim{}",
        claim
            .target
            .order_id
            .as_deref()
            .map(|o| format!(" for order {o}"))
            .unwrap_or_default()
    )];
    line.available_at = now.clone();
    line.created_at = now.clone();
    line.reviewed_at = Some(now);
    Ok(line)
}

/// The plan's amount for the sale, as if it had come with the claimed click.
async fn by_plan(
    store: &dyn Store,
    handle: &Handle,
    claim: &Claim,
    sale: Option<&crate::kernel::events::ConversionData>,
) -> Result<(i64, Currency, (u64, Option<rust_decimal::Decimal>)), ClaimError> {
    let none = || {
        ClaimError::Invalid(
            "amount: no plan of this partner's rates this sale (no sale 10x saw, or no plan on \
             the claimed click's campaign then): give the amount and its currency."
                .into(),
        )
    };
    let (Some(sale), Some(campaign)) = (sale, &claim.found.campaign_id) else {
        return Err(none());
    };
    let at = sale.received_at.millis();
    let plan = crate::plans::in_force_at(store, handle, campaign, at)
        .await?
        .ok_or_else(none)?;
    let mut as_claimed = sale.clone();
    as_claimed.campaign_id = Some(campaign.clone());
    if let Some(click) = &claim.found.click_id {
        as_claimed.click_id = click.clone();
    }
    let facts = crate::plans::earn::Facts::of(&as_claimed, Default::default());
    let rate = match crate::plans::earn::rate_needed(&plan, &facts) {
        Some(from) => crate::fx::rate_at(store, handle, from, plan.currency, at).await?,
        None => None,
    };
    let earned = crate::plans::earn::earn(&plan, &facts, rate);
    let minor = earned.minor.ok_or_else(|| {
        ClaimError::Invalid(
            "amount: no exchange rate is known for the sale's currency then: give the amount \
             and its currency."
                .into(),
        )
    })?;
    // Paid on what refunds left of the sale, as its own partner is.
    let minor = match reversal::share_reversed(sale) {
        Some(share) => reversal::net_of(minor, share).ok_or_else(none)?,
        None => minor,
    };
    Ok((minor, plan.currency, (plan.version, earned.fx_rate)))
}

/// The other partner's line for the sale, what is left of it taken back (refunds took the
/// rest), and that line marked: `None` when the sale earned none, or nothing is left of it.
async fn take_back(
    store: &dyn Store,
    handle: &Handle,
    claim: &Claim,
) -> Result<Option<(Commission, Commission)>, ClaimError> {
    let Some(conversion) = &claim.found.conversion_id else {
        return Ok(None);
    };
    let id = CommissionId::of_conversion(conversion);
    let Some(original) = crate::ledger::get(store, handle, &id).await? else {
        return Ok(None);
    };
    // Paying the partner a second time for a sale it already earned (refunded in part or
    // not): never.
    let name = names::name_of(store, handle, &claim.partner_id).await?;
    if original.partner_id == claim.partner_id {
        return Err(ClaimError::AlreadyCredited(name));
    }
    let seed = format!("claim-reassigned:{}", claim.claim_id);
    let back_id = CommissionId::derived(claim.claim_id.unix_millis(), &seed);
    let reason = format!("reassigned to {name} by claim {}", claim.claim_id);
    let Some(back) = reversal::rest_reversal(&original, &reason, back_id.clone()) else {
        return Ok(None);
    };
    let mut marked = original;
    marked.adjusted_by = Some(back_id);
    marked.reversed_share = back.reversed_share;
    Ok(Some((back, marked)))
}

/// The partner's `claim_decided` mail, staged into the decision's transaction (keyed by the
/// claim: one mail per decision); `None` when the partner has no address (logged).
async fn decided_mail(
    store: &dyn Store,
    handle: &Handle,
    claim: &Claim,
    base: &str,
) -> Result<Option<crate::mail::Staged>, ClaimError> {
    let Some(partner) = crate::partners::get(store, handle, &claim.partner_id).await? else {
        return Ok(None);
    };
    let to = partner
        .email
        .as_deref()
        .and_then(|e| crate::domain::email::Email::parse("email", e).ok());
    let Some(to) = to else {
        tracing::info!(partner = %claim.partner_id, "no mail of the claim's decision: the partner has no address");
        return Ok(None);
    };
    let Some(decision) = &claim.decision else {
        return Ok(None);
    };
    // The template says "was {{ decision }}d": approved, declined.
    let word = match decision.decision {
        Verdict::Approve => "approve",
        _ => "decline",
    };
    let mail = crate::mail::Outgoing {
        handle: Some(handle.clone()),
        to,
        kind: crate::mail::MailKind::ClaimDecided,
        key: format!("claim-decided:{}", claim.claim_id),
        data: serde_json::json!({
            "partnerName": partner.name,
            "orderId": claim.target.order_id,
            "decision": word,
            "reason": decision.reason,
            "claimUrl": format!("{base}/portal/{handle}"),
        }),
    };
    match crate::mail::enqueue_ops(&mail) {
        Ok(staged) => Ok(Some(staged)),
        Err(e) => {
            tracing::warn!(error = %e, "the claim decision's mail could not be staged");
            Ok(None)
        }
    }
}

/// The marker of a sale won by a partner through a claim (in the open-claims partition).
pub(crate) fn won_sk(claim: &Claim) -> String {
    format!("won#{}", lock_sk(claim))
}

/// Whether `partner` won the sale `claim` names through an earlier claim. Round trips: ONE read.
pub async fn won(store: &dyn Store, handle: &Handle, claim: &Claim) -> Result<bool, StoreError> {
    Ok(store
        .get(&keys::open_claims_pk(handle), &won_sk(claim))
        .await?
        .is_some())
}
