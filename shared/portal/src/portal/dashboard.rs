//! The program's money picture (issue 62): per day of a window, the revenue its partners
//! brought, the commissions they earned by status, and the payouts made; and its partners by
//! what they earned. Read from the ledger's lines and the payouts as they stand, by the SAME
//! rule as a partner's summary ([`super::summary`]): a line counts on the day it was created,
//! in the slot of its status now (pending or held → pending, approved → approved, paid → paid;
//! rejected and capped lines count nowhere). So the dashboard's commissions of a day are the
//! sum of every partner's summary for that day, and over a window that holds every line, the
//! sum of the balances (pending + held, approved + owed back, paid).
//!
//! **Never summed across currencies**: each currency present in the window gets its own
//! picture (the one most lines are in first, the others in `otherCurrencies`). Revenue is in
//! the sale's own currency (a conversion line's `valueCurrency`), so a EUR plan paying on USD
//! sales shows its revenue in the USD picture.
//!
//! Round trips: ONE query per 1,000 ledger lines created in the window (the lines are the
//! ledger's items: no read per line), at most [`MAX_LINES`] of them, else refused; ONE query
//! per 1,000 payouts made since `from`; ONE read per top partner (its name, at most
//! [`TOP_PARTNERS`] per currency, concurrently); TWO reads when the window has no line at all
//! (the program's currency).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::domain::{Currency, Handle, PartnerId};
use crate::ledger::model::{Commission, Kind, Status};
use crate::payouts::model::{Payout, PayoutStatus};
use crate::platform::store::{Store, StoreError};

use super::summary::Window;

/// The most ledger lines one answer reads: a window holding more is refused (a shorter one
/// answers), so a request's cost stays bounded (100 queries).
pub const MAX_LINES: usize = 100_000;
/// Partners listed per currency, by what they earned.
pub const TOP_PARTNERS: usize = 10;
const DAY_MS: i64 = 86_400_000;
const PAGE: usize = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    #[error(
        "from: more than {MAX_LINES} commission lines were created in this window; choose a shorter one."
    )]
    TooManyLines,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The dashboard as answered: the main currency's picture, and one per other currency.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    #[serde(flatten)]
    pub main: Picture,
    pub other_currencies: Vec<Picture>,
}

/// One currency's money over the window.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Picture {
    pub currency: Currency,
    pub series: Vec<Day>,
    pub top_partners: Vec<TopPartner>,
}

/// One day: amounts as decimal strings in the picture's currency.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Day {
    pub day: String,
    pub revenue: String,
    pub commissions_pending: String,
    pub commissions_approved: String,
    pub commissions_paid: String,
    pub payouts: String,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TopPartner {
    pub partner_id: PartnerId,
    /// The partner's name (its id when the partner was deleted).
    pub name: String,
    /// What its lines created in the window earned: pending, approved and paid.
    pub earned: String,
}

/// A day's sums in minor units: revenue, pending, approved, paid, payouts.
type Sums = [i128; 5];
const REVENUE: usize = 0;
const PAYOUTS: usize = 4;

/// Where a line's amount goes: the summary's rule (`None`: rejected or capped, nowhere).
fn slot(status: Status) -> Option<usize> {
    match status {
        Status::Pending | Status::Held => Some(1),
        Status::Approved => Some(2),
        Status::Paid => Some(3),
        Status::Rejected | Status::Capped => None,
    }
}

/// Everything the window holds, per currency and day, and per currency and partner.
#[derive(Default)]
struct Tally {
    days: BTreeMap<Currency, BTreeMap<i64, Sums>>,
    earned: BTreeMap<Currency, BTreeMap<PartnerId, i128>>,
    lines: BTreeMap<Currency, usize>,
}

impl Tally {
    fn at(&mut self, currency: Currency, ms: i64) -> &mut Sums {
        self.days
            .entry(currency)
            .or_default()
            .entry(ms.div_euclid(DAY_MS))
            .or_default()
    }

    fn line(&mut self, c: &Commission) {
        *self.lines.entry(c.currency).or_default() += 1;
        let Some(slot) = slot(c.status) else { return };
        let ms = c.created_at.millis();
        self.at(c.currency, ms)[slot] += c.minor();
        *self
            .earned
            .entry(c.currency)
            .or_default()
            .entry(c.partner_id.clone())
            .or_default() += c.minor();
        // Revenue: the sale a conversion's line paid on, in the sale's own currency.
        if c.kind == Kind::Conversion
            && let (Some(value), Some(vc)) = (c.value, c.value_currency)
            && let Some(minor) = vc.round_to_minor(value)
        {
            self.at(vc, ms)[REVENUE] += i128::from(minor);
        }
    }

    fn payout(&mut self, p: &Payout) {
        if matches!(
            p.status,
            PayoutStatus::Pending | PayoutStatus::Sending | PayoutStatus::Paid
        ) {
            self.at(p.currency, p.created_at.millis())[PAYOUTS] += i128::from(p.amount_minor);
        }
    }
}

/// The lines created in the window, fed to `tally`. Refused past [`MAX_LINES`].
async fn read_lines(
    store: &dyn Store,
    handle: &Handle,
    window: Window,
    tally: &mut Tally,
) -> Result<(), DashboardError> {
    let filter = crate::ledger::Filter {
        from_ms: Some(window.from_ms),
        to_ms: Some(window.to_ms),
        ..Default::default()
    };
    let (mut after, mut read) = (None, 0usize);
    loop {
        let (page, next) = crate::ledger::list(store, handle, &filter, PAGE, after).await?;
        read += page.len();
        if read > MAX_LINES {
            return Err(DashboardError::TooManyLines);
        }
        page.iter().for_each(|c| tally.line(c));
        match next {
            Some(n) => after = Some(n),
            None => return Ok(()),
        }
    }
}

/// The payouts made in the window (pending or paid; failed and canceled ones paid nothing),
/// newest first until one older than `from`.
async fn read_payouts(
    store: &dyn Store,
    handle: &Handle,
    window: Window,
    tally: &mut Tally,
) -> Result<(), StoreError> {
    let mut after = None;
    loop {
        let (page, next) = crate::payouts::model::list(store, handle, PAGE, after).await?;
        for p in &page {
            let ms = p.created_at.millis();
            if ms < window.from_ms {
                return Ok(());
            }
            if ms <= window.to_ms {
                tally.payout(p);
            }
        }
        match next {
            Some(n) => after = Some(n),
            None => return Ok(()),
        }
    }
}

/// The program's money over `window` (at most [`super::summary::MAX_DAYS`] days: the caller
/// checks). Round trips: see the module's documentation.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn dashboard(
    store: &dyn Store,
    handle: &Handle,
    window: Window,
) -> Result<Dashboard, DashboardError> {
    let mut tally = Tally::default();
    read_lines(store, handle, window, &mut tally).await?;
    read_payouts(store, handle, window, &mut tally).await?;
    let mut currencies: BTreeSet<Currency> = tally.days.keys().copied().collect();
    // The main currency: the one most lines are in (ties: the first code), else the program's.
    let main = match tally
        .lines
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
    {
        Some((c, _)) => *c,
        None => super::summary::currency_of(store, handle, &[]).await?,
    };
    currencies.remove(&main);
    let mut pictures = Vec::with_capacity(currencies.len() + 1);
    for currency in std::iter::once(main).chain(currencies) {
        pictures.push(picture(store, handle, &tally, currency, window).await?);
    }
    let main = pictures.remove(0);
    Ok(Dashboard {
        main,
        other_currencies: pictures,
    })
}

async fn picture(
    store: &dyn Store,
    handle: &Handle,
    tally: &Tally,
    currency: Currency,
    window: Window,
) -> Result<Picture, StoreError> {
    let empty = BTreeMap::new();
    let days = tally.days.get(&currency).unwrap_or(&empty);
    let text = |m: i128| currency.format(m);
    let series = (window.from_ms.div_euclid(DAY_MS)..=window.to_ms.div_euclid(DAY_MS))
        .map(|d| {
            let s = days.get(&d).copied().unwrap_or_default();
            Day {
                day: crate::domain::time::unix_millis_to_rfc3339(d * DAY_MS)[..10].to_owned(),
                revenue: text(s[REVENUE]),
                commissions_pending: text(s[1]),
                commissions_approved: text(s[2]),
                commissions_paid: text(s[3]),
                payouts: text(s[PAYOUTS]),
            }
        })
        .collect();
    let mut ranked: Vec<(PartnerId, i128)> = tally
        .earned
        .get(&currency)
        .map(|m| m.iter().map(|(p, e)| (p.clone(), *e)).collect())
        .unwrap_or_default();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(TOP_PARTNERS);
    let names = futures::future::try_join_all(
        ranked
            .iter()
            .map(|(p, _)| crate::partners::get(store, handle, p)),
    )
    .await?;
    let top_partners = ranked
        .into_iter()
        .zip(names)
        .map(|((partner_id, earned), found)| TopPartner {
            name: found.map_or_else(|| partner_id.to_string(), |p| p.name),
            partner_id,
            earned: text(earned),
        })
        .collect();
    Ok(Picture {
        currency,
        series,
        top_partners,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::CommissionId;
    use crate::domain::time::Timestamp;

    fn line(partner: &str, minor: i64, currency: &str, status: Status) -> Commission {
        let mut c = Commission::blank(
            CommissionId::new(),
            Kind::Conversion,
            PartnerId::parse(partner).unwrap(),
            Some(minor),
            Currency::parse(currency).unwrap(),
            status,
        );
        c.created_at = Timestamp::from_millis(3 * DAY_MS + 5);
        c
    }

    #[test]
    fn currencies_stay_apart_and_rejected_lines_count_nowhere() {
        let mut t = Tally::default();
        let mut sale = line("a", 1000, "EUR", Status::Pending);
        sale.value = Some("99.995".parse().unwrap());
        sale.value_currency = Some(Currency::parse("USD").unwrap());
        t.line(&sale);
        t.line(&line("a", 250, "EUR", Status::Held));
        t.line(&line("b", 700, "EUR", Status::Paid));
        t.line(&line("b", 999, "EUR", Status::Rejected));
        t.line(&line("b", 300, "GBP", Status::Approved));
        let eur = Currency::parse("EUR").unwrap();
        let usd = Currency::parse("USD").unwrap();
        assert_eq!(t.days[&eur][&3], [0, 1250, 0, 700, 0]);
        assert_eq!(
            t.days[&usd][&3],
            [10000, 0, 0, 0, 0],
            "revenue rounded once"
        );
        assert_eq!(t.earned[&eur].values().sum::<i128>(), 1950);
        assert_eq!(
            t.lines[&eur], 4,
            "a rejected line is still a line of its currency"
        );
    }
}
