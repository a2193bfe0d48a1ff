//! The handle's coupon codes ranked by leak score (`GET …/coupon-codes/leaks`): the events
//! worker keeps each code's report whenever it rates the code (after each batch that sold with
//! it: `report::keep`), so the ranking reads the kept reports, never the sales. A kept report
//! is as of its last sale (`ratedAt`); the threshold is the program's now.

pub use super::report::Ranked;
use crate::domain::Handle;
use crate::platform::store::{Query, Store, StoreError, keys};

/// The handle's `limit` codes with the highest score first (then the most sales without a
/// click, then the code), of its first 1,000 codes rated (a query's page: far more than a
/// program hands out). Round trips: ONE query and the program's read, side by side.
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
    let (mut kept, _): (Vec<Ranked>, _) = page.parsed()?;
    rank(&mut kept);
    kept.truncate(limit);
    for k in &mut kept {
        k.leak.threshold = threshold;
    }
    Ok(kept)
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
