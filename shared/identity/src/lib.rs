//! 10x attribution, who 10x knows and how it reaches them: people and their sessions, partners, API and partner tokens; mail, messages, Standard Webhooks and the chain. Mail and messages read partners, and partners own their postback subscriptions, so reaching and knowing share one crate until mail asks for partners through the kernel.
//!
//! docs/architecture.md maps the crates; Cargo's dependency graph states their layers.

pub mod chain;
pub mod mail;
pub mod messages;
pub mod partners;
pub mod people;
pub mod tokens;
pub mod webhooks;

// The lower crates' modules under the paths the code names them by (`crate::partners::…`).
use tenx_kernel::{auth, domain, kernel, platform};
