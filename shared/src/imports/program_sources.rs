//! Reading a partner program's export (issue 64). Today `rewardful`: one JSON object holding
//! the `data` lists of Rewardful's API answers, as its API reference documents them,
//! `{"affiliates": [...], "commissions": [...]}`:
//!
//! - `affiliates` (`GET /v1/affiliates`): `id`, `first_name`, `last_name`, `email`, `links[]`
//!   (`token`, `url`). The partner's id here is its first link's `token` when it is an id this
//!   service takes (`[a-z0-9_-]`, 1–64), else Rewardful's own id.
//! - `commissions` (`GET /v1/commissions`): `id`, `amount` (minor units, as Rewardful gives
//!   cents), `currency`, `state` (`paid`, `due`, `pending`, `voided`), and the affiliate's `id`
//!   (`affiliate.id`, or `sale.affiliate.id`), which must be one of the file's affiliates.

use std::collections::HashMap;

use serde_json::Value;

use super::links_sources::Unreadable;
use super::model::{CommissionRow, PartnerRow, PastStatus, RowError};
use crate::domain::{Currency, PartnerId};

/// What a program file came to.
#[derive(Debug, Default)]
pub struct Parsed {
    pub partners: Vec<PartnerRow>,
    pub commissions: Vec<CommissionRow>,
    pub errors: Vec<RowError>,
}

/// The longest source id kept (it is part of a store key).
const MAX_EXTERNAL_ID: usize = 128;

fn text(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Rewardful's export. Rows are numbered across the file: affiliates first (from 1), then
/// commissions (after the last affiliate).
pub fn rewardful(text_in: &str) -> Result<Parsed, Unreadable> {
    let doc: Value = serde_json::from_str(text_in)
        .map_err(|e| Unreadable(format!("The file is not JSON: {e}.")))?;
    let list = |key: &str| -> Result<Vec<Value>, Unreadable> {
        match doc.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items.clone()),
            Some(_) => Err(Unreadable(format!("`{key}` is not a list."))),
        }
    };
    let (affiliates, commissions) = (list("affiliates")?, list("commissions")?);
    if affiliates.is_empty() && commissions.is_empty() {
        return Err(Unreadable(
            "The file has neither `affiliates` nor `commissions` (Rewardful's lists).".into(),
        ));
    }
    let mut out = Parsed::default();
    let mut ids: HashMap<String, PartnerId> = HashMap::new();
    for (i, a) in affiliates.iter().enumerate() {
        let row = i as u64 + 1;
        match affiliate(row, a) {
            Ok((external, partner)) => {
                if ids.values().any(|p| *p == partner.partner_id) {
                    out.errors.push(RowError {
                        row,
                        field: "links[0].token".into(),
                        message: format!("'{}' is another affiliate's too", partner.partner_id),
                    });
                    continue;
                }
                ids.insert(external, partner.partner_id.clone());
                out.partners.push(partner);
            }
            Err(e) => out.errors.push(e),
        }
    }
    let first = affiliates.len() as u64;
    for (i, c) in commissions.iter().enumerate() {
        match commission(first + i as u64 + 1, c, &ids) {
            Ok(line) => out.commissions.push(line),
            Err(e) => out.errors.push(e),
        }
    }
    Ok(out)
}

fn affiliate(row: u64, a: &Value) -> Result<(String, PartnerRow), RowError> {
    let err = |field: &str, message: &str| RowError {
        row,
        field: field.into(),
        message: message.into(),
    };
    let external = text(a, "/id").ok_or_else(|| err("id", "is missing"))?;
    let name = [text(a, "/first_name"), text(a, "/last_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let email = text(a, "/email");
    let name = if name.is_empty() {
        email
            .clone()
            .ok_or_else(|| err("first_name", "is missing (and no email)"))?
    } else {
        name
    };
    let name = crate::partners::validate_name(&name).map_err(|e| err("first_name", &e.message))?;
    let email = email
        .map(|e| crate::partners::validate_email(&e))
        .transpose()
        .map_err(|e| err("email", &e.message))?;
    let partner_id = text(a, "/links/0/token")
        .and_then(|t| PartnerId::parse(&t).ok())
        .or_else(|| PartnerId::parse(&external.to_ascii_lowercase()).ok())
        .ok_or_else(|| err("id", "is not an id this service can keep"))?;
    Ok((
        external,
        PartnerRow {
            row,
            partner_id,
            name,
            email,
        },
    ))
}

fn commission(
    row: u64,
    c: &Value,
    ids: &HashMap<String, PartnerId>,
) -> Result<CommissionRow, RowError> {
    let err = |field: &str, message: String| RowError {
        row,
        field: field.into(),
        message,
    };
    let external = text(c, "/id").ok_or_else(|| err("id", "is missing".into()))?;
    if external.len() > MAX_EXTERNAL_ID || external.contains('#') {
        return Err(err("id", "is not an id this service can keep".into()));
    }
    let affiliate = text(c, "/affiliate/id")
        .or_else(|| text(c, "/sale/affiliate/id"))
        .ok_or_else(|| err("affiliate.id", "is missing".into()))?;
    let partner_id = ids.get(&affiliate).cloned().ok_or_else(|| {
        err(
            "affiliate.id",
            format!("'{affiliate}' is not an affiliate of this file"),
        )
    })?;
    let amount_minor = c
        .get("amount")
        .and_then(Value::as_i64)
        .filter(|a| *a >= 0)
        .ok_or_else(|| {
            err(
                "amount",
                "must be a whole, non-negative number of cents".into(),
            )
        })?;
    let currency = text(c, "/currency")
        .ok_or_else(|| err("currency", "is missing".into()))
        .and_then(|raw| {
            Currency::parse(&raw.to_ascii_uppercase()).map_err(|e| err("currency", e.message))
        })?;
    let status = match text(c, "/state").as_deref() {
        Some("paid") => PastStatus::Paid,
        Some("due") => PastStatus::Due,
        Some("pending") => PastStatus::Pending,
        Some("voided") => PastStatus::Voided,
        other => {
            return Err(err(
                "state",
                format!("{other:?} is not paid, due, pending or voided"),
            ));
        }
    };
    let due_at = match text(c, "/due_at") {
        None => None,
        Some(raw) => Some(
            crate::domain::time::parse_rfc3339(&raw)
                .map(crate::domain::time::Timestamp::at)
                .ok_or_else(|| err("due_at", format!("'{raw}' is not an RFC 3339 time")))?,
        ),
    };
    Ok(CommissionRow {
        row,
        external_id: external,
        partner_id,
        amount_minor,
        currency,
        status,
        due_at,
    })
}
