//! The plan's terms in words (issue 61): for each of a partner's campaigns, the plan version in
//! force now, said as sentences (`plans::words`, the same words as the signed change notices),
//! and a version saved to take effect later beside it, so a partner reads what it earns, and
//! what it will earn, without reading a plan's JSON.

use serde::Serialize;

use crate::domain::time::Timestamp;
use crate::domain::{CampaignId, Currency, Handle, PartnerId};
use crate::plans::model::Plan;
use crate::platform::store::{Store, StoreError};

/// One version in words.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Version {
    pub plan_version: u64,
    /// When it took (or takes) effect.
    pub effective_at: Timestamp,
    pub terms: Vec<String>,
}

/// A campaign of the partner's and its terms.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CampaignTerms {
    pub campaign_id: CampaignId,
    pub currency: Currency,
    /// In force now (`None`: its first version takes effect later).
    pub current: Option<Version>,
    /// Saved to take effect later.
    pub upcoming: Option<Version>,
}

fn version(plan: &Plan) -> Version {
    Version {
        plan_version: plan.version,
        effective_at: Timestamp::from_millis(plan.effective_ms()),
        terms: crate::plans::words::terms(plan),
    }
}

/// The terms of every campaign of `partner` that has a plan, in campaign order. Round trips:
/// the handle's campaigns (one query per 1,000), then per campaign of the partner's ONE query
/// (and rarely more: `plans::in_force_at`).
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn of_partner(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    now_ms: i64,
) -> Result<Vec<CampaignTerms>, StoreError> {
    let campaigns = crate::campaigns::list_all(store, handle).await?;
    let mut out = Vec::new();
    for c in campaigns
        .iter()
        .filter(|c| c.partner_id.as_ref() == Some(partner))
    {
        let Some(newest) = crate::plans::current(store, handle, &c.campaign_id).await? else {
            continue;
        };
        let in_force = if newest.effective_ms() <= now_ms {
            Some(newest.clone())
        } else {
            crate::plans::in_force_at(store, handle, &c.campaign_id, now_ms).await?
        };
        let upcoming = (newest.effective_ms() > now_ms).then(|| version(&newest));
        out.push(CampaignTerms {
            campaign_id: c.campaign_id.clone(),
            currency: newest.currency,
            current: in_force.as_ref().map(version),
            upcoming,
        });
    }
    Ok(out)
}
