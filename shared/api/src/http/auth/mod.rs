//! Authentication and authorization, enforced in one place: the [`authorize`] layer looks the
//! matched route up in the declarative [`access::ACCESS_TABLE`], authenticates the bearer token
//! (JWT or personal access token), checks the handle grant, the role and the PAT scope, and hands
//! the handler a [`Caller`].

pub mod access;
pub mod session;

use crate::auth::AuthError;
use crate::domain::Handle;
use crate::http::error::ApiError;
use crate::http::error::apply_quota;
use crate::kernel::ratelimit::WriteCharge;
use crate::kernel::state::AppState;
use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub use crate::auth::{Credential, Principal, Role, Scope};
pub use access::{ACCESS_TABLE, Access};

/// The authorized caller of a route, with the handle from the path already checked.
#[derive(Clone, Debug)]
pub struct Caller {
    pub principal: Principal,
    pub handle: Handle,
    /// The partner the person behind the credential acts for on this handle
    /// ([`Caller::own_partner`]).
    own_partner: OwnPartner,
}

/// A person's own partner on the handle (a person who is both, acting as a member): the routes
/// that approve, review or pay commissions refuse it hers ([`Caller::refuse_own`]). Known at
/// once for a session (its sign-in read it); for a token that names a person (who minted a PAT,
/// a JWT's subject) read when a route first asks, so that a person who becomes a partner's
/// user after minting a token is refused at once, and the token's other requests (a
/// conversion's above all) never pay the read.
#[derive(Clone)]
struct OwnPartner {
    found: std::sync::Arc<tokio::sync::OnceCell<Option<crate::domain::PartnerId>>>,
    person: Option<(
        std::sync::Arc<dyn crate::platform::store::Store>,
        crate::domain::UserId,
    )>,
}

impl OwnPartner {
    fn known(partner: Option<crate::domain::PartnerId>) -> Self {
        Self {
            found: std::sync::Arc::new(tokio::sync::OnceCell::new_with(Some(partner))),
            person: None,
        }
    }
}

impl std::fmt::Debug for OwnPartner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnPartner")
            .field("found", &self.found.get())
            .finish_non_exhaustive()
    }
}

impl Caller {
    /// The partner a partner token is bound to (`None` for the merchant's own credentials):
    /// handlers narrow every answer to it, and another partner's ids answer 404.
    pub fn partner(&self) -> Option<&crate::domain::PartnerId> {
        match &self.principal.credential {
            Credential::Partner { partner_id, .. } | Credential::PartnerUser { partner_id, .. } => {
                Some(partner_id)
            }
            _ => None,
        }
    }

    /// The partner the person behind the credential acts for on this handle ([`OwnPartner`]).
    /// Round trips: none for a session or a machine's token; ONE read, the first time, for a
    /// token that names a person.
    pub async fn own_partner(&self) -> Result<Option<crate::domain::PartnerId>, ApiError> {
        let read = || async {
            let Some((store, user)) = &self.own_partner.person else {
                return Ok(None);
            };
            let partnership =
                crate::people::partnerships::on_handle(store.as_ref(), user, &self.handle).await?;
            Ok::<_, ApiError>(partnership.map(|p| p.partner_id))
        };
        Ok(self.own_partner.found.get_or_try_init(read).await?.clone())
    }

    /// Who decides, for the money rule ([`crate::people::acting`]): the person the
    /// credential acts as (signed in, or who minted the token: [`Principal::person`]) and the
    /// partner they act for on this handle.
    pub async fn decider(&self) -> Result<crate::people::acting::Decider, ApiError> {
        Ok(crate::people::acting::Decider {
            user: self.principal.person(),
            own_partner: self.own_partner().await?,
        })
    }

    /// `403 forbidden` when `partner` is the caller's own ([`crate::people::acting`]); `None`
    /// refuses any caller with a partner of its own (a run or batch over every partner would
    /// include hers).
    pub async fn refuse_own(
        &self,
        partner: Option<&crate::domain::PartnerId>,
    ) -> Result<(), ApiError> {
        Ok(self.decider().await?.refuse(partner)?)
    }

    /// False when a partner token asks for another partner's record.
    pub fn sees_partner(&self, id: &crate::domain::PartnerId) -> bool {
        self.partner().is_none_or(|own| own == id)
    }
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
pub async fn authenticate(state: &AppState, token: &str) -> Result<Principal, AuthError> {
    if token.starts_with(crate::tokens::PAT_PREFIX) {
        crate::tokens::authenticate(state.store.as_ref(), token).await
    } else if token.starts_with(crate::partners::tokens::PREFIX) {
        crate::partners::tokens::authenticate(state.store.as_ref(), token).await
    } else {
        // A function built without a verifier fails closed (500), never open.
        state
            .jwt()
            .map_err(|_| AuthError::NotConfigured)?
            .verify(token)
    }
}

/// The audit log's actor of a principal.
pub fn actor_of(principal: &Principal) -> crate::kernel::audit::Actor {
    use crate::kernel::audit::{Actor, ActorType};
    let (kind, id) = match &principal.credential {
        Credential::Jwt => (ActorType::Jwt, principal.subject.clone()),
        Credential::Pat { token_id, .. } => (ActorType::Pat, token_id.to_string()),
        Credential::Partner { token_id, .. } => (ActorType::PartnerToken, token_id.clone()),
        Credential::PartnerUser { user_id, .. } => (ActorType::PartnerUser, user_id.to_string()),
        Credential::Session { user_id, .. } => (ActorType::User, user_id.to_string()),
    };
    Actor { kind, id }
}

/// Decides whether `principal` may call a route with the given access rule on `handle`.
pub fn check(principal: &Principal, rule: &Access, handle: &str) -> Result<(), AuthError> {
    if let Credential::Partner { .. } | Credential::PartnerUser { .. } = principal.credential {
        // A partner token: its handle, and only the routes a partner may read.
        if !principal.may_act_on(handle) {
            return Err(AuthError::ForeignHandle(handle.to_owned()));
        }
        if !access::partner_may(rule) {
            return Err(AuthError::InsufficientScope(rule.scope));
        }
        return Ok(());
    }
    crate::auth::check(principal, rule.role, rule.scope, handle)
}

/// A partner's credential (its token, one of its people) on a route of another partner's id:
/// `404`, as an unknown partner, before the handler reads anything (its body included).
fn own_partner_only(principal: &Principal, params: &RawPathParams) -> Result<(), ApiError> {
    let (Credential::Partner {
        partner_id: own, ..
    }
    | Credential::PartnerUser {
        partner_id: own, ..
    }) = &principal.credential
    else {
        return Ok(());
    };
    match params.iter().find(|(name, _)| *name == "partnerId") {
        // In words: the same answer whatever was asked, naming no partner (issue 62).
        Some((_, asked)) if asked != own.as_str() => Err(ApiError::not_found("The partner")),
        _ => Ok(()),
    }
}

/// The layer every authenticated router carries (`route_layer`, so it sees the matched path).
/// A write is charged before its handler runs (so concurrent writes never exceed the budget)
/// and refunded when answered 4xx: a request that changed nothing costs nobody any budget.
pub async fn authorize(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match authorize_parts(&state, request).await {
        Ok((request, charge)) => {
            // Every write the handler makes is audited as this caller's.
            let actor = request
                .extensions()
                .get::<Caller>()
                .map_or_else(crate::kernel::audit::Actor::system, |c| {
                    actor_of(&c.principal)
                });
            let request_id = crate::http::current_request::id();
            let mut response =
                crate::kernel::audit::scope(actor, request_id, next.run(request)).await;
            let Some(charge) = charge else {
                return response;
            };
            apply_quota(&charge.quota, &mut response);
            if response.status().is_client_error() {
                charge.refund(state.store.as_ref()).await;
            }
            response
        }
        Err(e) => e.into_response(),
    }
}

async fn authorize_parts(
    state: &AppState,
    request: Request,
) -> Result<(Request, Option<WriteCharge>), ApiError> {
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
        // The only failure on a matched route: a segment that is not UTF-8 once decoded (`%FF`).
        .map_err(|_| ApiError::invalid_request("path: a segment is not valid UTF-8."))?;
    let raw_handle = params
        .iter()
        .find(|(name, _)| *name == "handle")
        .map(|(_, v)| v.to_owned())
        .ok_or_else(|| ApiError::internal("authenticated route without {handle}"))?;

    // A bearer token when one is sent (machines: JWT, PAT, partner token), else the session
    // cookie of a signed-in person.
    let by_cookie = !parts.headers.contains_key(header::AUTHORIZATION)
        && session::cookie(&parts.headers).is_some();
    let (principal, own_partner) = if by_cookie {
        let signed_in = session::require(state, &parts).await?;
        // Validate the handle after authentication so anonymous callers learn nothing.
        let handle = Handle::parse(&raw_handle)?;
        let act = session::act_as(&parts.headers)?;
        let resolved = session::principal(state, signed_in, &handle, act).await?;
        (resolved.principal, resolved.own_partner)
    } else {
        let token = bearer(&parts)?;
        (authenticate(state, token).await?, None)
    };
    let handle = Handle::parse(&raw_handle)?;
    check(&principal, rule, handle.as_str())?;
    own_partner_only(&principal, &params)?;
    let own_partner = match (by_cookie, principal.person()) {
        (false, Some(user)) => OwnPartner {
            found: std::sync::Arc::default(),
            person: Some((state.store.clone(), user)),
        },
        _ => OwnPartner::known(own_partner),
    };
    tracing::Span::current().record("handle", handle.as_str());
    let charge = if rule.write {
        // A write is the owner using the handle: from now on it exists for the public chain
        // routes (cached; a store write only the first time per process).
        crate::kernel::handle_settings::mark_seen(
            state.store.as_ref(),
            &state.seen_handles,
            &handle,
        )
        .await
        .map_err(ApiError::from)?;
        Some(
            crate::kernel::ratelimit::charge_write(
                state.store.as_ref(),
                &state.config.rate_limits,
                &handle,
                &principal,
            )
            .await?,
        )
    } else {
        None
    };
    parts.extensions.insert(Caller {
        principal,
        handle,
        own_partner,
    });
    Ok((Request::from_parts(parts, body), charge))
}
