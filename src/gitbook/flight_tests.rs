//! The flight driver: requests overlap up to the concurrency, answers land
//! in their own lane whatever order they come in, a 401/403 stops new
//! requests while those in flight finish, and a rate-limit answer pauses
//! every new request, not only its own retry.

use super::fake::{json, settings, with_header, ScriptedIo};
use super::lanes::One;
use super::ops;
use super::Client;
use crate::error::{Error, FailureKind};
use crate::settings::Settings;
use crate::validate::GitBookId;
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
    drop(client);
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

#[test]
fn a_check_before_a_repeat_runs_while_other_requests_are_in_flight() {
    use super::client::team_creation;
    use crate::validate::TeamTitle;
    let settings = at_most(2);
    let (alpha, beta) = (TeamTitle::parse("title", "Alpha").unwrap(), TeamTitle::parse("title", "Beta").unwrap());
    let mut io = ScriptedIo::new([
        // Alpha's creation: a 503 at 10 ms (GitBook may have created it).
        json(503, r#"{"error":{"code":503,"message":"busy"}}"#),
        // Beta's creation: answered at 5 s, while Alpha's check is out.
        json(200, r#"{"id":"tbeta","title":"Beta"}"#),
        // Alpha's check before a repeat finds the team the lost answer named.
        json(200, r#"{"items":[{"id":"talpha","title":"Alpha"}],"count":1}"#),
    ]);
    io.delays = [Duration::from_millis(10), Duration::from_secs(5), Duration::from_secs(6)].into();
    let mut client = Client::new(&settings, &mut io);
    let mut lanes: Vec<_> = [&alpha, &beta].map(|title| team_creation::<&mut ScriptedIo>(&settings, title, &[])).into();
    client.run_all(&mut lanes);
    drop(client);
    let ids: Vec<String> = lanes.into_iter().map(|lane| lane.into_result().unwrap().unwrap().id).collect();
    assert_eq!(ids, ["talpha", "tbeta"], "each lane got its own answer, Beta's through the stash");
    let sent: Vec<String> = io.sent.iter().map(|r| format!("{} {}", r.method.as_str(), r.url)).collect();
    assert_eq!(sent.len(), 3, "Alpha was looked up, not created twice: {sent:?}");
    assert!(sent[2].contains("/teams?") && sent[2].starts_with("GET"), "{sent:?}");
}
