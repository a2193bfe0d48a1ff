//! Rewardful (API v1, `developers.rewardful.com`): `{"affiliates": [...], "affiliate_coupons":
//! [...], "referrals": [...], "commissions": [...]}`, the `data` lists of `GET /v1/affiliates`
//! (`id`, `first_name`, `last_name`, `email`, `paypal_email`: its payout method here, `links[]`
//! with `token` and `url`), `GET
//! /v1/affiliate_coupons` (`token`, `affiliate_id`, `archived`), `GET /v1/referrals`
//! (`id`, `conversion_state`, `stripe_customer_id`, `affiliate.id`, `customer.id`,
//! `customer.email`, `customer.platform_id`) and `GET /v1/commissions` (`id`, `amount` in cents,
//! `currency`, `state`: `paid`, `due`, `pending`, `voided`, `due_at`, and `sale.affiliate.id`),
//! and `GET /v1/payouts?expand[]=commissions` (`state`: `pending`, `due`, `processing`, `paid`;
//! `commissions[].id`). A referral is a customer once it converted (`conversion_state:
//! conversion`); leads and visitors are not customers and are left out. A `due` commission in a
//! payout Rewardful is sending (`processing`) is paid there: it comes in `paid`, never paid
//! again here.

use serde_json::Value;

use super::{
    Joins, RawCommission, RawCustomer, RawPartner, Shape, cents, full_name, status_of, text,
};
use crate::imports::model::{PastStatus, ReferralLink};

pub(crate) const SHAPE: Shape = Shape {
    partners: "affiliates",
    joins: &[("affiliate_coupons", coupon), ("payouts", payout)],
    customers: "referrals",
    commissions: "commissions",
    names: "`affiliates`, `referrals` or `commissions` (Rewardful's lists)",
    partner,
    customer,
    commission,
};

/// An affiliate's coupon (an archived one is left out).
fn coupon(c: &Value, joins: &mut Joins) {
    if c.get("archived").and_then(Value::as_bool) == Some(true) {
        return;
    }
    if let (Some(affiliate), Some(token)) = (text(c, "/affiliate_id"), text(c, "/token")) {
        joins.coupons.entry(affiliate).or_default().push(token);
    }
}

/// A payout being sent: its commissions are paid by Rewardful.
fn payout(p: &Value, joins: &mut Joins) {
    if text(p, "/state").as_deref() != Some("processing") {
        return;
    }
    let commissions = p.get("commissions").and_then(Value::as_array);
    for c in commissions.into_iter().flatten() {
        if let Some(id) = text(c, "/id") {
            joins.paying.insert(id);
        }
    }
}

fn partner(a: &Value, joins: &mut Joins) -> RawPartner {
    let external = text(a, "/id");
    let links = a
        .get("links")
        .and_then(Value::as_array)
        .map(|links| {
            links
                .iter()
                .enumerate()
                .filter_map(|(i, l)| {
                    Some(ReferralLink {
                        token: text(l, "/token")?,
                        url: text(l, "/url"),
                        field: format!("links[{i}].token"),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    RawPartner {
        id_field: "id",
        name: full_name(text(a, "/first_name"), text(a, "/last_name")),
        name_field: "first_name",
        email: text(a, "/email"),
        links,
        coupons: joins.take_coupons(&external),
        payout_email: text(a, "/paypal_email"),
        payout_email_field: "paypal_email",
        external,
    }
}

fn customer(r: &Value) -> RawCustomer {
    RawCustomer {
        own_id: text(r, "/stripe_customer_id").or_else(|| text(r, "/customer/platform_id")),
        tool_id: text(r, "/customer/id").or_else(|| text(r, "/id")),
        id_field: "customer.id",
        partner: text(r, "/affiliate/id"),
        partner_field: "affiliate.id",
        is_customer: text(r, "/conversion_state").as_deref() == Some("conversion"),
        email: text(r, "/customer/email"),
        email_field: "customer.email",
    }
}

const STATES: [(&str, PastStatus); 4] = [
    ("paid", PastStatus::Paid),
    ("due", PastStatus::Due),
    ("pending", PastStatus::Pending),
    ("voided", PastStatus::Voided),
];

fn commission(c: &Value, joins: &Joins) -> RawCommission {
    let id = text(c, "/id");
    let paying = id.as_ref().is_some_and(|id| joins.paying.contains(id));
    let status = status_of(text(c, "/state"), &STATES).map(|status| match status {
        PastStatus::Due if paying => PastStatus::Paid,
        other => other,
    });
    RawCommission {
        id,
        partner: text(c, "/affiliate/id").or_else(|| text(c, "/sale/affiliate/id")),
        partner_field: "affiliate.id",
        amount: cents(c, "/amount"),
        amount_field: "amount",
        currency: text(c, "/currency"),
        status,
        status_field: "state",
        due_at: text(c, "/due_at"),
    }
}
