#!/usr/bin/env bash
# The project's test command: formatting, lints, and every test on BOTH backends — the embedded
# store/queue and DynamoDB/SQS (moto's server, started here on loopback). Nothing is skipped: the
# AWS-backend tests fail loudly when no endpoint is configured.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS=0

echo "== moto (DynamoDB + SQS + Kinesis emulator)"
eval "$(scripts/moto.sh)"
trap 'kill "$(cat .venv/moto.pid)" 2>/dev/null || true' EXIT
echo "moto at $AWS_ENDPOINT_URL"

echo "== openapi.yaml (structural OpenAPI 3.1 validation)"
.venv/bin/openapi-spec-validator openapi.yaml

echo "== template.yaml (sam validate --lint; the SAM transform, offline)"
lambda_tools=$(scripts/lambda_tools.sh)
# Both run locally and need no credentials; a region keeps the SDK-based checks quiet.
(
  unset AWS_ENDPOINT_URL
  export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 SAM_CLI_TELEMETRY=0
  "$lambda_tools/sam" validate --lint --template template.yaml
  "$lambda_tools/python" scripts/sam_translate.py template.yaml
)

echo "== module graph (no cycle, no upward import, no function over 80 lines in shared/src)"
python3 scripts/check_layers.py

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --all-features -- -D warnings

echo "== tests (embedded backend, plus the AWS seam suites against moto)"
cargo test --workspace --all-features

echo "== end-to-end tests on the AWS backend (DynamoDB + SQS + Kinesis on moto)"
TENX_TEST_BACKEND=aws cargo test --all-features --test api

echo "== schema-driven fuzzing (scripts/fuzz.sh: schemathesis, openapi.yaml against tenx serve)"
scripts/fuzz.sh

echo "== console in headless Chromium (scripts/browser_test.sh; screenshots in target/console-screenshots)"
scripts/browser_test.sh

echo "== Lambda functions (cargo lambda build --release, every function, one invocation)"
scripts/lambda_build.sh

echo "scripts/test.sh passed in ${SECONDS} s"
