//! JSON shapes from the OpenAPI spec (`OrganizationMember`, `OrganizationTeam`,
//! `OrganizationTeamMember`). Every required field is always present.

use serde_json::{json, Value};

use super::model::Role;
use super::state::{MemberRecord, TeamRecord};

const API_ORIGIN: &str = "https://api.gitbook.com";

pub(crate) fn role_json(role: Option<Role>) -> Value {
    role.map_or(Value::Null, |r| Value::from(r.as_str()))
}

/// `OrganizationMember`. The stand-in tracks no activity, so `lastSeenAt` is the join date.
pub(crate) fn member(m: &MemberRecord) -> Value {
    let s = &m.state;
    json!({
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
    })
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

/// `OrganizationTeamMember`. Team roles are not modelled: everyone is a plain member.
pub(crate) fn team_member(m: &MemberRecord) -> Value {
    json!({
        "organization": member(m),
        "team": {"role": "member"},
        "permissions": {"view": true},
    })
}
