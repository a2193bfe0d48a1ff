//! The words a partner signs under its tax form: the certifications of the IRS forms as the
//! forms word them (Form W-9, Rev. March 2024, Part II; Form W-8BEN, Rev. October 2021, Part III;
//! Form W-8BEN-E, Rev. October 2021, Part XXX), and the program's own declaration for an EU VAT
//! profile or none. The portal shows the same words (`console/portal/tax_words.js`, kept equal
//! by a test); the digest of the words signed is sealed with the signature.

use sha2::{Digest, Sha256};

use super::tax::TaxForm;

/// Form W-9, Part II (Certification).
pub const W9: &str = include_str!("tax_words/w9.txt");

/// Form W-8BEN, Part III (Certification).
pub const W8BEN: &str = include_str!("tax_words/w8ben.txt");

/// Form W-8BEN-E, Part XXX (Certification).
pub const W8BENE: &str = include_str!("tax_words/w8bene.txt");

/// An EU VAT profile, or none: no IRS form; the program's own declaration.
pub const DECLARATION: &str = include_str!("tax_words/declaration.txt");

/// The words a partner signs under `form`.
pub fn certification(form: TaxForm) -> &'static str {
    match form {
        TaxForm::W9 => W9,
        TaxForm::W8ben => W8BEN,
        TaxForm::W8bene => W8BENE,
        TaxForm::EuVat | TaxForm::None => DECLARATION,
    }
}

/// SHA-256 (hex) of `form`'s words: sealed with a signature, so a later change of the words
/// never reads as what an earlier signer was shown.
pub fn digest(form: TaxForm) -> String {
    hex::encode(Sha256::digest(certification(form).as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The portal shows the words signed: its copy is these, character for character.
    #[test]
    fn the_portal_shows_the_words_the_server_seals() {
        let js = std::str::from_utf8(tenx_console::file("portal/tax_words.js").unwrap()).unwrap();
        for form in [TaxForm::W9, TaxForm::W8ben, TaxForm::W8bene, TaxForm::EuVat] {
            let quoted = serde_json::to_string(certification(form)).unwrap();
            assert!(
                js.contains(&quoted),
                "{form:?}'s words differ in the portal"
            );
        }
        assert_ne!(digest(TaxForm::W9), digest(TaxForm::W8ben));
    }
}
