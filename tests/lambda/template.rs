//! Keeps `template.yaml` in step with the code: every route of every router reaches its group's
//! function (and no other), every access-table route lands on a function holding the JWT
//! verifier, secrets and IAM are exactly what each function needs, the queues have dead-letter
//! queues and partial-failure reporting, the sweeper is scheduled, and the table is configured
//! as docs/storage.md says.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::http::{Method, Request};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tenx_shared::http::auth::ACCESS_TABLE;
use tenx_shared::http::{Group, group_app};
use tenx_shared::kernel::state::AppState;
use tenx_shared::platform::queue::QueueName;
use tower::ServiceExt;

use crate::support::{self, REDIRECT_DOMAIN, TABLE, queue_resource};

/// `template.yaml` with CloudFormation's short forms (`!Ref`, `!GetAtt`, `!Sub`, …) turned into
/// their JSON forms (`{"Ref": …}`, `{"Fn::GetAtt": [..]}`, …), as written (conditions unresolved).
pub(crate) fn raw_template() -> Value {
    let path = support::workspace_root().join("template.yaml");
    let text = std::fs::read_to_string(&path).expect("template.yaml at the workspace root");
    let yaml: serde_norway::Value = serde_norway::from_str(&text).expect("template.yaml is YAML");
    to_json(yaml)
}

/// The choices of the `RedirectFrontDoor` parameter.
pub(crate) const FRONT_DOORS: [&str; 2] = ["alb", "cloudfront"];

/// The stack as deployed with a redirect domain (and its hosted zone) behind the CloudFront
/// front door: what the replayed function-URL events (events/redirect/*.json) reach. The tests
/// of what differs between the doors run on [`template_for`] each.
pub(crate) fn template() -> Value {
    template_for("cloudfront")
}

/// The stack as deployed with a redirect domain (and its hosted zone) behind `front_door`, every
/// other parameter at its default: resources and outputs whose condition is false dropped,
/// every `Fn::If` resolved, `AWS::NoValue` removed.
pub(crate) fn template_for(front_door: &str) -> Value {
    let raw = raw_template();
    let mut params: BTreeMap<String, Value> = raw["Parameters"]
        .as_object()
        .expect("Parameters")
        .iter()
        .map(|(name, p)| (name.clone(), p["Default"].clone()))
        .collect();
    for (name, value) in [
        ("RedirectDomain", "links.example.com"),
        ("RedirectHostedZoneId", "Z0123456789ABCDEFGHIJ"),
        ("RedirectFrontDoor", front_door),
        (
            "EdgeCertificateArn",
            "arn:aws:acm:us-east-1:123456789012:certificate/wildcard",
        ),
    ] {
        params.insert(name.to_owned(), json!(value));
    }
    let conditions: BTreeMap<String, bool> = raw["Conditions"]
        .as_object()
        .expect("Conditions")
        .keys()
        .map(|name| (name.clone(), condition(&raw, &params, name)))
        .collect();
    let mut doc = resolve(&raw, &conditions);
    for section in ["Resources", "Outputs"] {
        doc[section]
            .as_object_mut()
            .expect(section)
            .retain(|_, r| match r["Condition"].as_str() {
                Some(name) => conditions[name],
                None => true,
            });
    }
    doc
}

/// The value of the template's condition `name` with these parameters.
fn condition(raw: &Value, params: &BTreeMap<String, Value>, name: &str) -> bool {
    fn operand(params: &BTreeMap<String, Value>, v: &Value) -> Value {
        match v["Ref"].as_str() {
            Some(p) => params
                .get(p)
                .cloned()
                .unwrap_or_else(|| panic!("no parameter {p}")),
            None => v.clone(),
        }
    }
    fn eval(raw: &Value, params: &BTreeMap<String, Value>, c: &Value) -> bool {
        let (op, args) = c
            .as_object()
            .and_then(|m| m.iter().next())
            .unwrap_or_else(|| panic!("condition {c}"));
        let list = || args.as_array().unwrap_or_else(|| panic!("{op}: {args}"));
        match op.as_str() {
            "Condition" => condition(raw, params, args.as_str().expect("a condition's name")),
            "Fn::Equals" => operand(params, &list()[0]) == operand(params, &list()[1]),
            "Fn::Not" => !eval(raw, params, &list()[0]),
            "Fn::And" => list().iter().all(|a| eval(raw, params, a)),
            "Fn::Or" => list().iter().any(|a| eval(raw, params, a)),
            other => panic!("condition function {other}"),
        }
    }
    eval(raw, params, &raw["Conditions"][name])
}

fn is_no_value(v: &Value) -> bool {
    v["Ref"] == "AWS::NoValue"
}

/// `value` with every `Fn::If` taken as `conditions` say and `AWS::NoValue` removed.
fn resolve(value: &Value, conditions: &BTreeMap<String, bool>) -> Value {
    match value {
        Value::Object(map) => {
            if let (1, Some(Value::Array(branches))) = (map.len(), map.get("Fn::If")) {
                let name = branches[0].as_str().expect("Fn::If names a condition");
                let taken = if conditions[name] {
                    &branches[1]
                } else {
                    &branches[2]
                };
                return resolve(taken, conditions);
            }
            Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), resolve(v, conditions)))
                    .filter(|(_, v)| !is_no_value(v))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| resolve(v, conditions))
                .filter(|v| !is_no_value(v))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn to_json(value: serde_norway::Value) -> Value {
    use serde_norway::Value as Y;
    match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::to_value(n).expect("number"),
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(to_json).collect()),
        Y::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s,
                        other => serde_norway::to_string(&other).expect("key").trim().into(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let tag = tag.trim_start_matches('!');
            let inner = to_json(tagged.value);
            match (tag, inner) {
                ("GetAtt", Value::String(s)) => {
                    let (resource, attribute) = s.split_once('.').expect("!GetAtt A.B");
                    json!({"Fn::GetAtt": [resource, attribute]})
                }
                ("Ref" | "Condition", inner) => json!({ tag: inner }),
                (other, inner) => json!({ format!("Fn::{other}"): inner }),
            }
        }
    }
}

/// One `AWS::Serverless::Function`.
#[derive(Debug)]
pub(crate) struct Function {
    pub logical_id: String,
    pub binary: String,
    pub props: Value,
    pub metadata: Value,
}

impl Function {
    pub(crate) fn events(&self) -> Vec<(&str, &Value)> {
        self.props["Events"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.as_str(), v)).collect())
            .unwrap_or_default()
    }

    /// `(api logical id, method, path)`; the `$default` route has method and path `$default`.
    pub(crate) fn http_routes(&self) -> Vec<(String, String, String)> {
        self.events()
            .into_iter()
            .filter(|(_, e)| e["Type"] == "HttpApi")
            .map(|(name, e)| {
                let p = &e["Properties"];
                let api = p["ApiId"]["Ref"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{}.{name}: ApiId must !Ref an API", self.logical_id))
                    .to_owned();
                match (p["Method"].as_str(), p["Path"].as_str()) {
                    (Some(m), Some(path)) => (api, m.to_ascii_uppercase(), path.to_owned()),
                    (None, None) => (api, "$default".into(), "$default".into()),
                    _ => panic!(
                        "{}.{name}: give both Method and Path, or neither",
                        self.logical_id
                    ),
                }
            })
            .collect()
    }

    pub(crate) fn env(&self) -> BTreeMap<String, Value> {
        self.props["Environment"]["Variables"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }

    /// Every `(action, resource)` the function's policies allow; resources are logical ids
    /// (`Table`, `EventsQueue`, …) or, for SSM parameters, the template parameter holding the name.
    pub(crate) fn grants(&self) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        for policy in self.props["Policies"].as_array().into_iter().flatten() {
            let statements = policy["Statement"].as_array().unwrap_or_else(|| {
                panic!(
                    "{}: policies must be inline statements (no SAM policy templates, no managed \
                     policies): {policy}",
                    self.logical_id
                )
            });
            for statement in statements.iter().filter_map(conditional) {
                assert_eq!(statement["Effect"], "Allow", "{}", self.logical_id);
                let actions: Vec<String> = match &statement["Action"] {
                    Value::String(a) => vec![a.clone()],
                    Value::Array(a) => a
                        .iter()
                        .map(|x| x.as_str().expect("action").into())
                        .collect(),
                    other => panic!("{}: Action {other}", self.logical_id),
                };
                let resources: Vec<Value> = match &statement["Resource"] {
                    Value::Array(r) => r.clone(),
                    one => vec![one.clone()],
                };
                for action in &actions {
                    for resource in &resources {
                        out.insert((action.clone(), resource_name(&self.logical_id, resource)));
                    }
                }
            }
        }
        out
    }
}

impl Function {
    /// The partition-key patterns of the function's `dynamodb:LeadingKeys` conditions. Every
    /// statement granting a DynamoDB action must carry one (`ForAllValues:StringLike`), so no
    /// function reaches an item family it has no business with (the public routes never read a
    /// token's hash, say); this panics on a statement without it.
    pub(crate) fn leading_keys(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for policy in self.props["Policies"].as_array().into_iter().flatten() {
            for statement in policy["Statement"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(conditional)
            {
                if !statement["Action"].to_string().contains("dynamodb:") {
                    continue;
                }
                let keys =
                    &statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
                let keys = keys.as_array().unwrap_or_else(|| {
                    panic!(
                        "{}: a DynamoDB statement without a ForAllValues:StringLike \
                         dynamodb:LeadingKeys condition: {statement}",
                        self.logical_id
                    )
                });
                out.extend(keys.iter().map(|k| k.as_str().expect("pattern").to_owned()));
            }
        }
        out
    }
}

/// A statement, or the one a stack with its condition true grants (`!If [Cond, statement,
/// !Ref AWS::NoValue]`: the custom domains' edge exists only with a `RedirectDomain`).
fn conditional(statement: &Value) -> Option<&Value> {
    match statement["Fn::If"].as_array() {
        Some(branches) => branches.get(1).filter(|s| s.is_object()),
        None => Some(statement),
    }
}

/// The account's own ACM certificates (in us-east-1) and CloudFront distributions: what the
/// custom domains' edge creates and deletes (issue 64), named so by these ARNs.
const ACCOUNT_CERTIFICATES: &str = "AccountCertificates";
const ACCOUNT_DISTRIBUTIONS: &str = "AccountDistributions";

/// `!GetAtt X.Arn` → `X`; the SSM parameter ARN `…:parameter${P}` → `P`. Anything else (a
/// wildcard, a hand-written ARN) fails the test: every resource is one of the stack's own.
fn resource_name(function: &str, resource: &Value) -> String {
    if let Some([name, attr]) = resource["Fn::GetAtt"].as_array().map(Vec::as_slice) {
        assert_eq!(attr, "Arn", "{function}: {resource}");
        return name.as_str().expect("name").to_owned();
    }
    // Actions that take no resource (acm:RequestCertificate, cloudfront:ListDistributions).
    if resource == "*" {
        return "*".to_owned();
    }
    // The load balancer's HTTPS listener (custom domains' certificates go on it).
    if resource == &json!({"Ref": "RedirectHttpsListener"}) {
        return "RedirectHttpsListener".to_owned();
    }
    if let Some(sub) = resource["Fn::Sub"].as_str() {
        match sub {
            // CloudFront's certificates are in us-east-1, the load balancer's in its region.
            "arn:${AWS::Partition}:acm:us-east-1:${AWS::AccountId}:certificate/*"
            | "arn:${AWS::Partition}:acm:${AWS::Region}:${AWS::AccountId}:certificate/*" => {
                return ACCOUNT_CERTIFICATES.to_owned();
            }
            "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/*" => {
                return ACCOUNT_DISTRIBUTIONS.to_owned();
            }
            "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${RedirectDistribution}" =>
            {
                return "RedirectDistribution".to_owned();
            }
            _ => {}
        }
        // Objects of one of the stack's buckets: `${Bucket.Arn}/prefix/*` (issue 64).
        if let Some((name, rest)) = sub.strip_prefix("${").and_then(|r| r.split_once(".Arn}/")) {
            assert!(
                rest.ends_with("/*"),
                "{function}: {sub}: a key prefix of the bucket"
            );
            return name.to_owned();
        }
        // The SES identity and configuration set of the stack (issue 59).
        let ses = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:";
        if let Some(rest) = sub.strip_prefix(ses) {
            let name = rest
                .strip_prefix("identity/${")
                .or_else(|| rest.strip_prefix("configuration-set/${"))
                .and_then(|r| r.strip_suffix('}'))
                .unwrap_or_else(|| {
                    panic!("{function}: {sub}: an SES identity or configuration set of the stack")
                });
            return name.to_owned();
        }
        let prefix = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${";
        let param = sub
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix('}'))
            .unwrap_or_else(|| {
                panic!("{function}: {sub}: an SSM parameter ARN is …:parameter${{Name}} (names start with /)")
            });
        return param.to_owned();
    }
    panic!("{function}: resource {resource} is not one of the stack's own")
}

pub(crate) fn resources(doc: &Value) -> &serde_json::Map<String, Value> {
    doc["Resources"].as_object().expect("Resources")
}

pub(crate) fn functions(doc: &Value) -> Vec<Function> {
    resources(doc)
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(id, r)| Function {
            logical_id: id.clone(),
            binary: r["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .unwrap_or_else(|| panic!("{id}: Metadata.BuildProperties.Binary"))
                .to_owned(),
            props: r["Properties"].clone(),
            metadata: r["Metadata"].clone(),
        })
        .collect()
}

pub(crate) fn function_by_binary<'a>(functions: &'a [Function], binary: &str) -> &'a Function {
    let mut found = functions.iter().filter(|f| f.binary == binary);
    let f = found
        .next()
        .unwrap_or_else(|| panic!("no function in template.yaml builds the `{binary}` binary"));
    assert!(found.next().is_none(), "two functions build `{binary}`");
    f
}

/// The binary (under `functions/`) serving each endpoint group.
pub(crate) fn binary_of(group: Group) -> &'static str {
    match group {
        Group::Links => "links",
        Group::Redirect => "redirect",
        Group::Public => "public",
        Group::Tokens => "tokens",
        Group::Chain => "chain",
        Group::Campaigns => "campaigns",
        Group::Analytics => "analytics",
        Group::Webhooks => "webhooks",
        Group::Conversions => "conversions",
        Group::Console => "console",
        Group::Commissions => "commissions",
    }
}

pub(crate) fn all_groups() -> Vec<Group> {
    let mut groups = Group::API.to_vec();
    groups.push(Group::Redirect);
    groups
}

/// The `[[bin]]` names of every crate under `functions/`.
fn function_binaries() -> BTreeSet<String> {
    let dir = support::workspace_root().join("functions");
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("functions/") {
        let path = entry.expect("entry").path();
        if !path.is_dir() {
            continue; // link.rs, the functions' shared build script
        }
        let manifest = path.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).expect("Cargo.toml");
        let mut in_bin = false;
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                in_bin = line == "[[bin]]";
            } else if let (true, Some(v)) = (in_bin, line.strip_prefix("name = ")) {
                out.insert(v.trim_matches('"').to_owned());
            }
        }
    }
    out
}

fn state() -> AppState {
    tenx_shared::aws::app_state(
        support::config(),
        std::sync::Arc::new(tenx_shared::platform::store::embedded::EmbeddedStore::in_memory()),
        std::sync::Arc::new(tenx_shared::platform::queue::embedded::EmbeddedQueue::in_memory()),
        tenx_shared::platform::config::Secrets::ALL,
    )
    .expect("state")
}

/// The paths a group's router registered. Axum has no public route listing; its `Debug` output
/// names every registered path (callers check that known paths are found, so a format change
/// fails loudly). The fallback's own registrations (`/` and `/{*__private__axum_fallback}`) are
/// not routes: no router serves `/`.
fn registered_paths(router: &axum::Router) -> BTreeSet<String> {
    format!("{router:?}")
        .split('"')
        .filter(|s| s.starts_with('/') && !s.contains(' '))
        .filter(|s| *s != "/" && !s.contains("__private__axum"))
        .map(str::to_owned)
        .collect()
}

/// A route pattern with sample values for its parameters.
fn concrete(pattern: &str) -> String {
    pattern
        .split('/')
        .map(
            |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some("handle") => "acme".to_owned(),
                Some("subscriptionId") => "wh_0123456789abcdef".to_owned(),
                Some("tokenId") => "tok_0123456789abcdef0123456789abcdef".to_owned(),
                Some("eventId") => "evt_0123456789abcdef".to_owned(),
                Some(_) => "sample".to_owned(),
                None => seg.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

const PROBED: [&str; 6] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

/// The methods a router serves on `path`: anything but its 405 and route-404 fallbacks.
async fn served_methods(app: &axum::Router, path: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for method in PROBED {
        let request = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).expect("method"))
            .uri(concrete(path))
            .header("host", format!("acme.{REDIRECT_DOMAIN}"))
            .body(Body::empty())
            .expect("request");
        let response = app.clone().oneshot(request).await.expect("response");
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body = String::from_utf8_lossy(&body);
        let fallback =
            status == 405 || (status == 404 && body.contains("This route was not found"));
        if !fallback {
            out.insert(method.to_owned());
        }
    }
    out
}

#[test]
fn every_function_is_a_cargo_lambda_binary_on_arm64_al2023() {
    let doc = template();
    let globals = &doc["Globals"]["Function"];
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Architectures"], json!(["arm64"]));
    assert_eq!(globals["Handler"], "bootstrap");
    assert_eq!(
        globals["CodeUri"], ".",
        "the Cargo workspace is built by cargo-lambda"
    );
    let functions = functions(&doc);
    let mut used = BTreeSet::new();
    for f in &functions {
        assert_eq!(
            f.metadata["BuildMethod"], "rust-cargolambda",
            "{}",
            f.logical_id
        );
        assert!(f.props.get("Runtime").is_none() && f.props.get("Architectures").is_none());
        assert!(used.insert(f.binary.clone()), "{} built twice", f.binary);
    }
    assert_eq!(
        used,
        function_binaries(),
        "template functions (left) differ from the binaries under functions/ (right)"
    );
}

#[tokio::test]
async fn every_route_of_every_router_reaches_its_function_and_only_it() {
    let doc = template();
    let functions = functions(&doc);
    let state = state();
    let mut owner: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut all_paths = BTreeSet::new();
    for group in all_groups() {
        let f = function_by_binary(&functions, binary_of(group));
        let api = "Api";
        let app = group_app(group, state.clone());
        let mut registered = registered_paths(&app);
        if group == Group::Console {
            // The console's page is a real route at `/` (unlike the fallback's own `/`).
            registered.insert("/".to_owned());
        }
        assert!(
            !registered.is_empty(),
            "{group:?}: no registered path found"
        );
        all_paths.extend(registered.iter().cloned());
        if group == Group::Redirect {
            // Its function URL hands it every path of the short-link host (CloudFront's origin).
            assert!(f.http_routes().is_empty(), "the redirect is on no API");
            assert_eq!(f.props["FunctionUrlConfig"]["AuthType"], "AWS_IAM");
            continue;
        }

        let routes = f.http_routes();
        let mut by_path: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (route_api, method, path) in &routes {
            assert_eq!(
                route_api, api,
                "{}: {method} {path} is on the wrong API",
                f.logical_id
            );
            if path == "$default" {
                continue;
            }
            by_path
                .entry(path.clone())
                .or_default()
                .insert(method.clone());
            if let Some(other) = owner.insert((api.into(), path.clone()), f.logical_id.clone()) {
                assert_eq!(other, f.logical_id, "{path} is routed to two functions");
            }
        }
        let routed: BTreeSet<String> = by_path.keys().cloned().collect();
        assert_eq!(
            routed, registered,
            "{}: template paths (left) differ from the {group:?} router's paths (right)",
            f.logical_id
        );
        let catches_rest = routes.iter().any(|(_, m, _)| m == "$default");
        for (path, methods) in &by_path {
            let served = served_methods(&app, path).await;
            assert!(!served.is_empty(), "{group:?} serves nothing on {path}");
            if methods.contains("ANY") {
                continue;
            }
            for m in methods {
                assert!(
                    served.contains(m),
                    "{}: routes {m} {path}, which the router does not serve",
                    f.logical_id
                );
            }
            for m in &served {
                assert!(
                    methods.contains(m) || catches_rest,
                    "{}: the router serves {m} {path} but the API never routes it there",
                    f.logical_id
                );
            }
        }
    }
    // The probe is not vacuous: every authenticated and public route was found.
    for rule in ACCESS_TABLE.iter() {
        assert!(
            all_paths.contains(rule.path),
            "{} not found in any router",
            rule.path
        );
    }
    for path in ["/v2/public/context", "/v2/public/conversions", "/{slug}"] {
        assert!(all_paths.contains(path), "{path} not found in any router");
    }
    // Exactly one $default per API, on a function whose router answers unknown paths with the
    // API's 404 envelope.
    let api = "Api";
    let defaults: Vec<&str> = functions
        .iter()
        .filter(|f| {
            f.http_routes()
                .iter()
                .any(|(a, m, _)| a == api && m == "$default")
        })
        .map(|f| f.logical_id.as_str())
        .collect();
    assert_eq!(defaults.len(), 1, "{api}: $default routes {defaults:?}");
}

#[test]
fn every_access_table_route_lands_on_a_function_with_the_jwt_verifier() {
    let doc = template();
    let functions = functions(&doc);
    for rule in ACCESS_TABLE.iter() {
        let f = functions
            .iter()
            .find(|f| f.http_routes().iter().any(|(_, _, p)| p == rule.path))
            .unwrap_or_else(|| panic!("{} {} is not routed", rule.method, rule.path));
        let group = all_groups()
            .into_iter()
            .find(|g| binary_of(*g) == f.binary)
            .expect("an HTTP function");
        assert!(
            group.needs_jwt(),
            "{} is served by {group:?}, which holds no JWT verifier",
            rule.path
        );
        assert!(
            f.env().contains_key("TENX_JWT_SECRET_PARAM"),
            "{}",
            f.logical_id
        );
    }
}

#[test]
fn each_function_reads_exactly_the_secrets_its_group_needs() {
    for door in FRONT_DOORS {
        reads_exactly_the_secrets_it_needs(&template_for(door), door);
    }
}

fn reads_exactly_the_secrets_it_needs(doc: &Value, front_door: &str) {
    let globals = doc["Globals"]["Function"]["Environment"]["Variables"]
        .as_object()
        .expect("global variables");
    for name in [
        "TENX_JWT_SECRET_PARAM",
        "TENX_CTX_KEYS_PARAM",
        "TENX_SIGNING_KEYS_PARAM",
        "TENX_PAYOUT_KEY_PARAM",
        "TENX_JWT_SECRET",
        "TENX_CTX_KEYS",
        "TENX_SIGNING_KEYS",
        "TENX_PAYOUT_KEY",
    ] {
        assert!(
            !globals.contains_key(name),
            "{name} must be per function, never global"
        );
    }
    let params = doc["Parameters"].as_object().expect("Parameters");
    for p in [
        "JwtSecretParameter",
        "CtxKeysParameter",
        "SigningKeysParameter",
        "PayoutKeyParameter",
    ] {
        let pattern = params[p]["AllowedPattern"]
            .as_str()
            .expect("AllowedPattern");
        assert!(
            pattern.starts_with("^/"),
            "{p}: the ARN is …:parameter${{{p}}}, so names start with /"
        );
        let default = params[p]["Default"].as_str().expect("Default");
        assert!(default.starts_with('/'), "{p}: {default}");
    }
    let functions = functions(doc);
    for f in &functions {
        let env = f.env();
        let group = all_groups().into_iter().find(|g| binary_of(*g) == f.binary);
        // Of the workers, only the sweeper (it finishes large payout runs), the mail worker and
        // the imports worker hold secrets.
        let worker = match f.binary.as_str() {
            "outbox-sweeper" => tenx_shared::runtime::workers::sweeper::SECRETS,
            // The mail worker tags unsubscribe links with the ctx keyring (issue 59).
            "mail" => tenx_shared::mail::worker::SECRETS,
            // The imports worker seals imported partners' PayPal emails and digests imported
            // customers' emails (issue 64).
            "imports" => tenx_shared::imports::keyrings::SECRETS,
            _ => tenx_shared::platform::config::Secrets::NONE,
        };
        let (jwt, ctx, signing, payout) = group.map_or(
            (
                worker.jwt,
                worker.ctx_keys,
                worker.signing,
                worker.payout_key,
            ),
            |g| {
                (
                    g.needs_jwt(),
                    g.needs_ctx_keys(),
                    g.needs_signing(),
                    g.needs_payout_key(),
                )
            },
        );
        let expect = |var: &str, param: &str, wanted: bool| match env.get(var) {
            Some(v) => {
                assert!(
                    wanted,
                    "{}: {var} set, but the function needs no such secret",
                    f.logical_id
                );
                assert_eq!(v, &json!({"Ref": param}), "{}: {var}", f.logical_id);
            }
            None => assert!(!wanted, "{}: {var} missing", f.logical_id),
        };
        expect("TENX_JWT_SECRET_PARAM", "JwtSecretParameter", jwt);
        expect("TENX_CTX_KEYS_PARAM", "CtxKeysParameter", ctx);
        expect("TENX_SIGNING_KEYS_PARAM", "SigningKeysParameter", signing);
        expect("TENX_PAYOUT_KEY_PARAM", "PayoutKeyParameter", payout);
        // Only the redirect is told its front door: CloudFront's headers believed because
        // CloudFront alone can call it, or behind the load balancer none (its hop read); no
        // function holds an edge secret.
        let named = if front_door == "alb" {
            "alb"
        } else {
            "cloudfront-oac"
        };
        let edge = (f.binary == "redirect").then(|| json!(named));
        assert_eq!(env.get("TENX_EDGE"), edge.as_ref(), "{}", f.logical_id);
        assert!(
            !env.contains_key("TENX_EDGE_SECRET") && !env.contains_key("TENX_EDGE_SECRET_PARAM"),
            "{}: the edge secret is for a proxy in front of tenx serve, not for AWS",
            f.logical_id
        );
        assert!(
            !env.contains_key("TENX_JWT_SECRET")
                && !env.contains_key("TENX_CTX_KEYS")
                && !env.contains_key("TENX_SIGNING_KEYS")
                && !env.contains_key("TENX_PAYOUT_KEY"),
            "{}: secrets never in plain environment values",
            f.logical_id
        );
        let ssm: BTreeSet<String> = f
            .grants()
            .into_iter()
            .filter(|(a, _)| a.starts_with("ssm:"))
            .map(|(a, r)| {
                assert_eq!(a, "ssm:GetParameters", "{}", f.logical_id);
                r
            })
            .collect();
        let mut wanted = BTreeSet::new();
        if jwt {
            wanted.insert("JwtSecretParameter".to_owned());
        }
        if ctx {
            wanted.insert("CtxKeysParameter".to_owned());
        }
        if signing {
            wanted.insert("SigningKeysParameter".to_owned());
        }
        if payout {
            wanted.insert("PayoutKeyParameter".to_owned());
        }
        assert_eq!(ssm, wanted, "{}: SSM parameters it may read", f.logical_id);
    }
}

/// The actions any function may be granted, each scoped to one of the stack's resources.
const ALLOWED_ACTIONS: [&str; 32] = [
    "dynamodb:GetItem",
    // A transaction's condition on an item it does not write (issue 57: a payout's settlement
    // and a batch's claim on it).
    "dynamodb:ConditionCheckItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "sqs:SendMessage",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "ssm:GetParameters",
    "ses:SendEmail",
    "kinesis:PutRecord",
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
    // Large imports' uploads (issue 64): a presigned PUT is signed with the links function's
    // role; HeadObject and the worker's streamed read are GetObject.
    "s3:PutObject",
    "s3:GetObject",
    // Custom domains' TLS (issue 64): the sweeper's alone (`domains::edge`).
    "acm:RequestCertificate",
    "acm:DescribeCertificate",
    "acm:DeleteCertificate",
    "cloudfront:ListDistributions",
    "cloudfront:GetDistributionConfig",
    "cloudfront:CreateDistribution",
    "cloudfront:GetDistribution",
    "cloudfront:UpdateDistribution",
    "cloudfront:DeleteDistribution",
    // … or, behind the load balancer, each domain's certificate on its HTTPS listener.
    "elasticloadbalancing:DescribeListenerCertificates",
    "elasticloadbalancing:AddListenerCertificates",
    "elasticloadbalancing:RemoveListenerCertificates",
];

#[test]
fn iam_is_scoped_to_the_stack_and_the_redirect_gets_nothing_more_than_it_needs() {
    for door in FRONT_DOORS {
        iam_is_scoped(&template_for(door));
    }
}

fn iam_is_scoped(doc: &Value) {
    let functions = functions(doc);
    for f in &functions {
        for (_, event) in f.events() {
            assert_ne!(
                event["Type"], "SQS",
                "{}: SAM's SQS event attaches receive/delete on every queue; use an event source mapping",
                f.logical_id
            );
        }
        for (action, resource) in f.grants() {
            assert!(
                ALLOWED_ACTIONS.contains(&action.as_str()),
                "{}: {action}",
                f.logical_id
            );
            let expected_kind = action.split(':').next().expect("service");
            let ok = match expected_kind {
                "dynamodb" => resource == TABLE,
                // The clicks worker's mapping sends a batch it gave up on to its on-failure
                // queue, with the function's role.
                "sqs" => {
                    [
                        "EventsQueue",
                        "DeliveriesQueue",
                        "MailQueue",
                        "MailEventsQueue",
                        "ImportsQueue",
                    ]
                    .contains(&resource.as_str())
                        || (resource == "ClicksFailedBatchesQueue"
                            && action == "sqs:SendMessage"
                            && f.logical_id == "ClicksWorkerFunction")
                }
                "kinesis" => resource == "ClickStream",
                // The mail worker sends through the stack's SES identity and configuration set.
                "ses" => {
                    f.logical_id == "MailWorkerFunction"
                        && ["MailDomain", "MailConfigurationSet"].contains(&resource.as_str())
                }
                // Imports' files (links, imports worker) and claims' images (commissions).
                "s3" => {
                    resource == "UploadsBucket"
                        && [
                            "LinksFunction",
                            "ImportsWorkerFunction",
                            "CommissionsFunction",
                        ]
                        .contains(&f.logical_id.as_str())
                }
                // The custom domains' edge (issue 64): the sweeper alone; only the two actions
                // that take no resource on `*`, the redirect's distribution only read.
                "acm" | "cloudfront" => {
                    f.logical_id == "OutboxSweeperFunction"
                        && match resource.as_str() {
                            "*" => ["acm:RequestCertificate", "cloudfront:ListDistributions"]
                                .contains(&action.as_str()),
                            "RedirectDistribution" => action == "cloudfront:GetDistributionConfig",
                            ACCOUNT_CERTIFICATES => action.starts_with("acm:"),
                            ACCOUNT_DISTRIBUTIONS => {
                                action.starts_with("cloudfront:")
                                    && action != "cloudfront:GetDistributionConfig"
                            }
                            _ => false,
                        }
                }
                // Behind the load balancer: the sweeper alone, on its HTTPS listener.
                "elasticloadbalancing" => {
                    f.logical_id == "OutboxSweeperFunction"
                        && match resource.as_str() {
                            "*" => action == "elasticloadbalancing:DescribeListenerCertificates",
                            "RedirectHttpsListener" => action.ends_with("ListenerCertificates"),
                            _ => false,
                        }
                }
                _ => resource.ends_with("Parameter"),
            };
            assert!(ok, "{}: {action} on {resource}", f.logical_id);
        }
    }
    let redirect = function_by_binary(&functions, "redirect");
    let expected: BTreeSet<(String, String)> = [
        ("dynamodb:GetItem", TABLE),
        ("dynamodb:UpdateItem", TABLE),
        // Only when the stream is down: the click is parked in the outbox.
        ("dynamodb:PutItem", TABLE),
        ("kinesis:PutRecord", "ClickStream"),
        ("ssm:GetParameters", "CtxKeysParameter"),
    ]
    .into_iter()
    .map(|(a, r)| (a.to_owned(), r.to_owned()))
    .collect();
    assert_eq!(redirect.grants(), expected);
}

#[test]
fn queues_have_dead_letter_queues_and_workers_report_partial_batch_failures() {
    let doc = template();
    let resources = resources(&doc);
    let functions = functions(&doc);
    let mappings: Vec<&Value> = resources
        .values()
        .filter(|r| r["Type"] == "AWS::Lambda::EventSourceMapping")
        .collect();
    for (queue, binary) in [
        (QueueName::Events, "events"),
        (QueueName::Deliveries, "deliveries"),
    ] {
        let queue_id = queue_resource(queue);
        let q = &resources[queue_id];
        assert_eq!(q["Type"], "AWS::SQS::Queue");
        let dlq = q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
            .as_str()
            .unwrap_or_else(|| panic!("{queue_id}: a redrive policy to a dead-letter queue"));
        assert_eq!(resources[dlq]["Type"], "AWS::SQS::Queue");
        assert!(q["Properties"]["RedrivePolicy"]["maxReceiveCount"].as_u64() > Some(1));
        // The outbox leaves a confirmed event to the queue as long as the queue keeps it.
        if queue == QueueName::Events {
            assert_eq!(
                q["Properties"]["MessageRetentionPeriod"].as_u64(),
                Some(tenx_shared::kernel::outbox::QUEUE_HOLD.as_secs())
            );
        }
        // The events consumer dead-letters an outbox entry on the queue's last delivery
        // (issue 58): its count is the queue's.
        assert_eq!(
            q["Properties"]["RedrivePolicy"]["maxReceiveCount"].as_u64(),
            Some(u64::from(tenx_shared::platform::queue::MAX_RECEIVES))
        );

        let worker = function_by_binary(&functions, binary);
        let consumers: Vec<&&Value> = mappings
            .iter()
            .filter(|m| {
                m["Properties"]["EventSourceArn"] == json!({"Fn::GetAtt": [queue_id, "Arn"]})
            })
            .collect();
        assert_eq!(consumers.len(), 1, "{queue_id}: one consumer");
        let m = consumers[0];
        let p = &m["Properties"];
        assert_eq!(p["FunctionName"], json!({"Ref": worker.logical_id}));
        assert_eq!(
            p["FunctionResponseTypes"],
            json!(["ReportBatchItemFailures"])
        );
        let batch = p["BatchSize"].as_u64().expect("BatchSize");
        assert!((1..=10_000).contains(&batch));
        assert!(
            p.get("MaximumBatchingWindowInSeconds").is_some(),
            "{queue_id}: batching window"
        );
        assert_eq!(
            m["DependsOn"],
            format!("{}Role", worker.logical_id),
            "polling needs the role first"
        );
        // Lambda's advice: a visibility timeout of at least 6 x the function timeout.
        let timeout = worker.props["Timeout"]
            .as_u64()
            .or(doc["Globals"]["Function"]["Timeout"].as_u64())
            .expect("Timeout");
        let visibility = q["Properties"]["VisibilityTimeout"]
            .as_u64()
            .expect("VisibilityTimeout");
        assert!(
            visibility >= 6 * timeout,
            "{queue_id}: {visibility} < 6 x {timeout}"
        );
        // The worker may poll its own queue, and only it.
        let polls: BTreeSet<String> = worker
            .grants()
            .into_iter()
            .filter(|(a, _)| {
                a == "sqs:ReceiveMessage"
                    || a == "sqs:DeleteMessage"
                    || a == "sqs:GetQueueAttributes"
            })
            .map(|(a, r)| {
                assert_eq!(r, queue_id, "{}: {a} on {r}", worker.logical_id);
                a
            })
            .collect();
        assert_eq!(
            polls.len(),
            3,
            "{}: the poller permissions on {queue_id}",
            worker.logical_id
        );
    }
    for f in &functions {
        if !["events", "deliveries", "mail", "mail-events", "imports"].contains(&f.binary.as_str())
        {
            assert!(
                !f.grants().iter().any(|(a, _)| a == "sqs:ReceiveMessage"),
                "{} polls no queue",
                f.logical_id
            );
        }
    }
}

/// On Lambda the deliveries in flight are the batch size times the concurrent invocations: the
/// same overall bound as `tenx serve`, with each batch inside the per-endpoint bound.
#[test]
fn the_deliveries_worker_keeps_the_local_concurrency_bounds() {
    let doc = template();
    let defaults = tenx_shared::platform::config::Config::default();
    let queue = json!({"Fn::GetAtt": [queue_resource(QueueName::Deliveries), "Arn"]});
    let mapping = resources(&doc)
        .values()
        .find(|r| {
            r["Type"] == "AWS::Lambda::EventSourceMapping"
                && r["Properties"]["EventSourceArn"] == queue
        })
        .expect("the deliveries mapping");
    let p = &mapping["Properties"];
    let batch = p["BatchSize"].as_u64().expect("BatchSize") as usize;
    let invocations = p["ScalingConfig"]["MaximumConcurrency"]
        .as_u64()
        .expect("ScalingConfig.MaximumConcurrency") as usize;
    assert!(invocations >= 2, "Lambda's minimum MaximumConcurrency");
    assert_eq!(batch * invocations, defaults.delivery_concurrency);
    assert!(batch <= defaults.delivery_concurrency_per_endpoint);
}

#[test]
fn the_outbox_sweeper_runs_every_minute() {
    let doc = template();
    let functions = functions(&doc);
    let sweeper = function_by_binary(&functions, "outbox-sweeper");
    let schedules: Vec<&Value> = sweeper
        .events()
        .into_iter()
        .filter(|(_, e)| e["Type"] == "Schedule")
        .map(|(_, e)| &e["Properties"]["Schedule"])
        .collect();
    assert_eq!(schedules, vec![&json!("rate(1 minute)")]);
}

#[test]
fn the_table_is_on_demand_with_ttl_point_in_time_recovery_and_encryption() {
    let doc = template();
    let table = &resources(&doc)[TABLE];
    assert_eq!(table["Type"], "AWS::DynamoDB::Table");
    let p = &table["Properties"];
    assert_eq!(p["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        p["TimeToLiveSpecification"],
        json!({"AttributeName": "ttl", "Enabled": true})
    );
    assert_eq!(
        p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(p["SSESpecification"]["SSEEnabled"], true);
    assert_eq!(
        p["KeySchema"],
        json!([{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
    );
    assert_eq!(table["DeletionPolicy"], "Retain");
}

#[test]
fn outputs_name_the_apis_the_table_and_the_queues() {
    let doc = template();
    let outputs = doc["Outputs"].as_object().expect("Outputs");
    for name in [
        "ApiUrl",
        "RedirectFunctionUrl",
        "TableName",
        "ClickStreamName",
        "EventsQueueName",
        "DeliveriesQueueName",
        "EventsDeadLetterQueueName",
        "DeliveriesDeadLetterQueueName",
    ] {
        assert!(outputs.contains_key(name), "output {name}");
    }
}

/// `RedirectFrontDoor` picks one front door: each choice's resources exist with it alone, the
/// redirect is told which (`TENX_EDGE`, read by the configuration as that door), and the custom
/// domains' edge is configured for it (the distribution to copy, or the listener), never both.
#[test]
fn the_front_door_is_one_choice_and_the_redirect_is_told_which() {
    let raw = raw_template();
    let parameter = &raw["Parameters"]["RedirectFrontDoor"];
    assert_eq!(parameter["AllowedValues"], json!(FRONT_DOORS));
    // The cheaper from about 10 clicks/s up (BENCHMARKS.md, "The redirect on AWS").
    assert_eq!(parameter["Default"], "alb");
    for door in FRONT_DOORS {
        let doc = template_for(door);
        let resources = resources(&doc);
        let kinds: BTreeSet<&str> = resources
            .values()
            .filter_map(|r| r["Type"].as_str())
            .collect();
        let alb = door == "alb";
        assert_eq!(
            kinds.contains("AWS::ElasticLoadBalancingV2::LoadBalancer"),
            alb,
            "{door}"
        );
        assert_eq!(kinds.contains("AWS::EC2::VPC"), alb, "{door}");
        assert_eq!(
            kinds.contains("AWS::CloudFront::Distribution"),
            !alb,
            "{door}"
        );
        assert_eq!(kinds.contains("AWS::CloudFront::Function"), !alb, "{door}");
        let all = functions(&doc);
        let redirect = function_by_binary(&all, "redirect");
        let edge = redirect.env()["TENX_EDGE"].clone();
        let vars = tenx_shared::platform::config::Env::default().with("TENX_EDGE", edge.as_str());
        let config = tenx_shared::platform::config::Config::from_vars(&vars).unwrap();
        use tenx_shared::platform::config::CountryTrust;
        let expected = if alb {
            CountryTrust::Alb
        } else {
            CountryTrust::CloudFrontOac
        };
        assert_eq!(config.country_trust, expected, "{door}");
        // The functions that know of custom domains' edge: the links function (a verified
        // domain waits for it) and the sweeper (which drives it).
        for binary in ["links", "outbox-sweeper"] {
            let env = function_by_binary(&all, binary).env();
            assert_eq!(
                env.contains_key("TENX_EDGE_DISTRIBUTION_ID"),
                !alb,
                "{binary}"
            );
            if alb {
                assert_eq!(
                    env["TENX_EDGE_LISTENER_ARN"],
                    json!({"Ref": "RedirectHttpsListener"})
                );
                assert_eq!(
                    env["TENX_EDGE_LISTENER_HOST"],
                    json!({"Fn::GetAtt": ["RedirectLoadBalancer", "DNSName"]})
                );
            } else {
                assert!(!env.contains_key("TENX_EDGE_LISTENER_ARN"), "{binary}");
                assert!(!env.contains_key("TENX_EDGE_LISTENER_HOST"), "{binary}");
            }
        }
        // Short links' DNS and the stack's output name the door's host.
        let alias = &resources["RedirectDomainRecord"]["Properties"]["AliasTarget"];
        let target = &doc["Outputs"]["RedirectDomainTarget"]["Value"];
        if alb {
            let host = json!({"Fn::GetAtt": ["RedirectLoadBalancer", "DNSName"]});
            assert_eq!(alias["DNSName"], host);
            assert_eq!(
                alias["HostedZoneId"],
                json!({"Fn::GetAtt": ["RedirectLoadBalancer", "CanonicalHostedZoneID"]})
            );
            assert_eq!(*target, host);
        } else {
            let host = json!({"Fn::GetAtt": ["RedirectDistribution", "DomainName"]});
            assert_eq!(alias["DNSName"], host);
            assert_eq!(alias["HostedZoneId"], "Z2FDTNDATAQYW2");
            assert_eq!(*target, host);
        }
    }
    // Without a domain (a first deploy) neither door exists, whichever is chosen.
    let conditions = &raw["Conditions"];
    for name in ["RedirectBehindAlb", "RedirectBehindCloudFront"] {
        assert!(
            conditions[name]["Fn::And"]
                .as_array()
                .is_some_and(|all| all.contains(&json!({"Condition": "HasRedirectDomain"}))),
            "{name}"
        );
    }
}

/// Behind the load balancer: HTTPS with the wildcard certificate (HTTP redirected to it), the
/// redirect function its one target, invoked by the load balancer alone (no CloudFront grant
/// on its URL), and the visitor's address appended as the last `x-forwarded-for` hop, the one
/// the function reads.
#[test]
fn the_load_balancer_serves_https_to_the_redirect_alone_and_appends_the_visitors_hop() {
    let doc = template_for("alb");
    let resources = resources(&doc);
    let lb = &resources["RedirectLoadBalancer"];
    assert_eq!(lb["Condition"], "RedirectBehindAlb");
    let p = &lb["Properties"];
    assert_eq!(p["Type"], "application");
    assert_eq!(p["Scheme"], "internet-facing");
    let attributes: BTreeMap<&str, &str> = p["LoadBalancerAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["Key"].as_str().unwrap(), a["Value"].as_str().unwrap()))
        .collect();
    assert_eq!(
        attributes["routing.http.xff_header_processing.mode"],
        "append"
    );
    assert_eq!(attributes["routing.http.xff_client_port.enabled"], "false");
    assert_eq!(
        attributes["routing.http.drop_invalid_header_fields.enabled"],
        "true"
    );
    // Two public subnets of its own VPC, in two zones, routed to the internet.
    let subnets = p["Subnets"].as_array().unwrap();
    assert_eq!(subnets.len(), 2);
    let zones: BTreeSet<String> = subnets
        .iter()
        .map(|s| {
            let id = s["Ref"].as_str().unwrap();
            let subnet = &resources[id]["Properties"];
            assert_eq!(subnet["VpcId"], json!({"Ref": "RedirectVpc"}));
            subnet["AvailabilityZone"].to_string()
        })
        .collect();
    assert_eq!(zones.len(), 2, "{zones:?}");
    let route = &resources["RedirectDefaultRoute"]["Properties"];
    assert_eq!(route["DestinationCidrBlock"], "0.0.0.0/0");
    assert_eq!(
        route["GatewayId"],
        json!({"Ref": "RedirectInternetGateway"})
    );

    let https = &resources["RedirectHttpsListener"]["Properties"];
    assert_eq!(https["Protocol"], "HTTPS");
    assert_eq!(https["Port"], 443);
    assert_eq!(
        https["Certificates"],
        json!([{"CertificateArn": {"Ref": "EdgeCertificateArn"}}])
    );
    assert!(
        https["SslPolicy"]
            .as_str()
            .is_some_and(|p| p.starts_with("ELBSecurityPolicy-TLS13-1-2")),
        "{https}"
    );
    assert_eq!(
        https["DefaultActions"],
        json!([{"Type": "forward", "TargetGroupArn": {"Ref": "RedirectTargetGroup"}}])
    );
    let http = &resources["RedirectHttpListener"]["Properties"];
    assert_eq!(http["Protocol"], "HTTP");
    assert_eq!(http["Port"], 80);
    let redirect = &http["DefaultActions"][0];
    assert_eq!(redirect["Type"], "redirect");
    assert_eq!(redirect["RedirectConfig"]["Protocol"], "HTTPS");
    assert_eq!(redirect["RedirectConfig"]["Port"], "443");
    assert_eq!(redirect["RedirectConfig"]["StatusCode"], "HTTP_301");

    let group = &resources["RedirectTargetGroup"];
    assert_eq!(group["Properties"]["TargetType"], "lambda");
    assert_eq!(
        group["Properties"]["Targets"],
        json!([{"Id": {"Fn::GetAtt": ["RedirectFunction", "Arn"]}}])
    );
    // A health check would be a billed invocation every few seconds.
    assert_eq!(group["Properties"]["HealthCheckEnabled"], false);
    assert_eq!(group["DependsOn"], "RedirectAlbInvokePermission");
    // The function's only grants: the load balancer's target groups of this account.
    let permissions: Vec<&Value> = resources
        .values()
        .filter(|r| r["Type"] == "AWS::Lambda::Permission")
        .filter(|r| {
            let name = &r["Properties"]["FunctionName"];
            *name == json!({"Ref": "RedirectFunction"})
                || *name == json!({"Fn::GetAtt": ["RedirectFunction", "Arn"]})
        })
        .collect();
    assert_eq!(permissions.len(), 1, "{permissions:?}");
    let grant = &permissions[0]["Properties"];
    assert_eq!(grant["Principal"], "elasticloadbalancing.amazonaws.com");
    assert_eq!(grant["Action"], "lambda:InvokeFunction");
    assert_eq!(grant["SourceAccount"], json!({"Ref": "AWS::AccountId"}));
    assert_eq!(
        grant["SourceArn"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:elasticloadbalancing:${AWS::Region}:${AWS::AccountId}:targetgroup/*"})
    );
    // Its URL still takes signed calls only (and, behind the load balancer, no one is granted it).
    let all = functions(&doc);
    let function = function_by_binary(&all, "redirect");
    assert_eq!(function.props["FunctionUrlConfig"]["AuthType"], "AWS_IAM");
    assert_eq!(function.env()["TENX_EDGE"], "alb");
}

#[test]
fn cloudfront_is_the_redirects_only_caller_with_the_country_and_the_host_and_caches_nothing() {
    let doc = template_for("cloudfront");
    let resources = resources(&doc);
    let cdn = &resources["RedirectDistribution"];
    assert_eq!(cdn["Type"], "AWS::CloudFront::Distribution");
    assert_eq!(cdn["Condition"], "RedirectBehindCloudFront");
    let config = &cdn["Properties"]["DistributionConfig"];
    assert_eq!(
        config["Aliases"],
        json!([{"Fn::Sub": "*.${RedirectDomain}"}])
    );
    assert_eq!(
        config["ViewerCertificate"]["AcmCertificateArn"],
        json!({"Ref": "EdgeCertificateArn"})
    );
    // The origin: the redirect function's URL, signed by the origin access control; no secret.
    let origin = &config["Origins"][0];
    assert_eq!(
        origin["DomainName"],
        json!({"Fn::Select": [2, {"Fn::Split": ["/", {"Fn::GetAtt": ["RedirectFunctionUrl", "FunctionUrl"]}]}]})
    );
    assert_eq!(
        origin["OriginAccessControlId"],
        json!({"Fn::GetAtt": ["RedirectOriginAccessControl", "Id"]})
    );
    assert!(origin.get("OriginCustomHeaders").is_none());
    let oac = &resources["RedirectOriginAccessControl"]["Properties"]["OriginAccessControlConfig"];
    assert_eq!(oac["OriginAccessControlOriginType"], "lambda");
    assert_eq!(oac["SigningBehavior"], "always");
    assert_eq!(oac["SigningProtocol"], "sigv4");
    // The URL takes signed calls only, and only the account's distributions may make them:
    // this one and each custom domain's copy of it, signing with the same origin access
    // control (issue 64; both actions: URLs created since October 2025 need both).
    let all = functions(&doc);
    let redirect = function_by_binary(&all, "redirect");
    assert_eq!(redirect.props["FunctionUrlConfig"]["AuthType"], "AWS_IAM");
    let distribution_arn =
        json!({"Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/*"});
    let permissions: Vec<&Value> = resources
        .values()
        .filter(|r| r["Type"] == "AWS::Lambda::Permission")
        .filter(|r| r["Properties"]["FunctionName"] == json!({"Ref": "RedirectFunction"}))
        .collect();
    let mut actions = BTreeSet::new();
    for p in &permissions {
        let props = &p["Properties"];
        assert_eq!(props["Principal"], "cloudfront.amazonaws.com");
        assert_eq!(props["SourceArn"], distribution_arn);
        match props["Action"].as_str() {
            Some("lambda:InvokeFunctionUrl") => assert_eq!(props["FunctionUrlAuthType"], "AWS_IAM"),
            Some("lambda:InvokeFunction") => assert_eq!(props["InvokedViaFunctionUrl"], true),
            other => panic!("the redirect grants {other:?}"),
        }
        actions.insert(props["Action"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(
        actions.len(),
        2,
        "both invoke actions, nothing else: {permissions:?}"
    );
    let behaviour = &config["DefaultCacheBehavior"];
    // AWS's managed policies: CachingDisabled, and AllViewerExceptHostHeader (the query string,
    // cookies and CloudFront-Viewer-Country reach the origin; Host is the URL's, signed).
    assert_eq!(
        behaviour["CachePolicyId"],
        "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    );
    assert_eq!(
        behaviour["OriginRequestPolicyId"],
        "b689b0a8-53d0-40ab-baf2-68738e2966ac"
    );
    assert_eq!(behaviour["AllowedMethods"], json!(["GET", "HEAD"]));
    assert_eq!(behaviour["ViewerProtocolPolicy"], "redirect-to-https");
    // The viewer's host reaches the redirect in the header it reads, set by the edge itself.
    let association = &behaviour["FunctionAssociations"][0];
    assert_eq!(association["EventType"], "viewer-request");
    assert_eq!(
        association["FunctionARN"],
        json!({"Fn::GetAtt": ["RedirectViewerHost", "FunctionARN"]})
    );
    let code = resources["RedirectViewerHost"]["Properties"]["FunctionCode"]
        .as_str()
        .expect("code");
    let set = format!(
        "request.headers['{}'] = {{ value: request.headers.host.value }}",
        tenx_shared::platform::config::VIEWER_HOST_HEADER
    );
    assert!(code.contains(&set), "{code}");
    let record = &resources["RedirectDomainRecord"]["Properties"]["AliasTarget"];
    assert_eq!(
        record["DNSName"],
        json!({"Fn::GetAtt": ["RedirectDistribution", "DomainName"]}),
        "DNS sends visitors to CloudFront"
    );
}

/// The click stream: provisioned with encryption, read by the clicks worker alone through one
/// event source mapping that keeps one invocation per shard (the checkpoint is per shard),
/// bisects a failed batch and gives up on it after bounded retries; only the functions that record clicks
/// may append, and they are told the stream's name.
#[test]
fn the_click_stream_feeds_one_consumer_per_shard_and_only_the_redirects_append() {
    let doc = template();
    let resources = resources(&doc);
    let stream = &resources["ClickStream"];
    assert_eq!(stream["Type"], "AWS::Kinesis::Stream");
    let p = &stream["Properties"];
    assert_eq!(p["StreamModeDetails"]["StreamMode"], "PROVISIONED");
    assert!(p["ShardCount"].as_u64() >= Some(1));
    assert_eq!(p["StreamEncryption"]["EncryptionType"], "KMS");
    let functions = functions(&doc);
    let worker = function_by_binary(&functions, "clicks");
    let mappings: Vec<&Value> = resources
        .values()
        .filter(|r| {
            r["Type"] == "AWS::Lambda::EventSourceMapping"
                && r["Properties"]["EventSourceArn"]
                    == json!({"Fn::GetAtt": ["ClickStream", "Arn"]})
        })
        .collect();
    assert_eq!(mappings.len(), 1, "one consumer of the stream");
    let m = &mappings[0]["Properties"];
    assert_eq!(m["FunctionName"], json!({"Ref": worker.logical_id}));
    assert_eq!(m["ParallelizationFactor"], 1);
    // Issue 28: a failing batch is bisected, retried a bounded number of times, then recorded
    // in an SQS queue of the stack (which the worker may send to) rather than block its shard.
    assert_eq!(m["BisectBatchOnFunctionError"], true);
    let retries = m["MaximumRetryAttempts"].as_i64().expect("bounded retries");
    assert!((0..=10_000).contains(&retries), "bounded: {retries}");
    let destination = &m["DestinationConfig"]["OnFailure"]["Destination"];
    let queue = destination["Fn::GetAtt"][0]
        .as_str()
        .expect("a queue of the stack");
    assert_eq!(resources[queue]["Type"], "AWS::SQS::Queue");
    assert!(
        worker
            .grants()
            .contains(&("sqs:SendMessage".to_owned(), queue.to_owned())),
        "the worker's role sends to its on-failure destination"
    );
    assert_eq!(m["StartingPosition"], "TRIM_HORIZON");
    assert!(
        m["BatchSize"].as_u64() >= Some(1000),
        "big batches: one transaction each"
    );
    assert_eq!(
        mappings[0]["DependsOn"],
        format!("{}Role", worker.logical_id)
    );
    for f in &functions {
        let appends = f
            .grants()
            .contains(&("kinesis:PutRecord".to_owned(), "ClickStream".to_owned()));
        // The redirect and the console's try append clicks; the events worker relays
        // conversions to be counted there.
        let records_clicks = ["redirect", "console", "events"].contains(&f.binary.as_str());
        assert_eq!(
            appends, records_clicks,
            "{}: kinesis:PutRecord",
            f.logical_id
        );
        // The funnel's freshness (issue 42) reads the first record past each checkpoint.
        let looks = f.binary == "analytics";
        assert_eq!(
            f.env().contains_key("TENX_CLICK_STREAM"),
            records_clicks || looks,
            "{}",
            f.logical_id
        );
        let reads = f.grants().iter().any(|(a, _)| a == "kinesis:GetRecords");
        assert_eq!(
            reads,
            f.binary == "clicks" || looks,
            "{} reads the stream",
            f.logical_id
        );
    }
}

#[test]
fn every_function_logs_quietly_into_a_log_group_with_a_retention() {
    let doc = template();
    // JSON logs; Lambda's START/END/REPORT lines (INFO) dropped, its warnings kept.
    let logging = &doc["Globals"]["Function"]["LoggingConfig"];
    assert_eq!(logging["LogFormat"], "JSON");
    assert_eq!(logging["SystemLogLevel"], "WARN");
    let groups: BTreeMap<String, &Value> = resources(&doc)
        .values()
        .filter(|r| r["Type"] == "AWS::Logs::LogGroup")
        .map(|r| {
            let name = r["Properties"]["LogGroupName"]["Fn::Sub"]
                .as_str()
                .expect("a log group named with !Sub")
                .to_owned();
            (name, &r["Properties"]["RetentionInDays"])
        })
        .collect();
    for f in functions(&doc) {
        let name = format!("/aws/lambda/${{{}}}", f.logical_id);
        let retention = groups
            .get(&name)
            .unwrap_or_else(|| panic!("{}: no log group {name}", f.logical_id));
        assert_eq!(**retention, json!({"Ref": "LogRetentionDays"}), "{name}");
    }
    assert!(doc["Parameters"]["LogRetentionDays"]["Default"].is_number());
}

#[test]
fn the_api_throttles_at_the_stage() {
    let doc = template();
    let apis: Vec<(&String, &Value)> = resources(&doc)
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::HttpApi")
        .collect();
    assert_eq!(
        apis.len(),
        1,
        "the /v2 API (the redirect is behind CloudFront)"
    );
    for (id, api) in apis {
        let settings = &api["Properties"]["DefaultRouteSettings"];
        assert_eq!(
            settings["ThrottlingRateLimit"],
            json!({"Ref": "ApiRateLimit"}),
            "{id}"
        );
        assert_eq!(
            settings["ThrottlingBurstLimit"],
            json!({"Ref": "ApiBurstLimit"}),
            "{id}"
        );
    }
}

#[test]
fn every_table_grant_is_narrowed_to_its_key_families_and_none_scans() {
    let doc = template();
    for f in functions(&doc) {
        let keys = f.leading_keys(); // panics on a DynamoDB statement without the condition
        assert!(!keys.is_empty(), "{}", f.logical_id);
        // A Scan carries no partition key, so LeadingKeys would not bind it.
        assert!(
            !f.grants().iter().any(|(a, _)| a == "dynamodb:Scan"),
            "{}",
            f.logical_id
        );
        let public = ["RedirectFunction", "PublicFunction"].contains(&f.logical_id.as_str());
        // The unauthenticated functions never reach a token's record (`P#…`), a consumer's
        // marker or checkpoint; the redirect reads custom domains' claims (issue 64).
        if public {
            let domains = f.logical_id == "RedirectFunction";
            assert!(
                keys.iter()
                    .all(|k| k == "H#*" || k == "OUTBOX#*" || (domains && k == "DOMAINS")),
                "{}: {keys:?}",
                f.logical_id
            );
        }
    }
}

/// A route under `/v2/handles/` that the access table does not name would answer 500 at run
/// time (authorization fails closed); this finds it at test time, on every group's router.
#[tokio::test]
async fn every_authenticated_route_has_an_access_rule() {
    let state = state();
    let mut checked = 0;
    for group in all_groups() {
        let app = group_app(group, state.clone());
        for path in registered_paths(&app) {
            if !path.starts_with("/v2/handles/") {
                continue;
            }
            for method in served_methods(&app, &path).await {
                let method = if method == "HEAD" { "GET" } else { &method };
                let ruled = ACCESS_TABLE
                    .iter()
                    .any(|r| r.path == path && r.method.as_str() == method);
                assert!(
                    ruled,
                    "{group:?}: {method} {path} has no rule in ACCESS_TABLE"
                );
                checked += 1;
            }
        }
    }
    assert!(
        checked >= ACCESS_TABLE.len(),
        "only {checked} routes probed"
    );
}

#[test]
fn cognito_is_the_default_sign_in_provider_with_self_sign_up_off() {
    let doc = template();
    let res = resources(&doc);
    let pool = &res["UserPool"];
    assert_eq!(pool["Type"], "AWS::Cognito::UserPool");
    assert_eq!(
        pool["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"], true,
        "self sign-up is off: an admin adds people"
    );
    let domain = &res["UserPoolDomain"];
    assert_eq!(domain["Type"], "AWS::Cognito::UserPoolDomain");
    assert_eq!(
        domain["Properties"]["UserPoolId"],
        json!({"Ref": "UserPool"})
    );
    let client = &res["UserPoolClient"]["Properties"];
    assert_eq!(
        res["UserPoolClient"]["Type"],
        "AWS::Cognito::UserPoolClient"
    );
    assert_eq!(client["UserPoolId"], json!({"Ref": "UserPool"}));
    // The authorization code (with PKCE, the server's side), no implicit flow, no secret.
    assert_eq!(client["AllowedOAuthFlows"], json!(["code"]));
    assert_eq!(client["GenerateSecret"], false);
    assert_eq!(client["AllowedOAuthFlowsUserPoolClient"], true);
    let scopes = client["AllowedOAuthScopes"].as_array().unwrap();
    assert!(scopes.contains(&json!("openid")) && scopes.contains(&json!("email")));
    // Its one redirect is the console's callback for the provider `cognito`.
    let callbacks = client["CallbackURLs"].as_array().unwrap();
    assert_eq!(callbacks.len(), 1);
    let callback = callbacks[0]["Fn::Sub"].as_str().unwrap();
    assert!(
        callback.starts_with("https://${Api}.")
            && callback.ends_with("/v2/auth/oidc/cognito/callback"),
        "{callback}"
    );
    // The console (which serves /v2/auth/oidc/…) is configured with it as `cognito`.
    let functions = functions(&doc);
    let console = function_by_binary(&functions, "console");
    let env = console.env();
    let issuer = env["TENX_OIDC_COGNITO_ISSUER"]["Fn::Sub"].as_str().unwrap();
    assert!(
        issuer.starts_with("https://cognito-idp.${AWS::Region}.")
            && issuer.ends_with("/${UserPool}"),
        "{issuer}"
    );
    assert_eq!(
        env["TENX_OIDC_COGNITO_CLIENT_ID"],
        json!({"Ref": "UserPoolClient"})
    );
    assert!(!env.contains_key("TENX_OIDC_COGNITO_CLIENT_SECRET"));
    let routes = console.http_routes();
    for path in [
        "/v2/auth/oidc",
        "/v2/auth/oidc/{provider}/start",
        "/v2/auth/oidc/{provider}/callback",
    ] {
        assert!(
            routes.iter().any(|(_, _, p)| p == path),
            "{path}: {routes:?}"
        );
    }
    // And the configuration reads that environment as the provider `cognito`.
    let vars = tenx_shared::platform::config::Env::default()
        .with(
            "TENX_OIDC_COGNITO_ISSUER",
            Some("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"),
        )
        .with("TENX_OIDC_COGNITO_CLIENT_ID", Some("client"))
        .with(
            "TENX_OIDC_COGNITO_NAME",
            env["TENX_OIDC_COGNITO_NAME"].as_str(),
        );
    let config = tenx_shared::platform::config::Config::from_vars(&vars).unwrap();
    assert_eq!(config.oidc.len(), 1);
    assert_eq!(config.oidc[0].id, "cognito");
    assert_eq!(config.oidc[0].client_secret, None);
    assert!(
        doc["Outputs"]
            .as_object()
            .unwrap()
            .contains_key("UserPoolId")
    );
}
