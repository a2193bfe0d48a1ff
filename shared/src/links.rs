//! The one write path for links (used by the links routes and by campaign creation), and the
//! cached read the redirect uses.

use std::sync::Arc;

use serde::Serialize;

use crate::config::Config;
use crate::domain::{Handle, Link, Slug, ValidLinkSpec};
use crate::error::ApiError;
use crate::events::{Event, EventType};
use crate::state::AppState;
use crate::store::{keys, Cond, Item, Store, StoreError, WriteOp};

/// A link as the API returns it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkView {
    #[serde(flatten)]
    pub link: Link,
    pub short_url: String,
}

impl LinkView {
    pub fn new(config: &Config, link: Link) -> Self {
        let short_url = config.short_url(link.handle.as_str(), link.slug.as_str());
        Self { link, short_url }
    }
}

/// Reads a link straight from the store (one read).
pub async fn load(
    store: &dyn Store,
    handle: &Handle,
    slug: &Slug,
) -> Result<Option<Link>, ApiError> {
    let item = store
        .get(
            &keys::handle_pk(handle.as_str()),
            &keys::link_sk(slug.as_str()),
        )
        .await?;
    Ok(item.map(|i| i.parse::<Link>()).transpose()?)
}

/// The redirect's read: served from the in-process cache when fresh, else one store read.
pub async fn load_cached(
    state: &AppState,
    handle: &Handle,
    slug: &Slug,
) -> Result<Option<Arc<Link>>, ApiError> {
    let key = (handle.as_str().to_owned(), slug.as_str().to_owned());
    if let Some(hit) = state.link_cache.get(&key) {
        return Ok(hit);
    }
    let link = load(state.store.as_ref(), handle, slug)
        .await?
        .map(Arc::new);
    state.link_cache.insert(key, link.clone());
    Ok(link)
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

pub fn precondition_failed(message: impl Into<String>) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
        message,
    )
}

fn slug_taken(slug: &Slug) -> ApiError {
    ApiError::conflict(format!("The slug {slug} is already taken by another link."))
}

/// The outcome of an upsert.
pub struct Upserted {
    pub link: Link,
    pub created: bool,
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
) -> Result<(Link, Vec<WriteOp>, Event), ApiError> {
    match (precondition, existing) {
        (Precondition::None, _) => {}
        (Precondition::Absent, None) => {}
        (Precondition::Absent, Some(_)) => return Err(slug_taken(slug)),
        (Precondition::Exists, Some(_)) => {}
        (Precondition::Version(v), Some(l)) if l.version == v => {}
        (Precondition::Version(_), Some(l)) => {
            return Err(precondition_failed(format!(
                "The link is at version {}; re-read it and retry with that if-match.",
                l.version
            )))
        }
        (_, None) => {
            return Err(precondition_failed(
                "The link does not exist, so if-match cannot hold.",
            ))
        }
    }
    let now = crate::time::now_rfc3339();
    let (version, created_at, cond) = match existing {
        Some(l) => (
            l.version + 1,
            l.created_at.clone(),
            Cond::Version(l.version),
        ),
        None => (1, now.clone(), Cond::Absent),
    };
    let link = Link::from_spec(handle.clone(), slug.clone(), spec, version, created_at, now);
    let doc = serde_json::to_value(&link).map_err(ApiError::internal)?;
    let item = Item::new(
        keys::handle_pk(handle.as_str()),
        keys::link_sk(slug.as_str()),
        doc,
    )
    .with_version(version);
    let kind = if existing.is_some() {
        EventType::LinkUpdated
    } else {
        EventType::LinkCreated
    };
    let mut event = Event::new(
        kind,
        handle.as_str(),
        serde_json::to_value(&link).unwrap_or_default(),
    );
    let outbox = crate::outbox::record(&mut event);
    Ok((link, vec![WriteOp::Put { item, cond }, outbox], event))
}

/// Creates or replaces a link; `extra` writes (e.g. a campaign) commit in the same transaction.
/// A concurrent writer that wins the race makes this retry on the fresh version, unless the
/// caller pinned a version with `if-match` (then it is a 412).
pub async fn upsert(
    state: &AppState,
    handle: &Handle,
    slug: &Slug,
    spec: ValidLinkSpec,
    precondition: Precondition,
    extra: Vec<WriteOp>,
) -> Result<Upserted, StoreOrApi> {
    for attempt in 0..16u64 {
        if attempt > 0 {
            // Jittered backoff so racing writers spread out instead of colliding again.
            let jitter = rand::random::<u64>() % (2 + attempt * 4);
            tokio::time::sleep(std::time::Duration::from_millis(jitter)).await;
        }
        let existing = load(state.store.as_ref(), handle, slug).await?;
        let (link, mut ops, event) =
            plan_upsert(handle, slug, spec.clone(), existing.as_ref(), precondition)?;
        let link_ops = ops.len();
        ops.extend(extra.iter().cloned());
        let committed = crate::outbox::commit_and_publish(
            state.store.clone(),
            state.queue.clone(),
            ops,
            std::slice::from_ref(&event),
        )
        .await;
        match committed {
            Ok(()) => {
                state
                    .link_cache
                    .invalidate(&(handle.as_str().to_owned(), slug.as_str().to_owned()));
                return Ok(Upserted {
                    link,
                    created: existing.is_none(),
                });
            }
            Err(StoreError::TxConflict { index: 0, .. })
                if precondition == Precondition::Absent =>
            {
                return Err(slug_taken(slug).into())
            }
            Err(StoreError::TxConflict { index: 0, .. }) if precondition == Precondition::None => {
                continue
            }
            Err(StoreError::TxConflict { index: 0, .. }) => {
                return Err(precondition_failed(
                    "The link changed concurrently; re-read it and retry.",
                )
                .into())
            }
            Err(StoreError::TxConflict { index, current }) if index >= link_ops => {
                return Err(StoreOrApi::Extra {
                    index: index - link_ops,
                    current,
                })
            }
            Err(e) => return Err(ApiError::from(e).into()),
        }
    }
    Err(ApiError::conflict("The link is being changed concurrently; retry.").into())
}

/// An upsert failure: an API error, or the failed condition of one of the caller's extra writes.
#[derive(Debug)]
pub enum StoreOrApi {
    Api(ApiError),
    Extra {
        index: usize,
        current: Option<Box<Item>>,
    },
}

impl From<ApiError> for StoreOrApi {
    fn from(e: ApiError) -> Self {
        StoreOrApi::Api(e)
    }
}

impl From<StoreError> for StoreOrApi {
    fn from(e: StoreError) -> Self {
        StoreOrApi::Api(e.into())
    }
}

impl From<StoreOrApi> for ApiError {
    fn from(e: StoreOrApi) -> Self {
        match e {
            StoreOrApi::Api(e) => e,
            StoreOrApi::Extra { index, .. } => {
                ApiError::internal(format!("extra write {index} failed"))
            }
        }
    }
}

/// Deletes a link; 404 when absent, 412 when `if-match` does not hold.
pub async fn delete(
    state: &AppState,
    handle: &Handle,
    slug: &Slug,
    precondition: Precondition,
) -> Result<(), ApiError> {
    let existing = load(state.store.as_ref(), handle, slug)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Link {slug}")))?;
    let cond = match precondition {
        Precondition::Version(v) if v != existing.version => {
            return Err(precondition_failed(format!(
                "The link is at version {}.",
                existing.version
            )))
        }
        _ => Cond::Version(existing.version),
    };
    let op = WriteOp::Delete {
        pk: keys::handle_pk(handle.as_str()),
        sk: keys::link_sk(slug.as_str()),
        cond,
    };
    match state.store.write(op).await {
        Ok(_) => {
            state
                .link_cache
                .invalidate(&(handle.as_str().to_owned(), slug.as_str().to_owned()));
            Ok(())
        }
        Err(StoreError::ConditionFailed { .. }) => Err(precondition_failed(
            "The link changed concurrently; re-read it and retry.",
        )),
        Err(e) => Err(e.into()),
    }
}
