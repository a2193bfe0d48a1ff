//! UTC days: the bucket of every counter, and the `from`/`to` range of a report.

use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime};

use crate::domain::DomainError;

/// A report covers at most this many days.
pub const MAX_RANGE_DAYS: i64 = 366;
/// Without `from`/`to`, a report covers the last 30 days (today included).
pub const DEFAULT_RANGE_DAYS: i64 = 30;

/// `2026-02-25`.
pub fn format_day(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// The UTC day of an RFC 3339 timestamp.
pub fn day_of_rfc3339(ts: &str) -> Option<String> {
    crate::domain::time::parse_rfc3339(ts)
        .map(|t| format_day(t.to_offset(time::UtcOffset::UTC).date()))
}

pub fn day_of_unix(secs: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format_day(t.date())
}

/// Unix seconds of the end of a `yyyy-mm-dd` day (midnight after it).
pub fn end_of_day_unix(day: &str) -> Option<i64> {
    let date = Date::parse(day, format_description!("[year]-[month]-[day]")).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp() + 86_400)
}

/// `YYYY-MM-DD` or an RFC 3339 timestamp (its UTC day).
fn parse_date(field: &str, raw: &str) -> Result<Date, DomainError> {
    let raw = raw.trim();
    if let Ok(d) = Date::parse(raw, format_description!("[year]-[month]-[day]")) {
        return Ok(d);
    }
    crate::domain::time::parse_rfc3339(raw)
        .map(|t| t.to_offset(time::UtcOffset::UTC).date())
        .ok_or_else(|| {
            DomainError::new(
                field,
                "expected a date such as 2026-02-25 or an RFC 3339 timestamp",
            )
        })
}

/// An inclusive range of UTC days.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DayRange {
    pub from: Date,
    pub to: Date,
}

impl DayRange {
    /// Defaults: `to` is today, `from` is 29 days before `to` (30 days in all).
    pub fn parse(from: Option<&str>, to: Option<&str>, today: Date) -> Result<Self, DomainError> {
        let to = match to {
            Some(raw) => parse_date("to", raw)?,
            None => today,
        };
        let from = match from {
            Some(raw) => parse_date("from", raw)?,
            // `to` may be the earliest representable date (`-9999-01-01`): no 30 days before it.
            None => to
                .checked_sub(Duration::days(DEFAULT_RANGE_DAYS - 1))
                .ok_or_else(|| DomainError::new("to", "is too early for a default from"))?,
        };
        if from > to {
            return Err(DomainError::new("from", "must not be after to"));
        }
        if (to - from).whole_days() + 1 > MAX_RANGE_DAYS {
            return Err(DomainError::new(
                "to",
                format!("the range from..to may cover at most {MAX_RANGE_DAYS} days"),
            ));
        }
        Ok(Self { from, to })
    }

    pub fn from_day(&self) -> String {
        format_day(self.from)
    }

    pub fn to_day(&self) -> String {
        format_day(self.to)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    const TODAY: Date = date!(2026 - 02 - 25);

    #[test]
    fn defaults_to_the_last_thirty_days() {
        let r = DayRange::parse(None, None, TODAY).unwrap();
        assert_eq!(r.from_day(), "2026-01-27");
        assert_eq!(r.to_day(), "2026-02-25");
        let r = DayRange::parse(None, Some("2026-01-30"), TODAY).unwrap();
        assert_eq!(r.from_day(), "2026-01-01");
    }

    #[test]
    fn accepts_dates_and_timestamps() {
        let r =
            DayRange::parse(Some("2026-02-01T23:30:00-02:00"), Some("2026-02-10"), TODAY).unwrap();
        assert_eq!(r.from_day(), "2026-02-02", "converted to UTC first");
        assert_eq!(r.to_day(), "2026-02-10");
    }

    #[test]
    fn refuses_bad_ranges_naming_the_parameter() {
        let table = [
            (Some("yesterday"), None, "from"),
            (None, Some("2026-13-01"), "to"),
            (Some("2026-02-11"), Some("2026-02-10"), "from"),
            (Some("2025-02-24"), Some("2026-02-25"), "to"),
            // The earliest date there is: no default `from` 29 days before it.
            (None, Some("-9999-01-01"), "to"),
        ];
        for (from, to, field) in table {
            let e = DayRange::parse(from, to, TODAY).unwrap_err();
            assert_eq!(e.field, field, "{from:?} {to:?}");
        }
        // Exactly 366 days is allowed.
        assert!(DayRange::parse(Some("2025-02-25"), Some("2026-02-25"), TODAY).is_ok());
    }

    #[test]
    fn days_of_timestamps() {
        assert_eq!(
            day_of_rfc3339("2026-02-25T23:59:59Z").as_deref(),
            Some("2026-02-25")
        );
        assert_eq!(day_of_rfc3339("nope"), None);
        assert_eq!(day_of_unix(0), "1970-01-01");
        assert_eq!(end_of_day_unix("1970-01-01"), Some(86_400));
        assert_eq!(end_of_day_unix("x"), None);
    }
}
