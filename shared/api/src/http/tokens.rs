//! Personal access token routes (JWT operator+ only, see the access table): mint (the token is
//! shown once), list (never a secret or a hash), revoke (effective on the next request).

use crate::http::routes::Routes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::domain::TokenId;
use crate::http::auth::{Caller, Scope, access};
use crate::http::error::{ApiError, ApiResult, ErrorCode};
use crate::http::extract::{IdPath, Json, PathId, Query};
use crate::http::pagination::{self, PageParams};
use crate::kernel::state::AppState;
use crate::tokens::{self, PatRecord, PatSpec, TokenError};

/// Personal access tokens: JWT only, so a token can never mint or see tokens.
pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::Operator;
    use crate::http::routes::Charge::{Free, Write};
    Routes::new()
        .at("/v2/handles/{handle}/tokens")
        .get(Operator, None, Free, list)
        .post(Operator, None, Write, create)
        // Revoking is never refused for budget: it is how an operator stops a credential that
        // spends it.
        .at("/v2/handles/{handle}/tokens/{tokenId}")
        .delete(Operator, None, Free, revoke)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateRequest {
    name: String,
    scopes: Vec<Scope>,
    expires_in_days: Option<u32>,
}

/// A token as listed: everything but the secret.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenView {
    token_id: TokenId,
    name: String,
    scopes: Vec<Scope>,
    created_by: String,
    created_at: String,
    expires_at: Option<String>,
}

impl From<PatRecord> for TokenView {
    fn from(r: PatRecord) -> Self {
        Self {
            token_id: r.token_id,
            name: r.name,
            scopes: r.scopes,
            created_by: r.created_by,
            created_at: r.created_at.into(),
            expires_at: r.expires_at.map(String::from),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreatedToken {
    #[serde(flatten)]
    view: TokenView,
    /// Shown here once; only its SHA-256 is stored.
    token: String,
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CreateRequest>,
) -> ApiResult<Response> {
    let spec = PatSpec::new(body.name, body.scopes, body.expires_in_days)?;
    let minter = tokens::Minter {
        subject: &caller.principal.subject,
        role: caller.principal.role,
        role_for_scope: access::role_for_scope,
    };
    let (record, token) = tokens::mint(state.store.as_ref(), &caller.handle, &minter, spec).await?;
    let body = CreatedToken {
        view: record.into(),
        token,
    };
    let mut response = (StatusCode::CREATED, axum::Json(body)).into_response();
    // The body carries a secret: no cache may keep it.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenList {
    items: Vec<TokenView>,
    next_cursor: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<PageParams>,
) -> ApiResult<axum::Json<TokenList>> {
    let (records, next) = tokens::list(
        state.store.as_ref(),
        &caller.handle,
        params.limit()?,
        params.after()?,
    )
    .await?;
    Ok(axum::Json(TokenList {
        items: records.into_iter().map(TokenView::from).collect(),
        next_cursor: next.as_deref().map(pagination::encode_cursor),
    }))
}

async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(token_id): IdPath<TokenId>,
) -> ApiResult<StatusCode> {
    tokens::revoke(state.store.as_ref(), &caller.handle, &token_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

impl PathId for TokenId {
    const SEGMENT: &'static str = "tokenId";

    fn parse(raw: &str) -> Option<Self> {
        TokenId::parse(raw).ok()
    }

    fn not_found(raw: &str) -> ApiError {
        ApiError::not_found(format!("Token {raw}"))
    }
}

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> Self {
        let message = e.to_string();
        match e {
            TokenError::Invalid(_) => ApiError::invalid_request(message),
            TokenError::NotFound(_) => ApiError::new(ErrorCode::NotFound, message),
            TokenError::BeyondRole { .. } => ApiError::new(ErrorCode::InsufficientRole, message),
            TokenError::Store(e) => e.into(),
        }
    }
}
