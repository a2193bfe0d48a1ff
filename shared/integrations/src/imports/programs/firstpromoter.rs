//! FirstPromoter (API v2, `docs.firstpromoter.com/api-reference-v2`): `{"promoters": [...],
//! "promo_codes": [...], "referrals": [...], "commissions": [...]}`, the lists of `GET
//! /api/v2/company/promoters` (`id`, `email`, `profile.first_name`, `profile.last_name`,
//! `profile.paypal_email`: its payout method here, `promoter_campaigns[]` with `ref_token` and `direct_url`), `GET …/promo_codes` (`code`,
//! `promoter.id`), `GET …/referrals` (`id`, `email`, `uid`: the merchant's own id of the
//! customer, `state`, `promoter.id`) and `GET …/commissions` (`id`, `status`: `pending`,
//! `approved`, `denied`, `is_paid`, `amount` in the account's currency units as a decimal,
//! `currency`, `promoter.id`). An approved commission FirstPromoter paid (`is_paid`) is paid
//! here. Referrals are customers once they became one (`state: customer`), leads are left out.

use serde_json::Value;

use super::{Joins, RawCommission, RawCustomer, RawPartner, Shape, decimal, full_name, text};
use crate::imports::cells::quoted;
use crate::imports::model::{PastStatus, ReferralLink};

pub(crate) const SHAPE: Shape = Shape {
    partners: "promoters",
    joins: &[("promo_codes", code)],
    customers: "referrals",
    commissions: "commissions",
    names: "`promoters`, `referrals` or `commissions` (FirstPromoter's lists)",
    partner,
    customer,
    commission,
};

fn code(c: &Value, joins: &mut Joins) {
    if let (Some(promoter), Some(code)) = (text(c, "/promoter/id"), text(c, "/code")) {
        joins.coupons.entry(promoter).or_default().push(code);
    }
}

fn partner(p: &Value, joins: &mut Joins) -> RawPartner {
    let external = text(p, "/id");
    let links = p
        .get("promoter_campaigns")
        .and_then(Value::as_array)
        .map(|pcs| {
            pcs.iter()
                .enumerate()
                .filter_map(|(i, pc)| {
                    Some(ReferralLink {
                        token: text(pc, "/ref_token")?,
                        url: text(pc, "/direct_url").or_else(|| text(pc, "/referral_link")),
                        field: format!("promoter_campaigns[{i}].ref_token"),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    RawPartner {
        id_field: "id",
        name: full_name(
            text(p, "/profile/first_name"),
            text(p, "/profile/last_name"),
        )
        .or_else(|| text(p, "/name")),
        name_field: "profile.first_name",
        email: text(p, "/email"),
        links,
        coupons: joins.take_coupons(&external),
        payout_email: text(p, "/profile/paypal_email"),
        payout_email_field: "profile.paypal_email",
        external,
    }
}

fn customer(r: &Value) -> RawCustomer {
    RawCustomer {
        own_id: text(r, "/uid"),
        tool_id: text(r, "/id"),
        id_field: "uid",
        partner: text(r, "/promoter/id"),
        partner_field: "promoter.id",
        is_customer: text(r, "/state").as_deref() == Some("customer"),
        email: text(r, "/email"),
        email_field: "email",
    }
}

fn commission(c: &Value, _: &Joins) -> RawCommission {
    let currency = text(c, "/currency");
    let paid = c.get("is_paid").and_then(Value::as_bool) == Some(true);
    let status = match text(c, "/status").as_deref() {
        Some("approved") if paid => Ok(PastStatus::Paid),
        Some("approved") => Ok(PastStatus::Due),
        Some("pending") => Ok(PastStatus::Pending),
        Some("denied") => Ok(PastStatus::Voided),
        Some(other) => Err(format!(
            "{} is not one of pending, approved, denied",
            quoted(other)
        )),
        None => Err("is missing (one of pending, approved, denied)".into()),
    };
    RawCommission {
        id: text(c, "/id"),
        partner: text(c, "/promoter/id"),
        partner_field: "promoter.id",
        amount: decimal(c, "/amount", currency.as_deref()),
        amount_field: "amount",
        currency,
        status,
        status_field: "status",
        due_at: None,
    }
}
