//! Writing a program's rows (issue 64): partners (their links and codes in `program_links`),
//! customers bound to them (`boundBy: import`), and past commissions as ledger lines of kind
//! `imported` with the status they had in the old tool (a paid one is `paid`: no payout run pays
//! it again). Each row is ONE transaction with its marker (a resumed chunk reads it) and its
//! audit entry; a commission also with the old tool's id (`IMPX`), so a second import of the
//! same export writes it once. Partners are never overwritten by an import; no mail is sent
//! and no event emitted (a partner would be mailed for commissions of another tool's past).
//!
//! A partner the import creates gets its PayPal email in the old tool as its payout method, in
//! its creating transaction: a first setting (sealed as `payout_methods::set` seals, no hold,
//! no mail, no `partner.updated`). A customer keeps its email as a lead's is kept: masked and
//! as a keyed digest, never the address. What of either cannot be kept is noted on the row,
//! which still comes in.

use crate::customers::Email;
use crate::domain::sealed::Keyring;
use crate::domain::{CommissionId, Handle};
use crate::kernel::io::Io;
use crate::kernel::state::LinkCache;
use crate::ledger::model::{Commission, Kind, Status};
use crate::payout_methods::Details;
use crate::people::acting::Decider;
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys, to_doc};

use super::ImportError;
use super::keyrings::Keys;
use super::model::{CommissionRow, CustomerRow, Job, PartnerRow, PastStatus, RowError, RowOutcome};
use super::outcome::{Outcome, outcome_of};

/// The row's marker put (first after the record it guards) for a created row.
fn marker(handle: &Handle, job: &Job, row: u64) -> Result<((String, String), WriteOp), StoreError> {
    let (pk, sk) = keys::import_row(handle, job.import_id.as_str(), row);
    let item = Item::new(
        pk.clone(),
        sk.clone(),
        to_doc(&serde_json::json!({ "outcome": RowOutcome::Created }))?,
    )
    .expiring_at(Some(crate::platform::store::now_unix() + 30 * 86_400));
    Ok((
        (pk, sk),
        WriteOp::Put {
            item,
            cond: Cond::Absent,
        },
    ))
}

/// The row's outcome when its marker is there (an earlier run of the chunk wrote it).
async fn marked(store: &dyn Store, key: &(String, String)) -> Result<Option<Outcome>, StoreError> {
    match store.get(&key.0, &key.1).await? {
        Some(item) => Ok(Some(outcome_of(&item)?)),
        None => Ok(None),
    }
}

/// A partner: created when its id is free, else skipped (never overwritten); a partner this
/// import created gets its payout method (its PayPal email in the old tool, in its creating
/// transaction), its referral links and coupon codes ([`super::program_links`]), and what of
/// those could not come in is noted.
pub(crate) async fn partner(
    io: Io<'_>,
    cache: &LinkCache,
    keys: Keys<'_>,
    handle: &Handle,
    job: &Job,
    p: &PartnerRow,
) -> Result<(Outcome, Vec<RowError>), ImportError> {
    let store = io.store.as_ref();
    let exists = crate::partners::get(store, handle, &p.partner_id)
        .await?
        .is_some();
    let (payout, payout_note) = payout_of(keys, p);
    if job.dry_run {
        return Ok(if exists {
            (Outcome::Skipped, Vec::new())
        } else {
            let mut notes = super::program_links::would_note(p);
            notes.extend(payout_note);
            (Outcome::Created, notes)
        });
    }
    let (key, marker) = marker(handle, job, p.row)?;
    let outcome = match marked(store, &key).await? {
        Some(done) => done,
        None if exists => Outcome::Skipped,
        None => create_partner(store, handle, job, p, payout, &key, marker).await?,
    };
    let notes = match outcome {
        // This import's partner (a chunk done again finds its marker): its links, once; the
        // note of its payout email again (the first run's notes went with its crash).
        Outcome::Created => {
            let mut notes = super::program_links::write(io, cache, handle, job, p).await?;
            notes.extend(payout_note);
            notes
        }
        _ => Vec::new(),
    };
    Ok((outcome, notes))
}

/// The payout method a partner comes in with: its PayPal email's details and the keyring that
/// seals them; or why it comes in without one (a note on its row, naming the export's field).
fn payout_of<'k>(
    keys: Keys<'k>,
    p: &PartnerRow,
) -> (Option<(Details, &'k Keyring)>, Option<RowError>) {
    let Some(email) = &p.payout_email else {
        return (None, None);
    };
    let note = |message: String| RowError {
        row: p.row,
        field: email.field.clone(),
        message,
        ..Default::default()
    };
    // The address itself is never put in a note: the report is kept with the job.
    let details = match Details::paypal(&email.field, &email.address) {
        Ok(details) => details,
        Err(e) => {
            return (
                None,
                Some(note(format!(
                    "{} came in without a payout method: the PayPal email {}",
                    p.name, e.message
                ))),
            );
        }
    };
    match keys.payout {
        Some(keyring) => (Some((details, keyring)), None),
        None => (
            None,
            Some(note(format!(
                "{name}'s PayPal email could not be stored: this server has no payout key to \
                 seal it with (TENX_PAYOUT_KEY). {name} came in without a payout method; set it \
                 by hand.",
                name = p.name
            ))),
        ),
    }
}

async fn create_partner(
    store: &dyn Store,
    handle: &Handle,
    job: &Job,
    p: &PartnerRow,
    payout: Option<(Details, &Keyring)>,
    key: &(String, String),
    marker: WriteOp,
) -> Result<Outcome, ImportError> {
    let (_, create) = crate::partners::plan_create(
        handle,
        p.partner_id.clone(),
        p.name.clone(),
        p.email.clone(),
    )?;
    let target = format!(
        "{} ({}, imported from {})",
        p.partner_id,
        p.name,
        job.source.as_str()
    );
    let mut ops = vec![
        create,
        marker,
        crate::kernel::audit::entry(handle, "partner.created", &target)?,
    ];
    if let Some((details, keyring)) = &payout {
        // A first setting by the import's starter, as a manager's `PUT …/payout-method` of a
        // partner without one would be.
        let by = &job.actor.id;
        ops.extend(crate::payout_methods::set::first_setting(
            keyring,
            handle,
            &p.partner_id,
            details,
            by,
        )?);
    }
    match store.transact(ops).await {
        Ok(()) => Ok(Outcome::Created),
        Err(StoreError::TxConflict { .. }) => {
            Ok(marked(store, key).await?.unwrap_or(Outcome::Skipped))
        }
        Err(e) => Err(e.into()),
    }
}

/// A customer the old tool had bound to a partner: bound here on the partner's imported
/// campaign (`boundBy: import`) with its email as a lead's is kept, unless bound already (the
/// first binding wins: skipped). An email that cannot be kept is noted on a row that came in.
pub(crate) async fn customer(
    io: Io<'_>,
    keys: Keys<'_>,
    handle: &Handle,
    job: &Job,
    c: &CustomerRow,
) -> Result<(Outcome, Vec<RowError>), ImportError> {
    let (email, note) = email_of(keys, c);
    let outcome = bind_customer(io, keys, handle, job, c, email).await?;
    let notes = match outcome {
        Outcome::Created => note.into_iter().collect(),
        _ => Vec::new(),
    };
    Ok((outcome, notes))
}

/// A customer's email as it is kept (masked, and its keyed digest), or why it is not (a note
/// on its row naming the export's field; the address itself is never in it).
fn email_of(keys: Keys<'_>, c: &CustomerRow) -> (Option<Email>, Option<RowError>) {
    let Some(email) = &c.email else {
        return (None, None);
    };
    let note = |why: String| RowError {
        row: c.row,
        field: email.field.clone(),
        message: format!(
            "Customer {} came in without its email: {why}",
            c.customer_id
        ),
        ..Default::default()
    };
    let Some(keyring) = keys.email else {
        return (
            None,
            Some(note(
                "this server has no ctx keys to keep it with (TENX_CTX_KEYS).".into(),
            )),
        );
    };
    match Email::protect(keyring, &email.address) {
        Ok(kept) => (Some(kept), None),
        Err(e) => (None, Some(note(format!("the email {}.", e.message)))),
    }
}

async fn bind_customer(
    io: Io<'_>,
    keys: Keys<'_>,
    handle: &Handle,
    job: &Job,
    c: &CustomerRow,
    email: Option<Email>,
) -> Result<Outcome, ImportError> {
    let store = io.store.as_ref();
    let bound = crate::customers::repo::get(store, handle, &c.customer_id)
        .await?
        .is_some();
    let failed = |message: String| {
        Outcome::Failed(RowError {
            row: c.row,
            field: c.partner_field.clone(),
            message,
            ..Default::default()
        })
    };
    if c.campaign_id.is_none() {
        return Ok(failed(format!(
            "its partner {} has no referral link here to bind it to",
            c.partner_id
        )));
    }
    if job.dry_run {
        return Ok(if bound {
            Outcome::Skipped
        } else {
            Outcome::Created
        });
    }
    let (key, marker) = marker(handle, job, c.row)?;
    if let Some(done) = marked(store, &key).await? {
        return Ok(done);
    }
    if bound {
        return Ok(Outcome::Skipped);
    }
    let campaign = match &c.campaign_id {
        Some(id) => crate::campaigns::get(store, handle, id).await?,
        None => None,
    };
    let Some(campaign) = campaign.filter(|k| k.partner_id.as_ref() == Some(&c.partner_id)) else {
        return Ok(failed(format!(
            "its partner {} or its referral link was not imported",
            c.partner_id
        )));
    };
    // The ctx keyring digests the partner's own address for the self-referral check.
    let binder = crate::customers::bind::Binder::new(io, keys.email);
    let bound = crate::customers::bind::by_import(
        binder,
        handle,
        &c.customer_id,
        &campaign,
        c.partner_id.clone(),
        email,
    )
    .await;
    match bound {
        Ok((_, true)) => {
            // The marker after the binding (its own transaction): a crash between the two
            // counts the row skipped when the chunk is done again, never binds it twice.
            match store.write(marker).await {
                Ok(_) | Err(StoreError::ConditionFailed { .. }) => Ok(Outcome::Created),
                Err(e) => Err(e.into()),
            }
        }
        Ok((_, false)) => Ok(Outcome::Skipped),
        Err(crate::customers::CustomerError::Store(e)) => Err(e.into()),
        Err(e) => Ok(Outcome::Failed(RowError {
            row: c.row,
            field: "customerId".into(),
            message: e.to_string(),
            ..Default::default()
        })),
    }
}

/// The line of a past commission: kind `imported`, its status there as a status here.
fn line_of(job: &Job, c: &CommissionRow) -> Commission {
    let status = match c.status {
        PastStatus::Paid => Status::Paid,
        PastStatus::Due => Status::Approved,
        PastStatus::Pending => Status::Pending,
        PastStatus::Voided => Status::Rejected,
    };
    let mut line = Commission::blank(
        CommissionId::new(),
        Kind::Imported,
        c.partner_id.clone(),
        Some(c.amount_minor),
        c.currency,
        status,
    );
    line.reasons = vec![format!(
        "imported from {} ({})",
        job.source.as_str(),
        c.external_id
    )];
    if let (Status::Pending, Some(due)) = (status, &c.due_at) {
        line.available_at = due.clone();
    }
    line
}

/// The row failed at the field that names its partner, saying `message`.
fn partner_failure(c: &CommissionRow, message: String) -> Outcome {
    let field = if c.partner_field.is_empty() {
        "affiliate.id".into()
    } else {
        c.partner_field.clone()
    };
    Outcome::Failed(RowError {
        row: c.row,
        field,
        message,
        ..Default::default()
    })
}

/// A past commission: a line of kind `imported`, once per old-tool id; never one of the
/// importer's own partner (the money rule: the row fails in its words, a dry run says so).
pub(crate) async fn commission(
    store: &dyn Store,
    handle: &Handle,
    (job, importer): (&Job, &Decider),
    c: &CommissionRow,
) -> Result<Outcome, ImportError> {
    let (xpk, xsk) = keys::import_external(handle, job.source.as_str(), &c.external_id);
    let seen = store.get(&xpk, &xsk).await?.is_some();
    let own = (importer.refuse(Some(&c.partner_id)))
        .err()
        .map(|own| partner_failure(c, own.to_string()));
    if job.dry_run {
        return Ok(match (seen, own) {
            (true, _) => Outcome::Skipped,
            (false, own) => own.unwrap_or(Outcome::Created),
        });
    }
    let (key, marker) = marker(handle, job, c.row)?;
    if let Some(done) = marked(store, &key).await? {
        return Ok(done);
    }
    if seen {
        return Ok(Outcome::Skipped);
    }
    if let Some(own) = own {
        return Ok(own);
    }
    if crate::partners::get(store, handle, &c.partner_id)
        .await?
        .is_none()
    {
        let message = format!("its partner {} was not imported", c.partner_id);
        return Ok(partner_failure(c, message));
    }
    let line = line_of(job, c);
    let mut ops = vec![
        WriteOp::Put {
            item: Item::new(
                xpk,
                xsk,
                to_doc(&serde_json::json!({ "commissionId": line.commission_id }))?,
            ),
            cond: Cond::Absent,
        },
        marker,
    ];
    ops.extend(line.create(handle)?);
    // A pending line is approved at its due time by the hold's sweep (none: left for review).
    if c.due_at.is_some() {
        ops.extend(crate::ledger::due::entry(handle, &line));
    }
    let target = format!(
        "{} ({} {} {}, imported from {} {})",
        line.commission_id,
        c.partner_id,
        c.amount_minor,
        c.currency,
        job.source.as_str(),
        c.external_id
    );
    ops.push(crate::kernel::audit::entry(
        handle,
        "commission.imported",
        &target,
    )?);
    match store.transact(ops).await {
        Ok(()) => Ok(Outcome::Created),
        Err(StoreError::TxConflict { index: 0 | 1, .. }) => {
            Ok(marked(store, &key).await?.unwrap_or(Outcome::Skipped))
        }
        Err(e) => Err(e.into()),
    }
}
