//! Test mode (`PUT`/`GET …/test-mode`, `POST …/test-sales`, `DELETE …/test-data`): a manager
//! walks the whole program in test money before launch, and clears it after. The rules live in
//! `test_mode`, `test_sales` and `test_books`; these handlers read, call one use case, render.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::time::Timestamp;
use crate::domain::{ClickId, ConversionId, Currency, PartnerId};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::http::routes::Routes;
use crate::kernel::state::AppState;
use crate::test_books::{self, TestBooksError};
use crate::test_sales::{self, TestSale, TestSaleError};

pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::{Admin, Operator, Viewer};
    use crate::http::routes::Charge::{Free, Write};
    Routes::new()
        .at("/v2/handles/{handle}/test-mode")
        .get(Viewer, None, Free, get_mode)
        .put(Admin, None, Write, put_mode)
        .at("/v2/handles/{handle}/test-sales")
        .post(Operator, None, Write, make_sale)
        .at("/v2/handles/{handle}/test-data")
        .delete(Admin, None, Write, clear)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ModeView {
    enabled: bool,
    since: Option<Timestamp>,
}

impl From<crate::test_mode::TestMode> for ModeView {
    fn from(m: crate::test_mode::TestMode) -> Self {
        ModeView {
            enabled: m.enabled,
            since: m.since,
        }
    }
}

async fn get_mode(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<ModeView>> {
    let mode = crate::test_mode::get(state.store.as_ref(), &caller.handle).await?;
    Ok(axum::Json(mode.into()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ModeBody {
    enabled: bool,
}

async fn put_mode(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<ModeBody>,
) -> ApiResult<axum::Json<ModeView>> {
    let by = &caller.principal.subject;
    let store = state.store.as_ref();
    let mode = test_books::switch(store, &caller.handle, body.enabled, by).await?;
    Ok(axum::Json(mode.into()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SaleBody {
    partner_id: PartnerId,
    amount: String,
    currency: String,
    #[serde(default)]
    event_type: Option<String>,
}

impl SaleBody {
    fn sale(self) -> ApiResult<TestSale> {
        let currency = Currency::parse(&self.currency)
            .map_err(|e| ApiError::invalid_request(format!("currency: {}", e.message)))?;
        let minor = currency.parse_amount("amount", &self.amount)?;
        if minor <= 0 {
            return Err(ApiError::invalid_request("amount: must be more than zero."));
        }
        let amount: Decimal =
            self.amount.trim().parse().map_err(|_| {
                ApiError::invalid_request("amount: must be an amount such as 49.90.")
            })?;
        Ok(TestSale {
            partner_id: self.partner_id,
            amount,
            currency,
            event_type: self.event_type,
        })
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SaleView {
    conversion_id: ConversionId,
    click_id: ClickId,
    test: bool,
}

async fn make_sale(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<SaleBody>,
) -> ApiResult<Response> {
    let sale = body.sale()?;
    caller.refuse_own(Some(&sale.partner_id)).await?;
    let deps = (
        crate::http::redirect::redirector(&state),
        crate::http::conversions::attribution(&state),
    );
    let made = test_sales::make(deps, &caller.handle, &sale).await?;
    let view = SaleView {
        conversion_id: made.conversion_id,
        click_id: made.click_id,
        test: true,
    };
    Ok((StatusCode::CREATED, axum::Json(view)).into_response())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClearedView {
    lines: usize,
    conversions: usize,
    payouts: usize,
}

async fn clear(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let cleared = test_books::clear(state.store.as_ref(), &caller.handle).await?;
    let view = ClearedView {
        lines: cleared.lines,
        conversions: cleared.conversions,
        payouts: cleared.payouts,
    };
    Ok((StatusCode::ACCEPTED, axum::Json(view)).into_response())
}

impl From<TestBooksError> for ApiError {
    fn from(e: TestBooksError) -> Self {
        match e {
            TestBooksError::PayoutOpen => ApiError::invalid_state(e.to_string()),
            TestBooksError::Busy => ApiError::conflict(e.to_string()),
            TestBooksError::Store(e) => e.into(),
        }
    }
}

impl From<TestSaleError> for ApiError {
    fn from(e: TestSaleError) -> Self {
        match e {
            TestSaleError::Off | TestSaleError::NotRedirected => {
                ApiError::invalid_state(e.to_string())
            }
            TestSaleError::UnknownPartner(_) | TestSaleError::NoLink(_) => {
                ApiError::invalid_request(e.to_string())
            }
            TestSaleError::Invalid(e) => e.into(),
            TestSaleError::Visit(e) => e.into(),
            TestSaleError::Attribute(e) => e.into(),
            TestSaleError::Store(e) => e.into(),
        }
    }
}
