//! Commission plans as stored: every version kept under `H#{handle}#CP` / `{campaign}#{version}`,
//! so a conversion is paid under the version in force at its `receivedAt`, whenever the ledger
//! gets to it. A new version is a put-if-absent of the next number: two concurrent writers
//! cannot both make version n+1.

pub mod earn;
pub mod model;
pub mod preview;
pub mod rule;
pub mod tally;

use serde::{Deserialize, Serialize};

use crate::domain::{CampaignId, Handle};
use crate::kernel::state::AppState;
use crate::plans::model::{Plan, ValidPlan};
use crate::platform::store::{Cond, Item, Query, SkRange, StoreError, WriteOp, keys};

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
    Store(#[from] StoreError),
}

/// Versions newest first, `limit` of them.
async fn newest(
    state: &AppState,
    handle: &Handle,
    campaign: &CampaignId,
    limit: usize,
    after: Option<String>,
) -> Result<Vec<Plan>, StoreError> {
    let prefix = format!("{campaign}#");
    let page = state
        .store
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
    state: &AppState,
    handle: &Handle,
    campaign: &CampaignId,
) -> Result<Option<Plan>, StoreError> {
    Ok(newest(state, handle, campaign, 1, None)
        .await?
        .into_iter()
        .next())
}

/// The version in force at `at_ms`: the newest whose effective time (`effectiveAt`, else
/// `updatedAt`) is not after it.
/// Round trips: one query per 20 versions walked back (almost always one).
pub async fn in_force_at(
    state: &AppState,
    handle: &Handle,
    campaign: &CampaignId,
    at_ms: i64,
) -> Result<Option<Plan>, StoreError> {
    let mut after = None;
    loop {
        let page = newest(state, handle, campaign, 20, after.take()).await?;
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

/// Writes the next version. `expected`: the `if-match` version, when given. Round trips: the
/// campaign read, ONE query, ONE conditional put.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn put(
    state: &AppState,
    handle: &Handle,
    campaign_id: &CampaignId,
    valid: ValidPlan,
    expected: Option<u64>,
    by: &str,
) -> Result<Plan, PlanError> {
    let campaign = crate::campaigns::get(state.store.as_ref(), handle, campaign_id)
        .await?
        .ok_or_else(|| PlanError::CampaignNotFound(campaign_id.clone()))?;
    // A plan may be set before the campaign has a partner: commissions accrue only while it
    // has one (`accrue::terms`).
    let _ = campaign;
    let previous = current(state, handle, campaign_id).await?;
    let at = previous.as_ref().map_or(0, |p| p.version);
    if let Some(v) = expected
        && v != at
    {
        return Err(PlanError::PreconditionFailed(format!(
            "The plan is at version {at}; re-read it and retry with that if-match."
        )));
    }
    if let Some(p) = &previous
        && p.currency != valid.currency
    {
        return Err(PlanError::CurrencyFixed(p.currency.to_string()));
    }
    let now_ms = crate::platform::time::now_millis();
    if valid.effective_at_ms.is_some_and(|t| t < now_ms) {
        return Err(PlanError::Invalid(
            "effectiveAt: must not be in the past.".into(),
        ));
    }
    let now = crate::domain::time::unix_millis_to_rfc3339(now_ms);
    let plan = valid.versioned(campaign_id.clone(), at + 1, now, by.to_owned());
    let item = Item::new(
        keys::plans_pk(handle),
        keys::plan_sk(campaign_id, plan.version),
        crate::platform::store::to_doc(&plan)?,
    );
    if !crate::platform::store::put_new(state.store.as_ref(), item).await? {
        return Err(PlanError::PreconditionFailed(
            "The plan changed concurrently; re-read it and retry.".into(),
        ));
    }
    if plan.click_rule().is_some() {
        register_clicks(state, handle, campaign_id).await?;
    }
    Ok(plan)
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
async fn register_clicks(
    state: &AppState,
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
    state
        .store
        .write(WriteOp::Put {
            item,
            cond: Cond::None,
        })
        .await
        .map(drop)
}

/// Every registered (handle, campaign). Round trips: ONE query.
pub async fn registered(state: &AppState) -> Result<Vec<(Handle, CampaignId)>, StoreError> {
    let page = state
        .store
        .query(Query::prefix(CLICK_REGISTRY_PK, "", 1000))
        .await?;
    page.items
        .iter()
        .map(|i| i.parse::<Entry>().map(|e| (e.handle, e.campaign_id)))
        .collect()
}
