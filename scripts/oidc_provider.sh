#!/usr/bin/env bash
# The OpenID Connect provider the sign-in tests run against (issue 60): `oidc-provider` from npm
# (an OpenID-certified server, pinned) in .venv/oidc; tests/api/oidc.rs starts
# scripts/oidc_provider.mjs with it on a free loopback port.
#
#   scripts/oidc_provider.sh            # installs if needed, prints `export TENX_OIDC_PROVIDER_DIR=…`
#   scripts/oidc_provider.sh --install  # only installs (CI does it in the background)
#
# The OpenID Connect tests read TENX_OIDC_PROVIDER_DIR (default .venv/oidc) and FAIL when the
# package is missing: run this script first.
set -euo pipefail
cd "$(dirname "$0")/.."
OIDC_PROVIDER_VERSION=9.13.3
dir=.venv/oidc
if ! grep -qs "\"version\": \"$OIDC_PROVIDER_VERSION\"" "$dir/node_modules/oidc-provider/package.json"; then
  if ! command -v npm >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
  fi
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "oidc-provider@$OIDC_PROVIDER_VERSION" >&2
fi
[ "${1:-}" = "--install" ] && exit 0
echo "export TENX_OIDC_PROVIDER_DIR=$PWD/$dir"
