//! What a Shopify delivery is, read from its signed body (issue 57). Shopify signs the body
//! only: `x-shopify-topic` and `x-shopify-webhook-id` can be changed by whoever captured a
//! delivery. A `refunds/create` body resent under a new webhook id doubled its reversal, and an
//! `orders/paid` body resent as `orders/cancelled` reversed the whole sale. So a delivery is
//! claimed (deduped) by what its body says (the refund's id, the order's id and state) and the
//! topic must agree with the body; one that contradicts it is refused and logged.

use serde_json::Value;

/// The kind of a body 10x acts on, with the ids it is applied (and deduped) by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    /// An order, paid and not cancelled when the body was made.
    Paid { order: String },
    /// An order cancelled (`cancelled_at` set).
    Cancelled { order: String },
    /// A refund of an order, by the refund's own id.
    Refund { order: String, refund: String },
}

impl Content {
    /// The log's claim key: one application per refund, per order paid, per order cancelled,
    /// whatever webhook id or how many deliveries carry it.
    pub fn key(&self) -> String {
        match self {
            Content::Paid { order } => format!("order_{order}_paid"),
            Content::Cancelled { order } => format!("order_{order}_cancelled"),
            Content::Refund { order, refund } => format!("order_{order}_refund_{refund}"),
        }
    }

    /// The topic a delivery of this body is sent under.
    pub fn topic(&self) -> &'static str {
        match self {
            Content::Paid { .. } => "orders/paid",
            Content::Cancelled { .. } => "orders/cancelled",
            Content::Refund { .. } => "refunds/create",
        }
    }
}

/// The topics 10x acts on.
pub const ACTED_ON: &[&str] = &["orders/paid", "orders/cancelled", "refunds/create"];

/// What the body of a delivery under `topic` (one of [`ACTED_ON`]) is, or why it is not what
/// the topic says.
pub fn read(topic: &str, body: &Value) -> Result<Content, String> {
    let found = match topic {
        "refunds/create" => refund(body),
        "orders/cancelled" => order(body)
            .and_then(|(order, cancelled, _)| cancelled.then_some(Content::Cancelled { order })),
        "orders/paid" => order(body).and_then(|(order, cancelled, paid)| {
            (paid && !cancelled).then_some(Content::Paid { order })
        }),
        _ => None,
    };
    found.ok_or_else(|| {
        format!(
            "the topic {topic} contradicts its body ({}): refused",
            describe(body)
        )
    })
}

/// A refund body: its own id and its order's (`order_id`), and refund transactions.
fn refund(body: &Value) -> Option<Content> {
    let refund = id_of(&body["id"])?;
    let order = id_of(&body["order_id"])?;
    body["transactions"].is_array().then_some(())?;
    Some(Content::Refund { order, refund })
}

/// An order body (never a refund's: a refund names an `order_id`): its id, whether it is
/// cancelled, whether it is paid.
fn order(body: &Value) -> Option<(String, bool, bool)> {
    if !body["order_id"].is_null() || body["financial_status"].as_str().is_none() {
        return None;
    }
    let order = id_of(&body["id"])?;
    let cancelled = body["cancelled_at"].as_str().is_some_and(|s| !s.is_empty());
    let paid = matches!(
        body["financial_status"].as_str(),
        Some("paid" | "partially_refunded" | "refunded")
    );
    Some((order, cancelled, paid))
}

/// The body in words, for the log.
fn describe(body: &Value) -> String {
    if let Some(order) = id_of(&body["order_id"]) {
        return format!("a refund of order {order}");
    }
    match (id_of(&body["id"]), body["financial_status"].as_str()) {
        (Some(id), Some(status)) => {
            let cancelled = body["cancelled_at"].as_str().is_some_and(|s| !s.is_empty());
            let state = if cancelled { ", cancelled" } else { "" };
            format!("order {id}, {status}{state}")
        }
        _ => "neither an order nor a refund".to_owned(),
    }
}

/// A Shopify id (64-bit, past 2^53: read as an integer, never a float), digits only.
pub fn id_of(value: &Value) -> Option<String> {
    let id = value
        .as_u64()
        .map(|n| n.to_string())
        .or_else(|| value.as_str().map(str::to_owned))?;
    (!id.is_empty() && id.len() <= 40 && id.bytes().all(|b| b.is_ascii_digit())).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paid_order() -> Value {
        json!({"id": 820982911946154508_u64, "financial_status": "paid", "cancelled_at": null,
               "current_total_price": "100.00", "currency": "EUR"})
    }

    fn a_refund() -> Value {
        json!({"id": 509562969, "order_id": 820982911946154508_u64,
               "transactions": [{"kind": "refund", "status": "success", "amount": "10.00"}]})
    }

    #[test]
    fn each_body_is_keyed_by_what_it_is_not_by_its_headers() {
        let paid = read("orders/paid", &paid_order()).unwrap();
        assert_eq!(paid.key(), "order_820982911946154508_paid");
        let refund = read("refunds/create", &a_refund()).unwrap();
        assert_eq!(refund.key(), "order_820982911946154508_refund_509562969");
        let mut cancelled = paid_order();
        cancelled["cancelled_at"] = json!("2026-11-26T10:00:00Z");
        cancelled["financial_status"] = json!("refunded");
        let c = read("orders/cancelled", &cancelled).unwrap();
        assert_eq!(c.key(), "order_820982911946154508_cancelled");
        assert_eq!(c.topic(), "orders/cancelled");
    }

    #[test]
    fn a_topic_that_contradicts_its_body_is_refused() {
        let mut cancelled = paid_order();
        cancelled["cancelled_at"] = json!("2026-11-26T10:00:00Z");
        for (topic, body, says) in [
            (
                "orders/cancelled",
                paid_order(),
                "order 820982911946154508, paid",
            ),
            ("orders/paid", a_refund(), "a refund of order"),
            ("refunds/create", paid_order(), "order 820982911946154508"),
            ("orders/paid", cancelled, "cancelled"),
            (
                "orders/paid",
                json!({"id": 1}),
                "neither an order nor a refund",
            ),
        ] {
            let why = read(topic, &body).unwrap_err();
            assert!(why.contains(topic) && why.contains(says), "{topic}: {why}");
        }
    }

    #[test]
    fn ids_are_digits_whatever_their_json_type() {
        assert_eq!(id_of(&json!("123")).as_deref(), Some("123"));
        assert_eq!(
            id_of(&json!(18446744073709551615_u64)).as_deref(),
            Some("18446744073709551615")
        );
        for bad in [json!("12a"), json!(""), json!(1.5), json!(null), json!(-3)] {
            assert_eq!(id_of(&bad), None, "{bad}");
        }
    }
}
