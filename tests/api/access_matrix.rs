//! The whole access matrix, generated from `ACCESS_TABLE` so a new route cannot skip it: for
//! every row, no token, every role, another handle's JWT and PAT, and a PAT with and without the
//! row's scope. Plus: every row's route is registered, every registered `/v2/handles/` route has
//! a row, and docs/security.md renders the table verbatim.

use reqwest::{Method, Response};
use serde_json::Value;
use tenx_shared::http::auth::access::{ACCESS_TABLE, Access, markdown_table};
use tenx_shared::http::auth::{Role, Scope};

use crate::helpers::*;
use crate::tokens::create_pat;

const HANDLE: &str = "acme";
const OTHER: &str = "other-co";

/// A value for a path parameter, chosen by its name. Resources need not exist: a 404 for the
/// resource (or a 400 for its shape) is an authorized answer.
fn param_value(name: &str, handle: &str) -> String {
    match name {
        "handle" => handle.to_owned(),
        "slug" => "matrix-slug".to_owned(),
        "campaignId" => "matrix-campaign".to_owned(),
        "tokenId" => "tok_0123456789abcdef0123456789abcdef".to_owned(),
        "subscriptionId" | "id" => "sub_0123456789abcdef0123456789abcdef".to_owned(),
        "eventId" => "evt_0123456789abcdef0123456789abcdef".to_owned(),
        "dispatchId" | "deliveryId" => "dsp_0123456789abcdef0123456789abcdef".to_owned(),
        _ => "matrix-value".to_owned(),
    }
}

/// The route pattern with every `{name}` / `{*name}` replaced.
pub(crate) fn concrete(pattern: &str, handle: &str) -> String {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').expect("balanced braces") + open;
        let name = rest[open + 1..close].trim_start_matches('*');
        out.push_str(&param_value(name, handle));
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

fn method_of(a: &Access) -> Method {
    Method::from_bytes(a.method.as_str().as_bytes()).unwrap()
}

/// `{method} {path}` (a path of [`HANDLE`]) with `token`, or with none; a body of `{}` for the
/// methods that take one.
async fn call(app: &TestApp, method: Method, path: &str, token: Option<&str>) -> Response {
    let rest = path
        .strip_prefix(&format!("/v2/handles/{HANDLE}"))
        .unwrap_or_else(|| panic!("{path} is not a path of {HANDLE}"));
    let caller = match token {
        Some(t) => app.with_token(HANDLE, t),
        None => app.without_token(HANDLE),
    };
    if matches!(method, Method::POST | Method::PUT | Method::PATCH) {
        caller
            .send_raw(method, rest, "application/json", "{}")
            .await
    } else {
        caller.send_empty(method, rest).await
    }
}

/// Asserts the caller got past authorization: not 401/403, and not a server error either.
async fn assert_authorized(resp: Response, what: &str) {
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap_or_default();
    assert!(
        !matches!(status, 401 | 403) && status < 500,
        "{what}: expected an authorized answer, got {status} {body}"
    );
}

fn label(a: &Access) -> String {
    format!("{} {}", a.method, a.path)
}

fn matrix_config() -> tenx_shared::platform::config::Config {
    let mut c = test_config();
    // Hundreds of writes in one window: the matrix is about access, not limits.
    c.rate_limits.free = 1_000_000;
    c
}

#[tokio::test]
async fn every_route_enforces_its_role_handle_and_scope() {
    let app = spawn_with(matrix_config(), None).await;
    // PATs: one per scope, one per "every scope but this one", one with all, one elsewhere.
    let mut only = Vec::new();
    let mut all_but = Vec::new();
    for s in Scope::ALL {
        only.push((s, create_pat(&app, HANDLE, &[s.as_str()]).await));
        let rest: Vec<&str> = Scope::ALL
            .into_iter()
            .filter(|x| *x != s)
            .map(Scope::as_str)
            .collect();
        all_but.push((s, create_pat(&app, HANDLE, &rest).await));
    }
    let every: Vec<&str> = Scope::ALL.into_iter().map(Scope::as_str).collect();
    let all_scopes = create_pat(&app, HANDLE, &every).await;
    let foreign_pat = create_pat(&app, OTHER, &every).await;
    let pat_with = |s: Scope| only.iter().find(|(x, _)| *x == s).unwrap().1.clone();
    let pat_without = |s: Scope| all_but.iter().find(|(x, _)| *x == s).unwrap().1.clone();

    assert!(!ACCESS_TABLE.is_empty());
    for row in ACCESS_TABLE.iter() {
        let what = label(row);
        let method = method_of(row);
        let path = concrete(row.path, HANDLE);

        assert_error(
            call(&app, method.clone(), &path, None).await,
            401,
            "unauthorized",
        )
        .await;

        for role in Role::ALL {
            let jwt = app.token(&[HANDLE], role);
            let resp = call(&app, method.clone(), &path, Some(&jwt)).await;
            if role < row.role {
                assert_error(resp, 403, "insufficient_role").await;
            } else {
                assert_authorized(resp, &format!("{what} as {}", role.as_str())).await;
            }
        }

        let foreign_jwt = app.token(&[OTHER], Role::Admin);
        assert_error(
            call(&app, method.clone(), &path, Some(&foreign_jwt)).await,
            403,
            "forbidden",
        )
        .await;
        assert_error(
            call(&app, method.clone(), &path, Some(&foreign_pat)).await,
            403,
            "forbidden",
        )
        .await;

        match row.scope {
            Some(scope) => {
                let resp = call(&app, method.clone(), &path, Some(&pat_with(scope))).await;
                assert_authorized(resp, &format!("{what} with PAT {}", scope.as_str())).await;
                let resp = call(&app, method.clone(), &path, Some(&pat_without(scope))).await;
                let message = assert_error(resp, 403, "insufficient_scope").await;
                assert!(message.contains(scope.as_str()), "{what}: {message}");
            }
            None => {
                // JWT only: even a PAT with every scope is refused.
                let resp = call(&app, method.clone(), &path, Some(&all_scopes)).await;
                assert_error(resp, 403, "insufficient_scope").await;
            }
        }
    }
}

/// The authenticated (`/v2/handles/…`) paths a router registered.
fn registered_paths(router: &axum::Router) -> Vec<String> {
    registered_paths_under(router, "/v2/handles/")
}

/// The paths a router registered under `prefix`. Axum has no public route listing; its `Debug`
/// output names every registered path, so this reads them from there. Callers check that known
/// paths are found, so a change in that format fails loudly instead of passing vacuously.
pub(crate) fn registered_paths_under(router: &axum::Router, prefix: &str) -> Vec<String> {
    let debug = format!("{router:?}");
    let mut paths: Vec<String> = debug
        .split('"')
        .filter(|s| s.starts_with(prefix))
        .map(str::to_owned)
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

#[tokio::test]
async fn every_handle_route_has_a_row_and_every_row_a_route() {
    let app = spawn_with(matrix_config(), None).await;
    let state = app.state();
    let paths = registered_paths(&tenx_shared::http::local_app(state));
    for row in ACCESS_TABLE.iter() {
        assert!(
            paths.iter().any(|p| p == row.path),
            "{}: no such route is registered (registered: {paths:?})",
            label(row)
        );
    }

    let admin = app.token(&[HANDLE], Role::Admin);
    // Every row's method is routed: neither a route-404 nor a 405.
    for row in ACCESS_TABLE.iter() {
        let resp = call(
            &app,
            method_of(row),
            &concrete(row.path, HANDLE),
            Some(&admin),
        )
        .await;
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        let message = body["error"]["message"].as_str().unwrap_or("");
        assert_ne!(status, 405, "{}: method not routed", label(row));
        assert!(
            !(status == 404 && message == "This route was not found."),
            "{}: route not found",
            label(row)
        );
    }
    // Every other method on a registered path is not routed at all (a routed one without a row
    // would be refused by the authorize layer with a 500).
    let methods = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
    ];
    for path in &paths {
        for method in &methods {
            let has_row = ACCESS_TABLE
                .iter()
                .any(|r| r.path == path && r.method.as_str() == method.as_str());
            if has_row {
                continue;
            }
            let resp = call(&app, method.clone(), &concrete(path, HANDLE), Some(&admin)).await;
            let status = resp.status().as_u16();
            assert_eq!(
                status, 405,
                "{method} {path} is routed but has no ACCESS_TABLE row"
            );
        }
    }
}

#[test]
fn the_security_doc_renders_the_access_table() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/security.md"))
        .expect("docs/security.md");
    assert!(
        doc.contains(&markdown_table()),
        "docs/security.md is out of date with ACCESS_TABLE: run `cargo run -q -- access-table` \
         and paste its output into its \"Roles, scopes and tokens\" section"
    );
}

/// Every scope docs/api.md names for a route (in the parenthesis of roles after it: "operator+,
/// PAT `commissions.write`") is the route's scope in ACCESS_TABLE, so the reference cannot tell
/// an engineer to mint a token that the server then refuses.
#[test]
fn the_api_doc_names_each_route_s_own_scope() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/api.md"))
        .expect("docs/api.md");
    let mismatches = doc_scope_mismatches(&doc);
    assert!(
        mismatches.is_empty(),
        "docs/api.md names scopes the routes do not take:\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn a_wrong_scope_in_the_api_doc_is_found() {
    let doc = "- `POST …/partners/{partnerId}/links` `{slug?}` (the partner itself; or operator+, \
               PAT `links.write`) → `201`.\n- `GET /v2/handles/{handle}/links` (viewer+, PAT \
               `links.read`) → 200.\n- `PUT …/domains/{domain}` (operator+, signed in: no PAT, \
               since a `links.write` token could) → 200.\n";
    let found = doc_scope_mismatches(doc);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("/partners/{partnerId}/links"),
        "{found:?}"
    );
    assert!(found[0].contains("commissions.write"), "{found:?}");
}

/// The routes whose doc names scopes other than the table's, each in words.
fn doc_scope_mismatches(doc: &str) -> Vec<String> {
    let route =
        regex::Regex::new(r"`(GET|POST|PUT|PATCH|DELETE) ((?:/v2/handles/\{handle\}|…)[^` ]*)`")
            .unwrap();
    let scope = regex::Regex::new(r"`([a-z]+\.(?:read|write))`").unwrap();
    let role = regex::Regex::new(r"viewer|creator|operator|admin|PAT").unwrap();
    let paren = regex::Regex::new(r"\(([^()]*)\)").unwrap();
    let block_end = regex::Regex::new(r"\n\s*\n|\n- |\n\|").unwrap();
    let param = regex::Regex::new(r"\{[^}]+\}").unwrap();
    let shape = |p: &str| {
        let p = p.trim_end_matches(['.', ',', ';', ':']);
        param.replace_all(p, "{}").into_owned()
    };
    let mentions: Vec<_> = route.captures_iter(doc).collect();
    let mut out = Vec::new();
    for (i, m) in mentions.iter().enumerate() {
        let whole = m.get(0).unwrap();
        let next = mentions
            .get(i + 1)
            .map_or(doc.len(), |n| n.get(0).unwrap().start());
        let mut after = &doc[whole.end()..next.max(whole.end())];
        if let Some(cut) = block_end.find(after) {
            after = &after[..cut.start()];
        }
        let Some(roles) = paren
            .captures_iter(after)
            .map(|c| c.get(1).unwrap().as_str())
            .find(|c| role.is_match(c))
        else {
            continue;
        };
        let named: Vec<&str> = scope
            .captures_iter(roles)
            .map(|c| c.get(1).unwrap().as_str())
            .collect();
        if named.is_empty() || roles.contains("no PAT") {
            continue;
        }
        let path = m[2].replacen('…', "/v2/handles/{handle}", 1);
        let Some(row) = ACCESS_TABLE
            .iter()
            .find(|r| r.method.as_str() == &m[1] && shape(r.path) == shape(&path))
        else {
            continue;
        };
        let own = row.scope.map(tenx_shared::auth::Scope::as_str);
        if !own.is_some_and(|s| named.contains(&s)) {
            out.push(format!(
                "{} {}: the doc names {named:?}, the route takes {}",
                &m[1],
                m[2].trim_end_matches(['.', ',', ';', ':']),
                own.map_or("no PAT (JWT only)".to_owned(), |s| format!("`{s}`"))
            ));
        }
    }
    out
}

#[test]
fn path_parameters_are_substituted_by_name() {
    assert_eq!(
        concrete("/v2/handles/{handle}/links/{slug}", "acme"),
        "/v2/handles/acme/links/matrix-slug"
    );
    assert_eq!(
        concrete("/v2/handles/{handle}/x/{*rest}", "b-co"),
        "/v2/handles/b-co/x/matrix-value"
    );
    assert_eq!(concrete("/v2/handles/{handle}", "acme"), "/v2/handles/acme");
}

/// An RS256-only deployment end to end: RS256 tokens work; an HS256 token "signed" with the
/// public key's PEM (the HS/RS confusion attack) and `alg: none` are 401.
#[tokio::test]
async fn an_rs256_only_deployment_refuses_algorithm_confusion() {
    const PRIVATE: &str = include_str!("../../shared/tests/fixtures/jwt_rs256_test_private.pem");
    const PUBLIC: &str = include_str!("../../shared/tests/fixtures/jwt_rs256_test_public.pem");
    let mut config = matrix_config();
    config.jwt = Some(tenx_shared::platform::config::JwtKey::Rs256 {
        public_pem: PUBLIC.to_owned(),
    });
    let app = spawn_with(config, None).await;
    let claims = serde_json::json!({
        "sub": "rs-user", "handles": [HANDLE], "role": "creator", "exp": now() + 600
    });
    let sign = |alg: jsonwebtoken::Algorithm, key: &jsonwebtoken::EncodingKey| {
        jsonwebtoken::encode(&jsonwebtoken::Header::new(alg), &claims, key).unwrap()
    };
    let rs256 = sign(
        jsonwebtoken::Algorithm::RS256,
        &jsonwebtoken::EncodingKey::from_rsa_pem(PRIVATE.as_bytes()).unwrap(),
    );
    let confused = sign(
        jsonwebtoken::Algorithm::HS256,
        &jsonwebtoken::EncodingKey::from_secret(PUBLIC.as_bytes()),
    );
    let path = format!("/v2/handles/{HANDLE}/links");
    let ok = call(&app, Method::GET, &path, Some(&rs256)).await;
    assert_eq!(ok.status(), 200);
    assert_error(
        call(&app, Method::GET, &path, Some(&confused)).await,
        401,
        "unauthorized",
    )
    .await;
    // An HS256 token minted with the suite's usual secret is refused too: HS256 is not configured.
    assert_error(
        call(
            &app,
            Method::GET,
            &path,
            Some(&app.token(&[HANDLE], Role::Admin)),
        )
        .await,
        401,
        "unauthorized",
    )
    .await;
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let none = format!(
        "{}.{}.",
        b64(r#"{"alg":"none","typ":"JWT"}"#),
        b64(&claims.to_string())
    );
    assert_error(
        call(&app, Method::GET, &path, Some(&none)).await,
        401,
        "unauthorized",
    )
    .await;
}
