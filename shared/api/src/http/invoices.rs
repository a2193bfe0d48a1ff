//! Self-billing: a partner accepts it (`POST …/self-billing/accept`, the partner itself), reads
//! where it stands (`GET …/self-billing`), and a paid payout's invoice is a PDF
//! (`GET …/payouts/{payoutId}/invoice?format=pdf`, the program's operators or the partner),
//! and so is the credit note that cancels it once the payment was given back
//! (`GET …/payouts/{payoutId}/credit-note?format=pdf`, the same readers).
//! The work is in `programs::self_billing` and `payouts::invoice`.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::domain::{Handle, PartnerId, PayoutId};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Path, Query};
use crate::http::routes::Routes;
use crate::kernel::state::AppState;
use crate::payouts::invoice::{self, InvoiceError};
use crate::programs::self_billing;

/// Accepting is the partner's own act (no role of the program's does it); the invoice is read
/// like a payout's statement, by operators and the partner.
pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::{Operator, Viewer};
    use crate::http::auth::Scope::{CommissionsRead, PayoutsWrite};
    use crate::http::routes::Charge::{Free, Write};
    Routes::new()
        .at("/v2/handles/{handle}/partners/{partnerId}/self-billing")
        .get(Viewer, Some(CommissionsRead), Free, get_self_billing)
        .at("/v2/handles/{handle}/partners/{partnerId}/self-billing/accept")
        .post(Operator, Some(PayoutsWrite), Write, accept)
        .at("/v2/handles/{handle}/payouts/{payoutId}/invoice")
        .get(Operator, Some(CommissionsRead), Free, get_invoice)
        .at("/v2/handles/{handle}/payouts/{payoutId}/credit-note")
        .get(Operator, Some(CommissionsRead), Free, get_credit_note)
}

/// `GET …/self-billing` → `{enabled, customer?, agreement, accepted, acceptedAt?}`.
async fn get_self_billing(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PartnerId)>,
) -> ApiResult<Response> {
    crate::http::partner_portal::own(&caller, &id)?;
    let store = state.store.as_ref();
    crate::partners::get(store, &caller.handle, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Partner {id}")))?;
    let billing = crate::programs::settings::get(store, &caller.handle)
        .await?
        .and_then(|p| p.self_billing)
        .filter(|b| b.enabled);
    let accepted = self_billing::acceptance(store, &caller.handle, &id).await?;
    Ok(axum::Json(serde_json::json!({
        "partnerId": id,
        "enabled": billing.is_some(),
        "customer": billing.map(|b| b.legal_name),
        "agreement": self_billing::AGREEMENT,
        "accepted": accepted.is_some(),
        "acceptedAt": accepted.map(|a| a.accepted_at),
    }))
    .into_response())
}

/// `POST …/self-billing/accept` → `{partnerId, acceptedAt}`: the partner only, once.
async fn accept(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PartnerId)>,
) -> ApiResult<Response> {
    crate::http::partner_portal::own(&caller, &id)?;
    let store = state.store.as_ref();
    crate::partners::get(store, &caller.handle, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Partner {id}")))?;
    if caller.partner().is_none() {
        return Err(ApiError::forbidden(
            "Only the partner accepts self-billing, in its portal: the program cannot accept it \
             on the partner's behalf.",
        ));
    }
    let enabled = crate::programs::settings::get(store, &caller.handle)
        .await?
        .and_then(|p| p.self_billing)
        .is_some_and(|b| b.enabled);
    if !enabled {
        return Err(ApiError::invalid_state(
            "The program does not bill itself for its partners: there is nothing to accept.",
        ));
    }
    let by = &caller.principal.subject;
    let a = self_billing::accept(store, &caller.handle, &id, by).await?;
    Ok(axum::Json(serde_json::json!({
        "partnerId": a.partner_id,
        "acceptedAt": a.accepted_at,
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InvoiceParams {
    format: Option<String>,
}

/// `format` is `pdf` or absent (`400` naming what is only a PDF otherwise).
fn pdf_only(params: &InvoiceParams, what: &str) -> ApiResult<()> {
    match params.format.as_deref() {
        Some(f) if f != "pdf" => Err(ApiError::invalid_request(format!(
            "format: {what} is a PDF (format=pdf)."
        ))),
        _ => Ok(()),
    }
}

/// The payout, when the caller may see its partner's (another partner's is `404`, as missing).
async fn visible_payout(
    store: &dyn crate::platform::store::Store,
    caller: &Caller,
    id: &PayoutId,
) -> ApiResult<crate::payouts::model::Payout> {
    crate::payouts::model::get(store, &caller.handle, id)
        .await?
        .filter(|p| caller.sees_partner(&p.partner_id))
        .ok_or_else(|| ApiError::not_found(format!("Payout {id}")))
}

/// `GET …/payouts/{payoutId}/invoice?format=pdf` → the invoice, `application/pdf`, as a download
/// named by its number (and `x-credit-note-number` once a credit note cancels it); a partner
/// reads only its own payouts' (another's is 404).
async fn get_invoice(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PayoutId)>,
    Query(params): Query<InvoiceParams>,
) -> ApiResult<Response> {
    pdf_only(&params, "an invoice")?;
    let store = state.store.as_ref();
    let payout = visible_payout(store, &caller, &id).await?;
    let made =
        invoice::get_or_issue(store, state.payout_key(), &caller.handle, &payout.payout_id).await?;
    let pdf = crate::payouts::invoice_pdf::render(store, &caller.handle, &made).await?;
    let mut res = pdf_download(pdf, "invoice", &made.record.number);
    // The credit note cancelling it, when the payment was given back (made now when the
    // invoice was first asked for after the return): the console offers both.
    let note =
        crate::payouts::credit_note::of_invoiced(store, &caller.handle, &made.payout).await?;
    if let Some(v) = note.and_then(|n| HeaderValue::from_str(&n.number).ok()) {
        res.headers_mut().insert("x-credit-note-number", v);
    }
    Ok(res)
}

/// `GET …/payouts/{payoutId}/credit-note?format=pdf` → the credit note cancelling the payout's
/// invoice, `application/pdf`, named by its number (`x-invoice-number`: its own); `409` in
/// words when the payout was not given back or had no invoice.
async fn get_credit_note(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PayoutId)>,
    Query(params): Query<InvoiceParams>,
) -> ApiResult<Response> {
    pdf_only(&params, "a credit note")?;
    let store = state.store.as_ref();
    let payout = visible_payout(store, &caller, &id).await?;
    let note = crate::payouts::credit_note::get_or_issue(
        store,
        state.payout_key(),
        &caller.handle,
        &payout.payout_id,
    )
    .await?;
    let pdf = crate::payouts::credit_note_pdf::render(store, &caller.handle, &note).await?;
    Ok(pdf_download(pdf, "credit-note", &note.record.number))
}

/// A document as a private PDF download named `{stem}-{number}.pdf`, its number in
/// `x-invoice-number`.
fn pdf_download(pdf: Vec<u8>, stem: &str, number: &str) -> Response {
    let name = format!("attachment; filename=\"{stem}-{number}.pdf\"");
    let mut res = pdf.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if let Ok(v) = HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        "x-invoice-number",
        HeaderValue::from_str(number).unwrap_or(HeaderValue::from_static("")),
    );
    res
}

impl From<InvoiceError> for ApiError {
    fn from(e: InvoiceError) -> Self {
        match e {
            InvoiceError::NotFound(id) => ApiError::not_found(format!("Payout {id}")),
            InvoiceError::InvalidState(m) => ApiError::invalid_state(m),
            InvoiceError::Busy => {
                ApiError::conflict("Invoices are being numbered at the same time; try again.")
            }
            InvoiceError::Unconfigured(e) => e.into(),
            InvoiceError::Sealed(e) => ApiError::internal(format!("invoice: {e}")),
            InvoiceError::Store(e) => e.into(),
        }
    }
}
