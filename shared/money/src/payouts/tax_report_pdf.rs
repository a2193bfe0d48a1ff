//! Each 1099-NEC payee's copy (Copy B, for the recipient) as PDF, one page a payee: the payer
//! (the program's legal name and address from its self-billing details, else its branding's
//! name), the recipient's name, address and TIN (its last four digits, as a recipient's copy may
//! show it), the account number (the partner id) and box 1.

use crate::domain::Handle;
use crate::payouts::tax_report::{Payee, Report};
use crate::platform::pdf::{Cell, Sheet, rgb};
use crate::platform::store::{Store, StoreError};

/// The copies of `report`'s payees. Round trips: TWO reads (the program, the branding).
pub async fn copies_b(
    store: &dyn Store,
    handle: &Handle,
    report: &Report,
) -> Result<Vec<u8>, StoreError> {
    let brand = crate::mail::branding::get(store, handle)
        .await?
        .unwrap_or_else(|| crate::mail::branding::Branding::default_for(Some(handle)));
    let billing = crate::programs::settings::get(store, handle)
        .await?
        .and_then(|p| p.self_billing);
    let (payer, address) = match billing {
        Some(b) if !b.legal_name.is_empty() => (b.legal_name, b.address),
        _ => (brand.name.clone(), String::new()),
    };
    let accent = rgb(brand
        .color
        .as_deref()
        .unwrap_or(crate::mail::branding::DEFAULT_COLOR));
    let title = format!("Form 1099-NEC {} Copy B", report.year);
    let mut sheet = Sheet::new(&title, accent);
    if report.payees.is_empty() {
        sheet.text(
            12.0,
            true,
            &format!("Form 1099-NEC {}: no payee", report.year),
        );
        sheet.text(
            10.0,
            false,
            "No US payee was paid by bank or file at or over the year's threshold.",
        );
    }
    for (i, payee) in report.payees.iter().enumerate() {
        if i > 0 {
            sheet.new_page();
        }
        copy(&mut sheet, report.year, (&payer, &address), payee);
    }
    Ok(sheet.finish())
}

fn copy(sheet: &mut Sheet, year: i32, (payer, address): (&str, &str), p: &Payee) {
    sheet.text(14.0, true, &format!("Form 1099-NEC  {year}"));
    sheet.text(11.0, true, "Nonemployee Compensation");
    sheet.text(10.0, false, "Copy B  For Recipient");
    sheet.gap(8.0);
    let tin = p.profile.tax_id.as_deref().unwrap_or("");
    let last4: String = tin
        .chars()
        .skip(tin.chars().count().saturating_sub(4))
        .collect();
    let cents = p.paid_cents;
    let box1 = format!("${}.{:02}", cents / 100, cents % 100);
    for (label, value) in [
        ("PAYER'S name", payer.to_owned()),
        ("PAYER'S address", address.to_owned()),
        ("RECIPIENT'S TIN", format!("***-**-{last4}")),
        ("RECIPIENT'S name", p.profile.legal_name.clone()),
        (
            "RECIPIENT'S address",
            p.profile.address.clone().unwrap_or_default(),
        ),
        ("Account number", p.partner_id.to_string()),
        ("1 Nonemployee compensation", box1),
    ] {
        sheet.row(10.0, &[Cell(0.0, label, true), Cell(170.0, &value, false)]);
    }
    sheet.gap(10.0);
    sheet.text(
        9.0,
        false,
        "This is important tax information and is being furnished to the IRS. If you are \
         required to file a return, a negligence penalty or other sanction may be imposed on you \
         if this income is taxable and the IRS determines that it has not been reported.",
    );
    sheet.text(
        9.0,
        false,
        &format!(
            "The sum of the {} payouts paid to you in {year} by bank transfer or file, in US \
             dollars. Payments through PayPal or Stripe are reported by them on Form 1099-K.",
            p.payouts
        ),
    );
}
