//! Who the caller is and what it may do: roles, PAT scopes, principals, the JWT verifier and the
//! authorization decision. Below `http`: the HTTP layer extracts the bearer token and turns an
//! [`AuthError`] into the API envelope.

pub mod jwt;

use serde::{Deserialize, Serialize};

/// Why a caller was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No, a malformed, an invalid or an expired credential (`401 unauthorized`).
    #[error("{0}")]
    Unauthorized(String),
    /// The caller has no grant on the handle (`403 forbidden`).
    #[error("You have no access to handle {0}.")]
    ForeignHandle(String),
    /// The JWT's role is too low (`403 insufficient_role`).
    #[error("This action requires the {} role or higher.", .0.as_str())]
    InsufficientRole(Role),
    /// The PAT lacks the scope; `None`: the route is JWT only (`403 insufficient_scope`).
    #[error("{}", insufficient_scope_message(*.0))]
    InsufficientScope(Option<Scope>),
    /// This function was deployed without a verifier: fail closed.
    #[error("no JWT verifier is configured in this function")]
    NotConfigured,
    #[error(transparent)]
    Store(#[from] crate::platform::store::StoreError),
}

impl AuthError {
    /// The API error code this refusal is answered with.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Unauthorized(_) => "unauthorized",
            AuthError::ForeignHandle(_) => "forbidden",
            AuthError::InsufficientRole(_) => "insufficient_role",
            AuthError::InsufficientScope(_) => "insufficient_scope",
            AuthError::NotConfigured | AuthError::Store(_) => "internal",
        }
    }
}

fn insufficient_scope_message(scope: Option<Scope>) -> String {
    match scope {
        Some(s) => format!("This personal access token lacks the {} scope.", s.as_str()),
        None => "Personal access tokens cannot call this route; use a JWT.".to_owned(),
    }
}

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
    /// A personal access token, bound to one handle and a set of scopes; `minted_by` is the
    /// person who minted it from their session (`None`: a JWT's, which names no person).
    Pat {
        token_id: crate::domain::TokenId,
        scopes: Vec<Scope>,
        minted_by: Option<crate::domain::UserId>,
    },
    /// A person's session (the `tenx_session` cookie, issue 60): judged like a JWT, with the
    /// role of their membership of the handle asked for.
    Session {
        session_id: crate::domain::SessionId,
        user_id: crate::domain::UserId,
    },
    /// A partner token: reads its partner's data only, on the partner routes.
    Partner {
        token_id: String,
        partner_id: crate::domain::PartnerId,
    },
    /// A person's session acting as one of a handle's partners (issue 61): judged exactly as
    /// that partner's token (the partner routes, its own data only); `owner` may invite the
    /// partner's other users.
    PartnerUser {
        session_id: crate::domain::SessionId,
        user_id: crate::domain::UserId,
        partner_id: crate::domain::PartnerId,
        owner: bool,
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

    /// The person a merchant's credential acts as, for the money rule
    /// (`people::acting`): a session's user, the person who minted a token, a JWT whose
    /// subject is a user's id; `None` for any other JWT and for a partner's credentials,
    /// which act as their partner.
    pub fn person(&self) -> Option<crate::domain::UserId> {
        match &self.credential {
            Credential::Session { user_id, .. } => Some(user_id.clone()),
            Credential::Pat { minted_by, .. } => minted_by.clone(),
            Credential::Jwt => crate::domain::UserId::parse(&self.subject).ok(),
            Credential::Partner { .. } | Credential::PartnerUser { .. } => None,
        }
    }
}

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
    ConversionsRead,
    ConversionsWrite,
    CommissionsRead,
    CommissionsWrite,
    PayoutsWrite,
    /// Minting embed tokens for the referral dashboard (issue 61).
    PartnersEmbed,
}

impl Scope {
    pub const ALL: [Scope; 13] = [
        Scope::LinksRead,
        Scope::LinksWrite,
        Scope::CampaignsRead,
        Scope::CampaignsWrite,
        Scope::AnalyticsRead,
        Scope::WebhooksRead,
        Scope::WebhooksWrite,
        Scope::ConversionsRead,
        Scope::ConversionsWrite,
        Scope::CommissionsRead,
        Scope::CommissionsWrite,
        Scope::PayoutsWrite,
        Scope::PartnersEmbed,
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
            Scope::ConversionsRead => "conversions.read",
            Scope::ConversionsWrite => "conversions.write",
            Scope::CommissionsRead => "commissions.read",
            Scope::CommissionsWrite => "commissions.write",
            Scope::PayoutsWrite => "payouts.write",
            Scope::PartnersEmbed => "partners.embed",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

impl Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Scope {
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

/// Decides whether `principal` may act with `role` (JWT) or `scope` (PAT) on `handle`: the handle
/// grant first (`forbidden`, so a PAT of one handle is refused on another whatever its scopes),
/// then the JWT's role or the PAT's scope (a rule without a scope is JWT only).
pub fn check(
    principal: &Principal,
    role: Role,
    scope: Option<Scope>,
    handle: &str,
) -> Result<(), AuthError> {
    if !principal.may_act_on(handle) {
        return Err(AuthError::ForeignHandle(handle.to_owned()));
    }
    match &principal.credential {
        Credential::Jwt | Credential::Session { .. } if principal.role < role => {
            Err(AuthError::InsufficientRole(role))
        }
        Credential::Jwt | Credential::Session { .. } => Ok(()),
        Credential::Pat { scopes, .. } => match scope {
            Some(scope) if scopes.contains(&scope) => Ok(()),
            other => Err(AuthError::InsufficientScope(other)),
        },
        // Judged by the route (`http::auth::check`), never by a role or scope.
        Credential::Partner { .. } | Credential::PartnerUser { .. } => {
            Err(AuthError::InsufficientScope(scope))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{PartnerId, SessionId, TokenId, UserId};

    fn principal(subject: &str, credential: Credential) -> Principal {
        Principal {
            subject: subject.into(),
            role: Role::Operator,
            handles: vec!["shop".into()],
            credential,
        }
    }

    #[test]
    fn the_person_behind_a_credential_is_its_user_or_the_tokens_minter() {
        let user = UserId::new();
        let session = Credential::Session {
            session_id: SessionId::new(),
            user_id: user.clone(),
        };
        assert_eq!(
            principal(user.as_str(), session).person(),
            Some(user.clone())
        );
        let pat = |minted_by| Credential::Pat {
            token_id: TokenId::new(),
            scopes: vec![Scope::CommissionsWrite],
            minted_by,
        };
        assert_eq!(
            principal("pat:tok", pat(Some(user.clone()))).person(),
            Some(user.clone())
        );
        assert_eq!(principal("pat:tok", pat(None)).person(), None);
        // A JWT names a person only when its subject is a user's id.
        assert_eq!(
            principal(user.as_str(), Credential::Jwt).person(),
            Some(user.clone())
        );
        assert_eq!(principal("ci-deploys", Credential::Jwt).person(), None);
        // A partner's people act as their partner, never as a member.
        let partner_user = Credential::PartnerUser {
            session_id: SessionId::new(),
            user_id: user.clone(),
            partner_id: PartnerId::parse("pb").unwrap(),
            owner: true,
        };
        assert_eq!(principal(user.as_str(), partner_user).person(), None);
    }
}
