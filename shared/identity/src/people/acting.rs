//! The one money rule for people who act for a partner: a person who is a member of a handle and
//! also a user of one of its partners never creates, approves, raises, moves or pays that
//! partner's money. Every such decision builds a [`Decider`] from its caller and asks it here
//! ([`Decider::refuse`]); a decision written in one transaction also carries
//! [`Decider::guard`], so a person who becomes the partner's user while the decision is under
//! way makes the decision fail instead of slipping through between the check and the write.

use crate::domain::{Handle, PartnerId, UserId};
use crate::platform::store::{Cond, Store, StoreError, WriteOp, keys};

/// Who decides about a partner's money: the person (signed in, or who minted the token or is
/// named by the JWT; none for a machine's JWT or the program's own rules) and the partner they
/// act for on this handle, as read for the request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decider {
    pub user: Option<UserId>,
    pub own_partner: Option<PartnerId>,
}

/// The decision concerns the decider's own partner (`403 forbidden`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "You are also partner {partner} of this program: another member creates, approves, moves \
     and pays its money{hint}."
)]
pub struct OwnPartner {
    pub partner: PartnerId,
    hint: &'static str,
}

impl Decider {
    /// Nobody in particular: the program's own rules (the sweeper).
    pub fn system() -> Self {
        Self::default()
    }

    /// Refuses a decision about `partner` when it is the decider's own; `None` (a run or a
    /// batch over every partner) refuses any decider with a partner of its own, since it would
    /// include theirs.
    pub fn refuse(&self, partner: Option<&PartnerId>) -> Result<(), OwnPartner> {
        let Some(own) = &self.own_partner else {
            return Ok(());
        };
        match partner {
            Some(p) if p != own => Ok(()),
            Some(_) => Err(OwnPartner {
                partner: own.clone(),
                hint: "",
            }),
            None => Err(OwnPartner {
                partner: own.clone(),
                hint: "; name another partner (partnerId) to act on theirs",
            }),
        }
    }

    /// [`Decider::refuse`] for every partner a decision touches (a reassignment moves money
    /// from one partner to another: neither may be the decider's).
    pub fn refuse_each<'a>(
        &self,
        partners: impl IntoIterator<Item = &'a PartnerId>,
    ) -> Result<(), OwnPartner> {
        partners.into_iter().try_for_each(|p| self.refuse(Some(p)))
    }

    /// The condition a decision's transaction carries: the person still acts for no partner of
    /// the handle, as when they were judged (a person acts for one partner per handle, so a
    /// decider with a partner of their own needs none: [`Decider::refuse`] judged the rest).
    pub fn guard(&self, handle: &Handle) -> Option<WriteOp> {
        match (&self.user, &self.own_partner) {
            (Some(user), None) => Some(WriteOp::Check {
                pk: keys::user_pk(user),
                sk: keys::user_partnership_sk(handle),
                cond: Cond::Absent,
            }),
            _ => None,
        }
    }

    /// After a decision's transaction failed its conditions: the rule judged again on the
    /// person's partnership as it is now, so a decision that lost the race to the person
    /// joining `partner` is refused in words rather than reported as a busy store.
    /// Round trips: ONE read, for a person only.
    pub async fn judge_again(
        &self,
        store: &dyn Store,
        handle: &Handle,
        partners: &[&PartnerId],
    ) -> Result<Result<(), OwnPartner>, StoreError> {
        let Some(user) = &self.user else {
            return Ok(Ok(()));
        };
        let now = crate::people::partnerships::on_handle(store, user, handle).await?;
        let again = Decider {
            user: Some(user.clone()),
            own_partner: now.map(|p| p.partner_id),
        };
        Ok(again.refuse_each(partners.iter().copied()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> PartnerId {
        PartnerId::parse(s).expect("a partner id")
    }

    #[test]
    fn a_person_with_no_partner_decides_for_anyone() {
        let d = Decider {
            user: Some(UserId::new()),
            own_partner: None,
        };
        assert_eq!(d.refuse(Some(&id("pa"))), Ok(()));
        assert_eq!(d.refuse(None), Ok(()));
    }

    #[test]
    fn a_person_never_decides_for_the_partner_they_act_for() {
        let d = Decider {
            user: Some(UserId::new()),
            own_partner: Some(id("pb")),
        };
        assert_eq!(d.refuse(Some(&id("pa"))), Ok(()));
        let own = d.refuse(Some(&id("pb"))).unwrap_err();
        assert!(own.to_string().contains("partner pb"), "{own}");
        // Every partner at once includes theirs.
        let all = d.refuse(None).unwrap_err();
        assert!(all.to_string().contains("name another partner"), "{all}");
        // A move from or to their partner.
        assert!(d.refuse_each([&id("pa"), &id("pb")]).is_err());
        assert!(d.refuse_each([&id("pb"), &id("pa")]).is_err());
        assert!(d.refuse_each([&id("pa"), &id("pc")]).is_ok());
    }

    #[test]
    fn only_a_person_without_a_partner_carries_the_guard() {
        let handle = Handle::parse("shop").unwrap();
        let user = UserId::new();
        let free = Decider {
            user: Some(user.clone()),
            own_partner: None,
        };
        match free.guard(&handle) {
            Some(WriteOp::Check { pk, sk, cond }) => {
                assert_eq!(pk, keys::user_pk(&user));
                assert_eq!(sk, keys::user_partnership_sk(&handle));
                assert_eq!(cond, Cond::Absent);
            }
            other => panic!("expected the partnership check, got {other:?}"),
        }
        assert_eq!(Decider::system().guard(&handle), None);
        let partnered = Decider {
            user: Some(user),
            own_partner: Some(id("pb")),
        };
        assert_eq!(partnered.guard(&handle), None);
    }
}
