//! What a click's visitor adds to the breakdowns: its OS and browser, read from the User-Agent
//! the click record carries (here, in the click's consumer: a parse costs ~2 µs, too much for
//! the redirect's path), and its region and city as a trusted edge named them.
//!
//! Cardinality stays bounded: OS names carry only a major version where people read one
//! ("iOS 18", "Android 14", "Windows 10/11", "macOS"), browsers none ("Chrome", "Safari",
//! "Samsung Internet": they update every few weeks, and each version would be a new row a
//! month); regions are a country's subdivisions (a few thousand in the world). Cities are not
//! bounded by nature, so each campaign keeps at most [`CITIES_PER_DAY`] a day under their own
//! names, the first seen that day; later new ones count under [`OTHER_CITY`] ([`cap_cities`]).

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::sync::{LazyLock, Mutex};

use super::Dimension;
use crate::kernel::events::ClickData;
use crate::platform::store::{Query, Store, StoreError, for_each_item, keys};

/// Cities a campaign keeps under their own names per UTC day. Why a cap: every city of a day is
/// one counter item (per stream shard), and `groupBy=city` reads every item of its days; a
/// campaign clicked from 10,000 places a day would make a 90-day report read almost a million
/// items. 200 a day bounds that at 18,000 (plus one `other` a day); the first cities of a day
/// are mostly its busiest, and the rest are a long tail of a few clicks each.
pub const CITIES_PER_DAY: usize = 200;
/// Where a day's cities past the cap count.
pub const OTHER_CITY: &str = "other";
/// What a dimension says when the click did not say it.
const UNKNOWN: &str = "unknown";
/// (campaign's city partition, day) entries the roster holds before it starts again: at most
/// 1,000 × 200 names (~10 MB at the worst, a Lambda's memory allows it); a roster started again
/// reads its days back from the store.
const ROSTER_ENTRIES: usize = 1_000;

/// The visitor's values of [`Dimension::VISITOR`], in that order.
pub(super) fn values(click: &ClickData) -> [String; 4] {
    let device = click.user_agent.as_deref().map(tenx_geo::device);
    let os = device.as_ref().and_then(|d| d.os.clone());
    let browser = device
        .as_ref()
        .and_then(|d| d.browser_family().map(str::to_owned));
    let country = Some(click.attribution.country.as_str()).filter(|c| *c != UNKNOWN);
    let region = click.region.as_deref().map(decoded);
    let city = click.city.as_deref().map(decoded);
    let place =
        |parts: [Option<&str>; 3]| parts.into_iter().flatten().collect::<Vec<_>>().join(", ");
    let region_key = region.as_deref().map(|r| place([Some(r), country, None]));
    let city_key = city
        .as_deref()
        .map(|c| place([Some(c), region.as_deref(), country]));
    [os, browser, region_key, city_key].map(|v| v.unwrap_or_else(|| UNKNOWN.to_owned()))
}

/// A region's or city's name as the edge sent it, percent-decoded when it decodes to text
/// (CloudFront may encode names outside ASCII), else as sent.
fn decoded(raw: &str) -> String {
    if !raw.contains('%') {
        return raw.trim().to_owned();
    }
    let escaped = raw.replace('+', "%2B");
    url::form_urlencoded::parse(format!("v={escaped}").as_bytes())
        .next()
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.contains('\u{fffd}'))
        .unwrap_or_else(|| raw.trim().to_owned())
}

/// The cities each (campaign, day) keeps under their names, as this process knows them: seeded
/// from the store's items of that day, then grown as it admits. Process-wide, because every
/// consumer of the process (the events worker, each shard's) writes the same days. Two
/// processes admitting at once can each admit up to the cap, so a day holds at most the cap
/// times the consumers that wrote it: still bounded.
static ROSTER: LazyLock<Mutex<Roster>> = LazyLock::new(Mutex::default);

/// (campaign's city partition, day) → the cities it keeps under their names.
type Roster = HashMap<(String, String), HashSet<String>>;

/// Rewrites each city key (among each event's counter keys, `(pk, sk)`) whose city its day
/// cannot keep any more to [`OTHER_CITY`]. ONE query per (campaign, day) this process has not
/// seen yet, reading that day's city items; none for clicks without a city.
pub(super) async fn cap_cities<'a>(
    store: &dyn Store,
    events_keys: impl Iterator<Item = &'a mut Vec<(String, String)>>,
) -> Result<(), StoreError> {
    let city_pk_suffix = format!("#{}", Dimension::City.as_str());
    let mut named: Vec<&mut (String, String)> = events_keys
        .flat_map(|keys| keys.iter_mut())
        .filter(|(pk, sk)| pk.ends_with(&city_pk_suffix) && city_of(sk).is_some())
        .collect();
    let days: HashSet<(String, String)> = named.iter().filter_map(|k| roster_key(k)).collect();
    for (pk, day) in days {
        if known(&pk, &day) {
            continue;
        }
        let seeded = stored_cities(store, &pk, &day).await?;
        let mut roster = ROSTER
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if roster.len() >= ROSTER_ENTRIES {
            roster.clear();
        }
        roster.entry((pk, day)).or_default().extend(seeded);
    }
    let mut roster = ROSTER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for key in &mut named {
        let Some((pk, day)) = roster_key(key) else {
            continue;
        };
        let city = city_of(&key.1).unwrap_or_default().to_owned();
        let kept = roster.entry((pk, day.clone())).or_default();
        if !kept.contains(&city) && kept.len() >= CITIES_PER_DAY {
            key.1 = keys::analytics_sk(&day, OTHER_CITY);
        } else {
            kept.insert(city);
        }
    }
    Ok(())
}

/// A city item's value, `None` for the ones that take no place in a roster (`unknown`,
/// `other`).
fn city_of(sk: &str) -> Option<&str> {
    keys::analytics_sk_parts(sk)
        .map(|(_, value)| value)
        .filter(|v| *v != UNKNOWN && *v != OTHER_CITY)
}

fn roster_key((pk, sk): &(String, String)) -> Option<(String, String)> {
    let (day, _) = keys::analytics_sk_parts(sk)?;
    Some((pk.clone(), day.to_owned()))
}

fn known(pk: &str, day: &str) -> bool {
    let roster = ROSTER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    roster.contains_key(&(pk.to_owned(), day.to_owned()))
}

/// The cities a (campaign, day) already has items for (every shard's parts).
async fn stored_cities(store: &dyn Store, pk: &str, day: &str) -> Result<Vec<String>, StoreError> {
    let (lo, hi) = keys::day_range(day, day);
    let mut cities = Vec::new();
    for_each_item(store, Query::between(pk, lo, hi), |item| {
        if let Some(city) = city_of(&item.sk) {
            cities.push(city.to_owned());
        }
        Ok::<_, StoreError>(ControlFlow::Continue(()))
    })
    .await?;
    Ok(cities)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Attribution, ClickId, Device};

    fn click(
        ua: Option<&str>,
        country: &str,
        region: Option<&str>,
        city: Option<&str>,
    ) -> ClickData {
        ClickData {
            click_id: ClickId::new(),
            slug: "deal".into(),
            campaign_id: None,
            attribution: Attribution {
                country: country.into(),
                device: Device::Desktop,
                source: "direct".into(),
                referrer: "direct".into(),
                segment: "new-desktop".into(),
                variant: None,
            },
            bot: false,
            bot_reason: None,
            expired: false,
            sub_ids: Default::default(),
            test: false,
            ad_click: None,
            user_agent: ua.map(str::to_owned),
            region: region.map(str::to_owned),
            city: city.map(str::to_owned),
            destination_url: "https://example.com/".into(),
            at: "2026-11-28T10:00:00Z".into(),
        }
    }

    const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";

    #[test]
    fn a_click_names_its_os_browser_region_and_city_as_people_read_them() {
        let seattle = click(Some(IPHONE), "US", Some("Washington"), Some("Seattle"));
        assert_eq!(
            values(&seattle),
            [
                "iOS 18",
                "Safari",
                "Washington, US",
                "Seattle, Washington, US"
            ]
        );
        let nothing = click(None, "unknown", None, None);
        assert_eq!(values(&nothing), ["unknown"; 4]);
        // A city without a region or a country still names what it has.
        let lone = click(Some("curl/8.5.0"), "unknown", None, Some("Paris"));
        assert_eq!(values(&lone), ["unknown", "curl", "unknown", "Paris"]);
    }

    #[test]
    fn names_outside_ascii_are_decoded_when_the_edge_encoded_them() {
        assert_eq!(decoded("S%C3%A3o%20Paulo"), "São Paulo");
        assert_eq!(decoded("São Paulo"), "São Paulo");
        // Not an encoding: kept as sent.
        assert_eq!(decoded("100%"), "100%");
        assert_eq!(decoded("a%FFb"), "a%FFb");
        assert_eq!(decoded("Winston+Salem"), "Winston+Salem");
    }

    /// One click's counter keys: its total's and its city's.
    fn city_contribution(pk: &str, city: &str) -> Vec<(String, String)> {
        vec![
            (pk.replace("#city", "#total"), "2026-11-28#*".to_owned()),
            (pk.to_owned(), keys::analytics_sk("2026-11-28", city)),
        ]
    }

    #[tokio::test]
    async fn a_days_cities_past_the_cap_count_as_other_and_the_kept_ones_stay_named() {
        let store = crate::platform::store::embedded::EmbeddedStore::in_memory();
        let pk = "H#cap-test#A#_none#city";
        // A city already stored that day (another process's) is on the roster from the start.
        store
            .write(crate::platform::store::WriteOp::Add {
                pk: pk.to_owned(),
                sk: keys::analytics_shard_sk(&keys::analytics_sk("2026-11-28", "Lyon, FR"), "0"),
                deltas: vec![("clicks".to_owned(), 1)],
                cap: None,
                expires_at: None,
            })
            .await
            .unwrap();
        let mut batch: Vec<Vec<(String, String)>> = (0..CITIES_PER_DAY + 5)
            .map(|i| city_contribution(pk, &format!("City {i}")))
            .chain([
                city_contribution(pk, "Lyon, FR"),
                city_contribution(pk, "City 0"),
                city_contribution(pk, "unknown"),
            ])
            .collect();
        cap_cities(&store, batch.iter_mut()).await.unwrap();
        let value =
            |c: &Vec<(String, String)>| keys::analytics_sk_parts(&c[1].1).unwrap().1.to_owned();
        let values: Vec<String> = batch.iter().map(value).collect();
        // Lyon took one place: 199 new ones are kept, the rest are `other`.
        let kept = values.iter().filter(|v| v.starts_with("City ")).count();
        assert_eq!(kept, CITIES_PER_DAY - 1 + 1, "{values:?}");
        assert_eq!(values.iter().filter(|v| *v == OTHER_CITY).count(), 6);
        let n = values.len();
        assert_eq!(values[n - 3..], ["Lyon, FR", "City 0", "unknown"]);
        // Other dimensions' keys are untouched.
        assert!(batch.iter().all(|c| c[0].1 == "2026-11-28#*"));
        // The next batch of that day keeps its known cities and sends new ones to `other`.
        let mut next = [
            city_contribution(pk, "City 3"),
            city_contribution(pk, "Nice"),
        ];
        cap_cities(&store, next.iter_mut()).await.unwrap();
        assert_eq!(value(&next[0]), "City 3");
        assert_eq!(value(&next[1]), OTHER_CITY);
    }
}
