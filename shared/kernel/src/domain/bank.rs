//! Payout details, validated and masked (issue 46): an IBAN (ISO 13616: its country's length
//! and BBAN structure from the SWIFT IBAN registry, check digits 02 to 98 and the mod-97
//! check), a BIC (ISO 9362 shape), an email, an account holder's name; for SEPA (issue 57) an
//! IBAN of a SEPA country and a name SEPA's character set can write. Pure: nothing here is
//! stored or sent.

use super::DomainError;

/// IBAN length per country (the ISO 13616 registry, SWIFT, release 2024).
#[rustfmt::skip]
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24), ("AE", 23), ("AL", 28), ("AT", 20), ("AZ", 28), ("BA", 20), ("BE", 16),
    ("BG", 22), ("BH", 22), ("BI", 27), ("BR", 29), ("BY", 28), ("CH", 21), ("CR", 22),
    ("CY", 28), ("CZ", 24), ("DE", 22), ("DJ", 27), ("DK", 18), ("DO", 28), ("EE", 20),
    ("EG", 29), ("ES", 24), ("FI", 18), ("FK", 18), ("FO", 18), ("FR", 27), ("GB", 22),
    ("GE", 22), ("GI", 23), ("GL", 18), ("GR", 27), ("GT", 28), ("HN", 28), ("HR", 21),
    ("HU", 28), ("IE", 22), ("IL", 23), ("IQ", 23), ("IS", 26), ("IT", 27), ("JO", 30),
    ("KW", 30), ("KZ", 20), ("LB", 28), ("LC", 32), ("LI", 21), ("LT", 20), ("LU", 20),
    ("LV", 21), ("LY", 25), ("MC", 27), ("MD", 24), ("ME", 22), ("MK", 19), ("MN", 20),
    ("MR", 27), ("MT", 31), ("MU", 30), ("NI", 28), ("NL", 18), ("NO", 15), ("OM", 23),
    ("PK", 24), ("PL", 28), ("PS", 29), ("PT", 25), ("QA", 29), ("RO", 24), ("RS", 22),
    ("RU", 33), ("SA", 24), ("SC", 31), ("SD", 18), ("SE", 24), ("SI", 19), ("SK", 24),
    ("SM", 27), ("SO", 23), ("ST", 25), ("SV", 28), ("TL", 23), ("TN", 24), ("TR", 26),
    ("UA", 29), ("VA", 22), ("VG", 24), ("XK", 20), ("YE", 30),
];

/// Countries whose banks may carry another country's BIC for the same IBAN country (the French
/// overseas departments and Monaco, the Crown dependencies, Åland).
#[rustfmt::skip]
const BIC_GROUPS: &[&[&str]] = &[
    &["FR", "MC", "GF", "GP", "MQ", "RE", "YT", "PM", "BL", "MF", "NC", "PF", "WF"],
    &["GB", "JE", "GG", "IM"],
    &["FI", "AX"],
];

/// A valid IBAN in its electronic form (upper case, no spaces).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Iban(String);

impl Iban {
    /// Spaces are allowed and dropped, letters upper-cased; then the country's length, the
    /// check digits (02 to 98, mod-97 of ISO 7064) and the country's BBAN structure (the
    /// registry's, by `iban_validate`: digits where digits belong) must hold. Errors name
    /// `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        let iban: String = raw
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if iban.len() < 5 || !iban.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(DomainError::new(
                field,
                "is not an IBAN: a country code, 2 check digits and the account number.",
            ));
        }
        let country = &iban[..2];
        let Some((_, want)) = IBAN_LENGTHS.iter().find(|(c, _)| *c == country) else {
            return Err(DomainError::new(
                field,
                format!("`{country}` is not a country that issues IBANs."),
            ));
        };
        if iban.len() != *want {
            return Err(DomainError::new(
                field,
                format!(
                    "a {country} IBAN has {want} characters; this one has {}.",
                    iban.len()
                ),
            ));
        }
        check_digits(field, &iban)?;
        // A country our table knows and the crate's registry does not (PK) keeps the checks
        // above; only a structure the registry states and the IBAN breaks is refused.
        if let Err(iban::ParseIbanError::InvalidBban(_)) = iban.parse::<iban::Iban>() {
            return Err(DomainError::new(
                field,
                format!(
                    "the account number does not have the structure of a {country} IBAN (the SWIFT IBAN registry): a letter where a digit belongs?"
                ),
            ));
        }
        Ok(Self(iban))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn country(&self) -> &str {
        &self.0[..2]
    }

    /// Whether a SEPA transfer reaches this account (its country is in SEPA).
    pub fn is_sepa(&self) -> bool {
        super::sepa::is_sepa_country(self.country())
    }

    pub fn last4(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }

    /// `DE89 **** **** 3000`: the country and check digits, then the last four.
    pub fn masked(&self) -> String {
        format!("{} **** **** {}", &self.0[..4], self.last4())
    }
}

/// Check digits 02 to 98 (ISO 13616 computes them as 98 minus a remainder mod 97: 00, 01 and
/// 99 are never issued, though 99 passes mod-97 where 02 belongs), and the mod-97 check.
fn check_digits(field: &str, iban: &str) -> Result<(), DomainError> {
    let digits = &iban[2..4];
    let issued = digits
        .parse::<u8>()
        .is_ok_and(|d| (2..=98).contains(&d) && digits.bytes().all(|b| b.is_ascii_digit()));
    if !issued {
        return Err(DomainError::new(
            field,
            format!("the check digits `{digits}` are never issued (ISO 13616: 02 to 98): a typo?"),
        ));
    }
    if mod97(iban) != 1 {
        return Err(DomainError::new(
            field,
            "the check digits do not match (ISO 13616 mod-97): a typo?",
        ));
    }
    Ok(())
}

/// The IBAN's remainder mod 97, its first four characters moved to the end and letters as
/// 10 … 35, digit by digit (no big integers).
fn mod97(iban: &str) -> u32 {
    let (head, tail) = iban.split_at(4);
    tail.chars().chain(head.chars()).fold(0u32, |acc, c| {
        let v = c.to_digit(36).unwrap_or(0);
        if v >= 10 {
            (acc * 100 + v) % 97
        } else {
            (acc * 10 + v) % 97
        }
    })
}

/// A BIC (ISO 9362): 4 letters (the bank), 2 letters (its country), 2 letters or digits (the
/// location; not `0` second nor `1` first, as SEPA's schema says), 3 optional (the branch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bic(String);

impl Bic {
    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        let bic: String = raw
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let b = bic.as_bytes();
        let shape = (b.len() == 8 || b.len() == 11)
            && b[..6].iter().all(u8::is_ascii_uppercase)
            && (b[6].is_ascii_uppercase() || (b'2'..=b'9').contains(&b[6]))
            && (b[7].is_ascii_digit() || (b[7].is_ascii_uppercase() && b[7] != b'O'))
            && b[8..].iter().all(u8::is_ascii_alphanumeric);
        if !shape {
            return Err(DomainError::new(
                field,
                "is not a BIC: 8 or 11 characters, e.g. DEUTDEFF or DEUTDEFF500.",
            ));
        }
        Ok(Self(bic))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn country(&self) -> &str {
        &self.0[4..6]
    }

    /// Whether this BIC's country may serve an account of `iban`'s.
    pub fn fits(&self, iban: &Iban) -> bool {
        let (a, b) = (self.country(), iban.country());
        a == b || BIC_GROUPS.iter().any(|g| g.contains(&a) && g.contains(&b))
    }
}

/// An email address (a PayPal payout's), by `domain::email`'s rule; the domain lower-cased.
pub fn email(field: &str, raw: &str) -> Result<String, DomainError> {
    // The one address rule (issue 57: no markup, RFC 5321 local parts), as for applications
    // and partners.
    super::email::Email::parse(field, raw.trim()).map(super::email::Email::into_string)
}

/// `j***@example.com`: the first character of the local part, then the domain.
pub fn mask_email(email: &str) -> String {
    let (local, domain) = email.split_once('@').unwrap_or((email, ""));
    let first: String = local.chars().take(1).collect();
    format!("{first}***@{domain}")
}

/// An account holder's name: 1 to 70 characters (SEPA's limit), no control characters.
pub fn account_name(field: &str, raw: &str) -> Result<String, DomainError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 70 || name.chars().any(char::is_control) {
        return Err(DomainError::new(
            field,
            "must be 1 to 70 characters, without control characters.",
        ));
    }
    Ok(name.to_owned())
}

/// An IBAN a SEPA file may pay or be paid from: a valid IBAN of a SEPA country (a bank refuses
/// a whole `pain.001` with one IBAN of another).
pub fn sepa_iban(field: &str, raw: &str) -> Result<Iban, DomainError> {
    let iban = Iban::parse(field, raw)?;
    sepa_country(field, iban.country())?;
    Ok(iban)
}

/// `country` (an IBAN's first two letters) is in SEPA, else the refusal naming `field`.
pub fn sepa_country(field: &str, country: &str) -> Result<(), DomainError> {
    if super::sepa::is_sepa_country(country) {
        return Ok(());
    }
    Err(DomainError::new(
        field,
        format!(
            "`{country}` is not a country of the SEPA scheme: a SEPA transfer pays an IBAN of the EU, the EEA, Switzerland, the United Kingdom, Gibraltar, Monaco, San Marino, the Vatican, Andorra, Albania, Montenegro, North Macedonia or Moldova."
        ),
    ))
}

/// An account holder's name a SEPA file can write: an [`account_name`] whose every letter is
/// Latin, Greek or Cyrillic (converted to SEPA's basic Latin set, [`super::sepa::to_basic`]),
/// and at most 70 characters once converted. Answers the name as given (the file converts).
pub fn sepa_name(field: &str, raw: &str) -> Result<String, DomainError> {
    let name = account_name(field, raw)?;
    let basic = super::sepa::to_basic(&name).map_err(|c| {
        DomainError::new(
            field,
            format!(
                "`{c}` cannot be written in a SEPA transfer, which takes Latin letters (Greek and Cyrillic are converted): give the name in Latin script, as the bank holds it."
            ),
        )
    })?;
    let len = basic.chars().count();
    if basic.is_empty() || len > 70 {
        return Err(DomainError::new(
            field,
            format!(
                "in SEPA's character set this name is `{basic}` ({len} characters): it must be 1 to 70."
            ),
        ));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ibans_of_several_countries_pass_with_or_without_spaces() {
        for ok in [
            "DE89 3704 0044 0532 0130 00",
            "GB82WEST12345698765432",
            "fr14 2004 1010 0505 0001 3M02 606",
            "NL91ABNA0417164300",
            "BE68539007547034",
            "NO9386011117947",
            "CH9300762011623852957",
            "IT60X0542811101000000123456",
            "ES9121000418450200051332",
            "MT84MALT011000012345MTLCAST001S",
            "SA0380000000608010167519",
        ] {
            assert!(Iban::parse("iban", ok).is_ok(), "{ok}");
        }
        let de = Iban::parse("iban", "de89 3704 0044 0532 0130 00").unwrap();
        assert_eq!(de.as_str(), "DE89370400440532013000");
        assert_eq!(de.masked(), "DE89 **** **** 3000");
        assert_eq!(de.country(), "DE");
    }

    #[test]
    fn a_bad_checksum_length_or_country_is_named() {
        let e = Iban::parse("iban", "DE88370400440532013000").unwrap_err();
        assert_eq!(e.field, "iban");
        assert!(e.message.contains("check digits"), "{}", e.message);
        let e = Iban::parse("iban", "DE8937040044053201300").unwrap_err();
        assert!(e.message.contains("22 characters"), "{}", e.message);
        let e = Iban::parse("iban", "ZZ89370400440532013000").unwrap_err();
        assert!(e.message.contains("ZZ"), "{}", e.message);
        assert!(Iban::parse("iban", "DE89-3704").is_err());
        assert!(Iban::parse("iban", "").is_err());
    }

    #[test]
    fn check_digits_00_01_99_and_a_bban_out_of_structure_are_refused() {
        // 99 passes mod-97 where 02 belongs; 00 and 01 where 97 and 98 do.
        assert!(Iban::parse("iban", "DE02370400440000000024").is_ok());
        assert_eq!(mod97("DE99370400440000000024"), 1);
        for (bad, digits) in [
            ("DE99370400440000000024", "99"),
            ("GB00WEST12345698765432", "00"),
            ("GB01WEST12345698765432", "01"),
        ] {
            let e = Iban::parse("iban", bad).unwrap_err();
            assert_eq!(e.field, "iban");
            assert!(e.message.starts_with("the check digits"), "{}", e.message);
            assert!(e.message.contains(digits), "{bad}: {}", e.message);
        }
        // Letters in a German account number: the length and mod-97 hold, the registry's
        // structure (18 digits) does not.
        let letters = with_check_digits("DE", "37040044053201ABCD");
        assert_eq!(mod97(&letters), 1);
        let e = Iban::parse("iban", &letters).unwrap_err();
        assert!(
            e.message.contains("structure of a DE IBAN"),
            "{}",
            e.message
        );
        let e = Iban::parse("debtorIban", &with_check_digits("NL", "12345678901234")).unwrap_err();
        assert_eq!(e.field, "debtorIban");
        assert!(
            e.message.contains("structure of a NL IBAN"),
            "{}",
            e.message
        );
    }

    /// `country` and `bban` with their proper check digits (ISO 13616's computation).
    fn with_check_digits(country: &str, bban: &str) -> String {
        let remainder = mod97(&format!("{country}00{bban}"));
        format!("{country}{:02}{bban}", 98 - remainder)
    }

    #[test]
    fn a_sepa_iban_is_of_a_sepa_country() {
        for ok in [
            DE,
            "GB82WEST12345698765432",
            "CH9300762011623852957",
            "MC5811222000010123456789030",
        ] {
            assert!(sepa_iban("iban", ok).is_ok(), "{ok}");
        }
        for (bad, country) in [
            ("SA0380000000608010167519", "SA"),
            ("BR1800360305000010009795493C1", "BR"),
            ("TR330006100519786457841326", "TR"),
            ("PK36SCBL0000001123456702", "PK"),
        ] {
            assert!(Iban::parse("iban", bad).is_ok(), "{bad} is an IBAN");
            let e = sepa_iban("iban", bad).unwrap_err();
            assert_eq!(e.field, "iban");
            assert!(
                e.message.starts_with(&format!("`{country}` is not")),
                "{}",
                e.message
            );
        }
        assert!(
            !Iban::parse("iban", "SA0380000000608010167519")
                .unwrap()
                .is_sepa()
        );
    }

    const DE: &str = "DE89370400440532013000";

    #[test]
    fn a_sepa_name_is_latin_greek_or_cyrillic_within_70() {
        for ok in [
            "Ștefan Țurcanu",
            "Jānis Bērziņš",
            "Þórður",
            "Γιώργος",
            "Жельо Щерев",
            "Ann & Co",
        ] {
            assert_eq!(sepa_name("accountName", ok).unwrap(), ok);
        }
        let e = sepa_name("accountName", "王小明").unwrap_err();
        assert_eq!(e.field, "accountName");
        assert!(e.message.contains("Latin script"), "{}", e.message);
        assert!(e.message.starts_with("`王`"), "{}", e.message);
        assert!(sepa_name("accountName", "مريم").is_err());
        assert!(sepa_name("accountName", "สมชาย").is_err());
        // 70 letters that convert into more than 70.
        let e = sepa_name("accountName", &"Щ".repeat(30)).unwrap_err();
        assert!(e.message.contains("90 characters"), "{}", e.message);
        assert!(
            sepa_name("accountName", "***").is_err(),
            "nothing left to write"
        );
        assert!(sepa_name("accountName", "").is_err());
    }

    #[test]
    fn bics_have_their_shape_and_country() {
        let bic = Bic::parse("bic", "deut de ff").unwrap();
        assert_eq!(bic.as_str(), "DEUTDEFF");
        assert!(Bic::parse("bic", "DEUTDEFF500").is_ok());
        for bad in ["DEUTDEF", "DEUTDEFF50", "DEU1DEFF", "DEUTDE1F", "DEUTDEFO"] {
            assert!(Bic::parse("bic", bad).is_err(), "{bad}");
        }
        let de = Iban::parse("iban", "DE89370400440532013000").unwrap();
        assert!(bic.fits(&de));
        assert!(!Bic::parse("bic", "BNPAFRPP").unwrap().fits(&de));
        let mc = Iban::parse("iban", "MC5811222000010123456789030").unwrap();
        assert!(Bic::parse("bic", "BNPAFRPP").unwrap().fits(&mc));
    }

    #[test]
    fn emails_are_checked_and_masked() {
        assert_eq!(
            email("email", " Ann@Example.COM ").unwrap(),
            "Ann@example.com"
        );
        for bad in [
            "ann",
            "ann@example",
            "a nn@example.com",
            "@example.com",
            "a@b@c.com",
            "a@.com",
            "a@example..com",
        ] {
            assert!(email("email", bad).is_err(), "{bad}");
        }
        assert!(email("email", &format!("{}@example.com", "a".repeat(250))).is_err());
        assert_eq!(mask_email("ann@example.com"), "a***@example.com");
    }
}
