//! A partner's postback kept in step with its record: the write that creates, changes or
//! removes the partner's postback subscription (`webhooks::postback`), committed in the same
//! transaction as the partner itself, so the two never disagree.

use crate::domain::time::Timestamp;
use crate::domain::{Handle, PartnerId, SubscriptionId};
use crate::kernel::events::EventType;
use crate::platform::store::{Cond, StoreError, WriteOp};
use crate::webhooks::postback;
use crate::webhooks::repo;
use crate::webhooks::signing::generate_secret;
use crate::webhooks::subscription::Subscription;

/// What of a partner its postback follows.
pub struct Wanted<'a> {
    pub partner_id: &'a PartnerId,
    pub postback_url: &'a Option<String>,
    pub postback_events: &'a [EventType],
}

/// The write that brings the postback in line with `partner` (`None`: already is).
/// Round trips: ONE read.
pub async fn sync_op(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    partner: Wanted<'_>,
) -> Result<Option<WriteOp>, StoreError> {
    let id = postback::subscription_id(handle.as_str(), partner.partner_id);
    let existing = repo::load(store, handle, &id).await?;
    let now = crate::platform::time::timestamp();
    Ok(match (partner.postback_url, existing) {
        (None, None) => None,
        (None, Some(old)) => Some(repo::delete_op(handle, &id, old.version)),
        (Some(url), Some(old)) => {
            let sub = &old.subscription;
            if &sub.endpoint_url == url && sub.event_types == partner.postback_events {
                return Ok(None);
            }
            let mut next = old.subscription.clone();
            next.endpoint_url = url.clone();
            next.event_types = partner.postback_events.to_vec();
            next.updated_at = now;
            let item = repo::item(&next, old.version + 1)?;
            Some(WriteOp::Put {
                item,
                cond: Cond::Version(old.version),
            })
        }
        (Some(url), None) => {
            let sub = new_postback(handle, &partner, id, url.clone(), now);
            Some(WriteOp::Put {
                item: repo::item(&sub, 1)?,
                cond: Cond::Absent,
            })
        }
    })
}

fn new_postback(
    handle: &Handle,
    partner: &Wanted<'_>,
    id: SubscriptionId,
    url: String,
    now: Timestamp,
) -> Subscription {
    // The secret signs nothing (a GET postback); kept so the record is a whole subscription.
    let mut sub = Subscription::active(id, handle, url, generate_secret(), now);
    sub.event_types = partner.postback_events.to_vec();
    sub.description = Some(format!("Postback of partner {}", partner.partner_id));
    sub.partner_id = Some(partner.partner_id.clone());
    sub
}
