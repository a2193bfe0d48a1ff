//! Conversion routes. Public: `POST /v2/public/conversions` (the signed ctx is the credential and
//! scopes the idempotency key to its handle). Authenticated (the merchant's server and the audit
//! trail): `POST|GET /v2/handles/{handle}/conversions`, `GET …/conversions/{conversionId}`,
//! `POST …/conversions/{conversionId}/reverse`, `GET|PUT …/conversion-policy`. The write path
//! is `crate::conversions`.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::http::routes::Routes;
use serde::{Deserialize, Serialize};

use crate::analytics::days::DayRange;
use crate::attribute::{self, AttributeError, By};
use crate::conversions::list::{Filter, Resume};
use crate::conversions::reverse::{ReverseError, ReverseInput};
use crate::conversions::{self, Channel, ConversionError, Receipt};
use crate::domain::conversion::{ConversionInput, ValidConversion};
use crate::domain::risk::{ConversionPolicy, PolicyInput};
use crate::domain::{ConversionId, CouponCode, CustomerId};
use crate::http::auth::Caller;
use crate::http::campaigns::parse_campaign_id;
use crate::http::error::{ApiError, ApiResult, ErrorCode};
use crate::http::extract::{ClientAddr, IdPath, Json, PathId, Query, verify_ctx};
use crate::http::pagination::{PageParams, decode_cursor, encode_cursor};
use crate::kernel::events::ConversionData;
use crate::kernel::state::AppState;

/// The public route (served by the public function).
pub fn public_router() -> Router<AppState> {
    Router::new().route("/v2/public/conversions", post(create_public))
}

/// The authenticated routes (the conversions function): the merchant's server, and the audit
/// trail. A verified conversion is not a rate-limited write.
pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::{Creator, Operator, Viewer};
    use crate::http::auth::Scope::{ConversionsRead, ConversionsWrite};
    use crate::http::routes::Charge::{Free, Write};
    Routes::new()
        .at("/v2/handles/{handle}/conversions")
        .post(Creator, Some(ConversionsWrite), Free, create_verified)
        .get(Viewer, Some(ConversionsRead), Free, list)
        .at("/v2/handles/{handle}/conversions/{conversionId}")
        .get(Viewer, Some(ConversionsRead), Free, get_one)
        .at("/v2/handles/{handle}/conversions/{conversionId}/reverse")
        .post(Operator, Some(ConversionsWrite), Write, reverse)
        .at("/v2/handles/{handle}/conversion-policy")
        .get(Operator, None, Free, get_policy)
        .put(Operator, None, Write, put_policy)
}

/// The body of both submission routes. Every field is optional here so that each missing one is
/// reported in its own words (a missing ctx is `invalid_ctx`, a missing key names
/// `idempotencyKey`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ConversionBody {
    ctx: Option<String>,
    /// A bound customer's conversion (issue 44): attributed by its binding; with a ctx, the
    /// customer is bound to that click first (first binding wins).
    customer_id: Option<String>,
    coupon_code: Option<String>,
    /// The page the buyer landed on came from here (`t.js` keeps it: `tenx.landingReferrer()`): where a
    /// coupon code used without a click came from (issue 63).
    landing_referrer: Option<String>,
    idempotency_key: Option<String>,
    event_type: Option<String>,
    /// A JSON number or a decimal string; parsed exactly by the domain layer.
    value: Option<serde_json::Value>,
    currency: Option<String>,
    test: Option<bool>,
    metadata: Option<serde_json::Value>,
}

impl ConversionBody {
    /// The customer and the coupon code named, each parsed (an unknown code is found out only
    /// when the sale needs it: the binding and the ctx come first).
    fn attribution(&self) -> ApiResult<(Option<CustomerId>, Option<CouponCode>)> {
        let customer = self.customer_id.as_deref().map(CustomerId::parse);
        let coupon = self.coupon_code.as_deref().map(CouponCode::parse);
        Ok((customer.transpose()?, coupon.transpose()?))
    }

    fn landing(&self) -> ApiResult<Option<String>> {
        Ok(crate::domain::landing_referrer(
            self.landing_referrer.as_deref(),
        )?)
    }

    fn conversion(self, state: &AppState) -> ApiResult<ValidConversion> {
        let conversion = ConversionInput {
            idempotency_key: self.idempotency_key,
            event_type: self.event_type,
            value: self.value,
            currency: self.currency,
            test: self.test,
            metadata: self.metadata,
        }
        .validate()?
        .within_max(state.config.max_conversion_value)?;
        Ok(conversion)
    }
}

/// 202 for a new conversion, 200 (`deduped: true`, the original response) for a replay.
fn accepted(receipt: Receipt) -> Response {
    let status = if receipt.deduped {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    (status, axum::Json(receipt)).into_response()
}

/// `POST /v2/public/conversions`: `verified: false`; the handle's policy may flag or refuse it.
async fn create_public(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Json(body): Json<ConversionBody>,
) -> ApiResult<Response> {
    let claims = verify_ctx(&state, body.ctx.as_deref())?;
    let (customer, coupon) = body.attribution()?;
    let landing = body.landing()?;
    let conversion = body.conversion(&state)?;
    let channel = Channel::Public { client };
    let handle = claims.handle.clone();
    let by = By {
        ctx: Some(claims),
        customer,
        coupon,
        landing,
    };
    let receipt = attribute::submit(attribution(&state), &handle, by, conversion, channel).await?;
    Ok(accepted(receipt))
}

/// What a conversion's intake uses of the router's state.
pub(crate) fn intake(state: &AppState) -> conversions::Intake<'_> {
    conversions::Intake {
        io: state.io(),
        policies: &state.policy_cache,
        limits: &state.config.rate_limits,
        full: &state.full_counters,
        signing: state.signing.as_deref(),
        retention: state.config.idempotency_retention,
    }
}

/// What a customer's binding uses of the router's state: its store and queue, and the ctx keys
/// that digest an email.
pub(crate) fn binder(state: &AppState) -> crate::customers::bind::Binder<'_> {
    crate::customers::bind::Binder::new(state.io(), state.ctx_keys.as_deref())
}

/// What attributing a conversion uses of the router's state.
pub(crate) fn attribution(state: &AppState) -> attribute::Attribution<'_> {
    attribute::Attribution {
        intake: intake(state),
        binder: binder(state),
    }
}

/// `POST /v2/handles/{handle}/conversions`: the merchant's server; `verified: true`. The ctx
/// must be one of `{handle}`'s clicks.
async fn create_verified(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<ConversionBody>,
) -> ApiResult<Response> {
    let (customer, coupon) = body.attribution()?;
    // A customer's or a coupon's conversion needs no ctx (the binding or the code attributes it).
    let claims = match (&body.ctx, customer.is_some() || coupon.is_some()) {
        (None, true) => None,
        (ctx, _) => Some(verify_ctx(&state, ctx.as_deref())?),
    };
    if let Some(c) = &claims
        && c.handle != caller.handle
    {
        return Err(ApiError::invalid_ctx(format!(
            "ctx: the click belongs to another handle, not {}.",
            caller.handle
        )));
    }
    let landing = body.landing()?;
    let conversion = body.conversion(&state)?;
    let by = By {
        ctx: claims,
        customer,
        coupon,
        landing,
    };
    let receipt = attribute::submit(
        attribution(&state),
        &caller.handle,
        by,
        conversion,
        Channel::Verified,
    )
    .await?;
    Ok(accepted(receipt))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ListParams {
    campaign_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    verified: Option<String>,
    flagged: Option<String>,
    reversed: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConversionList {
    items: Vec<ConversionData>,
    next_cursor: Option<String>,
}

fn flag(name: &str, raw: Option<&str>) -> ApiResult<Option<bool>> {
    match raw {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(ApiError::invalid_request(format!(
            "{name}: expected true or false."
        ))),
    }
}

/// `GET /v2/handles/{handle}/conversions`: newest first, `{items, nextCursor}`.
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<axum::Json<ConversionList>> {
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    };
    let filter = Filter {
        campaign_id: p
            .campaign_id
            .as_deref()
            .map(parse_campaign_id)
            .transpose()?,
        verified: flag("verified", p.verified.as_deref())?,
        flagged: flag("flagged", p.flagged.as_deref())?,
        reversed: flag("reversed", p.reversed.as_deref())?,
    };
    let today = crate::platform::time::now().date();
    let range = DayRange::parse(p.from.as_deref(), p.to.as_deref(), today)?;
    let resume = page.cursor.as_deref().map(resume_of).transpose()?;
    let (items, next) = conversions::list::list(
        state.store.as_ref(),
        &caller.handle,
        &range,
        &filter,
        page.limit()?,
        resume,
    )
    .await?;
    let next_cursor = next.map(|r| encode_cursor(&format!("{}|{}", r.day, r.after)));
    Ok(axum::Json(ConversionList { items, next_cursor }))
}

fn resume_of(cursor: &str) -> ApiResult<Resume> {
    let raw = decode_cursor(cursor)?;
    let (day, after) = raw
        .split_once('|')
        .ok_or_else(|| ApiError::invalid_request("cursor: not a cursor returned by this API."))?;
    Ok(Resume {
        day: day.to_owned(),
        after: after.to_owned(),
    })
}

impl PathId for ConversionId {
    const SEGMENT: &'static str = "conversionId";

    fn parse(raw: &str) -> Option<Self> {
        ConversionId::parse(raw).ok()
    }

    fn not_found(raw: &str) -> ApiError {
        ApiError::not_found(format!("Conversion {raw}"))
    }
}

/// `GET /v2/handles/{handle}/conversions/{conversionId}`: the record with its attribution,
/// risk and reversal.
async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<ConversionId>,
) -> ApiResult<axum::Json<ConversionData>> {
    let (_, data) = conversions::record::load(state.store.as_ref(), &caller.handle, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Conversion {id}")))?;
    Ok(axum::Json(data))
}

/// `POST …/conversions/{conversionId}/reverse`: 201 with the reversed conversion; 200 with the
/// same for every later call (the first reversal stands).
async fn reverse(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<ConversionId>,
    Json(body): Json<ReverseInput>,
) -> ApiResult<Response> {
    let request = body.validate()?;
    let by = &caller.principal.subject;
    let (data, first) =
        conversions::reverse::reverse(state.io(), &caller.handle, &id, &request, by).await?;
    let status = if first {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(data)).into_response())
}

/// `GET …/conversion-policy`: the stored policy, or the defaults.
async fn get_policy(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<ConversionPolicy>> {
    let policy = conversions::policy::load(state.store.as_ref(), &caller.handle).await?;
    Ok(axum::Json(policy))
}

/// `PUT …/conversion-policy`: replaces it; absent fields take their defaults.
async fn put_policy(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<PolicyInput>,
) -> ApiResult<axum::Json<ConversionPolicy>> {
    let policy = body.validate()?;
    let saved = conversions::policy::save(
        state.store.as_ref(),
        &state.policy_cache,
        &caller.handle,
        policy,
    )
    .await?;
    Ok(axum::Json(saved))
}

impl From<ConversionError> for ApiError {
    fn from(e: ConversionError) -> Self {
        let message = e.to_string();
        match e {
            ConversionError::InvalidCtx => ApiError::invalid_ctx(message),
            ConversionError::KeyReused(_) => {
                ApiError::new(ErrorCode::IdempotencyKeyReused, message)
            }
            ConversionError::InFlight {
                retry_after_secs, ..
            } => ApiError::retry_later(message, retry_after_secs),
            ConversionError::Busy => ApiError::retry_later(message, 1),
            ConversionError::VerificationRequired(_) => {
                ApiError::new(ErrorCode::VerificationRequired, message)
            }
            ConversionError::ClickCapReached { .. } => ApiError::conflict(message),
            ConversionError::Limited(e) => e.into(),
            ConversionError::Store(e) => e.into(),
        }
    }
}

impl From<AttributeError> for ApiError {
    fn from(e: AttributeError) -> Self {
        match e {
            AttributeError::NothingToAttributeBy => ApiError::invalid_ctx(e.to_string()),
            AttributeError::Lead(e) => e.into(),
            AttributeError::Store(e) => e.into(),
        }
    }
}

impl From<ReverseError> for ApiError {
    fn from(e: ReverseError) -> Self {
        match e {
            ReverseError::NotFound(id) => ApiError::not_found(format!("Conversion {id}")),
            ReverseError::Invalid(e) => e.into(),
            ReverseError::Busy => ApiError::retry_later(e.to_string(), 1),
            ReverseError::Store(e) => e.into(),
        }
    }
}
