//! A payout request's share of the work (issue 43): a run or status change does what fits its
//! budget (`TENX_PAYOUT_SYNC_LINES` lines within `TENX_PAYOUT_SYNC_SECS`) and answers it done,
//! exactly as before; past the budget it leaves the rest to the sweeper (`payouts::jobs`) and
//! answers it running. The same request repeated answers running while the job is left, and
//! done (the same answer as a request that did it all) once it is gone.

use crate::domain::{Handle, PayoutId, PayoutRunKey};
use crate::kernel::io::Io;
use crate::payouts::budget::Budget;
use crate::payouts::jobs::{self, Job, Work};
use crate::payouts::model::{Payout, PayoutError};
use crate::payouts::place::Place;
use crate::payouts::settle::{self, Change};
use crate::payouts::{self, Payer, RunId, RunSpec};
use crate::platform::store::{Query, Store, StoreError, keys};

/// Where a request left its work.
#[derive(Clone, Debug)]
pub enum Progress<T> {
    /// Finished: the answer.
    Done(T),
    /// Going on in the background: what is done so far.
    Running(T),
}

/// A status change's payout and how many of its lines are settled so far.
#[derive(Clone, Debug)]
pub struct Settling {
    pub payout: Payout,
    pub lines_settled: usize,
}

/// A run within the request's `budget` (`Budget::request`); the rest to the sweeper.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn run(
    (payer, budget): (Payer<'_>, &Budget),
    handle: &Handle,
    key: &PayoutRunKey,
    spec: &RunSpec,
    by: &str,
) -> Result<Progress<Vec<Payout>>, PayoutError> {
    let store = payer.io.store.as_ref();
    if spec.test && !crate::test_mode::get(store, handle).await?.enabled {
        return Err(PayoutError::InvalidState(
            "Test mode is off: a run of test money is made only while it is on.".to_owned(),
        ));
    }
    let key_hash = payouts::key_hash(key);
    let id = payouts::run_record(store, handle, &key_hash, spec).await?;
    if id.done {
        return Ok(Progress::Done(made_by(store, handle, &id).await?));
    }
    let job = Job {
        handle: handle.clone(),
        work: Work::Run {
            key_hash,
            spec: spec.clone(),
            by: by.to_owned(),
            place: Place::default(),
        },
    };
    if jobs::find(store, &job).await?.is_some()
        || !run_lease::take(store, handle, &id.key_hash).await?
    {
        return Ok(Progress::Running(made_by(store, handle, &id).await?));
    }
    let outcome = work((payer, budget), handle, (&id, spec, by), job).await;
    run_lease::release(store, handle, &id.key_hash).await;
    outcome
}

/// The run's work within `budget`, and the job that carries the rest when it is cut short.
async fn work(
    (payer, budget): (Payer<'_>, &Budget),
    handle: &Handle,
    (id, spec, by): (&RunId, &RunSpec, &str),
    mut job: Job,
) -> Result<Progress<Vec<Payout>>, PayoutError> {
    let store = payer.io.store.as_ref();
    let mut place = Place::default();
    match payouts::run(payer, handle, id, (spec, budget), by, &mut place).await {
        Ok(made) => Ok(Progress::Done(made)),
        Err(PayoutError::Suspended) => {
            // The sweeper goes on from where this request stopped.
            if let Work::Run { place: left, .. } = &mut job.work {
                *left = place;
            }
            jobs::enqueue(store, &job).await?;
            Ok(Progress::Running(made_by(store, handle, id).await?))
        }
        Err(e) => Err(e),
    }
}

/// One call of a run works at a time. A second call of the same run while the first works
/// (the same click again after a lost answer) answers what the first has made so far, as while
/// its job is left, instead of claiming beside it: two calls could stage different lines for
/// one payout, whose amount then disagrees with its lines. Held until the call stops; a call
/// that crashed holding it gives it up after [`run_lease::SECS`].
pub mod run_lease {
    use crate::domain::Handle;
    use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys, now_unix};

    /// Longer than any call's budget (`TENX_PAYOUT_SYNC_SECS`) and a function's timeout.
    pub const SECS: i64 = 300;

    fn key(handle: &Handle, key_hash: &str) -> (String, String) {
        let (pk, sk) = keys::payout_run(handle, key_hash);
        (pk, format!("{sk}#working"))
    }

    /// Takes the run's lease: `false` while another call holds it.
    pub async fn take(
        store: &dyn Store,
        handle: &Handle,
        key_hash: &str,
    ) -> Result<bool, StoreError> {
        let (pk, sk) = key(handle, key_hash);
        let item = Item::new(pk, sk, serde_json::json!({})).expiring_at(Some(now_unix() + SECS));
        match store
            .write(WriteOp::Put {
                item,
                cond: Cond::Absent,
            })
            .await
        {
            Ok(_) => Ok(true),
            Err(StoreError::ConditionFailed { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Gives the lease up (a failure to is logged: it ends by itself).
    pub async fn release(store: &dyn Store, handle: &Handle, key_hash: &str) {
        let (pk, sk) = key(handle, key_hash);
        let delete = WriteOp::Delete {
            pk,
            sk,
            cond: Cond::None,
        };
        if let Err(e) = store.write(delete).await {
            tracing::warn!(error = %e, "a payout run's lease was not given up; it ends in 5 minutes");
        }
    }
}

/// The payouts run `id` has made so far, in the order a run makes them (by partner, then
/// currency). Their ids begin with the run's first time and end with a hash of its key, the
/// partner and the currency, so ONE query per 1,000 payouts of that millisecond finds them,
/// and a payout of another run of the same millisecond is told apart.
pub async fn made_by(
    store: &dyn Store,
    handle: &Handle,
    id: &RunId,
) -> Result<Vec<Payout>, StoreError> {
    let time_prefix = PayoutId::of_run(id.created_ms, "");
    let prefix = &time_prefix.as_str()[..time_prefix.as_str().len() - 20];
    let mut query = Query::prefix(keys::payouts_pk(handle), prefix, 1000);
    let mut out = Vec::new();
    loop {
        let page = store.query(query.clone()).await?;
        for item in &page.items {
            let p = Payout::from_item(item)?;
            let ours =
                payouts::payout_id_of(&id.key_hash, id.created_ms, &p.partner_id, p.currency);
            if ours == p.payout_id {
                out.push(p);
            }
        }
        match page.next {
            Some(after) => query.after = Some(after),
            None => break,
        }
    }
    out.sort_by(|a, b| {
        (a.partner_id.as_str(), a.currency).cmp(&(b.partner_id.as_str(), b.currency))
    });
    Ok(out)
}

/// A status change within the request's budget: the status at once (with `payout.paid`), the
/// lines as far as the budget goes, the rest to the sweeper.
#[tracing::instrument(skip_all, fields(handle = %handle, payout = %id))]
pub async fn change(
    (io, budget): (Io<'_>, &Budget),
    handle: &Handle,
    id: &PayoutId,
    change: Change,
) -> Result<Progress<Settling>, PayoutError> {
    let payout = settle::status(io, handle, (id, settle::Settler::Alone), change).await?;
    let store = io.store.as_ref();
    let mut job = Job {
        handle: handle.clone(),
        work: Work::Settle {
            payout_id: id.clone(),
            next_page: 0,
        },
    };
    let settling = |page: u32, payout: Payout| Settling {
        lines_settled: usize::try_from(page)
            .unwrap_or(usize::MAX)
            .saturating_mul(payouts::lines::PAGE)
            .min(payout.commission_count),
        payout,
    };
    if let Some(Job {
        work: Work::Settle { next_page, .. },
        ..
    }) = jobs::find(store, &job).await?
    {
        return Ok(Progress::Running(settling(next_page, payout)));
    }
    if jobs::is_settled(store, handle, id).await? {
        return Ok(Progress::Done(settling(u32::MAX, payout)));
    }
    match settle::settle_from(store, handle, &payout, 0, budget).await? {
        None => Ok(Progress::Done(settling(u32::MAX, payout))),
        Some(page) => {
            job.work = Work::Settle {
                payout_id: id.clone(),
                next_page: page,
            };
            jobs::enqueue(store, &job).await?;
            Ok(Progress::Running(settling(page, payout)))
        }
    }
}
