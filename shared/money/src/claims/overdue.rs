//! Overdue claims: the scheduled worker decides every claim past its deadline by its program's
//! rule (`claims.onOverdue`: `deny` by default; `approve` applies only to claims proposed
//! `approve`, any other is denied), and the decision says so (`overdue: true`, decided by the
//! system, in the audit log as the system's).

use crate::claims::ClaimError;
use crate::claims::decide::{self, Deciding};
use crate::claims::model::{Status, Verdict};
use crate::domain::proof::jws::ProofKeyring;
use crate::domain::{ClaimId, Handle};
use crate::kernel::io::Io;
use crate::platform::store::{Cond, Query, SkRange, StoreError, WriteOp, keys};
use crate::programs::claim_rules::OnOverdue;

/// Decides the claims due by `now_ms`, across handles: how many it decided. Round trips: one
/// query per 100 entries, then per claim its decision's.
#[tracing::instrument(skip_all)]
pub async fn sweep(
    (io, keys_): (Io<'_>, &ProofKeyring),
    base: &str,
    now_ms: i64,
) -> Result<usize, StoreError> {
    let mut decided = 0;
    // Bounded: what is left waits for the next sweep.
    for _ in 0..20 {
        let page = io
            .store
            .query(Query {
                pk: keys::CLAIMS_DUE_PK.to_owned(),
                range: SkRange::Between("0".into(), format!("{now_ms:013}~")),
                limit: 100,
                after: None,
                descending: false,
            })
            .await?;
        let full = page.items.len() == 100;
        for item in page.items {
            decided += usize::from(one((io, keys_), base, &item.sk).await?);
        }
        if !full {
            break;
        }
    }
    Ok(decided)
}

/// One due entry: its claim decided by the rule (an entry whose claim is gone or decided is
/// dropped). True if it decided.
async fn one(
    (io, keys_): (Io<'_>, &ProofKeyring),
    base: &str,
    sk: &str,
) -> Result<bool, StoreError> {
    let mut parts = sk.splitn(3, '#');
    let (_, handle, id) = (parts.next(), parts.next(), parts.next());
    let parsed = handle
        .and_then(|h| Handle::parse(h).ok())
        .zip(id.and_then(|i| ClaimId::parse(i).ok()));
    let drop_entry = WriteOp::Delete {
        pk: keys::CLAIMS_DUE_PK.to_owned(),
        sk: sk.to_owned(),
        cond: Cond::None,
    };
    let Some((handle, id)) = parsed else {
        io.store.write(drop_entry).await?;
        return Ok(false);
    };
    let store = io.store.as_ref();
    let Some(claim) = crate::claims::get(store, &handle, &id).await? else {
        io.store.write(drop_entry).await?;
        return Ok(false);
    };
    if claim.status != Status::Open {
        io.store.write(drop_entry).await?;
        return Ok(false);
    }
    let rules = crate::claims::open::rules(store, &handle).await?;
    let approvable = approvable_alone(&claim.proposal);
    if rules.on_overdue == OnOverdue::Approve && !approvable {
        // The rule pays only what the evidence alone proves: the rest waits for a person, in
        // the claims queue, past its deadline.
        io.store.write(drop_entry).await?;
        return Ok(false);
    }
    let approve = rules.on_overdue == OnOverdue::Approve && approvable;
    let rule = match rules.on_overdue {
        OnOverdue::Approve => "approve the claims 10x proposed to approve",
        OnOverdue::Deny => "deny",
    };
    let deciding = |decision| Deciding {
        decision,
        reason: format!(
            "Not decided by the deadline ({}): decided by the program's rule ({rule}).",
            claim.deadline_at.as_str()
        ),
        amount: None,
        by: "system".into(),
        overdue: true,
        base: base.to_owned(),
        campaign: None,
        move_binding: None,
        decider: crate::people::acting::Decider::system(),
    };
    let first = if approve {
        Verdict::Approve
    } else {
        Verdict::Deny
    };
    let outcome = match decide::decide((io, keys_), &handle, &id, deciding(first)).await {
        // Nothing to rate an approval by: the rule cannot pay an amount no one set.
        Err(ClaimError::Invalid(_)) if approve => {
            decide::decide((io, keys_), &handle, &id, deciding(Verdict::Deny)).await
        }
        other => other,
    };
    match outcome {
        Ok(_) => Ok(true),
        Err(ClaimError::Decided(_) | ClaimError::Busy) => Ok(false),
        Err(ClaimError::Store(e)) => Err(e),
        Err(e) => Err(StoreError::Other(e.to_string())),
    }
}

/// Whether the claim's evidence alone proposes approve: a click tied to the buyer by something
/// only the buyer's visit carries. A proposal made when a shared visitor address counted as a
/// tie (its words say so) is not.
fn approvable_alone(proposal: &crate::claims::model::Proposal) -> bool {
    const ADDRESS_ONLY: &str = "tied to this buyer: the sale's visitor came from the same address";
    proposal.verdict == Verdict::Approve
        && !proposal.reasons.iter().any(|r| r.contains(ADDRESS_ONLY))
}

#[cfg(test)]
mod approvable_tests {
    use super::*;
    use crate::claims::model::Proposal;

    fn proposal(verdict: Verdict, reason: &str) -> Proposal {
        Proposal {
            verdict,
            reasons: vec![reason.to_owned()],
            for_managers: Vec::new(),
        }
    }

    #[test]
    fn only_a_strong_tie_is_approved_by_the_rule() {
        let strong = "The click is tied to this buyer: the sale itself came with it.";
        assert!(approvable_alone(&proposal(Verdict::Approve, strong)));
        assert!(!approvable_alone(&proposal(Verdict::Unsure, strong)));
        let address = "The click is tied to this buyer: the sale's visitor came from the same \
                       address as the click.";
        assert!(!approvable_alone(&proposal(Verdict::Approve, address)));
    }
}
