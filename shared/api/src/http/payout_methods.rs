//! Payout method and payout settings routes (issue 46). A partner token may read and set its
//! own partner's method (another partner's answers 404); a manager any partner's. Answers are
//! masked; the work is in `crate::payout_methods`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::domain::{Handle, PartnerId};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path};
use crate::http::routes::Routes;
use crate::kernel::state::AppState;
use crate::payout_methods::model::MethodInput;
use crate::payout_methods::settings::{self, SettingsInput, SettingsView};
use crate::payout_methods::{self, MethodError, MethodView, confirm, set, stripe_connect};

/// Read with `commissions.read` (masked), set with `payouts.write`; the payout settings are set
/// by an admin only (JWT only: no token scope reaches the handle's own account).
pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::{Admin, Operator, Viewer};
    use crate::http::auth::Scope::{CommissionsRead, PayoutsWrite};
    use crate::http::routes::Charge::{Free, Write};
    const R: Option<crate::http::auth::Scope> = Some(CommissionsRead);
    const W: Option<crate::http::auth::Scope> = Some(PayoutsWrite);
    Routes::new()
        .at("/v2/handles/{handle}/partners/{partnerId}/payout-method")
        .get(Viewer, R, Free, get_method)
        .put(Operator, W, Write, put_method)
        .at("/v2/handles/{handle}/partners/{partnerId}/payout-method/confirm")
        .post(Operator, W, Write, confirm_method)
        // Lifting a partner's "this was not me" freeze: admins only, after checking with them.
        .at("/v2/handles/{handle}/partners/{partnerId}/payout-method/unfreeze")
        .post(Admin, None, Write, unfreeze_method)
        // The partner's own Stripe onboarding (the partner, or a manager for it): the account
        // id comes from Stripe, never from a request.
        .at("/v2/handles/{handle}/partners/{partnerId}/payout-method/stripe-connect/onboarding")
        .post(Operator, W, Write, stripe_onboarding)
        .at("/v2/handles/{handle}/partners/{partnerId}/payout-method/stripe-connect")
        .get(Operator, W, Write, stripe_status)
        .at("/v2/handles/{handle}/payout-settings")
        .get(Viewer, R, Free, get_settings)
        .put(Admin, None, Write, put_settings)
}

/// A partner token asking for another partner's method: the same `404` as an unknown one.
fn own(caller: &Caller, id: &PartnerId) -> ApiResult<()> {
    if caller.sees_partner(id) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("Partner {id}")))
    }
}

async fn get_method(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PartnerId)>,
) -> ApiResult<axum::Json<MethodView>> {
    own(&caller, &id)?;
    let record = payout_methods::get(state.store.as_ref(), &caller.handle, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("The payout method of partner {id}")))?;
    Ok(axum::Json(record.view(crate::platform::time::now_millis())))
}

async fn put_method(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PartnerId)>,
    Json(body): Json<MethodInput>,
) -> ApiResult<Response> {
    own(&caller, &id)?;
    let details = body.validate()?;
    let by = &caller.principal.subject;
    let outcome = set::set(
        state.io(),
        state.payout_key(),
        &caller.handle,
        &id,
        details,
        by,
    )
    .await?;
    let status = match outcome.created {
        true => StatusCode::CREATED,
        false => StatusCode::OK,
    };
    let view = outcome.record.view(crate::platform::time::now_millis());
    Ok((status, axum::Json(view)).into_response())
}

async fn confirm_method(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PartnerId)>,
) -> ApiResult<axum::Json<MethodView>> {
    caller.refuse_own(Some(&id)).await?;
    let person = caller.principal.person();
    let by = confirm::Confirmer {
        by: &caller.principal.subject,
        person: person.as_ref(),
    };
    let record = confirm::confirm(state.store.as_ref(), &caller.handle, &id, &by).await?;
    Ok(axum::Json(record.view(crate::platform::time::now_millis())))
}

async fn unfreeze_method(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PartnerId)>,
) -> ApiResult<axum::Json<MethodView>> {
    caller.refuse_own(Some(&id)).await?;
    let by = &caller.principal.subject;
    let record =
        payout_methods::dispute::unfreeze(state.store.as_ref(), &caller.handle, &id, by).await?;
    Ok(axum::Json(record.view(crate::platform::time::now_millis())))
}

fn connect(state: &AppState) -> ApiResult<stripe_connect::Connect<'_>> {
    let origin = state
        .config
        .public_origin()
        .ok_or_else(|| ApiError::unavailable("no public origin (TENX_PUBLIC_URL) to return to"))?;
    Ok(stripe_connect::Connect {
        io: state.io(),
        keys: state.payout_key(),
        stripe_base: &state.config.stripe_api_base,
        origin,
    })
}

async fn stripe_onboarding(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PartnerId)>,
) -> ApiResult<axum::Json<stripe_connect::Link>> {
    own(&caller, &id)?;
    let link = stripe_connect::onboarding(connect(&state)?, &caller.handle, &id).await?;
    Ok(axum::Json(link))
}

async fn stripe_status(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, PartnerId)>,
) -> ApiResult<axum::Json<stripe_connect::Status>> {
    own(&caller, &id)?;
    let by = &caller.principal.subject;
    let status = stripe_connect::status(connect(&state)?, &caller.handle, &id, by).await?;
    Ok(axum::Json(status))
}

impl From<stripe_connect::ConnectError> for ApiError {
    fn from(e: stripe_connect::ConnectError) -> Self {
        use stripe_connect::ConnectError as E;
        let message = e.to_string();
        match e {
            E::PartnerNotFound(id) => ApiError::not_found(format!("Partner {id}")),
            E::NotConnected | E::NotStarted(_) | E::StripeRefused(_) => {
                ApiError::invalid_state(message)
            }
            E::StripeBusy(why) => ApiError::unavailable(why),
            E::Method(e) => e.into(),
            E::Store(e) => e.into(),
        }
    }
}

async fn get_settings(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<SettingsView>> {
    settings::get(state.store.as_ref(), &caller.handle)
        .await?
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found("The payout settings"))
}

async fn put_settings(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<SettingsInput>,
) -> ApiResult<axum::Json<SettingsView>> {
    let debtor = body.validate()?;
    let by = &caller.principal.subject;
    Ok(axum::Json(
        settings::put(
            state.store.as_ref(),
            state.payout_key(),
            &caller.handle,
            &debtor,
            by,
        )
        .await?,
    ))
}

impl From<MethodError> for ApiError {
    fn from(e: MethodError) -> Self {
        let message = e.to_string();
        match e {
            MethodError::PartnerNotFound(id) => ApiError::not_found(format!("Partner {id}")),
            // The partner is there; what it lacks is a method to act on (confirm, freeze,
            // unfreeze): the state, as with nothing to confirm, not a missing resource.
            MethodError::NotSet(_)
            | MethodError::NothingToConfirm(_)
            | MethodError::NotFrozen(_) => ApiError::invalid_state(message),
            MethodError::Busy => ApiError::conflict(message),
            MethodError::OwnChange(_) => ApiError::forbidden(message),
            MethodError::Sealed(_) => ApiError::internal_error(&e),
            MethodError::Unconfigured(e) => e.into(),
            MethodError::Store(e) => e.into(),
        }
    }
}
