//! `weekly_summary` (issue 59): each Monday, the week before in figures to each of a handle's
//! admins: clicks, conversions, commissions, payouts, claims still open. The handles to sum up
//! are those with events in the week ([`sink`] marks them: no scan of every handle); the
//! sweeper ([`sweep`], every minute) finds last week's marks and mails each handle once:
//!
//! - once per admin and week however often it runs: the mail's key is `weekly:{monday}:{to}`
//!   (a second enqueue finds its record) and the mark is `done` after;
//! - preferences respected: an admin who turned `weekly_summary` off is not queued (and the mail
//!   worker checks again at send time, as for every kind);
//! - nothing sent when there is nothing to say (no click, conversion, commission, payout or
//!   open claim): the mark is `done` with no mail.
//!
//! A week with clicks only (no other event) has no mark: clicks arrive by the click stream, not
//! the events consumer this sink sits on.

pub mod sink;

use std::collections::BTreeMap;

use serde_json::{Value, json};
use time::Date;

use crate::domain::{Currency, Handle};
use crate::kernel::io::Io;
use crate::mail::{MailError, MailKind, Outgoing};
use crate::platform::store::{Cond, Item, Query, Store, StoreError, WriteOp, keys};

/// Days a week's marks are kept (the sweeper reads last week's).
const KEEP_DAYS: i64 = 21;

/// The Monday of `day`'s week (ISO weeks start on Monday).
pub fn monday_of(day: Date) -> Date {
    let back = i64::from(day.weekday().number_days_from_monday());
    day - time::Duration::days(back)
}

/// A week's figures for one handle.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    pub clicks: i64,
    pub conversions: i64,
    /// Per currency, in minor units: the commission lines created in the week (net).
    pub commissions: BTreeMap<Currency, i128>,
    /// Per currency, in minor units: the payouts made in the week (cancelled ones aside).
    pub payouts: BTreeMap<Currency, i128>,
    /// Claims open now (at most 1,000 counted).
    pub open_claims: usize,
}

impl Figures {
    /// Nothing to say: no mail.
    pub fn is_empty(&self) -> bool {
        self.clicks == 0
            && self.conversions == 0
            && self.commissions.values().all(|v| *v == 0)
            && self.payouts.values().all(|v| *v == 0)
            && self.open_claims == 0
    }

    fn totals(map: &BTreeMap<Currency, i128>) -> Vec<Value> {
        map.iter()
            .filter(|(_, v)| **v != 0)
            .map(|(c, v)| json!({"amount": c.format(*v), "currency": c.as_str()}))
            .collect()
    }
}

fn millis(day: Date) -> i64 {
    day.midnight().assume_utc().unix_timestamp() * 1000
}

/// The figures of `handle` for the week starting `monday`. Round trips: the funnel's reads,
/// one query per 1,000 commission lines and per 100 payouts of the week, ONE claims query.
#[tracing::instrument(skip_all, fields(handle = %handle, week = %monday))]
pub async fn figures(
    store: &dyn Store,
    handle: &Handle,
    monday: Date,
    now_secs: i64,
) -> Result<Figures, StoreError> {
    let sunday = monday + time::Duration::days(6);
    let (from_ms, to_ms) = (millis(monday), millis(sunday) + 86_399_999);
    let campaigns = crate::campaigns::list_all(store, handle).await?;
    let scope = crate::analytics::report::Scope::All(campaigns);
    let range = crate::analytics::days::DayRange {
        from: monday,
        to: sunday,
    };
    let funnel = crate::analytics::report::funnel(store, handle, &scope, &range, now_secs).await?;
    let mut out = Figures {
        clicks: funnel.totals.clicks,
        conversions: funnel.totals.conversions,
        ..Figures::default()
    };
    let filter = crate::ledger::Filter {
        from_ms: Some(from_ms),
        to_ms: Some(to_ms),
        ..Default::default()
    };
    let mut after = None;
    loop {
        let (lines, next) = crate::ledger::list(store, handle, &filter, 1000, after).await?;
        for l in lines {
            *out.commissions.entry(l.currency).or_default() +=
                i128::from(l.amount_minor.unwrap_or(0));
        }
        match next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    let mut after = None;
    'pages: loop {
        let (payouts, next) = crate::payouts::list(store, handle, 100, after).await?;
        for p in payouts {
            let at = p.created_at.millis();
            if at < from_ms {
                break 'pages;
            }
            if at <= to_ms && p.status != crate::payouts::PayoutStatus::Canceled {
                *out.payouts.entry(p.currency).or_default() += i128::from(p.amount_minor);
            }
        }
        match next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    let open = Some(crate::claims::model::Status::Open);
    let (claims, _) = crate::claims::list(store, handle, None, open, (1000, None)).await?;
    out.open_claims = claims.len();
    Ok(out)
}

/// The mail of `figures` to `to`.
fn mail(
    handle: &Handle,
    monday: Date,
    to: crate::domain::email::Email,
    f: &Figures,
    base: &str,
) -> Outgoing {
    let sunday = monday + time::Duration::days(6);
    Outgoing {
        handle: Some(handle.clone()),
        key: format!("weekly:{monday}:{}", to.as_str()),
        to,
        kind: MailKind::WeeklySummary,
        data: json!({
            "from": monday.to_string(),
            "to": sunday.to_string(),
            "clicks": f.clicks,
            "conversions": f.conversions,
            "commissions": Figures::totals(&f.commissions),
            "payouts": Figures::totals(&f.payouts),
            "openClaims": f.open_claims,
            "consoleUrl": format!("{base}/?handle={handle}"),
        }),
    }
}

/// Mails last week's summaries (the week before `today`'s), once per handle and admin; marks
/// each handle done. Returns how many mails were queued. Round trips: ONE query per 1,000
/// handles; per handle not yet done its figures, its admins (and their preferences), the
/// enqueues and ONE write.
pub async fn sweep(io: Io<'_>, today: Date, base: &str) -> Result<usize, MailError> {
    let monday = monday_of(today) - time::Duration::days(7);
    let pk = keys::weekly_pk(&monday.to_string());
    let store = io.store.as_ref();
    let now_secs = crate::platform::time::now_millis() / 1000;
    let mut queued = 0;
    let mut after = None;
    loop {
        let mut q = Query::all(pk.clone());
        q.limit = 1000;
        q.after = after.take();
        let page = store.query(q).await?;
        for item in &page.items {
            if item.doc.get("done").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let Ok(handle) = Handle::parse(&item.sk) else {
                continue;
            };
            queued += summarize(io, &handle, monday, now_secs, base).await?;
            let done = Item::new(pk.clone(), item.sk.clone(), json!({"done": true}))
                .expiring_at(Some(now_secs + KEEP_DAYS * 86_400));
            store
                .write(WriteOp::Put {
                    item: done,
                    cond: Cond::None,
                })
                .await?;
        }
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    Ok(queued)
}

/// One handle's week: its mails queued (none when there is nothing to say). Returns how many.
async fn summarize(
    io: Io<'_>,
    handle: &Handle,
    monday: Date,
    now_secs: i64,
    base: &str,
) -> Result<usize, MailError> {
    let store = io.store.as_ref();
    let f = figures(store, handle, monday, now_secs).await?;
    if f.is_empty() {
        tracing::debug!(handle = %handle, "weekly summary: nothing to say");
        return Ok(0);
    }
    let mut queued = 0;
    for to in crate::people::admin_mail::recipients(store, handle).await? {
        let (prefs, _) = crate::mail::preferences::get(store, Some(handle), to.as_str()).await?;
        if !prefs.allows(MailKind::WeeklySummary) {
            continue;
        }
        crate::mail::enqueue(io, mail(handle, monday, to, &f, base)).await?;
        queued += 1;
    }
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_week_starts_on_monday() {
        let thursday = Date::from_calendar_date(2026, time::Month::November, 26).unwrap();
        let monday = Date::from_calendar_date(2026, time::Month::November, 23).unwrap();
        assert_eq!(monday_of(thursday), monday);
        assert_eq!(monday_of(monday), monday);
        let sunday = Date::from_calendar_date(2026, time::Month::November, 29).unwrap();
        assert_eq!(monday_of(sunday), monday);
    }

    #[test]
    fn a_week_of_nothing_has_nothing_to_say() {
        assert!(Figures::default().is_empty());
        let f = Figures {
            open_claims: 1,
            ..Figures::default()
        };
        assert!(!f.is_empty());
    }
}
