//! A webhook subscription: where to POST which events, and the secret that signs them. Pure
//! model and validation; the secret is stored (the worker must sign) but only the creation
//! response ever shows it, so the API view is a separate type without it.

use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::domain::{DomainError, Handle, PartnerId, SubscriptionId, validate_destination};
use crate::kernel::events::EventType;

pub const MAX_DESCRIPTION_CHARS: usize = 200;
/// Bound on the raw `eventTypes` list (duplicates are folded, so 6 distinct types remain).
pub const MAX_EVENT_TYPE_ENTRIES: usize = 32;
/// Soft cap per handle: fan-out reads every subscription of a handle for each event.
pub const MAX_SUBSCRIPTIONS_PER_HANDLE: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubscriptionStatus {
    Active,
    /// Nothing is sent: the endpoint answered `410 Gone` (the one deliberate exception to "every
    /// failure is retried 5 times": the receiver said it will never accept again), or an
    /// operator paused it. `PATCH …/webhooks/{id}` `{"status":"active"}` resumes it.
    Disabled,
}

/// The create request body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SubscriptionSpec {
    pub endpoint_url: String,
    pub event_types: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// A create request that passed validation (the SSRF check comes on top, in the route, because
/// it needs DNS).
#[derive(Debug, Clone)]
pub struct ValidSpec {
    pub endpoint_url: Url,
    pub event_types: Vec<EventType>,
    pub description: Option<String>,
}

fn expected_types() -> String {
    EventType::ALL.map(EventType::as_str).join(", ")
}

impl SubscriptionSpec {
    pub fn validate(self) -> Result<ValidSpec, DomainError> {
        let endpoint_url = validate_destination("endpointUrl", &self.endpoint_url)?;
        if self.event_types.is_empty() {
            return Err(DomainError::new(
                "eventTypes",
                format!("must list at least one of {}", expected_types()),
            ));
        }
        if self.event_types.len() > MAX_EVENT_TYPE_ENTRIES {
            return Err(DomainError::new(
                "eventTypes",
                format!("must list at most {MAX_EVENT_TYPE_ENTRIES} entries"),
            ));
        }
        let mut event_types = Vec::new();
        for (i, raw) in self.event_types.iter().enumerate() {
            let kind = EventType::parse(raw).ok_or_else(|| {
                DomainError::new(
                    format!("eventTypes[{i}]"),
                    format!(
                        "unknown event type `{raw}`; expected one of {}",
                        expected_types()
                    ),
                )
            })?;
            if !event_types.contains(&kind) {
                event_types.push(kind);
            }
        }
        if let Some(d) = &self.description
            && d.chars().count() > MAX_DESCRIPTION_CHARS
        {
            return Err(DomainError::new(
                "description",
                format!("must be at most {MAX_DESCRIPTION_CHARS} characters long"),
            ));
        }
        Ok(ValidSpec {
            endpoint_url,
            event_types,
            description: self.description,
        })
    }
}

/// A subscription as stored under `H#{handle}` / `W#{subscriptionId}`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub subscription_id: SubscriptionId,
    pub handle: Handle,
    pub endpoint_url: String,
    pub event_types: Vec<EventType>,
    pub description: Option<String>,
    /// `whsec_…`; never part of [`SubscriptionView`].
    pub secret: String,
    pub status: SubscriptionStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    /// When the endpoint's current run of failed attempts began (unix ms): set by the first
    /// failure after a success, cleared by the next success. A run longer than
    /// `TENX_WEBHOOK_AUTO_DISABLE_SECS` disables the subscription.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since_ms: Option<i64>,
    /// A partner's postback (`webhooks::postback`): `endpoint_url` is its URL template, fired
    /// as a GET for that partner's commission events. Kept in step with the partner record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<PartnerId>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("subscription_id", &self.subscription_id)
            .field("handle", &self.handle)
            .field("endpoint_url", &self.endpoint_url)
            .field("status", &self.status)
            .field("secret", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl Subscription {
    pub fn new(handle: &Handle, spec: ValidSpec, secret: String, now: Timestamp) -> Self {
        let id = SubscriptionId::new();
        let mut sub = Self::active(id, handle, spec.endpoint_url.to_string(), secret, now);
        sub.event_types = spec.event_types;
        sub.description = spec.description;
        sub
    }

    /// An active subscription with no event types, description or partner yet.
    pub fn active(
        id: SubscriptionId,
        handle: &Handle,
        endpoint_url: String,
        secret: String,
        now: Timestamp,
    ) -> Self {
        Self {
            subscription_id: id,
            handle: handle.clone(),
            endpoint_url,
            event_types: Vec::new(),
            description: None,
            secret,
            status: SubscriptionStatus::Active,
            created_at: now.clone(),
            updated_at: now,
            disabled_at: None,
            disabled_reason: None,
            failing_since_ms: None,
            partner_id: None,
        }
    }

    pub fn is_active(&self) -> bool {
        self.status == SubscriptionStatus::Active
    }

    /// Whether an event reaches this subscription. An event aimed at one subscription (a test)
    /// reaches it whatever its event types; others go to active subscriptions listing the type.
    pub fn receives(&self, kind: EventType, target: Option<&SubscriptionId>) -> bool {
        if !self.is_active() {
            return false;
        }
        match target {
            Some(id) => *id == self.subscription_id,
            None => kind != EventType::WebhookTest && self.event_types.contains(&kind),
        }
    }

    pub fn disabled(mut self, reason: String, now: Timestamp) -> Self {
        self.status = SubscriptionStatus::Disabled;
        self.disabled_at = Some(now.clone());
        self.disabled_reason = Some(reason);
        self.updated_at = now;
        self
    }

    /// Resumed by an operator: active again, the reason it stopped cleared, and its run of
    /// failures forgotten (the endpoint gets a full auto-disable period again).
    pub fn reactivated(mut self, now: Timestamp) -> Self {
        self.status = SubscriptionStatus::Active;
        self.disabled_at = None;
        self.disabled_reason = None;
        self.failing_since_ms = None;
        self.updated_at = now;
        self
    }

    /// The endpoint's failure run begins (`Some`) or ends (`None`); not a change an API client
    /// made, so `updatedAt` stays.
    pub fn failing_since(mut self, since_ms: Option<i64>) -> Self {
        self.failing_since_ms = since_ms;
        self
    }

    pub fn view(&self) -> SubscriptionView {
        SubscriptionView {
            subscription_id: self.subscription_id.clone(),
            endpoint_url: self.endpoint_url.clone(),
            event_types: self.event_types.clone(),
            description: self.description.clone(),
            status: self.status,
            created_at: self.created_at.clone(),
            updated_at: self.updated_at.clone(),
            disabled_at: self.disabled_at.clone(),
            disabled_reason: self.disabled_reason.clone(),
            partner_id: self.partner_id.clone(),
        }
    }
}

/// What reads return: everything but the secret.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionView {
    pub subscription_id: SubscriptionId,
    pub endpoint_url: String,
    pub event_types: Vec<EventType>,
    pub description: Option<String>,
    pub status: SubscriptionStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    /// Set on a partner's postback (managed through the partner, not deletable here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<PartnerId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(url: &str, types: &[&str]) -> SubscriptionSpec {
        SubscriptionSpec {
            endpoint_url: url.into(),
            event_types: types.iter().map(std::string::ToString::to_string).collect(),
            description: None,
        }
    }

    #[test]
    fn valid_specs_fold_duplicate_types() {
        let v = spec(
            "https://hooks.example.com/test",
            &["link.clicked", "conversion.tested", "link.clicked"],
        )
        .validate()
        .unwrap();
        assert_eq!(
            v.event_types,
            vec![EventType::LinkClicked, EventType::ConversionTested]
        );
        assert_eq!(v.endpoint_url.as_str(), "https://hooks.example.com/test");
    }

    #[test]
    fn invalid_specs_name_the_field() {
        let e = spec("https://h.example/", &["link.clicked", "link.deleted"])
            .validate()
            .unwrap_err();
        assert_eq!(e.field, "eventTypes[1]");
        assert!(e.message.contains("`link.deleted`"), "{}", e.message);
        let e = spec("https://h.example/", &[]).validate().unwrap_err();
        assert_eq!(e.field, "eventTypes");
        let e = spec("ftp://h.example/", &["link.clicked"])
            .validate()
            .unwrap_err();
        assert_eq!(e.field, "endpointUrl");
        let long = format!("https://h.example/{}", "a".repeat(2048));
        let e = spec(&long, &["link.clicked"]).validate().unwrap_err();
        assert_eq!(e.field, "endpointUrl");
        let mut s = spec("https://h.example/", &["link.clicked"]);
        s.description = Some("é".repeat(MAX_DESCRIPTION_CHARS));
        assert!(s.validate().is_ok(), "200 characters, not bytes");
        let mut s = spec("https://h.example/", &["link.clicked"]);
        s.description = Some("x".repeat(MAX_DESCRIPTION_CHARS + 1));
        assert_eq!(s.validate().unwrap_err().field, "description");
    }

    #[test]
    fn routing_events_to_subscriptions() {
        let v = spec("https://h.example/", &["link.clicked"])
            .validate()
            .unwrap();
        let sub = Subscription::new(
            &Handle::parse("acme").unwrap(),
            v,
            "whsec_x".into(),
            crate::domain::time::Timestamp::literal("2026-01-01T00:00:00Z"),
        );
        assert!(sub.receives(EventType::LinkClicked, None));
        assert!(!sub.receives(EventType::LinkCreated, None));
        assert!(sub.receives(EventType::WebhookTest, Some(&sub.subscription_id)));
        let other = SubscriptionId::new();
        assert!(!sub.receives(EventType::LinkClicked, Some(&other)));
        let disabled = sub.clone().disabled(
            "410".into(),
            crate::domain::time::Timestamp::literal("2026-01-01T00:00:00Z"),
        );
        assert!(!disabled.receives(EventType::LinkClicked, None));
        assert!(!format!("{sub:?}").contains("whsec_x"));
        assert!(
            !serde_json::to_string(&sub.view())
                .unwrap()
                .contains("whsec_x")
        );
    }
}
