//! Items ↔ DynamoDB attributes, and the condition expressions of the seam's semantics. Layout
//! (docs/storage.md): `pk` S, `sk` S, `doc` S (JSON), `v` N, `ttl` N, counters as `c_<name>` N.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;

use tenx_kernel::platform::store::{Cond, CounterCap, Item, StoreError};

pub(super) type Attrs = HashMap<String, AttributeValue>;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub(super) const DOC: &str = "doc";
pub(super) const VERSION: &str = "v";
pub const TTL: &str = "ttl";
pub(super) const COUNTER_PREFIX: &str = "c_";

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(super) fn key(pk: &str, sk: &str) -> Attrs {
    HashMap::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))])
}

/// The attributes of a whole item (what a `Put` writes).
pub(super) fn to_attrs(item: &Item) -> Result<Attrs, StoreError> {
    let doc = serde_json::to_string(&item.doc)
        .map_err(|e| StoreError::Invalid(format!("{}/{}: {e}", item.pk, item.sk)))?;
    let mut attrs = key(&item.pk, &item.sk);
    attrs.insert(DOC.to_owned(), s(doc));
    attrs.insert(VERSION.to_owned(), n(item.version));
    if let Some(at) = item.expires_at {
        attrs.insert(TTL.to_owned(), n(at));
    }
    for (name, value) in &item.counters {
        attrs.insert(format!("{COUNTER_PREFIX}{name}"), n(value));
    }
    Ok(attrs)
}

/// Reads an item; a missing `doc` is `null` and a missing `v` is 0 (items created by `Add`).
pub(super) fn from_attrs(attrs: &Attrs) -> Result<Item, StoreError> {
    let text = |name: &str| match attrs.get(name) {
        Some(AttributeValue::S(v)) => Ok(Some(v.as_str())),
        None => Ok(None),
        Some(other) => Err(format!("attribute {name} is not a string: {other:?}")),
    };
    let (pk, sk) = match (text(PK), text(SK)) {
        (Ok(Some(pk)), Ok(Some(sk))) => (pk.to_owned(), sk.to_owned()),
        _ => {
            return Err(StoreError::Corrupt(format!(
                "item without pk/sk: {attrs:?}"
            )));
        }
    };
    let corrupt = |why: String| StoreError::Corrupt(format!("{pk}/{sk}: {why}"));
    let number = |name: &str, value: &AttributeValue| -> Result<String, StoreError> {
        match value {
            AttributeValue::N(v) => Ok(v.clone()),
            other => Err(corrupt(format!(
                "attribute {name} is not a number: {other:?}"
            ))),
        }
    };
    let mut item = Item::new(pk.clone(), sk.clone(), serde_json::Value::Null);
    if let Some(doc) = text(DOC).map_err(&corrupt)? {
        item.doc = serde_json::from_str(doc).map_err(|e| corrupt(format!("doc: {e}")))?;
    }
    if let Some(v) = attrs.get(VERSION) {
        item.version = number(VERSION, v)?
            .parse()
            .map_err(|e| corrupt(format!("v: {e}")))?;
    }
    if let Some(at) = attrs.get(TTL) {
        item.expires_at = Some(
            number(TTL, at)?
                .parse()
                .map_err(|e| corrupt(format!("ttl: {e}")))?,
        );
    }
    let mut counters = BTreeMap::new();
    for (name, value) in attrs {
        if let Some(counter) = name.strip_prefix(COUNTER_PREFIX) {
            // i128: sums of money may pass i64 (issue 28); DynamoDB holds at most 38 digits.
            let parsed: tenx_kernel::platform::store::Count = number(name, value)?
                .parse()
                .map_err(|e| corrupt(format!("{name}: {e}")))?;
            counters.insert(counter.to_owned(), parsed);
        }
    }
    item.counters = counters;
    Ok(item)
}

/// The live item in `attrs` (expired items are absent: DynamoDB deletes them late).
pub(super) fn live(attrs: Option<&Attrs>, now: i64) -> Result<Option<Item>, StoreError> {
    match attrs {
        Some(attrs) if !attrs.is_empty() => {
            let item = from_attrs(attrs)?;
            Ok((!item.is_expired(now)).then_some(item))
        }
        _ => Ok(None),
    }
}

/// DynamoDB's size of an item: attribute names plus values (numbers counted at their maximum).
pub(super) fn item_size(attrs: &Attrs) -> usize {
    attrs
        .iter()
        .map(|(name, value)| {
            name.len()
                + match value {
                    AttributeValue::S(v) => v.len(),
                    _ => 21,
                }
        })
        .sum()
}

/// The expression parts of one request: names and values are added as they are used.
#[derive(Default)]
pub(super) struct Expr {
    pub names: HashMap<String, String>,
    pub values: Attrs,
}

impl Expr {
    /// `#name` for an attribute (every name goes through a placeholder: `ttl` is reserved).
    pub(super) fn name(&mut self, attribute: &str) -> String {
        let placeholder = format!(
            "#{}",
            attribute.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        );
        self.names.insert(placeholder.clone(), attribute.to_owned());
        placeholder
    }

    /// `:label` bound to `value`.
    pub(super) fn value(&mut self, label: &str, value: AttributeValue) -> String {
        let placeholder = format!(":{label}");
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    pub(super) fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    pub(super) fn values(&self) -> Option<Attrs> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }

    /// The condition of `cond` at `now`, or `None` for no condition.
    pub(super) fn condition(&mut self, cond: &Cond, now: i64) -> Option<String> {
        match cond {
            Cond::None => None,
            Cond::Absent => {
                let (pk, ttl, now) = (self.name(PK), self.name(TTL), self.value("now", n(now)));
                Some(format!("attribute_not_exists({pk}) OR {ttl} <= {now}"))
            }
            Cond::Exists => Some(self.exists(now)),
            Cond::Version(version) => {
                let exists = self.exists(now);
                let v = self.name(VERSION);
                let expected = self.value("version", n(version));
                // Items created by `Add` carry no `v` attribute: their version is 0.
                Some(if *version == 0 {
                    format!("{exists} AND (attribute_not_exists({v}) OR {v} = {expected})")
                } else {
                    format!("{exists} AND {v} = {expected}")
                })
            }
        }
    }

    fn exists(&mut self, now: i64) -> String {
        let (pk, ttl, now) = (self.name(PK), self.name(TTL), self.value("now", n(now)));
        format!("attribute_exists({pk}) AND (attribute_not_exists({ttl}) OR {ttl} > {now})")
    }

    /// `SET` of the document, version and expiry for a `SetDoc` (no expiry: `REMOVE ttl`); the
    /// counters' attributes are left as they are.
    pub(super) fn set_doc(&mut self, item: &Item) -> Result<String, StoreError> {
        let doc = serde_json::to_string(&item.doc)
            .map_err(|e| StoreError::Invalid(format!("{}/{}: {e}", item.pk, item.sk)))?;
        let (d, doc) = (self.name(DOC), self.value("doc", s(doc)));
        let (v, version) = (self.name(VERSION), self.value("newv", n(item.version)));
        let ttl = self.name(TTL);
        let mut update = match item.expires_at {
            Some(at) => {
                let at = self.value("newttl", n(at));
                format!("SET {d} = {doc}, {v} = {version}, {ttl} = {at}")
            }
            None => format!("SET {d} = {doc}, {v} = {version} REMOVE {ttl}"),
        };
        let adds: Vec<String> = item
            .counters
            .iter()
            .enumerate()
            .map(|(i, (counter, delta))| {
                let name = self.name(&format!("{COUNTER_PREFIX}{counter}"));
                let value = self.value(&format!("sd{i}"), n(delta));
                format!("{name} {value}")
            })
            .collect();
        if !adds.is_empty() {
            update.push_str(&format!(" ADD {}", adds.join(", ")));
        }
        Ok(update)
    }

    /// `ADD` of every delta (and `SET ttl` when given) for an `Add`, and its cap condition.
    pub(super) fn add(
        &mut self,
        deltas: &[(String, tenx_kernel::platform::store::Count)],
        cap: Option<&CounterCap>,
        expires_at: Option<i64>,
    ) -> (String, Option<String>) {
        let mut adds = Vec::with_capacity(deltas.len());
        for (i, (counter, delta)) in deltas.iter().enumerate() {
            let name = self.name(&format!("{COUNTER_PREFIX}{counter}"));
            let value = self.value(&format!("d{i}"), n(delta));
            adds.push(format!("{name} {value}"));
        }
        let mut sets = Vec::new();
        if let Some(at) = expires_at {
            let (ttl, at) = (self.name(TTL), self.value("ttl", n(at)));
            sets.push(format!("{ttl} = {at}"));
        }
        if adds.is_empty() && sets.is_empty() {
            // Nothing to add: still create the item, as the embedded store does.
            let (v, zero) = (self.name(VERSION), self.value("zero", n(0)));
            sets.push(format!("{v} = if_not_exists({v}, {zero})"));
        }
        let mut update = String::new();
        if !adds.is_empty() {
            update.push_str(&format!("ADD {}", adds.join(", ")));
        }
        if !sets.is_empty() {
            if !update.is_empty() {
                update.push(' ');
            }
            update.push_str(&format!("SET {}", sets.join(", ")));
        }
        let condition = cap.map(|cap| {
            let delta = deltas
                .iter()
                .find(|(name, _)| *name == cap.counter)
                .map_or(0, |(_, d)| *d);
            let counter = self.name(&format!("{COUNTER_PREFIX}{}", cap.counter));
            // current + delta <= max  ⇔  current <= max - delta (computed without overflow).
            let limit = i128::from(cap.max).saturating_sub(delta);
            let limit = self.value("cap", n(limit));
            if delta <= i128::from(cap.max) {
                // A missing counter is 0, which is within the cap.
                format!("attribute_not_exists({counter}) OR {counter} <= {limit}")
            } else {
                format!("{counter} <= {limit}")
            }
        });
        (update, condition)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_round_trip_through_attributes() {
        let mut item = Item::new("H#acme", "L#x", serde_json::json!({"a": [1, "é"]}))
            .with_version(3)
            .expiring_at(Some(1_700_000_000));
        item.counters.insert("clicks".into(), -4);
        let attrs = to_attrs(&item).unwrap();
        assert_eq!(attrs["doc"], AttributeValue::S(r#"{"a":[1,"é"]}"#.into()));
        assert_eq!(attrs["c_clicks"], AttributeValue::N("-4".into()));
        assert_eq!(attrs["ttl"], AttributeValue::N("1700000000".into()));
        assert_eq!(from_attrs(&attrs).unwrap(), item);
        assert_eq!(live(Some(&attrs), 1_700_000_000).unwrap(), None);
        assert_eq!(live(Some(&attrs), 1_699_999_999).unwrap(), Some(item));
        assert_eq!(live(None, 0).unwrap(), None);
    }

    #[test]
    fn add_created_items_read_as_null_doc_version_zero() {
        let mut attrs = key("p", "s");
        attrs.insert("c_n".into(), AttributeValue::N("2".into()));
        let item = from_attrs(&attrs).unwrap();
        assert_eq!(item.doc, serde_json::Value::Null);
        assert_eq!((item.version, item.counter("n")), (0, 2));
    }

    #[test]
    fn malformed_attributes_are_corrupt() {
        let mut attrs = key("p", "s");
        attrs.insert("v".into(), AttributeValue::S("one".into()));
        assert!(matches!(from_attrs(&attrs), Err(StoreError::Corrupt(_))));
        let mut attrs = key("p", "s");
        attrs.insert("doc".into(), AttributeValue::S("{not json".into()));
        assert!(matches!(from_attrs(&attrs), Err(StoreError::Corrupt(_))));
        assert!(matches!(
            from_attrs(&HashMap::new()),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn conditions_follow_the_documented_expressions() {
        let mut e = Expr::default();
        assert_eq!(e.condition(&Cond::None, 5), None);
        assert_eq!(
            e.condition(&Cond::Absent, 5).unwrap(),
            "attribute_not_exists(#pk) OR #ttl <= :now"
        );
        assert_eq!(
            e.condition(&Cond::Version(2), 5).unwrap(),
            "attribute_exists(#pk) AND (attribute_not_exists(#ttl) OR #ttl > :now) AND #v = :version"
        );
        assert_eq!(e.names["#ttl"], "ttl");
        assert_eq!(e.values[":now"], AttributeValue::N("5".into()));
    }

    #[test]
    fn add_builds_update_and_cap() {
        let mut e = Expr::default();
        let cap = CounterCap {
            counter: "used".into(),
            max: 10,
        };
        let (update, cond) = e.add(&[("used".into(), 3), ("n".into(), 1)], Some(&cap), Some(9));
        assert_eq!(update, "ADD #c_used :d0, #c_n :d1 SET #ttl = :ttl");
        assert_eq!(
            cond.unwrap(),
            "attribute_not_exists(#c_used) OR #c_used <= :cap"
        );
        assert_eq!(e.values[":cap"], AttributeValue::N("7".into()));

        // A first delta above the cap can never fit, even on a missing counter.
        let mut e = Expr::default();
        let (_, cond) = e.add(
            &[("used".into(), 3)],
            Some(&CounterCap { max: 2, ..cap }),
            None,
        );
        assert_eq!(cond.unwrap(), "#c_used <= :cap");
        assert_eq!(e.values[":cap"], AttributeValue::N("-1".into()));

        let mut e = Expr::default();
        assert_eq!(
            e.add(&[], None, None).0,
            "SET #v = if_not_exists(#v, :zero)"
        );
    }
}
