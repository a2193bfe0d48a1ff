//! Customer routes (issue 44). Public: `POST /v2/public/leads` (the signed ctx is the
//! credential). Authenticated, served with the conversions: `POST|GET
//! /v2/handles/{handle}/customers`, `GET …/customers/{customerId}`. The use cases are
//! `crate::customers`.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::{Deserialize, Serialize};

use crate::conversions::Channel;
use crate::customers::bind::{self, LeadError};
use crate::customers::coupons::{self, Coupon, CouponError};
use crate::customers::repo::{self, Filter};
use crate::customers::{CustomerError, CustomerView, Email};
use crate::domain::{CampaignId, CouponCode, CustomerId, Handle, IdempotencyKey, PartnerId};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ClientAddr, Json, JsonOnly, Path, Query, verify_ctx};
use crate::http::pagination::{PageParams, encode_cursor, time_range};
use crate::http::routes::Routes;
use crate::kernel::state::AppState;

/// The public route (served by the public function).
pub fn public_router() -> Router<AppState> {
    Router::new().route("/v2/public/leads", post(create_lead))
}

/// The authenticated routes (the conversions function).
pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::{Creator, Viewer};
    use crate::http::auth::Scope::{ConversionsRead, ConversionsWrite};
    use crate::http::routes::Charge::{Free, Write};
    Routes::new()
        .at("/v2/handles/{handle}/customers")
        .post(Creator, Some(ConversionsWrite), Write, create)
        .get(Viewer, Some(ConversionsRead), Free, list)
        .at("/v2/handles/{handle}/customers/{customerId}")
        .get(Viewer, Some(ConversionsRead), Free, get_one)
}

/// A partner's coupon codes (the commissions function, beside the partner's other routes).
pub(crate) fn coupon_routes() -> Routes {
    use crate::http::auth::Role::{Operator, Viewer};
    use crate::http::auth::Scope::{CommissionsRead, CommissionsWrite};
    use crate::http::routes::Charge::{Free, Write};
    Routes::new()
        .at("/v2/handles/{handle}/partners/{partnerId}/coupon-codes")
        .post(Operator, Some(CommissionsWrite), Write, create_coupon)
        .get(Viewer, Some(CommissionsRead), Free, list_coupons)
        .at("/v2/handles/{handle}/partners/{partnerId}/coupon-codes/{code}")
        .delete(Operator, Some(CommissionsWrite), Write, delete_coupon)
        .at("/v2/handles/{handle}/partners/{partnerId}/coupon-codes/{code}/rotate")
        .post(Operator, Some(CommissionsWrite), Write, rotate_coupon)
        .at("/v2/handles/{handle}/coupon-codes/{code}/leak")
        .get(Viewer, Some(CommissionsRead), Free, coupon_leak)
        .at("/v2/handles/{handle}/coupon-codes/leaks")
        .get(Viewer, Some(CommissionsRead), Free, coupon_leaks)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LeaksParams {
    limit: Option<String>,
}

#[derive(Serialize)]
struct LeaksPage {
    items: Vec<crate::coupon_leaks::ranked::Ranked>,
}

/// `GET …/coupon-codes/leaks?limit=`: the handle's codes with the highest leak score first
/// (default 20, 1 to 100), each as `…/{code}/leak` answers it plus `ratedAt`.
async fn coupon_leaks(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<LeaksParams>,
) -> ApiResult<axum::Json<LeaksPage>> {
    let limit = match params.limit.as_deref() {
        None => 20,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| {
                ApiError::invalid_request("limit: expected an integer from 1 to 100.")
            })?,
    };
    let store = state.store.as_ref();
    let items = crate::coupon_leaks::ranked::top(store, &caller.handle, limit).await?;
    Ok(axum::Json(LeaksPage { items }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RotateBody {
    new_code: Option<String>,
    grace_days: Option<u32>,
}

/// `POST …/coupon-codes/{code}/rotate`: 201 `{coupon, replaced}`; the old code attributes for
/// `graceDays` (default 14) more, then stops; a code already rotated is 409.
async fn rotate_coupon(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, partner, code)): Path<(Handle, PartnerId, CouponCode)>,
    Json(body): Json<RotateBody>,
) -> ApiResult<(StatusCode, axum::Json<coupons::Rotated>)> {
    let new = body
        .new_code
        .as_deref()
        .ok_or_else(|| ApiError::invalid_request("newCode: is required."))?;
    let new = CouponCode::parse(new)
        .map_err(|e| ApiError::invalid_request(format!("newCode: {}", e.message)))?;
    let grace = body.grace_days.unwrap_or(DEFAULT_GRACE_DAYS);
    // A new code attributes sales to the partner: never made by a person it acts for.
    caller.refuse_own(Some(&partner)).await?;
    let store = state.store.as_ref();
    let rotated = coupons::rotate(store, &caller.handle, &partner, (&code, new), grace).await?;
    Ok((StatusCode::CREATED, axum::Json(rotated)))
}

/// Two weeks: long enough for a partner to replace the code where it published it.
const DEFAULT_GRACE_DAYS: u32 = 14;

/// `GET …/coupon-codes/{code}/leak`: the code's leak report.
async fn coupon_leak(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, code)): Path<(Handle, CouponCode)>,
) -> ApiResult<axum::Json<crate::coupon_leaks::Leak>> {
    let store = state.store.as_ref();
    match crate::coupon_leaks::report::of_code(store, &caller.handle, &code).await {
        Ok(leak) => Ok(axum::Json(leak)),
        Err(crate::coupon_leaks::LeakError::NotFound(c)) => {
            Err(ApiError::not_found(format!("Coupon code {c}")))
        }
        Err(crate::coupon_leaks::LeakError::Store(e)) => Err(e.into()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CouponBody {
    code: Option<String>,
    campaign_id: Option<CampaignId>,
}

/// `POST …/partners/{partnerId}/coupon-codes`: 201; a code taken (whatever its case) is 409.
async fn create_coupon(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, partner)): Path<(Handle, PartnerId)>,
    Json(body): Json<CouponBody>,
) -> ApiResult<(StatusCode, axum::Json<Coupon>)> {
    let code = body
        .code
        .as_deref()
        .ok_or_else(|| ApiError::invalid_request("code: is required."))?;
    let code = CouponCode::parse(code)
        .map_err(|e| ApiError::invalid_request(format!("code: {}", e.message)))?;
    let campaign = body
        .campaign_id
        .ok_or_else(|| ApiError::invalid_request("campaignId: is required."))?;
    // A code attributes sales to the partner: never made by a person who acts for it.
    caller.refuse_own(Some(&partner)).await?;
    let coupon = coupons::create(
        state.store.as_ref(),
        &caller.handle,
        &partner,
        code,
        &campaign,
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(coupon)))
}

/// `GET …/partners/{partnerId}/coupon-codes`: the partner's codes (a partner token: its own).
async fn list_coupons(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, partner)): Path<(Handle, PartnerId)>,
    Query(params): Query<PageParams>,
) -> ApiResult<axum::Json<crate::http::pagination::Page<Coupon>>> {
    if !caller.sees_partner(&partner) {
        return Err(ApiError::not_found(format!("Partner {partner}")));
    }
    let store = state.store.as_ref();
    let (limit, after) = (params.limit()?, params.after()?);
    let (items, next) = coupons::list(store, &caller.handle, &partner, limit, after).await?;
    Ok(axum::Json(crate::http::pagination::Page {
        items,
        next_cursor: next.as_deref().map(encode_cursor),
    }))
}

/// `DELETE …/partners/{partnerId}/coupon-codes/{code}`: 204; what it attributed stays.
async fn delete_coupon(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, partner, code)): Path<(Handle, PartnerId, CouponCode)>,
) -> ApiResult<StatusCode> {
    coupons::delete(state.store.as_ref(), &caller.handle, &partner, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

impl From<CouponError> for ApiError {
    fn from(e: CouponError) -> Self {
        let message = e.to_string();
        match e {
            CouponError::Invalid(_) => ApiError::invalid_request(message),
            CouponError::Taken(_) => ApiError::conflict(message),
            CouponError::NotFound(what) => ApiError::not_found(what),
            CouponError::Rotated(..) => ApiError::invalid_state(message),
            CouponError::Store(e) => e.into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct LeadBody {
    ctx: Option<String>,
    customer_id: Option<String>,
    email: Option<String>,
    idempotency_key: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LeadAnswer {
    customer_id: CustomerId,
    click_id: crate::domain::ClickId,
    campaign_id: Option<CampaignId>,
    partner_id: Option<PartnerId>,
    bound: bool,
    deduped: bool,
    conversion_id: crate::domain::ConversionId,
}

fn customer_id(raw: Option<&str>) -> ApiResult<CustomerId> {
    let raw = raw.ok_or_else(|| ApiError::invalid_request("customerId: is required."))?;
    Ok(CustomerId::parse(raw)?)
}

/// The email masked and digested (never kept as given); `400` naming `email` when it is not one.
fn email(state: &AppState, raw: Option<&str>) -> ApiResult<Option<Email>> {
    let Some(raw) = raw else { return Ok(None) };
    let keys = state
        .ctx_keys
        .as_deref()
        .ok_or_else(|| ApiError::internal("customer emails need the ctx keyring"))?;
    Ok(Some(Email::protect(keys, raw)?))
}

/// `POST /v2/public/leads`: 202 with the binding (`bound: false` when the customer was bound
/// before); a replay answers 200 with `deduped: true`. `application/json` only ([`JsonOnly`]:
/// it stores an email a person typed, so no simple cross-site POST).
async fn create_lead(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    JsonOnly(body): JsonOnly<LeadBody>,
) -> ApiResult<Response> {
    let claims = verify_ctx(&state, body.ctx.as_deref())?;
    let id = customer_id(body.customer_id.as_deref())?;
    let masked = email(&state, body.email.as_deref())?;
    let key = body
        .idempotency_key
        .as_deref()
        .map(IdempotencyKey::parse)
        .transpose()?;
    let channel = Channel::Public { client };
    let deps = (
        crate::http::conversions::binder(&state),
        crate::http::conversions::intake(&state),
    );
    let lead = bind::lead(deps, claims, &id, masked, key, channel).await?;
    let c = lead.customer;
    let status = if lead.receipt.deduped {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let answer = LeadAnswer {
        customer_id: c.customer_id,
        click_id: c.click_id,
        campaign_id: c.campaign_id,
        partner_id: c.partner_id,
        bound: lead.bound,
        deduped: lead.receipt.deduped,
        conversion_id: lead.receipt.conversion_id,
    };
    Ok((status, axum::Json(answer)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateBody {
    customer_id: Option<String>,
    ctx: Option<String>,
    coupon_code: Option<String>,
    partner_id: Option<PartnerId>,
    campaign_id: Option<CampaignId>,
    email: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Created {
    #[serde(flatten)]
    customer: CustomerView,
    bound: bool,
}

/// `POST /v2/handles/{handle}/customers`: 201 when bound now, 200 with the binding that was
/// there (`bound: false`).
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CreateBody>,
) -> ApiResult<Response> {
    let id = customer_id(body.customer_id.as_deref())?;
    let masked = email(&state, body.email.as_deref())?;
    let handle = &caller.handle;
    let way = match (
        &body.ctx,
        &body.coupon_code,
        &body.partner_id,
        &body.campaign_id,
    ) {
        (Some(ctx), None, None, None) => {
            let claims = verify_ctx(&state, Some(ctx))?;
            if claims.handle != *handle {
                return Err(ApiError::invalid_ctx(format!(
                    "ctx: the click belongs to another handle, not {handle}."
                )));
            }
            bind::BindBy::Ctx(Box::new(claims))
        }
        (None, Some(code), None, None) => bind::BindBy::Coupon(CouponCode::parse(code)?),
        (None, None, Some(p), Some(c)) => {
            // A buyer bound by hand earns the partner every later sale's commission.
            caller.refuse_own(Some(p)).await?;
            bind::BindBy::Hand {
                partner: p.clone(),
                campaign: c.clone(),
            }
        }
        _ => {
            return Err(ApiError::invalid_request(
                "give exactly one of ctx, couponCode, or partnerId with campaignId.",
            ));
        }
    };
    let binder = crate::http::conversions::binder(&state);
    let (view, bound) = bind::bind(binder, handle, &id, way, masked).await?;
    let status = if bound {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        axum::Json(Created {
            customer: view,
            bound,
        }),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ListParams {
    partner_id: Option<PartnerId>,
    campaign_id: Option<CampaignId>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CustomerPage {
    items: Vec<CustomerView>,
    next_cursor: Option<String>,
}

/// `GET /v2/handles/{handle}/customers`: newest binding first; a partner token sees its own.
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<axum::Json<CustomerPage>> {
    let (from_ms, to_ms) = time_range(p.from.as_deref(), p.to.as_deref())?;
    let mut filter = Filter {
        partner_id: p.partner_id,
        campaign_id: p.campaign_id,
        from_ms,
        to_ms,
    };
    if let Some(own) = caller.partner() {
        filter.partner_id = Some(own.clone());
    }
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    };
    let store = state.store.as_ref();
    let (mut items, next) =
        repo::list(store, &caller.handle, &filter, page.limit()?, page.after()?).await?;
    for view in &mut items {
        as_caller_reads(&caller, view);
    }
    Ok(axum::Json(CustomerPage {
        items,
        next_cursor: next.as_deref().map(encode_cursor),
    }))
}

/// `GET /v2/handles/{handle}/customers/{customerId}`: 404 for one not bound (or another
/// partner's, for a partner token).
async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, CustomerId)>,
) -> ApiResult<axum::Json<CustomerView>> {
    let (customer, mut view) = repo::get(state.store.as_ref(), &caller.handle, &id)
        .await?
        .filter(|(c, _)| {
            caller
                .partner()
                .is_none_or(|own| c.partner_id.as_ref() == Some(own))
        })
        .ok_or_else(|| ApiError::not_found(format!("Customer {id}")))?;
    let _ = customer;
    as_caller_reads(&caller, &mut view);
    Ok(axum::Json(view))
}

/// A customer as the caller reads it: its partner never reads the flags about risk
/// (`self_referral`, `domain::words::about_risk`).
fn as_caller_reads(caller: &Caller, view: &mut CustomerView) {
    if caller.partner().is_some() {
        view.flags.retain(|f| !crate::domain::words::about_risk(f));
    }
}

impl From<CustomerError> for ApiError {
    fn from(e: CustomerError) -> Self {
        let message = e.to_string();
        match e {
            CustomerError::NotFound(id) => ApiError::not_found(format!("Customer {id}")),
            CustomerError::Invalid(_) => ApiError::invalid_request(message),
            CustomerError::Store(e) => e.into(),
        }
    }
}

impl From<LeadError> for ApiError {
    fn from(e: LeadError) -> Self {
        match e {
            LeadError::Customer(e) => e.into(),
            LeadError::Conversion(e) => e.into(),
        }
    }
}
