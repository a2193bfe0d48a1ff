//! End-to-end tests over HTTP: each test spawns the whole local app on port 0 (the zero2prod
//! `spawn_app` pattern) on a fresh durable data dir, or, with `TENX_TEST_BACKEND=aws`, on a fresh
//! DynamoDB table and SQS queues behind `AWS_ENDPOINT_URL` (see `scripts/test.sh`).

// The workspace's cast lints guard money and time in the service; a test's small constants and
// counters are not either, and `try_from(..).unwrap()` on each would only add noise.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)]

mod endpoints;
mod helpers;
mod provider_server;

mod access_matrix;
mod accrual_batches;
mod analytics;
mod audit;
mod audit_actors;
mod audit_coverage;
mod backlog;
mod bots;
mod buyer_binding;
mod campaigns;
mod chain;
mod chaos;
mod chaos_clicks;
mod claims;
mod claims_proof;
mod claims_words;
mod commissions;
mod connector_replays;
mod connectors;
mod console;
mod conversions;
mod coupon_leaks;
mod customers;
mod dashboard;
mod deliveries;
mod domains;
mod domains_alb;
mod domains_aws;
mod fraud;
mod hardening;
mod imports;
mod imports_dub;
mod imports_exports;
mod imports_programs;
mod imports_pull;
mod imports_uploads;
mod integration_tests;
mod links;
mod mail;
mod mail_admins;
mod mail_kinds;
mod mail_limits;
mod mail_locale;
mod mail_preferences;
mod messages;
mod money_rule;
mod oidc;
mod op_budgets;
mod openapi;
mod origins;
mod partner_links;
mod partner_names;
mod partner_traffic;
mod partner_users;
mod passkeys;
mod payout_batches;
mod payout_jobs;
mod payout_providers;
mod payout_races;
mod payout_runs;
mod people;
mod plan_changes;
mod plan_tiers;
mod portal_words;
mod programs;
mod provider_payouts;
mod public_surfaces;
mod rate_limits;
mod reasons;
mod redirect;
mod risk;
mod scenario;
mod script;
mod search;
mod sepa_files;
mod serve;
mod statement_pages;
mod tax_forms;
mod tax_profiles;
mod test_mode;
mod tokens;
mod trust;
mod variants;
mod verified;
mod webhooks;
mod weekly_summary;
mod words;
mod write_path;
