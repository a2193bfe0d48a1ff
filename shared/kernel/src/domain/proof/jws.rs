//! Ed25519 signatures as compact JWS (RFC 7515, `alg: EdDSA` per RFC 8037) with a `typ` per
//! document kind, so a receipt can never pass for a statement; the public keys as a JWKS whose
//! `kid` is the RFC 7638 thumbprint. Keys are 32-byte seeds (base64url), the first one active;
//! the others are retired: published and trusted for what they signed, never used to sign.

use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The `typ` of a payout statement's signature.
pub const STATEMENT_TYP: &str = "tenx-statement+jws";
/// The `typ` of a conversion receipt.
pub const RECEIPT_TYP: &str = "tenx-receipt+jws";
/// The `typ` of a plan change notice to a partner.
pub const NOTICE_TYP: &str = "tenx-plan-notice+jws";

/// One public key as published (RFC 8037 OKP).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub kid: String,
    #[serde(rename = "use")]
    pub use_: String,
    pub alg: String,
    /// `active` or `retired` (trusted for what it signed, no longer signing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// RFC 7638 thumbprint of an Ed25519 public key.
pub fn thumbprint(x_b64: &str) -> String {
    let canonical = format!("{{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"{x_b64}\"}}");
    B64.encode(Sha256::digest(canonical.as_bytes()))
}

struct Key {
    pair: Ed25519KeyPair,
    kid: String,
}

/// The deployment's signing keys.
pub struct ProofKeyring {
    keys: Vec<Key>,
}

impl std::fmt::Debug for ProofKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|k| k.kid.as_str()).collect();
        f.debug_struct("ProofKeyring").field("kids", &kids).finish()
    }
}

impl ProofKeyring {
    /// Parses `seed[,seed…]` (base64url 32-byte seeds, the first active).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut keys = Vec::new();
        for (i, raw) in spec
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .enumerate()
        {
            let seed = B64
                .decode(raw)
                .ok()
                .filter(|s| s.len() == 32)
                .ok_or_else(|| format!("signing key {i}: expected 32 bytes in base64url"))?;
            let pair = Ed25519KeyPair::from_seed_unchecked(&seed)
                .map_err(|_| format!("signing key {i}: not an Ed25519 seed"))?;
            let kid = thumbprint(&B64.encode(pair.public_key().as_ref()));
            keys.push(Key { pair, kid });
        }
        if keys.is_empty() {
            return Err("no signing key".into());
        }
        Ok(Self { keys })
    }

    /// A fresh key spec (one random seed).
    pub fn generate_spec() -> String {
        let mut seed = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
        B64.encode(seed)
    }

    pub fn active_kid(&self) -> &str {
        &self.keys[0].kid
    }

    /// Every key's public half, the active one first.
    pub fn jwks(&self) -> Jwks {
        let keys = self.keys.iter().enumerate().map(|(i, k)| Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: B64.encode(k.pair.public_key().as_ref()),
            kid: k.kid.clone(),
            use_: "sig".into(),
            alg: "EdDSA".into(),
            status: Some(if i == 0 { "active" } else { "retired" }.into()),
        });
        Jwks {
            keys: keys.collect(),
        }
    }

    /// A compact JWS of `payload` with the active key.
    pub fn sign(&self, typ: &str, payload: &[u8]) -> String {
        let key = &self.keys[0];
        let header = serde_json::json!({"alg": "EdDSA", "kid": key.kid, "typ": typ});
        let input = format!("{}.{}", B64.encode(header.to_string()), B64.encode(payload));
        let sig = key.pair.sign(input.as_bytes());
        format!("{input}.{}", B64.encode(sig.as_ref()))
    }
}

/// Why a JWS does not verify.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    #[error("not a compact JWS")]
    Malformed,
    #[error("the JWS is a {found}, not a {expected}")]
    WrongType { expected: String, found: String },
    #[error("no published key has kid {0}")]
    UnknownKey(String),
    #[error("the signature does not verify")]
    BadSignature,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: String,
    #[serde(default)]
    typ: String,
}

/// Verifies a compact JWS of type `typ` against `jwks`; answers its payload.
pub fn verify(token: &str, typ: &str, jwks: &Jwks) -> Result<Vec<u8>, JwsError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwsError::Malformed);
    };
    let header: Header = B64
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(JwsError::Malformed)?;
    if header.alg != "EdDSA" {
        return Err(JwsError::Malformed);
    }
    if header.typ != typ {
        return Err(JwsError::WrongType {
            expected: typ.into(),
            found: header.typ,
        });
    }
    let key = jwks
        .keys
        .iter()
        .find(|k| k.kid == header.kid && k.kty == "OKP" && k.crv == "Ed25519")
        .ok_or_else(|| JwsError::UnknownKey(header.kid.clone()))?;
    let x = B64
        .decode(&key.x)
        .map_err(|_| JwsError::UnknownKey(header.kid.clone()))?;
    if thumbprint(&key.x) != key.kid {
        return Err(JwsError::UnknownKey(header.kid));
    }
    let sig = B64.decode(s).map_err(|_| JwsError::Malformed)?;
    let input = format!("{h}.{p}");
    UnparsedPublicKey::new(&ED25519, x)
        .verify(input.as_bytes(), &sig)
        .map_err(|_| JwsError::BadSignature)?;
    B64.decode(p).map_err(|_| JwsError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_under_its_type_and_key_only() {
        let old = ProofKeyring::generate_spec();
        let keys = ProofKeyring::parse(&old).unwrap();
        let token = keys.sign(STATEMENT_TYP, b"{\"a\":1}");
        assert_eq!(
            verify(&token, STATEMENT_TYP, &keys.jwks()).unwrap(),
            b"{\"a\":1}"
        );
        assert!(matches!(
            verify(&token, RECEIPT_TYP, &keys.jwks()),
            Err(JwsError::WrongType { .. })
        ));
        let other = ProofKeyring::parse(&ProofKeyring::generate_spec()).unwrap();
        assert!(matches!(
            verify(&token, STATEMENT_TYP, &other.jwks()),
            Err(JwsError::UnknownKey(_))
        ));
        let mut forged = token.clone();
        forged.replace_range(forged.len() - 3.., "AAA");
        assert!(verify(&forged, STATEMENT_TYP, &keys.jwks()).is_err());
        // Rotation: a new active key, the old one retired, still verifies what it signed.
        let rotated =
            ProofKeyring::parse(&format!("{},{old}", ProofKeyring::generate_spec())).unwrap();
        assert_eq!(rotated.jwks().keys[1].status.as_deref(), Some("retired"));
        assert!(verify(&token, STATEMENT_TYP, &rotated.jwks()).is_ok());
        assert_ne!(rotated.active_kid(), keys.active_kid());
    }

    /// RFC 8037 appendix A: the thumbprint of its example Ed25519 key.
    #[test]
    fn the_thumbprint_matches_rfc_8037() {
        assert_eq!(
            thumbprint("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }
}
