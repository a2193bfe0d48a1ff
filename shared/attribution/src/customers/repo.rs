//! Customers in the store: the binding (put-if-absent, with its index entries), reads, the
//! indexed listing, and the counters a customer's conversions add.
//!
//! Items: `H#{handle}#CUS` / `{customerId}` (the binding; counters `conversions` and
//! `rev_{CUR}` in micro-units), and pointers in `H#{handle}#CUSX#{P|C|T}` whose sort keys end
//! with `{boundAtMs}#{customerId}`, so each filter and the `from`/`to` bounds are a key range.

use crate::domain::time::Timestamp;
use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::{Binding, Customer, CustomerError, CustomerView};
use crate::domain::{CampaignId, CustomerId, Handle, PartnerId};
use crate::kernel::events::Event;
use crate::kernel::io::Io;
use crate::platform::store::{Cond, Item, Query, Store, StoreError, WriteOp, keys};

/// Counter of a customer's conversions, and the prefix of its revenue per currency.
const CONVERSIONS: &str = "conversions";
const REVENUE_PREFIX: &str = "rev_";

/// Binds `customer_id` as `binding` says, unless it is bound already: then the existing
/// binding, unchanged, and `false`. A new binding's `customer.bound` event rides in its
/// transaction's outbox and is enqueued after the commit (so it is sent once per customer,
/// never for a binding that lost). Round trips: ONE transaction (the record put if absent, its
/// index entries, the event's outbox entry), ONE enqueue, plus ONE read when the backend did
/// not return the record that won.
#[tracing::instrument(skip_all, fields(handle = %handle, customer = %customer_id))]
pub async fn bind(
    io: Io<'_>,
    handle: &Handle,
    customer_id: &CustomerId,
    binding: Binding,
) -> Result<(Customer, bool), CustomerError> {
    let store = io.store.as_ref();
    let now = crate::platform::time::now_millis();
    let customer = Customer {
        customer_id: customer_id.clone(),
        click_id: binding.claims.click_id.clone(),
        campaign_id: binding.claims.campaign_id.clone(),
        partner_id: binding.partner_id,
        bound_at: Timestamp::from_millis(now),
        bound_by: binding.by,
        email_masked: binding.email.as_ref().map(|e| e.masked.clone()),
        email_hash: binding.email.map(|e| e.digest),
        flags: binding.flags,
        claims: binding.claims,
        moved: None,
    };
    let (pk, sk) = (keys::customers_pk(handle), customer_id.to_string());
    let fresh = view(
        &customer,
        &Item::new(pk.clone(), sk.clone(), serde_json::json!({})),
    );
    let mut event = Event::new(handle, &fresh);
    let mut ops = vec![WriteOp::Put {
        item: Item::new(pk, sk, crate::platform::store::to_doc(&customer)?),
        cond: Cond::Absent,
    }];
    ops.extend(
        entries(handle, &customer, now)
            .into_iter()
            .map(|(pk, sk)| WriteOp::Put {
                item: Item::new(pk, sk, serde_json::json!({})),
                cond: Cond::None,
            }),
    );
    ops.push(crate::kernel::outbox::record(&mut event));
    let (store_arc, queue) = (io.store.clone(), io.queue.clone());
    let events = std::slice::from_ref(&event);
    match crate::kernel::outbox::commit_and_publish(store_arc, queue, ops, events).await {
        Ok(()) => Ok((customer, true)),
        Err(StoreError::TxConflict { index: 0, current }) => {
            let won = match current {
                Some(item) => item.parse::<Customer>()?,
                None => {
                    get(store, handle, customer_id)
                        .await?
                        .ok_or_else(|| StoreError::Unavailable("the binding vanished".into()))?
                        .0
                }
            };
            Ok((won, false))
        }
        Err(e) => Err(e.into()),
    }
}

/// The latest time an index entry's 13 digits hold (in the year 2286): a bound past it is held
/// to it, or its 14 digits would sort before every entry of today.
const LAST_MS: i64 = 9_999_999_999_999;

/// The index's key range (after `prefix`) of `filter`'s time bounds, inclusive. Never an empty
/// bound: DynamoDB refuses one ("0" sorts before every 13-digit time).
fn time_bounds(prefix: &str, filter: &Filter) -> (String, String) {
    let at = |t: i64| format!("{:013}", t.clamp(0, LAST_MS));
    let from = filter.from_ms.map_or("0".to_owned(), at);
    let to = filter
        .to_ms
        .map_or("~".to_owned(), |t| format!("{}~", at(t)));
    (format!("{prefix}{from}"), format!("{prefix}{to}"))
}

/// The index entries of a binding made at `ms`.
pub(super) fn entries(handle: &Handle, c: &Customer, ms: i64) -> Vec<(String, String)> {
    let at = format!("{ms:013}#{}", c.customer_id);
    let pk = |by: &str| keys::customer_index_pk(handle, by);
    let mut out = vec![(pk("T"), at.clone())];
    if let Some(p) = &c.partner_id {
        out.push((pk("P"), format!("{p}#{at}")));
    }
    if let Some(campaign) = &c.campaign_id {
        out.push((pk("C"), format!("{campaign}#{at}")));
    }
    out
}

/// A customer and its counters. Round trips: ONE read.
pub async fn get(
    store: &dyn Store,
    handle: &Handle,
    customer_id: &CustomerId,
) -> Result<Option<(Customer, CustomerView)>, StoreError> {
    let item = store
        .get(&keys::customers_pk(handle), customer_id.as_str())
        .await?;
    item.map(|item| {
        let customer: Customer = item.parse()?;
        let view = view(&customer, &item);
        Ok((customer, view))
    })
    .transpose()
}

/// The customers whose id anyone can derive from a buyer (`CustomerId::is_derivable`) and
/// whose binding came from a click's ctx alone: before issue 57 a public lead could make such a
/// binding, so each may be a partner's pre-claim of another partner's buyer (`tenx ledger
/// check` lists them for a person to look at). Round trips: the customer partition, in pages of
/// 1,000: an operator's tool, never a request path.
pub async fn derivable_bound_by_ctx(
    store: &dyn Store,
    handle: &Handle,
) -> Result<Vec<Customer>, StoreError> {
    let mut out = Vec::new();
    let query = Query::all(keys::customers_pk(handle));
    crate::platform::store::for_each_item::<StoreError>(store, query, |item| {
        let derivable = CustomerId::parse(&item.sk).is_ok_and(|id| id.is_derivable());
        if derivable
            && let Ok(c) = item.parse::<Customer>()
            && c.bound_by == crate::domain::BoundBy::Ctx
        {
            out.push(c);
        }
        Ok(std::ops::ControlFlow::Continue(()))
    })
    .await?;
    Ok(out)
}

fn view(c: &Customer, item: &Item) -> CustomerView {
    let revenue: BTreeMap<String, String> = item
        .counters
        .iter()
        .filter_map(|(name, micros)| {
            let currency = name.strip_prefix(REVENUE_PREFIX)?.to_ascii_uppercase();
            let amount = Decimal::try_from_i128_with_scale(*micros, 6)
                .ok()?
                .normalize();
            Some((currency, amount.to_string()))
        })
        .collect();
    CustomerView {
        customer_id: c.customer_id.clone(),
        click_id: c.click_id.clone(),
        campaign_id: c.campaign_id.clone(),
        partner_id: c.partner_id.clone(),
        bound_at: c.bound_at.clone(),
        bound_by: c.bound_by,
        email_masked: c.email_masked.clone(),
        flags: c.flags.clone(),
        moved: c.moved.clone(),
        conversion_count: item.counter(CONVERSIONS),
        revenue,
        commissions: commissions(item),
    }
}

/// The prefix of a customer record's counter of the commissions its conversions earned, per
/// currency (`com_eur`, minor units: every line in a sum, whatever its slot).
const COMMISSIONS_PREFIX: &str = "com_";

/// The ledger's move of what `customer` earned in `currency`, in the transaction of the line
/// that moves it (an unconditional add on the customer's record).
pub fn add_commissions(
    handle: &Handle,
    customer: &CustomerId,
    currency: crate::domain::Currency,
    delta: crate::platform::store::Count,
) -> WriteOp {
    let counter = format!(
        "{COMMISSIONS_PREFIX}{}",
        currency.as_str().to_ascii_lowercase()
    );
    WriteOp::Add {
        pk: keys::customers_pk(handle),
        sk: customer.to_string(),
        deltas: vec![(counter, delta)],
        cap: None,
        expires_at: None,
    }
}

/// What every customer of the handle earned per currency, as their records hold it (the drift
/// check compares it with the lines). Round trips: the customer partition, in pages of 1,000.
pub async fn commission_sums(
    store: &dyn Store,
    handle: &Handle,
) -> Result<BTreeMap<(CustomerId, crate::domain::Currency), i128>, StoreError> {
    let mut have = BTreeMap::new();
    let query = Query::all(keys::customers_pk(handle));
    crate::platform::store::for_each_item::<StoreError>(store, query, |item| {
        let Ok(customer) = CustomerId::parse(&item.sk) else {
            return Ok(std::ops::ControlFlow::Continue(())); // a first-sale claim, not a record
        };
        for (currency, minor) in earned(item) {
            have.insert((customer.clone(), currency), minor);
        }
        Ok(std::ops::ControlFlow::Continue(()))
    })
    .await?;
    Ok(have)
}

/// A record's commission counters, by currency.
fn earned(item: &Item) -> impl Iterator<Item = (crate::domain::Currency, i128)> + '_ {
    item.counters.iter().filter_map(|(name, minor)| {
        let code = name.strip_prefix(COMMISSIONS_PREFIX)?.to_ascii_uppercase();
        Some((crate::domain::Currency::parse(&code).ok()?, *minor))
    })
}

/// Currency → what the customer's conversions earned (every line in a sum: pending, held,
/// approved, paid, net of reversals), kept on the record by the ledger's own transactions.
fn commissions(item: &Item) -> BTreeMap<String, String> {
    earned(item)
        .map(|(currency, minor)| (currency.as_str().to_owned(), currency.format(minor)))
        .collect()
}

/// What a listing keeps.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub partner_id: Option<PartnerId>,
    pub campaign_id: Option<CampaignId>,
    /// Binding time bounds (unix ms, inclusive).
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

/// One page of customers, newest binding first: the index the filter names (partner, else
/// campaign, else time), its time bounds a key range; a campaign given beside a partner is
/// checked on the records. Round trips: ONE query, then ONE read per customer, concurrently.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn list(
    store: &dyn Store,
    handle: &Handle,
    filter: &Filter,
    limit: usize,
    after: Option<String>,
) -> Result<(Vec<CustomerView>, Option<String>), StoreError> {
    let (by, prefix) = match (&filter.partner_id, &filter.campaign_id) {
        (Some(p), _) => ("P", format!("{p}#")),
        (None, Some(c)) => ("C", format!("{c}#")),
        (None, None) => ("T", String::new()),
    };
    let (from, to) = time_bounds(&prefix, filter);
    let pk = keys::customer_index_pk(handle, by);
    let mut q = Query::between(pk, from, to);
    q.limit = limit;
    q.after = after;
    q.descending = true;
    let page = store.query(q).await?;
    let ids: Vec<CustomerId> = page
        .items
        .iter()
        .filter_map(|i| CustomerId::parse(i.sk.rsplit('#').next()?).ok())
        .collect();
    let reads = ids.iter().map(|id| get(store, handle, id));
    let found = futures::future::try_join_all(reads).await?;
    let keep = |c: &Customer| filter.campaign_id.is_none() || c.campaign_id == filter.campaign_id;
    let out = found
        .into_iter()
        .flatten()
        .filter(|(c, _)| keep(c))
        .map(|(_, v)| v)
        .collect();
    Ok((out, page.next))
}

/// The add a conversion of `customer_id` makes to its counters (one conversion, its value in
/// micro-units of its currency), written in the conversion's own transaction.
pub fn conversion_counted(
    handle: &Handle,
    customer_id: &CustomerId,
    value: Option<Decimal>,
    currency: Option<crate::domain::Currency>,
) -> WriteOp {
    let mut deltas = vec![(CONVERSIONS.to_owned(), 1)];
    if let (Some(v), Some(cur)) = (value, currency) {
        let micros = (v * Decimal::from(1_000_000)).trunc().mantissa();
        deltas.push((
            format!("{REVENUE_PREFIX}{}", cur.as_str().to_ascii_lowercase()),
            micros,
        ));
    }
    WriteOp::Add {
        pk: keys::customers_pk(handle),
        sk: customer_id.to_string(),
        deltas,
        cap: None,
        expires_at: None,
    }
}

/// Whether the conversion keyed `key` is `customer_id`'s first of `event_type`: the first key
/// to ask claims it (put if absent), and the same key always gets the same answer (a replay,
/// a retry after a lost answer). Round trips: ONE conditional write (and ONE read when the
/// backend did not return the claim that won).
pub async fn claim_first(
    store: &dyn Store,
    handle: &Handle,
    customer_id: &CustomerId,
    event_type: &str,
    key: &crate::domain::IdempotencyKey,
) -> Result<bool, StoreError> {
    let (pk, sk) = (
        keys::customers_pk(handle),
        format!("{customer_id}#first#{event_type}"),
    );
    let claim = serde_json::json!({ "key": key.as_str() });
    let put = WriteOp::Put {
        item: Item::new(pk.clone(), sk.clone(), claim),
        cond: Cond::Absent,
    };
    let holder = match store.write(put).await {
        Ok(_) => return Ok(true),
        Err(StoreError::ConditionFailed {
            current: Some(item),
        }) => *item,
        Err(StoreError::ConditionFailed { current: None }) => store
            .get(&pk, &sk)
            .await?
            .ok_or_else(|| StoreError::Unavailable("the first-sale claim vanished".into()))?,
        Err(e) => return Err(e),
    };
    Ok(holder.doc["key"].as_str() == Some(key.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_bounds_past_the_year_2286_keep_the_index_order() {
        // A binding of today, as its entry is written.
        let today = format!("{:013}#cus_1", 1_777_000_000_000_i64);
        // From 2300 (14 digits): nothing of today is after it.
        let later = Filter {
            from_ms: Some(10_413_792_000_000),
            ..Filter::default()
        };
        let (from, _) = time_bounds("", &later);
        assert_eq!(from, "9999999999999");
        assert!(from > today, "{from} sorts before {today}");
        // Up to 2300, or any time: today is within.
        for to_ms in [10_413_792_000_000, i64::MAX] {
            let all = Filter {
                from_ms: Some(i64::MIN),
                to_ms: Some(to_ms),
                ..Filter::default()
            };
            let (from, to) = time_bounds("pn_1#", &all);
            let entry = format!("pn_1#{today}");
            assert!(from <= entry && entry <= to, "{entry} not in {from}..{to}");
        }
    }
}
