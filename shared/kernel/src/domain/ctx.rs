//! The click-context token (`ctx`) handed to the destination on redirect and presented back with
//! conversions. It is verifiable without a database read: an HMAC-SHA256 over a compact payload,
//! with a key id so keys can rotate and an expiry (the attribution window).
//!
//! Format: `{kid}.{base64url(payload)}.{base64url(hmac(key, "{kid}.{payload_b64}"))}`, no padding.
//! The payload is a JSON array (no field names) to keep URLs short.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::{Attribution, CampaignId, ClickId, Device, DomainError, Handle, Slug, SubIds};

type HmacSha256 = Hmac<Sha256>;

/// Longest token considered at all; anything longer is refused before any work is done.
pub const MAX_CTX_TOKEN_LEN: usize = 2048;
/// Smallest accepted key: HMAC-SHA256 gains nothing from more, and loses strength with less.
pub const MIN_CTX_KEY_BYTES: usize = 32;
/// Payload layout version, the first array element; bump when the layout changes.
const PAYLOAD_VERSION: u8 = 1;
/// Field name used in keyring configuration errors.
const CONFIG_FIELD: &str = "ctxKeys";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CtxClaims {
    pub click_id: ClickId,
    pub handle: Handle,
    pub slug: Slug,
    pub campaign_id: Option<CampaignId>,
    #[serde(flatten)]
    pub attribution: Attribution,
    /// Unix seconds.
    pub issued_at: i64,
    /// Unix seconds; the token is invalid from this instant on.
    pub expires_at: i64,
    /// The partner's `sub1` … `sub5` from the short URL.
    #[serde(default)]
    pub sub_ids: SubIds,
    /// A console "try the redirect" click, not a visitor's: its conversions are test ones, never
    /// counted or paid.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub test: bool,
    /// A keyed digest of the visitor's address ([`CtxKeyring::address_digest`]): partner risk
    /// (issue 46) groups a partner's conversions by the address behind their clicks. `None` on
    /// tokens minted before it existed, and where no address is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_hash: Option<String>,
    /// The visitor's keyed fingerprint ([`CtxKeyring::fingerprint`] of its visitor id), humans
    /// only: partner risk tells a sale made from a browser the partner's people sign in from.
    /// `None` on tokens minted before it existed, and on bots' clicks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_hash: Option<String>,
}

/// What tokens minted before a field existed read as.
fn unknown() -> String {
    "unknown".to_owned()
}

/// The wire payload: `[version, clickId, handle, slug, campaignId, country, device, source,
/// issuedAt, expiresAt, referrer, segment, [sub1 … sub5], test?, addressHash?, variant?,
/// visitorHash?]`: the test flag (`1`) only on a test click's token or before an address hash
/// (then `0`), the address hash (or `null`) only before a variant, the variant (or `null`) only
/// before a visitor hash, so a token without them pays nothing for them. Fields are only ever
/// appended, so
/// tokens minted before a field existed stay valid (see [`PayloadIn`]).
/// Borrowed from the claims: signing (on every human click) copies no string.
type Payload<'a> = (
    u8,
    &'a str,
    &'a str,
    &'a str,
    Option<&'a str>,
    &'a str,
    &'a str,
    &'a str,
    i64,
    i64,
    &'a str,
    &'a str,
    &'a [Option<String>],
);

/// The payload as read: a JSON array whose trailing, later-added elements may be missing.
#[derive(Deserialize)]
struct PayloadIn(
    u8,
    // Typed: a payload whose ids are not well formed is malformed (we never sign one).
    ClickId,
    Handle,
    Slug,
    Option<CampaignId>,
    String,
    String,
    String,
    i64,
    i64,
    #[serde(default = "unknown")] String,
    #[serde(default = "unknown")] String,
    #[serde(default)] Vec<Option<String>>,
    #[serde(default)] u8,
    #[serde(default)] Option<String>,
    #[serde(default)] Option<String>,
    #[serde(default)] Option<String>,
);

/// [`PayloadIn`] and then whatever elements a newer signer appended, skipped: during a deploy a
/// token minted by a newer redirect reaches an older conversions function, which reads the
/// fields it knows (the signature, checked first, still covers every byte). A known field of
/// the wrong type stays malformed.
struct LenientPayload(PayloadIn);

impl<'de> Deserialize<'de> for LenientPayload {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Elements;
        impl<'de> serde::de::Visitor<'de> for Elements {
            type Value = LenientPayload;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the ctx payload array")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<LenientPayload, A::Error> {
                let known =
                    PayloadIn::deserialize(serde::de::value::SeqAccessDeserializer::new(&mut seq))?;
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(LenientPayload(known))
            }
        }
        deserializer.deserialize_seq(Elements)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CtxError {
    #[error("the ctx token is malformed")]
    Malformed,
    #[error("the ctx token was signed with a key this service does not know")]
    UnknownKey,
    #[error("the ctx token's signature does not match; it was altered or forged")]
    BadSignature,
    #[error("the ctx token has expired")]
    Expired,
}

/// Signing and verification keys. The active key signs; every key verifies, so tokens signed
/// before a rotation stay valid until they expire.
#[derive(Clone)]
pub struct CtxKeyring {
    /// Index of the signing key in `keys`.
    active: usize,
    /// `(kid, MAC keyed once)`: cloning a keyed MAC is cheaper than re-keying per token.
    keys: Vec<(String, HmacSha256)>,
}

// Hand-written so key material can never reach a log.
impl fmt::Debug for CtxKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("CtxKeyring")
            .field("active_kid", &self.active_kid())
            .field("kids", &kids)
            .finish_non_exhaustive()
    }
}

impl CtxKeyring {
    pub fn new(active_kid: &str, keys: Vec<(String, Vec<u8>)>) -> Result<Self, DomainError> {
        if keys.is_empty() {
            return Err(DomainError::new(
                CONFIG_FIELD,
                "must contain at least one key",
            ));
        }
        let mut ring = Vec::with_capacity(keys.len());
        for (kid, key) in keys {
            check_kid(&kid)?;
            if ring.iter().any(|(k, _)| k == &kid) {
                return Err(DomainError::new(
                    CONFIG_FIELD,
                    format!("key id '{kid}' appears more than once"),
                ));
            }
            if key.len() < MIN_CTX_KEY_BYTES {
                return Err(DomainError::new(
                    CONFIG_FIELD,
                    format!("key '{kid}' must be at least {MIN_CTX_KEY_BYTES} bytes"),
                ));
            }
            let mac = HmacSha256::new_from_slice(&key).map_err(|_| {
                DomainError::new(CONFIG_FIELD, format!("key '{kid}' cannot be used for HMAC"))
            })?;
            ring.push((kid, mac));
        }
        let active = ring
            .iter()
            .position(|(k, _)| k == active_kid)
            .ok_or_else(|| {
                DomainError::new(
                    CONFIG_FIELD,
                    format!("the active key id '{active_kid}' is not among the keys"),
                )
            })?;
        Ok(Self { active, keys: ring })
    }

    /// Parse `kid:base64key[,kid:base64key…]`; the first entry signs, the rest only verify.
    /// Standard or URL-safe base64, padded or not, is accepted.
    pub fn parse(spec: &str) -> Result<Self, DomainError> {
        let mut keys = Vec::new();
        for (i, entry) in spec.split(',').map(str::trim).enumerate() {
            let (kid, b64) = entry.split_once(':').ok_or_else(|| {
                DomainError::new(
                    CONFIG_FIELD,
                    format!("entry {} must look like kid:base64key", i + 1),
                )
            })?;
            let (kid, b64) = (kid.trim(), b64.trim());
            let key = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
                .iter()
                .find_map(|engine| engine.decode(b64).ok())
                .ok_or_else(|| {
                    // Never echo the key material itself.
                    DomainError::new(CONFIG_FIELD, format!("key '{kid}' is not valid base64"))
                })?;
            keys.push((kid.to_owned(), key));
        }
        let active = keys.first().map(|(k, _)| k.clone()).unwrap_or_default();
        Self::new(&active, keys)
    }

    /// A fresh single-key spec (`k1:<base64 of 32 random bytes>`) for first-time setup.
    pub fn generate_spec() -> String {
        let mut key = [0u8; MIN_CTX_KEY_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut key);
        format!("k1:{}", STANDARD.encode(key))
    }

    pub fn active_kid(&self) -> &str {
        &self.keys[self.active].0
    }

    /// A keyed digest of an email address (issue 44: kept only hashed): `{kid}:{hex
    /// HMAC-SHA256}` under the active key, over a label of its own so it can never stand for a
    /// ctx signature. Over the address's comparison form ([`super::email::key_of`]: NFC, lower
    /// case, no `+tag`, issue 57), so the self-referral check compares a customer's email with
    /// its partner's by the rule applications are deduplicated by.
    pub fn email_digest(&self, email: &str) -> String {
        let (kid, mac) = &self.keys[self.active];
        let mut mac = mac.clone();
        mac.update(b"tenx customer email\n");
        mac.update(super::email::key_of(email).as_bytes());
        format!("{kid}:{}", hex::encode(mac.finalize().into_bytes()))
    }

    /// A keyed digest of a visitor's address: 16 hex digits (64 bits) of HMAC-SHA256 under the
    /// active key with a label of its own. Enough to tell addresses apart within one partner's
    /// conversions, and no address can be read back from it.
    pub fn address_digest(&self, address: &str) -> String {
        let (_, mac) = &self.keys[self.active];
        let mut mac = mac.clone();
        mac.update(b"tenx visitor address\n");
        mac.update(address.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..8])
    }

    /// A visitor's fingerprint: 16 hex digits (64 bits) of HMAC-SHA256 of its visitor id (the
    /// visitor cookie's, else [`Self::visitor_digest`]) under the active key with a label of its
    /// own. Partner risk compares a sale's browser with the ones the partner's people sign in
    /// from by it; neither the cookie nor the id can be read back from it.
    pub fn fingerprint(&self, visitor_id: &str) -> String {
        let (_, mac) = &self.keys[self.active];
        let mut mac = mac.clone();
        mac.update(b"tenx visitor fingerprint\n");
        mac.update(visitor_id.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..8])
    }

    /// A visitor without the visitor cookie, as the A/B split knows it: 32 hex digits of
    /// HMAC-SHA256 of its address and User-Agent under the active key with a label of its own.
    /// Also the value of the cookie minted for it, so its first visit and the next ones (with
    /// the cookie) land on the same variant.
    pub fn visitor_digest(&self, address: &str, user_agent: &[u8]) -> String {
        let (_, mac) = &self.keys[self.active];
        let mut mac = mac.clone();
        mac.update(b"tenx visitor\n");
        mac.update(address.as_bytes());
        mac.update(b"\n");
        mac.update(user_agent);
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// A visitor's place in a link's A/B split, `0..100`: a keyed digest of the visitor's id and
    /// the link, so it is the same on every visit, differs from link to link, and cannot be
    /// steered by a visitor who does not know the key. No store read.
    pub fn variant_bucket(&self, visitor: &str, handle: &str, slug: &str) -> u8 {
        let (_, mac) = &self.keys[self.active];
        let mut mac = mac.clone();
        mac.update(b"tenx ab variant\n");
        mac.update(handle.as_bytes());
        mac.update(b"/");
        mac.update(slug.as_bytes());
        mac.update(b"\n");
        mac.update(visitor.as_bytes());
        let bytes = mac.finalize().into_bytes();
        let head = u64::from_be_bytes(bytes[..8].try_into().expect("a SHA-256 MAC has 32 bytes"));
        // 2^64 mod 100 = 16: the bias toward low buckets is ~1e-18, nothing to correct.
        u8::try_from(head % 100).expect("below 100")
    }

    /// A checkout's short reference for a click (issue 45): 22 characters of `[A-Za-z0-9_-]`,
    /// a keyed digest of the click id under the active key with a label of its own, so the
    /// same click always answers the same ref and no ref can be guessed from a click id.
    pub fn ref_of(&self, click_id: &str) -> String {
        let (_, mac) = &self.keys[self.active];
        let mut mac = mac.clone();
        mac.update(b"tenx checkout ref\n");
        mac.update(click_id.as_bytes());
        URL_SAFE_NO_PAD.encode(&mac.finalize().into_bytes()[..16])
    }

    /// A tag over `data` under the active key with a `label` of its own (so it can stand for
    /// nothing else the keyring signs): `{kid}.{22 chars}`, 128 bits of HMAC-SHA256. Used for
    /// tokens that only this service reads back (a mail's unsubscribe link, issue 59).
    pub fn tag(&self, label: &str, data: &[u8]) -> String {
        let (kid, mac) = &self.keys[self.active];
        format!("{kid}.{}", Self::tag_with(mac, label, data))
    }

    /// Whether `tag` is [`Self::tag`] of `data` under `label` by any key of the ring (a key
    /// retired since still verifies what it signed), compared in constant time.
    pub fn verify_tag(&self, label: &str, data: &[u8], tag: &str) -> bool {
        let Some((kid, given)) = tag.split_once('.') else {
            return false;
        };
        let Some((_, mac)) = self.keys.iter().find(|(k, _)| k == kid) else {
            return false;
        };
        let Ok(given) = URL_SAFE_NO_PAD.decode(given) else {
            return false;
        };
        let mut mac = mac.clone();
        mac.update(label.as_bytes());
        mac.update(b"\n");
        mac.update(data);
        mac.verify_truncated_left(&given).is_ok() && given.len() == 16
    }

    fn tag_with(mac: &HmacSha256, label: &str, data: &[u8]) -> String {
        let mut mac = mac.clone();
        mac.update(label.as_bytes());
        mac.update(b"\n");
        mac.update(data);
        URL_SAFE_NO_PAD.encode(&mac.finalize().into_bytes()[..16])
    }

    pub fn sign(&self, claims: &CtxClaims) -> String {
        let (kid, mac) = &self.keys[self.active];
        let payload: Payload<'_> = (
            PAYLOAD_VERSION,
            claims.click_id.as_str(),
            claims.handle.as_str(),
            claims.slug.as_str(),
            claims.campaign_id.as_ref().map(CampaignId::as_str),
            &claims.attribution.country,
            claims.attribution.device.as_str(),
            &claims.attribution.source,
            claims.issued_at,
            claims.expires_at,
            &claims.attribution.referrer,
            &claims.attribution.segment,
            claims.sub_ids.to_wire(),
        );
        let mut json = serde_json::to_vec(&payload).expect("strings and integers always serialize");
        // The array's closing bracket becomes `,1]` (the trailing test flag), or `,{0|1},"…"]`
        // with the address hash (hex digits: nothing to escape), then `,"…"]` with a variant
        // (`{index}@{unix}`: digits and `@`, nothing to escape either), then `,"…"]` with a
        // visitor hash (hex digits again).
        let variant = claims.attribution.variant.as_deref();
        let visitor = claims.visitor_hash.as_deref();
        match (&claims.address_hash, claims.test, variant, visitor) {
            (None, false, None, None) => {}
            (None, true, None, None) => {
                json.pop();
                json.extend_from_slice(b",1]");
            }
            (hash, test, variant, visitor) => {
                json.pop();
                json.extend_from_slice(if test { b",1," } else { b",0," });
                push_str_or_null(&mut json, hash.as_deref(), u8::is_ascii_hexdigit);
                if variant.is_some() || visitor.is_some() {
                    json.push(b',');
                    push_str_or_null(&mut json, variant, |b| b.is_ascii_digit() || *b == b'@');
                }
                if visitor.is_some() {
                    json.push(b',');
                    push_str_or_null(&mut json, visitor, u8::is_ascii_hexdigit);
                }
                json.push(b']');
            }
        }
        let mut token = String::with_capacity(kid.len() + json.len() * 4 / 3 + 48);
        token.push_str(kid);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&json, &mut token);
        let mut mac = mac.clone();
        mac.update(token.as_bytes());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(mac.finalize().into_bytes(), &mut token);
        token
    }

    /// Check the token's structure, key, signature (constant time) and expiry, in that order.
    /// The payload is only parsed once the signature proves we wrote it.
    pub fn verify(&self, token: &str, now_unix: i64) -> Result<CtxClaims, CtxError> {
        if token.is_empty() || token.len() > MAX_CTX_TOKEN_LEN {
            return Err(CtxError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(kid), Some(payload_b64), Some(sig_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(CtxError::Malformed);
        };
        if kid.is_empty() || payload_b64.is_empty() || sig_b64.is_empty() {
            return Err(CtxError::Malformed);
        }
        let (_, mac) = self
            .keys
            .iter()
            .find(|(k, _)| k == kid)
            .ok_or(CtxError::UnknownKey)?;
        let sig = URL_SAFE_NO_PAD
            .decode(sig_b64)
            .map_err(|_| CtxError::Malformed)?;
        let signed = &token[..kid.len() + 1 + payload_b64.len()];
        let mut mac = mac.clone();
        mac.update(signed.as_bytes());
        mac.verify_slice(&sig).map_err(|_| CtxError::BadSignature)?;

        let json = URL_SAFE_NO_PAD
            .decode(payload_b64)
            .map_err(|_| CtxError::Malformed)?;
        let LenientPayload(p) = serde_json::from_slice(&json).map_err(|_| CtxError::Malformed)?;
        if p.0 != PAYLOAD_VERSION {
            return Err(CtxError::Malformed);
        }
        let claims = CtxClaims {
            click_id: p.1,
            handle: p.2,
            slug: p.3,
            campaign_id: p.4,
            attribution: Attribution {
                country: p.5,
                // Only names from `Device::as_str` are ever signed.
                device: Device::parse(&p.6).unwrap_or(Device::Other),
                source: p.7,
                referrer: p.10,
                segment: p.11,
                variant: p.15,
            },
            issued_at: p.8,
            expires_at: p.9,
            sub_ids: SubIds::from_wire(p.12),
            test: p.13 == 1,
            address_hash: p.14,
            visitor_hash: p.16,
        };
        if claims.expires_at <= now_unix {
            return Err(CtxError::Expired);
        }
        Ok(claims)
    }
}

/// `"…"` of the bytes of `value` that `keep` keeps (the signer's own digests and tags: nothing
/// to escape), or `null`.
fn push_str_or_null(json: &mut Vec<u8>, value: Option<&str>, keep: impl Fn(&u8) -> bool) {
    match value {
        Some(v) => {
            json.push(b'"');
            json.extend(v.bytes().filter(keep));
            json.push(b'"');
        }
        None => json.extend_from_slice(b"null"),
    }
}

/// Key ids appear in every token, so they are short and URL-safe (and never contain `.`).
fn check_kid(kid: &str) -> Result<(), DomainError> {
    let ok = (1..=16).contains(&kid.len())
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(DomainError::new(
            CONFIG_FIELD,
            format!("key id '{kid}' must be 1 to 16 characters of letters, digits, '_' or '-'"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn claims() -> CtxClaims {
        CtxClaims {
            click_id: ClickId::parse("clk_0190aa00000070008000000000000001").unwrap(),
            handle: Handle::parse("acme").unwrap(),
            slug: Slug::parse("spring-sale").unwrap(),
            campaign_id: Some(CampaignId::parse("spring_25").unwrap()),
            attribution: Attribution {
                country: "DE".into(),
                device: Device::Mobile,
                source: "news \"letter\" ✉".into(),
                referrer: "news.example.com".into(),
                segment: "returning-mobile".into(),
                variant: None,
            },
            issued_at: NOW,
            expires_at: NOW + 90 * 86_400,
            sub_ids: Default::default(),
            test: false,
            address_hash: None,
            visitor_hash: None,
        }
    }

    fn ring(kid: &str, byte: u8) -> CtxKeyring {
        CtxKeyring::new(kid, vec![(kid.to_owned(), vec![byte; 32])]).unwrap()
    }

    #[test]
    fn address_digests_tell_addresses_apart_and_depend_on_the_key() {
        let r = ring("k1", 7);
        let a = r.address_digest("203.0.113.7");
        assert_eq!(a.len(), 16);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(a, r.address_digest("203.0.113.7"));
        assert_ne!(a, r.address_digest("203.0.113.8"));
        assert_ne!(a, ring("k1", 8).address_digest("203.0.113.7"));
    }

    #[test]
    fn fingerprints_tell_visitors_apart_and_stand_for_nothing_else() {
        let r = ring("k1", 7);
        let id = "0123456789abcdef0123456789abcdef";
        let f = r.fingerprint(id);
        assert_eq!(f.len(), 16);
        assert!(f.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(f, r.fingerprint(id));
        assert_ne!(f, r.fingerprint("0123456789abcdef0123456789abcdee"));
        assert_ne!(f, ring("k1", 8).fingerprint(id));
        // Its own label: never the address digest of the same text, nor the id itself.
        assert_ne!(f, r.address_digest(id));
        assert!(!id.contains(&f));
    }

    /// The payload of a token, as signed.
    fn payload_of(token: &str) -> serde_json::Value {
        let b64 = token.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(b64).unwrap()).unwrap()
    }

    /// A token of the layout before the visitor hash (test flag, address hash, variant last)
    /// verifies and reads as no visitor hash; and a token without one is still signed in that
    /// layout, byte for byte, so verifiers that predate the field read it too.
    #[test]
    fn tokens_minted_before_the_visitor_hash_stay_valid_and_read_as_none() {
        let r = ring("k1", 7);
        let c = CtxClaims {
            test: true,
            address_hash: Some(r.address_digest("203.0.113.7")),
            attribution: Attribution {
                variant: Some("0@1764000000".into()),
                ..claims().attribution
            },
            ..claims()
        };
        let token = r.sign(&c);
        let payload = payload_of(&token);
        assert_eq!(payload.as_array().unwrap().len(), 16, "{payload}");
        let legacy = r.verify(&sign_raw(&r, &payload), NOW).unwrap();
        assert_eq!(legacy.visitor_hash, None);
        assert_eq!(legacy, c);
        for short in [
            claims(),
            CtxClaims {
                test: true,
                ..claims()
            },
        ] {
            let n = payload_of(&r.sign(&short)).as_array().unwrap().len();
            assert_eq!(
                n,
                13 + usize::from(short.test),
                "no field pays for what it lacks"
            );
        }
        // With a visitor hash and nothing before it: the fields in between are null.
        let only = CtxClaims {
            visitor_hash: Some(r.fingerprint("0123456789abcdef0123456789abcdef")),
            ..claims()
        };
        let payload = payload_of(&r.sign(&only));
        let tail = &payload.as_array().unwrap()[13..];
        assert_eq!(
            tail,
            [
                serde_json::json!(0),
                serde_json::Value::Null,
                serde_json::Value::Null,
                serde_json::json!(only.visitor_hash)
            ]
        );
    }

    #[test]
    fn round_trip() {
        let r = ring("k1", 7);
        for c in [
            claims(),
            CtxClaims {
                campaign_id: None,
                ..claims()
            },
            CtxClaims {
                test: true,
                ..claims()
            },
            CtxClaims {
                address_hash: Some(r.address_digest("203.0.113.7")),
                ..claims()
            },
            CtxClaims {
                test: true,
                address_hash: Some(r.address_digest("2001:db8::1")),
                ..claims()
            },
            CtxClaims {
                attribution: Attribution {
                    variant: Some("2@1764000000".into()),
                    ..claims().attribution
                },
                ..claims()
            },
            CtxClaims {
                test: true,
                address_hash: Some(r.address_digest("203.0.113.7")),
                attribution: Attribution {
                    variant: Some("0@1764000000".into()),
                    ..claims().attribution
                },
                ..claims()
            },
            CtxClaims {
                visitor_hash: Some(r.fingerprint("0123456789abcdef0123456789abcdef")),
                ..claims()
            },
            CtxClaims {
                test: true,
                visitor_hash: Some(r.fingerprint("0123456789abcdef0123456789abcdef")),
                ..claims()
            },
            CtxClaims {
                address_hash: Some(r.address_digest("203.0.113.7")),
                visitor_hash: Some(r.fingerprint("0123456789abcdef0123456789abcdef")),
                ..claims()
            },
            CtxClaims {
                visitor_hash: Some(r.fingerprint("0123456789abcdef0123456789abcdef")),
                attribution: Attribution {
                    variant: Some("1@1764000000".into()),
                    ..claims().attribution
                },
                ..claims()
            },
            CtxClaims {
                test: true,
                address_hash: Some(r.address_digest("2001:db8::1")),
                visitor_hash: Some(r.fingerprint("0123456789abcdef0123456789abcdef")),
                attribution: Attribution {
                    variant: Some("0@1764000000".into()),
                    ..claims().attribution
                },
                ..claims()
            },
        ] {
            let token = r.sign(&c);
            assert!(token.starts_with("k1."));
            assert_eq!(token.split('.').count(), 3);
            assert!(
                token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
                "{token}"
            );
            assert!(token.len() < 400, "compact: {} bytes", token.len());
            assert_eq!(r.verify(&token, NOW), Ok(c));
        }
    }

    /// The longest claims the redirect can sign: every id at its longest, and every free-text
    /// part (source, referrer, five sub-ids) cleaned from input made to grow under JSON (quotes)
    /// and from four-byte characters. The token fits its bound, so it always verifies.
    #[test]
    fn the_longest_claims_the_redirect_signs_fit_the_token_bound() {
        let r = ring(&"k".repeat(16), 9);
        for nasty in ["\"", "𝔘", "日", "\\"] {
            let text = nasty.repeat(400);
            let query: String = (1..=5)
                .map(|i| {
                    format!(
                        "sub{i}={}&",
                        url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>()
                    )
                })
                .collect();
            let host = format!("{}.example", "a".repeat(300));
            let c = CtxClaims {
                handle: Handle::parse(&"h".repeat(32)).unwrap(),
                slug: Slug::parse(&"s".repeat(64)).unwrap(),
                campaign_id: Some(CampaignId::parse(&"c".repeat(64)).unwrap()),
                attribution: Attribution {
                    country: "unknown".into(),
                    device: Device::Desktop,
                    source: crate::domain::click_source(Some(&text), None, None),
                    referrer: crate::domain::referrer_host(Some(&format!("https://{host}/")))
                        .unwrap(),
                    segment: "returning-desktop".into(),
                    variant: None,
                },
                issued_at: i64::MAX / 2,
                expires_at: i64::MAX / 2 + 1,
                sub_ids: SubIds::from_query(Some(&query)),
                test: true,
                ..claims()
            };
            assert_eq!(c.sub_ids.to_wire().len(), 5, "{nasty}");
            let token = r.sign(&c);
            assert!(
                token.len() <= MAX_CTX_TOKEN_LEN,
                "{nasty}: {} bytes",
                token.len()
            );
            assert_eq!(r.verify(&token, i64::MAX / 2), Ok(c), "{nasty}");
        }
    }

    /// A token signed by `r` over an arbitrary payload (to mint legacy layouts).
    fn sign_raw(r: &CtxKeyring, payload: &serde_json::Value) -> String {
        let (kid, mac) = &r.keys[r.active];
        let body = format!(
            "{kid}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(payload).unwrap())
        );
        let mut m = mac.clone();
        m.update(body.as_bytes());
        format!(
            "{body}.{}",
            URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())
        )
    }

    #[test]
    fn tokens_minted_before_referrer_and_segment_stay_valid() {
        let r = ring("k1", 8);
        let c = claims();
        let legacy = serde_json::json!([
            1,
            c.click_id,
            c.handle,
            c.slug,
            c.campaign_id,
            c.attribution.country,
            c.attribution.device,
            c.attribution.source,
            c.issued_at,
            c.expires_at
        ]);
        let got = r.verify(&sign_raw(&r, &legacy), NOW).unwrap();
        assert_eq!(
            got,
            CtxClaims {
                attribution: Attribution {
                    referrer: "unknown".into(),
                    segment: "unknown".into(),
                    ..c.attribution.clone()
                },
                ..c.clone()
            }
        );
        // Ids that are not well formed, even correctly signed, are malformed: a claim's handle
        // ends up in store keys.
        let evil = serde_json::json!([
            1,
            c.click_id,
            "H#evil",
            c.slug,
            c.campaign_id,
            c.attribution.country,
            c.attribution.device,
            c.attribution.source,
            c.issued_at,
            c.expires_at
        ]);
        assert_eq!(
            r.verify(&sign_raw(&r, &evil), NOW),
            Err(CtxError::Malformed)
        );
        // Too few elements, or a known one of the wrong type (a string at the test flag's place),
        // even correctly signed, are malformed.
        let short = serde_json::json!([1, c.click_id, c.handle]);
        assert_eq!(
            r.verify(&sign_raw(&r, &short), NOW),
            Err(CtxError::Malformed)
        );
        let long = serde_json::json!([
            1,
            c.click_id,
            c.handle,
            c.slug,
            c.campaign_id,
            c.attribution.country,
            c.attribution.device,
            c.attribution.source,
            c.issued_at,
            c.expires_at,
            c.attribution.referrer,
            c.attribution.segment,
            [],
            "extra"
        ]);
        assert_eq!(
            r.verify(&sign_raw(&r, &long), NOW),
            Err(CtxError::Malformed)
        );
    }

    #[test]
    fn fields_a_newer_signer_appended_are_skipped_and_still_signed() {
        let r = ring("k1", 8);
        let c = claims();
        let serde_json::Value::Array(mut payload) = payload_of(&r.sign(&c)) else {
            panic!("the payload is an array")
        };
        // Every field this version knows, then two it does not.
        while payload.len() < 17 {
            let absent = if payload.len() == 13 {
                0.into()
            } else {
                serde_json::Value::Null
            };
            payload.push(absent);
        }
        payload.push("a later field".into());
        payload.push(serde_json::json!({"nested": [1, 2, {"deeper": null}]}));
        let newer = sign_raw(&r, &serde_json::Value::Array(payload.clone()));
        assert_eq!(r.verify(&newer, NOW), Ok(c.clone()));
        // The unknown bytes are signed like the rest: changing them breaks the signature.
        payload[17] = "changed".into();
        let changed = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap());
        let parts: Vec<&str> = newer.split('.').collect();
        let forged = format!("{}.{changed}.{}", parts[0], parts[2]);
        assert_eq!(r.verify(&forged, NOW), Err(CtxError::BadSignature));
        // A known field of the wrong type is still malformed, extra fields or not.
        payload[13] = "yes".into();
        assert_eq!(
            r.verify(&sign_raw(&r, &serde_json::Value::Array(payload)), NOW),
            Err(CtxError::Malformed)
        );
        // And an object where the array belongs.
        let object = serde_json::json!({"0": 1});
        assert_eq!(
            r.verify(&sign_raw(&r, &object), NOW),
            Err(CtxError::Malformed)
        );
    }

    #[test]
    fn tampering_is_detected() {
        let r = CtxKeyring::new(
            "k1",
            vec![("k1".into(), vec![1; 32]), ("k2".into(), vec![2; 32])],
        )
        .unwrap();
        let token = r.sign(&claims());
        let parts: Vec<&str> = token.split('.').collect();
        let flip = |s: &str| {
            let mut b = s.as_bytes().to_vec();
            b[3] = if b[3] == b'A' { b'B' } else { b'A' };
            String::from_utf8(b).unwrap()
        };
        let forged_payload = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&(
                1,
                "x",
                "evil",
                "s",
                None::<String>,
                "US",
                "desktop",
                "d",
                NOW,
                i64::MAX,
            ))
            .unwrap(),
        );
        let cases = [
            (
                format!("{}.{}.{}", parts[0], flip(parts[1]), parts[2]),
                CtxError::BadSignature,
            ),
            (
                format!("{}.{}.{}", parts[0], parts[1], flip(parts[2])),
                CtxError::BadSignature,
            ),
            (
                format!("{}.{}.{}", parts[0], forged_payload, parts[2]),
                CtxError::BadSignature,
            ),
            (
                format!("k2.{}.{}", parts[1], parts[2]),
                CtxError::BadSignature,
            ),
            (
                format!("k9.{}.{}", parts[1], parts[2]),
                CtxError::UnknownKey,
            ),
            (
                format!("{}.{}.{}", parts[0], parts[1], &parts[2][..20]),
                CtxError::BadSignature,
            ),
            (
                format!("{}.{}.{}!", parts[0], parts[1], parts[2]),
                CtxError::Malformed,
            ),
            (format!("{}.{}", parts[0], parts[1]), CtxError::Malformed),
            (token[..token.len() / 2].to_owned(), CtxError::Malformed),
            (format!("{token}.extra"), CtxError::Malformed),
        ];
        for (t, want) in cases {
            assert_eq!(r.verify(&t, NOW), Err(want), "{t}");
        }
    }

    #[test]
    fn foreign_key_is_refused() {
        let ours = ring("k1", 1);
        let theirs = ring("k1", 2);
        assert_eq!(
            ours.verify(&theirs.sign(&claims()), NOW),
            Err(CtxError::BadSignature)
        );
        assert_eq!(
            ours.verify(&ring("zz", 1).sign(&claims()), NOW),
            Err(CtxError::UnknownKey)
        );
    }

    #[test]
    fn rotation_keeps_old_tokens_valid() {
        let old = ring("k1", 1);
        let old_token = old.sign(&claims());
        let rotated = CtxKeyring::new(
            "k2",
            vec![("k1".into(), vec![1; 32]), ("k2".into(), vec![2; 32])],
        )
        .unwrap();
        assert_eq!(rotated.active_kid(), "k2");
        assert_eq!(rotated.verify(&old_token, NOW), Ok(claims()));
        let new_token = rotated.sign(&claims());
        assert!(new_token.starts_with("k2."));
        assert_eq!(rotated.verify(&new_token, NOW), Ok(claims()));
        // The old ring, not knowing k2, cannot verify new tokens.
        assert_eq!(old.verify(&new_token, NOW), Err(CtxError::UnknownKey));
        // Retiring k1 ends its tokens.
        let retired = ring("k2", 2);
        assert_eq!(retired.verify(&old_token, NOW), Err(CtxError::UnknownKey));
    }

    #[test]
    fn expiry_boundary() {
        let r = ring("k1", 3);
        let c = claims();
        let token = r.sign(&c);
        assert_eq!(r.verify(&token, c.expires_at - 1), Ok(c.clone()));
        assert_eq!(r.verify(&token, c.expires_at), Err(CtxError::Expired));
        assert_eq!(r.verify(&token, c.expires_at + 1), Err(CtxError::Expired));
    }

    #[test]
    fn garbage_never_panics() {
        let r = ring("k1", 4);
        let huge = "a".repeat(MAX_CTX_TOKEN_LEN + 1);
        let huge_dots = ".".repeat(100_000);
        let valid_sig_garbage_payload = {
            // Correctly signed, but the payload is not our JSON: still only Malformed.
            let (kid, mac) = &r.keys[0];
            let body = format!("{kid}.{}", URL_SAFE_NO_PAD.encode(b"[2,\"x\"]"));
            let mut m = mac.clone();
            m.update(body.as_bytes());
            format!(
                "{body}.{}",
                URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())
            )
        };
        let inputs = [
            "",
            ".",
            "..",
            "...",
            "k1..",
            "k1.a.",
            ".a.b",
            "k1.a.b",
            "k1.%%%.***",
            "é.é.é",
            "\0.\0.\0",
            huge.as_str(),
            huge_dots.as_str(),
            valid_sig_garbage_payload.as_str(),
        ];
        for t in inputs {
            let got = r.verify(t, NOW);
            assert!(got.is_err(), "{t:.40}");
        }
        assert_eq!(
            r.verify(&valid_sig_garbage_payload, NOW),
            Err(CtxError::Malformed)
        );
        assert_eq!(r.verify(&huge, NOW), Err(CtxError::Malformed));
        assert_eq!(r.verify("k9.a.b", NOW), Err(CtxError::UnknownKey));
    }

    #[test]
    fn keyring_construction_rules() {
        let k = |kid: &str, n: usize| (kid.to_owned(), vec![9u8; n]);
        type Case = (&'static str, Vec<(String, Vec<u8>)>, bool);
        let cases: Vec<Case> = vec![
            ("k1", vec![k("k1", 32)], true),
            ("a_B-9", vec![k("a_B-9", 64)], true),
            ("k1", vec![], false),
            ("k1", vec![k("k1", 31)], false),
            ("k2", vec![k("k1", 32)], false),
            ("", vec![k("", 32)], false),
            ("k.1", vec![k("k.1", 32)], false),
            ("seventeen-chars-x", vec![k("seventeen-chars-x", 32)], false),
            ("k1", vec![k("k1", 32), k("k1", 32)], false),
        ];
        for (active, keys, ok) in cases {
            let got = CtxKeyring::new(active, keys);
            assert_eq!(got.is_ok(), ok, "{active}: {got:?}");
            if let Err(e) = got {
                assert_eq!(e.field, "ctxKeys");
            }
        }
    }

    #[test]
    fn parse_spec() {
        let b = |byte: u8| STANDARD.encode([byte; 32]);
        let r = CtxKeyring::parse(&format!(
            "new:{}, old:{}",
            b(2),
            URL_SAFE_NO_PAD.encode([1u8; 32])
        ))
        .unwrap();
        assert_eq!(r.active_kid(), "new");
        assert_eq!(r.verify(&ring("old", 1).sign(&claims()), NOW), Ok(claims()));
        assert_eq!(r.verify(&ring("new", 2).sign(&claims()), NOW), Ok(claims()));

        let secret = b(5);
        for bad in [
            String::new(),
            "k1".into(),
            format!("k1:{}", STANDARD.encode([1u8; 16])),
            "k1:not base64!".into(),
            format!("k1:{},", b(1)),
            format!("k1:{secret},k1:{secret}"),
        ] {
            let e = CtxKeyring::parse(&bad).expect_err(&bad);
            assert_eq!(e.field, "ctxKeys");
            assert!(!e.message.contains(&secret), "key material leaked: {e}");
        }
    }

    #[test]
    fn generated_spec_parses_and_differs() {
        let a = CtxKeyring::generate_spec();
        let b = CtxKeyring::generate_spec();
        assert_ne!(a, b);
        assert!(a.starts_with("k1:"));
        let r = CtxKeyring::parse(&a).unwrap();
        assert_eq!(r.active_kid(), "k1");
        assert_eq!(r.verify(&r.sign(&claims()), NOW), Ok(claims()));
    }

    #[test]
    fn debug_hides_keys() {
        let r = CtxKeyring::parse(&format!("k1:{}", STANDARD.encode([0xABu8; 32]))).unwrap();
        let dbg = format!("{r:?}");
        assert!(dbg.contains("k1"));
        assert!(!dbg.contains("ABAB") && !dbg.contains("171"), "{dbg}");
    }

    #[test]
    fn errors_read_as_sentences() {
        for e in [
            CtxError::Malformed,
            CtxError::UnknownKey,
            CtxError::BadSignature,
            CtxError::Expired,
        ] {
            assert!(e.to_string().starts_with("the ctx token"), "{e}");
        }
    }
}
