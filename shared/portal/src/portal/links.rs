//! A partner's own links (issue 61): a partner (its token or one of its people) makes a short
//! link to a destination its program allows (`allowedDestinations`, `domain::allowed_destinations`),
//! on its own campaign, so every click and sale on it is the partner's. Its slug is always
//! `{partner}-{slug}` and only ever created (put if absent), so a partner can neither take nor
//! overwrite the merchant's links; a quota per partner ([`MAX_OWN_LINKS`]) is a capped counter
//! committed with the link, so two requests at once cannot pass it.

use crate::campaigns::link_save::{self, LinkSaveError};
use crate::domain::{CampaignId, DomainError, Handle, LinkSpec, PartnerId, Slug};
use crate::kernel::io::Io;
use crate::kernel::state::LinkCache;
use crate::links::{LinkError, Precondition};
use crate::platform::store::{CounterCap, Store, StoreError, WriteOp, keys};

/// How many links a partner makes itself on one program.
pub const MAX_OWN_LINKS: i64 = 100;

/// Why a partner's link was refused.
#[derive(Debug, thiserror::Error)]
pub enum OwnLinkError {
    /// `400` naming the field.
    #[error(transparent)]
    Invalid(#[from] DomainError),
    /// `409 invalid_state`: the partner has no campaign to put the link on.
    #[error("You have no campaign in this program yet; the program adds you to one first.")]
    NoCampaign,
    /// `409 invalid_state`.
    #[error("You have made {MAX_OWN_LINKS} links already, as many as a partner may make itself.")]
    Quota,
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The slug a partner's link is stored under: its partner's prefix, then its own part (or a
/// random one). Underscores of a partner id become hyphens (slugs have none).
fn own_slug(partner: &PartnerId, asked: Option<&str>) -> Result<Slug, DomainError> {
    let prefix = partner.as_str().replace('_', "-");
    let rest = match asked {
        Some(s) => {
            Slug::parse(s)?;
            s.to_owned()
        }
        None => {
            let bytes: [u8; 4] = rand::random();
            hex::encode(bytes)
        }
    };
    Slug::parse(&format!("{prefix}-{rest}"))
        .map_err(|e| DomainError::new("slug", format!("with your prefix {prefix}-, {}", e.message)))
}

/// The partner's first campaign (by id): where its own links count.
async fn campaign_of(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
) -> Result<Option<CampaignId>, StoreError> {
    let all = crate::campaigns::list_all(store, handle).await?;
    Ok(all
        .into_iter()
        .filter(|c| c.partner_id.as_ref() == Some(partner))
        .map(|c| c.campaign_id)
        .min())
}

/// Creates the partner's link to `destination` (checked against `allowed`). Round trips: the
/// handle's campaigns, the slug's read, ONE transaction (the link, its event, its audit entry,
/// its campaign's check and the quota's counter), the event's enqueue.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn create(
    io: Io<'_>,
    cache: &LinkCache,
    handle: &Handle,
    partner: &PartnerId,
    allowed: &[String],
    slug: Option<&str>,
    destination: &str,
) -> Result<crate::domain::Link, OwnLinkError> {
    let destination = crate::domain::allowed_destinations::check(allowed, destination)?;
    let slug = own_slug(partner, slug)?;
    let campaign = campaign_of(io.store.as_ref(), handle, partner)
        .await?
        .ok_or(OwnLinkError::NoCampaign)?;
    let mut spec = LinkSpec {
        destination_url: destination,
        title: None,
        tracking: None,
        routing_rules: Vec::new(),
        campaign_id: None,
        forward_query: None,
        expires_at: None,
        expired_url: None,
        variants: None,
    }
    .validate()?;
    spec.campaign_id = Some(campaign);
    let (pk, sk) = keys::partner_link_quota(handle, partner);
    let quota = WriteOp::Add {
        pk,
        sk,
        deltas: vec![("links".into(), 1)],
        cap: Some(CounterCap {
            counter: "links".into(),
            max: MAX_OWN_LINKS,
        }),
        expires_at: None,
    };
    // Through the campaigns' save: a campaign deleted since it was read leaves no link.
    let saved = link_save::save(
        io,
        cache,
        handle,
        (&slug, spec),
        Precondition::Absent,
        vec![quota],
    );
    match saved.await {
        Ok(done) => Ok(done.link),
        Err(LinkSaveError::NoSuchCampaign(_)) => Err(OwnLinkError::NoCampaign),
        Err(LinkSaveError::Link(LinkError::Extra { .. })) => Err(OwnLinkError::Quota),
        Err(LinkSaveError::Link(e)) => Err(e.into()),
    }
}
