//! Reading a partner program's export (issue 64): one JSON object joining the `data` lists of
//! the tool's own API list answers (pages joined), as each tool documents them; each source's
//! file reads its names ([`rewardful`], [`firstpromoter`], [`partnerstack`], [`tolt`],
//! [`dub`]) into the same checked rows here: partners (with their referral links and coupon
//! codes), the customers the tool had bound to them, and past commissions with their status.
//!
//! Rows are numbered across the file in the order of its lists: partners first (from 1), then
//! customers (a tool's leads among them keep their numbers, and are left out), then
//! commissions. A row that cannot come in is reported with its row and the
//! field as the tool names it; the rest goes in.

pub mod dub;
pub mod firstpromoter;
pub mod partnerstack;
pub mod rewardful;
pub mod tolt;

use std::collections::HashMap;

use serde_json::Value;

use super::links_sources::Unreadable;
use super::model::{
    CommissionRow, CustomerRow, PartnerRow, PastStatus, ReferralLink, RowError, Source,
};
use crate::domain::{CampaignId, Currency, CustomerId, PartnerId};

/// What a program file came to.
#[derive(Debug, Default)]
pub struct Parsed {
    pub partners: Vec<PartnerRow>,
    pub customers: Vec<CustomerRow>,
    pub commissions: Vec<CommissionRow>,
    pub errors: Vec<RowError>,
}

/// The program importer of `source`.
pub fn parse(source: Source, text: &str) -> Result<Parsed, Unreadable> {
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| Unreadable(format!("The file is not JSON: {e}.")))?;
    if !doc.is_object() {
        return Err(Unreadable(
            "The file is not one JSON object of the tool's lists.".into(),
        ));
    }
    let lists = match source {
        Source::Rewardful => rewardful::read(&doc)?,
        Source::FirstPromoter => firstpromoter::read(&doc)?,
        Source::PartnerStack => partnerstack::read(&doc)?,
        Source::Tolt => tolt::read(&doc)?,
        Source::DubPartners => dub::read(&doc)?,
        other => {
            return Err(Unreadable(format!(
                "{} is not a partner program's tool.",
                other.as_str()
            )));
        }
    };
    Ok(lists.check(source))
}

/// The list at `key` of `doc` (absent: empty). A list answer kept whole (`{"data": [...]}`, or
/// PartnerStack's `{"data": {"items": [...]}}`) is read too.
pub(crate) fn list(doc: &Value, key: &str) -> Result<Vec<Value>, Unreadable> {
    let v = match doc.get(key) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(v) => v,
    };
    let items = v
        .as_array()
        .or_else(|| v.pointer("/data").and_then(Value::as_array))
        .or_else(|| v.pointer("/data/items").and_then(Value::as_array))
        .or_else(|| v.pointer("/items").and_then(Value::as_array));
    items
        .cloned()
        .ok_or_else(|| Unreadable(format!("`{key}` is not a list.")))
}

/// A trimmed, non-empty string at `pointer` (a number is read as its digits: tools' ids).
pub(crate) fn text(v: &Value, pointer: &str) -> Option<String> {
    match v.pointer(pointer)? {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A partner as the source names it, before its checks.
pub(crate) struct RawPartner {
    /// The tool's id of it (what its customers and commissions name).
    pub external: Option<String>,
    pub id_field: &'static str,
    pub name: Option<String>,
    pub name_field: &'static str,
    pub email: Option<String>,
    pub links: Vec<ReferralLink>,
    pub coupons: Vec<String>,
}

/// A customer as the source names it.
pub(crate) struct RawCustomer {
    /// The merchant's own id of it, if the export has one.
    pub own_id: Option<String>,
    /// The tool's id of it (the fallback, `import:{source}:{id}`).
    pub tool_id: Option<String>,
    pub id_field: &'static str,
    pub partner: Option<String>,
    pub partner_field: &'static str,
    /// `false`: a lead or visitor of the tool, not a customer (its row is counted, left out).
    pub is_customer: bool,
}

/// A commission as the source names it.
pub(crate) struct RawCommission {
    pub id: Option<String>,
    pub partner: Option<String>,
    pub partner_field: &'static str,
    /// Minor units, or why not.
    pub amount: Result<i64, String>,
    pub amount_field: &'static str,
    pub currency: Option<String>,
    pub status: Result<PastStatus, String>,
    pub status_field: &'static str,
    pub due_at: Option<String>,
}

/// A source's lists, as read.
#[derive(Default)]
pub(crate) struct Lists {
    pub partners: Vec<RawPartner>,
    pub customers: Vec<RawCustomer>,
    pub commissions: Vec<RawCommission>,
}

/// The longest source id kept (it is part of a store key).
const MAX_EXTERNAL_ID: usize = 128;

impl Lists {
    pub(crate) fn is_empty(&self) -> bool {
        self.partners.is_empty() && self.customers.is_empty() && self.commissions.is_empty()
    }

    fn check(self, source: Source) -> Parsed {
        let mut out = Parsed::default();
        let mut ids: HashMap<String, PartnerId> = HashMap::new();
        let mut campaigns: HashMap<PartnerId, Option<CampaignId>> = HashMap::new();
        let mut row = 0u64;
        for p in self.partners {
            row += 1;
            match partner(row, p) {
                Ok((external, partner)) => {
                    if ids.values().any(|id| *id == partner.partner_id) {
                        out.errors.push(RowError {
                            row,
                            field: "id".into(),
                            message: format!("'{}' is another partner's too", partner.partner_id),
                        });
                        continue;
                    }
                    ids.insert(external, partner.partner_id.clone());
                    campaigns.insert(partner.partner_id.clone(), first_campaign(&partner));
                    out.partners.push(partner);
                }
                Err(e) => out.errors.push(e),
            }
        }
        for c in self.customers {
            row += 1;
            if !c.is_customer {
                continue;
            }
            match customer(row, source, c, &ids, &campaigns) {
                Ok(c) => out.customers.push(c),
                Err(e) => out.errors.push(e),
            }
        }
        for c in self.commissions {
            row += 1;
            match commission(row, c, &ids) {
                Ok(c) => out.commissions.push(c),
                Err(e) => out.errors.push(e),
            }
        }
        out
    }
}

fn err(row: u64, field: &str, message: impl Into<String>) -> RowError {
    RowError {
        row,
        field: field.into(),
        message: message.into(),
    }
}

/// The partner's id here: its first link's token when it is an id 10x takes (`?via=jane` →
/// `jane`), else the tool's own id (lower-cased).
fn partner(row: u64, p: RawPartner) -> Result<(String, PartnerRow), RowError> {
    let external = p
        .external
        .ok_or_else(|| err(row, p.id_field, "is missing"))?;
    let Some(name) = p.name.or_else(|| p.email.clone()) else {
        return Err(err(row, p.name_field, "is missing (and no email)"));
    };
    let name =
        crate::partners::validate_name(&name).map_err(|e| err(row, p.name_field, e.message))?;
    let email = p
        .email
        .map(|e| crate::partners::validate_email(&e))
        .transpose()
        .map_err(|e| err(row, "email", e.message))?;
    let partner_id = p
        .links
        .first()
        .and_then(|l| PartnerId::parse(&l.token).ok())
        .or_else(|| PartnerId::parse(&external.to_ascii_lowercase()).ok())
        .ok_or_else(|| err(row, p.id_field, "is not an id this service can keep"))?;
    Ok((
        external,
        PartnerRow {
            row,
            partner_id,
            name,
            email,
            links: p.links,
            coupons: p.coupons,
        },
    ))
}

/// The campaign a partner's customers are bound on: its first link's that can come in.
fn first_campaign(p: &PartnerRow) -> Option<CampaignId> {
    p.links.iter().find_map(|l| {
        let slug = crate::domain::imported_slug::ImportedSlug::parse(&l.token).ok()?;
        l.url.as_ref()?;
        Some(super::program_links::campaign_id_for(&slug.native()))
    })
}

fn partner_of(
    row: u64,
    raw: Option<String>,
    field: &str,
    ids: &HashMap<String, PartnerId>,
) -> Result<PartnerId, RowError> {
    let raw = raw.ok_or_else(|| err(row, field, "is missing"))?;
    ids.get(&raw)
        .cloned()
        .ok_or_else(|| err(row, field, format!("'{raw}' is not a partner of this file")))
}

fn customer(
    row: u64,
    source: Source,
    c: RawCustomer,
    ids: &HashMap<String, PartnerId>,
    campaigns: &HashMap<PartnerId, Option<CampaignId>>,
) -> Result<CustomerRow, RowError> {
    let partner_id = partner_of(row, c.partner, c.partner_field, ids)?;
    let id = match (c.own_id, c.tool_id) {
        (Some(own), _) => own,
        (None, Some(tool)) => format!("import:{}:{tool}", source.as_str()),
        (None, None) => return Err(err(row, c.id_field, "is missing")),
    };
    let customer_id = CustomerId::parse(&id).map_err(|e| err(row, c.id_field, e.message))?;
    Ok(CustomerRow {
        row,
        customer_id,
        partner_id: partner_id.clone(),
        partner_field: c.partner_field.into(),
        campaign_id: campaigns.get(&partner_id).cloned().flatten(),
    })
}

fn commission(
    row: u64,
    c: RawCommission,
    ids: &HashMap<String, PartnerId>,
) -> Result<CommissionRow, RowError> {
    let external = c.id.ok_or_else(|| err(row, "id", "is missing"))?;
    if external.len() > MAX_EXTERNAL_ID || external.contains('#') {
        return Err(err(row, "id", "is not an id this service can keep"));
    }
    let partner_id = partner_of(row, c.partner, c.partner_field, ids)?;
    let amount_minor = c.amount.map_err(|m| err(row, c.amount_field, m))?;
    if amount_minor < 0 {
        return Err(err(row, c.amount_field, "must not be negative"));
    }
    let currency = c
        .currency
        .ok_or_else(|| err(row, "currency", "is missing"))
        .and_then(|raw| {
            Currency::parse(&raw.to_ascii_uppercase()).map_err(|e| err(row, "currency", e.message))
        })?;
    let status = c.status.map_err(|m| err(row, c.status_field, m))?;
    let due_at = match c.due_at {
        None => None,
        Some(raw) => Some(
            crate::domain::time::parse_rfc3339(&raw)
                .map(crate::domain::time::Timestamp::at)
                .ok_or_else(|| err(row, "due_at", format!("'{raw}' is not an RFC 3339 time")))?,
        ),
    };
    Ok(CommissionRow {
        row,
        external_id: external,
        partner_id,
        partner_field: c.partner_field.into(),
        amount_minor,
        currency,
        status,
        due_at,
    })
}

/// Whole cents: a JSON integer, or a string of digits (Tolt serializes money as strings).
pub(crate) fn cents(v: &Value, pointer: &str) -> Result<i64, String> {
    match v.pointer(pointer) {
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| "must be a whole number of cents".to_owned()),
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| format!("'{s}' is not a whole number of cents")),
        _ => Err("is missing".into()),
    }
}

/// A decimal amount in the currency's units (`14.70`), read from the number's text, never as
/// a float, into minor units.
pub(crate) fn decimal(v: &Value, pointer: &str, currency: Option<&str>) -> Result<i64, String> {
    let raw = match v.pointer(pointer) {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.trim().to_owned(),
        _ => return Err("is missing".into()),
    };
    let currency = currency
        .and_then(|c| Currency::parse(&c.to_ascii_uppercase()).ok())
        .ok_or_else(|| "has no currency to read it in".to_owned())?;
    currency.parse_amount("amount", &raw).map_err(|e| e.message)
}

/// A status the tool names, as a past status here, or why not.
pub(crate) fn status_of(
    raw: Option<String>,
    table: &[(&str, PastStatus)],
) -> Result<PastStatus, String> {
    let names = table.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
    match raw {
        None => Err(format!("is missing (one of {names})")),
        Some(s) => table
            .iter()
            .find(|(n, _)| *n == s)
            .map(|(_, st)| *st)
            .ok_or_else(|| format!("'{s}' is not one of {names}")),
    }
}

/// "First Last" from two optional parts.
pub(crate) fn full_name(first: Option<String>, last: Option<String>) -> Option<String> {
    let name = [first, last]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    Some(name).filter(|n| !n.is_empty())
}

/// A file with none of the source's lists.
pub(crate) fn none_of(lists: &Lists, names: &str) -> Result<(), Unreadable> {
    if lists.is_empty() {
        return Err(Unreadable(format!("The file has none of {names}.")));
    }
    Ok(())
}
