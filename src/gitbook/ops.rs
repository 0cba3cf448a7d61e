//! One function per GitBook operation: it plans the HTTP request from
//! validated input and says how to read a successful answer. Nothing here
//! performs I/O, so every request shape is unit-tested against the spec.

use crate::error::Error;
use crate::gitbook::model::{InviteResult, Member, Page, Removal, Team, TeamMember};
use crate::http::{encode_query_value, Method, Request, Response};
use crate::role::{Role, RoleFilter};
use crate::settings::Settings;
use crate::validate::{self, Email, GitBookId, MemberRef, TeamTitle};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::collections::HashSet;

/// The API's largest page.
pub const MAX_PAGE_LIMIT: u32 = 1000;

/// A planned request and how to read its successful (2xx) answer.
pub struct Call<T> {
    pub operation: &'static str,
    pub request: Request,
    pub parse: fn(&Response) -> Result<T, String>,
}

/// The member list filters, validated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberFilter {
    pub role: Option<RoleFilter>,
    pub search: Option<String>,
}

/// Someone to invite with their own role (`None`: guest).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitee {
    pub email: Email,
    pub role: Option<Role>,
}

/// A validated invite batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invite {
    /// Invited with the default role.
    pub emails: Vec<Email>,
    /// Invited with their own role.
    pub with_roles: Vec<Invitee>,
    pub default_role: Option<Role>,
    pub sso: bool,
}

impl MemberFilter {
    /// Checks the filters as a caller gives them; an empty search is none.
    pub fn parse(role: Option<RoleFilter>, search: Option<&str>) -> Result<MemberFilter, Error> {
        let search = search.map(str::trim).filter(|s| !s.is_empty());
        if let Some(search) = search {
            if search.len() > 256 || search.chars().any(char::is_control) {
                return Err(Error::invalid("search", "must be at most 256 characters without control characters"));
            }
        }
        Ok(MemberFilter { role, search: search.map(str::to_owned) })
    }
}

impl Invite {
    /// Validates a batch: emails are normalized and de-duplicated, and an
    /// email listed with its own role takes that role.
    pub fn parse(
        emails: &[String],
        with_roles: &[(String, Option<Role>)],
        default_role: Option<Role>,
        sso: bool,
    ) -> Result<Invite, Error> {
        let mut seen = HashSet::new();
        let mut invitees = Vec::with_capacity(with_roles.len());
        for (i, (email, role)) in with_roles.iter().enumerate() {
            let email = Email::parse(&format!("with-roles[{i}].email"), email)?;
            if seen.insert(email.clone()) {
                invitees.push(Invitee { email, role: *role });
            }
        }
        let emails = validate::emails("emails", emails)?.into_iter().filter(|e| !seen.contains(e)).collect();
        Ok(Invite { emails, with_roles: invitees, default_role, sso })
    }

    pub fn is_empty(&self) -> bool {
        self.emails.is_empty() && self.with_roles.is_empty()
    }
}

fn request(settings: &Settings, method: Method, path: &str, body: Option<Value>) -> Request {
    let mut headers = vec![
        ("authorization".to_owned(), settings.token.bearer()),
        ("accept".to_owned(), "application/json".to_owned()),
        ("user-agent".to_owned(), concat!("gitbook-directory-sync/", env!("CARGO_PKG_VERSION")).to_owned()),
    ];
    if body.is_some() {
        headers.push(("content-type".to_owned(), "application/json".to_owned()));
    }
    Request {
        method,
        url: settings.base_url.url(&format!("/v1/orgs/{}{path}", settings.organization)),
        headers,
        body: body.map(|b| b.to_string().into_bytes()),
    }
}

fn json<T: DeserializeOwned>(response: &Response) -> Result<T, String> {
    serde_json::from_slice(&response.body).map_err(|e| format!("the response body is not what the API specifies: {e}"))
}

fn empty(_: &Response) -> Result<(), String> {
    Ok(())
}

/// `POST /v1/orgs/{org}/invites`
pub fn invite(settings: &Settings, invite: &Invite) -> Call<InviteResult> {
    let mut emails: Vec<Value> = invite.emails.iter().map(|e| json!(e.as_str())).collect();
    emails.extend(invite.with_roles.iter().map(|i| json!({ "email": i.email.as_str(), "role": i.role })));
    let body = json!({ "emails": emails, "role": invite.default_role, "sso": invite.sso });
    Call { operation: "invite users", request: request(settings, Method::Post, "/invites", Some(body)), parse: json }
}

/// `DELETE /v1/orgs/{org}/members/{userId}`: 205 deleted, 204 not a member,
/// 202 sent to the admins for approval.
pub fn remove_member(settings: &Settings, user: &GitBookId) -> Call<Removal> {
    Call {
        operation: "remove member",
        request: request(settings, Method::Delete, &format!("/members/{user}"), None),
        parse: removal,
    }
}

fn removal(response: &Response) -> Result<Removal, String> {
    match response.status {
        205 => Ok(Removal::Deleted),
        204 => Ok(Removal::NotAMember),
        202 => Ok(Removal::ApprovalRequested),
        other => Err(format!("HTTP {other} is not an answer the API specifies for a removal (202, 204 or 205)")),
    }
}

/// `PUT /v1/orgs/{org}/teams/{teamId}/members` (204).
pub fn update_team_members(settings: &Settings, team: &GitBookId, add: &[MemberRef], remove: &[MemberRef]) -> Call<()> {
    fn names(refs: &[MemberRef]) -> Vec<&str> {
        refs.iter().map(MemberRef::as_str).collect()
    }
    let body = json!({ "add": names(add), "remove": names(remove) });
    Call {
        operation: "update team members",
        request: request(settings, Method::Put, &format!("/teams/{team}/members"), Some(body)),
        parse: empty,
    }
}

/// `GET /v1/orgs/{org}/members` for one page.
pub fn list_members_page(
    settings: &Settings,
    filter: &MemberFilter,
    page: Option<&str>,
    limit: u32,
) -> Call<Page<Member>> {
    let mut query = vec![format!("limit={}", limit.clamp(1, MAX_PAGE_LIMIT))];
    if let Some(page) = page {
        query.push(format!("page={}", encode_query_value(page)));
    }
    if let Some(role) = filter.role {
        query.push(format!("role={}", role.as_query_value()));
    }
    if let Some(search) = &filter.search {
        query.push(format!("search={}", encode_query_value(search)));
    }
    Call {
        operation: "list members",
        request: request(settings, Method::Get, &format!("/members?{}", query.join("&")), None),
        parse: json,
    }
}

/// `GET /v1/orgs/{org}/members?sort=joinedAt&order=asc` for one page: the
/// spec's `memberSort` and `listOrder` parameters, oldest member first, so
/// that someone who joins lands after every position already listed (the
/// default, newest first, moves everyone down on each join).
pub fn list_members_by_join_page(settings: &Settings, page: Option<&str>, limit: u32) -> Call<Page<Member>> {
    let mut query = vec![format!("limit={}", limit.clamp(1, MAX_PAGE_LIMIT))];
    if let Some(page) = page {
        query.push(format!("page={}", encode_query_value(page)));
    }
    query.push("sort=joinedAt&order=asc".to_owned());
    Call {
        operation: "list members",
        request: request(settings, Method::Get, &format!("/members?{}", query.join("&")), None),
        parse: json,
    }
}

/// `GET /v1/orgs/{org}/members/{userId}`
pub fn get_member(settings: &Settings, user: &GitBookId) -> Call<Member> {
    Call {
        operation: "get member",
        request: request(settings, Method::Get, &format!("/members/{user}"), None),
        parse: json,
    }
}

/// `PATCH /v1/orgs/{org}/members/{userId}` with `{"role": role-or-null}`.
pub fn set_member_role(settings: &Settings, user: &GitBookId, role: Option<Role>) -> Call<Member> {
    Call {
        operation: "set member role",
        request: request(settings, Method::Patch, &format!("/members/{user}"), Some(json!({ "role": role }))),
        parse: json,
    }
}

/// `POST /v1/orgs/{org}/members/{userId}/sso`
pub fn set_sso_member(settings: &Settings, user: &GitBookId) -> Call<Member> {
    Call {
        operation: "set SSO member",
        request: request(settings, Method::Post, &format!("/members/{user}/sso"), None),
        parse: json,
    }
}

/// `GET /v1/orgs/{org}/teams` for one page; `title` is GitBook's
/// case-insensitive substring filter.
pub fn list_teams_page(settings: &Settings, title: Option<&str>, page: Option<&str>) -> Call<Page<Team>> {
    let mut query = vec![format!("limit={MAX_PAGE_LIMIT}")];
    if let Some(page) = page {
        query.push(format!("page={}", encode_query_value(page)));
    }
    if let Some(title) = title {
        query.push(format!("title={}", encode_query_value(title)));
    }
    Call {
        operation: "list teams",
        request: request(settings, Method::Get, &format!("/teams?{}", query.join("&")), None),
        parse: json,
    }
}

/// `PUT /v1/orgs/{org}/teams` with a title (201).
/// `PUT /v1/orgs/{org}/teams` (`createOrganizationTeam`), with the
/// organization members (by ID: the spec takes member identifiers, not
/// emails) who join it at once. Not idempotent: every success creates a
/// team, and titles need not be unique, so [`Client::create_team`] looks
/// the title up before repeating it.
///
/// [`Client::create_team`]: crate::gitbook::Client::create_team
pub fn create_team(settings: &Settings, title: &TeamTitle, members: &[GitBookId]) -> Call<Team> {
    let mut body = json!({ "title": title.as_str() });
    if !members.is_empty() {
        body["members"] = members.iter().map(GitBookId::as_str).collect();
    }
    Call { operation: "create team", request: request(settings, Method::Put, "/teams", Some(body)), parse: json }
}

/// `GET /v1/orgs/{org}/teams/{teamId}/members` for one page.
pub fn list_team_members_page(settings: &Settings, team: &GitBookId, page: Option<&str>) -> Call<Page<TeamMember>> {
    let mut query = vec![format!("limit={MAX_PAGE_LIMIT}")];
    if let Some(page) = page {
        query.push(format!("page={}", encode_query_value(page)));
    }
    Call {
        operation: "list team members",
        request: request(settings, Method::Get, &format!("/teams/{team}/members?{}", query.join("&")), None),
        parse: json,
    }
}

/// `GET /v1/orgs/{org}/teams/{teamId}`
pub fn get_team(settings: &Settings, team: &GitBookId) -> Call<Team> {
    Call {
        operation: "get team",
        request: request(settings, Method::Get, &format!("/teams/{team}"), None),
        parse: json,
    }
}

/// `PATCH /v1/orgs/{org}/teams/{teamId}` with `{"title": …}` (200, the team).
pub fn rename_team(settings: &Settings, team: &GitBookId, title: &TeamTitle) -> Call<Team> {
    let body = json!({ "title": title.as_str() });
    Call {
        operation: "rename team",
        request: request(settings, Method::Patch, &format!("/teams/{team}"), Some(body)),
        parse: json,
    }
}

/// `DELETE /v1/orgs/{org}/teams/{teamId}`: `true` when it was deleted (205),
/// `false` when there was no such team (204).
pub fn delete_team(settings: &Settings, team: &GitBookId) -> Call<bool> {
    fn existed(response: &Response) -> Result<bool, String> {
        match response.status {
            205 => Ok(true),
            204 => Ok(false),
            other => Err(format!("HTTP {other} is not an answer the API specifies for a team deletion (204 or 205)")),
        }
    }
    Call {
        operation: "delete team",
        request: request(settings, Method::Delete, &format!("/teams/{team}"), None),
        parse: existed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::gitbook::fake::settings;

    fn body(call: &Call<impl Sized>) -> Value {
        serde_json::from_slice(call.request.body.as_deref().unwrap()).unwrap()
    }

    fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
        request.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn email(s: &str) -> Email {
        Email::parse("email", s).unwrap()
    }

    #[test]
    fn invite_posts_the_batch_with_role_and_sso() {
        let call = invite(
            &settings(),
            &Invite {
                emails: vec![email("a@x.io"), email("b@x.io")],
                with_roles: vec![
                    Invitee { email: email("c@x.io"), role: Some(Role::Admin) },
                    Invitee { email: email("d@x.io"), role: None },
                ],
                default_role: Some(Role::Read),
                sso: true,
            },
        );
        assert_eq!(call.request.method, Method::Post);
        assert_eq!(call.request.url, "https://api.gitbook.com/v1/orgs/acme/invites");
        assert_eq!(header(&call.request, "authorization"), Some("Bearer tok"));
        assert_eq!(header(&call.request, "content-type"), Some("application/json"));
        assert_eq!(
            body(&call),
            json!({"emails": ["a@x.io", "b@x.io", {"email": "c@x.io", "role": "admin"}, {"email": "d@x.io", "role": null}],
                   "role": "read", "sso": true})
        );
    }

    #[test]
    fn invite_batches_are_normalized_and_a_personal_role_wins() {
        let emails = vec![" A@x.io".to_string(), "b@x.io".into(), "a@X.io".into()];
        let invite = Invite::parse(&emails, &[("B@x.io".into(), Some(Role::Admin))], Some(Role::Read), true).unwrap();
        assert_eq!(invite.emails, [email("a@x.io")]);
        assert_eq!(invite.with_roles, [Invitee { email: email("b@x.io"), role: Some(Role::Admin) }]);
        let error = Invite::parse(&["ok@x.io".into(), "bad".into()], &[], None, true).unwrap_err();
        assert!(matches!(error, Error::InvalidInput { ref field, .. } if field == "emails[1]"));
    }

    #[test]
    fn removal_reads_the_three_spec_statuses() {
        let call = remove_member(&settings(), &GitBookId::parse("user-id", "u1").unwrap());
        assert_eq!(call.request.method, Method::Delete);
        assert_eq!(call.request.url, "https://api.gitbook.com/v1/orgs/acme/members/u1");
        assert!(call.request.body.is_none());
        let answer = |status| Response { status, headers: vec![], body: vec![] };
        assert_eq!((call.parse)(&answer(205)), Ok(Removal::Deleted));
        assert_eq!((call.parse)(&answer(204)), Ok(Removal::NotAMember));
        assert_eq!((call.parse)(&answer(202)), Ok(Removal::ApprovalRequested));
        assert!((call.parse)(&answer(200)).is_err());
    }

    #[test]
    fn team_update_sends_add_and_remove_in_one_put() {
        let team = GitBookId::parse("team-id", "t1").unwrap();
        let add = vec![MemberRef::parse("add", "u1").unwrap(), MemberRef::parse("add", "New@X.io").unwrap()];
        let remove = vec![MemberRef::parse("remove", "u2").unwrap()];
        let call = update_team_members(&settings(), &team, &add, &remove);
        assert_eq!(call.request.method, Method::Put);
        assert_eq!(call.request.url, "https://api.gitbook.com/v1/orgs/acme/teams/t1/members");
        assert_eq!(body(&call), json!({"add": ["u1", "new@x.io"], "remove": ["u2"]}));
    }

    #[test]
    fn member_list_asks_for_the_largest_page_and_encodes_filters() {
        let filter = MemberFilter { role: Some(RoleFilter::Guest), search: Some("a b@x.io".into()) };
        let call = list_members_page(&settings(), &filter, Some("tok/1=="), 5000);
        assert_eq!(
            call.request.url,
            "https://api.gitbook.com/v1/orgs/acme/members?limit=1000&page=tok%2F1%3D%3D&role=guest&search=a%20b%40x.io"
        );
        let page = (call.parse)(&Response {
            status: 200,
            headers: vec![],
            body: br#"{"items":[],"count":0,"next":{"page":"p2"}}"#.to_vec(),
        })
        .unwrap();
        assert_eq!(page.next.map(|n| n.page).as_deref(), Some("p2"));
    }

    #[test]
    fn members_by_join_ask_for_the_spec_s_sort_and_order() {
        let call = list_members_by_join_page(&settings(), Some("p/2"), 1000);
        assert_eq!(
            call.request.url,
            "https://api.gitbook.com/v1/orgs/acme/members?limit=1000&page=p%2F2&sort=joinedAt&order=asc"
        );
        let first = list_members_by_join_page(&settings(), None, 1);
        assert_eq!(first.request.url, "https://api.gitbook.com/v1/orgs/acme/members?limit=1&sort=joinedAt&order=asc");
    }

    #[test]
    fn role_change_sends_null_for_guest() {
        let user = GitBookId::parse("user-id", "u1").unwrap();
        let call = set_member_role(&settings(), &user, None);
        assert_eq!(call.request.method, Method::Patch);
        assert_eq!(body(&call), json!({"role": null}));
        let call = set_member_role(&settings(), &user, Some(Role::Edit));
        assert_eq!(body(&call), json!({"role": "edit"}));
    }

    #[test]
    fn sso_and_get_use_the_member_paths() {
        let user = GitBookId::parse("user-id", "u1").unwrap();
        let sso = set_sso_member(&settings(), &user);
        assert_eq!(
            (sso.request.method, sso.request.url.as_str()),
            (Method::Post, "https://api.gitbook.com/v1/orgs/acme/members/u1/sso")
        );
        let get = get_member(&settings(), &user);
        assert_eq!(
            (get.request.method, get.request.url.as_str()),
            (Method::Get, "https://api.gitbook.com/v1/orgs/acme/members/u1")
        );
    }

    #[test]
    fn teams_are_listed_by_title_and_created_with_a_put() {
        let call = list_teams_page(&settings(), Some("Data & AI"), None);
        assert_eq!(call.request.url, "https://api.gitbook.com/v1/orgs/acme/teams?limit=1000&title=Data%20%26%20AI");
        let title = TeamTitle::parse("team", " Data & AI ").unwrap();
        let call = create_team(&settings(), &title, &[]);
        assert_eq!(
            (call.request.method, call.request.url.as_str()),
            (Method::Put, "https://api.gitbook.com/v1/orgs/acme/teams")
        );
        assert_eq!(body(&call), json!({"title": "Data & AI"}));
        let members = [GitBookId::parse("m", "u1").unwrap(), GitBookId::parse("m", "u2").unwrap()];
        assert_eq!(
            body(&create_team(&settings(), &title, &members)),
            json!({"title": "Data & AI", "members": ["u1", "u2"]})
        );
        assert!(title.matches("data & ai"));
        assert!(TeamTitle::parse("team", &"x".repeat(65)).is_err());
        assert!(TeamTitle::parse("team", "  ").is_err());
    }

    #[test]
    fn a_body_of_the_wrong_shape_is_an_error_not_a_panic() {
        let call = get_member(&settings(), &GitBookId::parse("user-id", "u1").unwrap());
        for body in [&b"not json"[..], b"{}", b"[]", b"{\"id\": 3}"] {
            let response = Response { status: 200, headers: vec![], body: body.to_vec() };
            assert!((call.parse)(&response).is_err());
        }
    }
    #[test]
    fn teams_are_read_renamed_and_deleted_by_id() {
        let team = GitBookId::parse("team-id", "t1").unwrap();
        let get = get_team(&settings(), &team);
        assert_eq!(
            (get.request.method, get.request.url.as_str()),
            (Method::Get, "https://api.gitbook.com/v1/orgs/acme/teams/t1")
        );
        let rename = rename_team(&settings(), &team, &TeamTitle::parse("t", "Data").unwrap());
        assert_eq!(rename.request.method, Method::Patch);
        assert_eq!(body(&rename), json!({"title": "Data"}));
        let delete = delete_team(&settings(), &team);
        assert_eq!(delete.request.method, Method::Delete);
        let answer = |status| Response { status, headers: vec![], body: vec![] };
        assert_eq!(((delete.parse)(&answer(205)), (delete.parse)(&answer(204))), (Ok(true), Ok(false)));
        assert!((delete.parse)(&answer(200)).is_err());
    }
}
