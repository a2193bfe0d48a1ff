//! The year-end 1099-NEC figures: for each US payee (a partner whose tax profile is a W-9), what
//! the program paid it in the calendar year, in US dollars, by bank transfer or file (the only
//! ways a payout is paid here: a payment through PayPal or Stripe is reported by them, on a
//! 1099-K), when the year's sum reaches the year's threshold ([`threshold_cents`]). Opened for an
//! admin only, each report audited (`tax_reports.exported`) before anything is answered.

use serde::Serialize;

use crate::domain::sealed::Keyring;
use crate::domain::{Handle, PartnerId};
use crate::kernel::state::Unconfigured;
use crate::payout_methods::tax::{self, TaxError, TaxForm, TaxProfile};
#[cfg(test)]
use crate::payouts::model::ProviderRef;
use crate::payouts::model::{Payout, PayoutStatus};
use crate::platform::store::{Store, StoreError};

/// The reporting threshold of a calendar year's nonemployee compensation, in US cents: $600
/// through payments made in 2025 (26 U.S.C. 6041A(a)); $2,000 for payments made after
/// December 31, 2025 (Public Law 119-21, section 70433, amending 6041(a) and 6041A(a)), indexed
/// for inflation from 2027: a year after 2026 keeps $2,000 here until the IRS publishes its
/// figure and this table gains it.
pub fn threshold_cents(year: i32) -> i64 {
    if year <= 2025 { 60_000 } else { 200_000 }
}

/// The year's threshold, in US cents: the program's own for that year where it set one
/// (`programs::tax_threshold`: the IRS's inflation-indexed figure of a year after 2026), else
/// the law's ([`threshold_cents`]). Round trips: ONE read.
pub async fn threshold_for(
    store: &dyn Store,
    handle: &Handle,
    year: i32,
) -> Result<i64, StoreError> {
    let own = crate::programs::settings::get(store, handle)
        .await?
        .and_then(|p| {
            p.form1099_nec_thresholds
                .get(&format!("{year:04}"))
                .copied()
        });
    Ok(own.unwrap_or_else(|| threshold_cents(year)))
}

/// One payee's line.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Payee {
    pub partner_id: PartnerId,
    pub profile: TaxProfile,
    /// Box 1, in US cents.
    pub paid_cents: i64,
    pub payouts: usize,
}

/// The report: its year, threshold and payees (by partner id).
pub struct Report {
    pub year: i32,
    pub threshold_cents: i64,
    pub payees: Vec<Payee>,
}

/// How many payouts one page of the scan reads.
const PAGE: usize = 1_000;

/// The year's payees over the threshold (only `partner` when given). Round trips: ONE read (the
/// threshold), ONE query per 1,000 payouts of the handle, ONE query per 1,000 tax profiles, ONE
/// audited write.
#[tracing::instrument(skip_all, fields(handle = %handle, year))]
pub async fn report(
    store: &dyn Store,
    keys: Result<&Keyring, Unconfigured>,
    handle: &Handle,
    year: i32,
    partner: Option<&PartnerId>,
) -> Result<Report, TaxError> {
    let keys = keys?;
    let threshold = threshold_for(store, handle, year).await?;
    let paid = paid_in(store, handle, year).await?;
    let mut payees = Vec::new();
    for record in tax::list(store, handle).await? {
        if record.view.form != TaxForm::W9 || partner.is_some_and(|p| *p != record.partner_id) {
            continue;
        }
        let Some(&(cents, count)) = paid.get(&record.partner_id) else {
            continue;
        };
        if cents < threshold {
            continue;
        }
        payees.push(Payee {
            partner_id: record.partner_id.clone(),
            profile: tax::open(keys, handle, &record)?.profile,
            paid_cents: cents,
            payouts: count,
        });
    }
    let what = match payees.len() {
        1 => format!("1099-NEC {year}: 1 payee"),
        n => format!("1099-NEC {year}: {n} payees"),
    };
    store
        .write(crate::kernel::audit::entry(
            handle,
            "tax_reports.exported",
            &what,
        )?)
        .await?;
    Ok(Report {
        year,
        threshold_cents: threshold,
        payees,
    })
}

/// Per partner, the US dollars paid in `year` (cents) and by how many payouts.
async fn paid_in(
    store: &dyn Store,
    handle: &Handle,
    year: i32,
) -> Result<std::collections::HashMap<PartnerId, (i64, usize)>, StoreError> {
    let mut sums = std::collections::HashMap::new();
    let prefix = format!("{year:04}-");
    let mut after = None;
    loop {
        let (page, next) = crate::payouts::model::list(store, handle, PAGE, after).await?;
        for p in page {
            if on_1099_nec(&p, &prefix) {
                let e: &mut (i64, usize) = sums.entry(p.partner_id).or_default();
                e.0 = e.0.saturating_add(p.amount_minor);
                e.1 += 1;
            }
        }
        match next {
            Some(n) => after = Some(n),
            None => return Ok(sums),
        }
    }
}

/// A payout counts on the 1099-NEC when it was paid in US dollars in the year (`prefix`,
/// `YYYY-`) by bank or file: one paid through a payment settlement entity (Stripe, PayPal) is
/// reported by that entity on a 1099-K, never on the program's 1099-NEC too. A test payout
/// (test mode's lines, marked paid by hand) paid nobody: it is never reported.
fn on_1099_nec(p: &Payout, prefix: &str) -> bool {
    let in_year = p
        .paid_at
        .as_ref()
        .is_some_and(|t| t.as_str().starts_with(prefix));
    p.status == PayoutStatus::Paid
        && !p.test
        && in_year
        && p.currency.as_str() == "USD"
        && p.provider.is_none()
}

#[cfg(test)]
mod tests {
    use super::threshold_cents;

    #[test]
    fn a_payout_paid_through_a_provider_is_left_to_its_1099_k() {
        let mut p: super::Payout = serde_json::from_value(serde_json::json!({
            "payoutId": "pay_0195570b8d3e7f1a2b4c6d8e0f1a2b3c", "partnerId": "pub-one",
            "amountMinor": 90_000, "currency": "USD", "commissionCount": 1,
            "status": "paid", "periodStart": "2026-01-01", "periodEnd": "2026-02-01",
            "sequence": 1, "createdAt": "2026-02-01T00:00:00Z",
            "paidAt": "2026-02-03T00:00:00Z", "reference": "wire-1", "reason": null,
            "createdBy": "op"}))
        .expect("a payout");
        assert!(super::on_1099_nec(&p, "2026-"));
        assert!(!super::on_1099_nec(&p, "2025-"), "another year");
        p.provider = Some(super::ProviderRef {
            name: "paypal".into(),
            reference: Some("batch-1".into()),
            state: None,
        });
        assert!(!super::on_1099_nec(&p, "2026-"), "PayPal reports it");
        p.provider = None;
        p.currency = crate::domain::Currency::parse("EUR").unwrap();
        assert!(!super::on_1099_nec(&p, "2026-"), "not in dollars");
    }

    #[tokio::test]
    async fn a_paid_test_payout_in_dollars_is_never_reported() {
        let books = crate::payouts::fixtures::Books::new();
        let paid = |test: bool| {
            let id = crate::domain::PayoutId::new();
            let mut p = crate::payouts::fixtures::payout_of(id, &[90_000]);
            p.currency = crate::domain::Currency::parse("USD").unwrap();
            p.status = super::PayoutStatus::Paid;
            p.paid_at = Some(crate::domain::time::Timestamp::from_millis(
                1_770_000_000_000,
            ));
            p.reference = Some("wire-1".into());
            p.test = test;
            p
        };
        let (real, test) = (paid(false), paid(true));
        assert!(super::on_1099_nec(&real, "2026-"));
        assert!(
            !super::on_1099_nec(&test, "2026-"),
            "test money paid nobody"
        );
        for p in [&real, &test] {
            let put = crate::platform::store::WriteOp::Put {
                item: p.item(&books.handle).unwrap(),
                cond: crate::platform::store::Cond::Absent,
            };
            books.store.write(put).await.unwrap();
        }
        let sums = super::paid_in(books.store(), &books.handle, 2026)
            .await
            .unwrap();
        assert_eq!(
            sums.get(&crate::payouts::fixtures::partner()),
            Some(&(90_000, 1)),
            "the real payout alone: {sums:?}"
        );
    }

    #[test]
    fn the_threshold_follows_the_law_of_the_payments_year() {
        assert_eq!(threshold_cents(2024), 60_000);
        assert_eq!(threshold_cents(2025), 60_000);
        assert_eq!(threshold_cents(2026), 200_000);
    }
}
