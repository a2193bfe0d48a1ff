//! A campaign whose numbers are not to be trusted (confidence below 50: bots, conversions beyond
//! its qualified clicks, fraud signals; `domain::confidence`) has its new commissions held for
//! review, with the score and the window it was computed over.

use crate::analytics::days::{DayRange, day_of_unix};
use crate::analytics::report::{self, Scope};
use crate::campaigns::Campaign;
use crate::domain::Handle;
use crate::ledger::model::{Commission, ConfidenceAtHold, Status};
use crate::platform::store::StoreError;

/// The reason a line held for its campaign's confidence carries.
pub const LOW: &str = "low_confidence";
/// Below this, new commissions are held.
pub const HOLD_BELOW: u8 = 50;
/// The window the score is computed over: the 30 days up to the conversion's.
const WINDOW_DAYS: i64 = 30;

/// The campaign's confidence over the 30 days up to `at_ms`. Round trips: the funnel's reads.
/// The confidences one batch of conversions has read, by handle, campaign and day: a batch's
/// conversions of one campaign and day share the window's funnel, read once (issue 58: the
/// funnel read, ~0.1 to 0.4 s on a DynamoDB emulator, was most of a conversion's accrual, so a
/// backlog of 1,000 drained at about one conversion a second).
#[derive(Default)]
pub struct Memo(std::collections::HashMap<(String, String, String), ConfidenceAtHold>);

/// How long the events consumer keeps a [`Memo`] from one batch to the next: a backlog's
/// batches of one campaign share one funnel read every 30 s instead of one each (issue 58). A
/// campaign whose confidence falls has its new lines held at most this much later; the score
/// is over 30 days, so 30 s of it is not what holds a line.
pub const KEPT_FOR: std::time::Duration = std::time::Duration::from_secs(30);

/// A [`Memo`] kept between batches, with the moment its first read was made.
#[derive(Default)]
pub struct Kept(std::sync::Mutex<Option<(std::time::Instant, Memo)>>);

impl Kept {
    /// The kept memo while it is younger than [`KEPT_FOR`], else a new one.
    pub fn take(&self) -> (std::time::Instant, Memo) {
        let kept = self.0.lock().map(|mut k| k.take()).unwrap_or(None);
        match kept {
            Some((since, memo)) if since.elapsed() < KEPT_FOR => (since, memo),
            _ => (std::time::Instant::now(), Memo::default()),
        }
    }

    /// Keeps `memo` for the next batch (a batch that failed keeps nothing: it is retried).
    pub fn keep(&self, kept: (std::time::Instant, Memo)) {
        if let Ok(mut k) = self.0.lock() {
            *k = Some(kept);
        }
    }
}

/// [`at`], once per campaign and day of `memo`.
pub async fn at_memo(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    campaign: &Campaign,
    at_ms: i64,
    memo: &mut Memo,
) -> Result<ConfidenceAtHold, StoreError> {
    let key = (
        handle.to_string(),
        campaign.campaign_id.to_string(),
        day_of_unix(at_ms / 1000),
    );
    if let Some(known) = memo.0.get(&key) {
        return Ok(known.clone());
    }
    let read = at(store, handle, campaign, at_ms).await?;
    memo.0.insert(key, read.clone());
    Ok(read)
}

pub async fn at(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    campaign: &Campaign,
    at_ms: i64,
) -> Result<ConfidenceAtHold, StoreError> {
    let to = day_of_unix(at_ms / 1000);
    let from = day_of_unix(at_ms / 1000 - (WINDOW_DAYS - 1) * 86_400);
    let today = crate::platform::time::now().date();
    let range = DayRange::parse(Some(&from), Some(&to), today)
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    let scope = Scope::One(campaign.clone());
    let now = crate::platform::store::now_unix();
    let funnel = report::funnel(store, handle, &scope, &range, now).await?;
    let value = funnel.campaigns.first().map_or(100, |row| row.confidence);
    Ok(ConfidenceAtHold { value, from, to })
}

/// Holds `line` when the confidence is below [`HOLD_BELOW`] (a capped or already held line
/// keeps its status, and records the score either way only when it holds).
pub fn hold_if_low(line: &mut Commission, confidence: ConfidenceAtHold) {
    if confidence.value >= HOLD_BELOW || line.status == Status::Capped {
        return;
    }
    line.status = Status::Held;
    line.reasons.push(LOW.to_owned());
    line.confidence = Some(confidence);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_score_below_50_holds_the_line_and_records_it() {
        let mut line = Commission::blank(
            crate::domain::CommissionId::new(),
            crate::ledger::model::Kind::Conversion,
            crate::domain::PartnerId::parse("p").unwrap(),
            Some(100),
            crate::domain::Currency::parse("EUR").unwrap(),
            Status::Pending,
        );
        let window = |value| ConfidenceAtHold {
            value,
            from: "2026-11-01".into(),
            to: "2026-11-30".into(),
        };
        hold_if_low(&mut line, window(50));
        assert_eq!(
            (line.status, line.confidence.is_none()),
            (Status::Pending, true)
        );
        hold_if_low(&mut line, window(45));
        assert_eq!(line.status, Status::Held);
        assert_eq!(line.reasons, ["low_confidence"]);
        assert_eq!(line.confidence.as_ref().map(|c| c.value), Some(45));
    }
}
