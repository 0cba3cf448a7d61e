//! Faults injected at the stand-in, handled by the real component in
//! wasmtime: what is retried, how long it waits, what a caller gets when a
//! fault persists, and that no retry duplicates an effect.

mod common;

use common::{failure, no_filter, World};
use host_test::bindings::exports::gitbook::directory_sync::types::{Error, InviteRequest, RetryPolicy, Role, Timeouts};
use host_test::standin::{Fault, FaultKind};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn invite(email: &str) -> InviteRequest {
    InviteRequest { emails: vec![email.into()], with_roles: vec![], role: Some(Role::Read), sso: true }
}

/// A world whose retry bounds leave room for second-long server waits.
fn patient_world() -> World {
    let mut world = World::sample();
    world.settings.retry =
        Some(RetryPolicy { max_attempts: 4, max_wait_ms: 5_000, deadline_ms: 20_000, base_delay_ms: 20 });
    world
}

fn paths(world: &World) -> Vec<String> {
    world.requests().iter().map(|r| format!("{} {}", r.method, r.path)).collect()
}

#[test]
fn a_429_with_x_ratelimit_reset_is_waited_out_and_the_invite_lands_once() {
    let world = patient_world();
    world.standin.inject(Fault::on("POST", "/invites", FaultKind::RateLimitReset { after: Duration::from_secs(1) }, 1));
    let started = Instant::now();
    let result = world.call(|s, c, settings| c.call_invite(s, settings, &invite("zoe@acme.test"))).unwrap();
    let waited = started.elapsed();

    assert_eq!(result.invited, 1);
    assert_eq!(paths(&world), ["POST /v1/orgs/acme/invites", "POST /v1/orgs/acme/invites"]);
    assert!(world.requests()[0].fault.is_some() && world.requests()[1].fault.is_none());
    // The reset is a whole second at least one second away.
    assert!(waited >= Duration::from_millis(900), "waited only {waited:?}");
    assert_eq!(world.standin.members().iter().filter(|m| m.email == "zoe@acme.test").count(), 1);
}

#[test]
fn a_429_with_retry_after_seconds_is_honoured() {
    let world = patient_world();
    world.standin.inject(Fault::on("GET", "/members", FaultKind::RetryAfter { seconds: 1 }, 1));
    let started = Instant::now();
    let members = world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter())).unwrap();
    assert_eq!(members.len(), 7);
    assert!(started.elapsed() >= Duration::from_millis(1000));
    assert_eq!(world.standin.request_count(), 2);
}

#[test]
fn a_429_with_retry_after_as_an_http_date_is_honoured() {
    let world = patient_world();
    world.standin.inject(Fault::on("GET", "/members", FaultKind::RetryAfterDate { after: Duration::from_secs(2) }, 1));
    let started = Instant::now();
    world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter())).unwrap();
    // HTTP dates have whole seconds: two seconds ahead is more than one.
    assert!(started.elapsed() >= Duration::from_millis(900), "{:?}", started.elapsed());
    assert_eq!(world.standin.request_count(), 2);
}

#[test]
fn transient_server_errors_are_retried_and_the_team_is_updated_once() {
    for status in [500, 502, 503, 504] {
        let world = World::sample();
        let team = world.standin.teams()[0].id.clone();
        world.standin.inject(Fault::on("PUT", "/members", FaultKind::ServerError { status }, 2));
        world
            .call(|s, c, settings| c.call_update_team_members(s, settings, &team, &["dave@acme.test".into()], &[]))
            .unwrap_or_else(|e| panic!("HTTP {status}: {e:?}"));
        let faulted = world.requests().iter().filter(|r| r.fault.is_some()).count();
        assert_eq!((world.standin.request_count(), faulted), (3, 2), "HTTP {status}");
        let dave = world.member_id("dave@acme.test");
        assert_eq!(world.standin.team_member_ids(&team).iter().filter(|id| **id == dave).count(), 1);
    }
}

#[test]
fn a_dropped_connection_is_retried() {
    let world = World::sample();
    let bob = world.member_id("bob@acme.test");
    world.standin.inject(Fault::any(FaultKind::Drop, 1));
    let member = world.call(|s, c, settings| c.call_get_member(s, settings, &bob)).unwrap();
    assert_eq!(member.id, bob);
    assert_eq!(world.standin.request_count(), 2);
}

#[test]
fn a_response_slower_than_the_first_byte_timeout_is_abandoned_and_retried() {
    let mut world = World::sample();
    world.settings.timeouts = Some(Timeouts { connect_ms: 1_000, first_byte_ms: 300, between_bytes_ms: 1_000 });
    world.standin.inject(Fault::any(FaultKind::Delay { delay: Duration::from_secs(3) }, 1));
    let started = Instant::now();
    let members = world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter())).unwrap();
    assert_eq!(members.len(), 7);
    assert_eq!(world.standin.request_count(), 2);
    assert!(started.elapsed() < Duration::from_secs(3), "the slow answer was not awaited");
}

#[test]
fn a_persistent_server_error_ends_in_server_error_after_the_attempt_bound() {
    let world = World::sample();
    world.standin.inject(Fault::any(FaultKind::ServerError { status: 503 }, 100));
    let error = world.call(|s, c, settings| c.call_get_member(s, settings, "someone")).unwrap_err();
    let Error::ServerError(failure) = &error else { panic!("{error:?}") };
    assert_eq!((failure.status, failure.attempts), (Some(503), 4));
    assert_eq!(world.standin.request_count(), 4);
    assert_eq!(failure.operation, "get member");
}

#[test]
fn a_rate_limit_longer_than_the_longest_wait_gives_up_at_once_with_the_wait() {
    let world = World::sample();
    world.standin.inject(Fault::any(FaultKind::RetryAfter { seconds: 120 }, 100));
    let error = world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter())).unwrap_err();
    let Error::RateLimited(failure) = &error else { panic!("{error:?}") };
    assert_eq!(failure.retry_after_ms, Some(120_000));
    assert_eq!(failure.message, "API rate limit exceeded");
    assert_eq!(world.standin.request_count(), 1);
}

/// A 429 carrying `headers`, as GitBook words it.
fn rate_limited_with(headers: &[(&str, &str)]) -> FaultKind {
    FaultKind::Status {
        status: 429,
        body: r#"{"error":{"code":429,"message":"API rate limit exceeded"}}"#.into(),
        headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
    }
}

#[test]
fn a_rate_limit_wait_too_large_for_any_integer_ends_the_call_at_once_saturated() {
    for header in ["Retry-After", "X-RateLimit-Reset"] {
        let world = World::sample();
        world.standin.inject(Fault::any(rate_limited_with(&[(header, "99999999999999999999")]), 100));
        let error = world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter())).unwrap_err();
        let Error::RateLimited(failure) = &error else { panic!("{header}: {error:?}") };
        assert_eq!(world.standin.request_count(), 1, "{header}: no retry into another 429");
        assert_eq!((failure.attempts, failure.retry_after_ms), (1, Some(u64::MAX)), "{header}");
    }
}

#[test]
fn a_retry_after_date_in_the_year_9999_ends_the_call_at_once_with_the_exact_wait() {
    let world = World::sample();
    world.standin.inject(Fault::any(rate_limited_with(&[("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT")]), 100));
    let error = world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter())).unwrap_err();
    let Error::RateLimited(failure) = &error else { panic!("{error:?}") };
    assert_eq!(world.standin.request_count(), 1);
    let until_then = Duration::from_secs(253_402_300_799) - SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let told = Duration::from_millis(failure.retry_after_ms.unwrap());
    assert!(until_then.abs_diff(told) < Duration::from_secs(60), "told {told:?}, expected {until_then:?}");
}

/// `at` (Unix seconds) in RFC 9110's obsolete forms: (asctime, RFC 850).
fn obsolete_http_dates(at: u64) -> (String, String) {
    let imf = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(at)); // Sun, 06 Nov 1994 08:49:37 GMT
    let (weekday, day, month, year, time) = (&imf[0..3], &imf[5..7], &imf[8..11], &imf[12..16], &imf[17..25]);
    let long_weekday = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
        .into_iter()
        .find(|name| name.starts_with(weekday))
        .unwrap();
    let asctime = format!("{weekday} {month} {:>2} {time} {year}", day.trim_start_matches('0'));
    (asctime, format!("{long_weekday}, {day}-{month}-{} {time} GMT", &year[2..]))
}

#[test]
fn retry_after_dates_in_the_obsolete_asctime_and_rfc_850_forms_are_honoured() {
    let world = patient_world();
    let next_second = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 1;
    let (asctime, _) = obsolete_http_dates(next_second + 1);
    let (_, rfc850) = obsolete_http_dates(next_second + 2);
    world.standin.inject(Fault::on("GET", "/members", rate_limited_with(&[("Retry-After", &asctime)]), 1));
    world.standin.inject(Fault::on("GET", "/members", rate_limited_with(&[("Retry-After", &rfc850)]), 1));
    let started = Instant::now();
    let members = world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter())).unwrap();
    assert_eq!(members.len(), 7);
    assert_eq!(world.standin.request_count(), 3);
    // The second date is two whole seconds after the call began (less the instant it took to start).
    assert!(started.elapsed() >= Duration::from_millis(1_900), "{asctime} / {rfc850}: waited {:?}", started.elapsed());
}

#[test]
fn persistent_dropped_connections_end_in_a_transport_error_within_the_deadline() {
    let mut world = World::sample();
    world.settings.retry =
        Some(RetryPolicy { max_attempts: 50, max_wait_ms: 200, deadline_ms: 1_500, base_delay_ms: 100 });
    world.standin.inject(Fault::any(FaultKind::Drop, 1000));
    let started = Instant::now();
    let error = world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter())).unwrap_err();
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    assert!(failure(&error).attempts > 1);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(failure(&error).elapsed_ms <= 2_000, "{error:?}");
}

#[test]
fn other_client_errors_are_not_retried_and_carry_gitbook_s_message() {
    let world = World::sample();
    world.standin.inject(Fault::on(
        "POST",
        "/invites",
        FaultKind::Status {
            status: 422,
            body: r#"{"error":{"code":422,"message":"Seat limit reached"}}"#.into(),
            headers: vec![],
        },
        5,
    ));
    let error = world.call(|s, c, settings| c.call_invite(s, settings, &invite("x@acme.test"))).unwrap_err();
    let Error::Rejected(failure) = &error else { panic!("{error:?}") };
    assert_eq!((failure.status, failure.message.as_str(), failure.attempts), (Some(422), "Seat limit reached", 1));
    assert_eq!(world.standin.request_count(), 1);
}

#[test]
fn a_body_that_is_not_json_is_an_invalid_response() {
    let world = World::sample();
    let html = FaultKind::Status {
        status: 200,
        body: "<html>maintenance</html>".into(),
        headers: vec![("content-type".into(), "text/html".into())],
    };
    world.standin.inject(Fault::any(html, 1));
    let error = world.call(|s, c, settings| c.call_get_member(s, settings, "abc")).unwrap_err();
    assert!(matches!(error, Error::InvalidResponse(_)), "{error:?}");
}

#[test]
fn a_pagination_cursor_that_loops_is_an_invalid_response() {
    let world = World::new(host_test::standin::Org::generated("acme", common::TOKEN, 50, 1));
    let member = r#"{"object":"member","id":"u1","role":"read","user":{"object":"user","id":"u1","displayName":"U","email":"u@x.io","urls":{"location":"https://x"}},"disabled":false,"joinedAt":"2024-01-01T00:00:00Z","sso":true,"spaces":0,"teams":0,"sites":0}"#;
    let looping = format!(r#"{{"items":[{member}],"count":50,"next":{{"page":"again"}}}}"#);
    world.standin.inject(Fault::on(
        "GET",
        "/members",
        FaultKind::Status { status: 200, body: looping, headers: vec![] },
        100,
    ));
    let error = world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter())).unwrap_err();
    let Error::InvalidResponse(failure) = &error else { panic!("{error:?}") };
    assert!(failure.message.contains("twice"), "{}", failure.message);
    assert_eq!(world.standin.request_count(), 2);
}
