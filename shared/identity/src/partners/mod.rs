//! Partners (the record): who a campaign's commissions are owed to. Stored under `H#{handle}` /
//! `PA#{partnerId}`; changed with version-checked writes.

pub mod named;
pub mod postback_sync;
pub mod tokens;

use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::{DomainError, Handle, PartnerId};
use crate::kernel::events::EventType;
use crate::platform::store::{Cond, Item, Query, Store, StoreError, WriteOp, keys};
use crate::webhooks::postback::MACROS;

const MAX_NAME_CHARS: usize = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartnerStatus {
    Active,
    Suspended,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Partner {
    pub partner_id: PartnerId,
    pub name: String,
    pub email: Option<String>,
    pub postback_url: Option<String>,
    pub postback_events: Vec<EventType>,
    pub status: PartnerStatus,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The fields a create or a patch may set (`None`: unchanged, or the default on create).
#[derive(Clone, Debug, Default)]
pub struct PartnerFields {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub postback_url: Option<Option<String>>,
    pub postback_events: Option<Vec<EventType>>,
    pub status: Option<PartnerStatus>,
}

pub fn default_postback_events() -> Vec<EventType> {
    vec![EventType::CommissionApproved, EventType::CommissionReversed]
}

pub fn validate_name(raw: &str) -> Result<String, DomainError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() || trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(DomainError::new(
            "name",
            "must be 1 to 200 characters long.",
        ));
    }
    Ok(trimmed.to_owned())
}

/// A partner's email: [`crate::domain::email`]'s rule (no markup, kept in NFC), the same as an
/// application's, so the self-referral check compares like with like.
pub fn validate_email(raw: &str) -> Result<String, DomainError> {
    crate::domain::email::Email::parse("email", raw).map(crate::domain::email::Email::into_string)
}

/// A postback template: every `{macro}` known, the URL otherwise a valid https destination
/// (`http` only where local receivers are allowed, i.e. local development).
pub fn validate_postback_url(raw: &str, allow_http: bool) -> Result<String, DomainError> {
    const F: &str = "postbackUrl";
    let mut probe = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(open) = rest.find('{') {
        probe.push_str(&rest[..open]);
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| DomainError::new(F, "has a `{` without its `}`."))?;
        let name = &rest[open + 1..open + close];
        if !MACROS.iter().any(|(m, _)| *m == name) {
            let known: Vec<&str> = MACROS.iter().map(|(m, _)| *m).collect();
            return Err(DomainError::new(
                F,
                format!("unknown macro {{{name}}}; known: {}.", known.join(", ")),
            ));
        }
        probe.push('x');
        rest = &rest[open + close + 1..];
    }
    probe.push_str(rest);
    let url = crate::domain::validate_destination(F, &probe)?;
    if url.scheme() != "https" && !allow_http {
        return Err(DomainError::new(F, "must be an https URL."));
    }
    Ok(raw.to_owned())
}

pub fn validate_postback_events(raw: &[String]) -> Result<Vec<EventType>, DomainError> {
    let allowed = [
        EventType::CommissionCreated,
        EventType::CommissionApproved,
        EventType::CommissionRejected,
        EventType::CommissionReversed,
        EventType::PlanChanged,
    ];
    let mut out = Vec::new();
    for (i, name) in raw.iter().enumerate() {
        let kind = EventType::parse(name)
            .filter(|k| allowed.contains(k))
            .ok_or_else(|| {
                DomainError::new(
                    format!("postbackEvents[{i}]"),
                    "expected commission.created, commission.approved, commission.rejected, commission.reversed or plan.changed.",
                )
            })?;
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    Ok(out)
}

#[derive(Debug, thiserror::Error)]
pub enum PartnerError {
    #[error("Partner {0} already exists.")]
    AlreadyExists(PartnerId),
    #[error("Partner {0} was not found.")]
    NotFound(PartnerId),
    #[error("The partner is being changed concurrently; retry.")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Partner {
    /// What its postback subscription follows.
    fn wanted(&self) -> crate::partners::postback_sync::Wanted<'_> {
        crate::partners::postback_sync::Wanted {
            partner_id: &self.partner_id,
            postback_url: &self.postback_url,
            postback_events: &self.postback_events,
        }
    }
}

fn item_of(handle: &Handle, p: &Partner) -> Result<Item, StoreError> {
    Ok(Item::new(
        keys::handle_pk(handle),
        keys::partner_sk(&p.partner_id),
        crate::platform::store::to_doc(p)?,
    )
    .with_version(p.version))
}

/// A new active partner (no postback: none to subscribe) and the put-if-absent that creates
/// it, for a caller that commits it in a transaction of its own (a program approval).
pub fn plan_create(
    handle: &Handle,
    id: PartnerId,
    name: String,
    email: Option<String>,
) -> Result<(Partner, WriteOp), StoreError> {
    let now = crate::platform::time::timestamp();
    let partner = Partner {
        partner_id: id,
        name,
        email,
        postback_url: None,
        postback_events: default_postback_events(),
        status: PartnerStatus::Active,
        version: 1,
        created_at: now.clone(),
        updated_at: now,
    };
    let op = WriteOp::Put {
        item: item_of(handle, &partner)?,
        cond: Cond::Absent,
    };
    Ok((partner, op))
}

/// Creates a partner: ONE conditional put (an existing id is `409`).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn create(
    store: &dyn Store,
    handle: &Handle,
    id: PartnerId,
    name: String,
    fields: PartnerFields,
) -> Result<Partner, PartnerError> {
    let now = crate::platform::time::timestamp();
    let partner = Partner {
        partner_id: id.clone(),
        name,
        email: fields.email.flatten(),
        postback_url: fields.postback_url.flatten(),
        postback_events: fields
            .postback_events
            .unwrap_or_else(default_postback_events),
        status: fields.status.unwrap_or(PartnerStatus::Active),
        version: 1,
        created_at: now.clone(),
        updated_at: now,
    };
    let op = WriteOp::Put {
        item: item_of(handle, &partner)?,
        cond: Cond::Absent,
    };
    let postback = crate::partners::postback_sync::sync_op(store, handle, partner.wanted()).await?;
    let audit = ("partner.created", &partner);
    match commit(store, handle, op, postback, audit, Vec::new()).await {
        Ok(()) => Ok(partner),
        Err(Conflict::Partner) => Err(PartnerError::AlreadyExists(id)),
        Err(Conflict::Postback) => Err(PartnerError::Busy),
        Err(Conflict::Store(e)) => Err(e.into()),
    }
}

enum Conflict {
    Partner,
    Postback,
    Store(StoreError),
}

/// The partner's write, with its postback's when there is one, its audit entry (`audit`: the
/// action, and the partner named) and the writes staged `beside` it, in ONE transaction.
async fn commit(
    store: &dyn Store,
    handle: &Handle,
    partner: WriteOp,
    postback: Option<WriteOp>,
    audit: (&str, &Partner),
    beside: Vec<WriteOp>,
) -> Result<(), Conflict> {
    let (action, named) = audit;
    let target = format!("{} ({})", named.partner_id, named.name);
    let entry = crate::kernel::audit::entry(handle, action, &target).map_err(Conflict::Store)?;
    let mut ops = vec![partner];
    ops.extend(postback);
    ops.push(entry);
    ops.extend(beside);
    match store.transact(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::TxConflict { index: 0, .. }) => Err(Conflict::Partner),
        Err(StoreError::TxConflict { .. }) => Err(Conflict::Postback),
        Err(e) => Err(Conflict::Store(e)),
    }
}

#[tracing::instrument(skip_all, fields(handle = %handle, partner = %id))]
pub async fn get(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    id: &PartnerId,
) -> Result<Option<Partner>, StoreError> {
    let pk = keys::handle_pk(handle);
    let item = store.get(&pk, &keys::partner_sk(id)).await?;
    item.map(|i| i.parse::<Partner>()).transpose()
}

#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn list(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    limit: usize,
    after: Option<String>,
) -> Result<(Vec<Partner>, Option<String>), StoreError> {
    let mut q = Query::prefix(keys::handle_pk(handle), keys::PARTNER_SK_PREFIX, limit);
    q.after = after;
    store.query(q).await?.parsed()
}

/// Applies `fields` with a version-checked write, retried on a concurrent change; `beside`
/// gives, from the partner before and after the change, writes to commit in the same
/// transaction (a mail that tells of it: `mail::address_change`) and what the caller keeps of
/// them, answered with the partner.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn update<T>(
    store: &dyn Store,
    handle: &Handle,
    id: &PartnerId,
    fields: PartnerFields,
    beside: impl Fn(&Partner, &Partner) -> (Vec<WriteOp>, T),
) -> Result<(Partner, T), PartnerError> {
    for _ in 0..8 {
        let current = get(store, handle, id)
            .await?
            .ok_or_else(|| PartnerError::NotFound(id.clone()))?;
        let mut next = current.clone();
        if let Some(name) = fields.name.clone() {
            next.name = name;
        }
        if let Some(email) = fields.email.clone() {
            next.email = email;
        }
        if let Some(url) = fields.postback_url.clone() {
            next.postback_url = url;
        }
        if let Some(events) = fields.postback_events.clone() {
            next.postback_events = events;
        }
        if let Some(status) = fields.status {
            next.status = status;
        }
        next.version = current.version + 1;
        next.updated_at = crate::platform::time::timestamp();
        let op = WriteOp::Put {
            item: item_of(handle, &next)?,
            cond: Cond::Version(current.version),
        };
        let postback =
            crate::partners::postback_sync::sync_op(store, handle, next.wanted()).await?;
        let (ops, kept) = beside(&current, &next);
        match commit(store, handle, op, postback, ("partner.updated", &next), ops).await {
            Ok(()) => return Ok((next, kept)),
            Err(Conflict::Partner | Conflict::Postback) => continue,
            Err(Conflict::Store(e)) => return Err(e.into()),
        }
    }
    Err(PartnerError::Busy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postback_templates_name_the_unknown_macro_and_want_https() {
        let ok = "https://track.example/pb?cid={click_id}&amt={commission}&s1={sub1}";
        assert_eq!(validate_postback_url(ok, false).unwrap(), ok);
        let e = validate_postback_url("https://t.example/?x={payout}", false).unwrap_err();
        assert_eq!(e.field, "postbackUrl");
        assert!(e.message.contains("{payout}"), "{}", e.message);
        assert!(validate_postback_url("http://t.example/?c={click_id}", false).is_err());
        assert!(validate_postback_url("http://t.example/?c={click_id}", true).is_ok());
        assert!(validate_postback_url("https://t.example/?c={click_id", false).is_err());
        assert!(validate_postback_events(&["link.clicked".into()]).is_err());
    }
}
