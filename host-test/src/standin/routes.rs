//! Path, method and parameter checks for `/v1/orgs/{org}/...`, then the handler.
//!
//! In order: an unknown path is 404, a known path with another method 405 with an `Allow`
//! header, an organization or team id outside the spec's `EntityId` pattern 400, a
//! different organization 404; then a query parameter the spec does not define for that
//! operation (or one given twice) is 400, and so is a body-taking operation called without
//! `Content-Type: application/json`. Only then does the handler run.

use super::input::Answer;
use super::query::{parse_query, percent_decode};
use super::record::RecordedRequest;
use super::reply::Reply;
use super::state::Directory;
use super::{invites, members, teams};

/// The endpoints the stand-in implements, with their decoded path parameters.
enum Route {
    Members,
    Member(String),
    MemberSso(String),
    Invites,
    Teams,
    Team(String),
    TeamMembers(String),
}

impl Route {
    /// Methods allowed on this path, for 405 answers.
    fn allowed(&self) -> &'static str {
        match self {
            Route::Members => "GET",
            Route::Member(_) => "GET, PATCH, DELETE",
            Route::MemberSso(_) => "POST",
            Route::Invites => "POST",
            Route::Teams => "GET, PUT",
            Route::Team(_) => "GET, PATCH, DELETE",
            Route::TeamMembers(_) => "GET, PUT",
        }
    }

    /// The user or team id in the path; empty for paths without one.
    fn id(&self) -> &str {
        match self {
            Route::Member(id) | Route::MemberSso(id) | Route::Team(id) | Route::TeamMembers(id) => id,
            Route::Members | Route::Invites | Route::Teams => "",
        }
    }

    /// The spec's operation for this path and method, if it has one.
    fn operation(&self, method: &str) -> Option<Operation> {
        Some(match (method, self) {
            ("GET", Route::Members) => Operation::ListMembers,
            ("GET", Route::Member(_)) => Operation::GetMember,
            ("PATCH", Route::Member(_)) => Operation::UpdateMember,
            ("DELETE", Route::Member(_)) => Operation::RemoveMember,
            ("POST", Route::MemberSso(_)) => Operation::SetSsoMember,
            ("POST", Route::Invites) => Operation::InviteUsers,
            ("GET", Route::Teams) => Operation::ListTeams,
            ("PUT", Route::Teams) => Operation::CreateTeam,
            ("GET", Route::Team(_)) => Operation::GetTeam,
            ("PATCH", Route::Team(_)) => Operation::UpdateTeam,
            ("DELETE", Route::Team(_)) => Operation::RemoveTeam,
            ("GET", Route::TeamMembers(_)) => Operation::ListTeamMembers,
            ("PUT", Route::TeamMembers(_)) => Operation::UpdateTeamMembers,
            _ => return None,
        })
    }
}

/// The spec's operations the stand-in serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operation {
    ListMembers,
    GetMember,
    UpdateMember,
    RemoveMember,
    SetSsoMember,
    InviteUsers,
    ListTeams,
    CreateTeam,
    GetTeam,
    UpdateTeam,
    RemoveTeam,
    ListTeamMembers,
    UpdateTeamMembers,
}

impl Operation {
    /// The spec's `operationId`, so a refusal names the operation a reader can look up.
    fn id(self) -> &'static str {
        match self {
            Operation::ListMembers => "listMembersInOrganizationById",
            Operation::GetMember => "getMemberInOrganizationById",
            Operation::UpdateMember => "updateMemberInOrganizationById",
            Operation::RemoveMember => "removeMemberFromOrganizationById",
            Operation::SetSsoMember => "setUserAsSSOMemberForOrganization",
            Operation::InviteUsers => "inviteUsersToOrganization",
            Operation::ListTeams => "listTeamsInOrganizationById",
            Operation::CreateTeam => "createOrganizationTeam",
            Operation::GetTeam => "getTeamInOrganizationById",
            Operation::UpdateTeam => "updateTeamInOrganizationById",
            Operation::RemoveTeam => "removeTeamFromOrganizationById",
            Operation::ListTeamMembers => "listTeamMembersInOrganizationById",
            Operation::UpdateTeamMembers => "updateMembersInOrganizationTeam",
        }
    }

    /// The query parameters the spec defines for this operation; any other is a 400.
    fn query_parameters(self) -> &'static [&'static str] {
        match self {
            Operation::ListMembers => &["page", "limit", "order", "role", "search", "sort"],
            Operation::ListTeams => &["page", "limit", "owner", "title"],
            Operation::ListTeamMembers => &["page", "limit"],
            _ => &[],
        }
    }

    /// Whether the spec gives this operation a (required) JSON request body.
    fn takes_json_body(self) -> bool {
        matches!(
            self,
            Operation::UpdateMember
                | Operation::InviteUsers
                | Operation::CreateTeam
                | Operation::UpdateTeam
                | Operation::UpdateTeamMembers
        )
    }
}

/// What routing needs to know about the organization being served.
pub(crate) struct OrgConfig<'a> {
    pub(crate) id: &'a str,
    pub(crate) max_invite_batch: usize,
    pub(crate) max_team_update: Option<usize>,
    /// Refuse body fields the spec's schemas do not name (off by default: the schemas
    /// allow additional properties).
    pub(crate) refuse_unknown_fields: bool,
}

/// The spec's `EntityId`: `^[a-zA-Z0-9_-]+$`.
fn is_entity_id(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn check_entity_id(name: &str, value: &str) -> Result<(), Reply> {
    if is_entity_id(value) {
        Ok(())
    } else {
        Err(Reply::bad_request(format!("Invalid {name} {value:?}: must match ^[a-zA-Z0-9_-]+$")))
    }
}

/// Finds the route for a raw path, or the 404 to answer; the org id is returned decoded
/// so it can be checked after the method.
fn resolve(path: &str) -> Result<(String, Route), Reply> {
    let unknown = || Reply::not_found(format!("No route for {path}"));
    let rest = path.strip_prefix("/v1/orgs/").ok_or_else(unknown)?;
    let segments: Vec<String> = rest.split('/').map(|s| percent_decode(s, false)).collect();
    let Some((org, tail)) = segments.split_first() else {
        return Err(unknown());
    };
    let tail: Vec<&str> = tail.iter().map(String::as_str).collect();
    let id_ok = |s: &str| !s.is_empty();
    let route = match tail.as_slice() {
        ["members"] => Route::Members,
        ["members", id] if id_ok(id) => Route::Member(id.to_string()),
        ["members", id, "sso"] if id_ok(id) => Route::MemberSso(id.to_string()),
        ["invites"] => Route::Invites,
        ["teams"] => Route::Teams,
        ["teams", id] if id_ok(id) => Route::Team(id.to_string()),
        ["teams", id, "members"] if id_ok(id) => Route::TeamMembers(id.to_string()),
        _ => return Err(unknown()),
    };
    Ok((org.clone(), route))
}

/// 400 for a query parameter the operation does not define, or one given twice.
fn check_query(operation: Operation, query: &[(String, String)]) -> Result<(), Reply> {
    let allowed = operation.query_parameters();
    for (i, (name, _)) in query.iter().enumerate() {
        if !allowed.contains(&name.as_str()) {
            let expected = if allowed.is_empty() {
                "it takes no query parameters".to_string()
            } else {
                format!("expected {}", allowed.join(", "))
            };
            return Err(Reply::bad_request(format!(
                "Unknown query parameter {name:?} for {}: {expected}",
                operation.id()
            )));
        }
        if query[..i].iter().any(|(earlier, _)| earlier == name) {
            return Err(Reply::bad_request(format!("Query parameter {name:?} is given more than once")));
        }
    }
    Ok(())
}

/// 400 unless a body-taking operation is sent JSON (`application/json`, any parameters).
fn check_content_type(operation: Operation, req: &RecordedRequest) -> Result<(), Reply> {
    if !operation.takes_json_body() {
        return Ok(());
    }
    let media_type = req.header("content-type").map(|v| v.split(';').next().unwrap_or("").trim());
    match media_type {
        Some(t) if t.eq_ignore_ascii_case("application/json") => Ok(()),
        Some(t) => Err(Reply::bad_request(format!(
            "Content-Type {t:?} is not supported by {}: send application/json",
            operation.id()
        ))),
        None => {
            Err(Reply::bad_request(format!("Missing Content-Type: {} takes an application/json body", operation.id())))
        }
    }
}

/// Answers an authenticated request against the directory.
pub(crate) fn dispatch(dir: &mut Directory, org: &OrgConfig<'_>, req: &RecordedRequest) -> Reply {
    answer(dir, org, req).unwrap_or_else(|reply| reply)
}

fn answer(dir: &mut Directory, org: &OrgConfig<'_>, req: &RecordedRequest) -> Answer {
    let (org_id, route) = resolve(&req.path)?;
    let Some(operation) = route.operation(&req.method) else {
        return Err(Reply::error(405, format!("Method {} is not allowed on {}", req.method, req.path))
            .with_header("allow", route.allowed()));
    };
    check_entity_id("organizationId", &org_id)?;
    if let Route::Team(id) | Route::TeamMembers(id) = &route {
        check_entity_id("teamId", id)?;
    }
    if org_id != org.id {
        return Err(Reply::not_found(format!("Organization {org_id} not found")));
    }
    let query = req.query.as_deref().map(parse_query).unwrap_or_default();
    check_query(operation, &query)?;
    check_content_type(operation, req)?;
    let (id, body, strict) = (route.id(), req.body.as_slice(), org.refuse_unknown_fields);
    match operation {
        Operation::ListMembers => members::list(dir, &query),
        Operation::GetMember => members::get(dir, id),
        Operation::UpdateMember => members::patch(dir, id, body, strict),
        Operation::RemoveMember => members::delete(dir, id),
        Operation::SetSsoMember => members::set_sso(dir, id),
        Operation::InviteUsers => invites::invite(dir, body, org.max_invite_batch, strict),
        Operation::ListTeams => teams::list(dir, &query),
        Operation::CreateTeam => teams::create(dir, body, org.max_team_update, strict),
        Operation::GetTeam => teams::get(dir, id),
        Operation::UpdateTeam => teams::rename(dir, id, body, strict),
        Operation::RemoveTeam => teams::delete(dir, id),
        Operation::ListTeamMembers => teams::list_members(dir, id, &query),
        Operation::UpdateTeamMembers => teams::update_members(dir, id, body, org.max_team_update, strict),
    }
}
