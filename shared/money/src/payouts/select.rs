//! What a run pays, read a page at a time (issue 43): a partner's live lines come from the live
//! index (`ledger::index::LIVE`, by partner), [`PAGE`] ids per query and their lines
//! [`READS_IN_FLIGHT`] reads at a time, so a run holds one page of lines, never the partner's
//! ledger, and reads nothing of the lines it paid before.

use futures::{StreamExt, TryStreamExt};

use crate::domain::{CommissionId, Currency, Handle, PartnerId, PayoutId};
use crate::kernel::io::Io;
use crate::ledger::model::{Commission, Status};
use crate::ledger::{due, index};
use crate::payouts::RunSpec;
use crate::payouts::budget::Budget;
use crate::payouts::model::PayoutError;
use crate::payouts::place::Nets;
use crate::platform::store::{Query, Store, StoreError};

/// Index entries per query.
pub const PAGE: usize = 500;
/// Line reads in flight at once.
const READS_IN_FLIGHT: usize = 64;

/// A partner's live lines (pending, or approved and unpaid), a page at a time, in id order.
pub struct LivePages<'a> {
    store: &'a dyn Store,
    handle: &'a Handle,
    query: Option<Query>,
}

impl<'a> LivePages<'a> {
    pub fn of(store: &'a dyn Store, handle: &'a Handle, partner: &PartnerId) -> Self {
        Self::after(store, handle, (partner, false), None)
    }

    /// The pages after the index key `after` (a place saved by [`Self::place`]); of test
    /// mode's lines when `test`.
    pub fn after(
        store: &'a dyn Store,
        handle: &'a Handle,
        (partner, test): (&PartnerId, bool),
        after: Option<String>,
    ) -> Self {
        let live = index::of_test(index::LIVE, test);
        let query = index::entries_of(handle, live, partner.as_str(), PAGE);
        Self {
            store,
            handle,
            query: Some(Query { after, ..query }),
        }
    }

    /// Where the next page begins: the index key it starts after (`None`: the first page).
    /// Past the end, `Err(())`.
    #[allow(clippy::result_unit_err)]
    pub fn place(&self) -> Result<Option<String>, ()> {
        self.query.as_ref().map(|q| q.after.clone()).ok_or(())
    }

    /// The next page of lines within `budget` (refused once it is spent: nothing read); `None`
    /// past the end. Round trips: ONE index query, then ONE read per line,
    /// [`READS_IN_FLIGHT`] at a time.
    pub async fn next_within(
        &mut self,
        budget: &Budget,
    ) -> Result<Option<Vec<Commission>>, PayoutError> {
        if self.query.is_none() {
            return Ok(None);
        }
        budget.check().map_err(|_| PayoutError::Suspended)?;
        let lines = self.next().await?;
        budget.spend(lines.as_ref().map_or(0, Vec::len));
        Ok(lines)
    }

    /// The next page of lines; `None` past the end. Round trips: ONE index query, then ONE
    /// read per line, [`READS_IN_FLIGHT`] at a time.
    pub async fn next(&mut self) -> Result<Option<Vec<Commission>>, StoreError> {
        let Some(query) = self.query.take() else {
            return Ok(None);
        };
        let page = self.store.query(query.clone()).await?;
        if let Some(after) = page.next {
            self.query = Some(Query {
                after: Some(after),
                ..query
            });
        }
        let ids: Vec<CommissionId> = page
            .items
            .iter()
            .filter_map(|i| index::line_id(&i.sk))
            .collect();
        read_lines(self.store, self.handle, &ids).await.map(Some)
    }
}

/// The lines of `ids` that exist, in their order. Round trips: ONE read per line,
/// [`READS_IN_FLIGHT`] at a time.
pub async fn read_lines(
    store: &dyn Store,
    handle: &Handle,
    ids: &[CommissionId],
) -> Result<Vec<Commission>, StoreError> {
    // Collected first: a stream over the closure's futures is not provably `Send`.
    let reads: Vec<_> = ids
        .iter()
        .map(|id| crate::ledger::get(store, handle, id))
        .collect();
    let lines: Vec<Option<Commission>> = futures::stream::iter(reads)
        .buffered(READS_IN_FLIGHT)
        .try_collect()
        .await?;
    Ok(lines.into_iter().flatten().collect())
}

/// Payable by this run: approved, in no payout, its amount known, and available by the
/// period's end (an open negative line whenever it was made).
pub fn payable(line: &Commission, spec: &RunSpec) -> bool {
    line.status == Status::Approved
        && line.test == spec.test
        && line.payout_id.is_none()
        && line.amount_minor.is_some()
        && (line.minor() < 0 || line.available_at_ms() <= spec.period_end_ms)
}

/// Pass one of a partner's run, from `at` (its place in the live index and the sums so far):
/// per currency, the net it would be paid, counting the lines this run's payout (`ours`)
/// already claimed on an earlier try. Due pending lines are approved on the way (ONE
/// transaction each). Holds the sums only. `at` moves past each page read, so a call stopped
/// (`Suspended`) when `budget` is spent is taken up where it stopped.
pub async fn tally(
    io: Io<'_>,
    handle: &Handle,
    partner: &PartnerId,
    (spec, budget): (&RunSpec, &Budget),
    now_ms: i64,
    ours: &(dyn Fn(Currency) -> PayoutId + Sync),
    at: &mut (Option<String>, Nets),
) -> Result<(), PayoutError> {
    let from = (partner, spec.test);
    let mut pages = LivePages::after(io.store.as_ref(), handle, from, at.0.clone());
    while let Some(lines) = pages.next_within(budget).await? {
        for line in lines {
            let mine = line.payout_id.as_ref() == Some(&ours(line.currency));
            let line = match mine {
                true => line,
                false => due::approve_if_due(io, handle, line, now_ms).await?,
            };
            if mine || payable(&line, spec) {
                *at.1.0.entry(line.currency).or_default() += line.minor();
            }
        }
        if let Ok(next) = pages.place() {
            at.0 = next;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payouts::fixtures::line;

    const PERIOD_END: i64 = 1_800_000_000_000;

    fn run(test: bool) -> RunSpec {
        RunSpec {
            period_end_ms: PERIOD_END,
            partner_id: None,
            minimums: Default::default(),
            test,
        }
    }

    #[test]
    fn an_approved_line_available_by_the_periods_end_is_paid_and_no_other() {
        let due = line(Some(499), PERIOD_END);
        assert!(
            payable(&due, &run(false)),
            "available at the period's end itself"
        );
        let later = line(Some(499), PERIOD_END + 1);
        assert!(!payable(&later, &run(false)), "not yet available");
        for status in [
            Status::Pending,
            Status::Held,
            Status::Rejected,
            Status::Capped,
            Status::Paid,
        ] {
            let mut l = line(Some(499), PERIOD_END - 1);
            l.status = status;
            assert!(!payable(&l, &run(false)), "{status:?}");
        }
    }

    #[test]
    fn a_line_in_a_payout_or_without_its_rate_waits() {
        let mut placed = line(Some(499), PERIOD_END - 1);
        placed.payout_id = Some(PayoutId::new());
        assert!(!payable(&placed, &run(false)), "already in a payout");
        let unrated = line(None, PERIOD_END - 1);
        assert!(
            !payable(&unrated, &run(false)),
            "its amount waits for an exchange rate"
        );
    }

    #[test]
    fn money_owed_back_is_taken_whenever_it_was_made() {
        let clawback = line(Some(-250), PERIOD_END + 86_400_000);
        assert!(
            payable(&clawback, &run(false)),
            "a negative line nets at once"
        );
    }

    #[test]
    fn test_money_and_real_money_never_share_a_run() {
        let mut test_line = line(Some(499), PERIOD_END - 1);
        test_line.test = true;
        assert!(
            !payable(&test_line, &run(false)),
            "a real run never pays a test line"
        );
        assert!(payable(&test_line, &run(true)), "a test run pays it");
        let real = line(Some(499), PERIOD_END - 1);
        assert!(
            !payable(&real, &run(true)),
            "a test run never pays a real line"
        );
    }
}
