//! A self-billing credit note as PDF: the invoice's layout, titled a credit note, naming the
//! invoice it cancels and why, each of the statement's lines and the total negated.

use crate::domain::Currency;
use crate::domain::Handle;
use crate::payouts::credit_note::CreditNote;
use crate::payouts::invoice_pdf::{COLUMNS, REVERSE_CHARGE, SELF_BILLING, each_line, party};
use crate::payouts::statement::Line;
use crate::platform::pdf::{Cell, Sheet, rgb};
use crate::platform::store::{Store, StoreError};

/// The credit note's PDF. Round trips: ONE read (the branding), then the statement's lines a
/// thousand at a time.
#[tracing::instrument(skip_all, fields(handle = %handle, payout = %note.record.payout_id))]
pub async fn render(
    store: &dyn Store,
    handle: &Handle,
    note: &CreditNote,
) -> Result<Vec<u8>, StoreError> {
    let brand = crate::mail::branding::get(store, handle)
        .await?
        .unwrap_or_else(|| crate::mail::branding::Branding::default_for(Some(handle)));
    let (p, parties) = (&note.invoice.payout, &note.invoice.parties);
    let accent = rgb(brand
        .color
        .as_deref()
        .unwrap_or(crate::mail::branding::DEFAULT_COLOR));
    let mut sheet = Sheet::new(&format!("Credit note {}", note.record.number), accent);
    sheet.text(16.0, true, &brand.name);
    sheet.gap(6.0);
    sheet.text(13.0, true, "Self-billing credit note");
    let date = |t: &str| t.get(..10).unwrap_or(t).to_owned();
    for (label, value) in [
        ("Credit note number", note.record.number.clone()),
        ("Date of issue", date(note.record.issued_at.as_str())),
        ("Cancels invoice", note.record.invoice_number.clone()),
        (
            "Invoice dated",
            date(note.invoice.record.issued_at.as_str()),
        ),
        ("Payout", p.payout_id.to_string()),
    ] {
        sheet.row(10.0, &[Cell(0.0, label, true), Cell(110.0, &value, false)]);
    }
    sheet.gap(6.0);
    sheet.text(
        10.0,
        false,
        &format!(
            "The payment of this payout was given back after it was paid, so invoice {} is \
             cancelled in full. {}",
            note.record.invoice_number, note.record.reason
        ),
    );
    sheet.gap(10.0);
    party(&mut sheet, "Supplier (the partner)", &parties.supplier);
    sheet.gap(6.0);
    party(&mut sheet, "Customer (issuer)", &parties.customer);
    sheet.gap(10.0);
    lines(store, handle, note, &mut sheet).await?;
    let total = p.currency.format(-i128::from(p.amount_minor));
    let currency = p.currency.to_string();
    sheet.gap(4.0);
    sheet.row(
        11.0,
        &[
            Cell(0.0, "Total", true),
            Cell(COLUMNS[3], &total, true),
            Cell(COLUMNS[4], &currency, true),
        ],
    );
    sheet.gap(10.0);
    sheet.text(9.0, false, SELF_BILLING);
    if parties.reverse_charge {
        sheet.text(9.0, true, REVERSE_CHARGE);
    }
    Ok(sheet.finish())
}

/// The statement's lines, each amount negated.
async fn lines(
    store: &dyn Store,
    handle: &Handle,
    note: &CreditNote,
    sheet: &mut Sheet,
) -> Result<(), StoreError> {
    let p = &note.invoice.payout;
    let head = [
        Cell(0.0, "#", true),
        Cell(COLUMNS[0], "Line", true),
        Cell(COLUMNS[1], "What", true),
        Cell(COLUMNS[3], "Amount", true),
        Cell(COLUMNS[4], "Currency", true),
    ];
    sheet.row(8.0, &head);
    each_line(store, handle, p, sheet, row).await
}

fn row(sheet: &mut Sheet, n: usize, l: &Line) {
    let n = n.to_string();
    let what = l
        .event_type
        .clone()
        .unwrap_or_else(|| format!("{:?}", l.kind).to_lowercase());
    let amount = negated(l.currency, &l.amount);
    let currency = l.currency.to_string();
    sheet.row(
        8.0,
        &[
            Cell(0.0, &n, false),
            Cell(COLUMNS[0], l.commission_id.as_str(), false),
            Cell(COLUMNS[1], &what, false),
            Cell(COLUMNS[3], &amount, false),
            Cell(COLUMNS[4], &currency, false),
        ],
    );
}

/// A line's amount negated, in its currency's minor units (never a float); the statement's
/// amounts are always in their currency's form, so the fallback only marks one that is not.
fn negated(currency: Currency, amount: &str) -> String {
    match currency.parse_amount("amount", amount) {
        Ok(minor) => currency.format(-i128::from(minor)),
        Err(_) => format!("-({amount})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_negated_exactly() {
        let eur = Currency::parse("EUR").unwrap();
        assert_eq!(negated(eur, "12.50"), "-12.50");
        assert_eq!(negated(eur, "-3.00"), "3.00");
        assert_eq!(negated(eur, "0.01"), "-0.01");
    }
}
