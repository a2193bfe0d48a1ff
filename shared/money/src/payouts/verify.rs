//! Offline verification of what 10x signs (`tenx verify`): a statement (its signature, that the
//! signed header is the one shown, that its lines are the ones under the signed root and add up
//! to its amount), a chain of one partner's statements (sequence and previous-statement hash),
//! a statement read a page at a time (its pages, in order, or one page alone by its range
//! proof), an inclusion proof, and a conversion receipt. Each failure names what does not hold.

use rust_decimal::Decimal;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::domain::proof::jws::{self, Jwks};
use crate::domain::proof::{jcs, merkle};
use crate::payouts::statement::leaf_value;

/// What failed, in words.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Failed(pub String);

fn fail<T>(msg: impl Into<String>) -> Result<T, Failed> {
    Err(Failed(msg.into()))
}

/// The signed header: the JWS verifies as a statement's and signs exactly `header`.
fn signed_header(header: &Value, token: &str, keys: &Jwks) -> Result<(), Failed> {
    let payload = jws::verify(token, jws::STATEMENT_TYP, keys)
        .map_err(|e| Failed(format!("signature: {e}")))?;
    if payload != jcs::canonical(header).as_bytes() {
        return fail("header: it is not the header that was signed");
    }
    Ok(())
}

fn text<'a>(v: &'a Value, name: &str) -> Result<&'a str, Failed> {
    v.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| Failed(format!("missing {name}")))
}

fn decode_hash(raw: &str) -> Result<merkle::Hash, Failed> {
    hex::decode(raw)
        .ok()
        .and_then(|b| <merkle::Hash>::try_from(b).ok())
        .ok_or_else(|| Failed(format!("`{raw}` is not a SHA-256 hash")))
}

/// One statement on its own. Answers its header's hash (hex), which the next one links to.
pub fn statement(doc: &Value, keys: &Jwks) -> Result<String, Failed> {
    let header = doc
        .get("header")
        .ok_or_else(|| Failed("missing header".into()))?;
    let lines = doc
        .get("lines")
        .and_then(Value::as_array)
        .ok_or_else(|| Failed("missing lines".into()))?;
    signed_header(header, text(doc, "jws")?, keys)?;
    let leaves: Vec<merkle::Hash> = lines
        .iter()
        .map(|l| merkle::leaf_hash(jcs::canonical(&leaf_value(l)).as_bytes()))
        .collect();
    if header.get("treeSize").and_then(Value::as_u64) != Some(lines.len() as u64) {
        return fail(format!(
            "lines: {} shown, the signed treeSize says otherwise",
            lines.len()
        ));
    }
    if hex::encode(merkle::root(&leaves)) != text(header, "merkleRoot")? {
        return fail(
            "lines: they are not the signed lines (one changed, was added, removed or moved)",
        );
    }
    for (i, l) in lines.iter().enumerate() {
        claim_line(l, keys).map_err(|e| Failed(format!("line {i}: {e}")))?;
    }
    let mut sum = Decimal::ZERO;
    for l in lines {
        sum += text(l, "amount")?
            .parse::<Decimal>()
            .map_err(|_| Failed("a line's amount is not a decimal".into()))?;
    }
    let amount: Decimal = text(header, "amount")?
        .parse()
        .map_err(|_| Failed("header amount".into()))?;
    if sum != amount {
        return fail(format!(
            "amount: the lines add up to {sum}, the header says {amount}"
        ));
    }
    Ok(hex::encode(Sha256::digest(
        jcs::canonical(header).as_bytes(),
    )))
}

/// A line that names a claim: its `claimDecision` is 10x's signed approval of that claim,
/// writing this very line for this amount. Lines without one (every line of a statement made
/// before claims were shown on them) have nothing to check.
fn claim_line(line: &Value, keys: &Jwks) -> Result<(), Failed> {
    let (Some(_), Some(token)) = (line.get("claimId"), line.get("claimDecision")) else {
        if line.get("claimId").is_some() || line.get("claimDecision").is_some() {
            return fail("a claim line needs both its claimId and its claimDecision");
        }
        return Ok(());
    };
    let token = token
        .as_str()
        .ok_or_else(|| Failed("claimDecision is not a JWS".into()))?;
    let payload = jws::verify(token, crate::claims::signed::DECISION_TYP, keys)
        .map_err(|e| Failed(format!("claim decision: {e}")))?;
    let d: Value =
        serde_json::from_slice(&payload).map_err(|_| Failed("claim decision: not JSON".into()))?;
    let same = |a: &str, b: &str| d.get(a).is_some() && d.get(a) == line.get(b);
    if !same("claimId", "claimId") || d["decision"] != "approve" {
        return fail("claim decision: it is not the approval of this line's claim");
    }
    if !same("commissionId", "commissionId")
        || !same("amount", "amount")
        || !same("currency", "currency")
    {
        return fail("claim decision: it approved another line or another amount");
    }
    Ok(())
}

/// One partner's statements in order: each verifies, and each names the one before it.
pub fn chain(docs: &[Value], keys: &Jwks) -> Result<(), Failed> {
    let mut previous: Option<(String, u64)> = None;
    for (i, doc) in docs.iter().enumerate() {
        let hash = statement(doc, keys).map_err(|e| Failed(format!("statement {i}: {e}")))?;
        let header = &doc["header"];
        let sequence = header["sequence"].as_u64().unwrap_or(0);
        let linked = header["previousStatementHash"].as_str().map(str::to_owned);
        if let Some((prev_hash, prev_seq)) = &previous
            && (sequence != prev_seq + 1 || linked.as_deref() != Some(prev_hash.as_str()))
        {
            return fail(format!(
                "statement {i}: it does not follow statement {} (sequence {sequence}, chain fork or reordering)",
                i - 1
            ));
        }
        previous = Some((hash, sequence));
    }
    Ok(())
}

/// A statement read a page at a time (`limit`/`cursor`), its pages in order: each carries the
/// same signed header and JWS, each starts where the one before ended, the last has no
/// `nextCursor`; their lines together verify as one statement. Answers its header's hash.
pub fn pages(docs: &[Value], keys: &Jwks) -> Result<String, Failed> {
    let first = docs.first().ok_or_else(|| Failed("no pages".into()))?;
    let mut lines = Vec::new();
    for (i, page) in docs.iter().enumerate() {
        if page.get("header") != first.get("header") || page.get("jws") != first.get("jws") {
            return fail(format!("page {i}: not a page of the same statement"));
        }
        if page.get("offset").and_then(Value::as_u64) != Some(lines.len() as u64) {
            return fail(format!(
                "page {i}: it does not start where page {} ended (a page missing or moved)",
                i.saturating_sub(1)
            ));
        }
        let last = i + 1 == docs.len();
        if page.get("nextCursor").is_none_or(Value::is_null) != last {
            return fail(format!(
                "page {i}: its nextCursor says otherwise about what follows"
            ));
        }
        let page_lines = page.get("lines").and_then(Value::as_array);
        lines.extend(
            page_lines
                .ok_or_else(|| Failed(format!("page {i}: missing lines")))?
                .iter()
                .cloned(),
        );
    }
    let whole = serde_json::json!({
        "header": first["header"], "jws": first["jws"], "lines": lines,
    });
    statement(&whole, keys)
}

/// One page of a statement on its own: the signed header, and its lines at its `offset` under
/// the signed root by its `rangeProof`. (Its lines' sum is not the header's amount: the pages
/// together check that, [`pages`].)
pub fn page(doc: &Value, keys: &Jwks) -> Result<(), Failed> {
    let header = doc
        .get("header")
        .ok_or_else(|| Failed("missing header".into()))?;
    signed_header(header, text(doc, "jws")?, keys)?;
    let lines = doc
        .get("lines")
        .and_then(Value::as_array)
        .ok_or_else(|| Failed("missing lines".into()))?;
    let number = |v: &Value, name: &str| {
        v.get(name)
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| Failed(format!("missing {name}")))
    };
    let (offset, size) = (number(doc, "offset")?, number(header, "treeSize")?);
    let proof: Vec<merkle::Hash> = doc
        .get("rangeProof")
        .and_then(Value::as_array)
        .ok_or_else(|| Failed("missing rangeProof".into()))?
        .iter()
        .map(|p| decode_hash(p.as_str().unwrap_or("")))
        .collect::<Result<_, _>>()?;
    let leaves: Vec<merkle::Hash> = lines
        .iter()
        .map(|l| merkle::leaf_hash(jcs::canonical(&leaf_value(l)).as_bytes()))
        .collect();
    let root = merkle::root_from_range(&leaves, offset, size, &proof);
    if root.map(hex::encode).as_deref() != Some(text(header, "merkleRoot")?) {
        return fail(
            "lines: they are not the signed lines at this offset (one changed, was added, removed or moved)",
        );
    }
    Ok(())
}

/// Whether `docs` are pages of one statement (not a chain of whole statements).
fn are_pages(docs: &[Value]) -> bool {
    docs.first()
        .and_then(Value::as_object)
        .is_some_and(|o| o.contains_key("nextCursor"))
}

/// An inclusion proof: the leaf is in the tree under the signed root.
pub fn proof(doc: &Value, keys: &Jwks) -> Result<(), Failed> {
    let header = doc
        .get("header")
        .ok_or_else(|| Failed("missing header".into()))?;
    signed_header(header, text(doc, "jws")?, keys)?;
    let leaf = text(doc, "leaf")?;
    let index = doc["leafIndex"]
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| Failed("missing leafIndex".into()))?;
    let size = doc["treeSize"]
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| Failed("missing treeSize".into()))?;
    if header["treeSize"].as_u64() != Some(size as u64) {
        return fail("treeSize: not the signed tree's size");
    }
    let path: Vec<merkle::Hash> = doc["path"]
        .as_array()
        .ok_or_else(|| Failed("missing path".into()))?
        .iter()
        .map(|p| decode_hash(p.as_str().unwrap_or("")))
        .collect::<Result<_, _>>()?;
    let root = merkle::root_from_path(merkle::leaf_hash(leaf.as_bytes()), index, size, &path);
    if root.map(hex::encode).as_deref() != Some(text(header, "merkleRoot")?) {
        return fail("leaf: it is not in the signed statement at that place");
    }
    Ok(())
}

/// A conversion receipt (a compact JWS of its own type). Answers its payload.
pub fn receipt(token: &str, keys: &Jwks) -> Result<Value, Failed> {
    let payload =
        jws::verify(token, jws::RECEIPT_TYP, keys).map_err(|e| Failed(format!("receipt: {e}")))?;
    serde_json::from_slice(&payload).map_err(|_| Failed("receipt: the payload is not JSON".into()))
}

/// Whatever `doc` is: a statement, a list of statements (a chain), a proof, or a receipt (a
/// string or `{"receipt": …}`). Answers what it verified.
pub fn any(doc: &Value, keys: &Jwks) -> Result<&'static str, Failed> {
    match doc {
        Value::Array(docs) if are_pages(docs) => pages(docs, keys).map(|_| "paged statement"),
        Value::Array(docs) => chain(docs, keys).map(|()| "statement chain"),
        Value::String(token) => receipt(token, keys).map(|_| "receipt"),
        Value::Object(o) if o.contains_key("leaf") => proof(doc, keys).map(|()| "proof"),
        Value::Object(o) if o.contains_key("rangeProof") => {
            page(doc, keys).map(|()| "statement page")
        }
        Value::Object(_) if crate::claims::signed::is_decision(doc) => {
            crate::claims::signed::verify(doc, keys)
                .map(|()| "claim decision")
                .map_err(Failed)
        }
        Value::Object(o) if o.contains_key("noticeId") => crate::plans::notice::verify(doc, keys)
            .map(|()| "plan change notice")
            .map_err(Failed),
        Value::Object(o) if o.contains_key("lines") => statement(doc, keys).map(|_| "statement"),
        Value::Object(o) => match o.get("receipt").and_then(Value::as_str) {
            Some(token) => receipt(token, keys).map(|_| "receipt"),
            None => fail("not a statement, a proof, a receipt or a notice"),
        },
        _ => fail("not a statement, a proof, a receipt or a notice"),
    }
}
