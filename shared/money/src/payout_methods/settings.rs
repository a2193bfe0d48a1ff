//! `PUT`/`GET …/payout-settings`: the handle's own account, the debtor of its SEPA files. Its
//! IBAN is sealed like a partner's and answered masked.

use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::bank::{self, Bic, Iban};
use crate::domain::sealed::Keyring;
use crate::domain::{DomainError, Handle};
use crate::kernel::state::Unconfigured;
use crate::payout_methods::MethodError;
use crate::platform::store::{Item, Store, StoreError, keys};

/// A settings request, before validation.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SettingsInput {
    pub debtor_name: String,
    pub debtor_iban: String,
    #[serde(default)]
    pub debtor_bic: Option<String>,
}

/// The debtor in clear (inside the seal, and in a SEPA file).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Debtor {
    pub name: String,
    pub iban: String,
    pub bic: Option<String>,
}

impl SettingsInput {
    /// The debtor, each field checked and named on error: the IBAN as a partner's SEPA IBAN
    /// (a SEPA country's), the name as a SEPA name (the file's debtor and initiating party).
    pub fn validate(&self) -> Result<Debtor, DomainError> {
        let iban = bank::sepa_iban("debtorIban", &self.debtor_iban)?;
        let bic = self
            .debtor_bic
            .as_deref()
            .map(|b| Bic::parse("debtorBic", b))
            .transpose()?;
        if bic.as_ref().is_some_and(|b| !b.fits(&iban)) {
            return Err(DomainError::new(
                "debtorBic",
                "is a bank in another country than the IBAN's.",
            ));
        }
        Ok(Debtor {
            name: bank::sepa_name("debtorName", &self.debtor_name)?,
            iban: iban.as_str().to_owned(),
            bic: bic.map(|b| b.as_str().to_owned()),
        })
    }
}

impl Debtor {
    /// What today's rules refuse in a debtor stored before them (issue 57): its IBAN (a SEPA
    /// country's, the registry's structure) or its name. A SEPA file is not written from it.
    pub fn fault(&self) -> Option<DomainError> {
        bank::sepa_iban("debtorIban", &self.iban)
            .and_then(|_| bank::sepa_name("debtorName", &self.name))
            .err()
    }
}

/// What is stored: the sealed debtor and its masked form.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stored {
    sealed: String,
    view: SettingsView,
}

/// `GET …/payout-settings`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    pub debtor_name: String,
    /// `DE89 **** **** 3000`.
    pub debtor_iban: String,
    pub debtor_bic: Option<String>,
    pub updated_at: Timestamp,
    pub updated_by: String,
}

fn aad(handle: &Handle) -> String {
    format!("tenx/payout-settings/v1/{handle}")
}

/// Replaces the settings. Round trips: ONE write.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn put(
    store: &dyn Store,
    keys: Result<&Keyring, Unconfigured>,
    handle: &Handle,
    debtor: &Debtor,
    by: &str,
) -> Result<SettingsView, MethodError> {
    let plain = serde_json::to_vec(debtor).unwrap_or_default();
    let masked = Iban::parse("debtorIban", &debtor.iban)
        .map_or_else(|_| String::new(), |i| Iban::masked(&i));
    let stored = Stored {
        sealed: keys?.seal(&aad(handle), &plain),
        view: SettingsView {
            debtor_name: debtor.name.clone(),
            debtor_iban: masked,
            debtor_bic: debtor.bic.clone(),
            updated_at: crate::platform::time::timestamp(),
            updated_by: by.to_owned(),
        },
    };
    let item = Item::new(
        keys::handle_pk(handle),
        keys::PAYOUT_SETTINGS_SK,
        crate::platform::store::to_doc(&stored)?,
    );
    crate::platform::store::put(store, item).await?;
    Ok(stored.view)
}

async fn stored(store: &dyn Store, handle: &Handle) -> Result<Option<Stored>, StoreError> {
    let item = store
        .get(&keys::handle_pk(handle), keys::PAYOUT_SETTINGS_SK)
        .await?;
    item.map(|i| i.parse::<Stored>()).transpose()
}

/// The settings, masked. Round trips: ONE read.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn get(store: &dyn Store, handle: &Handle) -> Result<Option<SettingsView>, StoreError> {
    Ok(stored(store, handle).await?.map(|s| s.view))
}

/// The debtor in clear, for a SEPA file. Round trips: ONE read.
pub async fn debtor(
    store: &dyn Store,
    keys: Result<&Keyring, Unconfigured>,
    handle: &Handle,
) -> Result<Option<Debtor>, MethodError> {
    let Some(s) = stored(store, handle).await? else {
        return Ok(None);
    };
    let plain = keys?.open(&aad(handle), &s.sealed)?;
    let debtor = serde_json::from_slice(&plain)
        .map_err(|e| StoreError::Corrupt(format!("payout settings: {e}")))?;
    Ok(Some(debtor))
}
