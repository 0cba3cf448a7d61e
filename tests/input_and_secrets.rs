//! Bad input is refused by the component before anything is sent, and the
//! token never shows in anything the component returns or prints.

mod common;

use common::{invalid_field, no_filter, World};
use host_test::bindings::exports::gitbook::directory_sync::types::{Error, InviteRequest, Invitee, MemberFilter, Role};
use host_test::standin::{Fault, FaultKind, Org};
use std::time::Duration;

const HOSTILE_IDS: [&str; 8] = ["../teams/x", "a/b", "a?b=c", "a#b", "", " ", "a%2Fb", "x\r\nX-Evil: 1"];

#[test]
fn ids_that_could_escape_the_url_path_are_refused_and_nothing_is_sent() {
    let world = World::sample();
    let long = "a".repeat(200);
    for bad in HOSTILE_IDS.iter().copied().chain([long.as_str()]) {
        let field = invalid_field(world.call(|s, c, settings| c.call_remove_member(s, settings, bad)).unwrap_err());
        assert_eq!(field, "user-id", "{bad:?}");
        let field = invalid_field(world.call(|s, c, settings| c.call_get_member(s, settings, bad)).unwrap_err());
        assert_eq!(field, "user-id");
        let field = invalid_field(
            world.call(|s, c, settings| c.call_set_member_role(s, settings, bad, Some(Role::Read))).unwrap_err(),
        );
        assert_eq!(field, "user-id");
        let field = invalid_field(world.call(|s, c, settings| c.call_set_sso_member(s, settings, bad)).unwrap_err());
        assert_eq!(field, "user-id");
        let field = invalid_field(
            world.call(|s, c, settings| c.call_update_team_members(s, settings, bad, &["u1".into()], &[])).unwrap_err(),
        );
        assert_eq!(field, "team-id");
    }
    assert_eq!(world.standin.request_count(), 0);
}

#[test]
fn team_entries_must_be_ids_or_emails() {
    let world = World::sample();
    let team = world.standin.teams()[0].id.clone();
    let error = world
        .call(|s, c, settings| c.call_update_team_members(s, settings, &team, &["ok".into()], &["../x".into()]))
        .unwrap_err();
    assert_eq!(invalid_field(error), "remove[0]");
    let error = world
        .call(|s, c, settings| c.call_update_team_members(s, settings, &team, &["not an@email".into()], &[]))
        .unwrap_err();
    assert_eq!(invalid_field(error), "add[0]");
    assert_eq!(world.standin.request_count(), 0);
}

#[test]
fn bad_emails_are_named_and_an_empty_batch_sends_nothing() {
    let world = World::sample();
    let batch = InviteRequest {
        emails: vec!["ok@acme.test".into(), "not-an-email".into()],
        with_roles: vec![],
        role: None,
        sso: true,
    };
    assert_eq!(
        invalid_field(world.call(|s, c, settings| c.call_invite(s, settings, &batch)).unwrap_err()),
        "emails[1]"
    );
    let lookalike = InviteRequest {
        emails: vec![],
        with_roles: vec![Invitee { email: "аlice@acme.test".into(), role: None }],
        role: None,
        sso: true,
    };
    assert_eq!(
        invalid_field(world.call(|s, c, settings| c.call_invite(s, settings, &lookalike)).unwrap_err()),
        "with-roles[0].email"
    );
    assert_eq!(
        invalid_field(world.call(|s, c, settings| c.call_remove_member_by_email(s, settings, "bob")).unwrap_err()),
        "email"
    );
    assert_eq!(
        invalid_field(world.call(|s, c, settings| c.call_find_member_by_email(s, settings, "")).unwrap_err()),
        "email"
    );

    let empty = InviteRequest { emails: vec![], with_roles: vec![], role: Some(Role::Read), sso: true };
    let result = world.call(|s, c, settings| c.call_invite(s, settings, &empty)).unwrap();
    assert_eq!((result.invited, result.user_ids.len()), (0, 0));
    world.call(|s, c, settings| c.call_update_team_members(s, settings, "t1", &[], &[])).unwrap();
    assert_eq!(world.standin.request_count(), 0);
}

#[test]
fn bad_settings_are_refused_before_any_request() {
    let mut world = World::sample();
    let original = world.settings.clone();

    world.settings.organization = Some("../other-org".into());
    assert_eq!(
        invalid_field(world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter())).unwrap_err()),
        "organization"
    );

    world.settings = original.clone();
    world.settings.allow_insecure_http = Some(false);
    assert_eq!(
        invalid_field(world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter())).unwrap_err()),
        "base-url"
    );

    world.settings = original.clone();
    world.settings.token = None;
    assert_eq!(
        invalid_field(world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter())).unwrap_err()),
        "token"
    );

    world.settings = original;
    let filter = MemberFilter { role: None, search: Some("a\u{7}b".into()) };
    assert_eq!(
        invalid_field(world.call(|s, c, settings| c.call_list_members(s, settings, &filter)).unwrap_err()),
        "search"
    );
    let bad_limit =
        world.call(|s, c, settings| c.call_list_members_page(s, settings, &no_filter(), None, Some(5000))).unwrap_err();
    assert_eq!(invalid_field(bad_limit), "limit");
    assert_eq!(world.standin.request_count(), 0);
}

#[test]
fn a_destination_outside_the_allow_list_is_denied_by_the_host() {
    let mut world = World::sample();
    // Another stand-in on another port: a perfectly good server the host does not allow.
    let elsewhere = host_test::standin::StandIn::start(Org::sample()).unwrap();
    world.settings.base_url = Some(elsewhere.base_url());
    let error = world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter())).unwrap_err();
    let Error::Transport(failure) = &error else { panic!("{error:?}") };
    assert!(failure.message.contains("allow"), "{}", failure.message);
    assert_eq!(failure.attempts, 1, "a denied destination is not retried");
    assert_eq!(elsewhere.request_count(), 0);
}

/// Runs every operation, through success and failure paths, and collects
/// everything the component returned or printed.
fn everything_the_component_says(world: &World) -> String {
    let mut said = String::new();
    let mut record = |value: String, output: host_test::Output| {
        said.push_str(&value);
        said.push_str(&output.stdout);
        said.push_str(&output.stderr);
    };
    let bob = world.standin.member_by_email("bob@acme.test").map(|m| m.id).unwrap_or_else(|| "bob".into());
    let team = world.standin.teams().first().map(|t| t.id.clone()).unwrap_or_else(|| "team".into());
    let invite =
        InviteRequest { emails: vec!["new@acme.test".into()], with_roles: vec![], role: Some(Role::Read), sso: true };
    let bad_invite = InviteRequest { emails: vec!["bad".into()], with_roles: vec![], role: None, sso: true };
    macro_rules! run {
        (|$s:ident, $c:ident, $st:ident| $body:expr) => {{
            let $st = &world.settings;
            let (value, output) = world.host.call(|$s, $c| $body).expect("no trap");
            record(format!("{value:?}"), output);
        }};
    }
    run!(|s, c, st| c.call_invite(s, st, &invite));
    run!(|s, c, st| c.call_invite(s, st, &bad_invite));
    run!(|s, c, st| c.call_list_members(s, st, &no_filter()));
    run!(|s, c, st| c.call_list_members_page(s, st, &no_filter(), None, Some(2)));
    run!(|s, c, st| c.call_get_member(s, st, &bob));
    run!(|s, c, st| c.call_get_member(s, st, "../x"));
    run!(|s, c, st| c.call_set_member_role(s, st, &bob, Some(Role::Edit)));
    run!(|s, c, st| c.call_set_sso_member(s, st, &bob));
    run!(|s, c, st| c.call_find_member_by_email(s, st, "bob@acme.test"));
    run!(|s, c, st| c.call_update_team_members(s, st, &team, &["new@acme.test".into()], &[]));
    run!(|s, c, st| c.call_remove_member_by_email(s, st, "new@acme.test"));
    run!(|s, c, st| c.call_remove_member(s, st, &bob));
    run!(|s, c, st| c.call_remove_member(s, st, "nobody"));
    said
}

const SECRET: &str = "gb_live_CANARY_9f8e7d6c5b4a";

#[test]
fn the_token_never_appears_in_results_errors_or_output() {
    // Success paths: the stand-in accepts the secret token.
    let world = World::new(Org { token: SECRET.into(), ..Org::sample() });
    let said = everything_the_component_says(&world);
    assert!(said.contains("Deleted"), "the success paths ran: {said}");
    assert!(!said.contains(SECRET));

    // Failure paths: every request refused (401), rate limited, failing,
    // dropped, or answered with an error that echoes the token back.
    let echo = format!(r#"{{"error":{{"code":400,"message":"bad Authorization: Bearer {SECRET}"}}}}"#);
    let faults = [
        FaultKind::Status { status: 400, body: echo, headers: vec![] },
        FaultKind::RetryAfter { seconds: 600 },
        FaultKind::ServerError { status: 500 },
        FaultKind::Drop,
        FaultKind::Delay { delay: Duration::from_millis(1) },
    ];
    for fault in faults {
        let world = World::new(Org { token: SECRET.into(), ..Org::sample() });
        world.standin.inject(Fault::any(fault.clone(), 10_000));
        let said = everything_the_component_says(&world);
        assert!(!said.contains(SECRET), "{fault:?} leaked the token: {said}");
    }
    let mut world = World::new(Org::sample());
    world.settings.token = Some(SECRET.into());
    let said = everything_the_component_says(&world);
    assert!(said.contains("Unauthorized"));
    assert!(!said.contains(SECRET));
}
