//! Custom domains behind the stack's load balancer (`RedirectFrontDoor: alb`, `domains::edge`
//! with `tenx_aws::alb`), on moto's ACM and ELB: a verified domain goes `pending_dns`
//! (its certificate requested in the listener's region) → `pending_tls` (the certificate added
//! to the HTTPS listener, the load balancer's host answered as the CNAME target) → `active`; a
//! DELETE takes the certificate off the listener and deletes it; a listener at its certificate
//! quota makes the domain `failed` in words, and a verify once there is room succeeds.

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, FixedResponseActionConfig, LoadBalancerTypeEnum,
    ProtocolEnum,
};
use reqwest::StatusCode;
use serde_json::json;
use tenx_shared::domains::edge::EdgeSweep;
use tenx_shared::platform::edge::Listener;

use crate::domains::DnsServer;
use crate::domains_aws::{claim_and_verify, read_domain, sweep, unique_domain};
use crate::helpers::{TestApp, aws_endpoint, on_aws, spawn_with, test_config};

/// ACM and ELB clients on the test's moto.
struct Moto {
    acm: aws_sdk_acm::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
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
            elb: aws_sdk_elasticloadbalancingv2::Client::new(&shared),
        }
    }

    /// Two of moto's default subnets (the tests hold no EC2 SDK: one EC2 query by hand, which
    /// moto routes by the credential scope it never verifies).
    async fn default_subnets(&self) -> Vec<String> {
        let client = tenx_shared::platform::http_client::builder()
            .build()
            .unwrap();
        let xml = client
            .post(aws_endpoint())
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ec2/aws4_request, \
                 SignedHeaders=host, Signature=0",
            )
            .form(&[
                ("Action", "DescribeSubnets"),
                ("Version", "2016-11-15"),
                ("Filter.1.Name", "default-for-az"),
                ("Filter.1.Value.1", "true"),
            ])
            .send()
            .await
            .expect("moto's EC2")
            .text()
            .await
            .unwrap();
        let subnets: Vec<String> = xml
            .split("<subnetId>")
            .skip(1)
            .filter_map(|rest| rest.split_once("</subnetId>").map(|(id, _)| id.to_owned()))
            .take(2)
            .collect();
        assert_eq!(subnets.len(), 2, "{xml}");
        subnets
    }

    /// A stand-in for the stack's `RedirectHttpsListener` on its own load balancer, with the
    /// wildcard certificate as its default.
    async fn redirect_listener(&self) -> Listener {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let lb = self
            .elb
            .create_load_balancer()
            .name(format!("redirect-{}", &id[..12]))
            .r#type(LoadBalancerTypeEnum::Application)
            .set_subnets(Some(self.default_subnets().await))
            .send()
            .await
            .expect("a load balancer on moto");
        let lb = &lb.load_balancers()[0];
        let wildcard = self
            .acm
            .request_certificate()
            .domain_name("*.links.example.com")
            .send()
            .await
            .unwrap();
        let listener = self
            .elb
            .create_listener()
            .load_balancer_arn(lb.load_balancer_arn().unwrap())
            .protocol(ProtocolEnum::Https)
            .port(443)
            .certificates(certificate(wildcard.certificate_arn().unwrap()))
            .default_actions(
                Action::builder()
                    .r#type(ActionTypeEnum::FixedResponse)
                    .fixed_response_config(
                        FixedResponseActionConfig::builder()
                            .status_code("404")
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .expect("an HTTPS listener on moto");
        Listener {
            arn: listener.listeners()[0].listener_arn().unwrap().to_owned(),
            host: lb.dns_name().unwrap().to_owned(),
        }
    }

    /// The certificates the listener holds besides its default one.
    async fn on_listener(&self, listener: &Listener) -> Vec<String> {
        let out = self
            .elb
            .describe_listener_certificates()
            .listener_arn(&listener.arn)
            .send()
            .await
            .unwrap();
        out.certificates()
            .iter()
            .filter(|c| c.is_default() != Some(true))
            .filter_map(|c| c.certificate_arn().map(str::to_owned))
            .collect()
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
}

fn certificate(arn: &str) -> Certificate {
    Certificate::builder().certificate_arn(arn).build()
}

/// An app whose edge is `listener`, verifying against `dns`.
async fn spawn_with_listener(dns: &DnsServer, listener: &Listener) -> TestApp {
    let mut config = test_config();
    config.dns_resolver = Some(format!("127.0.0.1:{}", dns.port).parse().unwrap());
    config.edge.listener = Some(listener.clone());
    config.edge.endpoint = Some(aws_endpoint());
    // The server's own sweeper loop runs once, at the start: the test's passes are the only ones.
    config.outbox_sweep_interval = std::time::Duration::from_secs(3_600);
    spawn_with(config, None).await
}

#[tokio::test]
async fn a_verified_domain_gets_its_certificate_on_the_load_balancer_and_a_delete_takes_it_off() {
    if !on_aws() {
        // About the AWS edge alone (moto's ACM and ELB); without it see domains_aws.
        return;
    }
    let dns = DnsServer::start();
    let domain = unique_domain();
    let moto = Moto::connect().await;
    let listener = moto.redirect_listener().await;
    let app = spawn_with_listener(&dns, &listener).await;
    let link = json!({"destinationUrl": "https://shop.example/spring"});
    app.put_link("acme", "spring", link).await;

    let verified = claim_and_verify(&app, &dns, &domain).await;
    assert_eq!(verified["status"], "pending_dns", "{verified}");

    // Pass 1: the certificate, its validation record answered.
    assert_eq!(sweep(&app).await.advanced, 1);
    let body = read_domain(&app, &domain).await;
    assert_eq!(body["status"], "pending_dns", "{body}");
    assert_eq!(
        body["verification"]["certificate"]["type"], "CNAME",
        "{body}"
    );
    let certificates = moto.certificates(&domain).await;
    assert_eq!(certificates.len(), 1, "{certificates:?}");
    assert!(moto.on_listener(&listener).await.is_empty());

    // Pass 2: issued, so added to the listener; the domain points at the load balancer.
    assert_eq!(sweep(&app).await.advanced, 1);
    let body = read_domain(&app, &domain).await;
    assert_eq!(body["status"], "pending_tls", "{body}");
    assert_eq!(moto.on_listener(&listener).await, certificates);
    assert_eq!(body["target"]["type"], "CNAME", "{body}");
    assert_eq!(body["target"]["value"], listener.host.as_str(), "{body}");

    // Pass 3: the listener holds it: live. A pass more changes nothing.
    assert_eq!(sweep(&app).await.advanced, 1);
    assert_eq!(read_domain(&app, &domain).await["status"], "active");
    assert_eq!(sweep(&app).await, EdgeSweep::default());
    app.state().domain_cache.invalidate_all();
    let answer = app.on_host(&domain, "/spring").await;
    assert_eq!(answer.status(), StatusCode::FOUND);

    // Given up: off the listener and deleted in one pass.
    let (status, _) = app
        .domain_call(reqwest::Method::DELETE, "acme", &format!("/{domain}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(sweep(&app).await.removed, 1);
    assert!(moto.on_listener(&listener).await.is_empty());
    assert!(moto.certificates(&domain).await.is_empty());
    assert_eq!(sweep(&app).await, EdgeSweep::default());
}

#[tokio::test]
async fn a_listener_at_its_certificate_quota_fails_the_domain_in_words_until_there_is_room() {
    if !on_aws() {
        return;
    }
    let dns = DnsServer::start();
    let domain = unique_domain();
    let moto = Moto::connect().await;
    let listener = moto.redirect_listener().await;
    let app = spawn_with_listener(&dns, &listener).await;
    // Other domains' certificates fill the listener (moto counts its default one too).
    let others: Vec<String> = (0..24)
        .map(|i| format!("arn:aws:acm:us-east-1:123456789012:certificate/other-{i}"))
        .collect();
    for arn in &others {
        let added = moto
            .elb
            .add_listener_certificates()
            .listener_arn(&listener.arn)
            .certificates(certificate(arn))
            .send()
            .await;
        added.expect("room for another");
    }

    claim_and_verify(&app, &dns, &domain).await;
    assert_eq!(sweep(&app).await.advanced, 1);
    assert_eq!(sweep(&app).await.advanced, 1);
    let body = read_domain(&app, &domain).await;
    assert_eq!(body["status"], "failed", "{body}");
    let reason = body["reason"].as_str().unwrap();
    assert!(reason.contains("as many certificates"), "{reason}");
    assert!(reason.contains("verify this domain again"), "{reason}");
    assert!(
        !reason.contains("TooManyCertificates"),
        "words, not a code: {reason}"
    );
    // Failed stays failed: no request on every pass.
    assert_eq!(sweep(&app).await, EdgeSweep::default());

    // Room made (a domain removed), verified again: a new attempt goes on the listener.
    let removed = moto
        .elb
        .remove_listener_certificates()
        .listener_arn(&listener.arn)
        .certificates(certificate(&others[0]))
        .send()
        .await;
    removed.unwrap();
    let (status, again) = app.verify_domain("acme", &domain).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["status"], "pending_dns", "{again}");
    for _ in 0..3 {
        sweep(&app).await;
    }
    assert_eq!(read_domain(&app, &domain).await["status"], "active");
    let held = moto.on_listener(&listener).await;
    assert_eq!(held.len(), 24, "{held:?}");
}
