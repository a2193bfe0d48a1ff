#!/usr/bin/env bash
# The project's test command: formatting, lints, and every test on BOTH backends (the embedded
# store/queue/stream and DynamoDB/SQS/Kinesis on moto, started here on loopback), the schema fuzzer,
# the console in headless Chromium and the Lambda builds. Nothing is skipped: the AWS-backend tests
# fail loudly when no endpoint is configured.
#
# Shape (2 cores, nothing cached, measured in docs/ci.md): the tools (PyPI venvs, Chromium) install
# in the background while cargo compiles; clippy (a target dir of its own, so neither waits for
# the other's lock) and then the Lambda functions (one cargo invocation, a CI profile, a third
# target dir) build in the background at the lowest CPU and I/O priority (`IDLE`), so they take
# only what the test build and the tests leave: the tests mostly wait on the emulator and on
# consumers' polls, and those cycles would otherwise go unused. Every stage is bounded by counts (tests,
# fuzz examples), and every time limit is a hang guard far above the stage's time: a stage that
# hits one says so. Each stage's time is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ci/stages.sh
mkdir -p target/ci
trap bg_kill_all EXIT
# The test runner: every test in its own process, several at a time (.config/nextest.toml).
command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest

# ------------------------------------------------------------------ background: tools
bg_stage tools-moto 2400 scripts/moto.sh --install
bg_stage tools-lambda 2400 scripts/lambda_tools.sh
bg_stage tools-fuzz 2400 scripts/fuzz.sh --install
bg_stage tools-browser 2400 scripts/browser_test.sh --install

# ------------------------------------------------------------------ quick checks
stage "module graph and typed edges (check_layers.py)" 120 python3 scripts/check_layers.py
stage "cargo fmt --check" 120 cargo fmt --all -- --check

# ------------------------------------------------------------------ compile: clippy beside the test build
# `IDLE`: lowest CPU priority (nice 19: ~1.5 % of a core against a busy normal process) and the
# idle I/O class. At normal priority a build beside the tests slowed the emulator on 2 cores until
# its answers timed out (503s); at this priority it waits for the cycles the tests leave.
IDLE=(ionice -c 3 nice -n 19)
bg_stage clippy 2400 "${IDLE[@]}" env CARGO_TARGET_DIR=target/clippy \
  cargo clippy --workspace --all-targets --all-features --quiet -- -D warnings
stage "test build (cargo nextest, --no-run)" 2400 \
  cargo nextest run --workspace --all-features --cargo-quiet --no-run
# The functions build in their own target dir, behind clippy, through the tests.
wait_stage tools-lambda
bg_stage lambda-build 2400 "${IDLE[@]}" scripts/lambda_build.sh

# ------------------------------------------------------------------ tests on both backends
wait_stage tools-moto
eval "$(scripts/moto.sh)"
trap 'kill "$(cat .venv/moto.pid)" 2>/dev/null || true; bg_kill_all' EXIT
echo "moto at $AWS_ENDPOINT_URL"
stage "tests: embedded backend + AWS seam suites (moto)" 2400 \
  cargo nextest run --workspace --all-features --cargo-quiet --profile ci
stage "tests: end-to-end API on the AWS backend (moto)" 2400 \
  env TENX_TEST_BACKEND=aws cargo nextest run --workspace --all-features --cargo-quiet --profile ci \
  -E 'binary(api)'

# ------------------------------------------------------------------ specs and template
stage "openapi.yaml (OpenAPI 3.1 validation)" 120 .venv/bin/openapi-spec-validator openapi.yaml
stage "template.yaml (sam validate --lint, SAM transform)" 300 scripts/sam_check.sh

# ------------------------------------------------------------------ the binary, driven from outside
# Both use the tenx that the test build linked (same features: no second compile of the library).
export TENX_BIN=$PWD/target/debug/tenx
wait_stage tools-fuzz
stage "schema fuzzing (scripts/fuzz.sh)" 1200 scripts/fuzz.sh
wait_stage tools-browser
stage "console in headless Chromium (scripts/browser_test.sh)" 1200 scripts/browser_test.sh

wait_stage clippy
wait_stage lambda-build

print_stage_times
echo "scripts/test.sh passed in ${SECONDS} s"
