//! The generic JSON event format: one event object or an array of them.
//!
//! ```json
//! {"id": "e1", "type": "user.joined", "email": "ann@example.com", "role": "edit", "sso": true}
//! {"id": "e2", "type": "user.left", "userId": "PERerEOAQ6QWXj1flmrlVzl3XJ22"}
//! {"id": "e3", "type": "user.left", "email": "bob@example.com"}
//! {"id": "e4", "type": "group.changed", "team": "Engineering", "add": ["ann@example.com"], "remove": ["u123"]}
//! {"id": "e5", "type": "group.changed", "teamId": "t1", "add": [], "remove": ["bob@example.com"]}
//! {"id": "e6", "type": "user.role_changed", "email": "ann@example.com", "role": "guest"}
//! ```
//!
//! Unknown types and unknown fields are refused (a typo must not silently do
//! nothing), and every error names the offending field, e.g.
//! `events[2].email`.

use super::{DirectoryEvent, Event, RoleChoice, TeamRef};
use crate::error::Error;
use crate::json_fields::Object;
use crate::role::parse_role_or_guest;
use crate::role::Role;
use crate::validate::TeamTitle;
use crate::validate::{self, printable, Email, GitBookId, MemberRef};
use serde_json::Value;

/// At most this many events in one document.
pub const MAX_EVENTS: usize = 10_000;
const MAX_ID_LEN: usize = 256;

pub const TYPES: [&str; 4] = ["user.joined", "user.left", "group.changed", "user.role_changed"];

/// Parses a document of generic events.
pub fn parse(body: &[u8]) -> Result<Vec<DirectoryEvent>, Error> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| Error::invalid("body", format!("is not valid JSON: {e}")))?;
    parse_value(&value)
}

/// Parses an already decoded document.
pub fn parse_value(value: &Value) -> Result<Vec<DirectoryEvent>, Error> {
    match value {
        Value::Array(items) if items.len() > MAX_EVENTS => {
            Err(Error::invalid("events", format!("has {} events; send at most {MAX_EVENTS} at a time", items.len())))
        }
        Value::Array(items) => {
            items.iter().enumerate().map(|(i, item)| parse_event(&format!("events[{i}]"), item)).collect()
        }
        Value::Object(_) => Ok(vec![parse_event("event", value)?]),
        _ => Err(Error::invalid("body", "must be an event object or an array of events")),
    }
}

/// `userId` or `email`, exactly one.
fn person(fields: &Object) -> Result<MemberRef, Error> {
    match (fields.string("userId")?, fields.string("email")?) {
        (Some(id), None) => Ok(MemberRef::Id(GitBookId::parse(&fields.field("userId"), id)?)),
        (None, Some(email)) => Ok(MemberRef::Email(Email::parse(&fields.field("email"), email)?)),
        _ => Err(Error::invalid(fields.path(), "needs exactly one of userId or email")),
    }
}

/// The strings of a list field (IDs or emails), for `validate::member_refs`.
fn list(fields: &Object, name: &str) -> Result<Vec<String>, Error> {
    Ok(fields.strings(name)?.into_iter().map(|(_, s)| s.to_owned()).collect())
}

/// The fields each event type takes.
fn allowed_fields(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "user.joined" => &["id", "type", "email", "role", "sso"],
        "user.left" => &["id", "type", "userId", "email"],
        "group.changed" => &["id", "type", "teamId", "team", "add", "remove"],
        "user.role_changed" => &["id", "type", "userId", "email", "role"],
        _ => return None,
    })
}

fn parse_event(path: &str, value: &Value) -> Result<DirectoryEvent, Error> {
    let Value::Object(map) = value else {
        return Err(Error::invalid(path, "must be an object"));
    };
    let kind = match map.get("type") {
        None | Some(Value::Null) => return Err(Error::invalid(format!("{path}.type"), "is required")),
        Some(Value::String(kind)) => kind.as_str(),
        Some(_) => return Err(Error::invalid(format!("{path}.type"), "must be a string")),
    };
    let allowed = allowed_fields(kind).ok_or_else(|| {
        Error::invalid(
            format!("{path}.type"),
            format!("{} is not an event type; expected one of {}", printable(kind), TYPES.join(", ")),
        )
    })?;
    let fields = Object::new(path, value, allowed)?;
    let id = match fields.string("id")? {
        Some(id) if id.len() > MAX_ID_LEN || id.chars().any(char::is_control) => {
            return Err(Error::invalid(
                fields.field("id"),
                format!("must be at most {MAX_ID_LEN} characters without control characters"),
            ));
        }
        id => id.map(str::to_owned),
    };
    let role = |name: &str| -> Result<Option<Option<Role>>, Error> {
        fields
            .string(name)?
            .map(|r| parse_role_or_guest(r).map_err(|m| Error::invalid(fields.field(name), m)))
            .transpose()
    };
    let event = match kind {
        "user.joined" => Event::Joined {
            email: Email::parse(&fields.field("email"), fields.required("email")?)?,
            role: role("role")?.map_or(RoleChoice::Default, RoleChoice::Set),
            sso: fields.bool("sso")?,
        },
        "user.left" => Event::Left { person: person(&fields)? },
        "group.changed" => {
            let team = match (fields.string("teamId")?, fields.string("team")?) {
                (Some(id), None) => TeamRef::Id(GitBookId::parse(&fields.field("teamId"), id)?),
                (None, Some(title)) => TeamRef::Title(TeamTitle::parse(&fields.field("team"), title)?),
                _ => return Err(Error::invalid(path, "needs exactly one of teamId or team (the team's title)")),
            };
            let add = validate::member_refs(&fields.field("add"), &list(&fields, "add")?)?;
            let remove = validate::member_refs(&fields.field("remove"), &list(&fields, "remove")?)?;
            Event::GroupChanged { team, add, remove }
        }
        _ => {
            fields.required("role")?;
            Event::RoleChanged { person: person(&fields)?, role: role("role")?.flatten() }
        }
    };
    Ok(DirectoryEvent { id, event })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::role::Role;

    fn field_of(error: Error) -> String {
        match error {
            Error::InvalidInput { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_documented_example_parses() {
        let doc = br#"[
          {"id": "e1", "type": "user.joined", "email": "Ann@Example.com", "role": "edit", "sso": true},
          {"id": "e2", "type": "user.left", "userId": "PERerEOAQ6QWXj1flmrlVzl3XJ22"},
          {"id": "e3", "type": "user.left", "email": "bob@example.com"},
          {"id": "e4", "type": "group.changed", "team": "Engineering", "add": ["ann@example.com"], "remove": ["u123"]},
          {"id": "e5", "type": "group.changed", "teamId": "t1", "add": [], "remove": ["bob@example.com"]},
          {"id": "e6", "type": "user.role_changed", "email": "ann@example.com", "role": "guest"}
        ]"#;
        let events = parse(doc).unwrap();
        assert_eq!(events.len(), 6);
        let Event::Joined { email, role, sso } = &events[0].event else { panic!() };
        assert_eq!((email.as_str(), *role, *sso), ("ann@example.com", RoleChoice::Set(Some(Role::Edit)), Some(true)));
        assert!(
            matches!(&events[3].event, Event::GroupChanged { team: TeamRef::Title(t), .. } if t.as_str() == "Engineering")
        );
        assert!(matches!(&events[5].event, Event::RoleChanged { role: None, .. }));
        assert_eq!(events[1].id.as_deref(), Some("e2"));
    }

    #[test]
    fn a_single_object_is_one_event_and_role_defaults() {
        let events = parse(br#"{"type": "user.joined", "email": "a@b.io"}"#).unwrap();
        assert_eq!(events[0].id, None);
        assert!(matches!(events[0].event, Event::Joined { role: RoleChoice::Default, sso: None, .. }));
    }

    #[test]
    fn errors_name_the_offending_field() {
        let cases: [(&[u8], &str); 9] = [
            (br#"[{"type": "user.joined"}]"#, "events[0].email"),
            (
                br#"[{"type": "user.joined", "email": "a@b.io"}, {"type": "user.joined", "email": "nope"}]"#,
                "events[1].email",
            ),
            (br#"{"type": "user.joind", "email": "a@b.io"}"#, "event.type"),
            (br#"{"type": "user.joined", "email": "a@b.io", "rol": "edit"}"#, "event.rol"),
            (br#"{"type": "user.left", "userId": "u1", "email": "a@b.io"}"#, "event"),
            (br#"{"type": "group.changed", "teamId": "../x"}"#, "event.teamId"),
            (br#"{"type": "group.changed", "team": "T", "add": ["a/b"]}"#, "event.add[0]"),
            (br#"{"type": "user.role_changed", "userId": "u1", "role": "owner"}"#, "event.role"),
            (br#"{"type": "user.joined", "email": "a@b.io", "sso": "yes"}"#, "event.sso"),
        ];
        for (doc, field) in cases {
            assert_eq!(field_of(parse(doc).unwrap_err()), field, "{}", String::from_utf8_lossy(doc));
        }
    }

    #[test]
    fn malformed_documents_are_refused() {
        assert_eq!(field_of(parse(b"not json").unwrap_err()), "body");
        assert_eq!(field_of(parse(b"42").unwrap_err()), "body");
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(field_of(parse(deep.as_bytes()).unwrap_err()), "body");
    }
}
