//! Custom domain routes (issue 64): claim, verify, read, list and give up a domain. The work is
//! in `crate::domains`; serving the links on a verified domain is `http::redirect`'s.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::Handle;
use crate::domain::custom_domain::{AppLinks, Cname, CustomDomain, DomainName, DomainStatus};
use crate::domain::time::Timestamp;
use crate::domains::claim::DomainInput;
use crate::domains::{self, CustomDomainError};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorCode};
use crate::http::extract::Path;
use crate::http::routes::Routes;
use crate::kernel::state::AppState;

/// Read like the links (`links.read`, viewers up); claimed, changed and verified by operators
/// and admins signed in, never by a token: a domain serves the handle's links, and a
/// `links.write` token (which creators mint) must not move them to another host.
pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::{Operator, Viewer};
    use crate::http::auth::Scope::LinksRead;
    use crate::http::routes::Charge::{Free, Write};
    Routes::new()
        .at("/v2/handles/{handle}/domains")
        .get(Viewer, Some(LinksRead), Free, list)
        .at("/v2/handles/{handle}/domains/{domain}")
        .get(Viewer, Some(LinksRead), Free, read)
        .put(Operator, None, Write, put)
        .delete(Operator, None, Write, remove)
        .at("/v2/handles/{handle}/domains/{domain}/verify")
        .post(Operator, None, Write, verify)
}

/// The TXT record to publish and, on AWS, the certificate's validation record beside it.
#[derive(Serialize)]
struct Verification {
    r#type: &'static str,
    name: String,
    value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate: Option<Record>,
}

/// A CNAME the merchant publishes.
#[derive(Serialize)]
struct Record {
    r#type: &'static str,
    name: String,
    value: String,
}

impl From<Cname> for Record {
    fn from(c: Cname) -> Self {
        Self {
            r#type: "CNAME",
            name: c.name,
            value: c.value,
        }
    }
}

/// A domain as the API answers it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DomainView {
    domain: DomainName,
    status: DomainStatus,
    verification: Verification,
    /// On AWS, once its distribution exists: the CNAME that points the domain at it.
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<Record>,
    /// Why the edge failed (status `failed`), in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_found_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    root_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_links: Option<AppLinks>,
    created_at: Timestamp,
    /// A pending claim lapses then unless verified (another handle may verify the name first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pending_expires_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verified_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_checked_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failing_since: Option<Timestamp>,
}

impl From<CustomDomain> for DomainView {
    fn from(d: CustomDomain) -> Self {
        let tls = d.tls.unwrap_or_default();
        Self {
            verification: Verification {
                r#type: "TXT",
                name: d.domain.verification_name(),
                value: d.token,
                certificate: tls.validation.map(Record::from),
            },
            target: tls.target.map(|value| Record {
                r#type: "CNAME",
                name: d.domain.to_string(),
                value,
            }),
            reason: tls.reason,
            domain: d.domain,
            status: d.status,
            not_found_url: d.not_found_url,
            root_url: d.root_url,
            app_links: d.app_links,
            pending_expires_at: (d.status == DomainStatus::Pending)
                .then(|| crate::domains::pending_expires_at(&d.created_at)),
            created_at: d.created_at,
            verified_at: d.verified_at,
            last_checked_at: d.last_checked_at,
            failing_since: d.failing_since,
        }
    }
}

fn domain(raw: &str) -> ApiResult<DomainName> {
    Ok(DomainName::parse(raw)?)
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let items: Vec<DomainView> = domains::list(state.store.as_ref(), &caller.handle)
        .await?
        .into_iter()
        .map(DomainView::from)
        .collect();
    Ok(axum::Json(serde_json::json!({ "items": items })))
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, raw)): Path<(Handle, String)>,
) -> ApiResult<axum::Json<DomainView>> {
    let record = domains::get(state.store.as_ref(), &caller.handle, &domain(&raw)?).await?;
    Ok(axum::Json(record.into()))
}

async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, raw)): Path<(Handle, String)>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Response> {
    let body = crate::http::extract::body(body)?;
    let name = domain(&raw)?;
    // The body is optional: a claim needs no settings.
    let input: DomainInput = match body.trim_ascii().is_empty() {
        true => DomainInput::default(),
        false => crate::http::extract::parse_json(&body)?,
    };
    let claimed = domains::claim::claim(
        state.store.as_ref(),
        &state.domain_cache,
        state.config.redirect_host(),
        &caller.handle,
        &name,
        input,
    )
    .await?;
    let status = match claimed.created {
        true => StatusCode::CREATED,
        false => StatusCode::OK,
    };
    Ok((status, axum::Json(DomainView::from(claimed.record))).into_response())
}

async fn verify(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, raw)): Path<(Handle, String)>,
) -> ApiResult<axum::Json<DomainView>> {
    let record = domains::verify::verify(
        state.store.as_ref(),
        &state.domain_cache,
        state.config.dns_resolver,
        state.edge.is_some(),
        &caller.handle,
        &domain(&raw)?,
    )
    .await?;
    Ok(axum::Json(record.into()))
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, raw)): Path<(Handle, String)>,
) -> ApiResult<StatusCode> {
    domains::remove(
        state.store.as_ref(),
        &state.domain_cache,
        &caller.handle,
        &domain(&raw)?,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

impl From<CustomDomainError> for ApiError {
    fn from(e: CustomDomainError) -> Self {
        let message = e.to_string();
        match e {
            CustomDomainError::Invalid(e) => e.into(),
            CustomDomainError::NotFound(d) => ApiError::not_found(format!("The domain {d}")),
            CustomDomainError::ClaimedElsewhere(_) | CustomDomainError::Busy(_) => {
                ApiError::conflict(message)
            }
            CustomDomainError::TooMany(_) => ApiError::invalid_state(message),
            CustomDomainError::NotVerified(m) => ApiError::new(ErrorCode::NotVerified, m),
            // Not a fault of ours the client could wait out by our `retry-after`: the domain is
            // simply not verified yet, and the message says why.
            CustomDomainError::Dns(e) => ApiError::new(
                ErrorCode::NotVerified,
                format!("{e}. Nothing changed; try again in a minute."),
            ),
            CustomDomainError::Store(e) => e.into(),
        }
    }
}
