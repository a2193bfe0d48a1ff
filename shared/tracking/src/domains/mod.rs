//! Custom domains (issue 64): a handle claims a host (`go.brand.com`), proves it by a TXT record
//! at `_tenx.{domain}` holding the value it was given, and its short links are then served on
//! that host by `Host` (`http::redirect`), with the domain's own not-found and root URLs and its
//! app links' well-known files. A daily re-check ([`recheck`]) marks a domain whose record is
//! gone `failing` and mails the handle; its links keep serving for
//! [`GRACE_SECS`](crate::domain::custom_domain::GRACE_SECS).
//!
//! What it owns (`platform/store/keys.rs`): a handle's pending claim, in its own partition only
//! (`DOM#{domain}`, with its own TXT value, lapsing after [`PENDING_SECS`]), so several handles
//! may wait on one name and a claim nobody proves never blocks its real owner; the verified
//! domain (`DOMAINS` / domain: put-if-absent at verification, so of the handles that prove it
//! the first takes it) and its copy in the handle's partition, always written together in one
//! transaction with the audit entry.
//!
//! Round trips: `claim` ONE read and ONE transaction; `verify` ONE read, ONE DNS lookup, ONE
//! transaction; `get` ONE read; `list` ONE query; `remove` ONE read and ONE transaction; the
//! redirect's `site` ONE read per host per cache TTL.

pub mod claim;
pub mod edge;
pub mod recheck;
pub mod verify;

use std::sync::Arc;

use crate::domain::Handle;
use crate::domain::custom_domain::{CustomDomain, DomainName};
use crate::kernel::state::DomainCache;
use crate::platform::store::{Cond, Item, Query, Store, StoreError, WriteOp, keys, to_doc};

#[derive(Debug, thiserror::Error)]
pub enum CustomDomainError {
    #[error(transparent)]
    Invalid(#[from] crate::domain::DomainError),
    #[error("The domain {0} was not found.")]
    NotFound(DomainName),
    #[error("The domain {0} is already claimed by another handle.")]
    ClaimedElsewhere(DomainName),
    #[error("{0}")]
    NotVerified(String),
    #[error("The handle already has {0} domains, the most it may have.")]
    TooMany(usize),
    #[error("The domain {0} is being changed concurrently; retry.")]
    Busy(DomainName),
    #[error(transparent)]
    Dns(#[from] crate::platform::dns::DnsError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The most domains one handle may claim.
pub const MAX_PER_HANDLE: usize = 20;

/// How long a pending claim waits for its TXT record before it lapses (7 days).
pub const PENDING_SECS: i64 = 7 * 86_400;

/// When a pending claim made at `created` lapses.
pub fn pending_expires_at(
    created: &crate::domain::time::Timestamp,
) -> crate::domain::time::Timestamp {
    crate::domain::time::Timestamp::from_millis(created.millis() + PENDING_SECS * 1000)
}

/// The handle's own pending claim of `domain` (a live one: a lapsed claim is gone), with its
/// version. ONE read.
pub(crate) async fn read_pending(
    store: &dyn Store,
    handle: &Handle,
    domain: &DomainName,
) -> Result<Option<Versioned>, StoreError> {
    let (pk, sk) = keys::custom_domain(handle, domain.as_str());
    let Some(item) = store.get(&pk, &sk).await? else {
        return Ok(None);
    };
    let record: CustomDomain = item.parse()?;
    Ok(
        (record.status == crate::domain::custom_domain::DomainStatus::Pending).then_some(
            Versioned {
                record,
                version: item.version,
            },
        ),
    )
}

/// The put of a pending claim in the handle's partition (expiring with it) under `cond`, at
/// `version + 1`, and the audit entry of `action`.
pub(crate) fn pending_ops(
    record: &CustomDomain,
    cond: Cond,
    version: u64,
    action: &str,
) -> Result<Vec<WriteOp>, StoreError> {
    let (pk, sk) = keys::custom_domain(&record.handle, record.domain.as_str());
    let lapses = pending_expires_at(&record.created_at).millis() / 1000;
    Ok(vec![
        WriteOp::Put {
            item: Item::new(pk, sk, to_doc(record)?)
                .with_version(version + 1)
                .expiring_at(Some(lapses)),
            cond,
        },
        crate::kernel::audit::entry(&record.handle, action, record.domain.as_str())?,
    ])
}

/// A domain with its claim's version (the one compared on every change).
pub(crate) struct Versioned {
    pub record: CustomDomain,
    pub version: u64,
}

/// The claim's record, read by the domain alone (whatever handle holds it). ONE read.
pub(crate) async fn read_claim(
    store: &dyn Store,
    domain: &DomainName,
) -> Result<Option<Versioned>, StoreError> {
    let (pk, sk) = keys::custom_domain_claim(domain.as_str());
    let Some(item) = store.get(&pk, &sk).await? else {
        return Ok(None);
    };
    Ok(Some(Versioned {
        record: item.parse()?,
        version: item.version,
    }))
}

/// The two puts of `record` (claim at `version + 1` under `cond`, the handle's copy) and the
/// audit entry of `action`: the transaction every change commits.
pub(crate) fn write_ops(
    record: &CustomDomain,
    cond: Cond,
    version: u64,
    action: &str,
) -> Result<Vec<WriteOp>, StoreError> {
    let doc = to_doc(record)?;
    let (pk, sk) = keys::custom_domain_claim(record.domain.as_str());
    let (hpk, hsk) = keys::custom_domain(&record.handle, record.domain.as_str());
    Ok(vec![
        WriteOp::Put {
            item: Item::new(pk, sk, doc.clone()).with_version(version + 1),
            cond,
        },
        WriteOp::Put {
            item: Item::new(hpk, hsk, doc),
            cond: Cond::None,
        },
        crate::kernel::audit::entry(&record.handle, action, record.domain.as_str())?,
    ])
}

/// Commits [`write_ops`]; a lost race on the claim is [`CustomDomainError::Busy`].
pub(crate) async fn commit(
    store: &dyn Store,
    record: &CustomDomain,
    version: u64,
    action: &str,
) -> Result<(), CustomDomainError> {
    commit_with(store, record, version, action, None).await
}

/// [`commit`] with one more write in the same transaction (a teardown of the edge's old
/// resources).
pub(crate) async fn commit_with(
    store: &dyn Store,
    record: &CustomDomain,
    version: u64,
    action: &str,
    extra: Option<WriteOp>,
) -> Result<(), CustomDomainError> {
    let mut ops = write_ops(record, Cond::Version(version), version, action)?;
    ops.extend(extra);
    match store.transact(ops).await {
        Err(StoreError::TxConflict { index: 0, .. }) => {
            Err(CustomDomainError::Busy(record.domain.clone()))
        }
        other => Ok(other?),
    }
}

/// The handle's domain, or `NotFound` when it is absent or another handle's. ONE read.
#[tracing::instrument(skip_all, fields(handle = %handle, domain = %domain))]
pub async fn get(
    store: &dyn Store,
    handle: &Handle,
    domain: &DomainName,
) -> Result<CustomDomain, CustomDomainError> {
    let (pk, sk) = keys::custom_domain(handle, domain.as_str());
    match store.get(&pk, &sk).await? {
        Some(item) => Ok(item.parse()?),
        None => Err(CustomDomainError::NotFound(domain.clone())),
    }
}

/// The handle's domains, by name. ONE query (at most [`MAX_PER_HANDLE`] items).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn list(store: &dyn Store, handle: &Handle) -> Result<Vec<CustomDomain>, StoreError> {
    let pk = keys::handle_pk(handle);
    let page = store
        .query(Query::prefix(
            pk,
            keys::CUSTOM_DOMAIN_SK_PREFIX,
            MAX_PER_HANDLE + 1,
        ))
        .await?;
    Ok(page.parsed()?.0)
}

/// Gives the domain up: its claim, its copy, an audit entry and, on AWS, the teardown of its
/// certificate and distribution (`edge`, worked off by the sweeper) in ONE transaction (after
/// ONE read); another handle may claim it then.
#[tracing::instrument(skip_all, fields(handle = %handle, domain = %domain))]
pub async fn remove(
    store: &dyn Store,
    cache: &DomainCache,
    handle: &Handle,
    domain: &DomainName,
) -> Result<(), CustomDomainError> {
    let held = read_claim(store, domain)
        .await?
        .filter(|c| &c.record.handle == handle);
    let Some(current) = held else {
        // A pending claim lives in the handle's partition only.
        let pending = read_pending(store, handle, domain)
            .await?
            .ok_or_else(|| CustomDomainError::NotFound(domain.clone()))?;
        let (pk, sk) = keys::custom_domain(handle, domain.as_str());
        let ops = vec![
            WriteOp::Delete {
                pk,
                sk,
                cond: Cond::Version(pending.version),
            },
            crate::kernel::audit::entry(handle, "domain.removed", domain.as_str())?,
        ];
        return match store.transact(ops).await {
            Err(StoreError::TxConflict { index: 0, .. }) => {
                Err(CustomDomainError::Busy(domain.clone()))
            }
            other => Ok(other?),
        };
    };
    let (pk, sk) = keys::custom_domain_claim(domain.as_str());
    let (hpk, hsk) = keys::custom_domain(handle, domain.as_str());
    let ops = vec![
        WriteOp::Delete {
            pk,
            sk,
            cond: Cond::Version(current.version),
        },
        WriteOp::Delete {
            pk: hpk,
            sk: hsk,
            cond: Cond::None,
        },
        crate::kernel::audit::entry(handle, "domain.removed", domain.as_str())?,
    ];
    let mut ops = ops;
    if let Some(tls) = &current.record.tls {
        ops.extend(edge::teardown_op(&current.record, tls)?);
    }
    match store.transact(ops).await {
        Err(StoreError::TxConflict { index: 0, .. }) => {
            return Err(CustomDomainError::Busy(domain.clone()));
        }
        other => other?,
    }
    cache.invalidate(domain.as_str());
    Ok(())
}

/// The custom domain a request's host names, if any (any status: the caller asks
/// [`CustomDomain::serving`]). ONE read per host per cache TTL; a host that is no domain name
/// (an address, a single label) costs none.
pub async fn site(
    store: &dyn Store,
    cache: &DomainCache,
    host: &str,
) -> Result<Option<Arc<CustomDomain>>, StoreError> {
    let host = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    let Ok(domain) = DomainName::parse(host) else {
        return Ok(None);
    };
    if let Some(known) = cache.get(domain.as_str()) {
        return Ok(known);
    }
    let found = read_claim(store, &domain)
        .await?
        .map(|c| Arc::new(c.record));
    cache.insert(domain.as_str().to_owned(), found.clone());
    Ok(found)
}
