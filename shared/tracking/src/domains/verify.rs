//! `POST …/domains/{domain}/verify`: asks DNS for the TXT record at `_tenx.{domain}` and, when
//! one holds the domain's value, marks it verified. The lookup is also the daily re-check's.

use std::net::SocketAddr;

use hmac::digest::CtOutput;
use sha2::{Digest, Sha256};

use super::{CustomDomainError, commit_with, read_claim, read_pending, write_ops};
use crate::domain::Handle;
use crate::domain::custom_domain::{CustomDomain, DomainName, DomainStatus, Tls};
use crate::domain::time::Timestamp;
use crate::kernel::state::DomainCache;
use crate::platform::store::{Cond, Store, StoreError};

/// What DNS says of a domain's record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// A TXT record at `_tenx.{domain}` itself holds the value.
    Found,
    /// None does: how many TXT values were there instead.
    Missing { other_values: usize },
}

/// Looks the record up (ONE DNS lookup). Values are compared in constant time.
pub async fn check(
    resolver: Option<SocketAddr>,
    record: &CustomDomain,
) -> Result<Check, crate::platform::dns::DnsError> {
    let values = crate::platform::dns::txt_at(resolver, &record.domain.verification_name()).await?;
    let want = CtOutput::<Sha256>::new(Sha256::digest(record.token.trim().as_bytes()));
    let found = values
        .iter()
        .any(|v| CtOutput::new(Sha256::digest(v.trim().as_bytes())) == want);
    Ok(match found {
        true => Check::Found,
        false => Check::Missing {
            other_values: values.len(),
        },
    })
}

/// Verifies the handle's domain: ONE read, ONE DNS lookup and, when found, ONE transaction
/// (the record, its audit entry and, for a new attempt at the edge, the teardown of the last
/// one's resources). Not found: `NotVerified` saying what DNS answered; the domain keeps its
/// status. With the TLS edge on (`edge`: AWS), a verified domain is `pending_dns` until the
/// sweeper has its certificate and distribution (`domains::edge`); a domain already on its way
/// keeps its stage, and one whose edge `failed` starts a new attempt.
#[tracing::instrument(skip_all, fields(handle = %handle, domain = %domain))]
pub async fn verify(
    store: &dyn Store,
    cache: &DomainCache,
    resolver: Option<SocketAddr>,
    edge: bool,
    handle: &Handle,
    domain: &DomainName,
) -> Result<CustomDomain, CustomDomainError> {
    let held = read_claim(store, domain).await?;
    if let Some(current) = held.as_ref().filter(|c| &c.record.handle == handle) {
        proven(resolver, &current.record).await?;
        let (record, teardown) = verified(&current.record, edge)?;
        commit_with(store, &record, current.version, "domain.verified", teardown).await?;
        cache.invalidate(domain.as_str());
        return Ok(record);
    }
    let pending = read_pending(store, handle, domain)
        .await?
        .ok_or_else(|| CustomDomainError::NotFound(domain.clone()))?;
    // Another handle proved it first.
    let stale = match held {
        Some(c) if c.record.status != DomainStatus::Pending => {
            return Err(CustomDomainError::ClaimedElsewhere(domain.clone()));
        }
        other => other,
    };
    proven(resolver, &pending.record).await?;
    let (record, _) = verified(&pending.record, edge)?;
    // The first to verify takes the name: put-if-absent (or over a pending record written
    // before pending claims moved to each handle's partition).
    let (cond, version) = match &stale {
        Some(c) => (Cond::Version(c.version), c.version),
        None => (Cond::Absent, 0),
    };
    match store
        .transact(write_ops(&record, cond, version, "domain.verified")?)
        .await
    {
        Ok(()) => {}
        Err(StoreError::TxConflict { index: 0, .. }) => {
            return Err(CustomDomainError::ClaimedElsewhere(domain.clone()));
        }
        Err(e) => return Err(e.into()),
    }
    cache.invalidate(domain.as_str());
    Ok(record)
}

/// The record's TXT value is published, or `NotVerified` saying what DNS answered.
async fn proven(
    resolver: Option<SocketAddr>,
    record: &CustomDomain,
) -> Result<(), CustomDomainError> {
    let name = record.domain.verification_name();
    match check(resolver, record).await? {
        Check::Found => Ok(()),
        Check::Missing { other_values: 0 } => Err(CustomDomainError::NotVerified(format!(
            "No TXT record was found at {name} yet. Publish the value you were given there; a \
             DNS change can take a while to reach everyone, so try again in a few minutes."
        ))),
        Check::Missing { other_values } => Err(CustomDomainError::NotVerified(format!(
            "The TXT record at {name} does not hold the value you were given ({other_values} \
             other value(s) found). Copy the value exactly and try again."
        ))),
    }
}

/// The record once verified now, and, for a new attempt at the edge, the teardown of the last
/// attempt's resources.
fn verified(
    current: &CustomDomain,
    edge: bool,
) -> Result<(CustomDomain, Option<crate::platform::store::WriteOp>), StoreError> {
    let now = Timestamp::from_millis(crate::platform::time::now_millis());
    let (tls, teardown) = match (edge, &current.tls) {
        (false, tls) => (tls.clone(), None),
        (true, Some(tls)) if tls.status() != DomainStatus::Failed => (Some(tls.clone()), None),
        (true, old) => {
            let teardown = match old {
                Some(old) => super::edge::teardown_op(current, old)?,
                None => None,
            };
            let attempt = old.as_ref().map_or(0, |t| t.attempt + 1);
            (
                Some(Tls {
                    attempt,
                    ..Tls::default()
                }),
                teardown,
            )
        }
    };
    let status = tls.as_ref().map_or(DomainStatus::Verified, Tls::status);
    let record = CustomDomain {
        status,
        tls,
        verified_at: Some(current.verified_at.clone().unwrap_or_else(|| now.clone())),
        last_checked_at: Some(now),
        failing_since: None,
        ..current.clone()
    };
    Ok((record, teardown))
}
