//! Directory events: what happened in the directory, validated, whatever
//! format it arrived in. [`generic`] parses the project's own JSON format
//! (CLI `apply`, webhook, WIT) and [`okta`] Okta Event Hook deliveries; each
//! format only builds these values.

pub mod generic;
pub mod okta;

use crate::error::Error;
use crate::role::Role;
use crate::validate::TeamTitle;
use crate::validate::{Email, GitBookId, MemberRef};
use serde_json::Value;

/// Parses a document of events in either accepted format: an Okta Event
/// Hook delivery (recognized by its top-level `"eventType":
/// "com.okta.event_hook"`; Okta groups become teams through `groups`), or
/// generic events (an object with a `type`, or an array of them), which all
/// become [`Item::Event`]. The webhook's `POST /events` and the WIT
/// `events.apply` both read bodies this way.
pub fn parse_document(body: &[u8], groups: &okta::GroupMapping) -> Result<Vec<Item>, Error> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| Error::invalid("body", format!("is not valid JSON: {e}")))?;
    if okta::is_delivery(&value) {
        return okta::parse(&value, groups);
    }
    let generic = match &value {
        Value::Array(_) => true,
        Value::Object(map) => map.contains_key("type"),
        _ => false,
    };
    if !generic {
        return Err(Error::invalid(
            "body",
            format!(
                "is in no known format: expected an Okta event hook delivery (a JSON object with \"eventType\": \
                 \"{}\" and data.events) or generic events (an object with a \"type\" such as \"user.joined\", or \
                 an array of them)",
                okta::DELIVERY_TYPE
            ),
        ));
    }
    Ok(generic::parse_value(&value)?.into_iter().map(Item::Event).collect())
}

/// One entry of a parsed document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// Something to do in GitBook.
    Event(DirectoryEvent),
    /// Nothing to do (reported back to the sender).
    Ignored(Ignored),
}

/// An entry with no GitBook action, and why: an Okta event of an unmapped
/// type, a duplicate, or an odd target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ignored {
    pub id: Option<String>,
    /// The source format's own type name (an open set: Okta's `eventType`).
    pub event_type: String,
    pub reason: String,
}

/// Splits items into the events to apply and the ignored ones, each in order.
pub fn split(items: Vec<Item>) -> (Vec<DirectoryEvent>, Vec<Ignored>) {
    let mut events = Vec::new();
    let mut ignored = Vec::new();
    for item in items {
        match item {
            Item::Event(event) => events.push(event),
            Item::Ignored(item) => ignored.push(item),
        }
    }
    (events, ignored)
}

/// One event from the directory, with the ID used to de-duplicate it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryEvent {
    pub id: Option<String>,
    pub event: Event,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A person joined: invite them.
    Joined { email: Email, role: RoleChoice, sso: Option<bool> },
    /// A person left: remove them (by ID, or found by email).
    Left { person: MemberRef },
    /// A group's membership changed: one team update.
    GroupChanged { team: TeamRef, add: Vec<MemberRef>, remove: Vec<MemberRef> },
    /// A person's role changed (`None`: guest).
    RoleChanged { person: MemberRef, role: Option<Role> },
}

/// The role a joining person gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleChoice {
    /// The configured default role.
    Default,
    /// This role (`None`: guest).
    Set(Option<Role>),
}

/// A GitBook team, by ID or by title.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TeamRef {
    Id(GitBookId),
    Title(TeamTitle),
}

impl Event {
    /// The event's type name, as in the generic format.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Joined { .. } => "user.joined",
            Event::Left { .. } => "user.left",
            Event::GroupChanged { .. } => "group.changed",
            Event::RoleChanged { .. } => "user.role_changed",
        }
    }
}
