//! Tolt (API, `docs.tolt.com`): `{"partners": [...], "links": [...], "promotion_codes": [...],
//! "customers": [...], "commissions": [...]}`, the `data` lists of `GET /v1/partners` (`id`,
//! `first_name`, `last_name`, `email`), `GET /v1/links` (`param`, `value`: the token of
//! `?ref=value`, `url` when given, `partner_id`), `GET /v1/promotion_codes` (`code`,
//! `partner_id`), `GET /v1/customers` (`id`, `customer_id`: the merchant's own id, `email`,
//! `partner_id`) and `GET /v1/commissions` (`id`, `amount` in cents, an integer or its digits as
//! a string, `currency`, `status`: `pending`, `approved`, `paid`, `rejected`, `refunded`,
//! `partner_id`).

use serde_json::Value;

use super::{
    Joins, RawCommission, RawCustomer, RawPartner, Shape, cents, full_name, status_of, text,
};
use crate::imports::model::{PastStatus, ReferralLink};

pub(crate) const SHAPE: Shape = Shape {
    partners: "partners",
    joins: &[("links", link), ("promotion_codes", code)],
    customers: "customers",
    commissions: "commissions",
    names: "`partners`, `customers` or `commissions` (Tolt's lists)",
    partner,
    customer,
    commission,
};

fn link(l: &Value, joins: &mut Joins) {
    if let (Some(partner), Some(token)) = (text(l, "/partner_id"), text(l, "/value")) {
        joins.links.entry(partner).or_default().push(ReferralLink {
            token,
            url: text(l, "/url"),
            field: "links.value".into(),
        });
    }
}

fn code(c: &Value, joins: &mut Joins) {
    if let (Some(partner), Some(code)) = (text(c, "/partner_id"), text(c, "/code")) {
        joins.coupons.entry(partner).or_default().push(code);
    }
}

fn partner(p: &Value, joins: &mut Joins) -> RawPartner {
    let external = text(p, "/id");
    RawPartner {
        id_field: "id",
        name: full_name(text(p, "/first_name"), text(p, "/last_name")),
        name_field: "first_name",
        email: text(p, "/email"),
        links: joins.take_links(&external),
        coupons: joins.take_coupons(&external),
        // Tolt's partners connect their payout method in Tolt: its list has no address of it.
        payout_email: None,
        payout_email_field: "",
        external,
    }
}

fn customer(c: &Value) -> RawCustomer {
    RawCustomer {
        own_id: text(c, "/customer_id"),
        tool_id: text(c, "/id"),
        id_field: "customer_id",
        partner: text(c, "/partner_id"),
        partner_field: "partner_id",
        is_customer: true,
        email: text(c, "/email"),
        email_field: "email",
    }
}

const STATUSES: [(&str, PastStatus); 5] = [
    ("paid", PastStatus::Paid),
    ("approved", PastStatus::Due),
    ("pending", PastStatus::Pending),
    ("rejected", PastStatus::Voided),
    ("refunded", PastStatus::Voided),
];

fn commission(c: &Value, _: &Joins) -> RawCommission {
    RawCommission {
        id: text(c, "/id"),
        partner: text(c, "/partner_id"),
        partner_field: "partner_id",
        amount: cents(c, "/amount"),
        amount_field: "amount",
        currency: text(c, "/currency"),
        status: status_of(text(c, "/status"), &STATUSES),
        status_field: "status",
        due_at: None,
    }
}
