//! `GET`/`PUT /v2/me/notifications` (issue 59): a signed-in person's mail preferences per kind,
//! with one handle (`?handle=`, or the only one they belong to), the same ones the mails'
//! one-click unsubscribe turns off (`mail::preferences`, stored by the handle and the person's
//! address). Authenticated by the session cookie alone, as the person's other routes; a `PUT`
//! needs the session's `x-csrf-token`.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Deserialize;

use crate::domain::Handle;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Query};
use crate::http::people::SignedIn;
use crate::kernel::state::AppState;
use crate::mail::{MailKind, preferences};
use crate::people::model::Session;
use crate::people::{memberships, partnerships, users};

pub fn router() -> Router<AppState> {
    Router::new().route("/v2/me/notifications", get(read).put(write))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HandleParam {
    handle: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    kinds: BTreeMap<String, bool>,
}

/// The handle meant and the person's address: `?handle=` must be one they are a member or a
/// partner user of; without it, their only one. Round trips: THREE reads (the user, the
/// memberships, the partnerships).
async fn whose(
    state: &AppState,
    s: &Session,
    asked: Option<String>,
) -> ApiResult<(Handle, String)> {
    let store = state.store.as_ref();
    let user = users::get(store, &s.user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("This account no longer exists."))?;
    let mut handles: Vec<Handle> = memberships::of_user(store, &s.user_id)
        .await?
        .into_iter()
        .map(|m| m.handle)
        .chain(
            partnerships::of_user(store, &s.user_id)
                .await?
                .into_iter()
                .map(|p| p.handle),
        )
        .collect();
    handles.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    handles.dedup();
    let handle = match asked {
        Some(raw) => {
            let handle = Handle::parse(&raw)
                .map_err(|_| ApiError::invalid_request("handle: not a handle"))?;
            if !handles.contains(&handle) {
                return Err(ApiError::not_found(format!("Your membership of {handle}")));
            }
            handle
        }
        None => match handles.as_slice() {
            [only] => only.clone(),
            [] => return Err(ApiError::not_found("A handle you belong to")),
            many => {
                let names: Vec<&str> = many.iter().map(Handle::as_str).collect();
                return Err(ApiError::invalid_request(format!(
                    "handle: name the handle whose mail this is (you belong to {})",
                    names.join(", ")
                )));
            }
        },
    };
    Ok((handle, user.email))
}

/// Every kind one may turn off, with whether it is on.
async fn view(state: &AppState, handle: &Handle, email: &str) -> ApiResult<serde_json::Value> {
    let (prefs, _) = preferences::get(state.store.as_ref(), Some(handle), email).await?;
    let kinds: BTreeMap<&str, bool> = MailKind::ALL
        .into_iter()
        .filter(|k| k.unsubscribable())
        .map(|k| (k.as_str(), prefs.allows(k)))
        .collect();
    Ok(serde_json::json!({ "handle": handle, "email": email, "kinds": kinds }))
}

async fn read(
    State(state): State<AppState>,
    SignedIn(s): SignedIn,
    Query(p): Query<HandleParam>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let (handle, email) = whose(&state, &s, p.handle).await?;
    Ok(axum::Json(view(&state, &handle, &email).await?))
}

/// Turns the named kinds on or off (a kind not named keeps its choice). A kind that is not one
/// or that cannot be turned off (sign-in links, invitations) is `400` naming it; nothing is
/// changed then.
async fn write(
    State(state): State<AppState>,
    SignedIn(s): SignedIn,
    Query(p): Query<HandleParam>,
    Json(change): Json<Change>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let (handle, email) = whose(&state, &s, p.handle).await?;
    let mut kinds = Vec::new();
    for (name, on) in &change.kinds {
        match MailKind::parse(name) {
            Some(kind) if kind.unsubscribable() => kinds.push((kind, *on)),
            Some(_) => {
                return Err(ApiError::invalid_request(format!(
                    "kinds.{name}: a person asks for this mail themselves; it cannot be turned off"
                )));
            }
            None => {
                return Err(ApiError::invalid_request(format!(
                    "kinds.{name}: not a kind of mail"
                )));
            }
        }
    }
    for (kind, on) in kinds {
        preferences::set(state.store.as_ref(), Some(&handle), &email, kind, on).await?;
    }
    Ok(axum::Json(view(&state, &handle, &email).await?))
}
