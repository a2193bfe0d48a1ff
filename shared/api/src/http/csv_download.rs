//! A CSV file answered as a download (the audit log's and the tax profiles' exports): its cells
//! safe to open in a spreadsheet, its headers set once here.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

pub(crate) use crate::domain::spreadsheet::cell;

/// `body` as `filename`, UTF-8 CSV; `no-store` when it holds what no cache may keep.
pub(crate) fn attachment(body: Vec<u8>, filename: &'static str, no_store: bool) -> Response {
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let disposition = format!("attachment; filename=\"{filename}\"");
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    if no_store {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
