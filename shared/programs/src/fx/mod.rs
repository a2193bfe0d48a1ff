//! Exchange rates: dated snapshots a merchant posts (one unit of `base` is worth `rates[c]` units
//! of `c`), all kept, under `H#{handle}#FX` / `{asOfMs:013}#{base}`. A commission takes the rate
//! in force at its conversion's time, rounded once to [`RATE_DP`] places and recorded with it.

use crate::domain::time::Timestamp;
use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::domain::{Currency, DomainError, Handle};
use crate::platform::store::{Item, Query, SkRange, Store, StoreError, keys};

/// Decimal places of a derived rate (a cross rate or an inverse).
pub const RATE_DP: u32 = 10;
const MAX_RATES: usize = 200;
/// How many snapshots back a lookup walks for a pair the newest one lacks.
const LOOKBACK: usize = 20;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    pub base: Currency,
    pub rates: BTreeMap<Currency, RateValue>,
    pub as_of: String,
    pub created_at: Timestamp,
    pub created_by: String,
}

/// A positive decimal rate, as a string on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RateValue(#[serde(with = "rust_decimal::serde::str")] pub Decimal);

/// The body of `POST …/fx-rates`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SnapshotSpec {
    pub base: String,
    pub rates: BTreeMap<String, String>,
    pub as_of: String,
}

/// A validated snapshot and its time (unix ms).
pub struct ValidSnapshot {
    pub base: Currency,
    pub rates: BTreeMap<Currency, RateValue>,
    pub as_of_ms: i64,
}

impl SnapshotSpec {
    pub fn validate(self) -> Result<ValidSnapshot, DomainError> {
        let base = Currency::parse(&self.base).map_err(|e| DomainError::new("base", e.message))?;
        let as_of = crate::domain::time::parse_rfc3339(&self.as_of)
            .ok_or_else(|| DomainError::new("asOf", "must be an RFC 3339 time."))?;
        if self.rates.is_empty() || self.rates.len() > MAX_RATES {
            return Err(DomainError::new("rates", "must hold 1 to 200 rates."));
        }
        let mut rates = BTreeMap::new();
        for (code, raw) in &self.rates {
            let field = format!("rates.{code}");
            let c = Currency::parse(code).map_err(|e| DomainError::new(&field, e.message))?;
            let d = crate::domain::money::parse_decimal(&field, raw)?;
            if d <= Decimal::ZERO || d.scale() > RATE_DP || d > Decimal::from(1_000_000_000) {
                return Err(DomainError::new(
                    field,
                    "must be positive, at most 1000000000, with at most 10 decimals.",
                ));
            }
            rates.insert(c, RateValue(d));
        }
        Ok(ValidSnapshot {
            base,
            rates,
            as_of_ms: crate::domain::time::unix_millis(as_of),
        })
    }
}

impl Snapshot {
    /// Units of `to` per one unit of `from`, when this snapshot knows both.
    pub fn rate(&self, from: Currency, to: Currency) -> Option<Decimal> {
        let of = |c: Currency| {
            if c == self.base {
                Some(Decimal::ONE)
            } else {
                self.rates.get(&c).map(|r| r.0)
            }
        };
        if from == to {
            return Some(Decimal::ONE);
        }
        let rate = of(to)?.checked_div(of(from)?)?;
        Some(rate.round_dp_with_strategy(RATE_DP, RoundingStrategy::MidpointAwayFromZero))
    }
}

/// Stores a snapshot: ONE put-if-absent (the same base and time twice is `409`).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn post(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    valid: ValidSnapshot,
    by: &str,
) -> Result<Option<Snapshot>, StoreError> {
    let snapshot = Snapshot {
        base: valid.base,
        rates: valid.rates,
        as_of: crate::domain::time::unix_millis_to_rfc3339(valid.as_of_ms),
        created_at: crate::platform::time::timestamp(),
        created_by: by.to_owned(),
    };
    let sk = format!("{:013}#{}", valid.as_of_ms.max(0), snapshot.base);
    let item = Item::new(
        keys::fx_pk(handle),
        sk,
        crate::platform::store::to_doc(&snapshot)?,
    );
    let new = crate::platform::store::put_new(store, item).await?;
    Ok(new.then_some(snapshot))
}

/// The snapshots in force at `at_ms`, newest first. Round trips: ONE query.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn in_force(
    store: &dyn Store,
    handle: &Handle,
    at_ms: i64,
    limit: usize,
) -> Result<Vec<Snapshot>, StoreError> {
    let page = store
        .query(Query {
            pk: keys::fx_pk(handle),
            range: SkRange::Between("0".into(), format!("{:013}#~", at_ms.max(0))),
            limit,
            after: None,
            descending: true,
        })
        .await?;
    page.items
        .iter()
        .map(crate::platform::store::Item::parse::<Snapshot>)
        .collect()
}

/// The rate from `from` to `to` at `at_ms`: the newest snapshot that knows the pair.
pub async fn rate_at(
    store: &dyn Store,
    handle: &Handle,
    from: Currency,
    to: Currency,
    at_ms: i64,
) -> Result<Option<Decimal>, StoreError> {
    if from == to {
        return Ok(Some(Decimal::ONE));
    }
    let snapshots = in_force(store, handle, at_ms, LOOKBACK).await?;
    Ok(snapshots.iter().find_map(|s| s.rate(from, to)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_and_inverse_rates_come_from_one_snapshot() {
        let c = |s: &str| Currency::parse(s).unwrap();
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        let snap = Snapshot {
            base: c("EUR"),
            rates: [
                (c("USD"), RateValue(d("1.10"))),
                (c("JPY"), RateValue(d("160"))),
            ]
            .into_iter()
            .collect(),
            as_of: String::new(),
            created_at: crate::domain::time::Timestamp::literal("2026-01-01T00:00:00Z"),
            created_by: String::new(),
        };
        assert_eq!(snap.rate(c("EUR"), c("USD")), Some(d("1.10")));
        assert_eq!(snap.rate(c("USD"), c("EUR")), Some(d("0.9090909091")));
        assert_eq!(snap.rate(c("USD"), c("JPY")), Some(d("145.4545454545")));
        assert_eq!(snap.rate(c("GBP"), c("EUR")), None);
    }
}
