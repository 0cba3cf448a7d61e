//! Full reconciliation through the component's WIT `reconcile` interface:
//! plan (reads only), apply (the audit trail), idempotence, deletion safety,
//! the request economy at 10,000 members, and memory at 100,000.

mod common;

use common::{plan_options as options, World, TOKEN};
use host_test::bindings::exports::gitbook::directory_sync::reconcile::{ActionKind, PlanOptions, Strategy, SyncPlan};
use host_test::bindings::exports::gitbook::directory_sync::types::{Error, Role};
use host_test::standin::{Fault, FaultKind, Org, RateLimit, Role as StandInRole, StandIn};
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn role_name(role: Option<StandInRole>) -> &'static str {
    role.map_or("guest", |r| r.as_str())
}

/// A snapshot that describes the stand-in's organization exactly: every
/// member with their role, and one directory group per team, named after it.
fn mirror(standin: &StandIn) -> Value {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let teams = standin.teams();
    for team in &teams {
        for id in &team.member_ids {
            groups.entry(id.clone()).or_default().push(team.title.clone());
        }
    }
    let users: Vec<Value> = standin
        .members()
        .iter()
        .map(|m| json!({"email": m.email, "role": role_name(m.role), "groups": groups.get(&m.id).cloned().unwrap_or_default()}))
        .collect();
    let group_teams: BTreeMap<String, String> = teams.iter().map(|t| (t.title.clone(), t.title.clone())).collect();
    json!({"users": users, "rules": {"groupTeams": group_teams, "defaultRole": "read", "manageAdmins": false}})
}

/// The [`mirror`] with `people` readers gone (leavers are never admins) and
/// `people` newcomers, spread over the teams.
fn drifted_mirror(standin: &StandIn, people: usize) -> Value {
    let mut snapshot = mirror(standin);
    let teams = standin.teams();
    let list = users(&mut snapshot);
    let mut removed = 0;
    list.retain(|u| {
        let leaving = removed < people && u["role"] == "read";
        removed += leaving as usize;
        !leaving
    });
    for n in 0..people {
        list.push(json!({"email": format!("new-{n:05}@example.test"), "groups": [teams[n % teams.len()].title]}));
    }
    snapshot
}

fn users(snapshot: &mut Value) -> &mut Vec<Value> {
    snapshot["users"].as_array_mut().unwrap()
}

fn plan(world: &World, snapshot: &Value, options: &PlanOptions) -> Result<SyncPlan, Error> {
    world.reconcile(|s, r, settings| r.call_plan(s, settings, &snapshot.to_string(), *options))
}

fn writes(world: &World) -> Vec<String> {
    world.requests().iter().filter(|r| r.method != "GET").map(|r| format!("{} {}", r.method, r.path)).collect()
}

#[test]
fn a_mirror_snapshot_plans_nothing() {
    let world = World::sample();
    let planned = plan(&world, &mirror(&world.standin), &options(Strategy::Sync)).unwrap();
    assert!(
        planned.invites.is_empty() && planned.removals.is_empty() && planned.team_updates.is_empty(),
        "{planned:?}"
    );
    assert!(planned.role_changes.is_empty() && planned.create_teams.is_empty());
    assert!(writes(&world).is_empty(), "plan only reads");
}

#[test]
fn joins_leaves_moves_role_changes_and_renamed_groups_are_planned_applied_and_then_idle() {
    let world = World::sample();
    let mut snapshot = mirror(&world.standin);
    {
        let list = users(&mut snapshot);
        // dave leaves the directory; frank moves from Support to Design and becomes an editor.
        list.retain(|u| u["email"] != "dave@acme.test");
        let frank = list.iter_mut().find(|u| u["email"] == "frank@acme.test").unwrap();
        frank["groups"] = json!(["Design"]);
        frank["role"] = json!("edit");
        // Two people join: one into Engineering, one into a renamed group's new team.
        list.push(json!({"email": "nina@acme.test", "groups": ["Engineering"]}));
        list.push(json!({"email": "omar@acme.test", "role": "review", "groups": ["Docs"]}));
    }
    snapshot["rules"]["groupTeams"]["Docs"] = json!("Documentation");

    // One removal out of seven members is 14%: above the 5% default.
    let mut limits = options(Strategy::Sync);
    limits.max_removal_percent = Some(20.0);
    let planned = plan(&world, &snapshot, &limits).unwrap();
    assert_eq!(planned.create_teams, ["Documentation"]);
    let invited: Vec<(&str, Option<Role>)> = planned.invites.iter().map(|i| (i.email.as_str(), i.role)).collect();
    assert_eq!(invited, [("nina@acme.test", Some(Role::Read)), ("omar@acme.test", Some(Role::Review))]);
    assert_eq!(planned.removals.iter().map(|r| r.email.as_str()).collect::<Vec<_>>(), ["dave@acme.test"]);
    assert_eq!(planned.role_changes.len(), 1);
    assert_eq!(
        (planned.role_changes[0].email.as_str(), planned.role_changes[0].to),
        ("frank@acme.test", Some(Role::Edit))
    );
    assert!(planned.safety.is_none());

    let report = world.reconcile(|s, r, settings| r.call_apply(s, settings, &planned));
    let report = report.unwrap();
    assert_eq!((report.failed, report.not_attempted), (0, 0), "{report:?}");
    let order: Vec<ActionKind> = report.actions.iter().map(|a| a.kind).collect();
    let first = |kind: ActionKind| order.iter().position(|k| *k == kind).unwrap();
    assert!(
        first(ActionKind::CreateTeam) < first(ActionKind::Invite)
            && first(ActionKind::Invite) < first(ActionKind::UpdateTeam)
    );
    assert_eq!(order.last(), Some(&ActionKind::RemoveMember), "member removals come last: {order:?}");

    assert!(world.standin.member_by_email("dave@acme.test").is_none());
    let docs = world.standin.teams().into_iter().find(|t| t.title == "Documentation").unwrap();
    assert_eq!(world.standin.team_member_ids(&docs.id), [world.member_id("omar@acme.test")]);
    let support = world.standin.teams().into_iter().find(|t| t.title == "Support").unwrap();
    assert!(!world.standin.team_member_ids(&support.id).contains(&world.member_id("frank@acme.test")));

    world.standin.clear_requests();
    let again = plan(&world, &snapshot, &limits).unwrap();
    assert!(
        again.invites.is_empty()
            && again.removals.is_empty()
            && again.team_updates.is_empty()
            && again.role_changes.is_empty()
            && again.create_teams.is_empty(),
        "a re-run right after apply plans nothing: {again:?}"
    );
    assert!(writes(&world).is_empty());
}

#[test]
fn push_never_removes_or_demotes() {
    let world = World::sample();
    let mut snapshot = mirror(&world.standin);
    users(&mut snapshot).retain(|u| u["email"] != "dave@acme.test");
    let bob = users(&mut snapshot).iter_mut().find(|u| u["email"] == "bob@acme.test").unwrap();
    bob["role"] = json!("read");
    let planned = plan(&world, &snapshot, &options(Strategy::Push)).unwrap();
    assert!(planned.removals.is_empty() && planned.role_changes.is_empty(), "{planned:?}");
}

#[test]
fn admins_and_protected_members_are_never_removed_or_demoted() {
    let world = World::sample();
    let mut snapshot = mirror(&world.standin);
    users(&mut snapshot).retain(|u| u["email"] != "alice@acme.test" && u["email"] != "erin@acme.test");
    snapshot["rules"]["protected"] = json!(["erin@acme.test"]);
    let planned = plan(&world, &snapshot, &options(Strategy::Sync)).unwrap();
    assert!(planned.removals.is_empty(), "{:?}", planned.removals);
    let skipped: Vec<&str> = planned.skipped.iter().filter_map(|s| s.email.as_deref()).collect();
    assert!(skipped.contains(&"alice@acme.test") && skipped.contains(&"erin@acme.test"), "{skipped:?}");
}

#[test]
fn mass_removal_is_refused_with_the_list_and_nothing_is_sent() {
    let world = World::new(Org::generated("acme", TOKEN, 300, 3));
    let mut snapshot = mirror(&world.standin);
    users(&mut snapshot).truncate(250); // 50 people vanish: more than 10 and more than 5%
    let planned = plan(&world, &snapshot, &options(Strategy::Sync)).unwrap();
    let stop = planned.safety.clone().expect("a safety stop");
    assert!(stop.would_remove.len() >= 40, "{}", stop.reason);
    assert!(stop.reason.contains("more than"), "{}", stop.reason);

    let error = world.reconcile(|s, r, settings| r.call_apply(s, settings, &planned)).unwrap_err();
    let Error::SafetyStop(message) = &error else { panic!("{error:?}") };
    assert!(message.contains("user-0"), "the refusal names who would go: {message}");
    assert!(writes(&world).is_empty());

    // A caller that drops the stop on the way back is refused all the same.
    let mut tampered = planned.clone();
    tampered.safety = None;
    let error = world.reconcile(|s, r, settings| r.call_apply(s, settings, &tampered)).unwrap_err();
    assert!(matches!(error, Error::SafetyStop(_)), "{error:?}");
    assert!(writes(&world).is_empty());

    let mut override_options = options(Strategy::Sync);
    override_options.allow_mass_removal = true;
    assert!(plan(&world, &snapshot, &override_options).unwrap().safety.is_none());
}

#[test]
fn an_empty_snapshot_never_removes_anyone() {
    let world = World::sample();
    let mut loose = options(Strategy::Sync);
    loose.max_removals = Some(1000);
    loose.max_removal_percent = Some(100.0);
    let planned = plan(&world, &json!({"users": []}), &loose).unwrap();
    assert!(planned.safety.is_some(), "{planned:?}");
}

#[test]
fn reconciling_10000_members_and_100_teams_with_1_percent_drift_costs_the_floor() {
    let world = World::new(Org::generated("acme", TOKEN, 10_000, 100));
    // 1% drift: 40 leave, 40 join, 20 change teams.
    let mut snapshot = drifted_mirror(&world.standin, 40);
    let teams = world.standin.teams();
    for (n, user) in users(&mut snapshot).iter_mut().filter(|u| u["role"] == "edit").take(20).enumerate() {
        user["groups"] = json!([teams[(n * 7) % 100].title]);
    }
    let mut limits = options(Strategy::Sync);
    limits.max_removals = Some(50);

    world.standin.clear_requests();
    let planned = plan(&world, &snapshot, &limits).unwrap();
    assert!(planned.safety.is_none(), "{:?}", planned.safety);
    assert_eq!((planned.invites.len(), planned.removals.len(), planned.role_changes.len()), (40, 40, 0));
    assert!(planned.create_teams.is_empty());
    let changed_teams = planned.team_updates.len();
    let reads = world.standin.request_count();
    // Every member page at 1000, the team page, one member page per managed team.
    assert_eq!(reads, 10 + 1 + 100, "reads at the floor");

    world.standin.clear_requests();
    let report = world.reconcile(|s, r, settings| r.call_apply(s, settings, &planned)).unwrap();
    assert_eq!(report.failed, 0, "{report:?}");
    let writes = world.standin.request_count();
    // One invite batch, one PUT per changed team, one DELETE per removal.
    assert_eq!(writes, 1 + changed_teams + 40, "writes at the floor");

    let again = plan(&world, &snapshot, &limits).unwrap();
    assert!(again.invites.is_empty() && again.removals.is_empty() && again.team_updates.is_empty(), "idempotent");
}

#[test]
fn planning_100000_members_fits_in_64_mib_of_guest_memory() {
    // The host's memory cap is the measuring stick: a guest that needs more
    // fails to grow its memory and the call traps.
    let world = World::with_host(Org::generated("acme", TOKEN, 100_000, 100), |host| {
        host.max_memory_bytes = 64 << 20;
    });
    let snapshot = drifted_mirror(&world.standin, 1_000);
    let mut limits = options(Strategy::Sync);
    limits.max_removals = Some(1_000);
    limits.max_removal_percent = Some(1.0);

    let planned = plan(&world, &snapshot, &limits).unwrap();
    assert!(planned.safety.is_none(), "{:?}", planned.safety);
    assert_eq!((planned.invites.len(), planned.removals.len()), (1_000, 1_000));
    assert_eq!(planned.current_members, 100_000);
}

/// A snapshot that puts Bob and a newcomer into a group mapped to a team
/// that does not exist yet.
fn new_team_snapshot(world: &World) -> Value {
    let mut snapshot = mirror(&world.standin);
    snapshot["rules"]["groupTeams"]["Fresh"] = json!("Fresh Team");
    let list = users(&mut snapshot);
    let bob = list.iter_mut().find(|u| u["email"] == "bob@acme.test").unwrap();
    bob["groups"].as_array_mut().unwrap().push(json!("Fresh"));
    list.push(json!({"email": "zoe@acme.test", "groups": ["Fresh"]}));
    snapshot
}

#[test]
fn a_team_whose_creation_answer_is_lost_is_created_once_and_filled() {
    for fault in [FaultKind::ApplyThenServerError { status: 503 }, FaultKind::ApplyThenDrop] {
        let world = World::sample();
        let planned = plan(&world, &new_team_snapshot(&world), &options(Strategy::Push)).unwrap();
        assert_eq!(planned.create_teams, ["Fresh Team"]);
        // GitBook creates the team, then the answer is lost.
        world.standin.inject(Fault::on_path_ending("PUT", "/teams", fault.clone(), 1));
        let report = world.reconcile(|s, r, settings| r.call_apply(s, settings, &planned)).unwrap();
        assert_eq!((report.failed, report.not_attempted), (0, 0), "{fault:?}: {report:?}");

        let fresh: Vec<_> = world.standin.teams().into_iter().filter(|t| t.title == "Fresh Team").collect();
        assert_eq!(fresh.len(), 1, "{fault:?}: exactly one team, whatever the retry saw");
        let bob = world.member_id("bob@acme.test");
        let zoe = world.member_id("zoe@acme.test");
        assert!(fresh[0].member_ids.contains(&bob) && fresh[0].member_ids.contains(&zoe), "{fault:?}: {fresh:?}");
        let creations = world.requests().iter().filter(|r| r.method == "PUT" && r.path.ends_with("/teams")).count();
        assert_eq!(creations, 1, "{fault:?}: the lost creation was looked up, not repeated");
    }
}

#[test]
fn a_new_team_takes_its_existing_members_in_its_creation_request() {
    let world = World::sample();
    let planned = plan(&world, &new_team_snapshot(&world), &options(Strategy::Push)).unwrap();
    world.reconcile(|s, r, settings| r.call_apply(s, settings, &planned)).unwrap();
    let creation = world.requests().into_iter().find(|r| r.method == "PUT" && r.path.ends_with("/teams")).unwrap();
    let body: Value = serde_json::from_slice(&creation.body).unwrap();
    assert_eq!(body, json!({"title": "Fresh Team", "members": [world.member_id("bob@acme.test")]}));
    // The newcomer joins by email after the invite, in one team update.
    let updates: Vec<_> =
        world.requests().into_iter().filter(|r| r.method == "PUT" && r.path.ends_with("/members")).collect();
    assert_eq!(updates.len(), 1);
    let update: Value = serde_json::from_slice(&updates[0].body).unwrap();
    assert_eq!(update["add"], json!(["zoe@acme.test"]));
}

#[test]
fn apply_refuses_a_push_plan_that_removes_and_sends_nothing() {
    let world = World::sample();
    let mut snapshot = mirror(&world.standin);
    users(&mut snapshot).retain(|u| u["email"] != "dave@acme.test");
    let mut limits = options(Strategy::Sync);
    limits.max_removal_percent = Some(20.0);
    let mut planned = plan(&world, &snapshot, &limits).unwrap();
    assert_eq!(planned.removals.len(), 1);
    // A caller (or an edited plan) relabels it push: push never deletes.
    planned.strategy = Strategy::Push;
    planned.options.strategy = Strategy::Push;
    let before = world.requests().len();
    let error = world.reconcile(|s, r, settings| r.call_apply(s, settings, &planned)).unwrap_err();
    assert_eq!(common::invalid_field(error), "plan.removals[0]");
    assert_eq!(world.requests().len(), before, "nothing is sent");
    assert!(world.standin.member_by_email("dave@acme.test").is_some());
}

// Concurrency: the same plan and the same requests, several at a time.

/// Plans and applies `snapshot` at `concurrency`; the report's counts and
/// the requests GitBook received.
fn reconcile_at(world: &mut World, snapshot: &Value, concurrency: u32) -> usize {
    world.settings.concurrency = Some(concurrency);
    let mut limits = options(Strategy::Sync);
    limits.max_removals = Some(1_000);
    limits.max_removal_percent = Some(100.0);
    world.standin.clear_requests();
    let planned = plan(world, snapshot, &limits).unwrap();
    let report = world.reconcile(|s, r, settings| r.call_apply(s, settings, &planned)).unwrap();
    assert_eq!((report.failed, report.not_attempted), (0, 0), "{report:?}");
    world.standin.request_count()
}

/// Every member's email and role, and every team's title and member
/// emails: what a reconcile is for.
fn outcome(standin: &StandIn) -> (BTreeMap<String, String>, BTreeMap<String, Vec<String>>) {
    let members = standin.members();
    let email = |id: &String| members.iter().find(|m| &m.id == id).map(|m| m.email.clone()).unwrap_or_default();
    let roles = members.iter().map(|m| (m.email.clone(), role_name(m.role).to_owned())).collect();
    let teams = standin
        .teams()
        .iter()
        .map(|t| {
            let mut emails: Vec<String> = t.member_ids.iter().map(email).collect();
            emails.sort();
            (t.title.clone(), emails)
        })
        .collect();
    (roles, teams)
}

#[test]
fn at_concurrency_8_requests_overlap_and_gitbook_ends_as_a_serial_run_leaves_it() {
    let org = || Org::generated("acme", TOKEN, 300, 10);
    let (mut serial, mut parallel) = (World::new(org()), World::new(org()));
    let snapshot = drifted_mirror(&serial.standin, 12);
    for world in [&serial, &parallel] {
        // Long enough that requests sent together are processed together.
        world.standin.set_latency(std::time::Duration::from_millis(15));
    }
    let serial_requests = reconcile_at(&mut serial, &snapshot, 1);
    let parallel_requests = reconcile_at(&mut parallel, &snapshot, 8);
    assert_eq!(serial.standin.max_in_flight(), 1, "concurrency 1 is one request at a time");
    let most = parallel.standin.max_in_flight();
    assert!((4..=8).contains(&most), "at concurrency 8 the stand-in saw {most} requests at once");
    assert_eq!(parallel_requests, serial_requests, "the same requests, no extra");
    assert_eq!(outcome(&parallel.standin), outcome(&serial.standin));
}

#[test]
fn the_host_caps_requests_in_flight_whatever_the_guest_asks_for() {
    let mut world = World::with_host(Org::generated("acme", TOKEN, 300, 10), |host| host.max_requests_in_flight = 2);
    let snapshot = drifted_mirror(&world.standin, 12);
    world.standin.set_latency(std::time::Duration::from_millis(15));
    reconcile_at(&mut world, &snapshot, 16);
    assert_eq!(world.standin.max_in_flight(), 2, "host policy beats guest wish");
}

/// A reconcile of 300 members in 20 teams with 20 people drifting, against
/// a stand-in that allows `limit` requests a second; the requests it
/// received and the 429s among them.
fn rate_limited_reconcile(limit: u32, headers_on_every_answer: bool) -> (usize, usize, usize) {
    let mut world = World::new(Org::generated("acme", TOKEN, 300, 20));
    let snapshot = drifted_mirror(&world.standin, 20);
    let floor = reconcile_at(&mut World::new(Org::generated("acme", TOKEN, 300, 20)), &snapshot, 1);
    world.standin.set_rate_limit(Some(RateLimit { limit, window_secs: 1, headers_on_every_answer }));
    let sent = reconcile_at(&mut world, &snapshot, 8);
    (floor, sent, world.standin.rate_limited_count())
}

#[test]
fn with_remaining_on_every_answer_requests_stay_within_the_window_and_429s_stay_under_2_percent() {
    let (floor, sent, limited) = rate_limited_reconcile(20, true);
    assert!(floor > 3 * 20, "the job spans several windows ({floor} requests)");
    assert!(limited * 50 <= floor, "{limited} 429s for a floor of {floor}");
    assert_eq!(sent, floor + limited, "each 429 cost exactly one repeat");
}

#[test]
fn with_only_429s_to_go_by_the_job_still_completes_and_each_429_pauses_everyone() {
    let (floor, sent, limited) = rate_limited_reconcile(20, false);
    assert_eq!(sent, floor + limited, "each 429 cost exactly one repeat");
    // Only the requests already in flight when a window ran out (at most the
    // concurrency) can meet its 429: everyone else waits for the reset.
    let windows = floor.div_ceil(20) + 1;
    assert!(limited <= windows * 8, "{limited} 429s over about {windows} windows");
}
