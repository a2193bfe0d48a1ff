//! The drift check and the rebuild (issue 43): `tenx ledger check` recomputes every running
//! balance and index entry from the lines and names any difference; `tenx ledger
//! rebuild-balances` brings lines written before them into both.
//!
//! Both read the whole ledger (they are the proof, not a request path): one query per 1,000
//! lines, plus one query per balance and index partition.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;

use crate::domain::{CampaignId, Currency, CustomerId, Handle, PartnerId};
use crate::ledger::balances::{Sums, campaign_sums, partner_sums, test_partner_sums};
use crate::ledger::model::Commission;
use crate::ledger::running;
use crate::platform::store::{Query, Store, StoreError, for_each_item, keys};
use crate::{ledger::index, ledger::index::Entry};

/// What the check found.
#[derive(Debug, Default)]
pub struct Report {
    pub lines: usize,
    /// Lines written before the running balances, in none yet (`rebuild-balances` adds them).
    pub outside: usize,
    /// Each difference, in words.
    pub drifts: Vec<String>,
}

impl Report {
    pub fn clean(&self) -> bool {
        self.outside == 0 && self.drifts.is_empty()
    }
}

/// What the lines say the items should hold.
#[derive(Default)]
struct Expected {
    partners: BTreeMap<(PartnerId, Currency), Sums>,
    /// What test mode's lines add up to per partner (the test balances).
    test_partners: BTreeMap<(PartnerId, Currency), Sums>,
    campaigns: BTreeMap<(CampaignId, String, Currency), Sums>,
    /// Per partner, what its lines through each link add up to (all days).
    links: BTreeMap<PartnerId, BTreeMap<(String, Currency), Sums>>,
    entries: BTreeSet<Entry>,
    /// What each customer's lines add up to (minor units, every line in a sum).
    customers: BTreeMap<(CustomerId, Currency), i128>,
}

impl Expected {
    fn add(&mut self, c: &Commission) {
        let key = (c.partner_id.clone(), c.currency);
        self.entries.extend(index::entries(&c.placed()));
        if c.test {
            self.test_partners.entry(key).or_default().add(c);
            return;
        }
        self.partners.entry(key).or_default().add(c);
        if let Some(campaign) = &c.campaign_id {
            let day = running::day_of(c.commission_id.unix_millis());
            let key = (campaign.clone(), day, c.currency);
            self.campaigns.entry(key).or_default().add(c);
        }
        if let Some(slug) = &c.link {
            let per_link = self.links.entry(c.partner_id.clone()).or_default();
            let key = (slug.clone(), c.currency);
            per_link.entry(key).or_default().add(c);
        }
        let standing = running::Standing::of(&c.placed());
        if let (Some(customer), Some(_), true) = (&c.customer_id, standing.slot, c.balanced) {
            let sum = self.customers.entry((customer.clone(), c.currency));
            *sum.or_default() += standing.minor;
        }
    }
}

/// Reads of the whole ledger a difference must survive to be reported.
const READS: usize = 3;

/// Recomputes the handle's balances, campaign amounts and index entries from its lines and
/// compares them with the stored ones. The lines and the items are read at different moments,
/// so a change committed between the two reads (the approval sweep, a review) looks like a
/// difference once; a real drift stays. So a difference is reported only when every one of up
/// to [`READS`] reads finds it (a clean read ends the check: a clean ledger is read once).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn check(store: &dyn Store, handle: &Handle) -> Result<Report, StoreError> {
    let mut report = check_once(store, handle).await?;
    for _ in 1..READS {
        if report.clean() {
            break;
        }
        let again = check_once(store, handle).await?;
        report = again.confirmed_by(&report);
    }
    Ok(report)
}

impl Report {
    /// This read's differences that `earlier` found too (by what they are about: a balance,
    /// a campaign's day, a customer, an index entry), its count of lines outside.
    fn confirmed_by(mut self, earlier: &Report) -> Report {
        let seen: BTreeSet<&str> = earlier.drifts.iter().map(|d| subject(d)).collect();
        self.drifts.retain(|d| seen.contains(subject(d)));
        self
    }
}

/// What a difference is about: an index entry's whole sentence (its entry and which way it
/// differs), else the words before the amounts (`balance (…)`, `campaign … (…)`,
/// `customer …`), which a moving balance changes from one read to the next.
fn subject(drift: &str) -> &str {
    match drift.starts_with("index ") {
        true => drift,
        false => drift.split_once(": ").map_or(drift, |(about, _)| about),
    }
}

/// One read of the ledger and its items, compared.
async fn check_once(store: &dyn Store, handle: &Handle) -> Result<Report, StoreError> {
    let mut report = Report::default();
    let mut expected = Expected::default();
    crate::ledger::for_each_line(store, handle, |c| {
        report.lines += 1;
        report.outside += usize::from(!c.balanced);
        expected.add(&c);
    })
    .await?;
    let found = partner_sums(store, handle, None).await?;
    compare(&mut report.drifts, "balance", &expected.partners, &found);
    let found = test_partner_sums(store, handle, None).await?;
    let want = &expected.test_partners;
    compare(&mut report.drifts, "test balance", want, &found);
    let mut by_campaign: BTreeMap<CampaignId, BTreeMap<(String, Currency), Sums>> = BTreeMap::new();
    for ((campaign, day, currency), sums) in expected.campaigns {
        by_campaign
            .entry(campaign)
            .or_default()
            .insert((day, currency), sums);
    }
    for (campaign, want) in by_campaign {
        let days: Vec<&String> = want.keys().map(|(d, _)| d).collect();
        let (first, last) = (days[0].clone(), days[days.len() - 1].clone());
        let have = campaign_day_sums(store, handle, &campaign, &first, &last).await?;
        compare(
            &mut report.drifts,
            &format!("campaign {campaign}"),
            &want,
            &have,
        );
    }
    for (partner, want) in &expected.links {
        let have =
            crate::ledger::balances::link_sums(store, handle, partner, "0000", "9999").await?;
        compare(
            &mut report.drifts,
            &format!("links of {partner}"),
            want,
            &have,
        );
    }
    report
        .drifts
        .extend(customer_drifts(store, handle, &expected.customers).await?);
    let stored = stored_entries(store, handle).await?;
    for e in expected.entries.difference(&stored) {
        report
            .drifts
            .push(format!("index {}: entry {} missing", e.0, e.1));
    }
    for e in stored.difference(&expected.entries) {
        report
            .drifts
            .push(format!("index {}: entry {} points at nothing", e.0, e.1));
    }
    Ok(report)
}

/// Each customer record whose commissions counter differs from what its lines add up to.
/// Round trips: the handle's customer partition, in pages of 1,000.
async fn customer_drifts(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    want: &BTreeMap<(CustomerId, Currency), i128>,
) -> Result<Vec<String>, StoreError> {
    let have = crate::customers::repo::commission_sums(store, handle).await?;
    let keys: BTreeSet<&(CustomerId, Currency)> = want.keys().chain(have.keys()).collect();
    Ok(keys
        .into_iter()
        .filter_map(|k| {
            let (w, h) = (
                want.get(k).copied().unwrap_or(0),
                have.get(k).copied().unwrap_or(0),
            );
            (w != h).then(|| {
                let (id, cur) = k;
                let (w, h) = (cur.format(w), cur.format(h));
                format!("customer {id}: commissions {cur} {h} in its record, {w} in its lines")
            })
        })
        .collect())
}

/// A campaign's amounts per day and currency, from its items.
async fn campaign_day_sums(
    store: &dyn Store,
    handle: &Handle,
    campaign: &CampaignId,
    from: &str,
    to: &str,
) -> Result<BTreeMap<(String, Currency), Sums>, StoreError> {
    let mut out: BTreeMap<(String, Currency), Sums> = BTreeMap::new();
    let mut day = from.to_owned();
    // One query per day: the check is an operator's tool, and days are few next to lines.
    loop {
        for (currency, sums) in campaign_sums(store, handle, campaign, &day, &day).await? {
            out.insert((day.clone(), currency), sums);
        }
        if day.as_str() >= to {
            return Ok(out);
        }
        day = next_day(&day);
    }
}

fn next_day(day: &str) -> String {
    let ms = crate::domain::time::rfc3339_millis(&format!("{day}T00:00:00Z")).unwrap_or(0);
    running::day_of(ms + 86_400_000)
}

fn compare<K: Ord + std::fmt::Debug>(
    drifts: &mut Vec<String>,
    what: &str,
    want: &BTreeMap<K, Sums>,
    have: &BTreeMap<K, Sums>,
) {
    let keys: BTreeSet<&K> = want.keys().chain(have.keys()).collect();
    for k in keys {
        let (w, h) = (
            want.get(k).copied().unwrap_or_default(),
            have.get(k).copied().unwrap_or_default(),
        );
        if w != h {
            drifts.push(format!(
                "{what} {k:?}: the lines sum to {w:?}, the items hold {h:?}"
            ));
        }
    }
}

/// Every stored index entry of the handle.
async fn stored_entries(store: &dyn Store, handle: &Handle) -> Result<BTreeSet<Entry>, StoreError> {
    let mut out = BTreeSet::new();
    for by in index::ALL.into_iter().chain(index::TEST_ALL) {
        let query = Query::all(keys::commission_index_pk(handle, by));
        for_each_item(store, query, |item| {
            out.insert((by, item.sk.clone()));
            Ok::<_, StoreError>(ControlFlow::Continue(()))
        })
        .await?;
    }
    Ok(out)
}

/// Brings every line written before the running balances into them and into the indexes:
/// each in ONE transaction with its version checked (a line changed meanwhile is read again),
/// so the rebuild can run beside live traffic, be stopped at any point and run again. Then
/// puts the entries of an index added since a line was written ([`index::FIXED`]: entries
/// that never change, so a put is safe beside live traffic). Returns how many lines it
/// brought in and entries it put.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn rebuild(store: &dyn Store, handle: &Handle) -> Result<usize, StoreError> {
    let outside = crate::ledger::scan(store, handle, |c| !c.balanced).await?;
    let mut changes = 0;
    for line in outside {
        changes += usize::from(bring_in(store, handle, line).await?);
    }
    for by in index::FIXED {
        changes += fill_index(store, handle, by).await?;
    }
    changes += fill_moving(store, handle, index::BY_PARTNER_STATUS).await?;
    Ok(changes)
}

/// Puts each line's missing entry in index `by`, whose entries move with the line's status:
/// each with the line itself rewritten at its version read, in ONE transaction, so an entry is
/// never put for a status the line has already left (a line changed meanwhile is read again,
/// and its own change has put its entry). Round trips: the index and the ledger in pages of
/// 1,000; per missing entry ONE read and ONE transaction.
async fn fill_moving(store: &dyn Store, handle: &Handle, by: &str) -> Result<usize, StoreError> {
    let pk = keys::commission_index_pk(handle, by);
    let mut stored = BTreeSet::new();
    for_each_item(store, Query::all(pk), |item| {
        stored.insert(item.sk.clone());
        Ok::<_, StoreError>(ControlFlow::Continue(()))
    })
    .await?;
    let mut missing = Vec::new();
    crate::ledger::for_each_line(store, handle, |c| {
        let absent = index::entries(&c.placed())
            .into_iter()
            .any(|(b, sk)| b == by && !stored.contains(&sk));
        if absent {
            missing.push(c.commission_id.clone());
        }
    })
    .await?;
    let mut put = 0;
    for id in &missing {
        put += usize::from(put_moving_entry(store, handle, by, id).await?);
    }
    Ok(put)
}

/// [`fill_moving`] for one line: its entry in `by` as it stands now, unless already there.
async fn put_moving_entry(
    store: &dyn Store,
    handle: &Handle,
    by: &str,
    id: &crate::domain::CommissionId,
) -> Result<bool, StoreError> {
    for _ in 0..8 {
        let Some(mut line) = crate::ledger::get(store, handle, id).await? else {
            return Ok(false);
        };
        let entries = index::entries(&line.placed());
        let Some((_, sk)) = entries.iter().find(|(b, _)| *b == by) else {
            return Ok(false);
        };
        let pk = keys::commission_index_pk(handle, by);
        if store.get(&pk, sk).await?.is_some() {
            return Ok(false);
        }
        // As if read without the entry: the rewrite's index moves put it.
        if let Some(read) = line.as_read.as_mut() {
            read.entries.retain(|(b, _)| *b != by);
        }
        match store.transact(line.update(handle)?).await {
            Ok(()) => return Ok(true),
            Err(StoreError::TxConflict { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Unavailable(format!("line {id} kept changing")))
}

/// Puts each line's entry in index `by` that is missing. Round trips: the index's partition
/// and the ledger, in pages of 1,000; ONE put per missing entry.
async fn fill_index(store: &dyn Store, handle: &Handle, by: &str) -> Result<usize, StoreError> {
    let pk = keys::commission_index_pk(handle, by);
    let mut stored = BTreeSet::new();
    for_each_item(store, Query::all(pk.clone()), |item| {
        stored.insert(item.sk.clone());
        Ok::<_, StoreError>(ControlFlow::Continue(()))
    })
    .await?;
    let mut missing = Vec::new();
    crate::ledger::for_each_line(store, handle, |c| {
        let entries = index::entries(&c.placed());
        let want = entries.into_iter().filter(|(b, _)| *b == by);
        missing.extend(
            want.filter(|(_, sk)| !stored.contains(sk))
                .map(|(_, sk)| sk),
        );
    })
    .await?;
    for sk in &missing {
        let item = crate::platform::store::Item::new(pk.clone(), sk.clone(), serde_json::json!({}));
        let put = crate::platform::store::WriteOp::Put {
            item,
            cond: crate::platform::store::Cond::None,
        };
        store.write(put).await?;
    }
    Ok(missing.len())
}

async fn bring_in(
    store: &dyn Store,
    handle: &Handle,
    mut line: Commission,
) -> Result<bool, StoreError> {
    for _ in 0..8 {
        if line.balanced {
            return Ok(false);
        }
        match store.transact(line.update(handle)?).await {
            Ok(()) => return Ok(true),
            Err(StoreError::TxConflict { index: 0, .. }) => {
                match crate::ledger::get(store, handle, &line.commission_id).await? {
                    Some(fresh) => line = fresh,
                    None => return Ok(false),
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Unavailable(format!(
        "line {} kept changing",
        line.commission_id
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(drifts: &[&str]) -> Report {
        Report {
            lines: 4,
            outside: 0,
            drifts: drifts.iter().map(|d| (*d).to_owned()).collect(),
        }
    }

    #[test]
    fn a_difference_is_confirmed_only_when_the_next_read_finds_it_too() {
        let first = report(&[
            "index Q: entry p#approved#com_1 points at nothing",
            "balance (p, EUR): the lines sum to 1, the items hold 2",
            "customer c: commissions EUR 1.00 in its record, 2.00 in its lines",
        ]);
        // A skew (the entry) gone; a balance still off, by other amounts; a new skew.
        let second = report(&[
            "balance (p, EUR): the lines sum to 5, the items hold 6",
            "index Q: entry p#pending#com_2 missing",
        ]);
        let confirmed = second.confirmed_by(&first);
        assert_eq!(
            confirmed.drifts,
            ["balance (p, EUR): the lines sum to 5, the items hold 6"]
        );
        assert!(!confirmed.clean());
        assert!(report(&[]).confirmed_by(&first).clean());
        let gone = report(&["index Q: entry p#approved#com_1 missing"]).confirmed_by(&first);
        assert!(
            gone.clean(),
            "the same entry, the other way round: another read's skew"
        );
    }
}
