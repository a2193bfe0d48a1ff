//! Every item's key, in one place. Handles, slugs and ids are validated newtypes that cannot
//! contain `#`, so one handle's keys can never collide with another's. Layout: `docs/storage.md`.

pub fn handle_pk(handle: &str) -> String {
    format!("H#{handle}")
}

pub fn link_sk(slug: &str) -> String {
    format!("L#{slug}")
}

pub const LINK_SK_PREFIX: &str = "L#";

pub fn campaign_sk(campaign_id: &str) -> String {
    format!("C#{campaign_id}")
}

pub const CAMPAIGN_SK_PREFIX: &str = "C#";

/// Idempotency record of a conversion key (its own partition: written by one conditional put).
pub fn idempotency(handle: &str, key: &str) -> (String, String) {
    (format!("H#{handle}#K#{key}"), "K".into())
}

pub fn conversion(handle: &str, conversion_id: &str) -> (String, String) {
    (format!("H#{handle}#V#{conversion_id}"), "V".into())
}

/// Marker that an event was applied by a consumer (dedupe of at-least-once delivery).
pub fn processed_event(consumer: &str, event_id: &str) -> (String, String) {
    (format!("E#{consumer}#{event_id}"), "E".into())
}

pub fn rate_window(handle: &str, bucket: &str, window: i64) -> (String, String) {
    (format!("H#{handle}#T#{bucket}#{window}"), "T".into())
}

/// A personal access token, addressed by the SHA-256 of the token (the token is never stored).
pub fn pat(token_hash_hex: &str) -> (String, String) {
    (format!("P#{token_hash_hex}"), "P".into())
}

/// The per-handle listing entry of a personal access token.
pub fn pat_index_sk(token_id: &str) -> String {
    format!("T#{token_id}")
}

pub const PAT_INDEX_SK_PREFIX: &str = "T#";

pub fn webhook_sk(subscription_id: &str) -> String {
    format!("W#{subscription_id}")
}

pub const WEBHOOK_SK_PREFIX: &str = "W#";

pub fn chain_session_pk(handle: &str, session_id: &str) -> String {
    format!("H#{handle}#X#{session_id}")
}

pub const CHAIN_RULES_SK: &str = "R";

/// Outbox entries live in a few shards so the sweeper can find them without a scan.
pub const OUTBOX_SHARDS: u32 = 4;

pub fn outbox(shard: u32, created_ms: i64, event_id: &str) -> (String, String) {
    (
        format!("OUTBOX#{shard}"),
        format!("{created_ms:013}#{event_id}"),
    )
}
