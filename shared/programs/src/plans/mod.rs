//! Commission plans as stored: every version kept under `H#{handle}#CP` / `{campaign}#{version}`,
//! so a conversion is paid under the version in force at its `receivedAt`, whenever the ledger
//! gets to it. Writing a new version (with its notices and their backtest, which read the
//! ledger) is `plan_changes`, above the ledger; this room is what the ledger pays by.

pub mod earn;
pub mod model;
pub mod notice;
pub mod preview;
pub mod rule;
pub mod tally;
pub mod words;

use serde::{Deserialize, Serialize};

use crate::domain::{CampaignId, Handle};
use crate::plans::model::Plan;
use crate::platform::store::{Cond, Item, Query, SkRange, Store, StoreError, WriteOp, keys};

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("Campaign {0} was not found.")]
    CampaignNotFound(CampaignId),
    #[error("Campaign {0} has no commission plan.")]
    NotFound(CampaignId),
    #[error("The campaign pays in {0}; a plan's currency is fixed once set.")]
    CurrencyFixed(String),
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Unconfigured(#[from] crate::kernel::state::Unconfigured),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Versions newest first, `limit` of them.
async fn newest(
    store: &dyn Store,
    handle: &Handle,
    campaign: &CampaignId,
    limit: usize,
    after: Option<String>,
) -> Result<Vec<Plan>, StoreError> {
    let prefix = format!("{campaign}#");
    let page = store
        .query(Query {
            pk: keys::plans_pk(handle),
            range: SkRange::Prefix(prefix),
            limit,
            after,
            descending: true,
        })
        .await?;
    page.items
        .iter()
        .map(crate::platform::store::Item::parse::<Plan>)
        .collect()
}

/// The current version. Round trips: ONE query.
#[tracing::instrument(skip_all, fields(handle = %handle, campaign = %campaign))]
pub async fn current(
    store: &dyn Store,
    handle: &Handle,
    campaign: &CampaignId,
) -> Result<Option<Plan>, StoreError> {
    Ok(newest(store, handle, campaign, 1, None)
        .await?
        .into_iter()
        .next())
}

/// Version `version` of the campaign's plan (what a ledger line names). Round trips: ONE read.
pub async fn version(
    store: &dyn Store,
    handle: &Handle,
    campaign: &CampaignId,
    version: u64,
) -> Result<Option<Plan>, StoreError> {
    store
        .get(&keys::plans_pk(handle), &keys::plan_sk(campaign, version))
        .await?
        .map(|i| i.parse::<Plan>())
        .transpose()
}

/// The version in force at `at_ms`: the newest whose effective time (`effectiveAt`, else
/// `updatedAt`) is not after it.
/// Round trips: one query per 20 versions walked back (almost always one).
pub async fn in_force_at(
    store: &dyn Store,
    handle: &Handle,
    campaign: &CampaignId,
    at_ms: i64,
) -> Result<Option<Plan>, StoreError> {
    let mut after = None;
    loop {
        let page = newest(store, handle, campaign, 20, after.take()).await?;
        let Some(last) = page.last() else {
            return Ok(None);
        };
        let next = keys::plan_sk(campaign, last.version);
        let full = page.len() == 20;
        for plan in page {
            if plan.effective_ms() <= at_ms {
                return Ok(Some(plan));
            }
        }
        if !full {
            return Ok(None);
        }
        after = Some(next);
    }
}

/// A campaign's newest versions, as [`in_force_among`] reads them: a batch of conversions of
/// one campaign reads them once (issue 58). Round trips: ONE query.
pub async fn recent(
    store: &dyn Store,
    handle: &Handle,
    campaign: &CampaignId,
) -> Result<Vec<Plan>, StoreError> {
    newest(store, handle, campaign, RECENT, None).await
}

/// How many versions [`recent`] reads.
pub const RECENT: usize = 20;

/// What [`in_force_among`] found.
pub enum Among<'a> {
    /// The version in force (`None`: none was yet).
    Found(Option<&'a Plan>),
    /// Older than every version read while more exist: ask [`in_force_at`].
    Older,
}

/// The version of `recent` (newest first, from [`recent`]) in force at `at_ms`, as
/// [`in_force_at`] finds it.
pub fn in_force_among(recent: &[Plan], at_ms: i64) -> Among<'_> {
    match recent.iter().find(|p| p.effective_ms() <= at_ms) {
        Some(plan) => Among::Found(Some(plan)),
        None if recent.len() == RECENT => Among::Older,
        None => Among::Found(None),
    }
}

/// The item of `plan`'s version (its campaign's partition in the handle's plans).
pub fn version_item(handle: &Handle, plan: &Plan) -> Result<Item, StoreError> {
    Ok(Item::new(
        keys::plans_pk(handle),
        keys::plan_sk(&plan.campaign_id, plan.version),
        crate::platform::store::to_doc(plan)?,
    ))
}

/// The writes that give campaign `to` a copy of `plan` as its version 1 (put if absent), and
/// its entry in the click registry when the plan pays qualified clicks: for a caller that
/// commits them with the campaign itself (a program approval copies its template's plan).
pub fn copy_ops(
    handle: &Handle,
    plan: &Plan,
    to: &CampaignId,
    by: &str,
) -> Result<Vec<WriteOp>, StoreError> {
    let mut copy = plan.clone();
    copy.campaign_id = to.clone();
    copy.version = 1;
    copy.updated_at = crate::platform::time::timestamp();
    copy.updated_by = by.to_owned();
    // In force from the copy: a template version saved for later would leave it unpaid.
    copy.effective_at = None;
    let item = Item::new(
        keys::plans_pk(handle),
        keys::plan_sk(to, 1),
        crate::platform::store::to_doc(&copy)?,
    );
    let mut ops = vec![WriteOp::Put {
        item,
        cond: Cond::Absent,
    }];
    if copy.click_rule().is_some() {
        let entry = Entry {
            handle: handle.clone(),
            campaign_id: to.clone(),
        };
        let doc = crate::platform::store::to_doc(&entry)?;
        let item = Item::new(CLICK_REGISTRY_PK, format!("{handle}#{to}"), doc);
        ops.push(WriteOp::Put {
            item,
            cond: Cond::None,
        });
    }
    Ok(ops)
}

/// The campaigns with a qualified-click rule, for the click accrual (`commissions::clicks`):
/// one registry partition, written when such a plan is set.
const CLICK_REGISTRY_PK: &str = "CPC";

#[derive(Serialize, Deserialize)]
struct Entry {
    handle: Handle,
    campaign_id: CampaignId,
}

/// Lists the campaign for the sweep (its plan has a qualified-click rule). ONE write.
pub async fn register_clicks(
    store: &dyn Store,
    handle: &Handle,
    campaign: &CampaignId,
) -> Result<(), StoreError> {
    let entry = Entry {
        handle: handle.clone(),
        campaign_id: campaign.clone(),
    };
    let item = Item::new(
        CLICK_REGISTRY_PK,
        format!("{handle}#{campaign}"),
        crate::platform::store::to_doc(&entry)?,
    );
    store
        .write(WriteOp::Put {
            item,
            cond: Cond::None,
        })
        .await
        .map(drop)
}

/// Every registered (handle, campaign). Round trips: ONE query.
pub async fn registered(store: &dyn Store) -> Result<Vec<(Handle, CampaignId)>, StoreError> {
    let page = store
        .query(Query::prefix(CLICK_REGISTRY_PK, "", 1000))
        .await?;
    page.items
        .iter()
        .map(|i| i.parse::<Entry>().map(|e| (e.handle, e.campaign_id)))
        .collect()
}
