//! The partner portal's routes (issue 61): a partner's users invited by the merchant or the
//! partner's owner, and the partner's summary. A partner (its token or one of its users) reaches
//! its own partner only: another partner's id answers 404, as an unknown one.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::auth::Credential;
use crate::domain::email::Email;
use crate::domain::{Handle, PartnerId, UserId};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path, Query};
use crate::http::routes::Routes;
use crate::kernel::state::AppState;
use crate::people::partner_users::{self, PartnerUserError, Remover};
use crate::people::partnerships;

/// Invitations: operators, or the partner's owner (the partner table lets a partner in; the
/// handler keeps its members and tokens out).
pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::{Operator, Viewer};
    use crate::http::auth::Scope::{CommissionsRead, CommissionsWrite};
    use crate::http::routes::Charge::{Free, Write};
    const R: Option<crate::http::auth::Scope> = Some(CommissionsRead);
    const W: Option<crate::http::auth::Scope> = Some(CommissionsWrite);
    Routes::new()
        .at("/v2/handles/{handle}/partners/{partnerId}/members/invitations")
        .post(Operator, W, Write, invite)
        .at("/v2/handles/{handle}/partners/{partnerId}/members")
        .get(Viewer, R, Free, list_users)
        .at("/v2/handles/{handle}/partners/{partnerId}/members/{userId}")
        .delete(Operator, W, Write, remove_user)
        .at("/v2/handles/{handle}/partners/{partnerId}/summary")
        .get(Viewer, R, Free, summary)
        .at("/v2/handles/{handle}/partners/{partnerId}/links")
        .post(Operator, W, Write, own_link)
        .at("/v2/handles/{handle}/partners/{partnerId}/terms")
        .get(Viewer, R, Free, terms)
        .at("/v2/handles/{handle}/commissions/{commissionId}/explanation")
        .get(Viewer, R, Free, explanation)
}

/// A partner (token or user) asking for another partner: the same `404` as an unknown one.
pub(crate) fn own(caller: &Caller, id: &PartnerId) -> ApiResult<()> {
    if caller.sees_partner(id) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("Partner {id}")))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InviteBody {
    /// Absent: the partner's own address (a partner made before partner users existed gets
    /// its owner this way).
    #[serde(default)]
    email: Option<String>,
}

/// `POST …/partners/{partnerId}/members/invitations {email?}` → 201 `{invitationId, partnerId,
/// email, role, expiresAt}`, the link mailed (it signs the invitee in as the partner's member,
/// or its owner while it has none); without `email`, the partner's own address.
async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PartnerId)>,
    Json(body): Json<InviteBody>,
) -> ApiResult<Response> {
    own(&caller, &id)?;
    let inviter = match &caller.principal.credential {
        Credential::PartnerUser { owner: false, .. } | Credential::Partner { .. } => {
            return Err(ApiError::forbidden(
                "Only the partner's owner (or the program's operators) invites its users.",
            ));
        }
        Credential::PartnerUser { user_id, .. } | Credential::Session { user_id, .. } => {
            crate::people::users::get(state.store.as_ref(), user_id)
                .await?
                .map(|u| u.email)
        }
        _ => None,
    };
    let partner = crate::partners::get(state.store.as_ref(), &caller.handle, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Partner {id}")))?;
    let raw = body.email.or(partner.email).ok_or_else(|| {
        ApiError::invalid_request("email: the partner has no address; give the one to invite.")
    })?;
    let email = Email::parse("email", &raw)?;
    let base = crate::http::people::base_url(&state)?;
    let invitation =
        partnerships::invite(state.io(), &base, &caller.handle, &id, &email, inviter).await?;
    Ok((StatusCode::CREATED, axum::Json(invitation)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SummaryParams {
    from: Option<String>,
    to: Option<String>,
}

/// The window of `from` and `to` (days or RFC 3339 times): by default the 30 days to `now`,
/// at most [`MAX_DAYS`] days; the partner's summary's and the program's dashboard's.
pub(crate) fn window(
    from: Option<&str>,
    to: Option<&str>,
    now: i64,
) -> ApiResult<crate::portal::summary::Window> {
    use crate::portal::summary::MAX_DAYS;
    let to_ms = match to {
        Some(raw) => bound("to", raw, true)?,
        None => now,
    };
    let from_ms = match from {
        Some(raw) => bound("from", raw, false)?,
        None => to_ms - 29 * 86_400_000,
    };
    if from_ms > to_ms || to_ms - from_ms >= MAX_DAYS * 86_400_000 {
        return Err(ApiError::invalid_request(format!(
            "from: must be before to, at most {MAX_DAYS} days apart."
        )));
    }
    Ok(crate::portal::summary::Window { from_ms, to_ms })
}

/// A bound of the window: a day (`2026-11-01`) or an RFC 3339 time.
fn bound(field: &str, raw: &str, end_of_day: bool) -> ApiResult<i64> {
    let day = format!("{raw}T00:00:00Z");
    let ms = crate::domain::time::rfc3339_millis(raw)
        .or_else(|| {
            (raw.len() == 10)
                .then(|| crate::domain::time::rfc3339_millis(&day))
                .flatten()
                .map(|ms| if end_of_day { ms + 86_399_999 } else { ms })
        })
        .ok_or_else(|| {
            ApiError::invalid_request(format!("{field}: a day (2026-11-01) or an RFC 3339 time."))
        })?;
    Ok(ms)
}

/// `GET …/partners/{partnerId}/summary?from=&to=`: the partner's earnings per day (the last 30
/// days by default, at most a year), its balance and its next payout with the reasons in
/// words (`portal::summary`).
async fn summary(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PartnerId)>,
    Query(params): Query<SummaryParams>,
) -> ApiResult<axum::Json<crate::portal::summary::Summary>> {
    use crate::portal::summary;
    own(&caller, &id)?;
    let now = crate::platform::time::now_millis();
    let window = window(params.from.as_deref(), params.to.as_deref(), now)?;
    let store = state.store.as_ref();
    crate::partners::get(store, &caller.handle, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Partner {id}")))?;
    Ok(axum::Json(
        summary::summary(store, &caller.handle, &id, window, now).await?,
    ))
}

/// `GET …/partners/{partnerId}/members` → `{items: [{userId, email, role, since}]}`: the
/// partner's people, the owner first (the program, and the partner's own people).
async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PartnerId)>,
) -> ApiResult<Response> {
    own(&caller, &id)?;
    let store = state.store.as_ref();
    crate::partners::get(store, &caller.handle, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Partner {id}")))?;
    let items = partner_users::list(store, &caller.handle, &id).await?;
    Ok(axum::Json(serde_json::json!({ "items": items })).into_response())
}

/// `DELETE …/partners/{partnerId}/members/{userId}` → 204: the program's operators remove any
/// of the partner's people, its owner its members; a partner token or member is `403`. The
/// person's next request as the partner is refused.
async fn remove_user(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id, raw)): Path<(Handle, PartnerId, String)>,
) -> ApiResult<StatusCode> {
    use crate::http::extract::PathId;
    own(&caller, &id)?;
    let user =
        <UserId as PathId>::parse(&raw).ok_or_else(|| <UserId as PathId>::not_found(&raw))?;
    let by = match &caller.principal.credential {
        Credential::PartnerUser { owner: true, .. } => Remover::Owner,
        Credential::PartnerUser { .. } | Credential::Partner { .. } => {
            return Err(ApiError::forbidden(
                "Only the partner's owner (or the program's operators) removes its users.",
            ));
        }
        _ => Remover::Program,
    };
    partner_users::remove(state.store.as_ref(), &caller.handle, &id, &user, by).await?;
    Ok(StatusCode::NO_CONTENT)
}

impl From<PartnerUserError> for ApiError {
    fn from(e: PartnerUserError) -> Self {
        use crate::http::error::ErrorCode;
        let message = e.to_string();
        match e {
            PartnerUserError::NotFound(_) => ApiError::new(ErrorCode::NotFound, message),
            PartnerUserError::OwnerStays => ApiError::new(ErrorCode::InvalidState, message),
            PartnerUserError::Store(e) => e.into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct OwnLinkBody {
    #[serde(default)]
    slug: Option<String>,
    destination_url: String,
}

/// `POST …/partners/{partnerId}/links {slug?, destinationUrl}` → 201 the link: the partner's
/// own link, on its campaign, to a destination under the program's `allowedDestinations`
/// (`portal::links`).
async fn own_link(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PartnerId)>,
    Json(body): Json<OwnLinkBody>,
) -> ApiResult<Response> {
    own(&caller, &id)?;
    let store = state.store.as_ref();
    crate::partners::get(store, &caller.handle, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Partner {id}")))?;
    let allowed = crate::programs::settings::get(store, &caller.handle)
        .await?
        .map(|p| p.allowed_destinations)
        .unwrap_or_default();
    let link = crate::portal::links::create(
        state.io(),
        &state.link_cache,
        &caller.handle,
        &id,
        &allowed,
        body.slug.as_deref(),
        &body.destination_url,
    )
    .await?;
    let view = crate::links::LinkView::new(&state.config, link);
    Ok((StatusCode::CREATED, axum::Json(view)).into_response())
}

impl From<crate::portal::links::OwnLinkError> for ApiError {
    fn from(e: crate::portal::links::OwnLinkError) -> Self {
        use crate::http::error::ErrorCode;
        use crate::portal::links::OwnLinkError;
        let message = e.to_string();
        match e {
            OwnLinkError::Invalid(e) => e.into(),
            OwnLinkError::NoCampaign | OwnLinkError::Quota => {
                ApiError::new(ErrorCode::InvalidState, message)
            }
            OwnLinkError::Link(e) => e.into(),
            OwnLinkError::Store(e) => e.into(),
        }
    }
}

/// `GET …/partners/{partnerId}/terms` → `{items: [{campaignId, currency, current?, upcoming?}]}`:
/// the plan of each of the partner's campaigns in words (`portal::terms`).
async fn terms(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PartnerId)>,
) -> ApiResult<Response> {
    own(&caller, &id)?;
    let store = state.store.as_ref();
    crate::partners::get(store, &caller.handle, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Partner {id}")))?;
    let now = crate::platform::time::now_millis();
    let items = crate::portal::terms::of_partner(store, &caller.handle, &id, now).await?;
    Ok(axum::Json(serde_json::json!({ "items": items })).into_response())
}

/// `GET …/commissions/{commissionId}/explanation` → `{commissionId, amount, currency,
/// sentences}`: why this amount, in words (`portal::explain`); a partner reads its own lines
/// only (another's answers 404, as an unknown one).
async fn explanation(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, crate::domain::CommissionId)>,
) -> ApiResult<axum::Json<crate::portal::explain::Explanation>> {
    let store = state.store.as_ref();
    let mut line = crate::ledger::get(store, &caller.handle, &id)
        .await?
        .filter(|l| caller.sees_partner(&l.partner_id))
        .ok_or_else(|| ApiError::not_found(format!("Commission {id}")))?;
    if caller.partner().is_some() {
        // A partner never reads the reasons about risk: a line held on them is held for a review.
        line.reasons
            .retain(|r| !crate::domain::words::about_risk(r));
    }
    Ok(axum::Json(
        crate::portal::explain::explain(store, &caller.handle, &line).await?,
    ))
}
