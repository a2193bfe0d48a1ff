//! Partner program routes (issue 46). Public, served by the commissions function (an
//! application to an `autoApprove` program mints a partner token, which the public function
//! never touches):
//! `GET /v2/public/programs/{handle}` and `POST /v2/public/programs/{handle}/applications`
//! (limited per client address and handle). Authenticated, served with the commissions:
//! `PUT|GET /v2/handles/{handle}/program`, `GET …/partner-applications[/{applicationId}]`,
//! `POST …/{applicationId}/approve` and `…/reject`. The use cases are `crate::programs`.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use crate::domain::{ApplicationId, Handle};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, apply_quota};
use crate::http::extract::{ClientAddr, Json, JsonOnly, Path, Query};
use crate::http::pagination::{Page, PageParams, encode_cursor};
use crate::http::routes::Routes;
use crate::kernel::ratelimit;
use crate::kernel::state::AppState;
use crate::programs::approve::{Approval, Approved};
use crate::programs::model::{IssuedToken, validate_reason};
use crate::programs::summary::PublicProgram;
use crate::programs::{
    Application, ApplicationSpec, ApplicationStatus, Program, ProgramError, ProgramSpec,
};

/// The public routes (the public function).
pub fn public_router() -> Router<AppState> {
    Router::new()
        .route("/v2/public/programs/{handle}", get(public_program))
        .route(
            "/v2/public/programs/{handle}/applications",
            post(create_application),
        )
}

/// The authenticated routes (the commissions function).
pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::{Admin, Operator, Viewer};
    use crate::http::auth::Scope::{CommissionsRead, CommissionsWrite};
    use crate::http::routes::Charge::{Free, Write};
    const R: Option<crate::http::auth::Scope> = Some(CommissionsRead);
    const W: Option<crate::http::auth::Scope> = Some(CommissionsWrite);
    Routes::new()
        .at("/v2/handles/{handle}/program")
        .get(Viewer, R, Free, get_program)
        // An admin JWT only: a PAT's `commissions.write` stays within an operator's reach.
        .put(Admin, None, Write, put_program)
        .at("/v2/handles/{handle}/partner-applications")
        .get(Operator, R, Free, list_applications)
        .at("/v2/handles/{handle}/partner-applications/{applicationId}")
        .get(Operator, R, Free, get_application)
        .at("/v2/handles/{handle}/partner-applications/{applicationId}/approve")
        .post(Operator, W, Write, approve)
        .at("/v2/handles/{handle}/partner-applications/{applicationId}/reject")
        .post(Operator, W, Write, reject)
}

/// `GET /v2/public/programs/{handle}`: the program page's data (`404` without a program).
async fn public_program(
    State(state): State<AppState>,
    Path(handle): Path<Handle>,
) -> ApiResult<axum::Json<PublicProgram>> {
    Ok(axum::Json(
        crate::programs::summary::public(state.store.as_ref(), &handle).await?,
    ))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Accepted {
    application_id: ApplicationId,
}

/// `POST /v2/public/programs/{handle}/applications`: 202 `{applicationId}`, the same id again
/// for an email that applied before. Counted per client address and handle before anything
/// else is read beyond the program. `application/json` only ([`JsonOnly`]): a hostile page
/// cannot make its visitors apply with a simple cross-site POST.
async fn create_application(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Path(handle): Path<Handle>,
    JsonOnly(body): JsonOnly<ApplicationSpec>,
) -> ApiResult<Response> {
    crate::programs::settings::require(state.store.as_ref(), &handle).await?;
    let bucket = ratelimit::address_bucket("apl_", &client);
    let limit = state.config.rate_limits.applications_per_address;
    let quota = ratelimit::consume(
        state.store.as_ref(),
        &state.config.rate_limits,
        &handle,
        &bucket,
        limit,
    )
    .await
    .map_err(|e| match e {
        ratelimit::RateLimitError::Limited(l) => l.of("this client address").into(),
        other => ApiError::from(other),
    })?;
    let new = body.validate()?;
    let submitted =
        crate::programs::apply::submit(state.io(), &state.link_cache, &state.config, &handle, new)
            .await?;
    let answer = Accepted {
        application_id: submitted.application_id,
    };
    let mut response = (StatusCode::ACCEPTED, axum::Json(answer)).into_response();
    apply_quota(&quota, &mut response);
    Ok(response)
}

/// `GET /v2/handles/{handle}/program` (`404` until one is set).
async fn get_program(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<Program>> {
    let store = state.store.as_ref();
    Ok(axum::Json(
        crate::programs::settings::require(store, &caller.handle).await?,
    ))
}

/// `PUT /v2/handles/{handle}/program`: 201 when created, 200 when replaced.
async fn put_program(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<ProgramSpec>,
) -> ApiResult<Response> {
    let by = caller.principal.subject.clone();
    let (program, created) =
        crate::programs::settings::put(state.store.as_ref(), &caller.handle, body, &by).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(program)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    status: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// `GET …/partner-applications[?status=&limit=&cursor=]`: oldest first.
async fn list_applications(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> ApiResult<axum::Json<Page<Application>>> {
    let status = params
        .status
        .as_deref()
        .map(ApplicationStatus::parse)
        .transpose()?;
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor,
    };
    let (limit, after) = (page.limit()?, page.after()?);
    let store = state.store.as_ref();
    let (items, next) =
        crate::programs::list::list(store, &caller.handle, status, limit, after).await?;
    Ok(axum::Json(Page {
        items,
        next_cursor: next.as_deref().map(encode_cursor),
    }))
}

/// `GET …/partner-applications/{applicationId}`.
async fn get_application(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, ApplicationId)>,
) -> ApiResult<axum::Json<Application>> {
    let found = crate::programs::list::get(state.store.as_ref(), &caller.handle, &id).await?;
    let found = found.ok_or(ProgramError::NotFound(id))?;
    Ok(axum::Json(found.view()))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApprovalAnswer {
    application: Application,
    partner_id: crate::domain::PartnerId,
    campaign_id: crate::domain::CampaignId,
    slug: crate::domain::Slug,
    short_url: String,
    /// Shown once: absent when the same approval is asked again with its key.
    #[serde(skip_serializing_if = "Option::is_none")]
    partner_token: Option<IssuedToken>,
}

/// `POST …/{applicationId}/approve` (an optional `idempotency-key`): 200 with what was created
/// and the partner token, shown this once; asked again with the same key, 200 with the same
/// partner and no token; a second approval without it is `409` naming the partner.
async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, ApplicationId)>,
    headers: axum::http::HeaderMap,
) -> ApiResult<axum::Json<ApprovalAnswer>> {
    let key = headers
        .get("idempotency-key")
        .map(|v| v.to_str().unwrap_or(""));
    let key = crate::domain::RetryKey::parse_header(key)?;
    let by = caller.principal.subject.clone();
    let approval = crate::programs::approve::approve(
        state.io(),
        &state.link_cache,
        &state.config,
        &caller.handle,
        (&id, key.as_ref()),
        &by,
    )
    .await?;
    Ok(axum::Json(ApprovalAnswer::of(
        &state,
        &caller.handle,
        approval,
    )?))
}

impl ApprovalAnswer {
    fn of(state: &AppState, handle: &Handle, approval: Approval) -> ApiResult<Self> {
        let Approved { application, data } = match approval {
            Approval::Made(made) => *made,
            Approval::Again(application) => return Self::again(state, handle, *application),
        };
        Ok(Self {
            application,
            partner_id: data.partner_id,
            campaign_id: data.campaign_id,
            slug: data.slug,
            short_url: data.short_url,
            partner_token: Some(data.partner_token),
        })
    }

    /// The approval made before: its partner's campaign and link share the partner's id.
    fn again(state: &AppState, handle: &Handle, application: Application) -> ApiResult<Self> {
        let (Some(partner_id), Some(campaign_id)) = (
            application.partner_id.clone(),
            application.campaign_id.clone(),
        ) else {
            return Err(ApiError::internal(
                "an approved application names no partner",
            ));
        };
        let slug = crate::domain::Slug::parse(partner_id.as_str())?;
        Ok(Self {
            short_url: state.config.short_url(handle.as_str(), slug.as_str()),
            application,
            partner_id,
            campaign_id,
            slug,
            partner_token: None,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
struct RejectBody {
    reason: Option<String>,
    /// Whether the applicant is mailed the reason (the default); the reason is kept either way.
    mail_applicant: Option<bool>,
}

/// `POST …/{applicationId}/reject {reason, mailApplicant?}`: 200 with the application, its reason
/// kept, the applicant mailed it unless `mailApplicant` is false.
async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, ApplicationId)>,
    Json(body): Json<RejectBody>,
) -> ApiResult<axum::Json<Application>> {
    let reason = validate_reason(body.reason.as_deref())?;
    let by = caller.principal.subject.clone();
    let rejected = crate::programs::reject::reject(
        state.io(),
        &state.config,
        &caller.handle,
        &id,
        (reason, body.mail_applicant.unwrap_or(true)),
        &by,
    );
    Ok(axum::Json(rejected.await?))
}

impl From<ProgramError> for ApiError {
    fn from(e: ProgramError) -> Self {
        let message = e.to_string();
        match e {
            ProgramError::Invalid(d) => d.into(),
            ProgramError::NoProgram(h) => ApiError::not_found(format!("The program of handle {h}")),
            ProgramError::NotFound(id) => ApiError::not_found(format!("Application {id}")),
            ProgramError::InviteOnly(_)
            | ProgramError::State { .. }
            | ProgramError::Template(_) => ApiError::invalid_state(message),
            ProgramError::Taken(_) | ProgramError::Busy => ApiError::conflict(message),
            ProgramError::Store(e) => e.into(),
        }
    }
}
