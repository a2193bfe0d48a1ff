//! The aggregator: turns a batch of `link.clicked` and `conversion.created` events into counter
//! increments, exactly once per event.
//!
//! One store transaction per chunk of the batch holds a processed-event marker per event
//! (`Cond::Absent`, so a redelivered event fails its marker) and ONE `Add` per distinct counter
//! key: the batch is summed in memory first, so a hundred clicks on one link on one day cost one
//! increment of each of their counter items, not a hundred. A transaction cancelled by a marker
//! means that event was already applied: it is dropped, the rest of the chunk's markers are
//! checked with reads (a redelivery usually repeats the whole batch), and the remainder retried.
//! Chunks stay within the store's transaction limit.
//!
//! `conversion.reversed` events take the reversed amount out of revenue (and its verified or
//! flagged part) and count it as reversed revenue, on the conversion's own day and dimensions.
//!
//! Ignored: `conversion.tested` events and conversions flagged `test` (kept out of counts and
//! revenue), and every other event type.

use std::collections::{BTreeMap, HashSet};

use anyhow::Context;
use async_trait::async_trait;

use super::TEST_CLICKS;
use super::VERIFIED;
use super::VERIFIED_REVENUE_PREFIX;
use super::{BOTS, CLICKS, CONVERSIONS, EXPIRED, FLAGGED, NO_CAMPAIGN, QUALIFIED, TOTAL_VALUE};
use super::{CUSTOMERS, LEADS, RECURRING_REVENUE_PREFIX};
use super::{Dimension, Micros, bot_counter, days, key_value, revenue_counter, to_micros};
use super::{FLAGGED_REVENUE_PREFIX, REVENUE_PREFIX, REVERSED_REVENUE_PREFIX};
use crate::domain::Handle;
use crate::domain::{Attribution, BotReason, CampaignId, Currency, SubIds};
use crate::kernel::consume::EventSink;
use crate::kernel::events::{
    ClickData, ConversionData, Event, EventPayload, EventType, ReversalData,
};
use crate::kernel::state::AppState;
use crate::platform::store::{
    Cond, Item, MAX_TRANSACT_OPS, Store, StoreError, WriteOp, keys, now_unix,
};
use crate::platform::stream::ClickStream;

/// The consumer name in processed-event markers.
pub const CONSUMER: &str = "agg";
/// Markers outlive SQS's longest retention (14 days), so no redelivery can slip past them.
pub const MARKER_TTL_SECS: i64 = 14 * 86_400;

/// The events-queue sink that maintains the analytics counters.
pub struct AnalyticsSink;

#[async_trait]
impl EventSink for AnalyticsSink {
    fn name(&self) -> &'static str {
        "analytics"
    }

    /// With a click stream, the counted events are relayed to it, so every counter is written
    /// by the stream's consumer alone, on its shard's own items: two events batches never write
    /// one item (DynamoDB would cancel one of two concurrent transactions). Clicks here are the
    /// few the redirect parked after its appends "failed": one of them may have landed, so the
    /// parked copy goes through the stream too, where the consumer counts the click once
    /// whichever copy comes first and however late the other (`analytics::seen`).
    async fn apply(&self, state: &AppState, events: &[Event]) -> anyhow::Result<()> {
        let Some(stream) = &state.clicks else {
            apply(state.store.as_ref(), events).await?;
            return Ok(());
        };
        let (clicks, relayed): (Vec<Event>, Vec<Event>) = events
            .iter()
            .filter(|e| contribution(e).is_some())
            .cloned()
            .partition(|e| e.kind == EventType::LinkClicked);
        if let Err(e) = relay(stream.as_ref(), &relayed).await {
            // The stream is down: count them here, under the same markers (an append that did
            // land is then dropped by the stream's consumer), rather than fail the batch into
            // SQS's retries and, after enough of them, its dead letters.
            tracing::warn!(
                error = format!("{e:#}"),
                events = relayed.len(),
                "relaying to the click stream failed; counted by the events worker"
            );
            apply(state.store.as_ref(), &relayed).await?;
        }
        // Parked clicks are never counted here: a landed copy on the stream is counted without
        // a marker, so counting beside it could count twice. The batch is retried instead.
        relay(stream.as_ref(), &clicks).await
    }
}

/// ONE append per event, concurrently, on the shard its stream copies went to (a click by its
/// link, like the redirect's append). At least once: a redelivered batch appends again, and
/// the stream's consumer counts the event once by its marker (`Contribution::marked`).
async fn relay(stream: &dyn ClickStream, events: &[Event]) -> anyhow::Result<()> {
    let appends = events.iter().map(|event| async move {
        let by = match event.kind {
            EventType::LinkClicked => event.data["slug"].as_str().unwrap_or_default(),
            _ => event.id.as_str(),
        };
        let key = crate::platform::stream::click_partition_key(event.handle.as_str(), by);
        let data = serde_json::to_string(event)?;
        stream
            .append(&key, &data)
            .await
            .with_context(|| format!("relaying event {} to the click stream", event.id))
    });
    futures::future::try_join_all(appends).await?;
    Ok(())
}

/// What one event adds: its counter deltas, on one item per dimension.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Contribution {
    pub(super) event_id: String,
    /// `(pk, sk)` of every counter item it touches, one per dimension.
    pub(super) keys: Vec<(String, String)>,
    pub(super) deltas: Vec<(String, crate::platform::store::Count)>,
    /// Counted under a processed-event marker on the click stream too: every event but a click
    /// reaches the stream through an at-least-once relay (this module's [`AnalyticsSink`]), so
    /// it may be appended twice. Clicks (the stream's own and the ones the redirect parked)
    /// are deduped by their fingerprints instead (`analytics::seen`): a marker per click
    /// would cost a write per click.
    pub(super) marked: bool,
    /// Items put beside the counters, in the same transaction (`paid`: a click from an ad):
    /// `(pk, sk, document)`, put whatever is there, so a replay puts the same again.
    pub(super) records: Vec<(String, String, serde_json::Value)>,
}

impl Contribution {
    /// Its [`Contribution::records`] as writes.
    pub(super) fn record_ops(&self) -> impl Iterator<Item = WriteOp> + '_ {
        self.records.iter().map(|(pk, sk, doc)| WriteOp::Put {
            item: Item::new(pk.clone(), sk.clone(), doc.clone()),
            cond: Cond::None,
        })
    }
}

/// The dimension values shared by clicks and conversions.
struct Coordinates<'a> {
    handle: &'a Handle,
    campaign: Option<&'a CampaignId>,
    day: String,
    attribution: &'a Attribution,
    slug: &'a str,
    sub_ids: &'a SubIds,
    /// A click's values of [`Dimension::VISITOR`] (`None` for a conversion).
    visitor: Option<[String; 4]>,
}

impl Coordinates<'_> {
    fn keys(&self) -> Vec<(String, String)> {
        let campaign = self
            .campaign
            .map_or(NO_CAMPAIGN, CampaignId::as_str)
            .to_owned();
        let subs = Dimension::SUBS
            .into_iter()
            .filter(|dim| self.sub_ids.get(dim.as_str()).is_some());
        let variant = self
            .attribution
            .variant
            .as_ref()
            .map(|tag| format!("{}/{tag}", self.slug));
        let variant_dim = variant.is_some().then_some(Dimension::Variant);
        let visitor_dims = self
            .visitor
            .as_ref()
            .map_or(&[][..], |_| &Dimension::VISITOR);
        Dimension::ALL
            .into_iter()
            .chain(subs)
            .chain(variant_dim)
            .chain(visitor_dims.iter().copied())
            .map(|dim| {
                let value = match dim {
                    Dimension::Total => TOTAL_VALUE,
                    Dimension::Country => &self.attribution.country,
                    Dimension::Segment => &self.attribution.segment,
                    Dimension::Referrer => &self.attribution.referrer,
                    Dimension::Device => self.attribution.device.as_str(),
                    Dimension::Source => &self.attribution.source,
                    Dimension::Link => self.slug,
                    Dimension::Sub(_) => self.sub_ids.get(dim.as_str()).unwrap_or_default(),
                    Dimension::Variant => variant.as_deref().unwrap_or_default(),
                    Dimension::Os | Dimension::Browser | Dimension::Region | Dimension::City => {
                        self.visitor_value(dim)
                    }
                };
                (
                    keys::analytics_pk(self.handle, &campaign, dim.as_str()),
                    keys::analytics_sk(&self.day, &key_value(value)),
                )
            })
            .collect()
    }
}

impl Coordinates<'_> {
    /// The click's value of one of [`Dimension::VISITOR`].
    fn visitor_value(&self, dim: Dimension) -> &str {
        let index = Dimension::VISITOR.iter().position(|d| *d == dim);
        match (&self.visitor, index) {
            (Some(values), Some(i)) => &values[i],
            _ => "unknown",
        }
    }
}

fn day_of(primary: &str, event: &Event) -> String {
    days::day_of_rfc3339(primary)
        .or_else(|| days::day_of_rfc3339(&event.created_at))
        .unwrap_or_else(|| days::day_of_unix(now_unix()))
}

/// The event's contribution, or `None` for events analytics does not count.
pub(super) fn contribution(event: &Event) -> Option<Contribution> {
    // Keys embed the handle: an `Event`'s is well formed (checked when it was read).
    let handle = &event.handle;
    let mut records = Vec::new();
    let (keys, deltas) = match event.kind {
        EventType::LinkClicked => {
            let click: ClickData = parse(event)?;
            records.extend(super::paid::record_of(handle, &click));
            click_contribution(handle, click, event)
        }
        EventType::ConversionCreated => conversion_contribution(handle, parse(event)?, event)?,
        EventType::ConversionReversed => reversal_contribution(handle, parse(event)?, event)?,
        _ => return None,
    };
    Some(Contribution {
        event_id: event.id.to_string(),
        keys,
        deltas,
        marked: event.kind != EventType::LinkClicked,
        records,
    })
}

type Planned = (Vec<(String, String)>, Vec<(String, Micros)>);

fn parse<T: EventPayload + serde::de::DeserializeOwned>(event: &Event) -> Option<T> {
    event
        .payload()
        .map_err(|e| {
            // Retrying cannot fix it; the event stays in the log and in webhooks.
            tracing::error!(event_id = %event.id, error = %e, "unreadable event data; not counted");
        })
        .ok()
}

fn click_contribution(handle: &Handle, click: ClickData, event: &Event) -> Planned {
    // Clicks recorded before reasons existed are bots "by user agent" (the only check then).
    let reason = click
        .bot
        .then(|| click.bot_reason.unwrap_or(BotReason::UserAgent));
    let keys = Coordinates {
        handle,
        campaign: click.campaign_id.as_ref(),
        day: day_of(&click.at, event),
        attribution: &click.attribution,
        slug: &click.slug,
        sub_ids: &click.sub_ids,
        visitor: Some(super::visitors::values(&click)),
    }
    .keys();
    if click.test {
        // A console try: counted apart, never a click that could qualify or pay.
        return (keys, vec![(TEST_CLICKS.to_owned(), 1)]);
    }
    let mut deltas = vec![(CLICKS.to_owned(), 1)];
    if click.expired {
        // Counted, never qualified, whoever clicked: the link no longer pays.
        deltas.push((EXPIRED.to_owned(), 1));
        return (keys, deltas);
    }
    match reason {
        None => deltas.push((QUALIFIED.to_owned(), 1)),
        // Per-reason counts ride on the items already written (no extra item per click), so
        // the funnel names the dominant reason and `groupBy=botReason` splits the totals.
        Some(r) => deltas.extend([(BOTS.to_owned(), 1), (bot_counter(r), 1)]),
    }
    (keys, deltas)
}

fn conversion_contribution(
    handle: &Handle,
    conv: ConversionData,
    event: &Event,
) -> Option<Planned> {
    if conv.test {
        return None;
    }
    let mut deltas = vec![(CONVERSIONS.to_owned(), 1)];
    if conv.verified {
        deltas.push((VERIFIED.to_owned(), 1));
    }
    if conv.risk.flagged() {
        deltas.push((FLAGGED.to_owned(), 1));
    }
    deltas.extend(lead_deltas(&conv, 1));
    if let Some(micros) = revenue_micros(conv.value, conv.currency, event) {
        deltas.extend(money_deltas(&conv, micros));
    }
    Some((coordinates(handle, &conv, event).keys(), deltas))
}

/// A reversal nets revenue out on the conversion's own day and dimensions, so every breakdown
/// that showed the revenue shows it reversed.
fn reversal_contribution(handle: &Handle, rev: ReversalData, event: &Event) -> Option<Planned> {
    let conv = &rev.conversion;
    if conv.test {
        return None;
    }
    if conv.superseded_by.is_some() {
        return Some(superseded_contribution(handle, &rev, event));
    }
    // A reversal replacing an earlier one moves what it adds (a connector's refunds add up).
    let micros = revenue_micros(rev.reversal.added(), conv.currency, event)?;
    let mut deltas: Vec<(String, Micros)> = money_deltas(conv, -micros).collect();
    let ccy = conv.currency?.as_str().to_ascii_lowercase();
    deltas.push((format!("{REVERSED_REVENUE_PREFIX}{ccy}"), micros));
    Some((coordinates(handle, conv, event).keys(), deltas))
}

/// A conversion superseded by a verified one is no longer counted: exactly what it added comes
/// off (less any revenue a reversal already took off); it is not a refund, so no reversed revenue.
fn superseded_contribution(handle: &Handle, rev: &ReversalData, event: &Event) -> Planned {
    let conv = &rev.conversion;
    let mut deltas = vec![(CONVERSIONS.to_owned(), -1)];
    if conv.verified {
        deltas.push((VERIFIED.to_owned(), -1));
    }
    if conv.risk.flagged() {
        deltas.push((FLAGGED.to_owned(), -1));
    }
    deltas.extend(lead_deltas(conv, -1));
    if let Some(micros) = revenue_micros(rev.reversal.amount, conv.currency, event) {
        deltas.extend(money_deltas(conv, -micros));
    }
    (coordinates(handle, conv, event).keys(), deltas)
}

/// Revenue in micro-units, `None` for no value, zero, or (logged) out of range / bad currency.
fn revenue_micros(
    value: Option<rust_decimal::Decimal>,
    currency: Option<Currency>,
    event: &Event,
) -> Option<Micros> {
    let (value, ccy) = (value?, currency?);
    match (to_micros(value), revenue_counter(ccy.as_str())) {
        (Some(0), Some(_)) => None,
        (Some(micros), Some(_)) => Some(micros),
        _ => {
            tracing::warn!(event_id = %event.id, %value, currency = ccy.as_str(),
                "conversion revenue not counted: out of range or bad currency");
            None
        }
    }
}

/// A lead counts in `leads`, and in `customers` when it was its customer's first (issue 44).
fn lead_deltas(conv: &ConversionData, n: Micros) -> Vec<(String, Micros)> {
    if conv.event_type != "lead" {
        return Vec::new();
    }
    let mut deltas = vec![(LEADS.to_owned(), n)];
    if conv.customer_id.is_some() && conv.customer_first {
        deltas.push((CUSTOMERS.to_owned(), n));
    }
    deltas
}

/// `micros` of revenue (negative for a reversal), split as the conversion was.
fn money_deltas(
    conv: &ConversionData,
    micros: Micros,
) -> impl Iterator<Item = (String, Micros)> + use<> {
    let ccy = conv
        .currency
        .map(|c| c.as_str().to_ascii_lowercase())
        .unwrap_or_default();
    [
        Some(REVENUE_PREFIX),
        conv.verified.then_some(VERIFIED_REVENUE_PREFIX),
        conv.risk.flagged().then_some(FLAGGED_REVENUE_PREFIX),
        (conv.customer_id.is_some() && !conv.customer_first).then_some(RECURRING_REVENUE_PREFIX),
    ]
    .into_iter()
    .flatten()
    .map(move |prefix| (format!("{prefix}{ccy}"), micros))
}

fn coordinates<'a>(handle: &'a Handle, conv: &'a ConversionData, event: &Event) -> Coordinates<'a> {
    Coordinates {
        handle,
        campaign: conv.campaign_id.as_ref(),
        day: day_of(&conv.received_at, event),
        attribution: &conv.attribution,
        slug: &conv.slug,
        sub_ids: &conv.sub_ids,
        visitor: None,
    }
}

/// Splits contributions into chunks whose transaction (one marker each plus one `Add` per
/// distinct key) stays within the store's limit.
fn chunk(contributions: Vec<Contribution>) -> Vec<Vec<Contribution>> {
    let mut chunks = Vec::new();
    let mut current: Vec<Contribution> = Vec::new();
    let mut current_keys: HashSet<(String, String)> = HashSet::new();
    for c in contributions {
        let new_keys =
            c.keys.iter().filter(|k| !current_keys.contains(*k)).count() + c.records.len();
        if !current.is_empty()
            && current.len() + 1 + current_keys.len() + new_keys > MAX_TRANSACT_OPS
        {
            chunks.push(std::mem::take(&mut current));
            current_keys.clear();
        }
        current_keys.extend(c.keys.iter().cloned());
        current.push(c);
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

/// The transaction of a chunk: markers first (operation `i` is contribution `i`'s marker), then
/// one summed `Add` per counter item.
fn plan(chunk: &[Contribution], now: i64) -> Vec<WriteOp> {
    let mut ops: Vec<WriteOp> = chunk.iter().map(|c| marker(&c.event_id, now)).collect();
    let mut sums: BTreeMap<(String, String), BTreeMap<String, crate::platform::store::Count>> =
        BTreeMap::new();
    for c in chunk {
        for key in &c.keys {
            let counters = sums.entry(key.clone()).or_default();
            for (name, delta) in &c.deltas {
                // i128: a batch's sum of capped values (≤ 10^15 each) is far inside it; pinned
                // at the bound rather than wrapped, were it ever reached.
                let sum = counters.entry(name.clone()).or_default();
                *sum = sum.saturating_add(*delta);
            }
        }
    }
    ops.extend(sums.into_iter().map(|((pk, sk), counters)| WriteOp::Add {
        pk,
        sk,
        deltas: counters.into_iter().filter(|(_, d)| *d != 0).collect(),
        cap: None,
        expires_at: None,
    }));
    ops.extend(chunk.iter().flat_map(Contribution::record_ops));
    ops
}

/// The processed-event marker of `event_id`, put only if absent (a second put cancels its
/// transaction: the event was already counted).
pub(super) fn marker(event_id: &str, now: i64) -> WriteOp {
    let (pk, sk) = keys::processed_event(CONSUMER, event_id);
    WriteOp::Put {
        item: Item::new(pk, sk, serde_json::json!({ "at": now }))
            .expiring_at(Some(now + MARKER_TTL_SECS)),
        cond: Cond::Absent,
    }
}

/// The contributions whose processed-event marker does not exist yet.
async fn drop_applied(
    store: &dyn Store,
    pending: Vec<Contribution>,
) -> Result<Vec<Contribution>, StoreError> {
    let markers = pending.iter().map(|c| {
        let (pk, sk) = keys::processed_event(CONSUMER, &c.event_id);
        async move { store.get(&pk, &sk).await }
    });
    let found = futures::future::try_join_all(markers).await?;
    Ok(pending
        .into_iter()
        .zip(found)
        .filter_map(|(c, marker)| marker.is_none().then_some(c))
        .collect())
}

/// Applies a batch of events to the counters, each at most once however often it is delivered.
pub async fn apply(store: &dyn Store, events: &[Event]) -> Result<(), StoreError> {
    // The same event twice in one batch would put one marker key twice in a transaction.
    let mut seen = HashSet::new();
    let mut contributions: Vec<Contribution> = events
        .iter()
        .filter_map(contribution)
        .filter(|c| seen.insert(c.event_id.clone()))
        .collect();
    let keys = contributions.iter_mut().map(|c| &mut c.keys);
    super::visitors::cap_cities(store, keys).await?;
    for mut pending in chunk(contributions) {
        // Each round either commits or drops one already-applied event: bounded.
        while !pending.is_empty() {
            match store.transact(plan(&pending, now_unix())).await {
                Ok(()) => break,
                Err(StoreError::TxConflict { index, .. }) if index < pending.len() => {
                    tracing::debug!(event_id = %pending[index].event_id, "event already counted");
                    pending.remove(index);
                    // A redelivered batch usually repeats many events: find the rest with reads
                    // rather than one cancelled transaction each.
                    pending = drop_applied(store, pending).await?;
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{BotReason, Device};
    use crate::platform::config::Secrets;
    use std::sync::Arc;

    /// A conversion the events worker cannot relay (the stream down) is counted by it, and the
    /// same event relayed later (a redelivered batch, the stream back) is not counted again.
    #[tokio::test]
    async fn a_conversion_is_counted_once_whether_relayed_or_not() {
        use crate::testing::conformance_stream::{
            consume_once, conversion_event, counts_by_country,
        };
        let store: Arc<dyn Store> =
            Arc::new(crate::platform::store::embedded::EmbeddedStore::in_memory());
        let log = Arc::new(crate::platform::queue::embedded::EmbeddedQueue::in_memory());
        let failing = crate::testing::failing_queue(log.clone());
        let switch = failing.hook().clone();
        let stream = crate::testing::failing_stream(log.clone(), switch.clone());
        let mut config = crate::platform::config::Config::from_env().expect("config");
        // No mail is sent: an engine the kernel builds (SES, the default without a data dir,
        // is tenx-aws's).
        config.mail.url = Some(crate::platform::mail::MailUrl::Maildir(std::env::temp_dir()));
        let state = AppState::with_secrets(config, store.clone(), log.clone(), Secrets::NONE)
            .expect("state")
            .with_click_stream(Arc::new(stream));
        let event: Event = serde_json::from_str(&conversion_event("acme", "FR")).unwrap();

        switch.fail_next(1);
        AnalyticsSink
            .apply(&state, std::slice::from_ref(&event))
            .await
            .expect("counted here");
        let acme = Handle::parse("acme").unwrap();
        let counted = || counts_by_country(store.as_ref(), &acme, CONVERSIONS);
        assert_eq!(
            counted().await.get("FR"),
            Some(&1),
            "counted without the stream"
        );

        AnalyticsSink
            .apply(&state, &[event])
            .await
            .expect("relayed");
        consume_once(log.as_ref(), store.as_ref()).await;
        assert_eq!(
            counted().await.get("FR"),
            Some(&1),
            "the relayed copy is dropped"
        );
    }

    fn click(id: &str, campaign: Option<&str>, country: &str, bot: bool) -> Event {
        let data = ClickData {
            click_id: crate::domain::ClickId::parse(&format!("clk_{id:0>32}")).unwrap(),
            slug: "deal".into(),
            campaign_id: campaign.map(|c| CampaignId::parse(c).expect("a campaign id")),
            attribution: crate::domain::Attribution {
                country: country.into(),
                device: Device::Mobile,
                source: "direct".into(),
                referrer: "direct".into(),
                segment: if bot {
                    "bot".into()
                } else {
                    "new-mobile".into()
                },
                variant: None,
            },
            bot,
            bot_reason: bot.then_some(BotReason::UserAgent),
            expired: false,
            sub_ids: Default::default(),
            test: false,
            ad_click: None,
            user_agent: None,
            region: None,
            city: None,
            destination_url: "https://example.com/".into(),
            at: "2026-02-25T10:00:00Z".into(),
        };
        let mut e = Event::new(&crate::domain::Handle::parse("acme").unwrap(), &data);
        e.id = crate::domain::EventId::parse(&format!("evt_{id:0>32}")).unwrap();
        e
    }

    #[test]
    fn clicks_touch_one_item_per_dimension_and_count_bots_apart() {
        let human = contribution(&click("1", Some("partner-alpha"), "US", false)).unwrap();
        assert_eq!(
            human.keys.len(),
            Dimension::ALL.len() + Dimension::VISITOR.len()
        );
        assert_eq!(
            human.keys[0],
            (
                "H#acme#A#partner-alpha#total".to_owned(),
                "2026-02-25#*".to_owned()
            )
        );
        assert!(human.keys.contains(&(
            "H#acme#A#partner-alpha#country".to_owned(),
            "2026-02-25#US".to_owned()
        )));
        assert_eq!(
            human.deltas,
            [("clicks".to_owned(), 1), ("qualified".to_owned(), 1)]
        );
        let bot = contribution(&click("2", None, "US", true)).unwrap();
        assert_eq!(bot.keys[0].0, "H#acme#A#_none#total");
        assert_eq!(
            bot.deltas,
            [
                ("clicks".to_owned(), 1),
                ("bots".to_owned(), 1),
                ("bot_user_agent".to_owned(), 1)
            ]
        );
        // A click recorded before bot reasons existed counts under `user_agent`.
        let mut old = click("3", None, "US", true);
        old.data.as_object_mut().unwrap().remove("botReason");
        assert_eq!(contribution(&old).unwrap().deltas, bot.deltas);
        let mut preview = click("4", None, "US", true);
        preview.data["botReason"] = "link_preview".into();
        assert!(
            contribution(&preview)
                .unwrap()
                .deltas
                .contains(&("bot_link_preview".to_owned(), 1))
        );
    }

    #[test]
    fn a_batch_is_summed_into_one_add_per_counter_item() {
        let batch: Vec<Contribution> = (0..10)
            .map(|i| contribution(&click(&i.to_string(), Some("c"), "US", i % 2 == 0)).unwrap())
            .collect();
        let ops = plan(&batch, 0);
        // 10 markers + one item per dimension value: all ten clicks share every value but the
        // segment (`bot` or `new-mobile`); their OS, browser, region and city are `unknown`.
        assert_eq!(
            ops.len(),
            10 + Dimension::ALL.len() + Dimension::VISITOR.len() + 1
        );
        assert!(ops[..10].iter().all(|op| matches!(
            op,
            WriteOp::Put {
                cond: Cond::Absent,
                ..
            }
        )));
        let total = ops
            .iter()
            .find_map(|op| match op {
                WriteOp::Add { pk, deltas, .. } if pk.ends_with("#total") => Some(deltas),
                _ => None,
            })
            .expect("the total item");
        let deltas = total;
        assert_eq!(
            deltas,
            &[
                ("bot_user_agent".to_owned(), 5),
                ("bots".to_owned(), 5),
                ("clicks".to_owned(), 10),
                ("qualified".to_owned(), 5)
            ]
        );
    }

    #[test]
    fn chunks_stay_within_the_transaction_limit() {
        // Every click on its own country: 1 marker + 1 new item each, after the 10 shared ones.
        let batch: Vec<Contribution> = (0..200)
            .map(|i| {
                contribution(&click(&i.to_string(), Some("c"), &format!("C{i}"), false)).unwrap()
            })
            .collect();
        let chunks = chunk(batch);
        assert!(chunks.len() > 1);
        assert_eq!(chunks.iter().map(Vec::len).sum::<usize>(), 200);
        for c in &chunks {
            assert!(plan(c, 0).len() <= MAX_TRANSACT_OPS);
        }
    }

    #[test]
    fn test_conversions_and_other_events_are_not_counted() {
        let mut conv = serde_json::json!({
            "conversionId": "cnv_00000000000000000000000000000001", "idempotencyKey": "k",
            "clickId": "clk_00000000000000000000000000000001",
            "campaignId": "c", "slug": "deal", "eventType": "purchase", "value": 24.99,
            "currency": "USD", "test": false, "country": "US", "device": "mobile",
            "source": "direct", "referrer": "direct", "segment": "new-mobile",
            "receivedAt": "2026-02-25T10:00:00Z"
        });
        let counted = Event::untyped(
            EventType::ConversionCreated,
            &crate::domain::Handle::parse("acme").unwrap(),
            conv.clone(),
        );
        let c = contribution(&counted).unwrap();
        assert_eq!(
            c.deltas,
            [
                ("conversions".to_owned(), 1),
                ("rev_usd".to_owned(), 24_990_000)
            ]
        );
        let tested = Event::untyped(
            EventType::ConversionTested,
            &crate::domain::Handle::parse("acme").unwrap(),
            conv.clone(),
        );
        assert!(contribution(&tested).is_none());
        conv["test"] = true.into();
        assert!(
            contribution(&Event::untyped(
                EventType::ConversionCreated,
                &crate::domain::Handle::parse("acme").unwrap(),
                conv
            ))
            .is_none()
        );
        let other = Event::untyped(
            EventType::LinkCreated,
            &crate::domain::Handle::parse("acme").unwrap(),
            serde_json::json!({}),
        );
        assert!(contribution(&other).is_none());
        // A handle that could break out of its keys never becomes an `Event` at all.
        let mut bad_handle = serde_json::to_value(click("9", None, "US", false)).unwrap();
        bad_handle["handle"] = "H#evil".into();
        assert!(serde_json::from_value::<Event>(bad_handle).is_err());
    }

    fn store() -> (
        tempfile::TempDir,
        crate::platform::store::embedded::EmbeddedStore,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let store =
            crate::platform::store::embedded::EmbeddedStore::open(&dir.path().join("s.redb"))
                .unwrap();
        (dir, store)
    }

    async fn total(
        store: &dyn Store,
        campaign: &str,
    ) -> std::collections::BTreeMap<String, crate::platform::store::Count> {
        store
            .get(
                &keys::analytics_pk(&Handle::parse("acme").unwrap(), campaign, "total"),
                &keys::analytics_sk("2026-02-25", TOTAL_VALUE),
            )
            .await
            .unwrap()
            .map(|i| i.counters)
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn redelivered_events_change_nothing() {
        let (_dir, store) = store();
        let batch = vec![
            click("a", Some("c"), "US", false),
            click("b", Some("c"), "DE", true),
            click("a", Some("c"), "US", false), // the same event twice in one batch
        ];
        apply(&store, &batch).await.unwrap();
        let once = total(&store, "c").await;
        assert_eq!(once["clicks"], 2);
        assert_eq!((once["qualified"], once["bots"]), (1, 1));

        // The whole batch again, then a batch mixing an old event with a new one.
        apply(&store, &batch).await.unwrap();
        assert_eq!(total(&store, "c").await, once);
        apply(
            &store,
            &[
                click("b", Some("c"), "DE", true),
                click("c", Some("c"), "US", false),
            ],
        )
        .await
        .unwrap();
        let after = total(&store, "c").await;
        assert_eq!(
            (after["clicks"], after["qualified"], after["bots"]),
            (3, 2, 1)
        );
        let us = store
            .get(
                &keys::analytics_pk(&Handle::parse("acme").unwrap(), "c", "country"),
                &keys::analytics_sk("2026-02-25", "US"),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(us.counter("clicks"), 2);
        // Markers expire after 14 days.
        let (pk, sk) = keys::processed_event(CONSUMER, &format!("evt_{:0>32}", "a"));
        let marker = store.get(&pk, &sk).await.unwrap().unwrap();
        assert!(marker.expires_at.unwrap() > now_unix() + 13 * 86_400);
    }

    /// A click from an ad is kept once, with its counters, whatever is delivered again; a bot's
    /// click carrying an ad's id is not kept.
    #[tokio::test]
    async fn a_paid_click_is_kept_with_its_counters_and_a_replay_keeps_the_same() {
        let (_dir, store) = store();
        let paid = |id: &str, bot: bool| {
            let mut e = click(id, Some("c"), "US", bot);
            let mut data: ClickData = e.payload().unwrap();
            data.ad_click = Some("gclid".into());
            let id = e.id.clone();
            e = Event::new(&Handle::parse("acme").unwrap(), &data);
            e.id = id;
            e
        };
        let batch = vec![
            paid("a", false),
            paid("b", true),
            click("c", Some("c"), "US", false),
        ];
        apply(&store, &batch).await.unwrap();
        apply(&store, &batch).await.unwrap();
        let campaign = CampaignId::parse("c").unwrap();
        let handle = Handle::parse("acme").unwrap();
        let kept = super::super::paid::of_campaign(&store, &handle, &campaign)
            .await
            .unwrap();
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert_eq!(
            (kept[0].ad_click.as_str(), kept[0].slug.as_str()),
            ("gclid", "deal")
        );
        assert_eq!(kept[0].click_id, format!("clk_{:0>32}", "a"));
        assert_eq!(total(&store, "c").await["clicks"], 3);
    }

    #[tokio::test]
    async fn a_batch_larger_than_one_transaction_is_counted_once() {
        let (_dir, store) = store();
        let batch: Vec<Event> = (0..150)
            .map(|i| click(&i.to_string(), None, &format!("C{i}"), false))
            .collect();
        apply(&store, &batch).await.unwrap();
        apply(&store, &batch).await.unwrap();
        assert_eq!(total(&store, NO_CAMPAIGN).await["clicks"], 150);
    }
}
