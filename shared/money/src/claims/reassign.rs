//! A merchant's reassignment of a conversion to another partner (`POST
//! …/conversions/{conversionId}/reassign`): the same kind of decision as an approved claim, so
//! it is one: a claim opened for the partner on the conversion (the reason as its note) and
//! approved at once, signed; its line rated by the plan of the campaign named (or the
//! partner's first), the old line taken back whole, both audited.

use crate::claims::ClaimError;
use crate::claims::decide::{self, Deciding};
use crate::claims::evidence::Sources;
use crate::claims::model::{Claim, Evidence, Target, Verdict};
use crate::claims::open::{self, Opening};
use crate::domain::proof::jws::ProofKeyring;
use crate::domain::{CampaignId, ConversionId, Handle, PartnerId};
use crate::kernel::io::Io;

/// What is reassigned, to whom, why.
pub struct Reassigning {
    pub conversion: ConversionId,
    pub partner: PartnerId,
    pub campaign: Option<CampaignId>,
    pub reason: String,
    pub by: String,
    pub base: String,
    /// Whether the buyer's binding moves with the sale (`None`: it is kept).
    pub move_binding: Option<bool>,
    /// Who decides: never to or from the partner they act for ([`crate::people::acting`]).
    pub decider: crate::people::acting::Decider,
}

/// The reassignment, as its decided claim. Round trips: the conversion and campaign reads, then
/// a claim's opening and decision.
#[tracing::instrument(skip_all, fields(handle = %handle, conversion = %r.conversion))]
pub async fn reassign(
    (io, src, keys): (Io<'_>, Sources<'_>, &ProofKeyring),
    handle: &Handle,
    r: Reassigning,
) -> Result<Claim, ClaimError> {
    let store = io.store.as_ref();
    let sale = crate::conversions::record::load(store, handle, &r.conversion)
        .await?
        .map(|(_, c)| c)
        .filter(|c| !c.test)
        .ok_or_else(|| ClaimError::NotFound(format!("Conversion {}", r.conversion)))?;
    let line = crate::ledger::get(
        store,
        handle,
        &crate::domain::CommissionId::of_conversion(&r.conversion),
    )
    .await?;
    // Refused before anything is written: the money moves from the sale's partner to another.
    let holder = line.as_ref().map(|l| l.partner_id.clone());
    r.decider
        .refuse_each(std::iter::once(&r.partner).chain(holder.as_ref()))?;
    // The partner by its name in every message (an unknown one: `404`, in words).
    let name = crate::partners::get(store, handle, &r.partner)
        .await?
        .map(|p| p.name)
        .ok_or_else(|| ClaimError::NotFound("The partner".to_owned()))?;
    if line.is_some_and(|l| l.partner_id == r.partner && crate::ledger::reversal::keeps_a_part(&l))
    {
        return Err(ClaimError::AlreadyCredited(name));
    }
    let campaign = campaign_of(store, handle, (&r.partner, &name), r.campaign).await?;
    let opening = Opening {
        partner: r.partner,
        target: Target {
            conversion_id: Some(r.conversion.clone()),
            ..Target::default()
        },
        occurred_at: sale.received_at.clone(),
        evidence: Evidence {
            note: Some(r.reason.clone()),
            ..Evidence::default()
        },
        said: None,
    };
    // Refused before anything is written when the partner has it already.
    let probe = Claim::probe(&opening.partner, &r.conversion);
    if decide::won(store, handle, &probe).await? {
        return Err(ClaimError::AlreadyCredited(name));
    }
    let claim = open::open((io, src), handle, opening).await?;
    let deciding = Deciding {
        decision: Verdict::Approve,
        reason: r.reason,
        amount: None,
        by: r.by,
        overdue: false,
        base: r.base,
        campaign: Some(campaign),
        move_binding: Some(r.move_binding.unwrap_or(false)),
        decider: r.decider,
    };
    decide::decide((io, keys), handle, &claim.claim_id, deciding).await
}

/// The campaign named (it must be the partner's), else the partner's first.
async fn campaign_of(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    (partner, name): (&PartnerId, &str),
    named: Option<CampaignId>,
) -> Result<CampaignId, ClaimError> {
    if let Some(id) = named {
        let found = crate::campaigns::get(store, handle, &id).await?;
        return match found {
            Some(c) if c.partner_id.as_ref() == Some(partner) => Ok(id),
            _ => Err(ClaimError::Invalid(format!(
                "campaignId: campaign {id} is not one of {name}'s."
            ))),
        };
    }
    let all = crate::campaigns::list_all(store, handle).await?;
    all.into_iter()
        .find(|c| c.partner_id.as_ref() == Some(partner))
        .map(|c| c.campaign_id)
        .ok_or_else(|| {
            ClaimError::NotPossible(format!(
                "{name} has no campaign whose plan could rate the sale: give it a \
                 campaign first, or name one in campaignId."
            ))
        })
}
