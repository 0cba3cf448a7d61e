//! Request-body and parameter validation shared by the handlers. Every failure is a 400
//! `Reply` naming the problem, never a panic.

use serde_json::{Map, Value};

use super::model::Role;
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

/// An optional array of strings, e.g. `add` / `remove` of a team update.
pub(crate) fn string_list(map: &Map<String, Value>, field: &str) -> Result<Vec<String>, Reply> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
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
}
