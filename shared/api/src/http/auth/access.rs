//! The access table: every authenticated route's required role, the PAT scope that may call it
//! instead, and whether it is a rate-limited write, collected from the routes each group declares
//! (`http::routes`). Enforced by `authorize`; rendered in docs/security.md; the access-matrix
//! test is generated from it.

use std::sync::LazyLock;

use axum::http::Method;

use crate::auth::{Role, Scope};
use crate::http::Group;

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

/// Every group's declared routes (`Routes` in each `http` module), in `Group::API` order: a
/// route is registered with its rule or not at all, so the table has no hand-written rows.
pub static ACCESS_TABLE: LazyLock<Vec<Access>> = LazyLock::new(|| {
    Group::API
        .into_iter()
        .flat_map(|group| group.routes().into_rules())
        .collect()
});

/// The routes a partner token, or a person acting as the partner (issue 61), may use (reads,
/// and a few writes of its own; each handler narrows its answer to the partner). Any other route answers it `403 insufficient_scope`.
pub static PARTNER_ROUTES: &[(Method, &str)] = &[
    (Method::GET, "/v2/handles/{handle}/partners"),
    (Method::GET, "/v2/handles/{handle}/partners/{partnerId}"),
    // Its own payout method (issue 46): the one write a partner token makes.
    (
        Method::GET,
        "/v2/handles/{handle}/partners/{partnerId}/payout-method",
    ),
    (
        Method::PUT,
        "/v2/handles/{handle}/partners/{partnerId}/payout-method",
    ),
    (
        Method::GET,
        "/v2/handles/{handle}/partners/{partnerId}/postbacks",
    ),
    (Method::GET, "/v2/handles/{handle}/campaigns"),
    (Method::GET, "/v2/handles/{handle}/links"),
    (Method::GET, "/v2/handles/{handle}/links/{slug}"),
    // Its own links' A/B tests: a test that sends its visitors to a worse page costs it.
    (Method::GET, "/v2/handles/{handle}/links/{slug}/variants"),
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
    (Method::GET, "/v2/handles/{handle}/customers"),
    (Method::GET, "/v2/handles/{handle}/customers/{customerId}"),
    (
        Method::GET,
        "/v2/handles/{handle}/partners/{partnerId}/coupon-codes",
    ),
    (
        Method::GET,
        "/v2/handles/{handle}/partners/{partnerId}/notices",
    ),
    // Its own message thread (issue 61): read, and written to the program.
    (
        Method::GET,
        "/v2/handles/{handle}/partners/{partnerId}/messages",
    ),
    (
        Method::POST,
        "/v2/handles/{handle}/partners/{partnerId}/messages",
    ),
    // Its own claims (issue 63): opened and read by the partner itself.
    (
        Method::POST,
        "/v2/handles/{handle}/partners/{partnerId}/claims",
    ),
    (
        Method::GET,
        "/v2/handles/{handle}/partners/{partnerId}/claims",
    ),
    (
        Method::GET,
        "/v2/handles/{handle}/partners/{partnerId}/claims/{claimId}",
    ),
    // Its claim's images: added and read by the partner itself.
    (
        Method::POST,
        "/v2/handles/{handle}/partners/{partnerId}/claims/{claimId}/attachments",
    ),
    (
        Method::GET,
        "/v2/handles/{handle}/partners/{partnerId}/claims/{claimId}/attachments/{attachmentId}",
    ),
    (Method::GET, "/v2/handles/{handle}/claims"),
    (Method::GET, "/v2/handles/{handle}/claims/{claimId}"),
    // The partner portal (issue 61): its owner invites its users (the handler refuses tokens
    // and members).
    (
        Method::POST,
        "/v2/handles/{handle}/partners/{partnerId}/members/invitations",
    ),
    (
        Method::GET,
        "/v2/handles/{handle}/partners/{partnerId}/summary",
    ),
    // Its people, listed; its owner removes its members (the handler refuses tokens and
    // members).
    (
        Method::GET,
        "/v2/handles/{handle}/partners/{partnerId}/members",
    ),
    (
        Method::DELETE,
        "/v2/handles/{handle}/partners/{partnerId}/members/{userId}",
    ),
    // Its own links, to the destinations its program allows.
    (
        Method::POST,
        "/v2/handles/{handle}/partners/{partnerId}/links",
    ),
    // Its tax profile, masked; the list narrowed to its own.
    (
        Method::GET,
        "/v2/handles/{handle}/partners/{partnerId}/tax-profile",
    ),
    (
        Method::PUT,
        "/v2/handles/{handle}/partners/{partnerId}/tax-profile",
    ),
    (Method::GET, "/v2/handles/{handle}/tax-profiles"),
    // Self-billing: its acceptance (its own act), its paid payouts' invoices and credit notes.
    (
        Method::GET,
        "/v2/handles/{handle}/partners/{partnerId}/self-billing",
    ),
    (
        Method::POST,
        "/v2/handles/{handle}/partners/{partnerId}/self-billing/accept",
    ),
    (
        Method::GET,
        "/v2/handles/{handle}/payouts/{payoutId}/invoice",
    ),
    (
        Method::GET,
        "/v2/handles/{handle}/payouts/{payoutId}/credit-note",
    ),
    // Its plan's terms in words, and why one of its commissions is what it is.
    (
        Method::GET,
        "/v2/handles/{handle}/partners/{partnerId}/terms",
    ),
    (
        Method::GET,
        "/v2/handles/{handle}/commissions/{commissionId}/explanation",
    ),
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
    for r in ACCESS_TABLE.iter() {
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
        for r in ACCESS_TABLE.iter() {
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
