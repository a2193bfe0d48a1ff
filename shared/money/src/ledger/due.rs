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
