#!/usr/bin/env bash
# `cargo lambda build --release` of every function under functions/, in ONE invocation so the
# dependencies compile once for all of them, then each bootstrap's size (reported, not asserted).
# arm64 (the deployed architecture) when the aarch64 Rust target is installed; otherwise the
# host's x86-64, which proves the same code builds and links for Lambda.
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$(scripts/lambda_tools.sh):$PATH"

if rustup target list --installed 2>/dev/null | grep -qx 'aarch64-unknown-linux-gnu'; then
  arch=--arm64
else
  arch=--x86-64
  echo "note: the aarch64-unknown-linux-gnu target is not installed (rustup target add" \
    "aarch64-unknown-linux-gnu; it cannot be downloaded here), so this builds for x86-64;" \
    "sam build builds arm64 as template.yaml says"
fi

packages=()
bins=()
for manifest in functions/*/Cargo.toml; do
  packages+=(-p "$(sed -n 's/^name = "\(.*\)"/\1/p' "$manifest" | head -1)")
  bins+=("$(awk '/^\[\[bin\]\]/{b=1} b && /^name = /{gsub(/"/,"",$3); print $3; exit}' "$manifest")")
done

start=$(date +%s)
cargo lambda build --release "$arch" "${packages[@]}"
echo "cargo lambda build --release $arch (${#bins[@]} functions): $(( $(date +%s) - start )) s"

printf '%-16s %10s\n' function bytes
for bin in "${bins[@]}"; do
  file="target/lambda/$bin/bootstrap"
  [ -f "$file" ] || { echo "missing $file" >&2; exit 1; }
  printf '%-16s %10s\n' "$bin" "$(wc -c <"$file")"
done
