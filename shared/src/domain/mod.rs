//! The pure domain: validating newtypes, links, routing, destinations, ctx tokens and visitor
//! classification. No AWS or HTTP types live here.

pub mod attribution;
pub mod bots;
pub mod chain;
pub mod confidence;
pub mod conversion;
pub mod ctx;
pub mod destination;
pub mod error;
pub mod fallback;
pub mod ids;
pub mod link;
pub mod money;
pub mod prefixed;
pub mod proof;
pub mod risk;
pub mod routing;
pub mod subids;
pub mod url_check;
pub mod visitor;

pub use attribution::Attribution;
pub use ctx::{CtxClaims, CtxError, CtxKeyring, MAX_CTX_TOKEN_LEN, MIN_CTX_KEY_BYTES};
pub use destination::{build_destination, build_destination_with, CTX_PARAM};
pub use error::DomainError;
pub use ids::{CampaignId, Handle, PartnerId, Slug};
pub use link::{
    Conditions, Expiry, Link, LinkSpec, RoutingRule, Tracking, ValidLinkSpec, DEVICE_NAMES,
    MAX_CONDITION_VALUES, MAX_CONDITION_VALUE_CHARS, MAX_ROUTING_RULES, MAX_TITLE_CHARS,
    MAX_TRACKING_VALUE_CHARS,
};
pub use money::Currency;
pub use prefixed::{
    ClickId, CommissionId, ConversionId, EventId, PayoutId, ReversalId, SubscriptionId, TokenId,
};
pub use routing::{route, RouteDecision, RouteInput};
pub use subids::SubIds;
pub use url_check::{validate_destination, MAX_DESTINATION_LEN};
pub use visitor::{
    classify_user_agent, classify_user_agent_bytes, click_source, referrer_host, segment,
    BotReason, Device, UaClass, MAX_SOURCE_BYTES,
};
