//! The webhook contract, as specifications.

use super::route::MAX_CHALLENGE_LEN;
use super::*;
use crate::error::{ApiFailure, Error, FailureKind};
use crate::events::okta;
use crate::events::Ignored;
use crate::events::{DirectoryEvent, Item};
use crate::events::{Event, RoleChoice};
use crate::role::Role;
use crate::sync::events::{EventResult, JoinDefaults, Status};
use crate::validate::{Email, MemberRef};
use serde_json::{json, Value};
use std::collections::HashMap;

const SECRET: &str = "hook-s3cret-value";

fn config() -> Config {
    Config { secret: Some(SECRET.into()), ..Config::default() }
}

/// Header name and value pairs, as written in tests.
type Pairs<'a> = &'a [(&'a str, &'a str)];

fn headers(pairs: Pairs) -> Vec<(String, String)> {
    pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
}

fn route_of(method: &str, path: &str, pairs: &[(&str, &str)], config: &Config) -> Result<Route, Reply> {
    let headers = headers(pairs);
    route(&Head { method, path, headers: &headers }, config)
}

fn header<'r>(reply: &'r Reply, name: &str) -> Option<&'r str> {
    reply.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

fn message(reply: &Reply) -> &str {
    assert_eq!(reply.body["error"]["code"], reply.status, "{reply:?}");
    reply.body["error"]["message"].as_str().unwrap()
}

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name| map.get(name).cloned()
}

fn invalid_field(error: Error) -> String {
    match error {
        Error::InvalidInput { field, .. } => field,
        other => panic!("{other:?}"),
    }
}

// --- configuration ---

#[test]
fn configuration_defaults_to_read_sso_and_no_mapping() {
    let config = Config::from_env(env(&[("WEBHOOK_SECRET", SECRET)])).unwrap();
    assert_eq!(config.secret.as_deref(), Some(SECRET));
    assert_eq!(config.defaults, JoinDefaults { role: Some(Role::Read), sso: true });
    assert!(config.groups.is_empty());
}

#[test]
fn configuration_reads_every_variable() {
    let config = Config::from_env(env(&[
        ("WEBHOOK_SECRET", "  s \n"),
        ("GITBOOK_DEFAULT_ROLE", "Guest"),
        ("GITBOOK_SSO", "FALSE"),
        ("GITBOOK_GROUP_TEAMS", "00g1=team1"),
    ]))
    .unwrap();
    assert_eq!(config.secret.as_deref(), Some("s"), "trimmed");
    assert_eq!(config.defaults, JoinDefaults { role: None, sso: false });
    assert!(!config.groups.is_empty());
    let edit = Config::from_env(env(&[("GITBOOK_DEFAULT_ROLE", "edit"), ("GITBOOK_SSO", "true")])).unwrap();
    assert_eq!(edit.defaults, JoinDefaults { role: Some(Role::Edit), sso: true });
}

#[test]
fn blank_variables_count_as_unset() {
    let config = Config::from_env(env(&[
        ("WEBHOOK_SECRET", "  "),
        ("GITBOOK_DEFAULT_ROLE", ""),
        ("GITBOOK_SSO", " "),
        ("GITBOOK_GROUP_TEAMS", ""),
    ]))
    .unwrap();
    assert_eq!(config.secret, None);
    assert_eq!(config.defaults, JoinDefaults::default());
}

#[test]
fn bad_configuration_names_the_variable() {
    let cases = [
        (("GITBOOK_DEFAULT_ROLE", "owner"), "GITBOOK_DEFAULT_ROLE"),
        (("GITBOOK_SSO", "yes"), "GITBOOK_SSO"),
        (("GITBOOK_GROUP_TEAMS", "00g1=../x"), "GITBOOK_GROUP_TEAMS"),
        (("WEBHOOK_SECRET", "a\u{7}b"), "WEBHOOK_SECRET"),
    ];
    for (pair, field) in cases {
        assert_eq!(invalid_field(Config::from_env(env(&[pair])).unwrap_err()), field, "{pair:?}");
    }
    let error = Config::from_env(env(&[("WEBHOOK_SECRET", "a\u{7}b")])).unwrap_err().to_string();
    assert!(!error.contains("a\u{7}b"), "the secret is not echoed: {error}");
}

#[test]
fn debug_output_never_shows_the_secret() {
    let shown = format!("{:?}", config());
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(shown.contains("[redacted]"), "{shown}");
}

#[test]
fn a_request_head_debug_output_never_shows_the_authorization_header() {
    let headers = headers(&[("authorization", SECRET), ("x-okta-verification-challenge", "c")]);
    let shown = format!("{:?}", Head { method: "GET", path: "/events", headers: &headers });
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(shown.contains("[redacted]") && shown.contains("x-okta-verification-challenge"), "{shown}");
}

// --- routes ---

#[test]
fn health_answers_without_authentication_even_when_no_secret_is_set() {
    assert_eq!(route_of("GET", "/healthz", &[], &Config::default()), Ok(Route::Health));
    assert_eq!(route_of("GET", "/healthz?probe=1", &[], &config()), Ok(Route::Health));
    let complete = env(&[("GITBOOK_TOKEN", "t"), ("GITBOOK_ORG", "acme"), ("WEBHOOK_SECRET", SECRET)]);
    assert_eq!(health::health_reply(complete).status, 200);
}

#[test]
fn unknown_paths_are_404() {
    for path in ["/", "/event", "/events/", "/events/x", "/EVENTS", "/healthz/", ""] {
        let reply = route_of("POST", path, &[("authorization", SECRET)], &config()).unwrap_err();
        assert_eq!(reply.status, 404, "{path:?}");
        assert!(message(&reply).contains("POST /events"), "{reply:?}");
    }
}

#[test]
fn known_paths_with_another_method_are_405_with_allow() {
    for (method, path, allow) in
        [("POST", "/healthz", "GET"), ("PUT", "/events", "GET, POST"), ("DELETE", "/events", "GET, POST")]
    {
        let reply = route_of(method, path, &[("authorization", SECRET)], &config()).unwrap_err();
        assert_eq!(reply.status, 405, "{method} {path}");
        assert_eq!(header(&reply, "allow"), Some(allow));
        assert!(message(&reply).contains(allow));
    }
    // Methods are case-sensitive (RFC 9110).
    assert_eq!(route_of("post", "/events", &[("authorization", SECRET)], &config()).unwrap_err().status, 405);
}

#[test]
fn a_post_with_the_secret_is_a_delivery() {
    for authorization in [SECRET, "Bearer hook-s3cret-value", "bearer hook-s3cret-value"] {
        assert_eq!(route_of("POST", "/events", &[("authorization", authorization)], &config()), Ok(Route::Events));
    }
    assert_eq!(route_of("POST", "/events?source=okta", &[("authorization", SECRET)], &config()), Ok(Route::Events));
    // Names are meant to arrive lower-cased, but any case is accepted.
    assert_eq!(route_of("POST", "/events", &[("Authorization", SECRET)], &config()), Ok(Route::Events));
}

#[test]
fn okta_verification_echoes_the_challenge_once_authenticated() {
    let route = route_of(
        "GET",
        "/events",
        &[("authorization", SECRET), ("x-okta-verification-challenge", "GxNq1Qh0YF3Qm7")],
        &config(),
    );
    assert_eq!(route, Ok(Route::OktaVerification { challenge: "GxNq1Qh0YF3Qm7".into() }));
    let reply = verification_reply("GxNq1Qh0YF3Qm7");
    assert_eq!((reply.status, reply.body.clone()), (200, json!({"verification": "GxNq1Qh0YF3Qm7"})));
    assert_eq!(header(&reply, "content-type"), Some("application/json"));
    // Without the secret, no verification.
    let unauthenticated = route_of("GET", "/events", &[("x-okta-verification-challenge", "c")], &config());
    assert_eq!(unauthenticated.unwrap_err().status, 401);
}

#[test]
fn a_get_without_a_usable_challenge_is_400() {
    let reply = route_of("GET", "/events", &[("authorization", SECRET)], &config()).unwrap_err();
    assert_eq!(reply.status, 400);
    assert!(message(&reply).contains("X-Okta-Verification-Challenge"), "{reply:?}");
    let long = "c".repeat(MAX_CHALLENGE_LEN + 1);
    for bad in ["", "  ", "a\u{1}b", long.as_str()] {
        let pairs = [("authorization", SECRET), ("x-okta-verification-challenge", bad)];
        assert_eq!(route_of("GET", "/events", &pairs, &config()).unwrap_err().status, 400, "{bad:?}");
    }
}

#[test]
fn missing_wrong_or_repeated_authorization_is_401() {
    let cases: [&[(&str, &str)]; 6] = [
        &[],
        &[("authorization", "")],
        &[("authorization", "hook-s3cret-valuE")],
        &[("authorization", "Basic hook-s3cret-value")],
        &[("x-authorization", SECRET)],
        &[("authorization", SECRET), ("authorization", SECRET)],
    ];
    for pairs in cases {
        for method in ["GET", "POST"] {
            let reply = route_of(method, "/events", pairs, &config()).unwrap_err();
            assert_eq!(reply.status, 401, "{method} {pairs:?}");
            assert!(message(&reply).contains("Authorization"), "{reply:?}");
            assert_eq!(header(&reply, "www-authenticate"), Some("Bearer realm=\"webhook\""));
        }
    }
}

#[test]
fn without_a_configured_secret_events_are_refused_with_500() {
    for secret in [None, Some(String::new()), Some("  ".to_string())] {
        let config = Config { secret, ..Config::default() };
        for method in ["GET", "POST"] {
            let reply = route_of(method, "/events", &[("authorization", "")], &config).unwrap_err();
            assert_eq!(reply.status, 500);
            assert!(message(&reply).contains("set WEBHOOK_SECRET"), "{reply:?}");
        }
    }
}

#[test]
fn no_reply_ever_contains_the_secret_or_the_authorization_header() {
    let sent = "Bearer guess-1234";
    let heads: [(&str, &str, Pairs); 7] = [
        ("POST", "/events", &[("authorization", sent)]),
        ("GET", "/events", &[("authorization", sent), ("x-okta-verification-challenge", "c")]),
        ("GET", "/events", &[("authorization", SECRET)]),
        ("PUT", "/events", &[("authorization", SECRET)]),
        ("POST", "/nowhere", &[("authorization", SECRET)]),
        ("POST", "/events", &[("authorization", SECRET), ("authorization", sent)]),
        ("POST", "/healthz", &[("authorization", SECRET)]),
    ];
    for (method, path, pairs) in heads {
        let reply = route_of(method, path, pairs, &config()).unwrap_err();
        let text = format!("{} {:?}", String::from_utf8(reply.body_bytes()).unwrap(), reply.headers);
        assert!(!text.contains(SECRET) && !text.contains("guess-1234"), "{text}");
    }
}

// --- bodies ---

fn okta_delivery(events: Value) -> Vec<u8> {
    serde_json::to_vec(
        &json!({"eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "data": {"events": events}}),
    )
    .unwrap()
}

fn bad_request(body: &[u8]) -> String {
    let reply = parse_events(body, &config()).unwrap_err();
    assert_eq!(reply.status, 400, "{reply:?}");
    message(&reply).to_owned()
}

#[test]
fn an_okta_delivery_is_parsed_with_the_configured_group_mapping() {
    let config = Config { groups: okta::GroupMapping::parse("Engineering=teamEng").unwrap(), ..config() };
    let body = okta_delivery(json!([
        {"uuid": "e2", "published": "2024-01-01T00:00:02Z", "eventType": "group.user_membership.add",
         "target": [{"type": "User", "alternateId": "ann@x.com"}, {"id": "00g1", "type": "UserGroup", "displayName": "Engineering"}]},
        {"uuid": "e1", "published": "2024-01-01T00:00:01Z", "eventType": "user.lifecycle.create",
         "target": [{"type": "User", "alternateId": "ann@x.com"}]},
        {"uuid": "e3", "published": "2024-01-01T00:00:03Z", "eventType": "user.session.start", "target": []},
    ]));
    let items = parse_events(&body, &config).unwrap();
    let ann = Email::parse("email", "ann@x.com").unwrap();
    assert_eq!(
        items[0],
        Item::Event(DirectoryEvent {
            id: Some("e1".into()),
            event: Event::Joined { email: ann.clone(), role: RoleChoice::Default, sso: None }
        })
    );
    let Item::Event(DirectoryEvent { event: Event::GroupChanged { team, add, .. }, .. }) = &items[1] else {
        panic!("{items:?}")
    };
    assert_eq!(team, &crate::events::TeamRef::Id(crate::validate::GitBookId::parse("t", "teamEng").unwrap()));
    assert_eq!(add, &[MemberRef::Email(ann)]);
    assert!(matches!(&items[2], Item::Ignored { .. }));
}

#[test]
fn generic_events_become_items_in_order() {
    let one = parse_events(br#"{"id": "g1", "type": "user.left", "email": "bob@x.com"}"#, &config()).unwrap();
    assert!(matches!(&one[..], [Item::Event(DirectoryEvent { event: Event::Left { .. }, .. })]));
    let many = parse_events(
        br#"[{"type": "user.joined", "email": "a@x.com"}, {"type": "user.role_changed", "userId": "u1", "role": "edit"}]"#,
        &config(),
    )
    .unwrap();
    assert_eq!(many.len(), 2);
    assert!(matches!(&many[1], Item::Event(DirectoryEvent { event: Event::RoleChanged { .. }, .. })));
    assert_eq!(parse_events(b"[]", &config()).unwrap(), []);
}

#[test]
fn bodies_over_the_limit_are_413() {
    let mut body = b"[".to_vec();
    body.resize(MAX_BODY_BYTES + 1, b' ');
    let reply = parse_events(&body, &config()).unwrap_err();
    assert_eq!(reply.status, 413);
    assert!(message(&reply).contains("1048576 bytes"));
    assert_eq!(Reply::too_large(MAX_BODY_BYTES), reply);
}

#[test]
fn malformed_json_is_400_naming_the_problem() {
    for body in [&b""[..], b"{", b"not json", b"\xff\xfe", b"[1,]"] {
        let message = bad_request(body);
        assert!(message.starts_with("invalid body: is not valid JSON"), "{message}");
    }
}

#[test]
fn invalid_fields_in_either_format_are_400_naming_the_field() {
    assert!(bad_request(br#"[{"type": "user.joined", "email": "nope"}]"#).starts_with("invalid events[0].email:"));
    assert!(bad_request(br#"{"type": "user.quit"}"#).starts_with("invalid event.type:"));
    assert!(bad_request(&okta_delivery(json!({}))).starts_with("invalid data.events:"));
    let missing_uuid = okta_delivery(json!([{"published": "2024-01-01T00:00:00Z", "eventType": "x"}]));
    assert_eq!(bad_request(&missing_uuid), "invalid data.events[0].uuid: is required");
}

#[test]
fn valid_json_in_neither_format_is_an_unknown_format() {
    for body in [
        &br#"{"email": "a@x.com"}"#[..],
        br#"{"eventType": "user.lifecycle.create", "data": {"events": []}}"#,
        b"42",
        br#""user.joined""#,
        b"null",
        b"{}",
    ] {
        let message = bad_request(body);
        assert!(message.starts_with("invalid body: is in no known format"), "{message}");
        assert!(message.contains("com.okta.event_hook") && message.contains("\"type\""), "{message}");
    }
}

// --- results ---

fn result(id: &str, kind: &'static str, status: Status) -> EventResult {
    let error = (status == Status::Failed).then(|| {
        Error::Api(
            FailureKind::RateLimited,
            ApiFailure {
                operation: "invite users",
                status: Some(429),
                message: "API rate limit exceeded".into(),
                attempts: 5,
                elapsed_ms: 62_000,
                retry_after_ms: Some(30_000),
                effect_unknown: false,
            },
        )
    });
    let detail = error.as_ref().map_or_else(|| format!("{id} done"), Error::to_string);
    EventResult { id: Some(id.into()), kind: kind.into(), status, detail, error }
}

fn left(id: &str) -> DirectoryEvent {
    DirectoryEvent {
        id: Some(id.into()),
        event: Event::Left { person: MemberRef::Email(Email::parse("e", "bob@x.com").unwrap()) },
    }
}

fn statuses(reply: &Reply) -> Vec<&str> {
    reply.body["results"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect()
}

#[test]
fn everything_applied_or_ignored_is_200() {
    let ignored = [Ignored {
        id: Some("o1".into()),
        event_type: "user.session.start".into(),
        reason: "no GitBook action".into(),
    }];
    let reply = results_reply(
        &[result("a", "user.joined", Status::Applied), result("b", "user.left", Status::Ignored)],
        &ignored,
        &[],
    );
    assert_eq!(reply.status, 200);
    assert_eq!(header(&reply, "retry-after"), None);
    assert_eq!(
        reply.body,
        json!({
            "results": [
                {"id": "a", "type": "user.joined", "status": "applied", "detail": "a done"},
                {"id": "b", "type": "user.left", "status": "ignored", "detail": "b done"},
                {"id": "o1", "type": "user.session.start", "status": "ignored", "detail": "no GitBook action"},
            ],
            "applied": 1, "ignored": 2, "failed": 0, "deferred": 0,
        })
    );
}

#[test]
fn nothing_to_do_is_200() {
    let reply = results_reply(&[], &[], &[]);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, json!({"results": [], "applied": 0, "ignored": 0, "failed": 0, "deferred": 0}));
}

#[test]
fn some_failures_are_207_and_say_why() {
    let reply = results_reply(
        &[result("a", "user.joined", Status::Applied), result("b", "user.left", Status::Failed)],
        &[],
        &[],
    );
    assert_eq!(reply.status, 207);
    let failed = &reply.body["results"][1];
    assert_eq!(failed["status"], "failed");
    assert_eq!(
        failed["error"],
        json!({"kind": "rate-limited", "operation": "invite users", "status": 429, "message": "API rate limit exceeded",
               "attempts": 5, "elapsedMs": 62_000, "retryAfterMs": 30_000})
    );
    assert!(failed["detail"].as_str().unwrap().contains("gave up after 5 attempts"));
    assert!(reply.body["results"][0].get("error").is_none(), "only failures carry an error");
    assert_eq!((reply.body["applied"].clone(), reply.body["failed"].clone()), (json!(1), json!(1)));
    // A result that is ignored (not failed) also makes it partial.
    let partial =
        results_reply(&[result("a", "user.left", Status::Ignored), result("b", "user.left", Status::Failed)], &[], &[]);
    assert_eq!(partial.status, 207);
}

#[test]
fn every_attempted_event_failing_is_502() {
    let parse_time_ignored =
        [Ignored { id: Some("o1".into()), event_type: "user.session.start".into(), reason: "n/a".into() }];
    let reply = results_reply(
        &[result("a", "user.joined", Status::Failed), result("b", "user.left", Status::Failed)],
        &parse_time_ignored,
        &[],
    );
    assert_eq!(reply.status, 502);
    assert_eq!(reply.body["failed"], 2);
    assert_eq!(statuses(&reply), ["failed", "failed", "ignored"]);
}

#[test]
fn deferred_events_are_503_with_retry_after_whatever_else_happened() {
    for results in [
        vec![result("a", "user.joined", Status::Applied)],
        vec![result("a", "user.joined", Status::Failed)],
        vec![result("a", "user.joined", Status::Applied), result("b", "user.left", Status::Failed)],
        vec![],
    ] {
        let reply = results_reply(&results, &[], &[&left("d1"), &left("d2")]);
        assert_eq!(reply.status, 503, "{results:?}");
        // A failed result here met GitBook's rate limit, which named 30 s.
        let gitbook_wait = results.iter().any(|r| r.status == Status::Failed);
        assert_eq!(header(&reply, "retry-after"), Some(if gitbook_wait { "30" } else { "5" }));
        assert_eq!(reply.body["deferred"], 2);
        let deferred = &reply.body["results"][results.len()];
        assert_eq!((deferred["id"].clone(), deferred["type"].clone()), (json!("d1"), json!("user.left")));
        assert_eq!(deferred["status"], "deferred");
        assert!(deferred["detail"].as_str().unwrap().contains("redeliver"));
    }
}

#[test]
fn results_list_applied_then_deferred_then_parse_time_ignored() {
    let ignored = [Ignored { id: None, event_type: "user.session.start".into(), reason: "no GitBook action".into() }];
    let reply = results_reply(&[result("a", "user.joined", Status::Applied)], &ignored, &[&left("d")]);
    assert_eq!(statuses(&reply), ["applied", "deferred", "ignored"]);
    assert_eq!(reply.body["results"][2]["id"], Value::Null);
}

#[test]
fn an_input_error_at_apply_time_is_reported_as_invalid_input() {
    let mut failed = result("a", "user.role_changed", Status::Failed);
    failed.error = Some(Error::invalid("user-id", "is empty; expected a GitBook ID"));
    let reply = results_reply(&[failed], &[], &[]);
    assert_eq!(
        reply.body["results"][0]["error"],
        json!({"kind": "invalid-input", "field": "user-id", "message": "is empty; expected a GitBook ID"})
    );
}

#[test]
fn every_reply_is_json() {
    let replies = [
        results_reply(&[], &[], &[]),
        verification_reply("c"),
        health::health_reply(|_| None),
        Reply::error(418, "no"),
        Reply::too_large(MAX_BODY_BYTES),
    ];
    for reply in replies {
        assert_eq!(header(&reply, "content-type"), Some("application/json"), "{reply:?}");
        let parsed: Value = serde_json::from_slice(&reply.body_bytes()).unwrap();
        assert_eq!(parsed, reply.body);
    }
}

#[test]
fn a_bad_deadline_is_a_configuration_error_naming_the_variable() {
    assert_eq!(Config::from_env(env(&[])).unwrap().deadline, config::DEFAULT_DEADLINE);
    let set = Config::from_env(env(&[(ENV_DEADLINE_MS, " 600 ")])).unwrap();
    assert_eq!(set.deadline, std::time::Duration::from_millis(600));
    for bad in ["0", "-5", "2.5", "soon", "60001"] {
        let error = Config::from_env(env(&[(ENV_DEADLINE_MS, bad)])).unwrap_err();
        assert_eq!(invalid_field(error), ENV_DEADLINE_MS, "{bad}");
    }
}

#[test]
fn scim_and_reconcile_have_budgets_of_their_own() {
    use config::{ENV_RECONCILE_DEADLINE_MS, ENV_SCIM_DEADLINE_MS};
    let defaults = Config::from_env(env(&[])).unwrap();
    assert_eq!(defaults.scim_deadline, std::time::Duration::from_secs(45), "under Entra's 60 s");
    assert_eq!(defaults.reconcile_deadline, config::DEFAULT_RECONCILE_DEADLINE);
    let set = Config::from_env(env(&[(ENV_SCIM_DEADLINE_MS, "1500"), (ENV_RECONCILE_DEADLINE_MS, "3600000")])).unwrap();
    assert_eq!(set.scim_deadline, std::time::Duration::from_millis(1500));
    assert_eq!(set.reconcile_deadline, std::time::Duration::from_secs(3600));
    for (name, bad) in
        [(ENV_SCIM_DEADLINE_MS, "60001"), (ENV_RECONCILE_DEADLINE_MS, "3600001"), (ENV_SCIM_DEADLINE_MS, "0")]
    {
        let error = Config::from_env(env(&[(name, bad)])).unwrap_err();
        assert_eq!(invalid_field(error), name, "{bad}");
    }
}

#[test]
fn the_reconcile_query_is_percent_decoded_and_a_repeated_key_is_refused() {
    let route = route_of(
        "POST",
        "/reconcile?strategy=%73ync&maxRemovalPercent=2%2E5&apply",
        &[("authorization", SECRET)],
        &config(),
    );
    let Ok(Route::Reconcile { apply, options, .. }) = route else { panic!("{route:?}") };
    assert!(apply);
    assert_eq!((options.strategy, options.max_removal_percent), (crate::sync::reconcile::Strategy::Sync, 2.5));

    let twice = route_of("POST", "/reconcile?apply=0&apply=1", &[("authorization", SECRET)], &config()).unwrap_err();
    assert_eq!(twice.status, 400);
    assert!(message(&twice).contains("\"apply\" is given more than once"), "{twice:?}");
    let broken = route_of("POST", "/reconcile?strategy=%zz", &[("authorization", SECRET)], &config()).unwrap_err();
    assert_eq!(broken.status, 400);
    let unknown = route_of("POST", "/reconcile?strategy=mirror", &[("authorization", SECRET)], &config()).unwrap_err();
    assert!(message(&unknown).contains("use push or sync"), "{unknown:?}");
}

/// `respond` over a scripted GitBook: what the incoming handler does once
/// the body is read.
mod respond {
    use super::*;
    use crate::gitbook::fake::{json as answer, ScriptedIo};

    fn gitbook_env(name: &str) -> Option<String> {
        match name {
            "GITBOOK_TOKEN" => Some("tok".into()),
            "GITBOOK_ORG" => Some("acme".into()),
            _ => None,
        }
    }

    #[test]
    fn events_past_the_deadline_are_deferred_not_sent() {
        // The first removal is answered as the 5 ms budget runs out, so the
        // second is deferred.
        let config = Config { deadline: std::time::Duration::from_millis(5), ..config() };
        let body = br#"[{"type":"user.left","userId":"u1","id":"a"},{"type":"user.left","userId":"u2","id":"b"}]"#;
        let mut io = ScriptedIo::new([answer(205, "")]);
        io.delays = [std::time::Duration::from_millis(5)].into();
        io.deadline = config.deadline;
        let reply = respond(Route::Events, body.to_vec(), &config, gitbook_env, &mut io);
        assert_eq!(reply.status, 503, "{reply:?}");
        assert_eq!((reply.body["applied"].clone(), reply.body["deferred"].clone()), (json!(1), json!(1)));
        assert_eq!(io.sent.len(), 1);
    }

    #[test]
    fn a_reconcile_that_outlasts_its_budget_is_a_504_at_the_budget() {
        let config = Config { reconcile_deadline: std::time::Duration::from_millis(5), ..config() };
        let mut io = ScriptedIo::new([answer(200, r#"{"items":[],"count":0}"#)]);
        // GitBook would answer at 10 ms; the budget ends at 5.
        io.deadline = config.reconcile_deadline;
        let route = Route::Reconcile { apply: false, options: Default::default(), source: None };
        let reply = respond(route, br#"{"users": []}"#.to_vec(), &config, gitbook_env, &mut io);
        assert_eq!(reply.status, 504, "{reply:?}");
        assert_eq!(reply.body["error"]["cause"]["kind"], "deadline-exceeded");
        assert_eq!((io.sent.len(), io.abandoned.len()), (1, 1));
        assert_eq!(io.now, config.reconcile_deadline);
    }

    #[test]
    fn a_delivery_without_gitbook_settings_is_a_500_and_sends_nothing() {
        let body = br#"{"type":"user.left","userId":"u1"}"#;
        let mut io = ScriptedIo::new([]);
        let reply = respond(Route::Events, body.to_vec(), &config(), |_| None, &mut io);
        assert_eq!(reply.status, 500);
        assert!(message(&reply).contains("misconfigured"), "{reply:?}");
        assert!(io.sent.is_empty());
    }

    #[test]
    fn reconcile_errors_carry_the_one_error_encoding_with_the_status_of_whose_fault_it_is() {
        let mut io = ScriptedIo::new([]);
        let bad = respond(
            Route::Reconcile { apply: false, options: Default::default(), source: None },
            b"{".to_vec(),
            &config(),
            gitbook_env,
            &mut io,
        );
        assert_eq!(bad.status, 400);
        assert_eq!(bad.body["error"]["cause"]["kind"], "invalid-input");
        assert_eq!(bad.body["error"]["cause"]["field"], "body");
        assert!(io.sent.is_empty());

        let mut io = ScriptedIo::new([answer(401, r#"{"error":{"code":401,"message":"no access"}}"#)]);
        let upstream = respond(
            Route::Reconcile { apply: false, options: Default::default(), source: None },
            br#"{"users":[]}"#.to_vec(),
            &config(),
            gitbook_env,
            &mut io,
        );
        assert_eq!(upstream.status, 502, "{upstream:?}");
        assert_eq!(upstream.body["error"]["cause"]["kind"], "unauthorized");
        assert_eq!(upstream.body["error"]["cause"]["message"], "no access");
        assert_eq!(io.sent.len(), 1, "a 401 is not retried");
    }

    fn okta_env(name: &str) -> Option<String> {
        match name {
            "OKTA_ORG_URL" => Some("https://acme.okta.test".into()),
            "OKTA_API_TOKEN" => Some("00okta_SECRET".into()),
            other => gitbook_env(other),
        }
    }

    #[test]
    fn reconcile_with_a_source_reads_the_directory_with_the_services_settings() {
        let route = route_of("POST", "/reconcile?source=okta&apply", &[("authorization", SECRET)], &config());
        let Ok(Route::Reconcile { source, apply, .. }) = route else { panic!("{route:?}") };
        assert_eq!((source, apply), (Some(crate::sources::SourceKind::Okta), true));
        let bad = route_of("POST", "/reconcile?source=ldap", &[("authorization", SECRET)], &config()).unwrap_err();
        assert_eq!(bad.status, 400);

        // A refused token: 502 naming Okta, nothing sent to GitBook.
        let refused = r#"{"errorCode":"E0000011","errorSummary":"Invalid token provided"}"#;
        let mut io = ScriptedIo::new([answer(401, refused), answer(401, refused)]);
        let source = Some(crate::sources::SourceKind::Okta);
        let rules = br#"{"groupTeams": {"eng": "Engineering"}}"#.to_vec();
        let reply = respond(
            Route::Reconcile { apply: true, options: Default::default(), source },
            rules.clone(),
            &config(),
            okta_env,
            &mut io,
        );
        assert_eq!(reply.status, 502, "{reply:?}");
        assert!(message(&reply).contains("Okta refused the credentials"), "{reply:?}");
        assert!(!format!("{reply:?}").contains("00okta_SECRET"));
        assert!(io.sent.iter().all(|r| r.url.starts_with("https://acme.okta.test/")));

        // No token configured: the service is misconfigured; nothing is sent.
        let mut io = ScriptedIo::new([]);
        let reply = respond(
            Route::Reconcile { apply: false, options: Default::default(), source },
            rules,
            &config(),
            |name| if name == "OKTA_API_TOKEN" { None } else { okta_env(name) },
            &mut io,
        );
        assert_eq!(reply.status, 500, "{reply:?}");
        assert!(message(&reply).contains("OKTA_API_TOKEN"), "{reply:?}");
        assert!(io.sent.is_empty());
    }
}

// --- the request line ---

/// Serves one request over a scripted GitBook; the reply and the log lines.
fn served(
    method: &str,
    path: &str,
    pairs: Pairs,
    body: &str,
    answers: Vec<crate::gitbook::fake::Answer>,
) -> (Reply, Vec<Value>) {
    let headers = headers(pairs);
    let head = Head { method, path, headers: &headers };
    let environment = env(&[("GITBOOK_TOKEN", "gb_LINE_TOKEN"), ("GITBOOK_ORG", "acme"), ("WEBHOOK_SECRET", SECRET)]);
    let mut io = crate::gitbook::fake::ScriptedIo::new(answers);
    let mut lines: Vec<String> = Vec::new();
    let reply = serve(&head, |_| Ok(body.as_bytes().to_vec()), environment, &mut io, &mut lines);
    for line in &lines {
        assert!(!line.contains("gb_LINE_TOKEN") && !line.contains(SECRET) && !line.contains("wrong-one"), "{line}");
    }
    (reply, lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect())
}

#[test]
fn every_request_gets_one_request_line_and_its_id_back() {
    let (reply, lines) = served("GET", "/healthz", &[("x-request-id", "probe-1")], "", vec![]);
    assert_eq!((reply.status, header(&reply, "x-request-id")), (200, Some("probe-1")));
    assert_eq!(lines.len(), 1);
    assert_eq!(
        (&lines[0]["requestId"], &lines[0]["route"], &lines[0]["status"]),
        (&json!("probe-1"), &json!("/healthz"), &json!(200))
    );

    let (reply, lines) = served("POST", "/events", &[("authorization", "wrong-one")], "[]", vec![]);
    assert_eq!(reply.status, 401);
    assert_eq!((lines.len(), &lines[0]["level"], &lines[0]["status"]), (1, &json!("warn"), &json!(401)));
    assert_eq!(lines[0]["outcome"], "the Authorization header does not match the configured webhook secret");
    assert_eq!(header(&reply, "x-request-id").map(str::len), Some(32), "a new id when none is given");

    let event = r#"{"id":"e1","type":"user.left","userId":"u1"}"#;
    let (reply, lines) =
        served("POST", "/events", &[("authorization", SECRET)], event, vec![crate::gitbook::fake::json(205, "")]);
    assert_eq!(reply.status, 200);
    let kinds: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["change", "request"]);
    assert_eq!(lines[1]["outcome"], "1 applied, 0 ignored, 0 failed, 0 deferred");
    assert_eq!((&lines[1]["gitbookRequests"], &lines[1]["changes"]), (&json!(1), &json!(1)));
}

#[test]
fn scim_ids_which_carry_emails_are_logged_as_a_template() {
    assert_eq!(route_template("/scim/v2/Users/YW5uQHguaW8"), "/scim/v2/Users/{id}");
    assert_eq!(route_template("/scim/v2/Users"), "/scim/v2/Users");
    assert_eq!(route_template("/scim/v2"), "/scim/v2");
    assert_eq!(route_template("/events"), "/events");
}
