//! A conversion's receipt: a compact JWS (`typ: tenx-receipt+jws`, the statements' Ed25519 key)
//! over the RFC 8785 form of what was accepted, returned in the `202`, kept with the conversion
//! and its commission, so a partner can later show that a conversion was accepted even if it
//! never reached a statement. Signed in-process: no round trip.

use crate::domain::proof::jcs;
use crate::domain::proof::jws::{ProofKeyring, RECEIPT_TYP};
use crate::kernel::events::ConversionData;

/// The signed fields: ids, handle, campaign, value (an exact decimal string), currency, time.
pub fn payload(handle: &str, c: &ConversionData) -> serde_json::Value {
    serde_json::json!({
        "conversionId": c.conversion_id,
        "clickId": c.click_id,
        "handle": handle,
        "campaignId": c.campaign_id,
        "value": c.value.map(|v| v.normalize().to_string()),
        "currency": c.currency,
        "receivedAt": c.received_at,
    })
}

pub fn sign(keys: &ProofKeyring, handle: &str, c: &ConversionData) -> String {
    keys.sign(RECEIPT_TYP, jcs::canonical(&payload(handle, c)).as_bytes())
}
