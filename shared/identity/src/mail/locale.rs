//! The locales mail is written in (a handle's branding setting, `en` unless set): how amounts,
//! counts and dates are written. A small table (CLDR's patterns for these three) rather than a
//! locale crate: three locales need three lines each, and ICU's data would weigh more than the
//! mail room. The words themselves stay English (the templates).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A locale a handle may choose for its mail.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    En,
    De,
    Fr,
}

/// How one locale writes numbers and dates (CLDR's).
struct Table {
    /// Between groups of three digits.
    group: &'static str,
    decimal: char,
    /// Whether a currency's symbol follows the amount (`1.234,50 €`) or leads it (`$1,234.50`).
    symbol_after: bool,
    months: [&'static str; 12],
    /// The day's suffix: `26. November` in German.
    day_suffix: &'static str,
}

/// A no-break space: an amount and its symbol stay on one line.
const NBSP: &str = "\u{a0}";
/// CLDR's French group separator, a narrow no-break space.
const NNBSP: &str = "\u{202f}";

impl Locale {
    pub const ALL: [Locale; 3] = [Locale::En, Locale::De, Locale::Fr];

    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::De => "de",
            Locale::Fr => "fr",
        }
    }

    /// A locale by its code, exactly as written (`en`, `de`, `fr`); `None` when not one mail is
    /// written in.
    pub fn parse(s: &str) -> Option<Locale> {
        Locale::ALL.into_iter().find(|l| l.as_str() == s)
    }

    fn table(self) -> Table {
        match self {
            Locale::En => Table {
                group: ",",
                decimal: '.',
                symbol_after: false,
                months: [
                    "January",
                    "February",
                    "March",
                    "April",
                    "May",
                    "June",
                    "July",
                    "August",
                    "September",
                    "October",
                    "November",
                    "December",
                ],
                day_suffix: "",
            },
            Locale::De => Table {
                group: ".",
                decimal: ',',
                symbol_after: true,
                months: [
                    "Januar",
                    "Februar",
                    "März",
                    "April",
                    "Mai",
                    "Juni",
                    "Juli",
                    "August",
                    "September",
                    "Oktober",
                    "November",
                    "Dezember",
                ],
                day_suffix: ".",
            },
            Locale::Fr => Table {
                group: NNBSP,
                decimal: ',',
                symbol_after: true,
                months: [
                    "janvier",
                    "février",
                    "mars",
                    "avril",
                    "mai",
                    "juin",
                    "juillet",
                    "août",
                    "septembre",
                    "octobre",
                    "novembre",
                    "décembre",
                ],
                day_suffix: "",
            },
        }
    }

    /// A whole number with its groups: `1,234` (en), `1.234` (de), `1 234` (fr).
    pub fn count(self, n: i128) -> String {
        let digits = n.unsigned_abs().to_string();
        let sign = if n < 0 { "-" } else { "" };
        format!("{sign}{}", group(&digits, self.table().group))
    }

    /// An amount of `currency` to the cent: `$1,234.50`, `1.234,50 €`, `1 234,50 €`, and a
    /// currency without a symbol by its code (`3.00 CHF`).
    pub fn money(self, value: Decimal, currency: &str) -> String {
        let t = self.table();
        let negative = value.is_sign_negative() && !value.is_zero();
        let fixed = format!("{:.2}", value.abs().round_dp(2));
        let (int, frac) = fixed.split_once('.').unwrap_or((&fixed, "00"));
        let number = format!("{}{}{frac}", group(int, t.group), t.decimal);
        let sign = if negative { "-" } else { "" };
        match (symbol(currency), t.symbol_after) {
            (Some(s), false) => format!("{sign}{s}{number}"),
            (Some(s), true) => format!("{sign}{number}{NBSP}{s}"),
            (None, _) if currency.is_empty() => format!("{sign}{number}"),
            (None, _) => format!("{sign}{number}{NBSP}{currency}"),
        }
    }

    /// A day: `26 November 2026`, `26. November 2026`, `26 novembre 2026`.
    pub fn date(self, d: time::Date) -> String {
        let t = self.table();
        let month = t.months[usize::from(u8::from(d.month())) - 1];
        format!("{}{} {month} {}", d.day(), t.day_suffix, d.year())
    }
}

impl std::fmt::Display for Locale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn group(digits: &str, sep: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * sep.len());
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(sep);
        }
        out.push(c);
    }
    out
}

/// The symbols mail writes; other currencies go by their code.
fn symbol(currency: &str) -> Option<&'static str> {
    match currency {
        "USD" => Some("$"),
        "EUR" => Some("€"),
        "GBP" => Some("£"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn day() -> time::Date {
        time::Date::from_calendar_date(2026, time::Month::March, 5).unwrap()
    }

    #[test]
    fn english_writes_symbols_first_commas_and_points() {
        let en = Locale::En;
        assert_eq!(en.money(d("1234567.5"), "USD"), "$1,234,567.50");
        assert_eq!(en.money(d("1234.5"), "EUR"), "€1,234.50");
        assert_eq!(en.money(d("999"), "GBP"), "£999.00");
        assert_eq!(en.money(d("-3"), "CHF"), "-3.00\u{a0}CHF");
        assert_eq!(
            en.money(d("0.005"), "USD"),
            "$0.00",
            "to the cent, banker's rounding"
        );
        assert_eq!(en.count(1_234_567), "1,234,567");
        assert_eq!(en.count(-12), "-12");
        assert_eq!(en.date(day()), "5 March 2026");
    }

    #[test]
    fn german_writes_points_commas_and_symbols_after() {
        let de = Locale::De;
        assert_eq!(de.money(d("1234.5"), "EUR"), "1.234,50\u{a0}€");
        assert_eq!(de.money(d("1234567.891"), "USD"), "1.234.567,89\u{a0}$");
        assert_eq!(de.money(d("-3"), "CHF"), "-3,00\u{a0}CHF");
        assert_eq!(de.count(1_234_567), "1.234.567");
        assert_eq!(de.date(day()), "5. März 2026");
    }

    #[test]
    fn french_writes_narrow_spaces_commas_and_symbols_after() {
        let fr = Locale::Fr;
        assert_eq!(fr.money(d("1234.5"), "EUR"), "1\u{202f}234,50\u{a0}€");
        assert_eq!(fr.money(d("12"), "GBP"), "12,00\u{a0}£");
        assert_eq!(fr.count(1_234_567), "1\u{202f}234\u{202f}567");
        assert_eq!(fr.count(999), "999");
        let aug = time::Date::from_calendar_date(2026, time::Month::August, 1).unwrap();
        assert_eq!(fr.date(aug), "1 août 2026");
    }

    #[test]
    fn a_locale_is_parsed_by_its_code_and_an_unknown_one_is_none() {
        assert_eq!(Locale::parse("de"), Some(Locale::De));
        assert_eq!(Locale::parse("fr"), Some(Locale::Fr));
        assert_eq!(Locale::parse("FR"), None, "as the contract writes it");
        assert_eq!(Locale::parse("de-AT"), None);
        assert_eq!(Locale::parse("xx"), None);
        assert_eq!(Locale::parse(""), None);
        assert_eq!(Locale::default(), Locale::En);
    }
}
