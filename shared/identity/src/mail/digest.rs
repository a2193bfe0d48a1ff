//! `commission_digest` (issue 59): new commissions batched per partner and day. Each
//! `commission.created` adds to its partner's counter item of the day (count, and the amount
//! per currency in ten-thousandths), with a marker of the event in the same transaction, so a
//! redelivered event is counted once. The sweeper, once the day is over, enqueues one mail per
//! partner (key `digest:{day}:{partnerId}`: once however often it runs) and removes the item.
//! A day of 500 commissions is one mail.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{MailKind, Outgoing};
use crate::domain::email::Email;
use crate::domain::{Handle, PartnerId};
use crate::kernel::events::Event;
use crate::kernel::io::Io;
use crate::platform::store::{Cond, Item, Query, StoreError, WriteOp, keys};

/// Amounts are counted in ten-thousandths (the ledger keeps at most four decimals).
const SCALE: i64 = 10_000;
/// Days a digest waits to be swept before it is dropped (the sweeper runs every minute).
const KEEP_DAYS: i64 = 7;

/// The transaction that counts a `commission.created` event, `None` for one without an amount
/// or a partner.
pub fn count_ops(event: &Event) -> Option<Vec<WriteOp>> {
    let d = &event.data;
    let partner = PartnerId::parse(d.get("partnerId")?.as_str()?).ok()?;
    let amount: Decimal = d.get("amount")?.as_str()?.parse().ok()?;
    let currency = d.get("currency")?.as_str()?;
    let scaled = (amount * Decimal::from(SCALE)).round();
    let scaled = i128::try_from(scaled).ok()?;
    let day = event.created_at.as_str().get(..10)?.to_owned();
    let expires = Some(crate::platform::time::now_millis() / 1000 + KEEP_DAYS * 86_400);
    let pk = keys::mail_digest_pk(&day);
    let seen = Item::new(
        pk.clone(),
        keys::mail_digest_seen_sk(event.id.as_str()),
        Value::Null,
    )
    .expiring_at(expires);
    Some(vec![
        WriteOp::Put {
            item: seen,
            cond: Cond::Absent,
        },
        WriteOp::Add {
            pk,
            sk: keys::mail_digest_sk(&event.handle, &partner),
            deltas: vec![
                ("n".into(), 1),
                (format!("c_{}", currency.to_ascii_lowercase()), scaled),
            ],
            cap: None,
            expires_at: expires,
        },
    ])
}

/// Events counted in one transaction: a marker each and at most one `Add` each (fewer when
/// they share a partner), within DynamoDB's 100 items.
const PER_TRANSACTION: usize = 40;

/// Counts a batch's `commission.created` events: ONE transaction per [`PER_TRANSACTION`], their
/// markers and their partners' counters summed (issue 58: one transaction per event, in a row,
/// on one partner's counter item, was most of a 1,000-commission drain). An event counted
/// before (a redelivery) cancels its transaction at its marker: it is dropped and the rest
/// committed, so no event counts twice.
pub async fn count_many(io: Io<'_>, events: &[&Event]) -> Result<(), StoreError> {
    let counted: Vec<Vec<WriteOp>> = events.iter().filter_map(|e| count_ops(e)).collect();
    for chunk in counted.chunks(PER_TRANSACTION) {
        let mut pending = chunk.to_vec();
        // Each round either commits or drops one event counted before: bounded.
        while !pending.is_empty() {
            match io.store.transact(summed(&pending)).await {
                Ok(()) => break,
                Err(StoreError::TxConflict { index, .. }) if index < pending.len() => {
                    pending.remove(index);
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// The markers of `counted` first (so a refused one's index is its event's), then one `Add`
/// per counter item with the deltas summed.
fn summed(counted: &[Vec<WriteOp>]) -> Vec<WriteOp> {
    let mut markers = Vec::with_capacity(counted.len());
    let mut adds: Vec<WriteOp> = Vec::new();
    for ops in counted {
        for op in ops {
            match op {
                WriteOp::Add { pk, sk, deltas, .. } => {
                    let same = adds.iter_mut().find_map(|a| match a {
                        WriteOp::Add {
                            pk: p,
                            sk: s,
                            deltas: d,
                            ..
                        } if p == pk && s == sk => Some(d),
                        _ => None,
                    });
                    match same {
                        Some(sum) => add_into(sum, deltas),
                        None => adds.push(op.clone()),
                    }
                }
                _ => markers.push(op.clone()),
            }
        }
    }
    markers.extend(adds);
    markers
}

fn add_into(sum: &mut Vec<(String, i128)>, deltas: &[(String, i128)]) {
    for (name, delta) in deltas {
        match sum.iter_mut().find(|(n, _)| n == name) {
            Some((_, total)) => *total += delta,
            None => sum.push((name.clone(), *delta)),
        }
    }
}

/// Mails the digests of the two days before `today` (`yyyy-mm-dd`), one per partner, and
/// removes them. Returns how many were queued. Round trips: ONE query per day, then per digest
/// the partner's read, the enqueue and ONE delete.
pub async fn sweep(io: Io<'_>, today: time::Date, base: &str) -> Result<usize, super::MailError> {
    let mut queued = 0;
    for back in [2, 1] {
        let Some(day) = today.checked_sub(time::Duration::days(back)) else {
            continue;
        };
        let day = day.to_string();
        let page = io
            .store
            .query(Query::prefix(
                keys::mail_digest_pk(&day),
                keys::MAIL_DIGEST_PREFIX,
                1000,
            ))
            .await?;
        for item in page.items {
            if let Some(mail) = digest_mail(io, &day, &item, base).await? {
                super::enqueue(io, mail).await?;
                queued += 1;
            }
            let delete = WriteOp::Delete {
                pk: item.pk.clone(),
                sk: item.sk.clone(),
                cond: Cond::None,
            };
            io.store.write(delete).await?;
        }
    }
    Ok(queued)
}

async fn digest_mail(
    io: Io<'_>,
    day: &str,
    item: &Item,
    base: &str,
) -> Result<Option<Outgoing>, StoreError> {
    let mut parts = item.sk.splitn(3, '#').skip(1);
    let (Some(Ok(handle)), Some(Ok(partner))) = (
        parts.next().map(Handle::parse),
        parts.next().map(PartnerId::parse),
    ) else {
        return Ok(None);
    };
    let Some(record) = crate::partners::get(io.store.as_ref(), &handle, &partner).await? else {
        return Ok(None);
    };
    let Some(to) = record.email.and_then(|e| Email::parse("email", &e).ok()) else {
        return Ok(None);
    };
    let totals: Vec<Value> = item
        .counters
        .iter()
        .filter_map(|(name, v)| {
            let currency = name.strip_prefix("c_")?.to_ascii_uppercase();
            let amount = Decimal::from_i128_with_scale(*v, 4).normalize();
            Some(json!({"currency": currency, "amount": amount.to_string()}))
        })
        .collect();
    Ok(Some(Outgoing {
        handle: Some(handle.clone()),
        to,
        kind: MailKind::CommissionDigest,
        key: format!("digest:{day}:{partner}"),
        data: json!({
            "partnerName": record.name,
            "count": item.counter_wide("n"),
            "day": day,
            "totals": totals,
            "commissionsUrl": format!("{base}/portal/{handle}#commissions"),
        }),
    }))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::kernel::events::EventType;
    use crate::platform::queue::Queue;
    use crate::platform::store::Store;

    fn commission(partner: &str, amount: &str) -> Event {
        let handle = Handle::parse("acme").unwrap();
        let data = json!({"partnerId": partner, "amount": amount, "currency": "USD"});
        Event::untyped(EventType::CommissionCreated, &handle, data)
    }

    /// A batch's commissions are counted together, summed per partner; a redelivered batch
    /// (some of it counted, some not) counts only what was not.
    #[tokio::test]
    async fn a_batch_counts_each_commission_once_summed_per_partner() {
        let store: Arc<dyn Store> =
            Arc::new(crate::platform::store::embedded::EmbeddedStore::in_memory());
        let queue: Arc<dyn Queue> =
            Arc::new(crate::platform::queue::embedded::EmbeddedQueue::in_memory());
        let io = Io::new(&store, &queue);
        let events: Vec<Event> = (0..90)
            .map(|i| commission(if i % 3 == 0 { "pub-two" } else { "pub-one" }, "1.25"))
            .collect();
        let first: Vec<&Event> = events.iter().take(50).collect();
        count_many(io, &first).await.unwrap();
        // Again, with the 40 not yet counted among 50 counted ones, in chunks that mix both.
        let all: Vec<&Event> = events.iter().collect();
        count_many(io, &all).await.unwrap();
        let day = events[0].created_at.as_str()[..10].to_owned();
        let handle = Handle::parse("acme").unwrap();
        for (partner, n) in [("pub-one", 60), ("pub-two", 30)] {
            let sk = keys::mail_digest_sk(&handle, &PartnerId::parse(partner).unwrap());
            let item = store
                .get(&keys::mail_digest_pk(&day), &sk)
                .await
                .unwrap()
                .expect("the partner's digest");
            let counted = (item.counters.get("n"), item.counters.get("c_usd"));
            assert_eq!(counted, (Some(&n), Some(&(n * 12_500))), "{partner}");
        }
    }
}
