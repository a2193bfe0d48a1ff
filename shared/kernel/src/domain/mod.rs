//! The pure domain: validating newtypes, links, routing, destinations, ctx tokens and visitor
//! classification. No AWS or HTTP types live here.

pub mod ad_clicks;
pub mod allowed_destinations;
pub mod attribution;
pub mod bank;
pub mod bots;
pub mod chain;
pub mod confidence;
pub mod conversion;
pub mod ctx;
pub mod custom_domain;
pub mod customer;
pub mod destination;
pub mod disposable;
pub mod email;
pub mod error;
pub mod fallback;
pub mod fraud_rules;
pub mod idempotency;
pub mod ids;
pub mod imported_slug;
pub mod link;
pub mod money;
pub mod prefixed;
pub mod proof;
pub mod risk;
pub mod routing;
pub mod sealed;
pub mod sepa;
pub mod spreadsheet;
pub mod subids;
pub mod tax_id;
pub mod time;
pub mod url_check;
pub mod variants;
pub mod visitor;
pub mod words;

pub use attribution::Attribution;
pub use ctx::{CtxClaims, CtxError, CtxKeyring, MAX_CTX_TOKEN_LEN, MIN_CTX_KEY_BYTES};
pub mod coupon_rules;
pub use customer::{BoundBy, CouponCode, CouponUse, CustomerId, landing_referrer};
pub use destination::{CTX_PARAM, build_destination, build_destination_with};
pub use error::DomainError;
pub use idempotency::{IdempotencyKey, PayoutRunKey, RetryKey};
pub use ids::{CampaignId, GroupId, Handle, PartnerId, Slug};
pub use link::{
    DEVICE_NAMES, Expiry, Link, LinkSpec, MAX_CONDITION_VALUE_CHARS, MAX_CONDITION_VALUES,
    MAX_ROUTING_RULES, MAX_TITLE_CHARS, MAX_TRACKING_VALUE_CHARS, RouteConditions, RoutingRule,
    Tracking, ValidLinkSpec,
};
pub use money::Currency;
pub use prefixed::{
    ApplicationId, AttachmentId, BatchId, BroadcastId, ClaimId, ClickId, CommissionId,
    ConversionId, EventId, ImportId, InvitationId, MessageId, NoticeId, PasskeyId, PayoutId,
    ReversalId, SessionId, SubscriptionId, TokenId, UserId,
};
pub use routing::{RouteDecision, RouteInput, route};
pub use subids::SubIds;
pub use url_check::{MAX_DESTINATION_LEN, validate_destination};
pub use variants::{Variant, VariantPeriod};
pub use visitor::{
    BotReason, Device, MAX_SOURCE_BYTES, UaClass, classify_user_agent, classify_user_agent_bytes,
    click_source, referrer_host, segment,
};
