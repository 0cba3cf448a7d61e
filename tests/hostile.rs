//! Hostile inputs from both sides, through the component in wasmtime: what
//! the network sends the webhook, what a compromised or broken API answers,
//! and a runaway call stopped by the host's limits.

mod common;

use common::{compiled, delivery, invalid_field, no_filter, okta_event, plan_options, World, TOKEN};
use host_test::bindings::exports::gitbook::directory_sync::events::EventStatus;
use host_test::bindings::exports::gitbook::directory_sync::reconcile::Strategy;
use host_test::bindings::exports::gitbook::directory_sync::types::{Error, MemberFilter, RetryPolicy, Timeouts};
use host_test::demo::authority;
use host_test::host::DeadlineExceeded;
use host_test::standin::{Fault, FaultKind, Org, StandIn};
use host_test::{Host, HostConfig};
use serde_json::json;
use std::time::{Duration, Instant};

/// The component's cap on one response body (`max_response_bytes` in src/settings.rs).
const RESPONSE_CAP: u64 = 16 << 20;
/// The most the host's HTTP stack takes from a response ahead of the guest's
/// reads: one frame, at most hyper's read buffer (400 KiB by default).
const ONE_FRAME: u64 = 512 << 10;

fn answer_members_with(world: &World, body: String) {
    answer_members_times(world, body, 100);
}

fn answer_members_times(world: &World, body: String, times: usize) {
    world.standin.inject(Fault::on("GET", "/members", FaultKind::Status { status: 200, body, headers: vec![] }, times));
}

/// `n` well-formed members as GitBook lists them, numbered from `from`.
fn members_json(from: usize, n: usize) -> Vec<serde_json::Value> {
    (from..from + n)
        .map(|i| {
            json!({"object": "member", "id": format!("u{i}"), "role": "read", "disabled": false,
                   "joinedAt": "2024-01-01T00:00:00.000Z", "sso": true,
                   "user": {"object": "user", "id": format!("u{i}"), "displayName": format!("User {i}"),
                            "email": format!("user{i}@acme.test")}})
        })
        .collect()
}

/// Timeouts of a guest willing to wait a minute for every answer.
fn patient_timeouts() -> Option<Timeouts> {
    Some(Timeouts { connect_ms: 60_000, first_byte_ms: 60_000, between_bytes_ms: 60_000 })
}

#[test]
fn a_50_mb_member_page_is_refused_not_buffered_into_a_trap() {
    let world = World::sample();
    let huge = format!(r#"{{"items":[],"count":0,"padding":"{}"}}"#, "x".repeat(50 * 1024 * 1024));
    answer_members_with(&world, huge);
    let (result, output) =
        world.host.call(|s, c| c.call_list_members(s, &world.settings, &no_filter())).expect("no trap");
    let error = result.unwrap_err();
    let Error::InvalidResponse(failure) = &error else { panic!("{error:?}") };
    assert!(failure.message.contains("larger than"), "{}", failure.message);
    assert_eq!(world.standin.request_count(), 1, "a page too large is not asked for again");
    // Counted in the host as the guest pulls the body: the stand-in's side
    // would only say what fitted into socket buffers.
    let read = output.response_body_bytes;
    assert!(read > RESPONSE_CAP, "the guest reads up to the cap before refusing: {read}");
    assert!(read <= RESPONSE_CAP + ONE_FRAME, "the guest stops reading at the cap: {read} bytes of 50 MiB taken");
}

#[test]
fn json_nested_10000_levels_deep_is_a_typed_error_everywhere() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let world = World::sample();
    answer_members_with(&world, deep.clone());
    let error = world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter())).unwrap_err();
    assert!(matches!(error, Error::InvalidResponse(_)), "{error:?}");
    assert_eq!(world.standin.request_count(), 1, "an unparseable page is not asked for again");

    let secret = "whsec_hostile";
    let webhook = World::configured(Org::sample(), &[("WEBHOOK_SECRET", secret)]);
    let (reply, _) =
        webhook.host.handle_http("POST", "/events", &[("authorization", secret)], deep.into_bytes()).unwrap();
    assert_eq!(reply.status, 400);
    assert_eq!(webhook.standin.request_count(), 0);
}

#[test]
fn a_next_page_cursor_cannot_send_the_token_elsewhere() {
    let world = World::sample();
    let elsewhere = StandIn::start(Org::sample()).unwrap();
    // A page the paginator must follow (a member and a count beyond it), whose
    // cursor is a URL on another host.
    let cursor = format!("{}/v1/orgs/acme/members?x=1&limit=1", elsewhere.base_url());
    let first = json!({"items": members_json(0, 1), "count": 2, "next": {"page": cursor}});
    answer_members_times(&world, first.to_string(), 1);
    answer_members_times(&world, json!({"items": members_json(1, 1), "count": 2}).to_string(), 1);
    let members = world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter())).unwrap();
    assert_eq!(members.len(), 2, "the second page was read");
    assert_eq!(elsewhere.request_count(), 0, "the cursor is a query value, never a URL");

    let requests = world.requests();
    assert_eq!(requests.len(), 2);
    let second = &requests[1];
    assert_eq!(second.header("host"), Some(authority(&world.standin).as_str()), "the same host");
    assert_eq!(second.path, "/v1/orgs/acme/members");
    let pages: Vec<_> = second.query_pairs().into_iter().filter(|(k, _)| k == "page").map(|(_, v)| v).collect();
    assert_eq!(pages, [cursor], "the whole cursor, as one query value");
    assert_eq!(second.query_param("limit").as_deref(), Some("1000"), "the cursor's own limit stayed inside it");
}

#[test]
fn a_redirect_to_another_host_is_not_followed_with_the_token() {
    let world = World::sample();
    let elsewhere = StandIn::start(Org::sample()).unwrap();
    let location = format!("{}/v1/orgs/acme/members", elsewhere.base_url());
    world.standin.inject(Fault::any(
        FaultKind::Status { status: 307, body: String::new(), headers: vec![("location".into(), location)] },
        1,
    ));
    let error = world.call(|s, c, settings| c.call_get_member(s, settings, "abc")).unwrap_err();
    let Error::InvalidResponse(failure) = &error else { panic!("{error:?}") };
    assert!(failure.message.contains("redirect"), "{}", failure.message);
    assert_eq!(world.standin.request_count(), 1, "a redirect is not retried either");
    assert_eq!(elsewhere.request_count(), 0);
}

#[test]
fn header_injection_through_the_token_is_refused_before_sending() {
    let mut world = World::sample();
    // CR/LF to split the header, a terminal escape to rewrite a log line, a NUL to cut one.
    let tail = "\r\nX-Evil: 1\u{1b}]0;owned\u{7}\0tail_canary";
    world.settings.token = Some(format!("{TOKEN}{tail}"));
    let (result, output) =
        world.host.call(|s, c| c.call_list_members(s, &world.settings, &no_filter())).expect("no trap");
    let error = result.unwrap_err();
    let said = format!("{error:?}{}{}", output.stdout, output.stderr);
    let Error::InvalidInput(input) = error else { panic!("{said}") };
    assert_eq!(input.field, "token");
    for fragment in [TOKEN, "X-Evil", "owned", "\u{1b}", "\\u{1b}", "tail_canary"] {
        assert!(!said.contains(fragment), "the refused token is not echoed ({fragment:?}): {said}");
    }
    assert_eq!(world.standin.request_count(), 0);
}

#[test]
fn a_response_header_with_a_lying_retry_after_does_not_stall_the_caller() {
    let world = World::sample();
    let headers = vec![("retry-after".into(), "99999999999999999999".into())];
    world.standin.inject(Fault::any(FaultKind::Status { status: 429, body: "{}".into(), headers }, 10));
    let error = world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter())).unwrap_err();
    // A wait past any integer is longer than the longest allowed: the call
    // ends at once with the wait saturated, never 3 × 10^12 years later
    // and never retrying early into another 429.
    let Error::RateLimited(failure) = &error else { panic!("{error:?}") };
    assert_eq!(failure.retry_after_ms, Some(u64::MAX), "{failure:?}");
    assert_eq!(world.standin.request_count(), 1, "one request, no retry");
}

/// A host with tight limits, allowed to reach only `standin`.
fn tight_host(standin: &StandIn, tweak: impl FnOnce(&mut HostConfig)) -> Host {
    let mut config = HostConfig::allowing(authority(standin));
    tweak(&mut config);
    let (engine, component) = compiled();
    Host::from_component(engine.clone(), component.clone(), config).unwrap()
}

/// The host's verdict on a call that ran past its deadline; anything else
/// (the guest's own error or result, another trap) fails the test.
fn stopped_by_the_host<R, E>(outcome: Result<R, E>) -> DeadlineExceeded
where
    R: std::fmt::Debug,
    E: std::ops::Deref<Target = dyn std::error::Error + Send + Sync> + std::fmt::Debug,
{
    let error = match outcome {
        Ok(returned) => panic!("the call returned {returned:?}"),
        Err(error) => error,
    };
    *error.downcast_ref::<DeadlineExceeded>().unwrap_or_else(|| panic!("not the host's deadline: {error:?}"))
}

#[test]
fn a_call_past_the_host_deadline_is_stopped_by_the_host() {
    // Three pages, 300 ms each, under a 400 ms deadline: the second page's
    // request is cut off at the deadline, and whatever the guest makes of
    // that, the call ends as the host's interruption.
    let standin = StandIn::start(Org::generated("acme", TOKEN, 3_000, 1)).unwrap();
    standin.set_latency(Duration::from_millis(300));
    let host = tight_host(&standin, |c| c.call_deadline = Duration::from_millis(400));
    let settings = host_test::demo::local_settings(&standin, "acme", TOKEN);
    let outcome = host.call(|store, client| client.call_list_members(store, &settings, &no_filter()));
    assert_eq!(stopped_by_the_host(outcome), DeadlineExceeded { deadline: Duration::from_millis(400) });
    let sent = standin.request_count();
    assert!(sent <= 2, "no request starts past the deadline (pages at 0 and 300 ms): {sent}");
}

#[test]
fn a_server_that_never_answers_cannot_hold_a_call_past_the_host_deadline() {
    let standin = StandIn::start(Org::sample()).unwrap();
    standin.inject(Fault::any(FaultKind::Delay { delay: Duration::from_secs(3_600) }, 100));
    let host = tight_host(&standin, |c| c.call_deadline = Duration::from_millis(500));
    // The guest is willing to wait a minute per answer (the host's request cap), for a minute in all.
    let mut settings = host_test::demo::local_settings(&standin, "acme", TOKEN);
    settings.timeouts = patient_timeouts();
    settings.retry = Some(RetryPolicy { max_attempts: 3, max_wait_ms: 1_000, deadline_ms: 60_000, base_delay_ms: 10 });
    let started = Instant::now();
    let outcome = host.call(|store, client| client.call_list_members(store, &settings, &no_filter()));
    // The guest, released at the deadline, returns its own transport error
    // after retries the host refuses: the outcome is still the host's.
    assert_eq!(stopped_by_the_host(outcome), DeadlineExceeded { deadline: Duration::from_millis(500) });
    assert_eq!(standin.request_count(), 1, "retries asked for past the deadline never reach the network");
    // A liveness bound, not a speed check: epoch interruption alone would wait out
    // the first request's 60 s timeout before the guest ran again.
    assert!(started.elapsed() < Duration::from_secs(30), "held for {:?}", started.elapsed());
}

#[test]
fn a_guest_that_outgrows_its_memory_cap_is_stopped_by_the_host() {
    let standin = StandIn::start(Org::generated("acme", TOKEN, 20_000, 1)).unwrap();
    let host = tight_host(&standin, |c| c.max_memory_bytes = 4 << 20);
    let settings = host_test::demo::local_settings(&standin, "acme", TOKEN);
    let outcome = host.call(|store, client| client.call_list_members(store, &settings, &no_filter()));
    let trap = outcome.expect_err("20,000 members do not fit in 4 MiB; the host must stop the guest");
    // The limiter refuses memory.grow; Rust's allocator then aborts the guest.
    assert!(format!("{trap:?}").contains("unreachable"), "{trap:?}");
    let pages_read = standin.request_count();
    assert!(pages_read < 20, "stopped before the last of the 20 pages, not after: {pages_read}");
    standin.clear_requests();

    let roomy = tight_host(&standin, |c| c.max_memory_bytes = 256 << 20);
    let (members, _) = roomy.call(|store, client| client.call_list_members(store, &settings, &no_filter())).unwrap();
    assert_eq!(members.unwrap().len(), 20_000, "the same call fits in the default cap");
    assert_eq!(standin.request_count(), 20, "one request per page of 1,000");
}

#[test]
fn a_member_list_whose_count_lies_is_stopped_and_nothing_is_written() {
    let world = World::sample();
    // Full pages, each pointing to a page never seen before, while `count` claims one member.
    let lying_pages = |world: &World| {
        for page in 0..5 {
            let body =
                json!({"items": members_json(page * 1000, 1000), "count": 1, "next": {"page": format!("fresh{page}")}});
            answer_members_times(world, body.to_string(), 1);
        }
    };
    lying_pages(&world);
    let error = world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter())).unwrap_err();
    let Error::InvalidResponse(failure) = &error else { panic!("{error:?}") };
    assert!(failure.message.contains("reported 1 items but kept sending pages"), "{}", failure.message);
    assert_eq!(world.standin.request_count(), 2, "one page past the count is allowed, no more");

    // A reconcile reading that list stops before deciding anything.
    world.standin.clear_faults();
    world.standin.clear_requests();
    lying_pages(&world);
    let snapshot = json!({"users": [{"email": "new@acme.test"}]}).to_string();
    let error = world
        .reconcile(|s, r, settings| r.call_plan(s, settings, &snapshot, plan_options(Strategy::Push)))
        .unwrap_err();
    assert!(matches!(error, Error::InvalidResponse(_)), "{error:?}");
    assert!(world.requests().iter().all(|r| r.method == "GET"), "nothing was written");
    // The team list comes first (the team reads need it), then the member
    // walk stops as before; no team's members are asked for after it.
    let paths: Vec<String> = world.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/v1/orgs/acme/teams", "/v1/orgs/acme/members", "/v1/orgs/acme/members"]);
}

#[test]
fn a_count_in_the_quadrillions_is_reported_not_trusted() {
    let world = World::sample();
    let body = json!({"items": members_json(0, 2), "count": 8_000_000_000_000_000u64});
    answer_members_with(&world, body.to_string());
    let members = world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter())).unwrap();
    assert_eq!(members.len(), 2, "the walk ends where the pages end, whatever count claims");
    assert_eq!(world.standin.request_count(), 1, "a page without a cursor is the last, whatever count claims");
    let page = world.call(|s, c, settings| c.call_list_members_page(s, settings, &no_filter(), None, None)).unwrap();
    assert_eq!((page.count, page.items.len()), (Some(8_000_000_000_000_000), 2));
    assert_eq!(world.standin.request_count(), 2);
}

#[test]
fn a_hostile_cursor_stays_one_query_value() {
    let world = World::sample();
    let cursor = "x&limit=1&role=admin\r\nX-Evil: 1#frag";
    let first = json!({"items": members_json(0, 1), "count": 2, "next": {"page": cursor}});
    answer_members_times(&world, first.to_string(), 1);
    answer_members_times(&world, json!({"items": members_json(1, 1), "count": 2}).to_string(), 1);
    let members = world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter())).unwrap();
    assert_eq!(members.len(), 2);
    let requests = world.requests();
    assert_eq!(requests.len(), 2, "one request per page");
    let second = &requests[1];
    assert_eq!(second.query_param("page").as_deref(), Some(cursor), "the cursor arrives as sent, as one value");
    assert_eq!(second.query_param("limit").as_deref(), Some("1000"));
    assert_eq!(second.query_param("role"), None);
    assert!(second.header("x-evil").is_none());
}

/// Characters that look like or hide inside an address: Cyrillic `а` and `е`,
/// a zero-width space, a fullwidth `＠`, a soft hyphen, a right-to-left mark.
const LOOK_ALIKES: [&str; 6] = [
    "\u{430}lice@acme.test",
    "alice@acme.t\u{435}st",
    "alice\u{200b}@acme.test",
    "alice\u{ff20}acme.test",
    "al\u{ad}ice@acme.test",
    "\u{200f}alice@acme.test",
];

#[test]
fn look_alike_emails_are_refused_wherever_an_email_enters() {
    let world = World::sample();
    for email in LOOK_ALIKES {
        let leave = json!([{"type": "user.left", "email": email}]).to_string();
        let error = world.events(|s, e, settings| e.call_apply(s, settings, &leave, None)).unwrap_err();
        assert_eq!(invalid_field(error), "events[0].email", "{email:?}");

        // Okta targets need not be emails (usernames are common), so such an
        // event is reported as ignored, with why, rather than failing the delivery.
        let okta =
            delivery(vec![okta_event("u1", "user.lifecycle.deactivate", "2024-05-01T10:00:00.000Z", email, None)]);
        let results = world.events(|s, e, settings| e.call_apply(s, settings, &okta.to_string(), None)).unwrap();
        assert_eq!(results[0].status, EventStatus::Ignored, "{email:?}");
        assert!(results[0].detail.contains("not a usable email"), "{}", results[0].detail);

        let snapshot = json!({"users": [{"email": email}]}).to_string();
        let error = world
            .reconcile(|s, r, settings| r.call_plan(s, settings, &snapshot, plan_options(Strategy::Push)))
            .unwrap_err();
        assert_eq!(invalid_field(error), "users[0].email", "{email:?}");

        let error = world.call(|s, c, settings| c.call_remove_member_by_email(s, settings, email)).unwrap_err();
        assert_eq!(invalid_field(error), "email", "{email:?}");
    }
    assert_eq!(world.standin.request_count(), 0, "no look-alike reached GitBook, not even as a lookup");
    assert!(world.standin.member_by_email("alice@acme.test").is_some());
}

#[test]
fn cr_lf_in_any_value_bound_for_a_request_line_or_header_is_refused() {
    let mut world = World::sample();
    let original = world.settings.clone();
    let evil = "\r\nX-Evil: 1";

    world.settings.organization = Some(format!("acme{evil}"));
    let error = world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter())).unwrap_err();
    assert_eq!(invalid_field(error), "organization");

    world.settings = original.clone();
    world.settings.base_url = Some(format!("{}{evil}", world.standin.base_url()));
    let error = world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter())).unwrap_err();
    assert_eq!(invalid_field(error), "base-url");

    world.settings = original;
    let filter = MemberFilter { role: None, search: Some(format!("ann{evil}")) };
    let error = world.call(|s, c, settings| c.call_list_members(s, settings, &filter)).unwrap_err();
    assert_eq!(invalid_field(error), "search");

    let change = json!([{"type": "group.changed", "team": format!("Design{evil}"), "add": ["bob@acme.test"]}]);
    let error = world.events(|s, e, settings| e.call_apply(s, settings, &change.to_string(), None)).unwrap_err();
    assert_eq!(invalid_field(error), "events[0].team");
    assert_eq!(world.standin.request_count(), 0);
}

#[test]
fn the_host_caps_the_request_timeouts_the_guest_asks_for() {
    let patient_guest = |world: &World| {
        let mut settings = world.settings.clone();
        settings.timeouts = patient_timeouts();
        settings.retry = Some(RetryPolicy { max_attempts: 1, max_wait_ms: 0, deadline_ms: 60_000, base_delay_ms: 1 });
        settings
    };
    let get_bob = |world: &World| {
        let (settings, bob) = (patient_guest(world), world.member_id("bob@acme.test"));
        world.standin.set_latency(Duration::from_millis(1_500));
        world.host.call(|s, c| c.call_get_member(s, &settings, &bob)).expect("no trap").0
    };

    let capped = World::with_host(Org::sample(), |c| c.max_request_timeout = Duration::from_millis(200));
    let error = get_bob(&capped).unwrap_err();
    let Error::Transport(failure) = &error else { panic!("{error:?}") };
    assert!(failure.message.contains("did not arrive in time"), "{}", failure.message);
    assert_eq!(capped.standin.request_count(), 1, "one attempt, as the guest's policy says");

    let roomy = World::sample();
    assert!(get_bob(&roomy).is_ok(), "the same guest waits the latency out under the default cap");
    assert_eq!(roomy.standin.request_count(), 1);
}
