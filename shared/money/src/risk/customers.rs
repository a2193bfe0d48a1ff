//! A program's minimum of paying customers before a partner's first payout (issue 83,
//! `minCustomersBeforePayout`): a partner that signed up to pay itself out on one or two sales
//! of its own waits until it has brought that many distinct customers. Counted from the
//! partner's conversion lines, not kept anywhere: the same answer after any replay.

use std::collections::BTreeSet;

use crate::domain::{Handle, PartnerId};
use crate::ledger::Filter;
use crate::ledger::model::{Kind, Status};
use crate::platform::store::{Store, StoreError};

/// Lines read per page.
const PAGE: usize = 1000;

/// The distinct paying customers `partner` brought, counted up to `enough` (reading stops
/// there). A sale names its customer when it was bound to one, else it is a customer of its
/// own; a rejected, capped or refunded sale does not count. Round trips: ONE index query per
/// 1,000 lines and ONE read per line, until `enough` or the end.
pub async fn paying_customers(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    enough: usize,
) -> Result<usize, StoreError> {
    let filter = Filter {
        partner_id: Some(partner.clone()),
        kind: Some(Kind::Conversion),
        ..Filter::default()
    };
    let mut customers = BTreeSet::new();
    let mut after = None;
    loop {
        let (lines, next) = crate::ledger::list(store, handle, &filter, PAGE, after).await?;
        for l in lines {
            let paying = matches!(l.status, Status::Pending | Status::Approved | Status::Paid)
                && l.adjusted_by.is_none();
            if paying {
                let key = l.customer_id.as_ref().map_or_else(
                    || format!("sale:{}", l.commission_id),
                    |c| format!("customer:{c}"),
                );
                customers.insert(key);
            }
        }
        if customers.len() >= enough || next.is_none() {
            return Ok(customers.len());
        }
        after = next;
    }
}

/// Whether `partner` was ever paid out: a line of its marked paid. Round trips: ONE index
/// query (its paid lines, at most one) and ONE read.
pub async fn ever_paid(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
) -> Result<bool, StoreError> {
    let filter = Filter {
        partner_id: Some(partner.clone()),
        status: Some(Status::Paid),
        ..Filter::default()
    };
    let (lines, _) = crate::ledger::list(store, handle, &filter, 1, None).await?;
    Ok(!lines.is_empty())
}

/// Whether the program's minimum keeps `partner`'s payouts back: `Some((brought, minimum))`
/// while it has never been paid and brought fewer than `minimum` customers.
pub async fn below_minimum(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    minimum: u32,
) -> Result<Option<(usize, u32)>, StoreError> {
    let need = usize::try_from(minimum).unwrap_or(usize::MAX);
    if ever_paid(store, handle, partner).await? {
        return Ok(None);
    }
    let brought = paying_customers(store, handle, partner, need).await?;
    Ok((brought < need).then_some((brought, minimum)))
}
