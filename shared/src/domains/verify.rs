//! `POST …/domains/{domain}/verify`: asks DNS for the TXT record at `_tenx.{domain}` and, when
//! one holds the domain's value, marks it verified. The lookup is also the daily re-check's.

use std::net::SocketAddr;

use hmac::digest::CtOutput;
use sha2::{Digest, Sha256};

use super::{CustomDomainError, commit, read_claim};
use crate::domain::Handle;
use crate::domain::custom_domain::{CustomDomain, DomainName, DomainStatus};
use crate::domain::time::Timestamp;
use crate::kernel::state::DomainCache;
use crate::platform::store::Store;

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
/// (the record and its audit entry). Not found: `NotVerified` saying what DNS answered; the
/// domain keeps its status.
#[tracing::instrument(skip_all, fields(handle = %handle, domain = %domain))]
pub async fn verify(
    store: &dyn Store,
    cache: &DomainCache,
    resolver: Option<SocketAddr>,
    handle: &Handle,
    domain: &DomainName,
) -> Result<CustomDomain, CustomDomainError> {
    let current = read_claim(store, domain)
        .await?
        .filter(|c| &c.record.handle == handle)
        .ok_or_else(|| CustomDomainError::NotFound(domain.clone()))?;
    let name = domain.verification_name();
    match check(resolver, &current.record).await? {
        Check::Found => {}
        Check::Missing { other_values: 0 } => {
            return Err(CustomDomainError::NotVerified(format!(
                "No TXT record was found at {name} yet. Publish the value you were given there; \
                 a DNS change can take a while to reach everyone, so try again in a few minutes."
            )));
        }
        Check::Missing { other_values } => {
            return Err(CustomDomainError::NotVerified(format!(
                "The TXT record at {name} does not hold the value you were given \
                 ({other_values} other value(s) found). Copy the value exactly and try again."
            )));
        }
    }
    let now = Timestamp::from_millis(crate::platform::time::now_millis());
    let record = CustomDomain {
        status: DomainStatus::Verified,
        verified_at: Some(
            current
                .record
                .verified_at
                .clone()
                .unwrap_or_else(|| now.clone()),
        ),
        last_checked_at: Some(now),
        failing_since: None,
        ..current.record
    };
    commit(store, &record, current.version, "domain.verified").await?;
    cache.invalidate(domain.as_str());
    Ok(record)
}
