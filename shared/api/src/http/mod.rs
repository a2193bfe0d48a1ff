//! HTTP: one router per endpoint group, common layers, and the assembled application.

pub mod analytics;
pub mod audit;
pub mod auth;
pub mod backlog;
pub mod campaigns;
pub mod chain;
pub mod claim_attachments;
pub mod claims;
pub mod commissions;
pub mod console;
pub mod conversions;
pub(crate) mod csv_download;
pub mod current_request;
pub mod customers;
pub mod dashboard;
pub mod domains;
pub mod edge;
pub mod embed;
pub mod error;
pub mod extract;
pub mod imports;
pub mod integrations;
pub mod invoices;
pub mod links;
pub mod mail;
pub mod members;
pub mod messages;
pub mod notifications;
pub mod objects_only;
pub mod oidc;
pub mod origin;
pub mod pagination;
pub mod partner_portal;
pub mod passkeys;
pub mod payout_batches;
pub mod payout_methods;
pub mod payout_providers;
pub mod payouts;
pub mod people;
pub mod programs;
pub mod public;
pub mod reasons;
pub mod redirect;
pub mod request_id;
pub mod risk;
pub(crate) mod routes;
pub mod script;
pub mod search;
pub mod statement;
pub mod tax_profiles;
pub mod test_mode;
pub mod tokens;
pub mod webhooks;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;

use crate::http::error::{ApiError, ErrorCode};
use crate::http::routes::Routes;
use crate::kernel::state::AppState;
use crate::platform::config::Secrets;

/// The endpoint groups; each is one Lambda function in production.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Links,
    Redirect,
    Public,
    Tokens,
    Chain,
    Campaigns,
    Analytics,
    Webhooks,
    /// Verified conversions, the audit trail, reversals and the conversion policy.
    Conversions,
    /// The web console: its page and assets, the local sign-in, "try the redirect".
    Console,
    /// Partners, commission plans, exchange rates, the commission ledger, balances and payouts.
    Commissions,
}

impl Group {
    /// Every API group (the redirect is served by host, see [`local_app`]).
    pub const API: [Group; 10] = [
        Group::Links,
        Group::Public,
        Group::Tokens,
        Group::Chain,
        Group::Campaigns,
        Group::Analytics,
        Group::Webhooks,
        Group::Conversions,
        Group::Console,
        Group::Commissions,
    ];

    /// Whether the group has routes behind `authorize` (its function loads the JWT verifier;
    /// the others must not be able to read the JWT secret).
    pub fn needs_jwt(self) -> bool {
        !matches!(self, Group::Redirect | Group::Public)
    }

    /// Whether the group signs (redirect, and the console's in-process "try the redirect") or
    /// verifies (public context, conversions) ctx tokens.
    pub fn needs_ctx_keys(self) -> bool {
        matches!(
            self,
            Group::Redirect | Group::Public | Group::Conversions | Group::Console
        )
    }

    /// The secrets this group's function loads at cold start, and no others.
    pub fn secrets(self) -> Secrets {
        Secrets {
            jwt: self.needs_jwt(),
            ctx_keys: self.needs_ctx_keys(),
            signing: self.needs_signing(),
            payout_key: self.needs_payout_key(),
        }
    }

    /// Whether the group seals or opens payout details (the commissions function: payout
    /// methods, payout settings and batch files).
    pub fn needs_payout_key(self) -> bool {
        matches!(self, Group::Commissions)
    }

    /// Whether the group signs statements (payouts, and serves the public keys) or conversion
    /// receipts (the conversion routes).
    pub fn needs_signing(self) -> bool {
        matches!(
            self,
            Group::Commissions | Group::Public | Group::Conversions
        )
    }

    /// The group's authenticated routes, each with its access rule (none for the public ones):
    /// its router's and the access table's one source.
    pub(crate) fn routes(self) -> Routes {
        match self {
            Group::Links => links::routes()
                .merge(domains::routes())
                .merge(imports::routes()),
            Group::Redirect | Group::Public => Routes::new(),
            Group::Tokens => tokens::routes(),
            Group::Chain => chain::routes(),
            Group::Campaigns => campaigns::routes(),
            Group::Analytics => analytics::routes(),
            Group::Webhooks => webhooks::routes().merge(mail::routes()),
            Group::Conversions => conversions::routes()
                .merge(customers::routes())
                .merge(integrations::routes()),
            Group::Console => console::routes()
                .merge(search::routes())
                .merge(members::routes())
                .merge(audit::routes())
                .merge(backlog::routes())
                .merge(embed::routes())
                .merge(passkeys::routes())
                .merge(test_mode::routes()),
            Group::Commissions => commissions::routes()
                .merge(payouts::routes())
                .merge(risk::routes())
                .merge(payout_methods::routes())
                .merge(payout_providers::routes())
                .merge(payout_batches::routes())
                .merge(customers::coupon_routes())
                .merge(programs::routes())
                .merge(messages::routes())
                .merge(claims::routes())
                .merge(claim_attachments::routes())
                .merge(partner_portal::routes())
                .merge(tax_profiles::routes())
                .merge(invoices::routes())
                .merge(dashboard::routes())
                .merge(imports::pull_routes()),
        }
    }

    /// The group's routes without authentication.
    fn public_router(self) -> Router<AppState> {
        match self {
            Group::Redirect => redirect::router(),
            Group::Public => public::router()
                .merge(reasons::public_router())
                .merge(conversions::public_router())
                .merge(customers::public_router())
                .merge(integrations::public_router())
                .merge(script::public_router())
                .merge(mail::public_router())
                .merge(embed::public_router())
                .layer(axum::middleware::from_fn(script::cors)),
            Group::Chain => chain::public_router(),
            Group::Console => console::router()
                .merge(people::router())
                .merge(oidc::router())
                .merge(passkeys::router())
                // A person's mail preferences (issue 59).
                .merge(notifications::router()),
            // The program's public routes: an autoApprove application creates a partner token.
            Group::Commissions => payouts::public_router()
                .merge(programs::public_router())
                .merge(payout_providers::public_router()),
            // A local server's upload URL (issue 64; on AWS the file goes to S3).
            Group::Links => imports::public_router(),
            Group::Tokens
            | Group::Campaigns
            | Group::Analytics
            | Group::Webhooks
            | Group::Conversions => Router::new(),
        }
    }

    fn router(self, state: &AppState) -> Router<AppState> {
        self.public_router()
            .merge(self.routes().into_router(state.clone()))
    }
}

impl From<Group> for Secrets {
    fn from(group: Group) -> Self {
        group.secrets()
    }
}

async fn not_found() -> ApiError {
    ApiError::not_found("This route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "This method is not allowed on this route.",
    )
}

/// Layers every router shares: the body limit, envelope-shaped fallbacks.
fn finish(router: Router<AppState>, state: AppState) -> Router {
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(extract::MAX_BODY_BYTES))
        .with_state(state)
}

/// The outermost layers of every app: the request's id and span around everything, then the
/// `Host` check and `nosniff` ([`origin::host_gate`]), so even a refused `Host` is answered
/// with its request id.
fn outermost(app: Router) -> Router {
    app.layer(axum::middleware::from_fn(origin::host_gate))
        .layer(axum::middleware::from_fn(request_id::middleware))
}

/// The router of one Lambda function.
pub fn group_app(group: Group, state: AppState) -> Router {
    let mut router = group.router(&state);
    if group == Group::Console {
        // On AWS the API host never serves a short link: `/` is the console.
        router = router.route("/", axum::routing::get(console::index));
    }
    if group == Group::Redirect {
        // Once per cold start, before the first visit waits on it.
        edge::load_countries();
    }
    let gate = (group == Group::Redirect).then(|| state.clone());
    let app = finish(router, state);
    let app = match gate {
        // The redirect answers custom domains too (issue 64): their paths, fallback included.
        Some(state) => app.layer(axum::middleware::from_fn_with_state(
            state,
            redirect::custom_domains,
        )),
        None => app,
    };
    outermost(app)
}

/// Every group in one router (the local server): API routes live under `/v2/`, the console
/// under `/console/`, and any other path is a short link, answered by the redirect when the host
/// is `{handle}.{redirectDomain}`. `/` is the bare short-link domain on such a host, else the
/// console.
pub fn local_app(state: AppState) -> Router {
    let mut router = Router::new().route("/healthz", axum::routing::get(health));
    for group in Group::API {
        router = router.merge(group.router(&state));
    }
    router = router
        .route("/", axum::routing::get(console::local_root))
        .merge(redirect::slug_router());
    // A custom domain's host never reaches the API, the console or the portal (issue 64): the
    // gate wraps every path, the fallback's too.
    outermost(
        finish(router, state.clone()).layer(axum::middleware::from_fn_with_state(
            state,
            redirect::custom_domains,
        )),
    )
}

async fn health() -> impl IntoResponse {
    axum::Json(serde_json::json!({"status": "ok"}))
}
