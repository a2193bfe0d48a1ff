//! A payout batch as stored (`H#{handle}#BAT` / `{batchId}`) and answered.

use crate::domain::time::Timestamp;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::{BatchId, Currency, Handle, PartnerId, PayoutId};
use crate::payout_methods::{Exclusion, MethodType};
use crate::platform::store::{Item, StoreError, keys};

/// The most payouts one batch holds (one item of ~350 bytes each, far under DynamoDB's 400 KB;
/// PayPal takes 5,000 a file, Wise 1,000).
pub const MAX_PAYOUTS: usize = 500;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    /// Created: its payouts are claimed, its file can be downloaded.
    Open,
    /// Marked paid: each of its payouts is paid with the batch's reference.
    Paid,
    /// Canceled: its payouts are free for another batch.
    Canceled,
}

/// One payout in a batch, with the partner's details as sealed when the batch was made (a
/// later change of details never redirects a batch already made).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchItem {
    pub payout_id: PayoutId,
    pub partner_id: PartnerId,
    pub amount_minor: i64,
    pub currency: Currency,
    /// The payout's statement number for its partner.
    pub sequence: u64,
    pub sealed: Option<String>,
    /// The payout's version when it was selected (pending then): its claim requires it
    /// unchanged (`claim::claim_all`). Not stored with the batch.
    #[serde(skip)]
    pub payout_version: u64,
}

/// A payout left out of a batch, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Excluded {
    pub payout_id: PayoutId,
    pub partner_id: PartnerId,
    pub reason: Exclusion,
    /// The reason in words (`Exclusion::words`; empty in batches stored before it).
    #[serde(default)]
    pub words: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Batch {
    pub batch_id: BatchId,
    pub method: MethodType,
    pub status: BatchStatus,
    pub items: Vec<BatchItem>,
    pub excluded: Vec<Excluded>,
    /// `YYYY-MM-DD`: the SEPA file's requested execution date.
    pub execution_date: String,
    pub created_at: Timestamp,
    pub created_by: String,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub paid_at: Option<Timestamp>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub canceled_at: Option<Timestamp>,
    #[serde(skip)]
    pub version: u64,
}

impl Batch {
    pub(crate) fn item(&self, handle: &Handle) -> Result<Item, StoreError> {
        Ok(Item::new(
            keys::batches_pk(handle),
            self.batch_id.as_str(),
            crate::platform::store::to_doc(self)?,
        )
        .with_version(self.version))
    }

    pub(crate) fn from_item(item: &Item) -> Result<Self, StoreError> {
        let mut b: Batch = item.parse()?;
        b.version = item.version;
        Ok(b)
    }

    /// Minor units per currency.
    pub fn totals(&self) -> BTreeMap<Currency, i128> {
        let mut t = BTreeMap::new();
        for i in &self.items {
            *t.entry(i.currency).or_insert(0) += i128::from(i.amount_minor);
        }
        t
    }

    pub fn payout_ids(&self) -> Vec<PayoutId> {
        self.items.iter().map(|i| i.payout_id.clone()).collect()
    }
}

/// A batch as answered: never a partner's details.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchView {
    pub batch_id: BatchId,
    pub method: MethodType,
    pub status: BatchStatus,
    pub payout_ids: Vec<PayoutId>,
    pub payout_count: usize,
    /// Per currency, decimal strings (`{"EUR": "1234.50"}`).
    pub totals: BTreeMap<Currency, String>,
    pub excluded: Vec<Excluded>,
    pub execution_date: String,
    pub created_at: Timestamp,
    pub created_by: String,
    pub reference: Option<String>,
    pub paid_at: Option<Timestamp>,
    pub reason: Option<String>,
    pub canceled_at: Option<Timestamp>,
}

impl From<&Batch> for BatchView {
    fn from(b: &Batch) -> Self {
        BatchView {
            batch_id: b.batch_id.clone(),
            method: b.method,
            status: b.status,
            payout_ids: b.payout_ids(),
            payout_count: b.items.len(),
            totals: b
                .totals()
                .into_iter()
                .map(|(c, minor)| (c, c.format(minor)))
                .collect(),
            excluded: b.excluded.clone(),
            execution_date: b.execution_date.clone(),
            created_at: b.created_at.clone(),
            created_by: b.created_by.clone(),
            reference: b.reference.clone(),
            paid_at: b.paid_at.clone(),
            reason: b.reason.clone(),
            canceled_at: b.canceled_at.clone(),
        }
    }
}
