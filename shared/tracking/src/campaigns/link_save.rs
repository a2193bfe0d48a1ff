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
/// exist in the same transaction.
#[instrument(skip_all, fields(handle = %handle, slug = %slug))]
pub async fn save(
    io: Io<'_>,
    cache: &LinkCache,
    handle: &Handle,
    slug: &Slug,
    spec: ValidLinkSpec,
    precondition: Precondition,
) -> Result<Upserted, LinkSaveError> {
    let campaign = spec.campaign_id.clone();
    let extra = match &campaign {
        Some(id) => vec![WriteOp::Check {
            pk: keys::handle_pk(handle),
            sk: keys::campaign_sk(id),
            cond: Cond::Exists,
        }],
        None => Vec::new(),
    };
    let saved = crate::links::upsert(io, cache, handle, slug, spec, precondition, extra).await;
    match (saved, campaign) {
        (Err(LinkError::Extra { index: 0, .. }), Some(id)) => {
            Err(LinkSaveError::NoSuchCampaign(id))
        }
        (saved, _) => Ok(saved?),
    }
}
