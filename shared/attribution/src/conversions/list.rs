//! The audit trail: one conversion by id, and the handle's conversions newest first, filtered,
//! a page at a time. Records live in one partition per handle and UTC day, so a listing reads
//! the days of its range from the newest, one query per day until the page is full.

use time::Date;

use crate::analytics::days::{DayRange, format_day};
use crate::domain::{CampaignId, Handle};
use crate::kernel::events::ConversionData;
use crate::platform::store::{Query, SkRange, Store, StoreError, keys};

/// What a listing keeps (every filter optional).
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub campaign_id: Option<CampaignId>,
    pub verified: Option<bool>,
    pub flagged: Option<bool>,
    pub reversed: Option<bool>,
}

impl Filter {
    fn keeps(&self, c: &ConversionData) -> bool {
        let is = |want: Option<bool>, actual: bool| want.is_none_or(|w| w == actual);
        self.campaign_id
            .as_ref()
            .is_none_or(|id| c.campaign_id.as_ref() == Some(id))
            && is(self.verified, c.verified)
            && is(self.flagged, c.risk.flagged())
            && is(self.reversed, c.reversal.is_some())
    }
}

/// Every conversion recorded on UTC `day` (`YYYY-MM-DD`), oldest first, a page at a time: what
/// the plan backtest replays.
pub fn of_day(handle: &Handle, day: &str) -> Query {
    Query::all(keys::conversion_day_pk(handle, day))
}

/// Where a listing resumes: the day and the last conversion id returned on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resume {
    pub day: String,
    pub after: String,
}

/// Up to `limit` conversions in `range` that pass `filter`, newest first, and where the next
/// page resumes. Round trips: one query per day read (empty days cost one each).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn list(
    store: &dyn Store,
    handle: &Handle,
    range: &DayRange,
    filter: &Filter,
    limit: usize,
    resume: Option<Resume>,
) -> Result<(Vec<ConversionData>, Option<Resume>), StoreError> {
    let mut out = Vec::new();
    let mut day = match &resume {
        Some(r) => parse_day(&r.day).unwrap_or(range.to).min(range.to),
        None => range.to,
    };
    let mut after = resume.map(|r| r.after);
    while day >= range.from {
        let pk = keys::conversion_day_pk(handle, &format_day(day));
        loop {
            let page = store
                .query(Query {
                    pk: pk.clone(),
                    range: SkRange::All,
                    limit: 100,
                    after: after.take(),
                    descending: true,
                })
                .await?;
            for item in &page.items {
                let data = item.parse::<ConversionData>()?;
                if filter.keeps(&data) {
                    out.push(data);
                    if out.len() == limit {
                        let next = Resume {
                            day: format_day(day),
                            after: item.sk.clone(),
                        };
                        return Ok((out, Some(next)));
                    }
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let Some(previous) = day.previous_day() else {
            break;
        };
        day = previous;
    }
    Ok((out, None))
}

fn parse_day(raw: &str) -> Option<Date> {
    Date::parse(
        raw,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A recorded conversion on `campaign` (`null`: a link without one).
    fn on(campaign: serde_json::Value) -> ConversionData {
        serde_json::from_value(json!({
            "conversionId": crate::domain::ConversionId::new(),
            "idempotencyKey": "order-1",
            "clickId": crate::domain::ClickId::new(),
            "campaignId": campaign,
            "slug": "deal",
            "eventType": "purchase",
            "test": false,
            "country": "DE",
            "device": "desktop",
            "source": "direct",
            "receivedAt": "2026-11-21T09:00:00.000Z"
        }))
        .expect("a conversion as recorded")
    }

    #[test]
    fn a_campaign_filter_keeps_that_campaigns_conversions_only() {
        let alpha = Filter {
            campaign_id: Some(CampaignId::parse("alpha").unwrap()),
            ..Filter::default()
        };
        assert!(alpha.keeps(&on(json!("alpha"))));
        assert!(!alpha.keeps(&on(json!("alpha-2"))));
        assert!(!alpha.keeps(&on(serde_json::Value::Null)));
    }

    #[test]
    fn no_campaign_filter_keeps_every_conversion() {
        let all = Filter::default();
        assert!(all.keeps(&on(json!("alpha"))));
        assert!(all.keeps(&on(serde_json::Value::Null)));
    }
}
