//! FirstPromoter (API v2, `docs.firstpromoter.com/api-reference-v2`): `{"promoters": [...],
//! "promo_codes": [...], "referrals": [...], "commissions": [...]}`, the lists of `GET
//! /api/v2/company/promoters` (`id`, `email`, `profile.first_name`, `profile.last_name`,
//! `promoter_campaigns[]` with `ref_token` and `direct_url`), `GET …/promo_codes` (`code`,
//! `promoter.id`), `GET …/referrals` (`id`, `email`, `uid`: the merchant's own id of the
//! customer, `state`, `promoter.id`) and `GET …/commissions` (`id`, `status`: `pending`,
//! `approved`, `denied`, `is_paid`, `amount` in the account's currency units as a decimal,
//! `currency`, `promoter.id`). An approved commission FirstPromoter paid (`is_paid`) is paid
//! here. Referrals are customers once they became one (`state: customer`), leads are left out.

use serde_json::Value;

use super::{
    Lists, RawCommission, RawCustomer, RawPartner, decimal, full_name, list, none_of, text,
};
use crate::imports::links_sources::Unreadable;
use crate::imports::model::{PastStatus, ReferralLink};

pub(crate) fn read(doc: &Value) -> Result<Lists, Unreadable> {
    let mut lists = Lists::default();
    let codes = list(doc, "promo_codes")?;
    for p in list(doc, "promoters")? {
        let external = text(&p, "/id");
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
        lists.partners.push(RawPartner {
            id_field: "id",
            name: full_name(
                text(&p, "/profile/first_name"),
                text(&p, "/profile/last_name"),
            )
            .or_else(|| text(&p, "/name")),
            name_field: "profile.first_name",
            email: text(&p, "/email"),
            links,
            coupons: codes
                .iter()
                .filter(|c| external.is_some() && text(c, "/promoter/id") == external)
                .filter_map(|c| text(c, "/code"))
                .collect(),
            external,
        });
    }
    for r in list(doc, "referrals")? {
        lists.customers.push(RawCustomer {
            own_id: text(&r, "/uid"),
            tool_id: text(&r, "/id"),
            id_field: "uid",
            partner: text(&r, "/promoter/id"),
            partner_field: "promoter.id",
            is_customer: text(&r, "/state").as_deref() == Some("customer"),
        });
    }
    for c in list(doc, "commissions")? {
        let currency = text(&c, "/currency");
        let paid = c.get("is_paid").and_then(Value::as_bool) == Some(true);
        let status = match text(&c, "/status").as_deref() {
            Some("approved") if paid => Ok(PastStatus::Paid),
            Some("approved") => Ok(PastStatus::Due),
            Some("pending") => Ok(PastStatus::Pending),
            Some("denied") => Ok(PastStatus::Voided),
            Some(other) => Err(format!("'{other}' is not one of pending, approved, denied")),
            None => Err("is missing (one of pending, approved, denied)".into()),
        };
        lists.commissions.push(RawCommission {
            id: text(&c, "/id"),
            partner: text(&c, "/promoter/id"),
            partner_field: "promoter.id",
            amount: decimal(&c, "/amount", currency.as_deref()),
            amount_field: "amount",
            currency,
            status,
            status_field: "status",
            due_at: None,
        });
    }
    none_of(
        &lists,
        "`promoters`, `referrals` or `commissions` (FirstPromoter's lists)",
    )?;
    Ok(lists)
}
