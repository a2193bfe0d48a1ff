//! Campaigns: one per partner, each created together with its primary link through the one link
//! write path (`crate::links::upsert`), so the link and the campaign commit in one transaction and
//! every click on the link attributes to the campaign.

pub mod link_save;
pub mod model;

pub use model::{Campaign, CampaignStatus, GoalType};

use crate::domain::{CampaignId, Handle, Link, PartnerId, Slug, ValidLinkSpec};
use crate::kernel::io::Io;
use crate::kernel::state::LinkCache;
use crate::links::{self, LinkError, Precondition};
use crate::platform::store::{Cond, Item, Query, Store, StoreError, WriteOp, keys};

/// A validated create request.
pub struct NewCampaign {
    pub campaign_id: CampaignId,
    pub goal_type: GoalType,
    pub status: CampaignStatus,
    pub primary_slug: Slug,
    /// The primary link; its `campaign_id` is set here to the new campaign.
    pub primary_link: ValidLinkSpec,
    pub partner_id: Option<PartnerId>,
}

/// What a `PATCH` changes (`None`: unchanged).
#[derive(Clone, Debug, Default)]
pub struct CampaignPatch {
    pub status: Option<CampaignStatus>,
    pub partner_id: Option<PartnerId>,
}

/// Why a campaign write was refused.
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error("Campaign {0} already exists.")]
    AlreadyExists(CampaignId),
    #[error("Campaign {0} was not found.")]
    NotFound(CampaignId),
    /// `if-match` does not hold (`412`).
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("The campaign is being changed concurrently; retry.")]
    Busy,
    /// The `partnerId` names no partner of the handle (`422`).
    #[error("partnerId: partner {0} does not exist; create it first.")]
    UnknownPartner(PartnerId),
    /// The primary link could not be written.
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn item_of(handle: &Handle, campaign: &Campaign) -> Result<Item, StoreError> {
    let doc = crate::platform::store::to_doc(campaign)?;
    Ok(Item::new(
        keys::handle_pk(handle),
        keys::campaign_sk(&campaign.campaign_id),
        doc,
    )
    .with_version(campaign.version))
}

/// The put-if-absent of a new campaign, for a caller that commits it with the campaign's
/// primary link through [`links::upsert`]'s extra writes (a program approval).
pub fn create_op(handle: &Handle, campaign: &Campaign) -> Result<WriteOp, StoreError> {
    Ok(WriteOp::Put {
        item: item_of(handle, campaign)?,
        cond: Cond::Absent,
    })
}

/// Creates the campaign and its primary link in one transaction. An existing campaign id, or a
/// primary slug already used by another link, is `409 conflict` (nothing is written).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn create(
    io: Io<'_>,
    links: &LinkCache,
    handle: &Handle,
    new: NewCampaign,
) -> Result<(Campaign, Link), CampaignError> {
    // A read first gives the precise message; the transaction's conditions make it race-free.
    if get(io.store.as_ref(), handle, &new.campaign_id)
        .await?
        .is_some()
    {
        return Err(CampaignError::AlreadyExists(new.campaign_id));
    }
    if let Some(p) = &new.partner_id {
        check_partner(io.store.as_ref(), handle, p).await?;
    }
    let mut campaign = Campaign::new(
        new.campaign_id.clone(),
        new.goal_type,
        new.status,
        new.primary_slug.clone(),
        crate::platform::time::timestamp(),
    );
    campaign.partner_id = new.partner_id;
    let put = WriteOp::Put {
        item: item_of(handle, &campaign)?,
        cond: Cond::Absent,
    };
    let mut spec = new.primary_link;
    spec.campaign_id = Some(new.campaign_id.clone());
    match links::upsert(
        io,
        links,
        handle,
        &new.primary_slug,
        spec,
        Precondition::Absent,
        vec![
            put,
            crate::kernel::audit::entry(handle, "campaign.created", new.campaign_id.as_str())?,
        ],
    )
    .await
    {
        Ok(upserted) => Ok((campaign, upserted.link)),
        Err(LinkError::Extra { index: 0, .. }) => {
            Err(CampaignError::AlreadyExists(new.campaign_id))
        }
        Err(e) => Err(e.into()),
    }
}

#[tracing::instrument(skip_all, fields(handle = %handle, campaign = %id))]
pub async fn get(
    store: &dyn Store,
    handle: &Handle,
    id: &CampaignId,
) -> Result<Option<Campaign>, StoreError> {
    let item = store
        .get(&keys::handle_pk(handle), &keys::campaign_sk(id))
        .await?;
    item.map(|i| i.parse::<Campaign>()).transpose()
}

/// One page of a handle's campaigns, in id order; `next` is the sort key to resume after.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn list(
    store: &dyn Store,
    handle: &Handle,
    limit: usize,
    after: Option<String>,
) -> Result<(Vec<Campaign>, Option<String>), StoreError> {
    let mut q = Query::prefix(keys::handle_pk(handle), keys::CAMPAIGN_SK_PREFIX, limit);
    q.after = after;
    store.query(q).await?.parsed()
}

/// Every campaign of a handle (analytics reports on all of them).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn list_all(store: &dyn Store, handle: &Handle) -> Result<Vec<Campaign>, StoreError> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let (page, next) = list(store, handle, 1000, after).await?;
        all.extend(page);
        match next {
            Some(n) => after = Some(n),
            None => return Ok(all),
        }
    }
}

async fn check_partner(
    store: &dyn Store,
    handle: &Handle,
    id: &PartnerId,
) -> Result<(), CampaignError> {
    match crate::partners::get(store, handle, id).await? {
        Some(_) => Ok(()),
        None => Err(CampaignError::UnknownPartner(id.clone())),
    }
}

/// Changes a campaign's status and partner with a version-checked write. `expected` pins a
/// version (`if-match`): a mismatch is `412`. Without it a concurrent change is retried on the
/// fresh version (each field is set whole, so the last writer wins cleanly).
#[tracing::instrument(skip_all, fields(handle = %handle, campaign = %id))]
pub async fn update(
    store: &dyn Store,
    handle: &Handle,
    id: &CampaignId,
    patch: CampaignPatch,
    expected: Option<u64>,
) -> Result<Campaign, CampaignError> {
    if let Some(p) = &patch.partner_id {
        check_partner(store, handle, p).await?;
    }
    for _ in 0..8 {
        let current = get(store, handle, id)
            .await?
            .ok_or_else(|| CampaignError::NotFound(id.clone()))?;
        if let Some(v) = expected
            && v != current.version
        {
            return Err(CampaignError::PreconditionFailed(format!(
                "The campaign is at version {}; re-read it and retry with that if-match.",
                current.version
            )));
        }
        let mut next = current.clone();
        next.status = patch.status.unwrap_or(current.status);
        if let Some(p) = &patch.partner_id {
            next.partner_id = Some(p.clone());
        }
        next.version = current.version + 1;
        next.updated_at = crate::platform::time::timestamp();
        let op = WriteOp::Put {
            item: item_of(handle, &next)?,
            cond: Cond::Version(current.version),
        };
        let audited =
            crate::kernel::audit::write(store, op, handle, "campaign.updated", id.as_str());
        match audited.await {
            Ok(()) => return Ok(next),
            Err(StoreError::ConditionFailed { .. }) if expected.is_none() => continue,
            Err(StoreError::ConditionFailed { .. }) => {
                return Err(CampaignError::PreconditionFailed(
                    "The campaign changed concurrently; re-read it and retry.".into(),
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(CampaignError::Busy)
}
