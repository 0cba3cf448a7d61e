//! Okta through its Management API (`/api/v1`).
//!
//! - Auth: an API token sent as `Authorization: SSWS …` (its rights are
//!   those of the admin who made it; a read-only admin is enough).
//! - Users: `status eq "ACTIVE"` at the largest `limit` (200); suspended,
//!   deprovisioned and not-yet-activated users are not in the directory.
//! - Groups: the rules name groups by `profile.name`, found with an exact
//!   `search` (none or several is an error); members at `limit` 1000.
//!   Okta groups do not nest.
//! - Paging follows `Link: <…>; rel="next"`, only on the org's origin.
//! - Rate limits: when `X-Rate-Limit-Remaining` reaches 0, no request is
//!   started until `X-Rate-Limit-Reset`; a 429 waits for the same.

use super::api::{self, AccessToken, DirectoryApi, ListedUser, Member, Paged, SourceKind};
use super::secret::Secret;
use crate::http::{encode_query_value, Request, Response};
use crate::settings::BaseUrl;
use serde::Deserialize;
use std::time::Duration;

/// `/api/v1/users` allows at most 200 a page; group members 1000.
pub const USERS_PAGE: u32 = 200;
pub const MEMBERS_PAGE: u32 = 1000;

/// A configured Okta source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Okta {
    /// The org's URL, e.g. `https://acme.okta.com`.
    pub org: BaseUrl,
    pub token: Secret,
}

#[derive(Deserialize)]
struct User {
    id: String,
    status: Option<String>,
    #[serde(default)]
    profile: Profile,
}

#[derive(Deserialize, Default)]
struct Profile {
    email: Option<String>,
}

#[derive(Deserialize)]
struct Group {
    id: String,
}

fn json<'a, T: Deserialize<'a>>(what: &str, body: &'a [u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("the {what} answer is not the expected JSON: {e}"))
}

impl Okta {
    fn next_or(&self, next: Option<&str>, first: String) -> Result<String, String> {
        match next {
            Some(link) => api::same_origin_next(&first, &format!("{}/api/v1/", self.org.path_prefix), link),
            None => Ok(first),
        }
    }
}

/// The `rel="next"` target among every `Link` header (RFC 8288), which
/// Okta sends as separate headers or one comma-separated list.
pub fn next_link(response: &Response) -> Option<String> {
    for (_, value) in response.headers.iter().filter(|(name, _)| name.eq_ignore_ascii_case("link")) {
        let mut rest = value.as_str();
        while let Some(open) = rest.find('<') {
            let close = open + rest[open..].find('>')?;
            let target = &rest[open + 1..close];
            let params_end = rest[close..].find('<').map_or(rest.len(), |i| close + i);
            let params = &rest[close + 1..params_end];
            let is_next = params.split(';').any(|p| {
                let p = p.trim().trim_end_matches(',').trim();
                p.strip_prefix("rel=")
                    .is_some_and(|rel| rel.trim_matches('"').split_ascii_whitespace().any(|r| r == "next"))
            });
            if is_next {
                return Some(target.to_owned());
            }
            rest = &rest[params_end..];
        }
    }
    None
}

fn header_u64(response: &Response, name: &str) -> Option<u64> {
    response.header(name)?.trim().parse().ok()
}

impl DirectoryApi for Okta {
    fn kind(&self) -> SourceKind {
        SourceKind::Okta
    }

    fn token_request(&self, _: Duration) -> Option<Request> {
        None
    }

    fn parse_token(&self, _: &Response) -> Result<AccessToken, String> {
        Err("Okta API tokens are not exchanged".into())
    }

    fn authorization(&self, _: Option<&AccessToken>) -> String {
        format!("SSWS {}", self.token.expose())
    }

    fn users_url(&self, next: Option<&str>) -> Result<String, String> {
        let first = self
            .org
            .url(&format!("/api/v1/users?filter={}&limit={USERS_PAGE}", encode_query_value("status eq \"ACTIVE\"")));
        self.next_or(next, first)
    }

    fn parse_users(&self, response: &Response) -> Result<Paged<ListedUser>, String> {
        let users: Vec<User> = json("users", &response.body)?;
        let items = users
            .into_iter()
            .map(|u| ListedUser { id: u.id, email: u.profile.email, active: u.status.as_deref() == Some("ACTIVE") })
            .collect();
        Ok(Paged { items, next: next_link(response) })
    }

    fn group_lookup_url(&self, name: &str) -> Option<String> {
        let search = format!("profile.name eq \"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""));
        Some(self.org.url(&format!("/api/v1/groups?search={}", encode_query_value(&search))))
    }

    fn parse_group_lookup(&self, name: &str, response: &Response) -> Result<String, String> {
        let groups: Vec<Group> = json("groups", &response.body)?;
        match groups.as_slice() {
            [group] => Ok(group.id.clone()),
            [] => Err(format!("no group is named {}", crate::validate::printable(name))),
            several => Err(format!(
                "{} groups are named {}; give each group the rules name a unique name",
                several.len(),
                crate::validate::printable(name)
            )),
        }
    }

    fn members_url(&self, group_key: &str, next: Option<&str>) -> Result<String, String> {
        let first =
            self.org.url(&format!("/api/v1/groups/{}/users?limit={MEMBERS_PAGE}", encode_query_value(group_key)));
        self.next_or(next, first)
    }

    fn parse_members(&self, response: &Response) -> Result<Paged<Member>, String> {
        let users: Vec<User> = json("group users", &response.body)?;
        Ok(Paged { items: users.into_iter().map(|u| Member::User(u.id)).collect(), next: next_link(response) })
    }

    fn error_message(&self, body: &[u8]) -> Option<String> {
        let value: serde_json::Value = serde_json::from_slice(body).ok()?;
        let summary = value.get("errorSummary")?.as_str()?;
        match value.get("errorCode").and_then(|c| c.as_str()) {
            Some(code) => Some(format!("{summary} ({code})")),
            None => Some(summary.to_owned()),
        }
    }

    /// A 429 waits until the window resets (Okta sends no `Retry-After`).
    fn server_wait(&self, response: &Response, unix_now: Duration) -> Option<Duration> {
        api::retry_after(response, unix_now).or_else(|| {
            let reset = header_u64(response, "x-rate-limit-reset")?;
            Some(Duration::from_secs(reset).saturating_sub(unix_now))
        })
    }

    fn pause(&self, response: &Response, unix_now: Duration) -> Option<Duration> {
        if header_u64(response, "x-rate-limit-remaining")? > 0 {
            return None;
        }
        let reset = header_u64(response, "x-rate-limit-reset")?;
        Some(Duration::from_secs(reset).saturating_sub(unix_now))
    }

    fn redact(&self, text: &str) -> String {
        self.token.redact(text)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn okta(org: &str) -> Okta {
        Okta { org: BaseUrl::parse(org, true).unwrap(), token: Secret::parse("token", "00s3cretTOKEN").unwrap() }
    }

    fn response(body: &str, headers: &[(&str, &str)]) -> Response {
        Response {
            status: 200,
            headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn active_users_at_the_largest_page_with_the_api_token() {
        let source = okta("https://acme.okta.test");
        assert_eq!(
            source.users_url(None).unwrap(),
            "https://acme.okta.test/api/v1/users?filter=status%20eq%20%22ACTIVE%22&limit=200"
        );
        assert_eq!(source.authorization(None), "SSWS 00s3cretTOKEN");
        assert!(source.token_request(Duration::ZERO).is_none());
    }

    #[test]
    fn the_next_page_comes_from_the_link_header_and_stays_on_the_org() {
        let source = okta("https://acme.okta.test");
        let page = source
            .parse_users(&response(
                r#"[{"id":"00u1","status":"ACTIVE","profile":{"email":"ann@acme.com","login":"ann@acme.com"}},
                    {"id":"00u2","status":"SUSPENDED","profile":{"email":"bob@acme.com"}}]"#,
                &[
                    ("link", r#"<https://acme.okta.test/api/v1/users?limit=200>; rel="self""#),
                    ("link", r#"<https://acme.okta.test/api/v1/users?after=00u2&limit=200>; rel="next""#),
                ],
            ))
            .unwrap();
        assert_eq!(page.items.iter().map(|u| u.active).collect::<Vec<_>>(), [true, false]);
        let next = page.next.unwrap();
        assert_eq!(source.users_url(Some(&next)).unwrap(), "https://acme.okta.test/api/v1/users?after=00u2&limit=200");
        assert!(source.users_url(Some("https://evil.test/api/v1/users")).is_err());
        let one_header = response(
            "[]",
            &[("link", r#"<https://a.test/x?a=1,2>; rel="self", <https://a.test/api/v1/users?after=z>; rel="next""#)],
        );
        assert_eq!(next_link(&one_header).as_deref(), Some("https://a.test/api/v1/users?after=z"));
        assert_eq!(next_link(&response("[]", &[])), None);
    }

    #[test]
    fn a_used_up_window_pauses_until_its_reset() {
        let source = okta("https://acme.okta.test");
        let now = Duration::from_secs(1_000);
        let answer =
            |remaining: &str| response("[]", &[("x-rate-limit-remaining", remaining), ("x-rate-limit-reset", "1012")]);
        assert_eq!(source.pause(&answer("0"), now), Some(Duration::from_secs(12)));
        assert_eq!(source.pause(&answer("5"), now), None);
        assert_eq!(source.server_wait(&answer("0"), now), Some(Duration::from_secs(12)));
    }

    #[test]
    fn groups_are_found_by_exact_name_and_errors_read() {
        let source = okta("https://acme.okta.test");
        assert_eq!(
            source.group_lookup_url("Eng \"core\"").unwrap(),
            "https://acme.okta.test/api/v1/groups?search=profile.name%20eq%20%22Eng%20%5C%22core%5C%22%22"
        );
        assert_eq!(source.parse_group_lookup("eng", &response(r#"[{"id":"00g1"}]"#, &[])).unwrap(), "00g1");
        assert_eq!(
            source
                .error_message(br#"{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorCauses":[]}"#)
                .as_deref(),
            Some("Invalid token provided (E0000011)")
        );
        assert_eq!(source.redact("SSWS 00s3cretTOKEN"), "SSWS [redacted]");
    }
}
