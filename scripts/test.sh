#!/usr/bin/env bash
# The project's test command: formatting, lints, every test on the embedded backend (store, queue
# and stream in the data dir), and on DynamoDB/SQS/Kinesis (moto, started here on loopback) the
# seam conformance suites and every api test whose outcome depends on the engine (the rule in
# docs/ci.md; the list in tests/api/engines.toml, checked by scripts/check_engines.py), the schema
# fuzzer, the console in headless Chromium and the Lambda builds. Nothing is skipped: the
# AWS-backend tests fail loudly when no endpoint is configured.
#
# Shape (2 cores, nothing cached, measured in docs/ci.md): the tools (PyPI venvs, Chromium) install
# in the background while cargo compiles; the test build is clippy's check too (clippy's driver
# compiles the workspace's crates, so nothing is compiled twice); the Lambda functions then
# build at idle priority, in a build dir shared with the
# test build, reusing every crate it compiled, while the tests run from the build's list of
# binaries (no cargo, so no lock to wait for); the end-to-end tests spread over two motos; the
# fuzzer, the console's walks, the docs and the client libraries run beside the chaos stage,
# which mostly waits.
# Every stage is bounded by counts (tests, fuzz examples), and every time limit is a hang guard
# far above the stage's time: a stage that hits one says so. Each stage's time is printed at the
# end, with the CPU the machine used meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ci/stages.sh
# .venv exists before the tool stages start: moto's venv is .venv itself while the others
# create .venv/{deploy,fuzz,…}, and two `python3 -m venv` making .venv at once race (one fails
# with "File exists").
mkdir -p target/ci .venv
trap bg_kill_all EXIT
# The test runner: every test in its own process, several at a time (.config/nextest.toml).
command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest

# ------------------------------------------------------------------ background: tools
bg_stage tools-moto 2400 scripts/moto.sh --install
# cargo-lambda and SAM (.venv/deploy), for the Lambda build and sam_check.sh.
bg_stage tools-lambda 2400 scripts/lambda_tools.sh
bg_stage tools-fuzz 2400 scripts/fuzz.sh --install
bg_stage tools-browser 2400 scripts/browser_test.sh --install
# xmllint and the pain.001.001.03 XSD (from PyPI's sepaxml) the SEPA batch test validates against.
bg_stage tools-sepa 1200 scripts/sepa_schema.sh --install
# pdftotext (Debian's poppler-utils): the tax form and invoice tests read their PDFs back as text.
bg_stage tools-pdf 1200 scripts/pdf_tools.sh --install
# aiosmtpd (PyPI, pinned; .venv/smtp): the real SMTP server the mail tests send to (issue 59).
bg_stage tools-smtp 600 scripts/smtp_server.sh --install
# oidc-provider (npm, pinned; .venv/oidc): the real OpenID Connect provider the sign-in tests use (issue 60).
bg_stage tools-oidc 600 scripts/oidc_provider.sh --install
# dnslib (PyPI, pinned; .venv/dns): the authoritative DNS server the custom-domain tests verify
# against (issue 64).
bg_stage tools-dns 600 scripts/dns_server.sh --install
# openssl (Debian's): the local Stripe and PayPal the provider payout tests start one per test
# (scripts/provider_server.py signs PayPal's webhooks with it; issue 78). Missing, they fail.
bg_stage tools-provider 600 scripts/provider_server.sh --install
# The client libraries' installs and builds (npm ci, tsc, pip): off the tail, where the sdks
# stage below ran them beside the fuzzer and the walks.
bg_stage tools-sdks 900 nice -n 5 scripts/sdk_test.sh --install

# ------------------------------------------------------------------ quick checks
stage "module graph and typed edges (check_layers.py)" 120 python3 scripts/check_layers.py
stage "MSRV: rust-version against every locked dependency (check_msrv.py)" 120 python3 scripts/check_msrv.py
stage "cargo fmt --check" 120 cargo fmt --all -- --check
# Which api tests run on which engine (tests/api/engines.toml, the rule in docs/ci.md): every
# module in one table, every listed module and test existing. The AWS stage below filters from it.
stage "tests/api modules by engine (check_engines.py)" 120 python3 scripts/check_engines.py --counts
stage "the Lambda build reuses the test build's dependencies (check_features.py)" 120 \
  python3 scripts/check_features.py
# A Python check of its own (segno in .venv/qr): beside the compile, joined at the end.
bg_stage qr-check 300 python3 scripts/qr_check.py
# The local Stripe Connect and PayPal Payouts the payout tests send to (issue 78): its own tests
# (every route, fault and webhook signature; ~4 s), beside the compile, joined at the end.
bg_stage provider-server 300 sh -c 'scripts/provider_server.sh --install && python3 scripts/provider_server_test.py'

# ------------------------------------------------------------------ compile: the test build, linted
# Background builds run at the lowest CPU and I/O priority: they take only what the foreground
# leaves idle (the test build's single-threaded stretches, the chaos stage's waits) and finish on
# their own. A build beside the tests at equal priority once slowed the emulator into timeouts
# (503s); at this priority the emulator and the tests go first.
idle=(nice -n 19)
command -v ionice >/dev/null && idle+=(ionice -c 3)
# Clippy's lints run inside the test build: `cargo clippy` is `cargo check` with clippy's driver
# as the workspace's rustc wrapper and its arguments in CLIPPY_ARGS, and the same driver given to
# the build compiles and lints our crates in one pass (dependencies are compiled by plain rustc,
# as under cargo clippy). A separate `cargo clippy` checked every dependency and our crates a
# second time in a target dir of its own (~500 CPU-s of a 2-core run). Clippy's `--all-targets`
# is covered by the two builds that compile them anyway: the test build takes the libraries,
# `tenx`, the tests and the benchmarks (built in the test profile and run once each as tests:
# criterion's test mode); the Lambda build below, the functions (`--exclude 'fn-*'` here,
# as `--tests` would give each function a test harness of its own).
clippy_lint=(env RUSTC_WORKSPACE_WRAPPER="$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver)"
  CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__")
# For the host's triple, named (as cargo-lambda names it), with cargo's intermediate artifacts in a
# build dir the Lambda build below shares: it then finds every crate compiled here, the product's
# own included, with the same features (check_features.py: the product's crates have none), and
# compiles only the functions' `main`s. Its own target dir keeps its binaries apart: cargo-lambda
# moves every workspace binary it finds in its target dir into target/lambda/ (tenx too, which
# the tests run).
host=$(rustc -vV | sed -n 's/^host: //p')
shared_build=(env CARGO_BUILD_BUILD_DIR="$PWD/target/build")
stage "test build, linted by clippy (cargo nextest --tests --benches, --no-run; -D warnings)" 2400 \
  "${shared_build[@]}" "${clippy_lint[@]}" \
  cargo nextest run --workspace --exclude 'fn-*' --tests --benches --all-features --cargo-quiet --no-run --target "$host" \
  --timings
# Where the build's time went (cargo's --timings report): its longest units and its last stretch.
python3 scripts/ci/build_timings.py
# The test binaries and the workspace, listed once: the runs below take them from these files and
# invoke no cargo, so the Lambda build can hold the build dir's lock meanwhile.
stage "test binaries listed (nextest --binaries-metadata)" 300 "${shared_build[@]}" bash -c "
  ${clippy_lint[*]} cargo nextest list --workspace --exclude 'fn-*' --tests --benches --all-features --cargo-quiet --target $host \
    --list-type binaries-only --message-format json >target/ci/binaries.json &&
  cargo metadata --format-version 1 --all-features >target/ci/cargo-metadata.json"
reuse=(--binaries-metadata target/ci/binaries.json --cargo-metadata target/ci/cargo-metadata.json)
# The Lambda functions, at idle priority too.
wait_stage tools-lambda
# The template (sam validate --lint, the SAM transform): a few seconds of Python, beside the
# tests at nice 10, joined at the end.
bg_stage sam-check 300 nice -n 10 scripts/sam_check.sh
bg_stage lambda-build 2400 "${idle[@]}" "${shared_build[@]}" "${clippy_lint[@]}" \
  CARGO_TARGET_DIR=target/lambda-ci scripts/lambda_build.sh

# ------------------------------------------------------------------ tests on both backends
wait_stage tools-moto
# The SEPA file test fails (never skips) without the schema and xmllint.
wait_stage tools-sepa
# The invoice and 1099-NEC tests fail (never skip) without pdftotext.
wait_stage tools-pdf
wait_stage tools-smtp
wait_stage tools-oidc
eval "$(scripts/smtp_server.sh)"
wait_stage tools-dns
eval "$(scripts/dns_server.sh)"
wait_stage tools-provider
bg_stage openapi-check 120 nice -n 10 .venv/bin/openapi-spec-validator openapi.yaml
eval "$(scripts/sepa_schema.sh)"
# Two motos: one answers a DynamoDB request at a time on one core, so the end-to-end stage on a
# single one waited on it with a core idle; the tests spread over both by their nextest slot.
eval "$(TENX_MOTO_SERVERS=2 scripts/moto.sh)"
trap 'kill $(cat .venv/moto.pid) 2>/dev/null || true; bg_kill_all' EXIT
echo "moto at $TENX_TEST_AWS_ENDPOINTS"
stage "tests: embedded backend + AWS seam suites (moto)" 2400 \
  cargo nextest run --profile ci "${reuse[@]}"
# On the AWS backend a second time: only the api tests whose outcome depends on the engine
# (tests/api/engines.toml's [both] modules and [both_tests]: races on conditional writes, crashes
# and redeliveries, expiry, queries at scale, S3, AWS-only suites). A use case's HTTP behaviour ran
# once, in the stage above; the store, queue and stream conformance suites ran on both engines
# there too. The chaos modules have a stage of their own below.
aws_tests=$(python3 scripts/check_engines.py --aws-filter)
stage "tests: end-to-end API on the AWS backend (moto), the engine-specific ones" 2400 \
  env TENX_TEST_BACKEND=aws cargo nextest run --profile ci "${reuse[@]}" \
  -E "binary(api) & ($aws_tests) & not test(/^chaos/)"

# ------------------------------------------------------------------ the binary, driven from outside
# The fuzzer, the console's walks, the docs and the client libraries drive the tenx the test
# build linked (same features: no second compile of the library), beside the chaos stage, which
# leaves about two thirds of the CPU idle (it waits on settles), at a lower priority than it
# (nice 10: the chaos runs' measured bounds keep ~90 % of a contended core). Not beside the test
# stages: started there (stop 93) they slowed the AWS stage from ~284 s to 450 s, whose tests
# wait on each of the emulator's answers in turn (any process beside moto delays every answer),
# far more than they took off the tail.
export TENX_BIN=$PWD/target/$host/debug/tenx
wait_stage tools-fuzz
# Its own hang guard (FUZZ_MAX_TIME, 900 s) raised: on a busy machine it once got 118 CPU-s in
# 914 s and hit it.
bg_stage fuzz 1800 nice -n 10 env FUZZ_MAX_TIME=1700 scripts/fuzz.sh
wait_stage tools-browser
bg_stage browser 1200 nice -n 10 scripts/browser_test.sh
# The docs as a reader copies them (issue 62): every shell block of README.md and docs/*.md
# against a fresh `tenx serve` per file, in a network namespace with loopback only. The
# runner's own test first: a fixture with a failing block must fail, naming its line.
bg_stage docs 900 nice -n 10 sh -c 'python3 scripts/docs_run.py --self-test && python3 scripts/docs_run.py'
# The client libraries (sdks/): their generated code checked against openapi.yaml, the quick
# starts against the docs, each library's tests against a fresh `tenx serve` (installed beside
# the compile: tools-sdks above).
wait_stage tools-sdks
bg_stage sdks 900 nice -n 10 env SDK_TEST_INSTALLED=1 scripts/sdk_test.sh

# The chaos runs on moto measure a settle (issue 42: every click counted within 120 s of the
# restart) through the fault proxy: one at a time, with no other test beside them (the
# fuzzer, the walks, the docs and the libraries above run beside them at nice 10), so the
# bound they check is the system's and not the other tests' load. The kills-only run is not run
# here a second time: each fault run kills the server twice as well (faults and kills at once),
# the kills alone ran on the embedded engine in the first stage, and `scripts/bench.sh settle`
# runs it on moto with the rest.
stage "tests: chaos runs on the AWS backend (moto), one at a time" 2400 \
  env TENX_TEST_BACKEND=aws cargo nextest run --profile ci "${reuse[@]}" \
  --test-threads 1 -E 'binary(api) & test(/^chaos/) & not test(/^chaos_clicks::every_click_and_conversion_settles_after_kills/)'

wait_stage qr-check
wait_stage provider-server
wait_stage openapi-check
wait_stage sam-check
wait_stage fuzz
wait_stage browser
wait_stage docs
wait_stage sdks
wait_stage lambda-build

print_stage_times
echo "scripts/test.sh passed in ${SECONDS} s"
