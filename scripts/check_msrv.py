#!/usr/bin/env python3
"""The MSRV (`rust-version` in Cargo.toml) is true: no locked dependency declares a newer one,
and the toolchain building here is not older. Our own code's use of newer std APIs is caught by
clippy's `incompatible_msrv` lint, which reads the same `rust-version`. A full compile with that
exact toolchain is not run (it would download a toolchain and repeat the build, minutes on two
cores); the AWS SDK sets the floor, so the MSRV moves with its updates.
"""
import json
import re
import subprocess
import sys


def version(text):
    return tuple(int(x) for x in text.split("."))


def main():
    meta = json.loads(subprocess.check_output(
        ["cargo", "metadata", "--format-version", "1", "--locked"], text=True))
    members = set(meta["workspace_members"])
    ours = {p["rust_version"] for p in meta["packages"] if p["id"] in members}
    if len(ours) != 1 or None in ours:
        sys.exit(f"check_msrv: every member must inherit one rust-version, found {ours}")
    msrv = ours.pop()
    too_new = sorted(
        (p["rust_version"], p["name"], p["version"])
        for p in meta["packages"]
        if p["id"] not in members and p.get("rust_version")
        and version(p["rust_version"]) > version(msrv))
    for rv, name, ver in too_new:
        print(f"check_msrv: {name} {ver} needs Rust {rv}, above rust-version = {msrv}")
    rustc = subprocess.check_output(["rustc", "--version"], text=True)
    have = re.match(r"rustc (\d+\.\d+\.\d+)", rustc).group(1)
    if version(have) < version(msrv):
        print(f"check_msrv: rustc {have} is older than rust-version = {msrv}")
        sys.exit(1)
    if too_new:
        sys.exit(1)
    print(f"check_msrv: rust-version = {msrv} holds for {len(meta['packages'])} packages (rustc {have})")


if __name__ == "__main__":
    main()
