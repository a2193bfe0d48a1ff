//! Timestamps: RFC 3339 UTC everywhere in the API and in stored records ([`Timestamp`]), unix
//! seconds and milliseconds in stored keys and counters; pure arithmetic, no clock (the clock is
//! `platform::time::now`).

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

/// Unix seconds as RFC 3339 (saturating at ±9999 years, as [`Timestamp::from_unix`]).
pub fn unix_to_rfc3339(secs: i64) -> String {
    Timestamp::from_unix(secs).into()
}

/// Unix milliseconds as RFC 3339 (saturating, as [`Timestamp::from_millis`]).
pub fn unix_millis_to_rfc3339(ms: i64) -> String {
    Timestamp::from_millis(ms).into()
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

/// An instant as a stored record and the API hold it: RFC 3339 UTC text. The one time type of
/// stored records; [`Timestamp::millis`] is its unix-millisecond view (sort keys, TTLs and
/// counters keep plain numbers, which DynamoDB orders and expires by).
///
/// The text is kept byte for byte as it was written (`serde(transparent)` over it): what was
/// signed over stored times (a plan-change notice's JWS, a conversion's receipt, an event's
/// webhook signature) must verify against the record read back years later, whatever this
/// code's own formatting is today. It is checked once, when made or read: an unparsable time
/// in a record is an error, not a default.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Timestamp(String);

impl Timestamp {
    /// `t` at millisecond precision (the service's format: `2023-11-14T22:13:20.5Z`).
    pub fn at(t: OffsetDateTime) -> Self {
        Self(to_rfc3339(t))
    }

    /// Unix milliseconds, saturating at `time`'s range (±9999 years).
    pub fn from_millis(ms: i64) -> Self {
        let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .unwrap_or_else(|_| {
                let edge = if ms < 0 {
                    time::PrimitiveDateTime::MIN
                } else {
                    time::PrimitiveDateTime::MAX
                };
                edge.assume_utc()
            });
        Self::at(t)
    }

    /// Unix seconds, saturating like [`Timestamp::from_millis`].
    pub fn from_unix(secs: i64) -> Self {
        Self::from_millis(secs.saturating_mul(1000))
    }

    /// A fixed time written in code (tests, fixtures); panics on text that is not RFC 3339.
    pub fn literal(text: &str) -> Self {
        Self::parse(text).unwrap_or_else(|| panic!("not an RFC 3339 time: {text:?}"))
    }

    /// Text that is RFC 3339, kept as it is; `None` otherwise.
    pub fn parse(text: &str) -> Option<Self> {
        parse_rfc3339(text).map(|_| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn datetime(&self) -> OffsetDateTime {
        // Checked when made or read (the only ways to get one).
        parse_rfc3339(&self.0).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    pub fn millis(&self) -> i64 {
        unix_millis(self.datetime())
    }

    pub fn unix(&self) -> i64 {
        self.datetime().unix_timestamp()
    }
}

/// Ordered by the instant (texts of different precision do not sort as time does), then by
/// text, so two spellings of one instant are still told apart.
impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.millis(), &self.0).cmp(&(other.millis(), &other.0))
    }
}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Read as its text (what the API shows and a statement hashes); written only through the
/// checked constructors.
impl std::ops::Deref for Timestamp {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Timestamp {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Timestamp {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl From<Timestamp> for String {
    fn from(t: Timestamp) -> String {
        t.0
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        match parse_rfc3339(&text) {
            Some(_) => Ok(Self(text)),
            None => Err(serde::de::Error::custom(format!(
                "not an RFC 3339 time: {text:?}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timestamp_keeps_the_text_it_was_read_with_byte_for_byte() {
        // Three spellings this code would not write today; each reads and writes back as is.
        for (text, ms) in [
            ("2023-11-14T22:13:20Z", 1_700_000_000_000),
            ("2023-11-14T22:13:20.500Z", 1_700_000_000_500),
            ("2023-11-14T23:13:20.5+01:00", 1_700_000_000_500),
        ] {
            let json = serde_json::to_string(text).unwrap();
            let t: Timestamp = serde_json::from_str(&json).unwrap();
            assert_eq!(serde_json::to_string(&t).unwrap(), json);
            assert_eq!(t.millis(), ms);
        }
        assert!(
            Timestamp::from_millis(i64::MAX)
                .as_str()
                .starts_with("9999-")
        );
    }

    #[test]
    fn a_timestamp_that_is_not_rfc_3339_is_refused_when_read() {
        for bad in ["", "yesterday", "2023-11-14", "1700000000"] {
            let json = serde_json::to_string(bad).unwrap();
            let err = serde_json::from_str::<Timestamp>(&json).unwrap_err();
            assert!(err.to_string().contains("RFC 3339"), "{bad}: {err}");
            assert!(Timestamp::parse(bad).is_none());
        }
    }

    #[test]
    fn timestamps_order_by_instant_not_by_text() {
        let whole = Timestamp::parse("2023-11-14T22:13:20Z").unwrap();
        let later = Timestamp::parse("2023-11-14T22:13:20.5Z").unwrap();
        // As text, '.' sorts before 'Z': the later instant would come first.
        assert!(later.as_str() < whole.as_str());
        assert!(whole < later);
        assert_eq!(Timestamp::from_millis(later.millis()), later);
        assert_eq!(Timestamp::at(whole.datetime()), whole);
    }

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
