#!/usr/bin/env bash
# The client libraries' tests against a real `tenx serve` (issue 82).
#
#   TENX_BIN=target/x86_64-unknown-linux-gnu/debug/tenx scripts/sdk_test.sh
#
# 1. the versions agree: package.json, pyproject.toml and the libraries' API_VERSION equal
#    openapi.yaml's info.version;
# 2. scripts/sdk_gen.sh --check: the checked-in generated code is what openapi.yaml produces;
# 3. the quick starts of docs/sdks.md and README.md are, byte for byte, the example files the
#    tests run;
# 4. TypeScript: npm ci (sdks/typescript/package-lock.json), build, node --test against a fresh
#    server; Python: pip install into .venv/sdk, pytest against another fresh server.
# Needs node >= 20.19, npm, python3 >= 3.10 and the registries (npm, PyPI) for the installs.
#
#   scripts/sdk_test.sh --install
#
# only installs and builds (4's npm ci, build and pip install; no server needed), so CI does it
# beside the compile; a later run with SDK_TEST_INSTALLED=1 then skips those steps.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv/sdk"
install_libraries() {
  (cd sdks/typescript && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build)
  scripts/pip_install.sh "$VENV" -e "sdks/python[test]"
}
if [ "${1:-}" = "--install" ]; then
  install_libraries
  echo "sdk_test: the libraries installed and built"
  exit 0
fi
TENX_BIN="${TENX_BIN:-target/x86_64-unknown-linux-gnu/debug/tenx}"
case "$TENX_BIN" in /*) ;; *) TENX_BIN="$ROOT/$TENX_BIN" ;; esac
[ -x "$TENX_BIN" ] || { echo "sdk_test: no tenx binary at $TENX_BIN (set TENX_BIN)" >&2; exit 1; }
START=$(date +%s)

# --- 1. versions ------------------------------------------------------------------------------
api_version=$(sed -n '/^info:/,/^[a-z]/s/^  version: *//p' openapi.yaml | head -1 | tr -d "\"'")
ts_version=$(node -p "require('./sdks/typescript/package.json').version")
py_version=$(sed -n 's/^version = "\(.*\)"/\1/p' sdks/python/pyproject.toml | head -1)
ts_api=$(sed -n "s/^export const API_VERSION = '\(.*\)';/\1/p" sdks/typescript/src/version.ts)
py_api=$(sed -n 's/^API_VERSION = "\(.*\)"/\1/p' sdks/python/tenx_attribution/_version.py)
for v in "$ts_version" "$py_version" "$ts_api" "$py_api"; do
  if [ "$v" != "$api_version" ]; then
    echo "sdk_test: versions disagree: openapi.yaml $api_version, package.json $ts_version," \
      "pyproject.toml $py_version, API_VERSION $ts_api (TS) $py_api (Python)" >&2
    exit 1
  fi
done
echo "sdk_test: versions agree: $api_version"

# --- 2. generated code ------------------------------------------------------------------------
scripts/sdk_gen.sh --check

# --- 3. the quick starts are the tested files -------------------------------------------------
python3 - <<'PY'
import re, sys
from pathlib import Path
quick = ["sdks/typescript/examples/quickstart.ts", "sdks/python/examples/quickstart.py"]
hooks = ["sdks/typescript/examples/webhook.ts", "sdks/python/examples/webhook.py"]
bad = 0
for doc_path, paths in [("docs/sdks.md", quick + hooks), ("README.md", quick)]:
    doc = Path(doc_path).read_text()
    for path in paths:
        marker = f"<!-- sdk_test: {path} -->"
        m = re.search(re.escape(marker) + r"\s*```[a-z]+\n(.*?)```", doc, re.S)
        if not m:
            print(f"sdk_test: {doc_path} has no block after {marker}", file=sys.stderr); bad = 1
        elif m.group(1) != Path(path).read_text():
            print(f"sdk_test: {doc_path}'s block differs from {path}", file=sys.stderr); bad = 1
if bad:
    sys.exit(1)
print("sdk_test: the quick starts in docs/sdks.md and README.md are the example files the tests run")
PY

# --- a fresh server ---------------------------------------------------------------------------
PIDS=()
DIRS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for d in "${DIRS[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT
start_server() { # sets TENX_URL and TENX_TOKEN
  local dir port
  dir=$(mktemp -d)
  DIRS+=("$dir")
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  TENX_WEBHOOKS_ALLOW_PRIVATE=true "$TENX_BIN" serve --addr "127.0.0.1:$port" --data-dir "$dir/.tenx" \
    > "$dir/server.log" 2>&1 &
  PIDS+=("$!")
  for _ in $(seq 1 100); do
    if python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/healthz', timeout=1)" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  export TENX_URL="http://127.0.0.1:$port"
  export TENX_TOKEN
  TENX_TOKEN=$("$TENX_BIN" token --handle acme --role admin --data-dir "$dir/.tenx")
}

# --- 4. installs (done already when CI ran --install beside the compile) ---------------------
[ "${SDK_TEST_INSTALLED:-}" = 1 ] || install_libraries

# --- 4a. TypeScript ---------------------------------------------------------------------------
start_server
echo "sdk_test: TypeScript against $TENX_URL"
ts_status=0
(cd sdks/typescript && npm test --silent) || ts_status=$?

# --- 4b. Python -------------------------------------------------------------------------------
start_server
echo "sdk_test: TypeScript exit $ts_status; Python against $TENX_URL ($(( $(date +%s) - START )) s so far)"
py_status=0
# The last lines are pytest's summary (the runner's own), so nothing is printed after it.
(cd sdks/python && "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests) || py_status=$?
[ "$ts_status" = 0 ] && [ "$py_status" = 0 ]
