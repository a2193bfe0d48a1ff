//! Rewardful (API v1, `developers.rewardful.com`): `{"affiliates": [...], "affiliate_coupons":
//! [...], "referrals": [...], "commissions": [...]}`, the `data` lists of `GET /v1/affiliates`
//! (`id`, `first_name`, `last_name`, `email`, `links[]` with `token` and `url`), `GET
//! /v1/affiliate_coupons` (`token`, `affiliate_id`, `archived`), `GET /v1/referrals`
//! (`id`, `conversion_state`, `stripe_customer_id`, `affiliate.id`, `customer.id`,
//! `customer.email`, `customer.platform_id`) and `GET /v1/commissions` (`id`, `amount` in cents,
//! `currency`, `state`: `paid`, `due`, `pending`, `voided`, `due_at`, and `sale.affiliate.id`).
//! A referral is a customer once it converted (`conversion_state: conversion`); leads and
//! visitors are not customers and are left out.

use serde_json::Value;

use super::{
    Lists, RawCommission, RawCustomer, RawPartner, cents, full_name, list, none_of, status_of, text,
};
use crate::imports::links_sources::Unreadable;
use crate::imports::model::{PastStatus, ReferralLink};

pub(crate) fn read(doc: &Value) -> Result<Lists, Unreadable> {
    let mut lists = Lists::default();
    let coupons = list(doc, "affiliate_coupons")?;
    for a in list(doc, "affiliates")? {
        let external = text(&a, "/id");
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
        let own = |c: &&Value| {
            external.is_some()
                && text(c, "/affiliate_id") == external
                && c.get("archived").and_then(Value::as_bool) != Some(true)
        };
        lists.partners.push(RawPartner {
            id_field: "id",
            name: full_name(text(&a, "/first_name"), text(&a, "/last_name")),
            name_field: "first_name",
            email: text(&a, "/email"),
            links,
            coupons: coupons
                .iter()
                .filter(own)
                .filter_map(|c| text(c, "/token"))
                .collect(),
            external,
        });
    }
    for r in list(doc, "referrals")? {
        lists.customers.push(RawCustomer {
            own_id: text(&r, "/stripe_customer_id").or_else(|| text(&r, "/customer/platform_id")),
            tool_id: text(&r, "/customer/id").or_else(|| text(&r, "/id")),
            id_field: "customer.id",
            partner: text(&r, "/affiliate/id"),
            partner_field: "affiliate.id",
            is_customer: text(&r, "/conversion_state").as_deref() == Some("conversion"),
        });
    }
    const STATES: [(&str, PastStatus); 4] = [
        ("paid", PastStatus::Paid),
        ("due", PastStatus::Due),
        ("pending", PastStatus::Pending),
        ("voided", PastStatus::Voided),
    ];
    for c in list(doc, "commissions")? {
        lists.commissions.push(RawCommission {
            id: text(&c, "/id"),
            partner: text(&c, "/affiliate/id").or_else(|| text(&c, "/sale/affiliate/id")),
            partner_field: "affiliate.id",
            amount: cents(&c, "/amount"),
            amount_field: "amount",
            currency: text(&c, "/currency"),
            status: status_of(text(&c, "/state"), &STATES),
            status_field: "state",
            due_at: text(&c, "/due_at"),
        });
    }
    none_of(
        &lists,
        "`affiliates`, `referrals` or `commissions` (Rewardful's lists)",
    )?;
    Ok(lists)
}
