//! The service's one clock ([`now`]), which every "now" in the service reads (`timestamp`,
//! `now_millis`, `now_rfc3339` are views of it), so a test can move time (`advance`, feature
//! `testing`) and see a year pass. The pure timestamp arithmetic is `domain::time`.

use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;

use crate::domain::time::{Timestamp, to_rfc3339, unix_millis};

/// How far a test moved the clock (ms); 0 in every shipped binary.
static SHIFT_MS: AtomicI64 = AtomicI64::new(0);

/// Now: the system's UTC time, moved by what a test set (one atomic load).
pub fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    match SHIFT_MS.load(Ordering::Relaxed) {
        0 => t,
        ms => t + time::Duration::milliseconds(ms),
    }
}

/// Moves the service's clock forward by `by` for the whole process (tests only: nextest runs
/// each test in its own process, so no other test sees it).
pub fn advance(by: std::time::Duration) {
    let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
    SHIFT_MS.fetch_add(ms, Ordering::Relaxed);
}

/// Now, as stored records hold it.
pub fn timestamp() -> Timestamp {
    Timestamp::at(now())
}

pub fn now_rfc3339() -> String {
    to_rfc3339(now())
}

pub fn now_millis() -> i64 {
    unix_millis(now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_utc_with_millis() {
        assert!(now_rfc3339().ends_with('Z'));
        assert!(now_millis() > 1_700_000_000_000);
    }
}
