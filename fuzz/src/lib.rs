//! Shared checks for the fuzz targets: invariants every validated value must
//! keep, and writers that turn parsed values back into the documented input
//! formats so each target can assert a round trip.

use gitbook_directory_sync::error::Error;
use gitbook_directory_sync::events::{DirectoryEvent, Event, RoleChoice, TeamRef};
use gitbook_directory_sync::validate::TeamTitle;
use gitbook_directory_sync::role::{role_or_guest_name, Role};
use gitbook_directory_sync::validate::{Email, GitBookId, MemberRef};
use serde_json::{json, Map, Value};
use std::sync::OnceLock;

pub mod sources;

/// `FUZZ_SKIP_KNOWN=1` turns the checks for already reported findings into
/// no-ops, so a long run can explore past them. Off by default: CI must fail
/// while a finding is open.
pub fn skip_known() -> bool {
    static SKIP: OnceLock<bool> = OnceLock::new();
    *SKIP.get_or_init(|| std::env::var("FUZZ_SKIP_KNOWN").is_ok_and(|v| !v.is_empty() && v != "0"))
}

/// Asserts `condition` unless known findings are being skipped.
#[macro_export]
macro_rules! known_finding {
    ($condition:expr, $($message:tt)+) => {
        if !$crate::skip_known() {
            assert!($condition, $($message)+);
        }
    };
}

/// Characters that must never reach a URL path segment.
pub const PATH_UNSAFE: [char; 5] = ['/', '?', '#', '%', '.'];

/// Every error a parser returns for bad input must be the typed
/// `InvalidInput` naming a field.
pub fn assert_invalid_input(error: &Error, allow_empty_field: bool) {
    match error {
        Error::InvalidInput { field, message } => {
            assert!(allow_empty_field || !field.is_empty(), "empty field name in {error:?}");
            assert!(!message.is_empty(), "empty message in {error:?}");
        }
        other => panic!("expected Error::InvalidInput, got {other:?}"),
    }
}

pub fn check_id(id: &GitBookId) {
    let s = id.as_str();
    assert!(!s.is_empty() && s.len() <= 128, "ID length {}: {s:?}", s.len());
    assert!(s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'), "bad ID {s:?}");
    assert!(!s.contains(PATH_UNSAFE) && !s.chars().any(char::is_whitespace), "path-unsafe ID {s:?}");
    assert_eq!(GitBookId::parse("id", s).as_ref(), Ok(id), "ID does not re-validate");
}

pub fn check_email(email: &Email) {
    let s = email.as_str();
    assert!(!s.is_empty() && s.len() <= 254 && s.is_ascii(), "bad email {s:?}");
    assert_eq!(s.matches('@').count(), 1, "email {s:?} must have exactly one '@'");
    assert!(!s.chars().any(|c| c.is_whitespace() || c.is_control() || c.is_ascii_uppercase()), "email {s:?}");
    assert_eq!(Email::parse("email", s).as_ref(), Ok(email), "email does not re-validate");
}

pub fn check_member_ref(member: &MemberRef) {
    match member {
        MemberRef::Id(id) => check_id(id),
        MemberRef::Email(email) => check_email(email),
    }
    assert_eq!(MemberRef::parse("member", member.as_str()).as_ref(), Ok(member), "member ref does not re-validate");
}

pub fn check_title(title: &TeamTitle) {
    let s = title.as_str();
    let n = s.chars().count();
    assert!((1..=64).contains(&n), "title of {n} characters: {s:?}");
    assert_eq!(s.trim(), s, "title not trimmed");
    assert!(!s.chars().any(char::is_control), "control character in title {s:?}");
    assert_eq!(TeamTitle::parse("team", s).as_ref(), Ok(title), "title does not re-validate");
}

fn check_unique<T: PartialEq + std::fmt::Debug>(list: &[T]) {
    for (i, a) in list.iter().enumerate() {
        assert!(!list[..i].contains(a), "duplicate {a:?} in {list:?}");
    }
}

/// Checks every validated value inside an event.
pub fn check_event(event: &DirectoryEvent) {
    if let Some(id) = &event.id {
        assert!(id.len() <= 256 && !id.chars().any(char::is_control), "event id {id:?}");
    }
    match &event.event {
        Event::Joined { email, .. } => check_email(email),
        Event::Left { person } => check_member_ref(person),
        Event::RoleChanged { person, .. } => check_member_ref(person),
        Event::GroupChanged { team, add, remove } => {
            match team {
                TeamRef::Id(id) => check_id(id),
                TeamRef::Title(title) => check_title(title),
            }
            add.iter().for_each(check_member_ref);
            remove.iter().for_each(check_member_ref);
            check_unique(add);
            check_unique(remove);
        }
    }
}

fn person_fields(object: &mut Map<String, Value>, person: &MemberRef) {
    match person {
        MemberRef::Id(id) => object.insert("userId".into(), id.as_str().into()),
        MemberRef::Email(email) => object.insert("email".into(), email.as_str().into()),
    };
}

fn role_value(role: Option<Role>) -> Value {
    role_or_guest_name(role).into()
}

/// The event in the documented generic JSON format.
pub fn to_generic_json(event: &DirectoryEvent) -> Value {
    let mut object = Map::new();
    if let Some(id) = &event.id {
        object.insert("id".into(), id.as_str().into());
    }
    object.insert("type".into(), event.event.kind().into());
    match &event.event {
        Event::Joined { email, role, sso } => {
            object.insert("email".into(), email.as_str().into());
            if let RoleChoice::Set(role) = role {
                object.insert("role".into(), role_value(*role));
            }
            if let Some(sso) = sso {
                object.insert("sso".into(), (*sso).into());
            }
        }
        Event::Left { person } => person_fields(&mut object, person),
        Event::RoleChanged { person, role } => {
            person_fields(&mut object, person);
            object.insert("role".into(), role_value(*role));
        }
        Event::GroupChanged { team, add, remove } => {
            match team {
                TeamRef::Id(id) => object.insert("teamId".into(), id.as_str().into()),
                TeamRef::Title(title) => object.insert("team".into(), title.as_str().into()),
            };
            let list = |people: &[MemberRef]| json!(people.iter().map(MemberRef::as_str).collect::<Vec<_>>());
            object.insert("add".into(), list(add));
            object.insert("remove".into(), list(remove));
        }
    }
    Value::Object(object)
}

/// Writes events as a generic document and parses it again: the result must
/// be the same events.
pub fn assert_generic_round_trip(events: &[DirectoryEvent]) {
    let document = Value::Array(events.iter().map(to_generic_json).collect());
    let bytes = serde_json::to_vec(&document).expect("serialize");
    match gitbook_directory_sync::events::generic::parse(&bytes) {
        Ok(again) => assert_eq!(again, events, "generic round trip changed the events"),
        Err(error) => panic!("a written event document was refused: {error:?}\n{document}"),
    }
}
