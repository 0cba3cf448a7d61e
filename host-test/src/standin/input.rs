//! Request-body and parameter validation shared by the handlers. Every failure is a 400
//! `Reply` naming the problem, never a panic.
//!
//! Types are checked as the spec writes them: an optional field may be left out, but
//! `null` is only accepted where the schema allows it (`MemberRoleOrGuest`), so
//! `"sso": null` or `"add": null` is a 400 rather than "not given".

use serde_json::{Map, Value};

use super::model::{Role, TeamRole};
use super::reply::Reply;

/// Handlers return `Err(reply)` for failures so `?` can carry them.
pub(crate) type Answer = Result<Reply, Reply>;

/// The body as a JSON object.
pub(crate) fn json_object(body: &[u8]) -> Result<Map<String, Value>, Reply> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Reply::bad_request("Request body must be a JSON object")),
        Err(e) => Err(Reply::bad_request(format!("Request body is not valid JSON: {e}"))),
    }
}

/// A `MemberRoleOrGuest` value: a role name or `null` (guest).
pub(crate) fn role_or_guest(value: &Value, field: &str) -> Result<Option<Role>, Reply> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Role::parse(s).map(Some).ok_or_else(|| {
            Reply::bad_request(format!(
                "Invalid {field} {s:?}: expected one of admin, create, edit, review, comment, read, or null"
            ))
        }),
        other => Err(Reply::bad_request(format!("Invalid {field} {other}: expected a role name or null"))),
    }
}

/// An optional array of strings, e.g. `add` / `remove` of a team update; empty when left
/// out.
pub(crate) fn string_list(map: &Map<String, Value>, field: &str) -> Result<Vec<String>, Reply> {
    match map.get(field) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| Reply::bad_request(format!("Invalid {field} entry {v}: expected a string")))
            })
            .collect(),
        Some(other) => Err(Reply::bad_request(format!("Invalid {field} {other}: expected an array of strings"))),
    }
}

/// An optional boolean, e.g. `sso` of an invite.
pub(crate) fn optional_bool(map: &Map<String, Value>, field: &str) -> Result<Option<bool>, Reply> {
    match map.get(field) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(Reply::bad_request(format!("Invalid {field} {other}: expected a boolean"))),
    }
}

/// The optional `memberships` of a team update: an object from a user (id or email) to a
/// `TeamMember` (`{"role": "owner" | "member"}`, `role` required).
pub(crate) fn team_memberships(
    map: &Map<String, Value>,
    refuse_unknown: bool,
) -> Result<Vec<(String, TeamRole)>, Reply> {
    let entries = match map.get("memberships") {
        None => return Ok(Vec::new()),
        Some(Value::Object(entries)) => entries,
        Some(other) => {
            return Err(Reply::bad_request(format!(
                "Invalid memberships {other}: expected an object from user to {{\"role\"}}"
            )))
        }
    };
    entries
        .iter()
        .map(|(user, value)| {
            let field = format!("memberships.{user}");
            let Value::Object(member) = value else {
                return Err(Reply::bad_request(format!("Invalid {field} {value}: expected {{\"role\": ...}}")));
            };
            check_fields(member, &["role"], &field, refuse_unknown)?;
            let role = match member.get("role") {
                Some(Value::String(r)) => TeamRole::parse(r),
                Some(_) => None,
                None => return Err(Reply::bad_request(format!("{field} is missing \"role\""))),
            };
            let role = role.ok_or_else(|| {
                Reply::bad_request(format!("Invalid {field}.role {}: expected owner or member", member["role"]))
            })?;
            Ok((user.clone(), role))
        })
        .collect()
}

/// With `refuse` set, a 400 for the first key of `map` not in `known`. The spec's
/// schemas allow additional properties, so this only runs when a test asks for it.
pub(crate) fn check_fields(map: &Map<String, Value>, known: &[&str], context: &str, refuse: bool) -> Result<(), Reply> {
    match map.keys().find(|k| refuse && !known.contains(&k.as_str())) {
        Some(unknown) => {
            Err(Reply::bad_request(format!("Unknown field {unknown:?} in {context}: expected {}", known.join(", "))))
        }
        None => Ok(()),
    }
}

/// A team title: a string of 1 to 64 characters (`OrganizationTeamTitle`).
pub(crate) fn team_title(map: &Map<String, Value>) -> Result<String, Reply> {
    match map.get("title") {
        Some(Value::String(t)) if (1..=64).contains(&t.chars().count()) => Ok(t.clone()),
        Some(Value::String(t)) => Err(Reply::bad_request(format!("Invalid title {t:?}: must be 1 to 64 characters"))),
        Some(other) => Err(Reply::bad_request(format!("Invalid title {other}: expected a string"))),
        None => Err(Reply::bad_request("Missing required field \"title\"")),
    }
}

/// Whether `email` is acceptable to the invite endpoint: exactly one `@`, a non-empty
/// local part, a domain with a dot and no empty label, and no whitespace or controls.
pub(crate) fn is_valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && domain.split('.').all(|label| !label.is_empty())
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in ["a@b.c", "first.last+tag@sub.example.test", "Ünï@exämple.de"] {
            assert!(is_valid_email(ok), "{ok}");
        }
        for bad in [
            "", "a", "@b.c", "a@", "a@b", "a@@b.c", "a@b@c.d", "a b@c.d", "a@b.c ", "a@.b", "a@b.", "a@b..c", "a\t@b.c",
        ] {
            assert!(!is_valid_email(bad), "{bad:?}");
        }
    }

    #[test]
    fn roles() {
        assert_eq!(role_or_guest(&Value::Null, "role").ok(), Some(None));
        assert_eq!(role_or_guest(&Value::from("edit"), "role").ok(), Some(Some(Role::Edit)));
        assert!(role_or_guest(&Value::from("guest"), "role").is_err());
        assert!(role_or_guest(&Value::from(3), "role").is_err());
    }

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().expect("object").clone()
    }

    #[test]
    fn null_is_not_the_same_as_left_out() {
        let body = object(serde_json::json!({"add": null, "sso": null, "memberships": null}));
        assert!(string_list(&body, "add").is_err());
        assert!(optional_bool(&body, "sso").is_err());
        assert!(team_memberships(&body, false).is_err());
        let empty = Map::new();
        assert_eq!(string_list(&empty, "add").ok(), Some(vec![]));
        assert_eq!(optional_bool(&empty, "sso").ok(), Some(None));
        assert_eq!(team_memberships(&empty, false).ok(), Some(vec![]));
    }

    #[test]
    fn memberships() {
        let ok = object(serde_json::json!({"memberships": {"u1": {"role": "owner"}, "b@x.test": {"role": "member"}}}));
        let Ok(mut parsed) = team_memberships(&ok, true) else { panic!("valid memberships refused") };
        parsed.sort();
        assert_eq!(parsed, [("b@x.test".into(), TeamRole::Member), ("u1".into(), TeamRole::Owner)]);
        for bad in [
            serde_json::json!({"memberships": []}),
            serde_json::json!({"memberships": {"u1": "owner"}}),
            serde_json::json!({"memberships": {"u1": {}}}),
            serde_json::json!({"memberships": {"u1": {"role": "admin"}}}),
            serde_json::json!({"memberships": {"u1": {"role": null}}}),
        ] {
            assert!(team_memberships(&object(bad.clone()), false).is_err(), "{bad}");
        }
        let extra = object(serde_json::json!({"memberships": {"u1": {"role": "owner", "since": 1}}}));
        assert!(team_memberships(&extra, false).is_ok(), "extra fields are allowed by the spec");
        assert!(team_memberships(&extra, true).is_err(), "unless a test refuses them");
    }

    #[test]
    fn unknown_fields_only_when_asked() {
        let body = object(serde_json::json!({"add": [], "adds": []}));
        assert!(check_fields(&body, &["add", "remove"], "the body", false).is_ok());
        let message = match check_fields(&body, &["add", "remove"], "the body", true) {
            Err(reply) => String::from_utf8_lossy(&reply.body).into_owned(),
            Ok(()) => panic!("refused nothing"),
        };
        assert!(message.contains("\\\"adds\\\""), "{message}");
    }
}
