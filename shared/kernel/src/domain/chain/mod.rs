//! Chain lifecycle messaging, the pure part: session signals, per-handle decision rules, the
//! built-in defaults and the deterministic engine that turns a session into a decision at a
//! trigger. Storage and HTTP live in `tenx_identity::chain` and `tenx_api::http::chain`.

pub mod defaults;
pub mod engine;
pub mod rules;
pub mod signal;

pub use defaults::default_rules;
pub use engine::{Evaluation, NO_RULE_MATCHED, SessionFacts, evaluate};
pub use rules::{
    Action, Channel, Condition, Decision, MAX_CONDITIONS, MAX_RULES, MAX_TEMPLATE_CHARS, Rule,
    validate_rules,
};
pub use signal::{
    MAX_SIGNAL_DATA_BYTES, MAX_SIGNALS_PER_REQUEST, SessionId, Signal, SignalInput, SignalType,
    Trigger, validate_signals,
};
