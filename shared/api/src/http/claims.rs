//! Claim routes (issue 63). A partner (its token, or a partner user's session) opens and reads
//! its own claims under `…/partners/{partnerId}/claims` (another partner's answer 404); an
//! operator opens them for any partner, lists the handle's, and decides. The work is in
//! `crate::claims`.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use crate::claims::evidence::Sources;
use crate::claims::model::{Claim, Evidence, Target, Verdict};
use crate::claims::open::Opening;
use crate::claims::{self, ClaimError, Status};
use crate::domain::time::Timestamp;
use crate::domain::{ClaimId, ConversionId, Currency, CustomerId, Handle, PartnerId};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path, Query};
use crate::http::pagination::{Page, PageParams, encode_cursor};
use crate::http::routes::Routes;
use crate::kernel::state::AppState;

/// Opened with `commissions.write` (a partner's token: its own), read with
/// `commissions.read`, decided by an operator.
pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::{Operator, Viewer};
    use crate::http::auth::Scope::{CommissionsRead, CommissionsWrite};
    use crate::http::routes::Charge::{Free, Write};
    const R: Option<crate::http::auth::Scope> = Some(CommissionsRead);
    const W: Option<crate::http::auth::Scope> = Some(CommissionsWrite);
    Routes::new()
        .at("/v2/handles/{handle}/partners/{partnerId}/claims")
        .post(Operator, W, Write, open)
        .get(Viewer, R, Free, list_partner)
        .at("/v2/handles/{handle}/partners/{partnerId}/claims/{claimId}")
        .get(Viewer, R, Free, get_partner)
        .at("/v2/handles/{handle}/claims")
        .get(Viewer, R, Free, list)
        .at("/v2/handles/{handle}/claims/{claimId}")
        .get(Viewer, R, Free, get_one)
        .at("/v2/handles/{handle}/claims/{claimId}/decide")
        .post(Operator, W, Write, decide)
        // A merchant's reassignment is a decision of the same kind (the commissions function:
        // it signs and writes the ledger).
        .at("/v2/handles/{handle}/conversions/{conversionId}/reassign")
        .post(Operator, W, Write, reassign)
}

/// A claim as the caller reads it: a partner never reads the reasons about risk.
fn answer(caller: &Caller, claim: &Claim) -> Claim {
    match caller.partner() {
        Some(_) => claim.view_for_partner(),
        None => claim.view(),
    }
}

/// A partner's session or token asking about another partner: the same `404` as an unknown one.
fn own(caller: &Caller, id: &PartnerId) -> ApiResult<()> {
    match caller.sees_partner(id) {
        true => Ok(()),
        false => Err(ApiError::not_found("The partner")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct OpenBody {
    #[serde(default)]
    order_id: Option<String>,
    #[serde(default)]
    conversion_id: Option<String>,
    #[serde(default)]
    customer_id: Option<String>,
    occurred_at: Option<String>,
    #[serde(default)]
    evidence: Option<EvidenceBody>,
    /// What the partner says the sale was.
    #[serde(default)]
    amount: Option<String>,
    #[serde(default)]
    currency: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct EvidenceBody {
    #[serde(default)]
    ctx: Option<String>,
    #[serde(default)]
    receipt: Option<String>,
    #[serde(default)]
    click_id: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

/// A clock's skew a sale's time may be ahead of ours.
const SKEW_MS: i64 = 5 * 60_000;

impl OpenBody {
    fn opening(self, partner: PartnerId) -> ApiResult<Opening> {
        let bad = |m: String| ApiError::invalid_request(m);
        let named = [&self.order_id, &self.conversion_id, &self.customer_id];
        if named.iter().filter(|x| x.is_some()).count() != 1 {
            return Err(bad(
                "orderId: name the sale by exactly one of orderId, conversionId or customerId."
                    .into(),
            ));
        }
        let order_id = match self.order_id {
            Some(o) if (1..=255).contains(&o.len()) => Some(o),
            Some(_) => return Err(bad("orderId: must be 1 to 255 characters long.".into())),
            None => None,
        };
        let conversion_id = self
            .conversion_id
            .map(|c| ConversionId::parse(&c))
            .transpose()
            .map_err(|e| bad(format!("conversionId: {}", e.message)))?;
        let customer_id = self
            .customer_id
            .map(|c| CustomerId::parse(&c))
            .transpose()
            .map_err(|e| bad(format!("customerId: {}", e.message)))?;
        let raw = self
            .occurred_at
            .ok_or_else(|| bad("occurredAt: required (RFC 3339).".into()))?;
        let occurred_at = Timestamp::parse(&raw)
            .ok_or_else(|| bad("occurredAt: must be an RFC 3339 time.".into()))?;
        if occurred_at.millis() > crate::platform::time::now_millis() + SKEW_MS {
            return Err(bad("occurredAt: a sale cannot be in the future.".into()));
        }
        let evidence = self.evidence.map(EvidenceBody::valid).transpose()?;
        let said = said(self.amount.as_deref(), self.currency.as_deref())?;
        Ok(Opening {
            partner,
            target: Target {
                order_id,
                conversion_id,
                customer_id,
            },
            occurred_at,
            evidence: evidence.unwrap_or_default(),
            said,
        })
    }
}

/// What the partner says the sale was: an amount above zero in its currency, both or neither.
fn said(amount: Option<&str>, currency: Option<&str>) -> ApiResult<Option<(i64, Currency)>> {
    let bad = |m: String| ApiError::invalid_request(m);
    match (amount.map(str::trim), currency.map(str::trim)) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(bad(
            "currency: say which currency the sale's amount is in (EUR, USD, …).".into(),
        )),
        (None, Some(_)) => Err(bad(
            "amount: say the sale's amount with its currency.".into()
        )),
        (Some(amount), Some(currency)) => {
            let currency = Currency::parse(&currency.to_ascii_uppercase())
                .map_err(|e| bad(format!("currency: {}", e.message)))?;
            let minor = currency
                .parse_amount("amount", amount)
                .map_err(|e| bad(format!("amount: {}", e.message)))?;
            if minor <= 0 {
                return Err(bad("amount: a sale's amount is more than 0.".into()));
            }
            Ok(Some((minor, currency)))
        }
    }
}

impl EvidenceBody {
    fn valid(self) -> ApiResult<Evidence> {
        let cap = |field: &str, v: Option<String>, max: usize| match v {
            Some(s) if s.is_empty() || s.chars().count() > max => Err(ApiError::invalid_request(
                format!("evidence.{field}: must be 1 to {max} characters long."),
            )),
            other => Ok(other),
        };
        Ok(Evidence {
            ctx: cap("ctx", self.ctx, 2048)?,
            receipt: cap("receipt", self.receipt, 4096)?,
            click_id: cap("clickId", self.click_id, 64)?,
            note: cap("note", self.note, 2000)?,
        })
    }
}

/// What gathering the evidence uses of the router's state.
fn sources(state: &AppState) -> ApiResult<(Sources<'_>, crate::domain::proof::jws::Jwks)> {
    let jwks = state
        .signing()
        .map(crate::domain::proof::jws::ProofKeyring::jwks)
        .ok();
    let window = i64::try_from(state.config.attribution_window.as_millis()).unwrap_or(i64::MAX);
    let src = Sources {
        store: state.store.as_ref(),
        ctx_keys: state.ctx_keys.as_deref(),
        receipt_keys: None,
        window_ms: window,
    };
    Ok((
        src,
        jwks.unwrap_or(crate::domain::proof::jws::Jwks { keys: Vec::new() }),
    ))
}

/// `POST …/partners/{partnerId}/claims` → 201.
async fn open(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, partner)): Path<(Handle, PartnerId)>,
    Json(body): Json<OpenBody>,
) -> ApiResult<(StatusCode, axum::Json<Claim>)> {
    own(&caller, &partner)?;
    let opening = body.opening(partner)?;
    let (mut src, jwks) = sources(&state)?;
    src.receipt_keys = Some(&jwks);
    let claim = claims::open::open((state.io(), src), &caller.handle, opening).await?;
    Ok((StatusCode::CREATED, axum::Json(answer(&caller, &claim))))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ListParams {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    partner_id: Option<PartnerId>,
    #[serde(default)]
    limit: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

impl ListParams {
    fn status(&self) -> ApiResult<Option<Status>> {
        self.status
            .as_deref()
            .map(|s| {
                Status::parse(s).ok_or_else(|| {
                    ApiError::invalid_request("status: one of open, approved, denied.")
                })
            })
            .transpose()
    }

    fn page(&self) -> ApiResult<(usize, Option<String>)> {
        let p = PageParams {
            limit: self.limit.clone(),
            cursor: self.cursor.clone(),
        };
        Ok((p.limit()?, p.after()?))
    }
}

async fn listed(
    state: &AppState,
    caller: &Caller,
    partner: Option<&PartnerId>,
    params: &ListParams,
) -> ApiResult<axum::Json<Page<Claim>>> {
    let store = state.store.as_ref();
    let (items, next) = claims::list(
        store,
        &caller.handle,
        partner,
        params.status()?,
        params.page()?,
    )
    .await?;
    Ok(axum::Json(Page {
        items: items.iter().map(|c| answer(caller, c)).collect(),
        next_cursor: next.as_deref().map(encode_cursor),
    }))
}

/// `GET …/claims[?status=&partnerId=]`: a partner's session sees only its own.
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> ApiResult<axum::Json<Page<Claim>>> {
    let partner = match (caller.partner(), &params.partner_id) {
        (Some(own), Some(asked)) if own != asked => {
            return Err(ApiError::not_found("The partner"));
        }
        (Some(own), _) => Some(own.clone()),
        (None, asked) => asked.clone(),
    };
    listed(&state, &caller, partner.as_ref(), &params).await
}

async fn list_partner(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, partner)): Path<(Handle, PartnerId)>,
    Query(params): Query<ListParams>,
) -> ApiResult<axum::Json<Page<Claim>>> {
    own(&caller, &partner)?;
    listed(&state, &caller, Some(&partner), &params).await
}

async fn found(state: &AppState, caller: &Caller, id: &ClaimId) -> ApiResult<Claim> {
    claims::get(state.store.as_ref(), &caller.handle, id)
        .await?
        .filter(|c| caller.sees_partner(&c.partner_id))
        .ok_or_else(|| ApiError::not_found(format!("Claim {id}")))
}

async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, ClaimId)>,
) -> ApiResult<axum::Json<Claim>> {
    Ok(axum::Json(answer(
        &caller,
        &found(&state, &caller, &id).await?,
    )))
}

async fn get_partner(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, partner, id)): Path<(Handle, PartnerId, ClaimId)>,
) -> ApiResult<axum::Json<Claim>> {
    own(&caller, &partner)?;
    let claim = found(&state, &caller, &id).await?;
    if claim.partner_id != partner {
        return Err(ApiError::not_found(format!("Claim {id}")));
    }
    Ok(axum::Json(answer(&caller, &claim)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DecideBody {
    decision: Option<String>,
    reason: Option<String>,
    #[serde(default)]
    amount: Option<String>,
    #[serde(default)]
    currency: Option<String>,
    /// `move` | `keep` the buyer's binding on an approval.
    #[serde(default)]
    binding: Option<String>,
}

/// `binding`: `move` | `keep` (absent: `None`, the default of the route).
fn binding_choice(raw: Option<&str>) -> ApiResult<Option<bool>> {
    match raw {
        None => Ok(None),
        Some("move") => Ok(Some(true)),
        Some("keep") => Ok(Some(false)),
        Some(_) => Err(ApiError::invalid_request("binding: move or keep.")),
    }
}

impl DecideBody {
    fn deciding(self, by: &str) -> ApiResult<claims::decide::Deciding> {
        let decision = match self.decision.as_deref() {
            Some("approve") => Verdict::Approve,
            Some("deny") => Verdict::Deny,
            _ => return Err(ApiError::invalid_request("decision: approve or deny.")),
        };
        let reason = match self.reason.as_deref().map(str::trim) {
            Some(r) if !r.is_empty() && r.chars().count() <= 500 => r.to_owned(),
            _ => {
                return Err(ApiError::invalid_request(
                    "reason: required, 1 to 500 characters long.",
                ));
            }
        };
        let amount = match (self.amount, self.currency) {
            (None, None) => None,
            (Some(a), Some(c)) => {
                let currency = Currency::parse(&c)?;
                Some((currency.parse_amount("amount", &a)?, currency))
            }
            (Some(_), None) => {
                return Err(ApiError::invalid_request("currency: required with amount."));
            }
            (None, Some(_)) => {
                return Err(ApiError::invalid_request("amount: required with currency."));
            }
        };
        let move_binding = binding_choice(self.binding.as_deref())?;
        if move_binding.is_some() && decision == Verdict::Deny {
            return Err(ApiError::invalid_request(
                "binding: only an approval moves or keeps it.",
            ));
        }
        if amount.is_some() && decision == Verdict::Deny {
            return Err(ApiError::invalid_request(
                "amount: only an approval has one.",
            ));
        }
        Ok(claims::decide::Deciding {
            decision,
            reason,
            amount,
            by: by.to_owned(),
            overdue: false,
            base: String::new(),
            campaign: None,
            move_binding,
            decider: crate::people::acting::Decider::system(),
        })
    }
}

/// `POST …/claims/{claimId}/decide` → 200 with the signed decision; `409 invalid_state` once
/// decided.
async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, ClaimId)>,
    Json(body): Json<DecideBody>,
) -> ApiResult<axum::Json<Claim>> {
    let mut deciding = body.deciding(&caller.principal.subject)?;
    deciding.base = crate::mail::unsubscribe::public_base(&state.config);
    deciding.decider = caller.decider().await?;
    let keys = state.signing()?;
    let claim = claims::decide::decide((state.io(), keys), &caller.handle, &id, deciding).await?;
    Ok(axum::Json(claim.view()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ReassignBody {
    partner_id: Option<PartnerId>,
    #[serde(default)]
    campaign_id: Option<crate::domain::CampaignId>,
    reason: Option<String>,
    #[serde(default)]
    binding: Option<String>,
}

/// `POST …/conversions/{conversionId}/reassign` → 200: the decided claim that moved it.
async fn reassign(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, conversion)): Path<(Handle, ConversionId)>,
    Json(body): Json<ReassignBody>,
) -> ApiResult<axum::Json<Claim>> {
    let partner = body
        .partner_id
        .ok_or_else(|| ApiError::invalid_request("partnerId: required."))?;
    let reason = match body.reason.as_deref().map(str::trim) {
        Some(r) if !r.is_empty() && r.chars().count() <= 500 => r.to_owned(),
        _ => {
            return Err(ApiError::invalid_request(
                "reason: required, 1 to 500 characters long.",
            ));
        }
    };
    let (mut src, jwks) = sources(&state)?;
    src.receipt_keys = Some(&jwks);
    let keys = state.signing()?;
    let r = claims::reassign::Reassigning {
        conversion,
        partner,
        campaign: body.campaign_id,
        reason,
        by: caller.principal.subject.clone(),
        base: crate::mail::unsubscribe::public_base(&state.config),
        move_binding: binding_choice(body.binding.as_deref())?,
        decider: caller.decider().await?,
    };
    let claim = claims::reassign::reassign((state.io(), src, keys), &caller.handle, r).await?;
    Ok(axum::Json(claim.view()))
}

impl From<ClaimError> for ApiError {
    fn from(e: ClaimError) -> Self {
        let message = e.to_string();
        match e {
            ClaimError::Invalid(_) => ApiError::invalid_request(message),
            ClaimError::NotFound(what) => ApiError::not_found(what),
            ClaimError::Decided(_)
            | ClaimError::AlreadyCredited(_)
            | ClaimError::NotPossible(_) => ApiError::invalid_state(message),
            ClaimError::TooMany(..) => {
                ApiError::new(crate::http::error::ErrorCode::RateLimited, message).with_header(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from_static("3600"),
                )
            }
            ClaimError::Busy => ApiError::retry_later(message, 1),
            ClaimError::OwnPartner(own) => own.into(),
            ClaimError::Unconfigured => ApiError::internal(message),
            ClaimError::Store(e) => e.into(),
        }
    }
}
