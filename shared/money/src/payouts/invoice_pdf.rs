//! A self-billing invoice as PDF: the merchant's branding, the number and dates, the supplier
//! (the partner) and the customer (the merchant), the statement's lines and total, the
//! self-billing and (between two member states) reverse-charge wording.

use crate::domain::Handle;
use crate::payouts::invoice::{Invoice, Party};
use crate::payouts::statement::{self, Line};
use crate::platform::pdf::{Cell, Sheet, rgb};
use crate::platform::store::{Store, StoreError};

/// The table's columns after `#` (points from the margin): a line's id (36 characters, about 160
/// points at 8), what it is, the sale, the amount, the currency.
pub(crate) const COLUMNS: [f32; 5] = [22.0, 190.0, 275.0, 370.0, 440.0];

/// How many statement lines are read at once.
pub(crate) const READ: usize = 1_000;

/// The wording of a reverse charge (Council Directive 2006/112/EC, articles 196 and 226(11a)).
pub const REVERSE_CHARGE: &str = "Reverse charge: VAT is to be accounted for by the customer \
(Article 196 of Council Directive 2006/112/EC).";

/// The wording of self-billing (Article 226(10a) of the same directive).
pub const SELF_BILLING: &str = "Self-billing: this invoice is issued by the customer in the \
name and on behalf of the supplier, under the self-billing agreement the supplier accepted.";

/// The invoice's PDF. Round trips: ONE read (the branding), then the statement's lines a
/// thousand at a time.
#[tracing::instrument(skip_all, fields(handle = %handle, payout = %invoice.payout.payout_id))]
pub async fn render(
    store: &dyn Store,
    handle: &Handle,
    invoice: &Invoice,
) -> Result<Vec<u8>, StoreError> {
    let brand = crate::mail::branding::get(store, handle)
        .await?
        .unwrap_or_else(|| crate::mail::branding::Branding::default_for(Some(handle)));
    let p = &invoice.payout;
    let accent = rgb(brand
        .color
        .as_deref()
        .unwrap_or(crate::mail::branding::DEFAULT_COLOR));
    let title = format!("Invoice {}", invoice.record.number);
    let mut sheet = Sheet::new(&title, accent);
    sheet.text(16.0, true, &brand.name);
    sheet.gap(6.0);
    sheet.text(13.0, true, "Self-billing invoice");
    let date = |t: &str| t.get(..10).unwrap_or(t).to_owned();
    let paid = p
        .paid_at
        .as_ref()
        .map_or(String::new(), |t| date(t.as_str()));
    for (label, value) in [
        ("Invoice number", invoice.record.number.clone()),
        ("Date of issue", date(invoice.record.issued_at.as_str())),
        ("Payout", p.payout_id.to_string()),
        ("Paid on", paid),
        (
            "Period",
            format!("{} to {}", date(&p.period_start), date(&p.period_end)),
        ),
    ] {
        sheet.row(10.0, &[Cell(0.0, label, true), Cell(110.0, &value, false)]);
    }
    sheet.gap(10.0);
    party(
        &mut sheet,
        "Supplier (the partner)",
        &invoice.parties.supplier,
    );
    sheet.gap(6.0);
    party(&mut sheet, "Customer (issuer)", &invoice.parties.customer);
    sheet.gap(10.0);
    lines(store, handle, invoice, &mut sheet).await?;
    let total = p.currency.format(i128::from(p.amount_minor));
    sheet.gap(4.0);
    let currency = p.currency.to_string();
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
    if invoice.parties.reverse_charge {
        sheet.text(9.0, true, REVERSE_CHARGE);
    }
    Ok(sheet.finish())
}

pub(crate) fn party(sheet: &mut Sheet, label: &str, who: &Party) {
    sheet.text(10.0, true, label);
    sheet.text(10.0, false, &who.legal_name);
    if let Some(a) = &who.address {
        sheet.text(10.0, false, a);
    }
    if let Some(c) = &who.country {
        sheet.text(10.0, false, &format!("Country: {c}"));
    }
    if let Some(v) = &who.vat_id {
        sheet.text(10.0, false, &format!("VAT number: {v}"));
    }
}

/// The statement's lines, as a table.
async fn lines(
    store: &dyn Store,
    handle: &Handle,
    invoice: &Invoice,
    sheet: &mut Sheet,
) -> Result<(), StoreError> {
    let p = &invoice.payout;
    let head = [
        Cell(0.0, "#", true),
        Cell(COLUMNS[0], "Line", true),
        Cell(COLUMNS[1], "What", true),
        Cell(COLUMNS[2], "Sale", true),
        Cell(COLUMNS[3], "Amount", true),
        Cell(COLUMNS[4], "Currency", true),
    ];
    sheet.row(8.0, &head);
    each_line(store, handle, p, sheet, row).await
}

/// The payout's statement lines in order, `READ` at a time, each drawn by `row` with its number
/// from 1 (the invoice's table and its credit note's).
pub(crate) async fn each_line(
    store: &dyn Store,
    handle: &Handle,
    p: &crate::payouts::model::Payout,
    sheet: &mut Sheet,
    row: fn(&mut Sheet, usize, &Line),
) -> Result<(), StoreError> {
    let mut offset = 0;
    while offset < p.commission_count {
        for (i, l) in statement::page(store, handle, p, offset, READ)
            .await?
            .iter()
            .enumerate()
        {
            row(sheet, offset + i + 1, l);
        }
        offset += READ;
    }
    Ok(())
}

fn row(sheet: &mut Sheet, n: usize, l: &Line) {
    let n = n.to_string();
    let what = l
        .event_type
        .clone()
        .unwrap_or_else(|| format!("{:?}", l.kind).to_lowercase());
    let sale = match (&l.value, &l.value_currency) {
        (Some(v), Some(c)) => format!("{v} {c}"),
        (Some(v), None) => v.clone(),
        _ => String::new(),
    };
    let currency = l.currency.to_string();
    sheet.row(
        8.0,
        &[
            Cell(0.0, &n, false),
            Cell(COLUMNS[0], l.commission_id.as_str(), false),
            Cell(COLUMNS[1], &what, false),
            Cell(COLUMNS[2], &sale, false),
            Cell(COLUMNS[3], &l.amount, false),
            Cell(COLUMNS[4], &currency, false),
        ],
    );
}
