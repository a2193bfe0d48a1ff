//! Postbacks, as affiliate trackers expect them: a partner's URL template
//! (`https://t.example/pb?clickid={sub1}&payout={commission}`) fired as a GET for the partner's
//! commission events. A postback is a subscription with a `partnerId` (id derived from the handle
//! and the partner), so it rides the same deliveries queue, retries, SSRF guard, delivery log,
//! auto-disable and recovery as a webhook; only what is sent differs.

use serde_json::Value;

use super::subscription::Subscription;
use crate::domain::{PartnerId, SubscriptionId};
use crate::kernel::events::{Event, EventType};

/// The macros a template may carry, and where each value is in a commission event's `data`.
pub const MACROS: &[(&str, &str)] = &[
    ("click_id", "/clickId"),
    ("sub1", "/subIds/sub1"),
    ("sub2", "/subIds/sub2"),
    ("sub3", "/subIds/sub3"),
    ("sub4", "/subIds/sub4"),
    ("sub5", "/subIds/sub5"),
    ("conversion_id", "/conversionId"),
    ("commission_id", "/commissionId"),
    ("event_type", "/eventType"),
    ("commission", "/amount"),
    ("currency", "/currency"),
    ("status", "/status"),
    ("campaign_id", "/campaignId"),
];

/// The postback subscription's id for a partner: the same on every write, so the partner's
/// record and its postback can be kept in step with put-if-absent and version checks.
pub fn subscription_id(handle: &str, partner: &PartnerId) -> SubscriptionId {
    SubscriptionId::of_seed(&format!("postback\n{handle}\n{partner}"))
}

/// Whether `event` goes to this postback: an event of its partner, of a type it asked for, and
/// no `commission.created` of a line waiting for a decision (held, capped or rejected lines fire
/// nothing until approved). A test dispatch aimed at it goes too (its macros are empty).
pub fn wants(sub: &Subscription, partner: &PartnerId, event: &Event) -> bool {
    if !sub.is_active() {
        return false;
    }
    if let Some(target) = &event.target_subscription {
        return *target == sub.subscription_id;
    }
    let data = &event.data;
    let waiting = matches!(
        data["status"].as_str(),
        Some("held" | "capped" | "rejected")
    );
    sub.event_types.contains(&event.kind)
        && data["partnerId"].as_str() == Some(partner.as_str())
        && (event.kind != EventType::CommissionCreated || !waiting)
}

/// The URL for one delivery: each macro replaced by its value from the webhook body's `data`,
/// percent-encoded (an absent value is empty). The template was checked when it was stored.
pub fn render(template: &str, webhook_body: &str) -> String {
    let body: Value = serde_json::from_str(webhook_body).unwrap_or(Value::Null);
    let data = &body["data"];
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        out.push_str(&encode(&value_of(data, name)));
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

fn value_of(data: &Value, name: &str) -> String {
    let pointer = MACROS.iter().find(|(m, _)| *m == name).map(|(_, p)| *p);
    match pointer.and_then(|p| data.pointer(p)) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// RFC 3986 unreserved characters pass; every other byte is `%XX`.
fn encode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"id":"evt_1","type":"commission.reversed","data":{
        "commissionId":"com_1","clickId":"clk_9","subIds":{"sub1":"aff 7&x=1"},
        "conversionId":"cnv_1","eventType":"purchase","amount":"-2.50","currency":"EUR",
        "status":"pending","campaignId":"alpha"}}"#;

    #[test]
    fn macros_are_filled_and_encoded_and_absent_ones_are_empty() {
        let t = "https://t.example/pb?c={click_id}&s={sub1}&s2={sub2}&p={commission}&cur={currency}&id={commission_id}";
        assert_eq!(
            render(t, BODY),
            "https://t.example/pb?c=clk_9&s=aff%207%26x%3D1&s2=&p=-2.50&cur=EUR&id=com_1"
        );
        assert_eq!(
            render("https://t.example/{status}/{campaign_id}", BODY),
            "https://t.example/pending/alpha"
        );
    }

    #[test]
    fn every_macro_has_a_place_and_ids_are_stable_per_partner() {
        let p = PartnerId::parse("pub-one").unwrap();
        let q = PartnerId::parse("pub-two").unwrap();
        assert_eq!(subscription_id("acme", &p), subscription_id("acme", &p));
        assert_ne!(subscription_id("acme", &p), subscription_id("acme", &q));
        assert_ne!(subscription_id("acme", &p), subscription_id("beta", &p));
        assert!(SubscriptionId::parse(subscription_id("acme", &p).as_str()).is_ok());
        assert_eq!(MACROS.len(), 13);
    }
}
