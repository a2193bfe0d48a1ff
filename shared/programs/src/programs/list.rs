//! The applications queue: one application, or a page of them (oldest first), by status.

use super::{Application, ApplicationStatus};
use crate::domain::{ApplicationId, Handle};
use crate::platform::store::{Query, Store, StoreError, keys};

/// Pages read at most to fill one filtered page (a queue mostly of one status stays cheap;
/// a short page still carries the cursor to go on from).
const MAX_PAGES: usize = 10;

/// One application. Round trips: ONE read.
#[tracing::instrument(skip_all, fields(handle = %handle, application = %id))]
pub async fn get(
    store: &dyn Store,
    handle: &Handle,
    id: &ApplicationId,
) -> Result<Option<Application>, StoreError> {
    let item = store
        .get(&keys::applications_pk(handle), id.as_str())
        .await?;
    item.map(|i| i.parse::<Application>()).transpose()
}

/// Up to `limit` applications after `after` (an application id), of `status` when given, in
/// the order they came (ids are time-ordered). Round trips: ONE query, up to [`MAX_PAGES`]
/// when a filter skips most of them.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn list(
    store: &dyn Store,
    handle: &Handle,
    status: Option<ApplicationStatus>,
    limit: usize,
    mut after: Option<String>,
) -> Result<(Vec<Application>, Option<String>), StoreError> {
    let mut out = Vec::new();
    for _ in 0..MAX_PAGES {
        let mut q = Query::all(keys::applications_pk(handle));
        q.limit = limit - out.len();
        q.after = after.take();
        let (page, next): (Vec<Application>, _) = store.query(q).await?.parsed()?;
        out.extend(
            page.into_iter()
                .filter(|a| status.is_none_or(|s| a.status == s))
                .map(Application::view),
        );
        match next {
            Some(n) if out.len() < limit => after = Some(n),
            next => return Ok((out, next)),
        }
    }
    Ok((out, after))
}
