#![allow(dead_code)] // one method per endpoint, called or not by today's tests

//! The API as the tests call it: one method per endpoint (zero2prod's `TestApp` pattern), so a
//! test reads as the behaviour it checks. Authenticated routes go through an [`As`]: the app, a
//! handle and a bearer token (`app.as_role("acme", Role::Operator)`, or any token with
//! `app.with_token`). Every method returns the raw response: status, headers and body are
//! the test's to check.

use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;
use tenx_shared::http::auth::Role;

use crate::helpers::TestApp;

/// A caller of one handle's authenticated routes.
pub struct As<'a> {
    app: &'a TestApp,
    handle: String,
    token: String,
}

impl TestApp {
    /// Calls `handle`'s routes with a fresh JWT of `role` on that handle.
    pub fn as_role(&self, handle: &str, role: Role) -> As<'_> {
        self.with_token(handle, &self.token(&[handle], role))
    }

    /// Calls `handle`'s routes with `token` (a JWT or a PAT).
    pub fn with_token(&self, handle: &str, token: &str) -> As<'_> {
        As {
            app: self,
            handle: handle.to_owned(),
            token: token.to_owned(),
        }
    }

    async fn public(&self, method: Method, path: &str, body: Option<&Value>) -> Response {
        let mut request = self.client.request(method, self.url(path));
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("request")
    }

    /// `{method} {handle}.{domain}{path}`: the public redirect, not followed.
    pub async fn visit(
        &self,
        method: Method,
        handle: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut request = self
            .client
            .request(method, self.url(path))
            .header("host", self.short_host(handle));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("request")
    }

    /// `GET /v2/public/context?ctx=…`
    pub async fn context(&self, ctx: &str) -> Response {
        let path = format!("/v2/public/context?ctx={}", urlencode(ctx));
        self.public(Method::GET, &path, None).await
    }

    /// `POST /v2/public/conversions`
    pub async fn convert(&self, body: &Value) -> Response {
        self.public(Method::POST, "/v2/public/conversions", Some(body))
            .await
    }

    /// `POST /v2/public/chain/signals`
    pub async fn chain_signals(&self, body: &Value) -> Response {
        self.public(Method::POST, "/v2/public/chain/signals", Some(body))
            .await
    }

    /// `POST /v2/public/chain/resolve`
    pub async fn chain_resolve(&self, body: &Value) -> Response {
        self.public(Method::POST, "/v2/public/chain/resolve", Some(body))
            .await
    }

    /// `POST /v2/public/chain/prefetch`
    pub async fn chain_prefetch(&self, body: &Value) -> Response {
        self.public(Method::POST, "/v2/public/chain/prefetch", Some(body))
            .await
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl As<'_> {
    fn request(&self, method: Method, rest: &str) -> RequestBuilder {
        let path = format!("/v2/handles/{}{rest}", self.handle);
        self.app
            .client
            .request(method, self.app.url(&path))
            .bearer_auth(&self.token)
    }

    /// `GET /v2/handles/{handle}{rest}`: any read, with its query (probes of odd inputs).
    pub async fn get(&self, rest: &str) -> Response {
        self.send(Method::GET, rest, None).await
    }

    /// Any route of the handle, with a JSON body (routes without a method of their own).
    pub async fn send_json(&self, method: Method, rest: &str, body: &Value) -> Response {
        self.send(method, rest, Some(body)).await
    }

    async fn send(&self, method: Method, rest: &str, body: Option<&Value>) -> Response {
        let mut request = self.request(method, rest);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("request")
    }

    /// `POST …/conversions` (the merchant's server)
    pub async fn convert_verified(&self, body: &Value) -> Response {
        self.send(Method::POST, "/conversions", Some(body)).await
    }

    /// `GET …/conversions?{query}`
    pub async fn list_conversions(&self, query: &str) -> Response {
        self.send(Method::GET, &format!("/conversions?{query}"), None)
            .await
    }

    /// `GET …/conversions/{id}`
    pub async fn get_conversion(&self, id: &str) -> Response {
        self.send(Method::GET, &format!("/conversions/{id}"), None)
            .await
    }

    /// `POST …/conversions/{id}/reverse`
    pub async fn reverse(&self, id: &str, body: &Value) -> Response {
        self.send(
            Method::POST,
            &format!("/conversions/{id}/reverse"),
            Some(body),
        )
        .await
    }

    /// `GET …/conversion-policy`
    pub async fn conversion_policy(&self) -> Response {
        self.send(Method::GET, "/conversion-policy", None).await
    }

    /// `PUT …/conversion-policy`
    pub async fn put_conversion_policy(&self, body: &Value) -> Response {
        self.send(Method::PUT, "/conversion-policy", Some(body))
            .await
    }

    /// `PUT …/links/{slug}`
    pub async fn put_link(&self, slug: &str, body: &Value) -> Response {
        self.send(Method::PUT, &format!("/links/{slug}"), Some(body))
            .await
    }

    /// `PUT …/links/{slug}` with `if-match`.
    pub async fn put_link_if_match(&self, slug: &str, if_match: &str, body: &Value) -> Response {
        self.request(Method::PUT, &format!("/links/{slug}"))
            .header("if-match", if_match)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// `GET …/links/{slug}`
    pub async fn get_link(&self, slug: &str) -> Response {
        self.send(Method::GET, &format!("/links/{slug}"), None)
            .await
    }

    /// `GET …/links?{query}`
    pub async fn list_links(&self, query: &str) -> Response {
        self.send(Method::GET, &format!("/links?{query}"), None)
            .await
    }

    /// `DELETE …/links/{slug}`
    pub async fn delete_link(&self, slug: &str) -> Response {
        self.send(Method::DELETE, &format!("/links/{slug}"), None)
            .await
    }

    /// `POST …/links/{slug}/route-preview`
    pub async fn route_preview(&self, slug: &str, body: &Value) -> Response {
        let rest = format!("/links/{slug}/route-preview");
        self.send(Method::POST, &rest, Some(body)).await
    }

    /// `POST …/campaigns`
    pub async fn create_campaign(&self, body: &Value) -> Response {
        self.send(Method::POST, "/campaigns", Some(body)).await
    }

    /// `GET …/campaigns`
    pub async fn list_campaigns(&self) -> Response {
        self.send(Method::GET, "/campaigns", None).await
    }

    /// `GET …/campaigns/{campaignId}`
    pub async fn get_campaign(&self, id: &str) -> Response {
        self.send(Method::GET, &format!("/campaigns/{id}"), None)
            .await
    }

    /// `PATCH …/campaigns/{campaignId}`
    pub async fn patch_campaign(&self, id: &str, body: &Value) -> Response {
        self.send(Method::PATCH, &format!("/campaigns/{id}"), Some(body))
            .await
    }

    /// `GET …/analytics?{query}`
    pub async fn analytics(&self, query: &str) -> Response {
        self.send(Method::GET, &format!("/analytics?{query}"), None)
            .await
    }

    /// `GET …/analytics/export?{query}`
    pub async fn export(&self, query: &str) -> Response {
        self.send(Method::GET, &format!("/analytics/export?{query}"), None)
            .await
    }

    /// `POST …/tokens`
    pub async fn create_token(&self, body: &Value) -> Response {
        self.send(Method::POST, "/tokens", Some(body)).await
    }

    /// `GET …/tokens`
    pub async fn list_tokens(&self) -> Response {
        self.send(Method::GET, "/tokens", None).await
    }

    /// `DELETE …/tokens/{tokenId}`
    pub async fn revoke_token(&self, id: &str) -> Response {
        self.send(Method::DELETE, &format!("/tokens/{id}"), None)
            .await
    }

    /// `GET …/chain/rules`
    pub async fn chain_rules(&self) -> Response {
        self.send(Method::GET, "/chain/rules", None).await
    }

    /// `PUT …/chain/rules`
    pub async fn put_chain_rules(&self, body: &Value) -> Response {
        self.send(Method::PUT, "/chain/rules", Some(body)).await
    }

    /// `POST …/webhooks`
    pub async fn create_webhook(&self, body: &Value) -> Response {
        self.send(Method::POST, "/webhooks", Some(body)).await
    }

    /// `GET …/webhooks`
    pub async fn list_webhooks(&self) -> Response {
        self.send(Method::GET, "/webhooks", None).await
    }

    /// `GET …/webhooks/{subscriptionId}`
    pub async fn get_webhook(&self, id: &str) -> Response {
        self.send(Method::GET, &format!("/webhooks/{id}"), None)
            .await
    }

    /// `DELETE …/webhooks/{subscriptionId}`
    pub async fn delete_webhook(&self, id: &str) -> Response {
        self.send(Method::DELETE, &format!("/webhooks/{id}"), None)
            .await
    }

    /// `POST …/webhooks/{subscriptionId}/test`
    pub async fn test_webhook(&self, id: &str) -> Response {
        self.send(Method::POST, &format!("/webhooks/{id}/test"), None)
            .await
    }

    /// `GET …/webhooks/{subscriptionId}/deliveries`
    pub async fn deliveries(&self, id: &str) -> Response {
        self.send(Method::GET, &format!("/webhooks/{id}/deliveries"), None)
            .await
    }

    /// `POST …/webhooks/{subscriptionId}/deliveries/{eventId}/resend`
    pub async fn resend(&self, id: &str, event_id: &str) -> Response {
        let rest = format!("/webhooks/{id}/deliveries/{event_id}/resend");
        self.send(Method::POST, &rest, None).await
    }

    /// `GET …/notifications`
    pub async fn notifications(&self) -> Response {
        self.send(Method::GET, "/notifications", None).await
    }
}
