//! A SEPA credit transfer initiation, ISO 20022 `pain.001.001.03`: one group header (MsgId,
//! CreDtTm, NbOfTxs, CtrlSum), one payment information block (TRF, service level SEPA, the
//! requested execution date, the debtor, charges SLEV) and one transaction per payout
//! (EndToEndId, the EUR amount, the creditor's BIC when known, name, IBAN, remittance). Text
//! is converted to the SEPA character set by the EPC's conversion table
//! ([`crate::domain::sepa`]: Latin, Greek and Cyrillic letters transliterated, `&` as `+`, `_`
//! as `-`; names in other scripts are refused when they are set) and XML-escaped.

use crate::domain::Currency;
use crate::payout_methods::settings::Debtor;

/// One transfer.
pub struct Transfer {
    /// Max 35 characters: the payout id's 32 hex digits.
    pub end_to_end_id: String,
    pub amount_minor: i64,
    pub name: String,
    pub iban: String,
    pub bic: Option<String>,
    pub remittance: String,
}

/// The document's header fields.
pub struct Header<'a> {
    /// Max 35 characters: the batch id's 32 hex digits.
    pub message_id: &'a str,
    /// `YYYY-MM-DDTHH:MM:SS`.
    pub created: &'a str,
    /// `YYYY-MM-DD`.
    pub execution_date: &'a str,
    pub debtor: &'a Debtor,
}

/// The document. Amounts are the payouts' minor units written with EUR's two decimals; the
/// control sums are their exact totals.
pub fn document(h: &Header<'_>, transfers: &[Transfer]) -> String {
    let eur = Currency::parse("EUR").unwrap_or_else(|_| unreachable!("EUR is a currency"));
    let sum: i128 = transfers.iter().map(|t| i128::from(t.amount_minor)).sum();
    let (n, ctrl) = (transfers.len(), eur.format(sum));
    let mut x = String::with_capacity(1024 + transfers.len() * 640);
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str("<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n<CstmrCdtTrfInitn>\n");
    x.push_str(&format!(
        "<GrpHdr><MsgId>{}</MsgId><CreDtTm>{}</CreDtTm><NbOfTxs>{n}</NbOfTxs><CtrlSum>{ctrl}</CtrlSum><InitgPty><Nm>{}</Nm></InitgPty></GrpHdr>\n",
        text(h.message_id, 35),
        text(h.created, 19),
        text(&h.debtor.name, 70),
    ));
    x.push_str(&format!(
        "<PmtInf><PmtInfId>{}</PmtInfId><PmtMtd>TRF</PmtMtd><BtchBookg>true</BtchBookg><NbOfTxs>{n}</NbOfTxs><CtrlSum>{ctrl}</CtrlSum>\
<PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl></PmtTpInf><ReqdExctnDt>{}</ReqdExctnDt>\
<Dbtr><Nm>{}</Nm></Dbtr><DbtrAcct><Id><IBAN>{}</IBAN></Id></DbtrAcct><DbtrAgt>{}</DbtrAgt><ChrgBr>SLEV</ChrgBr>\n",
        text(h.message_id, 35),
        text(h.execution_date, 10),
        text(&h.debtor.name, 70),
        text(&h.debtor.iban, 34),
        agent(h.debtor.bic.as_deref()),
    ));
    for t in transfers {
        x.push_str(&transaction(eur, t));
    }
    x.push_str("</PmtInf>\n</CstmrCdtTrfInitn>\n</Document>\n");
    x
}

fn transaction(eur: Currency, t: &Transfer) -> String {
    let creditor_agent = t
        .bic
        .as_deref()
        .map(|b| format!("<CdtrAgt>{}</CdtrAgt>", agent(Some(b))))
        .unwrap_or_default();
    format!(
        "<CdtTrfTxInf><PmtId><EndToEndId>{}</EndToEndId></PmtId><Amt><InstdAmt Ccy=\"EUR\">{}</InstdAmt></Amt>\
{creditor_agent}<Cdtr><Nm>{}</Nm></Cdtr><CdtrAcct><Id><IBAN>{}</IBAN></Id></CdtrAcct>\
<RmtInf><Ustrd>{}</Ustrd></RmtInf></CdtTrfTxInf>\n",
        text(&t.end_to_end_id, 35),
        eur.format(i128::from(t.amount_minor)),
        text(&t.name, 70),
        text(&t.iban, 34),
        text(&t.remittance, 140),
    )
}

/// A financial institution: its BIC, or `NOTPROVIDED` (SEPA's IBAN-only rule).
fn agent(bic: Option<&str>) -> String {
    match bic {
        Some(b) => format!("<FinInstnId><BIC>{}</BIC></FinInstnId>", text(b, 11)),
        None => "<FinInstnId><Othr><Id>NOTPROVIDED</Id></Othr></FinInstnId>".into(),
    }
}

/// Text in the SEPA character set (`a-z A-Z 0-9 / - ? : ( ) . , ' +` and space), at most
/// `max` characters, XML-escaped. A character without a conversion (never in a name, which is
/// checked when set) is left out rather than written as a dot.
pub fn text(raw: &str, max: usize) -> String {
    let basic = crate::domain::sepa::to_basic_lossy(raw);
    let clipped: String = basic.chars().take(max).collect();
    xml_escape(clipped.trim_end())
}

/// `&`, `<`, `>`, `"` and `'` as XML entities.
pub fn xml_escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_keeps_the_sepa_set_and_escapes_xml() {
        assert_eq!(xml_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(text("Müller & Söhne <GmbH>", 70), "Muller + Sohne (GmbH)");
        assert_eq!(text("O'Brien", 70), "O&apos;Brien");
        assert_eq!(text("Straße 1\n2", 70), "Strasse 1 2");
        assert_eq!(text("abcdef", 3), "abc");
        assert_eq!(text("ab cdef", 3), "ab");
        assert_eq!(text("日本", 70), "", "never dots");
    }

    #[test]
    fn names_of_the_sepa_countries_come_out_transliterated() {
        for (name, want) in [
            ("Ștefan Țurcanu", "Stefan Turcanu"),
            ("Jānis Bērziņš", "Janis Berzins"),
            ("Þórður Guðmundsson", "Thordur Gudmundsson"),
            ("Γιώργος Θεοδωρίδης", "Giorgos Theodoridis"),
            ("Жельо Желев", "Zhelyo Zhelev"),
            ("Ann & Bob", "Ann + Bob"),
        ] {
            assert_eq!(text(name, 70), want);
        }
        // Conversion can lengthen a name; the file's limit still holds.
        assert_eq!(text(&"Щ".repeat(30), 70).len(), 70);
    }

    #[test]
    fn the_remittance_keeps_the_payout_id_readable() {
        let got = text("Payout pay_01abcdef statement 3", 140);
        assert_eq!(got, "Payout pay-01abcdef statement 3");
    }

    #[test]
    fn the_document_sums_minor_units_exactly() {
        let debtor = Debtor {
            name: "ACME GmbH".into(),
            iban: "DE89370400440532013000".into(),
            bic: None,
        };
        let h = Header {
            message_id: "0123",
            created: "2026-11-25T09:00:00",
            execution_date: "2026-11-26",
            debtor: &debtor,
        };
        let t = |minor| Transfer {
            end_to_end_id: "e2e".into(),
            amount_minor: minor,
            name: "Zoë".into(),
            iban: "GB82WEST12345698765432".into(),
            bic: Some("WESTGB22".into()),
            remittance: "Payout".into(),
        };
        let x = document(&h, &[t(1), t(10), t(123_456)]);
        assert!(
            x.contains("<NbOfTxs>3</NbOfTxs><CtrlSum>1234.67</CtrlSum>"),
            "{x}"
        );
        assert!(x.contains("<InstdAmt Ccy=\"EUR\">0.01</InstdAmt>"));
        assert!(x.contains("<InstdAmt Ccy=\"EUR\">0.10</InstdAmt>"));
        assert!(x.contains("<Othr><Id>NOTPROVIDED</Id></Othr>"));
        assert!(x.contains("<CdtrAgt><FinInstnId><BIC>WESTGB22</BIC></FinInstnId></CdtrAgt>"));
        assert!(x.contains("<Nm>Zoe</Nm>"));
    }
}
