//! Commission plans as stored: every version kept under `H#{handle}#CP` / `{campaign}#{version}`,
//! so a conversion is paid under the version in force at its `receivedAt`, whenever the ledger
//! gets to it. A new version is a put-if-absent of the next number: two concurrent writers
//! cannot both make version n+1.

pub mod backtest;
pub mod earn;
pub mod model;
pub mod notice;
pub mod preview;
pub mod rule;
pub mod tally;
pub mod words;

use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::proof::jws::ProofKeyring;
use crate::domain::{CampaignId, Handle};
use crate::kernel::io::Io;
use crate::kernel::state::Unconfigured;
use crate::plans::model::{Plan, ValidPlan};
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

/// Writes the next version; when it changes what the campaign's partner earns, with its signed
/// notice and `plan.changed` event in the same transaction. `expected`: the `if-match` version,
/// when given. Round trips: the campaign read, ONE query, then ONE conditional put (with a
/// notice: the 30-day backtest's reads, then ONE transaction and ONE send).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn put(
    io: Io<'_>,
    signing: Result<&ProofKeyring, Unconfigured>,
    handle: &Handle,
    campaign_id: &CampaignId,
    valid: ValidPlan,
    expected: Option<u64>,
    by: &str,
) -> Result<Plan, PlanError> {
    // A plan may be set before the campaign has a partner: commissions accrue only while it
    // has one (`accrue::terms`).
    let campaign = crate::campaigns::get(io.store.as_ref(), handle, campaign_id)
        .await?
        .ok_or_else(|| PlanError::CampaignNotFound(campaign_id.clone()))?;
    let previous = current(io.store.as_ref(), handle, campaign_id).await?;
    let plan = next_version(previous.as_ref(), valid, expected, campaign_id, by)?;
    let item = Item::new(
        keys::plans_pk(handle),
        keys::plan_sk(campaign_id, plan.version),
        crate::platform::store::to_doc(&plan)?,
    );
    let notice = match &campaign.partner_id {
        Some(partner) if notice::changes_earnings(previous.as_ref(), &plan) => Some(
            notice_of(
                io.store.as_ref(),
                signing,
                handle,
                &campaign,
                partner,
                previous.as_ref(),
                &plan,
            )
            .await?,
        ),
        _ => None,
    };
    if !save(io, handle, item, notice.as_ref()).await? {
        return Err(PlanError::PreconditionFailed(
            "The plan changed concurrently; re-read it and retry.".into(),
        ));
    }
    if plan.click_rule().is_some() {
        register_clicks(io.store.as_ref(), handle, campaign_id).await?;
    }
    Ok(plan)
}

/// The version after `previous`, checked against `if-match` and the fixed currency.
fn next_version(
    previous: Option<&Plan>,
    valid: ValidPlan,
    expected: Option<u64>,
    campaign_id: &CampaignId,
    by: &str,
) -> Result<Plan, PlanError> {
    let at = previous.map_or(0, |p| p.version);
    if let Some(v) = expected
        && v != at
    {
        return Err(PlanError::PreconditionFailed(format!(
            "The plan is at version {at}; re-read it and retry with that if-match."
        )));
    }
    if let Some(p) = previous
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
    let now = Timestamp::from_millis(now_ms);
    Ok(valid.versioned(campaign_id.clone(), at + 1, now, by.to_owned()))
}

/// The version alone (ONE conditional put), or with its notice and event (ONE transaction).
/// `false`: the version was taken meanwhile.
async fn save(
    io: Io<'_>,
    handle: &Handle,
    item: Item,
    notice: Option<&notice::Notice>,
) -> Result<bool, PlanError> {
    let Some(n) = notice else {
        return Ok(crate::platform::store::put_new(io.store.as_ref(), item).await?);
    };
    let (put_notice, emit) = n.writes()?;
    let put_plan = WriteOp::Put {
        item,
        cond: Cond::Absent,
    };
    match crate::ledger::emit::commit(io, handle, vec![put_plan, put_notice], vec![emit]).await {
        Ok(()) => Ok(true),
        Err(StoreError::TxConflict { index: 0, .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The signed notice of `plan` to `partner`, with the last 30 days replayed under it.
async fn notice_of(
    store: &dyn Store,
    signing: Result<&ProofKeyring, Unconfigured>,
    handle: &Handle,
    campaign: &crate::campaigns::Campaign,
    partner: &crate::domain::PartnerId,
    previous: Option<&Plan>,
    plan: &Plan,
) -> Result<notice::Notice, PlanError> {
    let keys = signing?;
    let now_ms = crate::platform::time::now_millis();
    let period = backtest::Period {
        from_ms: now_ms - notice::DIFFERENCE_DAYS * 86_400_000,
        to_ms: now_ms,
    };
    let replay = backtest::run(store, handle, campaign, plan, period).await?;
    let mine = replay.partners.iter().find(|p| &p.partner_id == partner);
    let zero = plan.currency.format(0);
    let before = previous.map(words::terms).unwrap_or_default();
    let after = words::terms(plan);
    let seed = format!(
        "{handle}\n{}\n{}\n{partner}",
        campaign.campaign_id, plan.version
    );
    let mut n = notice::Notice {
        notice_id: crate::domain::NoticeId::of_plan(now_ms, &seed),
        handle: handle.clone(),
        partner_id: partner.clone(),
        campaign_id: campaign.campaign_id.clone(),
        plan_version: plan.version,
        previous_version: previous.map(|p| p.version),
        effective_at: plan
            .effective_at
            .clone()
            .unwrap_or_else(|| plan.updated_at.clone()),
        summary: words::summary(&before, &after),
        before,
        after,
        difference30d: notice::Difference {
            from: replay.from.clone(),
            to: replay.to.clone(),
            currency: plan.currency,
            conversions: mine.map_or(0, |m| m.conversions),
            actual: mine.map_or_else(|| zero.clone(), |m| m.actual.clone()),
            draft: mine.map_or_else(|| zero.clone(), |m| m.draft.clone()),
            difference: mine.map_or_else(|| zero.clone(), |m| m.difference.clone()),
        },
        created_at: plan.updated_at.clone(),
        jws: String::new(),
    };
    n.seal(keys);
    Ok(n)
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
async fn register_clicks(
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
