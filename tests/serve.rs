//! The webhook receiver as users deploy it: `wasmtime serve -S cli` on a
//! free 127.0.0.1 port, a real HTTP client posting an Okta delivery, and
//! the stand-in seeing the GitBook calls.

use host_test::component_path;
use host_test::standin::{Org, StandIn};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SECRET: &str = "whsec_serve_77aa";
const SCIM_TOKEN: &str = "scim_serve_31c8";

struct Server {
    child: Child,
    port: u16,
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

fn serve(standin: &StandIn) -> Server {
    let program = std::env::var("WASMTIME").unwrap_or_else(|_| "wasmtime".into());
    let port = free_port();
    let child = Command::new(program)
        .args(["serve", "-S", "cli", "--addr", &format!("127.0.0.1:{port}")])
        .args(["--env", &format!("GITBOOK_TOKEN={}", "gb_test_token")])
        .args(["--env", "GITBOOK_ORG=acme"])
        .args(["--env", &format!("GITBOOK_API_URL={}", standin.base_url())])
        .args(["--env", "GITBOOK_ALLOW_INSECURE_HTTP=1"])
        .args(["--env", &format!("WEBHOOK_SECRET={SECRET}")])
        .args(["--env", &format!("SCIM_TOKEN={SCIM_TOKEN}")])
        .arg(component_path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("wasmtime serve starts (install it with `cargo install wasmtime-cli@48.0.8 --locked`)");
    let server = Server { child, port };
    let started = Instant::now();
    while request(port, "GET", "/healthz", &[], "").map(|(status, _)| status) != Some(200) {
        assert!(started.elapsed() < Duration::from_secs(60), "wasmtime serve did not come up on port {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
    server
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

#[test]
fn wasmtime_serve_turns_the_component_into_an_okta_event_hook_receiver() {
    let standin = StandIn::start(Org::sample()).unwrap();
    let server = serve(&standin);

    let (status, body) = request(
        server.port,
        "GET",
        "/events",
        &[("Authorization", SECRET), ("X-Okta-Verification-Challenge", "abc123")],
        "",
    )
    .unwrap();
    assert_eq!((status, serde_json::from_slice::<Value>(&body).unwrap()), (200, json!({"verification": "abc123"})));

    let delivery = json!({
        "eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "contentType": "application/json",
        "data": {"events": [
            {"uuid": "e-2", "published": "2024-05-01T10:00:02.000Z", "eventType": "group.user_membership.add",
             "target": [{"id": "00u1", "type": "User", "alternateId": "tess@acme.test", "displayName": "Tess"},
                        {"id": "00g1", "type": "UserGroup", "alternateId": "unknown", "displayName": "Engineering"}]},
            {"uuid": "e-1", "published": "2024-05-01T10:00:00.000Z", "eventType": "user.lifecycle.create",
             "target": [{"id": "00u1", "type": "User", "alternateId": "tess@acme.test", "displayName": "Tess"}]}
        ]}
    });
    let (status, body) = request(
        server.port,
        "POST",
        "/events",
        &[("Authorization", SECRET), ("Content-Type", "application/json")],
        &delivery.to_string(),
    )
    .unwrap();
    let report: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["applied"], 2);

    let calls: Vec<String> = standin.requests().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert_eq!(calls[0], "POST /v1/orgs/acme/invites", "{calls:?}");
    assert!(calls.iter().any(|c| c.starts_with("PUT /v1/orgs/acme/teams/")), "{calls:?}");
    let tess = standin.member_by_email("tess@acme.test").expect("tess was invited");
    let engineering = standin.teams().into_iter().find(|t| t.title == "Engineering").unwrap();
    assert!(standin.team_member_ids(&engineering.id).contains(&tess.id));

    let before = standin.request_count();
    let (status, _) =
        request(server.port, "POST", "/events", &[("Authorization", "wrong")], &delivery.to_string()).unwrap();
    assert_eq!(status, 401);
    assert_eq!(standin.request_count(), before, "a refused request sends nothing");
}

#[test]
fn wasmtime_serve_provisions_gitbook_for_an_identity_provider_through_scim() {
    let standin = StandIn::start(Org::sample()).unwrap();
    let server = serve(&standin);
    let bearer = format!("Bearer {SCIM_TOKEN}");
    let scim = |method: &str, path: &str, body: &Value| -> (u16, Value) {
        let headers = [("Authorization", bearer.as_str()), ("Content-Type", "application/scim+json")];
        let body = if body.is_null() { String::new() } else { body.to_string() };
        let (status, reply) = request(server.port, method, path, &headers, &body).unwrap();
        (status, if reply.is_empty() { Value::Null } else { serde_json::from_slice(&reply).unwrap() })
    };

    // Entra's create: look up, then POST; the id it keeps is opaque.
    let (status, list) = scim("GET", "/scim/v2/Users?filter=userName%20eq%20%22tess%40acme.test%22", &Value::Null);
    assert_eq!((status, list["totalResults"].as_u64()), (200, Some(0)));
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "Tess@acme.test",
                      "active": true, "emails": [{"primary": true, "type": "work", "value": "Tess@acme.test"}]});
    let (status, created) = scim("POST", "/scim/v2/Users", &user);
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(standin.member_by_email("tess@acme.test").is_some());

    // A group with her in it, then her deactivation (Entra's string boolean).
    let (status, group) =
        scim("POST", "/scim/v2/Groups", &json!({"displayName": "Research", "members": [{"value": id}]}));
    assert_eq!(status, 201, "{group}");
    let team = standin.teams().into_iter().find(|t| t.title == "Research").unwrap();
    let tess = standin.member_by_email("tess@acme.test").unwrap();
    assert_eq!(standin.team_member_ids(&team.id), [tess.id]);
    let disable = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                         "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
    let (status, user) = scim("PATCH", &format!("/scim/v2/Users/{id}"), &disable);
    assert_eq!((status, user["active"].as_bool()), (200, Some(false)), "{user}");
    assert!(standin.member_by_email("tess@acme.test").is_none());

    // The wrong token: a SCIM 401, and GitBook is not called.
    let before = standin.request_count();
    let (status, body) =
        request(server.port, "GET", "/scim/v2/Users", &[("Authorization", "Bearer nope")], "").unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((status, body["status"].as_str()), (401, Some("401")));
    assert_eq!(standin.request_count(), before);
}
