//! Messages, partner groups and broadcasts (issue 61). A partner (its token or one of its
//! people) reads and writes its own thread only (another partner's answers 404); the program's
//! people read and write every thread, keep groups and send broadcasts. The work is in
//! `crate::messages`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::domain::{BroadcastId, GroupId, Handle, PartnerId};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path, Query};
use crate::http::pagination::{PageParams, encode_cursor};
use crate::http::routes::Routes;
use crate::kernel::state::AppState;
use crate::messages::broadcasts::{self, Broadcast};
use crate::messages::groups::{self, Group};
use crate::messages::post::{self, Links};
use crate::messages::{MessageError, Side, thread};

/// Threads are read with `commissions.read` and written with `commissions.write`, like the
/// partner records they belong to.
pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::{Operator, Viewer};
    use crate::http::auth::Scope::{CommissionsRead, CommissionsWrite};
    use crate::http::routes::Charge::{Free, Write};
    const R: Option<crate::http::auth::Scope> = Some(CommissionsRead);
    const W: Option<crate::http::auth::Scope> = Some(CommissionsWrite);
    Routes::new()
        .at("/v2/handles/{handle}/partners/{partnerId}/messages")
        .get(Viewer, R, Free, list_messages)
        .post(Operator, W, Write, post_message)
        .at("/v2/handles/{handle}/message-threads")
        .get(Viewer, R, Free, list_threads)
        .at("/v2/handles/{handle}/partner-groups")
        .get(Viewer, R, Free, list_groups)
        .at("/v2/handles/{handle}/partner-groups/{groupId}")
        .get(Viewer, R, Free, get_group)
        .put(Operator, W, Write, put_group)
        .delete(Operator, W, Write, delete_group)
        .at("/v2/handles/{handle}/broadcasts")
        .get(Viewer, R, Free, list_broadcasts)
        .post(Operator, W, Write, post_broadcast)
        .at("/v2/handles/{handle}/broadcasts/{broadcastId}")
        .get(Viewer, R, Free, get_broadcast)
}

/// The side a caller writes and reads as: a partner's credential is its partner's side.
fn side_of(caller: &Caller, partner: &PartnerId) -> ApiResult<Side> {
    match caller.partner() {
        None => Ok(Side::Merchant),
        Some(own) if own == partner => Ok(Side::Partner),
        Some(_) => Err(ApiError::not_found(format!("Partner {partner}"))),
    }
}

fn links(state: &AppState) -> Links {
    Links {
        base: crate::mail::unsubscribe::public_base(&state.config),
    }
}

async fn list_messages(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, partner)): Path<(Handle, PartnerId)>,
    Query(params): Query<PageParams>,
) -> ApiResult<Response> {
    let side = side_of(&caller, &partner)?;
    let store = state.store.as_ref();
    if crate::partners::get(store, &caller.handle, &partner)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found(format!("Partner {partner}")));
    }
    let (items, next) = thread::list(
        store,
        &caller.handle,
        &partner,
        side,
        params.limit()?,
        params.after()?,
    )
    .await?;
    let next_cursor = next.as_deref().map(encode_cursor);
    Ok(axum::Json(json!({ "items": items, "nextCursor": next_cursor })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageBody {
    body: String,
}

async fn post_message(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, partner)): Path<(Handle, PartnerId)>,
    Json(input): Json<MessageBody>,
) -> ApiResult<Response> {
    let side = side_of(&caller, &partner)?;
    let limits = &state.config.rate_limits;
    let message = post::post(
        state.io(),
        limits,
        &links(&state),
        &caller.handle,
        &partner,
        side,
        &input.body,
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(message)).into_response())
}

async fn list_threads(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let items = thread::inbox(state.store.as_ref(), &caller.handle).await?;
    Ok(axum::Json(json!({ "items": items })).into_response())
}

async fn list_groups(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let items = groups::list(state.store.as_ref(), &caller.handle).await?;
    Ok(axum::Json(json!({ "items": items })).into_response())
}

async fn get_group(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, GroupId)>,
) -> ApiResult<axum::Json<Group>> {
    groups::get(state.store.as_ref(), &caller.handle, &id)
        .await?
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found(format!("Group {id}")))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct GroupBody {
    name: String,
    partner_ids: Vec<PartnerId>,
}

async fn put_group(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, GroupId)>,
    Json(body): Json<GroupBody>,
) -> ApiResult<Response> {
    let input = groups::validate(&body.name, body.partner_ids)?;
    let (group, created) = groups::put(state.store.as_ref(), &caller.handle, &id, input).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(group)).into_response())
}

async fn delete_group(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, GroupId)>,
) -> ApiResult<StatusCode> {
    groups::delete(state.store.as_ref(), &caller.handle, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BroadcastBody {
    subject: String,
    body: String,
    group_id: Option<GroupId>,
}

async fn post_broadcast(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<BroadcastBody>,
) -> ApiResult<Response> {
    let b = broadcasts::create(
        state.io(),
        &links(&state),
        &caller.handle,
        &input.subject,
        &input.body,
        input.group_id,
    )
    .await?;
    let answer = json!({
        "broadcastId": b.broadcast_id,
        "recipients": b.recipients.len(),
        "status": b.status,
    });
    Ok((StatusCode::ACCEPTED, axum::Json(answer)).into_response())
}

async fn list_broadcasts(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let items = broadcasts::list(state.store.as_ref(), &caller.handle, 100).await?;
    let items: Vec<_> = items.iter().map(summary).collect();
    Ok(axum::Json(json!({ "items": items })).into_response())
}

async fn get_broadcast(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, id)): Path<(Handle, BroadcastId)>,
) -> ApiResult<axum::Json<Broadcast>> {
    broadcasts::get(state.store.as_ref(), &caller.handle, &id)
        .await?
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found(format!("Broadcast {id}")))
}

/// A broadcast in a list: without its recipients' ids, with their count.
fn summary(b: &Broadcast) -> serde_json::Value {
    json!({
        "broadcastId": b.broadcast_id,
        "subject": b.subject,
        "groupId": b.group_id,
        "recipients": b.recipients.len(),
        "createdAt": b.created_at,
        "status": b.status,
    })
}

impl From<MessageError> for ApiError {
    fn from(e: MessageError) -> Self {
        let message = e.to_string();
        match e {
            MessageError::PartnerNotFound(id) => ApiError::not_found(format!("Partner {id}")),
            MessageError::GroupNotFound(_) | MessageError::BroadcastNotFound(_) => {
                ApiError::new(crate::http::error::ErrorCode::NotFound, message)
            }
            MessageError::Invalid(e) => e.into(),
            MessageError::Limited(l) => l.into(),
            MessageError::Mail(e) => e.into(),
            MessageError::Store(e) => e.into(),
        }
    }
}
