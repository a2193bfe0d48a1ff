//! Partner risk (issue 46): "investigate before paying out", judged per partner. A partner's
//! score and [`signals`] come from what it brought recently: its conversion lines of the last
//! [`WINDOW_DAYS`] days (at most [`MAX_LINES`], newest first, through the ledger's partner index)
//! and its campaigns' daily qualified clicks. A read costs what it answers, never the handle's
//! ledger. The last assessment is kept as a snapshot ([`snapshot`]) that the accrual reads to
//! hold a partner's new lines above its plan's `holdAboveRisk`.

pub mod customers;
pub mod dismissals;
pub mod fraud;
pub mod signals;
pub mod snapshot;

use crate::domain::time::Timestamp;
use serde::Serialize;

use crate::analytics::days::DayRange;
use crate::analytics::report::{GroupBy, Scope};
use crate::domain::{Handle, PartnerId};
use crate::ledger::Filter;
use crate::ledger::model::{Commission, Kind};
use crate::platform::store::Store;
use crate::platform::store::StoreError;
pub use signals::{Signal, SignalCode};
pub use snapshot::Holds;

/// The conversion lines an assessment looks back on.
pub const WINDOW_DAYS: i64 = 90;
pub const MAX_LINES: usize = 500;
/// The days of clicks read for spikes: the last [`signals::SPIKE_DAYS`] and the baseline.
pub const CLICK_DAYS: i64 = 35;

#[derive(Debug, thiserror::Error)]
pub enum RiskError {
    #[error("Partner {0} was not found.")]
    UnknownPartner(PartnerId),
    /// `409 invalid_state`: nothing to dismiss.
    #[error("The signal {} is not firing for this partner: there is nothing to dismiss.", .0.as_str())]
    NotFiring(SignalCode),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A partner's risk as answered by `GET …/partners/{partnerId}/risk`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartnerRisk {
    pub partner_id: PartnerId,
    /// 0 (nothing fired) to 100: the fired signals' weights.
    pub score: u8,
    pub signals: Vec<Signal>,
    /// The conversion lines looked at (at most [`MAX_LINES`]) and since when.
    pub conversions_considered: usize,
    pub since: String,
    pub assessed_at: Timestamp,
}

impl PartnerRisk {
    /// The signals that fired, strongest first.
    pub fn fired(&self) -> Vec<SignalCode> {
        let mut fired: Vec<&Signal> = self.signals.iter().filter(|s| s.fired).collect();
        fired.sort_by(|a, b| b.weight.cmp(&a.weight).then(a.code.cmp(&b.code)));
        fired.into_iter().map(|s| s.code).collect()
    }
}

/// Assesses `partner` now and keeps the result as its snapshot. Only stored facts are read, so
/// an assessment made again (after a crash, a replay of events) answers the same. Round trips:
/// the partner (ONE read), those of [`signals_of`], the snapshot (ONE write).
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn assess(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
) -> Result<PartnerRisk, RiskError> {
    let Some(record) = crate::partners::get(store, handle, partner).await? else {
        return Err(RiskError::UnknownPartner(partner.clone()));
    };
    let now_ms = crate::platform::time::now_millis();
    let since_ms = now_ms - WINDOW_DAYS * 86_400_000;
    let (signals, considered) = signals_of(store, handle, &record, since_ms).await?;
    let risk = PartnerRisk {
        partner_id: partner.clone(),
        score: signals::score(&signals),
        signals,
        conversions_considered: considered,
        since: crate::domain::time::unix_millis_to_rfc3339(since_ms),
        assessed_at: Timestamp::from_millis(now_ms),
    };
    snapshot::keep(store, handle, &risk).await?;
    Ok(risk)
}

/// Every signal of `partner` since `since_ms`, its dismissals applied, and the conversion lines
/// looked at. Round trips: its recent lines and clawbacks (ONE index query each, then ONE read
/// per line, concurrently); the handle's campaigns (ONE query per 1,000), ONE day query and ONE
/// paid-click query per campaign of the partner; its dismissals (ONE query); the facts of
/// [`fraud_facts`].
async fn signals_of(
    store: &dyn Store,
    handle: &Handle,
    partner: &crate::partners::Partner,
    since_ms: i64,
) -> Result<(Vec<Signal>, usize), StoreError> {
    let id = &partner.partner_id;
    let lines = recent_lines(store, handle, id, since_ms, Kind::Conversion).await?;
    let clawed: std::collections::BTreeSet<_> =
        recent_lines(store, handle, id, since_ms, Kind::Clawback)
            .await?
            .into_iter()
            .filter_map(|c| c.adjusts_commission_id)
            .collect();
    let campaigns = partner_campaigns(store, handle, id).await?;
    let days = daily_clicks(store, handle, &campaigns).await?;
    let mut facts: Vec<signals::LineFacts> = lines.iter().map(line_facts).collect();
    for (f, line) in facts.iter_mut().zip(&lines) {
        f.reversed_after_payout = clawed.contains(&line.commission_id);
    }
    let mut signals = signals::all(&facts, &days);
    let mut more = fraud_facts(store, handle, partner).await?;
    for c in &campaigns {
        let clicks = crate::analytics::paid::of_campaign(store, handle, &c.campaign_id).await?;
        more.paid_clicks.extend(clicks);
    }
    more.paid_clicks.sort_by(|a, b| b.click_id.cmp(&a.click_id));
    signals.extend(fraud::all(&facts, &more));
    dismissals::apply(
        &mut signals,
        &dismissals::of_partner(store, handle, id).await?,
    );
    Ok((signals, lines.len()))
}

/// A manager dismisses `code` of `partner` with a reason: kept with the evidence it fired on
/// (`dismissals`), so that evidence does not fire it again; the partner assessed again (its
/// snapshot, which holds lines and payouts, no longer counts it). A signal dismissed already
/// answers as it is; one that is not firing is `invalid_state`. Round trips: TWO assessments
/// ([`assess`]) around ONE transaction.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner, code = code.as_str()))]
pub async fn dismiss(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    code: SignalCode,
    reason: String,
    by: &str,
) -> Result<PartnerRisk, RiskError> {
    let risk = assess(store, handle, partner).await?;
    let Some(signal) = risk.signals.iter().find(|s| s.code == code) else {
        return Err(RiskError::NotFiring(code));
    };
    if signal.dismissed.is_some() {
        return Ok(risk);
    }
    if !signal.fired {
        return Err(RiskError::NotFiring(code));
    }
    dismissals::keep(store, handle, partner, signal, reason, by).await?;
    assess(store, handle, partner).await
}

/// The partner's newest conversion lines since `since_ms`.
async fn recent_lines(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
    since_ms: i64,
    kind: Kind,
) -> Result<Vec<Commission>, StoreError> {
    let filter = Filter {
        partner_id: Some(partner.clone()),
        kind: Some(kind),
        from_ms: Some(since_ms),
        ..Filter::default()
    };
    let (lines, _) = crate::ledger::list(store, handle, &filter, MAX_LINES, None).await?;
    Ok(lines)
}

/// A conversion line's facts.
fn line_facts(c: &Commission) -> signals::LineFacts {
    use crate::domain::ClickId;
    signals::LineFacts {
        conversion_id: c.conversion_id.clone(),
        // A line without a click is never "fast" (its click reads as the epoch).
        click_ms: c.click_id.as_ref().map_or(0, ClickId::unix_millis),
        click_id: c.click_id.clone(),
        conversion_ms: c.commission_id.unix_millis(),
        address_hash: c.address_hash.clone(),
        visitor_hash: c.visitor_hash.clone(),
        customer_id: c.customer_id.clone(),
        self_referral: c
            .reasons
            .iter()
            .any(|r| r == crate::domain::customer::SELF_REFERRAL),
        reversed: c.adjusted_by.is_some(),
        reversed_after_payout: false,
        in_payout: c.payout_id.is_some(),
    }
}

/// The facts of [`fraud`]'s signals: the program's thresholds, the partners behind the same
/// payout account or tax id (`payout_methods::digests`), the partner's and its users' addresses
/// at a disposable domain, where and from which browsers its users sign in. Round trips: ONE
/// read (the program); ONE query (the partner's users) and, per user, ONE query and ONE read
/// per session;
/// those of `digests::sharing_account` and `sharing_tax_id`; ONE read per partner named.
async fn fraud_facts(
    store: &dyn Store,
    handle: &Handle,
    partner: &crate::partners::Partner,
) -> Result<fraud::Facts, StoreError> {
    use crate::payout_methods::digests;
    let program = crate::programs::settings::get(store, handle).await?;
    let id = &partner.partner_id;
    let mut facts = fraud::Facts {
        refund_after_payout_percent: program
            .as_ref()
            .and_then(|p| p.refund_after_payout_threshold)
            .unwrap_or(crate::domain::fraud_rules::DEFAULT_REFUND_AFTER_PAYOUT_PERCENT),
        paid_traffic_allowed: program.as_ref().is_some_and(|p| p.allow_paid_traffic),
        ..fraud::Facts::default()
    };
    for (other, rail) in digests::sharing_account(store, handle, id).await? {
        let name = partner_name(store, handle, &other).await?;
        facts.shared_account.push((name, rail.words().to_owned()));
    }
    for other in crate::payout_methods::tax::sharing_tax_id(store, handle, id).await? {
        facts
            .shared_tax_id
            .push(partner_name(store, handle, &other).await?);
    }
    let mut addresses: Vec<(String, String)> = partner
        .email
        .iter()
        .map(|e| ("The partner's address".to_owned(), e.clone()))
        .collect();
    for user in crate::people::partner_users::list(store, handle, id).await? {
        let masked = crate::domain::customer::mask_email(&user.email).unwrap_or_default();
        let seen = crate::people::sessions::sign_in_hashes(store, &user.user_id).await?;
        for hash in seen.addresses {
            facts.sign_ins.push((hash, masked.clone()));
        }
        for hash in seen.browsers {
            facts.sign_in_browsers.push((hash, masked.clone()));
        }
        if !addresses
            .iter()
            .any(|(_, e)| e.eq_ignore_ascii_case(&user.email))
        {
            addresses.push(("The partner's user".to_owned(), user.email));
        }
    }
    for (whose, email) in addresses {
        if let Some(domain) = crate::domain::disposable::domain_of(&email) {
            let masked = crate::domain::customer::mask_email(&email).unwrap_or_default();
            facts.disposable.push((whose, masked, domain.to_owned()));
        }
    }
    Ok(facts)
}

/// A partner's name for the evidence (its id when it has since been deleted).
async fn partner_name(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
) -> Result<String, StoreError> {
    Ok(crate::partners::get(store, handle, partner)
        .await?
        .map_or_else(|| partner.to_string(), |p| p.name))
}

/// The handle's campaigns of `partner`. Round trips: ONE query per 1,000 campaigns.
async fn partner_campaigns(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
) -> Result<Vec<crate::campaigns::Campaign>, StoreError> {
    Ok(crate::campaigns::list_all(store, handle)
        .await?
        .into_iter()
        .filter(|c| c.partner_id.as_ref() == Some(partner))
        .collect())
}

/// The partner's qualified clicks per day over the last [`CLICK_DAYS`] days, oldest first,
/// every day present (0 for a day without clicks).
async fn daily_clicks(
    store: &dyn Store,
    handle: &Handle,
    campaigns: &[crate::campaigns::Campaign],
) -> Result<Vec<(String, i64)>, StoreError> {
    let today = crate::platform::time::now().date();
    let from = today - time::Duration::days(CLICK_DAYS - 1);
    let range = DayRange { from, to: today };
    let mut per_day = std::collections::BTreeMap::new();
    if !campaigns.is_empty() {
        let scope = Scope::Campaigns(campaigns.to_vec());
        let report =
            crate::analytics::report::group_by(store, handle, &scope, GroupBy::Day, &range);
        for row in report.await?.rows {
            per_day.insert(row.key, row.metrics.qualified_clicks);
        }
    }
    let days = (0..CLICK_DAYS).map(|n| {
        let day = crate::analytics::days::format_day(from + time::Duration::days(n));
        let clicks = per_day.get(&day).copied().unwrap_or(0);
        (day, clicks)
    });
    Ok(days.collect())
}
