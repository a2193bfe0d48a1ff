//! SDK clients built on first use.
//!
//! Building a client is a real part of a cold start (profiled: 6-11 % of the redirect's init
//! each, half of it the TLS validation `aws::tls` now skips): it parses the service's endpoint
//! partitions and compiles their region patterns. So a process builds only the clients it
//! calls: the redirect never builds SQS's, and SSM's only when a secret is read from a
//! parameter.

use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};

use aws_config::SdkConfig;

/// Where a lazy client comes from: the configuration and the client's constructor.
type Source<C> = (Arc<SdkConfig>, fn(&SdkConfig) -> C);

/// A client of type `C`, built from the process's configuration the first time it is used
/// (then shared by every clone), or given ready-made.
pub struct LazyClient<C> {
    cell: Arc<OnceLock<C>>,
    source: Option<Source<C>>,
}

impl<C> LazyClient<C> {
    /// Built by `build` from `config` on first use.
    pub fn new(config: Arc<SdkConfig>, build: fn(&SdkConfig) -> C) -> Self {
        Self {
            cell: Arc::new(OnceLock::new()),
            source: Some((config, build)),
        }
    }

    /// The client, built now if it was not yet.
    pub fn get(&self) -> &C {
        self.cell.get_or_init(|| {
            let (config, build) = self.source.as_ref().expect("a lazy client has a source");
            build(config)
        })
    }

    /// Whether it was built (tests, and what a cold start built).
    pub fn is_built(&self) -> bool {
        self.cell.get().is_some()
    }
}

impl<C> From<C> for LazyClient<C> {
    fn from(client: C) -> Self {
        Self {
            cell: Arc::new(OnceLock::from(client)),
            source: None,
        }
    }
}

impl<C> Clone for LazyClient<C> {
    fn clone(&self) -> Self {
        Self {
            cell: self.cell.clone(),
            source: self.source.clone(),
        }
    }
}

impl<C> Deref for LazyClient<C> {
    type Target = C;
    fn deref(&self) -> &C {
        self.get()
    }
}

impl<C> fmt::Debug for LazyClient<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazyClient")
            .field("built", &self.is_built())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Arc<SdkConfig> {
        Arc::new(
            SdkConfig::builder()
                .behavior_version(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new("us-east-1"))
                .build(),
        )
    }

    #[test]
    fn a_client_is_built_once_on_first_use_and_shared_by_clones() {
        let lazy = LazyClient::new(config(), aws_sdk_sqs::Client::new);
        let clone = lazy.clone();
        assert!(!lazy.is_built(), "nothing built before use");
        let _ = clone.get();
        assert!(lazy.is_built(), "built once, for every clone");
        let ready: LazyClient<u8> = 7.into();
        assert!(ready.is_built());
        assert_eq!(*ready, 7);
    }
}
