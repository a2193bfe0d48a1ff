//! The program's own 1099-NEC reporting thresholds, per calendar year of payment, in US cents
//! (`form1099NecThresholds: {"2027": 210000}`): where the program sets a year's figure the
//! year-end report (`payouts::tax_report`) lists the payees at or over it, else the law's. The
//! law indexes the $2,000 of 2026 for inflation from 2027 in $100 steps (26 U.S.C. 6041(h)), a
//! figure the IRS publishes each year: the merchant types it here the day it is out, with no
//! release of 10x between. Whole cents only: a float, a string or a fraction is refused by name.

use std::collections::BTreeMap;

use crate::domain::DomainError;

/// The field's name in the program's JSON.
pub const FIELD: &str = "form1099NecThresholds";

/// The first and last year a threshold may be set for.
const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// The largest threshold taken: $1,000,000.00, far above any the law has set.
pub const MAX_CENTS: i64 = 100_000_000;

/// The thresholds a `PUT …/program` sends: an object of four-digit years to whole US cents
/// (`null` or absent: none).
pub fn validate(raw: Option<serde_json::Value>) -> Result<BTreeMap<String, i64>, DomainError> {
    let Some(raw) = raw.filter(|v| !v.is_null()) else {
        return Ok(BTreeMap::new());
    };
    let serde_json::Value::Object(map) = raw else {
        return Err(DomainError::new(
            FIELD,
            "must be an object of years to US cents, like {\"2027\": 210000} for $2,100.00.",
        ));
    };
    let mut out = BTreeMap::new();
    for (year, cents) in map {
        let field = format!("{FIELD}.{year}");
        let y = year
            .parse::<i32>()
            .ok()
            .filter(|y| year.len() == 4 && YEARS.contains(y));
        if y.is_none() {
            return Err(DomainError::new(
                &field,
                format!(
                    "is not a year: each key is a year from {} to {}.",
                    YEARS.start(),
                    YEARS.end()
                ),
            ));
        }
        // `as_i64` is `None` for a float (600.5, and 600.0 too) and a string.
        let cents = cents
            .as_i64()
            .filter(|c| (0..=MAX_CENTS).contains(c))
            .ok_or_else(|| {
                DomainError::new(
                    &field,
                    format!(
                        "must be a whole number of US cents from 0 to {MAX_CENTS} \
                         (210000 is $2,100.00)."
                    ),
                )
            })?;
        out.insert(year, cents);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn whole_cents_per_year_are_kept_and_anything_else_is_refused_by_name() {
        let ok = validate(Some(json!({"2027": 210_000, "2026": 0}))).unwrap();
        assert_eq!(ok.get("2027"), Some(&210_000));
        assert_eq!(ok.len(), 2);
        assert!(validate(None).unwrap().is_empty());
        assert!(validate(Some(json!(null))).unwrap().is_empty());
        for (bad, field) in [
            (json!({"2027": 2100.5}), "form1099NecThresholds.2027"),
            (json!({"2027": 210_000.0}), "form1099NecThresholds.2027"),
            (json!({"2027": "210000"}), "form1099NecThresholds.2027"),
            (json!({"2027": -1}), "form1099NecThresholds.2027"),
            (json!({"2027": MAX_CENTS + 1}), "form1099NecThresholds.2027"),
            (json!({"27": 1}), "form1099NecThresholds.27"),
            (json!({"1999": 1}), "form1099NecThresholds.1999"),
            (json!([210_000]), "form1099NecThresholds"),
        ] {
            let e = validate(Some(bad.clone())).unwrap_err();
            assert_eq!(e.field, field, "{bad}");
        }
    }
}
