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
    Lists, RawCommission, RawCustomer, RawPartner, cents, full_name, list, none_of, status_of, text,
};
use crate::imports::links_sources::Unreadable;
use crate::imports::model::{PastStatus, ReferralLink};

pub(crate) fn read(doc: &Value) -> Result<Lists, Unreadable> {
    let mut lists = Lists::default();
    let links = list(doc, "links")?;
    let codes = list(doc, "promotion_codes")?;
    for p in list(doc, "partners")? {
        let external = text(&p, "/id");
        let mine = |v: &&Value| external.is_some() && text(v, "/partner_id") == external;
        lists.partners.push(RawPartner {
            id_field: "id",
            name: full_name(text(&p, "/first_name"), text(&p, "/last_name")),
            name_field: "first_name",
            email: text(&p, "/email"),
            links: links
                .iter()
                .filter(mine)
                .filter_map(|l| {
                    Some(ReferralLink {
                        token: text(l, "/value")?,
                        url: text(l, "/url"),
                        field: "links.value".into(),
                    })
                })
                .collect(),
            coupons: codes
                .iter()
                .filter(mine)
                .filter_map(|c| text(c, "/code"))
                .collect(),
            external,
        });
    }
    for c in list(doc, "customers")? {
        lists.customers.push(RawCustomer {
            own_id: text(&c, "/customer_id"),
            tool_id: text(&c, "/id"),
            id_field: "customer_id",
            partner: text(&c, "/partner_id"),
            partner_field: "partner_id",
            is_customer: true,
        });
    }
    const STATUSES: [(&str, PastStatus); 5] = [
        ("paid", PastStatus::Paid),
        ("approved", PastStatus::Due),
        ("pending", PastStatus::Pending),
        ("rejected", PastStatus::Voided),
        ("refunded", PastStatus::Voided),
    ];
    for c in list(doc, "commissions")? {
        lists.commissions.push(RawCommission {
            id: text(&c, "/id"),
            partner: text(&c, "/partner_id"),
            partner_field: "partner_id",
            amount: cents(&c, "/amount"),
            amount_field: "amount",
            currency: text(&c, "/currency"),
            status: status_of(text(&c, "/status"), &STATUSES),
            status_field: "status",
            due_at: None,
        });
    }
    none_of(
        &lists,
        "`partners`, `customers` or `commissions` (Tolt's lists)",
    )?;
    Ok(lists)
}
