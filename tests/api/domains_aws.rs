//! Custom domains' TLS edge on AWS (issue 64, `domains::edge`), on moto's ACM and CloudFront:
//! a verified domain goes `pending_dns` (its certificate requested, the validation record
//! answered) → `pending_tls` (its distribution, a copy of the redirect's, created) → `active`;
//! a DELETE removes the distribution and the certificate; a step replayed after a crash makes
//! nothing twice; a refusal of ACM is shown on the domain in words. Without the edge (the
//! embedded backend, `tenx serve`) a verified domain is `verified` at once: `Host` is enough.
//!
//! moto issues a certificate on its first read (`MOTO_ACM_VALIDATION_WAIT=0`, set by
//! `scripts/moto.sh`) and reports a distribution deployed at once, so each sweep moves a
//! domain exactly one step.

use aws_sdk_cloudfront::types::{
    CustomOriginConfig, DefaultCacheBehavior, DistributionConfig, Origin, OriginProtocolPolicy,
    Origins, ViewerProtocolPolicy,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tenx_shared::domains::edge::EdgeSweep;
use tenx_shared::platform::store::{Cond, Item, WriteOp, keys};

use crate::domains::DnsServer;
use crate::helpers::{TestApp, aws_endpoint, on_aws, spawn_with, test_config};

/// ACM and CloudFront clients on the test's moto.
struct Moto {
    acm: aws_sdk_acm::Client,
    cloudfront: aws_sdk_cloudfront::Client,
}

impl Moto {
    async fn connect() -> Self {
        let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::from_static("us-east-1"))
            .endpoint_url(aws_endpoint())
            .load()
            .await;
        Self {
            acm: aws_sdk_acm::Client::new(&shared),
            cloudfront: aws_sdk_cloudfront::Client::new(&shared),
        }
    }

    /// A stand-in for the stack's `RedirectDistribution`: its origin is the redirect's API.
    async fn redirect_distribution(&self) -> String {
        let origin = Origin::builder()
            .id("redirect")
            .domain_name("redirect.execute-api.us-east-1.amazonaws.com")
            .custom_origin_config(
                CustomOriginConfig::builder()
                    .http_port(80)
                    .https_port(443)
                    .origin_protocol_policy(OriginProtocolPolicy::HttpsOnly)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let config = DistributionConfig::builder()
            .caller_reference(uuid::Uuid::new_v4().to_string())
            .comment("redirect")
            .enabled(true)
            .origins(
                Origins::builder()
                    .quantity(1)
                    .items(origin)
                    .build()
                    .unwrap(),
            )
            .default_cache_behavior(
                DefaultCacheBehavior::builder()
                    .target_origin_id("redirect")
                    .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let out = self
            .cloudfront
            .create_distribution()
            .distribution_config(config)
            .send()
            .await
            .expect("creating the redirect's distribution on moto");
        out.distribution().unwrap().id().to_owned()
    }

    /// The certificates moto holds for `domain`.
    async fn certificates(&self, domain: &str) -> Vec<String> {
        let out = self.acm.list_certificates().send().await.unwrap();
        out.certificate_summary_list()
            .iter()
            .filter(|c| c.domain_name() == Some(domain))
            .filter_map(|c| c.certificate_arn().map(str::to_owned))
            .collect()
    }

    /// The distributions moto holds with `domain` as an alias: (id, certificate ARN, origin).
    async fn distributions(&self, domain: &str) -> Vec<(String, String, String)> {
        let out = self.cloudfront.list_distributions().send().await.unwrap();
        let mut found = Vec::new();
        for d in out
            .distribution_list()
            .map(aws_sdk_cloudfront::types::DistributionList::items)
            .unwrap_or_default()
        {
            let aliased = d
                .aliases()
                .and_then(|a| a.items.as_ref())
                .is_some_and(|items| items.iter().any(|a| a == domain));
            if !aliased {
                continue;
            }
            let got = self
                .cloudfront
                .get_distribution_config()
                .id(d.id())
                .send()
                .await
                .unwrap();
            let config = got.distribution_config().unwrap();
            found.push((
                d.id().to_owned(),
                config
                    .viewer_certificate
                    .as_ref()
                    .and_then(|v| v.acm_certificate_arn.clone())
                    .unwrap_or_default(),
                config
                    .origins
                    .as_ref()
                    .map(|o| o.items()[0].domain_name().to_owned())
                    .unwrap_or_default(),
            ));
        }
        found
    }
}

/// A host of this test's own (moto is shared by the tests running at once).
pub(crate) fn unique_domain() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("go-{}.brand.test", &id[..10])
}

/// An app whose edge copies `distribution` on `endpoint`, verifying against `dns`.
async fn spawn_with_edge(dns: &DnsServer, distribution: &str, endpoint: String) -> TestApp {
    let mut config = test_config();
    config.dns_resolver = Some(format!("127.0.0.1:{}", dns.port).parse().unwrap());
    config.edge.distribution_id = Some(distribution.to_owned());
    config.edge.endpoint = Some(endpoint);
    // The server's own sweeper loop runs once, at the start: the test's passes are the only ones.
    config.outbox_sweep_interval = std::time::Duration::from_secs(3_600);
    spawn_with(config, None).await
}

/// One pass of the edge (what the sweeper runs every minute).
pub(crate) async fn sweep(app: &TestApp) -> EdgeSweep {
    let state = app.state();
    let edge = state.edge.clone().expect("the edge is on");
    tenx_shared::domains::edge::sweep(state.store.as_ref(), edge.as_ref())
        .await
        .expect("the edge's pass")
}

/// Claims `domain` for acme, publishes its TXT record and verifies it.
pub(crate) async fn claim_and_verify(app: &TestApp, dns: &DnsServer, domain: &str) -> Value {
    let (status, claimed) = app.put_domain("acme", domain, json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{claimed}");
    let value = claimed["verification"]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    dns.publish(&[(&format!("_tenx.{domain}"), "TXT", &value)]);
    let (status, verified) = app.verify_domain("acme", domain).await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    verified
}

pub(crate) async fn read_domain(app: &TestApp, domain: &str) -> Value {
    let (status, body) = app
        .domain_call(reqwest::Method::GET, "acme", &format!("/{domain}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn a_verified_domain_gets_its_certificate_and_distribution_and_a_delete_removes_both() {
    let dns = DnsServer::start();
    let domain = unique_domain();
    if !on_aws() {
        // No edge locally: verified is live at once, and nothing is ever requested.
        let app = crate::domains::spawn_with_dns(&dns).await;
        let verified = claim_and_verify(&app, &dns, &domain).await;
        assert_eq!(verified["status"], "verified", "{verified}");
        assert!(verified.get("target").is_none(), "{verified}");
        assert!(app.state().edge.is_none());
        return;
    }
    let moto = Moto::connect().await;
    let redirect = moto.redirect_distribution().await;
    let app = spawn_with_edge(&dns, &redirect, aws_endpoint()).await;
    app.put_link(
        "acme",
        "spring",
        json!({"destinationUrl": "https://shop.example/spring"}),
    )
    .await;

    // Verified: the certificate is the sweeper's to request.
    let verified = claim_and_verify(&app, &dns, &domain).await;
    assert_eq!(verified["status"], "pending_dns", "{verified}");
    assert!(verified["verification"].get("certificate").is_none());
    assert!(moto.certificates(&domain).await.is_empty());

    // Pass 1 (through the sweeper itself): the certificate, its validation record beside the TXT.
    let report = tenx_shared::runtime::workers::sweeper::handle(&app.state(), &json!({}))
        .await
        .unwrap();
    assert_eq!(report.edge.advanced, 1);
    let body = read_domain(&app, &domain).await;
    assert_eq!(body["status"], "pending_dns", "{body}");
    assert_eq!(body["verification"]["type"], "TXT", "{body}");
    let validation = &body["verification"]["certificate"];
    assert_eq!(validation["type"], "CNAME", "{body}");
    let name = validation["name"].as_str().unwrap();
    assert!(name.ends_with(&format!(".{domain}")), "{body}");
    assert!(name.starts_with('_'), "{body}");
    assert!(
        validation["value"]
            .as_str()
            .unwrap()
            .ends_with("acm-validations.aws")
    );
    let certificates = moto.certificates(&domain).await;
    assert_eq!(certificates.len(), 1, "{certificates:?}");

    // Pass 2: issued; the distribution made, with the certificate and the redirect's origin.
    assert_eq!(sweep(&app).await.advanced, 1);
    let body = read_domain(&app, &domain).await;
    assert_eq!(body["status"], "pending_tls", "{body}");
    let distributions = moto.distributions(&domain).await;
    assert_eq!(distributions.len(), 1, "{distributions:?}");
    let (_, certificate, origin) = &distributions[0];
    assert_eq!(certificate, &certificates[0]);
    assert_eq!(origin, "redirect.execute-api.us-east-1.amazonaws.com");
    assert_eq!(body["target"]["type"], "CNAME", "{body}");
    assert_eq!(body["target"]["name"], domain.as_str(), "{body}");
    assert!(
        body["target"]["value"]
            .as_str()
            .unwrap()
            .ends_with(".cloudfront.net"),
        "{body}"
    );

    // Pass 3: deployed: live. A pass more changes nothing.
    assert_eq!(sweep(&app).await.advanced, 1);
    let body = read_domain(&app, &domain).await;
    assert_eq!(body["status"], "active", "{body}");
    assert_eq!(sweep(&app).await, EdgeSweep::default());
    app.state().domain_cache.invalidate_all();
    assert_eq!(
        app.on_host(&domain, "/spring").await.status(),
        StatusCode::FOUND
    );

    // The daily re-check: a lost TXT record makes it failing (the edge leaves it alone); the
    // record back, it is active again, its edge's stage kept.
    let value = verified["verification"]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let sweeper = || async {
        tenx_shared::runtime::workers::sweeper::handle(&app.state(), &json!({}))
            .await
            .unwrap()
    };
    dns.publish(&[]);
    tenx_shared::platform::time::advance(std::time::Duration::from_secs(86_400 + 60));
    let report = sweeper().await;
    assert_eq!((report.domains, report.edge), (1, EdgeSweep::default()));
    assert_eq!(read_domain(&app, &domain).await["status"], "failing");
    dns.publish(&[(&format!("_tenx.{domain}"), "TXT", &value)]);
    tenx_shared::platform::time::advance(std::time::Duration::from_secs(86_400 + 60));
    assert_eq!(sweeper().await.domains, 1);
    assert_eq!(read_domain(&app, &domain).await["status"], "active");

    // Given up: the distribution disabled, then deleted, then the certificate.
    let (status, _) = app
        .domain_call(reqwest::Method::DELETE, "acme", &format!("/{domain}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(sweep(&app).await.removed, 0);
    assert_eq!(moto.distributions(&domain).await.len(), 1);
    assert_eq!(sweep(&app).await.removed, 1);
    assert!(moto.distributions(&domain).await.is_empty());
    assert!(moto.certificates(&domain).await.is_empty());
    assert_eq!(sweep(&app).await, EdgeSweep::default());
}

/// Puts the claim back as it was before a pass: the pass's AWS calls happened, its record did
/// not (a crash between the two).
async fn forget_the_pass(app: &TestApp, before: &Item) {
    let store = app.state().store.clone();
    store
        .transact(vec![WriteOp::Put {
            item: before.clone(),
            cond: Cond::None,
        }])
        .await
        .unwrap();
}

#[tokio::test]
async fn a_step_replayed_after_a_crash_makes_no_second_certificate_or_distribution() {
    if !on_aws() {
        // About the AWS edge alone (moto's ACM and CloudFront).
        return;
    }
    let dns = DnsServer::start();
    let domain = unique_domain();
    let moto = Moto::connect().await;
    let redirect = moto.redirect_distribution().await;
    let app = spawn_with_edge(&dns, &redirect, aws_endpoint()).await;
    claim_and_verify(&app, &dns, &domain).await;
    let (pk, sk) = keys::custom_domain_claim(&domain);
    let claim = || async { app.state().store.get(&pk, &sk).await.unwrap().unwrap() };

    // The certificate requested twice, the first answer lost: one certificate.
    let before = claim().await;
    assert_eq!(sweep(&app).await.advanced, 1);
    let first = read_domain(&app, &domain).await;
    forget_the_pass(&app, &before).await;
    assert_eq!(read_domain(&app, &domain).await["status"], "pending_dns");
    assert_eq!(sweep(&app).await.advanced, 1);
    let again = read_domain(&app, &domain).await;
    assert_eq!(moto.certificates(&domain).await.len(), 1);
    assert_eq!(
        first["verification"]["certificate"],
        again["verification"]["certificate"]
    );

    // The distribution created twice, the first answer lost: one distribution, the same.
    let before = claim().await;
    assert_eq!(sweep(&app).await.advanced, 1);
    let first = read_domain(&app, &domain).await;
    assert_eq!(first["status"], "pending_tls", "{first}");
    forget_the_pass(&app, &before).await;
    assert_eq!(sweep(&app).await.advanced, 1);
    let again = read_domain(&app, &domain).await;
    assert_eq!(again["status"], "pending_tls", "{again}");
    assert_eq!(first["target"], again["target"]);
    assert_eq!(moto.distributions(&domain).await.len(), 1);
    assert_eq!(moto.certificates(&domain).await.len(), 1);

    // A removal replayed: still one teardown, and it finishes.
    assert_eq!(sweep(&app).await.advanced, 1);
    let (status, _) = app
        .domain_call(reqwest::Method::DELETE, "acme", &format!("/{domain}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let mut removed = 0;
    for _ in 0..3 {
        removed += sweep(&app).await.removed;
    }
    assert_eq!(removed, 1);
    assert!(moto.distributions(&domain).await.is_empty());
    assert!(moto.certificates(&domain).await.is_empty());
}

/// An ACM that refuses every request as ACM does past its quota (JSON protocol: the error's
/// type in `__type`).
async fn refusing_acm() -> String {
    use axum::http::StatusCode as Code;
    let app = axum::Router::new().fallback(|| async {
        (
            Code::BAD_REQUEST,
            [("content-type", "application/x-amz-json-1.1")],
            r#"{"__type":"LimitExceededException","message":"Error: you have reached your limit of 2500 certificates in the last year."}"#,
        )
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_certificate_acm_refuses_is_reported_on_the_domain_in_words() {
    // The SDK signs even a stand-in's requests: any credentials do, and `scripts/test.sh` has
    // moto's in the environment of both backends' runs.
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
        eprintln!(
            "skipped: no AWS credentials in the environment (source scripts/moto.sh's exports)"
        );
        return;
    }
    let dns = DnsServer::start();
    let domain = unique_domain();
    let app = spawn_with_edge(&dns, "EDGETEMPLATE", refusing_acm().await).await;
    let verified = claim_and_verify(&app, &dns, &domain).await;
    assert_eq!(verified["status"], "pending_dns", "{verified}");

    assert_eq!(sweep(&app).await.advanced, 1);
    let body = read_domain(&app, &domain).await;
    assert_eq!(body["status"], "failed", "{body}");
    let reason = body["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("ACM refused the certificate"),
        "{reason}"
    );
    assert!(reason.contains("limit of 2500 certificates"), "{reason}");
    // Failed stays failed: no request on every pass.
    assert_eq!(sweep(&app).await, EdgeSweep::default());

    // Verified again: a new attempt, refused again, still in words and never a 500.
    let (status, again) = app.verify_domain("acme", &domain).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["status"], "pending_dns", "{again}");
    assert!(again.get("reason").is_none(), "{again}");
    assert_eq!(sweep(&app).await.advanced, 1);
    assert_eq!(read_domain(&app, &domain).await["status"], "failed");
}
