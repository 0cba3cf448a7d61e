//! A whole read of each source over the scripted I/O: what is asked, in
//! which order, and what the answers become.

use super::entra::tests::entra;
use super::google::tests::google;
use super::okta::tests::okta;
use super::{read_snapshot, Source};
use crate::error::{Error, FailureKind};
use crate::gitbook::fake::{json, settings, with_header, ScriptedIo};
use crate::settings::Settings;
use crate::sync::reconcile::{Rules, Snapshot};
use crate::validate::TeamTitle;
use std::collections::BTreeSet;
use std::time::Duration;

fn rules(groups: &[(&str, &str)]) -> Rules {
    let mut rules = Rules::default();
    for (group, team) in groups {
        rules.group_teams.insert(group.to_string(), TeamTitle::parse("t", team).unwrap());
    }
    rules
}

fn serial() -> Settings {
    let mut settings = settings();
    settings.concurrency = 1.try_into().unwrap();
    settings
}

fn users_of(snapshot: &Snapshot) -> Vec<(String, Vec<String>)> {
    snapshot.users.iter().map(|u| (u.email.as_str().to_owned(), u.groups.clone())).collect()
}

fn urls(io: &ScriptedIo) -> Vec<String> {
    io.sent.iter().map(|r| r.url.clone()).collect()
}

const TOKEN: &str = r#"{"access_token":"ya29.test","token_type":"Bearer","expires_in":3599}"#;

#[test]
fn google_reads_users_then_nested_groups_once_each_and_stops_cycles() {
    let source = Source::Google(Box::new(google("https://g.test")));
    let mut io = ScriptedIo::new([
        json(200, TOKEN),
        json(
            200,
            r#"{"users":[{"id":"1","primaryEmail":"ann@acme.com"},{"id":"2","primaryEmail":"bob@acme.com"}],
                "nextPageToken":"u2"}"#,
        ),
        json(
            200,
            r#"{"users":[{"id":"3","primaryEmail":"cy@acme.com","suspended":true},{"id":"4","primaryEmail":"dee@acme.com"}]}"#,
        ),
        // eng: ann and the nested group core, which nests eng again (a cycle).
        json(200, r#"{"members":[{"id":"1","type":"USER"},{"email":"core@acme.com","id":"gc","type":"GROUP"}]}"#),
        json(200, r#"{"members":[{"id":"4","type":"USER"},{"email":"eng@acme.com","id":"ge","type":"GROUP"}]}"#),
    ]);
    let read = read_snapshot(&mut &mut io, &serial(), &source, rules(&[("eng@acme.com", "Engineering")])).unwrap();
    assert_eq!(
        users_of(&read.snapshot),
        [
            ("ann@acme.com".into(), vec!["eng@acme.com".to_string()]),
            ("bob@acme.com".into(), vec![]),
            ("dee@acme.com".into(), vec!["eng@acme.com".to_string()]),
        ]
    );
    let sent = urls(&io);
    assert_eq!(sent.len(), 5, "{sent:#?}");
    assert_eq!(sent[0], "https://g.test/token");
    assert!(sent[2].ends_with("&pageToken=u2"));
    assert!(sent[4].starts_with("https://g.test/admin/directory/v1/groups/core%40acme.com/members?"));
    assert_eq!(io.sent[1].headers[0], ("authorization".into(), "Bearer ya29.test".into()));
    assert_eq!((read.stats.user_pages, read.stats.member_pages, read.stats.groups_read), (2, 2, 2));
    assert_eq!(read.drive.requests, 5);
}

#[test]
fn the_users_list_and_the_groups_are_read_side_by_side() {
    let source = Source::Okta(okta("https://o.test"));
    let mut io = ScriptedIo::new([
        json(200, r#"[{"id":"u1","status":"ACTIVE","profile":{"email":"ann@acme.com"}}]"#),
        json(200, r#"[{"id":"g1"}]"#),
        json(200, r#"[{"id":"g2"}]"#),
        json(200, r#"[{"id":"u1","status":"ACTIVE","profile":{"email":"ann@acme.com"}}]"#),
        json(200, r#"[]"#),
    ]);
    let read = read_snapshot(&mut &mut io, &settings(), &source, rules(&[("eng", "Eng"), ("ops", "Ops")])).unwrap();
    assert_eq!(users_of(&read.snapshot), [("ann@acme.com".into(), vec!["eng".to_string()])]);
    assert_eq!(io.max_in_flight, 3, "users and both lookups at once");
    assert_eq!(io.sent.len(), 5);
    assert_eq!(io.sent[0].headers[0].1, "SSWS 00s3cretTOKEN");
}

#[test]
fn entra_follows_next_links_and_keeps_enabled_users_with_mail() {
    let source = Source::Entra(entra("https://graph.test"));
    let mut io = ScriptedIo::new([
        json(200, TOKEN),
        json(
            200,
            r#"{"value":[{"id":"1","mail":"ann@contoso.com","accountEnabled":true},
                {"id":"2","mail":null,"userPrincipalName":"x@contoso.com","accountEnabled":true}],
                "@odata.nextLink":"https://graph.test/v1.0/users?$skiptoken=p2"}"#,
        ),
        json(200, r#"{"value":[{"id":"3","mail":"off@contoso.com","accountEnabled":false}]}"#),
        json(200, r#"{"value":[{"id":"gid"}]}"#),
        json(
            200,
            r##"{"value":[{"@odata.type":"#microsoft.graph.user","id":"1"},{"@odata.type":"#microsoft.graph.user","id":"3"}]}"##,
        ),
    ]);
    let read = read_snapshot(&mut &mut io, &serial(), &source, rules(&[("Engineering", "Engineering")])).unwrap();
    assert_eq!(users_of(&read.snapshot), [("ann@contoso.com".into(), vec!["Engineering".to_string()])]);
    assert_eq!(read.stats.without_email, ["2"]);
    assert_eq!(urls(&io)[2], "https://graph.test/v1.0/users?$skiptoken=p2");
    assert_eq!(urls(&io)[4], "https://graph.test/v1.0/groups/gid/transitiveMembers?$select=id&$top=999");
}

#[test]
fn a_page_that_fails_part_way_is_an_error_not_a_shorter_directory() {
    let source = Source::Okta(okta("https://o.test"));
    let mut io = ScriptedIo::new([
        with_header(
            json(200, r#"[{"id":"u1","status":"ACTIVE","profile":{"email":"ann@acme.com"}}]"#),
            "link",
            r#"<https://o.test/api/v1/users?after=u1&limit=200>; rel="next""#,
        ),
        json(404, r#"{"errorCode":"E0000007","errorSummary":"Not found: Resource not found: x (UserPage)"}"#),
    ]);
    let error = read_snapshot(&mut &mut io, &serial(), &source, Rules::default()).unwrap_err();
    assert_eq!(error.kind(), Some(FailureKind::NotFound));
    assert!(error.to_string().contains("Okta: read users"), "{error}");
    assert_eq!(io.sent.len(), 2);
}

#[test]
fn a_refused_credential_names_the_source_sends_nothing_more_and_never_shows_the_secret() {
    let source = Source::Entra(entra("https://graph.test"));
    let mut io = ScriptedIo::new([json(
        401,
        r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided: s3cret~value"}"#,
    )]);
    let error = read_snapshot(&mut &mut io, &settings(), &source, rules(&[("eng", "Eng")])).unwrap_err();
    let text = error.to_string();
    assert_eq!(error.kind(), Some(FailureKind::Unauthorized));
    assert!(text.contains("Microsoft Entra ID refused the credentials"), "{text}");
    assert!(!text.contains("s3cret~value"), "{text}");
    assert!(text.contains("check the source's credentials"), "{text}");
    assert_eq!(io.sent.len(), 1);
}

#[test]
fn a_token_refused_part_way_is_an_error_and_the_walk_stops() {
    let source = Source::Google(Box::new(google("https://g.test")));
    let mut io = ScriptedIo::new([
        json(200, TOKEN),
        json(200, r#"{"users":[{"id":"1","primaryEmail":"ann@acme.com"}],"nextPageToken":"u2"}"#),
        json(401, r#"{"error":{"code":401,"message":"Invalid Credentials","errors":[{"reason":"authError"}]}}"#),
    ]);
    let error = read_snapshot(&mut &mut io, &serial(), &source, Rules::default()).unwrap_err();
    assert!(error.to_string().contains("refused the credentials part-way"), "{error}");
    assert_eq!(io.sent.len(), 3);
}

#[test]
fn a_group_the_rules_name_that_does_not_exist_is_an_error() {
    let source = Source::Okta(okta("https://o.test"));
    let mut io = ScriptedIo::new([json(200, "[]"), json(200, "[]")]);
    let error = read_snapshot(&mut &mut io, &serial(), &source, rules(&[("eng", "Eng")])).unwrap_err();
    assert_eq!(error.kind(), Some(FailureKind::NotFound));
    assert!(error.to_string().contains("no group is named \"eng\""), "{error}");
}

#[test]
fn okta_waits_out_a_used_up_window_before_the_next_request() {
    let source = Source::Okta(okta("https://o.test"));
    let mut io = ScriptedIo::new([
        with_header(
            with_header(
                with_header(json(200, "[]"), "x-rate-limit-remaining", "0"),
                "x-rate-limit-reset",
                "1700000005",
            ),
            "link",
            r#"<https://o.test/api/v1/users?after=x>; rel="next""#,
        ),
        json(200, "[]"),
    ]);
    let read = read_snapshot(&mut &mut io, &serial(), &source, Rules::default()).unwrap();
    assert_eq!(io.sent.len(), 2);
    assert!(io.started_at[1] >= Duration::from_secs(5), "{:?}", io.started_at);
    assert!(read.drive.paused >= Duration::from_secs(4));
}

#[test]
fn graph_throttling_is_retried_after_the_asked_wait() {
    let source = Source::Entra(entra("https://graph.test"));
    let mut io = ScriptedIo::new([
        json(200, TOKEN),
        with_header(
            json(429, r#"{"error":{"code":"TooManyRequests","message":"Too many requests"}}"#),
            "retry-after",
            "2",
        ),
        json(200, r#"{"value":[{"id":"1","mail":"ann@contoso.com","accountEnabled":true}]}"#),
    ]);
    let read = read_snapshot(&mut &mut io, &serial(), &source, Rules::default()).unwrap();
    assert_eq!(read.snapshot.users.len(), 1);
    assert_eq!((read.drive.requests, read.drive.retries), (3, 1));
    assert!(io.started_at[2] - io.started_at[1] >= Duration::from_secs(2));
}

#[test]
fn a_next_link_to_another_host_is_not_followed() {
    let source = Source::Entra(entra("https://graph.test"));
    let mut io = ScriptedIo::new([
        json(200, TOKEN),
        json(200, r#"{"value":[],"@odata.nextLink":"https://evil.test/v1.0/users?$skiptoken=x"}"#),
    ]);
    let error = read_snapshot(&mut &mut io, &serial(), &source, Rules::default()).unwrap_err();
    assert!(error.to_string().contains("is not followed"), "{error}");
    assert_eq!(io.sent.len(), 2);
}

#[test]
fn a_group_of_the_whole_customer_holds_every_active_user() {
    let source = Source::Google(Box::new(google("https://g.test")));
    let mut io = ScriptedIo::new([
        json(200, TOKEN),
        json(200, r#"{"users":[{"id":"1","primaryEmail":"ann@acme.com"},{"id":"2","primaryEmail":"bob@acme.com"}]}"#),
        json(200, r#"{"members":[{"id":"C0","type":"CUSTOMER"}]}"#),
    ]);
    let read = read_snapshot(&mut &mut io, &serial(), &source, rules(&[("all@acme.com", "All")])).unwrap();
    let groups: BTreeSet<usize> = read.snapshot.users.iter().map(|u| u.groups.len()).collect();
    assert_eq!(groups, BTreeSet::from([1]));
}

#[test]
fn every_source_names_itself_in_its_operations() {
    for (source, name) in [
        (Source::Google(Box::new(google("https://g.test"))), "Google Workspace"),
        (Source::Entra(entra("https://e.test")), "Microsoft Entra ID"),
        (Source::Okta(okta("https://o.test")), "Okta"),
    ] {
        assert_eq!(source.api().kind().title(), name);
        let mut io = ScriptedIo::new((0..40).map(|_| json(500, "{}")));
        let mut settings = serial();
        settings.retry.max_attempts = 1;
        let error = read_snapshot(&mut &mut io, &settings, &source, Rules::default()).unwrap_err();
        let Error::Api(_, failure) = &error else { panic!("{error}") };
        assert!(failure.operation.starts_with(name), "{error}");
    }
}

/// `/reconcile?source=…` gives the read the route's budget: a directory
/// that answers slowly is abandoned at it, nothing else is sent, and the
/// read fails (so nothing is planned, let alone removed).
#[test]
fn a_read_stops_at_its_horizon_abandoning_what_is_in_flight_and_sending_nothing_more() {
    let source = Source::Okta(okta("https://o.test"));
    let mut io = ScriptedIo::new([
        with_header(
            json(200, r#"[{"id":"u1","status":"ACTIVE","profile":{"email":"ann@acme.com"}}]"#),
            "link",
            r#"<https://o.test/api/v1/users?after=u1&limit=200>; rel="next""#,
        ),
        json(200, "[]"),
    ]);
    // The first page takes 1 s, the second would take 10 s; the budget is 3 s.
    io.delays = [Duration::from_secs(1), Duration::from_secs(10)].into();
    io.deadline = Duration::from_secs(3);
    let horizon = Some(Duration::from_secs(3));
    let error = super::read_snapshot_until(&mut &mut io, &serial(), &source, Rules::default(), horizon).unwrap_err();
    assert_eq!(error.kind(), Some(FailureKind::DeadlineExceeded), "{error}");
    assert_eq!(io.now, Duration::from_secs(3), "ended at the horizon, not when the slow page would have come");
    assert_eq!((io.sent.len(), io.abandoned.as_slice()), (2, &[1][..]), "the second page abandoned, nothing more sent");
    assert!(io.deadlines.iter().all(|d| *d <= Duration::from_secs(3)), "{:?}", io.deadlines);
}
