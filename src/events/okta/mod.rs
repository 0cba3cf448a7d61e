//! Okta Event Hook deliveries → directory events.
//!
//! Okta POSTs a CloudEvents-style envelope whose `data.events` holds System
//! Log events:
//!
//! ```json
//! {"eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "source": "https://x.okta.com/api/v1/eventHooks/who8",
//!  "data": {"events": [{"uuid": "f4c5…", "published": "2024-01-01T00:00:00.000Z", "eventType": "user.lifecycle.create",
//!    "actor": {"id": "00u1", "type": "User", "alternateId": "admin@x.com"},
//!    "target": [{"id": "00u2", "type": "User", "alternateId": "ann@x.com", "displayName": "Ann Lee"}]}]}}
//! ```
//!
//! | Okta `eventType` | directory event |
//! |---|---|
//! | `user.lifecycle.create`, `.activate`, `.reactivate` | [`Event::Joined`] the `User` target's `alternateId`, default role and SSO |
//! | `user.lifecycle.deactivate`, `.suspend`, `.delete.initiated` | [`Event::Left`] the `User` target, by email |
//! | `group.user_membership.add`, `.remove` | [`Event::GroupChanged`] for the `UserGroup` target ([`GroupMapping::team_for`]), adding or removing the `User` target |
//! | anything else | [`Item::Ignored`]: no GitBook action for this event type |
//!
//! The actor (who did it, usually an admin) is never used; only targets are.
//! The [`DirectoryEvent`] ID is the Okta event's `uuid`.
//!
//! **Odd events are ignored, not fatal.** An event of a mapped type whose
//! `User` (or `UserGroup`) target is missing or ambiguous, whose `alternateId`
//! is not a usable email (Okta logins need not be emails), whose group has no
//! mapping and no usable name, or whose `outcome.result` is present and not
//! `SUCCESS` becomes [`Item::Ignored`] with the reason: one odd event must not
//! block the rest of the delivery. Only a malformed delivery is an error
//! ([`Error::InvalidInput`] naming the JSON path, e.g.
//! `data.events[3].uuid`): no `data.events` list, an event that is not an
//! object, a missing or unusable `uuid`, `eventType` or `published`, or more
//! than [`MAX_EVENTS`] events.
//!
//! **At least once, out of order.** Okta may deliver an event more than once
//! and does not promise order. Within one delivery, an event whose `uuid` was
//! already seen is ignored (the first occurrence in delivery order is kept);
//! then the items are ordered by `published` ascending, compared as instants
//! (RFC 3339 with fractional seconds and any UTC offset), with a stable sort so
//! events published at the same instant keep their delivery order. Across
//! deliveries, [`crate::sync::events::apply`] relies on every GitBook operation
//! being idempotent.

mod groups;

pub use groups::{GroupMapping, ENV_GROUP_TEAMS};

use super::{generic, DirectoryEvent, Event, Ignored, Item, RoleChoice, TeamRef};
use crate::error::Error;
use crate::timestamp::Timestamp;
use crate::validate::{printable, Email, MemberRef};
use serde_json::{Map, Value};
use std::collections::HashSet;

/// The top-level `eventType` of an Okta event hook delivery.
pub const DELIVERY_TYPE: &str = "com.okta.event_hook";
/// At most this many events in one delivery (as in the generic format).
pub const MAX_EVENTS: usize = generic::MAX_EVENTS;
/// Longest accepted `uuid` or `eventType`.
const MAX_ID_LEN: usize = 256;

const JOIN_TYPES: [&str; 3] = ["user.lifecycle.create", "user.lifecycle.activate", "user.lifecycle.reactivate"];
const LEAVE_TYPES: [&str; 3] =
    ["user.lifecycle.deactivate", "user.lifecycle.suspend", "user.lifecycle.delete.initiated"];
const GROUP_ADD: &str = "group.user_membership.add";
const GROUP_REMOVE: &str = "group.user_membership.remove";

/// Whether `value` is an Okta event hook delivery (top-level `eventType` is
/// [`DELIVERY_TYPE`]).
pub fn is_delivery(value: &Value) -> bool {
    value.get("eventType").and_then(Value::as_str) == Some(DELIVERY_TYPE)
}

/// Parses an Okta event hook delivery: one item per event, duplicates
/// ignored, ordered by `published` (see the module documentation).
pub fn parse(value: &Value, mapping: &GroupMapping) -> Result<Vec<Item>, Error> {
    let data = match value.get("data") {
        Some(Value::Object(data)) => data,
        _ => return Err(Error::invalid("data", "is missing or not an object; expected an Okta event hook delivery")),
    };
    let events = match data.get("events") {
        Some(Value::Array(events)) => events,
        _ => return Err(Error::invalid("data.events", "is missing or not a list of events")),
    };
    if events.len() > MAX_EVENTS {
        return Err(Error::invalid(
            "data.events",
            format!("has {} events; at most {MAX_EVENTS} are accepted in one delivery", events.len()),
        ));
    }
    let mut seen = HashSet::new();
    let mut items = Vec::with_capacity(events.len());
    for (i, event) in events.iter().enumerate() {
        let event = Header::read(&format!("data.events[{i}]"), event)?;
        let item = if seen.insert(event.uuid) {
            map_event(&event, mapping)
        } else {
            event.ignore("duplicate of an earlier event with the same uuid in this delivery".into())
        };
        items.push((event.published, item));
    }
    // Stable: events published at the same instant keep their delivery order.
    items.sort_by_key(|(published, _)| *published);
    Ok(items.into_iter().map(|(_, item)| item).collect())
}

/// The fields every event must have, checked.
struct Header<'a> {
    uuid: &'a str,
    event_type: &'a str,
    published: Timestamp,
    map: &'a Map<String, Value>,
}

impl<'a> Header<'a> {
    fn read(path: &str, value: &'a Value) -> Result<Header<'a>, Error> {
        let Value::Object(map) = value else {
            return Err(Error::invalid(path, "must be an object (an Okta event)"));
        };
        let string = |name: &str| -> Result<&'a str, Error> {
            match map.get(name) {
                Some(Value::String(s)) if !s.is_empty() => Ok(s),
                Some(Value::String(_)) => Err(Error::invalid(format!("{path}.{name}"), "is empty")),
                None | Some(Value::Null) => Err(Error::invalid(format!("{path}.{name}"), "is required")),
                Some(_) => Err(Error::invalid(format!("{path}.{name}"), "must be a string")),
            }
        };
        let short = |name: &str| -> Result<&'a str, Error> {
            let value = string(name)?;
            if value.len() > MAX_ID_LEN || value.chars().any(char::is_control) {
                return Err(Error::invalid(
                    format!("{path}.{name}"),
                    format!("must be at most {MAX_ID_LEN} characters without control characters"),
                ));
            }
            Ok(value)
        };
        let uuid = short("uuid")?;
        let event_type = short("eventType")?;
        let published = string("published")?;
        let published = Timestamp::parse(published).ok_or_else(|| {
            Error::invalid(
                format!("{path}.published"),
                format!("{} is not an RFC 3339 timestamp like 2024-01-01T00:00:00.000Z", printable(published)),
            )
        })?;
        Ok(Header { uuid, event_type, published, map })
    }

    fn ignore(&self, reason: String) -> Item {
        Item::Ignored(Ignored { id: Some(self.uuid.to_owned()), event_type: self.event_type.to_owned(), reason })
    }

    fn event(&self, event: Event) -> Item {
        Item::Event(DirectoryEvent { id: Some(self.uuid.to_owned()), event })
    }

    /// The one target of `kind` (`User`, `UserGroup`).
    fn target(&self, kind: &str) -> Result<&'a Map<String, Value>, String> {
        let targets = match self.map.get("target") {
            None | Some(Value::Null) => return Err(format!("the event has no target of type {kind}")),
            Some(Value::Array(targets)) => targets,
            Some(_) => return Err("the event's target is not a list".into()),
        };
        let mut found =
            targets.iter().filter_map(Value::as_object).filter(|t| t.get("type").and_then(Value::as_str) == Some(kind));
        match (found.next(), found.next()) {
            (Some(target), None) => Ok(target),
            (None, _) => Err(format!("the event has no target of type {kind}")),
            (Some(_), Some(_)) => Err(format!("the event has more than one target of type {kind}; expected one")),
        }
    }

    /// The `User` target's email (its `alternateId`, the Okta login).
    fn user_email(&self) -> Result<Email, String> {
        let user = self.target("User")?;
        let Some(login) = user.get("alternateId").and_then(Value::as_str) else {
            return Err("the User target has no alternateId (login)".into());
        };
        Email::parse("alternateId", login).map_err(|e| match e {
            Error::InvalidInput { message, .. } => format!("the User target's alternateId {message}"),
            other => other.to_string(),
        })
    }

    fn team(&self, mapping: &GroupMapping) -> Result<TeamRef, String> {
        let group = self.target("UserGroup")?;
        let id = group.get("id").and_then(Value::as_str).unwrap_or("");
        let name = group.get("displayName").and_then(Value::as_str).unwrap_or("");
        mapping.team_for(id, name).map_err(|e| {
            let message = match e {
                Error::InvalidInput { message, .. } => message,
                other => other.to_string(),
            };
            format!(
                "the group {} is not mapped in {ENV_GROUP_TEAMS} and its displayName {} cannot be a team title: {message}",
                printable(id),
                printable(name)
            )
        })
    }

    /// Okta logs failed attempts too; only act on what happened.
    fn failed_outcome(&self) -> Option<String> {
        let result = self.map.get("outcome")?.get("result")?.as_str()?;
        (result != "SUCCESS").then(|| format!("Okta reports the outcome {}, not SUCCESS", printable(result)))
    }
}

fn map_event(event: &Header, mapping: &GroupMapping) -> Item {
    let kind = event.event_type;
    let known = JOIN_TYPES.contains(&kind) || LEAVE_TYPES.contains(&kind) || kind == GROUP_ADD || kind == GROUP_REMOVE;
    if !known {
        return event.ignore("no GitBook action for this event type".into());
    }
    if let Some(reason) = event.failed_outcome() {
        return event.ignore(reason);
    }
    let mapped = event.user_email().and_then(|email| {
        if JOIN_TYPES.contains(&kind) {
            return Ok(Event::Joined { email, role: RoleChoice::Default, sso: None });
        }
        if LEAVE_TYPES.contains(&kind) {
            return Ok(Event::Left { person: MemberRef::Email(email) });
        }
        let team = event.team(mapping)?;
        let people = vec![MemberRef::Email(email)];
        Ok(if kind == GROUP_ADD {
            Event::GroupChanged { team, add: people, remove: vec![] }
        } else {
            Event::GroupChanged { team, add: vec![], remove: people }
        })
    });
    match mapped {
        Ok(mapped) => event.event(mapped),
        Err(reason) => event.ignore(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::GitBookId;
    use serde_json::json;

    fn user(login: &str) -> Value {
        json!({"id": "00u2", "type": "User", "alternateId": login, "displayName": "Ann Lee"})
    }

    fn group(id: &str, name: &str) -> Value {
        json!({"id": id, "type": "UserGroup", "alternateId": "unknown", "displayName": name})
    }

    fn event(uuid: &str, published: &str, event_type: &str, target: Value) -> Value {
        json!({
            "uuid": uuid, "published": published, "eventType": event_type, "version": "0",
            "displayMessage": "…", "severity": "INFO", "outcome": {"result": "SUCCESS"},
            "actor": {"id": "00u1", "type": "User", "alternateId": "admin@x.com", "displayName": "Admin"},
            "target": target
        })
    }

    fn delivery(events: Vec<Value>) -> Value {
        json!({
            "eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "cloudEventsVersion": "0.1",
            "source": "https://x.okta.com/api/v1/eventHooks/who8", "eventId": "b5a188b9",
            "eventTime": "2024-01-01T00:00:01.000Z", "contentType": "application/json",
            "data": {"events": events}
        })
    }

    fn one(event_type: &str, target: Value) -> Item {
        let items =
            parse(&delivery(vec![event("u1", "2024-01-01T00:00:00.000Z", event_type, target)]), &mapping()).unwrap();
        assert_eq!(items.len(), 1);
        items.into_iter().next().unwrap()
    }

    fn mapping() -> GroupMapping {
        GroupMapping::parse(r#"{"00gEng": "teamEng", "Design": "teamDesign"}"#).unwrap()
    }

    fn email(value: &str) -> Email {
        Email::parse("email", value).unwrap()
    }

    fn id(value: &str) -> GitBookId {
        GitBookId::parse("id", value).unwrap()
    }

    fn reason(item: Item) -> String {
        match item {
            Item::Ignored(Ignored { reason, .. }) => reason,
            other => panic!("expected an ignored item, got {other:?}"),
        }
    }

    fn invalid_field(error: Error) -> String {
        match error {
            Error::InvalidInput { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    fn ids(items: &[Item]) -> Vec<&str> {
        items
            .iter()
            .map(|item| match item {
                Item::Event(event) => event.id.as_deref().unwrap(),
                Item::Ignored(Ignored { id, .. }) => id.as_deref().unwrap(),
            })
            .collect()
    }

    #[test]
    fn only_the_okta_envelope_is_a_delivery() {
        assert!(is_delivery(&delivery(vec![])));
        assert!(!is_delivery(&json!({"type": "user.joined", "email": "a@x.io"})));
        assert!(!is_delivery(&json!({"eventType": "user.lifecycle.create"})));
        assert!(!is_delivery(&json!([{"eventType": "com.okta.event_hook"}])));
    }

    #[test]
    fn the_example_delivery_from_the_okta_docs_invites_the_user_target_not_the_actor() {
        let body = r#"{"eventType":"com.okta.event_hook","eventTypeVersion":"1.0","cloudEventsVersion":"0.1","source":"https://x.okta.com/api/v1/eventHooks/who8","eventId":"b5a188b9-5ea1","eventTime":"2024-01-01T00:00:01.000Z","contentType":"application/json",
         "data":{"events":[{"uuid":"f4c5","published":"2024-01-01T00:00:00.000Z","eventType":"user.lifecycle.create","version":"0","displayMessage":"Create Okta user","severity":"INFO",
           "actor":{"id":"00u1","type":"User","alternateId":"admin@x.com","displayName":"Admin"},
           "target":[{"id":"00u2","type":"User","alternateId":"Ann@X.com","displayName":"Ann Lee"},{"id":"00g1","type":"UserGroup","alternateId":"unknown","displayName":"Engineering"}]}]}}"#;
        let value: Value = serde_json::from_str(body).unwrap();
        assert!(is_delivery(&value));
        let items = parse(&value, &GroupMapping::default()).unwrap();
        assert_eq!(
            items,
            [Item::Event(DirectoryEvent {
                id: Some("f4c5".into()),
                event: Event::Joined { email: email("ann@x.com"), role: RoleChoice::Default, sso: None },
            })]
        );
    }

    #[test]
    fn create_activate_and_reactivate_invite_with_the_defaults() {
        for event_type in ["user.lifecycle.create", "user.lifecycle.activate", "user.lifecycle.reactivate"] {
            let Item::Event(DirectoryEvent { id, event }) = one(event_type, json!([user("ann@x.com")])) else {
                panic!("{event_type}")
            };
            assert_eq!(id.as_deref(), Some("u1"));
            assert_eq!(event, Event::Joined { email: email("ann@x.com"), role: RoleChoice::Default, sso: None });
        }
    }

    #[test]
    fn deactivate_suspend_and_delete_remove_by_email() {
        for event_type in ["user.lifecycle.deactivate", "user.lifecycle.suspend", "user.lifecycle.delete.initiated"] {
            let Item::Event(DirectoryEvent { event, .. }) = one(event_type, json!([user("ann@x.com")])) else {
                panic!("{event_type}")
            };
            assert_eq!(event, Event::Left { person: MemberRef::Email(email("ann@x.com")) });
        }
    }

    #[test]
    fn group_membership_changes_update_the_mapped_team() {
        let Item::Event(added) = one("group.user_membership.add", json!([user("ann@x.com"), group("00gEng", "Eng")]))
        else {
            panic!()
        };
        assert_eq!(
            added.event,
            Event::GroupChanged {
                team: TeamRef::Id(id("teamEng")),
                add: vec![MemberRef::Email(email("ann@x.com"))],
                remove: vec![],
            }
        );
        let Item::Event(removed) =
            one("group.user_membership.remove", json!([group("00gOther", "design"), user("ann@x.com")]))
        else {
            panic!()
        };
        assert_eq!(
            removed.event,
            Event::GroupChanged {
                team: TeamRef::Id(id("teamDesign")),
                add: vec![],
                remove: vec![MemberRef::Email(email("ann@x.com"))],
            }
        );
    }

    #[test]
    fn an_unmapped_group_goes_to_the_team_with_its_title() {
        let Item::Event(event) =
            one("group.user_membership.add", json!([user("ann@x.com"), group("00gSales", " Sales EMEA ")]))
        else {
            panic!()
        };
        let Event::GroupChanged { team: TeamRef::Title(title), .. } = event.event else { panic!() };
        assert_eq!(title.as_str(), "Sales EMEA");
    }

    #[test]
    fn other_event_types_are_ignored_with_a_reason() {
        for event_type in ["user.session.start", "user.account.update_profile", "group.lifecycle.create"] {
            let Item::Ignored(Ignored { id, event_type: t, reason }) = one(event_type, json!([user("ann@x.com")]))
            else {
                panic!("{event_type}")
            };
            assert_eq!((id.as_deref(), t.as_str()), (Some("u1"), event_type));
            assert_eq!(reason, "no GitBook action for this event type");
        }
    }

    #[test]
    fn odd_events_are_ignored_with_the_problem_named_and_do_not_block_the_others() {
        let cases = [
            ("user.lifecycle.create", json!([user("ann")]), "alternateId \"ann\" is not a usable email"),
            ("user.lifecycle.create", json!([user("   ")]), "alternateId is empty"),
            ("user.lifecycle.deactivate", json!([]), "no target of type User"),
            ("user.lifecycle.deactivate", Value::Null, "no target of type User"),
            ("user.lifecycle.deactivate", json!("00u2"), "target is not a list"),
            ("user.lifecycle.deactivate", json!([{"id": "00u2", "type": "User"}]), "has no alternateId"),
            ("user.lifecycle.suspend", json!([user("a@x.io"), user("b@x.io")]), "more than one target of type User"),
            ("group.user_membership.add", json!([user("ann@x.com")]), "no target of type UserGroup"),
            ("group.user_membership.add", json!([group("00g1", "Eng")]), "no target of type User"),
            (
                "group.user_membership.remove",
                json!([user("ann@x.com"), group("00g9", &"x".repeat(65))]),
                "is not mapped in GITBOOK_GROUP_TEAMS",
            ),
            ("group.user_membership.remove", json!([user("ann@x.com"), {"type": "UserGroup"}]), "1 to 64 characters"),
        ];
        for (event_type, target, expected) in cases {
            let events = vec![
                event("odd", "2024-01-01T00:00:00Z", event_type, target.clone()),
                event("fine", "2024-01-01T00:00:01Z", "user.lifecycle.create", json!([user("bob@x.com")])),
            ];
            let items = parse(&delivery(events), &mapping()).unwrap();
            assert!(matches!(items[1], Item::Event(_)), "{event_type} {target}");
            let reason = reason(items[0].clone());
            assert!(reason.contains(expected), "{event_type} {target}: {reason}");
        }
    }

    #[test]
    fn failed_outcomes_are_not_acted_on() {
        let mut failed = event("u1", "2024-01-01T00:00:00Z", "user.lifecycle.create", json!([user("ann@x.com")]));
        failed["outcome"] = json!({"result": "FAILURE", "reason": "quota"});
        let mut no_outcome = failed.clone();
        no_outcome["uuid"] = json!("u2");
        no_outcome.as_object_mut().unwrap().remove("outcome");
        let items = parse(&delivery(vec![failed, no_outcome]), &mapping()).unwrap();
        assert_eq!(reason(items[0].clone()), "Okta reports the outcome \"FAILURE\", not SUCCESS");
        assert!(matches!(items[1], Item::Event(_)), "no outcome: acted on");
    }

    #[test]
    fn duplicate_uuids_keep_the_first_occurrence() {
        let events = vec![
            event("a", "2024-01-01T00:00:00Z", "user.lifecycle.create", json!([user("ann@x.com")])),
            event("b", "2024-01-01T00:00:01Z", "user.lifecycle.create", json!([user("bob@x.com")])),
            event("a", "2024-01-01T00:00:02Z", "user.lifecycle.deactivate", json!([user("ann@x.com")])),
        ];
        let items = parse(&delivery(events), &mapping()).unwrap();
        assert!(matches!(&items[0], Item::Event(DirectoryEvent { event: Event::Joined { .. }, .. })));
        assert!(matches!(&items[1], Item::Event(_)));
        let Item::Ignored(Ignored { id, event_type, reason }) = &items[2] else { panic!() };
        assert_eq!((id.as_deref(), event_type.as_str()), (Some("a"), "user.lifecycle.deactivate"));
        assert!(reason.contains("duplicate"), "{reason}");
        let (events, ignored) = crate::events::split(items);
        assert_eq!(events.len(), 2);
        assert_eq!(ignored.len(), 1);
    }

    #[test]
    fn events_are_ordered_by_published_instant_not_by_text_and_ties_keep_delivery_order() {
        let events = vec![
            // 00:00:00 UTC
            event("third", "2024-01-01T01:00:00+01:00", "user.lifecycle.deactivate", json!([user("ann@x.com")])),
            // 23:59:59.9 UTC the day before
            event("first", "2023-12-31T23:59:59.9Z", "user.lifecycle.create", json!([user("ann@x.com")])),
            // 23:59:59.95 UTC the day before
            event("second", "2023-12-31T18:59:59.95-05:00", "user.session.start", json!([])),
            // 00:00:00 UTC too: after "third", as delivered
            event("fourth", "2024-01-01T00:00:00.000Z", "user.lifecycle.reactivate", json!([user("ann@x.com")])),
            event("last", "2024-01-01t00:00:00.000000001z", "user.lifecycle.create", json!([user("ann@x.com")])),
        ];
        let items = parse(&delivery(events), &mapping()).unwrap();
        assert_eq!(ids(&items), ["first", "second", "third", "fourth", "last"]);
    }

    #[test]
    fn malformed_deliveries_are_refused_with_the_json_path() {
        let ok = || event("u1", "2024-01-01T00:00:00Z", "user.lifecycle.create", json!([user("ann@x.com")]));
        let with = |name: &str, value: Value| {
            let mut event = ok();
            event[name] = value;
            event
        };
        let cases: Vec<(Value, &str)> = vec![
            (json!({"eventType": "com.okta.event_hook"}), "data"),
            (json!({"eventType": "com.okta.event_hook", "data": {}}), "data.events"),
            (json!({"eventType": "com.okta.event_hook", "data": {"events": {}}}), "data.events"),
            (delivery(vec![ok(), json!("event")]), "data.events[1]"),
            (delivery(vec![ok(), ok(), ok(), with("uuid", Value::Null)]), "data.events[3].uuid"),
            (delivery(vec![with("uuid", json!(7))]), "data.events[0].uuid"),
            (delivery(vec![with("uuid", json!(""))]), "data.events[0].uuid"),
            (delivery(vec![with("uuid", json!("a\nb"))]), "data.events[0].uuid"),
            (delivery(vec![with("uuid", json!("u".repeat(257)))]), "data.events[0].uuid"),
            (delivery(vec![with("eventType", Value::Null)]), "data.events[0].eventType"),
            (delivery(vec![with("published", json!(1704067200))]), "data.events[0].published"),
            (delivery(vec![with("published", json!("yesterday"))]), "data.events[0].published"),
            (delivery(vec![with("published", json!("2024-02-30T00:00:00Z"))]), "data.events[0].published"),
        ];
        for (value, field) in cases {
            assert_eq!(invalid_field(parse(&value, &mapping()).unwrap_err()), field, "{value}");
        }
        let too_many = delivery(vec![ok(); MAX_EVENTS + 1]);
        assert_eq!(invalid_field(parse(&too_many, &mapping()).unwrap_err()), "data.events");
        assert_eq!(parse(&delivery(vec![ok(); 3]), &mapping()).unwrap().len(), 3);
    }

    #[test]
    fn an_empty_delivery_has_no_items() {
        assert_eq!(parse(&delivery(vec![]), &mapping()).unwrap(), []);
    }
}
