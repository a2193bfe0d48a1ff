//! The declarative access table: every authenticated route's required role, the PAT scope that
//! may call it instead, and whether it is a rate-limited write. Enforced by `authorize`; rendered
//! in the README; the access-matrix test is generated from it, so a new route cannot skip it.

use axum::http::Method;

use super::Role;

/// Scopes a personal access token may carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    LinksRead,
    LinksWrite,
    CampaignsRead,
    CampaignsWrite,
    AnalyticsRead,
    WebhooksRead,
    WebhooksWrite,
}

impl Scope {
    pub const ALL: [Scope; 7] = [
        Scope::LinksRead,
        Scope::LinksWrite,
        Scope::CampaignsRead,
        Scope::CampaignsWrite,
        Scope::AnalyticsRead,
        Scope::WebhooksRead,
        Scope::WebhooksWrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::LinksRead => "links.read",
            Scope::LinksWrite => "links.write",
            Scope::CampaignsRead => "campaigns.read",
            Scope::CampaignsWrite => "campaigns.write",
            Scope::AnalyticsRead => "analytics.read",
            Scope::WebhooksRead => "webhooks.read",
            Scope::WebhooksWrite => "webhooks.write",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

impl serde::Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Scope::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown scope `{s}`, expected one of {}",
                Scope::ALL.map(Scope::as_str).join(", ")
            ))
        })
    }
}

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
        Method::POST,
        "/v2/handles/{handle}/links/{slug}/route-preview",
        Creator,
        Some(LinksRead),
        false,
    ),
];

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
    fn scopes_round_trip() {
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
        }
        assert_eq!(Scope::parse("links.admin"), None);
    }
}
