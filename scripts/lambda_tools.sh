#!/usr/bin/env bash
# Installs the Lambda tooling from PyPI into .venv/deploy (idempotent): aws-sam-cli (`sam validate
# --lint`, `sam build`) and cargo-lambda (which brings zig for cross-linking). A venv of its own,
# so its pinned dependencies never clash with moto's in .venv. Prints the bin dir to put on PATH.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv/deploy"
if [ ! -x "$venv/bin/sam" ] || [ ! -x "$venv/bin/cargo-lambda" ]; then
  "$root/scripts/pip_install.sh" "$venv" 'aws-sam-cli==1.170.0' 'cargo-lambda==1.9.2'
fi
echo "$venv/bin"
