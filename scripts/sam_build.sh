#!/usr/bin/env bash
# `sam build` with the Lambda functions' own profile (issue 75): `[profile.lambda-release]` of the
# root Cargo.toml (fat LTO, one codegen unit), while `cargo install` and `cargo build --release`
# build `tenx` with the release profile's thin LTO in minutes.
#
#   scripts/sam_build.sh            # then `sam deploy` (docs/deployment.md)
#   scripts/sam_build.sh --cached   # more arguments go to `sam build`
#
# SAM's rust-cargolambda builder always runs `cargo lambda build --release [--arm64] --bin NAME`
# (its BuildProperties take only `Binary`), so a profile cannot be named from template.yaml. This
# sets the release profile to the lambda-release profile's values instead, through cargo's
# CARGO_PROFILE_RELEASE_<KEY> variables, read from Cargo.toml here (one place to change them);
# cargo-lambda inherits them from sam. A plain `sam build` still works and ships thin-LTO
# functions: larger, and slower to start than the profile BENCHMARKS.md measured.
set -euo pipefail
cd "$(dirname "$0")/.."

settings=$(python3 - <<'PY'
import tomllib
profile = tomllib.load(open("Cargo.toml", "rb"))["profile"]["lambda-release"]
for key, value in profile.items():
    if key == "inherits":
        continue
    if isinstance(value, bool):
        value = "true" if value else "false"
    print(f"CARGO_PROFILE_RELEASE_{key.upper().replace('-', '_')}={value}")
PY
)
env_args=()
while IFS= read -r line; do
  [ -n "$line" ] && env_args+=("$line")
done <<<"$settings"
echo "sam build with the lambda-release profile: ${env_args[*]}"
exec env "${env_args[@]}" sam build "$@"
