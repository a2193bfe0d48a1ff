//! PartnerStack (API v2, `docs.partnerstack.com/reference`): `{"partnerships": [...],
//! "customers": [...], "rewards": [...]}`, the `data.items` of `GET /api/v2/partnerships`
//! (`key`, `partner_key`: the token of its links `?ps_partner_key=…`, `email`, `first_name`,
//! `last_name`, `link.url`), `GET /api/v2/customers` (`key`, `customer_key`: the merchant's own
//! id, `email`, `partnership_key`) and `GET /api/v2/rewards` (`key`, `amount` in cents,
//! `currency`, `partnership_key`, `reward_status`: `pending`, `approved`, `declined`, and
//! `payment_status`: `available`, `in_transit`, `withdrawn`, `paid_externally`, `merging`,
//! `expired`, `failed`). A reward PartnerStack paid or is paying (`withdrawn`,
//! `paid_externally`, `in_transit`, `merging`) is paid here; `available` and `failed` are owed.

use serde_json::Value;

use super::{Joins, RawCommission, RawCustomer, RawPartner, Shape, cents, full_name, text};
use crate::imports::cells::quoted;
use crate::imports::model::{PastStatus, ReferralLink};

pub(crate) const SHAPE: Shape = Shape {
    partners: "partnerships",
    joins: &[],
    customers: "customers",
    commissions: "rewards",
    names: "`partnerships`, `customers` or `rewards` (PartnerStack's lists)",
    partner,
    customer,
    commission,
};

fn partner(p: &Value, _: &mut Joins) -> RawPartner {
    let links = text(p, "/partner_key")
        .map(|token| ReferralLink {
            token,
            url: text(p, "/link/url").or_else(|| text(p, "/link")),
            field: "partner_key".into(),
        })
        .into_iter()
        .collect();
    RawPartner {
        external: text(p, "/key"),
        id_field: "key",
        name: full_name(text(p, "/first_name"), text(p, "/last_name")),
        name_field: "first_name",
        email: text(p, "/email"),
        links,
        coupons: Vec::new(),
        // PartnerStack pays its partners itself: its partnerships carry no payout address.
        payout_email: None,
        payout_email_field: "",
    }
}

fn customer(c: &Value) -> RawCustomer {
    RawCustomer {
        own_id: text(c, "/customer_key"),
        tool_id: text(c, "/key"),
        id_field: "customer_key",
        partner: text(c, "/partnership_key"),
        partner_field: "partnership_key",
        is_customer: true,
        email: text(c, "/email"),
        email_field: "email",
    }
}

fn commission(r: &Value, _: &Joins) -> RawCommission {
    let status = match (
        text(r, "/reward_status").as_deref(),
        text(r, "/payment_status").as_deref(),
    ) {
        (Some("declined"), _) | (_, Some("expired")) => Ok(PastStatus::Voided),
        (Some("pending"), _) => Ok(PastStatus::Pending),
        (_, Some("withdrawn" | "paid_externally" | "in_transit" | "merging")) => {
            Ok(PastStatus::Paid)
        }
        (_, Some("available" | "failed")) => Ok(PastStatus::Due),
        (_, Some(other)) => Err(format!(
            "{} is not one of available, in_transit, withdrawn, paid_externally, merging, expired, failed",
            quoted(other)
        )),
        (_, None) => Err("is missing".into()),
    };
    RawCommission {
        id: text(r, "/key"),
        partner: text(r, "/partnership_key"),
        partner_field: "partnership_key",
        amount: cents(r, "/amount"),
        amount_field: "amount",
        currency: text(r, "/currency"),
        status,
        status_field: "payment_status",
        due_at: None,
    }
}
