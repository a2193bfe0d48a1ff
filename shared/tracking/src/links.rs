//! The one write path for links (used by the links routes and by campaign creation), and the
//! cached read the redirect uses.

use std::sync::Arc;

use serde::Serialize;

use crate::domain::{Handle, Link, Slug, ValidLinkSpec};
use crate::kernel::events::{Event, EventPayload, EventType};
use crate::kernel::io::Io;
use crate::kernel::state::LinkCache;
use crate::platform::config::Config;
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys};

/// `link.created` and `link.updated`: each carries the link as stored (serialized as the link
/// alone: `untagged`).
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum LinkEvent {
    Created(Link),
    Updated(Link),
}

impl EventPayload for LinkEvent {
    const TYPES: &'static [EventType] = &[EventType::LinkCreated, EventType::LinkUpdated];
    fn event_type(&self) -> EventType {
        match self {
            LinkEvent::Created(_) => EventType::LinkCreated,
            LinkEvent::Updated(_) => EventType::LinkUpdated,
        }
    }
}

/// A link as the API returns it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkView {
    #[serde(flatten)]
    pub link: Link,
    pub short_url: String,
    /// Said once, by the write that started a new A/B test period or ended a test.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variants_notice: Option<String>,
}

impl LinkView {
    pub fn new(config: &Config, link: Link) -> Self {
        let short_url = config.short_url(link.handle.as_str(), link.slug.as_str());
        Self {
            link,
            short_url,
            variants_notice: None,
        }
    }

    /// The answer to a write: with a notice when it restarted or ended the link's A/B test.
    pub fn written(config: &Config, upserted: Upserted) -> Self {
        let notice = upserted.variants_restarted.then(|| {
            match &upserted.link.variant_period {
                Some(p) => format!(
                    "The variants or their weights changed, so the test starts again: its numbers \
                     count from {} on. Earlier clicks and sales stay in analytics (groupBy=variant).",
                    p.variants_since
                ),
                None => "The test ended: this link now sends everyone no rule takes to \
                         destinationUrl. Its numbers stay in analytics (groupBy=variant)."
                    .to_owned(),
            }
        });
        Self {
            variants_notice: notice,
            ..Self::new(config, upserted.link)
        }
    }
}

/// Reads a link straight from the store (one read).
#[tracing::instrument(skip_all, fields(handle = %handle, slug = %slug))]
pub async fn load(
    store: &dyn Store,
    handle: &Handle,
    slug: &Slug,
) -> Result<Option<Link>, StoreError> {
    let item = store
        .get(&keys::handle_pk(handle), &keys::link_sk(slug))
        .await?;
    item.map(|i| i.parse::<Link>()).transpose()
}

/// The redirect's read: served from the in-process cache when fresh, else one store read.
pub async fn load_cached(
    store: &dyn Store,
    cache: &LinkCache,
    handle: &Handle,
    slug: &Slug,
) -> Result<Option<Arc<Link>>, StoreError> {
    let key = (handle.as_str().to_owned(), slug.as_str().to_owned());
    if let Some(hit) = cache.get(&key) {
        return Ok(hit);
    }
    let link = load_within_budget(store, handle, slug).await?.map(Arc::new);
    cache.insert(key, link.clone());
    Ok(link)
}

/// The redirect's whole time for its link read (issue 28: right after a restart, with nothing
/// cached, a throttled read used to answer 503 at once though a retry would have redirected).
pub const LOOKUP_BUDGET: std::time::Duration = std::time::Duration::from_millis(400);

/// [`load`], retried while the store answers unavailable (throttled) within [`LOOKUP_BUDGET`]:
/// 20, 60, 180 ms apart. Up to 4 reads, usually one. A read in flight is never cut short: a
/// slow answer is still an answer (the SDK bounds each attempt), only the retries are budgeted.
async fn load_within_budget(
    store: &dyn Store,
    handle: &Handle,
    slug: &Slug,
) -> Result<Option<Link>, StoreError> {
    let deadline = tokio::time::Instant::now() + LOOKUP_BUDGET;
    let mut delay = std::time::Duration::from_millis(20);
    loop {
        match load(store, handle, slug).await {
            Err(StoreError::Unavailable(e)) if tokio::time::Instant::now() + delay >= deadline => {
                return Err(StoreError::Unavailable(e));
            }
            Err(StoreError::Unavailable(_)) => {}
            done => return done,
        }
        tokio::time::sleep(delay).await;
        delay *= 3;
    }
}

/// The precondition a write must meet (`if-match`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precondition {
    None,
    /// Create only: the slug must be free (a taken slug is `409 conflict`, never overwritten).
    Absent,
    /// The link exists (`if-match: *`).
    Exists,
    Version(u64),
}

/// Why a link write was refused.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("Link {0} was not found.")]
    NotFound(Slug),
    #[error("The slug {0} is already taken by another link.")]
    SlugTaken(Slug),
    /// `if-match` does not hold (`412`); the message says what to do.
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("The link is being changed concurrently; retry.")]
    Busy,
    /// The condition of one of the caller's extra writes (`index` among them) failed.
    #[error("extra write {index} failed")]
    Extra {
        index: usize,
        current: Option<Box<Item>>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn concurrently_changed() -> LinkError {
    LinkError::PreconditionFailed("The link changed concurrently; re-read it and retry.".into())
}

/// The outcome of an upsert.
pub struct Upserted {
    pub link: Link,
    pub created: bool,
    /// The link had an A/B test whose variants or weights this write changed (or removed): its
    /// numbers start again ([`variant_period`]).
    pub variants_restarted: bool,
}

/// When a link's variants took effect: kept while the variants and weights stay exactly as
/// they were, else `now` (a test judged on a mix of two splits would mislead); `None` without
/// variants.
fn variant_period(
    existing: Option<&Link>,
    variants: &[crate::domain::Variant],
    now: crate::domain::time::Timestamp,
) -> Option<crate::domain::VariantPeriod> {
    if variants.is_empty() {
        return None;
    }
    match existing {
        Some(old) if old.variants == variants && old.variant_period.is_some() => {
            old.variant_period.clone()
        }
        _ => Some(crate::domain::VariantPeriod::starting(now)),
    }
}

/// Plans the writes that create or replace a link given the currently stored one: the link
/// itself (conditioned on the version read, so concurrent writers cannot both win) and the
/// outbox entry of its `link.created` / `link.updated` event.
pub fn plan_upsert(
    handle: &Handle,
    slug: &Slug,
    spec: ValidLinkSpec,
    existing: Option<&Link>,
    precondition: Precondition,
) -> Result<(Link, Vec<WriteOp>, Event), LinkError> {
    match (precondition, existing) {
        (Precondition::None, _) => {}
        (Precondition::Absent, None) => {}
        (Precondition::Absent, Some(_)) => return Err(LinkError::SlugTaken(slug.clone())),
        (Precondition::Exists, Some(_)) => {}
        (Precondition::Version(v), Some(l)) if l.version == v => {}
        (Precondition::Version(_), Some(l)) => {
            return Err(LinkError::PreconditionFailed(format!(
                "The link is at version {}; re-read it and retry with that if-match.",
                l.version
            )));
        }
        (_, None) => {
            return Err(LinkError::PreconditionFailed(
                "The link does not exist, so if-match cannot hold.".into(),
            ));
        }
    }
    let now = crate::platform::time::timestamp();
    let (version, created_at, cond) = match existing {
        Some(l) => (
            l.version + 1,
            l.created_at.clone(),
            Cond::Version(l.version),
        ),
        None => (1, now.clone(), Cond::Absent),
    };
    let mut link = Link::from_spec(
        handle.clone(),
        slug.clone(),
        spec,
        version,
        created_at,
        now.clone(),
    );
    link.variant_period = variant_period(existing, &link.variants, now);
    let doc = crate::platform::store::to_doc(&link)?;
    let item =
        Item::new(keys::handle_pk(handle), keys::link_sk(slug), doc.clone()).with_version(version);
    let payload = if existing.is_some() {
        LinkEvent::Updated(link.clone())
    } else {
        LinkEvent::Created(link.clone())
    };
    let mut event = Event::new(handle, &payload);
    let outbox = crate::kernel::outbox::record(&mut event);
    Ok((link, vec![WriteOp::Put { item, cond }, outbox], event))
}

/// Creates or replaces a link; `extra` writes (e.g. a campaign) commit in the same transaction.
/// A concurrent writer that wins the race makes this retry on the fresh version, unless the
/// caller pinned a version with `if-match` (then it is a 412).
#[tracing::instrument(skip_all, fields(handle = %handle, slug = %slug))]
pub async fn upsert(
    io: Io<'_>,
    cache: &LinkCache,
    handle: &Handle,
    slug: &Slug,
    spec: ValidLinkSpec,
    precondition: Precondition,
    extra: Vec<WriteOp>,
) -> Result<Upserted, LinkError> {
    for attempt in 0..16u64 {
        if attempt > 0 {
            // Full-jitter exponential backoff (10 ms doubling, capped at 320 ms) so racing
            // writers spread out instead of colliding again, on a slow store too.
            let jitter = rand::random::<u64>() % (10 << attempt.min(5));
            tokio::time::sleep(std::time::Duration::from_millis(jitter)).await;
        }
        let existing = load(io.store.as_ref(), handle, slug).await?;
        let (link, mut ops, event) =
            plan_upsert(handle, slug, spec.clone(), existing.as_ref(), precondition)?;
        // The audit entry (issue 60) commits with the link; never a conflict (a fresh key).
        let action = if existing.is_some() {
            "link.updated"
        } else {
            "link.created"
        };
        ops.push(crate::kernel::audit::entry(handle, action, slug.as_str())?);
        let link_ops = ops.len();
        ops.extend(extra.iter().cloned());
        let committed = crate::kernel::outbox::commit_and_publish(
            io.store.clone(),
            io.queue.clone(),
            ops,
            std::slice::from_ref(&event),
        )
        .await;
        match committed {
            Ok(()) => {
                cache.invalidate(&(handle.as_str().to_owned(), slug.as_str().to_owned()));
                let variants_restarted = existing.as_ref().is_some_and(|old| {
                    old.variant_period.is_some() && old.variant_period != link.variant_period
                });
                return Ok(Upserted {
                    link,
                    created: existing.is_none(),
                    variants_restarted,
                });
            }
            Err(StoreError::TxConflict { index: 0, .. })
                if precondition == Precondition::Absent =>
            {
                return Err(LinkError::SlugTaken(slug.clone()));
            }
            Err(StoreError::TxConflict { index: 0, .. }) if precondition == Precondition::None => {
                continue;
            }
            Err(StoreError::TxConflict { index: 0, .. }) => return Err(concurrently_changed()),
            Err(StoreError::TxConflict { index, current }) if index >= link_ops => {
                return Err(LinkError::Extra {
                    index: index - link_ops,
                    current,
                });
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(LinkError::Busy)
}

/// Deletes a link; 404 when absent, 412 when `if-match` does not hold.
#[tracing::instrument(skip_all, fields(handle = %handle, slug = %slug))]
pub async fn delete(
    store: &dyn Store,
    cache: &LinkCache,
    handle: &Handle,
    slug: &Slug,
    precondition: Precondition,
) -> Result<(), LinkError> {
    let existing = load(store, handle, slug)
        .await?
        .ok_or_else(|| LinkError::NotFound(slug.clone()))?;
    let cond = match precondition {
        Precondition::Version(v) if v != existing.version => {
            return Err(LinkError::PreconditionFailed(format!(
                "The link is at version {}.",
                existing.version
            )));
        }
        _ => Cond::Version(existing.version),
    };
    let op = WriteOp::Delete {
        pk: keys::handle_pk(handle),
        sk: keys::link_sk(slug),
        cond,
    };
    match crate::kernel::audit::write(store, op, handle, "link.deleted", slug.as_str()).await {
        Ok(()) => {
            cache.invalidate(&(handle.as_str().to_owned(), slug.as_str().to_owned()));
            Ok(())
        }
        Err(StoreError::ConditionFailed { .. }) => Err(concurrently_changed()),
        Err(e) => Err(e.into()),
    }
}

/// Where a handle's links are listed from (in slug order).
pub fn listing(handle: &Handle) -> crate::platform::store::Listing {
    crate::platform::store::Listing {
        pk: keys::handle_pk(handle),
        prefix: keys::LINK_SK_PREFIX,
        descending: false,
    }
}

/// The links of `campaigns` (a partner's), in slug order, at most `max`. Round trips: ONE query
/// per 1,000 links of the handle, up to ten.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn of_campaigns(
    store: &dyn Store,
    handle: &Handle,
    campaigns: &std::collections::BTreeSet<crate::domain::CampaignId>,
    max: usize,
) -> Result<Vec<Link>, StoreError> {
    let mut found = Vec::new();
    if campaigns.is_empty() {
        return Ok(found);
    }
    let mut q =
        crate::platform::store::Query::prefix(keys::handle_pk(handle), keys::LINK_SK_PREFIX, 1_000);
    for _ in 0..10 {
        let page = store.query(q.clone()).await?;
        for item in &page.items {
            let link: Link = item.parse()?;
            if link
                .campaign_id
                .as_ref()
                .is_some_and(|c| campaigns.contains(c))
            {
                found.push(link);
            }
        }
        match page.next {
            Some(next) if found.len() < max => q.after = Some(next),
            _ => break,
        }
    }
    found.truncate(max);
    Ok(found)
}

/// The put that makes `alias` (an imported slug the native rule refuses, issue 64) serve the
/// link at `slug`: written in the link's own transaction (`upsert`'s `extra`). Unconditional: an
/// alias always names the slug derived from it (`ImportedSlug::native`), so a re-import rewrites
/// the same value.
pub fn alias_op(
    handle: &Handle,
    alias: &crate::domain::imported_slug::ImportedSlug,
) -> Result<WriteOp, StoreError> {
    let (pk, sk) = keys::link_alias(handle, alias.as_str());
    let doc = crate::platform::store::to_doc(&serde_json::json!({ "slug": alias.native() }))?;
    Ok(WriteOp::Put {
        item: Item::new(pk, sk, doc),
        cond: Cond::None,
    })
}

/// The native slug an imported alias serves (exact, case-sensitive), if `raw` is one. ONE read;
/// the redirect asks only for paths that are not native slugs.
pub async fn resolve_alias(
    store: &dyn Store,
    handle: &Handle,
    raw: &str,
) -> Result<Option<Slug>, StoreError> {
    if crate::domain::imported_slug::ImportedSlug::parse(raw).is_err() {
        return Ok(None);
    }
    let (pk, sk) = keys::link_alias(handle, raw);
    let Some(item) = store.get(&pk, &sk).await? else {
        return Ok(None);
    };
    #[derive(serde::Deserialize)]
    struct Alias {
        slug: Slug,
    }
    Ok(Some(item.parse::<Alias>()?.slug))
}

/// One page of a handle's links, in slug order; `next` is the sort key to resume after (the
/// console's search, issue 62). Round trips: ONE query.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn page(
    store: &dyn Store,
    handle: &Handle,
    limit: usize,
    after: Option<String>,
) -> Result<(Vec<Link>, Option<String>), StoreError> {
    let mut q =
        crate::platform::store::Query::prefix(keys::handle_pk(handle), keys::LINK_SK_PREFIX, limit);
    q.after = after;
    store.query(q).await?.parsed()
}
