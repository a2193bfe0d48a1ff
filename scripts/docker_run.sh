#!/usr/bin/env bash
# Builds the image of Dockerfile and starts `tenx serve` in it, with podman or docker (whichever
# this machine has; podman first), its data on a named volume. Not run by CI (scripts/test.sh):
# it needs a container engine and downloads the base images.
#
#   scripts/docker_run.sh           # build, then start (detached) on http://localhost:8080
#   scripts/docker_run.sh stop      # stop and remove the container (the volume keeps the data)
#   scripts/docker_run.sh logs      # the server's log
#
# Knobs: TENX_CONTAINER_ENGINE (podman or docker), TENX_DOCKER_PORT (8080: the host's port),
# TENX_DOCKER_IMAGE (tenx:local), TENX_DOCKER_NAME (tenx: the container), TENX_DOCKER_VOLUME
# (tenx-data), TENX_PUBLIC_URL (http://localhost:$TENX_DOCKER_PORT: the origin the service is
# reached at, which the links in its mail are absolute to).
set -euo pipefail
cd "$(dirname "$0")/.."

engine=${TENX_CONTAINER_ENGINE:-}
if [ -z "$engine" ]; then
  for candidate in podman docker; do
    if command -v "$candidate" >/dev/null 2>&1; then
      engine=$candidate
      break
    fi
  done
fi
if [ -z "$engine" ] || ! command -v "$engine" >/dev/null 2>&1; then
  echo "scripts/docker_run.sh: neither podman nor docker is installed (or TENX_CONTAINER_ENGINE names" \
    "one that is not): install one (Debian: apt-get install podman), or install tenx with" \
    "cargo install --locked --path . (README.md, Quickstart)" >&2
  exit 2
fi

port=${TENX_DOCKER_PORT:-8080}
image=${TENX_DOCKER_IMAGE:-tenx:local}
name=${TENX_DOCKER_NAME:-tenx}
volume=${TENX_DOCKER_VOLUME:-tenx-data}
public_url=${TENX_PUBLIC_URL:-http://localhost:$port}

case "${1:-start}" in
  stop)
    "$engine" rm -f "$name"
    exit 0
    ;;
  logs)
    exec "$engine" logs "$name"
    ;;
  start) ;;
  *)
    echo "usage: scripts/docker_run.sh [start|stop|logs]" >&2
    exit 2
    ;;
esac

echo "== $engine build -t $image . (the first build compiles every dependency: minutes)"
"$engine" build -t "$image" .

# A container of the same name from an earlier run goes; its data stays on the volume.
"$engine" rm -f "$name" >/dev/null 2>&1 || true
"$engine" volume inspect "$volume" >/dev/null 2>&1 || "$engine" volume create "$volume" >/dev/null
echo "== $engine run $name on port $port, data on the volume $volume, TENX_PUBLIC_URL=$public_url"
"$engine" run -d --name "$name" -p "$port:8080" -v "$volume:/data" \
  -e TENX_PUBLIC_URL="$public_url" "$image" >/dev/null

# Up when /healthz answers (a hang guard of 60 s, far above a start's second or two).
for _ in $(seq 120); do
  if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
    cat <<MSG
tenx serve is up at $public_url (container $name, data on the volume $volume).
  a token for the API:  $engine exec $name tenx token --handle acme --role operator
  its log:              scripts/docker_run.sh logs
  stop it:              scripts/docker_run.sh stop   (the volume keeps the data)
  set up (the first admin, while nobody is): open the one-time link its log printed:
    $engine logs $name | grep 'Set up:'
MSG
    exit 0
  fi
  sleep 0.5
done
echo "scripts/docker_run.sh: the server did not answer /healthz on port $port within 60 s; its log:" >&2
"$engine" logs "$name" >&2 || true
exit 1
