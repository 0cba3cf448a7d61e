//! The WIT `events` interface: a host that receives directory events itself
//! (a workflow engine, say) hands the component the JSON document and gets
//! one typed result per event, with the requests the stand-in saw checked.

mod common;

use common::{summary, World};
use host_test::bindings::exports::gitbook::directory_sync::events::{EventResult, EventStatus, JoinDefaults};
use host_test::bindings::exports::gitbook::directory_sync::types::Error;
use host_test::standin::Org;
use serde_json::{json, Value};

fn apply(world: &World, events: &Value, defaults: Option<JoinDefaults>) -> Result<Vec<EventResult>, Error> {
    world.events(|s, e, settings| e.call_apply(s, settings, &events.to_string(), defaults))
}

fn statuses(results: &[EventResult]) -> Vec<(Option<&str>, &str, EventStatus)> {
    results.iter().map(|r| (r.id.as_deref(), r.kind.as_str(), r.status)).collect()
}

#[test]
fn a_batch_of_events_is_applied_in_order_with_joins_sharing_one_invite() {
    let world = World::sample();
    let events = json!([
        {"id": "e1", "type": "user.joined", "email": "ann@acme.test", "role": "edit"},
        {"id": "e2", "type": "user.joined", "email": "ben@acme.test"},
        {"id": "e3", "type": "group.changed", "team": "design", "add": ["bob@acme.test"], "remove": ["erin@acme.test"]},
        {"id": "e4", "type": "user.left", "email": "frank@acme.test"},
        {"id": "e5", "type": "user.role_changed", "email": "dave@acme.test", "role": "guest"},
        {"id": "e1", "type": "user.joined", "email": "ann@acme.test", "role": "edit"}
    ]);
    let results = apply(&world, &events, None).unwrap();
    assert_eq!(
        statuses(&results),
        [
            (Some("e1"), "user.joined", EventStatus::Applied),
            (Some("e2"), "user.joined", EventStatus::Applied),
            (Some("e3"), "group.changed", EventStatus::Applied),
            (Some("e4"), "user.left", EventStatus::Applied),
            (Some("e5"), "user.role_changed", EventStatus::Applied),
            (Some("e1"), "user.joined", EventStatus::Ignored),
        ],
        "{results:#?}"
    );
    assert!(results.iter().all(|r| r.error.is_none() && !r.detail.is_empty()));

    let writes: Vec<_> = world.requests().iter().filter(|r| r.method != "GET").map(summary).collect();
    let design = world.standin.teams().into_iter().find(|t| t.title == "Design").unwrap().id;
    let dave = world.member_id("dave@acme.test");
    // Both joins in one invite, each with its role; the defaults give `read` and SSO.
    assert_eq!(writes[0].0, "POST");
    assert_eq!(writes[0].1, "/v1/orgs/acme/invites");
    assert_eq!(
        writes[0].2,
        Some(json!({
            "emails": [{"email": "ann@acme.test", "role": "edit"}, {"email": "ben@acme.test", "role": "read"}],
            "role": "read",
            "sso": true
        }))
    );
    assert_eq!(
        (writes[1].0.as_str(), writes[1].1.as_str()),
        ("PUT", format!("/v1/orgs/acme/teams/{design}/members").as_str())
    );
    assert_eq!(writes[2].0, "DELETE");
    assert_eq!(
        (writes[3].0.as_str(), writes[3].1.as_str()),
        ("PATCH", format!("/v1/orgs/acme/members/{dave}").as_str())
    );
    assert_eq!(writes.len(), 4, "the repeated e1 sent nothing: {writes:?}");
    assert!(world.standin.member_by_email("frank@acme.test").is_none());
    assert_eq!(world.standin.member_by_email("dave@acme.test").unwrap().role, None);
}

#[test]
fn defaults_decide_the_role_and_sso_of_joins_that_do_not_say() {
    let world = World::sample();
    let defaults = JoinDefaults { role: None, sso: false };
    let results =
        apply(&world, &json!({"type": "user.joined", "email": "guest@partner.test"}), Some(defaults)).unwrap();
    assert_eq!(statuses(&results), [(None, "user.joined", EventStatus::Applied)]);
    let invite = world.requests().into_iter().find(|r| r.method == "POST").expect("an invite");
    assert_eq!(
        invite.json(),
        Some(json!({"emails": [{"email": "guest@partner.test", "role": null}], "role": null, "sso": false}))
    );
}

#[test]
fn a_failing_event_is_reported_and_the_others_still_run() {
    let world = World::sample();
    let events = json!([
        {"id": "a", "type": "group.changed", "team": "No Such Team", "add": ["bob@acme.test"]},
        {"id": "b", "type": "user.role_changed", "email": "bob@acme.test", "role": "admin"}
    ]);
    let results = apply(&world, &events, None).unwrap();
    assert_eq!(
        statuses(&results),
        [(Some("a"), "group.changed", EventStatus::Failed), (Some("b"), "user.role_changed", EventStatus::Applied)]
    );
    assert!(matches!(results[0].error, Some(Error::NotFound(_))), "{:?}", results[0].error);
    assert!(results[0].detail.contains("No Such Team"), "{}", results[0].detail);
    assert_eq!(world.standin.member_by_email("bob@acme.test").unwrap().role, Some(host_test::standin::Role::Admin));
}

#[test]
fn an_invalid_document_is_invalid_input_and_sends_nothing() {
    let world = World::sample();
    for (document, field) in [
        (
            json!([{"type": "user.joined", "email": "ann@acme.test"}, {"type": "user.joined", "email": "nope"}]),
            "events[1].email",
        ),
        (json!({"email": "ann@acme.test"}), "body"),
        (json!([{"type": "user.promoted", "email": "ann@acme.test"}]), "events[0].type"),
    ] {
        match apply(&world, &document, None) {
            Err(Error::InvalidInput(invalid)) => assert_eq!(invalid.field, field, "{document}"),
            other => panic!("{document}: {other:?}"),
        }
    }
    assert_eq!(world.requests().len(), 0);
}

#[test]
fn okta_deliveries_map_groups_through_the_configured_teams() {
    let org = Org::sample();
    let design = org.teams.iter().find(|t| t.title == "Design").unwrap().id.clone();
    let world = World::configured(org, &[("GITBOOK_GROUP_TEAMS", &format!("00gDesign={design}"))]);
    let event = |uuid: &str, event_type: &str, group: Option<(&str, &str)>| {
        let mut target =
            vec![json!({"id": "00u1", "type": "User", "alternateId": "bob@acme.test", "displayName": "Bob"})];
        if let Some((id, name)) = group {
            target.push(json!({"id": id, "type": "UserGroup", "displayName": name}));
        }
        json!({"uuid": uuid, "published": "2024-05-01T10:00:00.000Z", "eventType": event_type,
               "outcome": {"result": "SUCCESS"}, "target": target})
    };
    let delivery = json!({
        "eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "cloudEventsVersion": "0.1",
        "source": "https://acme.okta.com/api/v1/eventHooks/who1", "eventId": "b5a1", "contentType": "application/json",
        "data": {"events": [
            event("u1", "group.user_membership.add", Some(("00gDesign", "Designers"))),
            event("u2", "user.session.start", None)
        ]}
    });
    let results = apply(&world, &delivery, None).unwrap();
    assert_eq!(
        statuses(&results),
        [(Some("u1"), "group.changed", EventStatus::Applied), (Some("u2"), "user.session.start", EventStatus::Ignored)],
        "{results:#?}"
    );
    let design = world.standin.teams().into_iter().find(|t| t.id == design).unwrap();
    assert!(design.member_ids.contains(&world.member_id("bob@acme.test")));
}
