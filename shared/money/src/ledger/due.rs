//! The hold's end: a `pending` line becomes `approved` at its `availableAt`. Each pending line has
//! an entry in one due index (`COMDUE`, sorted by time), written with the line and deleted with
//! its approval in ONE transaction, with the `commission.approved` outbox entry (an id derived
//! from the line): the scheduled sweep and a payout run may race, only one approval commits.

use crate::domain::{CommissionId, Handle};
use crate::kernel::io::Io;
use crate::ledger::model::{Commission, Status};
use crate::ledger::{emit, view};
use crate::platform::store::{Cond, Item, Query, SkRange, StoreError, WriteOp, keys};

fn key(handle: &Handle, line: &Commission) -> (String, String) {
    let sk = keys::commission_due_sk(
        line.available_at_ms().max(0),
        handle.as_str(),
        line.commission_id.as_str(),
    );
    (keys::COMMISSIONS_DUE_PK.to_owned(), sk)
}

/// The due-index entry a pending line needs (none for any other status).
pub fn entry(handle: &Handle, line: &Commission) -> Option<WriteOp> {
    (line.status == Status::Pending).then(|| {
        let (pk, sk) = key(handle, line);
        WriteOp::Put {
            item: Item::new(pk, sk, serde_json::Value::Null),
            cond: Cond::None,
        }
    })
}

/// The write that drops a line's due entry (harmless when there is none).
pub fn clear(handle: &Handle, line: &Commission) -> WriteOp {
    let (pk, sk) = key(handle, line);
    WriteOp::Delete {
        pk,
        sk,
        cond: Cond::None,
    }
}

/// The due-index writes of `current` becoming `next`: the entry `next` needs (a put replaces
/// one at the same key) and the clearing of `current`'s when it is not that same key. Never two
/// writes on one key: a transaction may touch an item once.
pub fn follow(handle: &Handle, current: &Commission, next: &Commission) -> Vec<WriteOp> {
    let mut ops = Vec::with_capacity(2);
    let stays = next.status == Status::Pending && key(handle, next) == key(handle, current);
    if current.status == Status::Pending && !stays {
        ops.push(clear(handle, current));
    }
    ops.extend(entry(handle, next));
    ops
}

/// Approves `line` if it is pending and due at `now_ms`; answers the line as it now stands.
/// Round trips: ONE transaction (a lost race: a read, and another try while still due).
pub async fn approve_if_due(
    io: Io<'_>,
    handle: &Handle,
    mut line: Commission,
    now_ms: i64,
) -> Result<Commission, StoreError> {
    for _ in 0..8 {
        if line.status != Status::Pending || line.available_at_ms() > now_ms {
            return Ok(line);
        }
        // `update` writes the line it is called on, at that line's version: the approved one.
        let mut next = line.clone();
        next.status = Status::Approved;
        let mut ops = next.update(handle)?;
        ops.push(clear(handle, &line));
        next.updated();
        match emit::commit(
            io,
            handle,
            ops,
            vec![view::event(view::CommissionEvent::Approved, &next)],
        )
        .await
        {
            Ok(()) => return Ok(next),
            Err(StoreError::TxConflict { index: 0, .. }) => {
                line = crate::ledger::get(io.store.as_ref(), handle, &line.commission_id)
                    .await?
                    .ok_or_else(|| StoreError::Unavailable("commission vanished".into()))?;
            }
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Unavailable(
        "the commission kept changing".into(),
    ))
}

/// The scheduled sweep: approves every line due by `now_ms`, across handles. Returns how many
/// it approved. Round trips: one query per 100 due entries, then per entry a read and a commit.
#[tracing::instrument(skip_all)]
pub async fn sweep(io: Io<'_>, now_ms: i64) -> Result<usize, StoreError> {
    let mut approved = 0;
    // Bounded: what is left waits for the next sweep.
    for _ in 0..50 {
        let page = io
            .store
            .query(Query {
                pk: keys::COMMISSIONS_DUE_PK.to_owned(),
                range: SkRange::Between("0".into(), format!("{now_ms:013}~")),
                limit: 100,
                after: None,
                descending: false,
            })
            .await?;
        let full = page.items.len() == 100;
        for item in page.items {
            approved += usize::from(settle_entry(io, &item.sk, now_ms).await?);
        }
        if !full {
            break;
        }
    }
    Ok(approved)
}

/// One due entry: approve its line (or drop an entry whose line moved on). True if approved.
async fn settle_entry(io: Io<'_>, sk: &str, now_ms: i64) -> Result<bool, StoreError> {
    let mut parts = sk.splitn(3, '#');
    let (_, handle, id) = (parts.next(), parts.next(), parts.next());
    let parsed = handle
        .and_then(|h| Handle::parse(h).ok())
        .zip(id.and_then(|i| CommissionId::parse(i).ok()));
    let drop_entry = WriteOp::Delete {
        pk: keys::COMMISSIONS_DUE_PK.to_owned(),
        sk: sk.to_owned(),
        cond: Cond::None,
    };
    let Some((handle, id)) = parsed else {
        io.store.write(drop_entry).await?;
        return Ok(false);
    };
    match crate::ledger::get(io.store.as_ref(), &handle, &id).await? {
        Some(line) if line.status == Status::Pending => {
            let after = approve_if_due(io, &handle, line, now_ms).await?;
            Ok(after.status == Status::Approved)
        }
        _ => {
            io.store.write(drop_entry).await?;
            Ok(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::Timestamp;
    use crate::ledger::tests::{
        acme, assert_books_agree, due_entries, events, io_parts, line, read, stored, sums,
    };
    use crate::platform::store::{Store, keys};
    use std::sync::Arc;
    use tenx_kernel::testing::Meet;

    const NOW: i64 = 1_800_000_000_000;

    fn at(status: Status, available_ms: i64) -> Commission {
        let mut l = line(Some(500), status);
        l.available_at = Timestamp::from_millis(available_ms);
        l
    }

    fn sk_of(l: &Commission) -> String {
        keys::commission_due_sk(l.available_at_ms(), "acme", l.commission_id.as_str())
    }

    #[test]
    fn only_a_pending_line_has_a_due_entry_and_it_is_keyed_by_when_it_falls_due() {
        let pending = at(Status::Pending, NOW);
        let Some(WriteOp::Put { item, cond }) = entry(&acme(), &pending) else {
            panic!("a pending line's entry")
        };
        let id = pending.commission_id.as_str();
        assert_eq!(item.pk, "COMDUE");
        assert_eq!(item.sk, format!("1800000000000#acme#{id}"));
        assert_eq!(cond, Cond::None);
        let WriteOp::Delete { pk, sk, .. } = clear(&acme(), &pending) else {
            panic!("a delete")
        };
        assert_eq!((pk, sk), (item.pk, item.sk), "the clear drops that entry");
        for status in [
            Status::Held,
            Status::Approved,
            Status::Rejected,
            Status::Capped,
            Status::Paid,
        ] {
            assert!(entry(&acme(), &at(status, NOW)).is_none(), "{status:?}");
        }
    }

    #[test]
    fn due_entries_sort_by_time_and_a_time_before_1970_sorts_first() {
        let key = |ms| match entry(&acme(), &at(Status::Pending, ms)) {
            Some(WriteOp::Put { item, .. }) => item.sk,
            _ => panic!("an entry"),
        };
        let (early, late) = (key(999), key(NOW));
        assert!(early < late, "{early} {late}");
        assert!(key(-5).starts_with("0000000000000#acme#"));
    }

    #[tokio::test]
    async fn a_line_not_yet_due_or_not_pending_is_left_as_it_is() {
        let (store, queue) = io_parts();
        let io = Io::new(&store, &queue);
        for l in [at(Status::Pending, NOW + 1), at(Status::Held, NOW - 1)] {
            let l = stored(store.as_ref(), l).await;
            let after = approve_if_due(io, &acme(), l.clone(), NOW).await.unwrap();
            assert_eq!(after, l);
            assert_eq!(read(store.as_ref(), &l.commission_id).await, l);
        }
        assert!(events(queue.as_ref()).await.is_empty());
    }

    #[tokio::test]
    async fn the_sweep_approves_exactly_the_lines_due_and_a_second_sweep_finds_nothing() {
        let (store, queue) = io_parts();
        let io = Io::new(&store, &queue);
        let s = store.as_ref();
        let long_due = stored(s, at(Status::Pending, NOW - 2 * 86_400_000)).await;
        let due_now = stored(s, at(Status::Pending, NOW)).await;
        let later = stored(s, at(Status::Pending, NOW + 1)).await;
        let held = stored(s, at(Status::Held, NOW - 1)).await;
        assert_eq!(sweep(io, NOW).await.unwrap(), 2);
        for (l, status) in [
            (&long_due, Status::Approved),
            (&due_now, Status::Approved),
            (&later, Status::Pending),
            (&held, Status::Held),
        ] {
            assert_eq!(read(s, &l.commission_id).await.status, status);
        }
        assert_eq!(due_entries(s).await, [sk_of(&later)]);
        assert_eq!(sweep(io, NOW).await.unwrap(), 0, "nothing left to approve");
        assert_eq!(
            events(queue.as_ref()).await,
            ["commission.approved", "commission.approved"]
        );
        let b = sums(s).await;
        assert_eq!((b.approved, b.pending, b.held), (1_000, 500, 500));
        assert_eq!(sweep(io, NOW + 1).await.unwrap(), 1);
        assert!(due_entries(s).await.is_empty());
        assert_books_agree(s).await;
    }

    #[tokio::test]
    async fn a_line_that_moved_on_while_it_waited_keeps_its_status_and_loses_its_entry() {
        let (store, queue) = io_parts();
        let io = Io::new(&store, &queue);
        let s = store.as_ref();
        let l = stored(s, at(Status::Pending, NOW - 1)).await;
        // Rejected by a write that left its entry behind.
        let mut rejected = l.clone();
        rejected.status = Status::Rejected;
        s.transact(crate::ledger::running::merged(
            rejected.update(&acme()).unwrap(),
        ))
        .await
        .unwrap();
        assert_eq!(due_entries(s).await, [sk_of(&l)]);
        assert_eq!(sweep(io, NOW).await.unwrap(), 0);
        assert_eq!(read(s, &l.commission_id).await.status, Status::Rejected);
        assert!(
            due_entries(s).await.is_empty(),
            "the stale entry is dropped"
        );
        assert!(events(queue.as_ref()).await.is_empty());
        assert_books_agree(s).await;
    }

    #[tokio::test]
    async fn an_entry_whose_line_is_gone_or_whose_key_does_not_parse_is_dropped() {
        let (store, queue) = io_parts();
        let io = Io::new(&store, &queue);
        let orphan = keys::commission_due_sk(NOW - 1, "acme", CommissionId::new().as_str());
        let garbled = format!("{:013}#not a handle#com_x", NOW - 1);
        for sk in [&orphan, &garbled] {
            let item = Item::new(
                keys::COMMISSIONS_DUE_PK,
                sk.as_str(),
                serde_json::Value::Null,
            );
            store
                .write(WriteOp::Put {
                    item,
                    cond: Cond::None,
                })
                .await
                .unwrap();
        }
        assert_eq!(due_entries(store.as_ref()).await.len(), 2);
        assert_eq!(sweep(io, NOW).await.unwrap(), 0);
        assert!(due_entries(store.as_ref()).await.is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_sweep_and_a_payout_run_racing_for_a_line_approve_it_once() {
        let (store, queue) = io_parts();
        let l = stored(store.as_ref(), at(Status::Pending, NOW - 1)).await;
        let store = tenx_kernel::testing::meeting_at_the_store(store, 4, Meet::Transactions);
        let racers = (0..4).map(|_| {
            let (store, queue, l): (Arc<dyn Store>, _, _) =
                (store.clone(), queue.clone(), l.clone());
            tokio::spawn(async move {
                approve_if_due(Io::new(&store, &queue), &acme(), l, NOW)
                    .await
                    .unwrap()
            })
        });
        for answer in futures::future::join_all(racers).await {
            assert_eq!(answer.unwrap().status, Status::Approved);
        }
        let after = read(store.as_ref(), &l.commission_id).await;
        assert_eq!(after.version, l.version + 1, "one approval was written");
        assert_eq!(events(queue.as_ref()).await, ["commission.approved"]);
        let b = sums(store.as_ref()).await;
        assert_eq!((b.approved, b.pending), (500, 0), "its amount moved once");
        assert!(due_entries(store.as_ref()).await.is_empty());
        assert_books_agree(store.as_ref()).await;
    }
}
