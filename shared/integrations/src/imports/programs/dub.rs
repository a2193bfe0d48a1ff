//! Dub Partners (Dub API, `dub.co/docs/api-reference`): `{"partners": [...], "customers":
//! [...], "commissions": [...]}`, the answers of `GET /partners` (`id`, `name`, `email`,
//! `paypalEmail`: its payout method here, `links[]` with `key` and `url`), `GET /customers` (`id`, `externalId`: the merchant's own
//! id, `email`, `partner.id`) and `GET /commissions` (`id`, `earnings`: the partner's commission
//! in cents, `currency`, `status`: `pending`, `processed`, `paid`, `refunded`, `duplicate`,
//! `fraud`, `canceled`, `partner.id`). `processed` (in a payout Dub has not paid) is owed here.

use serde_json::Value;

use super::{Joins, RawCommission, RawCustomer, RawPartner, Shape, cents, status_of, text};
use crate::imports::model::{PastStatus, ReferralLink};

pub(crate) const SHAPE: Shape = Shape {
    partners: "partners",
    joins: &[],
    customers: "customers",
    commissions: "commissions",
    names: "`partners`, `customers` or `commissions` (Dub's lists)",
    partner,
    customer,
    commission,
};

fn partner(p: &Value, _: &mut Joins) -> RawPartner {
    let links = p
        .get("links")
        .and_then(Value::as_array)
        .map(|links| {
            links
                .iter()
                .enumerate()
                .filter_map(|(i, l)| {
                    Some(ReferralLink {
                        token: text(l, "/key")?,
                        url: text(l, "/url"),
                        field: format!("links[{i}].key"),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    RawPartner {
        external: text(p, "/id"),
        id_field: "id",
        name: text(p, "/name"),
        name_field: "name",
        email: text(p, "/email"),
        links,
        coupons: Vec::new(),
        payout_email: text(p, "/paypalEmail"),
        payout_email_field: "paypalEmail",
    }
}

fn customer(c: &Value) -> RawCustomer {
    RawCustomer {
        own_id: text(c, "/externalId"),
        tool_id: text(c, "/id"),
        id_field: "externalId",
        partner: text(c, "/partner/id"),
        partner_field: "partner.id",
        is_customer: true,
        email: text(c, "/email"),
        email_field: "email",
    }
}

const STATUSES: [(&str, PastStatus); 7] = [
    ("paid", PastStatus::Paid),
    ("processed", PastStatus::Due),
    ("pending", PastStatus::Pending),
    ("refunded", PastStatus::Voided),
    ("duplicate", PastStatus::Voided),
    ("fraud", PastStatus::Voided),
    ("canceled", PastStatus::Voided),
];

fn commission(c: &Value) -> RawCommission {
    RawCommission {
        id: text(c, "/id"),
        partner: text(c, "/partner/id"),
        partner_field: "partner.id",
        amount: cents(c, "/earnings"),
        amount_field: "earnings",
        currency: text(c, "/currency"),
        status: status_of(text(c, "/status"), &STATUSES),
        status_field: "status",
        due_at: None,
    }
}
