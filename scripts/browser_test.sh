#!/usr/bin/env bash
# The web console in headless Chromium: builds `tenx`, serves it on a free loopback port with a
# fresh data dir and `--local-sign-in` (the URL with its code is read from the server's output),
# and runs
# scripts/browser_test.py (Python selenium, pinned, in .venv/browser; axe-core, pinned, in
# .venv/axe) against it, then scripts/browser_test_program.py (the public partner program page
# and its application form, at 1440×900 and 390×844), then scripts/browser_test_tjs.py (GET /t.js on a merchant's pages, a
# small shop it serves on another loopback port), then scripts/browser_test_embed.py (the
# <tenx-referrals> element in a merchant's app on another origin), then
# scripts/browser_test_mail.py (every kind of mail at 390 px, its links); the console test starts
# its own webhook receiver on loopback. Screenshots of every screen land in
# target/console-screenshots/. Needs Debian's `chromium` and `chromium-driver`: installed here
# with apt-get when missing (as root), as .ci/run does.
#
#   scripts/browser_test.sh             # builds target/debug/tenx (or takes TENX_BIN) and runs the test
#   scripts/browser_test.sh --install   # only installs Chromium, selenium and axe-core (CI does it in the background)
#   scripts/browser_test.sh --console   # only the console's walk (scripts/browser_test.py)
#   scripts/browser_test.sh --tjs       # only GET /t.js on a merchant's pages (scripts/browser_test_tjs.py)
#   scripts/browser_test.sh --program   # only the public program page (scripts/browser_test_program.py)
#   scripts/browser_test.sh --embed     # only <tenx-referrals> in a merchant's app (scripts/browser_test_embed.py)
#   scripts/browser_test.sh --passkeys  # only passkeys with the virtual authenticator (scripts/browser_test_passkeys.py),
#                                       # (BROWSER_TEST_AWS=1: again on the AWS backend, the moto AWS_ENDPOINT_URL names)
#   scripts/browser_test.sh --mail      # only every kind of mail at 390 px (scripts/browser_test_mail.py;
#                                       # MAIL_SHOTS_DIR=docs/mail writes the committed screenshots)
#   scripts/browser_test.sh --portal    # only the partner portal (scripts/browser_test_portal.py, then
#                                       # scripts/browser_test_statement.py: a statement of 5,200 lines)
#   scripts/browser_test.sh --statement # only the statement of 5,200 lines (its own server)
#   scripts/browser_test.sh --manager   # only a manager's first hour (scripts/browser_test_manager.py)
#   scripts/browser_test.sh --imports   # only the import screen (scripts/browser_test_imports.py)
#   scripts/browser_test.sh --variants  # only a link's A/B test (scripts/browser_test_variants.py)
#   TENX_BIN=… BROWSER_TEST_CONSOLE_DIR=console scripts/browser_test.sh
#                                       # console/ edits against a binary built before them (the
#                                       # list built into the binary still decides which files exist)
set -euo pipefail
cd "$(dirname "$0")/.."

SELENIUM_VERSION=4.27.1
AXE_VERSION=4.14.1
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}

if [ ! -x "$CHROMIUM" ] || [ ! -x "$CHROMEDRIVER" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing chromium and chromium-driver (apt-get)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "scripts/browser_test.sh needs $CHROMIUM and $CHROMEDRIVER: apt-get install chromium chromium-driver" >&2
    exit 1
  fi
fi

venv=.venv/browser
if ! "$venv/bin/python" -c "import selenium, sys; sys.exit(selenium.__version__ != '$SELENIUM_VERSION')" 2>/dev/null; then
  scripts/pip_install.sh "$venv" "selenium==$SELENIUM_VERSION"
fi

# axe-core (the accessibility rules browser_test.py runs on every screen), pinned, from npm.
axe_dir=.venv/axe
AXE_JS=$PWD/$axe_dir/node_modules/axe-core/axe.min.js
if [ ! -f "$AXE_JS" ] || ! grep -q "\"version\": \"$AXE_VERSION\"" "$axe_dir/node_modules/axe-core/package.json"; then
  if ! command -v npm >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
  fi
  npm install --prefix "$axe_dir" --no-save --no-audit --no-fund --loglevel=error "axe-core@$AXE_VERSION" >/dev/null
fi

[ "${1:-}" = "--install" ] && exit 0

if [ -z "${TENX_BIN:-}" ]; then
  cargo build -q --bin tenx
  TENX_BIN=target/debug/tenx
fi

work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
server_pid=""
provider_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "$provider_pid" ]; then kill "$provider_pid" 2>/dev/null || true; wait "$provider_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# A clean environment for the server: no configured JWT secret (the generated one signs the
# local sign-in's tokens), no console directory (the embedded assets are the ones tested) unless
# BROWSER_TEST_CONSOLE_DIR asks for one, the embedded backend; loopback webhook receivers allowed,
# fast webhook retries, no write limit in the way.
# The local Stripe and PayPal (scripts/provider_server.py) that the console walk's payouts are
# sent through; the server is pointed at it.
python3 scripts/provider_server.py >"$work/provider.log" 2>&1 &
provider_pid=$!
for _ in $(seq 100); do
  grep -q '^READY ' "$work/provider.log" && break
  kill -0 "$provider_pid" 2>/dev/null || { cat "$work/provider.log" >&2; exit 1; }
  sleep 0.1
done
provider_port=$(sed -n 's/^READY //p' "$work/provider.log" | head -n 1)
[ -n "$provider_port" ] || { echo "the provider server did not start" >&2; cat "$work/provider.log" >&2; exit 1; }
export BROWSER_TEST_PROVIDER_URL="http://127.0.0.1:$provider_port"
# A free port for the import walk's local Rebrandly (scripts/browser_test_imports.py serves it
# there while it walks a pull by API key).
BROWSER_TEST_TOOL_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export BROWSER_TEST_TOOL_PORT
console_dir=()
if [ -n "${BROWSER_TEST_CONSOLE_DIR:-}" ]; then
  console_dir=("TENX_CONSOLE_DIR=$(cd "$BROWSER_TEST_CONSOLE_DIR" && pwd)")
fi
env -u TENX_JWT_SECRET -u TENX_JWT_PUBLIC_KEY -u TENX_CONSOLE_DIR -u TENX_BACKEND \
  -u TENX_REDIRECT_DOMAIN -u TENX_TRUSTED_PROXY -u TENX_MAIL_URL -u TENX_PUBLIC_URL "${console_dir[@]}" \
  TENX_WEBHOOKS_ALLOW_PRIVATE=true TENX_WEBHOOK_RETRY_BASE_MS=100 TENX_RATE_LIMIT_FREE=100000 \
  TENX_LOG=warn TENX_DNS_RESOLVER=127.0.0.1:9 \
  TENX_PAYPAL_API_BASE="$BROWSER_TEST_PROVIDER_URL" TENX_STRIPE_API_BASE="$BROWSER_TEST_PROVIDER_URL" \
  TENX_REBRANDLY_API_BASE="http://127.0.0.1:$BROWSER_TEST_TOOL_PORT" \
  "$TENX_BIN" serve --local-sign-in --addr "127.0.0.1:$port" --data-dir "$work/data" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done
# The sign-in URL `tenx serve --local-sign-in` printed (its code is made anew at every start).
sign_in_url=$(grep -o "http://localhost:$port/?code=[A-Za-z0-9]*" "$work/server.log" | head -n 1)
[ -n "$sign_in_url" ] || { echo "tenx serve printed no sign-in URL" >&2; cat "$work/server.log" >&2; exit 1; }
# The one-time set-up link it printed too (nobody is set up on a fresh data dir): the manager's walk opens it.
set_up_url=$(grep -o "Set up: http://localhost:$port/v2/auth/setup?token=[A-Za-z0-9_-]*" "$work/server.log" | head -n 1 | cut -c9-)
[ -n "$set_up_url" ] || { echo "tenx serve printed no Set up: link" >&2; cat "$work/server.log" >&2; exit 1; }

status=0
only=${1:-}
if [ -z "$only" ] || [ "$only" = --console ]; then
  SE_OFFLINE=true AXE_JS="$AXE_JS" CHROMIUM="$CHROMIUM" CHROMEDRIVER="$CHROMEDRIVER" BROWSER_TEST_TMP="$work" \
    "$venv/bin/python" scripts/browser_test.py "http://localhost:$port" "$sign_in_url" || status=$?
fi
# The public partner program page and its application form (its own handle), same server.
if [ "$status" = 0 ] && { [ -z "$only" ] || [ "$only" = --program ]; }; then
  SE_OFFLINE=true AXE_JS="$AXE_JS" CHROMIUM="$CHROMIUM" CHROMEDRIVER="$CHROMEDRIVER" BROWSER_TEST_TMP="$work" \
    "$venv/bin/python" scripts/browser_test_program.py "http://localhost:$port" "$sign_in_url" || status=$?
fi
# t.js on a merchant's pages (a shop on another loopback port, its own handle), same server.
if [ "$status" = 0 ] && { [ -z "$only" ] || [ "$only" = --tjs ]; }; then
  SE_OFFLINE=true CHROMIUM="$CHROMIUM" CHROMEDRIVER="$CHROMEDRIVER" BROWSER_TEST_TMP="$work" \
    "$venv/bin/python" scripts/browser_test_tjs.py "http://localhost:$port" "$sign_in_url" || status=$?
fi
# <tenx-referrals> (/embed.js) in a merchant's app on another origin under a strict CSP.
if [ "$status" = 0 ] && { [ -z "$only" ] || [ "$only" = --embed ]; }; then
  SE_OFFLINE=true CHROMIUM="$CHROMIUM" CHROMEDRIVER="$CHROMEDRIVER" BROWSER_TEST_TMP="$work" \
    "$venv/bin/python" scripts/browser_test_embed.py "http://localhost:$port" "$sign_in_url" || status=$?
fi
# Passkeys with Chromium's virtual authenticator (issue 60), the same server under localhost.
if [ "$status" = 0 ] && { [ -z "$only" ] || [ "$only" = --passkeys ]; }; then
  SE_OFFLINE=true CHROMIUM="$CHROMIUM" CHROMEDRIVER="$CHROMEDRIVER" BROWSER_TEST_TMP="$work" \
    "$venv/bin/python" scripts/browser_test_passkeys.py "http://localhost:$port" "$sign_in_url" || status=$?
fi
# The same passkey walk on the AWS backend (DynamoDB, SQS, Kinesis on moto) with
# BROWSER_TEST_AWS=1 and a moto running (`eval "$(scripts/moto.sh)"`): a second `tenx serve` on
# tables of its own. Off by default: scripts/test.sh runs this stage beside the chaos runs, which
# measure their settle on moto with nothing else on it.
if [ "$status" = 0 ] && [ "${BROWSER_TEST_AWS:-}" = 1 ] && [ -n "${AWS_ENDPOINT_URL:-}" ] \
  && { [ -z "$only" ] || [ "$only" = --passkeys ]; }; then
  aws_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  suffix="bt$$"
  aws_env=(env -u TENX_JWT_SECRET -u TENX_JWT_PUBLIC_KEY -u TENX_CONSOLE_DIR -u TENX_REDIRECT_DOMAIN
    -u TENX_TRUSTED_PROXY TENX_BACKEND=aws TENX_TABLE="$suffix" TENX_QUEUE_PREFIX="$suffix-"
    TENX_CLICK_STREAM="$suffix-clicks" TENX_RATE_LIMIT_FREE=100000 TENX_LOG=warn)
  mkdir -p "$work/aws"
  if "${aws_env[@]}" "$TENX_BIN" setup --data-dir "$work/aws/data" >"$work/aws/setup.log" 2>&1; then
    "${aws_env[@]}" "$TENX_BIN" serve --local-sign-in --addr "127.0.0.1:$aws_port" --data-dir "$work/aws/data" \
      >"$work/aws/server.log" 2>&1 &
    aws_pid=$!
    for _ in $(seq 300); do
      curl -fsS "http://127.0.0.1:$aws_port/healthz" >/dev/null 2>&1 && break
      kill -0 "$aws_pid" 2>/dev/null || break
      sleep 0.1
    done
    aws_url=$(grep -o "http://localhost:$aws_port/?code=[A-Za-z0-9]*" "$work/aws/server.log" | head -n 1)
    SE_OFFLINE=true CHROMIUM="$CHROMIUM" CHROMEDRIVER="$CHROMEDRIVER" BROWSER_TEST_TMP="$work/aws" \
      "$venv/bin/python" scripts/browser_test_passkeys.py "http://localhost:$aws_port" "$aws_url" || status=$?
    kill "$aws_pid" 2>/dev/null || true
    wait "$aws_pid" 2>/dev/null || true
    [ "$status" = 0 ] || tail -n 30 "$work/aws/server.log" >&2
  else
    cat "$work/aws/setup.log" >&2
    status=1
  fi
fi
# Every kind of mail at 390 px (`tenx mail preview`'s files), its links against the same server.
if [ "$status" = 0 ] && { [ -z "$only" ] || [ "$only" = --mail ]; }; then
  SE_OFFLINE=true CHROMIUM="$CHROMIUM" CHROMEDRIVER="$CHROMEDRIVER" BROWSER_TEST_TMP="$work" TENX_BIN="$TENX_BIN" \
    "$venv/bin/python" scripts/browser_test_mail.py "http://localhost:$port" "$sign_in_url" || status=$?
fi
# The partner portal (issue 61): a partner signed in by the link the approval mailed (read from
# the Maildir under the server's data dir), its statement checked in the page and by `tenx verify`.
if [ "$status" = 0 ] && { [ -z "$only" ] || [ "$only" = --portal ]; }; then
  SE_OFFLINE=true AXE_JS="$AXE_JS" CHROMIUM="$CHROMIUM" CHROMEDRIVER="$CHROMEDRIVER" BROWSER_TEST_TMP="$work" TENX_BIN="$TENX_BIN" \
    "$venv/bin/python" scripts/browser_test_portal.py "http://localhost:$port" "$sign_in_url" || status=$?
fi
# A statement of over 5,000 lines in the portal (issue 61): its own `tenx serve` on a data dir
# of its own (`tenx ledger seed` writes the store while that server is stopped).
if [ "$status" = 0 ] && { [ -z "$only" ] || [ "$only" = --portal ] || [ "$only" = --statement ]; }; then
  SE_OFFLINE=true AXE_JS="$AXE_JS" CHROMIUM="$CHROMIUM" CHROMEDRIVER="$CHROMEDRIVER" BROWSER_TEST_TMP="$work" TENX_BIN="$TENX_BIN" \
    "$venv/bin/python" scripts/browser_test_statement.py "http://localhost:$port" "$sign_in_url" || status=$?
fi
# A manager's first hour (issue 62): from the Set up: link to a decided claim, its own handle.
if [ "$status" = 0 ] && { [ -z "$only" ] || [ "$only" = --manager ]; }; then
  SE_OFFLINE=true AXE_JS="$AXE_JS" CHROMIUM="$CHROMIUM" CHROMEDRIVER="$CHROMEDRIVER" BROWSER_TEST_TMP="$work" \
    BROWSER_TEST_SET_UP_URL="$set_up_url" "$venv/bin/python" scripts/browser_test_manager.py "http://localhost:$port" "$sign_in_url" || status=$?
fi
# The import screen (issue 64): a dry run's report in words, the import by keyboard, its own handle.
if [ "$status" = 0 ] && { [ -z "$only" ] || [ "$only" = --imports ]; }; then
  SE_OFFLINE=true AXE_JS="$AXE_JS" CHROMIUM="$CHROMIUM" CHROMEDRIVER="$CHROMEDRIVER" BROWSER_TEST_TMP="$work" \
    "$venv/bin/python" scripts/browser_test_imports.py "http://localhost:$port" "$sign_in_url" || status=$?
fi
# A link's A/B test: the variants refused and saved in the editor, the link page's numbers as
# visitors split and buy, on its own handle.
if [ "$status" = 0 ] && { [ -z "$only" ] || [ "$only" = --variants ]; }; then
  SE_OFFLINE=true AXE_JS="$AXE_JS" CHROMIUM="$CHROMIUM" CHROMEDRIVER="$CHROMEDRIVER" BROWSER_TEST_TMP="$work" \
    "$venv/bin/python" scripts/browser_test_variants.py "http://localhost:$port" "$sign_in_url" || status=$?
fi
if [ "$status" != 0 ]; then
  echo "--- tenx serve log" >&2
  tail -n 50 "$work/server.log" >&2
fi
exit "$status"
