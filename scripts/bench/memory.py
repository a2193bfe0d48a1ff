#!/usr/bin/env python3
"""Where a process's resident memory sits, from /proc/PID/smaps: the memory profile of a run.

    memory.py PID OUT.json

Groups every mapping's Rss (kB) by what it holds, told apart by how the kernel lays them out
(no debugger, no allocator hooks):
  binary        the executable's own pages (code, read-only data)
  libraries     other file-backed mappings (libc, the loader)
  brk heap      [heap]: glibc malloc's main arena (C code's allocations; Rust's go to jemalloc)
  anonymous     the allocator's memory: jemalloc's extents (or glibc's other arenas and
                mmapped blocks, with the system allocator), redb's page caches among them
  stacks        thread stacks (an anonymous mapping right above a 4 KiB guard page) and [stack]
and prints the totals with the process's VmHWM, VmRSS and thread count.
"""
import json
import os
import re
import sys

MAPPING = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ (\d+)\s*(.*)$")


def mappings(pid):
    current = None
    for line in open(f"/proc/{pid}/smaps"):
        m = MAPPING.match(line)
        if m:
            if current:
                yield current
            start, end = int(m.group(1), 16), int(m.group(2), 16)
            current = {"start": start, "size": end - start, "perms": m.group(3),
                       "inode": int(m.group(4)), "path": m.group(5).strip(), "rss": 0}
        elif line.startswith("Rss:") and current:
            current["rss"] = int(line.split()[1])
    if current:
        yield current


def classify(maps, exe):
    groups = {k: 0 for k in ("binary", "libraries", "brk heap", "anonymous", "stacks")}
    previous = None
    for m in maps:
        path = m["path"]
        if path == exe:
            group = "binary"
        elif m["inode"] and path:
            group = "libraries"
        elif path == "[heap]":
            group = "brk heap"
        elif path == "[stack]":
            group = "stacks"
        elif previous and previous["perms"].startswith("---") and previous["size"] == 4096 \
                and previous["start"] + 4096 == m["start"] and not path:
            group = "stacks"
        else:
            group = "anonymous"
        groups[group] += m["rss"]
        previous = m
    return groups


def status(pid):
    fields = {}
    for line in open(f"/proc/{pid}/status"):
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS", "Threads"):
            fields[key] = int(value.split()[0])
    return fields


def main():
    pid, out = sys.argv[1], sys.argv[2]
    exe = os.readlink(f"/proc/{pid}/exe")
    groups = classify(list(mappings(pid)), exe)
    result = {"rssKb": groups, **status(pid)}
    json.dump(result, open(out, "w"))
    parts = ", ".join(f"{k} {v / 1024:.1f}" for k, v in groups.items())
    print(f"  memory after the drain (MiB): {parts}; {result['Threads']} threads, "
          f"peak {result['VmHWM'] / 1024:.1f}")


if __name__ == "__main__":
    main()
