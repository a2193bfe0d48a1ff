//! Dub Partners (Dub API, `dub.co/docs/api-reference`; shapes from dubinc/dub's OpenAPI,
//! `apps/web/lib/openapi`): `{"partners": [...], "customers": [...], "commissions": [...],
//! "payouts": [...]}`, the answers of `GET /partners` (`id`, `name`, `email`, `paypalEmail`: its
//! payout method here, `links[]` with `key` and `url`), `GET /customers` (`id`, `externalId`:
//! the merchant's own id, `email`, `partner.id`), `GET /commissions` (`id`, `earnings`: the
//! partner's commission in cents, `currency`, `status`: `pending`, `processed`, `paid`,
//! `refunded`, `duplicate`, `fraud`, `canceled`, `hold`: held by Dub, pending here;
//! `partner.id`) and `GET /payouts` (`status`: `pending`, `processing`, `processed`, `sent`,
//! `completed`, `failed`, `canceled`; `partner.id`). A commission `processed` (in a payout Dub
//! has not paid) is owed here, unless its partner's payout is on its way (`processing`,
//! `processed`, `sent`): then it is paid there and comes in `paid`. A partner with a payout on
//! its way and another pending has `processed` commissions of either, which Dub's lists do not
//! tell apart: they are refused, in words. The zip of Dub's dashboard CSVs (`dub_zip`) is read
//! into these same lists.

use serde_json::Value;

use super::{Joins, RawCommission, RawCustomer, RawPartner, Shape, cents, status_of, text};
use crate::imports::model::{PastStatus, ReferralLink};

pub(crate) const SHAPE: Shape = Shape {
    partners: "partners",
    joins: &[("payouts", payout)],
    customers: "customers",
    commissions: "commissions",
    names: "`partners`, `customers`, `commissions` or `payouts` (Dub's lists)",
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

const STATUSES: [(&str, PastStatus); 8] = [
    ("paid", PastStatus::Paid),
    ("processed", PastStatus::Due),
    ("pending", PastStatus::Pending),
    ("hold", PastStatus::Pending),
    ("refunded", PastStatus::Voided),
    ("duplicate", PastStatus::Voided),
    ("fraud", PastStatus::Voided),
    ("canceled", PastStatus::Voided),
];

/// Dub's payout statuses whose money is on its way to the partner (Dub pays them).
const ON_ITS_WAY: [&str; 3] = ["processing", "processed", "sent"];

/// A payout of `GET /payouts` (`status`, `partner.id`): what it says of its partner's
/// `processed` commissions.
fn payout(p: &Value, joins: &mut Joins) {
    let (Some(partner), Some(status)) = (text(p, "/partner/id"), text(p, "/status")) else {
        return;
    };
    let state = joins.payouts.entry(partner).or_default();
    state.0 |= ON_ITS_WAY.contains(&status.as_str());
    state.1 |= status == "pending";
}

fn commission(c: &Value, joins: &Joins) -> RawCommission {
    let partner = text(c, "/partner/id");
    let status = status_of(text(c, "/status"), &STATUSES).and_then(|status| {
        if status != PastStatus::Due {
            return Ok(status);
        }
        // `processed`: in a payout of Dub's. Paid there when Dub is paying it now; owed here
        // when it is still pending (Dub will not pay it once the program has left).
        match partner.as_ref().and_then(|p| joins.payouts.get(p)) {
            Some((true, false)) => Ok(PastStatus::Paid),
            Some((true, true)) => Err(
                "is processed, and Dub is paying a payout of this partner while another is pending: which one holds this commission is not said. Once Dub's payout is completed, export or pull again".to_owned(),
            ),
            _ => Ok(status),
        }
    });
    RawCommission {
        id: text(c, "/id"),
        partner,
        partner_field: "partner.id",
        amount: cents(c, "/earnings"),
        amount_field: "earnings",
        currency: text(c, "/currency"),
        status,
        status_field: "status",
        due_at: None,
    }
}
