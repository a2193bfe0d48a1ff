#!/usr/bin/env bash
# `cargo lambda build` of every function under functions/, in ONE invocation so the
# dependencies compile once for all of them, then each bootstrap's size (reported, not asserted).
# arm64 (the deployed architecture) when the aarch64 Rust target is installed; otherwise the
# host's x86-64, which proves the same code builds and links for Lambda.
#
# Two modes:
# - default (CI): the dev profile with cargo-lambda's `cargo` compiler (no zig), in
#   $CARGO_TARGET_DIR (target/lambda-ci by default; scripts/test.sh passes the test build's build
#   dir, whose crates it then reuses, the product's own included: docs/ci.md): every function
#   compiled and linked for the Lambda target in one invocation, in a fraction of a release
#   build's time (a release build of all of them, even without LTO, took 14 min on 2 cores).
# - `--deploy-profile`: the functions' own profile, `lambda-release` in the root Cargo.toml (fat
#   LTO, one codegen unit), through zig, as `scripts/sam_build.sh` ships it (~35 min on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$(scripts/lambda_tools.sh):$PATH"

if [ "${1:-}" = "--deploy-profile" ]; then
  profile="the lambda-release profile (as scripts/sam_build.sh)"
  build_args=(--profile lambda-release)
else
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/lambda-ci}
  # The dev profile exactly as the test build has it (line tables in our crates): with the
  # same features (scripts/check_features.py) every crate is the test build's, and only the
  # functions' `main`s compile here.
  profile="dev profile, cargo compiler (CI; --deploy-profile: as sam build)"
  build_args=(--compiler cargo)
fi

if [ "${build_args[0]}" = --compiler ]; then
  # The cargo compiler links with the host's toolchain: the host's architecture.
  [ "$(uname -m)" = aarch64 ] && arch=--arm64 || arch=--x86-64
elif rustup target list --installed 2>/dev/null | grep -qx 'aarch64-unknown-linux-gnu'; then
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
cargo lambda build "${build_args[@]}" "$arch" "${packages[@]}"
echo "cargo lambda build ${build_args[*]} $arch, ${#bins[@]} functions, $profile:" \
  "$(($(date +%s) - start)) s"

target_dir=${CARGO_TARGET_DIR:-target}
printf '%-16s %12s\n' function 'bytes'
for bin in "${bins[@]}"; do
  file="$target_dir/lambda/$bin/bootstrap"
  [ -f "$file" ] || { echo "missing $file" >&2; exit 1; }
  printf '%-16s %12s\n' "$bin" "$(wc -c <"$file")"
done
