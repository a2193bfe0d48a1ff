//! A handle's team (issue 60): members and their roles, invitations. Admin only but the list
//! of members, which every member may read. JWT or session only (no PAT scope: a token never
//! manages people).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::auth::Role;
use crate::domain::email::Email;
use crate::domain::{InvitationId, UserId};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{IdPath, Json, PathId};
use crate::http::routes::Routes;
use crate::kernel::state::AppState;
use crate::people::model::{Invitation, Member};
use crate::people::{invitations, memberships};

pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::{Admin, Viewer};
    use crate::http::routes::Charge::{Free, Write};
    Routes::new()
        .at("/v2/handles/{handle}/members")
        .get(Viewer, None, Free, list_members)
        .at("/v2/handles/{handle}/members/invitations")
        .get(Admin, None, Free, list_invitations)
        .post(Admin, None, Write, invite)
        .at("/v2/handles/{handle}/members/invitations/{invitationId}")
        .delete(Admin, None, Free, revoke_invitation)
        .at("/v2/handles/{handle}/members/{userId}")
        .patch(Admin, None, Write, change_role)
        // Removing a member is never refused for budget: it is how an admin stops a person.
        .delete(Admin, None, Free, remove_member)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MemberView {
    user_id: UserId,
    email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    role: Role,
    since: String,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        Self {
            user_id: m.user_id,
            email: m.email,
            name: m.name,
            role: m.role,
            since: m.since.into(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InvitationView {
    invitation_id: InvitationId,
    email: String,
    role: Role,
    invited_by: String,
    created_at: String,
    expires_at: String,
}

impl From<Invitation> for InvitationView {
    fn from(i: Invitation) -> Self {
        Self {
            invitation_id: i.invitation_id,
            email: i.email,
            role: i.role,
            invited_by: i.invited_by,
            created_at: i.created_at.into(),
            expires_at: i.expires_at.into(),
        }
    }
}

async fn list_members(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let items: Vec<MemberView> = memberships::list(state.store.as_ref(), &caller.handle)
        .await?
        .into_iter()
        .map(MemberView::from)
        .collect();
    Ok(axum::Json(serde_json::json!({ "items": items })))
}

async fn list_invitations(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let items: Vec<InvitationView> = invitations::list(state.store.as_ref(), &caller.handle)
        .await?
        .into_iter()
        .map(InvitationView::from)
        .collect();
    Ok(axum::Json(serde_json::json!({ "items": items })))
}

fn role(raw: &str) -> ApiResult<Role> {
    Role::parse(raw).ok_or_else(|| {
        ApiError::invalid_request("role: one of admin, operator, creator or viewer.")
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct InviteRequest {
    email: String,
    role: String,
}

/// `POST …/members/invitations {email, role}` → 201 `{invitationId, expiresAt, …}`, mailed.
async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<InviteRequest>,
) -> ApiResult<Response> {
    let email = Email::parse("email", &body.email)?;
    let role = role(&body.role)?;
    let base = crate::http::people::base_url(&state)?;
    // A person invites in their own name (their address in the mail); a machine by subject.
    let inviter_email = match &caller.principal.credential {
        crate::auth::Credential::Session { user_id, .. } => {
            crate::people::users::get(state.store.as_ref(), user_id)
                .await?
                .map(|u| u.email)
        }
        _ => None,
    };
    let inviter = invitations::Inviter {
        subject: &caller.principal.subject,
        email: inviter_email,
    };
    let invitation =
        invitations::create(state.io(), &base, &caller.handle, &email, role, inviter).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(InvitationView::from(invitation)),
    )
        .into_response())
}

async fn revoke_invitation(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<InvitationId>,
) -> ApiResult<StatusCode> {
    invitations::revoke(state.store.as_ref(), &caller.handle, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleRequest {
    role: String,
}

async fn change_role(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(user): IdPath<UserId>,
    Json(body): Json<RoleRequest>,
) -> ApiResult<axum::Json<MemberView>> {
    let role = role(&body.role)?;
    let member =
        memberships::change_role(state.store.as_ref(), &caller.handle, &user, role).await?;
    Ok(axum::Json(member.into()))
}

async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(user): IdPath<UserId>,
) -> ApiResult<StatusCode> {
    memberships::remove(state.store.as_ref(), &caller.handle, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

impl PathId for UserId {
    const SEGMENT: &'static str = "userId";

    fn parse(raw: &str) -> Option<Self> {
        UserId::parse(raw).ok()
    }

    fn not_found(raw: &str) -> ApiError {
        ApiError::not_found(format!("Member {raw}"))
    }
}

impl PathId for InvitationId {
    const SEGMENT: &'static str = "invitationId";

    fn parse(raw: &str) -> Option<Self> {
        InvitationId::parse(raw).ok()
    }

    fn not_found(raw: &str) -> ApiError {
        ApiError::not_found(format!("Invitation {raw}"))
    }
}
