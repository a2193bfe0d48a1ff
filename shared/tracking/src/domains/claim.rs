//! `PUT …/domains/{domain}`: a handle claims a domain (a pending claim of its own, with its own
//! TXT value, beside any other handle's: the first to verify takes the name), or changes its
//! settings (its not-found and root URLs, its app links) when it already claimed or holds it.
//! A name another handle has verified is refused.

use rand::RngCore;
use serde::Deserialize;

use super::{
    CustomDomainError, MAX_PER_HANDLE, commit, list, pending_ops, read_claim, read_pending,
};
use crate::domain::custom_domain::{AppLinks, CustomDomain, DomainName, DomainStatus};
use crate::domain::time::Timestamp;
use crate::domain::{DomainError, Handle, validate_destination};
use crate::kernel::state::DomainCache;
use crate::platform::store::{Cond, Store, StoreError};

/// The body of the PUT (every field optional).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DomainInput {
    #[serde(default)]
    pub not_found_url: Option<String>,
    #[serde(default)]
    pub root_url: Option<String>,
    #[serde(default)]
    pub app_links: Option<AppLinks>,
}

impl DomainInput {
    /// `record` with these settings.
    fn applied_to(self, record: CustomDomain) -> CustomDomain {
        CustomDomain {
            not_found_url: self.not_found_url,
            root_url: self.root_url,
            app_links: self.app_links,
            ..record
        }
    }

    /// Each URL checked as a link's destination is, the app links field by field.
    pub fn validate(&self) -> Result<(), DomainError> {
        if let Some(url) = &self.not_found_url {
            validate_destination("notFoundUrl", url)?;
        }
        if let Some(url) = &self.root_url {
            validate_destination("rootUrl", url)?;
        }
        if let Some(links) = &self.app_links {
            links.validate()?;
        }
        Ok(())
    }
}

/// What a claim did.
pub struct Claimed {
    pub record: CustomDomain,
    /// `true`: claimed now (201); `false`: the handle's domain, its settings changed (200).
    pub created: bool,
}

/// A new verification value: 128 random bits, so no one can publish it before being told it.
fn new_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("tenx-verification={}", hex::encode(bytes))
}

/// Claims `domain` for `handle`, or updates its settings. Refuses the service's own redirect
/// domain (and any host under it), a domain another handle has verified, and a claim over
/// [`MAX_PER_HANDLE`]. Round trips: TWO reads (+ ONE query for a new claim) and ONE transaction.
#[tracing::instrument(skip_all, fields(handle = %handle, domain = %domain))]
pub async fn claim(
    store: &dyn Store,
    cache: &DomainCache,
    redirect_host: &str,
    handle: &Handle,
    domain: &DomainName,
    input: DomainInput,
) -> Result<Claimed, CustomDomainError> {
    input.validate()?;
    let own = redirect_host.split(':').next().unwrap_or(redirect_host);
    let name = domain.as_str();
    if name == own || name.ends_with(&format!(".{own}")) {
        return Err(DomainError::new(
            "domain",
            "is the service's own short-link domain: links there need no custom domain",
        )
        .into());
    }
    if let Some(current) = read_claim(store, domain).await? {
        if &current.record.handle == handle {
            let record = input.applied_to(current.record);
            commit(store, &record, current.version, "domain.updated").await?;
            cache.invalidate(name);
            return Ok(Claimed {
                record,
                created: false,
            });
        }
        if current.record.status != DomainStatus::Pending {
            return Err(CustomDomainError::ClaimedElsewhere(domain.clone()));
        }
    }
    // Pending: the handle's own claim, beside any other handle's.
    let (record, cond, version, action) = match read_pending(store, handle, domain).await? {
        Some(pending) => (
            input.applied_to(pending.record),
            Cond::Version(pending.version),
            pending.version,
            "domain.updated",
        ),
        None => {
            if list(store, handle).await?.len() >= MAX_PER_HANDLE {
                return Err(CustomDomainError::TooMany(MAX_PER_HANDLE));
            }
            (
                input.applied_to(new_claim(handle, domain)),
                Cond::Absent,
                0,
                "domain.claimed",
            )
        }
    };
    match store
        .transact(pending_ops(&record, cond, version, action)?)
        .await
    {
        Ok(()) => Ok(Claimed {
            created: version == 0,
            record,
        }),
        // The same handle's other request wrote its claim first.
        Err(StoreError::TxConflict { index: 0, .. }) => {
            Err(CustomDomainError::Busy(domain.clone()))
        }
        Err(e) => Err(e.into()),
    }
}

/// A new pending claim of `domain` by `handle`, with a TXT value of its own.
fn new_claim(handle: &Handle, domain: &DomainName) -> CustomDomain {
    CustomDomain {
        domain: domain.clone(),
        handle: handle.clone(),
        status: DomainStatus::Pending,
        token: new_token(),
        not_found_url: None,
        root_url: None,
        app_links: None,
        created_at: Timestamp::from_millis(crate::platform::time::now_millis()),
        verified_at: None,
        last_checked_at: None,
        failing_since: None,
        tls: None,
    }
}
