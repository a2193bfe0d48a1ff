#!/usr/bin/env bash
# The authoritative DNS server the custom-domain tests verify against (issue 64): dnslib from
# PyPI (pinned) in .venv/dns; tests/api/domains.rs starts scripts/dns_server.py with it on a
# free loopback port.
#
#   scripts/dns_server.sh            # installs if needed, prints `export TENX_DNS_PYTHON=…`
#   scripts/dns_server.sh --install  # only installs (CI does it in the background)
#
# The domain tests read TENX_DNS_PYTHON (default .venv/dns/bin/python) and FAIL when it is
# missing: run this script first.
set -euo pipefail
cd "$(dirname "$0")/.."
DNSLIB_VERSION=0.9.26
venv=.venv/dns
if ! "$venv/bin/python" -c "import dnslib, sys; sys.exit(dnslib.version != '$DNSLIB_VERSION')" 2>/dev/null; then
  scripts/pip_install.sh "$venv" "dnslib==$DNSLIB_VERSION"
fi
[ "${1:-}" = "--install" ] && exit 0
echo "export TENX_DNS_PYTHON=$PWD/$venv/bin/python"
