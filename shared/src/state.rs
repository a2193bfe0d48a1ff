//! Everything a router needs, built once per process and shared by every request.

use std::sync::Arc;

use crate::config::Config;
use crate::domain::{CtxKeyring, Link};
use crate::http::auth::jwt::JwtVerifier;
use crate::queue::Queue;
use crate::store::Store;

/// The redirect path's in-process link cache: `None` caches a miss (unknown slug) too, so a
/// burst on a dead link costs one read per TTL, not one per request.
pub type LinkCache = moka::sync::Cache<(String, String), Option<Arc<Link>>>;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub queue: Arc<dyn Queue>,
    pub jwt: Arc<JwtVerifier>,
    pub ctx_keys: Arc<CtxKeyring>,
    pub link_cache: LinkCache,
}

impl AppState {
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        queue: Arc<dyn Queue>,
    ) -> anyhow::Result<Self> {
        config.validate()?;
        let jwt = JwtVerifier::new(
            config.jwt_hs256_secret.clone(),
            config.jwt_rs256_public_key.as_deref(),
            config.jwt_issuer.clone(),
            config.jwt_audience.clone(),
        )?;
        let ctx_keys = CtxKeyring::parse(&config.ctx_keys)?;
        let link_cache = moka::sync::Cache::builder()
            .max_capacity(100_000)
            .time_to_live(config.link_cache_ttl)
            .build();
        Ok(Self {
            config: Arc::new(config),
            store,
            queue,
            jwt: Arc::new(jwt),
            ctx_keys: Arc::new(ctx_keys),
            link_cache,
        })
    }
}
