//! JSON shapes from the OpenAPI spec (`OrganizationMember`, `OrganizationTeam`,
//! `OrganizationTeamMember`). Every required field is always present.

use serde_json::{json, Value};

use super::model::{Role, TeamRole};
use super::state::{MemberRecord, TeamRecord};

const API_ORIGIN: &str = "https://api.gitbook.com";

pub(crate) fn role_json(role: Option<Role>) -> Value {
    role.map_or(Value::Null, |r| Value::from(r.as_str()))
}

/// `OrganizationMember`. The stand-in tracks no activity, so `lastSeenAt` is the join date.
/// `user.email` is left out for members whose email is hidden (it is optional in `User`).
pub(crate) fn member(m: &MemberRecord) -> Value {
    let s = &m.state;
    let mut value = json!({
        "object": "member",
        "id": s.id,
        "role": role_json(s.role),
        "user": {
            "object": "user",
            "id": s.id,
            "displayName": s.display_name,
            "email": s.email,
            "photoURL": format!("https://www.gravatar.com/avatar/{}?d=identicon", s.id),
            "urls": {"location": format!("{API_ORIGIN}/v1/users/{}", s.id)},
        },
        "disabled": s.disabled,
        "joinedAt": s.joined_at,
        "lastSeenAt": s.joined_at,
        "sso": s.sso,
        "spaces": 0,
        "teams": m.teams.len(),
        "sites": 0,
    });
    if s.email_hidden {
        if let Some(user) = value["user"].as_object_mut() {
            user.remove("email");
        }
    }
    value
}

/// `OrganizationTeam`, as seen by an admin token.
pub(crate) fn team(t: &TeamRecord) -> Value {
    json!({
        "object": "team",
        "id": t.id,
        "title": t.title,
        "members": t.member_count(),
        "spaces": 0,
        "createdAt": t.created_at,
        "permissions": {"admin": true, "view": true},
    })
}

/// `OrganizationTeamMember`, with the member's role in that team.
pub(crate) fn team_member(m: &MemberRecord, role: TeamRole) -> Value {
    json!({
        "organization": member(m),
        "team": {"role": role.as_str()},
        "permissions": {"view": true},
    })
}
