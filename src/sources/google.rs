//! Google Workspace through the Admin SDK Directory API (`admin:directory_v1`).
//!
//! - Auth: a service account with domain-wide delegation signs a JWT
//!   (RS256) naming the admin it acts for (`sub`) and the read-only scopes,
//!   and trades it at the token endpoint for an access token (RFC 7523).
//! - Users: `users.list` for the customer at the largest page (500), only
//!   the fields used; suspended and archived users are not in the directory
//!   for this purpose.
//! - Groups: the rules name groups by email, the key `members.list` takes,
//!   so no lookup is needed. A member of type `GROUP` is read in turn
//!   (nested groups), each group once, so cycles stop.

use super::api::{self, AccessToken, DirectoryApi, ListedUser, Member, Paged, SourceKind};
use super::jwt::SigningKeyRs256;
use crate::http::{encode_query_value, Request, Response};
use crate::settings::BaseUrl;
use serde::Deserialize;
use std::time::Duration;

pub const DEFAULT_API_URL: &str = "https://admin.googleapis.com";
pub const DEFAULT_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
/// The least that lets the sync read users, groups and members.
pub const SCOPES: &str = "https://www.googleapis.com/auth/admin.directory.user.readonly \
                          https://www.googleapis.com/auth/admin.directory.group.readonly";
/// `users.list` allows at most 500 a page; `members.list` 200.
pub const USERS_PAGE: u32 = 500;
pub const MEMBERS_PAGE: u32 = 200;
/// How long the signed assertion is good for (Google's maximum).
const ASSERTION_LIFETIME: u64 = 3600;

/// A configured Google Workspace source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Google {
    /// The service account (`client_email` of its key file).
    pub client_email: String,
    pub key: SigningKeyRs256,
    /// The admin the service account acts for (domain-wide delegation).
    pub subject: String,
    /// `my_customer` (the admin's own account) or a customer ID.
    pub customer: String,
    pub api: BaseUrl,
    pub token_url: String,
}

impl Google {
    fn path(&self, path: &str) -> String {
        self.api.url(&format!("/admin/directory/v1{path}"))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsersPage {
    #[serde(default)]
    users: Vec<User>,
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct User {
    id: String,
    primary_email: Option<String>,
    #[serde(default)]
    suspended: bool,
    #[serde(default)]
    archived: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MembersPage {
    #[serde(default)]
    members: Vec<GroupMember>,
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct GroupMember {
    id: Option<String>,
    email: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

fn next(token: Option<String>) -> Option<String> {
    token.filter(|t| !t.is_empty())
}

fn json<'a, T: Deserialize<'a>>(what: &str, body: &'a [u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("the {what} answer is not the expected JSON: {e}"))
}

impl DirectoryApi for Google {
    fn kind(&self) -> SourceKind {
        SourceKind::Google
    }

    fn token_request(&self, unix_now: Duration) -> Option<Request> {
        let iat = unix_now.as_secs();
        let claims = serde_json::json!({
            "iss": self.client_email,
            "sub": self.subject,
            "scope": SCOPES,
            // Google's documented audience, whichever endpoint the
            // assertion is sent to (google-auth does the same).
            "aud": DEFAULT_TOKEN_URL,
            "iat": iat,
            "exp": iat + ASSERTION_LIFETIME,
        });
        let assertion = self.key.sign(&claims);
        let body =
            api::form(&[("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", &assertion)]);
        Some(api::token_post(self.token_url.clone(), body))
    }

    fn parse_token(&self, response: &Response) -> Result<AccessToken, String> {
        api::parse_oauth_token(response)
    }

    fn authorization(&self, token: Option<&AccessToken>) -> String {
        format!("Bearer {}", token.map_or("", |t| t.0.as_str()))
    }

    fn users_url(&self, next: Option<&str>) -> Result<String, String> {
        let mut url = self.path(&format!(
            "/users?customer={}&maxResults={USERS_PAGE}&projection=basic&fields={}",
            encode_query_value(&self.customer),
            encode_query_value("nextPageToken,users(id,primaryEmail,suspended,archived)")
        ));
        if let Some(token) = next {
            url.push_str(&format!("&pageToken={}", encode_query_value(token)));
        }
        Ok(url)
    }

    fn parse_users(&self, response: &Response) -> Result<Paged<ListedUser>, String> {
        let page: UsersPage = json("users.list", &response.body)?;
        let items = page
            .users
            .into_iter()
            .map(|u| ListedUser { id: u.id, email: u.primary_email, active: !u.suspended && !u.archived })
            .collect();
        Ok(Paged { items, next: next(page.next_page_token) })
    }

    fn group_lookup_url(&self, _name: &str) -> Option<String> {
        None
    }

    fn parse_group_lookup(&self, name: &str, _: &Response) -> Result<String, String> {
        Ok(name.to_owned())
    }

    fn members_url(&self, group_key: &str, next: Option<&str>) -> Result<String, String> {
        let mut url = self.path(&format!(
            "/groups/{}/members?maxResults={MEMBERS_PAGE}&fields={}",
            encode_query_value(group_key),
            encode_query_value("nextPageToken,members(id,email,type)")
        ));
        if let Some(token) = next {
            url.push_str(&format!("&pageToken={}", encode_query_value(token)));
        }
        Ok(url)
    }

    fn parse_members(&self, response: &Response) -> Result<Paged<Member>, String> {
        let page: MembersPage = json("members.list", &response.body)?;
        let items = page
            .members
            .into_iter()
            .map(|m| match (m.kind.as_deref(), m.id, m.email) {
                (Some("USER"), Some(id), _) => Member::User(id),
                // Nested groups are read by email, the key the rules use,
                // so a group reached twice is recognised and read once.
                (Some("GROUP"), _, Some(email)) => Member::Group(email.to_ascii_lowercase()),
                (Some("GROUP"), Some(id), None) => Member::Group(id),
                (Some("CUSTOMER"), _, _) => Member::Everyone,
                _ => Member::Other,
            })
            .collect();
        Ok(Paged { items, next: next(page.next_page_token) })
    }

    fn error_message(&self, body: &[u8]) -> Option<String> {
        // API errors: {"error": {"code", "message", "errors": [{"reason"}]}};
        // token errors: {"error": "invalid_grant", "error_description"}.
        let value: serde_json::Value = serde_json::from_slice(body).ok()?;
        match value.get("error")? {
            serde_json::Value::Object(error) => {
                let message = error.get("message")?.as_str()?;
                match google_reason(&value) {
                    Some(reason) => Some(format!("{message} ({reason})")),
                    None => Some(message.to_owned()),
                }
            }
            _ => api::oauth_error(body),
        }
    }

    /// Google answers quota exhaustion with 403 and a rate-limit reason.
    fn retryable(&self, response: &Response) -> bool {
        if response.status == 403 {
            let value: serde_json::Value = serde_json::from_slice(&response.body).unwrap_or_default();
            return google_reason(&value).is_some_and(|r| {
                matches!(r.as_str(), "rateLimitExceeded" | "userRateLimitExceeded" | "quotaExceeded")
            });
        }
        crate::gitbook::retry::is_retryable_status(response.status)
    }

    fn redact(&self, text: &str) -> String {
        text.to_owned()
    }
}

fn google_reason(value: &serde_json::Value) -> Option<String> {
    value.pointer("/error/errors/0/reason")?.as_str().map(str::to_owned)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub const TEST_KEY: &str = include_str!("testdata/TEST-ONLY-service-account-key.pem");
    pub const TEST_PUBLIC_KEY: &str = include_str!("testdata/TEST-ONLY-service-account-key.pub.pem");

    pub fn google(api: &str) -> Google {
        Google {
            client_email: "sync@acme-project.iam.gserviceaccount.com".into(),
            key: SigningKeyRs256::from_pkcs8_pem("private_key", TEST_KEY).unwrap(),
            subject: "admin@acme.com".into(),
            customer: "my_customer".into(),
            api: BaseUrl::parse(api, true).unwrap(),
            token_url: format!("{api}/token"),
        }
    }

    fn response(body: &str) -> Response {
        Response { status: 200, headers: vec![], body: body.as_bytes().to_vec() }
    }

    #[test]
    fn the_assertion_is_signed_with_the_key_and_names_the_admin_and_scopes() {
        use rsa::pkcs1v15::{Signature, VerifyingKey};
        use rsa::pkcs8::DecodePublicKey;
        use rsa::signature::Verifier;
        let source = google("https://oauth.test");
        let request = source.token_request(Duration::from_secs(1_700_000_000)).unwrap();
        assert_eq!(request.url, "https://oauth.test/token");
        let body = String::from_utf8(request.body.unwrap()).unwrap();
        let assertion = body.split("assertion=").nth(1).unwrap();
        assert!(body.starts_with("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&"));
        let parts: Vec<&str> = assertion.split('.').collect();
        assert_eq!(parts.len(), 3);
        let decode = |s: &str| {
            let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let bits: Vec<u8> = s.bytes().map(|b| alphabet.iter().position(|a| *a == b).unwrap() as u8).collect();
            let mut out = Vec::new();
            for chunk in bits.chunks(4) {
                let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (18 - 6 * i)));
                for i in 0..chunk.len() - 1 {
                    out.push((n >> (16 - 8 * i)) as u8);
                }
            }
            out
        };
        let claims: serde_json::Value = serde_json::from_slice(&decode(parts[1])).unwrap();
        assert_eq!(claims["sub"], "admin@acme.com");
        assert_eq!(claims["iss"], "sync@acme-project.iam.gserviceaccount.com");
        assert_eq!(claims["aud"], "https://oauth2.googleapis.com/token");
        assert_eq!(claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(), 3600);
        assert!(claims["scope"].as_str().unwrap().contains("admin.directory.user.readonly"));
        let public =
            VerifyingKey::<sha2::Sha256>::new(rsa::RsaPublicKey::from_public_key_pem(TEST_PUBLIC_KEY).unwrap());
        let signature = Signature::try_from(decode(parts[2]).as_slice()).unwrap();
        public.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature).expect("a valid RS256 signature");
    }

    #[test]
    fn users_are_listed_at_the_largest_page_and_suspended_or_archived_are_inactive() {
        let source = google("https://admin.test");
        assert_eq!(
            source.users_url(Some("tok/1")).unwrap(),
            "https://admin.test/admin/directory/v1/users?customer=my_customer&maxResults=500&projection=basic\
             &fields=nextPageToken%2Cusers%28id%2CprimaryEmail%2Csuspended%2Carchived%29&pageToken=tok%2F1"
        );
        let page = source
            .parse_users(&response(
                r#"{"kind":"admin#directory#users","users":[
                {"id":"1","primaryEmail":"ann@acme.com","suspended":false},
                {"id":"2","primaryEmail":"bob@acme.com","suspended":true},
                {"id":"3","primaryEmail":"cy@acme.com","archived":true}],"nextPageToken":"p2"}"#,
            ))
            .unwrap();
        assert_eq!(page.items.iter().map(|u| u.active).collect::<Vec<_>>(), [true, false, false]);
        assert_eq!(page.next.as_deref(), Some("p2"));
        assert_eq!(source.parse_users(&response(r#"{"kind":"admin#directory#users"}"#)).unwrap().items, []);
    }

    #[test]
    fn members_tell_users_nested_groups_and_the_whole_customer_apart() {
        let source = google("https://admin.test");
        let page = source
            .parse_members(&response(
                r#"{"members":[{"id":"1","email":"ann@acme.com","type":"USER"},
                {"id":"g","email":"Sub@acme.com","type":"GROUP"},{"id":"c","type":"CUSTOMER"},
                {"email":"x@gmail.com","type":"USER"}]}"#,
            ))
            .unwrap();
        assert_eq!(
            page.items,
            [Member::User("1".into()), Member::Group("sub@acme.com".into()), Member::Everyone, Member::Other]
        );
        assert_eq!(page.next, None);
    }

    #[test]
    fn quota_403s_are_retried_and_permission_403s_are_not() {
        let source = google("https://admin.test");
        let answer = |reason: &str| Response {
            status: 403,
            headers: vec![],
            body: format!(r#"{{"error":{{"code":403,"message":"m","errors":[{{"reason":"{reason}"}}]}}}}"#)
                .into_bytes(),
        };
        assert!(source.retryable(&answer("userRateLimitExceeded")));
        assert!(!source.retryable(&answer("forbidden")));
        assert_eq!(source.error_message(&answer("forbidden").body).as_deref(), Some("m (forbidden)"));
    }
}
