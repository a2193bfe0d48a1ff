//! A payout's lines claimed, freed or paid, a page at a time and in batched transactions
//! (issue 43): each line's write names the payout and is checked against the version read,
//! so two runs never pay one line and a line changed meanwhile is read again and done alone.

use crate::domain::{CommissionId, Currency, Handle, PartnerId, PayoutId};
use crate::ledger::batch;
use crate::ledger::model::{Commission, Status};
use crate::payouts::RunSpec;
use crate::payouts::budget::Budget;
use crate::payouts::model::PayoutError;
use crate::payouts::select::{self, LivePages};
use crate::payouts::stage;
use crate::platform::store::{Store, StoreError};

/// Pass two of a partner's run: claims for payout `id` every payable line of `currency` (and
/// keeps those it claimed on an earlier try), page by page in id order from `after` (its place
/// in the live index), staging each page's claims (`payouts::stage`) before moving `after`
/// past it. Round trips: per page of 500 live lines, ONE query and 500 reads, then ONE
/// transaction per ~99 lines claimed and ONE staging put. Stops (`Suspended`) when `budget` is
/// spent, its claims kept and staged: a later call from `after` claims the rest.
pub async fn claim_all(
    store: &dyn Store,
    handle: &Handle,
    (partner, currency): (&PartnerId, Currency),
    id: &PayoutId,
    (spec, budget): (&RunSpec, &Budget),
    after: &mut Option<String>,
) -> Result<(), PayoutError> {
    let mut pages = LivePages::after(store, handle, (partner, spec.test), after.clone());
    while let Some(lines) = pages.next_within(budget).await? {
        let (mut page, wanted): (Vec<Commission>, Vec<Commission>) = lines
            .into_iter()
            .filter(|l| l.currency == currency)
            .filter(|l| l.payout_id.as_ref() == Some(id) || select::payable(l, spec))
            .partition(|l| l.payout_id.as_ref() == Some(id));
        page.extend(claim_page(store, handle, id, wanted).await?);
        stage::put(store, handle, id, after.as_deref(), &page).await?;
        if let Ok(next) = pages.place() {
            *after = next;
        }
    }
    Ok(())
}

/// Claims `lines` (as read) for `id` in batched transactions; a refused batch's lines one by
/// one. Answers the lines claimed, as stored.
async fn claim_page(
    store: &dyn Store,
    handle: &Handle,
    id: &PayoutId,
    lines: Vec<Commission>,
) -> Result<Vec<Commission>, StoreError> {
    let changed = lines.into_iter().map(|mut l| {
        l.payout_id = Some(id.clone());
        l
    });
    let done = batch::update_many(store, handle, changed.collect()).await?;
    let mut out = done.committed;
    for line in done.refused {
        out.extend(claim_one(store, handle, id, line).await?);
    }
    Ok(out)
}

/// One line: claimed for `id` (or found claimed by it), or `None` when another payout has it or
/// it is no longer payable. A version that moved for another reason (the approval sweep, a
/// review) is read again and the claim retried: dropping it would leave the line in no payout.
async fn claim_one(
    store: &dyn Store,
    handle: &Handle,
    id: &PayoutId,
    mut line: Commission,
) -> Result<Option<Commission>, StoreError> {
    for _ in 0..8 {
        let mut next = line.clone();
        next.payout_id = Some(id.clone());
        match store.transact(next.update(handle)?).await {
            Ok(()) => {
                next.updated();
                return Ok(Some(next));
            }
            Err(StoreError::TxConflict { index: 0, .. }) => {
                let Some(fresh) = crate::ledger::get(store, handle, &line.commission_id).await?
                else {
                    return Ok(None);
                };
                if fresh.payout_id.as_ref() == Some(id) {
                    return Ok(Some(fresh));
                }
                if !fresh.is_open() || fresh.amount_minor != line.amount_minor {
                    return Ok(None);
                }
                line = fresh;
            }
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Unavailable(
        "the commission kept changing".into(),
    ))
}

/// Gives the lines claimed by `id` back to the next run (a payout not made, failed or
/// canceled).
#[tracing::instrument(skip_all, fields(handle = %handle, payout = %id))]
pub async fn release(
    store: &dyn Store,
    handle: &Handle,
    id: &PayoutId,
    ids: &[CommissionId],
) -> Result<(), StoreError> {
    change_all(store, handle, ids, |c| {
        (c.payout_id.as_ref() == Some(id)).then(|| {
            let mut n = c.clone();
            n.payout_id = None;
            n.status = Status::Approved;
            n
        })
    })
    .await
}

/// Changes each line of `ids` by `change` (`None`: leave it), 500 at a time: read, then
/// written in batched transactions; a line changed meanwhile is read again and done alone.
pub async fn change_all(
    store: &dyn Store,
    handle: &Handle,
    ids: &[CommissionId],
    change: impl Fn(&Commission) -> Option<Commission>,
) -> Result<(), StoreError> {
    for chunk in ids.chunks(select::PAGE) {
        let lines = select::read_lines(store, handle, chunk).await?;
        let changed: Vec<Commission> = lines.iter().filter_map(&change).collect();
        let done = batch::update_many(store, handle, changed).await?;
        for line in done.refused {
            set_line(store, handle, &line.commission_id, &change).await?;
        }
    }
    Ok(())
}

/// Rewrites one line with `change` (None: leave it), version-checked and retried.
pub(crate) async fn set_line(
    store: &dyn Store,
    handle: &Handle,
    id: &CommissionId,
    change: impl Fn(&Commission) -> Option<Commission>,
) -> Result<(), StoreError> {
    for _ in 0..8 {
        let Some(line) = crate::ledger::get(store, handle, id).await? else {
            return Ok(());
        };
        let Some(mut next) = change(&line) else {
            return Ok(());
        };
        next.version = line.version;
        next.as_read = line.as_read.clone();
        match store.transact(next.update(handle)?).await {
            Ok(()) => return Ok(()),
            Err(StoreError::TxConflict { index: 0, .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Unavailable(
        "the commission kept changing".into(),
    ))
}
