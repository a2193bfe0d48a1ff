//! The mail queue in an operator's view (`tenx status`, beside the event pipeline's backlog):
//! mail waiting to be sent (its pending entries: new, retried, or held by an hourly limit), mail
//! that ended `failed` in the last 30 days (its markers), and the mail queue's depth.

use serde::Serialize;

use crate::platform::queue::{Depth, Queue, QueueError, QueueName};
use crate::platform::store::{Item, Query, Store, StoreError, WriteOp, keys};

/// How long a failed mail is counted.
const FAILED_KEPT_SECS: i64 = 30 * 86_400;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MailCensus {
    /// Messages not finished: queued, retried after a temporary failure, or held by a limit.
    pub queued: u64,
    /// The oldest of them (RFC 3339), if any.
    pub oldest_queued: Option<String>,
    /// Messages that ended `failed` in the last 30 days.
    pub failed: u64,
    pub queue: Option<Depth>,
}

#[derive(Debug, thiserror::Error)]
pub enum CensusError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// The marker of a mail that ended `failed`, written with its outcome.
pub(crate) fn failed_op(handle: Option<&crate::domain::Handle>, mail_id: &str) -> WriteOp {
    let now = crate::platform::time::now_millis();
    let doc = serde_json::json!({ "handle": handle, "mailId": mail_id });
    WriteOp::Put {
        item: Item::new(
            keys::MAIL_FAILED_PK,
            keys::mail_pending_sk(now, mail_id),
            doc,
        )
        .expiring_at(Some(now / 1000 + FAILED_KEPT_SECS)),
        cond: crate::platform::store::Cond::None,
    }
}

/// Counts the pending entries and the failed markers (ONE query per 1,000 of each) and reads
/// the mail queue's depth. An operator's read, never a request's.
pub async fn read(store: &dyn Store, queue: &dyn Queue) -> Result<MailCensus, CensusError> {
    use crate::platform::store::for_each_item;
    let mut census = MailCensus::default();
    let mut oldest: Option<i64> = None;
    for_each_item::<StoreError>(store, Query::all(keys::MAIL_PENDING_PK), |item| {
        census.queued += 1;
        let at = item.sk.get(..13).and_then(|t| t.parse::<i64>().ok());
        oldest = oldest.into_iter().chain(at).min();
        Ok(std::ops::ControlFlow::Continue(()))
    })
    .await?;
    census.oldest_queued = oldest.map(crate::domain::time::unix_millis_to_rfc3339);
    let cutoff = crate::platform::time::now_millis() - FAILED_KEPT_SECS * 1000;
    for_each_item::<StoreError>(store, Query::all(keys::MAIL_FAILED_PK), |item| {
        let at = item.sk.get(..13).and_then(|t| t.parse::<i64>().ok());
        if at.is_some_and(|at| at >= cutoff) {
            census.failed += 1;
        }
        Ok(std::ops::ControlFlow::Continue(()))
    })
    .await?;
    census.queue = queue.depth(QueueName::Mail).await?;
    Ok(census)
}

/// The census in words, a line each (`tenx status`).
pub fn describe(c: &MailCensus) -> Vec<String> {
    let mut lines = vec![match (c.queued, &c.oldest_queued) {
        (0, _) | (_, None) => "No mail waits to be sent.".to_owned(),
        (n, Some(oldest)) => format!(
            "{} to be sent (new, retried, or held by an hourly limit), the oldest queued at {oldest}.",
            if n == 1 {
                "1 mail waits".to_owned()
            } else {
                format!("{n} mails wait")
            }
        ),
    }];
    lines.push(match c.failed {
        0 => "No mail failed in the last 30 days.".to_owned(),
        n => format!(
            "{} in the last 30 days (each handle's admins see why in the console's Sent mail).",
            if n == 1 {
                "1 mail failed".to_owned()
            } else {
                format!("{n} mails failed")
            }
        ),
    });
    lines.push(match &c.queue {
        Some(d) => format!(
            "The mail queue holds {} waiting, {} being handled or delayed, {} dead-lettered.",
            d.waiting, d.in_flight, d.dead
        ),
        None => "The mail queue does not tell its depth.".to_owned(),
    });
    lines
}
