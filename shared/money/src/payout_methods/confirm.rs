//! `POST …/partners/{partnerId}/payout-method/confirm`: a manager confirms a change of payout
//! details, so the partner's payouts go into batches again before the 24 hours are up. The
//! manager is a second person: whoever made the change never confirms it, so one manager alone
//! never redirects a partner's payouts unseen.

use crate::domain::{Handle, PartnerId, TokenId, UserId};
use crate::payout_methods::model::{AuditEntry, MethodRecord, Pending};
use crate::payout_methods::set::audit_op;
use crate::payout_methods::{MethodError, get};
use crate::platform::store::{Cond, Store, StoreError, WriteOp};

/// Who confirms: the actor recorded as confirming (the credential's subject, as a change
/// records its `changedBy`) and the person behind it (a session's user, the person who minted
/// a token), when it names one.
pub struct Confirmer<'a> {
    pub by: &'a str,
    pub person: Option<&'a UserId>,
}

/// Whether `confirmer` made the `pending` change: the same credential, the same person, or a
/// token the same person minted. Round trips: ONE read for a change made by a token and
/// confirmed by a person, else none.
async fn made_by(
    store: &dyn Store,
    handle: &Handle,
    pending: &Pending,
    confirmer: &Confirmer<'_>,
) -> Result<bool, StoreError> {
    let changed_by = pending.changed_by.as_str();
    if changed_by == confirmer.by || confirmer.person.is_some_and(|p| p.as_str() == changed_by) {
        return Ok(true);
    }
    let (Some(person), Some(token)) = (confirmer.person, token_of(changed_by)) else {
        return Ok(false);
    };
    let minter = crate::tokens::minted_by(store, handle, &token).await?;
    Ok(minter.as_ref() == Some(person))
}

/// The token a `changedBy` names (`pat:tok_…`, a personal access token's subject).
fn token_of(changed_by: &str) -> Option<TokenId> {
    changed_by
        .strip_prefix("pat:")
        .and_then(|id| TokenId::parse(id).ok())
}

/// Clears the pending change (audited as `confirmed`). Confirming a method with no pending
/// change is `409`; a change confirmed by the person who made it is `403`. Round trips: ONE
/// read (and ONE more for a change made by a token: [`made_by`]), ONE transaction (method
/// version-checked, audit).
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn confirm(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    confirmer: &Confirmer<'_>,
) -> Result<MethodRecord, MethodError> {
    let current = get(store, handle, partner)
        .await?
        .ok_or_else(|| MethodError::NotSet(partner.clone()))?;
    let Some(pending) = &current.pending else {
        return Err(MethodError::NothingToConfirm(partner.clone()));
    };
    if made_by(store, handle, pending, confirmer).await? {
        return Err(MethodError::OwnChange(partner.clone()));
    }
    let by = confirmer.by;
    let now = crate::platform::time::timestamp();
    let mut next = current.clone();
    next.pending = None;
    next.confirmed_at = Some(now.clone());
    next.confirmed_by = Some(by.to_owned());
    next.version = current.version + 1;
    let entry = AuditEntry {
        partner_id: partner.clone(),
        action: "confirmed".into(),
        at: now,
        by: by.to_owned(),
        previous: Some(pending.previous.clone()),
        current: current.masked.clone(),
    };
    let ops = vec![
        WriteOp::Put {
            item: next.item(handle)?,
            cond: Cond::Version(current.version),
        },
        audit_op(handle, &entry)?,
    ];
    match store.transact(ops).await {
        Ok(()) => Ok(next),
        Err(StoreError::TxConflict { .. }) => Err(MethodError::Busy),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::store::embedded::EmbeddedStore;

    fn pending(changed_by: &str) -> Pending {
        Pending {
            changed_at: crate::platform::time::timestamp(),
            changed_by: changed_by.into(),
            previous: crate::payout_methods::model::Details::Manual.masked(),
        }
    }

    #[tokio::test]
    async fn whoever_made_a_change_never_confirms_it() {
        let store = EmbeddedStore::in_memory();
        let handle = Handle::parse("shop").unwrap();
        let (ana, bo) = (UserId::new(), UserId::new());
        let made = |by: &str| pending(by);
        let as_ana = Confirmer {
            by: ana.as_str(),
            person: Some(&ana),
        };
        // Her own change, from her session: refused.
        assert!(
            made_by(&store, &handle, &made(ana.as_str()), &as_ana)
                .await
                .unwrap()
        );
        // A machine's JWT both times: the same credential, refused.
        let machine = Confirmer {
            by: "ci",
            person: None,
        };
        assert!(
            made_by(&store, &handle, &made("ci"), &machine)
                .await
                .unwrap()
        );
        // Her change confirmed through a token she minted: still her.
        let her_token = Confirmer {
            by: "pat:tok_x",
            person: Some(&ana),
        };
        assert!(
            made_by(&store, &handle, &made(ana.as_str()), &her_token)
                .await
                .unwrap()
        );
        // Someone else's change (another person, the partner, a machine): confirmed.
        assert!(
            !made_by(&store, &handle, &made(bo.as_str()), &as_ana)
                .await
                .unwrap()
        );
        assert!(
            !made_by(&store, &handle, &made("ci"), &as_ana)
                .await
                .unwrap()
        );
        assert!(
            !made_by(&store, &handle, &made(ana.as_str()), &machine)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn a_change_made_through_a_token_is_its_minters() {
        let store = EmbeddedStore::in_memory();
        let handle = Handle::parse("shop").unwrap();
        let ana = UserId::new();
        let spec = crate::tokens::PatSpec::new(
            "books".into(),
            vec![tenx_kernel::auth::Scope::PayoutsWrite],
            None,
        )
        .unwrap();
        let (minted, _) = crate::tokens::create(&store, &handle, ana.as_str(), spec)
            .await
            .unwrap();
        let change = pending(&format!("pat:{}", minted.token_id));
        let as_ana = Confirmer {
            by: ana.as_str(),
            person: Some(&ana),
        };
        assert!(made_by(&store, &handle, &change, &as_ana).await.unwrap());
        let bo = UserId::new();
        let as_bo = Confirmer {
            by: bo.as_str(),
            person: Some(&bo),
        };
        assert!(!made_by(&store, &handle, &change, &as_bo).await.unwrap());
        assert_eq!(token_of("pat:nonsense"), None);
    }
}
