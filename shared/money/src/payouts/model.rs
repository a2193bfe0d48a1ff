//! A payout as stored (`H#{handle}#PAY` / `{payoutId}`) and answered, and its events.

use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::{Currency, Handle, PartnerId, PayoutId};
use crate::kernel::emit::Emit;
use crate::kernel::events::{EventPayload, EventType, Payload};
use crate::platform::store::{Item, Query, StoreError, keys};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutStatus {
    Pending,
    /// Handed to a payment provider (Stripe Connect, PayPal Payouts), not yet confirmed by it.
    Sending,
    Paid,
    Failed,
    /// Sent through a provider and given back by it (unclaimed, returned, reversed): its lines
    /// are back on the partner's balance.
    Returned,
    Canceled,
}

/// The provider a payout is sent through, and its own name for the payment (a Stripe transfer
/// `tr_…`, a PayPal batch) once it made one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderRef {
    /// `stripe` or `paypal`.
    pub name: String,
    pub reference: Option<String>,
    /// Where the payment stands at the provider, in words.
    #[serde(default)]
    pub state: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payout {
    pub payout_id: PayoutId,
    pub partner_id: PartnerId,
    pub amount_minor: i64,
    pub currency: Currency,
    pub commission_count: usize,
    /// The lines of a payout made before the pages (`payouts::lines`); empty since.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commission_ids: Vec<crate::domain::CommissionId>,
    /// Pages of line ids beside the payout (`payouts::lines`); 0 for a payout made before them.
    #[serde(default)]
    pub line_pages: u32,
    pub status: PayoutStatus,
    pub period_start: String,
    pub period_end: String,
    pub sequence: u64,
    pub created_at: Timestamp,
    pub paid_at: Option<Timestamp>,
    pub reference: Option<String>,
    pub reason: Option<String>,
    pub created_by: String,
    /// The provider sending it, for a payout sent through one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderRef>,
    /// The statement's RFC 6962 root over its lines' leaves (hex).
    #[serde(default)]
    pub merkle_root: String,
    /// The partner's previous statement's hash (hex), `None` for its first payout.
    #[serde(default)]
    pub previous_statement_hash: Option<String>,
    /// SHA-256 (hex) of this statement's canonical header: the next one links to it.
    #[serde(default)]
    pub statement_hash: String,
    /// The compact JWS over the canonical header, signed when the payout was created.
    #[serde(default)]
    pub jws: String,
    /// Its self-billing invoice's number in the partner's series, taken in the transaction that
    /// made it paid (`payouts::invoice`); `None` when the program did not bill itself for the
    /// partner then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_sequence: Option<u64>,
    /// A payout of test mode's lines: its own chain, never sent nor in a batch file, no
    /// invoice, no mail to the partner.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub test: bool,
    #[serde(skip)]
    pub version: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum PayoutError {
    #[error("Payout {0} was not found.")]
    NotFound(PayoutId),
    #[error("This idempotency-key was used for a different payout run.")]
    KeyReused,
    #[error("{0}")]
    InvalidState(String),
    #[error("The payout is being changed concurrently; retry.")]
    Busy,
    /// The call's budget is spent with work left (`payouts::budget`): never answered as an
    /// error, the request answers `202` and the sweeper carries on.
    #[error("The work goes on in the background.")]
    Suspended,
    #[error(transparent)]
    Unconfigured(#[from] crate::kernel::state::Unconfigured),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Payout {
    pub(crate) fn item(&self, handle: &Handle) -> Result<Item, StoreError> {
        Ok(Item::new(
            keys::payouts_pk(handle),
            self.payout_id.as_str(),
            crate::platform::store::to_doc(self)?,
        )
        .with_version(self.version))
    }

    pub(crate) fn from_item(item: &Item) -> Result<Self, StoreError> {
        let mut p: Payout = item.parse()?;
        p.version = item.version;
        Ok(p)
    }
}

#[tracing::instrument(skip_all, fields(handle = %handle, payout = %id))]
pub async fn get(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    id: &PayoutId,
) -> Result<Option<Payout>, StoreError> {
    let item = store.get(&keys::payouts_pk(handle), id.as_str()).await?;
    item.as_ref().map(Payout::from_item).transpose()
}

/// Every payout of the handle, in id order: the repairs' scan (`tenx ledger`), never a
/// request's. Round trips: ONE query per 1,000 payouts.
pub(crate) async fn every(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
) -> Result<Vec<Payout>, StoreError> {
    let mut payouts = Vec::new();
    let query = Query::all(keys::payouts_pk(handle));
    crate::platform::store::for_each_item(store, query, |item| {
        payouts.push(Payout::from_item(item)?);
        Ok::<_, StoreError>(std::ops::ControlFlow::Continue(()))
    })
    .await?;
    Ok(payouts)
}

/// How many payouts [`get_many`] reads at once.
const READS_IN_FLIGHT: usize = 16;

/// The payouts `ids` point to, in their order (one gone is left out: a pointer is written with
/// its payout, and the lists that hold them are filtered by what the payout says). Round trips:
/// ONE read per id, [`READS_IN_FLIGHT`] at a time.
pub(crate) async fn get_many(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    ids: Vec<PayoutId>,
) -> Result<Vec<Payout>, StoreError> {
    use futures::{StreamExt, TryStreamExt};
    let reads = ids
        .into_iter()
        .map(|id| async move { get(store, handle, &id).await });
    let payouts: Vec<Option<Payout>> = futures::stream::iter(reads)
        .buffered(READS_IN_FLIGHT)
        .try_collect()
        .await?;
    Ok(payouts.into_iter().flatten().collect())
}

/// The payout ids a page of pointers holds (their sort keys).
pub(crate) fn pointed_ids(items: &[Item]) -> Result<Vec<PayoutId>, StoreError> {
    items
        .iter()
        .map(|item| PayoutId::parse(&item.sk))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| StoreError::Invalid(format!("payout pointer: {e}")))
}

/// One page of the handle's payouts, newest first: ONE query. (One partner's:
/// `payouts::of_partner::list`.)
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn list(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    limit: usize,
    after: Option<String>,
) -> Result<(Vec<Payout>, Option<String>), StoreError> {
    let mut q = Query::prefix(keys::payouts_pk(handle), "pay_", limit);
    q.after = after;
    q.descending = true;
    let page = store.query(q).await?;
    let payouts = page.items.iter().map(Payout::from_item);
    Ok((payouts.collect::<Result<_, _>>()?, page.next))
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PayoutView {
    pub payout_id: PayoutId,
    pub partner_id: PartnerId,
    pub amount: String,
    pub currency: Currency,
    pub commission_count: usize,
    pub status: PayoutStatus,
    pub period_start: String,
    pub period_end: String,
    pub sequence: u64,
    pub created_at: Timestamp,
    pub paid_at: Option<Timestamp>,
    pub reference: Option<String>,
    pub reason: Option<String>,
    pub created_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderRef>,
    /// Why it has not left yet (`payouts::waiting`): a manager's read only, never an event's
    /// or a partner's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting: Option<Waiting>,
    /// A payout of test money: present only when `true`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub test: bool,
}

impl From<&Payout> for PayoutView {
    fn from(p: &Payout) -> Self {
        PayoutView {
            payout_id: p.payout_id.clone(),
            partner_id: p.partner_id.clone(),
            amount: p.currency.format(i128::from(p.amount_minor)),
            currency: p.currency,
            commission_count: p.commission_count,
            status: p.status,
            period_start: p.period_start.clone(),
            period_end: p.period_end.clone(),
            sequence: p.sequence,
            created_at: p.created_at.clone(),
            paid_at: p.paid_at.clone(),
            reference: p.reference.clone(),
            reason: p.reason.clone(),
            created_by: p.created_by.clone(),
            provider: p.provider.clone(),
            waiting: None,
            test: p.test,
        }
    }
}

/// What keeps a payout from leaving.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitState {
    /// The program holds it: judged again at `nextCheckAt`, handed over once the hold ends.
    Held,
    /// The provider did not take it (busy, down, a lost answer): sent again at `nextCheckAt`.
    Retrying,
}

/// `waiting` on a manager's payout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Waiting {
    pub state: WaitState,
    /// The hold's code (`payout_tax_profile_missing`, `payout_fraud_hold`, …), for a hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<crate::payout_methods::model::Exclusion>,
    /// Why, in words for the manager.
    pub words: String,
    /// Attempts made at the provider so far.
    pub attempts: u32,
    pub next_check_at: Timestamp,
}

/// `payout.created`, `payout.sent` (handed to its provider, which has the payment),
/// `payout.paid`, `payout.failed` and `payout.returned`: each carries the payout's view
/// (serialized as the view alone: `untagged`).
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum PayoutEvent {
    Created(PayoutView),
    Paid(PayoutView),
    Sent(PayoutView),
    Failed(PayoutView),
    Returned(PayoutView),
}

impl EventPayload for PayoutEvent {
    const TYPES: &'static [EventType] = &[
        EventType::PayoutCreated,
        EventType::PayoutPaid,
        EventType::PayoutSent,
        EventType::PayoutFailed,
        EventType::PayoutReturned,
    ];
    fn event_type(&self) -> EventType {
        match self {
            PayoutEvent::Created(_) => EventType::PayoutCreated,
            PayoutEvent::Paid(_) => EventType::PayoutPaid,
            PayoutEvent::Sent(_) => EventType::PayoutSent,
            PayoutEvent::Failed(_) => EventType::PayoutFailed,
            PayoutEvent::Returned(_) => EventType::PayoutReturned,
        }
    }
}

/// The event `kind` (`PayoutEvent::Paid`, …) of `p`, with an id derived from the payout and the
/// type.
pub fn payout_event(p: &Payout, kind: fn(PayoutView) -> PayoutEvent) -> Emit {
    let payload = kind(PayoutView::from(p));
    Emit {
        id: p.payout_id.event_id(payload.event_type().as_str()),
        payload: Payload::of(&payload),
    }
}
