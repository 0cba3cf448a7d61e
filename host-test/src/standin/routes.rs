//! Path and method routing for `/v1/orgs/{org}/...`. Unknown paths are 404, known paths
//! with another method are 405 with an `Allow` header, a different org id is 404.

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
}

/// What routing needs to know about the organization being served.
pub(crate) struct OrgConfig<'a> {
    pub(crate) id: &'a str,
    pub(crate) max_invite_batch: usize,
}

/// Finds the route for a raw path, or the 404 to answer.
fn resolve(path: &str, org_id: &str) -> Result<Route, Reply> {
    let unknown = || Reply::not_found(format!("No route for {path}"));
    let rest = path.strip_prefix("/v1/orgs/").ok_or_else(unknown)?;
    let segments: Vec<String> = rest.split('/').map(|s| percent_decode(s, false)).collect();
    let Some((org, tail)) = segments.split_first() else {
        return Err(unknown());
    };
    if org != org_id {
        return Err(Reply::not_found(format!("Organization {org} not found")));
    }
    let tail: Vec<&str> = tail.iter().map(String::as_str).collect();
    let id_ok = |s: &str| !s.is_empty();
    Ok(match tail.as_slice() {
        ["members"] => Route::Members,
        ["members", id] if id_ok(id) => Route::Member(id.to_string()),
        ["members", id, "sso"] if id_ok(id) => Route::MemberSso(id.to_string()),
        ["invites"] => Route::Invites,
        ["teams"] => Route::Teams,
        ["teams", id] if id_ok(id) => Route::Team(id.to_string()),
        ["teams", id, "members"] if id_ok(id) => Route::TeamMembers(id.to_string()),
        _ => return Err(unknown()),
    })
}

/// Answers an authenticated request against the directory.
pub(crate) fn dispatch(dir: &mut Directory, org: &OrgConfig<'_>, req: &RecordedRequest) -> Reply {
    answer(dir, org, req).unwrap_or_else(|reply| reply)
}

fn answer(dir: &mut Directory, org: &OrgConfig<'_>, req: &RecordedRequest) -> Answer {
    let route = resolve(&req.path, org.id)?;
    let query = req.query.as_deref().map(parse_query).unwrap_or_default();
    let body = req.body.as_slice();
    match (req.method.as_str(), &route) {
        ("GET", Route::Members) => members::list(dir, &query),
        ("GET", Route::Member(id)) => members::get(dir, id),
        ("PATCH", Route::Member(id)) => members::patch(dir, id, body),
        ("DELETE", Route::Member(id)) => members::delete(dir, id),
        ("POST", Route::MemberSso(id)) => members::set_sso(dir, id),
        ("POST", Route::Invites) => invites::invite(dir, body, org.max_invite_batch),
        ("GET", Route::Teams) => teams::list(dir, &query),
        ("PUT", Route::Teams) => teams::create(dir, body),
        ("GET", Route::Team(id)) => teams::get(dir, id),
        ("PATCH", Route::Team(id)) => teams::rename(dir, id, body),
        ("DELETE", Route::Team(id)) => teams::delete(dir, id),
        ("GET", Route::TeamMembers(id)) => teams::list_members(dir, id, &query),
        ("PUT", Route::TeamMembers(id)) => teams::update_members(dir, id, body),
        (method, route) => Err(Reply::error(405, format!("Method {method} is not allowed on {}", req.path))
            .with_header("allow", route.allowed())),
    }
}
