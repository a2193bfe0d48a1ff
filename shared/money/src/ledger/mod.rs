//! The commission ledger: an exactly-once, append-only ledger (holds, review, caps, reversals and
//! clawbacks) with its running balances and indexes; partners, plans, fx and payouts are its
//! neighbours. `docs/commissions.md` is the guide.
//!
//! Exactly once: every ledger line has an id derived from what caused it (the conversion, the
//! reversal, the campaign's day), written put-if-absent in the same transaction as its counters
//! and its event's outbox entry. The ledger's sink runs in the events worker, off the request
//! path.

pub mod accrue;
pub mod accrue_many;
pub mod balances;
pub mod batch;
pub mod check;
pub mod confidence;
pub mod dispute;
pub mod due;
pub mod emit;
pub mod fx_resolve;
pub mod index;
pub mod model;
pub mod placed;
pub mod qualified_clicks;
pub mod reversal;
pub mod review;
pub mod risk_holds;
pub mod running;
pub mod sink;
pub mod tally;
pub mod view;

use crate::domain::{CommissionId, Handle, PartnerId};
use crate::platform::store::{MAX_PAGE, Query, Store, StoreError, for_each_item, keys};
use model::{Commission, Kind, Status};
use std::ops::ControlFlow;

#[derive(Debug, thiserror::Error)]
pub enum CommissionError {
    #[error("Commission {0} was not found.")]
    NotFound(CommissionId),
    #[error("{0}")]
    InvalidState(String),
    #[error("partnerId: partner {0} does not exist.")]
    UnknownPartner(PartnerId),
    #[error("The commission is being changed concurrently; retry.")]
    Busy,
    /// The decider acts for the line's partner (`403 forbidden`).
    #[error(transparent)]
    OwnPartner(#[from] crate::people::acting::OwnPartner),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One line. Round trips: ONE read.
#[tracing::instrument(skip_all, fields(handle = %handle, commission = %id))]
pub async fn get(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    id: &CommissionId,
) -> Result<Option<Commission>, StoreError> {
    let item = store.get(&model::pk(handle), id.as_str()).await?;
    item.as_ref().map(Commission::from_item).transpose()
}

/// What a listing keeps.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub campaign_id: Option<crate::domain::CampaignId>,
    pub partner_id: Option<PartnerId>,
    pub status: Option<Status>,
    pub kind: Option<Kind>,
    /// `createdAt` bounds (unix ms, inclusive).
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// Test mode's lines instead of the real ones (the test indexes; never both at once).
    pub test: bool,
}

impl Filter {
    /// The index a listing reads, and the value it reads: the most selective filter given.
    fn index(&self) -> Option<(&'static str, String)> {
        let (by, value) = self.real_index()?;
        Some((index::of_test(by, self.test), value))
    }

    fn real_index(&self) -> Option<(&'static str, String)> {
        if let (Some(p), Some(s)) = (&self.partner_id, self.status) {
            let value = index::partner_status(p.as_str(), s);
            return Some((index::BY_PARTNER_STATUS, value));
        }
        if let Some(p) = &self.partner_id {
            return Some((index::BY_PARTNER, p.to_string()));
        }
        if let Some(c) = &self.campaign_id {
            return Some((index::BY_CAMPAIGN, c.to_string()));
        }
        if let Some(s) = self.status {
            return Some((index::BY_STATUS, index::status_key(s).to_owned()));
        }
        self.kind.map(|k| (index::BY_KIND, k.as_str().to_owned()))
    }

    pub fn keeps(&self, c: &Commission) -> bool {
        let created = c.commission_id.unix_millis();
        self.campaign_id
            .as_ref()
            .is_none_or(|x| c.campaign_id.as_ref() == Some(x))
            && self.partner_id.as_ref().is_none_or(|x| &c.partner_id == x)
            && self.status.is_none_or(|s| c.status == s)
            && self.kind.is_none_or(|k| c.kind == k)
            && self.from_ms.is_none_or(|t| created >= t)
            && self.to_ms.is_none_or(|t| created <= t)
            && c.test == self.test
    }
}

/// One page of the ledger, newest first, filtered. The most selective filter picks the index
/// read (partner and status, else partner, else campaign, else status, else kind; `from`/`to` bound its key range), the others
/// are checked on the lines read: a page reads what it answers, not the handle's ledger.
/// Round trips: ONE query of `limit` entries, then ONE read per line, concurrently (none for an
/// unfiltered listing, which reads the ledger itself). A page may hold fewer matches than
/// `limit` (the rest of the filters); `next` says where to go on.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn list(
    store: &dyn Store,
    handle: &Handle,
    filter: &Filter,
    limit: usize,
    after: Option<String>,
) -> Result<(Vec<Commission>, Option<String>), StoreError> {
    let Some((by, value)) = filter.index() else {
        return list_ledger(store, handle, filter, limit, after).await;
    };
    let (from, to) = index::range(&value, filter.from_ms, filter.to_ms);
    let mut q = Query::between(keys::commission_index_pk(handle, by), from, to);
    q.limit = limit;
    q.after = after;
    q.descending = true;
    let page = store.query(q).await?;
    let ids: Vec<CommissionId> = page
        .items
        .iter()
        .filter_map(|i| index::line_id(&i.sk))
        .collect();
    let lines = futures::future::try_join_all(ids.iter().map(|id| get(store, handle, id))).await?;
    let out = lines
        .into_iter()
        .flatten()
        .filter(|c| filter.keeps(c))
        .collect();
    Ok((out, page.next))
}

/// [`list`] without an indexed filter: the ledger itself, newest first, between the time bounds.
async fn list_ledger(
    store: &dyn Store,
    handle: &Handle,
    filter: &Filter,
    limit: usize,
    after: Option<String>,
) -> Result<(Vec<Commission>, Option<String>), StoreError> {
    let (from, to) = index::range("", filter.from_ms, filter.to_ms);
    let bound = |b: &str| b.trim_start_matches('#').to_owned();
    let mut q = Query::between(model::pk(handle), bound(&from), bound(&to));
    q.limit = limit;
    q.after = after;
    q.descending = true;
    let page = store.query(q).await?;
    let mut out = Vec::new();
    for item in &page.items {
        let c = Commission::from_item(item)?;
        if filter.keeps(&c) {
            out.push(c);
        }
    }
    Ok((out, page.next))
}

/// Every line of a handle in one index's `value` (a partner's live lines, the held lines …)
/// that `keep` accepts. Round trips: one query per 1,000 entries, ONE read per entry.
pub async fn scan_index(
    store: &dyn Store,
    handle: &Handle,
    by: &'static str,
    value: Option<&str>,
    keep: impl Fn(&Commission) -> bool,
) -> Result<Vec<Commission>, StoreError> {
    let pk = keys::commission_index_pk(handle, by);
    let query = match value {
        Some(v) => Query::prefix(pk, format!("{v}#"), MAX_PAGE),
        None => Query::all(pk),
    };
    let mut ids = Vec::new();
    for_each_item(store, query, |item| {
        ids.extend(index::line_id(&item.sk));
        Ok::<_, StoreError>(ControlFlow::Continue(()))
    })
    .await?;
    let mut out = Vec::new();
    for chunk in ids.chunks(64) {
        let reads = chunk.iter().map(|id| get(store, handle, id));
        for line in futures::future::try_join_all(reads)
            .await?
            .into_iter()
            .flatten()
        {
            if keep(&line) {
                out.push(line);
            }
        }
    }
    Ok(out)
}

/// Every line of a handle that `keep` accepts (the drift check and the rebuild: they need the
/// lines themselves). Round trips: one query per 1,000 lines.
pub async fn scan(
    store: &dyn Store,
    handle: &Handle,
    keep: impl Fn(&Commission) -> bool,
) -> Result<Vec<Commission>, StoreError> {
    let mut out = Vec::new();
    for_each_line(store, handle, |c| {
        if keep(&c) {
            out.push(c);
        }
    })
    .await?;
    Ok(out)
}

/// Hands every line of a handle to `each`, one page at a time. Callers that only sum the lines
/// (balances, the funnel's amounts) fold them here instead of collecting the whole ledger: a
/// `Vec` of every line grew to an 11 MiB buffer in the load benchmark's commission run, at
/// every funnel request, and freeing it raised glibc's mmap threshold so far that each malloc
/// arena then kept ~10 MiB of free memory (BENCHMARKS.md, "Where the memory goes").
/// Round trips: one query per 1,000 lines.
pub async fn for_each_line(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    mut each: impl FnMut(Commission),
) -> Result<(), StoreError> {
    let query = Query::prefix(model::pk(handle), "com_", MAX_PAGE);
    for_each_item(store, query, |item| {
        each(Commission::from_item(item)?);
        Ok::<_, StoreError>(ControlFlow::Continue(()))
    })
    .await
}

/// The ledger's test fixtures, shared by its files' tests: lines, an in-memory store, and a
/// campaign of `pub-one` with a plan to accrue conversions under.
#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use async_trait::async_trait;

    use super::model::{Commission, Kind, Status};
    use crate::domain::time::Timestamp;
    use crate::domain::{CampaignId, CommissionId, Currency, Handle, PartnerId, Slug};
    use crate::kernel::events::ConversionData;
    use crate::platform::queue::{Queue, embedded::EmbeddedQueue};
    use crate::platform::store::{Store, StoreError, embedded::EmbeddedStore};

    pub(crate) fn acme() -> Handle {
        Handle::parse("acme").unwrap()
    }

    pub(crate) fn pub_one() -> PartnerId {
        PartnerId::parse("pub-one").unwrap()
    }

    pub(crate) fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    pub(crate) fn alpha() -> CampaignId {
        CampaignId::parse("alpha").unwrap()
    }

    /// A conversion's line of `pub-one`: `minor` cents of EUR (`None`: waiting for its rate), in
    /// `status`, available now.
    pub(crate) fn line(minor: Option<i64>, status: Status) -> Commission {
        Commission::blank(
            CommissionId::new(),
            Kind::Conversion,
            pub_one(),
            minor,
            eur(),
            status,
        )
    }

    /// An empty store and queue, as the events worker has them.
    pub(crate) fn io_parts() -> (Arc<dyn Store>, Arc<dyn Queue>) {
        (
            Arc::new(EmbeddedStore::in_memory()),
            Arc::new(EmbeddedQueue::in_memory()),
        )
    }

    /// `line` written as the ledger creates one (put-if-absent, with its balance moves, index
    /// entries and due entry in one transaction), read back as stored.
    pub(crate) async fn stored(store: &dyn Store, line: Commission) -> Commission {
        let handle = acme();
        let mut ops = line.create(&handle).unwrap();
        ops.extend(super::due::entry(&handle, &line));
        store.transact(super::running::merged(ops)).await.unwrap();
        read(store, &line.commission_id).await
    }

    /// The line as stored now.
    pub(crate) async fn read(store: &dyn Store, id: &CommissionId) -> Commission {
        super::get(store, &acme(), id)
            .await
            .unwrap()
            .expect("the line")
    }

    /// Every line of acme's ledger.
    pub(crate) async fn ledger(store: &dyn Store) -> Vec<Commission> {
        super::scan(store, &acme(), |_| true).await.unwrap()
    }

    /// `pub-one`'s balance in EUR, as the running balance items hold it.
    pub(crate) async fn sums(store: &dyn Store) -> super::balances::Sums {
        let all = super::balances::partner_sums(store, &acme(), Some(&pub_one()))
            .await
            .unwrap();
        all.get(&(pub_one(), eur())).copied().unwrap_or_default()
    }

    /// The balances, campaign amounts and indexes agree with the lines (`tenx ledger check`).
    pub(crate) async fn assert_books_agree(store: &dyn Store) {
        let report = super::check::check(store, &acme()).await.unwrap();
        assert!(report.clean(), "{report:?}");
    }

    /// The due index's entries (their sort keys), earliest first.
    pub(crate) async fn due_entries(store: &dyn Store) -> Vec<String> {
        let all =
            crate::platform::store::Query::all(crate::platform::store::keys::COMMISSIONS_DUE_PK);
        let page = store.query(all).await.unwrap();
        page.items.into_iter().map(|i| i.sk).collect()
    }

    /// The types of the events sent so far (`commission.created`, …), in the order sent.
    pub(crate) async fn events(queue: &dyn Queue) -> Vec<String> {
        let name = crate::platform::queue::QueueName::Events;
        let wait = std::time::Duration::from_secs(60);
        let got = queue.receive(name, 100, wait).await.unwrap();
        got.iter()
            .map(|m| {
                let event: serde_json::Value = serde_json::from_str(&m.body).unwrap();
                event["type"].as_str().unwrap_or_default().to_owned()
            })
            .collect()
    }

    /// Partner `pub-one`, `suspended` or active.
    pub(crate) async fn partner(store: &dyn Store, suspended: bool) {
        let status = suspended.then_some(crate::partners::PartnerStatus::Suspended);
        let fields = crate::partners::PartnerFields {
            status,
            ..Default::default()
        };
        crate::partners::create(store, &acme(), pub_one(), "Pub One".into(), fields)
            .await
            .unwrap();
    }

    /// Partner `pub-one` (`suspended` or active) and its campaign `alpha`, paying by `plan` (its
    /// JSON, as the API takes it) in force since long before now.
    pub(crate) async fn campaign_with_plan(
        store: &dyn Store,
        plan: serde_json::Value,
        suspended: bool,
    ) {
        let handle = acme();
        partner(store, suspended).await;
        let mut campaign = crate::campaigns::Campaign::new(
            alpha(),
            crate::campaigns::GoalType::Purchase,
            crate::campaigns::CampaignStatus::Active,
            Slug::parse("launch").unwrap(),
            crate::platform::time::timestamp(),
        );
        campaign.partner_id = Some(pub_one());
        let plan = crate::plans::model::Plan {
            updated_at: Timestamp::literal("2020-01-01T00:00:00Z"),
            ..tenx_programs::testing::plan(plan)
        };
        let writes = vec![
            crate::campaigns::create_op(&handle, &campaign).unwrap(),
            crate::platform::store::WriteOp::Put {
                item: crate::plans::version_item(&handle, &plan).unwrap(),
                cond: crate::platform::store::Cond::Absent,
            },
        ];
        store.transact(writes).await.unwrap();
    }

    /// A verified `purchase` of `value` EUR on campaign `alpha` (link `launch`), received now.
    pub(crate) fn conversion(value: &str) -> ConversionData {
        ConversionData {
            campaign_id: Some(alpha()),
            slug: "launch".into(),
            event_type: "purchase".into(),
            received_at: crate::platform::time::timestamp(),
            verified: true,
            ..tenx_kernel::testing::conversion(Some(value))
        }
    }

    /// A refund of all of [`conversion`]`(value)`, as its `conversion.reversed` carries it.
    pub(crate) fn reversal_of_value(value: &str) -> crate::kernel::events::ReversalData {
        crate::kernel::events::ReversalData {
            reversal: crate::kernel::events::Reversal {
                reversal_id: crate::domain::ReversalId::new(),
                reason: "refund".into(),
                amount: Some(value.parse().unwrap()),
                currency: Some(eur()),
                reversed_at: crate::platform::time::timestamp(),
                reversed_by: "test".into(),
                previous_amount: None,
            },
            conversion: conversion(value),
        }
    }

    /// Partner risk that holds every new line for `0`'s reasons (none: it holds nothing).
    pub(crate) struct Risk(pub Vec<&'static str>);

    #[async_trait]
    impl super::risk_holds::RiskHolds for Risk {
        async fn reasons(
            &self,
            _: &dyn Store,
            _: &Handle,
            _: &PartnerId,
            _: Option<u8>,
        ) -> Result<Vec<String>, StoreError> {
            Ok(self.0.iter().map(|r| (*r).to_owned()).collect())
        }
    }
}
