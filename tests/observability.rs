//! The logs as an operator reads them: the component under the real
//! `wasmtime serve --no-logging-prefix`, its stderr parsed line by line as
//! JSON. One request line per request with the status the client saw; one
//! audit line per write the GitBook stand-in received (an Okta hook
//! delivery, a SCIM lifecycle, a reconcile); no token, secret or
//! `Authorization` value in any line at any level; `/healthz` answering
//! from the configuration alone.

use host_test::component_path;
use host_test::standin::{Org, RecordedRequest, Role, StandIn};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// Real-looking secrets, so a leak of any of them is found by a plain search.
const TOKEN: &str = "gb_api_7Qx2LmN9vB4kR8sT1wY6zA3cD5eF0gH";
const SECRET: &str = "whsec_Kp3Vn8Qr2Lx7Tz4Mb9Wc";
const SCIM_TOKEN: &str = "scim_Jd6Hs1Fg8Ka3Pq5Rt0Uv";
/// What a client presents that is wrong: never logged either.
const WRONG: &str = "presented_Zz9Yy8Xx7Ww6";
/// A value found only in request bodies: bodies are never logged.
const BODY_MARKER: &str = "Body-Marker-Qq4Ee2";

fn org() -> Org {
    Org::new("acme", TOKEN)
        .with_member("alice@acme.test", "Alice Anderson", Some(Role::Admin))
        .with_member("bob@acme.test", "Bob Brown", Some(Role::Edit))
        .with_member("dave@acme.test", "Dave Dubois", Some(Role::Read))
        .with_member("frank@acme.test", "Frank Fischer", Some(Role::Comment))
        .with_team("Support", &["dave@acme.test", "frank@acme.test"])
        .with_team("Engineering", &["alice@acme.test"])
}

struct Server {
    child: Child,
    port: u16,
    /// Every stderr line so far.
    lines: Arc<Mutex<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `wasmtime serve` with the stand-in's settings, both secrets and `env`.
fn serve(standin: &StandIn, env: &[(&str, &str)]) -> Server {
    let mut settings = vec![
        format!("GITBOOK_TOKEN={TOKEN}"),
        "GITBOOK_ORG=acme".into(),
        format!("GITBOOK_API_URL={}", standin.base_url()),
        "GITBOOK_ALLOW_INSECURE_HTTP=1".into(),
        format!("WEBHOOK_SECRET={SECRET}"),
        format!("SCIM_TOKEN={SCIM_TOKEN}"),
    ];
    settings.extend(env.iter().map(|(k, v)| format!("{k}={v}")));
    start(&settings)
}

fn start(env: &[String]) -> Server {
    let program = std::env::var("WASMTIME").unwrap_or_else(|_| "wasmtime".into());
    let port = free_port();
    let mut command = Command::new(program);
    command.args(["serve", "-S", "cli", "--no-logging-prefix", "--addr", &format!("127.0.0.1:{port}")]);
    for pair in env {
        command.args(["--env", pair]);
    }
    let mut child = command
        .arg(component_path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wasmtime serve starts (install it with `cargo install wasmtime-cli@48.0.8 --locked`)");
    let lines = Arc::new(Mutex::new(Vec::new()));
    let stderr = child.stderr.take().unwrap();
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    let server = Server { child, port, lines };
    let started = Instant::now();
    while request(port, "GET", "/healthz", &[("X-Request-Id", "startup")], "").is_none() {
        assert!(started.elapsed() < Duration::from_secs(60), "wasmtime serve did not come up on port {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

impl Server {
    /// The component's lines (parsed), once the request line of `id` is in:
    /// the host's own "Serving HTTP on …" line is the only other one.
    fn lines_until(&self, id: &str) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let lines = self.lines.lock().unwrap().clone();
            let parsed: Vec<Value> = lines
                .iter()
                .filter(|l| !l.starts_with("Serving HTTP on"))
                .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
                .collect();
            if parsed.iter().any(|l| l["type"] == "request" && l["requestId"] == id) {
                return parsed;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "no request line for {id}: {lines:#?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn raw_lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Sends a request named `id`; its status.
    fn send(&self, id: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, Vec<u8>) {
        let mut all = vec![("X-Request-Id", id)];
        all.extend_from_slice(headers);
        request(self.port, method, path, &all, body).expect("an answer")
    }
}

/// A minimal HTTP/1.1 client: one request, `Connection: close`.
fn request(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Option<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body.as_bytes()).ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let mut body = raw[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body)?;
    }
    Some((status, body))
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size = usize::from_str_radix(std::str::from_utf8(&data[..line_end]).ok()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

fn request_line<'a>(lines: &'a [Value], id: &str) -> &'a Value {
    let mine: Vec<&Value> = lines.iter().filter(|l| l["type"] == "request" && l["requestId"] == id).collect();
    assert_eq!(mine.len(), 1, "one request line for {id}: {mine:#?}");
    mine[0]
}

fn okta_delivery(event_id: &str) -> Value {
    json!({
        "eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "contentType": "application/json",
        "eventId": event_id,
        "data": {"events": [
            {"uuid": "e-1", "published": "2024-05-01T10:00:00.000Z", "eventType": "user.lifecycle.create",
             "target": [{"id": "00u1", "type": "User", "alternateId": "tess@acme.test", "displayName": BODY_MARKER}]},
            {"uuid": "e-2", "published": "2024-05-01T10:00:02.000Z", "eventType": "group.user_membership.add",
             "target": [{"id": "00u1", "type": "User", "alternateId": "tess@acme.test", "displayName": BODY_MARKER},
                        {"id": "00g1", "type": "UserGroup", "alternateId": "unknown", "displayName": "Engineering"}]},
            {"uuid": "e-3", "published": "2024-05-01T10:00:03.000Z", "eventType": "user.lifecycle.deactivate",
             "target": [{"id": "00u9", "type": "User", "alternateId": "frank@acme.test", "displayName": "Frank"}]}
        ]}
    })
}

/// A request to send: its id, method, path, headers and body, and the
/// status the client must see.
type Case<'a> = (&'a str, &'a str, &'a str, Vec<(&'a str, &'a str)>, String, u16);

#[test]
fn every_request_is_one_json_line_with_its_status_and_no_secret_at_any_level() {
    for (level, emails) in [("debug", "plain"), ("info", "plain"), ("debug", "hash")] {
        let standin = StandIn::start(org()).unwrap();
        let server = serve(&standin, &[("GITBOOK_LOG", level), ("GITBOOK_LOG_EMAILS", emails)]);
        let json_headers = [("Authorization", SECRET), ("Content-Type", "application/json")];
        let scim_bearer = format!("Bearer {SCIM_TOKEN}");
        let wrong_bearer = format!("Bearer {WRONG}");
        let delivery = okta_delivery("okta-evt-1").to_string();
        let big = format!("[\"{}\"]", "x".repeat(1024 * 1024 + 10));
        // (request id, method, path, headers, body, the status the client must see)
        let cases: Vec<Case> = vec![
            ("health", "GET", "/healthz", vec![], String::new(), 200),
            (
                "verify",
                "GET",
                "/events",
                vec![("Authorization", SECRET), ("X-Okta-Verification-Challenge", "c1")],
                String::new(),
                200,
            ),
            ("deliver", "POST", "/events", json_headers.to_vec(), delivery.clone(), 200),
            ("wrong-secret", "POST", "/events", vec![("Authorization", WRONG)], delivery.clone(), 401),
            ("no-secret", "POST", "/events", vec![], delivery.clone(), 401),
            ("bad-json", "POST", "/events", json_headers.to_vec(), format!("{{\"{BODY_MARKER}\": "), 400),
            ("too-large", "POST", "/events", json_headers.to_vec(), big, 413),
            ("scim-wrong", "GET", "/scim/v2/Users", vec![("Authorization", wrong_bearer.as_str())], String::new(), 401),
            (
                "scim-list",
                "GET",
                "/scim/v2/Users?count=2",
                vec![("Authorization", scim_bearer.as_str())],
                String::new(),
                200,
            ),
            ("nowhere", "GET", "/nowhere", vec![], String::new(), 404),
            ("put-health", "PUT", "/healthz", vec![], String::new(), 405),
        ];
        let mut sent_to_gitbook = BTreeMap::new();
        for (id, method, path, headers, body, status) in &cases {
            let before = standin.request_count();
            let (got, _) = server.send(id, method, path, headers, body);
            assert_eq!(got, *status, "{level}: {id}");
            sent_to_gitbook.insert(*id, standin.requests().split_off(before));
        }
        let lines = server.lines_until("put-health");
        for (id, method, path, _, _, status) in &cases {
            let line = request_line(&lines, id);
            assert_eq!(line["status"], *status, "{level}: {line}");
            assert_eq!(line["method"], *method, "{line}");
            assert_eq!(line["route"], path.split('?').next().unwrap(), "{line}");
            assert_eq!(
                line["level"],
                if *status >= 500 {
                    "error"
                } else if *status >= 400 {
                    "warn"
                } else {
                    "info"
                }
            );
            assert!(line["time"].as_str().unwrap().ends_with('Z') && line["durationMs"].is_u64(), "{line}");
            assert!(line["outcome"].as_str().is_some_and(|o| !o.is_empty()), "{line}");
        }
        // Every request (the start-up probes included) has exactly one line.
        let request_lines = lines.iter().filter(|l| l["type"] == "request").count();
        let probes = lines.iter().filter(|l| l["requestId"] == "startup" && l["type"] == "request").count();
        assert_eq!(request_lines, cases.len() + probes, "{level}");

        for (id, requests) in &sent_to_gitbook {
            assert_eq!(request_line(&lines, id)["gitbookRequests"], requests.len(), "{level}: {id}");
        }
        let delivered = request_line(&lines, "deliver");
        let writes = sent_to_gitbook["deliver"].iter().filter(|r| r.method != "GET").count();
        let reads = sent_to_gitbook["deliver"].len() - writes;
        assert_eq!(delivered["changes"], writes, "{delivered}");
        assert_eq!(delivered["gitbookRetries"], 0);
        assert_eq!(delivered["outcome"], "3 applied, 0 ignored, 0 failed, 0 deferred");
        if level == "debug" {
            let debug = lines.iter().filter(|l| l["type"] == "gitbook" && l["requestId"] == "deliver").count();
            assert_eq!(debug, reads + writes, "one debug line per GitBook request");
        } else {
            assert!(lines.iter().all(|l| l["type"] != "gitbook"), "debug lines only at debug");
        }
        let refused = request_line(&lines, "wrong-secret");
        assert_eq!(refused["outcome"], "the Authorization header does not match the configured webhook secret");

        let text = server.raw_lines().join("\n");
        for secret in [TOKEN, SECRET, SCIM_TOKEN, WRONG, BODY_MARKER, "Bearer", "authorization"] {
            assert!(!text.contains(secret), "{level}: {secret:?} appears in the logs:\n{text}");
        }
        if emails == "hash" {
            assert!(!text.contains("@acme.test"), "emails are hashed:\n{text}");
        } else {
            assert!(text.contains("tess@acme.test"));
        }
    }
}

#[test]
fn the_request_id_is_the_callers_else_oktas_event_id_else_a_new_one_and_comes_back() {
    let standin = StandIn::start(org()).unwrap();
    let server = serve(&standin, &[]);
    let headers = [("Authorization", SECRET), ("Content-Type", "application/json")];
    let delivery = okta_delivery("okta-evt-77").to_string();
    let (status, _) = request(server.port, "POST", "/events", &headers, &delivery).unwrap();
    assert_eq!(status, 200);
    let lines = server.lines_until("okta-evt-77");
    let changes: Vec<&Value> = lines.iter().filter(|l| l["type"] == "change").collect();
    assert!(!changes.is_empty() && changes.iter().all(|l| l["requestId"] == "okta-evt-77"), "{changes:#?}");

    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    write!(stream, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let id = raw
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("x-request-id: ").map(str::to_owned))
        .expect("the reply names its request id");
    assert_eq!(id.len(), 32, "{id}");
    request_line(&server.lines_until(&id), &id);
}

/// The audit lines of request `id`, as (method, path) with their outcome,
/// beside the writes the stand-in recorded since `before`.
fn audit(server: &Server, standin: &StandIn, id: &str, before: usize) -> (Vec<Value>, Vec<RecordedRequest>) {
    let lines = server.lines_until(id);
    let changes: Vec<Value> = lines.into_iter().filter(|l| l["type"] == "change" && l["requestId"] == id).collect();
    let writes: Vec<RecordedRequest> =
        standin.requests().into_iter().skip(before).filter(|r| r.method != "GET").collect();
    (changes, writes)
}

/// One audit line per recorded write: the same method and path, the same
/// emails for an invite, `attempts` requests each, every one done.
fn assert_one_for_one(id: &str, changes: &[Value], writes: &[RecordedRequest]) {
    let mut from_logs: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
    for change in changes {
        assert_eq!(change["attempts"], 1, "{change}");
        assert_eq!(change["outcome"], "done", "{change}");
        assert!(change["status"].as_u64().is_some_and(|s| (200..300).contains(&s)), "{change}");
        let key = (change["method"].as_str().unwrap().to_owned(), change["path"].as_str().unwrap().to_owned());
        from_logs.entry(key).or_default().push(change["target"]["emails"].clone());
    }
    let mut recorded: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
    for write in writes {
        let emails = write.json().and_then(|b| b.get("emails").cloned()).map_or(Value::Null, |list| {
            Value::Array(
                list.as_array().unwrap().iter().map(|e| e.get("email").cloned().unwrap_or_else(|| e.clone())).collect(),
            )
        });
        recorded.entry((write.method.clone(), write.path.clone())).or_default().push(emails);
    }
    assert!(!writes.is_empty(), "{id}: the scenario writes");
    assert_eq!(from_logs, recorded, "{id}: audit lines vs the stand-in's writes");
}

#[test]
fn an_okta_delivery_leaves_one_audit_line_per_write_the_standin_received() {
    let standin = StandIn::start(org()).unwrap();
    let server = serve(&standin, &[]);
    let before = standin.request_count();
    let headers = [("Authorization", SECRET), ("Content-Type", "application/json")];
    let (status, _) = server.send("okta-1", "POST", "/events", &headers, &okta_delivery("ignored-evt").to_string());
    assert_eq!(status, 200);
    let (changes, writes) = audit(&server, &standin, "okta-1", before);
    assert_one_for_one("okta-1", &changes, &writes);
    let names: Vec<&str> = changes.iter().map(|c| c["change"].as_str().unwrap()).collect();
    assert!(names.contains(&"invite-users") && names.contains(&"remove-member"), "{names:?}");
    let removal = changes.iter().find(|c| c["change"] == "remove-member").unwrap();
    assert_eq!((removal["status"].clone(), removal["via"].clone()), (json!(205), json!("events")));
}

#[test]
fn a_scim_lifecycle_leaves_one_audit_line_per_write_the_standin_received() {
    let standin = StandIn::start(org()).unwrap();
    let server = serve(&standin, &[]);
    let bearer = format!("Bearer {SCIM_TOKEN}");
    let headers = [("Authorization", bearer.as_str()), ("Content-Type", "application/scim+json")];
    let step = |id: &str, method: &str, path: &str, body: Value, status: u16| -> Value {
        let before = standin.request_count();
        let body = if body.is_null() { String::new() } else { body.to_string() };
        let (got, reply) = server.send(id, method, path, &headers, &body);
        assert_eq!(got, status, "{id}: {}", String::from_utf8_lossy(&reply));
        let (changes, writes) = audit(&server, &standin, id, before);
        assert_one_for_one(id, &changes, &writes);
        assert!(changes.iter().all(|c| c["via"] == "scim"));
        if reply.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&reply).unwrap()
        }
    };
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "tess@acme.test",
                      "active": true, "name": {"givenName": BODY_MARKER}});
    let created = step("scim-create", "POST", "/scim/v2/Users", user, 201);
    let id = created["id"].as_str().unwrap().to_owned();
    let group = step(
        "scim-group",
        "POST",
        "/scim/v2/Groups",
        json!({"displayName": "Research", "members": [{"value": id}]}),
        201,
    );
    let disable = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                         "Operations": [{"op": "replace", "path": "active", "value": false}]});
    step("scim-disable", "PATCH", &format!("/scim/v2/Users/{id}"), disable, 200);
    step("scim-drop-group", "DELETE", &format!("/scim/v2/Groups/{}", group["id"].as_str().unwrap()), Value::Null, 204);
    let lines = server.lines_until("scim-drop-group");
    assert_eq!(request_line(&lines, "scim-disable")["route"], "/scim/v2/Users/{id}", "SCIM ids carry emails");
}

#[test]
fn a_reconcile_leaves_one_audit_line_per_write_the_standin_received() {
    let standin = StandIn::start(org()).unwrap();
    let server = serve(&standin, &[]);
    // Frank leaves, Zoe joins, Dave becomes an editor; Support loses Frank.
    let snapshot = json!({"users": [
        {"email": "alice@acme.test", "role": "admin"},
        {"email": "bob@acme.test", "role": "edit"},
        {"email": "dave@acme.test", "role": "edit", "groups": ["Support"]},
        {"email": "zoe@acme.test", "role": "read", "groups": ["Support"]},
    ], "rules": {"groupTeams": {"Support": "Support"}}});
    let before = standin.request_count();
    let path = "/reconcile?strategy=sync&apply=true&allowMassRemoval=true";
    let (status, reply) = server.send("nightly", "POST", path, &[("Authorization", SECRET)], &snapshot.to_string());
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&reply));
    let (changes, writes) = audit(&server, &standin, "nightly", before);
    assert_one_for_one("nightly", &changes, &writes);
    let names: Vec<&str> = changes.iter().map(|c| c["change"].as_str().unwrap()).collect();
    for expected in ["invite-users", "remove-member", "set-member-role"] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    let lines = server.lines_until("nightly");
    let line = request_line(&lines, "nightly");
    assert_eq!(line["changes"], writes.len(), "{line}");
    assert_eq!(line["route"], "/reconcile");
}

#[test]
fn healthz_answers_from_the_configuration_without_calling_gitbook_or_needing_a_token() {
    let standin = StandIn::start(org()).unwrap();
    let server = serve(&standin, &[]);
    let (status, body) = server.send("probe", "GET", "/healthz", &[], "");
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((status, body["status"].as_str(), body["configuration"].as_str()), (200, Some("ok"), Some("complete")));
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["serves"], json!({"events": true, "reconcile": true, "scim": true}));
    assert_eq!(standin.request_count(), 0, "no GitBook call");
    drop(server);

    // No token, and a logging setting that is wrong: 503 naming both.
    let server = start(&["GITBOOK_ORG=acme".into(), format!("WEBHOOK_SECRET={SECRET}"), "GITBOOK_LOG=loud".into()]);
    let (status, body) = server.send("probe-2", "GET", "/healthz", &[], "");
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, 503, "{body}");
    let settings: Vec<&str> =
        body["problems"].as_array().unwrap().iter().map(|p| p["setting"].as_str().unwrap()).collect();
    assert_eq!(settings, ["GITBOOK_TOKEN", "GITBOOK_LOG"], "{body}");
    assert!(!body.to_string().contains(SECRET));
    let lines = server.lines_until("probe-2");
    assert_eq!(request_line(&lines, "probe-2")["outcome"], "configuration incomplete: GITBOOK_TOKEN, GITBOOK_LOG");
}

mod common;

#[test]
fn a_wit_call_writes_its_request_line_and_an_audit_line_per_change_to_stderr() {
    use host_test::bindings::exports::gitbook::directory_sync::types::{InviteRequest, Removal, Role as WitRole};
    let world = common::World::sample();
    let invite = InviteRequest {
        emails: vec!["nia@acme.test".into()],
        with_roles: vec![],
        role: Some(WitRole::Read),
        sso: true,
    };
    let (result, output) =
        world.host.call(|store, client| client.call_invite(store, &world.settings, &invite)).unwrap();
    result.unwrap();
    let bob = world.member_id("bob@acme.test");
    let (removal, removed) =
        world.host.call(|store, client| client.call_remove_member(store, &world.settings, &bob)).unwrap();
    assert_eq!(removal.unwrap(), Removal::Deleted);

    let stderr = format!("{}{}", output.stderr, removed.stderr);
    assert!(!stderr.contains(common::TOKEN), "{stderr}");
    let lines: Vec<Value> = stderr.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    let summary: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            (l["type"].as_str().unwrap().to_owned(), l["change"].as_str().or(l["route"].as_str()).unwrap().to_owned())
        })
        .collect();
    let expected = [
        ("change", "invite-users"),
        ("request", "client.invite"),
        ("change", "remove-member"),
        ("request", "client.remove-member"),
    ];
    assert_eq!(summary, expected.map(|(a, b)| (a.to_owned(), b.to_owned())));
    assert!(lines.iter().all(|l| l["via"] == "wit"));
    assert_eq!(lines[2]["status"], 205);
    let writes: Vec<(String, String)> =
        world.requests().into_iter().filter(|r| r.method != "GET").map(|r| (r.method, r.path)).collect();
    let audited: Vec<(String, String)> = lines
        .iter()
        .filter(|l| l["type"] == "change")
        .map(|l| (l["method"].as_str().unwrap().to_owned(), l["path"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(audited, writes);
}
