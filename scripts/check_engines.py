#!/usr/bin/env python3
"""Which `api` tests run on which engine (issue 75): tests/api/engines.toml, checked.

Every module of the `api` test binary (tests/api/*.rs, declared in tests/api/main.rs) is in
exactly one of engines.toml's tables: [both] (the whole module on the embedded engine and on the
AWS backend), [embedded] (once, on the embedded engine, except its tests named in [both_tests])
or [helpers] (no tests). The rule is docs/ci.md's "Which tests run on which engine".

    python3 scripts/check_engines.py               # the check (scripts/test.sh's quick checks)
    python3 scripts/check_engines.py --counts      # the check, then the tests per engine
    python3 scripts/check_engines.py --aws-filter  # the nextest filterset of the AWS stage

Fails, naming the module (or test), when a module is in no table or in two, when a listed module
or test does not exist, when a [both_tests] entry names a module not in [embedded], when a helper
module holds a test or a listed test module holds none, or when an entry gives no reason. Python's
standard library only (tomllib: Python 3.11+), no build: tests are found in the source by their
attribute (`#[test]`, `#[tokio::test]`, …) and the `fn` after it.
"""

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
API = ROOT / "tests" / "api"
LIST = API / "engines.toml"
TABLES = ("both", "embedded", "helpers")
# The modules CI runs on AWS in a stage of their own (one at a time), not in the end-to-end stage.
CHAOS_PREFIX = "chaos"

TEST_ATTR = re.compile(r"#\[(?:tokio::)?test\b[^\]]*\]")
FN = re.compile(r"\b(?:async\s+)?fn\s+([A-Za-z_][A-Za-z0-9_]*)")
IGNORE = re.compile(r"#\[ignore\b")


def tests_of(path: Path) -> dict[str, bool]:
    """The test functions of a module file: name -> whether it is #[ignore]d."""
    src = path.read_text(encoding="utf-8")
    found: dict[str, bool] = {}
    for attr in TEST_ATTR.finditer(src):
        fn = FN.search(src, attr.end())
        if not fn:
            continue
        between = src[attr.start() : fn.start()]
        found[fn.group(1)] = bool(IGNORE.search(between))
    return found


def declared_modules() -> set[str]:
    main = (API / "main.rs").read_text(encoding="utf-8")
    return set(re.findall(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([a-z0-9_]+)\s*;", main, re.M))


def load() -> tuple[dict, list[str]]:
    errors: list[str] = []
    try:
        data = tomllib.loads(LIST.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        return {}, [f"{LIST.relative_to(ROOT)}: cannot read it: {e}"]
    for key in data:
        if key not in (*TABLES, "both_tests"):
            errors.append(f"engines.toml: unknown table [{key}] (expected {', '.join(TABLES)}, both_tests)")
    return data, errors


def check(data: dict) -> tuple[list[str], dict[str, dict[str, bool]]]:
    errors: list[str] = []
    files = {p.stem for p in API.glob("*.rs") if p.stem != "main"}
    declared = declared_modules()
    for m in sorted(files - declared):
        errors.append(f"tests/api/{m}.rs: not a module of the api binary (no `mod {m};` in tests/api/main.rs)")
    for m in sorted(declared - files):
        errors.append(f"tests/api/main.rs declares `mod {m};` but tests/api/{m}.rs does not exist")
    modules = files & declared
    tests = {m: tests_of(API / f"{m}.rs") for m in modules}

    where: dict[str, list[str]] = {}
    for table in TABLES:
        for m, reason in data.get(table, {}).items():
            where.setdefault(m, []).append(table)
            if m not in files:
                errors.append(f"engines.toml [{table}]: module `{m}` does not exist (no tests/api/{m}.rs)")
            if not isinstance(reason, str) or not reason.strip():
                errors.append(f"engines.toml [{table}]: module `{m}` gives no reason")
    for m in sorted(modules):
        tables = where.get(m, [])
        if not tables:
            errors.append(
                f"tests/api/{m}.rs: module `{m}` is in no table of tests/api/engines.toml: add it to "
                "[both] or [embedded] by the rule in docs/ci.md (or [helpers] if it holds no test)"
            )
        elif len(tables) > 1:
            errors.append(f"tests/api/{m}.rs: module `{m}` is in more than one table: {', '.join(tables)}")
    for m in data.get("helpers", {}):
        if m in tests and tests[m]:
            errors.append(
                f"tests/api/{m}.rs: module `{m}` is listed under [helpers] but holds tests "
                f"({', '.join(sorted(tests[m]))}): list it under [both] or [embedded]"
            )
    for table in ("both", "embedded"):
        for m in data.get(table, {}):
            if m in tests and not tests[m]:
                errors.append(f"tests/api/{m}.rs: module `{m}` is listed under [{table}] but holds no test")

    embedded = data.get("embedded", {})
    for name, reason in data.get("both_tests", {}).items():
        m, sep, t = name.partition("::")
        if not sep or not t or "::" in t:
            errors.append(f"engines.toml [both_tests]: `{name}` is not `module::test`")
            continue
        if m not in tests:
            errors.append(f"engines.toml [both_tests]: `{name}`: module `{m}` does not exist")
            continue
        if m not in embedded:
            errors.append(
                f"engines.toml [both_tests]: `{name}`: module `{m}` is not under [embedded] "
                "(a [both] module runs whole on both engines already)"
            )
        if t not in tests[m]:
            errors.append(f"engines.toml [both_tests]: `{name}`: tests/api/{m}.rs has no test `{t}`")
        if not isinstance(reason, str) or not reason.strip():
            errors.append(f"engines.toml [both_tests]: `{name}` gives no reason")
    return errors, tests


def aws_filter(data: dict) -> str:
    """The nextest filterset of the tests that run on the AWS backend too (chaos included:
    scripts/test.sh's end-to-end stage leaves those to the chaos stage)."""
    both = sorted(data.get("both", {}))
    parts = [f"test(/^({'|'.join(both)})::/)"] if both else []
    parts += [f"test(={name})" for name in sorted(data.get("both_tests", {}))]
    return " | ".join(parts) if parts else "none()"


def counts(data: dict, tests: dict[str, dict[str, bool]]) -> str:
    def run(m: str) -> list[str]:
        return [t for t, ignored in tests.get(m, {}).items() if not ignored]

    embedded_all = sum(len(run(m)) for m in tests)
    both = list(data.get("both", {}))
    chaos = sum(len(run(m)) for m in both if m.startswith(CHAOS_PREFIX))
    e2e = sum(len(run(m)) for m in both if not m.startswith(CHAOS_PREFIX))
    singles = 0
    for name in data.get("both_tests", {}):
        m, t = name.split("::", 1)
        if t in tests.get(m, {}) and not tests[m][t]:
            singles += 1
    once = embedded_all - e2e - chaos - singles
    e2e_modules = sum(1 for m in both if not m.startswith(CHAOS_PREFIX))
    return (
        f"api tests (not #[ignore]d): {embedded_all} on the embedded engine; on the AWS backend "
        f"{e2e + singles} in the end-to-end stage ({e2e} from {e2e_modules} [both] modules, "
        f"{singles} from [both_tests]) and {chaos} in the chaos stage; "
        f"{once} run once, on the embedded engine only"
    )


def main(argv: list[str]) -> int:
    data, errors = load()
    tests: dict[str, dict[str, bool]] = {}
    if not errors:
        more, tests = check(data)
        errors += more
    if errors:
        for e in errors:
            print(f"check_engines: {e}", file=sys.stderr)
        print(
            f"check_engines: {len(errors)} problem(s); the rule is docs/ci.md's "
            "\"Which tests run on which engine\"",
            file=sys.stderr,
        )
        return 1
    if "--aws-filter" in argv:
        print(aws_filter(data))
        return 0
    if "--counts" in argv:
        print(counts(data, tests))
    else:
        print(f"check_engines: every tests/api module is in one table of tests/api/engines.toml ({len(tests)} modules)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
