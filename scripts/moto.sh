#!/usr/bin/env bash
# Installs moto's server (DynamoDB, SQS, Kinesis, S3, ACM and CloudFront emulator) and
# openapi-spec-validator from PyPI into .venv and starts moto on free loopback ports. Prints
# `export AWS_...` lines for `eval`; the servers' pids are in .venv/moto.pid.
# `scripts/moto.sh --install` only installs.
#
# TENX_MOTO_SERVERS=N (default 1) starts N independent servers. moto answers one DynamoDB request
# at a time in one Python process (one core at most), so a test run with several test processes
# is bound by it; with N servers the API tests spread over them by their nextest slot
# (TENX_TEST_AWS_ENDPOINTS; tests/api/helpers.rs). AWS_ENDPOINT_URL is the first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
if [ ! -x "$venv/bin/moto_server" ] || [ ! -x "$venv/bin/openapi-spec-validator" ]; then
  # openapi-spec-validator: scripts/test.sh checks openapi.yaml with it.
  "$root/scripts/pip_install.sh" "$venv" 'moto[server]==5.2.5' 'openapi-spec-validator==0.9.0'
fi
[ "${1:-}" = "--install" ] && exit 0
servers=${TENX_MOTO_SERVERS:-1}
urls=()
: >"$venv/moto.pid"
for n in $(seq 1 "$servers"); do
  port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  log="$venv/moto.log"
  [ "$n" -gt 1 ] && log="$venv/moto-$n.log"
  # Our wrapper around moto's server makes DynamoDB requests atomic and models DynamoDB's
  # transaction conflicts (TENX_MOTO_TXN_HOLD_MS; see scripts/moto_server.py and docs/storage.md).
  # MOTO_ACM_VALIDATION_WAIT=0: moto issues an ACM certificate on its first read after the
  # request (its default waits 60 s), so the custom-domain edge tests (tests/api/domains_aws.rs)
  # move one step per pass without sleeping.
  MOTO_ACM_VALIDATION_WAIT=0 "$venv/bin/python" "$root/scripts/moto_server.py" 127.0.0.1 "$port" >"$log" 2>&1 &
  echo $! >>"$venv/moto.pid"
  for _ in $(seq 1 100); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/moto-api/"; then break; fi
    sleep 0.1
  done
  curl -s -o /dev/null "http://127.0.0.1:$port/moto-api/" || { echo "moto did not start; see $log" >&2; exit 1; }
  urls+=("http://127.0.0.1:$port")
done
cat <<OUT
export AWS_ENDPOINT_URL=${urls[0]}
export TENX_TEST_AWS_ENDPOINTS="${urls[*]}"
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
OUT
