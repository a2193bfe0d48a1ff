//! The console's search (issue 62): a handle's partners, campaigns and links whose id or name
//! holds the words typed, so no id is ever typed by hand (a typo such as `pub-onee` finds
//! nothing to pick instead of becoming "Nothing to pay").
//!
//! Matching is case-insensitive on the id and the name (a partner's name; a campaign's primary
//! slug and partner; a link's title and destination); an id that starts with the words comes
//! before one that only holds them, then id order. Up to [`MAX_RESULTS`] of each kind.
//!
//! Round trips: ONE query per 1,000 items of each kind, at most [`SCAN_PAGES`] per kind (three
//! queries for a handle with fewer than 1,000 of each, at most 15): a handle with more than
//! 5,000 partners (or campaigns, or links) is searched within its first 5,000 of them in id
//! order, and says so (`truncated`).

use serde::Serialize;

use crate::campaigns::{self, Campaign};
use crate::domain::{CampaignId, Handle, Link, PartnerId, Slug};
use crate::partners::{self, Partner, PartnerStatus};
use crate::platform::store::{Store, StoreError};

/// At most this many of each kind in an answer.
pub const MAX_RESULTS: usize = 10;
/// Items read per query.
const PAGE: usize = 1_000;
/// Queries per kind at most.
pub const SCAN_PAGES: usize = 5;
/// The longest search accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 100;

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FoundPartner {
    pub partner_id: PartnerId,
    pub name: String,
    pub status: PartnerStatus,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FoundCampaign {
    pub campaign_id: CampaignId,
    pub primary_slug: Slug,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<PartnerId>,
    pub status: campaigns::CampaignStatus,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FoundLink {
    pub slug: Slug,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub destination_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<CampaignId>,
}

/// What a search found.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Found {
    pub partners: Vec<FoundPartner>,
    pub campaigns: Vec<FoundCampaign>,
    pub links: Vec<FoundLink>,
    /// Whether a kind had more items than one search reads (see the module's note).
    pub truncated: bool,
}

/// How well `fields` match `needle` (lower case): 0 an id starting with it, 1 a field holding
/// it; `None` no match.
fn rank(needle: &str, id: &str, others: &[&str]) -> Option<u8> {
    let id = id.to_lowercase();
    if id.starts_with(needle) {
        Some(0)
    } else if id.contains(needle) || others.iter().any(|f| f.to_lowercase().contains(needle)) {
        Some(1)
    } else {
        None
    }
}

/// The best `MAX_RESULTS` of `hits` (rank, then id order, which is the read order).
fn best<T>(mut hits: Vec<(u8, T)>) -> Vec<T> {
    hits.sort_by_key(|(r, _)| *r);
    hits.into_iter().take(MAX_RESULTS).map(|(_, t)| t).collect()
}

/// Reads a kind page by page (at most [`SCAN_PAGES`]) keeping what `keep` ranks; whether it
/// stopped before the end.
async fn scan<T, F, Fut>(mut read: F, mut keep: impl FnMut(T)) -> Result<bool, StoreError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<String>), StoreError>>,
{
    let mut after = None;
    for _ in 0..SCAN_PAGES {
        let (items, next) = read(after).await?;
        items.into_iter().for_each(&mut keep);
        match next {
            Some(n) => after = Some(n),
            None => return Ok(false),
        }
    }
    Ok(true)
}

/// Searches `handle`'s partners, campaigns and links for `q` (trimmed; empty finds the first
/// of each, so a picker can show something before anything is typed).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn search(store: &dyn Store, handle: &Handle, q: &str) -> Result<Found, StoreError> {
    let needle = q.trim().to_lowercase();
    let mut found = Found::default();

    let mut hits = Vec::new();
    let more = scan(
        |after| partners::list(store, handle, PAGE, after),
        |p: Partner| {
            if let Some(r) = rank(&needle, p.partner_id.as_str(), &[&p.name]) {
                hits.push((
                    r,
                    FoundPartner {
                        partner_id: p.partner_id,
                        name: p.name,
                        status: p.status,
                    },
                ));
            }
        },
    )
    .await?;
    found.partners = best(hits);
    found.truncated |= more;

    let mut hits = Vec::new();
    let more = scan(
        |after| campaigns::list(store, handle, PAGE, after),
        |c: Campaign| {
            let partner = c
                .partner_id
                .as_ref()
                .map(PartnerId::as_str)
                .unwrap_or_default();
            if let Some(r) = rank(
                &needle,
                c.campaign_id.as_str(),
                &[c.primary_slug.as_str(), partner],
            ) {
                hits.push((
                    r,
                    FoundCampaign {
                        campaign_id: c.campaign_id,
                        primary_slug: c.primary_slug,
                        partner_id: c.partner_id,
                        status: c.status,
                    },
                ));
            }
        },
    )
    .await?;
    found.campaigns = best(hits);
    found.truncated |= more;

    let mut hits = Vec::new();
    let more = scan(
        |after| crate::links::page(store, handle, PAGE, after),
        |l: Link| {
            let title = l.title.as_deref().unwrap_or_default();
            if let Some(r) = rank(&needle, l.slug.as_str(), &[title, &l.destination_url]) {
                hits.push((
                    r,
                    FoundLink {
                        slug: l.slug,
                        title: l.title,
                        destination_url: l.destination_url,
                        campaign_id: l.campaign_id,
                    },
                ));
            }
        },
    )
    .await?;
    found.links = best(hits);
    found.truncated |= more;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_that_starts_with_the_words_comes_first() {
        assert_eq!(rank("pub", "pub-one", &[]), Some(0));
        assert_eq!(rank("one", "pub-one", &[]), Some(1));
        assert_eq!(rank("ann", "p1", &["Ann's blog"]), Some(1));
        assert_eq!(rank("onee", "pub-one", &["One"]), None);
        let ordered = best(vec![(1, "b"), (0, "c"), (1, "a")]);
        assert_eq!(ordered, vec!["c", "b", "a"]);
    }
}
