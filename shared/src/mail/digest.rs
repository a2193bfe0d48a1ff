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

/// Counts the event (ONE transaction); a second count of it changes nothing.
pub async fn count(io: Io<'_>, event: &Event) -> Result<(), StoreError> {
    let Some(ops) = count_ops(event) else {
        return Ok(());
    };
    match io.store.transact(ops).await {
        Ok(()) | Err(StoreError::TxConflict { index: 0, .. }) => Ok(()),
        Err(e) => Err(e),
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
            "commissionsUrl": format!("{base}/v2/handles/{handle}/commissions?partnerId={partner}"),
        }),
    }))
}
