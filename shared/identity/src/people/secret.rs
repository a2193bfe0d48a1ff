//! The secrets of sign-in: a session's cookie and a sign-in link's token. Each is 32 random
//! bytes from the OS's generator (base64url, behind a prefix that says what it is), stored only
//! as its SHA-256, and compared in constant time.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A link token's prefix (a sign-in link's and an invitation's: both are spent by the verify
/// page).
pub const LINK_PREFIX: &str = "tenx_l_";

/// The link a person follows: the verify page of this server.
pub fn link(base_url: &str, token: &str) -> String {
    format!(
        "{}/v2/auth/email-link/verify?token={token}",
        base_url.trim_end_matches('/')
    )
}

/// Random bytes in a secret (256 bits).
const BYTES: usize = 32;
/// Their unpadded base64url length.
const CHARS: usize = 43;

/// A fresh secret: `prefix` and 32 random bytes, base64url without padding.
pub fn generate(prefix: &str) -> String {
    let mut bytes = [0u8; BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Whether `value` has the shape of a secret made by [`generate`] with `prefix`: checked before
/// any store read, so garbage costs nothing.
pub fn well_formed(value: &str, prefix: &str) -> bool {
    value.strip_prefix(prefix).is_some_and(|s| {
        s.len() == CHARS
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// What is stored of a secret: its SHA-256, hex.
pub fn hash(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// Whether two strings are equal, in time independent of where they differ (both are digested
/// first, so not even their lengths show).
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter().zip(b.iter()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_shaped_and_compared_whole() {
        let a = generate("tenx_s_");
        let b = generate("tenx_s_");
        assert_ne!(a, b);
        assert!(well_formed(&a, "tenx_s_"));
        assert!(!well_formed(&a, "tenx_l_"));
        assert!(!well_formed(&a[..a.len() - 1], "tenx_s_"));
        assert!(!well_formed(&format!("{a}="), "tenx_s_"));
        assert_eq!(hash(&a).len(), 64);
        assert!(same(&a, &a.clone()));
        assert!(!same(&a, &b));
        assert!(!same(&a, &a[..10]));
    }
}
