#!/usr/bin/env python3
"""Checks the shape of the product's crates (`shared/*/src`, read as one tree: each crate names
the lower crates' modules by the same `crate::room` paths): the module import graph has no cycle, no module imports
from a layer above its own, no function is longer than 80 lines, and no authenticated route is
registered without its access rule (outside `http/routes.rs`'s `Routes`). Ids stay typed from
the edge to the store: no serde struct of TYPED_ID_MODULES has a `String` field named `id` or
`…_id`, and no handler in `http/` takes `Path<String>` or `Path<(String, …)>` (each outside its
short allow-list, which says why). Store keys are built by services, never in `http/`, and each
key of `platform/store/keys.rs` by ONE owner (the service or kernel module whose items it names:
its repository); another asks the owner (SHARED_KEYS, shapes every owner uses, aside).

The graph is read from the source text: every `crate::a::b` path (in `use` lines and inline)
and every `super::` path is an arrow from the file to the module it names. Run it from the
repository root: `python3 scripts/check_layers.py` (exit 1 on any finding; `-v` prints the graph).
"""
import os
import re
import sys

SHARED = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "shared"))
# The crates' sources, lowest first (Cargo's dependency graph states the same order between
# crates; the layers below hold inside them too).
CRATES = ["kernel", "aws", "identity", "tracking", "programs", "attribution", "money",
          "integrations", "portal", "api", "."]
ROOTS = [os.path.normpath(os.path.join(SHARED, c, "src")) for c in CRATES]
# A crate whose modules sit in the tree under a folder of their own: tenx-aws's `crate::dynamo`
# is the tree's `aws::dynamo`, the name the runtime imports it by (`crate::aws::dynamo`).
PREFIX = {os.path.normpath(os.path.join(SHARED, "aws", "src")): "aws"}
MAX_FN_LINES = 80

# Lowest first, by folder (a room's module may be named `room/module` to sit on a layer of its
# own; none needs to today).
# A module may import from its own layer or any layer below, never above.
LAYERS = [
    ["domain"],
    # The seams and their engines, settings, clients, counters.
    ["platform"],
    ["auth"],
    # The event kernel: state, events, outbox, rate limits, settings documents.
    ["kernel"],
    # The seams' AWS engines (crate tenx-aws): only the runtime uses them (no context's crate
    # depends on tenx-aws).
    ["aws"],
    # The services: the product's nouns.
    ["links", "clicks", "campaigns", "conversions", "customers", "analytics", "webhooks", "chain",
     "tokens", "partners", "plans", "plan_changes", "fx", "ledger", "payouts", "connectors",
     "risk", "programs", "payout_methods", "payout_providers", "payout_batches", "people", "mail", "messages", "embed",
     "claims", "portal", "domains", "coupon_leaks", "imports", "search", "weekly", "attribute",
     "test_mode", "test_sales", "test_books"],
    ["http"],
    # The local server, the AWS wiring, the workers.
    ["runtime"],
    # Test support sits on top: it may use everything, nothing (outside tests) uses it.
    ["testing"],
]
LAYER_OF = {m: i for i, names in enumerate(LAYERS) for m in names}


def layer_of(module):
    """A module's layer: its `room/module` entry if it has one, else its top folder's."""
    if len(module) > 1 and f"{module[0]}/{module[1]}" in LAYER_OF:
        return LAYER_OF[f"{module[0]}/{module[1]}"]
    return LAYER_OF.get(module[0])


CRATE_PATH = re.compile(r"\bcrate::((?:[a-z_][a-z0-9_]*::)*[a-z_][a-z0-9_]*)")
USE_GROUP = re.compile(r"\buse\s+crate::\{([^;]*)\};", re.S)
SUPER_PATH = re.compile(r"\b((?:super::)+)([a-z_][a-z0-9_]*)")
TEST_MOD = re.compile(r"^#\[cfg\(test\)\]\s*\n\s*mod tests\b", re.M)


def root_of(path):
    """The crate source folder holding `path`."""
    path = os.path.normpath(path)
    return next(r for r in ROOTS if path.startswith(r + os.sep))


def rel_of(path):
    """`path` relative to its crate's `src`, with `/` separators (`ledger/post.rs`), under the
    crate's PREFIX if it has one (`aws/dynamo.rs`)."""
    root = root_of(path)
    rel = os.path.relpath(path, root).replace(os.sep, "/")
    prefix = PREFIX.get(root)
    if prefix is None:
        return rel
    return prefix + ".rs" if rel == "lib.rs" else f"{prefix}/{rel}"


def module_of(path):
    rel = rel_of(path)[:-3].split("/")
    if rel[-1] in ("mod", "lib"):
        rel = rel[:-1]
    return rel


def strip_tests(text):
    m = TEST_MOD.search(text)
    return text[: m.start()] if m else text


def strip_comments(text):
    """Comments (doc links included) name modules without importing them."""
    return re.sub(r"//[^\n]*", "", text)


def resolve(parts, modules):
    """The longest prefix of `parts` that is a module (a file)."""
    for n in range(len(parts), 0, -1):
        if tuple(parts[:n]) in modules:
            return tuple(parts[:n])
    return None


def edges_of(path, text, modules):
    me = tuple(module_of(path))
    out = set()
    prefix = [PREFIX[root_of(path)]] if root_of(path) in PREFIX else []
    targets = [prefix + m.group(1).split("::") for m in CRATE_PATH.finditer(text)]
    for group in USE_GROUP.finditer(text):
        for item in re.split(r",(?![^{]*\})", group.group(1)):
            head = item.strip().split("::")
            if head and head[0]:
                targets.append(prefix + [p for p in head if re.match(r"^[a-z_][a-z0-9_]*$", p)])
    is_mod_file = os.path.basename(path) in ("mod.rs", "lib.rs")
    for m in SUPER_PATH.finditer(text):
        ups = m.group(1).count("super::")
        base = list(me) if is_mod_file else list(me[:-1])
        base = base[: len(base) - (ups - 1)] if ups > 1 else base
        targets.append(base + [m.group(2)])
    for t in targets:
        target = resolve(t, modules)
        if target and target != me and not (me[: len(target)] == target):
            out.add(target)
    return out


def find_cycles(graph):
    index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return sccs


FN_START = re.compile(r"^(\s*)(pub(\([a-z]+\))?\s+)?(async\s+)?(const\s+)?fn\s+([a-z_0-9]+)")


def long_functions(path, text):
    lines = strip_tests(text).split("\n")
    found = []
    i = 0
    while i < len(lines):
        m = FN_START.match(lines[i])
        if not m:
            i += 1
            continue
        depth, started, j = 0, False, i
        while j < len(lines):
            code = re.sub(r'"(\\.|[^"\\])*"|//.*', "", lines[j])
            depth += code.count("{") - code.count("}")
            started = started or "{" in code
            if started and depth <= 0:
                break
            if not started and code.rstrip().endswith(";"):
                break  # a declaration without a body (trait method)
            j += 1
        if started and j - i + 1 > MAX_FN_LINES:
            found.append((m.group(6), i + 1, j - i + 1))
        i += 1
    return found


# The endpoint-group modules with authenticated routes: each declares them through `Routes`
# (http/routes.rs), which records the access rule with the route; a plain `.route(` there may
# only serve a path that needs no authentication.
AUTH_GROUP_MODULES = ["links", "tokens", "chain", "campaigns", "analytics", "webhooks",
                      "conversions", "customers", "console", "commissions", "payouts", "programs"]
# `/programs/{handle}`: a program's public page (the console's, no sign-in); `/portal/{handle}`:
# the partner portal's page (issue 61), which signs in through the API itself.
PUBLIC_PREFIXES = ("/v2/public/", "/console/", "/programs/", "/portal/")
ROUTE_CALL = re.compile(r"\.(route|route_service|nest|nest_service)\(\s*(\"[^\"]*\")?")
AUTHORIZE_USE = re.compile(r"\bauthorize\b(?!\s*\()")
ROUTES_FILE = os.path.join("http", "routes.rs")
AUTHORIZE_FILE = os.path.join("http", "auth", "mod.rs")


# Test support is compiled into every build (one feature set for the tests and the shipped
# functions, so CI's Lambda build reuses the tests' crates: docs/ci.md); only tests may name it.
TEST_SUPPORT = re.compile(
    r"\b(?:crate|tenx_[a-z_]+)::testing\b|\bEvent::untyped\(|\bTime::literal\(|\btime::advance\("
)


def test_support_in_product(rel, text):
    """A product module (not a `testing` module, outside its `#[cfg(test)] mod tests`) naming
    test support."""
    if rel.split("/")[0] in ("testing", "testing.rs"):
        return []
    body = strip_comments(strip_tests(text))
    return [
        f"test support in product code: {rel}:{body[: m.start()].count(chr(10)) + 1} names {m.group(0)}"
        for m in TEST_SUPPORT.finditer(body)
    ]


def unruled_routes(rel, text):
    """Routes registered without their access rule: a non-public `.route(` in a group module, or
    the `authorize` layer applied anywhere but the `Routes` builder."""
    code = strip_comments(strip_tests(text))
    found = []
    if rel in (ROUTES_FILE, AUTHORIZE_FILE):
        return found
    group = os.path.dirname(rel) == "http" and rel[len("http/"):-3] in AUTH_GROUP_MODULES
    for m in ROUTE_CALL.finditer(code if group else ""):
        path = (m.group(2) or "").strip('"')
        if not path.startswith(PUBLIC_PREFIXES):
            line = code[: m.start()].count("\n") + 1
            found.append(f"route without an access rule: {rel}:{line} .{m.group(1)}("
                         f"{m.group(2) or '…'}) (declare it in the module's Routes)")
    for m in AUTHORIZE_USE.finditer(code):
        line = code[: m.start()].count("\n") + 1
        found.append(f"authorize applied outside Routes: {rel}:{line}")
    return found


# Wire and stored structs whose ids must be domain types (prefixed ids, handles, …), not strings.
TYPED_ID_MODULES = ["kernel/events.rs", "conversions/submit.rs", "webhooks/message.rs",
                    "webhooks/subscription.rs", "tokens.rs", "programs/model.rs"]
# (file, struct, field) still a `String`, and why: none left.
STRING_ID_ALLOWED = set()
SERDE_STRUCT = re.compile(
    r"#\[derive\([^)]*\b(?:Serialize|Deserialize)\b[^)]*\)\]\s*(?:#\[[^\]]*\]\s*)*"
    r"(?:pub(?:\([a-z]+\))?\s+)?struct\s+(\w+)[^{;]*\{(.*?)\n\}", re.S)
STRING_ID_FIELD = re.compile(r"^\s*(?:pub(?:\([a-z]+\))?\s+)?(id|\w+_id)\s*:\s*(?:Option<)?String\b", re.M)


def string_ids(rel, text):
    """`String` id fields in the serde structs of the typed-id modules."""
    if rel not in TYPED_ID_MODULES:
        return []
    found = []
    for struct in SERDE_STRUCT.finditer(strip_tests(text)):
        for field in STRING_ID_FIELD.finditer(struct.group(2)):
            if (rel, struct.group(1), field.group(1)) not in STRING_ID_ALLOWED:
                line = text[: struct.start(2) + field.start(1)].count("\n") + 1
                found.append(f"string id: {rel}:{line} {struct.group(1)}.{field.group(1)} is a String "
                             "(use the domain type)")
    return found


RAW_PATH = re.compile(r"\bPath<\s*(?:\(\s*String\b|String\s*>)")
# Handlers whose path segment is free text, and why.
RAW_PATH_ALLOWED = {
    # The visitor's URL: anything may come, and a slug that does not parse is an orphan visit
    # that is recorded, not an error answered.
    ("http/redirect.rs", "redirect"),
    # A file name looked up in the console's fixed bundle (unknown: 404).
    ("http/console.rs", "asset"),
}


def raw_paths(rel, text):
    """Handlers in http/ taking a path of raw strings instead of its domain types."""
    if not rel.startswith("http" + os.sep) and not rel.startswith("http/"):
        return []
    rel = rel.replace(os.sep, "/")
    found = []
    for m in RAW_PATH.finditer(strip_tests(text)):
        fns = re.findall(r"\bfn\s+(\w+)", text[: m.start()])
        name = fns[-1] if fns else "?"
        if (rel, name) not in RAW_PATH_ALLOWED:
            line = text[: m.start()].count("\n") + 1
            found.append(f"raw path: {rel}:{line} {name} takes a path of Strings (use the domain types)")
    return found


STORE_KEYS = re.compile(r"\bkeys::[a-zA-Z_]")


def keys_at_the_edge(rel, text):
    """Store keys are the services' business: no `keys::` in `http/` (a list route asks its
    service for a `Listing`)."""
    if not rel.startswith("http/"):
        return []
    code = strip_comments(strip_tests(text))
    return [f"store keys at the HTTP edge: {rel}:{code[: m.start()].count(chr(10)) + 1}"
            for m in STORE_KEYS.finditer(code)]


# Key shapes rather than items: the handle's own partition (each service's items sit in it under
# a sort-key prefix of their own) and the bounds of day-prefixed sort keys.
SHARED_KEYS = {"handle_pk", "day_range"}
KEY_USE = re.compile(r"\bkeys::([A-Za-z_][A-Za-z0-9_]*)")


def owner_of(rel):
    """Who may own a key: a service (`links`, `ledger`), or a kernel/runtime module
    (`kernel/outbox`); `None` for the store itself and test support."""
    parts = rel[:-3].split("/")
    if parts[0] in ("platform", "testing"):
        return None
    if parts[0] in ("kernel", "runtime") and len(parts) > 1:
        return f"{parts[0]}/{parts[1]}"
    return parts[0]


def keys_with_two_owners(texts):
    """Each key built by more than one owner: one reaches into another's items."""
    users = {}
    for rel, text in texts.items():
        owner = owner_of(rel)
        if owner is None:
            continue
        for m in KEY_USE.finditer(strip_comments(strip_tests(text))):
            users.setdefault(m.group(1), set()).add(owner)
    return [f"store key keys::{k} built by {len(o)} owners: {', '.join(sorted(o))} (one owns it, the others ask it)"
            for k, o in sorted(users.items()) if len(o) > 1 and k not in SHARED_KEYS]


def stray_http_clients():
    """Every reqwest client is built by `http_client::builder()`, which installs the TLS provider
    first: reqwest has none of its own here, and a client built elsewhere panics at run time."""
    top = os.path.join(SHARED, "..")
    pattern = re.compile(r"reqwest::(?:Client::(?:new|builder|default)\(|ClientBuilder::new\()")
    problems = []
    for sub in ["shared", "tests", "src", "benches", "functions"]:
        for d, _, names in os.walk(os.path.join(top, sub)):
            for n in names:
                path = os.path.join(d, n)
                rel = os.path.relpath(path, top).replace(os.sep, "/")
                if not n.endswith(".rs") or rel == "shared/kernel/src/platform/http_client.rs":
                    continue
                for i, line in enumerate(open(path, encoding="utf-8"), 1):
                    if pattern.search(line):
                        problems.append(f"HTTP client built outside http_client::builder(): {rel}:{i}")
    return problems


# Rooms (top folders) allowed to import each other, each named with why: none. (The ledger
# asks partner risk through its own port, `ledger::risk_holds`: docs/architecture.md.)
ROOM_LOOPS = set()


def room_cycles(graph):
    """Service rooms in a loop of imports (files need not be: ledger/a -> risk/b -> ledger/c):
    a reader of one must read the other. Only the loops in ROOM_LOOPS are allowed."""
    rooms = {}
    for me, targets in graph.items():
        if me and LAYER_OF.get(me[0]) == LAYER_OF["ledger"]:
            for t in targets:
                if t and t[0] != me[0] and LAYER_OF.get(t[0]) == LAYER_OF["ledger"]:
                    rooms.setdefault((me[0],), set()).add((t[0],))
    return [
        "room cycle: " + " -> ".join(c[0] for c in comp)
        for comp in find_cycles(rooms)
        if frozenset(c[0] for c in comp) not in ROOM_LOOPS
    ]


def main():
    verbose = "-v" in sys.argv
    files = []
    for root in ROOTS:
        for d, subs, names in os.walk(root):
            files += [os.path.join(d, n) for n in names if n.endswith(".rs")]
    modules = {tuple(module_of(f)) for f in files}
    graph, problems = {}, []
    for f in sorted(files):
        text = strip_comments(strip_tests(open(f, encoding="utf-8").read()))
        me = tuple(module_of(f))
        graph[me] = edges_of(f, text, modules)
        rel = rel_of(f)
        problems += unruled_routes(rel, open(f, encoding="utf-8").read())
        problems += string_ids(rel, open(f, encoding="utf-8").read())
        problems += raw_paths(rel, open(f, encoding="utf-8").read())
        problems += keys_at_the_edge(rel, open(f, encoding="utf-8").read())
        problems += test_support_in_product(rel, open(f, encoding="utf-8").read())
        for name, line, n in long_functions(f, open(f, encoding="utf-8").read()):
            problems.append(f"long function: {os.path.relpath(f, SHARED)}:{line} {name} is {n} lines")
    for me, targets in sorted(graph.items()):
        if not me:
            continue
        for t in sorted(targets):
            if verbose:
                print("::".join(me), "->", "::".join(t))
            mine, theirs = layer_of(me), layer_of(t)
            if mine is None:
                problems.append(f"unlayered module: {me[0]} (add it to LAYERS)")
            elif theirs is not None and theirs > mine:
                problems.append(f"upward import: {'::'.join(me)} -> {'::'.join(t)}")
    problems += stray_http_clients()
    texts = {rel_of(f): open(f, encoding="utf-8").read() for f in files}
    problems += keys_with_two_owners(texts)
    for comp in find_cycles(graph):
        problems.append("cycle: " + " -> ".join("::".join(c) for c in comp))
    problems += room_cycles(graph)
    for p in sorted(set(problems)):
        print(p)
    print(f"{len(graph)} modules, {sum(len(t) for t in graph.values())} imports, {len(set(problems))} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
