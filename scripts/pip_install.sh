#!/usr/bin/env bash
# Installs Python packages into a venv (made when missing): `scripts/pip_install.sh VENV ARGS…`,
# ARGS as pip's (`'moto[server]==5.2.5'`, `-e sdks/python[test]`). With uv (PyPI, pinned, in
# .venv/uv, installed once by pip under a lock): the same packages from the same index, in about
# a tenth of pip's CPU (moto's venv: 4 CPU-s against 41), and CI installs its tools while cargo
# compiles on the same two cores (docs/ci.md). The venvs have no pip of their own.
set -euo pipefail
UV_VERSION=0.13.9
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$1
shift
mkdir -p "$root/.venv"
uv="$root/.venv/uv/bin/uv"
if [ ! -x "$uv" ]; then
  # Several tool installs start at once in CI: the first makes .venv/uv, the others wait for it.
  (
    flock 9
    if [ ! -x "$uv" ]; then
      python3 -m venv "$root/.venv/uv" >&2
      "$root/.venv/uv/bin/pip" install --quiet --disable-pip-version-check "uv==$UV_VERSION" >&2
    fi
  ) 9>"$root/.venv/uv.lock"
fi
[ -x "$venv/bin/python" ] || python3 -m venv --without-pip "$venv" >&2
"$uv" pip install --quiet --python "$venv/bin/python" "$@" >&2
