//! A plan change: the next version of a campaign's plan, put if absent (two concurrent writers
//! cannot both make version n+1), with the signed notice to the campaign's partner when it
//! changes what they earn — its last 30 days replayed under the new version (`backtest`, which
//! reads the ledger). It stands above the ledger, which pays by `plans`.

pub mod backtest;

use crate::domain::proof::jws::ProofKeyring;
use crate::domain::time::Timestamp;
use crate::domain::{CampaignId, Handle};
use crate::kernel::io::Io;
use crate::kernel::state::Unconfigured;
use crate::plans::model::{Plan, ValidPlan};
use crate::plans::{PlanError, current, notice, register_clicks, words};
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp};

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
    let item = crate::plans::version_item(handle, &plan)?;
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
    // "campaign c1, version 3": the plan's sort key is `{campaignId}#{version:010}`.
    let target = match item.sk.split_once('#') {
        Some((campaign, version)) => format!(
            "campaign {campaign}, plan version {}",
            version.trim_start_matches('0')
        ),
        None => item.sk.clone(),
    };
    let audit = crate::kernel::audit::entry(handle, "plan.changed", &target)?;
    let Some(n) = notice else {
        let put = WriteOp::Put {
            item,
            cond: Cond::Absent,
        };
        return match io.store.transact(vec![put, audit]).await {
            Ok(()) => Ok(true),
            Err(StoreError::TxConflict { index: 0, .. }) => Ok(false),
            Err(e) => Err(e.into()),
        };
    };
    let (put_notice, emit) = n.writes()?;
    let put_plan = WriteOp::Put {
        item,
        cond: Cond::Absent,
    };
    match crate::kernel::emit::commit(io, handle, vec![put_plan, put_notice, audit], vec![emit])
        .await
    {
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
    // The program's coupon policy stays as it is: the notice is about the plan.
    let coupons = crate::programs::settings::get(store, handle)
        .await?
        .map(|p| p.coupon_rules())
        .unwrap_or_default();
    let replay = backtest::run(store, handle, campaign, (plan, coupons), period).await?;
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
