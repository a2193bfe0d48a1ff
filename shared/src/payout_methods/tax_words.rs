//! The words a partner signs under its tax form: the certifications of the IRS forms as the
//! forms word them (Form W-9, Rev. March 2024, Part II; Form W-8BEN, Rev. October 2021, Part III;
//! Form W-8BEN-E, Rev. October 2021, Part XXX), and the program's own declaration for an EU VAT
//! profile or none. The portal shows the same words (`console/portal_tax_words.js`, kept equal
//! by a test); the digest of the words signed is sealed with the signature.

use sha2::{Digest, Sha256};

use super::tax::TaxForm;

/// Form W-9, Part II (Certification).
pub const W9: &str = "Under penalties of perjury, I certify that:\n\
1. The number shown on this form is my correct taxpayer identification number (or I am waiting for a number to be issued to me); and\n\
2. I am not subject to backup withholding because (a) I am exempt from backup withholding, or (b) I have not been notified by the Internal Revenue Service (IRS) that I am subject to backup withholding as a result of a failure to report all interest or dividends, or (c) the IRS has notified me that I am no longer subject to backup withholding; and\n\
3. I am a U.S. citizen or other U.S. person (defined below); and\n\
4. The FATCA code(s) entered on this form (if any) indicating that I am exempt from FATCA reporting is correct.\n\
Certification instructions. You must cross out item 2 above if you have been notified by the IRS that you are currently subject to backup withholding because you have failed to report all interest and dividends on your tax return.";

/// Form W-8BEN, Part III (Certification).
pub const W8BEN: &str = "Under penalties of perjury, I declare that I have examined the information on this form and to the best of my knowledge and belief it is true, correct, and complete. I further certify under penalties of perjury that:\n\
- I am the individual that is the beneficial owner (or am authorized to sign for the individual that is the beneficial owner) of all the income or proceeds to which this form relates or am using this form to document myself for chapter 4 purposes;\n\
- The person named on line 1 of this form is not a U.S. person;\n\
- This form relates to: (a) income not effectively connected with the conduct of a trade or business in the United States; (b) income effectively connected with the conduct of a trade or business in the United States but is not subject to tax under an applicable income tax treaty; (c) the partner's share of a partnership's effectively connected taxable income; or (d) the partner's amount realized from the transfer of a partnership interest subject to withholding under section 1446(f);\n\
- The person named on line 1 of this form is a resident of the treaty country listed on line 9 of the form (if any) within the meaning of the income tax treaty between the United States and that country; and\n\
- For broker transactions or barter exchanges, the beneficial owner is an exempt foreign person as defined in the instructions.\n\
Furthermore, I authorize this form to be provided to any withholding agent that has control, receipt, or custody of the income of which I am the beneficial owner or any withholding agent that can disburse or make payments of the income of which I am the beneficial owner. I agree that I will submit a new form within 30 days if any certification made on this form becomes incorrect.";

/// Form W-8BEN-E, Part XXX (Certification).
pub const W8BENE: &str = "Under penalties of perjury, I declare that I have examined the information on this form and to the best of my knowledge and belief it is true, correct, and complete. I further certify under penalties of perjury that:\n\
- The entity identified on line 1 of this form is the beneficial owner of all the income or proceeds to which this form relates, is using this form to certify its status for chapter 4 purposes, or is submitting this form for purposes of section 6050W or 6050Y;\n\
- The entity identified on line 1 of this form is not a U.S. person;\n\
- This form relates to: (a) income not effectively connected with the conduct of a trade or business in the United States, (b) income effectively connected with the conduct of a trade or business in the United States but is not subject to tax under an income tax treaty, (c) the partner's share of a partnership's effectively connected taxable income, or (d) the partner's amount realized from the transfer of a partnership interest subject to withholding under section 1446(f); and\n\
- For broker transactions or barter exchanges, the beneficial owner is an exempt foreign person as defined in the instructions.\n\
Furthermore, I authorize this form to be provided to any withholding agent that has control, receipt, or custody of the income of which the entity on line 1 is the beneficial owner or any withholding agent that can disburse or make payments of the income of which the entity on line 1 is the beneficial owner.\n\
I agree that I will submit a new form within 30 days if any certification on this form becomes incorrect.\n\
I certify that I have the capacity to sign for the entity identified on line 1 of this form.";

/// An EU VAT profile, or none: no IRS form; the program's own declaration.
pub const DECLARATION: &str = "I declare that the tax details I have given are true, correct and complete, that I am entitled to give them for the person or business named, and that I will correct them within 30 days if any of them becomes incorrect.";

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
        let js = include_str!("../../../console/portal_tax_words.js");
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
