//! Request economy: every job of BENCHMARKS.md section 1 makes exactly the
//! fewest requests GitBook's API allows, counted at the stand-in, through
//! the real component in wasmtime. The scenarios and their floors are the
//! benchmark's own (`host-test/benches/benchmarks/scenarios.rs`); the
//! benchmark adds the timings and the official client's counts.

mod common;
#[path = "../host-test/benches/benchmarks/scenarios.rs"]
mod scenarios;

use common::{no_filter, World};
use host_test::bindings::exports::gitbook::directory_sync::reconcile::{PlanOptions, Strategy};
use host_test::bindings::exports::gitbook::directory_sync::types::{InviteRequest, Removal, Role};
use host_test::HttpReply;
use scenarios::{Events, MEMBERS, TEAMS};
use serde_json::{json, Value};

fn world() -> World {
    World::new(scenarios::org(MEMBERS, TEAMS))
}

/// `METHOD /path` of every request the stand-in saw.
fn lines(world: &World) -> Vec<String> {
    world.requests().iter().map(|r| format!("{} {}", r.method, r.path)).collect()
}

#[test]
fn one_join_is_one_invite() {
    let world = world();
    let events = Events::on(&world.standin);
    let invite =
        InviteRequest { emails: vec![events.joiner.clone()], with_roles: vec![], role: Some(Role::Read), sso: true };
    world.call(|s, c, settings| c.call_invite(s, settings, &invite)).unwrap();
    assert_eq!(lines(&world), ["POST /v1/orgs/acme/invites"]);
    assert_eq!(world.standin.request_count(), scenarios::JOIN_FLOOR);
}

#[test]
fn one_leave_by_id_is_one_delete() {
    let world = world();
    let events = Events::on(&world.standin);
    let removal = world.call(|s, c, settings| c.call_remove_member(s, settings, &events.leaver_id)).unwrap();
    assert_eq!(removal, Removal::Deleted);
    assert_eq!(lines(&world), [format!("DELETE /v1/orgs/acme/members/{}", events.leaver_id)]);
    assert_eq!(world.standin.request_count(), scenarios::LEAVE_BY_ID_FLOOR);
}

#[test]
fn one_leave_by_email_is_one_search_and_one_delete() {
    let world = world();
    let events = Events::on(&world.standin);
    let id = world.member_id(&events.leaver_email);
    let removal =
        world.call(|s, c, settings| c.call_remove_member_by_email(s, settings, &events.leaver_email)).unwrap();
    assert_eq!((removal.outcome, removal.user_id.as_deref()), (Removal::Deleted, Some(id.as_str())));
    assert_eq!(lines(&world), ["GET /v1/orgs/acme/members".to_owned(), format!("DELETE /v1/orgs/acme/members/{id}")]);
    assert_eq!(world.standin.request_count(), scenarios::LEAVE_BY_EMAIL_FLOOR);
}

#[test]
fn one_group_change_is_one_put() {
    let world = world();
    let events = Events::on(&world.standin);
    world
        .call(|s, c, settings| c.call_update_team_members(s, settings, &events.team_id, &events.add, &events.remove))
        .unwrap();
    assert_eq!(lines(&world), [format!("PUT /v1/orgs/acme/teams/{}/members", events.team_id)]);
    assert_eq!(world.standin.request_count(), scenarios::GROUP_CHANGE_FLOOR);
}

#[test]
fn listing_10000_members_is_ten_pages_of_1000() {
    let world = world();
    let members = world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter())).unwrap();
    assert_eq!(members.len(), MEMBERS);
    let requests = world.requests();
    assert_eq!(requests.len(), scenarios::pages(MEMBERS));
    assert_eq!(requests.len(), 10);
    assert!(requests.iter().all(|r| r.method == "GET" && r.query_param("limit").as_deref() == Some("1000")));
}

#[test]
fn reconciling_10000_members_100_teams_and_1_percent_drift_is_at_the_floor() {
    let world = world();
    let (snapshot, drift) = scenarios::drifted(&world.standin);
    let floor = scenarios::reconcile_floor(&world.standin, &snapshot);
    // 10 member pages + 1 team page + 1 page per team (each under 1000 members).
    assert_eq!(floor.reads, 10 + 1 + TEAMS);
    assert_eq!(drift, scenarios::Drift { leavers: 40, joiners: 40, movers: 20 });
    let options = PlanOptions {
        strategy: Strategy::Sync,
        max_removals: Some(drift.leavers as u32 + 10),
        max_removal_percent: None,
        allow_mass_removal: false,
    };

    world.standin.clear_requests();
    let plan =
        world.reconcile(|s, r, settings| r.call_plan(s, settings, &snapshot.to_string(), options)).expect("a plan");
    assert!(plan.safety.is_none(), "{:?}", plan.safety);
    let reads = world.requests();
    assert!(reads.iter().all(|r| r.method == "GET"), "plan only reads");
    assert_eq!(reads.len(), floor.reads, "reads at the floor");

    world.standin.clear_requests();
    let report = world.reconcile(|s, r, settings| r.call_apply(s, settings, &plan)).expect("applied");
    assert_eq!((report.failed, report.not_attempted), (0, 0), "{report:?}");
    let writes = world.requests();
    assert!(writes.iter().all(|r| r.method != "GET"), "apply only writes");
    assert_eq!(writes.len(), floor.writes, "writes at the floor: {:?}", lines(&world));
    let invites = writes.iter().filter(|r| r.path.ends_with("/invites")).count();
    let deletes = writes.iter().filter(|r| r.method == "DELETE").count();
    assert_eq!((invites, deletes), (1, drift.leavers));

    world.standin.clear_requests();
    let again = world.reconcile(|s, r, settings| r.call_plan(s, settings, &snapshot.to_string(), options)).unwrap();
    assert!(again.invites.is_empty() && again.removals.is_empty() && again.team_updates.is_empty(), "converged");
}

const SECRET: &str = "whsec_economy";

fn deliver(world: &World, event: Value) -> HttpReply {
    world.standin.clear_requests();
    let headers = [("authorization", SECRET), ("content-type", "application/json")];
    let (reply, _) = world.host.handle_http("POST", "/events", &headers, event.to_string().into_bytes()).unwrap();
    assert_eq!(reply.status, 200, "{}", reply.json());
    assert_eq!(reply.json()["applied"], 1, "{}", reply.json());
    reply
}

#[test]
fn webhook_events_cost_the_same_floors() {
    let world = World::configured(scenarios::org(MEMBERS, TEAMS), &[("WEBHOOK_SECRET", SECRET)]);
    let events = Events::on(&world.standin);

    deliver(&world, json!({"id": "e1", "type": "user.joined", "email": events.joiner}));
    assert_eq!(lines(&world), ["POST /v1/orgs/acme/invites"]);

    deliver(&world, json!({"id": "e2", "type": "user.left", "userId": events.leaver_id}));
    assert_eq!(world.standin.request_count(), scenarios::LEAVE_BY_ID_FLOOR);

    deliver(&world, json!({"id": "e3", "type": "user.left", "email": events.leaver_email}));
    assert_eq!(world.standin.request_count(), scenarios::LEAVE_BY_EMAIL_FLOOR);

    let change = json!({"id": "e4", "type": "group.changed", "teamId": events.team_id, "add": events.add, "remove": events.remove});
    deliver(&world, change);
    assert_eq!(lines(&world), [format!("PUT /v1/orgs/acme/teams/{}/members", events.team_id)]);
}
