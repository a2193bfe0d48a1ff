//! RFC 8785 JSON Canonicalization Scheme for the documents 10x signs: object members sorted by
//! the UTF-16 code units of their names, no whitespace, strings escaped as ECMAScript does
//! (serde_json's escaping is exactly that: the two-character escapes, `\u00xx` in lower case for
//! the other control characters, nothing else). Numbers: the signed documents carry integers
//! only (money is a decimal string), which print the same in every JSON implementation.

use serde_json::Value;

/// The canonical form of `value`.
pub fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write_sorted(value, &mut out, |a, b| {
        a.encode_utf16().cmp(b.encode_utf16())
    });
    out
}

/// Compact JSON of `value` with every object's members in `order` of their names. RFC 8785
/// orders by UTF-16 code units ([`canonical`]); a conversion's payload hash by bytes
/// (`domain::conversion::canonical_json`, fixed before JCS came and stored in idempotency
/// records, so it keeps its order).
pub fn write_sorted(value: &Value, out: &mut String, order: fn(&str, &str) -> std::cmp::Ordering) {
    match value {
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| order(a.0, b.0));
            out.push('{');
            for (i, (k, v)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_sorted(v, out, order);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_sorted(v, out, order);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_sort_by_utf16_and_strings_escape_as_ecmascript() {
        let v = serde_json::json!({"b": [1, {"z": null, "a": true}], "a": "x\u{1}\n\"é€", "\u{20ac}": 1, "\u{1f600}": 2, "\u{fb33}": 3});
        // U+1F600 is the surrogate pair D83D DE00, which sorts before U+FB33 in UTF-16.
        assert_eq!(
            canonical(&v),
            "{\"a\":\"x\\u0001\\n\\\"é€\",\"b\":[1,{\"a\":true,\"z\":null}],\"€\":1,\"\u{1f600}\":2,\"\u{fb33}\":3}"
        );
    }
}
