//! Partner sub-ids: `sub1` … `sub5` on the short URL (Everflow's convention), which a partner
//! sets to split its own traffic sources. Captured with the click, carried in the ctx, stored
//! with conversions and sent in webhooks, so a partner can see which placement converts.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub const SUB_ID_NAMES: [&str; 5] = ["sub1", "sub2", "sub3", "sub4", "sub5"];
/// Most bytes a sub-id takes in the ctx payload (UTF-8, `"` and `\` counted as their JSON
/// escapes); longer ones are cut on a character boundary. Bytes, not characters: the token's
/// length is bounded in bytes ([`super::ctx::MAX_CTX_TOKEN_LEN`]), and five sub-ids of 100
/// three-byte characters would not fit it.
pub const MAX_SUB_ID_BYTES: usize = 100;

/// The sub-ids a click carried, one slot per name (`sub1` …); absent names were not given.
/// Serialized as a map of the given ones only (`{"sub1": "…"}`), in name order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubIds([Option<String>; 5]);

impl SubIds {
    /// The first value of each `subN` in a short URL's query, cleaned; empty ones are dropped.
    pub fn from_query(query: Option<&str>) -> SubIds {
        let mut ids = SubIds::default();
        for (name, value) in super::destination::query_pairs(query.unwrap_or("")) {
            ids.capture(&name, &value);
        }
        ids
    }

    /// One query pair, in query order: kept (cleaned) when `name` is a sub-id that has no value
    /// yet and the value is not empty once cleaned. Lets a caller read the query in one pass.
    /// Returns whether `name` is a sub-id name at all.
    pub fn capture(&mut self, name: &str, value: &str) -> bool {
        let Some(i) = slot_of(name) else {
            return false;
        };
        if self.0[i].is_none() {
            self.0[i] = clean(value);
        }
        true
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0[slot_of(name)?].as_deref()
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(Option::is_none)
    }

    /// The ctx payload's form: one slot per name up to the last one given (`[]` for none).
    pub fn to_wire(&self) -> &[Option<String>] {
        let last = self.0.iter().rposition(Option::is_some);
        &self.0[..last.map_or(0, |i| i + 1)]
    }

    /// Back from the ctx payload (cleaned again: cheap, and a token is only data).
    pub fn from_wire(slots: Vec<Option<String>>) -> SubIds {
        let mut ids = SubIds::default();
        for (slot, value) in ids.0.iter_mut().zip(slots) {
            *slot = value.as_deref().and_then(clean);
        }
        ids
    }
}

fn slot_of(name: &str) -> Option<usize> {
    SUB_ID_NAMES.iter().position(|n| *n == name)
}

/// Control characters removed, trimmed, at most [`MAX_SUB_ID_BYTES`]; `None` when empty.
fn clean(raw: &str) -> Option<String> {
    // Fast path, the usual value: nothing to remove, trim or cut, one copy.
    if json_bytes(raw) <= MAX_SUB_ID_BYTES
        && raw.trim().len() == raw.len()
        && !raw.chars().any(char::is_control)
    {
        return (!raw.is_empty()).then(|| raw.to_owned());
    }
    let kept: String = raw.chars().filter(|c| !c.is_control()).collect();
    let cut = within_json_bytes(kept.trim(), MAX_SUB_ID_BYTES).trim_end();
    (!cut.is_empty()).then(|| cut.to_owned())
}

/// The bytes `s` takes inside a JSON string once control characters are gone: its UTF-8
/// length, plus one for each `"` and `\` (escaped as two bytes).
pub(crate) fn json_bytes(s: &str) -> usize {
    s.len() + s.bytes().filter(|b| matches!(b, b'"' | b'\\')).count()
}

/// The longest prefix of `s` (on a character boundary) whose [`json_bytes`] is at most `max`.
pub(crate) fn within_json_bytes(s: &str, max: usize) -> &str {
    let mut used = 0;
    for (at, c) in s.char_indices() {
        used += c.len_utf8() + usize::from(matches!(c, '"' | '\\'));
        if used > max {
            return &s[..at];
        }
    }
    s
}

impl Serialize for SubIds {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let given = self.0.iter().filter(|v| v.is_some()).count();
        let mut map = serializer.serialize_map(Some(given))?;
        for (name, value) in SUB_ID_NAMES.iter().zip(&self.0) {
            if let Some(value) = value {
                map.serialize_entry(name, value)?;
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for SubIds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(SubIdsVisitor)
    }
}

/// A map of string values, as stored; names other than `sub1` … `sub5` are ignored (none is
/// ever written), and a repeated name keeps its last value (as a map would).
struct SubIdsVisitor;

impl<'de> Visitor<'de> for SubIdsVisitor {
    type Value = SubIds;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of sub-ids")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SubIds, A::Error> {
        let mut ids = SubIds::default();
        while let Some((name, value)) = map.next_entry::<String, String>()? {
            if let Some(i) = slot_of(&name) {
                ids.0[i] = Some(value);
            }
        }
        Ok(ids)
    }
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
        assert_eq!(ids.get("sub5").map(str::len), Some(MAX_SUB_ID_BYTES));
        assert_eq!(ids.get("sub9"), None);
        let wire: Vec<Option<String>> = ids.to_wire().to_vec();
        assert_eq!(wire.len(), 5);
        assert_eq!(SubIds::from_wire(wire), ids);
        assert!(SubIds::from_query(None).to_wire().is_empty());
        let json = serde_json::to_value(&ids).unwrap();
        assert_eq!(json["sub1"], "banner top");
    }

    #[test]
    fn a_later_value_fills_a_name_whose_first_one_was_empty() {
        let ids = SubIds::from_query(Some("sub2=%20&sub2=b&sub2=c&sub4=d"));
        assert_eq!(ids.get("sub2"), Some("b"));
        assert_eq!(ids.to_wire().len(), 4);
        assert!(SubIds::from_query(Some("sub1=&other=1")).is_empty());
    }

    /// The cleaning spelled out slowly (three copies); the fast path must agree with it.
    fn clean_reference(raw: &str) -> Option<String> {
        let kept: String = raw.chars().filter(|c| !c.is_control()).collect();
        let mut cut = String::new();
        for c in kept.trim().chars() {
            let escaped = if c == '"' || c == '\\' {
                2
            } else {
                c.len_utf8()
            };
            if json_bytes(&cut) + escaped > MAX_SUB_ID_BYTES {
                break;
            }
            cut.push(c);
        }
        let cut = cut.trim_end().to_owned();
        (!cut.is_empty()).then_some(cut)
    }

    #[test]
    fn cleaning_is_the_same_on_and_off_the_fast_path() {
        let exactly = "é".repeat(MAX_SUB_ID_BYTES / 2);
        let cases = [
            "partner-a".to_owned(),
            String::new(),
            " ".into(),
            " lead".into(),
            "trail\u{a0}".into(),
            "a\tb".into(),
            "\u{7f}x\u{85}".into(),
            "\u{1}\u{2}".into(),
            "x".repeat(MAX_SUB_ID_BYTES),
            "x".repeat(MAX_SUB_ID_BYTES + 1),
            format!("{} y", "x".repeat(MAX_SUB_ID_BYTES - 1)),
            exactly.clone(),
            format!("{exactly}é"),
            "日本 語".into(),
            "\"".repeat(MAX_SUB_ID_BYTES),
            "\\".repeat(51),
            "𝔘".repeat(40),
        ];
        for raw in &cases {
            assert_eq!(clean(raw), clean_reference(raw), "{raw:?}");
        }
        assert_eq!(clean(&exactly).map(|c| c.len()), Some(MAX_SUB_ID_BYTES));
    }

    #[test]
    fn sub_ids_are_bounded_in_the_bytes_the_token_carries() {
        // Four-byte characters: 25 fit; a cut never splits one.
        assert_eq!(clean(&"𝔘".repeat(40)), Some("𝔘".repeat(25)));
        assert_eq!(
            clean(&format!("a{}", "𝔘".repeat(40))),
            Some(format!("a{}", "𝔘".repeat(24)))
        );
        // Quotes and backslashes count as their JSON escapes.
        assert_eq!(clean(&"\"".repeat(80)), Some("\"".repeat(50)));
        let cleaned = clean(&"日本語".repeat(100)).unwrap();
        assert!(json_bytes(&cleaned) <= MAX_SUB_ID_BYTES, "{cleaned}");
        assert_eq!(cleaned.chars().count(), 33);
    }

    #[test]
    fn serialized_as_a_map_of_the_given_names_in_order() {
        let ids = SubIds::from_query(Some("sub3=c&sub1=a"));
        let json = serde_json::to_string(&ids).unwrap();
        assert_eq!(json, r#"{"sub1":"a","sub3":"c"}"#);
        assert_eq!(serde_json::from_str::<SubIds>(&json).unwrap(), ids);
        assert_eq!(serde_json::to_string(&SubIds::default()).unwrap(), "{}");
        let stored: SubIds = serde_json::from_str(r#"{"sub2":"b","other":"x"}"#).unwrap();
        assert_eq!(stored.get("sub2"), Some("b"));
        assert_eq!(stored.to_wire().len(), 2);
        assert!(serde_json::from_str::<SubIds>(r#"{"sub1":null}"#).is_err());
        assert!(serde_json::from_str::<SubIds>("[]").is_err());
    }
}
