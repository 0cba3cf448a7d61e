//! Applying plans against a scripted GitBook: order, batching, failures that
//! do and do not stop the run, refusal of a stopped plan, the report.

use super::testkit::{member, settings, snapshot, state, sync, team};
use super::{apply, plan, read_state, ActionKind, Options, Outcome, Plan};
use crate::error::{Error, FailureKind};
use crate::gitbook::fake::{json, ScriptedIo};
use crate::gitbook::Client;
use crate::http::Method;
use crate::role::Role;
use serde_json::{json, Value};

fn unguarded() -> Options {
    Options { allow_mass_removal: true, ..sync() }
}

fn requests(io: &ScriptedIo) -> Vec<(Method, String)> {
    let base = "https://api.gitbook.com/v1/orgs/acme";
    io.sent.iter().map(|r| (r.method, r.url.strip_prefix(base).unwrap_or(&r.url).to_owned())).collect()
}

fn body(io: &ScriptedIo, n: usize) -> Value {
    serde_json::from_slice(io.sent[n].body.as_deref().unwrap()).unwrap()
}

fn member_json(id: &str, email: &str, role: Option<Role>) -> String {
    serde_json::to_string(&member(id, email, role)).unwrap()
}

fn kinds(plan_report: &super::Report) -> Vec<(ActionKind, Outcome)> {
    plan_report.actions.iter().map(|a| (a.kind, a.outcome)).collect()
}

/// Ann (read → edit) and Dave (gone), with `new` new people in `eng`,
/// which maps to a team that does not exist yet.
fn growth_plan(new: usize) -> Plan {
    let state = state(
        vec![
            member("uann", "ann@example.com", Some(Role::Read)),
            member("udave", "dave@example.com", Some(Role::Read)),
        ],
        &[],
    );
    let mut users = vec![json!({"email": "ann@example.com", "role": "edit", "groups": ["eng"]})];
    users.extend((0..new).map(|i| json!({"email": format!("new{i}@example.com"), "groups": ["eng"]})));
    plan(&snapshot(json!({"users": users, "rules": {"groupTeams": {"eng": "Platform"}}})), &state, &unguarded())
}

#[test]
fn actions_run_in_order_and_1500_invites_take_two_requests() {
    let plan = growth_plan(1500);
    assert_eq!(plan.invites.len(), 1500);
    let users = |range: std::ops::Range<usize>| {
        let ids: Vec<String> = range.clone().map(|i| format!("x{i}")).collect();
        json!({"users": ids, "invited": range.len()}).to_string()
    };
    let settings = settings();
    let mut io = ScriptedIo::new([
        json(201, r#"{"id":"tnew","title":"Platform","members":0}"#),
        json(200, &users(0..1000)),
        json(200, &users(1000..1500)),
        json(204, ""),
        json(200, &member_json("uann", "ann@example.com", Some(Role::Edit))),
        json(205, ""),
    ]);
    let report = apply(&mut Client::new(&settings, &mut io), &plan, false).unwrap();
    assert_eq!(
        requests(&io),
        [
            (Method::Put, "/teams".to_owned()),
            (Method::Post, "/invites".to_owned()),
            (Method::Post, "/invites".to_owned()),
            (Method::Put, "/teams/tnew/members".to_owned()),
            (Method::Patch, "/members/uann".to_owned()),
            (Method::Delete, "/members/udave".to_owned()),
        ]
    );
    // Ann, already a member, joins the new team in its creation; the new
    // people join through the update after their invite.
    assert_eq!(body(&io, 0), json!({"title": "Platform", "members": ["uann"]}));
    let (first, second) = (body(&io, 1), body(&io, 2));
    assert_eq!(first["emails"].as_array().unwrap().len(), 1000);
    assert_eq!(second["emails"].as_array().unwrap().len(), 500);
    assert_eq!(first["emails"][0], json!({"email": "new0@example.com", "role": "read"}));
    assert_eq!(second["emails"][499], json!({"email": "new1499@example.com", "role": "read"}));
    assert_eq!((&first["sso"], &first["role"]), (&json!(false), &json!("read")));
    let team = body(&io, 3);
    assert_eq!(team["add"].as_array().unwrap().len(), 1500);
    assert_eq!((&team["add"][0], &team["remove"]), (&json!("new0@example.com"), &json!([])));
    assert_eq!(body(&io, 4), json!({"role": "edit"}));

    assert_eq!(
        (report.counts.planned, report.counts.ok, report.counts.failed, report.counts.not_attempted),
        (1504, 1504, 0, 0)
    );
    assert!(report.is_success() && report.stopped.is_none());
    assert_eq!(report.actions[0].detail, "created team tnew with 1 existing member");
    assert_eq!(
        (report.actions[1].target.as_str(), report.actions[1].detail.as_str()),
        ("new0@example.com", "invited as read (user x0)")
    );
    assert_eq!(report.actions[1501].target, "Platform (tnew)");
    assert_eq!(report.actions[1502].detail, "role changed from read to edit");
    assert_eq!(
        (report.actions[1503].target.as_str(), report.actions[1503].detail.as_str()),
        ("dave@example.com (udave)", "removed from the organization")
    );
}

#[test]
fn one_failure_does_not_stop_the_rest_and_failed_invitees_are_not_added_to_teams() {
    let plan = growth_plan(2);
    let settings = settings();
    let mut io = ScriptedIo::new([
        json(201, r#"{"id":"tnew","title":"Platform","members":0}"#),
        json(422, r#"{"error":{"code":422,"message":"seat limit reached"}}"#),
        json(409, r#"{"error":{"code":409,"message":"member changed"}}"#),
        json(205, ""),
    ]);
    let report = apply(&mut Client::new(&settings, &mut io), &plan, true).unwrap();
    // Ann joined in the creation; both invitees failed: no team update is sent.
    assert_eq!(io.sent.len(), 4);
    assert_eq!(body(&io, 0), json!({"title": "Platform", "members": ["uann"]}));
    assert!(io.sent.iter().all(|r| !r.url.ends_with("/members") || r.method != Method::Put));
    assert_eq!(
        kinds(&report),
        [
            (ActionKind::CreateTeam, Outcome::Ok),
            (ActionKind::Invite, Outcome::Failed),
            (ActionKind::Invite, Outcome::Failed),
            (ActionKind::UpdateTeam, Outcome::Ok),
            (ActionKind::ChangeRole, Outcome::Failed),
            (ActionKind::RemoveMember, Outcome::Ok),
        ]
    );
    assert_eq!(
        report.actions[3].detail,
        "its members were added when it was created; 2 not added because their invite failed"
    );
    assert!(report.actions[1].detail.contains("seat limit reached"), "{}", report.actions[1].detail);
    assert_eq!(report.actions[4].error.as_ref().and_then(Error::kind), Some(FailureKind::Conflict));
    assert_eq!((report.counts.ok, report.counts.failed, report.counts.not_attempted), (3, 3, 0));
    assert!(!report.is_success() && report.stopped.is_none());
}

#[test]
fn an_unauthorized_answer_stops_the_run() {
    let plan = growth_plan(2);
    let settings = settings();
    let mut io = ScriptedIo::new([json(401, r#"{"error":{"code":401,"message":"bad token"}}"#)]);
    let report = apply(&mut Client::new(&settings, &mut io), &plan, true).unwrap();
    assert_eq!(io.sent.len(), 1);
    assert_eq!(kinds(&report), [(ActionKind::CreateTeam, Outcome::Failed)]);
    assert_eq!((report.counts.planned, report.counts.failed, report.counts.not_attempted), (6, 1, 5));
    assert!(report.stopped.as_deref().unwrap().starts_with("stopped after Platform failed"), "{:?}", report.stopped);
}

#[test]
fn a_team_that_was_not_created_is_not_updated_and_the_rest_goes_on() {
    let plan = growth_plan(1);
    let settings = settings();
    let mut io = ScriptedIo::new([
        json(422, r#"{"error":{"code":422,"message":"title taken"}}"#),
        json(200, r#"{"users":["x0"],"invited":1}"#),
        json(200, &member_json("uann", "ann@example.com", Some(Role::Edit))),
        json(205, ""),
    ]);
    let report = apply(&mut Client::new(&settings, &mut io), &plan, true).unwrap();
    let sent: Vec<Method> = requests(&io).into_iter().map(|(m, _)| m).collect();
    assert_eq!(sent, [Method::Put, Method::Post, Method::Patch, Method::Delete]);
    let update = &report.actions[2];
    assert_eq!((update.kind, update.outcome), (ActionKind::UpdateTeam, Outcome::Failed));
    assert!(update.detail.contains("was not created"), "{}", update.detail);
    assert_eq!((report.counts.ok, report.counts.failed), (3, 2));
}

#[test]
fn a_stopped_plan_is_refused_and_nothing_is_sent() {
    let state = state(
        (0..4).map(|i| member(&format!("u{i}"), &format!("user{i}@example.com"), Some(Role::Read))).collect(),
        &[],
    );
    let plan = plan(&snapshot(json!({"users": [{"email": "user0@example.com"}]})), &state, &sync());
    assert!(plan.safety.is_some());
    let settings = settings();
    let mut io = ScriptedIo::new([]);
    let error = apply(&mut Client::new(&settings, &mut io), &plan, true).unwrap_err();
    let Error::SafetyStop(message) = error else { panic!("{error:?}") };
    assert!(message.contains("safety stop") && message.contains("user3@example.com (u3)"), "{message}");
    assert!(io.sent.is_empty());
}

#[test]
fn an_empty_plan_sends_nothing() {
    let state = state(vec![member("uann", "ann@example.com", Some(Role::Read))], &[]);
    let plan = plan(&snapshot(json!({"users": [{"email": "ann@example.com"}]})), &state, &sync());
    let settings = settings();
    let mut io = ScriptedIo::new([]);
    let report = apply(&mut Client::new(&settings, &mut io), &plan, true).unwrap();
    assert!(report.actions.is_empty() && report.is_success() && io.sent.is_empty());
}

#[test]
fn the_report_serializes_as_an_audit_trail() {
    let plan = growth_plan(0);
    let settings = settings();
    let mut io = ScriptedIo::new([
        json(201, r#"{"id":"tnew","title":"Platform","members":0}"#),
        json(403, r#"{"error":{"code":403,"message":"not an admin"}}"#),
    ]);
    let report = apply(&mut Client::new(&settings, &mut io), &plan, true).unwrap();
    let value = serde_json::to_value(&report).unwrap();
    assert_eq!(
        value["actions"][0],
        json!({"kind": "create-team", "target": "Platform", "outcome": "ok",
               "detail": "created team tnew with 1 existing member"})
    );
    assert_eq!(value["actions"][1]["kind"], "update-team");
    let failed = &value["actions"][2];
    assert_eq!(
        (&failed["kind"], &failed["outcome"], &failed["target"]),
        (&json!("change-role"), &json!("failed"), &json!("ann@example.com (uann)"))
    );
    assert_eq!(failed["error"]["kind"], "forbidden");
    assert_eq!(failed["error"]["message"], "not an admin");
    assert_eq!(value["counts"], json!({"planned": 4, "ok": 2, "failed": 1, "unknown": 0, "notAttempted": 1}));
    assert!(value["stopped"].as_str().unwrap().contains("forbidden"));
}

#[test]
fn read_plan_apply_end_to_end() {
    let ann = member("uann", "ann@example.com", Some(Role::Read));
    let settings = settings();
    let mut io = ScriptedIo::new([
        json(200, r#"{"items":[{"id":"teng","title":"Engineering","members":0}],"count":1}"#),
        json(200, &json!({"items": [ann], "count": 1}).to_string()),
        json(200, r#"{"items":[],"count":0}"#),
        json(200, r#"{"users":["ubob"],"invited":1}"#),
        json(204, ""),
    ]);
    let snapshot = snapshot(json!({
        "users": [{"email": "ann@example.com", "groups": ["eng"]}, {"email": "bob@example.com", "groups": ["eng"]}],
        "rules": {"groupTeams": {"eng": "Engineering"}, "sso": false}
    }));
    let mut client = Client::new(&settings, &mut io);
    let state = read_state(&mut client, &snapshot.rules.team_titles()).unwrap();
    let plan = plan(&snapshot, &state, &sync());
    let report = apply(&mut client, &plan, snapshot.rules.sso).unwrap();
    assert!(report.is_success());
    assert_eq!(body(&io, 3)["sso"], json!(false));
    assert_eq!(body(&io, 4), json!({"add": ["uann", "bob@example.com"], "remove": []}));
}

/// A plan that removes three readers, u0 to u2, and nothing else.
fn three_removals() -> Plan {
    let state = state(
        (0..3).map(|i| member(&format!("u{i}"), &format!("user{i}@example.com"), Some(Role::Read))).collect(),
        &[(team("t", "T"), &[])],
    );
    plan(&snapshot(json!({"users": []})), &state, &unguarded())
}

#[test]
fn removals_report_what_gitbook_did() {
    let plan = three_removals();
    let settings = settings();
    let mut io = ScriptedIo::new([json(205, ""), json(204, ""), json(202, "")]);
    let report = apply(&mut Client::new(&settings, &mut io), &plan, true).unwrap();
    let details: Vec<&str> = report.actions.iter().map(|a| a.detail.as_str()).collect();
    assert_eq!(
        details,
        [
            "removed from the organization",
            "was no longer a member",
            "removal sent to the organization's admins for approval"
        ]
    );
}

#[test]
fn answers_arriving_out_of_order_are_reported_in_plan_order() {
    let plan = three_removals();
    let settings = settings();
    let mut io = ScriptedIo::new([json(205, ""), json(204, ""), json(202, "")]);
    // The last removal sent is answered first.
    io.out_of_order = true;
    let report = apply(&mut Client::new(&settings, &mut io), &plan, true).unwrap();
    assert_eq!(io.max_in_flight, 3, "the three removals were in flight together");
    let reported: Vec<(&str, &str)> = report.actions.iter().map(|a| (a.target.as_str(), a.detail.as_str())).collect();
    assert_eq!(
        reported,
        [
            ("user0@example.com (u0)", "removed from the organization"),
            ("user1@example.com (u1)", "was no longer a member"),
            ("user2@example.com (u2)", "removal sent to the organization's admins for approval"),
        ]
    );
}

#[test]
fn two_steps_for_one_target_in_a_stage_are_refused_and_nothing_is_sent() {
    let settings = settings();
    let twice = |edit: fn(&mut Plan)| {
        let mut plan = three_removals();
        edit(&mut plan);
        let mut io = ScriptedIo::new([]);
        let error = apply(&mut Client::new(&settings, &mut io), &plan, true).unwrap_err();
        assert!(io.sent.is_empty(), "{error}");
        match error {
            Error::InvalidInput { field, message } => (field, message),
            other => panic!("not invalid-input: {other}"),
        }
    };
    let (field, message) = twice(|plan| plan.removals.push(plan.removals[1].clone()));
    assert_eq!(field, "plan.removals[3]");
    assert!(message.contains("removes u1 twice in one stage"), "{message}");
    let (field, _) = twice(|plan| {
        let change = super::RoleChange {
            user_id: plan.removals[0].user_id.clone(),
            email: plan.removals[0].email.clone(),
            from: Some(Role::Read),
            to: Some(Role::Edit),
        };
        plan.role_changes = vec![change.clone(), super::RoleChange { to: Some(Role::Admin), ..change }];
    });
    assert_eq!(field, "plan.role-changes[1]");
    let (field, _) = twice(|plan| {
        let title = crate::validate::TeamTitle::parse("t", "Eng").unwrap();
        let update = |id: &str| super::TeamUpdate {
            title: title.clone(),
            team_id: Some(crate::validate::GitBookId::parse("team-id", id).unwrap()),
            add: vec![],
            remove: vec![],
        };
        plan.team_updates = vec![update("t1"), update("t2"), update("t1")];
    });
    assert_eq!(field, "plan.team-updates[2]");
}

#[test]
fn a_removal_whose_answer_never_came_is_unknown_not_failed() {
    let plan = three_removals();
    let settings = crate::settings::Settings {
        retry: crate::settings::RetryPolicy { max_attempts: 1, ..Default::default() },
        ..settings()
    };
    let timeout = Err(crate::io::TransportError {
        kind: crate::io::TransportErrorKind::Timeout,
        message: "no first byte".into(),
    });
    let refused = Err(crate::io::TransportError {
        kind: crate::io::TransportErrorKind::Unreachable,
        message: "connection refused".into(),
    });
    let mut io = ScriptedIo::new([json(205, ""), timeout, refused]);
    let report = apply(&mut Client::new(&settings, &mut io), &plan, true).unwrap();
    let outcomes: Vec<Outcome> = report.actions.iter().map(|a| a.outcome).collect();
    assert_eq!(outcomes, [Outcome::Ok, Outcome::Unknown, Outcome::Failed]);
    assert_eq!((report.counts.ok, report.counts.failed, report.counts.unknown), (1, 1, 1));
    assert!(!report.is_success());
    let value = serde_json::to_value(&report).unwrap();
    assert_eq!(value["actions"][1]["outcome"], "unknown");
    assert_eq!(value["actions"][1]["error"]["effectUnknown"], true);
}

#[test]
fn the_stop_message_says_what_was_and_was_not_attempted() {
    let plan = three_removals();
    let settings = crate::settings::Settings { concurrency: std::num::NonZeroU32::new(2).unwrap(), ..settings() };
    // u0 and u1 go together; u0's 403 stops the run, u1 was already sent and
    // is removed; u2 is never sent.
    let mut io = ScriptedIo::new([json(403, r#"{"error":{"code":403,"message":"not an admin"}}"#), json(205, "")]);
    let report = apply(&mut Client::new(&settings, &mut io), &plan, true).unwrap();
    assert_eq!(io.sent.len(), 2);
    assert_eq!(kinds(&report), [(ActionKind::RemoveMember, Outcome::Failed), (ActionKind::RemoveMember, Outcome::Ok)]);
    let stopped = report.stopped.unwrap();
    assert!(
        stopped.starts_with("stopped after user0@example.com (u0) failed: remove member failed: forbidden"),
        "{stopped}"
    );
    assert!(
        stopped.ends_with(
            "1 of 3 planned actions were not attempted; the 1 other action reported was sent before the stop \
             and is reported as it ended"
        ),
        "{stopped}"
    );
}

#[test]
fn a_budget_that_runs_out_stops_the_apply_between_stages_and_says_so() {
    let plan = growth_plan(1);
    let settings = settings();
    // The team is created by 10 ms; the budget ends then.
    let mut io = ScriptedIo::new([json(201, r#"{"id":"tnew","title":"Platform","members":0}"#)]);
    let mut client = Client::new(&settings, &mut io);
    client.limit_until(std::time::Duration::from_millis(10));
    let report = apply(&mut client, &plan, true).unwrap();
    assert_eq!(io.sent.len(), 1, "nothing sent after the budget");
    assert_eq!(kinds(&report), [(ActionKind::CreateTeam, Outcome::Ok)]);
    assert_eq!((report.counts.planned, report.counts.not_attempted), (5, 4));
    let stopped = report.stopped.unwrap();
    assert!(stopped.starts_with("the time budget ran out; 4 of 5 planned actions were not attempted"), "{stopped}");
}
