//! Commission routes: partners, a campaign's commission plan, exchange rates, the ledger with its
//! review, and balances. The work is in `crate::ledger`; payouts are in `http::payouts`.

use crate::http::routes::Routes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::domain::{CampaignId, CommissionId, Currency, DomainError, Handle, PartnerId, TokenId};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{IdPath, IfMatch, Json, Path, Query, if_match};
use crate::http::pagination::{self, Page, PageParams, encode_cursor};
use crate::kernel::state::AppState;
use crate::ledger::model::{Kind, Status};
use crate::ledger::view::CommissionView;
use crate::plans::model::PlanSpec;
use crate::plans::preview;
use crate::webhooks::log::{AttemptRecord, AttemptView};
use crate::webhooks::postback;
use crate::{fx, ledger, ledger::CommissionError, ledger::Filter, ledger::balances};
use crate::{
    ledger::review,
    ledger::review::{Decision, MAX_BULK, Manual, Review},
};
use crate::{
    partners, partners::Partner, partners::PartnerError, partners::PartnerFields,
    partners::PartnerStatus,
};
use crate::{partners::tokens, partners::tokens::PartnerTokenError};
use crate::{plans, plans::PlanError};

/// Partners, plans, rates, the ledger and balances (payouts: [`crate::http::payouts`]).
pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::{Operator, Viewer};
    use crate::http::auth::Scope::{CommissionsRead, CommissionsWrite};
    use crate::http::routes::Charge::{Free, Write};
    const R: Option<crate::http::auth::Scope> = Some(CommissionsRead);
    const W: Option<crate::http::auth::Scope> = Some(CommissionsWrite);
    Routes::new()
        .at("/v2/handles/{handle}/partners")
        .get(Viewer, R, Free, list_partners)
        .post(Operator, W, Write, create_partner)
        .at("/v2/handles/{handle}/partners/{partnerId}")
        .get(Viewer, R, Free, get_partner)
        .patch(Operator, W, Write, update_partner)
        .at("/v2/handles/{handle}/partners/{partnerId}/postbacks")
        .get(Viewer, R, Free, postback_log)
        .at("/v2/handles/{handle}/partners/{partnerId}/notices")
        .get(Viewer, R, Free, list_notices)
        .at("/v2/handles/{handle}/partners/{partnerId}/tokens")
        .post(Operator, W, Write, mint_token)
        .get(Operator, W, Free, list_tokens)
        .at("/v2/handles/{handle}/partners/{partnerId}/tokens/{tokenId}")
        .delete(Operator, W, Write, revoke_token)
        .at("/v2/handles/{handle}/campaigns/{campaignId}/commission-plan")
        .get(Viewer, R, Free, get_plan)
        .put(Operator, W, Write, put_plan)
        .at("/v2/handles/{handle}/campaigns/{campaignId}/commission-plan/preview")
        .post(Viewer, R, Free, preview_plan)
        .at("/v2/handles/{handle}/campaigns/{campaignId}/commission-plan/backtest")
        .post(Operator, W, Write, backtest_plan)
        .at("/v2/handles/{handle}/fx-rates")
        .get(Viewer, R, Free, get_rates)
        .post(Operator, W, Write, post_rates)
        .at("/v2/handles/{handle}/commissions")
        .get(Viewer, R, Free, list)
        .post(Operator, W, Write, create_manual)
        .at("/v2/handles/{handle}/commissions/approve")
        .post(Operator, W, Write, approve_bulk)
        .at("/v2/handles/{handle}/commissions/reject")
        .post(Operator, W, Write, reject_bulk)
        .at("/v2/handles/{handle}/commissions/{commissionId}")
        .get(Viewer, R, Free, get_one)
        .at("/v2/handles/{handle}/commissions/{commissionId}/approve")
        .post(Operator, W, Write, approve)
        .at("/v2/handles/{handle}/commissions/{commissionId}/reject")
        .post(Operator, W, Write, reject)
        .at("/v2/handles/{handle}/balances")
        .get(Viewer, R, Free, get_balances)
}

// ---------------------------------------------------------------- partners

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PartnerBody {
    #[serde(default)]
    partner_id: Option<String>,
    #[serde(default, deserialize_with = "given")]
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    postback_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "given")]
    postback_events: Option<Vec<String>>,
    #[serde(default, deserialize_with = "given")]
    status: Option<PartnerStatus>,
}

/// A field that, when given, must be a value: `null` is refused (400 naming it), never taken
/// as "unchanged" (only `email` and `postbackUrl` are cleared by `null`).
fn given<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// A field given as `null` is `Some(None)` (cleared); an absent one is `None` (unchanged).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

impl PartnerBody {
    fn fields(self, state: &AppState) -> Result<PartnerFields, DomainError> {
        let allow_http = state.config.webhooks_allow_private;
        Ok(PartnerFields {
            name: self
                .name
                .as_deref()
                .map(partners::validate_name)
                .transpose()?,
            email: self
                .email
                .map(|e| e.as_deref().map(partners::validate_email).transpose())
                .transpose()?,
            postback_url: self
                .postback_url
                .map(|u| {
                    u.as_deref()
                        .map(|u| partners::validate_postback_url(u, allow_http))
                        .transpose()
                })
                .transpose()?,
            postback_events: self
                .postback_events
                .as_deref()
                .map(partners::validate_postback_events)
                .transpose()?,
            status: self.status,
        })
    }
}

async fn create_partner(
    State(state): State<AppState>,
    caller: Caller,
    Json(mut body): Json<PartnerBody>,
) -> ApiResult<Response> {
    // Without an id, one is made from the name (issue 62: a manager never types one).
    let id = body
        .partner_id
        .take()
        .map(|raw| PartnerId::parse(&raw))
        .transpose()?;
    let name = partners::validate_name(body.name.as_deref().unwrap_or(""))?;
    let fields = body.fields(&state)?;
    let store = state.store.as_ref();
    let partner = match id {
        Some(id) => partners::create(store, &caller.handle, id, name, fields).await?,
        None => partners::named::create(store, &caller.handle, name, fields).await?,
    };
    Ok((StatusCode::CREATED, axum::Json(partner)).into_response())
}

async fn get_partner(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PartnerId)>,
) -> ApiResult<axum::Json<Partner>> {
    let partner = partners::get(state.store.as_ref(), &caller.handle, &id)
        .await?
        .filter(|_| caller.sees_partner(&id))
        .ok_or_else(|| ApiError::not_found(format!("Partner {id}")))?;
    Ok(axum::Json(partner))
}

/// The partner's signed plan change notices, newest first (a partner token: its own).
/// Round trips: ONE read, ONE query.
async fn list_notices(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PartnerId)>,
    Query(params): Query<PageParams>,
) -> ApiResult<axum::Json<Page<crate::plans::notice::Notice>>> {
    partners::get(state.store.as_ref(), &caller.handle, &id)
        .await?
        .filter(|_| caller.sees_partner(&id))
        .ok_or_else(|| ApiError::not_found(format!("Partner {id}")))?;
    let (items, next) = crate::plans::notice::list(
        state.store.as_ref(),
        &caller.handle,
        &id,
        params.limit()?,
        params.after()?,
    )
    .await?;
    Ok(axum::Json(Page {
        items,
        next_cursor: next.as_deref().map(encode_cursor),
    }))
}

/// The partner's postback attempts, newest first (its postback is a subscription: the same
/// delivery log as a webhook's). Round trips: ONE read, ONE query.
async fn postback_log(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PartnerId)>,
    Query(params): Query<PageParams>,
) -> ApiResult<axum::Json<Page<AttemptView>>> {
    partners::get(state.store.as_ref(), &caller.handle, &id)
        .await?
        .filter(|_| caller.sees_partner(&id))
        .ok_or_else(|| ApiError::not_found(format!("Partner {id}")))?;
    let sub = postback::subscription_id(caller.handle.as_str(), &id);
    let q = params.page_of(crate::webhooks::log::attempts(&caller.handle, &sub))?;
    let page = pagination::fetch(state.store.as_ref(), q, |r: AttemptRecord| r.view(&sub));
    Ok(axum::Json(page.await?))
}

async fn list_partners(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<PageParams>,
) -> ApiResult<axum::Json<Page<Partner>>> {
    if let Some(own) = caller.partner() {
        // A partner token: its own record only (how the console learns whose token it is).
        let mine = partners::get(state.store.as_ref(), &caller.handle, own).await?;
        return Ok(axum::Json(Page {
            items: mine.into_iter().collect(),
            next_cursor: None,
        }));
    }
    let (items, next) = partners::list(
        state.store.as_ref(),
        &caller.handle,
        params.limit()?,
        params.after()?,
    )
    .await?;
    Ok(axum::Json(Page {
        items,
        next_cursor: next.as_deref().map(encode_cursor),
    }))
}

async fn update_partner(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PartnerId)>,
    Json(body): Json<PartnerBody>,
) -> ApiResult<axum::Json<Partner>> {
    if body.partner_id.is_some() {
        return Err(ApiError::invalid_request("partnerId: cannot be changed."));
    }
    let nothing = body.name.is_none()
        && body.email.is_none()
        && body.postback_url.is_none()
        && body.postback_events.is_none()
        && body.status.is_none();
    if nothing {
        return Err(ApiError::invalid_request(
            "body: give at least one field to change.",
        ));
    }
    // A member never lifts or sets the standing of the partner they act for.
    if body.status.is_some() {
        caller.refuse_own(Some(&id)).await?;
    }
    let fields = body.fields(&state)?;
    let base = crate::mail::unsubscribe::public_base(&state.config);
    let io = state.io();
    Ok(axum::Json(
        crate::mail::address_change::update(io, &caller.handle, &id, fields, &base).await?,
    ))
}

// ---------------------------------------------------------------- partner tokens

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct MintBody {
    name: String,
    #[serde(default)]
    expires_in_days: Option<u32>,
}

async fn mint_token(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, partner)): Path<(Handle, PartnerId)>,
    Json(body): Json<MintBody>,
) -> ApiResult<Response> {
    let by = &caller.principal.subject;
    let (record, token) = tokens::mint(
        state.store.as_ref(),
        &caller.handle,
        &partner,
        &body.name,
        body.expires_in_days,
        by,
    )
    .await?;
    let mut view = serde_json::to_value(&record).unwrap_or_default();
    view["token"] = serde_json::Value::String(token);
    Ok((StatusCode::CREATED, axum::Json(view)).into_response())
}

async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, partner)): Path<(Handle, PartnerId)>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let items = tokens::list(state.store.as_ref(), &caller.handle, &partner).await?;
    Ok(axum::Json(serde_json::json!({ "items": items })))
}

/// `…/partners/{partnerId}/…` by name: the other segments have their own extractors.
#[derive(Deserialize)]
struct PartnerPath {
    #[serde(rename = "partnerId")]
    partner: PartnerId,
}

async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(PartnerPath { partner }): Path<PartnerPath>,
    IdPath(token_id): IdPath<TokenId>,
) -> ApiResult<StatusCode> {
    tokens::revoke(state.store.as_ref(), &caller.handle, &partner, &token_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

impl From<PartnerTokenError> for ApiError {
    fn from(e: PartnerTokenError) -> Self {
        let message = e.to_string();
        match e {
            PartnerTokenError::Invalid(_) => ApiError::invalid_request(message),
            PartnerTokenError::PartnerNotFound(id) => ApiError::not_found(format!("Partner {id}")),
            PartnerTokenError::NotFound(id) => ApiError::not_found(format!("Token {id}")),
            PartnerTokenError::Suspended(_) => ApiError::invalid_state(message),
            PartnerTokenError::Store(e) => e.into(),
        }
    }
}

// ---------------------------------------------------------------- plan

fn with_etag(version: u64, body: impl Serialize) -> Response {
    let mut response = axum::Json(body).into_response();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

async fn get_plan(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, campaign)): Path<(Handle, CampaignId)>,
) -> ApiResult<Response> {
    if let Some(own) = caller.partner() {
        let c = crate::campaigns::get(state.store.as_ref(), &caller.handle, &campaign).await?;
        if c.and_then(|c| c.partner_id).as_ref() != Some(own) {
            return Err(ApiError::not_found(format!("Campaign {campaign}")));
        }
    }
    let plan = plans::current(state.store.as_ref(), &caller.handle, &campaign)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("The commission plan of campaign {campaign}"))
        })?;
    Ok(with_etag(plan.version, plan))
}

async fn put_plan(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, campaign)): Path<(Handle, CampaignId)>,
    headers: HeaderMap,
    Json(spec): Json<PlanSpec>,
) -> ApiResult<Response> {
    let expected = match if_match(&headers)? {
        None | Some(IfMatch::Any) => None,
        Some(IfMatch::Version(v)) => Some(v),
    };
    let max_days = u32::try_from((state.config.attribution_window.as_secs() / 86_400).max(1))
        .unwrap_or(u32::MAX);
    let valid = spec.validate(max_days)?;
    // A plan raises or lowers the money of the campaign's partner: never set by its own people.
    if caller.own_partner().await?.is_some() {
        let owner = crate::campaigns::get(state.store.as_ref(), &caller.handle, &campaign)
            .await?
            .and_then(|c| c.partner_id);
        if let Some(owner) = owner {
            caller.refuse_own(Some(&owner)).await?;
        }
    }
    let by = &caller.principal.subject;
    let plan = crate::plan_changes::put(
        state.io(),
        state.signing(),
        &caller.handle,
        &campaign,
        valid,
        expected,
        by,
    )
    .await?;
    Ok(with_etag(plan.version, plan))
}

async fn preview_plan(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, campaign)): Path<(Handle, CampaignId)>,
    Json(sample): Json<preview::Sample>,
) -> ApiResult<axum::Json<preview::Preview>> {
    let got = preview::preview(
        state.store.as_ref(),
        state.config.attribution_window,
        &caller.handle,
        &campaign,
        sample,
    )
    .await?;
    Ok(axum::Json(got))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct BacktestBody {
    plan: PlanSpec,
    from: String,
    to: String,
    /// The coupon policy replayed beside the plan (issue 63); absent: the program's own.
    coupon_without_click: Option<crate::programs::coupon_rules::CouponWithoutClick>,
    coupon_reduce_percent: Option<u32>,
}

/// A draft replayed on the period's conversions: what it would have paid beside what the
/// ledger did. Writes nothing.
async fn backtest_plan(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, campaign)): Path<(Handle, CampaignId)>,
    Json(body): Json<BacktestBody>,
) -> ApiResult<axum::Json<crate::plan_changes::backtest::Backtest>> {
    let period = crate::plan_changes::backtest::Period::parse(&body.from, &body.to)?;
    let found = crate::campaigns::get(state.store.as_ref(), &caller.handle, &campaign).await?;
    let found = found.ok_or_else(|| ApiError::not_found(format!("Campaign {campaign}")))?;
    let draft = preview::draft(state.config.attribution_window, &campaign, body.plan)?;
    let coupons = match body.coupon_without_click {
        Some(policy) => crate::programs::coupon_rules::CouponRules::validate(
            Some(policy),
            body.coupon_reduce_percent,
            None,
        )?,
        None if body.coupon_reduce_percent.is_some() => {
            return Err(ApiError::invalid_request(
                "couponReducePercent: is only for couponWithoutClick reduce.",
            ));
        }
        None => crate::programs::settings::get(state.store.as_ref(), &caller.handle)
            .await?
            .map(|p| p.coupon_rules())
            .unwrap_or_default(),
    };
    let replay = crate::plan_changes::backtest::run(
        state.store.as_ref(),
        &caller.handle,
        &found,
        (&draft, coupons),
        period,
    );
    Ok(axum::Json(replay.await?))
}

impl From<preview::PreviewError> for ApiError {
    fn from(e: preview::PreviewError) -> Self {
        match e {
            preview::PreviewError::Invalid(e) => e.into(),
            preview::PreviewError::Plan(e) => e.into(),
        }
    }
}

// ---------------------------------------------------------------- fx rates

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AtParams {
    at: Option<String>,
}

async fn post_rates(
    State(state): State<AppState>,
    caller: Caller,
    Json(spec): Json<fx::SnapshotSpec>,
) -> ApiResult<Response> {
    let valid = spec.validate()?;
    // The rates price every partner's commissions in other currencies, a person's own
    // partner's among them: never set by a person who acts for a partner of the handle.
    caller.refuse_own(None).await?;
    let by = &caller.principal.subject;
    let snapshot = fx::post(state.store.as_ref(), &caller.handle, valid, by)
        .await?
        .ok_or_else(|| {
            ApiError::conflict(
                "A snapshot of this base at this asOf exists; snapshots are kept, not replaced.",
            )
        })?;
    ledger::fx_resolve::resolve(state.io(), &crate::risk::Holds, &caller.handle).await?;
    Ok((StatusCode::CREATED, axum::Json(snapshot)).into_response())
}

async fn get_rates(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<AtParams>,
) -> ApiResult<axum::Json<fx::Snapshot>> {
    let at = match params.at.as_deref() {
        None => crate::platform::time::now_millis(),
        Some(raw) => crate::domain::time::rfc3339_millis(raw)
            .ok_or_else(|| ApiError::invalid_request("at: must be an RFC 3339 time."))?,
    };
    let snapshot = fx::in_force(state.store.as_ref(), &caller.handle, at, 1)
        .await?
        .into_iter()
        .next();
    snapshot
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found("An exchange-rate snapshot in force at that time"))
}

// ---------------------------------------------------------------- ledger

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ListParams {
    limit: Option<String>,
    cursor: Option<String>,
    campaign_id: Option<CampaignId>,
    partner_id: Option<PartnerId>,
    status: Option<String>,
    kind: Option<String>,
    from: Option<String>,
    to: Option<String>,
    /// `true`: test mode's lines (only them); the default leaves them out.
    test: Option<String>,
}

impl ListParams {
    fn filter(&self) -> ApiResult<Filter> {
        let status = self.status.as_deref().map(|s| {
            Status::parse(s).ok_or_else(|| {
                ApiError::invalid_request(
                    "status: expected pending, held, approved, rejected, capped or paid.",
                )
            })
        });
        let kind = self.kind.as_deref().map(|k| {
            Kind::parse(k).ok_or_else(|| {
                ApiError::invalid_request(
                    "kind: expected conversion, click_day, adjustment, clawback or manual.",
                )
            })
        });
        let (from_ms, to_ms) =
            crate::http::pagination::time_range(self.from.as_deref(), self.to.as_deref())?;
        let test = match self.test.as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(ApiError::invalid_request("test: expected true or false.")),
        };
        Ok(Filter {
            campaign_id: self.campaign_id.clone(),
            partner_id: self.partner_id.clone(),
            status: status.transpose()?,
            kind: kind.transpose()?,
            from_ms,
            to_ms,
            test,
        })
    }
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> ApiResult<axum::Json<Page<CommissionView>>> {
    let mut filter = params.filter()?;
    if let Some(own) = caller.partner() {
        filter.partner_id = Some(own.clone());
    }
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor,
    };
    let (lines, next) = ledger::list(
        state.store.as_ref(),
        &caller.handle,
        &filter,
        page.limit()?,
        page.after()?,
    )
    .await?;
    Ok(axum::Json(Page {
        items: lines.iter().map(|l| view_for(&caller, l)).collect(),
        next_cursor: next.as_deref().map(encode_cursor),
    }))
}

/// A line as the caller reads it: its partner never reads the reasons about risk.
fn view_for(caller: &Caller, line: &crate::ledger::model::Commission) -> CommissionView {
    let view = CommissionView::from(line);
    match caller.partner() {
        Some(_) => view.for_partner(),
        None => view,
    }
}

async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, CommissionId)>,
) -> ApiResult<axum::Json<CommissionView>> {
    let line = ledger::get(state.store.as_ref(), &caller.handle, &id)
        .await?
        .filter(|l| caller.sees_partner(&l.partner_id))
        .ok_or_else(|| ApiError::not_found(format!("Commission {id}")))?;
    Ok(axum::Json(view_for(&caller, &line)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ManualBody {
    partner_id: PartnerId,
    #[serde(default)]
    campaign_id: Option<CampaignId>,
    amount: String,
    currency: String,
    reason: String,
}

async fn create_manual(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<ManualBody>,
) -> ApiResult<Response> {
    let currency = Currency::parse(&body.currency)?;
    let minor = currency.parse_amount("amount", &body.amount)?;
    let reason = review_text("reason", Some(&body.reason))?.unwrap_or_default();
    caller.refuse_own(Some(&body.partner_id)).await?;
    let m = Manual {
        partner_id: body.partner_id,
        campaign_id: body.campaign_id,
        minor,
        currency,
        reason,
    };
    let line = review::manual(state.io(), &caller.handle, m, &caller.principal.subject).await?;
    Ok((StatusCode::CREATED, axum::Json(CommissionView::from(&line))).into_response())
}

/// A review's note or reason: 1 to 500 characters when given.
fn review_text(field: &str, raw: Option<&str>) -> ApiResult<Option<String>> {
    match raw.map(str::trim) {
        None => Ok(None),
        Some(t) if !t.is_empty() && t.chars().count() <= 500 => Ok(Some(t.to_owned())),
        Some(_) => Err(ApiError::invalid_request(format!(
            "{field}: must be 1 to 500 characters long."
        ))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ReviewBody {
    #[serde(default)]
    commission_ids: Option<Vec<String>>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

impl ReviewBody {
    /// The note (approve) or the required reason (reject); both are checked when given, so a
    /// bad field is never silently ignored.
    fn text(&self, d: Decision) -> ApiResult<Option<String>> {
        review_text("note", self.note.as_deref())?;
        review_text("reason", self.reason.as_deref())?;
        match d {
            Decision::Approve => review_text("note", self.note.as_deref()),
            Decision::Reject => review_text("reason", self.reason.as_deref())?
                .map(Some)
                .ok_or_else(|| ApiError::invalid_request("reason: is required to reject.")),
        }
    }
}

async fn decide_one(
    state: &AppState,
    caller: &Caller,
    id: &CommissionId,
    d: Decision,
    body: &ReviewBody,
) -> ApiResult<CommissionView> {
    let text = body.text(d)?;
    let review = Review {
        by: &caller.principal.subject,
        note: text.as_deref(),
        decider: &caller.decider().await?,
    };
    let line = review::decide(state.io(), &caller.handle, id, d, &review).await?;
    Ok(CommissionView::from(&line))
}

async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, CommissionId)>,
    Json(body): Json<ReviewBody>,
) -> ApiResult<axum::Json<CommissionView>> {
    Ok(axum::Json(
        decide_one(&state, &caller, &id, Decision::Approve, &body).await?,
    ))
}

async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, CommissionId)>,
    Json(body): Json<ReviewBody>,
) -> ApiResult<axum::Json<CommissionView>> {
    Ok(axum::Json(
        decide_one(&state, &caller, &id, Decision::Reject, &body).await?,
    ))
}

/// One id's outcome in a bulk review.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BulkItem {
    commission_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    commission: Option<CommissionView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<serde_json::Value>,
}

async fn bulk(
    state: &AppState,
    caller: &Caller,
    d: Decision,
    body: ReviewBody,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let ids = body.commission_ids.clone().unwrap_or_default();
    if ids.is_empty() || ids.len() > MAX_BULK {
        return Err(ApiError::invalid_request(format!(
            "commissionIds: expected 1 to {MAX_BULK} ids."
        )));
    }
    let parsed = ids.iter().enumerate().map(|(i, raw)| {
        CommissionId::parse(raw).map_err(|_| {
            ApiError::invalid_request(format!(
                "commissionIds[{i}]: `{raw}` is not a commission id."
            ))
        })
    });
    let parsed: Vec<CommissionId> = parsed.collect::<ApiResult<_>>()?;
    let text = body.text(d)?;
    let review = Review {
        by: &caller.principal.subject,
        note: text.as_deref(),
        decider: &caller.decider().await?,
    };
    let outcomes = review::decide_each(state.io(), &caller.handle, &parsed, d, &review).await?;
    let results: Vec<BulkItem> = parsed
        .iter()
        .zip(outcomes)
        .map(|(id, outcome)| match outcome {
            Ok(line) => BulkItem {
                commission_id: id.to_string(),
                commission: Some(CommissionView::from(&line)),
                error: None,
            },
            Err(e) => {
                let e = ApiError::from(e);
                BulkItem {
                    commission_id: id.to_string(),
                    commission: None,
                    error: Some(serde_json::json!({"code": e.code, "message": e.message})),
                }
            }
        })
        .collect();
    Ok(axum::Json(serde_json::json!({ "results": results })))
}

async fn approve_bulk(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<ReviewBody>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    bulk(&state, &caller, Decision::Approve, body).await
}

async fn reject_bulk(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<ReviewBody>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    bulk(&state, &caller, Decision::Reject, body).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct BalanceParams {
    partner_id: Option<PartnerId>,
}

async fn get_balances(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<BalanceParams>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let partner = caller.partner().or(params.partner_id.as_ref());
    let items = balances::balances(state.store.as_ref(), &caller.handle, partner).await?;
    Ok(axum::Json(serde_json::json!({ "items": items })))
}

// ---------------------------------------------------------------- errors

impl From<PartnerError> for ApiError {
    fn from(e: PartnerError) -> Self {
        let message = e.to_string();
        match e {
            PartnerError::NotFound(id) => ApiError::not_found(format!("Partner {id}")),
            PartnerError::AlreadyExists(_) | PartnerError::Busy => ApiError::conflict(message),
            PartnerError::Store(e) => e.into(),
        }
    }
}

impl From<PlanError> for ApiError {
    fn from(e: PlanError) -> Self {
        let message = e.to_string();
        match e {
            PlanError::CampaignNotFound(id) => ApiError::not_found(format!("Campaign {id}")),
            PlanError::NotFound(id) => {
                ApiError::not_found(format!("The commission plan of campaign {id}"))
            }
            PlanError::CurrencyFixed(_) => ApiError::conflict(message),
            PlanError::PreconditionFailed(_) => ApiError::precondition_failed(message),
            PlanError::Invalid(_) => ApiError::invalid_request(message),
            PlanError::Unconfigured(e) => e.into(),
            PlanError::Store(e) => e.into(),
        }
    }
}

impl From<CommissionError> for ApiError {
    fn from(e: CommissionError) -> Self {
        let message = e.to_string();
        match e {
            CommissionError::NotFound(id) => ApiError::not_found(format!("Commission {id}")),
            CommissionError::InvalidState(_) => ApiError::invalid_state(message),
            CommissionError::UnknownPartner(_) => ApiError::invalid_request(message),
            CommissionError::Busy => ApiError::conflict(message),
            CommissionError::OwnPartner(e) => e.into(),
            CommissionError::Store(e) => e.into(),
        }
    }
}
