//! A spreadsheet's cells as values: what a tool's dashboard wrote, or the same file once opened
//! and saved again in Excel or Numbers (grouped numbers, a currency's symbol, a date in the
//! writer's own order). Each reader answers the value or why not, in words; none guesses
//! where two readings are possible (a bare `03/04/2026` is read as the file's convention
//! says, [`DateOrder`]). Money is whole minor units, never a float.

use time::{Date, Month, PrimitiveDateTime, Time};

use crate::domain::time::Timestamp;

/// What a cell is once a formula guard is undone: a tool that writes `'` before a cell starting
/// with `=`, `+`, `-`, `@`, a tab or a line break (so a spreadsheet does not run it as a
/// formula, as Dub's exports do) meant the text after it.
pub fn unguarded(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r', '\n']) => rest,
        _ => cell,
    }
}

/// The most characters of a cell a message quotes: a report names the cell, it does not carry
/// it (a cell may be megabytes, and the report is kept in one store item).
pub const QUOTED_CHARS: usize = 80;

/// `cell` as a message quotes it: in single quotes, its first [`QUOTED_CHARS`] characters and
/// "…" when it is longer.
pub fn quoted(cell: &str) -> String {
    format!("'{}'", shortened(cell, QUOTED_CHARS))
}

/// `text`'s first `chars` characters, and "…" when it had more (cut between characters).
pub fn shortened(text: &str, chars: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(chars) {
        None => text.into(),
        Some((at, _)) => format!("{}…", &text[..at]).into(),
    }
}

/// Characters that group thousands in the styles spreadsheets write (`1,234`, `1.234`,
/// `1 234`, `1'234`, and the no-break spaces of French locales).
const GROUPING: [char; 5] = [',', '.', ' ', '\'', '\u{a0}'];

/// `1234`, `1,234`, `1.234` or `1 234` as a whole count (clicks, leads).
pub fn whole_count(cell: &str, what: &str) -> Result<u64, String> {
    let text = cell.trim().replace('\u{202f}', " ");
    let refuse = || format!("{} is not a whole number of {what}", quoted(cell));
    if text.is_empty() {
        return Err(refuse());
    }
    if text.chars().all(|c| c.is_ascii_digit()) {
        return text.parse().map_err(|_| refuse());
    }
    // Grouped: every group after the first holds three digits, with one kind of separator.
    let sep = text
        .chars()
        .find(|c| GROUPING.contains(c))
        .ok_or_else(refuse)?;
    let groups: Vec<&str> = text.split(sep).collect();
    let grouped = groups[0].len() <= 3
        && !groups[0].is_empty()
        && groups[1..].iter().all(|g| g.len() == 3)
        && groups.iter().all(|g| g.chars().all(|c| c.is_ascii_digit()));
    if !grouped {
        return Err(refuse());
    }
    groups.concat().parse().map_err(|_| refuse())
}

/// A currency amount as minor units of a currency of two decimals: `$1,234.50`, `1.234,50 €`,
/// `USD 12`, or a bare whole number read as minor units already (`123450`: cents, as exports
/// wrote money before they formatted it). `currency` is the one symbol or code taken.
pub fn money_minor(cell: &str, currency: &Currency) -> Result<i64, String> {
    let raw = cell.trim();
    let refuse = |why: &str| {
        format!(
            "{} is not an amount of {}: {why}",
            quoted(cell),
            currency.name
        )
    };
    let (negative, text) = match raw.strip_prefix('-') {
        Some(rest) => (true, rest.trim()),
        None => (false, raw),
    };
    let mut text = text.to_owned();
    let mut marked = false;
    for mark in currency.marks {
        if let Some(rest) = text.strip_prefix(mark).or_else(|| text.strip_suffix(mark)) {
            text = rest.trim().to_owned();
            marked = true;
            break;
        }
    }
    let text = text.trim_start_matches('-');
    if text.is_empty()
        || text
            .chars()
            .any(|c| !c.is_ascii_digit() && !GROUPING.contains(&c))
    {
        return Err(refuse("write it as 1234.50"));
    }
    // The decimal separator is the last `.` or `,` followed by one or two digits to the end.
    let decimal_at = text
        .rfind(['.', ','])
        .filter(|&i| (1..=2).contains(&(text.len() - i - 1)));
    let (whole, cents) = match decimal_at {
        Some(i) => {
            if text[..i].contains(&text[i..=i]) {
                return Err(refuse("its decimal mark is also its thousands' separator"));
            }
            let frac = &text[i + 1..];
            let cents: i64 = format!("{frac:0<2}")
                .parse()
                .map_err(|_| refuse("not a number"))?;
            (&text[..i], cents)
        }
        None if !marked && text.chars().all(|c| c.is_ascii_digit()) => {
            // A bare whole number: minor units, as the export wrote them.
            let minor: i64 = text.parse().map_err(|_| refuse("too large"))?;
            return Ok(if negative { -minor } else { minor });
        }
        None => (text, 0),
    };
    let units = if whole.is_empty() {
        0
    } else {
        whole_count(whole, "units")
            .map_err(|_| refuse("its digits are not grouped by thousands"))?
    };
    let minor = i64::try_from(units)
        .ok()
        .and_then(|u| u.checked_mul(100))
        .and_then(|u| u.checked_add(cents))
        .ok_or_else(|| refuse("too large"))?;
    Ok(if negative { -minor } else { minor })
}

/// A currency as a file writes it: its name in words and the marks an amount may carry.
pub struct Currency {
    pub code: &'static str,
    pub name: &'static str,
    pub marks: &'static [&'static str],
}

/// US dollars, as Dub's exports format money (`$1,234.50`).
pub const USD: Currency = Currency {
    code: "USD",
    name: "US dollars",
    marks: &["US$", "USD", "$"],
};

/// How a date written with slashes is read: `03/04/2026` is the 4th of March where the US
/// convention holds, the 3rd of April where the day comes first (a semicolon-separated file:
/// Excel in Europe).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateOrder {
    MonthFirst,
    DayFirst,
}

/// A date or time as exports and spreadsheets write it, as UTC when it names no zone:
/// RFC 3339 (`2026-03-14T10:22:00.000Z`), `2026-03-14 10:22[:00]`, `2026-03-14`,
/// `03/14/2026 [10:22]` (by `order`), `14.03.2026`, `Mar 14, 2026`, `14 March 2026`.
pub fn date_time(cell: &str, order: DateOrder) -> Result<Timestamp, String> {
    let text = cell.trim();
    if let Some(t) = Timestamp::parse(text) {
        return Ok(t);
    }
    let refuse = || {
        format!(
            "{} is not a date 10x can read: write it as 2026-03-14",
            quoted(cell)
        )
    };
    let (date_part, time_part) = match text.split_once(['T', ' ']) {
        Some((d, t)) if d.contains(['-', '/', '.']) => (d, Some(t.trim())),
        _ => (text, None),
    };
    let date = numeric_date(date_part, order)
        .or_else(|| worded_date(text))
        .ok_or_else(refuse)?;
    let time = match time_part {
        Some(t) if numeric_date(date_part, order).is_some() => clock(t).ok_or_else(refuse)?,
        _ => Time::MIDNIGHT,
    };
    Ok(Timestamp::at(
        PrimitiveDateTime::new(date, time).assume_utc(),
    ))
}

fn numeric_date(text: &str, order: DateOrder) -> Option<Date> {
    let sep = text.chars().find(|c| ['-', '/', '.'].contains(c))?;
    let parts: Vec<u32> = text
        .split(sep)
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [a, b, c] = parts[..] else { return None };
    let (year, month, day) = if text.split(sep).next()?.len() == 4 {
        (a, b, c)
    } else if sep == '.' || order == DateOrder::DayFirst || a > 12 {
        (c, b, a)
    } else {
        (c, a, b)
    };
    let year = i32::try_from(if year < 100 { year + 2000 } else { year }).ok()?;
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()
}

/// `10:22`, `10:22:05`, `10:22:05.123`, `10:22 PM`.
fn clock(text: &str) -> Option<Time> {
    let lower = text.to_ascii_lowercase();
    let (text, pm) = match (lower.strip_suffix("pm"), lower.strip_suffix("am")) {
        (Some(t), _) => (t.trim().to_owned(), Some(true)),
        (_, Some(t)) => (t.trim().to_owned(), Some(false)),
        _ => (lower.trim_end_matches('z').to_owned(), None),
    };
    let mut parts = text.split(':');
    let mut hour: u8 = parts.next()?.parse().ok()?;
    let minute: u8 = parts.next()?.parse().ok()?;
    let second: u8 = match parts.next() {
        Some(s) => s.split('.').next()?.parse().ok()?,
        None => 0,
    };
    match pm {
        Some(true) if hour < 12 => hour += 12,
        Some(false) if hour == 12 => hour = 0,
        _ => {}
    }
    Time::from_hms(hour, minute, second).ok()
}

/// `Mar 14, 2026`, `March 14 2026`, `14 Mar 2026`.
fn worded_date(text: &str) -> Option<Date> {
    let words: Vec<String> = text
        .split([' ', ','])
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let [a, b, c] = &words[..] else { return None };
    let (month, day) = match (month_named(a), month_named(b)) {
        (Some(m), _) => (m, b),
        (_, Some(m)) => (m, a),
        _ => return None,
    };
    let year: i32 = c.parse().ok()?;
    Date::from_calendar_date(year, month, day.parse().ok()?).ok()
}

fn month_named(word: &str) -> Option<Month> {
    const NAMES: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let i = NAMES.iter().position(|n| word.starts_with(n))?;
    Month::try_from(u8::try_from(i + 1).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_in_each_grouping() {
        for (text, n) in [("1234", 1234), ("1,234", 1234), ("1.234.567", 1_234_567)] {
            assert_eq!(whole_count(text, "clicks"), Ok(n), "{text}");
        }
        assert_eq!(whole_count("1 234", "clicks"), Ok(1234));
        assert_eq!(whole_count("12\u{a0}345", "clicks"), Ok(12345));
        for bad in ["", "12.5", "1,23", "-3", "ten", "1,234.5"] {
            assert!(whole_count(bad, "clicks").is_err(), "{bad}");
        }
    }

    #[test]
    fn money_as_formatted_and_as_cents() {
        let cases = [
            ("$1,234.50", 123_450),
            ("$0.99", 99),
            ("$12", 1200),
            ("123450", 123_450),
            ("1.234,50 USD", 123_450),
            ("USD 7.5", 750),
            ("-$3.00", -300),
            ("$1,234", 123_400),
        ];
        for (text, minor) in cases {
            assert_eq!(money_minor(text, &USD), Ok(minor), "{text}");
        }
        for bad in ["€12", "$1.234.5", "12.345.6", "", "$", "1e5"] {
            assert!(money_minor(bad, &USD).is_err(), "{bad}");
        }
    }

    #[test]
    fn dates_in_each_style() {
        let day = |t: Result<Timestamp, String>| t.unwrap().as_str()[..10].to_owned();
        let us = DateOrder::MonthFirst;
        assert_eq!(day(date_time("2026-03-14T10:22:00.000Z", us)), "2026-03-14");
        assert_eq!(day(date_time("2026-03-14 10:22", us)), "2026-03-14");
        assert_eq!(day(date_time("2026-03-14", us)), "2026-03-14");
        assert_eq!(day(date_time("03/04/2026", us)), "2026-03-04");
        assert_eq!(
            day(date_time("03/04/2026", DateOrder::DayFirst)),
            "2026-04-03"
        );
        assert_eq!(day(date_time("14/03/2026", us)), "2026-03-14");
        assert_eq!(day(date_time("14.03.2026", us)), "2026-03-14");
        assert_eq!(day(date_time("Mar 14, 2026", us)), "2026-03-14");
        assert_eq!(day(date_time("14 March 2026", us)), "2026-03-14");
        let t = date_time("3/14/2026 10:22 PM", us).unwrap();
        assert_eq!(t.as_str(), "2026-03-14T22:22:00Z");
        for bad in ["yesterday", "2026-02-30", "13/13/2026", "14/03"] {
            assert!(date_time(bad, us).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_long_cell_is_quoted_by_its_first_80_characters() {
        assert_eq!(quoted("abc"), "'abc'");
        let exact = "é".repeat(QUOTED_CHARS);
        assert_eq!(quoted(&exact), format!("'{exact}'"));
        // Cut between characters, never inside one (each `é` is two bytes).
        let long = "é".repeat(410_000);
        assert_eq!(quoted(&long), format!("'{}…'", "é".repeat(QUOTED_CHARS)));
        let refused = whole_count(&"x".repeat(5_000), "clicks").unwrap_err();
        assert!(refused.len() < 200, "{refused}");
        assert!(refused.starts_with(&format!("'{}…'", "x".repeat(QUOTED_CHARS))));
    }

    #[test]
    fn formula_guards_are_undone() {
        assert_eq!(unguarded("'=HYPERLINK(1)"), "=HYPERLINK(1)");
        assert_eq!(unguarded("'-3"), "-3");
        assert_eq!(unguarded("'quoted'"), "'quoted'");
        assert_eq!(unguarded("plain"), "plain");
    }
}
