//! Tax profiles (issue 61): a partner (its token or one of its people) reads and sets its own,
//! masked; the program's people read every partner's, masked; an admin exports them opened, as
//! CSV, for year-end filings (each export audited). Only the partner signs its form; the program's
//! people accept it or send it back with a reason. The work is in `payout_methods::tax` and
//! `payout_methods::tax_review`.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::domain::{Handle, PartnerId};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path};
use crate::http::routes::Routes;
use crate::kernel::state::AppState;
use crate::payout_methods::tax::{self, TaxError, TaxSubmission};
use crate::payout_methods::tax_review::{self, Sender};

/// Read with `commissions.read`, set with `payouts.write` (as payout methods); the export opens
/// every profile, so it is an admin's, with no token scope.
pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::{Admin, Operator, Viewer};
    use crate::http::auth::Scope::{CommissionsRead, PayoutsWrite};
    use crate::http::routes::Charge::{Free, Write};
    Routes::new()
        .at("/v2/handles/{handle}/partners/{partnerId}/tax-profile")
        .get(Viewer, Some(CommissionsRead), Free, get_profile)
        .put(Operator, Some(PayoutsWrite), Write, put_profile)
        .at("/v2/handles/{handle}/partners/{partnerId}/tax-profile/accept")
        .post(Operator, Some(PayoutsWrite), Write, accept)
        .at("/v2/handles/{handle}/partners/{partnerId}/tax-profile/request-fix")
        .post(Operator, Some(PayoutsWrite), Write, request_fix)
        .at("/v2/handles/{handle}/tax-profiles")
        .get(Viewer, Some(CommissionsRead), Free, list)
        .at("/v2/handles/{handle}/tax-profiles/export")
        .get(Admin, None, Free, export)
        .at("/v2/handles/{handle}/tax-reports/1099-nec")
        .get(Admin, None, Free, form_1099_nec)
}

async fn get_profile(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PartnerId)>,
) -> ApiResult<Response> {
    crate::http::partner_portal::own(&caller, &id)?;
    let record = tax::get(state.store.as_ref(), &caller.handle, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("The tax profile of partner {id}")))?;
    Ok(axum::Json(record.answer()).into_response())
}

async fn put_profile(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PartnerId)>,
    Json(body): Json<TaxSubmission>,
) -> ApiResult<Response> {
    crate::http::partner_portal::own(&caller, &id)?;
    let store = state.store.as_ref();
    crate::partners::get(store, &caller.handle, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Partner {id}")))?;
    let by = &caller.principal.subject;
    let sender = match caller.partner() {
        Some(_) => Sender::Partner,
        None => Sender::Program,
    };
    let (handle, keys) = (&caller.handle, state.payout_key());
    let record = tax_review::set(store, keys, handle, &id, body.into_parts(), sender, by).await?;
    Ok((StatusCode::OK, axum::Json(record.answer())).into_response())
}

/// `POST …/tax-profile/accept` → the profile, `accepted` (a signed one only).
async fn accept(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PartnerId)>,
) -> ApiResult<Response> {
    // Accepting unlocks the partner's payouts: never by a person who is that partner's.
    caller.refuse_own(Some(&id)).await?;
    let by = &caller.principal.subject;
    let record = tax_review::accept(state.store.as_ref(), &caller.handle, &id, by).await?;
    Ok(axum::Json(record.answer()).into_response())
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FixBody {
    reason: String,
}

/// `POST …/tax-profile/request-fix {reason}` → the profile, `needs_fix`; the partner is mailed.
async fn request_fix(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PartnerId)>,
    Json(body): Json<FixBody>,
) -> ApiResult<Response> {
    let base = crate::mail::unsubscribe::public_base(&state.config);
    let by = (caller.principal.subject.as_str(), base.as_str());
    let record = tax_review::request_fix(state.io(), &caller.handle, &id, &body.reason, by).await?;
    Ok(axum::Json(record.answer()).into_response())
}

/// `GET …/tax-profiles` → `{items}`: every partner's profile, masked (a partner, its own).
async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let mut items = tax::list(state.store.as_ref(), &caller.handle).await?;
    items.retain(|r| caller.sees_partner(&r.partner_id));
    let answers: Vec<_> = items.iter().map(tax::TaxRecord::answer).collect();
    Ok(axum::Json(serde_json::json!({ "items": answers })).into_response())
}

/// `GET …/tax-profiles/export`: every profile opened, as RFC 4180 CSV, `no-store`.
async fn export(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let rows = tax::export(state.store.as_ref(), state.payout_key(), &caller.handle).await?;
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let csv_error = |e: csv::Error| ApiError::internal(format!("writing the tax CSV: {e}"));
    w.write_record([
        "partnerId",
        "form",
        "legalName",
        "country",
        "taxId",
        "vatId",
        "address",
        "updatedAt",
        "formWords",
    ])
    .map_err(csv_error)?;
    for (record, p) in &rows {
        let form = serde_json::to_value(p.form)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        w.write_record([
            record.partner_id.to_string(),
            form,
            crate::http::csv_download::cell(&p.legal_name),
            p.country.clone(),
            p.tax_id.clone().unwrap_or_default(),
            p.vat_id.clone().unwrap_or_default(),
            crate::http::csv_download::cell(p.address.as_deref().unwrap_or("")),
            record.updated_at.as_str().to_owned(),
            p.form.words().to_owned(),
        ])
        .map_err(csv_error)?;
    }
    let body = w
        .into_inner()
        .map_err(|e| ApiError::internal(format!("writing the tax CSV: {e}")))?;
    Ok(crate::http::csv_download::attachment(
        body,
        "tax-profiles.csv",
        true,
    ))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NecParams {
    year: Option<String>,
    format: Option<String>,
    partner_id: Option<PartnerId>,
}

/// The calendar year asked for: 2000 up to this one.
fn report_year(raw: Option<&str>) -> ApiResult<i32> {
    let this = crate::platform::time::now().year();
    raw.and_then(|y| y.parse::<i32>().ok())
        .filter(|y| (2000..=this).contains(y))
        .ok_or_else(|| {
            ApiError::invalid_request(format!(
                "year: the calendar year of the payments, from 2000 to {this}."
            ))
        })
}

/// `GET …/tax-reports/1099-nec?year=&format=csv|pdf[&partnerId=]`: the year's US payees over
/// its threshold, as CSV for a filing service or as each payee's Copy B; `no-store`, audited.
async fn form_1099_nec(
    State(state): State<AppState>,
    caller: Caller,
    crate::http::extract::Query(q): crate::http::extract::Query<NecParams>,
) -> ApiResult<Response> {
    let year = report_year(q.year.as_deref())?;
    let pdf = match q.format.as_deref() {
        None | Some("csv") => false,
        Some("pdf") => true,
        Some(_) => return Err(ApiError::invalid_request("format: csv or pdf.")),
    };
    let store = state.store.as_ref();
    let report = crate::payouts::tax_report::report(
        store,
        state.payout_key(),
        &caller.handle,
        year,
        q.partner_id.as_ref(),
    )
    .await?;
    if pdf {
        let body = crate::payouts::tax_report_pdf::copies_b(store, &caller.handle, &report).await?;
        let mut res = body.into_response();
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/pdf"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        let name = format!("attachment; filename=\"1099-nec-{year}-copy-b.pdf\"");
        if let Ok(v) = HeaderValue::from_str(&name) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
        return Ok(res);
    }
    Ok(crate::http::csv_download::attachment(
        nec_csv(&report)?,
        "1099-nec.csv",
        true,
    ))
}

/// The columns filing services import a 1099-NEC batch by (payer details are the account's
/// own there): the recipient, its TIN, its address, box 1, and the partner id as the account
/// number.
fn nec_csv(report: &crate::payouts::tax_report::Report) -> ApiResult<Vec<u8>> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let csv_error = |e: csv::Error| ApiError::internal(format!("writing the 1099-NEC CSV: {e}"));
    w.write_record([
        "Tax Year",
        "Recipient Name",
        "Recipient TIN",
        "Recipient Address",
        "Recipient Country",
        "Account Number",
        "Box 1 Nonemployee Compensation",
        "Payouts",
    ])
    .map_err(csv_error)?;
    for p in &report.payees {
        let cents = p.paid_cents;
        w.write_record([
            report.year.to_string(),
            crate::http::csv_download::cell(&p.profile.legal_name),
            p.profile.tax_id.clone().unwrap_or_default(),
            crate::http::csv_download::cell(p.profile.address.as_deref().unwrap_or("")),
            p.profile.country.clone(),
            p.partner_id.to_string(),
            format!("{}.{:02}", cents / 100, cents % 100),
            p.payouts.to_string(),
        ])
        .map_err(csv_error)?;
    }
    w.into_inner()
        .map_err(|e| ApiError::internal(format!("writing the 1099-NEC CSV: {e}")))
}

impl From<TaxError> for ApiError {
    fn from(e: TaxError) -> Self {
        match e {
            TaxError::Invalid(e) => e.into(),
            TaxError::Unconfigured(e) => e.into(),
            TaxError::Sealed(e) => ApiError::internal(format!("tax profile: {e}")),
            TaxError::Store(e) => e.into(),
            TaxError::NotThePartner(m) => ApiError::forbidden(m),
            TaxError::NotFound(id) => {
                ApiError::not_found(format!("The tax profile of partner {id}"))
            }
            TaxError::InvalidState(m) => ApiError::invalid_state(m),
            TaxError::Busy => {
                ApiError::conflict("The tax profile is being changed at the same time; try again.")
            }
        }
    }
}
