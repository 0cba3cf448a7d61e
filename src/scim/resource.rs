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
//! Incoming bodies may carry any attribute of the core or an extension
//! schema; what GitBook does not store (`name`, `externalId`, `password`,
//! the enterprise extension…) is accepted and not kept. An attribute that is
//! in no schema is refused (400 `invalidSyntax`), so a typo is not silently
//! dropped.

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

/// RFC 7643 §4.1's User attributes (lower case), plus `schemas`.
pub const USER_ATTRIBUTES: [&str; 25] = [
    "schemas",
    "id",
    "externalid",
    "meta",
    "username",
    "name",
    "displayname",
    "nickname",
    "profileurl",
    "title",
    "usertype",
    "preferredlanguage",
    "locale",
    "timezone",
    "active",
    "password",
    "emails",
    "phonenumbers",
    "ims",
    "photos",
    "addresses",
    "groups",
    "entitlements",
    "roles",
    "x509certificates",
];
/// RFC 7643 §4.2's Group attributes (lower case), plus `schemas`.
pub const GROUP_ATTRIBUTES: [&str; 6] = ["schemas", "id", "externalid", "meta", "displayname", "members"];

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

/// A User body (POST or PUT), as far as GitBook needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInput {
    pub email: Email,
    /// `None` when not given: true for a new user, unchanged by a PUT.
    pub active: Option<bool>,
    pub role: RoleChoice,
}

/// Reads a User body: `userName` must be the person's email.
pub fn user_input(body: &Value) -> Result<UserInput, ScimError> {
    let object = resource_object(body, &USER_ATTRIBUTES, "User")?;
    let user_name = field(object, "username")
        .and_then(Value::as_str)
        .ok_or_else(|| ScimError::bad(ScimType::InvalidValue, "userName is required and must be a string"))?;
    let email = user_name_email(user_name)?;
    let active = match field(object, "active") {
        None | Some(Value::Null) => None,
        Some(value) => {
            Some(boolean(value).ok_or_else(|| ScimError::bad(ScimType::InvalidValue, "active must be true or false"))?)
        }
    };
    let role = match field(object, "roles") {
        None | Some(Value::Null) => None,
        Some(value) => roles(value)?,
    };
    Ok(UserInput { email, active, role })
}

/// `userName` as the GitBook email: it must be the person's email address.
pub fn user_name_email(user_name: &str) -> Result<Email, ScimError> {
    Email::parse("userName", user_name).map_err(|error| {
        ScimError::bad(
            ScimType::InvalidValue,
            format!("userName must be the person's email address (map it from mail): {error}"),
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
    let object = resource_object(body, &GROUP_ATTRIBUTES, "Group")?;
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
/// object alone is read as a list of one). Each must be a user id of this
/// service.
pub fn member_values(value: &Value) -> Result<Vec<Email>, ScimError> {
    let entries = match value {
        Value::Array(entries) => entries.as_slice(),
        single @ Value::Object(_) => std::slice::from_ref(single),
        _ => return Err(ScimError::bad(ScimType::InvalidValue, "members must be an array of {\"value\": id}")),
    };
    let mut emails: Vec<Email> = Vec::with_capacity(entries.len());
    for entry in entries {
        let id = entry.get("value").and_then(Value::as_str).ok_or_else(|| {
            ScimError::bad(ScimType::InvalidValue, "each member must be an object with a string value")
        })?;
        let email = member_email(id)?;
        if !emails.contains(&email) {
            emails.push(email);
        }
    }
    Ok(emails)
}

/// The email a member `value` names.
pub fn member_email(id: &str) -> Result<Email, ScimError> {
    id::email_of(id).ok_or_else(|| {
        let shown: String = id.chars().take(60).collect();
        ScimError::bad(ScimType::InvalidValue, format!("member {shown:?} is not a user id of this service"))
    })
}

/// The body as an object whose attributes are all in `known` (case
/// insensitive) or in an extension schema.
fn resource_object<'v>(body: &'v Value, known: &[&str], kind: &str) -> Result<&'v Map<String, Value>, ScimError> {
    let object = body
        .as_object()
        .ok_or_else(|| ScimError::bad(ScimType::InvalidSyntax, format!("a {kind} must be a JSON object")))?;
    for key in object.keys() {
        let lower = key.to_ascii_lowercase();
        if !known.contains(&lower.as_str()) && !lower.starts_with("urn:") {
            let shown: String = key.chars().take(60).collect();
            return Err(ScimError::bad(
                ScimType::InvalidSyntax,
                format!("{shown:?} is not an attribute of the SCIM {kind} schema"),
            ));
        }
    }
    Ok(object)
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
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "7"}
        });
        assert_eq!(user_input(&entra).unwrap(), UserInput { email: email("ann@x.io"), active: Some(true), role: None });
        let okta = json!({"schemas": [USER_SCHEMA], "userName": "bo@x.io", "active": "False", "password": "x",
                          "groups": [], "roles": [{"value": "read"}, {"value": "Edit", "primary": true}]});
        assert_eq!(
            user_input(&okta).unwrap(),
            UserInput { email: email("bo@x.io"), active: Some(false), role: Some(Some(Role::Edit)) }
        );
        assert_eq!(roles(&json!("guest")).unwrap(), Some(None));
    }

    #[test]
    fn bad_user_bodies_are_refused_naming_the_problem() {
        for (body, kind, says) in [
            (json!([]), ScimType::InvalidSyntax, "JSON object"),
            (json!({"userName": "a@x.io", "colour": "red"}), ScimType::InvalidSyntax, "\"colour\""),
            (json!({"displayName": "A"}), ScimType::InvalidValue, "userName is required"),
            (json!({"userName": "2819c223-7f76"}), ScimType::InvalidValue, "map it from mail"),
            (json!({"userName": "a@x.io", "active": "maybe"}), ScimType::InvalidValue, "active"),
            (json!({"userName": "a@x.io", "roles": [{"value": "owner"}]}), ScimType::InvalidValue, "unknown role"),
        ] {
            let error = user_input(&body).unwrap_err();
            assert_eq!(error.scim_type, Some(kind), "{body}");
            assert!(error.detail.contains(says), "{body}: {}", error.detail);
        }
    }

    #[test]
    fn groups_carry_a_title_and_member_ids() {
        let ann = id::user_id(&email("ann@x.io"));
        let body = json!({"schemas": [GROUP_SCHEMA], "displayName": " Data ", "members": [{"value": ann, "display": "Ann"}, {"value": ann}]});
        assert_eq!(
            group_input(&body).unwrap(),
            GroupInput { title: title_of("Data").unwrap(), members: vec![email("ann@x.io")] }
        );
        assert_eq!(
            group_input(&json!({"displayName": "x", "members": [{"value": "nobody"}]})).unwrap_err().scim_type,
            Some(ScimType::InvalidValue)
        );
        assert!(group_input(&json!({"displayName": "x".repeat(65)})).is_err());
        let team = Team { id: "t1".into(), title: "Data".into(), members: 1 };
        let rendered = group(&team, Some(&[member("Ann", "ann@x.io", None)]));
        assert_eq!(rendered["members"], json!([{"value": ann, "display": "Ann"}]));
        assert_eq!(group(&team, None).get("members"), None);
    }
}
