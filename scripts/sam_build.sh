#!/usr/bin/env bash
# `sam build` with the Lambda functions' own profile (issue 75): `[profile.lambda-release]` of the
# root Cargo.toml (fat LTO, one codegen unit), while `cargo install` and `cargo build --release`
# build `tenx` with the release profile (no cross-crate LTO, most dependencies less optimized).
#
#   scripts/sam_build.sh            # then `sam deploy` (docs/deployment.md)
#   scripts/sam_build.sh --cached   # more arguments go to `sam build`
#
# SAM's rust-cargolambda builder always runs `cargo lambda build --release [--arm64] --bin NAME`
# (its BuildProperties take only `Binary`), so a profile cannot be named from template.yaml. This
# gives the release profile the lambda-release profile's values instead, package overrides
# included (the release profile builds most dependencies at a lower opt-level, for a quick
# install; the functions want every crate at full speed). Cargo takes a profile's package
# overrides from config files only (CARGO_PROFILE_<NAME>_* variables reach the profile's own
# keys), and a config file's profile wins over Cargo.toml's: so the values go into the
# config.toml of a CARGO_HOME of the script's own, which shares the real one's registry, git
# checkouts and binaries (nothing is downloaded again), read from Cargo.toml here (one place to
# change them); cargo-lambda inherits CARGO_HOME from sam. A plain `sam build` still works and
# ships the install profile's functions: larger, and slower to start than BENCHMARKS.md measured.
set -euo pipefail
cd "$(dirname "$0")/.."
real_home=${CARGO_HOME:-$HOME/.cargo}
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
for d in registry git bin; do
  if [ -e "$real_home/$d" ]; then ln -s "$real_home/$d" "$home/$d"; fi
done
if [ -f "$real_home/config.toml" ]; then cp "$real_home/config.toml" "$home/config.toml"; fi
python3 - >>"$home/config.toml" <<'PY'
import tomllib
profile = tomllib.load(open("Cargo.toml", "rb"))["profile"]["lambda-release"]
def value(v):
    return ("true" if v else "false") if isinstance(v, bool) else (f'"{v}"' if isinstance(v, str) else str(v))
print("\n[profile.release]")
for key, v in profile.items():
    if key not in ("inherits", "package"):
        print(f"{key} = {value(v)}")
for package, table in profile.get("package", {}).items():
    print(f'\n[profile.release.package."{package}"]')
    for key, v in table.items():
        print(f"{key} = {value(v)}")
PY
echo "sam build with the lambda-release profile, through $home/config.toml:"
sed -n '/^\[profile.release/,$p' "$home/config.toml"
CARGO_HOME=$home sam build "$@"
