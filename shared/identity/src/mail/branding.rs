//! A handle's mail branding (`PUT`/`GET /v2/handles/{handle}/branding`): the name mail is sent
//! as, a logo, an accent colour, a reply-to address and the locale. Validated when set: the logo
//! an https URL, the colour `#rrggbb`, the reply-to an address, the locale one mail is written in.

use serde::{Deserialize, Serialize};

use super::locale::Locale;
use crate::domain::Handle;
use crate::domain::email::Email;
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Branding {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// The locale amounts, counts and dates are written in (`en`, `de`, `fr`); `en` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
}

/// The accent colour when none is set.
pub const DEFAULT_COLOR: &str = "#2f5bea";

impl Branding {
    /// The branding of a handle that set none: its handle as the name.
    pub fn default_for(handle: Option<&Handle>) -> Self {
        Self {
            name: handle.map_or("10x", Handle::as_str).to_owned(),
            ..Self::default()
        }
    }

    /// Checks what a person typed; the error names the field.
    pub fn validate(mut self) -> Result<Self, crate::domain::DomainError> {
        use crate::domain::DomainError;
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
            return Err(DomainError::new(
                "name",
                "must be 1 to 80 characters, on one line",
            ));
        }
        self.name = name.to_owned();
        if let Some(logo) = &self.logo_url {
            let ok = url::Url::parse(logo).is_ok_and(|u| {
                u.scheme() == "https" && u.host_str().is_some() && logo.len() <= 2048
            });
            if !ok {
                return Err(DomainError::new("logoUrl", "must be an https URL"));
            }
        }
        if let Some(color) = &self.color {
            let ok = color.len() == 7
                && color.starts_with('#')
                && color[1..].bytes().all(|b| b.is_ascii_hexdigit());
            if !ok {
                return Err(DomainError::new("color", "must be a colour as #rrggbb"));
            }
            self.color = Some(color.to_ascii_lowercase());
        }
        if let Some(reply_to) = &self.reply_to {
            self.reply_to = Some(Email::parse("replyTo", reply_to)?.into_string());
        }
        if let Some(code) = &self.locale {
            let Some(locale) = Locale::parse(code) else {
                let known: Vec<&str> = Locale::ALL.iter().map(|l| l.as_str()).collect();
                return Err(DomainError::new(
                    "locale",
                    format!(
                        "must be one of {} (the language mail writes amounts and dates in)",
                        known.join(", ")
                    ),
                ));
            };
            self.locale = Some(locale.as_str().to_owned());
        }
        Ok(self)
    }

    /// The locale its mail is written in (`en` unless set).
    pub fn locale(&self) -> Locale {
        self.locale
            .as_deref()
            .and_then(Locale::parse)
            .unwrap_or_default()
    }
}

/// The handle's branding, `None` when it set none. ONE read.
pub async fn get(store: &dyn Store, handle: &Handle) -> Result<Option<Branding>, StoreError> {
    let item = store
        .get(&keys::handle_pk(handle), keys::MAIL_BRANDING_SK)
        .await?;
    item.map(|i| i.parse()).transpose()
}

/// Stores the (validated) branding. ONE write.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn put(
    store: &dyn Store,
    handle: &Handle,
    branding: &Branding,
) -> Result<(), StoreError> {
    let doc = crate::platform::store::to_doc(branding)?;
    let item = Item::new(keys::handle_pk(handle), keys::MAIL_BRANDING_SK, doc);
    let op = WriteOp::Put {
        item,
        cond: Cond::None,
    };
    crate::kernel::audit::write(store, op, handle, "branding.updated", &branding.name).await
}
