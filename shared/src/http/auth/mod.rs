//! Authentication and authorization, enforced in one place: the [`authorize`] layer looks the
//! matched route up in the declarative [`access::ACCESS_TABLE`], authenticates the bearer token
//! (JWT or personal access token), checks the handle grant, the role and the PAT scope, and hands
//! the handler a [`Caller`].

pub mod access;
pub mod jwt;

use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::domain::Handle;
use crate::error::ApiError;
use crate::ratelimit::RateLimitHeaders;
use crate::state::AppState;

pub use access::{Access, Scope, ACCESS_TABLE};

/// Roles, ordered: every role may do what the roles below it may.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Creator,
    Operator,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Creator, Role::Operator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Creator => "creator",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// How the caller authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    Jwt,
    /// A personal access token, bound to one handle and a set of scopes.
    Pat {
        token_id: String,
        scopes: Vec<Scope>,
    },
}

/// An authenticated principal, before route-specific checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub subject: String,
    pub role: Role,
    /// Handles the principal may act on; `*` grants all.
    pub handles: Vec<String>,
    pub credential: Credential,
}

impl Principal {
    pub fn may_act_on(&self, handle: &str) -> bool {
        self.handles.iter().any(|h| h == "*" || h == handle)
    }
}

/// The authorized caller of a route, with the handle from the path already checked.
#[derive(Clone, Debug)]
pub struct Caller {
    pub principal: Principal,
    pub handle: Handle,
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::internal("route is missing the authorize layer"))
    }
}

fn insufficient_role(required: Role) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "insufficient_role",
        format!(
            "This action requires the {} role or higher.",
            required.as_str()
        ),
    )
}

fn insufficient_scope(scope: Option<Scope>) -> ApiError {
    let message = match scope {
        Some(s) => format!("This personal access token lacks the {} scope.", s.as_str()),
        None => "Personal access tokens cannot call this route; use a JWT.".to_owned(),
    };
    ApiError::new(StatusCode::FORBIDDEN, "insufficient_scope", message)
}

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::unauthorized("Missing authorization header; send `Bearer <token>`.")
        })?
        .to_str()
        .map_err(|_| ApiError::unauthorized("Malformed authorization header."))?;
    let (scheme, token) = value.split_once(' ').ok_or_else(|| {
        ApiError::unauthorized("Malformed authorization header; send `Bearer <token>`.")
    })?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::unauthorized(
            "Malformed authorization header; send `Bearer <token>`.",
        ));
    }
    Ok(token.trim())
}

/// Resolves a bearer token to a principal.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    if token.starts_with(crate::tokens::PAT_PREFIX) {
        crate::tokens::authenticate(state, token).await
    } else {
        // A function built without a verifier fails closed (500), never open.
        state.jwt()?.verify(token)
    }
}

/// Decides whether `principal` may call a route with the given access rule on `handle`, in the
/// order of API.md: the handle grant first (`403 forbidden`, so a PAT of one handle is refused on
/// another whatever its scopes), then the JWT's role (`403 insufficient_role`) or the PAT's scope
/// (`403 insufficient_scope`; a route without a scope is JWT only).
pub fn check(principal: &Principal, rule: &Access, handle: &str) -> Result<(), ApiError> {
    if !principal.may_act_on(handle) {
        return Err(ApiError::forbidden(format!(
            "You have no access to handle {handle}."
        )));
    }
    match &principal.credential {
        Credential::Jwt if principal.role < rule.role => Err(insufficient_role(rule.role)),
        Credential::Jwt => Ok(()),
        Credential::Pat { scopes, .. } => match rule.scope {
            Some(scope) if scopes.contains(&scope) => Ok(()),
            other => Err(insufficient_scope(other)),
        },
    }
}

/// The layer every authenticated router carries (`route_layer`, so it sees the matched path).
pub async fn authorize(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match authorize_parts(&state, request).await {
        Ok((request, limits)) => {
            let mut response = next.run(request).await;
            if let Some(limits) = limits {
                limits.apply(&mut response);
            }
            response
        }
        Err(e) => e.into_response(),
    }
}

async fn authorize_parts(
    state: &AppState,
    request: Request,
) -> Result<(Request, Option<RateLimitHeaders>), ApiError> {
    let (mut parts, body) = request.into_parts();
    let path = MatchedPath::from_request_parts(&mut parts, state)
        .await
        .map_err(|_| ApiError::internal("authorize layer used without a matched path"))?;
    let rule = access::lookup(&parts.method, path.as_str()).ok_or_else(|| {
        ApiError::internal(format!(
            "no access rule for {} {}",
            parts.method,
            path.as_str()
        ))
    })?;
    let params = RawPathParams::from_request_parts(&mut parts, state)
        .await
        .map_err(|_| ApiError::internal("path parameters unavailable"))?;
    let raw_handle = params
        .iter()
        .find(|(name, _)| *name == "handle")
        .map(|(_, v)| v.to_owned())
        .ok_or_else(|| ApiError::internal("authenticated route without {handle}"))?;

    let token = bearer(&parts)?;
    let principal = authenticate(state, token).await?;
    // Validate the handle after authentication so anonymous callers learn nothing.
    let handle = Handle::parse(&raw_handle)?;
    check(&principal, rule, handle.as_str())?;
    let limits = if rule.write {
        Some(crate::ratelimit::enforce(state, &handle).await?)
    } else {
        None
    };
    parts.extensions.insert(Caller { principal, handle });
    Ok((Request::from_parts(parts, body), limits))
}
