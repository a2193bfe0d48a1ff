//! The seam's own rules, checked by every backend before a request leaves the process: keys
//! and items held to DynamoDB's limits, counter names, query shapes, transaction size and
//! distinct keys. Code that passes here behaves the same on the embedded store and DynamoDB.

use std::collections::HashSet;

use super::{Cond, MAX_TRANSACT_OPS, Query, SkRange, StoreError, WriteOp};

/// DynamoDB's key and item size limits.
pub const MAX_PK_BYTES: usize = 2048;
pub const MAX_SK_BYTES: usize = 1024;
/// Checked against the encoded record (an approximation of DynamoDB's item size).
pub const MAX_ITEM_BYTES: usize = 400 * 1024;
pub const MAX_QUERY_LIMIT: usize = 1000;

/// A transaction: at most [`MAX_TRANSACT_OPS`] valid operations on distinct keys (empty is fine).
pub fn validate_transact(ops: &[WriteOp]) -> Result<(), StoreError> {
    if ops.len() > MAX_TRANSACT_OPS {
        return Err(StoreError::Invalid(format!(
            "a transaction carries at most {MAX_TRANSACT_OPS} operations, got {}",
            ops.len()
        )));
    }
    let mut keys = HashSet::new();
    for op in ops {
        validate_in_transaction(op)?;
        if !keys.insert(op.key()) {
            let (pk, sk) = op.key();
            return Err(StoreError::Invalid(format!(
                "a transaction touches {pk}/{sk} more than once"
            )));
        }
    }
    Ok(())
}

fn invalid(msg: String) -> StoreError {
    StoreError::Invalid(msg)
}

pub fn validate_key(pk: &str, sk: &str) -> Result<(), StoreError> {
    for (name, value, max) in [("pk", pk, MAX_PK_BYTES), ("sk", sk, MAX_SK_BYTES)] {
        if value.is_empty() {
            return Err(invalid(format!("{name} must not be empty")));
        }
        if value.len() > max {
            return Err(invalid(format!("{name} is longer than {max} bytes")));
        }
        if value.contains('\0') {
            return Err(invalid(format!("{name} must not contain NUL: {value:?}")));
        }
    }
    Ok(())
}

fn validate_counter(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "counter names match [a-z0-9_]+, got {name:?}"
        )))
    }
}

/// A single write: any op but a `Check` (which writes nothing on its own).
pub fn validate_op(op: &WriteOp) -> Result<(), StoreError> {
    if matches!(op, WriteOp::Check { .. }) {
        return Err(invalid("a Check is only a transaction's condition".into()));
    }
    if matches!(op, WriteOp::SetDoc { .. }) {
        return Err(invalid("a SetDoc is only written in a transaction".into()));
    }
    validate_in_transaction(op)
}

/// One op of a transaction. A `Check` needs a condition (`Cond::None` checks nothing).
fn validate_in_transaction(op: &WriteOp) -> Result<(), StoreError> {
    let (pk, sk) = op.key();
    validate_key(pk, sk)?;
    match op {
        WriteOp::Put { item, .. } => item.counters.keys().try_for_each(|c| validate_counter(c)),
        WriteOp::Delete { .. } => Ok(()),
        WriteOp::Check { cond, .. } if *cond == Cond::None => {
            Err(invalid("a Check with no condition checks nothing".into()))
        }
        WriteOp::Check { .. } => Ok(()),
        WriteOp::SetDoc { cond, .. } if !matches!(cond, Cond::Version(_) | Cond::Exists) => Err(
            invalid("a SetDoc changes an existing item: Cond::Version or Cond::Exists".into()),
        ),
        WriteOp::SetDoc { item, .. } => item.counters.keys().try_for_each(|c| validate_counter(c)),
        WriteOp::Add { deltas, cap, .. } => {
            let mut seen = HashSet::new();
            for (name, _) in deltas {
                validate_counter(name)?;
                if !seen.insert(name.as_str()) {
                    return Err(invalid(format!(
                        "counter {name:?} appears twice in one Add"
                    )));
                }
            }
            cap.as_ref()
                .map_or(Ok(()), |cap| validate_counter(&cap.counter))
        }
    }
}

pub fn validate_query(q: &Query) -> Result<(), StoreError> {
    validate_after(q)?;
    if q.pk.is_empty() || q.pk.len() > MAX_PK_BYTES || q.pk.contains('\0') {
        return Err(invalid(format!("invalid query pk {:?}", q.pk)));
    }
    if !(1..=MAX_QUERY_LIMIT).contains(&q.limit) {
        return Err(invalid(format!(
            "query limit must be 1..={MAX_QUERY_LIMIT}, got {}",
            q.limit
        )));
    }
    let mut sks: Vec<&str> = Vec::new();
    match &q.range {
        SkRange::All => {}
        SkRange::Prefix(p) => sks.push(p),
        SkRange::Between(from, to) => {
            if from > to {
                return Err(invalid(format!("query range {from:?} > {to:?}")));
            }
            sks.extend([from.as_str(), to.as_str()]);
        }
    }
    match sks.iter().find(|s| s.contains('\0')) {
        Some(s) => Err(invalid(format!("sort keys must not contain NUL: {s:?}"))),
        None => Ok(()),
    }
}

/// A resume key must be a sort key this query could have returned: DynamoDB refuses an
/// `ExclusiveStartKey` outside the key condition or over its key limits, and the embedded store
/// must not see one either. Cursors come from clients, so this is [`StoreError::BadCursor`].
fn validate_after(q: &Query) -> Result<(), StoreError> {
    let Some(after) = &q.after else {
        return Ok(());
    };
    let in_range = match &q.range {
        SkRange::All => true,
        SkRange::Prefix(p) => after.starts_with(p.as_str()),
        SkRange::Between(from, to) => (from.as_str()..=to.as_str()).contains(&after.as_str()),
    };
    let well_formed = !after.is_empty() && after.len() <= MAX_SK_BYTES && !after.contains('\0');
    match in_range && well_formed {
        true => Ok(()),
        false => Err(StoreError::BadCursor(format!(
            "resume key {:?} is outside the query",
            after.chars().take(64).collect::<String>()
        ))),
    }
}

#[cfg(test)]
mod after_tests {
    use super::*;

    fn query(range: SkRange, after: &str) -> Query {
        Query {
            pk: "H#acme".into(),
            range,
            limit: 10,
            after: Some(after.into()),
            descending: false,
        }
    }

    #[test]
    fn a_resume_key_outside_the_range_or_limits_is_a_bad_cursor() {
        let prefix = || SkRange::Prefix("L#".into());
        assert!(validate_query(&query(prefix(), "L#launch")).is_ok());
        for bad in ["L#\0", "W#x", ""] {
            let err = validate_query(&query(prefix(), bad)).unwrap_err();
            assert!(matches!(err, StoreError::BadCursor(_)), "{bad:?}: {err}");
        }
        let long = format!("L#{}", "x".repeat(MAX_SK_BYTES));
        assert!(matches!(
            validate_query(&query(prefix(), &long)),
            Err(StoreError::BadCursor(_))
        ));
        let between = || SkRange::Between("D#2026-01-01".into(), "D#2026-01-31".into());
        assert!(validate_query(&query(between(), "D#2026-01-15#x")).is_ok());
        assert!(validate_query(&query(between(), "D#2026-02-01")).is_err());
    }
}
