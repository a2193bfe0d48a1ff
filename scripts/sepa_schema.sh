#!/usr/bin/env bash
# The ISO 20022 schema the SEPA batch test validates its pain.001.001.03 files against (issue 46),
# fetched at test time, never committed: PyPI's `sepaxml` package (pinned) ships the XSD; pip
# downloads its wheel and the schema is unpacked into .venv/sepa/. `xmllint` (Debian's
# libxml2-utils) validates; installed here with apt-get when missing (as root).
#
#   scripts/sepa_schema.sh            # installs if needed, prints `export TENX_SEPA_XSD=…`
#   scripts/sepa_schema.sh --install  # only installs (CI does it in the background)
#
# tests/api/payout_batches.rs reads TENX_SEPA_XSD (default .venv/sepa/pain.001.001.03.xsd) and
# FAILS when the schema or xmllint is missing: run this script first.
set -euo pipefail
cd "$(dirname "$0")/.."

SEPAXML_VERSION=2.6.1
dir=.venv/sepa
xsd=$dir/pain.001.001.03.xsd

if ! command -v xmllint >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing libxml2-utils (xmllint) with apt-get" >&2
    # CI installs Chromium in the background at the same time: wait for apt's locks, then retry.
    for try in 1 2 3 4 5 6 7 8 9 10; do
      if apt-get -o DPkg::Lock::Timeout=300 update -qq \
        && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq libxml2-utils >/dev/null; then
        break
      fi
      [ "$try" = 10 ] && exit 1
      sleep 15
    done
  else
    echo "scripts/sepa_schema.sh needs xmllint: apt-get install libxml2-utils" >&2
    exit 1
  fi
fi

if [ ! -s "$xsd" ] || [ "$(cat "$dir/version" 2>/dev/null)" != "$SEPAXML_VERSION" ]; then
  mkdir -p "$dir"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
    -d "$tmp" "sepaxml==$SEPAXML_VERSION" >&2
  python3 - "$tmp" "$xsd" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(f"{sys.argv[1]}/sepaxml-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith("/pain.001.001.03.xsd"))
    open(sys.argv[2], "wb").write(z.read(name))
PY
  echo "$SEPAXML_VERSION" > "$dir/version"
fi

[ "${1:-}" = "--install" ] && exit 0
echo "export TENX_SEPA_XSD=$PWD/$xsd"
