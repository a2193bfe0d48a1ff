#!/usr/bin/env bash
# template.yaml: `sam validate --lint` and the SAM transform (scripts/sam_translate.py), both offline;
# they need no credentials, and a region keeps the SDK-based checks quiet.
set -euo pipefail
cd "$(dirname "$0")/.."
lambda_tools=$(scripts/lambda_tools.sh)
unset AWS_ENDPOINT_URL
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 SAM_CLI_TELEMETRY=0
"$lambda_tools/sam" validate --lint --template template.yaml
"$lambda_tools/python" scripts/sam_translate.py template.yaml
