//! Every run ends within its deadline, whatever GitBook does: the real
//! component in wasmtime against the stand-in answering as a rate-limited,
//! slow or stalled server can. Each test asserts the wall time (the
//! deadline plus a margin for the host), each step's real outcome, and the
//! requests the stand-in saw.

mod common;

use common::{failure, plan_options, World};
use host_test::bindings::exports::gitbook::directory_sync::events::{EventResult, EventStatus};
use host_test::bindings::exports::gitbook::directory_sync::reconcile::{
    ActionOutcome, PlanOptions, Strategy, SyncReport,
};
use host_test::bindings::exports::gitbook::directory_sync::types::{Error, InviteRequest, RetryPolicy, Timeouts};
use host_test::standin::{Fault, FaultKind};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// What the host may add to a deadline: instantiating the component,
/// connecting, the stand-in's own latency.
const MARGIN: Duration = Duration::from_millis(1500);

/// Prints a run's wall time (`--nocapture` shows them; docs/reliability.md
/// quotes them).
fn measured(what: &str, took: Duration) {
    eprintln!("measured: {what}: {:.2} s", took.as_secs_f64());
}

/// A world with these bounds (seconds) and concurrency.
fn bounded(max_wait_s: u64, deadline_s: u64, concurrency: u32) -> World {
    let mut world = World::sample();
    world.settings.retry = Some(RetryPolicy {
        max_attempts: 4,
        max_wait_ms: max_wait_s * 1000,
        deadline_ms: deadline_s * 1000,
        base_delay_ms: 20,
    });
    world.settings.concurrency = Some(concurrency);
    world
}

fn deletes(world: &World) -> Vec<String> {
    world.requests().iter().filter(|r| r.method == "DELETE").map(|r| r.path.clone()).collect()
}

fn leave_events(world: &World, emails: &[&str]) -> Value {
    let events: Vec<Value> = emails
        .iter()
        .enumerate()
        .map(|(n, email)| json!({"id": format!("e{n}"), "type": "user.left", "userId": world.member_id(email)}))
        .collect();
    json!(events)
}

fn apply_events(world: &World, events: &Value) -> Vec<EventResult> {
    world.events(|s, e, settings| e.call_apply(s, settings, &events.to_string(), None)).expect("a valid document")
}

/// A sync plan removing `leaving` (everyone else stays as they are) and
/// its report.
fn remove_through_apply(world: &World, leaving: &[&str]) -> SyncReport {
    let users: Vec<Value> = world
        .standin
        .members()
        .iter()
        .filter(|m| !leaving.contains(&m.email.as_str()))
        .map(|m| json!({"email": m.email, "role": m.role.map_or("guest", |r| r.as_str())}))
        .collect();
    let snapshot = json!({"users": users, "rules": {"defaultRole": "read", "manageAdmins": false}});
    let options = PlanOptions { allow_mass_removal: true, ..plan_options(Strategy::Sync) };
    let plan =
        world.reconcile(|s, r, settings| r.call_plan(s, settings, &snapshot.to_string(), options)).expect("a plan");
    assert_eq!(plan.removals.len(), leaving.len(), "{plan:?}");
    world.reconcile(|s, r, settings| r.call_apply(s, settings, &plan)).expect("a report")
}

/// Each action's target (its email) and outcome, in plan order.
fn outcomes(report: &SyncReport) -> Vec<(String, ActionOutcome)> {
    report.actions.iter().map(|a| (a.target.split(' ').next().unwrap().to_owned(), a.outcome)).collect()
}

fn rate_limited(error: &Option<Error>) -> bool {
    matches!(error, Some(Error::RateLimited(_)))
}

#[test]
fn a_huge_retry_after_on_one_removal_fails_it_at_once_and_the_next_event_still_runs() {
    for concurrency in [1, 8] {
        let world = bounded(5, 10, concurrency);
        let dave = world.member_id("dave@acme.test");
        world.standin.inject(Fault::on("DELETE", &dave, FaultKind::RetryAfter { seconds: 99_999_999 }, 1));
        let events = leave_events(&world, &["dave@acme.test", "frank@acme.test"]);
        let started = Instant::now();
        let results = apply_events(&world, &events);
        let took = started.elapsed();
        measured(&format!("Retry-After 99999999 on 1 of 2 events, concurrency {concurrency}"), took);
        assert!(took < MARGIN, "took {took:?} at concurrency {concurrency}");
        assert_eq!(results.iter().map(|r| r.status).collect::<Vec<_>>(), [EventStatus::Failed, EventStatus::Applied]);
        assert!(rate_limited(&results[0].error), "{:?}", results[0]);
        assert_eq!(failure(results[0].error.as_ref().unwrap()).retry_after_ms, Some(99_999_999_000));
        assert_eq!(deletes(&world).len(), 2, "both removals were sent once");
        assert!(world.standin.member_by_email("frank@acme.test").is_none());
    }
}

#[test]
fn a_retry_after_past_max_wait_does_not_hold_the_next_event() {
    let world = bounded(5, 10, 1);
    let dave = world.member_id("dave@acme.test");
    world.standin.inject(Fault::on("DELETE", &dave, FaultKind::RetryAfter { seconds: 40 }, 1));
    let events = leave_events(&world, &["dave@acme.test", "frank@acme.test"]);
    let started = Instant::now();
    let results = apply_events(&world, &events);
    measured("Retry-After 40 with max-wait 5, deadline 10, 2 events", started.elapsed());
    assert!(started.elapsed() < MARGIN, "took {:?}, not 40 s", started.elapsed());
    assert_eq!(results.iter().map(|r| r.status).collect::<Vec<_>>(), [EventStatus::Failed, EventStatus::Applied]);
    assert_eq!(deletes(&world).len(), 2);
}

#[test]
fn within_one_apply_a_pause_past_the_bounds_fails_the_rest_of_the_stage_at_once_sending_nothing() {
    let world = bounded(5, 10, 1);
    // The first removal sent, whichever it is.
    world.standin.inject(Fault::on("DELETE", "/members/", FaultKind::RetryAfter { seconds: 99_999_999 }, 1));
    let started = Instant::now();
    let report = remove_through_apply(&world, &["bob@acme.test", "dave@acme.test", "frank@acme.test"]);
    measured("plan + apply, Retry-After 99999999 on the first of 3 removals", started.elapsed());
    assert!(started.elapsed() < MARGIN, "took {:?}", started.elapsed());
    assert_eq!(deletes(&world).len(), 1, "only the first removal was sent");
    for action in &report.actions {
        assert_eq!(action.outcome, ActionOutcome::Failed, "{action:?}");
        assert!(rate_limited(&action.error), "{action:?}");
    }
    let not_sent: Vec<&str> =
        report.actions.iter().filter(|a| a.detail.contains("not sent")).map(|a| a.target.as_str()).collect();
    assert_eq!(not_sent.len(), 2, "{report:?}");
    assert_eq!((report.failed, report.unknown, report.not_attempted), (3, 0, 0));
}

#[test]
fn a_2xx_with_a_reset_far_away_neither_stalls_the_run_nor_outlives_the_next_events_deadline() {
    let world = bounded(2, 3, 1);
    let dave = world.member_id("dave@acme.test");
    world.standin.inject(Fault::on(
        "DELETE",
        &dave,
        FaultKind::SpentWindow { reset_after: Duration::from_secs(20) },
        1,
    ));
    let events = leave_events(&world, &["dave@acme.test", "frank@acme.test"]);
    let started = Instant::now();
    let results = apply_events(&world, &events);
    measured("2xx with Remaining 0 and a reset 20 s away, deadline 3, max-wait 2, 2 events", started.elapsed());
    assert!(started.elapsed() < MARGIN, "took {:?}, not 19 s", started.elapsed());
    assert_eq!(results.iter().map(|r| r.status).collect::<Vec<_>>(), [EventStatus::Applied, EventStatus::Applied]);
    assert_eq!(deletes(&world).len(), 2);

    // Within one apply the spent window holds the rest of the stage: they
    // fail at once, unsent, instead of waiting 20 s.
    let world = bounded(2, 3, 1);
    let spent = FaultKind::SpentWindow { reset_after: Duration::from_secs(20) };
    world.standin.inject(Fault::on("DELETE", "/members/", spent, 1));
    let started = Instant::now();
    let report = remove_through_apply(&world, &["bob@acme.test", "dave@acme.test", "frank@acme.test"]);
    assert!(started.elapsed() < MARGIN, "took {:?}", started.elapsed());
    let outcomes = outcomes(&report);
    assert_eq!(outcomes.iter().filter(|(_, o)| *o == ActionOutcome::Ok).count(), 1, "{outcomes:?}");
    assert_eq!(report.actions.iter().filter(|a| rate_limited(&a.error)).count(), 2, "{report:?}");
    assert_eq!(deletes(&world).len(), 1);
}

#[test]
fn a_body_dripped_one_byte_at_a_time_is_abandoned_at_the_deadline() {
    let mut world = bounded(1, 2, 1);
    world.settings.timeouts = Some(Timeouts { connect_ms: 1000, first_byte_ms: 1000, between_bytes_ms: 1000 });
    let dave = world.member_id("dave@acme.test");
    world.standin.inject(Fault::on("GET", &dave, FaultKind::Drip { every: Duration::from_millis(150) }, 1));
    let started = Instant::now();
    let error = world.call(|s, c, settings| c.call_get_member(s, settings, &dave)).unwrap_err();
    let took = started.elapsed();
    measured("get member, body dripped a byte every 150 ms, deadline 2, timeouts 1", took);
    assert!(took >= Duration::from_millis(1900) && took < Duration::from_secs(2) + MARGIN, "took {took:?}");
    let Error::DeadlineExceeded(failure) = &error else { panic!("not deadline-exceeded: {error:?}") };
    assert_eq!(failure.attempts, 1);
    assert!(failure.message.contains("abandoned"), "{}", failure.message);
    assert_eq!(world.standin.request_count(), 1, "not repeated past the deadline");
}

#[test]
fn a_server_that_does_not_read_a_large_invite_body_costs_that_request_its_deadline_and_nothing_more() {
    let world = bounded(1, 2, 1);
    world.standin.inject(Fault::on("POST", "/invites", FaultKind::Unread, 1));
    // About 200 KB of body: more than loopback buffers take unread.
    let (local, label) = ("a".repeat(60), "b".repeat(60));
    let emails: Vec<String> = (0..1000).map(|n| format!("{local}{n:04}@{label}.{label}.example.test")).collect();
    let request = InviteRequest { emails, with_roles: vec![], role: None, sso: false };
    let started = Instant::now();
    let error = world.call(|s, c, settings| c.call_invite(s, settings, &request)).unwrap_err();
    let took = started.elapsed();
    measured("invite of 1000 (200 KB) to a server that never reads it, deadline 2", took);
    assert!(took < Duration::from_secs(2) + MARGIN, "took {took:?}");
    assert!(matches!(error, Error::DeadlineExceeded(_)), "{error:?}");
    assert_eq!(world.standin.request_count(), 1);
    // The next operation is not held up by the one abandoned.
    let started = Instant::now();
    let dave = world.member_id("dave@acme.test");
    world.call(|s, c, settings| c.call_get_member(s, settings, &dave)).expect("answered");
    assert!(started.elapsed() < MARGIN);
}

#[test]
fn a_forbidden_answer_ends_the_apply_without_waiting_out_another_removals_backoff() {
    let world = bounded(30, 60, 2);
    let (bob, dave) = (world.member_id("bob@acme.test"), world.member_id("dave@acme.test"));
    let busy = FaultKind::Status {
        status: 503,
        body: r#"{"error":{"code":503,"message":"Service Unavailable"}}"#.into(),
        headers: vec![("retry-after".into(), "20".into())],
    };
    world.standin.inject(Fault::on("DELETE", &bob, busy, 1));
    world.standin.inject(Fault::on("DELETE", &dave, FaultKind::forbidden(), 1));
    let started = Instant::now();
    let report = remove_through_apply(&world, &["bob@acme.test", "dave@acme.test"]);
    measured("plan + apply, a 403 beside a 503 with Retry-After 20", started.elapsed());
    assert!(started.elapsed() < MARGIN, "took {:?}, not 20 s", started.elapsed());
    let mut outcomes = outcomes(&report);
    outcomes.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        outcomes,
        [("bob@acme.test".to_owned(), ActionOutcome::Unknown), ("dave@acme.test".to_owned(), ActionOutcome::Failed)],
        "{report:?}"
    );
    assert!(report.actions.iter().any(|a| matches!(a.error, Some(Error::Forbidden(_)))));
    assert_eq!((report.unknown, report.failed, report.not_attempted), (1, 1, 0));
    let stopped = report.stopped.expect("stopped");
    assert!(stopped.contains("0 of 2 planned actions were not attempted"), "{stopped}");
    assert_eq!(deletes(&world).len(), 2, "bob's removal was not repeated");
}
