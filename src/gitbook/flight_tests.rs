//! The flight driver: requests overlap up to the concurrency, answers land
//! in their own lane whatever order they come in, a 401/403 stops new
//! requests while those in flight finish, a rate-limit answer pauses every
//! new request, not only its own retry, and no lane outlives its deadline:
//! the scripted clock panics on any wait past the operation's deadline.

use super::fake::{json, settings, with_header, ScriptedIo};
use super::lanes::{One, TeamCreation};
use super::ops;
use super::Client;
use crate::error::{Error, FailureKind};
use crate::io::{TransportError, TransportErrorKind};
use crate::settings::{RetryPolicy, Settings};
use crate::validate::{GitBookId, TeamTitle};
use std::num::NonZeroU32;
use std::time::Duration;

fn at_most(n: u32) -> Settings {
    Settings { concurrency: NonZeroU32::new(n).unwrap(), ..settings() }
}

fn member_json(id: &str) -> String {
    format!(
        r#"{{"id":"{id}","role":"read","disabled":false,"joinedAt":"2024-01-01T00:00:00Z","sso":false,"spaces":0,"teams":0,
            "user":{{"id":"{id}","displayName":"{id}","email":"{id}@example.com"}}}}"#
    )
}

/// One `get member` lane per ID.
fn gets(settings: &Settings, ids: &[&str]) -> Vec<One<crate::gitbook::model::Member>> {
    ids.iter().map(|id| One::new(ops::get_member(settings, &GitBookId::parse("user-id", id).unwrap()))).collect()
}

fn landed(lanes: Vec<One<crate::gitbook::model::Member>>) -> Vec<Option<Result<String, Error>>> {
    lanes.into_iter().map(|lane| lane.into_result().map(|r| r.map(|m| m.id))).collect()
}

#[test]
fn requests_overlap_up_to_the_concurrency_and_answers_land_in_their_own_lane() {
    let settings = at_most(3);
    let ids = ["u1", "u2", "u3", "u4", "u5"];
    let mut io = ScriptedIo::new(ids.map(|id| json(200, &member_json(id))));
    // The most recently started request is answered first.
    io.out_of_order = true;
    let mut lanes = gets(&settings, &ids);
    Client::new(&settings, &mut io).run_all(&mut lanes);
    assert_eq!(io.max_in_flight, 3);
    assert_eq!(landed(lanes), ids.map(|id| Some(Ok(id.to_owned()))));
}

#[test]
fn at_concurrency_one_requests_go_one_at_a_time_in_lane_order() {
    let settings = at_most(1);
    let ids = ["u1", "u2", "u3"];
    let mut io = ScriptedIo::new(ids.map(|id| json(200, &member_json(id))));
    let mut lanes = gets(&settings, &ids);
    Client::new(&settings, &mut io).run_all(&mut lanes);
    assert_eq!(io.max_in_flight, 1);
    let urls: Vec<&str> = io.sent.iter().map(|r| r.url.rsplit('/').next().unwrap()).collect();
    assert_eq!(urls, ids);
}

#[test]
fn a_forbidden_answer_stops_new_requests_and_those_in_flight_still_land() {
    let settings = at_most(2);
    let mut io = ScriptedIo::new([
        json(403, r#"{"error":{"code":403,"message":"not an admin"}}"#),
        json(200, &member_json("u2")),
    ]);
    let mut lanes = gets(&settings, &["u1", "u2", "u3", "u4"]);
    Client::new(&settings, &mut io).run_all(&mut lanes);
    assert_eq!(io.sent.len(), 2, "nothing started after the 403");
    let landed = landed(lanes);
    assert!(matches!(&landed[0], Some(Err(e)) if e.kind() == Some(FailureKind::Forbidden)), "{landed:?}");
    assert_eq!(landed[1], Some(Ok("u2".to_owned())), "the request in flight finished and was reported");
    assert_eq!(landed[2..], [None, None], "never attempted");
}

#[test]
fn a_429_pauses_every_new_request_until_the_wait_it_names() {
    let settings = at_most(2);
    let mut io = ScriptedIo::new([
        with_header(json(429, r#"{"error":{"code":429,"message":"slow down"}}"#), "Retry-After", "2"),
        json(200, &member_json("u2")),
        // After the pause, u1's repeat goes first (lane order), then u3.
        json(200, &member_json("u1")),
        json(200, &member_json("u3")),
    ]);
    let mut lanes = gets(&settings, &["u1", "u2", "u3"]);
    Client::new(&settings, &mut io).run_all(&mut lanes);
    // u1 and u2 start together; the 429 for u1 arrives at 10 ms.
    let limited_at = Duration::from_millis(10);
    assert_eq!(io.started_at[..2], [Duration::ZERO, Duration::ZERO]);
    for (n, started) in io.started_at.iter().enumerate().skip(2) {
        assert!(*started >= limited_at + Duration::from_secs(2), "request {n} started at {started:?}");
    }
    assert_eq!(landed(lanes), ["u1", "u2", "u3"].map(|id| Some(Ok(id.to_owned()))));
}

#[test]
fn a_spent_window_holds_new_requests_until_its_reset() {
    let settings = at_most(4);
    let unix = Duration::from_secs(1_700_000_000);
    let reset = (unix + Duration::from_secs(5)).as_secs().to_string();
    let spent = |id: &str| {
        let answer = with_header(json(200, &member_json(id)), "X-RateLimit-Remaining", "0");
        with_header(answer, "X-RateLimit-Reset", &reset)
    };
    let mut io = ScriptedIo::new([spent("u1"), json(200, &member_json("u2"))]);
    // One request at a time learns the window first.
    let mut lanes = gets(&settings, &["u1"]);
    let mut client = Client::new(&settings, &mut io);
    client.run_all(&mut lanes);
    let mut more = gets(&settings, &["u2"]);
    client.run_all(&mut more);
    assert!(io.started_at[1] >= Duration::from_secs(5), "started at {:?}", io.started_at[1]);
    assert_eq!(io.slept.len(), 1, "one wait, for the reset");
}

#[test]
fn each_request_keeps_its_own_retries_beside_the_others() {
    let settings = at_most(2);
    let mut io = ScriptedIo::new([
        json(503, r#"{"error":{"code":503,"message":"busy"}}"#),
        json(200, &member_json("u2")),
        json(200, &member_json("u1")),
    ]);
    let mut lanes = gets(&settings, &["u1", "u2"]);
    Client::new(&settings, &mut io).run_all(&mut lanes);
    assert_eq!(io.sent.len(), 3, "u1 twice, u2 once");
    assert_eq!(landed(lanes), ["u1", "u2"].map(|id| Some(Ok(id.to_owned()))));
}

fn bounded(n: u32, max_wait: u64, deadline: u64) -> Settings {
    let retry = RetryPolicy {
        max_wait: Duration::from_secs(max_wait),
        deadline: Duration::from_secs(deadline),
        ..RetryPolicy::default()
    };
    Settings { retry, ..at_most(n) }
}

fn kind_of(landed: &Option<Result<String, Error>>) -> Option<FailureKind> {
    match landed {
        Some(Err(error)) => error.kind(),
        _ => None,
    }
}

fn unknown(landed: &Option<Result<String, Error>>) -> bool {
    matches!(landed, Some(Err(error)) if error.effect_unknown())
}

fn busy() -> crate::gitbook::fake::Answer {
    json(503, r#"{"error":{"code":503,"message":"busy"}}"#)
}

#[test]
fn a_pause_longer_than_max_wait_fails_every_waiting_lane_at_once_and_sends_nothing_more() {
    for concurrency in [1, 2] {
        let settings = bounded(concurrency, 5, 10);
        let huge = with_header(json(429, r#"{"error":{"code":429,"message":"slow down"}}"#), "Retry-After", "99999999");
        let mut answers = vec![huge];
        if concurrency == 2 {
            answers.push(json(200, &member_json("u2")));
        }
        let mut io = ScriptedIo::new(answers);
        io.deadline = Duration::from_secs(1);
        let mut lanes = gets(&settings, &["u1", "u2", "u3", "u4"]);
        Client::new(&settings, &mut io).run_all(&mut lanes);
        let landed = landed(lanes);
        assert_eq!(io.sent.len(), concurrency as usize, "nothing sent after the 429");
        assert!(io.now < Duration::from_millis(100), "ended at once, at {:?}", io.now);
        for (n, lane) in landed.iter().enumerate() {
            if concurrency == 2 && n == 1 {
                assert_eq!(lane, &Some(Ok("u2".to_owned())), "the request in flight still landed");
                continue;
            }
            assert_eq!(kind_of(lane), Some(FailureKind::RateLimited), "lane {n} at concurrency {concurrency}");
        }
        let Some(Err(Error::Api(_, waited))) = &landed[2] else { unreachable!() };
        assert_eq!((waited.attempts, waited.retry_after_ms.map(|ms| ms / 1000)), (0, Some(3600)), "capped pause");
    }
}

#[test]
fn a_spent_window_far_away_fails_the_rest_of_the_run_without_waiting() {
    let settings = bounded(1, 2, 3);
    let reset = (Duration::from_secs(1_700_000_000) + Duration::from_secs(20)).as_secs().to_string();
    let spent = with_header(json(200, &member_json("u1")), "X-RateLimit-Remaining", "0");
    let mut io = ScriptedIo::new([with_header(spent, "X-RateLimit-Reset", &reset)]);
    io.deadline = Duration::from_secs(3);
    let mut lanes = gets(&settings, &["u1", "u2", "u3"]);
    Client::new(&settings, &mut io).run_all(&mut lanes);
    let landed = landed(lanes);
    assert_eq!(landed[0], Some(Ok("u1".to_owned())));
    assert_eq!([kind_of(&landed[1]), kind_of(&landed[2])], [Some(FailureKind::RateLimited); 2]);
    assert_eq!(io.sent.len(), 1);
    assert!(io.slept.is_empty(), "no wait: {:?}", io.slept);
}

#[test]
fn a_pause_an_earlier_operation_learned_is_not_carried_past_the_next_ones_bounds() {
    let settings = bounded(1, 5, 10);
    let limited = with_header(json(429, r#"{"error":{"code":429,"message":"slow down"}}"#), "Retry-After", "40");
    let mut io = ScriptedIo::new([limited, json(200, &member_json("u2"))]);
    io.deadline = Duration::from_secs(1);
    let mut client = Client::new(&settings, &mut io);
    let mut first = gets(&settings, &["u1"]);
    client.run_all(&mut first);
    let mut second = gets(&settings, &["u2"]);
    client.run_all(&mut second);
    assert_eq!(kind_of(&landed(first)[0]), Some(FailureKind::RateLimited));
    assert_eq!(landed(second), [Some(Ok("u2".to_owned()))], "the next event is sent, not failed by the old pause");
    assert_eq!(io.started_at, [Duration::ZERO, Duration::from_millis(10)]);
}

#[test]
fn an_answer_not_complete_by_the_deadline_is_abandoned_and_its_lane_ends_deadline_exceeded() {
    let settings = bounded(2, 1, 2);
    let mut io = ScriptedIo::new([json(200, &member_json("u1")), json(200, &member_json("u2"))]);
    // u1's answer would take 30 s; u2's the usual 10 ms.
    io.delays = [Duration::from_secs(30)].into();
    io.deadline = Duration::from_secs(2);
    let mut lanes = gets(&settings, &["u1", "u2"]);
    Client::new(&settings, &mut io).run_all(&mut lanes);
    let landed = landed(lanes);
    assert_eq!(kind_of(&landed[0]), Some(FailureKind::DeadlineExceeded));
    assert!(unknown(&landed[0]), "a request in flight may have arrived: {:?}", landed[0]);
    assert_eq!(landed[1], Some(Ok("u2".to_owned())));
    assert_eq!(io.abandoned, [0]);
    assert_eq!(io.now, Duration::from_secs(2), "ended exactly at the deadline");
    assert_eq!(io.deadlines, [Duration::from_secs(2); 2], "each request carried its lane's deadline");
}

#[test]
fn a_forbidden_answer_ends_the_run_without_waiting_out_another_lanes_backoff() {
    let settings = at_most(2);
    let mut io = ScriptedIo::new([
        with_header(busy(), "Retry-After", "20"),
        json(403, r#"{"error":{"code":403,"message":"not an admin"}}"#),
    ]);
    io.delays = [Duration::from_millis(10), Duration::from_millis(50)].into();
    let mut lanes = gets(&settings, &["u1", "u2"]);
    Client::new(&settings, &mut io).run_all(&mut lanes);
    let landed = landed(lanes);
    assert_eq!(io.now, Duration::from_millis(50), "the run ended with the 403, not 20 s later");
    assert_eq!(io.sent.len(), 2, "u1 was not repeated");
    assert_eq!(kind_of(&landed[0]), Some(FailureKind::ServerError), "its last failure stands");
    assert!(unknown(&landed[0]), "a 503 may come after the server acted");
    assert_eq!(kind_of(&landed[1]), Some(FailureKind::Forbidden));
}

#[test]
fn a_team_creation_sends_no_look_up_after_a_stop() {
    let settings = at_most(2);
    let title = TeamTitle::parse("title", "Alpha").unwrap();
    let mut io = ScriptedIo::new([
        with_header(busy(), "Retry-After", "1"),
        json(401, r#"{"error":{"code":401,"message":"bad token"}}"#),
    ]);
    io.delays = [Duration::from_millis(10), Duration::from_millis(500)].into();
    let mut creation = TeamCreation::new(&settings, &title, &[]);
    let mut get = One::new(ops::get_member(&settings, &GitBookId::parse("user-id", "u1").unwrap()));
    Client::new(&settings, &mut io).run(&mut [&mut creation, &mut get]);
    assert_eq!(io.sent.len(), 2, "no look-up after the 401");
    assert_eq!(io.now, Duration::from_millis(500));
    let error = creation.into_result().unwrap().unwrap_err();
    assert_eq!(error.kind(), Some(FailureKind::ServerError));
    assert!(error.effect_unknown(), "the team may exist: {error}");
    assert_eq!(get.into_result().unwrap().unwrap_err().kind(), Some(FailureKind::Unauthorized));
}

#[test]
fn a_team_creation_looks_up_as_its_own_lane_while_other_requests_are_in_flight() {
    let settings = at_most(2);
    let (alpha, beta) = (TeamTitle::parse("title", "Alpha").unwrap(), TeamTitle::parse("title", "Beta").unwrap());
    let mut io = ScriptedIo::new([
        // Alpha's creation: a 503 at 10 ms (GitBook may have created it).
        busy(),
        // Beta's creation: answered at 5 s, while Alpha's look-up is out.
        json(200, r#"{"id":"tbeta","title":"Beta"}"#),
        // Alpha's look-up finds the team the lost answer named.
        json(200, r#"{"items":[{"id":"talpha","title":"Alpha"}],"count":1}"#),
    ]);
    io.delays = [Duration::from_millis(10), Duration::from_secs(5), Duration::from_secs(3)].into();
    let mut lanes = [&alpha, &beta].map(|title| TeamCreation::new(&settings, title, &[]));
    Client::new(&settings, &mut io).run_all(&mut lanes);
    let ids: Vec<String> = lanes.into_iter().map(|lane| lane.into_result().unwrap().unwrap().id).collect();
    assert_eq!(ids, ["talpha", "tbeta"], "each lane got its own answer");
    let sent: Vec<String> = io.sent.iter().map(|r| format!("{} {}", r.method.as_str(), r.url)).collect();
    assert_eq!(sent.len(), 3, "Alpha was looked up, not created twice: {sent:?}");
    assert!(sent[2].contains("/teams?") && sent[2].starts_with("GET"), "{sent:?}");
    assert!(io.started_at[2] < Duration::from_secs(5), "the look-up did not wait for Beta");
    assert_eq!(io.deadlines[2], io.deadlines[0], "the look-up runs on the creation's clock");
}

#[test]
fn a_server_error_with_the_largest_wit_bounds_does_not_overflow() {
    let max = Duration::from_millis(u64::MAX);
    let retry = RetryPolicy { max_attempts: u32::MAX, max_wait: max, deadline: max, base_delay: max };
    let settings = Settings { retry, ..at_most(2) };
    let mut io = ScriptedIo::new([busy(), busy()]);
    let mut lanes = gets(&settings, &["u1", "u2"]);
    Client::new(&settings, &mut io).run_all(&mut lanes);
    let landed = landed(lanes);
    assert_eq!([kind_of(&landed[0]), kind_of(&landed[1])], [Some(FailureKind::ServerError); 2]);
    assert_eq!(io.sent.len(), 2, "a backoff past the deadline is not waited");
}

#[test]
fn a_refused_connection_is_a_failure_whose_effect_is_known() {
    let settings = Settings { retry: RetryPolicy { max_attempts: 1, ..RetryPolicy::default() }, ..at_most(1) };
    let refused = Err(TransportError { kind: TransportErrorKind::Unreachable, message: "refused".into() });
    let reset = Err(TransportError { kind: TransportErrorKind::Connection, message: "reset".into() });
    let mut io = ScriptedIo::new([refused, reset]);
    let mut lanes = gets(&settings, &["u1", "u2"]);
    Client::new(&settings, &mut io).run_all(&mut lanes);
    let landed = landed(lanes);
    assert!(!unknown(&landed[0]) && unknown(&landed[1]), "{landed:?}");
}
