//! Where a handle sends visitors who reach no link: an unknown slug (`notFoundUrl`) or the bare
//! short-link domain (`baseUrl`). Without them a browser gets a small HTML page, an API client
//! the JSON envelope.

use serde::{Deserialize, Serialize};

use super::{DomainError, validate_destination};

/// A handle's redirect settings, as stored and returned.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RedirectSettings {
    #[serde(default)]
    pub not_found_url: Option<String>,
    #[serde(default)]
    pub base_url: Option<String>,
}

impl RedirectSettings {
    /// Both URLs checked like a link's destination (http(s), no credentials, bounded).
    pub fn validate(self) -> Result<RedirectSettings, DomainError> {
        let check = |field: &str, url: Option<String>| {
            url.map(|u| validate_destination(field, &u).map(String::from))
                .transpose()
        };
        Ok(RedirectSettings {
            not_found_url: check("notFoundUrl", self.not_found_url)?,
            base_url: check("baseUrl", self.base_url)?,
        })
    }
}

/// Why a visit reached no link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrphanKind {
    /// A slug the handle does not have.
    NotFound,
    /// The bare domain, `{handle}.{domain}/`.
    Base,
}

impl OrphanKind {
    pub const ALL: [OrphanKind; 2] = [OrphanKind::NotFound, OrphanKind::Base];

    pub fn as_str(self) -> &'static str {
        match self {
            OrphanKind::NotFound => "not_found",
            OrphanKind::Base => "base",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_urls_are_checked_like_destinations() {
        let ok = RedirectSettings {
            not_found_url: Some("https://acme.example/404".into()),
            base_url: None,
        };
        assert_eq!(ok.clone().validate().unwrap(), ok);
        let bad = RedirectSettings {
            not_found_url: None,
            base_url: Some("javascript:alert(1)".into()),
        };
        assert_eq!(bad.validate().unwrap_err().field, "baseUrl");
    }
}
