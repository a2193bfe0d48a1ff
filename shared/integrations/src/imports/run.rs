//! The worker's side of an import: its staged chunks written in order, the cursor and counts
//! stored after each (one version-checked put), so a worker killed between two chunks resumes
//! at the next, and one killed inside a chunk does it again: each written row's marker (in the
//! row's own transaction) gives its outcome back instead of a second write, so the counts stay
//! exact. A dry run writes nothing but the job.

use crate::domain::imported_slug::ImportedSlug;
use crate::domain::{Handle, ImportId, LinkSpec, UserId};
use crate::kernel::io::Io;
use crate::kernel::state::LinkCache;
use crate::links::{LinkError, Precondition};
use crate::people::acting::Decider;
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys, to_doc};

use super::keyrings::Keys;
use super::model::{Chunk, ImportedLink, Job, LinkRow, OnConflict, RowError, RowOutcome, Status};
use super::outcome::{Outcome, outcome_of};
use super::{ImportError, job_put, read, release};

/// Where a run stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    /// Done, failed, or not found: nothing left to do.
    Finished,
    /// Chunks remain (the caller's limit was reached): queue it again.
    Paused,
}

/// Writes up to `max_chunks` chunks of the import from its cursor (finishing it when none is
/// left). Every write is the import's starter's (the audit log names them).
#[tracing::instrument(skip_all, fields(handle = %handle, import_id = %id))]
pub async fn run(
    io: Io<'_>,
    cache: &LinkCache,
    keys: Keys<'_>,
    handle: &Handle,
    id: &ImportId,
    max_chunks: usize,
) -> Result<Progress, ImportError> {
    let store = io.store.as_ref();
    let mut done = 0;
    loop {
        let Some((mut job, version)) = read(store, handle, id).await? else {
            tracing::warn!("an import message of no job; dropped");
            return Ok(Progress::Finished);
        };
        if job.status != Status::Running {
            return Ok(Progress::Finished);
        }
        if job.cursor >= job.chunks {
            finish(store, handle, job, version).await?;
            return Ok(Progress::Finished);
        }
        if done == max_chunks {
            return Ok(Progress::Paused);
        }
        let (pk, sk) = keys::import_chunk(handle, id.as_str(), job.cursor);
        let Some(item) = store.get(&pk, &sk).await? else {
            fail(
                store,
                handle,
                id,
                "The staged rows expired before they were written.",
            )
            .await?;
            return Ok(Progress::Finished);
        };
        let chunk: Chunk = item.parse()?;
        let actor = (job.actor.clone(), job.request_id.clone());
        let (outcomes, notes) = crate::kernel::audit::scope(
            actor.0,
            actor.1,
            write_chunk(io, cache, keys, handle, &job, &chunk),
        )
        .await?;
        let mut failed = Vec::new();
        for outcome in outcomes {
            match outcome {
                Outcome::Created => job.counts.created += 1,
                Outcome::Updated => job.counts.updated += 1,
                Outcome::Skipped => job.counts.skipped += 1,
                Outcome::Failed(e) => failed.push(e),
            }
        }
        job.fail_rows(failed);
        job.add_notes(notes);
        job.cursor += 1;
        match store
            .write(job_put(handle, &job, Cond::Version(version), version + 1)?)
            .await
        {
            Ok(_) => drop_chunk(store, (pk, sk)).await,
            // Another worker moved the cursor first (a redelivered message): read it again.
            Err(StoreError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        done += 1;
    }
}

/// Deletes a chunk the cursor moved past: its rows hold the export's addresses as they came (a
/// partner's PayPal email, a customer's email) until written, and are never read again. One
/// that stays (a failed delete, a worker killed before it) goes with its TTL.
async fn drop_chunk(store: &dyn Store, (pk, sk): (String, String)) {
    let delete = WriteOp::Delete {
        pk,
        sk,
        cond: Cond::None,
    };
    if let Err(e) = store.write(delete).await {
        tracing::warn!(error = %e, "a written chunk was not deleted; it expires with its TTL");
    }
}

/// The rows of one chunk, in order (a chunk's rows are each one transaction; the cursor only
/// moves once all are written), and what of the rows that came in could not (notes).
async fn write_chunk(
    io: Io<'_>,
    cache: &LinkCache,
    keys: Keys<'_>,
    handle: &Handle,
    job: &Job,
    chunk: &Chunk,
) -> Result<(Vec<Outcome>, Vec<RowError>), ImportError> {
    use super::program_rows as program;
    let mut out = Vec::with_capacity(chunk.len());
    let mut notes = Vec::new();
    for row in &chunk.rows {
        out.push(write_row(io, cache, handle, job, row).await?);
    }
    for p in &chunk.partners {
        let (outcome, more) = program::partner(io, cache, keys, handle, job, p).await?;
        out.push(outcome);
        notes.extend(more);
    }
    for c in &chunk.customers {
        let (outcome, more) = program::customer(io, keys, handle, job, c).await?;
        out.push(outcome);
        notes.extend(more);
    }
    if !chunk.commissions.is_empty() {
        let importer = importer(io.store.as_ref(), handle, &job.actor).await?;
        for c in &chunk.commissions {
            out.push(program::commission(io.store.as_ref(), handle, (job, &importer), c).await?);
        }
    }
    Ok((out, notes))
}

/// The person who started the import (a session's user, a JWT naming one), as the money rule
/// judges them ([`crate::people::acting`]): with the partner they act for on `handle` as it is
/// when the chunk is written, whose commission lines they never write. Nobody in particular
/// for a machine's JWT or `tenx import`. Round trips: ONE read, for a person.
async fn importer(
    store: &dyn Store,
    handle: &Handle,
    actor: &crate::kernel::audit::Actor,
) -> Result<Decider, StoreError> {
    use crate::kernel::audit::ActorType;
    let user = match actor.kind {
        ActorType::User | ActorType::Jwt => UserId::parse(&actor.id).ok(),
        _ => None,
    };
    let Some(user) = user else {
        return Ok(Decider::system());
    };
    let own = crate::people::partnerships::on_handle(store, &user, handle).await?;
    Ok(Decider {
        user: Some(user),
        own_partner: own.map(|p| p.partner_id),
    })
}

/// Writes a chunk's rows without moving the cursor, as a worker killed just before its cursor
/// write would have (the resume tests).
#[doc(hidden)]
pub async fn write_chunk_then_crash(
    io: Io<'_>,
    cache: &LinkCache,
    keys: Keys<'_>,
    handle: &Handle,
    id: &ImportId,
) -> Result<usize, ImportError> {
    let store = io.store.as_ref();
    let (job, _) = read(store, handle, id)
        .await?
        .ok_or_else(|| ImportError::NotFound(id.clone()))?;
    let (pk, sk) = keys::import_chunk(handle, id.as_str(), job.cursor);
    let Some(item) = store.get(&pk, &sk).await? else {
        return Ok(0);
    };
    let chunk: Chunk = item.parse()?;
    let scope = (job.actor.clone(), job.request_id.clone());
    let n = crate::kernel::audit::scope(
        scope.0,
        scope.1,
        write_chunk(io, cache, keys, handle, &job, &chunk),
    )
    .await?
    .0
    .len();
    Ok(n)
}

fn row_error(row: &LinkRow, field: &str, message: impl Into<String>) -> Outcome {
    Outcome::Failed(RowError {
        row: row.row,
        field: field.to_owned(),
        message: message.into(),
        ..Default::default()
    })
}

async fn write_row(
    io: Io<'_>,
    cache: &LinkCache,
    handle: &Handle,
    job: &Job,
    row: &LinkRow,
) -> Result<Outcome, ImportError> {
    let store = io.store.as_ref();
    let Ok(imported) = ImportedSlug::parse(&row.slug) else {
        return Ok(row_error(
            row,
            "slug",
            "is not a slug this service can serve",
        ));
    };
    let slug = imported.native();
    let spec = match spec_of(row).validate() {
        Ok(spec) => spec,
        Err(e) => return Ok(row_error(row, &e.field, e.message)),
    };
    let existing = crate::links::load(store, handle, &slug).await?;
    if job.dry_run {
        return Ok(would(existing.is_some(), job.on_conflict));
    }
    let (marker_pk, marker_sk) = keys::import_row(handle, job.import_id.as_str(), row.row);
    if let Some(marker) = store.get(&marker_pk, &marker_sk).await? {
        return Ok(outcome_of(&marker)?);
    }
    let mut exists = existing.is_some();
    for _ in 0..4 {
        let (precondition, outcome) = match (exists, job.on_conflict) {
            (true, OnConflict::Skip) => return Ok(Outcome::Skipped),
            (true, OnConflict::Overwrite) => (Precondition::Exists, RowOutcome::Updated),
            (false, _) => (Precondition::Absent, RowOutcome::Created),
        };
        let extra = extra_ops(
            handle,
            job,
            row,
            &imported,
            outcome,
            (&marker_pk, &marker_sk),
        )?;
        match crate::links::upsert(io, cache, handle, &slug, spec.clone(), precondition, extra)
            .await
        {
            Ok(_) => {
                return Ok(match outcome {
                    RowOutcome::Created => Outcome::Created,
                    RowOutcome::Updated => Outcome::Updated,
                });
            }
            // Taken meanwhile (or deleted meanwhile): decide again on what stands now.
            Err(LinkError::SlugTaken(_)) => {
                // Another worker on this same chunk (a redelivered message) may have written it.
                if let Some(marker) = store.get(&marker_pk, &marker_sk).await? {
                    return Ok(outcome_of(&marker)?);
                }
                exists = true;
            }
            Err(LinkError::PreconditionFailed(_)) => exists = false,
            // The marker is there: an earlier run of this chunk wrote the row.
            Err(LinkError::Extra { index: 0, .. }) => {
                let marker = store.get(&marker_pk, &marker_sk).await?;
                let marker =
                    marker.ok_or_else(|| StoreError::Other("row marker vanished".into()))?;
                return Ok(outcome_of(&marker)?);
            }
            Err(LinkError::Store(e)) => return Err(e.into()),
            Err(other) => return Ok(row_error(row, "slug", other.to_string())),
        }
    }
    Ok(row_error(
        row,
        "slug",
        "The link kept changing while it was imported; import it again.",
    ))
}

/// The row as a link's spec (checked by `LinkSpec::validate`, as the API's links are).
fn spec_of(row: &LinkRow) -> LinkSpec {
    LinkSpec {
        destination_url: row.destination_url.clone(),
        title: row.title.clone(),
        tracking: row.tracking.clone(),
        routing_rules: vec![],
        campaign_id: None,
        forward_query: None,
        expires_at: None,
        expired_url: None,
        variants: None,
    }
}

/// What a dry run reports for a row.
fn would(exists: bool, on_conflict: OnConflict) -> Outcome {
    match (exists, on_conflict) {
        (false, _) => Outcome::Created,
        (true, OnConflict::Skip) => Outcome::Skipped,
        (true, OnConflict::Overwrite) => Outcome::Updated,
    }
}

/// The row's writes beside its link, in the link's transaction: its marker (first: a resumed
/// chunk finds it), its history and, for a slug the native rule refuses, its alias.
fn extra_ops(
    handle: &Handle,
    job: &Job,
    row: &LinkRow,
    imported: &ImportedSlug,
    outcome: RowOutcome,
    (marker_pk, marker_sk): (&str, &str),
) -> Result<Vec<WriteOp>, StoreError> {
    let marker = Item::new(
        marker_pk,
        marker_sk,
        to_doc(&serde_json::json!({ "outcome": outcome }))?,
    )
    .expiring_at(Some(crate::platform::store::now_unix() + 30 * 86_400));
    let mut ops = vec![
        WriteOp::Put {
            item: marker,
            cond: Cond::Absent,
        },
        history(handle, job, row, imported)?,
    ];
    if imported.needs_alias() {
        ops.push(crate::links::alias_op(handle, imported)?);
    }
    Ok(ops)
}

/// The imported link's history: its source, old slug, tags and click total.
fn history(
    handle: &Handle,
    job: &Job,
    row: &LinkRow,
    imported: &ImportedSlug,
) -> Result<WriteOp, StoreError> {
    let (pk, sk) = keys::imported_link(handle, &imported.native());
    let record = ImportedLink {
        import_id: job.import_id.clone(),
        source: job.source,
        original_slug: row.slug.clone(),
        tags: row.tags.clone(),
        clicks: row.clicks,
        revenue_minor: row.revenue_minor,
        created_at: row.created_at.clone(),
        imported_at: crate::platform::time::timestamp(),
    };
    Ok(WriteOp::Put {
        item: Item::new(pk, sk, to_doc(&record)?),
        cond: Cond::None,
    })
}

/// The imported history of the link at `slug` (`None`: not imported). ONE read.
pub async fn imported_link(
    store: &dyn Store,
    handle: &Handle,
    slug: &crate::domain::Slug,
) -> Result<Option<ImportedLink>, StoreError> {
    let (pk, sk) = keys::imported_link(handle, slug);
    store.get(&pk, &sk).await?.map(|i| i.parse()).transpose()
}

/// Marks the job done and frees the handle, with the audit entry of its counts: ONE transaction.
async fn finish(
    store: &dyn Store,
    handle: &Handle,
    mut job: Job,
    version: u64,
) -> Result<(), StoreError> {
    job.status = Status::Done;
    job.finished_at = Some(crate::platform::time::timestamp());
    let c = job.counts;
    let target = format!(
        "{} ({} created, {} updated, {} skipped, {} failed{})",
        job.import_id,
        c.created,
        c.updated,
        c.skipped,
        c.failed,
        if job.dry_run { ", dry run" } else { "" }
    );
    let entry = crate::kernel::audit::entry_by(
        handle,
        job.actor.clone(),
        job.request_id.clone(),
        "import.finished",
        &target,
    )?;
    let ops = vec![
        job_put(handle, &job, Cond::Version(version), version + 1)?,
        release(handle),
        entry,
    ];
    match store.transact(ops).await {
        Ok(()) | Err(StoreError::TxConflict { index: 0, .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Marks the job failed (with why, as a row-0 error) and frees the handle.
pub(crate) async fn fail(
    store: &dyn Store,
    handle: &Handle,
    id: &ImportId,
    why: &str,
) -> Result<(), StoreError> {
    let Some((mut job, version)) = read(store, handle, id).await? else {
        return Ok(());
    };
    job.status = Status::Failed;
    job.finished_at = Some(crate::platform::time::timestamp());
    // A failed pull forgets its key as a finished one does.
    job.pending_pull = None;
    job.errors.push(RowError {
        row: 0,
        field: "file".into(),
        message: why.to_owned(),
        ..Default::default()
    });
    let ops = vec![
        job_put(handle, &job, Cond::Version(version), version + 1)?,
        release(handle),
    ];
    store.transact(ops).await
}
