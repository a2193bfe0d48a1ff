//! The CSV files of the PayPal and Wise rails (RFC 4180: CRLF, a field with `,` `"` or a line
//! break quoted, quotes doubled), each text field guarded against formula injection: one
//! starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`.

use crate::domain::Currency;

/// One field, guarded and quoted as needed.
pub fn field(raw: &str) -> String {
    let guarded = match raw.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{raw}"),
        _ => raw.to_owned(),
    };
    if guarded.contains([',', '"', '\r', '\n'])
        || guarded.starts_with(' ')
        || guarded.ends_with(' ')
    {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// One record: the fields joined, CRLF-terminated. `amount` fields are passed through `field`
/// too (they are digits and a dot: never changed).
pub fn record(fields: &[&str]) -> String {
    let mut line = fields
        .iter()
        .map(|f| field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// One PayPal Payouts row: recipient email, amount, currency, customer id (the partner's id
/// when it fits PayPal's 30 characters), note to the recipient, the `PAYPAL` wallet.
pub struct PaypalRow {
    /// The PayPal account's email, or its payer ID (PayPal reads either in the first column).
    pub receiver: String,
    pub amount_minor: i64,
    pub currency: Currency,
    pub customer_id: String,
    pub note: String,
}

/// A PayPal Payouts file (web upload format: no header row, one currency per file).
pub fn paypal(rows: &[PaypalRow]) -> String {
    rows.iter()
        .map(|r| {
            let amount = r.currency.format(i128::from(r.amount_minor));
            let customer = if r.customer_id.len() <= 30 {
                r.customer_id.as_str()
            } else {
                ""
            };
            record(&[
                &r.receiver,
                &amount,
                r.currency.as_str(),
                customer,
                &r.note,
                "PAYPAL",
            ])
        })
        .collect()
}

/// One Wise row: the recipient's name and email, the payment reference, the amount fixed on
/// the recipient's side, in the payout's currency both ways.
pub struct WiseRow {
    pub name: String,
    pub email: String,
    pub reference: String,
    pub amount_minor: i64,
    pub currency: Currency,
}

pub const WISE_HEADER: [&str; 8] = [
    "name",
    "recipientEmail",
    "paymentReference",
    "receiverType",
    "amountCurrency",
    "amount",
    "sourceCurrency",
    "targetCurrency",
];

/// A Wise batch payment file (the "send by email" template's columns, several currencies).
pub fn wise(rows: &[WiseRow]) -> String {
    let mut out = record(&WISE_HEADER);
    for r in rows {
        let amount = r.currency.format(i128::from(r.amount_minor));
        let c = r.currency.as_str();
        out.push_str(&record(&[
            &r.name,
            &r.email,
            &r.reference,
            "PRIVATE",
            "target",
            &amount,
            c,
            c,
        ]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_guarded() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("+1"), "'+1");
        assert_eq!(field("-2"), "'-2");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(record(&["a", "b"]), "a,b\r\n");
    }

    #[test]
    fn amounts_are_the_minor_units_in_the_currency_s_exponent() {
        let jpy = Currency::parse("JPY").unwrap();
        let eur = Currency::parse("EUR").unwrap();
        let rows = [
            PaypalRow {
                receiver: "a@example.com".into(),
                amount_minor: 1200,
                currency: jpy,
                customer_id: "pub-one".into(),
                note: "Payout pay_1".into(),
            },
            PaypalRow {
                receiver: "b@example.com".into(),
                amount_minor: 5,
                currency: eur,
                customer_id: "x".repeat(31),
                note: "n".into(),
            },
        ];
        assert_eq!(
            paypal(&rows),
            "a@example.com,1200,JPY,pub-one,Payout pay_1,PAYPAL\r\nb@example.com,0.05,EUR,,n,PAYPAL\r\n"
        );
    }
}
