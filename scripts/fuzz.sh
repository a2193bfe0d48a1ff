#!/usr/bin/env bash
# Schema-driven fuzzing: schemathesis (PyPI, pinned, installed into .venv/fuzz) generates requests
# from openapi.yaml, valid and invalid ones, and sends them to a fresh `tenx serve`, with every
# check on. The run is bounded (a fixed seed, a fixed number of examples per operation and
# phase, a time limit) and must end with no failure: the server answers bad input with a 4xx
# JSON error envelope (never a 500 or a hang), accepts what the spec accepts, refuses what it
# refuses, and every response matches its documented status, headers, content type and schema.
#
#   scripts/fuzz.sh                           # the debug build of tenx (built if needed)
#   TENX_BIN=target/release/tenx scripts/fuzz.sh
#   scripts/fuzz.sh --include-operation-id upsertLink     # more arguments go to `schemathesis run`
#   scripts/fuzz.sh --install                 # only installs schemathesis (CI does it in the background)
#
# Knobs: FUZZ_SEED, FUZZ_MAX_EXAMPLES (per operation and phase; the run is bounded by this count),
# FUZZ_MAX_TIME (seconds: a hang guard only, ~10x the expected time, never a pass/fail threshold on
# a slow machine). The default, 20 examples, is CI's size (issue 75: 50 took ~381 s beside the
# chaos stage and was the run's tail); the deeper runs are FUZZ_MAX_EXAMPLES=50 (CI's size until
# issue 75, about 3,500 requests) and `scripts/bench.sh fuzz` (100, about 7,000 requests).
# Each failure is printed with a curl command that reproduces it; the reports
# (target/fuzz/junit.xml, target/fuzz/cassette.yaml with every request and response) and the
# server's log (target/fuzz/tenx.log) stay in target/fuzz/.
#
# Rules of the server that a JSON Schema cannot state (two fields together, stored state, the
# clock, a signed ctx, how numbers are read) are applied to the positive cases by
# scripts/fuzz_hooks.py, each one named there with where openapi.yaml documents it; negative
# cases are sent as generated, and no check is left out. One status is added to what positive
# data may get: 412, a precondition (`if-match`) that does not hold on the current state, an
# outcome of state like 404 and 409.
#
# Isolation: the server and the fuzzer run in a network namespace of their own with only a
# loopback interface (`unshare --net`), so the webhook subscriptions the fuzzer creates can never
# deliver anything off this machine (names do not resolve there, so deliveries fail at once).
# The data dir is a temporary directory, removed at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

SCHEMATHESIS_VERSION=4.32.5
HYPOTHESIS_VERSION=6.170.15
SEED=${FUZZ_SEED:-18}
MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-20}
MAX_TIME=${FUZZ_MAX_TIME:-900}
HANDLE=acme
venv=$root/.venv/fuzz
out=$root/target/fuzz

if [ -z "${TENX_FUZZ_IN_NETNS:-}" ]; then
  SECONDS=0
  if [ "$("$venv/bin/schemathesis" --version 2>/dev/null)" != "schemathesis, version $SCHEMATHESIS_VERSION" ]; then
    echo "== installing schemathesis $SCHEMATHESIS_VERSION into .venv/fuzz"
    "$root/scripts/pip_install.sh" "$venv" \
      "schemathesis==$SCHEMATHESIS_VERSION" "hypothesis==$HYPOTHESIS_VERSION"
  fi
  [ "${1:-}" = "--install" ] && exit 0
  if [ -z "${TENX_BIN:-}" ]; then
    cargo build --quiet --bin tenx
    TENX_BIN=$root/target/debug/tenx
  fi
  export TENX_BIN
  # Root (CI) gets a plain network namespace; anyone else one inside a user namespace.
  unshare_args=(--net)
  [ "$(id -u)" = 0 ] || unshare_args=(--map-root-user --net)
  if ! unshare "${unshare_args[@]}" true 2>/dev/null; then
    echo "scripts/fuzz.sh needs a private network namespace (unshare --net), so that the" >&2
    echo "webhooks the fuzzer subscribes can never be delivered off this machine." >&2
    exit 1
  fi
  TENX_FUZZ_IN_NETNS=1 unshare "${unshare_args[@]}" "$0" "$@"
  echo "scripts/fuzz.sh passed in ${SECONDS} s"
  exit 0
fi

# ---------------------------------------------------------------- inside the namespace
PATH=$PATH:/usr/sbin:/sbin ip link set lo up
work=$(mktemp -d)
tenx_pid=
cleanup() {
  if [ -n "$tenx_pid" ]; then kill "$tenx_pid" 2>/dev/null && wait "$tenx_pid" 2>/dev/null; fi
  rm -rf "$work"
  return 0
}
trap cleanup EXIT

port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
mkdir -p "$out"
# Limits out of the fuzzer's way: every request is a test case, not abuse.
TENX_LOG=warn \
  TENX_RATE_LIMIT_FREE=1000000000 \
  TENX_RATE_LIMIT_CONVERSIONS=1000000000 \
  TENX_RATE_LIMIT_CONVERSIONS_PER_CLICK=1000000000 \
  TENX_RATE_LIMIT_CONVERSIONS_PER_ADDRESS=1000000000 \
  TENX_RATE_LIMIT_CHAIN=1000000000 \
  "$TENX_BIN" serve --addr "127.0.0.1:$port" --data-dir "$work/data" >"$out/tenx.log" 2>&1 &
tenx_pid=$!
for _ in $(seq 1 200); do
  curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && break
  sleep 0.1
done
curl -fsS -o /dev/null "$base/healthz" || { echo "tenx serve did not start; see $out/tenx.log" >&2; exit 1; }

# An admin JWT for every handle (`*`), so that any handle the spec allows reaches the route's
# own validation instead of stopping at `403 forbidden`.
TENX_FUZZ_JWT=$("$TENX_BIN" token --handle '*' --role admin --ttl 1h --data-dir "$work/data")
export TENX_FUZZ_JWT

# One real click: the ctx that positive conversion cases carry (scripts/fuzz_hooks.py).
curl -fsS -o /dev/null -X PUT "$base/v2/handles/$HANDLE/links/fuzz" \
  -H "authorization: Bearer $TENX_FUZZ_JWT" -H 'content-type: application/json' \
  -d '{"destinationUrl":"https://example.com/landing"}'
location=$(curl -fsS -o /dev/null -w '%{redirect_url}' \
  -A 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' \
  -H "host: $HANDLE.localhost:$port" "$base/fuzz")
TENX_FUZZ_CTX=$(printf '%s' "$location" | sed -n 's/.*[?&]ctx=\([^&#]*\).*/\1/p')
[ -n "$TENX_FUZZ_CTX" ] || { echo "no ctx in the redirect to '$location'" >&2; exit 1; }
export TENX_FUZZ_CTX TENX_FUZZ_CTX_HANDLE=$HANDLE TENX_FUZZ_BASE=$base

# Short links and the bare domain are served on `{handle}.{redirectDomain}`.
cat >"$work/schemathesis.toml" <<TOML
seed = $SEED
max-redirects = 0
request-timeout = 10
workers = 2
continue-on-failure = true
hooks = "$root/scripts/fuzz_hooks.py"

[auth.openapi.jwt]
bearer = "\${TENX_FUZZ_JWT}"

[generation]
max-examples = $MAX_EXAMPLES
database = "none"

# No state carried between runs (schemathesis would replay earlier crashes first).
[cache]
enabled = false

# Every check, from here and not from "--checks all" on the command line: a check named there
# overrides the per-operation exceptions below (schemathesis 4.32).
[checks]
enabled = true

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "412", "429", "5xx"]

[[operations]]
include-path = ["/{slug}", "/"]
headers = { host = "$HANDLE.localhost:$port" }

# A campaign's commission plan does not exist until it is PUT: a 404 right after the campaign's
# creation is the documented answer, not a created resource gone missing (the stateful phase
# infers the link from the shared campaignId). And a plan is refused for what no schema can say
# (issue 47): an effectiveAt in the past, a bonus rule with a field only a paying rule takes,
# tiers out of order; a backtest's "to" not after its "from" (400 naming the field).
[[operations]]
include-path = ["/v2/handles/{handle}/campaigns/{campaignId}/commission-plan",
                "/v2/handles/{handle}/campaigns/{campaignId}/commission-plan/preview",
                "/v2/handles/{handle}/campaigns/{campaignId}/commission-plan/backtest"]
checks = { ensure_resource_availability = { enabled = false }, positive_data_acceptance = { expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "412", "429", "5xx"] } }

# A partner's payout method and tax profile do not exist until they are PUT: a 404 right after
# the partner's creation is the documented answer (the stateful phase links them by partnerId).
[[operations]]
include-path = ["/v2/handles/{handle}/partners/{partnerId}/payout-method",
                "/v2/handles/{handle}/partners/{partnerId}/tax-profile"]
checks = { ensure_resource_availability = { enabled = false } }

# Schema-valid yet refused by what no schema can say: a ctx whose signature does not verify
# (400 invalid_ctx), a campaign that is not the partner's (400 naming campaignId), a provider's
# delivery the fuzzer cannot sign (400 invalid_signature), a program's template that is not a
# campaign of the handle (400 naming template.campaignId) or autoApprove without one, an http(s)
# URL the destination rules refuse (credentials in it, a bare host) as a program's termsUrl or
# an applicant's website.
# The signed token of a mail's link (an unsubscribe, a payout change's "this was not me"): one
# the fuzzer makes does not verify (400 invalid_request).
# Likewise a payout batch: which payouts are pending, of which method, in which currency, and
# the handle's payout settings are stored state (400 naming method or payoutIds, issue 46).
# A custom domain (issue 64): a string is not a host name (400 naming domain), and a claimed
# one is verified only by DNS, which the fuzzer's network namespace has none of (409).
# A coupon code's rotation (issue 63) to the code it replaces, whatever the case (400 naming
# newCode): the path and the body are two fields.
# A passkey's credential (issue 60) is an authenticator's signed answer to a challenge the
# server made: one the fuzzer makes is not a WebAuthn answer (400 invalid_request).
# A conversion's reassignment (issue 63) without an amount when no plan of the new partner
# rates the sale: the amount is asked for (400 naming amount), which depends on stored plans.
# A partner invitation without an email invites the partner's own address (issue 61): a partner
# stored without one is asked for it (400 naming email), which depends on the stored partner.
# A claim's approval without an amount when no plan rated the claimed sale (issue 63), as the
# reassignment: the amount is asked for (400 naming amount).
# An import's format parameter names an uploaded file's format (issue 64): with a body, whose format is
# its content-type, it is refused (400 naming format); two parameters, one rule.
# The year-end 1099-NEC figures of a year after the current one (400 naming year): the clock.
# A payment provider's account (issue 78): the body's shape is the path's provider's (Stripe's
# keys on …/stripe, PayPal's on …/paypal), two fields; and the providers' payout webhooks are
# signed, the signature the credential, as Stripe's and Shopify's above (400 invalid_signature).
[[operations]]
include-path = ["/v2/public/refs", "/v2/handles/{handle}/partners/{partnerId}/coupon-codes",
                "/v2/handles/{handle}/payout-batches",
                "/v2/public/integrations/stripe/{handle}", "/v2/public/integrations/shopify/{handle}",
                "/v2/public/integrations/stripe-connect/{handle}", "/v2/public/integrations/paypal/{handle}",
                "/v2/handles/{handle}/payout-providers/{provider}",
                "/v2/handles/{handle}/program", "/v2/public/programs/{handle}/applications",
                "/v2/public/unsubscribe", "/v2/public/payout-dispute",
                "/v2/handles/{handle}/domains/{domain}", "/v2/handles/{handle}/domains/{domain}/verify",
                "/v2/handles/{handle}/partners/{partnerId}/coupon-codes/{code}/rotate",
                "/v2/auth/passkeys/register/finish", "/v2/auth/passkeys/authenticate/finish",
                "/v2/handles/{handle}/conversions/{conversionId}/reassign",
                "/v2/handles/{handle}/partners/{partnerId}/members/invitations",
                "/v2/handles/{handle}/claims/{claimId}/decide", "/v2/handles/{handle}/imports",
                "/v2/handles/{handle}/tax-reports/1099-nec"]
checks = { positive_data_acceptance = { expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "412", "429", "5xx"] } }

# A preview of a CSV file: its body is any text, so the "wrong type" the fuzzer sends as a
# negative case (an object, written as `{}`) is a CSV of one column, rightly read; and a file whose
# first row names no column is refused in words (400), which no schema of a text body can say.
[[operations]]
include-path = ["/v2/handles/{handle}/imports/preview"]
checks = { negative_data_rejection = { enabled = false }, positive_data_acceptance = { expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "412", "429", "5xx"] } }

# A program pulled by its API key calls the tool's API, which the fuzzer's network namespace
# cannot reach: the documented answer is 503 unavailable, in words (a 5xx that is not a fault).
[[operations]]
include-path = ["/v2/handles/{handle}/imports/pull"]
checks = { not_a_server_error = { enabled = false } }
TOML

status=0
timeout --kill-after=10 "$MAX_TIME" "$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" \
  run openapi.yaml --url "$base" --no-color \
  --report junit,vcr --report-junit-path "$out/junit.xml" --report-vcr-path "$out/cassette.yaml" \
  "$@" || status=$?
if [ "$status" = 124 ] || [ "$status" = 137 ]; then
  echo "schemathesis hung: no end within the ${MAX_TIME} s hang guard (FUZZ_MAX_TIME); the last" >&2
  echo "operation it reported is above, the server's last lines below ($out/tenx.log)" >&2
  tail -n 20 "$out/tenx.log" >&2
fi
exit "$status"
