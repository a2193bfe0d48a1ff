//! A tool's JSON list answer read one item at a time (a large export is never held whole):
//! serde walks the document, skipping what is not on the path to the list
//! (`{"links": [...]}`, `{"shortUrls": {"data": [...]}}`, or a list at the top), and hands each
//! item of the list, as a small `Value`, to the reader's callback. Each item, each key and a
//! value on the path to a list is read within its [`Bound`] (a record longer than its cap fails
//! the reading); what is skipped is never held, so it is not counted.

use std::fmt;

use serde::de::{DeserializeSeed, Error, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::bounded::Bound;

pub(crate) struct List<'p, 'f> {
    /// The keys leading to the list from here.
    pub path: &'p [&'p str],
    /// The bound of the file being read.
    pub bound: &'p Bound,
    /// Whether the list was met.
    pub found: bool,
    /// Each item; `false` stops the reading (an error the caller knows it asked for).
    pub each: &'f mut dyn FnMut(Value) -> bool,
}

impl<'de> DeserializeSeed<'de> for &mut List<'_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for &mut List<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of links, or an object holding one")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.found = true;
        while let Some(item) = next_item(&mut seq, self.bound)? {
            if !(self.each)(item) {
                return Err(A::Error::custom("stopped"));
            }
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = next_key(&mut map, self.bound)? {
            if !self.found && self.path.first() == Some(&key.as_str()) {
                let mut inner = List {
                    path: &self.path[1..],
                    bound: self.bound,
                    found: false,
                    each: &mut *self.each,
                };
                self.bound.begin("a value");
                map.next_value_seed(&mut inner)?;
                self.bound.end();
                self.found = inner.found;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }

    // Anything else where the list should be: no list (reported as such by the caller).
    fn visit_unit<E: Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
}

/// The list's next item, read within `bound`.
fn next_item<'de, A: SeqAccess<'de>>(
    seq: &mut A,
    bound: &Bound,
) -> Result<Option<Value>, A::Error> {
    bound.begin("an item");
    let item = seq.next_element::<Value>()?;
    bound.end();
    Ok(item)
}

/// The object's next key, read within `bound`.
fn next_key<'de, A: MapAccess<'de>>(
    map: &mut A,
    bound: &Bound,
) -> Result<Option<String>, A::Error> {
    bound.begin("a key");
    let key = map.next_key::<String>()?;
    bound.end();
    Ok(key)
}

/// Each item of the lists named `names` in a top-level object, one at a time, as `each(list,
/// item)` (a program's export: `{"affiliates": [...], "commissions": {"data": [...]}}`); the
/// other keys are skipped unread. A list may be the tool's answer kept whole: `{"data": [...]}`,
/// `{"data": {"items": [...]}}` or `{"items": [...]}`.
pub(crate) struct Named<'n, 'f> {
    pub names: &'n [&'n str],
    /// The bound of the file being read.
    pub bound: &'n Bound,
    pub each: &'f mut dyn FnMut(&str, Value) -> bool,
    /// Whether the document was an object.
    pub object: bool,
    /// A named key whose value is neither a list nor null (the caller reports it).
    pub not_a_list: Option<String>,
}

impl<'de> DeserializeSeed<'de> for &mut Named<'_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for &mut Named<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("one JSON object of the tool's lists")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.object = true;
        while let Some(key) = next_key(&mut map, self.bound)? {
            let Some(name) = self.names.iter().find(|n| **n == key.as_str()) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let mut items = Items {
                list: name,
                bound: self.bound,
                each: &mut *self.each,
                found: false,
                null: false,
                depth: 0,
            };
            self.bound.begin("a value");
            map.next_value_seed(&mut items)?;
            self.bound.end();
            if !items.found && !items.null && self.not_a_list.is_none() {
                self.not_a_list = Some(key);
            }
        }
        Ok(())
    }

    // Anything else at the top: not an object (the caller says so).
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_unit<E: Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
}

/// One named list's items (or its answer kept whole, two levels at most).
struct Items<'l, 'f> {
    list: &'l str,
    bound: &'l Bound,
    each: &'f mut dyn FnMut(&str, Value) -> bool,
    found: bool,
    null: bool,
    depth: u8,
}

impl<'de> DeserializeSeed<'de> for &mut Items<'_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for &mut Items<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list, or the tool's answer holding one")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.found = true;
        while let Some(item) = next_item(&mut seq, self.bound)? {
            if !(self.each)(self.list, item) {
                return Err(A::Error::custom("stopped"));
            }
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = next_key(&mut map, self.bound)? {
            if !self.found && self.depth < 2 && (key == "data" || key == "items") {
                let mut inner = Items {
                    list: self.list,
                    bound: self.bound,
                    each: &mut *self.each,
                    found: false,
                    null: false,
                    depth: self.depth + 1,
                };
                self.bound.begin("a value");
                map.next_value_seed(&mut inner)?;
                self.bound.end();
                self.found = inner.found;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }

    fn visit_unit<E: Error>(self) -> Result<(), E> {
        self.null = true;
        Ok(())
    }
    fn visit_bool<E: Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
}
