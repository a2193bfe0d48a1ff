//! The library's integration tests, one binary: the store, queue and stream conformance suites
//! on each engine, DynamoDB's conflict model, the bot classifier on public corpora, a Lambda
//! function's cold path and the ledger's reads at scale. One binary links the library once where
//! six linked it six times (CI's test build, docs/ci.md); nextest still runs each test in a
//! process of its own.

mod bot_corpus;
mod conformance_aws;
mod conformance_embedded;
mod dynamodb_conflicts;
mod lambda_cold_start;
mod ledger_scale;
