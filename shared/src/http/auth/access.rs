//! The declarative access table: every authenticated route's required role, the PAT scope that
//! may call it instead, and whether it is a rate-limited write. Enforced by `authorize`; rendered
//! in docs/security.md; the access-matrix test is generated from it, so a new route cannot skip it.

use axum::http::Method;

use crate::auth::{Role, Scope};

/// One authenticated route.
#[derive(Debug)]
pub struct Access {
    pub method: Method,
    /// The route pattern exactly as registered with axum.
    pub path: &'static str,
    pub role: Role,
    /// The PAT scope that grants this route; `None`: JWT only.
    pub scope: Option<Scope>,
    /// Writes count against the handle's rate limit.
    pub write: bool,
}

const fn rule(
    method: Method,
    path: &'static str,
    role: Role,
    scope: Option<Scope>,
    write: bool,
) -> Access {
    Access {
        method,
        path,
        role,
        scope,
        write,
    }
}

use Role::*;
use Scope::*;

pub static ACCESS_TABLE: &[Access] = &[
    // Links
    rule(
        Method::PUT,
        "/v2/handles/{handle}/links/{slug}",
        Creator,
        Some(LinksWrite),
        true,
    ),
    rule(
        Method::GET,
        "/v2/handles/{handle}/links/{slug}",
        Creator,
        Some(LinksRead),
        false,
    ),
    rule(
        Method::DELETE,
        "/v2/handles/{handle}/links/{slug}",
        Creator,
        Some(LinksWrite),
        true,
    ),
    rule(
        Method::GET,
        "/v2/handles/{handle}/links",
        Creator,
        Some(LinksRead),
        false,
    ),
    rule(
        Method::GET,
        "/v2/handles/{handle}/links/{slug}/availability",
        Creator,
        Some(LinksRead),
        false,
    ),
    rule(
        Method::POST,
        "/v2/handles/{handle}/links/{slug}/route-preview",
        Creator,
        Some(LinksRead),
        false,
    ),
    // The console's "try the redirect": a test click (counted apart, never paid) that writes a
    // click record, so it takes `links.write` and counts against the write limit.
    rule(
        Method::POST,
        "/v2/handles/{handle}/links/{slug}/try",
        Creator,
        Some(LinksWrite),
        true,
    ),
    rule(
        Method::GET,
        "/v2/handles/{handle}/redirect-settings",
        Operator,
        None,
        false,
    ),
    rule(
        Method::PUT,
        "/v2/handles/{handle}/redirect-settings",
        Operator,
        None,
        true,
    ),
    // Campaigns
    rule(
        Method::POST,
        "/v2/handles/{handle}/campaigns",
        Creator,
        Some(CampaignsWrite),
        true,
    ),
    rule(
        Method::GET,
        "/v2/handles/{handle}/campaigns",
        Creator,
        Some(CampaignsRead),
        false,
    ),
    rule(
        Method::GET,
        "/v2/handles/{handle}/campaigns/{campaignId}",
        Creator,
        Some(CampaignsRead),
        false,
    ),
    rule(
        Method::PATCH,
        "/v2/handles/{handle}/campaigns/{campaignId}",
        Creator,
        Some(CampaignsWrite),
        true,
    ),
    // Analytics
    rule(
        Method::GET,
        "/v2/handles/{handle}/analytics",
        Viewer,
        Some(AnalyticsRead),
        false,
    ),
    rule(
        Method::GET,
        "/v2/handles/{handle}/analytics/export",
        Viewer,
        Some(AnalyticsRead),
        false,
    ),
    // Personal access tokens: JWT only, so a token can never mint or see tokens.
    rule(
        Method::POST,
        "/v2/handles/{handle}/tokens",
        Operator,
        None,
        true,
    ),
    rule(
        Method::GET,
        "/v2/handles/{handle}/tokens",
        Operator,
        None,
        false,
    ),
    // Revoking is never refused for budget: it is how an operator stops a credential that
    // spends it.
    rule(
        Method::DELETE,
        "/v2/handles/{handle}/tokens/{tokenId}",
        Operator,
        None,
        false,
    ),
    // Chain rules: JWT only (no PAT scope covers lifecycle messaging).
    rule(
        Method::PUT,
        "/v2/handles/{handle}/chain/rules",
        Creator,
        None,
        true,
    ),
    rule(
        Method::GET,
        "/v2/handles/{handle}/chain/rules",
        Viewer,
        None,
        false,
    ),
    // Webhooks: operator, or a PAT with webhooks.write (mutations) / webhooks.read.
    rule(
        Method::POST,
        "/v2/handles/{handle}/webhooks",
        Operator,
        Some(WebhooksWrite),
        true,
    ),
    rule(
        Method::GET,
        "/v2/handles/{handle}/webhooks",
        Operator,
        Some(WebhooksRead),
        false,
    ),
    rule(
        Method::GET,
        "/v2/handles/{handle}/webhooks/{subscriptionId}",
        Operator,
        Some(WebhooksRead),
        false,
    ),
    rule(
        Method::PATCH,
        "/v2/handles/{handle}/webhooks/{subscriptionId}",
        Operator,
        Some(WebhooksWrite),
        true,
    ),
    rule(
        Method::DELETE,
        "/v2/handles/{handle}/webhooks/{subscriptionId}",
        Operator,
        Some(WebhooksWrite),
        true,
    ),
    rule(
        Method::POST,
        "/v2/handles/{handle}/webhooks/{subscriptionId}/test",
        Operator,
        Some(WebhooksWrite),
        true,
    ),
    rule(
        Method::GET,
        "/v2/handles/{handle}/webhooks/{subscriptionId}/deliveries",
        Operator,
        Some(WebhooksRead),
        false,
    ),
    rule(
        Method::POST,
        "/v2/handles/{handle}/webhooks/{subscriptionId}/deliveries/{eventId}/resend",
        Operator,
        Some(WebhooksWrite),
        true,
    ),
    rule(
        Method::POST,
        "/v2/handles/{handle}/webhooks/{subscriptionId}/recover",
        Operator,
        Some(WebhooksWrite),
        true,
    ),
    rule(
        Method::GET,
        "/v2/handles/{handle}/notifications",
        Operator,
        Some(WebhooksRead),
        false,
    ),
    // Conversions (the merchant's server, and the audit trail)
    rule(
        Method::POST,
        "/v2/handles/{handle}/conversions",
        Creator,
        Some(ConversionsWrite),
        false,
    ),
    rule(
        Method::GET,
        "/v2/handles/{handle}/conversions",
        Viewer,
        Some(ConversionsRead),
        false,
    ),
    rule(
        Method::GET,
        "/v2/handles/{handle}/conversions/{conversionId}",
        Viewer,
        Some(ConversionsRead),
        false,
    ),
    rule(
        Method::POST,
        "/v2/handles/{handle}/conversions/{conversionId}/reverse",
        Operator,
        Some(ConversionsWrite),
        true,
    ),
    rule(
        Method::GET,
        "/v2/handles/{handle}/conversion-policy",
        Operator,
        None,
        false,
    ),
    rule(
        Method::PUT,
        "/v2/handles/{handle}/conversion-policy",
        Operator,
        None,
        true,
    ),
    // Commissions: partners, plans, rates, the ledger, balances, payouts
    rule(
        Method::GET,
        "/v2/handles/{handle}/partners",
        Viewer,
        Some(CommissionsRead),
        false,
    ),
    rule(
        Method::POST,
        "/v2/handles/{handle}/partners",
        Operator,
        Some(CommissionsWrite),
        true,
    ),
    rule(
        Method::GET,
        "/v2/handles/{handle}/partners/{partnerId}",
        Viewer,
        Some(CommissionsRead),
        false,
    ),
    rule(
        Method::PATCH,
        "/v2/handles/{handle}/partners/{partnerId}",
        Operator,
        Some(CommissionsWrite),
        true,
    ),
    rule(
        Method::GET,
        "/v2/handles/{handle}/partners/{partnerId}/postbacks",
        Viewer,
        Some(CommissionsRead),
        false,
    ),
    rule(
        Method::POST,
        "/v2/handles/{handle}/partners/{partnerId}/tokens",
        Operator,
        Some(CommissionsWrite),
        true,
    ),
    rule(
        Method::GET,
        "/v2/handles/{handle}/partners/{partnerId}/tokens",
        Operator,
        Some(CommissionsWrite),
        false,
    ),
    rule(
        Method::DELETE,
        "/v2/handles/{handle}/partners/{partnerId}/tokens/{tokenId}",
        Operator,
        Some(CommissionsWrite),
        true,
    ),
    rule(
        Method::GET,
        "/v2/handles/{handle}/campaigns/{campaignId}/commission-plan",
        Viewer,
        Some(CommissionsRead),
        false,
    ),
    rule(
        Method::PUT,
        "/v2/handles/{handle}/campaigns/{campaignId}/commission-plan",
        Operator,
        Some(CommissionsWrite),
        true,
    ),
    rule(
        Method::POST,
        "/v2/handles/{handle}/campaigns/{campaignId}/commission-plan/preview",
        Viewer,
        Some(CommissionsRead),
        false,
    ),
    rule(
        Method::GET,
        "/v2/handles/{handle}/fx-rates",
        Viewer,
        Some(CommissionsRead),
        false,
    ),
    rule(
        Method::POST,
        "/v2/handles/{handle}/fx-rates",
        Operator,
        Some(CommissionsWrite),
        true,
    ),
    rule(
        Method::GET,
        "/v2/handles/{handle}/commissions",
        Viewer,
        Some(CommissionsRead),
        false,
    ),
    rule(
        Method::POST,
        "/v2/handles/{handle}/commissions",
        Operator,
        Some(CommissionsWrite),
        true,
    ),
    rule(
        Method::POST,
        "/v2/handles/{handle}/commissions/approve",
        Operator,
        Some(CommissionsWrite),
        true,
    ),
    rule(
        Method::POST,
        "/v2/handles/{handle}/commissions/reject",
        Operator,
        Some(CommissionsWrite),
        true,
    ),
    rule(
        Method::GET,
        "/v2/handles/{handle}/commissions/{commissionId}",
        Viewer,
        Some(CommissionsRead),
        false,
    ),
    rule(
        Method::POST,
        "/v2/handles/{handle}/commissions/{commissionId}/approve",
        Operator,
        Some(CommissionsWrite),
        true,
    ),
    rule(
        Method::POST,
        "/v2/handles/{handle}/commissions/{commissionId}/reject",
        Operator,
        Some(CommissionsWrite),
        true,
    ),
    rule(
        Method::GET,
        "/v2/handles/{handle}/balances",
        Viewer,
        Some(CommissionsRead),
        false,
    ),
    rule(
        Method::GET,
        "/v2/handles/{handle}/payouts",
        Viewer,
        Some(CommissionsRead),
        false,
    ),
    rule(
        Method::POST,
        "/v2/handles/{handle}/payouts",
        Operator,
        Some(PayoutsWrite),
        true,
    ),
    rule(
        Method::GET,
        "/v2/handles/{handle}/payouts/{payoutId}",
        Viewer,
        Some(CommissionsRead),
        false,
    ),
    rule(
        Method::GET,
        "/v2/handles/{handle}/payouts/{payoutId}/proof",
        Viewer,
        Some(CommissionsRead),
        false,
    ),
    rule(
        Method::GET,
        "/v2/handles/{handle}/payouts/{payoutId}/statement",
        Viewer,
        Some(CommissionsRead),
        false,
    ),
    rule(
        Method::POST,
        "/v2/handles/{handle}/payouts/{payoutId}/mark-paid",
        Operator,
        Some(PayoutsWrite),
        true,
    ),
    rule(
        Method::POST,
        "/v2/handles/{handle}/payouts/{payoutId}/mark-failed",
        Operator,
        Some(PayoutsWrite),
        true,
    ),
    rule(
        Method::POST,
        "/v2/handles/{handle}/payouts/{payoutId}/cancel",
        Operator,
        Some(PayoutsWrite),
        true,
    ),
];

/// The routes a partner token may use (all reads; each handler narrows its answer to the
/// token's partner). Any other route answers it `403 insufficient_scope`.
pub static PARTNER_ROUTES: &[(Method, &str)] = &[
    (Method::GET, "/v2/handles/{handle}/partners"),
    (Method::GET, "/v2/handles/{handle}/partners/{partnerId}"),
    (
        Method::GET,
        "/v2/handles/{handle}/partners/{partnerId}/postbacks",
    ),
    (Method::GET, "/v2/handles/{handle}/campaigns"),
    (Method::GET, "/v2/handles/{handle}/links"),
    (Method::GET, "/v2/handles/{handle}/links/{slug}"),
    (Method::GET, "/v2/handles/{handle}/analytics"),
    (Method::GET, "/v2/handles/{handle}/campaigns/{campaignId}"),
    (
        Method::GET,
        "/v2/handles/{handle}/campaigns/{campaignId}/commission-plan",
    ),
    (Method::GET, "/v2/handles/{handle}/commissions"),
    (
        Method::GET,
        "/v2/handles/{handle}/commissions/{commissionId}",
    ),
    (Method::GET, "/v2/handles/{handle}/balances"),
    (Method::GET, "/v2/handles/{handle}/payouts"),
    (Method::GET, "/v2/handles/{handle}/payouts/{payoutId}"),
    (
        Method::GET,
        "/v2/handles/{handle}/payouts/{payoutId}/statement",
    ),
    (Method::GET, "/v2/handles/{handle}/payouts/{payoutId}/proof"),
];

/// Whether a partner token may use the route of `rule`.
pub fn partner_may(rule: &Access) -> bool {
    PARTNER_ROUTES
        .iter()
        .any(|(m, p)| *m == rule.method && *p == rule.path)
}

/// The rule for a matched route, if any (none means the route is misconfigured: fail closed).
pub fn lookup(method: &Method, path: &str) -> Option<&'static Access> {
    // HEAD is served by GET routes.
    let method = if method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    ACCESS_TABLE
        .iter()
        .find(|r| r.method == method && r.path == path)
}

/// The highest role any route granted by `scope` requires: minting a token with that scope needs
/// at least this role, so a token never does more than its creator could. `None`: no route uses
/// the scope (yet).
pub fn role_for_scope(scope: Scope) -> Option<Role> {
    ACCESS_TABLE
        .iter()
        .filter(|r| r.scope == Some(scope))
        .map(|r| r.role)
        .max()
}

/// The access table as the markdown table of docs/security.md (`tenx access-table` prints it; a
/// test keeps docs/security.md in sync).
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| method | route | JWT role | PAT scope | rate-limited write |\n|---|---|---|---|---|\n",
    );
    for r in ACCESS_TABLE {
        let scope = r.scope.map_or_else(
            || "– (JWT only)".to_owned(),
            |s| format!("`{}`", s.as_str()),
        );
        out.push_str(&format!(
            "| `{}` | `{}` | {}+ | {} | {} |\n",
            r.method,
            r.path,
            r.role.as_str(),
            scope,
            if r.write { "yes" } else { "no" }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_route_is_declared_twice() {
        for (i, a) in ACCESS_TABLE.iter().enumerate() {
            for b in &ACCESS_TABLE[i + 1..] {
                assert!(
                    !(a.method == b.method && a.path == b.path),
                    "{} {} twice",
                    a.method,
                    a.path
                );
            }
        }
    }

    #[test]
    fn every_route_is_under_a_handle_and_tokens_are_jwt_only() {
        for r in ACCESS_TABLE {
            // The authorize layer checks the handle grant from this path parameter.
            assert!(
                r.path.starts_with("/v2/handles/{handle}"),
                "{} {}",
                r.method,
                r.path
            );
            if r.path.starts_with("/v2/handles/{handle}/tokens") {
                assert_eq!(r.scope, None, "a PAT must never manage PATs");
                assert!(r.role >= Role::Operator);
            }
        }
    }

    #[test]
    fn scope_roles_follow_the_table() {
        assert_eq!(role_for_scope(Scope::LinksWrite), Some(Role::Creator));
        for s in Scope::ALL {
            let expected = ACCESS_TABLE
                .iter()
                .filter(|r| r.scope == Some(s))
                .map(|r| r.role)
                .max();
            assert_eq!(role_for_scope(s), expected);
        }
    }

    #[test]
    fn markdown_table_has_one_row_per_rule() {
        let md = markdown_table();
        assert_eq!(md.lines().count(), ACCESS_TABLE.len() + 2);
        assert!(md.contains(
            "| `PUT` | `/v2/handles/{handle}/links/{slug}` | creator+ | `links.write` | yes |"
        ));
        assert!(md.contains(
            "| `POST` | `/v2/handles/{handle}/tokens` | operator+ | – (JWT only) | yes |"
        ));
    }

    #[test]
    fn scopes_round_trip() {
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
        }
        assert_eq!(Scope::parse("links.admin"), None);
    }
}
