//! Plan change notices (issue 47): a plan version that changes what its campaign's partner
//! earns is saved with a notice to that partner, signed with the statements' Ed25519 key (a
//! compact JWS, `typ: tenx-plan-notice+jws`, over the notice's RFC 8785 form without `jws`):
//! the old and new terms in words, when the change takes effect, and what the new version
//! would have paid over the last 30 days beside what the ledger paid (the backtest). The plan
//! version, the notice and its `plan.changed` event are ONE transaction, so there is never a
//! changed plan without its notice, nor a notice of a version that was not saved.

use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::proof::jcs;
use crate::domain::proof::jws::{NOTICE_TYP, ProofKeyring};
use crate::domain::{CampaignId, Currency, Handle, NoticeId, PartnerId};
use crate::kernel::emit::Emit;
use crate::kernel::events::{EventPayload, EventType, Payload};
use crate::plans::model::Plan;
use crate::platform::store::{Cond, Item, Query, Store, StoreError, WriteOp, keys};

/// The days before the save that a notice's difference replays.
pub const DIFFERENCE_DAYS: i64 = 30;

/// What the new version would have paid the partner over the last 30 days, beside the ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Difference {
    pub from: String,
    pub to: String,
    pub currency: Currency,
    pub conversions: u64,
    pub actual: String,
    pub draft: String,
    pub difference: String,
}

/// A notice as stored, answered and signed (its `jws` over the rest).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notice {
    pub notice_id: NoticeId,
    pub handle: Handle,
    pub partner_id: PartnerId,
    pub campaign_id: CampaignId,
    pub plan_version: u64,
    pub previous_version: Option<u64>,
    pub effective_at: Timestamp,
    pub summary: String,
    pub before: Vec<String>,
    pub after: Vec<String>,
    pub difference30d: Difference,
    pub created_at: Timestamp,
    #[serde(default)]
    pub jws: String,
}

impl Notice {
    /// The signed form: the notice without its `jws`, canonical (RFC 8785).
    pub fn signed_bytes(&self) -> Vec<u8> {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.remove("jws");
        }
        jcs::canonical(&v).into_bytes()
    }

    pub fn seal(&mut self, keys: &ProofKeyring) {
        self.jws = keys.sign(NOTICE_TYP, &self.signed_bytes());
    }

    /// Its put-if-absent (a retried save finds it there) and its `plan.changed` event.
    pub fn writes(&self) -> Result<(WriteOp, Emit), StoreError> {
        let item = Item::new(
            keys::plan_notices_pk(&self.handle, &self.partner_id),
            self.notice_id.as_str(),
            crate::platform::store::to_doc(self)?,
        );
        let emit = Emit {
            id: self.notice_id.event_id(),
            payload: Payload::of(self),
        };
        let put = WriteOp::Put {
            item,
            cond: Cond::Absent,
        };
        Ok((put, emit))
    }
}

/// `plan.changed` carries the notice itself, signed.
impl EventPayload for Notice {
    const TYPES: &'static [EventType] = &[EventType::PlanChanged];
    fn event_type(&self) -> EventType {
        EventType::PlanChanged
    }
}

/// Checks a notice offline (`tenx verify`): its `jws` verifies under the published keys as a
/// notice's and signs exactly the rest of the document. Answers what does not hold, in words.
pub fn verify(
    doc: &serde_json::Value,
    keys: &crate::domain::proof::jws::Jwks,
) -> Result<(), String> {
    let token = doc
        .get("jws")
        .and_then(serde_json::Value::as_str)
        .ok_or("missing jws")?;
    let payload = crate::domain::proof::jws::verify(token, NOTICE_TYP, keys)
        .map_err(|e| format!("signature: {e}"))?;
    let mut rest = doc.clone();
    if let Some(o) = rest.as_object_mut() {
        o.remove("jws");
    }
    if payload != jcs::canonical(&rest).into_bytes() {
        return Err("notice: it is not the notice that was signed".into());
    }
    Ok(())
}

/// Whether `next` changes what a conversion earns, or when, against `previous` (a first plan
/// always does).
pub fn changes_earnings(previous: Option<&Plan>, next: &Plan) -> bool {
    let Some(p) = previous else {
        return true;
    };
    let earning = |x: &Plan| {
        serde_json::json!([
            x.currency,
            x.rules,
            x.hold_days,
            x.require_verified,
            x.caps,
            x.attribution_window,
            x.customer_duration(),
            x.hold_above_risk,
            x.effective_at
        ])
    };
    earning(p) != earning(next)
}

/// One page of a partner's notices, newest first. Round trips: ONE query.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn list(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    limit: usize,
    after: Option<String>,
) -> Result<(Vec<Notice>, Option<String>), StoreError> {
    let mut q = Query::prefix(
        keys::plan_notices_pk(handle, partner),
        NoticeId::PREFIX,
        limit,
    );
    q.after = after;
    q.descending = true;
    store.query(q).await?.parsed()
}
