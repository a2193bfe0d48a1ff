//! Extractors that answer bad input with the API envelope instead of axum's plain-text
//! rejections: JSON bodies (413 over the limit, 400 naming the offending field) and queries.

use axum::body::Bytes;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

use crate::domain::{CtxClaims, CtxError};
use crate::http::error::{ApiError, ApiResult, ErrorCode};
use crate::http::objects_only::ObjectsOnly;
use crate::kernel::state::AppState;

/// Request bodies larger than this are refused with `413 payload_too_large`.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON body. An empty body reads as `{}` so routes whose fields are all optional accept it.
pub struct Json<T>(pub T);

/// Path parameters parsed into their domain types (`Path<(Handle, Slug)>`), refused in the API
/// envelope (axum's own rejection is plain text): a segment its type refuses answers that type's
/// own message (`slug: must be …`, as a body field would), anything else on a matched route is a
/// segment that is not UTF-8 once percent-decoded (`%FF`).
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(t)| Path(t))
            .map_err(path_rejection)
    }
}

fn path_rejection(rejection: PathRejection) -> ApiError {
    let PathRejection::FailedToDeserializePathParams(e) = rejection else {
        return not_utf8();
    };
    match e.into_kind() {
        ErrorKind::Message(message) | ErrorKind::DeserializeError { message, .. } => {
            ApiError::invalid_request(message)
        }
        _ => not_utf8(),
    }
}

fn not_utf8() -> ApiError {
    ApiError::invalid_request("path: a segment is not valid UTF-8.")
}

/// A resource named by a prefixed id in its path (`{subscriptionId}`, `{conversionId}`, …).
/// One that is not well formed names nothing, so it answers the same 404 as a missing one.
pub trait PathId: Sized {
    /// The route's name for the segment.
    const SEGMENT: &'static str;
    fn parse(raw: &str) -> Option<Self>;
    fn not_found(raw: &str) -> ApiError;
}

/// The extractor of a [`PathId`]: `IdPath(id): IdPath<SubscriptionId>`.
#[derive(Debug)]
pub struct IdPath<T>(pub T);

impl<S: Send + Sync, T: PathId> FromRequestParts<S> for IdPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| not_utf8())?;
        let raw = params
            .iter()
            .find(|(name, _)| *name == T::SEGMENT)
            .map(|(_, value)| value)
            .ok_or_else(|| ApiError::internal(format!("a route without {{{}}}", T::SEGMENT)))?;
        T::parse(raw).map(IdPath).ok_or_else(|| T::not_found(raw))
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if req.headers().contains_key(header::CONTENT_TYPE) && !says_json(req.headers()) {
            return Err(not_json());
        }
        let bytes = body(Bytes::from_request(req, state).await)?;
        parse_json(&bytes).map(Json)
    }
}

/// A body taken whole (`Result<Bytes, BytesRejection>` as a handler's argument), its refusal
/// in the envelope: `413 payload_too_large` past the router's limit ([`MAX_BODY_BYTES`]),
/// else `400 invalid_request`.
pub fn body(taken: Result<Bytes, BytesRejection>) -> ApiResult<Bytes> {
    taken.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            payload_too_large()
        } else {
            ApiError::invalid_request("The request body could not be read.")
        }
    })
}

/// A JSON body that must say so (`content-type: application/json`), for the public routes
/// that store what a person typed (an application, a lead). Without the header a body is a
/// CORS "simple request": any page can make its visitors' browsers send it cross-site without
/// a preflight (issue 57), so it is refused like a wrong type: `400 invalid_request`
/// `content-type must be application/json.`, before anything is read.
pub struct JsonOnly<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonOnly<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !says_json(req.headers()) {
            return Err(not_json());
        }
        Json::<T>::from_request(req, state)
            .await
            .map(|Json(t)| JsonOnly(t))
    }
}

/// Whether the request's content type is `application/json` (any parameters).
fn says_json(headers: &HeaderMap) -> bool {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = ct.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
}

fn not_json() -> ApiError {
    ApiError::invalid_request("content-type must be application/json.")
}

pub fn payload_too_large() -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("The request body exceeds {} KiB.", MAX_BODY_BYTES / 1024),
    )
}

/// Parses JSON, naming the offending field in the error (`tracking.utmSource: invalid type…`).
/// Objects only where a struct is expected: an array of the field values is refused.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.len() > MAX_BODY_BYTES {
        return Err(payload_too_large());
    }
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(ObjectsOnly(de)).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let detail = if inner.is_syntax() || inner.is_eof() {
            format!("malformed JSON ({inner})")
        } else {
            inner.to_string()
        };
        if path == "." || path.is_empty() {
            ApiError::invalid_request(format!("body: {detail}"))
        } else {
            ApiError::invalid_request(format!("{path}: {detail}"))
        }
    })
}

/// An `if-match` precondition: a version or `*` (the resource exists).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfMatch {
    Any,
    Version(u64),
}

/// The `if-match` header as the API takes it (openapi.yaml's `IfMatch`): `*`, or a version
/// written `3`, `"3"` or `W/"3"` with 1 to 19 digits. Anything else is `400 invalid_request`
/// (it used to be read leniently, so `3"` or `W/3` matched version 3). `None` without the
/// header.
pub fn if_match(headers: &HeaderMap) -> ApiResult<Option<IfMatch>> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let raw = value.to_str().unwrap_or("").trim();
    if raw == "*" {
        return Ok(Some(IfMatch::Any));
    }
    let quoted = |s: &str| s.strip_prefix('"')?.strip_suffix('"').map(str::to_owned);
    let digits = match raw.strip_prefix("W/") {
        Some(weak) => quoted(weak),
        None if raw.starts_with('"') => quoted(raw),
        None => Some(raw.to_owned()),
    };
    digits
        .filter(|d| (1..=19).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|d| d.parse().ok())
        .map(|v| Some(IfMatch::Version(v)))
        .ok_or_else(|| {
            ApiError::invalid_request(
                "if-match: expected a version such as 3 or \"3\" (1 to 19 digits), or *.",
            )
        })
}

/// A query string, with `400 invalid_request` naming the bad parameter.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded_de(query);
        de.map(Query)
    }
}

fn serde_urlencoded_de<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    // Go through a string map so errors can name the parameter.
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut map = serde_json::Map::new();
    for (k, v) in pairs {
        if map.contains_key(&k) {
            return Err(ApiError::invalid_request(format!(
                "{k}: given more than once."
            )));
        }
        map.insert(k, serde_json::Value::String(v));
    }
    let value = serde_json::Value::Object(map);
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            ApiError::invalid_request(format!("query: {inner}"))
        } else {
            ApiError::invalid_request(format!("{path}: {inner}"))
        }
    })
}

/// Verifies a ctx token (no store read) or answers `400 invalid_ctx` saying why.
pub fn verify_ctx(state: &AppState, token: Option<&str>) -> ApiResult<CtxClaims> {
    let token = token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::invalid_ctx("ctx is required."))?;
    state
        .ctx_keys()?
        .verify(token, crate::platform::store::now_unix())
        .map_err(|e| {
            ApiError::invalid_ctx(match e {
                CtxError::Expired => "The ctx token has expired; capture a fresh redirect.",
                CtxError::Malformed => "The ctx token is malformed; capture a fresh redirect URL.",
                CtxError::UnknownKey | CtxError::BadSignature => {
                    "The ctx token's signature is not valid."
                }
            })
        })
}

/// The caller's address, for per-address limits: API Gateway's view of the source on Lambda;
/// locally the socket's peer, or the last `x-forwarded-for` hop when the server sits behind a
/// proxy it trusts (`TENX_TRUSTED_PROXY`). Never a header a client may set on its own.
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        Ok(ClientAddr(
            client_address(parts, state).unwrap_or_else(|| "unknown".to_owned()),
        ))
    }
}

/// [`ClientAddr`]'s address, `None` when nothing trusted names one. Behind our CloudFront
/// distribution (`TENX_EDGE=cloudfront-oac`) the function URL's source is the edge, so the
/// viewer's address is the `cloudfront-viewer-address` the distribution sets (`ip:port`,
/// replacing any a viewer sent). Behind our load balancer (`TENX_EDGE=alb`) it is the last
/// `x-forwarded-for` hop, the one the ALB appends: the hops before it are the visitor's to write.
pub(crate) fn client_address(parts: &Parts, state: &AppState) -> Option<String> {
    use crate::platform::config::CountryTrust;
    match state.config.country_trust {
        CountryTrust::CloudFrontOac => {
            return parts
                .headers
                .get("cloudfront-viewer-address")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit_once(':'))
                .map(|(ip, _port)| ip.to_owned());
        }
        CountryTrust::Alb => return last_forwarded_hop(&parts.headers),
        _ => {}
    }
    if let Some(lambda_http::request::RequestContext::ApiGatewayV2(ctx)) =
        parts
            .extensions
            .get::<lambda_http::request::RequestContext>()
        && let Some(ip) = &ctx.http.source_ip
    {
        return Some(ip.clone());
    }
    if state.config.trusted_proxy
        && let Some(hop) = last_forwarded_hop(&parts.headers)
    {
        return Some(hop);
    }
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip().to_string())
}

/// The last hop of every `x-forwarded-for` header together: the one the proxy in front of us
/// appended (a visitor may send the header, and its hops come first).
fn last_forwarded_hop(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .rfind(|hop| !hop.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Body {
        destination_url: String,
        inner: Option<Inner>,
    }
    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: u32,
    }

    #[test]
    fn names_the_field() {
        let e = parse_json::<Body>(br#"{"destinationUrl":"x","inner":{"n":"no"}}"#).unwrap_err();
        assert!(e.message.contains("inner.n"), "{}", e.message);
        let e = parse_json::<Body>(br#"{"destinationUrl":"x","extra":1}"#).unwrap_err();
        assert!(e.message.contains("extra"), "{}", e.message);
        let e = parse_json::<Body>(br#"{}"#).unwrap_err();
        assert!(e.message.contains("destinationUrl"), "{}", e.message);
        let e = parse_json::<Body>(br#"{"destinationUrl": "#).unwrap_err();
        assert!(e.message.contains("malformed JSON"), "{}", e.message);
        assert_eq!(e.code, "invalid_request");
    }

    #[test]
    fn oversized_is_413() {
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(
            parse_json::<Body>(&big).unwrap_err().status,
            StatusCode::PAYLOAD_TOO_LARGE
        );
    }
}
