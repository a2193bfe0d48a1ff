#!/usr/bin/env python3
"""Writes the part of openapi.yaml the client libraries are generated from (issue 82).

    scripts/sdk_spec.py OUT.json

Why a filtered copy: the whole document (157 paths, 537 KB) describes the console's, the
partner portal's, the mail and import routes as well. Generated whole, the Python client is
4.2 MB and openapi-python-client drops `PUT …/links/{slug}` and every answer that holds a
`Link` (it cannot read `RouteConditions`' validation-only `anyOf`). A merchant's library needs
the merchant-facing routes below; everything they reference comes along, nothing else.

Two rewrites, both of validation only (the server still enforces them, and answers
`400 invalid_request` in the API's words):
- an `anyOf` whose branches only say "this property is required" (at least one of several
  lists) is dropped: generators read it as a union of partial objects;
- in an `allOf` branch, a property narrowed with `const` (each webhook event's `type`, e.g.
  `{"const": "link.clicked"}` over `EventType`) becomes a one-value `enum` of the same type:
  openapi-python-client 0.29.1 cannot intersect a `const` with an enum and drops the schema;
- nothing else is changed: descriptions, enums and formats stay as written. The top-level
  `webhooks` (the events 10x sends) are kept whole, so the event types are generated too.
Standard library plus PyYAML (as scripts/docs_run.py's tests use it) — the output is JSON with
sorted keys, so the same openapi.yaml always gives the same bytes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

# The routes a merchant's library needs, by operationId (openapi.yaml's names).
OPERATIONS = [
    # health
    "health",
    # links
    "listLinks", "getLink", "upsertLink", "deleteLink",
    # the click context and conversions
    "resolveContext", "submitConversion", "submitVerifiedConversion",
    "listConversions", "getConversion", "reverseConversion",
    # partners
    "listPartners", "createPartner", "getPartner", "updatePartner", "createPartnerLink",
    "getPartnerSummary",
    # commissions and balances
    "listCommissions", "getCommission", "createManualCommission",
    "approveCommission", "rejectCommission", "getBalances",
    # payouts (read)
    "listPayouts", "getPayout", "getPayoutStatement",
    # analytics and its CSV export
    "getAnalytics", "exportAnalytics",
    # webhooks
    "createWebhook", "listWebhooks", "getWebhook", "updateWebhook", "deleteWebhook",
    "testWebhook", "listDeliveries", "resendDelivery",
]

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def refs(node, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            found.add(ref)
        for value in node.values():
            refs(value, found)
    elif isinstance(node, list):
        for value in node:
            refs(value, found)


def required_only(branch) -> bool:
    """A branch that only says which property must be present (with at most a bare type)."""
    if not isinstance(branch, dict) or "required" not in branch:
        return False
    if set(branch) - {"required", "properties"}:
        return False
    for prop in (branch.get("properties") or {}).values():
        if set(prop) - {"type"}:
            return False
    return True


def drop_required_only_any_of(node) -> None:
    if isinstance(node, dict):
        any_of = node.get("anyOf")
        if isinstance(any_of, list) and any_of and all(required_only(b) for b in any_of):
            del node["anyOf"]
        for value in node.values():
            drop_required_only_any_of(value)
    elif isinstance(node, list):
        for value in node:
            drop_required_only_any_of(value)


def const_to_enum_in_all_of(node) -> None:
    if isinstance(node, dict):
        for branch in node.get("allOf") or []:
            for prop in (branch.get("properties") or {}).values() if isinstance(branch, dict) else []:
                if isinstance(prop, dict) and "const" in prop and "enum" not in prop:
                    value = prop.pop("const")
                    prop["type"] = "string" if isinstance(value, str) else prop.get("type")
                    prop["enum"] = [value]
        for value in node.values():
            const_to_enum_in_all_of(value)
    elif isinstance(node, list):
        for value in node:
            const_to_enum_in_all_of(value)


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    doc = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    wanted = set(OPERATIONS)
    paths: dict = {}
    seen: set[str] = set()
    for path, item in doc["paths"].items():
        kept = {m: op for m, op in item.items() if m in METHODS and op.get("operationId") in wanted}
        if not kept:
            continue
        if "parameters" in item:
            kept["parameters"] = item["parameters"]
        paths[path] = kept
        seen.update(op["operationId"] for m, op in kept.items() if m in METHODS)
    missing = wanted - seen
    if missing:
        print(f"sdk_spec: openapi.yaml has no operation {sorted(missing)}", file=sys.stderr)
        return 1

    # Keep the components the kept paths reach, transitively.
    components = doc.get("components", {})
    found: set[str] = set()
    refs(paths, found)
    refs(doc.get("webhooks", {}), found)  # the events a receiver verifies: typed too
    done: set[str] = set()
    while found - done:
        ref = sorted(found - done)[0]
        done.add(ref)
        _, _, kind, name = ref.split("/", 3)
        target = components.get(kind, {}).get(name)
        if target is None:
            print(f"sdk_spec: dangling {ref}", file=sys.stderr)
            return 1
        refs(target, found)
    kept_components: dict = {}
    for ref in sorted(done):
        _, _, kind, name = ref.split("/", 3)
        kept_components.setdefault(kind, {})[name] = components[kind][name]
    if "securitySchemes" in components:
        kept_components["securitySchemes"] = components["securitySchemes"]

    out = {k: v for k, v in doc.items() if k not in ("paths", "components", "tags")}
    used_tags = {t for item in paths.values() for m, op in item.items() if m in METHODS
                 for t in op.get("tags", [])}
    if "tags" in doc:
        out["tags"] = [t for t in doc["tags"] if t.get("name") in used_tags]
    out["paths"] = paths
    if "webhooks" in doc:
        out["webhooks"] = doc["webhooks"]
    out["components"] = kept_components
    drop_required_only_any_of(out)
    const_to_enum_in_all_of(out)
    Path(sys.argv[1]).write_text(json.dumps(out, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
