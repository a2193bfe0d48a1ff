//! 10x attribution, the kernel: typed ids, money, time and the product's pure rules (`domain`); the store, queue, stream, mail and upload seams with their embedded and AWS engines, settings and clients (`platform`); credentials and sessions' primitives (`auth`); the application state, events, the outbox and rate limits (`kernel`).
//!
//! docs/architecture.md maps the crates; Cargo's dependency graph states their layers.

pub mod auth;
pub mod domain;
pub mod kernel;
pub mod platform;
#[doc(hidden)]
pub mod testing;
