#!/usr/bin/env python3
"""Where the test build's time went: the units that took longest, and the build's last stretch
(when one crate compiles alone, a core is idle), from cargo's `--timings` report.

Usage: python3 scripts/ci/build_timings.py [target/cargo-timings/cargo-timing.html]

Printed by scripts/test.sh after the test build, so each CI run says where its build spent its
time (docs/ci.md). A report it cannot read is said in one line, never a failure: the build
passed, and this only describes it.
"""

import json
import re
import sys


def units(path):
    with open(path, encoding="utf-8") as f:
        html = f.read()
    found = re.search(r"const UNIT_DATA = (\[.*?\]);\n", html, re.S)
    return json.loads(found.group(1)) if found else None


def name(unit):
    target = unit.get("target", "").strip()
    return f"{unit['name']}{' ' + target if target else ''}"


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "target/cargo-timings/cargo-timing.html"
    try:
        data = units(path)
    except (OSError, ValueError) as e:
        print(f"build timings: {path} could not be read ({e})")
        return 0
    if not data:
        print(f"build timings: no units in {path}")
        return 0
    end = max(u["start"] + u["duration"] for u in data)
    total = sum(u["duration"] for u in data)
    print(f"build timings: {len(data)} units, {total:.0f} unit-seconds in {end:.0f} s")
    print("  longest units:")
    for u in sorted(data, key=lambda u: -u["duration"])[:12]:
        print(f"    {u['duration']:6.1f} s from {u['start']:6.1f} s  {name(u)}")
    # The last stretch: from the start of the last moment two or more units ran at once.
    spans = sorted((u["start"], u["start"] + u["duration"]) for u in data)
    alone_from = 0.0
    for t in sorted({s for s, _ in spans} | {e for _, e in spans}):
        running = sum(1 for s, e in spans if s <= t < e)
        if running >= 2:
            alone_from = t
    last = [u for u in data if u["start"] + u["duration"] > alone_from]
    print(f"  one unit at a time for the last {end - alone_from:.0f} s: "
          + ", ".join(name(u) for u in sorted(last, key=lambda u: u["start"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
