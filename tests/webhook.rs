//! The webhook receiver: the component's `wasi:http/incoming-handler`
//! invoked by the wasmtime host, its outgoing calls served by the stand-in.

mod common;

use common::{delivery, okta_event, World};
use host_test::standin::Org;
use host_test::HttpReply;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const SECRET: &str = "whsec_okta_2f9c";

fn world(extra: &[(&str, &str)]) -> World {
    let mut env = vec![("WEBHOOK_SECRET", SECRET)];
    env.extend_from_slice(extra);
    World::configured(Org::sample(), &env)
}

fn post(world: &World, body: &Value) -> HttpReply {
    send(world, "POST", "/events", &[("authorization", SECRET), ("content-type", "application/json")], body.to_string())
}

fn send(world: &World, method: &str, path: &str, headers: &[(&str, &str)], body: String) -> HttpReply {
    let (reply, output) = world.host.handle_http(method, path, headers, body.into_bytes()).expect("no trap");
    let everything =
        format!("{} {:?} {} {}", String::from_utf8_lossy(&reply.body), reply.headers, output.stdout, output.stderr);
    assert!(!everything.contains(SECRET) && !everything.contains("gb_test_token"), "a secret leaked: {everything}");
    reply
}

fn statuses(reply: &HttpReply) -> Vec<String> {
    reply.json()["results"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn okta_s_one_time_verification_is_answered_without_calling_gitbook() {
    let world = world(&[]);
    let reply = send(
        &world,
        "GET",
        "/events",
        &[("authorization", SECRET), ("x-okta-verification-challenge", "Xy9-abc")],
        String::new(),
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), json!({"verification": "Xy9-abc"}));
    assert_eq!(world.standin.request_count(), 0);
}

#[test]
fn a_created_user_is_invited_with_the_configured_role() {
    let world = world(&[("GITBOOK_DEFAULT_ROLE", "comment")]);
    let event = okta_event("u-1", "user.lifecycle.create", "2024-05-01T10:00:00.000Z", "Nia@acme.test", None);
    let reply = post(&world, &delivery(vec![event]));
    assert_eq!(reply.status, 200, "{}", reply.json());
    assert_eq!(statuses(&reply), ["applied"]);
    let requests = world.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].json().unwrap(),
        json!({"emails": [{"email": "nia@acme.test", "role": "comment"}], "role": "comment", "sso": true})
    );
    let nia = world.standin.member_by_email("nia@acme.test").unwrap();
    assert!(nia.sso);
}

#[test]
fn activation_and_reactivation_invite_and_every_leaving_event_removes() {
    let world = world(&[]);
    let events = vec![
        okta_event("a", "user.lifecycle.activate", "2024-05-01T10:00:00Z", "ola@acme.test", None),
        okta_event("b", "user.lifecycle.reactivate", "2024-05-01T10:00:01Z", "pia@acme.test", None),
        okta_event("c", "user.lifecycle.deactivate", "2024-05-01T10:00:02Z", "bob@acme.test", None),
        okta_event("d", "user.lifecycle.suspend", "2024-05-01T10:00:03Z", "carol@acme.test", None),
        okta_event("e", "user.lifecycle.delete.initiated", "2024-05-01T10:00:04Z", "dave@acme.test", None),
        okta_event("f", "user.session.start", "2024-05-01T10:00:05Z", "erin@acme.test", None),
    ];
    let reply = post(&world, &delivery(events));
    assert_eq!(reply.status, 200, "{}", reply.json());
    let report = reply.json();
    assert_eq!((report["applied"].as_u64(), report["ignored"].as_u64()), (Some(5), Some(1)));
    for gone in ["bob@acme.test", "carol@acme.test", "dave@acme.test"] {
        assert!(world.standin.member_by_email(gone).is_none(), "{gone} was removed");
    }
    assert!(
        world.standin.member_by_email("ola@acme.test").is_some()
            && world.standin.member_by_email("pia@acme.test").is_some()
    );
    let invites = world.requests().iter().filter(|r| r.path.ends_with("/invites")).count();
    assert_eq!(invites, 1, "the two joins share one invite");
}

#[test]
fn group_membership_maps_to_teams_by_configuration_or_title() {
    let world = world(&[]);
    let design = world.standin.teams().into_iter().find(|t| t.title == "Design").unwrap();
    let support = world.standin.teams().into_iter().find(|t| t.title == "Support").unwrap();
    let mapping = format!("00g_ux={}", design.id);
    drop(world);
    let world = World::configured(Org::sample(), &[("WEBHOOK_SECRET", SECRET), ("GITBOOK_GROUP_TEAMS", &mapping)]);
    let design = world.standin.teams().into_iter().find(|t| t.title == "Design").unwrap();
    assert_eq!(format!("00g_ux={}", design.id), mapping, "the sample organization is deterministic");
    let events = vec![
        okta_event(
            "1",
            "group.user_membership.add",
            "2024-05-01T10:00:00Z",
            "bob@acme.test",
            Some(("00g_ux", "UX Guild")),
        ),
        okta_event(
            "2",
            "group.user_membership.add",
            "2024-05-01T10:00:01Z",
            "bob@acme.test",
            Some(("00g_sup", "support")),
        ),
        okta_event(
            "3",
            "group.user_membership.remove",
            "2024-05-01T10:00:02Z",
            "dave@acme.test",
            Some(("00g_sup", "Support")),
        ),
    ];
    let reply = post(&world, &delivery(events));
    assert_eq!(reply.status, 200, "{}", reply.json());
    let bob = world.member_id("bob@acme.test");
    assert!(world.standin.team_member_ids(&design.id).contains(&bob), "mapped by group ID");
    assert!(world.standin.team_member_ids(&support.id).contains(&bob), "mapped by title");
    assert!(!world.standin.team_member_ids(&support.id).contains(&world.member_id("dave@acme.test")));
    let title_lookups = world.requests().iter().filter(|r| r.path.ends_with("/teams")).count();
    assert_eq!(title_lookups, 1, "the title is resolved once per delivery");
}

#[test]
fn redelivered_and_out_of_order_events_are_deduplicated_and_sorted() {
    let world = world(&[]);
    // Okta sent the removal before the creation, and the creation twice.
    let leave = okta_event("u-2", "user.lifecycle.deactivate", "2024-05-01T10:00:05.000Z", "quin@acme.test", None);
    let join = okta_event("u-1", "user.lifecycle.create", "2024-05-01T10:00:00.000Z", "quin@acme.test", None);
    let reply = post(&world, &delivery(vec![leave, join.clone(), join]));
    assert_eq!(reply.status, 200, "{}", reply.json());
    let calls: Vec<String> = world.requests().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert_eq!(calls[0], "POST /v1/orgs/acme/invites", "created first: {calls:?}");
    assert!(calls.last().unwrap().starts_with("DELETE /v1/orgs/acme/members/"), "{calls:?}");
    assert!(world.standin.member_by_email("quin@acme.test").is_none());
    assert_eq!(reply.json()["ignored"], 1, "the duplicate is reported as ignored");
}

#[test]
fn generic_json_events_are_accepted_too() {
    let world = world(&[]);
    let events = json!([
        {"id": "g1", "type": "user.joined", "email": "rae@acme.test", "role": "edit"},
        {"id": "g2", "type": "group.changed", "team": "Engineering", "add": ["rae@acme.test"], "remove": []}
    ]);
    let reply = post(&world, &events);
    assert_eq!(reply.status, 200, "{}", reply.json());
    assert_eq!(world.standin.member_by_email("rae@acme.test").unwrap().role, Some(host_test::standin::Role::Edit));
}

#[test]
fn unauthenticated_or_malformed_requests_are_refused_and_nothing_is_sent() {
    let world = world(&[]);
    let body = delivery(vec![okta_event("x", "user.lifecycle.create", "2024-05-01T10:00:00Z", "x@acme.test", None)])
        .to_string();
    type Case<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, String, u16);
    let cases: Vec<Case> = vec![
        ("POST", "/events", vec![], body.clone(), 401),
        ("POST", "/events", vec![("authorization", "wrong")], body.clone(), 401),
        ("GET", "/events", vec![("x-okta-verification-challenge", "c")], String::new(), 401),
        ("POST", "/events", vec![("authorization", SECRET)], "x".repeat(1024 * 1024 + 1), 413),
        ("POST", "/events", vec![("authorization", SECRET)], "{not json".into(), 400),
        ("POST", "/events", vec![("authorization", SECRET)], r#"{"hello": "world"}"#.into(), 400),
        (
            "POST",
            "/events",
            vec![("authorization", SECRET)],
            r#"[{"type": "user.joined", "email": "nope"}]"#.into(),
            400,
        ),
        ("POST", "/elsewhere", vec![("authorization", SECRET)], body.clone(), 404),
        ("DELETE", "/events", vec![("authorization", SECRET)], String::new(), 405),
    ];
    for (method, path, headers, body, expected) in cases {
        let reply = send(&world, method, path, &headers, body);
        assert_eq!(reply.status, expected, "{method} {path} {headers:?}");
        assert!(reply.json()["error"]["message"].is_string());
    }
    assert_eq!(world.standin.request_count(), 0);
    assert_eq!(send(&world, "GET", "/healthz", &[], String::new()).status, 200);
}

#[test]
fn without_a_configured_secret_the_service_refuses_to_handle_events() {
    let world = World::configured(Org::sample(), &[]);
    let body = json!({"type": "user.left", "email": "bob@acme.test"}).to_string();
    let reply = send(&world, "POST", "/events", &[("authorization", "anything")], body);
    assert_eq!(reply.status, 500);
    assert!(reply.json()["error"]["message"].as_str().unwrap().contains("WEBHOOK_SECRET"));
    assert_eq!(world.standin.request_count(), 0);
}

#[test]
fn partial_failures_are_reported_per_event_with_207() {
    let world = world(&[]);
    let events = json!([
        {"id": "ok", "type": "user.left", "email": "bob@acme.test"},
        {"id": "bad", "type": "group.changed", "team": "No Such Team", "add": ["carol@acme.test"]}
    ]);
    let reply = post(&world, &events);
    assert_eq!(reply.status, 207, "{}", reply.json());
    let report = reply.json();
    assert_eq!(statuses(&reply), ["applied", "failed"]);
    assert_eq!(report["results"][1]["error"]["kind"], "not-found");
}

#[test]
fn a_slow_gitbook_gets_a_bounded_answer_with_the_rest_deferred() {
    let world = world(&[("WEBHOOK_DEADLINE_MS", "600")]);
    world.standin.set_latency(Duration::from_millis(250));
    let events = json!([
        {"id": "1", "type": "user.left", "userId": world.member_id("bob@acme.test")},
        {"id": "2", "type": "user.left", "userId": world.member_id("carol@acme.test")},
        {"id": "3", "type": "user.left", "userId": world.member_id("dave@acme.test")},
        {"id": "4", "type": "user.left", "userId": world.member_id("erin@acme.test")},
        {"id": "5", "type": "user.left", "userId": world.member_id("frank@acme.test")}
    ]);
    let started = Instant::now();
    let reply = post(&world, &events);
    let took = started.elapsed();
    assert_eq!(reply.status, 503, "{}", reply.json());
    assert_eq!(reply.header("retry-after"), Some("5"));
    let report = reply.json();
    let deferred = report["deferred"].as_u64().unwrap();
    assert!(deferred >= 1 && report["applied"].as_u64().unwrap() >= 1, "{report}");
    assert_eq!(world.standin.request_count() as u64, 5 - deferred, "nothing is sent for deferred events");
    // The budget bounds when work starts; the last request started in it may run one latency past it.
    assert!(took < Duration::from_secs(3), "answered in {took:?}");
}

#[test]
fn reconcile_over_http_plans_by_default_and_applies_on_request() {
    let world = world(&[]);
    let users: Vec<Value> = world
        .standin
        .members()
        .iter()
        .filter(|m| m.email != "dave@acme.test")
        .map(|m| json!({"email": m.email, "role": m.role.map_or("guest", |r| r.as_str())}))
        .collect();
    let snapshot = json!({"users": users}).to_string();
    let auth = [("authorization", SECRET)];

    let reply = send(&world, "POST", "/reconcile?strategy=sync&maxRemovalPercent=50", &auth, snapshot.clone());
    assert_eq!(reply.status, 200, "{}", reply.json());
    assert_eq!(reply.json()["plan"]["removals"][0]["email"], "dave@acme.test");
    assert!(world.requests().iter().all(|r| r.method == "GET"));

    let refused = send(&world, "POST", "/reconcile?strategy=sync&apply=true", &auth, snapshot.clone());
    assert_eq!(refused.status, 409, "one of seven is more than 5%: {}", refused.json());
    assert!(world.requests().iter().all(|r| r.method == "GET"), "a refused apply sends nothing");

    let applied = send(&world, "POST", "/reconcile?strategy=sync&apply=true&maxRemovalPercent=50", &auth, snapshot);
    assert_eq!(applied.status, 200, "{}", applied.json());
    assert_eq!(applied.json()["report"]["counts"]["ok"], 1);
    assert!(world.standin.member_by_email("dave@acme.test").is_none());

    assert_eq!(send(&world, "POST", "/reconcile", &[], "{}".into()).status, 401);
    assert_eq!(send(&world, "POST", "/reconcile?strategy=mirror", &auth, "{}".into()).status, 400);
}
