//! Balances: per partner and currency, what is pending, held, approved (payable or in a payout
//! not yet paid), paid, and owed back (open negative lines); and per campaign, the funnel's
//! amounts. Read from the running balance items (`commissions::running`), kept in the same
//! transaction as every ledger change, so a read costs what it answers, not the ledger's
//! length; summed in `i128`, so they match the ledger to the minor unit (`tenx ledger check`
//! proves it, [`recompute`]).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::{CampaignId, Currency, Handle, PartnerId};
use crate::ledger::model::{Commission, Status};
use crate::ledger::running;
use crate::platform::store::{Item, MAX_PAGE, Query, Store, StoreError, for_each_item, keys};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sums {
    pub pending: i128,
    pub held: i128,
    pub approved: i128,
    pub paid: i128,
    pub open_negative: i128,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Balance {
    pub partner_id: PartnerId,
    pub currency: Currency,
    pub pending: String,
    pub held: String,
    pub approved: String,
    pub paid: String,
    pub open_negative: String,
    /// One partner's test money in this currency (test mode's lines), apart from every figure
    /// above; only when a partner is asked for and it has test lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<Figures>,
}

/// A balance's five figures, formatted in their currency.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Figures {
    pub pending: String,
    pub held: String,
    pub approved: String,
    pub paid: String,
    pub open_negative: String,
}

impl Figures {
    fn of(currency: Currency, s: &Sums) -> Self {
        Figures {
            pending: currency.format(s.pending),
            held: currency.format(s.held),
            approved: currency.format(s.approved),
            paid: currency.format(s.paid),
            open_negative: currency.format(s.open_negative),
        }
    }
}

impl Sums {
    pub fn add(&mut self, c: &Commission) {
        let m = c.minor();
        let slot = match c.status {
            Status::Pending => &mut self.pending,
            Status::Held => &mut self.held,
            Status::Approved if m < 0 && c.payout_id.is_none() => &mut self.open_negative,
            Status::Approved => &mut self.approved,
            Status::Paid => &mut self.paid,
            Status::Rejected | Status::Capped => return,
        };
        *slot = slot.saturating_add(m);
    }

    /// Adds a running balance item's counters.
    pub fn add_item(&mut self, item: &Item) {
        for (slot, name) in [
            (&mut self.pending, running::PENDING),
            (&mut self.held, running::HELD),
            (&mut self.approved, running::APPROVED),
            (&mut self.paid, running::PAID),
            (&mut self.open_negative, running::OPEN_NEGATIVE),
        ] {
            *slot = slot.saturating_add(item.counter_wide(name));
        }
    }
}

/// Per (partner, currency): the running balance items summed over their parts. Round trips:
/// ONE query (a page per 1,000 items: partners × currencies × parts).
pub async fn partner_sums(
    store: &dyn Store,
    handle: &Handle,
    partner: Option<&PartnerId>,
) -> Result<BTreeMap<(PartnerId, Currency), Sums>, StoreError> {
    sums_in(store, keys::partner_balances_pk(handle), partner).await
}

/// [`partner_sums`] of test money (test mode's lines). Round trips: ONE query.
pub async fn test_partner_sums(
    store: &dyn Store,
    handle: &Handle,
    partner: Option<&PartnerId>,
) -> Result<BTreeMap<(PartnerId, Currency), Sums>, StoreError> {
    sums_in(store, keys::test_partner_balances_pk(handle), partner).await
}

async fn sums_in(
    store: &dyn Store,
    pk: String,
    partner: Option<&PartnerId>,
) -> Result<BTreeMap<(PartnerId, Currency), Sums>, StoreError> {
    let query = match partner {
        Some(p) => Query::prefix(pk, format!("{p}#"), MAX_PAGE),
        None => Query::all(pk),
    };
    let mut sums: BTreeMap<(PartnerId, Currency), Sums> = BTreeMap::new();
    for_each_item(store, query, |item| {
        let owner = item
            .sk
            .split('#')
            .next()
            .and_then(|p| PartnerId::parse(p).ok());
        let (Some(partner), Some(currency)) = (owner, running::currency_of_sk(&item.sk)) else {
            return Err(StoreError::Corrupt(format!("balance item {}", item.sk)));
        };
        sums.entry((partner, currency)).or_default().add_item(item);
        Ok(std::ops::ControlFlow::Continue(()))
    })
    .await?;
    Ok(sums)
}

/// The balances of a handle (one partner's, when given): every partner with a line, in each
/// currency it has lines in; one partner's with its test money apart. Round trips: ONE query
/// ([`partner_sums`]); for one partner, ONE more ([`test_partner_sums`]).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn balances(
    store: &dyn Store,
    handle: &Handle,
    partner: Option<&PartnerId>,
) -> Result<Vec<Balance>, StoreError> {
    let mut sums = partner_sums(store, handle, partner).await?;
    let mut test = match partner {
        Some(p) => test_partner_sums(store, handle, Some(p)).await?,
        None => BTreeMap::new(),
    };
    // Cleared test money leaves its items at zero: no test figures then.
    test.retain(|_, s| *s != Sums::default());
    for key in test.keys() {
        sums.entry(key.clone()).or_default();
    }
    Ok(sums
        .into_iter()
        .map(|((partner_id, currency), s)| {
            let test = test.get(&(partner_id.clone(), currency));
            Balance {
                test: test.map(|t| Figures::of(currency, t)),
                partner_id,
                currency,
                pending: currency.format(s.pending),
                held: currency.format(s.held),
                approved: currency.format(s.approved),
                paid: currency.format(s.paid),
                open_negative: currency.format(s.open_negative),
            }
        })
        .collect())
}

/// Per currency, a campaign's amounts of the lines created on the days `from` to `to`
/// (`yyyy-mm-dd`, inclusive). Round trips: ONE query (days × currencies × parts items).
pub async fn campaign_sums(
    store: &dyn Store,
    handle: &Handle,
    campaign: &CampaignId,
    from: &str,
    to: &str,
) -> Result<BTreeMap<Currency, Sums>, StoreError> {
    let pk = keys::campaign_balances_pk(handle, campaign);
    let query = Query::between(pk, format!("{from}#"), format!("{to}#~"));
    let mut sums: BTreeMap<Currency, Sums> = BTreeMap::new();
    for_each_item(store, query, |item| {
        let Some(currency) = running::currency_of_sk(&item.sk) else {
            return Err(StoreError::Corrupt(format!(
                "campaign amount item {}",
                item.sk
            )));
        };
        sums.entry(currency).or_default().add_item(item);
        Ok(std::ops::ControlFlow::Continue(()))
    })
    .await?;
    Ok(sums)
}

/// Per (link slug, currency): a partner's amounts of the lines that came through each of its
/// links, created on the days `from` to `to` (`yyyy-mm-dd`, inclusive). Lines without a link
/// (bonuses, claims, manual lines) are in none. Round trips: ONE query (days × links ×
/// currencies × parts items).
pub async fn link_sums(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    from: &str,
    to: &str,
) -> Result<BTreeMap<(String, Currency), Sums>, StoreError> {
    let pk = keys::link_earnings_pk(handle, partner);
    let query = Query::between(pk, format!("{from}#"), format!("{to}#~"));
    let mut sums: BTreeMap<(String, Currency), Sums> = BTreeMap::new();
    for_each_item(store, query, |item| {
        let slug = item.sk.split('#').nth(1).map(str::to_owned);
        let (Some(slug), Some(currency)) = (slug, running::currency_of_sk(&item.sk)) else {
            return Err(StoreError::Corrupt(format!(
                "link earnings item {}",
                item.sk
            )));
        };
        sums.entry((slug, currency)).or_default().add_item(item);
        Ok(std::ops::ControlFlow::Continue(()))
    })
    .await?;
    Ok(sums)
}

/// Per campaign of `campaigns`, the commission amounts of the lines created on the funnel's
/// days `from` to `to`. Round trips: ONE query per campaign, concurrently.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn per_campaign(
    store: &dyn Store,
    handle: &Handle,
    campaigns: &[CampaignId],
    from: &str,
    to: &str,
) -> Result<BTreeMap<CampaignId, crate::analytics::report::CommissionAmounts>, StoreError> {
    let reads = campaigns.iter().map(|c| async move {
        Ok::<_, StoreError>((c, campaign_sums(store, handle, c, from, to).await?))
    });
    let mut out: BTreeMap<CampaignId, crate::analytics::report::CommissionAmounts> =
        BTreeMap::new();
    for (campaign, sums) in futures::future::try_join_all(reads).await? {
        if sums.is_empty() {
            continue;
        }
        let entry = out.entry(campaign.clone()).or_default();
        for (currency, s) in sums {
            amounts(entry, currency, &s);
        }
    }
    Ok(out)
}

fn amounts(entry: &mut crate::analytics::report::CommissionAmounts, currency: Currency, s: &Sums) {
    let code = currency.to_string();
    let pending = s.pending.saturating_add(s.held);
    entry
        .commissions_pending_amount
        .insert(code.clone(), currency.format(pending));
    let approved = s.approved.saturating_add(s.open_negative);
    entry
        .commissions_approved_amount
        .insert(code.clone(), currency.format(approved));
    entry
        .commissions_paid_amount
        .insert(code, currency.format(s.paid));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::report::CommissionAmounts;
    use crate::domain::{CommissionId, PayoutId};
    use crate::ledger::tests::{
        acme, alpha, assert_books_agree, eur, io_parts, line, pub_one, stored,
    };
    use serde_json::json;
    use time::macros::datetime;

    fn partner(id: &str) -> PartnerId {
        PartnerId::parse(id).unwrap()
    }

    /// A line of `partner`, `minor` units of `currency`, in `status`.
    fn of(partner: PartnerId, minor: i64, currency: &str, status: Status) -> Commission {
        let mut l = line(Some(minor), status);
        l.partner_id = partner;
        l.currency = Currency::parse(currency).unwrap();
        l
    }

    fn in_payout(mut l: Commission) -> Commission {
        l.payout_id = Some(PayoutId::new());
        l
    }

    fn test_money(mut l: Commission) -> Commission {
        l.test = true;
        l
    }

    #[test]
    fn each_status_sums_into_its_own_figure_and_rejected_or_capped_lines_into_none() {
        let mut s = Sums::default();
        for (status, minor) in [
            (Status::Pending, 100),
            (Status::Held, 20),
            (Status::Approved, 3_000),
            (Status::Paid, 40_000),
            (Status::Rejected, 5),
            (Status::Capped, 6),
        ] {
            s.add(&line(Some(minor), status));
        }
        s.add(&line(None, Status::Held));
        let expected = Sums {
            pending: 100,
            held: 20,
            approved: 3_000,
            paid: 40_000,
            open_negative: 0,
        };
        assert_eq!(s, expected, "a line waiting for its rate adds nothing yet");
    }

    #[test]
    fn approved_money_owed_back_stands_apart_until_a_payout_takes_it() {
        let mut s = Sums::default();
        s.add(&line(Some(-250), Status::Approved));
        s.add(&in_payout(line(Some(-100), Status::Approved)));
        s.add(&line(Some(-30), Status::Pending));
        let expected = Sums {
            pending: -30,
            held: 0,
            approved: -100,
            paid: 0,
            open_negative: -250,
        };
        assert_eq!(s, expected);
    }

    #[test]
    fn the_funnel_counts_held_money_as_pending_and_nets_money_owed_back_from_approved() {
        let eur_sums = Sums {
            pending: 500,
            held: 200,
            approved: 1_000,
            paid: 400,
            open_negative: -300,
        };
        let yen_sums = Sums {
            pending: 1_200,
            ..Sums::default()
        };
        let mut entry = CommissionAmounts::default();
        amounts(&mut entry, eur(), &eur_sums);
        amounts(&mut entry, Currency::parse("JPY").unwrap(), &yen_sums);
        let map = |pairs: [(&str, &str); 2]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        assert_eq!(
            entry.commissions_pending_amount,
            map([("EUR", "7.00"), ("JPY", "1200")])
        );
        assert_eq!(
            entry.commissions_approved_amount,
            map([("EUR", "7.00"), ("JPY", "0")])
        );
        assert_eq!(
            entry.commissions_paid_amount,
            map([("EUR", "4.00"), ("JPY", "0")])
        );
    }

    #[tokio::test]
    async fn balances_are_per_partner_and_currency_with_test_money_apart() {
        let (store, _) = io_parts();
        let s = store.as_ref();
        for l in [
            of(pub_one(), 500, "EUR", Status::Pending),
            of(pub_one(), 300, "EUR", Status::Approved),
            of(pub_one(), 999, "EUR", Status::Rejected),
            of(pub_one(), 200, "USD", Status::Held),
            in_payout(of(partner("pub-two"), 700, "EUR", Status::Paid)),
            test_money(of(pub_one(), 1_000, "EUR", Status::Approved)),
            test_money(of(partner("pub-three"), 50, "EUR", Status::Pending)),
        ] {
            stored(s, l).await;
        }
        assert_books_agree(s).await;
        let figures = |pending, held, approved, paid| {
            json!({"pending": pending, "held": held, "approved": approved, "paid": paid,
                "openNegative": "0.00"})
        };
        let row = |partner: &str, currency: &str, f: serde_json::Value| {
            let mut r = json!({"partnerId": partner, "currency": currency});
            r.as_object_mut()
                .unwrap()
                .extend(f.as_object().unwrap().clone());
            r
        };
        let read = |partner: Option<PartnerId>| async move {
            let b = balances(s, &acme(), partner.as_ref()).await.unwrap();
            serde_json::to_value(b).unwrap()
        };
        assert_eq!(
            read(None).await,
            json!([
                row("pub-one", "EUR", figures("5.00", "0.00", "3.00", "0.00")),
                row("pub-one", "USD", figures("0.00", "2.00", "0.00", "0.00")),
                row("pub-two", "EUR", figures("0.00", "0.00", "0.00", "7.00")),
            ]),
            "every partner's real money, and no test money at all"
        );
        let mut with_test = row("pub-one", "EUR", figures("5.00", "0.00", "3.00", "0.00"));
        with_test["test"] = figures("0.00", "0.00", "10.00", "0.00");
        assert_eq!(
            read(Some(pub_one())).await,
            json!([
                with_test,
                row("pub-one", "USD", figures("0.00", "2.00", "0.00", "0.00"))
            ])
        );
        let mut only_test = row("pub-three", "EUR", figures("0.00", "0.00", "0.00", "0.00"));
        only_test["test"] = figures("0.50", "0.00", "0.00", "0.00");
        assert_eq!(read(Some(partner("pub-three"))).await, json!([only_test]));
    }

    #[tokio::test]
    async fn cleared_test_money_leaves_no_test_figures() {
        let (store, _) = io_parts();
        let s = store.as_ref();
        let l = stored(s, test_money(of(pub_one(), 50, "EUR", Status::Pending))).await;
        let removal = running::test_removal(&acme(), &l.placed());
        s.transact(removal).await.unwrap();
        let b = balances(s, &acme(), Some(&pub_one())).await.unwrap();
        assert!(b.is_empty(), "{b:?}");
    }

    #[tokio::test]
    async fn a_campaigns_amounts_count_its_lines_created_on_the_days_asked() {
        let (store, _) = io_parts();
        let s = store.as_ref();
        let day = crate::domain::time::unix_millis(datetime!(2026-11-20 12:00 UTC));
        let on_alpha = |seed: &str, minor, status| {
            let mut l = line(Some(minor), status);
            l.commission_id = CommissionId::derived(day, seed);
            l.campaign_id = Some(alpha());
            l
        };
        for l in [
            on_alpha("a", 500, Status::Pending),
            on_alpha("b", 200, Status::Held),
            on_alpha("c", 1_000, Status::Approved),
            on_alpha("d", -300, Status::Approved),
            in_payout(on_alpha("e", 400, Status::Paid)),
            on_alpha("f", 999, Status::Capped),
            line(Some(9_999), Status::Approved),
        ] {
            stored(s, l).await;
        }
        assert_books_agree(s).await;
        let beta = CampaignId::parse("beta").unwrap();
        let campaigns = [alpha(), beta];
        let got = per_campaign(s, &acme(), &campaigns, "2026-11-20", "2026-11-20")
            .await
            .unwrap();
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            [&alpha()],
            "a campaign without lines is left out"
        );
        let eur_only = |v: &str| BTreeMap::from([("EUR".to_owned(), v.to_owned())]);
        let expected = CommissionAmounts {
            commissions_pending_amount: eur_only("7.00"),
            commissions_approved_amount: eur_only("7.00"),
            commissions_paid_amount: eur_only("4.00"),
        };
        assert_eq!(got[&alpha()], expected);
        let month = per_campaign(s, &acme(), &campaigns, "2026-11-01", "2026-11-30")
            .await
            .unwrap();
        assert_eq!(month, got);
        let before = per_campaign(s, &acme(), &campaigns, "2026-11-19", "2026-11-19")
            .await
            .unwrap();
        assert!(before.is_empty(), "{before:?}");
    }
}
