//! `GET …/payouts/{payoutId}/statement`: the statement whole, or a page at a time (issue 43).
//!
//! Unpaged (no `limit`, no `cursor`), a statement of up to [`statement::WHOLE_MAX_LINES`] lines
//! is answered whole, as it always was. A larger one is refused with `400 invalid_request`
//! saying to page it, rather than answered with its first page: a client that does not know
//! about pages would take a first page for the whole statement (its CSV has nothing to show
//! what is missing, its JSON fails verification as "lines removed"), and an error it cannot
//! miss is better than a statement silently cut. Paged, each JSON page carries the signed
//! header and JWS, its `offset`, `nextCursor` (null on the last page) and `rangeProof`, with
//! which it verifies alone against the signed Merkle root (`tenx verify`); a CSV page carries
//! the cursor in the `x-next-cursor` header and its own header row, so every page is a
//! well-formed RFC 4180 file.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::domain::{Handle, PayoutId};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Path, Query};
use crate::http::pagination::{decode_cursor, encode_cursor};
use crate::kernel::state::AppState;
use crate::payouts::page_proof;
use crate::payouts::statement::{self, PAGE_MAX_LINES, WHOLE_MAX_LINES};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatementParams {
    format: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// What was asked: the whole statement, or `limit` lines from `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Asked {
    Whole,
    Page { offset: usize, limit: usize },
}

const CURSOR_PREFIX: &str = "line:";

/// The cursor of the page starting at line `offset`: opaque to clients.
fn cursor_at(offset: usize) -> String {
    encode_cursor(&format!("{CURSOR_PREFIX}{offset}"))
}

fn bad_cursor() -> ApiError {
    ApiError::invalid_request("cursor: not a cursor returned by this API.")
}

/// The line a cursor points at; refused unless it is inside the statement.
fn offset_of(raw: &str, tree_size: usize) -> ApiResult<usize> {
    let decoded = decode_cursor(raw)?;
    let offset = decoded
        .strip_prefix(CURSOR_PREFIX)
        .and_then(|n| n.parse::<usize>().ok())
        .ok_or_else(bad_cursor)?;
    (offset < tree_size)
        .then_some(offset)
        .ok_or_else(bad_cursor)
}

impl StatementParams {
    fn asked(&self, tree_size: usize) -> ApiResult<Asked> {
        let limit = match &self.limit {
            None => None,
            Some(raw) => Some(
                raw.parse::<usize>()
                    .ok()
                    .filter(|n| (1..=PAGE_MAX_LINES).contains(n))
                    .ok_or_else(|| {
                        ApiError::invalid_request(format!(
                            "limit: expected an integer from 1 to {PAGE_MAX_LINES}."
                        ))
                    })?,
            ),
        };
        let offset = self
            .cursor
            .as_deref()
            .map(|c| offset_of(c, tree_size))
            .transpose()?;
        match (limit, offset) {
            (None, None) if tree_size <= WHOLE_MAX_LINES => Ok(Asked::Whole),
            (None, None) => Err(ApiError::invalid_request(format!(
                "limit: this statement has {tree_size} lines, more than the {WHOLE_MAX_LINES} \
                 answered whole; read it a page at a time with limit (1 to {PAGE_MAX_LINES}) \
                 and each page's nextCursor."
            ))),
            (limit, offset) => Ok(Asked::Page {
                offset: offset.unwrap_or(0),
                limit: limit.unwrap_or(PAGE_MAX_LINES),
            }),
        }
    }
}

pub(crate) async fn get_statement(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PayoutId)>,
    Query(params): Query<StatementParams>,
) -> ApiResult<Response> {
    let format = params.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "csv") {
        return Err(ApiError::invalid_request("format: expected json or csv."));
    }
    // As `http::payouts` loads a payout (that module names this handler in its routes, so it
    // is not imported back): a partner sees only its own.
    let payout = crate::payouts::get(state.store.as_ref(), &caller.handle, &id)
        .await?
        .filter(|p| caller.sees_partner(&p.partner_id))
        .ok_or_else(|| ApiError::not_found(format!("Payout {id}")))?;
    let asked = params.asked(payout.commission_count)?;
    let (offset, limit) = match asked {
        Asked::Whole => (0, payout.commission_count),
        Asked::Page { offset, limit } => (offset, limit),
    };
    let lines =
        statement::page(state.store.as_ref(), &caller.handle, &payout, offset, limit).await?;
    let next = match asked {
        Asked::Page { .. } if offset + lines.len() < payout.commission_count => {
            Some(cursor_at(offset + lines.len()))
        }
        _ => None,
    };
    match (format, asked) {
        ("json", Asked::Whole) => Ok(json(&caller.handle, &payout, &lines, None)),
        ("json", Asked::Page { .. }) => {
            let range = (offset, offset + lines.len());
            let store = state.store.as_ref();
            let proof = page_proof::of_range(store, &caller.handle, &payout, range).await?;
            let page = Paged {
                offset,
                next,
                proof,
            };
            Ok(json(&caller.handle, &payout, &lines, Some(page)))
        }
        _ => Ok(csv(&id, &lines, next)),
    }
}

/// What a JSON page adds to the statement's shape.
struct Paged {
    offset: usize,
    next: Option<String>,
    /// The page's Merkle range proof (none for a payout made before its leaves were stored).
    proof: Option<Vec<crate::domain::proof::merkle::Hash>>,
}

/// The JSON statement: as it always was, plus `offset`, `nextCursor` and `rangeProof` (hex,
/// the subtree hashes outside the page, `merkle::range_proof`'s order) when paged.
fn json(
    handle: &Handle,
    payout: &crate::payouts::Payout,
    lines: &[statement::Line],
    page: Option<Paged>,
) -> Response {
    let header = statement::header(handle, payout);
    let versions = statement::plan_versions(lines);
    let mut body = serde_json::json!({ "header": header, "lines": lines, "jws": payout.jws,
        "planVersions": versions });
    if let Some(page) = page {
        body["offset"] = page.offset.into();
        body["nextCursor"] = page.next.into();
        if let Some(proof) = page.proof {
            body["rangeProof"] = proof.iter().map(hex::encode).collect::<Vec<_>>().into();
        }
    }
    axum::Json(body).into_response()
}

/// The CSV statement (or page), its next page's cursor in `x-next-cursor`.
fn csv(id: &PayoutId, lines: &[statement::Line], next: Option<String>) -> Response {
    let mut response = statement::csv(lines).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"statement-{id}.csv\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Some(v) = next.and_then(|n| HeaderValue::from_str(&n).ok()) {
        headers.insert("x-next-cursor", v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(limit: Option<&str>, cursor: Option<&str>) -> StatementParams {
        StatementParams {
            format: None,
            limit: limit.map(str::to_owned),
            cursor: cursor.map(str::to_owned),
        }
    }

    #[test]
    fn small_statements_are_whole_and_large_ones_must_be_paged() {
        assert_eq!(
            params(None, None).asked(WHOLE_MAX_LINES).unwrap(),
            Asked::Whole
        );
        assert!(params(None, None).asked(WHOLE_MAX_LINES + 1).is_err());
        let first = params(Some("10"), None).asked(WHOLE_MAX_LINES + 1).unwrap();
        assert_eq!(
            first,
            Asked::Page {
                offset: 0,
                limit: 10
            }
        );
    }

    #[test]
    fn cursors_round_trip_and_anything_else_is_refused() {
        let c = cursor_at(1_000);
        assert_eq!(
            params(Some("5"), Some(&c)).asked(1_234).unwrap(),
            Asked::Page {
                offset: 1_000,
                limit: 5
            }
        );
        for bad in [
            "",
            "!!",
            "bGluZTp4",
            &cursor_at(1_234),
            &encode_cursor("12"),
        ] {
            assert!(params(None, Some(bad)).asked(1_234).is_err(), "{bad}");
        }
        for bad in ["0", "-1", "5001", "x", ""] {
            assert!(params(Some(bad), None).asked(10).is_err(), "{bad}");
        }
    }
}
