//! Hostile inputs from both sides, through the component in wasmtime: what
//! the network sends the webhook, what a compromised or broken API answers,
//! and a runaway call stopped by the host's limits.

mod common;

use common::{no_filter, World, TOKEN};
use host_test::bindings::exports::gitbook::directory_sync::types::Error;
use host_test::demo::authority;
use host_test::standin::{Fault, FaultKind, Org, StandIn};
use host_test::{component_path, Host, HostConfig};
use std::time::Duration;

fn answer_members_with(world: &World, body: String) {
    world.standin.inject(Fault::on("GET", "/members", FaultKind::Status { status: 200, body, headers: vec![] }, 100));
}

#[test]
fn a_50_mb_member_page_is_refused_not_buffered_into_a_trap() {
    let world = World::sample();
    let huge = format!(r#"{{"items":[],"count":0,"padding":"{}"}}"#, "x".repeat(50 * 1024 * 1024));
    answer_members_with(&world, huge);
    let error = world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter())).unwrap_err();
    let Error::InvalidResponse(failure) = &error else { panic!("{error:?}") };
    assert!(failure.message.contains("larger than"), "{}", failure.message);
}

#[test]
fn json_nested_10000_levels_deep_is_a_typed_error_everywhere() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let world = World::sample();
    answer_members_with(&world, deep.clone());
    let error = world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter())).unwrap_err();
    assert!(matches!(error, Error::InvalidResponse(_)), "{error:?}");

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
    let page =
        format!(r#"{{"items":[],"count":0,"next":{{"page":"{}/v1/orgs/acme/members?x="}}}}"#, elsewhere.base_url());
    world.standin.inject(Fault::on(
        "GET",
        "/members",
        FaultKind::Status { status: 200, body: page, headers: vec![] },
        1,
    ));
    let _ = world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter()));
    assert_eq!(elsewhere.request_count(), 0, "the cursor is a query value, never a URL");
    for request in world.requests() {
        assert!(request.path.starts_with("/v1/orgs/acme/"), "{}", request.path);
    }
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
    assert_eq!(elsewhere.request_count(), 0);
}

#[test]
fn header_injection_through_the_token_is_refused_before_sending() {
    let mut world = World::sample();
    world.settings.token = Some(format!("{TOKEN}\r\nX-Evil: 1"));
    let error = world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter())).unwrap_err();
    let Error::InvalidInput(input) = &error else { panic!("{error:?}") };
    assert_eq!(input.field, "token");
    assert!(!input.message.contains("X-Evil"), "the refused token is not echoed: {}", input.message);
    assert_eq!(world.standin.request_count(), 0);
}

#[test]
fn a_response_header_with_a_lying_retry_after_does_not_stall_the_caller() {
    let world = World::sample();
    let headers = vec![("retry-after".into(), "99999999999999999999".into())];
    world.standin.inject(Fault::any(FaultKind::Status { status: 429, body: "{}".into(), headers }, 10));
    let error = world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter())).unwrap_err();
    assert!(matches!(error, Error::RateLimited(_)), "{error:?}");
}

/// A host with tight limits, allowed to reach only `standin`.
fn tight_host(standin: &StandIn, tweak: impl FnOnce(&mut HostConfig)) -> Host {
    let mut config = HostConfig::allowing(authority(standin));
    tweak(&mut config);
    Host::new(&component_path(), config).unwrap()
}

#[test]
fn a_call_past_the_host_deadline_is_stopped_by_the_host() {
    let standin = StandIn::start(Org::generated("acme", TOKEN, 3_000, 1)).unwrap();
    standin.set_latency(Duration::from_millis(300));
    let host = tight_host(&standin, |c| c.call_deadline = Duration::from_millis(400));
    let settings = host_test::demo::local_settings(&standin, "acme", TOKEN);
    let outcome = host.call(|store, client| client.call_list_members(store, &settings, &no_filter()));
    let trap = outcome.expect_err("the host interrupts the call");
    assert!(format!("{trap:?}").to_lowercase().contains("interrupt"), "{trap:?}");
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

    let roomy = tight_host(&standin, |c| c.max_memory_bytes = 256 << 20);
    let (members, _) = roomy.call(|store, client| client.call_list_members(store, &settings, &no_filter())).unwrap();
    assert_eq!(members.unwrap().len(), 20_000, "the same call fits in the default cap");
}
