//! A campaign's clicks that came from a paid ad (issue 83): each human click whose
//! `link.clicked` names an ad (`adClick`: `gclid`, an ad server's referrer) is kept under
//! `H#{handle}#PAIDCLK#{campaignId}` / `{clickId}`, put by the aggregator in the transaction
//! that counts the click (on the events queue or the click stream), so a click counted is a
//! click kept, and a replayed batch puts the same item again. Partner risk reads them
//! (`paid_traffic`); nothing else is written for the other clicks.

use serde::{Deserialize, Serialize};

use crate::domain::{CampaignId, Handle};
use crate::kernel::events::ClickData;
use crate::platform::store::{Query, Store, StoreError, keys};

/// How many a campaign's read answers at most (one is enough to fire; a few name it).
pub const MAX_READ: usize = 50;

/// One kept paid click.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaidClick {
    pub click_id: String,
    pub slug: String,
    /// The click-id parameter or the ad server (`domain::ad_clicks`).
    pub ad_click: String,
    pub at: String,
}

/// The item a counted click adds, when it is a person's click from an ad on a campaign.
pub(super) fn record_of(
    handle: &Handle,
    click: &ClickData,
) -> Option<(String, String, serde_json::Value)> {
    let mark = click.ad_click.as_ref()?;
    let campaign = click.campaign_id.as_ref()?;
    if click.bot || click.test || click.expired {
        return None;
    }
    let doc = PaidClick {
        click_id: click.click_id.to_string(),
        slug: click.slug.clone(),
        ad_click: mark.clone(),
        at: click.at.clone(),
    };
    let doc = serde_json::to_value(doc).ok()?;
    Some((
        keys::paid_clicks_pk(handle, campaign),
        click.click_id.to_string(),
        doc,
    ))
}

/// The campaign's newest paid clicks (at most [`MAX_READ`]). Round trips: ONE query.
pub async fn of_campaign(
    store: &dyn Store,
    handle: &Handle,
    campaign: &CampaignId,
) -> Result<Vec<PaidClick>, StoreError> {
    let mut q = Query::all(keys::paid_clicks_pk(handle, campaign));
    q.limit = MAX_READ;
    q.descending = true;
    store.query(q).await?.parsed().map(|(items, _)| items)
}
