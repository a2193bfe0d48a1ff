//! Custom domains' TLS on AWS (issue 64), carried on by the scheduled sweeper (every minute)
//! wherever the edge is on (`TENX_EDGE_DISTRIBUTION_ID`, or `TENX_EDGE_LISTENER_ARN` behind the
//! load balancer): a verified domain's certificate is requested (`pending_dns`, its validation
//! record answered to the merchant once ACM has made it), and once ACM has issued it the
//! domain's CloudFront distribution is created, or the certificate added to the load balancer's
//! listener (`pending_tls`, the host answered as the CNAME target) and, once deployed, the
//! domain is `active`. A refusal of ACM or CloudFront makes it `failed` with the reason in words; a verify
//! starts a new attempt. A domain given up leaves a teardown item that this pass works off
//! (distribution disabled, then deleted, then the certificate).
//!
//! One step per domain per pass, each recorded (version-checked) before the next: a pass that
//! dies between an AWS call and its record repeats the call on the next pass with the same
//! reference ([`Tls::reference`]: ACM's idempotency token, CloudFront's caller reference), which
//! answers what the first call made, never a second certificate or distribution.
//!
//! Round trips per pass: ONE query of the claims (per 1,000) and ONE of the teardowns; per
//! domain in progress one or two edge calls and ONE transaction when it moved.

use std::ops::ControlFlow;

use serde::{Deserialize, Serialize};

use crate::domain::custom_domain::{CustomDomain, DomainStatus, Tls};
use crate::platform::edge::{Certificate, Edge, EdgeError};
use crate::platform::store::{Cond, Item, Query, Store, StoreError, WriteOp, for_each_item, keys};

/// ACM takes a first domain name (the certificate's common name) of at most 64 characters.
const ACM_MAX_NAME: usize = 64;

/// What a pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EdgeSweep {
    /// Domains moved a step (a certificate requested or issued, a distribution created or
    /// deployed, a refusal recorded).
    pub advanced: usize,
    /// Given-up domains whose distribution and certificate are now deleted.
    pub removed: usize,
}

/// A given-up domain's resources still to delete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Teardown {
    pub domain: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution_id: Option<String>,
}

/// The put of a teardown item for what `tls` holds (none when it holds nothing).
pub(crate) fn teardown_op(record: &CustomDomain, tls: &Tls) -> Result<Option<WriteOp>, StoreError> {
    if tls.certificate_arn.is_none() && tls.distribution_id.is_none() {
        return Ok(None);
    }
    let (pk, sk) = keys::domain_teardown(record.domain.as_str(), &tls.reference(record));
    let doc = crate::platform::store::to_doc(&Teardown {
        domain: record.domain.to_string(),
        certificate_arn: tls.certificate_arn.clone(),
        distribution_id: tls.distribution_id.clone(),
    })?;
    Ok(Some(WriteOp::Put {
        item: Item::new(pk, sk, doc),
        cond: Cond::None,
    }))
}

/// One pass: every domain in progress moved one step, every teardown one step.
#[tracing::instrument(skip_all)]
pub async fn sweep(store: &dyn Store, edge: &dyn Edge) -> Result<EdgeSweep, StoreError> {
    let mut due: Vec<(CustomDomain, u64)> = Vec::new();
    for_each_item(store, Query::all(keys::CUSTOM_DOMAINS_PK), |item| {
        let record: CustomDomain = item.parse()?;
        if matches!(
            record.status,
            DomainStatus::Verified | DomainStatus::PendingDns | DomainStatus::PendingTls
        ) {
            due.push((record, item.version));
        }
        Ok::<_, StoreError>(ControlFlow::Continue(()))
    })
    .await?;
    let mut done = EdgeSweep::default();
    for (record, version) in due {
        let before = record.tls.clone().unwrap_or_default();
        let Some(next) = step(edge, &record).await else {
            continue;
        };
        let action = match next.status {
            DomainStatus::PendingDns => "domain.certificate_requested",
            DomainStatus::PendingTls => "domain.distribution_created",
            DomainStatus::Active => "domain.active",
            _ => "domain.tls_failed",
        };
        let ops = super::write_ops(&next, Cond::Version(version), version, action)?;
        match store.transact(ops).await {
            Ok(()) => done.advanced += 1,
            Err(StoreError::TxConflict { index: 0, .. }) => {
                orphaned(store, &record, &before, &next).await?;
            }
            Err(e) => return Err(e),
        }
    }
    done.removed = teardowns(store, edge).await?;
    Ok(done)
}

/// The claim changed under the step (given up, or verified again): what the step made but
/// could not record is torn down when the claim it was made for is gone.
async fn orphaned(
    store: &dyn Store,
    record: &CustomDomain,
    before: &Tls,
    next: &CustomDomain,
) -> Result<(), StoreError> {
    let still_ours = super::read_claim(store, &record.domain)
        .await?
        .is_some_and(|c| c.record.token == record.token);
    let Some(tls) = next.tls.as_ref().filter(|_| !still_ours) else {
        return Ok(());
    };
    let made = Tls {
        certificate_arn: tls
            .certificate_arn
            .clone()
            .filter(|a| before.certificate_arn.as_ref() != Some(a)),
        distribution_id: tls
            .distribution_id
            .clone()
            .filter(|d| before.distribution_id.as_ref() != Some(d)),
        ..tls.clone()
    };
    if let Some(op) = teardown_op(record, &made)? {
        store.transact(vec![op]).await?;
    }
    Ok(())
}

/// The domain's next step (`None`: nothing moved, or the edge is unavailable: the next pass).
async fn step(edge: &dyn Edge, record: &CustomDomain) -> Option<CustomDomain> {
    // A domain verified before the edge was on starts its first attempt.
    let mut tls = record.tls.clone().unwrap_or_default();
    let moved = match advance(edge, record, &mut tls).await {
        Ok(moved) => moved,
        Err(EdgeError::Refused(reason)) => {
            tls.reason = Some(reason);
            true
        }
        Err(EdgeError::Unavailable(e)) => {
            tracing::warn!(domain = %record.domain, error = %e, "custom domain edge: retried next pass");
            false
        }
    };
    (moved || record.status != tls.status()).then(|| CustomDomain {
        status: tls.status(),
        tls: Some(tls),
        ..record.clone()
    })
}

/// Moves `tls` one step; `true` when it changed.
async fn advance(edge: &dyn Edge, record: &CustomDomain, tls: &mut Tls) -> Result<bool, EdgeError> {
    let domain = record.domain.as_str();
    let reference = tls.reference(record);
    match (&tls.certificate_arn, &tls.distribution_id) {
        (None, _) => {
            if domain.len() > ACM_MAX_NAME {
                return Err(EdgeError::Refused(format!(
                    "ACM issues no certificate for a host longer than {ACM_MAX_NAME} characters; \
                     choose a shorter one."
                )));
            }
            let arn = edge.request_certificate(domain, &reference).await?;
            // ACM makes the validation record within seconds: answered as soon as it is there.
            if let Ok(Certificate::Pending { validation } | Certificate::Issued { validation }) =
                edge.certificate(&arn).await
            {
                tls.validation = validation;
            }
            tls.certificate_arn = Some(arn);
            Ok(true)
        }
        (Some(arn), None) => match edge.certificate(arn).await? {
            Certificate::Pending { validation } => {
                let changed = validation.is_some() && validation != tls.validation;
                if changed {
                    tls.validation = validation;
                }
                Ok(changed)
            }
            Certificate::Issued { validation } => {
                let created = edge.create_distribution(domain, arn, &reference).await?;
                if validation.is_some() {
                    tls.validation = validation;
                }
                tls.distribution_id = Some(created.id);
                tls.target = Some(created.target);
                Ok(true)
            }
            Certificate::Failed { reason } => Err(EdgeError::Refused(reason)),
            Certificate::Missing => Err(EdgeError::Refused(
                "The domain's certificate was deleted outside 10x; verify the domain again to \
                 request a new one."
                    .into(),
            )),
        },
        (Some(_), Some(id)) if !tls.live => match edge.distribution(id).await? {
            Some(d) if d.deployed => {
                tls.live = true;
                tls.target = Some(d.target);
                Ok(true)
            }
            Some(_) => Ok(false),
            None => Err(EdgeError::Refused(
                "The domain's CloudFront distribution, or its certificate on the load balancer, \
                 was removed outside 10x; verify the domain again to make a new one."
                    .into(),
            )),
        },
        (Some(_), Some(_)) => Ok(false),
    }
}

/// Works off the teardowns: each distribution disabled, then deleted; then its certificate;
/// then the item. Returns how many were finished.
async fn teardowns(store: &dyn Store, edge: &dyn Edge) -> Result<usize, StoreError> {
    let mut items: Vec<(String, String, Teardown)> = Vec::new();
    for_each_item(store, Query::all(keys::DOMAIN_TEARDOWN_PK), |item| {
        items.push((item.pk.clone(), item.sk.clone(), item.parse()?));
        Ok::<_, StoreError>(ControlFlow::Continue(()))
    })
    .await?;
    let mut removed = 0;
    for (pk, sk, teardown) in items {
        match teardown_step(edge, &teardown).await {
            Ok(true) => {
                store
                    .transact(vec![WriteOp::Delete {
                        pk,
                        sk,
                        cond: Cond::None,
                    }])
                    .await?;
                removed += 1;
            }
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(domain = %teardown.domain, error = %e, "custom domain teardown: retried next pass");
            }
        }
    }
    Ok(removed)
}

/// `true`: the distribution and the certificate are both gone.
async fn teardown_step(edge: &dyn Edge, teardown: &Teardown) -> Result<bool, EdgeError> {
    if let Some(id) = &teardown.distribution_id
        && !edge.remove_distribution(id).await?
    {
        return Ok(false);
    }
    if let Some(arn) = &teardown.certificate_arn {
        edge.delete_certificate(arn).await?;
    }
    Ok(true)
}
