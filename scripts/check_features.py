#!/usr/bin/env python3
"""Fails when the Lambda build would compile a crate a second time.

scripts/test.sh builds the tests (`--workspace --all-features`, dev-dependencies included) and
then the Lambda functions (`cargo lambda build -p fn-…`, shipped features) with ONE build dir,
so the functions' build reuses every crate the tests' build compiled, the product's own crates
included, and compiles only the functions' `main`s. That holds only while each crate gets the
same features in both builds:
- a dev-dependency that turns on one more feature of a shared crate (tokio, either, …) gives
  that crate, and every crate above it, a second compile (a few hundred CPU-seconds on a 2-core
  CI machine). The fix is in shared/Cargo.toml: turn the named feature on there too (the
  section "Features the test build turns on"), or keep the dev-dependency from turning it on;
- a feature of one of the product's crates (a `testing` feature, say) compiles every product
  crate twice. The product's crates have none: their test support is compiled in every build
  and only tests name it (scripts/check_layers.py).

Usage: python3 scripts/check_features.py
"""

import glob
import re
import subprocess
import sys


def host_triple():
    out = subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True).stdout
    return re.search(r"^host: (\S+)$", out, re.M).group(1)


def features(host, args):
    """{crate@version: its feature sets} as `cargo tree` resolves them for a build of `args`."""
    out = subprocess.run(
        ["cargo", "tree", "--prefix", "none", "-f", "{p}|{f}", "--target", host, *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    resolved = {}
    for line in out.splitlines():
        package, _, feats = line.replace(" (*)", "").partition("|")
        # A crate built for the host (a proc macro, a build script's dependency) and for the
        # target can appear with two feature sets: each is a unit of its own.
        unit = frozenset(filter(None, feats.split(",")))
        resolved.setdefault(package.strip(), set()).add(unit)
    return resolved


def function_packages():
    names = []
    for manifest in sorted(glob.glob("functions/*/Cargo.toml")):
        with open(manifest) as f:
            names.append(re.search(r'^name = "(.*)"', f.read(), re.M).group(1))
    return names


def main():
    host = host_triple()
    tests = features(host, ["--workspace", "--all-features", "-e", "normal,build,dev"])
    lambda_args = [a for name in function_packages() for a in ("-p", name)]
    functions = features(host, [*lambda_args, "-e", "normal,build"])
    parted = {
        package: (functions[package], tests.get(package, set()))
        for package in functions
        if package in tests and functions[package] != tests[package]
    }
    if not parted:
        print(f"features: the Lambda build's {len(functions)} dependencies are the test build's")
        return 0
    for package, (shipped, tested) in sorted(parted.items()):
        extra = sorted(set().union(*tested) - set().union(*shipped))
        print(
            f"{package}: built with {sorted(map(sorted, tested))} for the tests, "
            f"{sorted(map(sorted, shipped))} for the functions (the tests add {extra})",
            file=sys.stderr,
        )
    print(
        "the Lambda build would compile these (and every crate above them) again: turn the "
        "features on in shared/Cargo.toml (see this script's docstring)",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
