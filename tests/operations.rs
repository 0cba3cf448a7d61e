//! Every GitBook operation of the WIT `client` interface, run by the real
//! component in wasmtime against the stand-in over 127.0.0.1, checked
//! against the exact requests the API specifies.

mod common;

use common::{failure, no_filter, summary, World, TOKEN};
use host_test::bindings::exports::gitbook::directory_sync::types::{
    Error, InviteRequest, Invitee, MemberFilter, Removal, Role, RoleFilter,
};
use host_test::standin::{Org, Role as StandInRole};
use serde_json::json;
use std::collections::HashSet;

#[test]
fn someone_joins_an_sso_invite_returns_their_new_id() {
    let world = World::sample();
    let invite = InviteRequest {
        emails: vec![" Dana@Acme.test ".into()],
        with_roles: vec![],
        role: Some(Role::Read),
        sso: true,
    };
    let result = world.call(|s, c, settings| c.call_invite(s, settings, &invite)).unwrap();

    let requests = world.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        summary(&requests[0]),
        (
            "POST".into(),
            "/v1/orgs/acme/invites".into(),
            Some(json!({"emails": ["dana@acme.test"], "role": "read", "sso": true}))
        )
    );
    assert_eq!(requests[0].header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
    assert_eq!(requests[0].header("content-type"), Some("application/json"));

    let dana = world.standin.member_by_email("dana@acme.test").expect("dana was added");
    assert_eq!(result.user_ids, [dana.id]);
    assert_eq!(result.invited, 1);
    assert!(result.failed_sso_emails.is_empty());
    assert_eq!((dana.role, dana.sso), (Some(StandInRole::Read), true));
}

#[test]
fn a_batch_invite_carries_personal_roles_and_reports_failed_sso_emails() {
    let world = World::sample();
    world.standin.set_sso_conflict("olga@other.test");
    let invite = InviteRequest {
        emails: vec!["ann@acme.test".into(), "olga@other.test".into(), "ANN@acme.test".into()],
        with_roles: vec![
            Invitee { email: "lead@acme.test".into(), role: Some(Role::Admin) },
            Invitee { email: "visitor@acme.test".into(), role: None },
        ],
        role: Some(Role::Comment),
        sso: true,
    };
    let result = world.call(|s, c, settings| c.call_invite(s, settings, &invite)).unwrap();

    let body = world.requests()[0].json().unwrap();
    assert_eq!(
        body,
        json!({"emails": ["ann@acme.test", "olga@other.test", {"email": "lead@acme.test", "role": "admin"}, {"email": "visitor@acme.test", "role": null}],
               "role": "comment", "sso": true})
    );
    assert_eq!(result.invited, 4);
    assert_eq!(result.user_ids.len(), 4);
    assert_eq!(result.failed_sso_emails, ["olga@other.test"]);
    assert_eq!(world.standin.member_by_email("lead@acme.test").unwrap().role, Some(StandInRole::Admin));
    assert_eq!(world.standin.member_by_email("visitor@acme.test").unwrap().role, None);
}

#[test]
fn someone_leaves_removal_by_id_reports_each_spec_outcome() {
    let world = World::sample();
    let bob = world.member_id("bob@acme.test");
    let frank = world.member_id("frank@acme.test");
    world.standin.set_removal_needs_approval(&frank);

    let removed = world.call(|s, c, settings| c.call_remove_member(s, settings, &bob)).unwrap();
    let again = world.call(|s, c, settings| c.call_remove_member(s, settings, &bob)).unwrap();
    let pending = world.call(|s, c, settings| c.call_remove_member(s, settings, &frank)).unwrap();

    assert_eq!((removed, again, pending), (Removal::Deleted, Removal::NotAMember, Removal::ApprovalRequested));
    let requests = world.requests();
    assert_eq!(summary(&requests[0]), ("DELETE".into(), format!("/v1/orgs/acme/members/{bob}"), None));
    assert!(requests[0].body.is_empty());
    assert!(world.standin.member_by_email("bob@acme.test").is_none());
    assert!(world.standin.member_by_email("frank@acme.test").is_some());
}

#[test]
fn someone_leaves_without_a_saved_id_is_found_by_email_then_removed() {
    let world = World::sample();
    let carol = world.member_id("carol@acme.test");
    let removal = world.call(|s, c, settings| c.call_remove_member_by_email(s, settings, "Carol@ACME.test")).unwrap();
    assert_eq!((removal.outcome, removal.user_id), (Removal::Deleted, Some(carol.clone())));

    let requests = world.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(summary(&requests[0]).1, "/v1/orgs/acme/members?limit=1000&search=carol%40acme.test");
    assert_eq!(summary(&requests[1]), ("DELETE".into(), format!("/v1/orgs/acme/members/{carol}"), None));
    assert!(world.standin.member_by_email("carol@acme.test").is_none());
}

#[test]
fn removing_an_unknown_email_sends_no_delete() {
    let world = World::sample();
    let removal = world.call(|s, c, settings| c.call_remove_member_by_email(s, settings, "nobody@acme.test")).unwrap();
    assert_eq!((removal.outcome, removal.user_id), (Removal::NotAMember, None));
    let methods: Vec<String> = world.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["GET"]);
}

#[test]
fn a_group_change_adds_and_removes_team_members_in_one_put() {
    let world = World::sample();
    let team = world.standin.teams().into_iter().find(|t| t.title == "Support").unwrap();
    let erin = world.member_id("erin@acme.test");
    let dave = world.member_id("dave@acme.test");
    world
        .call(|s, c, settings| {
            c.call_update_team_members(
                s,
                settings,
                &team.id,
                &[erin.clone(), "Bob@acme.test".into()],
                std::slice::from_ref(&dave),
            )
        })
        .unwrap();

    let requests = world.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        summary(&requests[0]),
        (
            "PUT".into(),
            format!("/v1/orgs/acme/teams/{}/members", team.id),
            Some(json!({"add": [erin, "bob@acme.test"], "remove": [dave]}))
        )
    );
    let members: HashSet<String> = world.standin.team_member_ids(&team.id).into_iter().collect();
    let expected: HashSet<String> =
        [world.member_id("frank@acme.test"), world.member_id("erin@acme.test"), world.member_id("bob@acme.test")]
            .into();
    assert_eq!(members, expected);
}

#[test]
fn listing_follows_next_page_over_three_pages_of_2345_members() {
    let world = World::new(Org::generated("acme", TOKEN, 2345, 3));
    let members = world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter())).unwrap();

    assert_eq!(members.len(), 2345);
    let ids: HashSet<&str> = members.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids.len(), 2345, "no member twice");
    let requests = world.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0].query.as_deref(), Some("limit=1000"));
    for request in &requests[1..] {
        assert_eq!(request.query_param("limit").as_deref(), Some("1000"));
        assert!(request.query_param("page").is_some(), "pages 2 and 3 follow next.page");
    }
}

#[test]
fn listing_passes_the_role_and_search_filters() {
    let world = World::sample();
    let guests = MemberFilter { role: Some(RoleFilter::Guest), search: None };
    let found = world.call(|s, c, settings| c.call_list_members(s, settings, &guests)).unwrap();
    assert_eq!(found.iter().map(|m| m.user.email.clone().unwrap()).collect::<Vec<_>>(), ["gina@partner.test"]);
    assert_eq!(found[0].role, None);

    let editors = MemberFilter { role: Some(RoleFilter::Role(Role::Edit)), search: Some("Bob".into()) };
    let found = world.call(|s, c, settings| c.call_list_members(s, settings, &editors)).unwrap();
    assert_eq!(found.len(), 1);
    let queries: Vec<String> = world.requests().iter().map(|r| r.query.clone().unwrap()).collect();
    assert_eq!(queries, ["limit=1000&role=guest", "limit=1000&role=edit&search=Bob"]);
}

#[test]
fn a_streaming_caller_walks_pages_with_the_cursor() {
    let world = World::new(Org::generated("acme", TOKEN, 25, 1));
    let mut page = None;
    let mut seen = 0;
    let mut pages = 0;
    loop {
        let result = world
            .call(|s, c, settings| c.call_list_members_page(s, settings, &no_filter(), page.as_deref(), Some(10)))
            .unwrap();
        seen += result.items.len();
        pages += 1;
        assert_eq!(result.count, Some(25));
        page = result.next_page;
        if page.is_none() {
            break;
        }
    }
    assert_eq!((seen, pages), (25, 3));
}

#[test]
fn get_member_returns_the_spec_fields() {
    let world = World::sample();
    let alice = world.member_id("alice@acme.test");
    let member = world.call(|s, c, settings| c.call_get_member(s, settings, &alice)).unwrap();
    assert_eq!(member.id, alice);
    assert_eq!(member.role, Some(Role::Admin));
    assert_eq!(member.user.display_name, "Alice Anderson");
    assert_eq!(member.user.email.as_deref(), Some("alice@acme.test"));
    assert_eq!(member.teams, 1);
    assert_eq!(summary(&world.requests()[0]), ("GET".into(), format!("/v1/orgs/acme/members/{alice}"), None));
}

#[test]
fn role_changes_patch_the_member_and_no_role_means_guest() {
    let world = World::sample();
    let dave = world.member_id("dave@acme.test");
    let promoted = world.call(|s, c, settings| c.call_set_member_role(s, settings, &dave, Some(Role::Edit))).unwrap();
    assert_eq!(promoted.role, Some(Role::Edit));
    let guest = world.call(|s, c, settings| c.call_set_member_role(s, settings, &dave, None)).unwrap();
    assert_eq!(guest.role, None);

    let requests = world.requests();
    assert_eq!(
        summary(&requests[0]),
        ("PATCH".into(), format!("/v1/orgs/acme/members/{dave}"), Some(json!({"role": "edit"})))
    );
    assert_eq!(requests[1].json(), Some(json!({"role": null})));
    assert_eq!(world.standin.member_by_email("dave@acme.test").unwrap().role, None);
}

#[test]
fn a_user_becomes_an_sso_member() {
    let world = World::sample();
    let bob = world.member_id("bob@acme.test");
    let member = world.call(|s, c, settings| c.call_set_sso_member(s, settings, &bob)).unwrap();
    assert!(member.sso);
    assert_eq!(summary(&world.requests()[0]), ("POST".into(), format!("/v1/orgs/acme/members/{bob}/sso"), None));
}

#[test]
fn find_by_email_is_exact_and_case_insensitive() {
    let world = World::sample();
    let found = world.call(|s, c, settings| c.call_find_member_by_email(s, settings, "ERIN@acme.test")).unwrap();
    assert_eq!(found.map(|m| m.id), Some(world.member_id("erin@acme.test")));
    // "rin@acme.test" is a substring of erin's email: search finds her, the exact match does not.
    let near_miss = world.call(|s, c, settings| c.call_find_member_by_email(s, settings, "rin@acme.test")).unwrap();
    assert!(near_miss.is_none());
}

#[test]
fn a_wrong_token_surfaces_as_unauthorized() {
    let mut world = World::sample();
    world.settings.token = Some("gb_wrong_token".into());
    let error = world.call(|s, c, settings| c.call_list_members(s, settings, &no_filter())).unwrap_err();
    let Error::Unauthorized(failure) = &error else { panic!("expected unauthorized, got {error:?}") };
    assert_eq!((failure.status, failure.attempts, failure.operation.as_str()), (Some(401), 1, "list members"));
    assert_eq!(world.standin.request_count(), 1, "401 is not retried");
}

#[test]
fn unknown_members_and_teams_are_not_found() {
    let world = World::sample();
    let error = world.call(|s, c, settings| c.call_get_member(s, settings, "nobody")).unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
    let error = world
        .call(|s, c, settings| c.call_update_team_members(s, settings, "noteam", &["bob@acme.test".into()], &[]))
        .unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
    assert_eq!(failure(&error).status, Some(404));
}
