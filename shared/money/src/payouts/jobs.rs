//! Payout work carried on by the sweeper (issue 43): a run or a status change whose request
//! spent its budget (`payouts::budget`) leaves a job here, and each sweep (the scheduled
//! sweeper function on AWS, `tenx serve`'s sweeper task locally) advances every job within its
//! own budget until it is done, whether or not the client ever asks again.
//!
//! The jobs live in the table (`PAYJOB`, across handles) rather than on a queue of their own:
//! a job is durable from its put (no window between a commit and an enqueue for an outbox to
//! cover), the sweeper already runs on a schedule with a 60 s timeout where the API has 10 s,
//! and no queue, worker function or IAM grant of SQS is added for work that is rare and
//! resumable. Exactly once comes from the work, not the delivery: a run resumes by its key
//! (claims version-checked, payout put-if-absent) and a settlement changes each line only if it
//! is not changed yet, so a job advanced twice at once, or cut mid-way, pays no line twice.

use serde::{Deserialize, Serialize};

use crate::domain::{Handle, PayoutId};
use crate::kernel::io::Io;
use crate::payouts::budget::Budget;
use crate::payouts::model::{PayoutError, PayoutStatus};
use crate::payouts::place::Place;
use crate::payouts::{self, Payer, RunSpec};
use crate::platform::store::{Cond, Item, Query, Store, StoreError, WriteOp, keys, to_doc};

/// Jobs one sweep looks at.
const JOBS_PER_SWEEP: usize = 100;

/// What is left to do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Work {
    /// A run of this key to finish (its record holds when it was first asked for).
    #[serde(rename_all = "camelCase")]
    Run {
        key_hash: String,
        spec: RunSpec,
        by: String,
        /// Where the run stopped (its start for a job saved before places were kept).
        #[serde(default)]
        place: Place,
    },
    /// A status change's lines to settle, from this page of ids on.
    #[serde(rename_all = "camelCase")]
    Settle { payout_id: PayoutId, next_page: u32 },
}

/// One job: a handle's work.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub handle: Handle,
    pub work: Work,
}

impl Job {
    /// The key of the job of a run, or of a payout's settlement.
    fn key(&self) -> (String, String) {
        let sk = match &self.work {
            Work::Run { key_hash, .. } => keys::payout_job_sk(&self.handle, "run", key_hash),
            Work::Settle { payout_id, .. } => {
                keys::payout_job_sk(&self.handle, "settle", payout_id.as_str())
            }
        };
        (keys::PAYOUT_JOBS_PK.to_owned(), sk)
    }

    fn put(&self, cond: Cond) -> Result<WriteOp, StoreError> {
        let (pk, sk) = self.key();
        Ok(WriteOp::Put {
            item: Item::new(pk, sk, to_doc(self)?),
            cond,
        })
    }
}

/// Leaves `job` to the sweeper, unless a job for the same work is there already (kept, with
/// its progress). Round trips: ONE put-if-absent.
pub async fn enqueue(store: &dyn Store, job: &Job) -> Result<(), StoreError> {
    match store.write(job.put(Cond::Absent)?).await {
        Ok(_) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The job for a run (by its key's hash) or a payout's settlement, if one is left. Round trips:
/// ONE read.
pub async fn find(store: &dyn Store, like: &Job) -> Result<Option<Job>, StoreError> {
    let (pk, sk) = like.key();
    store.get(&pk, &sk).await?.map(|i| i.parse()).transpose()
}

/// Records a job's progress, unless it was finished meanwhile (by another sweep): a finished
/// job is never brought back. Round trips: ONE conditional put.
async fn save(store: &dyn Store, job: &Job) -> Result<(), StoreError> {
    match store.write(job.put(Cond::Exists)?).await {
        Ok(_) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

async fn finish(store: &dyn Store, job: &Job) -> Result<(), StoreError> {
    let (pk, sk) = job.key();
    let delete = WriteOp::Delete {
        pk,
        sk,
        cond: Cond::None,
    };
    store.write(delete).await.map(|_| ())
}

/// One step of `job` within `budget`: answers whether it is done (and gone). A step of a job
/// already done (a second sweep, a redelivery) finds nothing left and changes nothing. A run
/// not done, cut by its budget or failed, saves its place in the job: the next step goes on
/// from there.
pub async fn advance(payer: Payer<'_>, job: &Job, budget: &Budget) -> Result<bool, PayoutError> {
    let store = payer.io.store.as_ref();
    let done = match &job.work {
        Work::Run {
            key_hash,
            spec,
            by,
            place,
        } => {
            let mut place = place.clone();
            let done = run_step(payer, &job.handle, key_hash, (spec, budget), by, &mut place).await;
            if !matches!(done, Ok(true)) {
                let mut next = job.clone();
                if let Work::Run { place: saved, .. } = &mut next.work {
                    *saved = place;
                }
                save(store, &next).await?;
            }
            done?
        }
        Work::Settle {
            payout_id,
            next_page,
        } => match settle_step(payer.io, &job.handle, payout_id, *next_page, budget).await? {
            None => true,
            Some(page) => {
                let mut next = job.clone();
                next.work = Work::Settle {
                    payout_id: payout_id.clone(),
                    next_page: page,
                };
                save(store, &next).await?;
                false
            }
        },
    };
    if done {
        finish(store, job).await?;
    }
    Ok(done)
}

/// A run carried on from `place` (moved to where it stops): done once it makes its last payout
/// (then recorded done, so its repeat answers what it made).
async fn run_step(
    payer: Payer<'_>,
    handle: &Handle,
    key_hash: &str,
    (spec, budget): (&RunSpec, &Budget),
    by: &str,
    place: &mut Place,
) -> Result<bool, PayoutError> {
    let store = payer.io.store.as_ref();
    let id = payouts::run_record(store, handle, key_hash, spec).await?;
    if id.done {
        return Ok(true);
    }
    match payouts::run(payer, handle, &id, (spec, budget), by, place).await {
        Ok(_) => {
            payouts::run_done(store, handle, &id, spec).await?;
            Ok(true)
        }
        Err(PayoutError::Suspended) => Ok(false),
        Err(e) => Err(e),
    }
}

/// A settlement carried on from `page`: `None` once every line is settled (then the payout is
/// marked settled), else the page to go on from.
async fn settle_step(
    io: Io<'_>,
    handle: &Handle,
    id: &PayoutId,
    page: u32,
    budget: &Budget,
) -> Result<Option<u32>, PayoutError> {
    let store = io.store.as_ref();
    let Some(p) = payouts::get(store, handle, id).await? else {
        return Ok(None);
    };
    if matches!(p.status, PayoutStatus::Pending | PayoutStatus::Sending) {
        return Ok(None);
    }
    let left = payouts::settle::settle_from(store, handle, &p, page, budget).await?;
    if left.is_none() {
        mark_settled(store, handle, id).await?;
    }
    Ok(left)
}

/// Marks a payout's lines settled. Round trips: ONE put.
pub async fn mark_settled(
    store: &dyn Store,
    handle: &Handle,
    id: &PayoutId,
) -> Result<(), StoreError> {
    let (pk, sk) = keys::payout_settled(handle, id);
    let at = crate::platform::time::now_rfc3339();
    let put = WriteOp::Put {
        item: Item::new(pk, sk, serde_json::json!({ "settledAt": at })),
        cond: Cond::None,
    };
    store.write(put).await.map(|_| ())
}

/// Whether the sweeper finished settling the payout's lines. Round trips: ONE read.
pub async fn is_settled(
    store: &dyn Store,
    handle: &Handle,
    id: &PayoutId,
) -> Result<bool, StoreError> {
    let (pk, sk) = keys::payout_settled(handle, id);
    Ok(store.get(&pk, &sk).await?.is_some())
}

/// The jobs left, oldest key first (at most [`JOBS_PER_SWEEP`]). Round trips: ONE query.
pub async fn pending(store: &dyn Store) -> Result<Vec<Job>, StoreError> {
    let mut query = Query::all(keys::PAYOUT_JOBS_PK.to_owned());
    query.limit = JOBS_PER_SWEEP;
    let page = store.query(query).await?;
    let mut jobs = Vec::with_capacity(page.items.len());
    for item in &page.items {
        match item.parse::<Job>() {
            Ok(job) => jobs.push(job),
            Err(e) => tracing::error!(sk = %item.sk, error = %e, "unreadable payout job"),
        }
    }
    Ok(jobs)
}

/// One sweep: every job left, one after another, within ONE [`Budget::sweep`] (so a sweep ends
/// inside its function's timeout). A failing job is logged and left for the next sweep.
/// Answers how many finished.
pub async fn sweep(payer: Payer<'_>) -> Result<usize, StoreError> {
    let budget = Budget::sweep();
    let mut finished = 0;
    for job in pending(payer.io.store.as_ref()).await? {
        if budget.check().is_err() {
            break;
        }
        match advance(payer, &job, &budget).await {
            Ok(true) => finished += 1,
            Ok(false) => {}
            // Left for the next sweep.
            Err(e) => tracing::warn!(handle = %job.handle, error = %e, "payout job failed"),
        }
    }
    Ok(finished)
}
