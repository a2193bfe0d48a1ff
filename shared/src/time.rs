//! Timestamps: RFC 3339 UTC everywhere in the API.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub fn now_rfc3339() -> String {
    to_rfc3339(OffsetDateTime::now_utc())
}

pub fn to_rfc3339(t: OffsetDateTime) -> String {
    // Millisecond precision keeps timestamps short and sortable.
    let t = t
        .replace_nanosecond(t.millisecond() as u32 * 1_000_000)
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
    parse_rfc3339(s).map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

pub fn parse_rfc3339(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

pub fn now_millis() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_with_millis_and_parses_back() {
        let s = unix_to_rfc3339(1_700_000_000);
        assert_eq!(s, "2023-11-14T22:13:20Z");
        assert_eq!(parse_rfc3339(&s).unwrap().unix_timestamp(), 1_700_000_000);
        assert!(now_rfc3339().ends_with('Z'));
    }
}
