//! The one way to build an HTTP client: reqwest on rustls with aws-lc-rs, the AWS SDK's own TLS
//! provider, so one crypto library serves every TLS connection (docs/ci.md, "One HTTP and TLS
//! stack").

use std::sync::Once;

/// A reqwest builder whose TLS runs on aws-lc-rs. reqwest is built without a provider of its
/// own (its default would bring ring), so rustls needs a process default before the first client
/// is built: installed here, once. `reqwest::Client::new()` elsewhere would panic without it;
/// `scripts/check_layers.py` keeps every client coming through here.
pub fn builder() -> reqwest::ClientBuilder {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // An `Err` means the process installed a provider first; that one is used.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    });
    reqwest::Client::builder()
}
