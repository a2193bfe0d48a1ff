//! Partner sub-ids: `sub1` … `sub5` on the short URL (Everflow's convention), which a partner
//! sets to split its own traffic sources. Captured with the click, carried in the ctx, stored
//! with conversions and sent in webhooks, so a partner can see which placement converts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub const SUB_ID_NAMES: [&str; 5] = ["sub1", "sub2", "sub3", "sub4", "sub5"];
/// Longest sub-id kept (longer ones are cut, on a character boundary).
pub const MAX_SUB_ID_CHARS: usize = 100;

/// The sub-ids a click carried: name (`sub1` …) → value; absent names were not given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SubIds(BTreeMap<String, String>);

impl SubIds {
    /// The first value of each `subN` in a short URL's query, cleaned; empty ones are dropped.
    pub fn from_query(query: Option<&str>) -> SubIds {
        let mut ids = BTreeMap::new();
        for (name, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            let Some(name) = SUB_ID_NAMES.iter().find(|n| **n == name) else {
                continue;
            };
            if ids.contains_key(*name) {
                continue;
            }
            if let Some(clean) = clean(&value) {
                ids.insert((*name).to_owned(), clean);
            }
        }
        SubIds(ids)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The ctx payload's form: one slot per name up to the last one given (`[]` for none).
    pub fn to_wire(&self) -> Vec<Option<&str>> {
        let last = SUB_ID_NAMES.iter().rposition(|n| self.0.contains_key(*n));
        SUB_ID_NAMES[..last.map_or(0, |i| i + 1)]
            .iter()
            .map(|n| self.get(n))
            .collect()
    }

    /// Back from the ctx payload (cleaned again: cheap, and a token is only data).
    pub fn from_wire(slots: Vec<Option<String>>) -> SubIds {
        let ids = SUB_ID_NAMES
            .iter()
            .zip(slots)
            .filter_map(|(n, v)| Some(((*n).to_owned(), clean(&v?)?)))
            .collect();
        SubIds(ids)
    }
}

/// Control characters removed, trimmed, at most [`MAX_SUB_ID_CHARS`]; `None` when empty.
fn clean(raw: &str) -> Option<String> {
    let kept: String = raw.chars().filter(|c| !c.is_control()).collect();
    let trimmed = kept.trim();
    let cut: String = trimmed.chars().take(MAX_SUB_ID_CHARS).collect();
    let cut = cut.trim_end().to_owned();
    (!cut.is_empty()).then_some(cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_ids_are_read_cleaned_bounded_and_round_trip_the_wire() {
        let long = "x".repeat(300);
        let q = format!("sub1=banner%20top&sub3=%0Anews%01&sub2=&sub9=no&sub1=second&sub5={long}");
        let ids = SubIds::from_query(Some(&q));
        assert_eq!(ids.get("sub1"), Some("banner top"));
        assert_eq!(ids.get("sub2"), None, "empty values are dropped");
        assert_eq!(ids.get("sub3"), Some("news"));
        assert_eq!(ids.get("sub5").map(str::len), Some(MAX_SUB_ID_CHARS));
        let wire: Vec<Option<String>> = ids
            .to_wire()
            .into_iter()
            .map(|v| v.map(String::from))
            .collect();
        assert_eq!(wire.len(), 5);
        assert_eq!(SubIds::from_wire(wire), ids);
        assert!(SubIds::from_query(None).to_wire().is_empty());
        let json = serde_json::to_value(&ids).unwrap();
        assert_eq!(json["sub1"], "banner top");
    }
}
