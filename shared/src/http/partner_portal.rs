//! The partner portal's routes (issue 61): a partner's users invited by the merchant or the
//! partner's owner, and the partner's summary. A partner (its token or one of its users) reaches
//! its own partner only: another partner's id answers 404, as an unknown one.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::auth::Credential;
use crate::domain::email::Email;
use crate::domain::{Handle, PartnerId};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path};
use crate::http::routes::Routes;
use crate::kernel::state::AppState;
use crate::people::partnerships;

/// Invitations: operators, or the partner's owner (the partner table lets a partner in; the
/// handler keeps its members and tokens out).
pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::Operator;
    use crate::http::auth::Scope::CommissionsWrite;
    use crate::http::routes::Charge::Write;
    const W: Option<crate::http::auth::Scope> = Some(CommissionsWrite);
    Routes::new()
        .at("/v2/handles/{handle}/partners/{partnerId}/members/invitations")
        .post(Operator, W, Write, invite)
}

/// A partner (token or user) asking for another partner: the same `404` as an unknown one.
pub(crate) fn own(caller: &Caller, id: &PartnerId) -> ApiResult<()> {
    if caller.sees_partner(id) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("Partner {id}")))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InviteBody {
    email: String,
}

/// `POST …/partners/{partnerId}/members/invitations {email}` → 201 `{invitationId, partnerId,
/// email, role, expiresAt}`, the link mailed (it signs the invitee in as the partner's member).
async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((_, id)): Path<(Handle, PartnerId)>,
    Json(body): Json<InviteBody>,
) -> ApiResult<Response> {
    own(&caller, &id)?;
    let inviter = match &caller.principal.credential {
        Credential::PartnerUser { owner: false, .. } | Credential::Partner { .. } => {
            return Err(ApiError::forbidden(
                "Only the partner's owner (or the program's operators) invites its users.",
            ));
        }
        Credential::PartnerUser { user_id, .. } | Credential::Session { user_id, .. } => {
            crate::people::users::get(state.store.as_ref(), user_id)
                .await?
                .map(|u| u.email)
        }
        _ => None,
    };
    crate::partners::get(state.store.as_ref(), &caller.handle, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Partner {id}")))?;
    let email = Email::parse("email", &body.email)?;
    let base = crate::http::people::base_url(&state, &headers)?;
    let invitation =
        partnerships::invite(state.io(), &base, &caller.handle, &id, &email, inviter).await?;
    Ok((StatusCode::CREATED, axum::Json(invitation)).into_response())
}
