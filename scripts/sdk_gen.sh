#!/usr/bin/env bash
# Regenerates the client libraries from openapi.yaml (issue 82).
#
#   scripts/sdk_gen.sh           # regenerate sdks/typescript/src/generated and
#                                # sdks/python/tenx_attribution/_generated in place
#   scripts/sdk_gen.sh --check   # regenerate into a temp dir; exit 1 naming every file that
#                                # differs from the checked-in code
#
# The generators are pinned and installed here, never globally:
#   - @hey-api/openapi-ts (npm, exact version and lock in sdks/gen/) into sdks/.tools/node_modules
#   - openapi-python-client (PyPI, exact version below) into .venv/sdk
# Both read the merchant-facing part of openapi.yaml that scripts/sdk_spec.py writes (why:
# docs/sdks.md#how-the-libraries-are-made). Needs node >= 20.19, npm and python3 >= 3.10.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYGEN_VERSION=0.29.1   # openapi-python-client
RUFF_VERSION=0.17.6   # its formatter (a post hook): pinned, so the output is the same everywhere
PYYAML_VERSION=6.0.4
CHECK=0
case "${1:-}" in
  --check) CHECK=1 ;;
  "") ;;
  *) echo "usage: scripts/sdk_gen.sh [--check]" >&2; exit 2 ;;
esac

VENV="$ROOT/.venv/sdk"
TOOLS="$ROOT/sdks/.tools"

# --- the generators -------------------------------------------------------------------------
want_py="openapi-python-client==$PYGEN_VERSION ruff==$RUFF_VERSION PyYAML==$PYYAML_VERSION"
if ! "$VENV/bin/python" - "$PYGEN_VERSION" "$RUFF_VERSION" "$PYYAML_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if (version("openapi-python-client"), version("ruff"), version("PyYAML")) == tuple(sys.argv[1:]) else 1)
PY
then
  echo "sdk_gen: installing $want_py into .venv/sdk" >&2
  # shellcheck disable=SC2086 # the list's words are the packages
  "$ROOT/scripts/pip_install.sh" "$VENV" $want_py
fi
mkdir -p "$TOOLS"
if ! cmp -s "$ROOT/sdks/gen/package-lock.json" "$TOOLS/package-lock.json" \
   || [ ! -x "$TOOLS/node_modules/.bin/openapi-ts" ]; then
  echo "sdk_gen: installing @hey-api/openapi-ts (sdks/gen/package-lock.json) into sdks/.tools" >&2
  cp "$ROOT/sdks/gen/package.json" "$ROOT/sdks/gen/package-lock.json" "$TOOLS/"
  (cd "$TOOLS" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
fi

# --- generate -------------------------------------------------------------------------------
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$VENV/bin/python" "$ROOT/scripts/sdk_spec.py" "$WORK/openapi.sdk.json"

TS_OUT="$WORK/ts"
PY_OUT="$WORK/py"
(cd "$ROOT/sdks/gen" && TENX_SDK_SPEC="$WORK/openapi.sdk.json" TENX_SDK_TS_OUT="$TS_OUT" \
  "$TOOLS/node_modules/.bin/openapi-ts" -f "$ROOT/sdks/gen/openapi-ts.config.mjs" \
  > "$WORK/ts.log" 2>&1) || { cat "$WORK/ts.log" >&2; echo "sdk_gen: openapi-ts failed" >&2; exit 1; }
(cd "$WORK" && PATH="$VENV/bin:$PATH" "$VENV/bin/openapi-python-client" generate \
  --path "$WORK/openapi.sdk.json" --output-path "$PY_OUT" --meta none \
  --config "$ROOT/sdks/gen/openapi-python-client.yaml" > "$WORK/py.log" 2>&1) \
  || { cat "$WORK/py.log" >&2; echo "sdk_gen: openapi-python-client failed" >&2; exit 1; }
if grep -q "Warning" "$WORK/py.log"; then
  cat "$WORK/py.log" >&2
  echo "sdk_gen: openapi-python-client left parts of the document out (above)" >&2
  exit 1
fi
find "$WORK" \( -name __pycache__ -o -name .ruff_cache \) -prune -exec rm -rf {} +

TS_DEST="$ROOT/sdks/typescript/src/generated"
PY_DEST="$ROOT/sdks/python/tenx_attribution/_generated"
if [ "$CHECK" = 1 ]; then
  status=0
  for pair in "$TS_OUT:$TS_DEST" "$PY_OUT:$PY_DEST"; do
    new="${pair%%:*}" old="${pair#*:}"
    if ! diff -rq -x __pycache__ "$old" "$new" > "$WORK/diff.txt" 2>&1; then
      status=1
      sed -e "s#$new#(regenerated)#g" -e "s#$ROOT/##g" "$WORK/diff.txt" >&2
    fi
  done
  if [ "$status" != 0 ]; then
    echo "sdk_gen --check: the checked-in libraries differ from what openapi.yaml produces; run scripts/sdk_gen.sh and commit" >&2
    exit 1
  fi
  echo "sdk_gen --check: sdks/typescript/src/generated and sdks/python/tenx_attribution/_generated match openapi.yaml"
  exit 0
fi
rm -rf "$TS_DEST" "$PY_DEST"
mkdir -p "$(dirname "$TS_DEST")" "$(dirname "$PY_DEST")"
cp -r "$TS_OUT" "$TS_DEST"
cp -r "$PY_OUT" "$PY_DEST"
echo "sdk_gen: wrote sdks/typescript/src/generated ($(du -sh "$TS_DEST" | cut -f1)) and sdks/python/tenx_attribution/_generated ($(du -sh "$PY_DEST" | cut -f1))"
