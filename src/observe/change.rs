//! What a write to GitBook asked for, read back from the planned request:
//! the change's name, its target (user, team, emails) and the values it
//! sets. Read from the request itself so that whatever way in planned it
//! (CLI, WIT, events, SCIM, reconcile), the audit line says exactly what
//! was sent.

use super::emails::EmailKey;
use crate::http::{Method, Request};
use serde_json::{Map, Value};

/// A write, described for the audit log.
#[derive(Debug, PartialEq)]
pub struct Change {
    /// The operation as a name, e.g. `remove-member`.
    pub name: String,
    /// The request's path (no query).
    pub path: String,
    /// Who or what is changed: `userId`, `teamId`, `emails`, `title`.
    pub target: Map<String, Value>,
    /// What is set: `role`, `sso`, `roles`, `add`, `remove`, `members`,
    /// `title` (a rename).
    pub set: Map<String, Value>,
}

/// Whether a request changes anything at GitBook.
pub fn is_write(request: &Request) -> bool {
    request.method != Method::Get
}

/// `invite users` → `invite-users`.
pub fn change_name(operation: &str) -> String {
    operation.to_ascii_lowercase().replace(' ', "-")
}

/// The path of an absolute URL, without its query.
pub fn path_of(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    path.split(['?', '#']).next().unwrap_or(path)
}

/// Describes a write; emails are hashed when `emails` holds a key.
pub fn describe(operation: &str, request: &Request, emails: Option<&EmailKey>) -> Change {
    let path = path_of(&request.url).to_owned();
    let email = |text: &str| -> Value {
        match emails {
            Some(key) => Value::String(key.hash(text)),
            None => Value::String(text.to_owned()),
        }
    };
    // A team member reference is an email or an ID; IDs never hold an `@`.
    let reference = |value: &Value| -> Value {
        match value.as_str() {
            Some(text) if text.contains('@') => email(text),
            _ => value.clone(),
        }
    };
    let mut target = Map::new();
    let mut set = Map::new();
    let segments: Vec<&str> = path.split('/').collect();
    // /v1/orgs/{org}/members/{id}[/sso] and /v1/orgs/{org}/teams/{id}[/members]
    if let Some(at) = segments.iter().position(|s| *s == "orgs") {
        match (segments.get(at + 2), segments.get(at + 3)) {
            (Some(&"members"), Some(id)) => drop(target.insert("userId".into(), Value::from(*id))),
            (Some(&"teams"), Some(id)) => drop(target.insert("teamId".into(), Value::from(*id))),
            _ => {}
        }
    }
    let body: Value = request.body.as_deref().and_then(|b| serde_json::from_slice(b).ok()).unwrap_or(Value::Null);
    if let Some(list) = body.get("emails").and_then(Value::as_array) {
        let mut all = Vec::new();
        let mut roles = Vec::new();
        for item in list {
            if let Some(text) = item.as_str() {
                all.push(email(text));
            } else if let Some(text) = item.get("email").and_then(Value::as_str) {
                all.push(email(text));
                let role = item.get("role").cloned().unwrap_or(Value::Null);
                roles.push(Value::Object(Map::from_iter([("email".into(), email(text)), ("role".into(), role)])));
            }
        }
        target.insert("emails".into(), Value::Array(all));
        if !roles.is_empty() {
            set.insert("roles".into(), Value::Array(roles));
        }
    }
    for field in ["role", "sso"] {
        if let Some(value) = body.get(field) {
            set.insert(field.into(), value.clone());
        }
    }
    for field in ["add", "remove", "members"] {
        if let Some(list) = body.get(field).and_then(Value::as_array) {
            set.insert(field.into(), Value::Array(list.iter().map(reference).collect()));
        }
    }
    if let Some(title) = body.get("title") {
        // A new team is known by its title; a renamed one by its ID.
        if target.contains_key("teamId") {
            set.insert("title".into(), title.clone());
        } else {
            target.insert("title".into(), title.clone());
        }
    }
    Change { name: change_name(operation), path, target, set }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(method: Method, path: &str, body: Option<Value>) -> Request {
        Request {
            method,
            url: format!("http://127.0.0.1:9/v1/orgs/acme{path}"),
            headers: vec![("authorization".into(), "Bearer t0k3n".into())],
            body: body.map(|b| b.to_string().into_bytes()),
        }
    }

    #[test]
    fn an_invite_names_its_emails_role_and_sso() {
        let body = json!({"emails": ["ann@x.io", {"email": "bob@x.io", "role": "admin"}], "role": "read", "sso": true});
        let change = describe("invite users", &request(Method::Post, "/invites", Some(body)), None);
        assert_eq!(change.name, "invite-users");
        assert_eq!(change.path, "/v1/orgs/acme/invites");
        assert_eq!(Value::Object(change.target), json!({"emails": ["ann@x.io", "bob@x.io"]}));
        assert_eq!(
            Value::Object(change.set),
            json!({"role": "read", "sso": true, "roles": [{"email": "bob@x.io", "role": "admin"}]})
        );
    }

    #[test]
    fn hashed_emails_stay_out_of_every_field() {
        let key = EmailKey::derive("k");
        let body = json!({"emails": [{"email": "bob@x.io", "role": "admin"}], "role": null, "sso": false});
        let invite = describe("invite users", &request(Method::Post, "/invites", Some(body)), Some(&key));
        let team = describe(
            "update team members",
            &request(Method::Put, "/teams/t1/members", Some(json!({"add": ["ann@x.io", "u2"], "remove": []}))),
            Some(&key),
        );
        let text = format!("{:?}{:?}", invite, team);
        assert!(!text.contains("@x.io"), "{text}");
        assert_eq!(team.set["add"], json!([key.hash("ann@x.io"), "u2"]));
        assert_eq!(team.target["teamId"], "t1");
    }

    #[test]
    fn members_and_teams_are_named_by_id_and_titles_by_role() {
        let removal = describe("remove member", &request(Method::Delete, "/members/u1", None), None);
        assert_eq!((removal.name.as_str(), Value::Object(removal.target)), ("remove-member", json!({"userId": "u1"})));
        let sso = describe("set SSO member", &request(Method::Post, "/members/u1/sso", None), None);
        assert_eq!((sso.name.as_str(), sso.path.as_str()), ("set-sso-member", "/v1/orgs/acme/members/u1/sso"));
        let create = describe(
            "create team",
            &request(Method::Put, "/teams", Some(json!({"title": "Eng", "members": ["u1"]}))),
            None,
        );
        assert_eq!(Value::Object(create.target), json!({"title": "Eng"}));
        let rename = describe("rename team", &request(Method::Patch, "/teams/t1", Some(json!({"title": "Ops"}))), None);
        assert_eq!((rename.target["teamId"].clone(), rename.set["title"].clone()), (json!("t1"), json!("Ops")));
    }

    #[test]
    fn the_path_drops_scheme_authority_and_query() {
        assert_eq!(path_of("https://api.gitbook.com/v1/orgs/a/members?search=ann%40x.io"), "/v1/orgs/a/members");
        assert_eq!(path_of("http://h:1"), "/");
    }
}
