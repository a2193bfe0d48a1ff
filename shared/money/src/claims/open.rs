//! Opening a claim: the evidence gathered and the proposal made, then ONE transaction (see the
//! module's note). A second open claim of the partner on the same sale, and a partner past its
//! claims of the day, are refused by that transaction's conditions, nothing written.

use crate::claims::evidence::{self, Asked, Sources};
use crate::claims::model::{Claim, ClaimEvent, Evidence, Status, Target};
use crate::claims::{ClaimError, MAX_PER_DAY};
use crate::domain::time::Timestamp;
use crate::domain::{ClaimId, Currency, Handle, PartnerId};
use crate::kernel::emit::Emit;
use crate::kernel::events::Payload;
use crate::kernel::io::Io;
use crate::platform::store::{Cond, CounterCap, Item, StoreError, WriteOp, keys};

/// What a partner (or an operator for it) asks.
pub struct Opening {
    pub partner: PartnerId,
    pub target: Target,
    pub occurred_at: Timestamp,
    pub evidence: Evidence,
    /// What the partner says the sale was: its amount (minor units) and currency.
    pub said: Option<(i64, Currency)>,
}

/// The claim opened. Round trips: the partner, program and evidence reads (a few), ONE
/// transaction.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %o.partner))]
pub async fn open(
    (io, src): (Io<'_>, Sources<'_>),
    handle: &Handle,
    o: Opening,
) -> Result<Claim, ClaimError> {
    let store = io.store.as_ref();
    let Some(partner) = crate::partners::get(store, handle, &o.partner).await? else {
        // Words only: the id is what was asked, and an unknown partner has no name.
        return Err(ClaimError::NotFound("The partner".to_owned()));
    };
    let asked = Asked {
        handle,
        partner: &o.partner,
        target: &o.target,
        occurred_ms: o.occurred_at.millis(),
        evidence: &o.evidence,
    };
    let (proposal, found) = evidence::propose(src, &asked).await?;
    let said = o.said;
    if let Some((_, currency)) = said {
        in_program_currency(store, handle, currency).await?;
    }

    let rules = rules(store, handle).await?;
    let now = crate::platform::time::now_millis();
    let claim = Claim {
        claim_id: ClaimId::new(),
        partner_id: o.partner,
        status: Status::Open,
        target: o.target,
        occurred_at: o.occurred_at,
        evidence: o.evidence,
        amount: said.map(|(minor, c)| c.format(i128::from(minor))),
        currency: said.map(|(_, c)| c),
        attachments: Vec::new(),
        opened_at: Timestamp::from_millis(now),
        deadline_at: Timestamp::from_millis(now + rules.deadline_ms()),
        proposal,
        found,
        decision: None,
        version: 1,
    };
    let ops = ops(handle, &claim)?;
    let emits = vec![event(ClaimEvent::Opened(claim.view()), &claim)];
    match crate::kernel::emit::commit(io, handle, ops, emits).await {
        Ok(()) => Ok(claim),
        Err(StoreError::TxConflict { index: 1, .. }) => Err(ClaimError::Invalid(format!(
            "{}: {} already has an open claim on this sale.",
            field_of(&claim.target),
            partner.name
        ))),
        Err(StoreError::TxConflict { index: 2, .. }) => {
            Err(ClaimError::TooMany(partner.name, MAX_PER_DAY))
        }
        Err(e) => Err(e.into()),
    }
}

/// A sale's amount is said in the currency the program pays in (its template campaign's plan):
/// another is refused in words, never converted at a rate the partner did not see. A program
/// without a template takes any. Round trips: the program read, ONE plan query.
async fn in_program_currency(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    currency: Currency,
) -> Result<(), ClaimError> {
    let program = crate::programs::settings::get(store, handle).await?;
    let Some(template) = program.and_then(|p| p.template) else {
        return Ok(());
    };
    let Some(plan) = crate::plans::current(store, handle, &template.campaign_id).await? else {
        return Ok(());
    };
    if plan.currency == currency {
        return Ok(());
    }
    Err(ClaimError::Invalid(format!(
        "currency: the program pays in {}: give the sale's amount in {} (your order confirmation \
         or your bank converts it).",
        plan.currency.as_str(),
        plan.currency.as_str()
    )))
}

/// The program's claim rules, or the defaults. Round trips: ONE read.
pub async fn rules(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
) -> Result<crate::programs::claim_rules::ClaimRules, StoreError> {
    let program = crate::programs::settings::get(store, handle).await?;
    Ok(program.and_then(|p| p.claims).unwrap_or_default())
}

/// The field a claim's sale is named by.
pub fn field_of(t: &Target) -> &'static str {
    match (&t.order_id, &t.conversion_id) {
        (Some(_), _) => "orderId",
        (_, Some(_)) => "conversionId",
        _ => "customerId",
    }
}

/// The claim, its open-sale lock (index 1) and the day's counter (index 2) first: a
/// cancellation names them.
fn ops(handle: &Handle, claim: &Claim) -> Result<Vec<WriteOp>, StoreError> {
    let doc = crate::platform::store::to_doc(claim)?;
    let id = claim.claim_id.as_str();
    let day = &claim.opened_at.as_str()[..10];
    let lock = serde_json::json!({"claimId": id});
    Ok(vec![
        WriteOp::Put {
            item: Item::new(keys::claims_pk(handle), id, doc.clone()).with_version(1),
            cond: Cond::Absent,
        },
        WriteOp::Put {
            item: Item::new(keys::open_claims_pk(handle), lock_sk(claim), lock),
            cond: Cond::Absent,
        },
        WriteOp::Add {
            pk: keys::claim_days_pk(handle, &claim.partner_id),
            sk: day.to_owned(),
            deltas: vec![("n".to_owned(), 1.into())],
            cap: Some(CounterCap {
                counter: "n".to_owned(),
                max: MAX_PER_DAY,
            }),
            expires_at: Some(claim.opened_at.unix() + 3 * 86_400),
        },
        WriteOp::Put {
            item: Item::new(keys::partner_claims_pk(handle, &claim.partner_id), id, doc)
                .with_version(1),
            cond: Cond::None,
        },
        WriteOp::Put {
            item: Item::new(
                keys::CLAIMS_DUE_PK,
                due_sk(handle, claim),
                serde_json::json!({}),
            ),
            cond: Cond::None,
        },
        // The partner in the target: its page's audit trail finds the claim (issue 62).
        crate::kernel::audit::entry(
            handle,
            "claim.opened",
            &format!("claim {id} of partner {}", claim.partner_id),
        )?,
    ])
}

/// The open-sale lock's sort key.
pub(crate) fn lock_sk(claim: &Claim) -> String {
    format!("{}#{}", claim.partner_id, claim.sale_key())
}

/// The overdue index's sort key.
pub(crate) fn due_sk(handle: &Handle, claim: &Claim) -> String {
    format!(
        "{:013}#{handle}#{}",
        claim.deadline_at.millis().max(0),
        claim.claim_id
    )
}

/// The claim's event, with an id derived from the claim and the type.
pub(crate) fn event(payload: ClaimEvent, claim: &Claim) -> Emit {
    use crate::kernel::events::EventPayload;
    Emit {
        id: claim.claim_id.event_id(payload.event_type().as_str()),
        payload: Payload::of(&payload),
    }
}
