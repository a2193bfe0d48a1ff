//! Chain lifecycle messaging, the stored part: session signals and per-handle rules.
//!
//! Every signal is its own item in the session's partition, so concurrent appends never
//! overwrite each other; a counter item in the same partition, incremented in the SAME
//! transaction as the signal puts with a capped `ADD`, enforces the per-session limit atomically.
//! Layout: `docs/storage.md`.

use crate::domain::time::Timestamp;
use std::ops::ControlFlow;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::domain::Handle;
use crate::domain::chain::{Rule, SessionId, Signal, default_rules};
use crate::platform::store::{
    Cond, CounterCap, Item, Query, Store, StoreError, WriteOp, for_each_item, keys, now_unix,
};

/// The session counter's counter name (signals appended in the session's lifetime).
const COUNT: &str = "n";
/// Attempts at a write that races others (a session's first append, a rules replacement).
const ATTEMPTS: usize = 4;

/// Why a chain write was refused.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The per-session limit (`400 invalid_request`, naming `signals`).
    #[error(
        "signals: session {session} may hold at most {max} signals (the per-session limit); \
         it holds {held} and this request adds {added}. Start a new session."
    )]
    SessionFull {
        session: SessionId,
        held: i64,
        added: i64,
        max: i64,
    },
    /// The session was started from another client address (`409`): a session id is not a
    /// secret, so it is bound to the network that started it; a stranger cannot add to it.
    #[error(
        "sessionId: session {0} was started by another client (another network address); \
         start a new session."
    )]
    Foreign(SessionId),
    /// A session's first append kept racing others (`503`, retry).
    #[error("chain session {0}: first append kept conflicting")]
    Contended(SessionId),
    #[error("The chain rules were replaced concurrently; retry.")]
    RulesBusy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn expiry(ttl: Duration) -> i64 {
    now_unix().saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2))
}

/// Whose session it is: the hashed address bucket of the client that started it
/// (`ratelimit::address_bucket`: IPv6 by /64; the store never holds an address).
pub fn owner_of_client(client: &str) -> String {
    crate::kernel::ratelimit::address_bucket("own_", client)
}

/// Whether the session counter lets `owner` in: the owner it was started by, or none recorded.
fn owned_by(counter: &Item, owner: &str) -> bool {
    counter.doc["owner"].as_str().is_none_or(|o| o == owner)
}

/// Appends `signals` to `owner`'s session, all or nothing, and returns the session's signal
/// count after the append (concurrent appends may already be included).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn append(
    store: &dyn Store,
    handle: &Handle,
    session: &SessionId,
    owner: &str,
    signals: &[Signal],
    ttl: Duration,
    max_per_session: u32,
) -> Result<i64, ChainError> {
    let pk = keys::chain_session_pk(handle, session.as_str());
    let added = i64::try_from(signals.len()).unwrap_or(i64::MAX);
    let max = i64::from(max_per_session);
    let expires_at = expiry(ttl);
    for _ in 0..ATTEMPTS {
        let counter = store.get(&pk, keys::CHAIN_SESSION_COUNT_SK).await?;
        if counter.as_ref().is_some_and(|c| !owned_by(c, owner)) {
            return Err(ChainError::Foreign(session.clone()));
        }
        let first_write = counter.is_none();
        if first_write && added > max {
            return Err(session_full(session, 0, added, max));
        }
        let counter_op =
            session_counter_op(&pk, first_write.then_some(owner), added, max, expires_at);
        let mut ops = Vec::with_capacity(signals.len() + 1);
        ops.push(counter_op);
        for signal in signals {
            let id = uuid::Uuid::new_v4().simple().to_string();
            let doc = crate::platform::store::to_doc(signal)?;
            ops.push(WriteOp::Put {
                item: Item::new(pk.clone(), keys::chain_signal_sk(signal.at_ms, &id), doc)
                    .expiring_at(Some(expires_at)),
                cond: Cond::Absent,
            });
        }
        match store.transact(ops).await {
            Ok(()) => {
                let total = store
                    .get(&pk, keys::CHAIN_SESSION_COUNT_SK)
                    .await?
                    .map_or(added, |i| i.counter(COUNT));
                return Ok(total);
            }
            // Another request wrote the session's first signals first: go again with ADD.
            Err(StoreError::TxConflict { index: 0, .. }) if first_write => continue,
            Err(StoreError::TxConflict { index: 0, .. }) => {
                // The cap failed — unless a backend reported a transient conflict the same way:
                // re-read, and only a count that really leaves no room is "full".
                let held = store
                    .get(&pk, keys::CHAIN_SESSION_COUNT_SK)
                    .await?
                    .map_or(0, |i| i.counter(COUNT));
                if held.saturating_add(added) > max {
                    return Err(session_full(session, held, added, max));
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ChainError::Contended(session.clone()))
}

fn session_full(session: &SessionId, held: i64, added: i64, max: i64) -> ChainError {
    ChainError::SessionFull {
        session: session.clone(),
        held,
        added,
        max,
    }
}

/// The session counter's write: the first write of a session puts it (if absent, which also
/// replaces an expired counter DynamoDB has not deleted yet, so a stale count never leaks into a
/// new session); later writes ADD under the cap.
fn session_counter_op(
    pk: &str,
    first_write_by: Option<&str>,
    added: i64,
    max: i64,
    expires_at: i64,
) -> WriteOp {
    if let Some(owner) = first_write_by {
        let doc = serde_json::json!({ "owner": owner });
        let mut item = Item::new(pk.to_owned(), keys::CHAIN_SESSION_COUNT_SK, doc)
            .expiring_at(Some(expires_at));
        item.counters.insert(COUNT.into(), added.into());
        WriteOp::Put {
            item,
            cond: Cond::Absent,
        }
    } else {
        WriteOp::Add {
            pk: pk.to_owned(),
            sk: keys::CHAIN_SESSION_COUNT_SK.into(),
            deltas: vec![(COUNT.into(), added.into())],
            cap: Some(CounterCap {
                counter: COUNT.into(),
                max,
            }),
            expires_at: Some(expires_at),
        }
    }
}

/// Every live signal of `owner`'s session, oldest first; none when another client started it
/// (a stranger learns nothing: its answers are those of an empty session). The partition's
/// counter comes in the same query (its sort key `N` sorts before the signals' `S#…`).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn load_signals(
    store: &dyn Store,
    handle: &Handle,
    session: &SessionId,
    owner: &str,
) -> Result<Vec<Signal>, StoreError> {
    let query = Query::all(keys::chain_session_pk(handle, session.as_str()));
    let mut signals = Vec::new();
    let mut stranger = false;
    for_each_item(store, query, |item| {
        if item.sk == keys::CHAIN_SESSION_COUNT_SK && !owned_by(item, owner) {
            stranger = true;
            return Ok::<_, StoreError>(ControlFlow::Break(()));
        }
        if item.sk.starts_with(keys::CHAIN_SIGNAL_SK_PREFIX) {
            signals.push(item.parse::<Signal>()?);
        }
        Ok(ControlFlow::Continue(()))
    })
    .await?;
    Ok(if stranger { Vec::new() } else { signals })
}

/// Where a handle's rules come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RulesSource {
    /// The built-in defaults (nothing stored).
    Default,
    /// The handle's own set, stored with `PUT …/chain/rules`.
    Custom,
}

/// A handle's effective rule set.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HandleRules {
    pub handle: Handle,
    pub source: RulesSource,
    /// 0 for the defaults; 1, 2, … for each stored replacement.
    pub version: u64,
    pub rules: Vec<Rule>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
}

/// The stored document at `H#{handle}` / `R`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RulesDoc {
    rules: Vec<Rule>,
    updated_at: Timestamp,
}

/// The handle's rules: its own set if it stored one, else the built-in defaults.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn load_rules(store: &dyn Store, handle: &Handle) -> Result<HandleRules, StoreError> {
    let item = store
        .get(&keys::handle_pk(handle), keys::CHAIN_RULES_SK)
        .await?;
    Ok(match item {
        Some(item) => {
            let doc: RulesDoc = item.parse()?;
            HandleRules {
                handle: handle.clone(),
                source: RulesSource::Custom,
                version: item.version,
                rules: doc.rules,
                updated_at: Some(doc.updated_at),
            }
        }
        None => HandleRules {
            handle: handle.clone(),
            source: RulesSource::Default,
            version: 0,
            rules: default_rules().to_vec(),
            updated_at: None,
        },
    })
}

/// Replaces the handle's rules with an already validated set; the version increases by one
/// (version-checked, so concurrent replacements each get their own version).
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn replace_rules(
    store: &dyn Store,
    handle: &Handle,
    rules: Vec<Rule>,
) -> Result<HandleRules, ChainError> {
    let pk = keys::handle_pk(handle);
    let updated_at = crate::platform::time::timestamp();
    let doc = crate::platform::store::to_doc(&RulesDoc {
        rules: rules.clone(),
        updated_at: updated_at.clone(),
    })?;
    for _ in 0..ATTEMPTS {
        let current = store.get(&pk, keys::CHAIN_RULES_SK).await?;
        let (cond, version) = match &current {
            Some(item) => (Cond::Version(item.version), item.version + 1),
            None => (Cond::Absent, 1),
        };
        let item = Item::new(pk.clone(), keys::CHAIN_RULES_SK, doc.clone()).with_version(version);
        match store.write(WriteOp::Put { item, cond }).await {
            Ok(_) => {
                return Ok(HandleRules {
                    handle: handle.clone(),
                    source: RulesSource::Custom,
                    version,
                    rules,
                    updated_at: Some(updated_at),
                });
            }
            Err(StoreError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ChainError::RulesBusy)
}
