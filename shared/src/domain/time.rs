//! Timestamps: RFC 3339 UTC everywhere in the API, unix seconds and milliseconds in stored
//! keys and counters; pure arithmetic, no clock (the clock is `platform::time::now`).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub fn to_rfc3339(t: OffsetDateTime) -> String {
    // Millisecond precision keeps timestamps short and sortable.
    let t = t
        .replace_nanosecond(u32::from(t.millisecond()) * 1_000_000)
        .unwrap_or(t);
    t.format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

pub fn unix_to_rfc3339(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .map(to_rfc3339)
        .unwrap_or_default()
}

pub fn unix_millis_to_rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map(to_rfc3339)
        .unwrap_or_default()
}

/// An RFC 3339 time as unix milliseconds.
pub fn rfc3339_millis(s: &str) -> Option<i64> {
    parse_rfc3339(s).map(unix_millis)
}

/// `t` as unix milliseconds. `time`'s range (±9999 years) fits an i64 of milliseconds many times
/// over; the saturation only makes that explicit instead of an `as` cast.
pub fn unix_millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// A duration in whole milliseconds, saturating (a configured duration is never near 2^63 ms).
pub fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A duration in whole seconds, saturating.
pub fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

pub fn parse_rfc3339(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_with_millis_and_parses_back() {
        let s = unix_to_rfc3339(1_700_000_000);
        assert_eq!(s, "2023-11-14T22:13:20Z");
        assert_eq!(parse_rfc3339(&s).unwrap().unix_timestamp(), 1_700_000_000);
    }

    #[test]
    fn conversions_saturate_instead_of_wrapping() {
        assert_eq!(millis(std::time::Duration::from_secs(u64::MAX)), i64::MAX);
        assert_eq!(secs(std::time::Duration::from_secs(u64::MAX)), i64::MAX);
        assert_eq!(millis(std::time::Duration::from_millis(1500)), 1500);
        let t = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        assert_eq!(unix_millis(t), 1_700_000_000_000);
        assert_eq!(
            rfc3339_millis("2023-11-14T22:13:20.5Z"),
            Some(1_700_000_000_500)
        );
    }
}
