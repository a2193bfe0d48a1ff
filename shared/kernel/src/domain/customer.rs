//! Customers (issue 44): the merchant's own id for a buyer or account, bound once per handle to
//! the click, campaign and partner that brought it; and an email kept only masked.

use serde::{Deserialize, Serialize};

use super::DomainError;

/// A merchant's customer id: 1 to 255 of `[A-Za-z0-9._:@-]` (Stripe's `cus_…`, a Shopify
/// numeric id, an email-like account name all fit).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CustomerId(String);

super::ids::string_id!(CustomerId);

impl CustomerId {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        const F: &str = "customerId";
        if raw.is_empty() || raw.len() > 255 {
            return Err(DomainError::new(F, "must be 1 to 255 characters long"));
        }
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b".:_@-".contains(&b);
        if !raw.bytes().all(allowed) {
            return Err(DomainError::new(
                F,
                "may only contain letters, digits and . _ : @ -",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// Whether anyone can make this id from what they know of a buyer (issue 57): an address
    /// (`email:…`, or any id holding an `@`), a shop's customer number (`shopify:…`), or another
    /// namespace 10x's own connectors and importers write. Such an id is bound only by a
    /// verified provider event or the merchant's authenticated routes, never by a public lead:
    /// a partner could otherwise bind another partner's buyer before the sale. An id the
    /// merchant's checkout made (Stripe's `cus_…`, its own user id) is unguessable and stays
    /// open to the public lead route.
    pub fn is_derivable(&self) -> bool {
        let lower = self.0.to_ascii_lowercase();
        self.0.contains('@') || RESERVED_PREFIXES.iter().any(|p| lower.starts_with(p))
    }
}

/// The id namespaces 10x's connectors and importers write (`email:` from a guest checkout's
/// address, `shopify:` from a shop's customer number, `import:` from an importer): reserved
/// for them and the merchant's authenticated routes, whatever the case the id is written in.
pub const RESERVED_PREFIXES: &[&str] = &["email:", "shopify:", "import:"];

/// A partner's coupon code (issue 44): 1 to 64 of `[A-Za-z0-9_-]`, kept as written and unique
/// per handle whatever its case (`SUMMER10` and `summer10` are one code).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CouponCode(String);

super::ids::string_id!(CouponCode);

impl CouponCode {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        const F: &str = "couponCode";
        if raw.is_empty() || raw.len() > 64 {
            return Err(DomainError::new(F, "must be 1 to 64 characters long"));
        }
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b"_-".contains(&b);
        if !raw.bytes().all(allowed) {
            return Err(DomainError::new(
                F,
                "may only contain letters, digits, _ and -",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The code's identity: its lower-case form (the store's key, the comparison).
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// The flag of a customer whose email is its partner's own (and the hold reason of its
/// commissions).
pub const SELF_REFERRAL: &str = "self_referral";

/// How a customer came to be bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoundBy {
    Ctx,
    Coupon,
    Manual,
    Stripe,
    Shopify,
    /// An importer's (issue 64): the customer the old tool had bound to the partner. The first
    /// binding wins, as any other: an import never rebinds a customer bound here before it.
    Import,
    /// Moved to the partner by an approved claim or a reassignment (issue 63).
    Claim,
}

/// `jane.doe@example.com` → `j***@example.com`: enough for a partner or manager to recognise a
/// customer, never the address. Refuses what is not an email.
pub fn mask_email(raw: &str) -> Result<String, DomainError> {
    const F: &str = "email";
    // Not trimmed: the spec's `Email` pattern refuses spaces, and the server agrees with it.
    let (local, domain) = raw
        .rsplit_once('@')
        .filter(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'))
        .ok_or_else(|| DomainError::new(F, "must be an email address (name@example.com)"))?;
    if raw.chars().count() > 254 || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(DomainError::new(
            F,
            "must be an email address (name@example.com)",
        ));
    }
    let first: String = local.chars().take(1).collect();
    Ok(format!("{first}***@{}", domain.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_ids_take_the_merchants_alphabet_and_nothing_else() {
        for ok in [
            "cus_NffrFeUfNV2Hib",
            "7449571",
            "a.b:c@d-e",
            &"x".repeat(255),
        ] {
            assert!(CustomerId::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "é", "a/b", &"x".repeat(256)] {
            let e = CustomerId::parse(bad).unwrap_err();
            assert_eq!(e.field, "customerId", "{bad}");
        }
    }

    #[test]
    fn ids_made_from_what_anyone_knows_of_a_buyer_are_derivable() {
        for derivable in [
            "email:jane@example.com",
            "EMAIL:jane@example.com",
            "shopify:1234",
            "Shopify:1234",
            "import:rewardful:42",
            "jane@example.com",
            "crm:jane@example.com",
        ] {
            assert!(
                CustomerId::parse(derivable).unwrap().is_derivable(),
                "{derivable}"
            );
        }
        for open in [
            "cus_NffrFeUfNV2Hib",
            "user-42",
            "emailer-7",
            "shop:1",
            "acct.9",
        ] {
            assert!(!CustomerId::parse(open).unwrap().is_derivable(), "{open}");
        }
    }

    #[test]
    fn coupon_codes_are_one_whatever_their_case_and_keep_their_alphabet() {
        let a = CouponCode::parse("Summer-10").unwrap();
        assert_eq!(a.as_str(), "Summer-10");
        assert_eq!(a.key(), CouponCode::parse("SUMMER-10").unwrap().key());
        for bad in ["", "a b", "x%", "é", &"c".repeat(65)] {
            assert_eq!(
                CouponCode::parse(bad).unwrap_err().field,
                "couponCode",
                "{bad}"
            );
        }
    }

    #[test]
    fn emails_are_masked_and_non_emails_refused() {
        assert_eq!(
            mask_email("Jane.Doe@Example.COM").unwrap(),
            "J***@example.com"
        );
        for bad in [
            "jane",
            "@example.com",
            "jane@localhost",
            "a b@example.com",
            " jane@example.com",
        ] {
            assert_eq!(mask_email(bad).unwrap_err().field, "email", "{bad}");
        }
    }
}

/// How a sale used a coupon code (issue 63): the code, its partner, whether the sale came with
/// a click of that partner (its ctx), and the landing referrer's host the merchant's page saw
/// (`t.js`, a Shopify order's `referring_site`): where a code used without a click came from.
/// Recorded on the conversion; the coupon-leak report and the program's `couponWithoutClick`
/// policy read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CouponUse {
    pub code: String,
    pub partner_id: super::PartnerId,
    pub with_click: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landing_referrer: Option<String>,
    /// The program's `couponWithoutClick` policy when the sale arrived, for a sale without a
    /// click (`None`: pay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<super::coupon_rules::CouponRules>,
}

impl CouponUse {
    /// The sale's commission goes to the code's partner with no click of it behind the sale:
    /// the case the program's `couponWithoutClick` policy governs.
    pub fn without_click_of(&self, partner: &super::PartnerId) -> bool {
        !self.with_click && self.partner_id == *partner
    }
}

/// The host of a landing referrer as sent (`landingReferrer`: an http(s) URL), `None` when
/// absent; anything else is the caller's error.
pub fn landing_referrer(raw: Option<&str>) -> Result<Option<String>, DomainError> {
    const F: &str = "landingReferrer";
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
        return Ok(None);
    };
    if raw.len() > 2048 {
        return Err(DomainError::new(F, "must be at most 2048 characters long"));
    }
    super::referrer_host(Some(raw))
        .map(Some)
        .ok_or_else(|| DomainError::new(F, "must be an http:// or https:// URL"))
}
