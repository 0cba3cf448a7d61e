//! A SCIM 2.0 service provider (RFC 7643/7644) over GitBook's members and
//! teams, without a database, so that any identity provider (Entra ID,
//! Okta, OneLogin, JumpCloud…) provisions GitBook through its standard
//! connector. Sans-IO: [`parse_request`] reads a request's head (before the
//! body), [`respond`] answers it through a [`Client`]. The webhook router
//! mounts it under [`BASE_PATH`] and authenticates it with its own token.
//!
//! Modules, one job each: [`filter`] and [`patch`] (the two parsers),
//! [`list`] (list queries and `ListResponse`), [`id`] (opaque user ids),
//! [`resource`] (User and Group JSON to and from GitBook's model),
//! [`users`] and [`groups`] (the operations), [`discovery`] (the fixed
//! documents), [`error`] (SCIM error bodies), [`project`] (`meta.location`
//! and the `attributes`/`excludedAttributes` projection of answers).
//!
//! | request | GitBook calls |
//! |---|---|
//! | `GET /Users?filter=userName eq "…"` | one member search |
//! | `GET /Users?startIndex=&count=` | member pages (1000 each, oldest first) up to the window's end |
//! | `POST /Users` | a search (409 if found), an invite, the new member read |
//! | `GET /Users/{id}` | one member search |
//! | `PUT`/`PATCH /Users/{id}` | a search, then a removal (`active: false`, whatever else is asked), an invite and a read (`active: true` for a non-member) or a role change |
//! | `DELETE /Users/{id}` | a search and a removal |
//! | `GET /Groups?filter=displayName eq "…"` | a team search, and each team's members unless `excludedAttributes=members` |
//! | `POST /Groups` | a title search (409 if found), member searches (or one organization listing above 10), one team creation (then members updates beyond 1000) |
//! | `PATCH /Groups/{id}` | the team read, a rename if the title differs, searches for whom to add (or one organization listing above 10), members updates of up to 1000 entries (a replacement reads the members first) |
//! | `PUT /Groups/{id}` | the team and its members read, a rename if needed, searches for newcomers (or one organization listing above 10), members updates of up to 1000 entries |
//! | `DELETE /Groups/{id}` | one team deletion |

pub mod discovery;
pub mod error;
pub mod filter;
pub mod groups;
pub mod id;
pub mod list;
pub mod patch;
pub mod project;
pub mod resource;
pub mod users;

use crate::gitbook::Client;
use crate::io::Io;
use crate::sync::events::JoinDefaults;
use error::{ScimError, ScimType};
use list::ListQuery;
use serde_json::Value;

/// Where the service is mounted.
pub const BASE_PATH: &str = "/scim/v2";
/// What every SCIM answer is.
pub const CONTENT_TYPE: &str = "application/scim+json";
/// The largest request body read: a group of about 150,000 members, as Okta
/// pushes whole member lists by PUT.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

/// The resource or document a path names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Users,
    User(String),
    Groups,
    Group(String),
    ServiceProviderConfig,
    ResourceTypes(Option<String>),
    Schemas(Option<String>),
}

impl Endpoint {
    fn allows(&self, verb: Verb) -> bool {
        match self {
            Endpoint::Users | Endpoint::Groups => matches!(verb, Verb::Get | Verb::Post),
            Endpoint::User(_) | Endpoint::Group(_) => verb != Verb::Post,
            Endpoint::ServiceProviderConfig | Endpoint::ResourceTypes(_) | Endpoint::Schemas(_) => verb == Verb::Get,
        }
    }

    pub fn allowed(&self) -> &'static str {
        match self {
            Endpoint::Users | Endpoint::Groups => "GET, POST",
            Endpoint::User(_) | Endpoint::Group(_) => "GET, PUT, PATCH, DELETE",
            Endpoint::ServiceProviderConfig | Endpoint::ResourceTypes(_) | Endpoint::Schemas(_) => "GET",
        }
    }
}

/// A SCIM request, read from its head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub verb: Verb,
    pub endpoint: Endpoint,
    /// The list query (read on every GET: `excludedAttributes` applies to
    /// one group too); on other methods only its projection is read.
    pub query: ListQuery,
    /// Where the service is reached, for `Location` and `meta.location`:
    /// an absolute URL when the request named its host, else [`BASE_PATH`].
    pub base: String,
}

impl Request {
    /// Whether the request carries a body to read.
    pub fn takes_body(&self) -> bool {
        matches!(self.verb, Verb::Post | Verb::Put | Verb::Patch)
    }
}

/// What to answer: a status, headers beyond the content type (`Location`,
/// `Allow`) and, except for 204, a body.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Value>,
    /// For the operator's log, never sent (who a group change left out).
    pub log: Option<String>,
}

impl Answer {
    fn new(status: u16, body: Option<Value>) -> Answer {
        Answer { status, headers: Vec::new(), body, log: None }
    }

    fn logging(self, log: Option<String>) -> Answer {
        Answer { log, ..self }
    }
}

impl From<ScimError> for Answer {
    fn from(error: ScimError) -> Answer {
        let mut answer = Answer::new(error.status, Some(error.body()));
        if let Some(allow) = error.allow {
            answer.headers.push(("allow", allow.to_owned()));
        }
        if let Some(seconds) = error.retry_after {
            answer.headers.push(("retry-after", seconds.to_string()));
        }
        answer
    }
}

/// Reads a request's head: `path` is what follows [`BASE_PATH`], `query`
/// the decoded query pairs. A path or method this service does not serve,
/// a body that is not JSON, or a bad list query is answered here, before
/// any body is read.
pub fn parse_request(
    method: &str,
    path: &str,
    query: &[(String, String)],
    content_type: Option<&str>,
) -> Result<Request, ScimError> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let is = |segment: &str, name: &str| segment.eq_ignore_ascii_case(name);
    let owned = |s: &str| s.to_owned();
    let endpoint = match segments.as_slice() {
        [users] if is(users, "Users") => Endpoint::Users,
        [users, id] if is(users, "Users") => Endpoint::User(owned(id)),
        [groups] if is(groups, "Groups") => Endpoint::Groups,
        [groups, id] if is(groups, "Groups") => Endpoint::Group(owned(id)),
        [config] if is(config, "ServiceProviderConfig") => Endpoint::ServiceProviderConfig,
        [types] if is(types, "ResourceTypes") => Endpoint::ResourceTypes(None),
        [types, name] if is(types, "ResourceTypes") => Endpoint::ResourceTypes(Some(owned(name))),
        [schemas] if is(schemas, "Schemas") => Endpoint::Schemas(None),
        [schemas, id] if is(schemas, "Schemas") => Endpoint::Schemas(Some(owned(id))),
        _ => {
            return Err(ScimError::not_found(format!(
                "no such SCIM endpoint; {BASE_PATH} serves /Users, /Groups, /ServiceProviderConfig, /ResourceTypes \
                 and /Schemas"
            )))
        }
    };
    let verb = match method {
        "GET" => Verb::Get,
        "POST" => Verb::Post,
        "PUT" => Verb::Put,
        "PATCH" => Verb::Patch,
        "DELETE" => Verb::Delete,
        _ => return Err(method_not_allowed(&endpoint)),
    };
    if !endpoint.allows(verb) {
        return Err(method_not_allowed(&endpoint));
    }
    let request = Request { verb, endpoint, query: ListQuery::default(), base: BASE_PATH.to_owned() };
    if request.takes_body() {
        let media_type = content_type.map(|t| t.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
        if let Some(media_type) = media_type.filter(|t| t != CONTENT_TYPE && t != "application/json") {
            let shown: String = media_type.chars().take(60).collect();
            return Err(ScimError::new(
                415,
                None,
                format!("content-type {shown:?} is not accepted; send {CONTENT_TYPE} or application/json"),
            ));
        }
    }
    let query = if verb == Verb::Get { ListQuery::parse(query)? } else { ListQuery::projection(query) };
    Ok(Request { query, ..request })
}

fn method_not_allowed(endpoint: &Endpoint) -> ScimError {
    ScimError {
        allow: Some(endpoint.allowed()),
        ..ScimError::new(405, None, format!("method not allowed here; use {}", endpoint.allowed()))
    }
}

/// Answers a request whose body (empty unless [`Request::takes_body`]) has
/// been read: GitBook is called through `client`; new members join with
/// `defaults` (role, SSO) unless the IdP sends a role.
pub fn respond<I: Io>(request: &Request, body: &[u8], defaults: &JoinDefaults, client: &mut Client<I>) -> Answer {
    match serve(request, body, defaults, client) {
        Ok(answer) => project::finish(request, answer),
        Err(error) => error.into(),
    }
}

fn serve<I: Io>(
    request: &Request,
    body: &[u8],
    defaults: &JoinDefaults,
    client: &mut Client<I>,
) -> Result<Answer, ScimError> {
    let ok = |body: Value| Answer::new(200, Some(body));
    let created = |body: Value| Answer::new(201, Some(body));
    let no_content = || Answer::new(204, None);
    let document = || json_body(body);
    let query = &request.query;
    Ok(match (&request.endpoint, request.verb) {
        (Endpoint::Users, Verb::Get) => ok(users::list(query, client)?),
        (Endpoint::Users, _) => created(users::create(&resource::user_input(&document()?)?, defaults, client)?),
        (Endpoint::User(id), Verb::Get) => ok(users::get(id, client)?),
        (Endpoint::User(id), Verb::Put) => {
            ok(users::replace(id, &resource::user_input(&document()?)?, defaults, client)?)
        }
        (Endpoint::User(id), Verb::Patch) => ok(users::patch(id, &patch::parse(&document()?)?, defaults, client)?),
        (Endpoint::User(id), _) => {
            users::delete(id, client)?;
            no_content()
        }
        (Endpoint::Groups, Verb::Get) => ok(groups::list(query, client)?),
        (Endpoint::Groups, _) => {
            let input = resource::group_input(&document()?)?;
            let (group, left_out) = groups::create(&input, client)?;
            let log = left_out.log_line(input.title.as_str());
            created(group).logging(log)
        }
        (Endpoint::Group(id), Verb::Get) => ok(groups::get(id, query.exclude_members, client)?),
        (Endpoint::Group(id), Verb::Put) => {
            let (group, left_out) = groups::replace(id, &resource::group_input(&document()?)?, client)?;
            ok(group).logging(left_out.log_line(id))
        }
        (Endpoint::Group(id), Verb::Patch) => {
            let left_out = groups::patch(id, &patch::parse(&document()?)?, client)?;
            no_content().logging(left_out.log_line(id))
        }
        (Endpoint::Group(id), _) => {
            groups::delete(id, client)?;
            no_content()
        }
        (Endpoint::ServiceProviderConfig, _) => ok(discovery::service_provider_config()),
        (Endpoint::ResourceTypes(name), _) => ok(discovery::resource_type(name.as_deref())?),
        (Endpoint::Schemas(id), _) => ok(discovery::schema(id.as_deref())?),
    })
}

/// The body as JSON; anything else is 400 `invalidSyntax`. serde_json's
/// nesting limit (128) bounds the recursion of a hostile body.
fn json_body(body: &[u8]) -> Result<Value, ScimError> {
    serde_json::from_slice(body)
        .map_err(|e| ScimError::bad(ScimType::InvalidSyntax, format!("the body is not JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        content_type: Option<&str>,
    ) -> Result<Request, ScimError> {
        let query: Vec<(String, String)> = query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        parse_request(method, path, &query, content_type)
    }

    #[test]
    fn paths_name_endpoints_case_insensitively() {
        assert_eq!(parse("GET", "/Users", &[], None).unwrap().endpoint, Endpoint::Users);
        assert_eq!(parse("PATCH", "/users/YWJj/", &[], None).unwrap().endpoint, Endpoint::User("YWJj".into()));
        assert_eq!(
            parse("GET", "/ServiceProviderConfig", &[], None).unwrap().endpoint,
            Endpoint::ServiceProviderConfig
        );
        assert_eq!(
            parse("GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", &[], None).unwrap().endpoint,
            Endpoint::Schemas(Some("urn:ietf:params:scim:schemas:core:2.0:User".into()))
        );
        assert_eq!(parse("GET", "/Bulk", &[], None).unwrap_err().status, 404);
        assert_eq!(parse("GET", "/Users/a/b", &[], None).unwrap_err().status, 404);
    }

    #[test]
    fn methods_bodies_and_queries_are_checked_from_the_head() {
        assert_eq!(parse("DELETE", "/Users", &[], None).unwrap_err().status, 405);
        let answer = Answer::from(parse("PUT", "/Groups", &[], None).unwrap_err());
        assert_eq!(answer.headers, [("allow", "GET, POST".to_owned())]);
        assert_eq!(parse("POST", "/Users/x", &[], None).unwrap_err().status, 405);
        assert_eq!(parse("OPTIONS", "/Groups", &[], None).unwrap_err().status, 405);
        assert_eq!(parse("POST", "/Users", &[], Some("text/plain")).unwrap_err().status, 415);
        assert!(parse("POST", "/Users", &[], Some("application/scim+json; charset=utf-8")).unwrap().takes_body());
        assert!(parse("PATCH", "/Groups/t1", &[], Some("application/json")).is_ok());
        let error = parse("GET", "/Users", &[("filter", "name co \"x\"")], None).unwrap_err();
        assert_eq!(error.scim_type, Some(ScimType::InvalidFilter));
        assert!(parse("GET", "/Groups/t1", &[("excludedAttributes", "members")], None).unwrap().query.exclude_members);
    }
}
