//! The handle's coupon codes ranked by leak score (`GET …/coupon-codes/leaks`): the events
//! worker keeps each code's report whenever it rates the code (after each batch that sold with
//! it: `report::keep`), with its sales counted by day, so the ranking reads the kept reports,
//! never the sales, and re-scores each as of the day it reads it (`days`: sales older than the
//! window drop out that day, not at the code's next sale). `ratedAt` is the code's last rating;
//! the threshold is the program's now.

use super::days;
use super::report::Kept;
pub use super::report::Ranked;
use crate::domain::Handle;
use crate::platform::store::{Item, Query, Store, StoreError, keys};

/// The handle's `limit` codes with the highest score first (then the most sales without a
/// click, then the code), of its first 1,000 codes rated (a query's page: far more than a
/// program hands out). Round trips: ONE query and the program's read, side by side (and, once
/// for each report kept before reports held their days, ONE query and ONE write).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn top(
    store: &dyn Store,
    handle: &Handle,
    limit: usize,
) -> Result<Vec<Ranked>, StoreError> {
    let query = Query::all(keys::coupon_leak_scores_pk(handle));
    let (page, program) = tokio::try_join!(
        store.query(query),
        crate::programs::settings::get(store, handle),
    )?;
    let threshold = program
        .map(|p| p.coupon_rules())
        .unwrap_or_default()
        .leak_threshold;
    let now = crate::platform::time::now_millis();
    let mut ranked = Vec::with_capacity(page.items.len());
    for item in &page.items {
        ranked.push(as_of(store, handle, item, now).await?);
    }
    rank(&mut ranked);
    ranked.truncate(limit);
    for k in &mut ranked {
        k.leak.threshold = threshold;
    }
    Ok(ranked)
}

/// A kept report as of `now`: its days in the window re-scored; an older report without days
/// rated from its sales and kept again with them (its `ratedAt` as it was).
async fn as_of(
    store: &dyn Store,
    handle: &Handle,
    item: &Item,
    now: i64,
) -> Result<Ranked, StoreError> {
    let mut kept: Kept = item.parse()?;
    let by_day = match kept.days.take() {
        Some(d) => d,
        None => {
            let dated = super::uses::recent(store, handle, &item.sk, now).await?;
            let d = days::of(&dated);
            let again = Kept {
                ranked: kept.ranked.clone(),
                days: Some(d.clone()),
            };
            let doc = crate::platform::store::to_doc(&again)?;
            let fresh = Item::new(item.pk.clone(), item.sk.clone(), doc);
            crate::platform::store::put(store, fresh).await?;
            d
        }
    };
    kept.ranked.leak.scored = days::scored_at(&by_day, now);
    Ok(kept.ranked)
}

fn rank(kept: &mut [Ranked]) {
    kept.sort_by(|a, b| {
        let (a, b) = (&a.leak, &b.leak);
        b.scored
            .score
            .cmp(&a.scored.score)
            .then(b.scored.without_click.cmp(&a.scored.without_click))
            .then(a.code.cmp(&b.code))
    });
}
