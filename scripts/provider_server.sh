#!/usr/bin/env bash
# The local Stripe Connect and PayPal Payouts the payout tests send money to (issue 78):
# scripts/provider_server.py (Python's standard library, plus the `openssl` command that makes
# PayPal's signing certificate) on a free loopback port. No emulator of either provider exists;
# what it speaks and where each shape comes from: docs/providers.md.
#
#   scripts/provider_server.sh            # starts one, prints `export TENX_PROVIDER_URL=…` lines
#   scripts/provider_server.sh --install  # only checks (installs openssl with apt-get if missing)
#
# The server's pid is in .venv/provider.pid and its log in .venv/provider.log. A test that wants
# a server of its own (its counters and faults untouched by others) starts
# `$TENX_PROVIDER_PYTHON scripts/provider_server.py --stdin`, which prints `READY {port}` and
# exits when the test closes its stdin, as the SMTP and DNS servers do.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v openssl >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing openssl with apt-get" >&2
    apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq openssl >/dev/null
  else
    echo "scripts/provider_server.sh needs the openssl command: apt-get install openssl" >&2
    exit 1
  fi
fi
[ "${1:-}" = "--install" ] && exit 0
mkdir -p .venv
log=.venv/provider.log
: >"$log"
python3 scripts/provider_server.py >"$log" 2>&1 &
echo $! >.venv/provider.pid
port=
for _ in $(seq 1 100); do
  port=$(sed -n 's/^READY \([0-9]*\)$/\1/p' "$log")
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "the provider server did not start; see $log" >&2; exit 1; }
cat <<OUT
export TENX_PROVIDER_URL=http://127.0.0.1:$port
export TENX_STRIPE_API_BASE=http://127.0.0.1:$port
export TENX_PAYPAL_API_BASE=http://127.0.0.1:$port
export TENX_PROVIDER_PYTHON=$(command -v python3)
OUT
