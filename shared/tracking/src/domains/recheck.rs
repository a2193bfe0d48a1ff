//! The daily re-check of verified domains (run by the scheduled sweeper): a domain whose TXT
//! record is gone becomes `failing` (its links still served for the grace period) and the
//! handle is mailed once per failure, in the same transaction; a record that is back makes it
//! `verified` again. A DNS outage changes nothing (the next sweep tries again).

use std::net::SocketAddr;
use std::ops::ControlFlow;

use super::verify::{Check, check};
use crate::domain::custom_domain::{CustomDomain, DomainStatus, GRACE_SECS};
use crate::domain::email::Email;
use crate::domain::time::Timestamp;
use crate::kernel::io::Io;
use crate::mail::{MailKind, Outgoing};
use crate::platform::store::{Cond, Query, StoreError, for_each_item, keys};

/// Re-checks every domain whose last check is a day old. Round trips: ONE query per 1,000
/// domains, then per domain due ONE DNS lookup and ONE transaction (+ the branding's read and
/// the mail's send when it starts failing). Returns how many were checked.
#[tracing::instrument(skip_all)]
pub async fn sweep(
    io: Io<'_>,
    resolver: Option<SocketAddr>,
    public_base: &str,
    now_ms: i64,
) -> Result<usize, StoreError> {
    let mut due: Vec<(CustomDomain, u64)> = Vec::new();
    for_each_item(
        io.store.as_ref(),
        Query::all(keys::CUSTOM_DOMAINS_PK),
        |item| {
            let record: CustomDomain = item.parse()?;
            if record.recheck_due(now_ms) {
                due.push((record, item.version));
            }
            Ok::<_, StoreError>(ControlFlow::Continue(()))
        },
    )
    .await?;
    let mut checked = 0;
    for (record, version) in due {
        let found = match check(resolver, &record).await {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(domain = %record.domain, error = %e, "domain re-check: no DNS answer");
                continue;
            }
        };
        match apply(io, record, version, &found, public_base, now_ms).await {
            Ok(()) => checked += 1,
            // Changed meanwhile (a verify, a removal): the next sweep sees the new state.
            Err(StoreError::TxConflict { index: 0, .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(checked)
}

/// The re-check's outcome written: the record (version-checked), its audit entry and, when it
/// starts failing, the mail to the handle.
async fn apply(
    io: Io<'_>,
    record: CustomDomain,
    version: u64,
    found: &Check,
    public_base: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    let now = Timestamp::from_millis(now_ms);
    let starts_failing = *found != Check::Found && record.status != DomainStatus::Failing;
    let settled = record.settled();
    let record = match found {
        Check::Found => CustomDomain {
            status: settled,
            last_checked_at: Some(now),
            failing_since: None,
            ..record
        },
        Check::Missing { .. } => CustomDomain {
            status: DomainStatus::Failing,
            failing_since: Some(record.failing_since.clone().unwrap_or_else(|| now.clone())),
            last_checked_at: Some(now),
            ..record
        },
    };
    let action = match found {
        Check::Found => "domain.rechecked",
        Check::Missing { .. } => "domain.failing",
    };
    let mut ops = super::write_ops(&record, Cond::Version(version), version, action)?;
    let staged = match starts_failing {
        true => failing_mail(io, &record, public_base, now_ms).await?,
        false => None,
    };
    if let Some(staged) = &staged {
        ops.extend(staged.ops.iter().cloned());
    }
    io.store.transact(ops).await?;
    if let Some(staged) = &staged {
        crate::mail::publish(io, staged).await;
    }
    Ok(())
}

/// The mail telling the handle its domain fails, to its branding's reply-to address (the
/// handle's contact); none set: logged, no mail.
async fn failing_mail(
    io: Io<'_>,
    record: &CustomDomain,
    public_base: &str,
    now_ms: i64,
) -> Result<Option<crate::mail::Staged>, StoreError> {
    let handle = &record.handle;
    let to = crate::mail::branding::get(io.store.as_ref(), handle)
        .await?
        .and_then(|b| b.reply_to)
        .and_then(|r| Email::parse("replyTo", &r).ok());
    let Some(to) = to else {
        tracing::warn!(%handle, domain = %record.domain, "domain failing; the handle has no reply-to address to mail");
        return Ok(None);
    };
    let grace_ends = Timestamp::from_millis(now_ms + GRACE_SECS * 1000);
    let mail = Outgoing {
        handle: Some(handle.clone()),
        to,
        kind: MailKind::DomainFailing,
        key: format!("{}#{now_ms}", record.domain),
        data: serde_json::json!({
            "domain": record.domain.as_str(),
            "recordName": record.domain.verification_name(),
            "recordValue": record.token,
            "graceEnds": grace_ends.as_str(),
            "domainsUrl": format!("{public_base}/?handle={handle}#domains"),
        }),
    };
    crate::mail::enqueue_ops(&mail)
        .map(Some)
        .map_err(|e| StoreError::Invalid(e.to_string()))
}
