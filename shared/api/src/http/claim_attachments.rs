//! A claim's images: the partner (its token or one of its people) or an operator adds a PNG or
//! JPEG to the partner's open claim; whoever may read the claim downloads it. The checks (type
//! by its bytes, size, decoded whole) are `claims::attachments`'. An image is answered as a
//! download that no browser runs: `content-disposition: attachment`, `nosniff` and a policy
//! that sandboxes it and loads nothing.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::claims::attachments::{self, MAX_BYTES};
use crate::domain::{AttachmentId, ClaimId, Handle, PartnerId};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorCode};
use crate::http::extract::Path;
use crate::http::partner_portal::own;
use crate::http::routes::Routes;
use crate::kernel::state::AppState;

/// What an image is served under: nothing loads, nothing runs, not even as a page.
pub const ATTACHMENT_POLICY: &str = "default-src 'none'; sandbox";

pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::{Operator, Viewer};
    use crate::http::auth::Scope::{CommissionsRead, CommissionsWrite};
    use crate::http::routes::Charge::{Free, Write};
    Routes::new()
        .at("/v2/handles/{handle}/partners/{partnerId}/claims/{claimId}/attachments")
        .post(Operator, Some(CommissionsWrite), Write, add)
        .at("/v2/handles/{handle}/partners/{partnerId}/claims/{claimId}/attachments/{attachmentId}")
        .get(Viewer, Some(CommissionsRead), Free, download)
}

/// `POST …/claims/{claimId}/attachments` (the body the image itself, `content-type`
/// `image/png` or `image/jpeg`) → 201 `{attachmentId, contentType, size, width, height,
/// addedAt}`; `413` over 5 MB, `400` in words for another type or a file that does not open,
/// `409` once the claim is decided.
async fn add(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, partner, claim)): Path<(Handle, PartnerId, ClaimId)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    own(&caller, &partner)?;
    let bytes = axum::body::to_bytes(body, MAX_BYTES).await.map_err(|_| {
        ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "file: the image is larger than {} MB, the most a claim takes. Crop it or save \
                 it as JPEG.",
                MAX_BYTES / 1_048_576
            ),
        )
    })?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let added = attachments::add(
        (state.store.as_ref(), state.uploads.as_deref()),
        &caller.handle,
        &partner,
        &claim,
        (content_type, bytes.to_vec()),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(added)).into_response())
}

/// `GET …/claims/{claimId}/attachments/{attachmentId}` → the image as a download (`404` for
/// a claim or image the caller may not read, as for one that does not exist).
async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, partner, claim_id, id)): Path<(Handle, PartnerId, ClaimId, AttachmentId)>,
) -> ApiResult<Response> {
    own(&caller, &partner)?;
    let missing = || ApiError::not_found(format!("Image {id}"));
    let claim = crate::claims::get(state.store.as_ref(), &caller.handle, &claim_id)
        .await?
        .filter(|c| c.partner_id == partner)
        .ok_or_else(|| ApiError::not_found(format!("Claim {claim_id}")))?;
    let (found, bytes) = attachments::read(state.uploads.as_deref(), &caller.handle, &claim, &id)
        .await?
        .ok_or_else(missing)?;
    let kind = found.content_type;
    let name = format!(
        "attachment; filename=\"claim-{claim_id}-{id}.{}\"",
        kind.extension()
    );
    let mut response = (StatusCode::OK, bytes).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind.mime()));
    if let Ok(v) = HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(ATTACHMENT_POLICY),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}
