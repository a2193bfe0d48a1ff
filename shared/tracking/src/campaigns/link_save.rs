//! Saving a link that names a campaign: the campaign must exist, checked in the link's own
//! transaction (a `Check` beside the put), so a campaign deleted while the link is written
//! leaves no link pointing at nothing. The rule spans links and campaigns; campaigns owns it
//! (links know nothing of campaigns).

use tracing::instrument;

use crate::domain::link::ValidLinkSpec;
use crate::domain::{CampaignId, Handle, Slug};
use crate::kernel::io::Io;
use crate::kernel::state::LinkCache;
use crate::links::{LinkError, Precondition, Upserted};
use crate::platform::store::{Cond, WriteOp, keys};

#[derive(Debug, thiserror::Error)]
pub enum LinkSaveError {
    #[error("campaignId: campaign {0} does not exist; create it first.")]
    NoSuchCampaign(CampaignId),
    #[error(transparent)]
    Link(#[from] LinkError),
}

/// Creates or replaces the link `slug` from `spec`, its campaign (if it names one) checked to
/// exist in the same transaction, with the caller's `extra` writes (a quota's counter): a
/// failed one is `LinkError::Extra` at its index among them.
#[instrument(skip_all, fields(handle = %handle, slug = %slug))]
pub async fn save(
    io: Io<'_>,
    cache: &LinkCache,
    handle: &Handle,
    (slug, spec): (&Slug, ValidLinkSpec),
    precondition: Precondition,
    extra: Vec<WriteOp>,
) -> Result<Upserted, LinkSaveError> {
    let campaign = spec.campaign_id.clone();
    let check = campaign.as_ref().map(|id| WriteOp::Check {
        pk: keys::handle_pk(handle),
        sk: keys::campaign_sk(id),
        cond: Cond::Exists,
    });
    let checks = usize::from(check.is_some());
    let ops = check.into_iter().chain(extra).collect();
    let saved = crate::links::upsert(io, cache, handle, slug, spec, precondition, ops).await;
    match (saved, campaign) {
        (Err(LinkError::Extra { index: 0, .. }), Some(id)) => {
            Err(LinkSaveError::NoSuchCampaign(id))
        }
        (Err(LinkError::Extra { index, current }), _) => Err(LinkError::Extra {
            index: index - checks,
            current,
        }
        .into()),
        (saved, _) => Ok(saved?),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::campaigns::model::{Campaign, CampaignStatus, GoalType};
    use crate::domain::time::Timestamp;
    use crate::platform::queue::{Queue, embedded::EmbeddedQueue};
    use crate::platform::store::{Store, embedded::EmbeddedStore};

    fn spec(campaign: Option<&str>) -> ValidLinkSpec {
        let json = serde_json::json!({"destinationUrl": "https://shop.example.com/deal",
            "campaignId": campaign});
        serde_json::from_value::<crate::domain::LinkSpec>(json)
            .unwrap()
            .validate()
            .unwrap()
    }

    /// A caller's write whose condition fails: a check of an item nobody wrote.
    fn failing() -> WriteOp {
        WriteOp::Check {
            pk: keys::handle_pk(&Handle::parse("acme").unwrap()),
            sk: "NOTHING".into(),
            cond: Cond::Exists,
        }
    }

    /// The campaign's check goes first, yet a caller's failed write is told at its own index;
    /// a missing campaign is refused whatever the caller adds, and nothing is written.
    #[tokio::test]
    async fn a_missing_campaign_is_refused_and_a_callers_failed_write_keeps_its_index() {
        let store: Arc<dyn Store> = Arc::new(EmbeddedStore::in_memory());
        let queue: Arc<dyn Queue> = Arc::new(EmbeddedQueue::in_memory());
        let io = Io::new(&store, &queue);
        let cache = LinkCache::new(100);
        let handle = Handle::parse("acme").unwrap();
        let slug = Slug::parse("deal").unwrap();
        let attempt = |campaign: Option<&'static str>, extra: Vec<WriteOp>| {
            let (handle, slug, cache) = (&handle, &slug, &cache);
            async move {
                save(
                    io,
                    cache,
                    handle,
                    (slug, spec(campaign)),
                    Precondition::Absent,
                    extra,
                )
                .await
            }
        };
        let missing = attempt(Some("alpha"), vec![]).await;
        assert!(
            matches!(missing, Err(LinkSaveError::NoSuchCampaign(ref c)) if c.as_str() == "alpha")
        );
        let alpha = Campaign::new(
            CampaignId::parse("alpha").unwrap(),
            GoalType::Purchase,
            CampaignStatus::Active,
            Slug::parse("alpha-home").unwrap(),
            Timestamp::literal("2026-11-01T00:00:00Z"),
        );
        let put = crate::campaigns::create_op(&handle, &alpha).unwrap();
        store.transact(vec![put]).await.unwrap();
        let refused = attempt(Some("alpha"), vec![failing()]).await;
        assert!(matches!(
            refused,
            Err(LinkSaveError::Link(LinkError::Extra { index: 0, .. }))
        ));
        let bare = attempt(None, vec![failing()]).await;
        assert!(matches!(
            bare,
            Err(LinkSaveError::Link(LinkError::Extra { index: 0, .. }))
        ));
        assert!(
            crate::links::load(store.as_ref(), &handle, &slug)
                .await
                .unwrap()
                .is_none()
        );
        let saved = attempt(Some("alpha"), vec![]).await.unwrap();
        assert!(saved.created);
    }
}
