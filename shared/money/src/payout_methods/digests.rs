//! Keyed digests of payout details and tax ids (issue 83), so partner risk can tell that one
//! bank account, PayPal or Wise account, or tax id is behind several partners of a handle
//! without opening anyone's details. Each digest ([`Keyring::digest`], bound to the handle) is
//! kept on its record and listed under `H#{handle}#PAYDG` / `{digest}#{partnerId}`, written in
//! the same transaction as the record. An entry stays when its partner's details change: the
//! partner's current record is read before it counts, so a stale entry never names a partner.

use serde::{Deserialize, Serialize};

use crate::domain::sealed::Keyring;
use crate::domain::{Handle, PartnerId};
use crate::payout_methods::model::{Details, MethodType};
use crate::platform::store::{Cond, Item, Query, Store, StoreError, WriteOp, keys, to_doc};

/// The most partners a digest is followed to (the evidence names a few; more add nothing).
pub const MAX_SHARING: usize = 20;

const ACCOUNT: &str = "tenx payout account";
const TAX_ID: &str = "tenx tax id";

/// The keyed digest of the account `details` pay into; `None` for payment by hand.
pub fn account(keys: &Keyring, handle: &Handle, details: &Details) -> Option<String> {
    let value = match details {
        Details::Sepa { iban, .. } => format!("iban:{}", compact(iban)),
        Details::Paypal {
            payer_id: Some(id), ..
        } => format!("paypal-id:{id}"),
        Details::Paypal { email, .. } => format!(
            "paypal:{}",
            crate::domain::email::key_of(email.as_deref().unwrap_or_default())
        ),
        Details::Wise { email, .. } => format!("wise:{}", crate::domain::email::key_of(email)),
        Details::StripeConnect { account_id } => format!("stripe:{account_id}"),
        Details::Manual => return None,
    };
    Some(keys.digest(ACCOUNT, handle.as_str(), &value))
}

/// The keyed digests of a tax profile's ids: its tax id (with its country) and its VAT number.
pub fn tax_ids(
    keys: &Keyring,
    handle: &Handle,
    country: &str,
    tax_id: Option<&str>,
    vat_id: Option<&str>,
) -> Vec<String> {
    let tax = tax_id.map(|t| format!("tin:{country}:{}", compact(t)));
    let vat = vat_id.map(|v| format!("vat:{}", compact(v)));
    tax.into_iter()
        .chain(vat)
        .map(|v| keys.digest(TAX_ID, handle.as_str(), &v))
        .collect()
}

/// Letters and digits only, upper case: `de89 3704-0044` and `DE8937040044` are one account.
fn compact(raw: &str) -> String {
    raw.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    partner_id: PartnerId,
}

/// The writes that list `partner` under each of `digests` (part of its record's transaction).
pub(crate) fn index_ops(
    handle: &Handle,
    partner: &PartnerId,
    digests: &[String],
) -> Result<Vec<WriteOp>, StoreError> {
    let doc = to_doc(&Entry {
        partner_id: partner.clone(),
    })?;
    Ok(digests
        .iter()
        .map(|d| WriteOp::Put {
            item: Item::new(
                keys::payout_digests_pk(handle),
                format!("{d}#{partner}"),
                doc.clone(),
            ),
            cond: Cond::None,
        })
        .collect())
}

/// The other partners listed under `digest` (at most [`MAX_SHARING`]), before their current
/// records are checked. Round trips: ONE query.
pub(crate) async fn listed(
    store: &dyn Store,
    handle: &Handle,
    digest: &str,
    partner: &PartnerId,
) -> Result<Vec<PartnerId>, StoreError> {
    let q = Query::prefix(
        keys::payout_digests_pk(handle),
        format!("{digest}#"),
        MAX_SHARING + 1,
    );
    let (entries, _): (Vec<Entry>, _) = store.query(q).await?.parsed()?;
    Ok(entries
        .into_iter()
        .map(|e| e.partner_id)
        .filter(|p| p != partner)
        .take(MAX_SHARING)
        .collect())
}

/// The other partners of the handle paid into the same account as `partner` now, with the
/// rail. Round trips: ONE read (its method), ONE query, ONE read per partner listed.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner))]
pub async fn sharing_account(
    store: &dyn Store,
    handle: &Handle,
    partner: &PartnerId,
) -> Result<Vec<(PartnerId, MethodType)>, StoreError> {
    let own = super::get(store, handle, partner).await?;
    let Some(digest) = own.and_then(|m| m.account_digest) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for other in listed(store, handle, &digest, partner).await? {
        let current = super::get(store, handle, &other).await?;
        if let Some(m) = current.filter(|m| m.account_digest.as_deref() == Some(&digest)) {
            out.push((other, m.masked.kind));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_account_written_two_ways_is_one_digest() {
        let ring = Keyring::parse(&Keyring::generate_spec()).unwrap();
        let acme = Handle::parse("acme").unwrap();
        let sepa = |iban: &str| Details::Sepa {
            account_name: "Jo".into(),
            iban: iban.into(),
            bic: None,
        };
        let a = account(&ring, &acme, &sepa("DE89370400440532013000"));
        assert_eq!(
            a,
            account(&ring, &acme, &sepa("de89 3704 0044 0532 0130 00"))
        );
        assert_ne!(a, account(&ring, &acme, &sepa("DE89370400440532013001")));
        let paypal = |e: &str| Details::Paypal {
            email: Some(e.into()),
            payer_id: None,
        };
        assert_eq!(
            account(&ring, &acme, &paypal("Jo+deals@Example.com")),
            account(&ring, &acme, &paypal("jo@example.com"))
        );
        // A PayPal address and a Wise account of the same address are two accounts.
        let wise = Details::Wise {
            email: "jo@example.com".into(),
            account_name: "Jo".into(),
        };
        assert_ne!(
            account(&ring, &acme, &wise),
            account(&ring, &acme, &paypal("jo@example.com"))
        );
        assert_eq!(account(&ring, &acme, &Details::Manual), None);
        let t = tax_ids(&ring, &acme, "US", Some("123456789"), None);
        assert_eq!(t, tax_ids(&ring, &acme, "US", Some("123-45-6789"), None));
        assert_ne!(t, tax_ids(&ring, &acme, "CA", Some("123456789"), None));
    }
}
