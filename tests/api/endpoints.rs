#![allow(dead_code)] // one method per endpoint, called or not by today's tests

//! The API as the tests call it: one method per endpoint (zero2prod's `TestApp` pattern), so a
//! test reads as the behaviour it checks. Authenticated routes go through an [`As`]: the app, a
//! handle and a bearer token (`app.as_role("acme", Role::Operator)`, any token with
//! `app.with_token`, or none at all with `app.without_token`). Every method returns the raw
//! response: status, headers and body are the test's to check.

use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;
use tenx_shared::http::auth::Role;

use crate::helpers::TestApp;

/// A caller of one handle's authenticated routes.
pub(crate) struct As<'a> {
    app: &'a TestApp,
    handle: String,
    /// `None`: no `authorization` header at all.
    token: Option<String>,
}

impl TestApp {
    /// Calls `handle`'s routes with a fresh JWT of `role` on that handle.
    pub(crate) fn as_role(&self, handle: &str, role: Role) -> As<'_> {
        self.with_token(handle, &self.token(&[handle], role))
    }

    /// Calls `handle`'s routes with `token` (a JWT or a PAT).
    pub(crate) fn with_token(&self, handle: &str, token: &str) -> As<'_> {
        As {
            app: self,
            handle: handle.to_owned(),
            token: Some(token.to_owned()),
        }
    }

    /// Calls `handle`'s routes with no credentials at all (the 401 checks).
    pub(crate) fn without_token(&self, handle: &str) -> As<'_> {
        As {
            app: self,
            handle: handle.to_owned(),
            token: None,
        }
    }

    async fn public(&self, method: Method, path: &str, body: Option<&Value>) -> Response {
        self.public_with(method, path, body, &[]).await
    }

    async fn public_with(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut request = self.client.request(method, self.url(path));
        if let Some(body) = body {
            request = request.json(body);
        }
        for (name, value) in headers {
            // As bytes: a header may carry UTF-8 (a localized User-Agent), as browsers send it.
            let value = reqwest::header::HeaderValue::from_bytes(value.as_bytes()).expect("header");
            request = request.header(*name, value);
        }
        request.send().await.expect("request")
    }

    /// `{method} {handle}.{domain}{path}`: the public redirect, not followed.
    pub(crate) async fn visit(
        &self,
        method: Method,
        handle: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Response {
        let host = self.short_host(handle);
        let mut all = vec![("host", host.as_str())];
        all.extend_from_slice(headers);
        self.public_with(method, path, None, &all).await
    }

    /// `GET /v2/public/context?ctx=…`
    pub(crate) async fn context(&self, ctx: &str) -> Response {
        let path = format!("/v2/public/context?ctx={}", urlencode(ctx));
        self.public(Method::GET, &path, None).await
    }

    /// `POST /v2/public/conversions`
    pub(crate) async fn convert(&self, body: &Value) -> Response {
        self.public(Method::POST, "/v2/public/conversions", Some(body))
            .await
    }

    /// `POST /v2/public/leads`
    pub(crate) async fn lead(&self, body: &Value) -> Response {
        self.public(Method::POST, "/v2/public/leads", Some(body))
            .await
    }

    /// `GET /v2/public/programs/{handle}`
    pub(crate) async fn public_program(&self, handle: &str) -> Response {
        let path = format!("/v2/public/programs/{handle}");
        self.public(Method::GET, &path, None).await
    }

    /// `POST /v2/public/programs/{handle}/applications` from the client address `hop` (an
    /// `x-forwarded-for` the test config trusts).
    pub(crate) async fn apply(&self, handle: &str, body: &Value, hop: &str) -> Response {
        let path = format!("/v2/public/programs/{handle}/applications");
        let headers = [("x-forwarded-for", hop)];
        self.public_with(Method::POST, &path, Some(body), &headers)
            .await
    }

    /// `POST /v2/public/chain/signals`
    pub(crate) async fn chain_signals(&self, body: &Value) -> Response {
        self.public(Method::POST, "/v2/public/chain/signals", Some(body))
            .await
    }

    /// `POST /v2/public/chain/resolve`
    pub(crate) async fn chain_resolve(&self, body: &Value) -> Response {
        self.public(Method::POST, "/v2/public/chain/resolve", Some(body))
            .await
    }

    /// `POST /v2/public/chain/prefetch`
    pub(crate) async fn chain_prefetch(&self, body: &Value) -> Response {
        self.public(Method::POST, "/v2/public/chain/prefetch", Some(body))
            .await
    }

    /// `POST /v2/public/conversions` with extra request headers (e.g. `x-forwarded-for`).
    pub(crate) async fn convert_with_headers(
        &self,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> Response {
        self.public_with(Method::POST, "/v2/public/conversions", Some(body), headers)
            .await
    }

    /// `{method} /` on the API host: the console's page (a `host` header overrides the host).
    pub(crate) async fn console_page(&self, method: Method, headers: &[(&str, &str)]) -> Response {
        self.public_with(method, "/", None, headers).await
    }

    /// `GET /programs/{handle}`: the public program page.
    pub(crate) async fn program_page(&self, handle: &str) -> Response {
        self.public(Method::GET, &format!("/programs/{handle}"), None)
            .await
    }

    /// `GET /console/{file}`
    pub(crate) async fn console_asset(&self, file: &str) -> Response {
        self.public(Method::GET, &format!("/console/{file}"), None)
            .await
    }

    /// `GET /console/{file}` with extra request headers (`accept-encoding`).
    pub(crate) async fn console_asset_with(
        &self,
        file: &str,
        headers: &[(&str, &str)],
    ) -> Response {
        self.public_with(Method::GET, &format!("/console/{file}"), None, headers)
            .await
    }

    /// `POST /v2/public/integrations/stripe/{handle}` with the raw body and its headers.
    pub(crate) async fn stripe_event(
        &self,
        handle: &str,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> Response {
        let url = self.url(&format!("/v2/public/integrations/stripe/{handle}"));
        let mut request = self.client.post(url).body(body.to_vec());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("request")
    }

    /// `POST /v2/public/integrations/shopify/{handle}` with the raw body and its headers.
    pub(crate) async fn shopify_event(
        &self,
        handle: &str,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> Response {
        let url = self.url(&format!("/v2/public/integrations/shopify/{handle}"));
        let mut request = self.client.post(url).body(body.to_vec());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("request")
    }

    /// `POST /v2/public/refs`
    pub(crate) async fn create_ref(&self, body: &Value) -> Response {
        self.public_with(Method::POST, "/v2/public/refs", Some(body), &[])
            .await
    }

    /// `POST /console/sign-in` with extra request headers (`host`, `origin`, proxy headers).
    pub(crate) async fn console_sign_in(&self, body: &Value, headers: &[(&str, &str)]) -> Response {
        self.public_with(Method::POST, "/console/sign-in", Some(body), headers)
            .await
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl As<'_> {
    fn request(&self, method: Method, rest: &str) -> RequestBuilder {
        let path = format!("/v2/handles/{}{rest}", self.handle);
        let request = self.app.client.request(method, self.app.url(&path));
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// `GET /v2/handles/{handle}{rest}`: any read, with its query (probes of odd inputs).
    pub(crate) async fn get(&self, rest: &str) -> Response {
        self.send(Method::GET, rest, None).await
    }

    /// Any route of the handle, with a JSON body (routes without a method of their own).
    pub(crate) async fn send_json(&self, method: Method, rest: &str, body: &Value) -> Response {
        self.send(method, rest, Some(body)).await
    }

    /// Any route of the handle, without a body (e.g. a method the route does not allow).
    pub(crate) async fn send_empty(&self, method: Method, rest: &str) -> Response {
        self.send(method, rest, None).await
    }

    async fn send(&self, method: Method, rest: &str, body: Option<&Value>) -> Response {
        self.send_with(method, rest, body, &[]).await
    }

    async fn send_with(
        &self,
        method: Method,
        rest: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut request = self.request(method, rest);
        if let Some(body) = body {
            request = request.json(body);
        }
        for (name, value) in headers {
            // As bytes: a header may carry UTF-8 (a localized User-Agent), as browsers send it.
            let value = reqwest::header::HeaderValue::from_bytes(value.as_bytes()).expect("header");
            request = request.header(*name, value);
        }
        request.send().await.expect("request")
    }

    /// `PUT …/integrations/{provider}`
    pub(crate) async fn put_integration(&self, provider: &str, body: &Value) -> Response {
        let rest = format!("/integrations/{provider}");
        self.send(Method::PUT, &rest, Some(body)).await
    }

    /// `GET …/integrations/{provider}`
    pub(crate) async fn get_integration(&self, provider: &str) -> Response {
        self.send(Method::GET, &format!("/integrations/{provider}"), None)
            .await
    }

    /// `DELETE …/integrations/{provider}`
    pub(crate) async fn delete_integration(&self, provider: &str) -> Response {
        self.send(Method::DELETE, &format!("/integrations/{provider}"), None)
            .await
    }

    /// `GET …/integrations/{provider}/events?{query}`
    pub(crate) async fn integration_events(&self, provider: &str, query: &str) -> Response {
        let rest = format!("/integrations/{provider}/events?{query}");
        self.send(Method::GET, &rest, None).await
    }

    /// `POST …/conversions` (the merchant's server)
    pub(crate) async fn convert_verified(&self, body: &Value) -> Response {
        self.send(Method::POST, "/conversions", Some(body)).await
    }

    /// `GET …/conversions?{query}`
    pub(crate) async fn list_conversions(&self, query: &str) -> Response {
        self.send(Method::GET, &format!("/conversions?{query}"), None)
            .await
    }

    /// `GET …/conversions/{id}`
    pub(crate) async fn get_conversion(&self, id: &str) -> Response {
        self.send(Method::GET, &format!("/conversions/{id}"), None)
            .await
    }

    /// `POST …/conversions/{id}/reverse`
    pub(crate) async fn reverse(&self, id: &str, body: &Value) -> Response {
        self.send(
            Method::POST,
            &format!("/conversions/{id}/reverse"),
            Some(body),
        )
        .await
    }

    /// `GET …/partners/{partnerId}/risk`
    pub(crate) async fn partner_risk(&self, partner: &str) -> Response {
        self.send(Method::GET, &format!("/partners/{partner}/risk"), None)
            .await
    }

    /// `GET …/conversion-policy`
    pub(crate) async fn conversion_policy(&self) -> Response {
        self.send(Method::GET, "/conversion-policy", None).await
    }

    /// `PUT …/conversion-policy`
    pub(crate) async fn put_conversion_policy(&self, body: &Value) -> Response {
        self.send(Method::PUT, "/conversion-policy", Some(body))
            .await
    }

    /// `PUT …/links/{slug}`
    pub(crate) async fn put_link(&self, slug: &str, body: &Value) -> Response {
        self.send(Method::PUT, &format!("/links/{slug}"), Some(body))
            .await
    }

    /// `PUT …/links/{slug}` with `if-match`.
    pub(crate) async fn put_link_if_match(
        &self,
        slug: &str,
        if_match: &str,
        body: &Value,
    ) -> Response {
        let headers = [("if-match", if_match)];
        self.send_with(Method::PUT, &format!("/links/{slug}"), Some(body), &headers)
            .await
    }

    /// `GET …/links/{slug}`
    pub(crate) async fn get_link(&self, slug: &str) -> Response {
        self.send(Method::GET, &format!("/links/{slug}"), None)
            .await
    }

    /// `GET …/links?{query}`
    pub(crate) async fn list_links(&self, query: &str) -> Response {
        self.send(Method::GET, &format!("/links?{query}"), None)
            .await
    }

    /// `DELETE …/links/{slug}`
    pub(crate) async fn delete_link(&self, slug: &str) -> Response {
        self.send(Method::DELETE, &format!("/links/{slug}"), None)
            .await
    }

    /// `GET …/links/{slug}/availability`
    pub(crate) async fn slug_availability(&self, slug: &str) -> Response {
        let rest = format!("/links/{slug}/availability");
        self.send(Method::GET, &rest, None).await
    }

    /// `POST …/links/{slug}/route-preview`
    pub(crate) async fn route_preview(&self, slug: &str, body: &Value) -> Response {
        let rest = format!("/links/{slug}/route-preview");
        self.send(Method::POST, &rest, Some(body)).await
    }

    /// `POST …/links/{slug}/try`
    pub(crate) async fn try_link(&self, slug: &str, body: &Value) -> Response {
        self.send(Method::POST, &format!("/links/{slug}/try"), Some(body))
            .await
    }

    /// `POST …/links/{slug}/try` with extra request headers (e.g. the caller's `user-agent`).
    pub(crate) async fn try_link_with_headers(
        &self,
        slug: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> Response {
        let rest = format!("/links/{slug}/try");
        self.send_with(Method::POST, &rest, Some(body), headers)
            .await
    }

    /// `PUT …/redirect-settings`
    pub(crate) async fn put_redirect_settings(&self, body: &Value) -> Response {
        self.send(Method::PUT, "/redirect-settings", Some(body))
            .await
    }

    /// `POST …/campaigns`
    pub(crate) async fn create_campaign(&self, body: &Value) -> Response {
        self.send(Method::POST, "/campaigns", Some(body)).await
    }

    /// `GET …/campaigns?{query}`
    pub(crate) async fn list_campaigns(&self, query: &str) -> Response {
        self.send(Method::GET, &format!("/campaigns?{query}"), None)
            .await
    }

    /// `GET …/campaigns/{campaignId}`
    pub(crate) async fn get_campaign(&self, id: &str) -> Response {
        self.send(Method::GET, &format!("/campaigns/{id}"), None)
            .await
    }

    /// `PATCH …/campaigns/{campaignId}`
    pub(crate) async fn patch_campaign(&self, id: &str, body: &Value) -> Response {
        self.send(Method::PATCH, &format!("/campaigns/{id}"), Some(body))
            .await
    }

    /// `PATCH …/campaigns/{campaignId}` with `if-match`.
    pub(crate) async fn patch_campaign_if_match(
        &self,
        id: &str,
        if_match: &str,
        body: &Value,
    ) -> Response {
        let headers = [("if-match", if_match)];
        self.send_with(
            Method::PATCH,
            &format!("/campaigns/{id}"),
            Some(body),
            &headers,
        )
        .await
    }

    /// `GET …/analytics?{query}`
    pub(crate) async fn analytics(&self, query: &str) -> Response {
        self.send(Method::GET, &format!("/analytics?{query}"), None)
            .await
    }

    /// `GET …/analytics/export?{query}`
    pub(crate) async fn export(&self, query: &str) -> Response {
        self.send(Method::GET, &format!("/analytics/export?{query}"), None)
            .await
    }

    /// `POST …/tokens`
    pub(crate) async fn create_token(&self, body: &Value) -> Response {
        self.send(Method::POST, "/tokens", Some(body)).await
    }

    /// `GET …/tokens`
    pub(crate) async fn list_tokens(&self) -> Response {
        self.send(Method::GET, "/tokens", None).await
    }

    /// `DELETE …/tokens/{tokenId}`
    pub(crate) async fn revoke_token(&self, id: &str) -> Response {
        self.send(Method::DELETE, &format!("/tokens/{id}"), None)
            .await
    }

    /// `GET …/chain/rules`
    pub(crate) async fn chain_rules(&self) -> Response {
        self.send(Method::GET, "/chain/rules", None).await
    }

    /// `PUT …/chain/rules`
    pub(crate) async fn put_chain_rules(&self, body: &Value) -> Response {
        self.send(Method::PUT, "/chain/rules", Some(body)).await
    }

    /// `POST …/webhooks`
    pub(crate) async fn create_webhook(&self, body: &Value) -> Response {
        self.send(Method::POST, "/webhooks", Some(body)).await
    }

    /// `GET …/webhooks`
    pub(crate) async fn list_webhooks(&self) -> Response {
        self.send(Method::GET, "/webhooks", None).await
    }

    /// `GET …/webhooks/{subscriptionId}`
    pub(crate) async fn get_webhook(&self, id: &str) -> Response {
        self.send(Method::GET, &format!("/webhooks/{id}"), None)
            .await
    }

    /// `DELETE …/webhooks/{subscriptionId}`
    pub(crate) async fn delete_webhook(&self, id: &str) -> Response {
        self.send(Method::DELETE, &format!("/webhooks/{id}"), None)
            .await
    }

    /// `POST …/webhooks/{subscriptionId}/test`
    pub(crate) async fn test_webhook(&self, id: &str) -> Response {
        self.send(Method::POST, &format!("/webhooks/{id}/test"), None)
            .await
    }

    /// `GET …/webhooks/{subscriptionId}/deliveries`
    pub(crate) async fn deliveries(&self, id: &str) -> Response {
        self.send(Method::GET, &format!("/webhooks/{id}/deliveries"), None)
            .await
    }

    /// `POST …/webhooks/{subscriptionId}/deliveries/{eventId}/resend`
    pub(crate) async fn resend(&self, id: &str, event_id: &str) -> Response {
        let rest = format!("/webhooks/{id}/deliveries/{event_id}/resend");
        self.send(Method::POST, &rest, None).await
    }

    /// `GET …/notifications`
    pub(crate) async fn notifications(&self) -> Response {
        self.send(Method::GET, "/notifications", None).await
    }

    // ------------------------------------------------------------ commissions (issue 30)

    /// `POST …/partners`
    pub(crate) async fn create_partner(&self, body: &Value) -> Response {
        self.send(Method::POST, "/partners", Some(body)).await
    }

    /// `PATCH …/partners/{partnerId}`
    pub(crate) async fn update_partner(&self, id: &str, body: &Value) -> Response {
        self.send(Method::PATCH, &format!("/partners/{id}"), Some(body))
            .await
    }

    /// `PUT …/campaigns/{campaignId}/commission-plan`
    pub(crate) async fn put_plan(&self, campaign: &str, body: &Value) -> Response {
        let rest = format!("/campaigns/{campaign}/commission-plan");
        self.send(Method::PUT, &rest, Some(body)).await
    }

    /// `GET …/campaigns/{campaignId}/commission-plan`
    pub(crate) async fn get_plan(&self, campaign: &str) -> Response {
        let rest = format!("/campaigns/{campaign}/commission-plan");
        self.send(Method::GET, &rest, None).await
    }

    /// `PUT …/campaigns/{campaignId}/commission-plan` with `if-match`.
    pub(crate) async fn put_plan_if_match(
        &self,
        campaign: &str,
        if_match: &str,
        body: &Value,
    ) -> Response {
        let rest = format!("/campaigns/{campaign}/commission-plan");
        let headers = [("if-match", if_match)];
        self.send_with(Method::PUT, &rest, Some(body), &headers)
            .await
    }

    /// `POST …/campaigns/{campaign}/commission-plan/preview`
    pub(crate) async fn preview_plan(&self, campaign: &str, body: &Value) -> Response {
        let rest = format!("/campaigns/{campaign}/commission-plan/preview");
        self.send(Method::POST, &rest, Some(body)).await
    }

    /// `POST …/fx-rates`
    pub(crate) async fn post_fx_rates(&self, body: &Value) -> Response {
        self.send(Method::POST, "/fx-rates", Some(body)).await
    }

    /// `GET …/commissions?{query}`
    pub(crate) async fn list_commissions(&self, query: &str) -> Response {
        self.send(Method::GET, &format!("/commissions?{query}"), None)
            .await
    }

    /// `POST …/commissions` (a manual entry)
    pub(crate) async fn create_manual_commission(&self, body: &Value) -> Response {
        self.send(Method::POST, "/commissions", Some(body)).await
    }

    /// `POST …/commissions/{id}/{approve|reject}`
    pub(crate) async fn review_commission(
        &self,
        id: &str,
        decision: &str,
        body: &Value,
    ) -> Response {
        let rest = format!("/commissions/{id}/{decision}");
        self.send(Method::POST, &rest, Some(body)).await
    }

    /// `POST …/commissions/{approve|reject}` (bulk)
    pub(crate) async fn review_commissions(&self, decision: &str, body: &Value) -> Response {
        self.send(
            Method::POST,
            &format!("/commissions/{decision}"),
            Some(body),
        )
        .await
    }

    // ------------------------------------------------------------ programs (issue 46)

    /// `PUT …/program`
    pub(crate) async fn put_program(&self, body: &Value) -> Response {
        self.send(Method::PUT, "/program", Some(body)).await
    }

    /// `GET …/program`
    pub(crate) async fn get_program(&self) -> Response {
        self.send(Method::GET, "/program", None).await
    }

    /// `GET …/partner-applications?{query}`
    pub(crate) async fn list_applications(&self, query: &str) -> Response {
        let rest = format!("/partner-applications?{query}");
        self.send(Method::GET, &rest, None).await
    }

    /// `GET …/partner-applications/{id}`
    pub(crate) async fn get_application(&self, id: &str) -> Response {
        let rest = format!("/partner-applications/{id}");
        self.send(Method::GET, &rest, None).await
    }

    /// `POST …/partner-applications/{id}/approve`
    pub(crate) async fn approve_application(&self, id: &str) -> Response {
        let rest = format!("/partner-applications/{id}/approve");
        self.send(Method::POST, &rest, None).await
    }

    /// `POST …/partner-applications/{id}/approve` with an `idempotency-key`
    pub(crate) async fn approve_application_keyed(&self, id: &str, key: &str) -> Response {
        let rest = format!("/partner-applications/{id}/approve");
        let headers = [("idempotency-key", key)];
        self.send_with(Method::POST, &rest, None, &headers).await
    }

    /// `POST …/partner-applications/{id}/reject`
    pub(crate) async fn reject_application(&self, id: &str, body: &Value) -> Response {
        let rest = format!("/partner-applications/{id}/reject");
        self.send(Method::POST, &rest, Some(body)).await
    }

    /// `GET …/partners`
    pub(crate) async fn list_partners(&self) -> Response {
        self.send(Method::GET, "/partners", None).await
    }

    /// `GET …/partners/{id}`
    pub(crate) async fn get_partner(&self, id: &str) -> Response {
        self.send(Method::GET, &format!("/partners/{id}"), None)
            .await
    }

    /// `GET …/balances?{query}`
    /// `POST /v2/handles/{handle}/customers`
    pub(crate) async fn bind_customer(&self, body: &Value) -> Response {
        self.send(Method::POST, "/customers", Some(body)).await
    }

    /// `GET /v2/handles/{handle}/customers?{query}`
    pub(crate) async fn list_customers(&self, query: &str) -> Response {
        self.send(Method::GET, &format!("/customers?{query}"), None)
            .await
    }

    /// `GET /v2/handles/{handle}/customers/{id}`
    pub(crate) async fn get_customer(&self, id: &str) -> Response {
        self.send(Method::GET, &format!("/customers/{id}"), None)
            .await
    }

    /// `POST /v2/handles/{handle}/partners/{partner}/coupon-codes`
    pub(crate) async fn create_coupon(&self, partner: &str, body: &Value) -> Response {
        let path = format!("/partners/{partner}/coupon-codes");
        self.send(Method::POST, &path, Some(body)).await
    }

    /// `GET /v2/handles/{handle}/partners/{partner}/coupon-codes`
    pub(crate) async fn list_coupons(&self, partner: &str) -> Response {
        let path = format!("/partners/{partner}/coupon-codes");
        self.send(Method::GET, &path, None).await
    }

    /// `DELETE /v2/handles/{handle}/partners/{partner}/coupon-codes/{code}`
    pub(crate) async fn delete_coupon(&self, partner: &str, code: &str) -> Response {
        let path = format!("/partners/{partner}/coupon-codes/{code}");
        self.send(Method::DELETE, &path, None).await
    }

    pub(crate) async fn balances(&self, query: &str) -> Response {
        self.send(Method::GET, &format!("/balances?{query}"), None)
            .await
    }

    /// `GET …/payouts?{query}` (`partnerId`, `limit`, `cursor`)
    pub(crate) async fn list_payouts(&self, query: &str) -> Response {
        self.send(Method::GET, &format!("/payouts?{query}"), None)
            .await
    }

    /// `POST …/payouts` with its `idempotency-key`
    pub(crate) async fn run_payouts(&self, key: &str, body: &Value) -> Response {
        let headers = [("idempotency-key", key)];
        self.send_with(Method::POST, "/payouts", Some(body), &headers)
            .await
    }

    /// `GET …/payouts/{id}/statement?format={format}`
    pub(crate) async fn statement(&self, id: &str, format: &str) -> Response {
        let rest = format!("/payouts/{id}/statement?format={format}");
        self.send(Method::GET, &rest, None).await
    }

    /// `GET …/payouts/{id}/statement?{query}` (a page: `format`, `limit`, `cursor`)
    pub(crate) async fn statement_page(&self, id: &str, query: &str) -> Response {
        let rest = format!("/payouts/{id}/statement?{query}");
        self.send(Method::GET, &rest, None).await
    }

    /// `PUT …/test-mode`
    pub(crate) async fn put_test_mode(&self, enabled: bool) -> Response {
        let body = serde_json::json!({ "enabled": enabled });
        self.send(Method::PUT, "/test-mode", Some(&body)).await
    }

    /// `POST …/test-sales`
    pub(crate) async fn test_sale(&self, body: &Value) -> Response {
        self.send(Method::POST, "/test-sales", Some(body)).await
    }

    /// `DELETE …/test-data`
    pub(crate) async fn clear_test_data(&self) -> Response {
        self.send(Method::DELETE, "/test-data", None).await
    }

    /// `POST …/payouts/{id}/{mark-paid|mark-failed|cancel}`
    pub(crate) async fn settle_payout(&self, id: &str, action: &str, body: &Value) -> Response {
        let rest = format!("/payouts/{id}/{action}");
        self.send(Method::POST, &rest, Some(body)).await
    }

    /// `PUT …/partners/{partner}/payout-method`
    pub(crate) async fn put_payout_method(&self, partner: &str, body: &Value) -> Response {
        let rest = format!("/partners/{partner}/payout-method");
        self.send(Method::PUT, &rest, Some(body)).await
    }

    /// `GET …/partners/{partner}/payout-method`
    pub(crate) async fn payout_method(&self, partner: &str) -> Response {
        let rest = format!("/partners/{partner}/payout-method");
        self.send(Method::GET, &rest, None).await
    }

    /// `POST …/partners/{partner}/payout-method/confirm`
    pub(crate) async fn confirm_payout_method(&self, partner: &str) -> Response {
        let rest = format!("/partners/{partner}/payout-method/confirm");
        self.send(Method::POST, &rest, None).await
    }

    /// `POST …/partners/{partnerId}/payout-method/unfreeze`
    pub(crate) async fn unfreeze_payout_method(&self, partner: &str) -> Response {
        let rest = format!("/partners/{partner}/payout-method/unfreeze");
        self.send(Method::POST, &rest, None).await
    }

    /// `PUT …/payout-settings`
    pub(crate) async fn put_payout_settings(&self, body: &Value) -> Response {
        self.send(Method::PUT, "/payout-settings", Some(body)).await
    }

    /// `GET …/payout-settings`
    pub(crate) async fn payout_settings(&self) -> Response {
        self.send(Method::GET, "/payout-settings", None).await
    }

    /// `POST …/payout-batches` with its `idempotency-key`
    pub(crate) async fn create_batch(&self, key: &str, body: &Value) -> Response {
        let headers = [("idempotency-key", key)];
        self.send_with(Method::POST, "/payout-batches", Some(body), &headers)
            .await
    }

    /// `GET …/payout-batches`
    pub(crate) async fn list_batches(&self) -> Response {
        self.send(Method::GET, "/payout-batches", None).await
    }

    /// `GET …/payout-batches/{id}`
    pub(crate) async fn get_batch(&self, id: &str) -> Response {
        let rest = format!("/payout-batches/{id}");
        self.send(Method::GET, &rest, None).await
    }

    /// `GET …/payout-batches/{id}/file?{query}`
    pub(crate) async fn batch_file(&self, id: &str, query: &str) -> Response {
        let rest = format!("/payout-batches/{id}/file?{query}");
        self.send(Method::GET, &rest, None).await
    }

    /// `POST …/payout-batches/{id}/{mark-paid|cancel}`
    pub(crate) async fn settle_batch(&self, id: &str, action: &str, body: &Value) -> Response {
        let rest = format!("/payout-batches/{id}/{action}");
        self.send(Method::POST, &rest, Some(body)).await
    }

    /// Any route of the handle with a binary body (an image) and its content type.
    pub(crate) async fn send_bytes(
        &self,
        method: Method,
        rest: &str,
        content_type: &str,
        body: &[u8],
    ) -> Response {
        self.request(method, rest)
            .header("content-type", content_type)
            .body(body.to_vec())
            .send()
            .await
            .expect("request")
    }

    /// Any route of the handle with a raw body and content type (malformed JSON, wrong types).
    pub(crate) async fn send_raw(
        &self,
        method: Method,
        rest: &str,
        content_type: &str,
        body: &str,
    ) -> Response {
        self.request(method, rest)
            .header("content-type", content_type)
            .body(body.to_owned())
            .send()
            .await
            .expect("request")
    }
}
