//! Keeps `openapi.yaml` in step with the code: every `ACCESS_TABLE` row is documented with its
//! role, PAT scope and rate limit; every documented operation is a real route and every route of
//! the local app is documented (probed over HTTP); every response carries `x-request-id`; the
//! error codes are exactly the ones the code emits (and cover those API.md names); the `webhooks`
//! section lists every event type with the Standard Webhooks headers.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use serde_json::Value;
use tenx_shared::analytics::report::GroupBy;
use tenx_shared::domain::BotReason;
use tenx_shared::http::auth::{ACCESS_TABLE, Scope};
use tenx_shared::http::error::ErrorCode;
use tenx_shared::kernel::events::EventType;

use crate::access_matrix::{concrete, registered_paths_under};
use crate::helpers::*;

/// The unauthenticated routes (method, path) the code serves. `HEAD /{slug}` is part of the
/// redirect's contract; the other GET routes answer HEAD too, undocumented. `GET /` is the bare
/// short-link domain (on the API host, the console's page).
const PUBLIC_ROUTES: &[(&str, &str)] = &[
    ("GET", "/v2/public/context"),
    ("POST", "/v2/public/conversions"),
    ("POST", "/v2/public/leads"),
    ("POST", "/v2/public/integrations/stripe/{handle}"),
    ("POST", "/v2/public/integrations/shopify/{handle}"),
    ("POST", "/v2/public/integrations/stripe-connect/{handle}"),
    ("POST", "/v2/public/integrations/paypal/{handle}"),
    ("POST", "/v2/public/refs"),
    // A local server's upload URL (issue 64), allowed by its signature.
    ("PUT", "/v2/uploads/imports/{handle}/{uploadId}"),
    ("GET", "/v2/public/unsubscribe"),
    ("POST", "/v2/public/unsubscribe"),
    ("GET", "/v2/public/payout-dispute"),
    ("POST", "/v2/public/payout-dispute"),
    ("GET", "/t.js"),
    // The embedded referral dashboard (issue 61): its script, and its one read by embed token.
    ("GET", "/embed.js"),
    ("GET", "/v2/embed/referrals"),
    ("OPTIONS", "/v2/embed/referrals"),
    ("GET", "/v2/public/keys"),
    // The words for every code (issue 62).
    ("GET", "/v2/reasons"),
    ("POST", "/v2/public/chain/signals"),
    ("POST", "/v2/public/chain/resolve"),
    ("POST", "/v2/public/chain/prefetch"),
    ("GET", "/{slug}"),
    ("HEAD", "/{slug}"),
    ("GET", "/"),
    ("GET", "/healthz"),
    ("GET", "/console/{file}"),
    ("POST", "/console/sign-in"),
    ("GET", "/v2/public/programs/{handle}"),
    ("POST", "/v2/public/programs/{handle}/applications"),
    ("GET", "/programs/{handle}"),
    ("GET", "/portal/{handle}"),
    // A person's own routes (issue 60): the session cookie is their whole credential.
    ("POST", "/v2/auth/email-link"),
    ("GET", "/v2/auth/email-link/verify"),
    ("POST", "/v2/auth/email-link/verify"),
    ("GET", "/v2/auth/setup"),
    ("POST", "/v2/auth/setup"),
    ("POST", "/v2/auth/sign-out"),
    ("GET", "/v2/me"),
    ("GET", "/v2/me/sessions"),
    ("DELETE", "/v2/me/sessions"),
    ("DELETE", "/v2/me/sessions/{sessionId}"),
    // A person's mail preferences per kind (issue 59).
    ("GET", "/v2/me/notifications"),
    ("PUT", "/v2/me/notifications"),
    // OpenID Connect (issue 60): the providers, the start and the callback make a session.
    ("GET", "/v2/auth/oidc"),
    ("GET", "/v2/auth/oidc/{provider}/start"),
    ("GET", "/v2/auth/oidc/{provider}/callback"),
    // Passkeys (issue 60): registering (the session), signing in (the assertion), the list.
    ("POST", "/v2/auth/passkeys/register/begin"),
    ("POST", "/v2/auth/passkeys/register/finish"),
    ("POST", "/v2/auth/passkeys/authenticate/begin"),
    ("POST", "/v2/auth/passkeys/authenticate/finish"),
    ("GET", "/v2/me/passkeys"),
    ("DELETE", "/v2/me/passkeys/{passkeyId}"),
];

/// The methods probed on every registered path (HEAD is served by GET routes).
const PROBED: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

const OPERATION_KEYS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml");
    let text = std::fs::read_to_string(path).expect("openapi.yaml at the workspace root");
    serde_norway::from_str(&text).expect("openapi.yaml is valid YAML")
}

struct Operation<'a> {
    /// Upper case, as in `ACCESS_TABLE`.
    method: String,
    path: &'a str,
    op: &'a Value,
}

impl Operation<'_> {
    fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

fn operations(doc: &Value) -> Vec<Operation<'_>> {
    let paths = doc["paths"].as_object().expect("paths");
    let mut out = Vec::new();
    for (path, item) in paths {
        for key in OPERATION_KEYS {
            if let Some(op) = item.get(key) {
                out.push(Operation {
                    method: key.to_ascii_uppercase(),
                    path,
                    op,
                });
            }
        }
    }
    out
}

fn find<'a>(ops: &'a [Operation<'a>], method: &str, path: &str) -> Option<&'a Operation<'a>> {
    ops.iter().find(|o| o.method == method && o.path == path)
}

/// Follows a local `$ref` (`#/components/...`), once or repeatedly.
fn resolve<'a>(doc: &'a Value, mut value: &'a Value) -> &'a Value {
    while let Some(r) = value.get("$ref").and_then(Value::as_str) {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("non-local $ref {r}"));
        value = doc
            .pointer(pointer)
            .unwrap_or_else(|| panic!("$ref {r} does not resolve"));
    }
    value
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn header_names<'a>(doc: &'a Value, response: &'a Value) -> BTreeSet<&'a str> {
    resolve(doc, response)
        .get("headers")
        .and_then(Value::as_object)
        .map(|h| h.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn every_access_table_row_is_documented_with_its_role_scope_and_limit() {
    let doc = spec();
    let ops = operations(&doc);
    assert!(!ACCESS_TABLE.is_empty());
    for row in ACCESS_TABLE.iter() {
        let label = format!("{} {}", row.method, row.path);
        let op = find(&ops, row.method.as_str(), row.path)
            .unwrap_or_else(|| panic!("{label}: not in openapi.yaml"))
            .op;
        assert_eq!(
            op["x-required-role"],
            row.role.as_str(),
            "{label}: x-required-role"
        );
        let scope = row.scope.map_or(Value::Null, |s| Value::from(s.as_str()));
        assert_eq!(
            op.get("x-pat-scope"),
            Some(&scope),
            "{label}: x-pat-scope (null for JWT-only routes)"
        );
        assert_eq!(op["x-rate-limited"], row.write, "{label}: x-rate-limited");

        // The security requirements say the same: the JWT's lowest role, and a PAT only with a scope.
        let mut expected = vec![serde_json::json!({"jwt": [row.role.as_str()]})];
        if let Some(s) = row.scope {
            expected.push(serde_json::json!({"pat": [s.as_str()]}));
        }
        assert_eq!(op["security"], Value::Array(expected), "{label}: security");

        let responses = op["responses"].as_object().expect("responses");
        for status in ["401", "403"] {
            assert!(responses.contains_key(status), "{label}: no {status}");
        }
        // Conversion submissions count in the conversions bucket instead of the write limit.
        let own_bucket = row.path.ends_with("/conversions") && row.method == Method::POST;
        assert_eq!(
            responses.contains_key("429"),
            row.write || own_bucket,
            "{label}: a 429 exactly when the route is a rate-limited write (or a conversion)"
        );
        if row.write {
            for (status, response) in responses.iter().filter(|(s, _)| s.starts_with('2')) {
                let headers = header_names(&doc, response);
                for h in [
                    "x-ratelimit-limit",
                    "x-ratelimit-remaining",
                    "x-ratelimit-reset",
                ] {
                    assert!(headers.contains(h), "{label} {status}: no {h}");
                }
            }
        }
    }
}

#[test]
fn every_documented_operation_is_a_real_route() {
    let doc = spec();
    let ops = operations(&doc);
    for op in &ops {
        let label = op.label();
        let row = ACCESS_TABLE
            .iter()
            .find(|r| r.method.as_str() == op.method && r.path == op.path);
        let public = PUBLIC_ROUTES.contains(&(op.method.as_str(), op.path));
        match row {
            Some(_) => assert!(!public, "{label}: both public and in ACCESS_TABLE"),
            None => {
                assert!(
                    public,
                    "{label}: documented, but neither an ACCESS_TABLE row nor a public route"
                );
                assert_eq!(
                    op.op["security"],
                    serde_json::json!([]),
                    "{label}: public routes say `security: []`"
                );
                for ext in ["x-required-role", "x-pat-scope", "x-rate-limited"] {
                    assert!(
                        op.op.get(ext).is_none(),
                        "{label}: {ext} is for ACCESS_TABLE rows"
                    );
                }
            }
        }
    }
    for (method, path) in PUBLIC_ROUTES {
        assert!(
            find(&ops, method, path).is_some(),
            "{method} {path}: not in openapi.yaml"
        );
    }
    let ids: Vec<&str> = ops
        .iter()
        .map(|o| o.op["operationId"].as_str().expect("operationId"))
        .collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len(), "operationIds must be unique");
}

/// Every path the local app registers is documented with exactly the methods it routes: a
/// request with a method the path does not route is answered 405, any other is routed (401 for
/// authenticated routes without a token, 400/404 for public ones).
#[tokio::test]
async fn the_document_and_the_router_list_the_same_routes() {
    let doc = spec();
    let ops = operations(&doc);
    let app = spawn_app().await;
    let state = app.state();
    let registered: BTreeSet<String> =
        registered_paths_under(&tenx_shared::http::local_app(state), "/")
            .into_iter()
            // Axum's own fallback registrations, not routes.
            .filter(|p| !p.contains("__private__axum"))
            .collect();
    let documented: BTreeSet<String> = doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .cloned()
        .collect();
    // Known paths are found, so a change in axum's Debug format cannot make this pass vacuously.
    assert!(
        registered.contains("/{slug}")
            && registered.contains("/")
            && registered.contains("/v2/public/conversions")
    );
    assert_eq!(
        registered, documented,
        "registered paths (left) differ from openapi.yaml's paths (right)"
    );

    for path in &registered {
        let url = app.url(&concrete(path, "acme"));
        for method in PROBED {
            let mut req = app
                .client
                .request(Method::from_bytes(method.as_bytes()).expect("method"), &url);
            if matches!(method, "POST" | "PUT" | "PATCH") {
                req = req.header("content-type", "application/json").body("{}");
            }
            let status = req.send().await.expect("request").status().as_u16();
            let routed = status != 405;
            assert!(status < 500, "{method} {path}: {status}");
            assert_eq!(
                routed,
                find(&ops, method, path).is_some(),
                "{method} {path}: routed={routed} (status {status}) but documented={}",
                !routed
            );
        }
        if find(&ops, "HEAD", path).is_some() {
            assert!(find(&ops, "GET", path).is_some(), "HEAD {path} without GET");
        }
    }
}

#[test]
fn every_response_carries_a_request_id_and_every_429_retry_after() {
    let doc = spec();
    let ops = operations(&doc);
    for op in &ops {
        let responses = op.op["responses"].as_object().expect("responses");
        assert!(
            responses.contains_key("default"),
            "{}: no default (error) response",
            op.label()
        );
        for (status, response) in responses {
            let headers = header_names(&doc, response);
            assert!(
                headers.contains("x-request-id"),
                "{} {status}: no x-request-id",
                op.label()
            );
            if status == "429" {
                for h in [
                    "retry-after",
                    "x-ratelimit-limit",
                    "x-ratelimit-remaining",
                    "x-ratelimit-reset",
                ] {
                    assert!(headers.contains(h), "{} 429: no {h}", op.label());
                }
            }
            let body = resolve(&doc, response);
            if status.starts_with('4') || status == "default" {
                let schema = &body["content"]["application/json"]["schema"];
                assert_eq!(
                    schema["$ref"],
                    "#/components/schemas/ErrorEnvelope",
                    "{} {status}: errors use the envelope",
                    op.label()
                );
            }
        }
    }
}

#[test]
fn the_redirect_is_documented_on_the_short_link_host() {
    let doc = spec();
    for path in ["/{slug}", "/"] {
        let servers: Vec<&str> = doc["paths"][path]["servers"]
            .as_array()
            .unwrap_or_else(|| panic!("{path}: path-level servers"))
            .iter()
            .filter_map(|s| s["url"].as_str())
            .collect();
        assert!(
            servers.contains(&"https://{handle}.{redirectDomain}"),
            "{path}: {servers:?}"
        );
    }
    let item = &doc["paths"]["/{slug}"];
    for method in ["get", "head"] {
        let response = resolve(&doc, &item[method]["responses"]["302"]);
        let headers = header_names(&doc, response);
        for h in ["location", "set-cookie", "cache-control", "x-request-id"] {
            assert!(headers.contains(h), "{method} /{{slug}} 302: no {h}");
        }
    }
    // A browser gets the 404 and 410 as an HTML page, an API client as the envelope.
    let answers = [
        ("/{slug}", "get", "404"),
        ("/{slug}", "get", "410"),
        ("/{slug}", "head", "404"),
        ("/{slug}", "head", "410"),
        ("/", "get", "404"),
    ];
    for (path, method, status) in answers {
        let response = resolve(&doc, &doc["paths"][path][method]["responses"][status]);
        let types: BTreeSet<&str> = response["content"]
            .as_object()
            .map(|c| c.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(
            types,
            BTreeSet::from(["application/json", "text/html"]),
            "{method} {path} {status}"
        );
    }
    let fallback = resolve(&doc, &doc["paths"]["/"]["get"]["responses"]["302"]);
    assert!(header_names(&doc, fallback).contains("location"));
    // The sub-ids are parameters of the redirect.
    let names: BTreeSet<&str> = item["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|p| resolve(&doc, p)["name"].as_str().expect("name"))
        .collect();
    for sub in tenx_shared::domain::subids::SUB_ID_NAMES {
        assert!(names.contains(sub), "/{{slug}}: no {sub} parameter");
    }
}

/// Path templates name their parameters, and each is declared `in: path` (the structural
/// validator does not check this).
#[test]
fn every_path_parameter_is_declared() {
    let doc = spec();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let in_template: BTreeSet<String> = path
            .split('{')
            .skip(1)
            .filter_map(|s| s.split_once('}').map(|(name, _)| name.to_owned()))
            .collect();
        let path_level = item["parameters"].as_array().cloned().unwrap_or_default();
        for key in OPERATION_KEYS {
            let Some(op) = item.get(key) else { continue };
            let mut params = path_level.clone();
            params.extend(op["parameters"].as_array().cloned().unwrap_or_default());
            let declared: BTreeSet<String> = params
                .iter()
                .map(|p| resolve(&doc, p))
                .filter(|p| p["in"] == "path")
                .map(|p| {
                    assert_eq!(
                        p["required"], true,
                        "{key} {path}: path params are required"
                    );
                    p["name"].as_str().expect("name").to_owned()
                })
                .collect();
            assert_eq!(declared, in_template, "{key} {path}: path parameters");
        }
    }
}

#[test]
fn every_local_ref_resolves() {
    fn walk<'a>(v: &'a Value, refs: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                    refs.push(r);
                }
                m.values().for_each(|x| walk(x, refs));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, refs)),
            _ => {}
        }
    }
    let doc = spec();
    let mut refs = Vec::new();
    walk(&doc, &mut refs);
    assert!(
        refs.len() > 100,
        "expected many $refs, found {}",
        refs.len()
    );
    for r in refs {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{r}: not local"));
        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
    }
}

/// Every code `ApiError` can answer: the `ErrorCode` enum (an error is built from it alone).
fn codes_in_source() -> BTreeSet<String> {
    ErrorCode::ALL
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect()
}

/// `` `409 idempotency_key_reused` `` and the like in the API contract (`docs/api.md`).
fn codes_in_contract() -> BTreeSet<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/api.md");
    let text = std::fs::read_to_string(path).expect("docs/api.md");
    text.split('`')
        .filter_map(|s| s.split_once(' '))
        .filter(|(status, code)| {
            status.len() == 3
                && status.bytes().all(|b| b.is_ascii_digit())
                && !code.is_empty()
                && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        })
        .map(|(_, code)| code.to_owned())
        .collect()
}

#[test]
fn error_codes_are_the_ones_the_code_emits_and_the_contract_names() {
    let doc = spec();
    let documented = strings(&doc["components"]["schemas"]["ErrorCode"]["enum"]);
    let emitted = codes_in_source();
    assert_eq!(
        emitted, documented,
        "error codes the code emits (left) differ from openapi.yaml's ErrorCode (right)"
    );
    let contract = codes_in_contract();
    assert!(contract.contains("payload_too_large"), "{contract:?}");
    let missing: Vec<&String> = contract.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "docs/api.md codes missing from ErrorCode: {missing:?}"
    );
}

#[test]
fn scopes_and_event_types_match_the_code() {
    let doc = spec();
    let schemas = &doc["components"]["schemas"];
    let scopes: BTreeSet<String> = Scope::ALL.iter().map(|s| s.as_str().to_owned()).collect();
    assert_eq!(strings(&schemas["Scope"]["enum"]), scopes);
    let types: BTreeSet<String> = EventType::ALL
        .iter()
        .map(|t| t.as_str().to_owned())
        .collect();
    assert_eq!(strings(&schemas["EventType"]["enum"]), types);
    let reasons: BTreeSet<String> = BotReason::ALL
        .iter()
        .map(|r| r.as_str().to_owned())
        .collect();
    assert_eq!(strings(&schemas["BotReason"]["enum"]), reasons);
    let groups: BTreeSet<String> = GroupBy::ALL.iter().map(|g| g.as_str().to_owned()).collect();
    let parameters = &doc["components"]["parameters"];
    assert_eq!(strings(&parameters["GroupBy"]["schema"]["enum"]), groups);
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
}

/// Enumerations the spec repeats for clients (and the fuzzer) that the code keeps as lists.
#[test]
fn currencies_and_report_dimensions_match_the_code() {
    let doc = spec();
    let schemas = &doc["components"]["schemas"];
    let currencies: BTreeSet<String> = tenx_shared::domain::conversion::CURRENCIES
        .iter()
        .map(|c| (*c).to_owned())
        .collect();
    assert_eq!(strings(&schemas["Currency"]["enum"]), currencies);
    let groups: BTreeSet<String> = GroupBy::ALL.iter().map(|g| g.as_str().to_owned()).collect();
    let report = &schemas["GroupReport"]["properties"]["groupBy"]["enum"];
    assert_eq!(strings(report), groups);
}

#[test]
fn the_webhooks_section_has_every_event_type_with_standard_webhooks_headers() {
    let doc = spec();
    let hooks = doc["webhooks"].as_object().expect("webhooks section");
    let names: BTreeSet<&str> = hooks.keys().map(String::as_str).collect();
    let types: BTreeSet<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(names, types);
    for (name, item) in hooks {
        let post = &item["post"];
        let headers: BTreeMap<&str, &Value> = post["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .map(|p| resolve(&doc, p))
            .filter(|p| p["in"] == "header")
            .map(|p| (p["name"].as_str().expect("name"), p))
            .collect();
        for h in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
            let header = headers.get(h).unwrap_or_else(|| panic!("{name}: no {h}"));
            assert_eq!(header["required"], true, "{name}: {h} required");
        }
        let schema = resolve(
            &doc,
            &post["requestBody"]["content"]["application/json"]["schema"],
        );
        let parts = schema["allOf"].as_array().expect("allOf");
        assert_eq!(
            resolve(&doc, &parts[0]),
            resolve(
                &doc,
                &serde_json::json!({"$ref": "#/components/schemas/WebhookEvent"})
            ),
            "{name}: built on WebhookEvent"
        );
        assert_eq!(
            parts[1]["properties"]["type"]["const"],
            name.as_str(),
            "{name}: the body's type"
        );
    }
}
