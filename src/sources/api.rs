//! What a directory source is, as pure functions: the URLs of its lists,
//! its token exchange, and the parsing of its answers into a few plain
//! values. [`walk`](super::walk) strings these together; nothing here sends
//! anything or knows about time beyond the values it is given.

use crate::http::{Request, Response};
use std::fmt;
use std::time::Duration;

/// The directories a snapshot can be read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SourceKind {
    Google,
    Entra,
    Okta,
}

impl SourceKind {
    /// The name in commands, URLs and the WIT enum.
    pub fn code(self) -> &'static str {
        match self {
            SourceKind::Google => "google",
            SourceKind::Entra => "entra",
            SourceKind::Okta => "okta",
        }
    }

    /// The name in sentences.
    pub fn title(self) -> &'static str {
        match self {
            SourceKind::Google => "Google Workspace",
            SourceKind::Entra => "Microsoft Entra ID",
            SourceKind::Okta => "Okta",
        }
    }

    pub fn parse(field: &str, value: &str) -> Result<SourceKind, crate::error::Error> {
        match value.trim() {
            "google" => Ok(SourceKind::Google),
            "entra" => Ok(SourceKind::Entra),
            "okta" => Ok(SourceKind::Okta),
            other => Err(crate::error::Error::invalid(
                field,
                format!("{} is not a source; expected google, entra or okta", crate::validate::printable(other)),
            )),
        }
    }
}

/// One page of a list and where the next one is: a page token (Google) or
/// the next page's full URL (Graph's `@odata.nextLink`, Okta's `Link`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// A user of the directory's user list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedUser {
    /// The directory's own ID, which membership lists refer to.
    pub id: String,
    /// The address GitBook knows the person by, if the directory has one.
    pub email: Option<String>,
    /// Whether the person counts as in the directory (not suspended,
    /// archived, disabled or deprovisioned).
    pub active: bool,
}

/// One entry of a group's member list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Member {
    /// A user, by directory ID.
    User(String),
    /// A nested group, by the key its member list is read with.
    Group(String),
    /// Every user of the directory (Google's `CUSTOMER` member).
    Everyone,
    /// Anything else (devices, service principals, external addresses):
    /// not a person GitBook can know.
    Other,
}

/// An access token from a token exchange. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(pub(super) String);

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken([redacted])")
    }
}

/// One directory's API. Every method is pure; `Err` strings say what the
/// answer got wrong and never contain a credential.
pub trait DirectoryApi {
    fn kind(&self) -> SourceKind;

    /// The token exchange to make first, at wall-clock time `unix_now`;
    /// `None` when the configured credential is sent as it is.
    fn token_request(&self, unix_now: Duration) -> Option<Request>;
    fn parse_token(&self, response: &Response) -> Result<AccessToken, String>;
    /// The `Authorization` header of every API request.
    fn authorization(&self, token: Option<&AccessToken>) -> String;

    /// The user list's first page (`next` = `None`) or the page `next` names.
    fn users_url(&self, next: Option<&str>) -> Result<String, String>;
    fn parse_users(&self, response: &Response) -> Result<Paged<ListedUser>, String>;

    /// The request that finds a group by the name the rules use, or `None`
    /// when that name is already the key member lists are read with.
    fn group_lookup_url(&self, name: &str) -> Option<String>;
    /// The group's key from the lookup's answer; an error when there is no
    /// such group or the name is ambiguous.
    fn parse_group_lookup(&self, name: &str, response: &Response) -> Result<String, String>;

    fn members_url(&self, group_key: &str, next: Option<&str>) -> Result<String, String>;
    fn parse_members(&self, response: &Response) -> Result<Paged<Member>, String>;

    /// The directory's own error message in a failed answer's body.
    fn error_message(&self, body: &[u8]) -> Option<String>;
    /// Whether a non-2xx answer may succeed if repeated.
    fn retryable(&self, response: &Response) -> bool {
        crate::gitbook::retry::is_retryable_status(response.status)
    }
    /// How long a failed answer asks to wait before the repeat.
    fn server_wait(&self, response: &Response, unix_now: Duration) -> Option<Duration> {
        retry_after(response, unix_now)
    }
    /// How long to hold every new request after this (successful) answer:
    /// a rate-limit window that is used up.
    fn pause(&self, _response: &Response, _unix_now: Duration) -> Option<Duration> {
        None
    }
    /// Removes every configured secret from a text that may echo one.
    fn redact(&self, text: &str) -> String;
}

/// `Retry-After` in either form (delay-seconds or an HTTP date).
pub fn retry_after(response: &Response, unix_now: Duration) -> Option<Duration> {
    let value = response.header("retry-after")?.trim_ascii();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX / 1000).min(u64::MAX / 1000)));
    }
    let at = crate::gitbook::retry::parse_http_date(value)?;
    Some(Duration::from_secs(at).saturating_sub(unix_now))
}

/// The part of a URL before its path: `scheme://authority`.
pub fn origin(url: &str) -> Option<&str> {
    let rest_at = url.find("://")? + 3;
    let end = url[rest_at..].find(['/', '?', '#']).map_or(url.len(), |i| rest_at + i);
    Some(&url[..end])
}

/// Checks that a next-page URL the directory handed back stays on the API's
/// own origin and path, so the credential is never sent anywhere else.
pub fn same_origin_next(api_url: &str, path_prefix: &str, next: &str) -> Result<String, String> {
    let expected = origin(api_url).unwrap_or(api_url);
    let ok = origin(next) == Some(expected)
        && next[expected.len()..].starts_with(path_prefix)
        && !next.chars().any(|c| c.is_control() || c == ' ');
    if ok {
        Ok(next.to_owned())
    } else {
        Err(format!(
            "the next-page link {} leaves {expected}{path_prefix}; it is not followed, so the credential is \
             never sent elsewhere",
            crate::validate::printable(next)
        ))
    }
}

/// `application/x-www-form-urlencoded` from name-value pairs.
pub fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={}", crate::http::encode_query_value(value)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

/// A POST of a form to a token endpoint.
pub fn token_post(url: String, body: Vec<u8>) -> Request {
    Request {
        method: crate::http::Method::Post,
        url,
        headers: vec![
            ("content-type".into(), "application/x-www-form-urlencoded".into()),
            ("accept".into(), "application/json".into()),
        ],
        body: Some(body),
    }
}

/// An OAuth 2.0 token answer (RFC 6749 §5.1): `access_token` of type Bearer.
pub fn parse_oauth_token(response: &Response) -> Result<AccessToken, String> {
    #[derive(serde::Deserialize)]
    struct TokenAnswer {
        access_token: Option<String>,
        token_type: Option<String>,
    }
    let answer: TokenAnswer = serde_json::from_slice(&response.body)
        .map_err(|e| format!("the token answer is not the expected JSON: {e}"))?;
    let token = answer.access_token.filter(|t| !t.is_empty()).ok_or("the token answer has no access_token")?;
    if !answer.token_type.is_some_and(|t| t.eq_ignore_ascii_case("bearer")) {
        return Err("the token answer's token_type is not Bearer".into());
    }
    if token.chars().any(|c| c.is_control() || c == ' ' || !c.is_ascii()) {
        return Err("the access token has characters a header cannot carry".into());
    }
    Ok(AccessToken(token))
}

/// An OAuth 2.0 error answer (RFC 6749 §5.2): `error` and
/// `error_description`.
pub fn oauth_error(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let error = value.get("error")?.as_str()?;
    Some(match value.get("error_description").and_then(|d| d.as_str()) {
        Some(description) => format!("{error}: {description}"),
        None => error.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links_must_stay_on_the_api() {
        let api = "https://graph.microsoft.com/v1.0/users";
        assert!(same_origin_next(api, "/v1.0/", "https://graph.microsoft.com/v1.0/users?$skiptoken=x").is_ok());
        for bad in [
            "https://evil.example/v1.0/users",
            "https://graph.microsoft.com.evil.example/v1.0/users",
            "http://graph.microsoft.com/v1.0/users",
            "https://graph.microsoft.com/beta/users",
            "https://graph.microsoft.com@evil.example/v1.0/",
        ] {
            assert!(same_origin_next(api, "/v1.0/", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let response =
            |v: &str| Response { status: 429, headers: vec![("retry-after".into(), v.into())], body: vec![] };
        assert_eq!(retry_after(&response("7"), Duration::ZERO), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after(&response("Thu, 01 Jan 1970 00:01:40 GMT"), Duration::from_secs(40)),
            Some(Duration::from_secs(60))
        );
        assert_eq!(retry_after(&response("soon"), Duration::ZERO), None);
    }
}
