//! What SEPA reaches and what it reads (issue 57): the countries of the SEPA schemes (an IBAN of
//! any other country makes a bank refuse the whole `pain.001` file), and the conversion of
//! names and remittance text to SEPA's basic Latin character set
//! (`a-z A-Z 0-9 / - ? : ( ) . , ' +` and space). Pure: nothing here is stored or sent.
//!
//! The conversion follows the EPC's SEPA conversion table (EPC217-08, "SEPA Requirements for an
//! Extended Character Set (UNICODE Subset) – Best Practices"): every Latin letter of the SEPA
//! countries' languages becomes its base letter (`Ș`→`S`, `ā`→`a`) or its usual spelling
//! (`ß`→`ss`, `Þ`→`TH`, `Æ`→`AE`), Greek follows ELOT 743 (`Γ`→`G`, `Θ`→`TH`, `Χ`→`CH`),
//! Cyrillic Bulgaria's official transliteration (`Ж`→`ZH`, `Щ`→`SHT`, `Ъ`→`A`) with the
//! Macedonian and Serbian/Montenegrin letters (`Ѓ`→`GJ`, `Љ`→`LJ`, `Ђ`→`DJ`), and `&` the
//! EPC's usual `+`. A letter of any other script (Chinese, Arabic, Thai, …) has no conversion:
//! [`to_basic`] refuses it, so it is refused when the details are set, never written as a dot.

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// The IBAN country codes of the SEPA schemes' geographical scope: the EPC's "List of countries
/// and territories of the SEPA schemes" (EPC409-09, the 2025 version). Territories that use
/// their state's IBAN prefix are reached through it and need no code of their own: the French
/// overseas departments, Mayotte, Saint-Barthélemy, Saint-Martin and Saint-Pierre-et-Miquelon
/// (FR), Åland (FI), the Azores and Madeira (PT), the Canaries, Ceuta and Melilla (ES),
/// Guernsey, Jersey and the Isle of Man (GB). Not in SEPA, though they issue IBANs: the Faroe
/// Islands (FO) and Greenland (GL), Serbia (RS, an applicant), Kosovo (XK), Bosnia and
/// Herzegovina (BA) and every country beyond Europe (SA, BR, TR, PK, …).
#[rustfmt::skip]
pub const SEPA_COUNTRIES: &[&str] = &[
    // The European Union.
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
    "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    // The rest of the EEA.
    "IS", "LI", "NO",
    // Beyond the EEA: Switzerland, the United Kingdom, Gibraltar, Monaco, San Marino, the
    // Vatican, Andorra; Albania, Montenegro, North Macedonia and Moldova (joined 2025).
    "CH", "GB", "GI", "MC", "SM", "VA", "AD", "AL", "ME", "MK", "MD",
];

/// Whether an IBAN of `country` (its first two letters) can be paid by a SEPA transfer.
pub fn is_sepa_country(country: &str) -> bool {
    SEPA_COUNTRIES.contains(&country)
}

/// The SEPA basic Latin character set.
pub fn is_basic(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/-?:().,'+ ".contains(c)
}

/// The letters that are not a base letter with marks (those [`convert`] reaches by removing the
/// marks of their canonical decomposition): their conversion, upper case written upper case.
#[rustfmt::skip]
pub const LETTERS: &[(char, &str)] = &[
    // Latin letters of their own (Nordic, German, Icelandic, Croatian, Polish, Maltese, Dutch,
    // Catalan, Sami, …).
    ('Æ', "AE"), ('æ', "ae"), ('Ø', "O"), ('ø', "o"), ('Œ', "OE"), ('œ', "oe"),
    ('ß', "ss"), ('ẞ', "SS"), ('Þ', "TH"), ('þ', "th"), ('Ð', "D"), ('ð', "d"),
    ('Đ', "D"), ('đ', "d"), ('Ł', "L"), ('ł', "l"), ('Ħ', "H"), ('ħ', "h"),
    ('Ŀ', "L"), ('ŀ', "l"), ('Ĳ', "IJ"), ('ĳ', "ij"), ('Ŋ', "N"), ('ŋ', "n"),
    ('ı', "i"), ('ĸ', "k"), ('ŉ', "n"), ('ſ', "s"), ('ª', "a"), ('º', "o"),
    // Greek (ELOT 743, letter by letter; the tonos and dialytika go with the marks).
    ('Α', "A"), ('Β', "V"), ('Γ', "G"), ('Δ', "D"), ('Ε', "E"), ('Ζ', "Z"), ('Η', "I"),
    ('Θ', "TH"), ('Ι', "I"), ('Κ', "K"), ('Λ', "L"), ('Μ', "M"), ('Ν', "N"), ('Ξ', "X"),
    ('Ο', "O"), ('Π', "P"), ('Ρ', "R"), ('Σ', "S"), ('Τ', "T"), ('Υ', "Y"), ('Φ', "F"),
    ('Χ', "CH"), ('Ψ', "PS"), ('Ω', "O"),
    ('α', "a"), ('β', "v"), ('γ', "g"), ('δ', "d"), ('ε', "e"), ('ζ', "z"), ('η', "i"),
    ('θ', "th"), ('ι', "i"), ('κ', "k"), ('λ', "l"), ('μ', "m"), ('ν', "n"), ('ξ', "x"),
    ('ο', "o"), ('π', "p"), ('ρ', "r"), ('σ', "s"), ('ς', "s"), ('τ', "t"), ('υ', "y"),
    ('φ', "f"), ('χ', "ch"), ('ψ', "ps"), ('ω', "o"),
    // Cyrillic: Bulgarian (the Transliteration Act's streamlined system).
    ('А', "A"), ('Б', "B"), ('В', "V"), ('Г', "G"), ('Д', "D"), ('Е', "E"), ('Ж', "ZH"),
    ('З', "Z"), ('И', "I"), ('Й', "Y"), ('К', "K"), ('Л', "L"), ('М', "M"), ('Н', "N"),
    ('О', "O"), ('П', "P"), ('Р', "R"), ('С', "S"), ('Т', "T"), ('У', "U"), ('Ф', "F"),
    ('Х', "H"), ('Ц', "TS"), ('Ч', "CH"), ('Ш', "SH"), ('Щ', "SHT"), ('Ъ', "A"), ('Ь', "Y"),
    ('Ю', "YU"), ('Я', "YA"),
    ('а', "a"), ('б', "b"), ('в', "v"), ('г', "g"), ('д', "d"), ('е', "e"), ('ж', "zh"),
    ('з', "z"), ('и', "i"), ('й', "y"), ('к', "k"), ('л', "l"), ('м', "m"), ('н', "n"),
    ('о', "o"), ('п', "p"), ('р', "r"), ('с', "s"), ('т', "t"), ('у', "u"), ('ф', "f"),
    ('х', "h"), ('ц', "ts"), ('ч', "ch"), ('ш', "sh"), ('щ', "sht"), ('ъ', "a"), ('ь', "y"),
    ('ю', "yu"), ('я', "ya"),
    // Cyrillic: Macedonian, Serbian and Montenegrin (North Macedonia and Montenegro are in
    // SEPA), and the letters of Moldova's Russian and Ukrainian speakers.
    ('Ѓ', "GJ"), ('ѓ', "gj"), ('Ќ', "KJ"), ('ќ', "kj"), ('Ѕ', "DZ"), ('ѕ', "dz"),
    ('Ј', "J"), ('ј', "j"), ('Љ', "LJ"), ('љ', "lj"), ('Њ', "NJ"), ('њ', "nj"),
    ('Ђ', "DJ"), ('ђ', "dj"), ('Ћ', "C"), ('ћ', "c"), ('Џ', "DZ"), ('џ', "dz"),
    ('Ы', "Y"), ('ы', "y"), ('Э', "E"), ('э', "e"), ('Є', "YE"), ('є', "ye"),
    ('І', "I"), ('і', "i"), ('Ї', "YI"), ('ї', "yi"), ('Ґ', "G"), ('ґ', "g"),
];

/// Signs outside the basic set with a usual equivalent in it: `&` is the EPC's `+`, `_` a
/// hyphen (a payout id stays readable: `pay-01…`), quotes an apostrophe, brackets round.
#[rustfmt::skip]
pub const SIGNS: &[(char, &str)] = &[
    ('&', "+"), ('_', "-"), ('–', "-"), ('—', "-"), ('‐', "-"), ('‑', "-"), ('−', "-"),
    ('"', "'"), ('`', "'"), ('´', "'"), ('‘', "'"), ('’', "'"), ('‚', "'"), ('“', "'"),
    ('”', "'"), ('„', "'"), ('«', "'"), ('»', "'"), ('<', "("), ('>', ")"), ('[', "("),
    (']', ")"), ('{', "("), ('}', ")"), (';', ","), ('!', "."), ('\\', "/"), ('|', "/"),
    ('·', "."), ('…', "..."),
];

fn lookup(table: &[(char, &'static str)], c: char) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == c).map(|(_, v)| *v)
}

/// One character's conversion: itself in the basic set, its table entry, or its compatibility
/// decomposition without its marks (`Ș` = `S` + comma below, `ά` = `α` + tonos, `Ａ` = `A`,
/// `ǅ` = `D` + `ž`). `None` for a
/// letter or digit of another script; a sign without an equivalent (`*`, `@`, `©`) becomes a
/// space, and a lone combining mark (text already in NFD) nothing.
pub fn convert(c: char) -> Option<String> {
    if is_basic(c) {
        return Some(c.to_string());
    }
    if let Some(s) = lookup(LETTERS, c).or_else(|| lookup(SIGNS, c)) {
        return Some(s.to_owned());
    }
    if is_combining_mark(c) {
        return Some(String::new());
    }
    if c.is_whitespace() {
        return Some(" ".into());
    }
    let mut parts = Vec::new();
    decompose_compatible(c, |d| parts.push(d));
    if parts.len() > 1 {
        return parts.into_iter().map(convert).collect();
    }
    if c.is_alphanumeric() {
        return None;
    }
    Some(" ".into())
}

/// `text` in the basic set, or the first character that has no conversion. A conversion of
/// an upper-case letter into several letters is written as a word when the next letter is
/// lower case (`Þórður` → `Thordur`, `ЖЕЛЕВ` → `ZHELEV`). Spaces are collapsed, ends trimmed.
pub fn to_basic(text: &str) -> Result<String, char> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let mut s = convert(c).ok_or(c)?;
        let next_lower = chars[i + 1..]
            .iter()
            .find(|n| !is_combining_mark(**n))
            .is_some_and(|n| n.is_lowercase());
        if s.len() > 1 && c.is_uppercase() && next_lower {
            s = s[..1].to_owned() + &s[1..].to_ascii_lowercase();
        }
        out.push_str(&s);
    }
    Ok(collapse(&out))
}

/// `text` in the basic set, a character without a conversion dropped: for text that was
/// checked when it was set (names) or that is ours (remittance).
pub fn to_basic_lossy(text: &str) -> String {
    let kept: String = text.chars().filter(|c| convert(*c).is_some()).collect();
    to_basic(&kept).unwrap_or_default()
}

fn collapse(s: &str) -> String {
    s.split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(s: &str) -> String {
        to_basic(s).unwrap_or_else(|c| panic!("{s}: {c} has no conversion"))
    }

    #[test]
    fn the_whole_table_converts_into_the_basic_set() {
        for (c, want) in LETTERS.iter().chain(SIGNS) {
            let got = convert(*c).unwrap();
            assert_eq!(&got, want, "{c}");
            assert!(got.chars().all(is_basic), "{c} → {got}");
            let upper = c.to_uppercase().collect::<String>();
            if upper != c.to_string() && c.is_lowercase() && *c != 'ß' && *c != 'ς' {
                let up: Vec<char> = upper.chars().collect();
                if let [u] = up[..] {
                    let converted = convert(u);
                    assert_eq!(
                        converted.map(|s| s.to_lowercase()),
                        Some(want.to_lowercase()),
                        "{c} and {u} convert alike"
                    );
                }
            }
        }
        assert!(LETTERS.iter().all(|(c, _)| c.is_alphabetic()));
        assert!(SIGNS.iter().all(|(c, _)| !c.is_alphanumeric()));
    }

    #[test]
    fn the_examples_of_the_issue_convert() {
        assert_eq!(basic("Ștefan Țurcanu"), "Stefan Turcanu");
        assert_eq!(basic("Jānis Bērziņš"), "Janis Berzins");
        assert_eq!(basic("Þórður"), "Thordur");
        assert_eq!(basic("Þ"), "TH");
        assert_eq!(basic("ÞÓRÐUR"), "THORDUR");
        assert_eq!(basic("Γιώργος Παπαδόπουλος"), "Giorgos Papadopoylos");
        assert_eq!(basic("Θεόδωρος Χατζής"), "Theodoros Chatzis");
        assert_eq!(basic("Жельо Щерев"), "Zhelyo Shterev");
        assert_eq!(basic("ЖЕЛЕВ"), "ZHELEV");
        assert_eq!(basic("Ана Ѓорѓиевска"), "Ana Gjorgjievska");
        assert_eq!(basic("Ђорђе Јовановић"), "Djordje Jovanovic");
        assert_eq!(basic("Müller & Söhne <GmbH>"), "Muller + Sohne (GmbH)");
        assert_eq!(basic("Straße 1\n2"), "Strasse 1 2");
        assert_eq!(basic("pay_01abc"), "pay-01abc");
    }

    #[test]
    fn text_already_in_nfd_loses_its_marks_only() {
        let nfd = "S\u{0326}tefan T\u{0326}urcanu, Ja\u{0304}nis";
        assert_eq!(basic(nfd), "Stefan Turcanu, Janis");
        assert_eq!(basic("Þo\u{0301}rður"), "Thordur");
    }

    #[test]
    fn every_letter_of_the_sepa_languages_converts() {
        for alphabet in [
            "ĂăÂâÎîȘșȚțŞşŢţ",                     // Romanian (and the cedilla forms)
            "ĀāČčĒēĢģĪīĶķĻļŅņŠšŪūŽž",             // Latvian
            "ĄąČčĘęĖėĮįŠšŲųŪūŽž",                 // Lithuanian
            "ÁáÐðÉéÍíÓóÚúÝýÞþÆæÖö",               // Icelandic
            "ĄąĆćĘęŁłŃńÓóŚśŹźŻż",                 // Polish
            "ÁáČčĎďÉéĚěÍíŇňÓóŘřŠšŤťÚúŮůÝýŽž",     // Czech
            "ÁáÄäČčĎďÉéÍíĹĺĽľŇňÓóÔôŔŕŠšŤťÚúÝýŽž", // Slovak
            "ÁáÉéÍíÓóÖöŐőÚúÜüŰű",                 // Hungarian
            "ČčĆćĐđŠšŽž",                         // Croatian, Slovenian, Montenegrin
            "ÄäÖöÕõÜüŠšŽž",                       // Estonian
            "ÅåÄäÖöÆæØø",                         // Nordic
            "ÄäÖöÜüß",                            // German
            "ÀàÂâÆæÇçÉéÈèÊêËëÎîÏïÔôŒœÙùÛûÜüŸÿ",   // French
            "ÁáÉéÍíÑñÓóÚúÜü",                     // Spanish
            "ÀàÇçÈèÉéÍíÏïŀĿÒòÓóÚúÜü",             // Catalan (Andorra)
            "ÃãÕõÂâÊêÔôÁáÉéÍíÓóÚúÀàÇç",           // Portuguese
            "ÀàÈèÉéÌìÒòÙù",                       // Italian
            "ĊċĠġĦħŻżÀàÈèÌìÒòÙù",                 // Maltese
            "ÇçËë",                               // Albanian
            "ĲĳËëÏï",                             // Dutch
            "ΑαΆάΒβΓγΔδΕεΈέΖζΗηΉήΘθΙιΊίΪϊΐΚκΛλΜμΝνΞξΟοΌόΠπΡρΣσςΤτΥυΎύΫϋΰΦφΧχΨψΩωΏώ", // Greek
            "АаБбВвГгДдЕеЖжЗзИиЙйКкЛлМмНнОоПпРрСсТтУуФфХхЦцЧчШшЩщЪъЬьЮюЯяЍѝ", // Bulgarian
            "ЃѓЅѕЈјЉљЊњЌќЏџЂђЋћ",                 // Macedonian, Serbian, Montenegrin
        ] {
            let got = basic(alphabet);
            assert!(got.chars().all(is_basic), "{alphabet} → {got}");
            assert!(!got.contains('.'), "{alphabet} → {got}");
        }
    }

    #[test]
    fn another_script_is_refused_by_its_first_letter() {
        assert_eq!(to_basic("王小明"), Err('王'));
        assert_eq!(to_basic("Ann محمد"), Err('م'));
        assert_eq!(to_basic("สมชาย"), Err('ส'));
        assert_eq!(to_basic("Ann ٣"), Err('٣'));
        assert_eq!(to_basic_lossy("Ann 王 Lee"), "Ann Lee");
        // Signs without an equivalent are spaces, never dots.
        assert_eq!(basic("A*B @ C©"), "A B C");
    }

    #[test]
    fn the_sepa_countries_are_the_epcs() {
        for c in [
            "DE", "FR", "RO", "LV", "IS", "GR", "BG", "CH", "GB", "GI", "MC", "SM", "VA", "AD",
            "AL", "ME", "MK", "MD", "LI", "NO", "FI", "PT", "ES",
        ] {
            assert!(is_sepa_country(c), "{c}");
        }
        for c in [
            "SA", "BR", "TR", "PK", "US", "FO", "GL", "RS", "XK", "BA", "UA", "AE", "",
        ] {
            assert!(!is_sepa_country(c), "{c}");
        }
        assert_eq!(SEPA_COUNTRIES.len(), 41);
    }
}
