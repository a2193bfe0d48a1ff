#!/usr/bin/env bash
# `cargo lambda build --release` of every function under functions/, in ONE invocation so the
# dependencies compile once for all of them, then each bootstrap's size (reported, not asserted).
# arm64 (the deployed architecture) when the aarch64 Rust target is installed; otherwise the
# host's x86-64, which proves the same code builds and links for Lambda.
#
# Profile: the workspace's release profile (fat LTO, one codegen unit: the smallest binaries, what
# `sam build` ships) links each of the 13 binaries with a whole-program optimization of its own.
# On a 2-core machine that took 34 min 44 s for all of them (x86-64, 15.7-16.9 MB each), too slow
# for CI. By default this script therefore overrides it to no cross-crate LTO and 16 codegen units
# (14 min 02 s on the same machine under the same load, 17.6-20.3 MB each): the same code and
# optimization level, built and linked for Lambda. `--deploy-profile` builds with the workspace
# profile unchanged, as `sam build` does.
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$(scripts/lambda_tools.sh):$PATH"

if [ "${1:-}" = "--deploy-profile" ]; then
  profile="the workspace release profile"
else
  export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
  profile="release with lto=false, codegen-units=16 (--deploy-profile: as sam build)"
fi

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
echo "cargo lambda build --release $arch, ${#bins[@]} functions, $profile:" \
  "$(($(date +%s) - start)) s"

target_dir=${CARGO_TARGET_DIR:-target}
printf '%-16s %12s\n' function 'bytes'
for bin in "${bins[@]}"; do
  file="$target_dir/lambda/$bin/bootstrap"
  [ -f "$file" ] || { echo "missing $file" >&2; exit 1; }
  printf '%-16s %12s\n' "$bin" "$(wc -c <"$file")"
done
