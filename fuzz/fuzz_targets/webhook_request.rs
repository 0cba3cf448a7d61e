//! The webhook's request handling, sans-IO: `webhook::route` on the request
//! head, then `webhook::parse_events` on the body, as the incoming-handler
//! glue calls them.
//!
//! An input is a request in HTTP/1.1-like text, so seeds are readable:
//!
//! ```text
//! POST /events?x=1 HTTP/1.1
//! authorization: Bearer s3cret-fuzz-0123
//!
//! {"type":"user.left","email":"ann@x.com"}
//! ```
//!
//! The request line's third word picks the configuration: `nosecret` (no
//! `WEBHOOK_SECRET`), `blank` (a blank one), anything else the secret
//! [`SECRET`]. Header lines are `name: value` (names lower-cased, values
//! decoded lossily, as the glue does); the body is everything after the first
//! empty line.
//!
//! Properties: never panics; every refusal is a well-formed JSON error whose
//! `code` is the status, from the documented set, with `allow` on 405 and
//! `www-authenticate` on 401; a request reaches `/events` or `/reconcile`
//! only with exactly one `Authorization` header that carries the secret
//! (checked against an independent reading of the rule); `/healthz` needs no
//! secret; without a secret nothing but `/healthz` is served; a verification
//! challenge is echoed trimmed, bounded and free of control characters;
//! reconcile options are in range; no reply and no `Debug` of the head shows
//! the secret unless the sender put it somewhere other than `Authorization`;
//! a body is 413 past the limit, 400 when it is not a known format, and
//! otherwise parses exactly as the Okta or generic parser alone would.
//! Under `/scim/v2` the same secret is the SCIM token: a request is let in
//! only with exactly one `Authorization` header carrying it, and every
//! refusal is a SCIM error (`application/scim+json`, the Error schema,
//! `status` as a string).
#![no_main]

use fuzz_support::check_event;
use gitbook_directory_sync::events::{generic, okta, Item};
use gitbook_directory_sync::webhook::{self, Config, Head, Reply, Route, MAX_BODY_BYTES};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const SECRET: &str = "s3cret-fuzz-0123";

fuzz_target!(|data: &[u8]| {
    let (head_bytes, body) = split_request(data);
    let head_text = String::from_utf8_lossy(head_bytes);
    let mut lines = head_text.split('\n').map(|line| line.strip_suffix('\r').unwrap_or(line));
    let mut request_line = lines.next().unwrap_or("").splitn(3, ' ');
    let (method, path, variant) =
        (request_line.next().unwrap_or(""), request_line.next().unwrap_or(""), request_line.next().unwrap_or(""));
    let headers: Vec<(String, String)> = lines
        .filter(|line| !line.is_empty())
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap_or((line, ""));
            (name.trim().to_ascii_lowercase(), value.trim_start().to_owned())
        })
        .collect();
    let secret = match variant {
        "nosecret" => None,
        "blank" => Some("   ".to_owned()),
        _ => Some(SECRET.to_owned()),
    };
    let config = Config { secret: secret.clone(), scim_token: secret.clone(), ..Config::default() };
    let head = Head { method, path, headers: &headers };

    // The secret may only show up where the sender put it themselves.
    let sender_knows_secret = method.contains(SECRET)
        || path.contains(SECRET)
        || headers.iter().any(|(n, v)| n.contains(SECRET) || (n != "authorization" && v.contains(SECRET)));
    if !sender_knows_secret {
        assert!(!format!("{head:?}").contains(SECRET), "Debug of the head shows the secret: {head:?}");
    }

    let route = webhook::route(&head, &config);
    check_route(&head, secret.as_deref(), &route);
    match route {
        Err(reply) if reply.body.get("schemas").is_some() => check_scim_error(&reply, sender_knows_secret),
        Err(reply) => check_reply(&reply, sender_knows_secret),
        Ok(Route::OktaVerification { challenge }) => {
            let first = headers.iter().find(|(n, _)| n == webhook::CHALLENGE_HEADER).map(|(_, v)| v.trim());
            assert_eq!(Some(challenge.as_str()), first, "the challenge is the first header's value, trimmed");
            assert!(!challenge.is_empty() && challenge.len() <= 1024);
            assert!(!challenge.chars().any(char::is_control), "control character in challenge {challenge:?}");
            let reply = webhook::verification_reply(&challenge);
            let echoed: Value = serde_json::from_slice(&reply.body_bytes()).unwrap();
            assert_eq!(echoed["verification"].as_str(), Some(challenge.as_str()));
        }
        Ok(Route::Health) => {
            // The service's environment as this input's configuration has
            // it: the answer says whether it is complete, never the secret.
            let env = |name: &str| match name {
                "GITBOOK_TOKEN" => Some("gb_api_fuzz".to_owned()),
                "GITBOOK_ORG" => Some("acme".to_owned()),
                "WEBHOOK_SECRET" | "SCIM_TOKEN" => secret.clone(),
                _ => None,
            };
            let reply = webhook::health::health_reply(env);
            assert!(matches!(reply.status, 200 | 503), "unexpected health status: {reply:?}");
            let text = String::from_utf8(reply.body_bytes()).expect("replies are UTF-8");
            assert!(!text.contains(SECRET), "the health answer shows the secret: {text}");
        }
        Ok(Route::Reconcile { options, .. }) => {
            let p = options.max_removal_percent;
            assert!((0.0..=100.0).contains(&p), "maxRemovalPercent {p} out of range");
        }
        Ok(Route::Events) => check_body(body, &config),
        Ok(Route::Scim(request)) => {
            assert_eq!(request.takes_body(), matches!(method, "POST" | "PUT" | "PATCH"), "{request:?}");
        }
    }
});

/// Splits at the first empty line (`\n\n` or `\r\n\r\n`); no empty line
/// means no body.
fn split_request(data: &[u8]) -> (&[u8], &[u8]) {
    for (i, window) in data.windows(2).enumerate() {
        if window == b"\n\n" {
            return (&data[..i], &data[i + 2..]);
        }
        if window == b"\n\r" && data.get(i + 2) == Some(&b'\n') {
            return (&data[..i], &data[i + 3..]);
        }
    }
    (data, &[])
}

/// The documented routing and authentication rules, read independently.
fn check_route(head: &Head, secret: Option<&str>, route: &Result<Route, Reply>) {
    let path = head.path.split(['?', '#']).next().unwrap();
    let status = route.as_ref().err().map(|reply| reply.status);
    if path == "/scim/v2" || path.starts_with("/scim/v2/") {
        check_scim_route(head, secret, route);
        return;
    }
    let (allowed, protected): (&[&str], bool) = match path {
        "/healthz" => (&["GET"], false),
        "/events" => (&["GET", "POST"], true),
        "/reconcile" => (&["POST"], true),
        _ => {
            assert_eq!(status, Some(404), "{path:?} is not a route: {route:?}");
            return;
        }
    };
    if !allowed.contains(&head.method) {
        assert_eq!(status, Some(405), "{} {path:?}: {route:?}", head.method);
        let reply = route.as_ref().unwrap_err();
        assert!(reply.headers.iter().any(|(n, v)| n == "allow" && *v == allowed.join(", ")), "{reply:?}");
        return;
    }
    if !protected {
        assert_eq!(route, &Ok(Route::Health));
        return;
    }
    let Some(secret) = secret.filter(|s| !s.trim().is_empty()) else {
        assert_eq!(status, Some(500), "served {path:?} without a configured secret: {route:?}");
        return;
    };
    let values: Vec<&str> =
        head.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("authorization")).map(|(_, v)| v.as_str()).collect();
    let authorized = match values.as_slice() {
        [value] => carries_secret(value, secret),
        _ => false,
    };
    if !authorized {
        assert_eq!(status, Some(401), "{head:?} was let in: {route:?}");
        let reply = route.as_ref().unwrap_err();
        assert!(reply.headers.iter().any(|(n, _)| n == "www-authenticate"), "{reply:?}");
        return;
    }
    match route {
        Ok(Route::Events) => assert_eq!(head.method, "POST"),
        Ok(Route::OktaVerification { .. }) => assert_eq!((path, head.method), ("/events", "GET")),
        Ok(Route::Reconcile { .. }) => assert_eq!(path, "/reconcile"),
        Ok(Route::Health) | Ok(Route::Scim(_)) => panic!("{path:?} routed to {route:?}"),
        // A GET without a usable challenge, or a bad reconcile query.
        Err(reply) => assert_eq!(reply.status, 400, "authorized request refused: {reply:?}"),
    }
}

/// The SCIM mount: its own token (the fuzzed secret here), SCIM errors.
fn check_scim_route(head: &Head, token: Option<&str>, route: &Result<Route, Reply>) {
    let status = route.as_ref().err().map(|reply| reply.status);
    let Some(token) = token.filter(|s| !s.trim().is_empty()) else {
        assert_eq!(status, Some(500), "served SCIM without a token: {route:?}");
        return;
    };
    let values: Vec<&str> =
        head.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("authorization")).map(|(_, v)| v.as_str()).collect();
    if !matches!(values.as_slice(), [value] if carries_secret(value, token)) {
        assert_eq!(status, Some(401), "{head:?} was let in: {route:?}");
        let reply = route.as_ref().unwrap_err();
        assert!(reply.headers.iter().any(|(n, _)| n == "www-authenticate"), "{reply:?}");
        return;
    }
    match route {
        Ok(route) => assert!(matches!(route, Route::Scim(_)), "{route:?}"),
        Err(reply) => assert!([400, 404, 405, 415].contains(&reply.status), "authorized SCIM request: {reply:?}"),
    }
}

fn check_scim_error(reply: &Reply, sender_knows_secret: bool) {
    assert!(reply.headers.iter().any(|(n, v)| n == "content-type" && v == "application/scim+json"), "{reply:?}");
    let body: Value = serde_json::from_slice(&reply.body_bytes()).unwrap();
    assert_eq!(body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error", "{body}");
    assert_eq!(body["status"].as_str(), Some(reply.status.to_string().as_str()), "{body}");
    assert!(!body["detail"].as_str().unwrap_or("").is_empty(), "{body}");
    assert!(sender_knows_secret || !body.to_string().contains(SECRET), "a SCIM error shows the token: {body}");
}

/// `Authorization: <secret>` or `Authorization: Bearer <secret>` (scheme in
/// any case, spaces around allowed).
fn carries_secret(value: &str, secret: &str) -> bool {
    let value = value.trim();
    if value == secret {
        return true;
    }
    let Some(scheme) = value.get(..7) else { return false };
    scheme.eq_ignore_ascii_case("bearer ") && value[7..].trim_start_matches(|c: char| c.is_ascii_whitespace()) == secret
}

fn check_reply(reply: &Reply, sender_knows_secret: bool) {
    assert!([200, 400, 401, 404, 405, 413, 500].contains(&reply.status), "unexpected status: {reply:?}");
    assert!(reply.headers.iter().any(|(n, v)| n == "content-type" && v == "application/json"), "{reply:?}");
    let bytes = reply.body_bytes();
    let text = String::from_utf8(bytes).expect("replies are UTF-8");
    if !sender_knows_secret {
        assert!(!text.contains(SECRET), "reply shows the secret: {text}");
    }
    let body: Value = serde_json::from_str(&text).unwrap();
    if reply.status != 200 {
        assert_eq!(body["error"]["code"].as_u64(), Some(u64::from(reply.status)), "{text}");
        assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{text}");
    }
}

fn check_body(body: &[u8], config: &Config) {
    let parsed = webhook::parse_events(body, config);
    if body.len() > MAX_BODY_BYTES {
        assert_eq!(parsed.map_err(|r| r.status), Err(413));
        return;
    }
    let value = serde_json::from_slice::<Value>(body);
    let items = match parsed {
        Err(reply) => {
            assert_eq!(reply.status, 400, "{reply:?}");
            check_reply(&reply, true);
            // Refused: not JSON, or each parser on its own refuses it too.
            if let Ok(value) = value {
                if okta::is_delivery(&value) {
                    assert!(okta::parse(&value, &config.groups).is_err(), "okta accepts what the webhook refused");
                } else if matches!(&value, Value::Array(_)) || value.get("type").is_some() {
                    assert!(generic::parse_value(&value).is_err(), "generic accepts what the webhook refused");
                }
            }
            return;
        }
        Ok(items) => items,
    };
    let value = value.expect("parse_events accepted a body that is not JSON");
    if okta::is_delivery(&value) {
        assert_eq!(Ok(items), okta::parse(&value, &config.groups));
        return;
    }
    assert!(matches!(&value, Value::Array(_)) || value.get("type").is_some(), "accepted an unknown format: {value}");
    let events = generic::parse_value(&value).expect("generic refuses what the webhook accepted");
    assert_eq!(items.len(), events.len());
    for (item, event) in items.iter().zip(&events) {
        match item {
            Item::Event(parsed) => assert_eq!(parsed, event),
            other => panic!("a generic event became {other:?}"),
        }
        check_event(event);
    }
}
