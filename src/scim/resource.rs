//! SCIM resources to and from GitBook's model: a User is an organization
//! member, a Group a team.
//!
//! - User: `id` the opaque id carrying the email ([`super::id`]);
//!   `userName` and the one (primary, work) email are the member's email,
//!   lower-cased; `displayName` and `name` come from GitBook's display name
//!   (`givenName` its first word, `familyName` the rest); `active` is
//!   whether they are a member and not disabled; `roles` holds the GitBook
//!   role (`admin`…`read`, or `guest`).
//! - Group: `id` the team id, `displayName` its title, `members` the
//!   members' user ids.
//!
//! Incoming bodies may carry any attribute: what GitBook does not store
//! (`name`, `externalId`, `password`, the enterprise extension, Entra's
//! top-level `"department": null`, attributes an admin mapped without a
//! URN…) is accepted and not kept, as RFC 7643 §2.1 and §3 let a service
//! provider ignore attributes it does not support.
//!
//! # The GitBook email
//! One rule for every body: the work email (`emails[type eq "work"]`), else
//! the primary one, is the member's GitBook email; without either, `userName`
//! is, when it is an email (else 400, naming the mapping to change). A
//! `userName` that differs from the GitBook email (Entra's
//! userPrincipalName, Microsoft's `Test_User_…` examples) is kept in the
//! user's id ([`super::id`]) and answered back as sent; it cannot be
//! searched for, so a `userName eq` filter finds such a user only by email.

use super::error::{ScimError, ScimType};
use super::id;
use super::patch::boolean;
use crate::gitbook::model::{Member, Team};
use crate::role::{parse_role_or_guest, role_or_guest_name, Role};
use crate::validate::{Email, TeamTitle};
use serde_json::{json, Map, Value};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// A role as the IdP set it: `None` when it sent none (the default applies).
pub type RoleChoice = Option<Option<Role>>;

/// A member as a SCIM User. `id` is the id the IdP asked about when it asked
/// about one (it names the same email).
pub fn user(member: &Member, email: &Email) -> Value {
    let display = member.user.display_name.trim();
    let display = if display.is_empty() { email.as_str() } else { display };
    let (given, family) = match display.split_once(char::is_whitespace) {
        Some((given, family)) => (given, Some(family.trim())),
        None => (display, None),
    };
    let mut name = json!({"formatted": display, "givenName": given});
    if let Some(family) = family {
        name["familyName"] = json!(family);
    }
    let mut body = base_user(email, !member.disabled);
    // GitBook records when someone joined and nothing later that SCIM
    // attributes change, so the join is also the last modification.
    body["meta"]["created"] = json!(member.joined_at);
    body["meta"]["lastModified"] = json!(member.joined_at);
    body["displayName"] = json!(display);
    body["name"] = name;
    body["roles"] = json!([{"value": role_or_guest_name(member.role), "primary": true}]);
    body
}

/// Someone who is not a member (deactivated, deleted or never invited: the
/// same thing without a database) as a SCIM User.
pub fn absent_user(email: &Email) -> Value {
    let mut body = base_user(email, false);
    body["displayName"] = json!(email.as_str());
    body
}

fn base_user(email: &Email, active: bool) -> Value {
    json!({
        "schemas": [USER_SCHEMA],
        "id": id::user_id(email),
        "userName": email.as_str(),
        "active": active,
        "emails": [{"value": email.as_str(), "type": "work", "primary": true}],
        "meta": {"resourceType": "User"},
    })
}

/// A team as a SCIM Group; `members` left out when not read
/// (`excludedAttributes=members`). Members without a visible email cannot
/// have a user id and are left out.
pub fn group(team: &Team, members: Option<&[Member]>) -> Value {
    let mut body = json!({
        "schemas": [GROUP_SCHEMA],
        "id": team.id,
        "displayName": team.title,
        "meta": {"resourceType": "Group"},
    });
    if let Some(created) = &team.created_at {
        // A rename or a membership change leaves no date in GitBook's answers.
        body["meta"]["created"] = json!(created);
        body["meta"]["lastModified"] = json!(created);
    }
    if let Some(members) = members {
        let values: Vec<Value> = members
            .iter()
            .filter_map(|m| {
                let email = Email::parse("email", m.user.email.as_deref()?).ok()?;
                Some(json!({"value": id::user_id(&email), "display": m.user.display_name}))
            })
            .collect();
        body["members"] = Value::Array(values);
    }
    body
}

/// A User body (POST or PUT), as far as GitBook needs it. The email and the
/// role may be refused; a PUT reports that only after a deactivation has
/// taken effect, so they are kept as results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInput {
    /// The GitBook email ([module docs](self#the-gitbook-email)), and the
    /// `userName` when it is not that email (kept in the id).
    pub identity: Result<(Email, Option<String>), ScimError>,
    /// `None` when not given: true for a new user, unchanged by a PUT.
    pub active: Option<bool>,
    /// An absent, `null` or empty `roles` is `None`: no change.
    pub role: Result<RoleChoice, ScimError>,
}

/// Reads a User body.
pub fn user_input(body: &Value) -> Result<UserInput, ScimError> {
    let object = resource_object(body, "User")?;
    let active = match field(object, "active") {
        None | Some(Value::Null) => None,
        Some(value) => {
            Some(boolean(value).ok_or_else(|| ScimError::bad(ScimType::InvalidValue, "active must be true or false"))?)
        }
    };
    let role = match field(object, "roles") {
        None | Some(Value::Null) => Ok(None),
        Some(value) => roles(value),
    };
    Ok(UserInput { identity: identity(object), active, role })
}

/// The GitBook email a User body names, and its `userName` when that is
/// something else.
fn identity(object: &Map<String, Value>) -> Result<(Email, Option<String>), ScimError> {
    let user_name = field(object, "username")
        .and_then(Value::as_str)
        .ok_or_else(|| ScimError::bad(ScimType::InvalidValue, "userName is required and must be a string"))?;
    let Some(address) = field(object, "emails").and_then(work_email) else {
        return Ok((user_name_email(user_name)?, None));
    };
    let email = Email::parse("emails", address).map_err(|error| {
        ScimError::bad(ScimType::InvalidValue, format!("the work email is not a usable email address: {error}"))
    })?;
    if Email::parse("userName", user_name).is_ok_and(|name| name == email) {
        return Ok((email, None));
    }
    if !id::keepable(user_name) {
        let shown: String = user_name.chars().take(100).collect();
        return Err(ScimError::bad(
            ScimType::InvalidValue,
            format!(
                "userName {shown:?} is not the work email {email} and cannot be kept in the user's id (1 to {} \
                 bytes, no control characters or surrounding spaces); map userName from the work email (Entra ID: \
                 mail; Okta: Username format Email)",
                id::MAX_USER_NAME
            ),
        ));
    }
    Ok((email, Some(user_name.to_owned())))
}

/// The address of the work email in an `emails` value, else of the primary
/// one.
pub fn work_email(emails: &Value) -> Option<&str> {
    let entries = emails.as_array()?;
    let is_work = |e: &&Value| e.get("type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("work"));
    let is_primary = |e: &&Value| e.get("primary").and_then(boolean) == Some(true);
    let chosen = entries.iter().find(is_work).or_else(|| entries.iter().find(is_primary))?;
    chosen.get("value").and_then(Value::as_str)
}

/// `userName` as the GitBook email: it must be the person's email address.
pub fn user_name_email(user_name: &str) -> Result<Email, ScimError> {
    Email::parse("userName", user_name).map_err(|error| {
        ScimError::bad(
            ScimType::InvalidValue,
            format!(
                "without a work email, userName must be the person's email address: {error}. Map userName from \
                 mail, or map emails[type eq \"work\"].value"
            ),
        )
    })
}

/// The role in a `roles` value: an array of `{"value": "admin", "primary":
/// true}` (the primary one, else the first), one such object, or a plain
/// string (Entra's `roles[primary eq "True"].value`). An empty array sets
/// no role.
pub fn roles(value: &Value) -> Result<RoleChoice, ScimError> {
    let chosen = match value {
        Value::Array(entries) => {
            entries.iter().find(|e| e.get("primary").and_then(boolean) == Some(true)).or(entries.first())
        }
        other => Some(other),
    };
    let Some(chosen) = chosen else {
        return Ok(None);
    };
    let text = match chosen {
        Value::String(s) => s.as_str(),
        Value::Object(o) => o.get("value").and_then(Value::as_str).unwrap_or(""),
        _ => "",
    };
    parse_role_or_guest(text)
        .map(Some)
        .map_err(|message| ScimError::bad(ScimType::InvalidValue, format!("roles: {message}")))
}

/// A Group body (POST or PUT).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupInput {
    pub title: TeamTitle,
    pub members: Vec<Email>,
}

pub fn group_input(body: &Value) -> Result<GroupInput, ScimError> {
    let object = resource_object(body, "Group")?;
    let title = match field(object, "displayname") {
        Some(Value::String(title)) => title_of(title)?,
        _ => return Err(ScimError::bad(ScimType::InvalidValue, "displayName is required and must be a string")),
    };
    let members = match field(object, "members") {
        None | Some(Value::Null) => Vec::new(),
        Some(value) => member_values(value)?,
    };
    Ok(GroupInput { title, members })
}

pub fn title_of(text: &str) -> Result<TeamTitle, ScimError> {
    TeamTitle::parse("displayName", text)
        .map_err(|error| ScimError::bad(ScimType::InvalidValue, format!("not a usable GitBook team title: {error}")))
}

/// The people in a `members` value: `[{"value": "<user id>"}, …]` (one
/// object alone is read as a list of one). A value that is not a user id of
/// this service names nobody GitBook could have and is left out, like any
/// other non-member: one odd member never blocks a group.
pub fn member_values(value: &Value) -> Result<Vec<Email>, ScimError> {
    let entries = match value {
        Value::Array(entries) => entries.as_slice(),
        single @ Value::Object(_) => std::slice::from_ref(single),
        _ => return Err(ScimError::bad(ScimType::InvalidValue, "members must be an array of {\"value\": id}")),
    };
    let mut emails: Vec<Email> = Vec::with_capacity(entries.len());
    let mut seen = std::collections::HashSet::with_capacity(entries.len());
    for entry in entries {
        let id = entry.get("value").and_then(Value::as_str).ok_or_else(|| {
            ScimError::bad(ScimType::InvalidValue, "each member must be an object with a string value")
        })?;
        let Some(email) = id::email_of(id) else { continue };
        if seen.insert(email.clone()) {
            emails.push(email);
        }
    }
    Ok(emails)
}

/// The body as an object. Attributes this service does not know are
/// ignored, not refused: RFC 7643 lets a service provider ignore what it
/// does not store, and identity providers send custom and `null` ones.
fn resource_object<'v>(body: &'v Value, kind: &str) -> Result<&'v Map<String, Value>, ScimError> {
    body.as_object().ok_or_else(|| ScimError::bad(ScimType::InvalidSyntax, format!("a {kind} must be a JSON object")))
}

/// An attribute by name, case-insensitively (`name` in lower case).
fn field<'v>(object: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    object.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(display: &str, email: &str, role: Option<Role>) -> Member {
        serde_json::from_value(json!({
            "id": "u1", "role": role, "disabled": false, "joinedAt": "2024-01-01T00:00:00Z", "sso": true,
            "user": {"id": "u1", "displayName": display, "email": email}
        }))
        .unwrap()
    }

    fn email(s: &str) -> Email {
        Email::parse("e", s).unwrap()
    }

    #[test]
    fn a_member_is_a_user_with_the_fields_okta_checks() {
        let body = user(&member("Ada King Lovelace", "Ada@X.io", Some(Role::Admin)), &email("ada@x.io"));
        assert_eq!(body["id"], id::user_id(&email("ada@x.io")));
        assert_eq!(body["userName"], "ada@x.io");
        assert_eq!(body["active"], true);
        assert_eq!(
            body["name"],
            json!({"formatted": "Ada King Lovelace", "givenName": "Ada", "familyName": "King Lovelace"})
        );
        assert_eq!(body["emails"], json!([{"value": "ada@x.io", "type": "work", "primary": true}]));
        assert_eq!(body["roles"], json!([{"value": "admin", "primary": true}]));
        let guest = user(&member("Gus", "g@x.io", None), &email("g@x.io"));
        assert_eq!((guest["roles"][0]["value"].as_str(), guest["name"].get("familyName")), (Some("guest"), None));
        assert_eq!(absent_user(&email("g@x.io"))["active"], false);
    }

    #[test]
    fn entra_s_and_okta_s_create_bodies_read_as_email_active_and_role() {
        let entra = json!({
            "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA], "externalId": "e1", "userName": "Ann@X.io",
            "active": true, "emails": [{"primary": true, "type": "work", "value": "Ann@X.io"}],
            "name": {"formatted": "Ann B", "familyName": "B", "givenName": "Ann"}, "roles": [],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "7"},
            "department": null, "manager": null, "costCentre": "R&D"
        });
        let expected = UserInput { identity: Ok((email("ann@x.io"), None)), active: Some(true), role: Ok(None) };
        assert_eq!(user_input(&entra).unwrap(), expected);
        let okta = json!({"schemas": [USER_SCHEMA], "userName": "bo@x.io", "active": "False", "password": "x",
                          "groups": [], "roles": [{"value": "read"}, {"value": "Edit", "primary": true}]});
        assert_eq!(
            user_input(&okta).unwrap(),
            UserInput { identity: Ok((email("bo@x.io"), None)), active: Some(false), role: Ok(Some(Some(Role::Edit))) }
        );
        assert_eq!(roles(&json!("guest")).unwrap(), Some(None));
    }

    #[test]
    fn the_gitbook_email_is_the_work_email_else_the_primary_else_user_name() {
        let identity = |body: Value| user_input(&body).unwrap().identity;
        let work = json!({"userName": "ann@x.io", "emails": [{"value": "home@y.io", "type": "home", "primary": true},
                                                             {"value": "Ann@X.io", "type": "work"}]});
        assert_eq!(identity(work), Ok((email("ann@x.io"), None)));
        let primary = json!({"userName": "ann@x.io", "emails": [{"value": "ann@x.io", "primary": true}]});
        assert_eq!(identity(primary), Ok((email("ann@x.io"), None)));
        let home_only = json!({"userName": "Ann@x.io", "emails": [{"value": "a@home.io", "type": "home"}]});
        assert_eq!(identity(home_only), Ok((email("ann@x.io"), None)));
        // Entra's default mapping: userName from userPrincipalName; kept as sent.
        let upn = json!({"userName": "ann@corp.onmicrosoft.com", "emails": [{"value": "ann@x.io", "type": "work"}]});
        assert_eq!(identity(upn), Ok((email("ann@x.io"), Some("ann@corp.onmicrosoft.com".into()))));
        let refused = identity(json!({"userName": "ann", "emails": []})).unwrap_err();
        assert!(refused.detail.contains("Map userName from mail"), "{}", refused.detail);
        let control = json!({"userName": "a\u{7}", "emails": [{"value": "ann@x.io", "type": "work"}]});
        assert_eq!(identity(control).unwrap_err().scim_type, Some(ScimType::InvalidValue));
    }

    #[test]
    fn bad_user_bodies_are_refused_naming_the_problem() {
        for (body, kind, says) in [
            (json!([]), ScimType::InvalidSyntax, "JSON object"),
            (json!({"displayName": "A"}), ScimType::InvalidValue, "userName is required"),
            (json!({"userName": "2819c223-7f76"}), ScimType::InvalidValue, "Map userName from mail"),
            (json!({"userName": "a@x.io", "active": "maybe"}), ScimType::InvalidValue, "active"),
        ] {
            let error = user_input(&body).and_then(|input| input.identity.map(|_| ())).unwrap_err();
            assert_eq!(error.scim_type, Some(kind), "{body}");
            assert!(error.detail.contains(says), "{body}: {}", error.detail);
        }
        let owner = user_input(&json!({"userName": "a@x.io", "roles": [{"value": "owner"}]})).unwrap();
        assert!(owner.role.unwrap_err().detail.contains("unknown role"));
    }

    #[test]
    fn groups_carry_a_title_and_member_ids() {
        let ann = id::user_id(&email("ann@x.io"));
        let body = json!({"schemas": [GROUP_SCHEMA], "displayName": " Data ", "members": [{"value": ann, "display": "Ann"}, {"value": ann}]});
        assert_eq!(
            group_input(&body).unwrap(),
            GroupInput { title: title_of("Data").unwrap(), members: vec![email("ann@x.io")] }
        );
        let foreign = group_input(&json!({"displayName": "x", "members": [{"value": "nobody"}, {"value": ann}]}));
        assert_eq!(foreign.unwrap().members, [email("ann@x.io")]);
        let shapeless = group_input(&json!({"displayName": "x", "members": [{"id": "nobody"}]}));
        assert_eq!(shapeless.unwrap_err().scim_type, Some(ScimType::InvalidValue));
        assert!(group_input(&json!({"displayName": "x".repeat(65)})).is_err());
        let team = Team { id: "t1".into(), title: "Data".into(), members: 1, created_at: None };
        let rendered = group(&team, Some(&[member("Ann", "ann@x.io", None)]));
        assert_eq!(rendered["members"], json!([{"value": ann, "display": "Ann"}]));
        assert_eq!(group(&team, None).get("members"), None);
    }
}
