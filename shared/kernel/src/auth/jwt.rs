//! JWT verification with the accepted algorithms pinned by configuration: HS256 when a shared
//! secret is configured, RS256 when a public key is. `alg: none`, an algorithm that is not
//! configured (HS/RS confusion), a missing `exp`, or a wrong issuer/audience are all 401.

use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header,
};
use serde::{Deserialize, Serialize};

use super::{AuthError, Credential, Principal, Role};

/// What a verified token contributes to the principal. `exp`, `nbf`, `iss` and `aud` are checked
/// by the validation on the raw claims, so `aud` may be a string or a list (RFC 7519 allows both).
#[derive(Deserialize)]
struct VerifiedClaims {
    sub: String,
    handles: Vec<String>,
    role: Role,
}

/// The claims this service mints (`tenx token`, tests).
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub handles: Vec<String>,
    pub role: Role,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

pub struct JwtVerifier {
    hs256: Option<(DecodingKey, Vec<u8>)>,
    rs256: Option<DecodingKey>,
    issuer: Option<String>,
    audience: Option<String>,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("hs256", &self.hs256.is_some())
            .field("rs256", &self.rs256.is_some())
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

impl JwtVerifier {
    pub fn new(
        hs256_secret: Option<Vec<u8>>,
        rs256_public_pem: Option<&str>,
        issuer: Option<String>,
        audience: Option<String>,
    ) -> anyhow::Result<Self> {
        if let Some(secret) = &hs256_secret {
            anyhow::ensure!(
                secret.len() >= 32,
                "the JWT HS256 secret must be at least 32 bytes"
            );
        }
        let rs256 = rs256_public_pem
            .map(|pem| DecodingKey::from_rsa_pem(pem.as_bytes()))
            .transpose()
            .map_err(|e| anyhow::anyhow!("invalid RS256 public key: {e}"))?;
        anyhow::ensure!(
            hs256_secret.is_some() || rs256.is_some(),
            "configure a JWT HS256 secret or an RS256 public key"
        );
        Ok(Self {
            hs256: hs256_secret.map(|s| (DecodingKey::from_secret(&s), s)),
            rs256,
            issuer,
            audience,
        })
    }

    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let invalid = || AuthError::Unauthorized("The bearer token is invalid or expired.".into());
        let header = decode_header(token).map_err(|_| invalid())?;
        let key = match header.alg {
            Algorithm::HS256 => self.hs256.as_ref().map(|(k, _)| k),
            Algorithm::RS256 => self.rs256.as_ref(),
            _ => None,
        }
        .ok_or_else(invalid)?;
        let mut validation = Validation::new(header.alg);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = 30;
        // A token that says it is not valid yet is refused too (default off in jsonwebtoken).
        validation.validate_nbf = true;
        if let Some(iss) = &self.issuer {
            validation.set_issuer(&[iss]);
            validation.required_spec_claims.insert("iss".into());
        }
        match &self.audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                validation.required_spec_claims.insert("aud".into());
            }
            None => validation.validate_aud = false,
        }
        let data = decode::<VerifiedClaims>(token, key, &validation).map_err(|_| invalid())?;
        let claims = data.claims;
        Ok(Principal {
            subject: claims.sub,
            role: claims.role,
            handles: claims.handles,
            credential: Credential::Jwt,
        })
    }

    /// Mints an HS256 token (the `tenx token` command and tests); needs the shared secret.
    pub fn mint(&self, claims: &Claims) -> anyhow::Result<String> {
        let (_, secret) = self
            .hs256
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("minting needs the HS256 secret"))?;
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(secret),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn verifier() -> JwtVerifier {
        JwtVerifier::new(Some(SECRET.to_vec()), None, None, None).unwrap()
    }

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "u1".into(),
            handles: vec!["acme".into()],
            role: Role::Creator,
            exp,
            iss: None,
            aud: None,
        }
    }

    fn now() -> i64 {
        crate::platform::time::now().unix_timestamp()
    }

    #[test]
    fn accepts_a_valid_token() {
        let v = verifier();
        let p = v.verify(&v.mint(&claims(now() + 60)).unwrap()).unwrap();
        assert_eq!(p.role, Role::Creator);
        assert_eq!(p.handles, vec!["acme".to_string()]);
    }

    #[test]
    fn refuses_expired_tampered_none_and_missing_exp() {
        let v = verifier();
        assert_eq!(
            v.verify(&v.mint(&claims(now() - 120)).unwrap())
                .unwrap_err()
                .code(),
            "unauthorized"
        );
        let good = v.mint(&claims(now() + 60)).unwrap();
        let mut tampered = good.clone();
        tampered.pop();
        tampered.push(if good.ends_with('A') { 'B' } else { 'A' });
        assert!(v.verify(&tampered).is_err());
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let payload = b64(&format!(
            r#"{{"sub":"u1","handles":["acme"],"role":"admin","exp":{}}}"#,
            now() + 60
        ));
        let none = format!("{}.{}.", b64(r#"{"alg":"none","typ":"JWT"}"#), payload);
        assert!(v.verify(&none).is_err());
        let no_exp = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &serde_json::json!({"sub":"u1","handles":["acme"],"role":"admin"}),
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        assert!(v.verify(&no_exp).is_err());
        let other = JwtVerifier::new(Some(vec![7u8; 32]), None, None, None).unwrap();
        assert!(v.verify(&other.mint(&claims(now() + 60)).unwrap()).is_err());
    }

    #[test]
    fn refuses_an_algorithm_that_is_not_configured() {
        let v = verifier();
        let hs384 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS384),
            &claims(now() + 60),
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        assert!(v.verify(&hs384).is_err());
    }

    #[test]
    fn checks_issuer_and_audience_when_configured() {
        let v = JwtVerifier::new(
            Some(SECRET.to_vec()),
            None,
            Some("tenx".into()),
            Some("api".into()),
        )
        .unwrap();
        let mut c = claims(now() + 60);
        assert!(v.verify(&v.mint(&c).unwrap()).is_err());
        c.iss = Some("tenx".into());
        c.aud = Some("api".into());
        assert!(v.verify(&v.mint(&c).unwrap()).is_ok());
        c.aud = Some("other".into());
        assert!(v.verify(&v.mint(&c).unwrap()).is_err());
    }

    // Test-only RSA key pairs (shared/tests/fixtures/README.md): ours, and a forger's.
    const RSA_PRIVATE: &str = include_str!("../../../tests/fixtures/jwt_rs256_test_private.pem");
    const RSA_PUBLIC: &str = include_str!("../../../tests/fixtures/jwt_rs256_test_public.pem");
    const OTHER_RSA_PRIVATE: &str =
        include_str!("../../../tests/fixtures/jwt_rs256_other_private.pem");

    fn rs256_only() -> JwtVerifier {
        JwtVerifier::new(None, Some(RSA_PUBLIC), None, None).unwrap()
    }

    fn sign_rs256(private_pem: &str, claims: &impl Serialize) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::RS256),
            claims,
            &EncodingKey::from_rsa_pem(private_pem.as_bytes()).unwrap(),
        )
        .unwrap()
    }

    fn sign_hs256(secret: &[u8], claims: &impl Serialize) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(secret),
        )
        .unwrap()
    }

    #[test]
    fn rs256_tokens_verify_with_the_configured_public_key() {
        let v = rs256_only();
        let p = v
            .verify(&sign_rs256(RSA_PRIVATE, &claims(now() + 60)))
            .unwrap();
        assert_eq!(p.role, Role::Creator);
        assert_eq!(p.credential, Credential::Jwt);
        // Signed by another key, expired, or without exp: refused.
        assert!(
            v.verify(&sign_rs256(OTHER_RSA_PRIVATE, &claims(now() + 60)))
                .is_err()
        );
        assert!(
            v.verify(&sign_rs256(RSA_PRIVATE, &claims(now() - 120)))
                .is_err()
        );
        let no_exp = serde_json::json!({"sub":"u1","handles":["acme"],"role":"admin"});
        assert!(v.verify(&sign_rs256(RSA_PRIVATE, &no_exp)).is_err());
        // No HS256 secret configured: minting is impossible, not silently unsigned.
        assert!(v.mint(&claims(now() + 60)).is_err());
    }

    #[test]
    fn hs_rs_confusion_is_refused_both_ways() {
        // The classic attack: HS256 "signed" with the RSA public key's PEM bytes as the secret.
        let forged = sign_hs256(RSA_PUBLIC.as_bytes(), &claims(now() + 60));
        assert_eq!(
            rs256_only().verify(&forged).unwrap_err().code(),
            "unauthorized"
        );
        // With both algorithms configured, HS256 is checked against the secret only.
        let both = JwtVerifier::new(Some(SECRET.to_vec()), Some(RSA_PUBLIC), None, None).unwrap();
        assert!(both.verify(&forged).is_err());
        assert!(
            both.verify(&sign_rs256(RSA_PRIVATE, &claims(now() + 60)))
                .is_ok()
        );
        assert!(
            both.verify(&sign_hs256(SECRET, &claims(now() + 60)))
                .is_ok()
        );
        // Vice versa: an HS256-only deployment refuses RS256 tokens, however well signed.
        let hs_only = verifier();
        assert!(
            hs_only
                .verify(&sign_rs256(RSA_PRIVATE, &claims(now() + 60)))
                .is_err()
        );
        // And an RS256-only deployment refuses HS256 tokens signed with any secret.
        assert!(
            rs256_only()
                .verify(&sign_hs256(SECRET, &claims(now() + 60)))
                .is_err()
        );
    }

    #[test]
    fn alg_none_and_other_rsa_algorithms_are_refused_when_only_rs256_is_configured() {
        let v = rs256_only();
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let payload = b64(&format!(
            r#"{{"sub":"u1","handles":["*"],"role":"admin","exp":{}}}"#,
            now() + 60
        ));
        for alg in ["none", "None", "NONE"] {
            let header = b64(&format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
            assert!(v.verify(&format!("{header}.{payload}.")).is_err(), "{alg}");
        }
        // Same key, another RSA algorithm that is not configured.
        let rs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::RS512),
            &claims(now() + 60),
            &EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap(),
        )
        .unwrap();
        assert!(v.verify(&rs512).is_err());
        // An RS256 header over an HMAC signature (signature swap) fails the RSA check.
        let hs = sign_hs256(RSA_PUBLIC.as_bytes(), &claims(now() + 60));
        let (_, rest) = hs.split_once('.').unwrap();
        let swapped = format!("{}.{rest}", b64(r#"{"alg":"RS256","typ":"JWT"}"#));
        assert!(v.verify(&swapped).is_err());
    }

    #[test]
    fn rs256_checks_issuer_and_audience_when_configured() {
        let v = JwtVerifier::new(
            None,
            Some(RSA_PUBLIC),
            Some("https://issuer.example".into()),
            Some("tenx-api".into()),
        )
        .unwrap();
        let mut c = claims(now() + 60);
        assert!(
            v.verify(&sign_rs256(RSA_PRIVATE, &c)).is_err(),
            "no iss/aud"
        );
        c.iss = Some("https://issuer.example".into());
        assert!(v.verify(&sign_rs256(RSA_PRIVATE, &c)).is_err(), "no aud");
        c.aud = Some("tenx-api".into());
        assert!(v.verify(&sign_rs256(RSA_PRIVATE, &c)).is_ok());
        c.iss = Some("https://evil.example".into());
        assert!(v.verify(&sign_rs256(RSA_PRIVATE, &c)).is_err(), "wrong iss");
        c.iss = Some("https://issuer.example".into());
        c.aud = Some("other-api".into());
        assert!(v.verify(&sign_rs256(RSA_PRIVATE, &c)).is_err(), "wrong aud");
    }

    #[test]
    fn an_audience_list_is_accepted_when_it_names_ours() {
        let v = JwtVerifier::new(Some(SECRET.to_vec()), None, None, Some("api".into())).unwrap();
        let mut c = serde_json::to_value(claims(now() + 60)).unwrap();
        c["aud"] = serde_json::json!(["billing", "api"]);
        assert!(v.verify(&sign_hs256(SECRET, &c)).is_ok());
        c["aud"] = serde_json::json!(["billing"]);
        assert!(v.verify(&sign_hs256(SECRET, &c)).is_err());
        c["aud"] = serde_json::json!([]);
        assert!(v.verify(&sign_hs256(SECRET, &c)).is_err());
    }

    #[test]
    fn not_yet_valid_tokens_are_refused() {
        let v = verifier();
        let mut c = serde_json::to_value(claims(now() + 3600)).unwrap();
        c["nbf"] = serde_json::json!(now() + 600);
        assert!(v.verify(&sign_hs256(SECRET, &c)).is_err());
        c["nbf"] = serde_json::json!(now() - 10);
        assert!(v.verify(&sign_hs256(SECRET, &c)).is_ok());
    }

    #[test]
    fn a_bad_public_key_is_refused_at_start() {
        assert!(JwtVerifier::new(None, Some("not a pem"), None, None).is_err());
        assert!(JwtVerifier::new(None, None, None, None).is_err());
    }

    #[test]
    fn short_secret_is_refused_at_start() {
        assert!(JwtVerifier::new(Some(b"short".to_vec()), None, None, None).is_err());
    }
}
