//! The client against a scripted transport: retries, error mapping,
//! pagination and the composed operations.

use super::fake::{json, with_header, ScriptedIo};
use super::ops::{Invite, MemberFilter};
use super::Client;
use crate::error::{Error, FailureKind};
use crate::gitbook::model::Removal;
use crate::io::{TransportError, TransportErrorKind};
use crate::settings::Settings;
use crate::validate::{Email, GitBookId};
use std::time::Duration;

const TOKEN: &str = "gb_api_SECRET_7f3a";

fn settings() -> Settings {
    super::fake::settings_with_token(TOKEN)
}

fn member_json(id: &str, email: &str) -> String {
    format!(
        r#"{{"object":"member","id":"{id}","role":"read","user":{{"object":"user","id":"{id}","displayName":"{id}","email":"{email}","urls":{{"location":"https://x"}}}},"disabled":false,"joinedAt":"2024-01-01T00:00:00Z","sso":true,"spaces":0,"teams":0,"sites":0}}"#
    )
}

fn page(members: &[(&str, &str)], count: usize, next: Option<&str>) -> String {
    let items: Vec<String> = members.iter().map(|(id, email)| member_json(id, email)).collect();
    let next = next.map(|n| format!(r#","next":{{"page":"{n}"}}"#)).unwrap_or_default();
    format!(r#"{{"items":[{}],"count":{count}{next}}}"#, items.join(","))
}

fn kind(error: &Error) -> FailureKind {
    error.kind().expect("an API failure")
}

fn user(id: &str) -> GitBookId {
    GitBookId::parse("user-id", id).unwrap()
}

#[test]
fn a_rate_limit_is_waited_out_as_the_header_says() {
    let settings = settings();
    let reset = (1_700_000_000u64 + 4).to_string();
    let mut io = ScriptedIo::new([
        with_header(
            json(429, r#"{"error":{"code":429,"message":"API rate limit exceeded"}}"#),
            "X-RateLimit-Reset",
            &reset,
        ),
        json(205, ""),
    ]);
    let removal = Client::new(&settings, &mut io).remove_member(&user("u1")).unwrap();
    assert_eq!(removal, Removal::Deleted);
    assert_eq!(io.sent.len(), 2);
    // 10 ms passed during the first request; the reset was 4 s after the start.
    assert_eq!(io.slept, [Duration::from_millis(3990)]);
}

#[test]
fn server_errors_and_dropped_connections_are_retried_with_backoff() {
    let settings = settings();
    let dropped = Err(TransportError { kind: TransportErrorKind::Connection, message: "connection reset".into() });
    let mut io = ScriptedIo::new([json(503, "{}"), dropped, json(200, &member_json("u1", "a@x.io"))]);
    let member = Client::new(&settings, &mut io).get_member(&user("u1")).unwrap();
    assert_eq!(member.id, "u1");
    assert_eq!(io.sent.len(), 3);
    // Full jitter with the scripted random = u64::MAX: within 500 ms, then 1 s.
    assert_eq!(io.slept.len(), 2);
    assert!(io.slept[0] <= Duration::from_millis(500) && io.slept[1] <= Duration::from_millis(1000));
}

#[test]
fn other_client_errors_are_never_retried() {
    let settings = settings();
    for (status, expected) in [
        (400, FailureKind::Rejected),
        (401, FailureKind::Unauthorized),
        (403, FailureKind::Forbidden),
        (404, FailureKind::NotFound),
        (409, FailureKind::Conflict),
    ] {
        let mut io = ScriptedIo::new([json(status, r#"{"error":{"code":400,"message":"nope"}}"#)]);
        let error = Client::new(&settings, &mut io).get_member(&user("u1")).unwrap_err();
        assert_eq!(kind(&error), expected);
        assert_eq!(io.sent.len(), 1, "HTTP {status} must not be retried");
        let Error::Api(_, failure) = error else { unreachable!() };
        assert_eq!((failure.status, failure.message.as_str(), failure.attempts), (Some(status), "nope", 1));
    }
}

#[test]
fn a_persistent_rate_limit_ends_in_rate_limited_after_max_attempts() {
    let settings = settings();
    let limited =
        || with_header(json(429, r#"{"error":{"code":429,"message":"API rate limit exceeded"}}"#), "Retry-After", "1");
    let mut io = ScriptedIo::new((0..5).map(|_| limited()));
    let error = Client::new(&settings, &mut io).remove_member(&user("u1")).unwrap_err();
    assert_eq!(kind(&error), FailureKind::RateLimited);
    assert_eq!(io.sent.len(), 5);
    let text = error.to_string();
    assert!(text.contains("gave up after 5 attempts") && text.contains("API rate limit exceeded"), "{text}");
}

#[test]
fn bodies_of_the_wrong_shape_are_invalid_responses() {
    let settings = settings();
    let mut io = ScriptedIo::new([json(200, "<html>hello</html>")]);
    let error = Client::new(&settings, &mut io).get_member(&user("u1")).unwrap_err();
    assert_eq!(kind(&error), FailureKind::InvalidResponse);
}

#[test]
fn redirects_are_not_followed() {
    let settings = settings();
    let mut io = ScriptedIo::new([with_header(json(302, ""), "Location", "https://evil.example/steal")]);
    let error = Client::new(&settings, &mut io).get_member(&user("u1")).unwrap_err();
    assert_eq!(kind(&error), FailureKind::InvalidResponse);
    assert_eq!(io.sent.len(), 1);
}

#[test]
fn an_echoed_token_is_redacted_from_error_messages() {
    let settings = settings();
    let body = format!(r#"{{"error":{{"code":400,"message":"bad header Bearer {TOKEN}"}}}}"#);
    let mut io = ScriptedIo::new([json(400, &body)]);
    let error = Client::new(&settings, &mut io).get_member(&user("u1")).unwrap_err();
    assert!(!format!("{error} {error:?}").contains(TOKEN));
}

#[test]
fn listing_follows_next_page_across_every_page() {
    let settings = settings();
    let mut io = ScriptedIo::new([
        json(200, &page(&[("u1", "a@x.io"), ("u2", "b@x.io")], 5, Some("c2"))),
        json(200, &page(&[("u3", "c@x.io"), ("u4", "d@x.io")], 5, Some("c3"))),
        json(200, &page(&[("u5", "e@x.io")], 5, None)),
    ]);
    let members = Client::new(&settings, &mut io).list_members(&MemberFilter::default()).unwrap();
    assert_eq!(members.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["u1", "u2", "u3", "u4", "u5"]);
    let urls: Vec<&str> = io.sent.iter().map(|r| r.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "https://api.gitbook.com/v1/orgs/acme/members?limit=1000",
            "https://api.gitbook.com/v1/orgs/acme/members?limit=1000&page=c2",
            "https://api.gitbook.com/v1/orgs/acme/members?limit=1000&page=c3",
        ]
    );
}

#[test]
fn a_looping_cursor_is_an_invalid_response_not_an_endless_walk() {
    let settings = settings();
    let mut io = ScriptedIo::new([
        json(200, &page(&[("u1", "a@x.io")], 3, Some("same"))),
        json(200, &page(&[("u2", "b@x.io")], 3, Some("same"))),
    ]);
    let error = Client::new(&settings, &mut io).list_members(&MemberFilter::default()).unwrap_err();
    assert_eq!(kind(&error), FailureKind::InvalidResponse);
    assert!(error.to_string().contains("twice"));
}

#[test]
fn find_by_email_matches_exactly_and_ignores_near_misses() {
    let settings = settings();
    let mut io = ScriptedIo::new([
        json(200, &page(&[("u1", "ann@x.io.evil"), ("u2", "xann@x.io")], 3, Some("p2"))),
        json(200, &page(&[("u3", "Ann@X.io")], 3, None)),
    ]);
    let email = Email::parse("email", "ann@x.io").unwrap();
    let found = Client::new(&settings, &mut io).find_member_by_email(&email).unwrap();
    assert_eq!(found.map(|m| m.id), Some("u3".into()));
    assert!(io.sent[0].url.ends_with("members?limit=1000&search=ann%40x.io"));
}

#[test]
fn remove_by_email_of_a_stranger_sends_no_delete() {
    let settings = settings();
    let mut io = ScriptedIo::new([json(200, &page(&[], 0, None))]);
    let email = Email::parse("email", "ghost@x.io").unwrap();
    let removal = Client::new(&settings, &mut io).remove_member_by_email(&email).unwrap();
    assert_eq!(removal.outcome, Removal::NotAMember);
    assert_eq!(removal.user_id, None);
    assert_eq!(io.sent.len(), 1);
}

#[test]
fn remove_by_email_deletes_the_resolved_id() {
    let settings = settings();
    let mut io = ScriptedIo::new([json(200, &page(&[("u9", "bob@x.io")], 1, None)), json(205, "")]);
    let email = Email::parse("email", "BOB@x.io").unwrap();
    let removal = Client::new(&settings, &mut io).remove_member_by_email(&email).unwrap();
    assert_eq!((removal.outcome, removal.user_id.as_deref()), (Removal::Deleted, Some("u9")));
    assert_eq!(io.sent[1].url, "https://api.gitbook.com/v1/orgs/acme/members/u9");
}

#[test]
fn empty_batches_send_nothing() {
    let settings = settings();
    let mut io = ScriptedIo::new([]);
    let mut client = Client::new(&settings, &mut io);
    let invite = Invite { emails: vec![], with_roles: vec![], default_role: None, sso: true };
    assert_eq!(client.invite(&invite).unwrap().invited, 0);
    client.update_team_members(&user("t1"), &[], &[]).unwrap();
    assert!(io.sent.is_empty());
}

#[test]
fn large_invites_are_split_into_batches_and_results_merged() {
    let settings = settings();
    let emails: Vec<Email> = (0..1500).map(|i| Email::parse("e", &format!("u{i}@x.io")).unwrap()).collect();
    let answer = |n: usize| json(200, &format!(r#"{{"users":[{}],"invited":{n}}}"#, vec!["\"id\""; n].join(",")));
    let mut io = ScriptedIo::new([answer(1000), answer(500)]);
    let invite = Invite { emails, with_roles: vec![], default_role: None, sso: true };
    let result = Client::new(&settings, &mut io).invite(&invite).unwrap();
    assert_eq!((result.invited, result.user_ids.len(), io.sent.len()), (1500, 1500, 2));
}

mod team_creation {
    use super::*;
    use crate::http::Method;
    use crate::validate::TeamTitle;

    fn title() -> TeamTitle {
        TeamTitle::parse("title", "Fresh Team").unwrap()
    }

    fn teams(items: &[(&str, &str)]) -> String {
        let items: Vec<String> =
            items.iter().map(|(id, title)| format!(r#"{{"id":"{id}","title":"{title}","members":0}}"#)).collect();
        format!(r#"{{"items":[{}],"count":{}}}"#, items.join(","), items.len())
    }

    fn methods(io: &ScriptedIo) -> Vec<Method> {
        io.sent.iter().map(|r| r.method).collect()
    }

    #[test]
    fn a_lost_answer_is_settled_by_looking_the_title_up_not_by_creating_again() {
        let settings = settings();
        let mut io = ScriptedIo::new([
            json(503, r#"{"error":{"code":503,"message":"busy"}}"#),
            // A fuzzy title search may list other teams: only an exact match counts.
            json(200, &teams(&[("t0", "Fresh Team Two"), ("t1", "fresh team")])),
        ]);
        let team = Client::new(&settings, &mut io).create_team(&title(), &[user("u1")]).unwrap();
        assert_eq!(team.id, "t1");
        assert_eq!(methods(&io), [Method::Put, Method::Get], "one creation, then a look-up");
        assert!(io.sent[1].url.ends_with("/teams?limit=1000&title=Fresh%20Team"), "{}", io.sent[1].url);
    }

    #[test]
    fn a_creation_that_did_not_happen_is_repeated_after_the_look_up() {
        let settings = settings();
        let mut io = ScriptedIo::new([
            Err(TransportError { kind: TransportErrorKind::Timeout, message: "first byte".into() }),
            json(200, &teams(&[])),
            json(201, r#"{"id":"t9","title":"Fresh Team","members":1}"#),
        ]);
        let team = Client::new(&settings, &mut io).create_team(&title(), &[]).unwrap();
        assert_eq!(team.id, "t9");
        assert_eq!(methods(&io), [Method::Put, Method::Get, Method::Put]);
    }

    #[test]
    fn a_refused_creation_is_not_looked_up_or_repeated() {
        let settings = settings();
        let mut io = ScriptedIo::new([json(422, r#"{"error":{"code":422,"message":"title too long"}}"#)]);
        let error = Client::new(&settings, &mut io).create_team(&title(), &[]).unwrap_err();
        assert_eq!(kind(&error), FailureKind::Rejected);
        assert_eq!(io.sent.len(), 1);
    }
}
