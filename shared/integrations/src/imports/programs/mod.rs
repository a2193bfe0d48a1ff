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

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::bounded::{Bound, MAX_RECORD_BYTES};
use super::cells::quoted;
use super::links_sources::Unreadable;
use super::model::{
    CommissionRow, CustomerRow, PartnerRow, PastStatus, ReferralLink, RowEmail, RowError, Source,
};
use crate::domain::{CampaignId, Currency, CustomerId, PartnerId};

/// A row of a program's export, read and checked, in the order it is staged: partners, then
/// customers, then commissions; or a row refused.
#[derive(Debug)]
pub enum ProgramRow {
    Partner(PartnerRow),
    Customer(CustomerRow),
    Commission(CommissionRow),
    Refused(RowError),
}

/// A file opened anew for each pass (a request's body, a file on disk, an uploaded object).
pub type Open<'a> = &'a mut dyn FnMut() -> std::io::Result<super::Reader>;

/// Reads an item of a join list into what its partner takes.
pub(crate) type Join = fn(&Value, &mut Joins);

/// Where a tool's export keeps each kind of row, and how an item of each list is read.
pub(crate) struct Shape {
    pub partners: &'static str,
    /// Lists joined onto the partners they name (coupon codes, referral links), read first.
    pub joins: &'static [(&'static str, Join)],
    pub customers: &'static str,
    pub commissions: &'static str,
    /// The lists, in words, for a file that has none of them.
    pub names: &'static str,
    pub partner: fn(&Value, &mut Joins) -> RawPartner,
    pub customer: fn(&Value) -> RawCustomer,
    /// A commission, read with what the join lists said (Dub's payouts on their way).
    pub commission: fn(&Value, &Joins) -> RawCommission,
}

/// What the join lists hold per partner (the tool's id of it): taken by its partner's item.
#[derive(Default)]
pub(crate) struct Joins {
    pub links: HashMap<String, Vec<ReferralLink>>,
    pub coupons: HashMap<String, Vec<String>>,
    /// Per partner: whether a payout of it is on its way, and whether one is still pending.
    pub payouts: HashMap<String, (bool, bool)>,
    /// The commissions (the tool's ids) in a payout whose money is on its way.
    pub paying: HashSet<String>,
}

impl Joins {
    pub(crate) fn take_links(&mut self, external: &Option<String>) -> Vec<ReferralLink> {
        external
            .as_ref()
            .and_then(|e| self.links.remove(e))
            .unwrap_or_default()
    }

    pub(crate) fn take_coupons(&mut self, external: &Option<String>) -> Vec<String> {
        external
            .as_ref()
            .and_then(|e| self.coupons.remove(e))
            .unwrap_or_default()
    }
}

fn shape(source: Source) -> Result<&'static Shape, Unreadable> {
    Ok(match source {
        Source::Rewardful => &rewardful::SHAPE,
        Source::FirstPromoter => &firstpromoter::SHAPE,
        Source::PartnerStack => &partnerstack::SHAPE,
        Source::Tolt => &tolt::SHAPE,
        Source::DubPartners => &dub::SHAPE,
        other => {
            return Err(Unreadable(format!(
                "{} is not a partner program's tool.",
                other.as_str()
            )));
        }
    })
}

/// Reads a program's export as a stream, item by item, and hands each checked row to `emit`
/// (`false` stops the reading). The file is read in passes, each decoded a block at a time and
/// parsed an item at a time, the other lists skipped unread: the join lists (coupon codes,
/// referral links, payouts), then the partners, the customers and the commissions, so rows come
/// in that order whatever the file's key order. What stays in memory is per partner (its ids,
/// its campaign, its joined codes until its item comes, its payouts' state), never the
/// customers or commissions.
pub fn each_row(
    source: Source,
    open: Open<'_>,
    emit: &mut dyn FnMut(ProgramRow) -> bool,
) -> Result<(), Unreadable> {
    let shape = shape(source)?;
    let mut joins = Joins::default();
    if !shape.joins.is_empty() {
        let names: Vec<&str> = shape.joins.iter().map(|(n, _)| *n).collect();
        pass(open, &names, &mut |list, item| {
            if let Some((_, join)) = shape.joins.iter().find(|(n, _)| *n == list) {
                join(&item, &mut joins);
            }
            true
        })?;
    }
    let mut checker = Checker::new(source);
    let mut items = 0u64;
    let done = pass(open, &[shape.partners], &mut |_, item| {
        items += 1;
        emit(checker.partner((shape.partner)(&item, &mut joins)))
    })?;
    joins.links.clear();
    joins.coupons.clear();
    if !done {
        return Ok(());
    }
    let done = pass(open, &[shape.customers], &mut |_, item| {
        items += 1;
        checker
            .customer((shape.customer)(&item))
            .is_none_or(&mut *emit)
    })?;
    if !done {
        return Ok(());
    }
    pass(open, &[shape.commissions], &mut |_, item| {
        items += 1;
        emit(checker.commission((shape.commission)(&item, &joins)))
    })?;
    if items == 0 {
        return Err(Unreadable(format!("The file has none of {}.", shape.names)));
    }
    Ok(())
}

/// One reading of the file: each item of the lists `names`. `false`: stopped by `each`.
fn pass(
    open: Open<'_>,
    names: &[&str],
    each: &mut dyn FnMut(&str, Value) -> bool,
) -> Result<bool, Unreadable> {
    let could_not = |e: std::io::Error| Unreadable(format!("The file could not be read: {e}."));
    let reader = super::decode::Utf8Reader::new(open().map_err(could_not)?).map_err(could_not)?;
    let mut stopped = false;
    let mut items = 0u64;
    let mut each = |list: &str, item: Value| {
        items += 1;
        let go_on = each(list, item);
        stopped = !go_on;
        go_on
    };
    let bound = Bound::new(MAX_RECORD_BYTES);
    let mut named = super::json_list::Named {
        names,
        bound: &bound,
        each: &mut each,
        object: false,
        not_a_list: None,
    };
    let mut de =
        serde_json::Deserializer::from_reader(std::io::BufReader::new(bound.reader(reader)));
    let read = serde::de::DeserializeSeed::deserialize(&mut named, &mut de).and_then(|()| de.end());
    let (object, not_a_list) = (named.object, named.not_a_list.take());
    match read {
        Err(_) if stopped => return Ok(false),
        Err(_) if bound.over() => {
            return Err(bound.refusal(&format!("after {items} items read")));
        }
        Err(e) if e.is_io() => return Err(Unreadable(format!("The file could not be read: {e}."))),
        Err(e) => return Err(Unreadable(format!("The file is not JSON: {e}."))),
        Ok(()) => {}
    }
    if !object {
        return Err(Unreadable(
            "The file is not one JSON object of the tool's lists.".into(),
        ));
    }
    if let Some(key) = not_a_list {
        return Err(Unreadable(format!("`{key}` is not a list.")));
    }
    Ok(true)
}

/// The checks across rows: row numbers, partners' ids (one partner each), the partner a
/// customer or commission names, and the campaign its customers are bound on.
struct Checker {
    source: Source,
    row: u64,
    ids: HashMap<String, PartnerId>,
    taken: HashSet<PartnerId>,
    campaigns: HashMap<PartnerId, Option<CampaignId>>,
}

impl Checker {
    fn new(source: Source) -> Self {
        Self {
            source,
            row: 0,
            ids: HashMap::new(),
            taken: HashSet::new(),
            campaigns: HashMap::new(),
        }
    }

    fn partner(&mut self, p: RawPartner) -> ProgramRow {
        self.row += 1;
        let row = self.row;
        match partner(row, p) {
            Ok((external, partner)) => {
                if !self.taken.insert(partner.partner_id.clone()) {
                    return ProgramRow::Refused(RowError {
                        row,
                        field: "id".into(),
                        message: format!("'{}' is another partner's too", partner.partner_id),
                        ..Default::default()
                    });
                }
                self.ids.insert(external, partner.partner_id.clone());
                self.campaigns
                    .insert(partner.partner_id.clone(), first_campaign(&partner));
                ProgramRow::Partner(partner)
            }
            Err(e) => ProgramRow::Refused(e),
        }
    }

    /// `None`: a lead of the tool, not a customer (its row counted, left out).
    fn customer(&mut self, c: RawCustomer) -> Option<ProgramRow> {
        self.row += 1;
        if !c.is_customer {
            return None;
        }
        Some(
            match customer(self.row, self.source, c, &self.ids, &self.campaigns) {
                Ok(c) => ProgramRow::Customer(c),
                Err(e) => ProgramRow::Refused(e),
            },
        )
    }

    fn commission(&mut self, c: RawCommission) -> ProgramRow {
        self.row += 1;
        match commission(self.row, c, &self.ids) {
            Ok(c) => ProgramRow::Commission(c),
            Err(e) => ProgramRow::Refused(e),
        }
    }
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
    /// Where the tool paid it by PayPal, and the field that holds it (`None`: the tool's
    /// export has no such field, or it is empty).
    pub payout_email: Option<String>,
    pub payout_email_field: &'static str,
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
    pub email: Option<String>,
    pub email_field: &'static str,
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

/// The longest source id kept (it is part of a store key).
const MAX_EXTERNAL_ID: usize = 128;

fn err(row: u64, field: &str, message: impl Into<String>) -> RowError {
    RowError {
        row,
        field: field.into(),
        message: message.into(),
        ..Default::default()
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
            payout_email: row_email(p.payout_email, p.payout_email_field),
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
    ids.get(&raw).cloned().ok_or_else(|| {
        err(
            row,
            field,
            format!("{} is not a partner of this file", quoted(&raw)),
        )
    })
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
        email: row_email(c.email, c.email_field),
    })
}

/// An address as staged: checked when its row is written, where a bad one is noted and the
/// row still comes in without it.
fn row_email(address: Option<String>, field: &str) -> Option<RowEmail> {
    address.map(|address| RowEmail {
        address,
        field: field.into(),
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
                .ok_or_else(|| {
                    err(
                        row,
                        "due_at",
                        format!("{} is not an RFC 3339 time", quoted(&raw)),
                    )
                })?,
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
            .map_err(|_| format!("{} is not a whole number of cents", quoted(s))),
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
pub fn status_of(raw: Option<String>, table: &[(&str, PastStatus)]) -> Result<PastStatus, String> {
    let names = table.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
    match raw {
        None => Err(format!("is missing (one of {names})")),
        Some(s) => table
            .iter()
            .find(|(n, _)| *n == s)
            .map(|(_, st)| *st)
            .ok_or_else(|| format!("{} is not one of {names}", quoted(&s))),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_programs_item_longer_than_the_cap_refuses_the_file() {
        let long = "a".repeat(1_500_000);
        let file = format!(
            r#"{{"partners":[{{"id":"pn_1","name":"Kim"}},{{"id":"pn_2","name":"{long}"}}]}}"#
        );
        let mut open = crate::imports::bytes_opener(file.into_bytes());
        let why = each_row(Source::DubPartners, &mut open, &mut |_| true)
            .expect_err("refused")
            .0;
        assert!(
            why.starts_with("The file has an item longer than 1 MiB (after 1 items read)"),
            "{why}"
        );
    }
}
