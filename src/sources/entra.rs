//! Microsoft Entra ID through Microsoft Graph v1.0.
//!
//! - Auth: OAuth 2.0 client credentials (an app registration's client
//!   secret) at the tenant's token endpoint, for Graph's `.default` scope:
//!   the application permissions `User.Read.All` and
//!   `GroupMember.Read.All` granted by an admin.
//! - Users: `/users` with `$select` (only the fields used) and the largest
//!   `$top` (999); disabled accounts are not in the directory for this
//!   purpose. The address is `mail`, or `userPrincipalName` when configured.
//! - Groups: the rules name groups by `displayName`, found with `$filter`
//!   (none or several with that name is an error), and read with
//!   `transitiveMembers`, which Graph expands through nested groups itself.
//! - Paging follows `@odata.nextLink`, only on Graph's own origin.

use super::api::{self, AccessToken, DirectoryApi, ListedUser, Member, Paged, SourceKind};
use super::secret::Secret;
use crate::http::{encode_query_value, Request, Response};
use crate::settings::BaseUrl;
use serde::Deserialize;
use std::time::Duration;

pub const DEFAULT_GRAPH_URL: &str = "https://graph.microsoft.com";
pub const DEFAULT_LOGIN_URL: &str = "https://login.microsoftonline.com";
/// Graph's largest page for users and members.
pub const PAGE: u32 = 999;

/// Which attribute is the user's email in GitBook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmailAttribute {
    Mail,
    UserPrincipalName,
}

/// A configured Entra ID source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entra {
    /// The tenant ID (a GUID) or a verified domain.
    pub tenant: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub email: EmailAttribute,
    pub graph: BaseUrl,
    pub login: BaseUrl,
}

#[derive(Deserialize)]
struct List<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct User {
    id: String,
    mail: Option<String>,
    user_principal_name: Option<String>,
    account_enabled: Option<bool>,
}

#[derive(Deserialize)]
struct Group {
    id: String,
}

#[derive(Deserialize)]
struct DirectoryObject {
    #[serde(rename = "@odata.type")]
    odata_type: Option<String>,
    id: Option<String>,
}

fn json<'a, T: Deserialize<'a>>(what: &str, body: &'a [u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("the {what} answer is not the expected JSON: {e}"))
}

impl Entra {
    fn next_or(&self, next: Option<&str>, first: String) -> Result<String, String> {
        match next {
            Some(link) => api::same_origin_next(&first, &format!("{}/v1.0/", self.graph.path_prefix), link),
            None => Ok(first),
        }
    }
}

impl DirectoryApi for Entra {
    fn kind(&self) -> SourceKind {
        SourceKind::Entra
    }

    fn token_request(&self, _: Duration) -> Option<Request> {
        let url = self.login.url(&format!("/{}/oauth2/v2.0/token", encode_query_value(&self.tenant)));
        let scope = format!("{}/.default", self.graph.url(""));
        let body = api::form(&[
            ("client_id", &self.client_id),
            ("client_secret", self.client_secret.expose()),
            ("scope", &scope),
            ("grant_type", "client_credentials"),
        ]);
        Some(api::token_post(url, body))
    }

    fn parse_token(&self, response: &Response) -> Result<AccessToken, String> {
        api::parse_oauth_token(response)
    }

    fn authorization(&self, token: Option<&AccessToken>) -> String {
        format!("Bearer {}", token.map_or("", |t| t.0.as_str()))
    }

    fn users_url(&self, next: Option<&str>) -> Result<String, String> {
        let first = self.graph.url(&format!(
            "/v1.0/users?$select={}&$top={PAGE}",
            encode_query_value("id,mail,userPrincipalName,accountEnabled")
        ));
        self.next_or(next, first)
    }

    fn parse_users(&self, response: &Response) -> Result<Paged<ListedUser>, String> {
        let list: List<User> = json("users", &response.body)?;
        let items = list
            .value
            .into_iter()
            .map(|u| ListedUser {
                email: match self.email {
                    EmailAttribute::Mail => u.mail,
                    EmailAttribute::UserPrincipalName => u.user_principal_name,
                },
                id: u.id,
                // $select asked for it: absent means Graph did not say, and
                // an account not known to be enabled is left out.
                active: u.account_enabled == Some(true),
            })
            .collect();
        Ok(Paged { items, next: list.next_link })
    }

    fn group_lookup_url(&self, name: &str) -> Option<String> {
        // OData string literals double their single quotes.
        let filter = format!("displayName eq '{}'", name.replace('\'', "''"));
        Some(self.graph.url(&format!(
            "/v1.0/groups?$filter={}&$select={}",
            encode_query_value(&filter),
            encode_query_value("id,displayName")
        )))
    }

    fn parse_group_lookup(&self, name: &str, response: &Response) -> Result<String, String> {
        let list: List<Group> = json("groups", &response.body)?;
        match list.value.as_slice() {
            [group] => Ok(group.id.clone()),
            [] => Err(format!("no group is named {}", crate::validate::printable(name))),
            several => Err(format!(
                "{} groups are named {}; give each group the rules name a unique displayName",
                several.len(),
                crate::validate::printable(name)
            )),
        }
    }

    fn members_url(&self, group_key: &str, next: Option<&str>) -> Result<String, String> {
        let first = self
            .graph
            .url(&format!("/v1.0/groups/{}/transitiveMembers?$select=id&$top={PAGE}", encode_query_value(group_key)));
        self.next_or(next, first)
    }

    fn parse_members(&self, response: &Response) -> Result<Paged<Member>, String> {
        let list: List<DirectoryObject> = json("transitiveMembers", &response.body)?;
        let items = list
            .value
            .into_iter()
            .map(|o| match (o.odata_type.as_deref(), o.id) {
                (Some("#microsoft.graph.user"), Some(id)) => Member::User(id),
                // Nested groups' own members are already in the list.
                _ => Member::Other,
            })
            .collect();
        Ok(Paged { items, next: list.next_link })
    }

    fn error_message(&self, body: &[u8]) -> Option<String> {
        let value: serde_json::Value = serde_json::from_slice(body).ok()?;
        match value.get("error")? {
            serde_json::Value::Object(error) => {
                let message = error.get("message")?.as_str()?;
                match error.get("code").and_then(|c| c.as_str()) {
                    Some(code) => Some(format!("{message} ({code})")),
                    None => Some(message.to_owned()),
                }
            }
            _ => api::oauth_error(body),
        }
    }

    fn redact(&self, text: &str) -> String {
        self.client_secret.redact(text)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn entra(base: &str) -> Entra {
        Entra {
            tenant: "contoso.onmicrosoft.com".into(),
            client_id: "11111111-2222-3333-4444-555555555555".into(),
            client_secret: Secret::parse("client-secret", "s3cret~value").unwrap(),
            email: EmailAttribute::Mail,
            graph: BaseUrl::parse(base, true).unwrap(),
            login: BaseUrl::parse(base, true).unwrap(),
        }
    }

    fn response(body: &str) -> Response {
        Response { status: 200, headers: vec![], body: body.as_bytes().to_vec() }
    }

    #[test]
    fn the_token_request_is_client_credentials_for_graph() {
        let request = entra("https://login.test").token_request(Duration::ZERO).unwrap();
        assert_eq!(request.url, "https://login.test/contoso.onmicrosoft.com/oauth2/v2.0/token");
        assert_eq!(
            String::from_utf8(request.body.unwrap()).unwrap(),
            "client_id=11111111-2222-3333-4444-555555555555&client_secret=s3cret~value\
             &scope=https%3A%2F%2Flogin.test%2F.default&grant_type=client_credentials"
        );
    }

    #[test]
    fn users_select_only_what_is_used_and_disabled_accounts_are_inactive() {
        let source = entra("https://graph.test");
        assert_eq!(
            source.users_url(None).unwrap(),
            "https://graph.test/v1.0/users?$select=id%2Cmail%2CuserPrincipalName%2CaccountEnabled&$top=999"
        );
        let page = source
            .parse_users(&response(
                r#"{"@odata.context":"x","value":[
                {"id":"1","mail":"ann@contoso.com","userPrincipalName":"ann@contoso.onmicrosoft.com","accountEnabled":true},
                {"id":"2","mail":null,"userPrincipalName":"bob@contoso.com","accountEnabled":false}],
                "@odata.nextLink":"https://graph.test/v1.0/users?$skiptoken=abc"}"#,
            ))
            .unwrap();
        assert_eq!(page.items[0].email.as_deref(), Some("ann@contoso.com"));
        assert!(page.items[0].active && !page.items[1].active);
        assert_eq!(source.users_url(page.next.as_deref()).unwrap(), "https://graph.test/v1.0/users?$skiptoken=abc");
        assert!(source.users_url(Some("https://elsewhere.test/v1.0/users?$skiptoken=abc")).is_err());
    }

    #[test]
    fn a_group_is_found_by_its_exact_display_name_once() {
        let source = entra("https://graph.test");
        assert_eq!(
            source.group_lookup_url("R&D's").unwrap(),
            "https://graph.test/v1.0/groups?$filter=displayName%20eq%20%27R%26D%27%27s%27&$select=id%2CdisplayName"
        );
        assert_eq!(source.parse_group_lookup("eng", &response(r#"{"value":[{"id":"g1"}]}"#)).unwrap(), "g1");
        assert!(source.parse_group_lookup("eng", &response(r#"{"value":[]}"#)).unwrap_err().contains("no group"));
        assert!(source
            .parse_group_lookup("eng", &response(r#"{"value":[{"id":"a"},{"id":"b"}]}"#))
            .unwrap_err()
            .contains("2 groups"));
    }

    #[test]
    fn transitive_members_keep_users_only() {
        let page = entra("https://graph.test")
            .parse_members(&response(
                r##"{"value":[{"@odata.type":"#microsoft.graph.user","id":"1"},
                {"@odata.type":"#microsoft.graph.group","id":"g"},
                {"@odata.type":"#microsoft.graph.device","id":"d"}]}"##,
            ))
            .unwrap();
        assert_eq!(page.items, [Member::User("1".into()), Member::Other, Member::Other]);
    }

    #[test]
    fn graph_errors_and_token_errors_are_read() {
        let source = entra("https://graph.test");
        assert_eq!(
            source
                .error_message(
                    br#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges"}}"#
                )
                .as_deref(),
            Some("Insufficient privileges (Authorization_RequestDenied)")
        );
        assert_eq!(
            source.error_message(br#"{"error":"invalid_client","error_description":"AADSTS7000215"}"#).as_deref(),
            Some("invalid_client: AADSTS7000215")
        );
        assert_eq!(source.redact("echo s3cret~value"), "echo [redacted]");
    }
}
