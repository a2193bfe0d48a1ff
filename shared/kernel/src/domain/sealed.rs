//! Secrets at rest (issue 46): AES-256-GCM (aws-lc-rs) under a key the store never holds
//! (`TENX_PAYOUT_KEY`: the data dir's secret locally, an SSM SecureString on AWS). A sealed
//! value is `v1.{kid}.{base64url(nonce ‖ ciphertext ‖ tag)}`: a random 96-bit nonce per seal,
//! the key's id (so keys rotate: the first seals, all open), and additional data that binds it
//! to its place (a handle and partner): moved to another partner, it does not open.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::Digest;

const VERSION: &str = "v1";

/// Why a sealed value does not open.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("sealed with a key this process does not hold ({0})")]
    UnknownKey(String),
    #[error("not a sealed value, or sealed for another place")]
    Corrupt,
}

/// One key and its id (the first 8 hex digits of its SHA-256).
struct Key {
    id: String,
    key: LessSafeKey,
}

/// The deployment's payout keys, the first one sealing. `Debug` never shows a key.
pub struct Keyring {
    keys: Vec<Key>,
    /// HMAC-SHA256 under the first key: [`Keyring::digest`].
    digest: hmac::Hmac<sha2::Sha256>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        write!(f, "Keyring({ids:?})")
    }
}

impl Keyring {
    /// `spec`: comma-separated base64url keys of 32 bytes, the first one sealing.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut keys = Vec::new();
        let mut digest = None;
        for (i, raw) in spec.split(',').map(str::trim).enumerate() {
            let bytes = URL_SAFE_NO_PAD
                .decode(raw.trim_end_matches('='))
                .ok()
                .filter(|b| b.len() == 32)
                .ok_or_else(|| format!("payout key {i}: expected 32 bytes in base64url"))?;
            let id = hex::encode(&sha2::Sha256::digest(&bytes)[..4]);
            if digest.is_none() {
                digest = Some(
                    <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(&bytes)
                        .map_err(|_| format!("payout key {i}: not an HMAC key"))?,
                );
            }
            let unbound = UnboundKey::new(&AES_256_GCM, &bytes)
                .map_err(|_| format!("payout key {i}: not an AES-256 key"))?;
            keys.push(Key {
                id,
                key: LessSafeKey::new(unbound),
            });
        }
        let Some(digest) = digest else {
            return Err("no payout key".into());
        };
        Ok(Self { keys, digest })
    }

    /// A fresh key spec (`tenx serve` writes one into its data dir).
    pub fn generate_spec() -> String {
        let mut bytes = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Seals `plain` for the place `aad` names, under the first key.
    pub fn seal(&self, aad: &str, plain: &[u8]) -> String {
        let key = &self.keys[0];
        let mut nonce = [0u8; NONCE_LEN];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut nonce);
        let mut data = plain.to_vec();
        key.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut data,
            )
            // Only a plaintext beyond GCM's 64 GiB limit fails; ours are a few hundred bytes.
            .expect("AES-GCM seals any short plaintext");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        format!("{VERSION}.{}.{}", key.id, URL_SAFE_NO_PAD.encode(out))
    }

    /// A keyed digest of `value` in the place `scope` names (a handle), under a `label` of its
    /// own (`payout account`, `tax id`): `{kid}:{32 hex digits}` of HMAC-SHA256 under the first
    /// key. Equal values give equal digests within one scope and label, so two partners' payout
    /// details can be compared without opening either; nothing can be read back from it. A new
    /// first key gives new digests (its id says which key made one).
    pub fn digest(&self, label: &str, scope: &str, value: &str) -> String {
        use hmac::Mac;
        let mut mac = self.digest.clone();
        for part in [label, scope, value] {
            mac.update(part.as_bytes());
            mac.update(b"\n");
        }
        let bytes = mac.finalize().into_bytes();
        format!("{}:{}", self.keys[0].id, hex::encode(&bytes[..16]))
    }

    /// Opens a value sealed for `aad` by any key of the ring.
    pub fn open(&self, aad: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(VERSION), Some(kid), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(SealError::Corrupt);
        };
        let key = self
            .keys
            .iter()
            .find(|k| k.id == kid)
            .ok_or_else(|| SealError::UnknownKey(kid.to_owned()))?;
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| SealError::Corrupt)?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err(SealError::Corrupt);
        }
        let (nonce, data) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Corrupt)?;
        let mut data = data.to_vec();
        let plain = key
            .key
            .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut data)
            .map_err(|_| SealError::Corrupt)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_in_its_place_and_with_its_key() {
        let ring = Keyring::parse(&Keyring::generate_spec()).unwrap();
        let sealed = ring.seal("acme:pub-one", b"DE89370400440532013000");
        assert!(!sealed.contains("DE89"));
        assert_eq!(
            ring.open("acme:pub-one", &sealed).unwrap(),
            b"DE89370400440532013000"
        );
        // A fresh nonce each time.
        assert_ne!(sealed, ring.seal("acme:pub-one", b"DE89370400440532013000"));
        assert_eq!(ring.open("acme:pub-two", &sealed), Err(SealError::Corrupt));
        let other = Keyring::parse(&Keyring::generate_spec()).unwrap();
        assert!(matches!(
            other.open("acme:pub-one", &sealed),
            Err(SealError::UnknownKey(_))
        ));
        // Rotation: a new first key seals, the old one still opens.
        let rotated = format!("{},{}", Keyring::generate_spec(), "");
        assert!(Keyring::parse(&rotated).is_err());
        let old_spec = Keyring::generate_spec();
        let old = Keyring::parse(&old_spec).unwrap();
        let before = old.seal("p", b"x");
        let both = Keyring::parse(&format!("{},{old_spec}", Keyring::generate_spec())).unwrap();
        assert_eq!(both.open("p", &before).unwrap(), b"x");
        assert!(format!("{both:?}").starts_with("Keyring("));
        assert!(Keyring::parse("short").is_err());
    }

    #[test]
    fn a_digest_is_the_same_for_the_same_value_and_place_only() {
        let spec = Keyring::generate_spec();
        let ring = Keyring::parse(&spec).unwrap();
        let d = ring.digest("payout account", "acme", "DE89370400440532013000");
        assert_eq!(
            d,
            ring.digest("payout account", "acme", "DE89370400440532013000")
        );
        assert!(!d.contains("DE89") && d.len() == 8 + 1 + 32, "{d}");
        assert_ne!(
            d,
            ring.digest("payout account", "globex", "DE89370400440532013000")
        );
        assert_ne!(d, ring.digest("tax id", "acme", "DE89370400440532013000"));
        let other = Keyring::parse(&Keyring::generate_spec()).unwrap();
        assert_ne!(
            d,
            other.digest("payout account", "acme", "DE89370400440532013000")
        );
        // A second key that only opens does not change the digests.
        let both = Keyring::parse(&format!("{spec},{}", Keyring::generate_spec())).unwrap();
        assert_eq!(
            d,
            both.digest("payout account", "acme", "DE89370400440532013000")
        );
    }
}
