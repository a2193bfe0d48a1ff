//! A claim's decision, signed: a compact JWS (the statements' Ed25519 keys, `typ`
//! `tenx-claim-decision+jws`) over the RFC 8785 form of the decision without its `jws`, so the
//! partner can keep it and `tenx verify` can check it offline against `/v2/public/keys`. A
//! retired key still verifies what it signed; a decision changed after signing does not.

use crate::claims::model::Decision;
use crate::domain::proof::jcs;
use crate::domain::proof::jws::{self, Jwks, ProofKeyring};

pub const DECISION_TYP: &str = "tenx-claim-decision+jws";

/// Signs `d` (its `jws` replaced).
pub fn sign(keys: &ProofKeyring, d: &mut Decision) {
    d.jws = String::new();
    let mut doc = serde_json::to_value(&*d).unwrap_or_default();
    if let Some(o) = doc.as_object_mut() {
        o.remove("jws");
    }
    d.jws = keys.sign(DECISION_TYP, jcs::canonical(&doc).as_bytes());
}

/// Checks a decision document (the decision object, or a claim holding one under `decision`):
/// its `jws` verifies as a decision's under `keys` and signs exactly the rest of it.
pub fn verify(doc: &serde_json::Value, keys: &Jwks) -> Result<(), String> {
    let doc = match doc.get("decision") {
        Some(d) if d.is_object() => d,
        _ => doc,
    };
    let token = doc
        .get("jws")
        .and_then(serde_json::Value::as_str)
        .ok_or("claim decision: missing jws")?;
    let payload =
        jws::verify(token, DECISION_TYP, keys).map_err(|e| format!("claim decision: {e}"))?;
    let mut rest = doc.clone();
    if let Some(o) = rest.as_object_mut() {
        o.remove("jws");
    }
    if payload != jcs::canonical(&rest).into_bytes() {
        return Err("claim decision: it is not the decision that was signed".into());
    }
    Ok(())
}

/// Whether `doc` looks like a decision (or a claim with one), for `tenx verify`.
pub fn is_decision(doc: &serde_json::Value) -> bool {
    let d = doc.get("decision").filter(|d| d.is_object()).unwrap_or(doc);
    d.get("claimId").is_some() && d.get("jws").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::model::Verdict;
    use crate::domain::time::Timestamp;
    use crate::domain::{ClaimId, PartnerId};

    /// Decisions signed before partners were named by their names (issue 62) carry ids in their
    /// words: they are kept as signed, and still verify as stored; changed, they do not.
    #[test]
    fn a_decision_in_its_older_words_still_verifies() {
        let keys = ProofKeyring::parse(&ProofKeyring::generate_spec()).unwrap();
        let mut older = Decision {
            claim_id: ClaimId::new(),
            handle: crate::domain::Handle::parse("acme").unwrap(),
            partner_id: PartnerId::parse("pub-one").unwrap(),
            decision: Verdict::Approve,
            reason: "The sale is credited to partner pub-two.".into(),
            decided_at: Timestamp::from_millis(1_790_000_000_000),
            decided_by: "system".into(),
            overdue: false,
            amount: Some("10.00".into()),
            currency: None,
            commission_id: None,
            reversed_commission_id: None,
            binding: Some("Customer buyer-7 moved from partner pub-two to partner pub-one.".into()),
            jws: String::new(),
        };
        sign(&keys, &mut older);
        // As stored and answered: a claim holding it, read back.
        let stored = serde_json::json!({"claimId": older.claim_id, "decision": older});
        let jwks = keys.jwks();
        assert_eq!(verify(&stored, &jwks), Ok(()));
        let mut changed = stored.clone();
        changed["decision"]["binding"] =
            serde_json::json!("Customer buyer-7 moved from Ana's shop to Bo's blog.");
        assert!(verify(&changed, &jwks).is_err());
    }
}
