//! Builders of the kernel's records for tests: one of each, which a test adjusts with struct
//! update syntax instead of writing every field again.

use crate::domain::{ClickId, ConversionId, Currency, Device};
use crate::kernel::events::ConversionData;

/// An unverified `signup` on no campaign (link `spring`), received 2026-11-21 09:00 UTC, worth
/// `value` EUR when given.
pub fn conversion(value: Option<&str>) -> ConversionData {
    ConversionData {
        conversion_id: ConversionId::new(),
        idempotency_key: crate::domain::IdempotencyKey::parse("order-1").unwrap(),
        click_id: ClickId::new(),
        campaign_id: None,
        slug: "spring".into(),
        event_type: "signup".into(),
        value: value.map(|v| v.parse().unwrap()),
        currency: value.map(|_| Currency::parse("EUR").unwrap()),
        test: false,
        metadata: None,
        attribution: crate::domain::Attribution {
            country: "DE".into(),
            device: Device::Desktop,
            source: "direct".into(),
            referrer: "direct".into(),
            segment: "new-desktop".into(),
            variant: None,
        },
        sub_ids: Default::default(),
        received_at: crate::domain::time::Timestamp::literal("2026-11-21T09:00:00.000Z"),
        verified: false,
        risk: Default::default(),
        reversal: None,
        superseded_by: None,
        receipt: None,
        customer_id: None,
        customer_first: false,
        customer_bound_at: None,
        customer_self_referral: false,
        coupon: None,
        address_hash: None,
        visitor_hash: None,
    }
}
