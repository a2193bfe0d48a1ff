//! Chain lifecycle messaging, the pure part: session signals, per-handle decision rules, the
//! built-in defaults and the deterministic engine that turns a session into a decision at a
//! trigger. Storage and HTTP live in `crate::chain` and `crate::http::chain`.

pub mod defaults;
pub mod engine;
pub mod rules;
pub mod signal;

pub use defaults::default_rules;
pub use engine::{evaluate, Evaluation, SessionFacts, NO_RULE_MATCHED};
pub use rules::{
    validate_rules, Action, Channel, Condition, Decision, Rule, MAX_CONDITIONS, MAX_RULES,
    MAX_TEMPLATE_CHARS,
};
pub use signal::{
    validate_signals, SessionId, Signal, SignalInput, SignalType, Trigger, MAX_SIGNALS_PER_REQUEST,
    MAX_SIGNAL_DATA_BYTES,
};
