//! Tax ids a partner gives in its tax profile (issue 61), checked by their format and, where the
//! number carries one, its check digits, so a typo is caught where it is typed rather than at
//! year-end. EU VAT numbers: each member state's format (the `EL` prefix for Greece), and the
//! check digits of Germany, France (numeric keys), Italy, the Netherlands (the MOD 11 and the
//! 2020 MOD 97 numbers), Belgium and Austria; the other states by format only (their numbers
//! are checked against VIES by the program, not here). US: a SSN or an EIN, nine digits with
//! the blocks the SSA and IRS never issue refused.

use super::error::DomainError;

/// A VAT number as written: spaces, dots and hyphens dropped, upper-case.
fn compact(raw: &str) -> String {
    raw.chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-'))
        .collect::<String>()
        .to_ascii_uppercase()
}

fn digits(s: &str) -> Option<Vec<u32>> {
    s.chars().map(|c| c.to_digit(10)).collect()
}

/// Each state's numbers after the prefix: `d` a digit, `a` a letter, `x` either; `|` between
/// alternatives.
const FORMATS: &[(&str, &str)] = &[
    ("AT", "Udddddddd"),
    ("BE", "dddddddddd"),
    ("BG", "ddddddddd|dddddddddd"),
    ("CY", "dddddddda"),
    ("CZ", "dddddddd|ddddddddd|dddddddddd"),
    ("DE", "ddddddddd"),
    ("DK", "dddddddd"),
    ("EE", "ddddddddd"),
    ("EL", "ddddddddd"),
    ("ES", "xdddddddx"),
    ("FI", "dddddddd"),
    ("FR", "xxddddddddd"),
    ("HR", "ddddddddddd"),
    ("HU", "dddddddd"),
    ("IE", "dxxddddda|dddddddaa|dddddddax"),
    ("IT", "ddddddddddd"),
    ("LT", "ddddddddd|dddddddddddd"),
    ("LU", "dddddddd"),
    ("LV", "ddddddddddd"),
    ("MT", "dddddddd"),
    ("NL", "dddddddddBdd"),
    ("PL", "dddddddddd"),
    ("PT", "ddddddddd"),
    (
        "RO",
        "dd|ddd|dddd|ddddd|dddddd|ddddddd|dddddddd|ddddddddd|dddddddddd",
    ),
    ("SE", "dddddddddd01"),
    ("SI", "dddddddd"),
    ("SK", "dddddddddd"),
];

fn fits(pattern: &str, number: &str) -> bool {
    pattern.split('|').any(|alt| {
        alt.len() == number.len()
            && alt.chars().zip(number.chars()).all(|(p, c)| match p {
                'd' => c.is_ascii_digit(),
                'a' => c.is_ascii_uppercase(),
                'x' => c.is_ascii_alphanumeric(),
                lit => c == lit,
            })
    })
}

/// The check digits of the states whose numbers carry them (true when there is none to check).
fn check_digits(prefix: &str, n: &str) -> bool {
    match prefix {
        "DE" => digits(n).is_some_and(|d| {
            let mut product = 10;
            for x in &d[..8] {
                let mut sum = (x + product) % 10;
                if sum == 0 {
                    sum = 10;
                }
                product = (2 * sum) % 11;
            }
            (11 - product) % 10 == d[8]
        }),
        "FR" => match (n[..2].parse::<u64>(), n[2..].parse::<u64>()) {
            (Ok(key), Ok(siren)) => key == (12 + 3 * (siren % 97)) % 97,
            // A key with letters (numbers issued since 2000s): its format only.
            _ => true,
        },
        "IT" => digits(n).is_some_and(|d| {
            let sum: u32 = d[..10]
                .iter()
                .enumerate()
                .map(|(i, &x)| match (i % 2, x * 2) {
                    (0, _) => x,
                    (_, p) if p > 9 => p - 9,
                    (_, p) => p,
                })
                .sum();
            (10 - sum % 10) % 10 == d[10]
        }),
        "NL" => nl_mod11(n) || nl_mod97(n),
        "BE" => match (n[..8].parse::<u64>(), n[8..].parse::<u64>()) {
            (Ok(body), Ok(check)) => 97 - body % 97 == check,
            _ => false,
        },
        "AT" => digits(&n[1..]).is_some_and(|d| {
            let sum: u32 = d[..7]
                .iter()
                .enumerate()
                .map(|(i, &x)| {
                    if i % 2 == 1 {
                        (x * 2) / 10 + (x * 2) % 10
                    } else {
                        x
                    }
                })
                .sum();
            (10 - (sum + 4) % 10) % 10 == d[7]
        }),
        _ => true,
    }
}

/// The Dutch numbers issued before 2020: the first eight digits weighted 9 to 2, MOD 11.
fn nl_mod11(n: &str) -> bool {
    digits(&n[..9]).is_some_and(|d| {
        let sum: u32 = d[..8].iter().zip((2..=9).rev()).map(|(x, w)| x * w).sum();
        sum % 11 == d[8]
    })
}

/// The Dutch numbers issued since 2020: `NL` and the number, letters as numbers (A = 10 …),
/// MOD 97 is 1.
fn nl_mod97(n: &str) -> bool {
    let text: String = format!("NL{n}")
        .chars()
        .map(|c| c.to_digit(36).map_or_else(String::new, |v| v.to_string()))
        .collect();
    text.chars()
        .filter_map(|c| c.to_digit(10))
        .fold(0u32, |r, d| (r * 10 + d) % 97)
        == 1
}

/// An EU VAT number: its prefix names a member state, its number fits that state's format and
/// its check digits hold. Answers it compact (`DE136695976`) with its state's ISO country
/// (`GR` for `EL`).
pub fn vat_id(field: &str, raw: &str) -> Result<(String, &'static str), DomainError> {
    let v = compact(raw);
    let bad = |why: &str| Err(DomainError::new(field, why));
    if v.len() < 4 || !v.is_ascii() {
        return bad("must be an EU VAT number: its country's two letters, then its number.");
    }
    let (prefix, number) = v.split_at(2);
    let Some((state, pattern)) = FORMATS.iter().find(|(p, _)| *p == prefix) else {
        return bad("must start with an EU member state's VAT prefix (DE, FR, EL for Greece, …).");
    };
    if !fits(pattern, number) {
        return bad("is not in its country's VAT number format.");
    }
    if !check_digits(prefix, number) {
        return bad("has check digits that do not match: a digit is mistyped.");
    }
    let country = if *state == "EL" { "GR" } else { state };
    Ok((v, country))
}

/// A US taxpayer id: a SSN (`123-45-6789`) or an EIN (`12-3456789`), nine digits; the blocks
/// never issued (area 000, 666 or 9xx, group 00, serial 0000 of a SSN; an EIN of zeros) are
/// refused. Answers the nine digits.
pub fn us_tin(field: &str, raw: &str) -> Result<String, DomainError> {
    let d: String = raw.chars().filter(|c| *c != '-' && *c != ' ').collect();
    let shaped = d.len() == 9 && d.bytes().all(|b| b.is_ascii_digit());
    let ssn_like = raw.len() == 11 && raw.as_bytes()[3] == b'-' && raw.as_bytes()[6] == b'-';
    if !shaped {
        return Err(DomainError::new(
            field,
            "must be a SSN (123-45-6789) or an EIN (12-3456789): nine digits.",
        ));
    }
    let never = if ssn_like {
        let (area, group, serial) = (&d[..3], &d[3..5], &d[5..]);
        area == "000" || area == "666" || area.starts_with('9') || group == "00" || serial == "0000"
    } else {
        d == "000000000"
    };
    if never {
        return Err(DomainError::new(field, "is a number that is never issued."));
    }
    Ok(d)
}

/// An ISO 3166-1 alpha-2 country as written (two letters), upper-case.
pub fn country(field: &str, raw: &str) -> Result<String, DomainError> {
    let c = raw.trim().to_ascii_uppercase();
    if c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(c)
    } else {
        Err(DomainError::new(
            field,
            "must be a country's two letters (US, DE, …).",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_vat_numbers_pass_and_one_digit_off_fails() {
        for (ok, country) in [
            ("DE136695976", "DE"),
            ("DE 136 695 976", "DE"),
            ("FR40303265045", "FR"),
            ("IT00743110157", "IT"),
            ("NL004495445B01", "NL"),
            ("BE0403170701", "BE"),
            ("ATU13585627", "AT"),
            ("EL123456789", "GR"),
            ("ESX1234567X", "ES"),
        ] {
            assert_eq!(vat_id("vatId", ok).expect(ok).1, country, "{ok}");
        }
        for bad in [
            "DE136695977",
            "FR41303265045",
            "IT00743110158",
            "NL004495446B01",
            "BE0403170702",
            "ATU13585628",
            "DE13669597",
            "GR123456789",
            "US123456789",
            "XX",
            "DE13669597\u{0665}",
        ] {
            assert_eq!(vat_id("vatId", bad).unwrap_err().field, "vatId", "{bad}");
        }
    }

    #[test]
    fn us_tins_are_nine_digits_never_of_a_block_never_issued() {
        assert_eq!(us_tin("taxId", "123-45-6789").unwrap(), "123456789");
        assert_eq!(us_tin("taxId", "12-3456789").unwrap(), "123456789");
        for bad in [
            "000-12-3456",
            "666-12-3456",
            "912-34-5678",
            "123-00-4567",
            "123-45-0000",
            "12345678",
            "12-345678a",
            "00-0000000",
        ] {
            assert!(us_tin("taxId", bad).is_err(), "{bad}");
        }
    }
}
