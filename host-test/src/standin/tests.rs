//! End-to-end tests of the stand-in over real sockets, with a tiny blocking HTTP/1.1
//! client so nothing here depends on the code under test's HTTP stack.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::*;

const TOKEN: &str = "gb_test_token";

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// One request on a fresh connection (`Connection: close`), read until the server closes.
/// A body, or any POST, PUT or PATCH, is sent as JSON.
fn raw(si: &StandIn, method: &str, target: &str, auth: Option<&str>, body: Option<&str>) -> std::io::Result<Resp> {
    let json_body = body.is_some_and(|b| !b.is_empty()) || matches!(method, "POST" | "PUT" | "PATCH");
    let content_type = json_body.then_some(("Content-Type", "application/json"));
    let auth = auth.map(|a| ("Authorization", a));
    raw_with(si, method, target, &[auth, content_type].into_iter().flatten().collect::<Vec<_>>(), body)
}

/// Like `raw`, with exactly the given headers (plus `Host`, `Connection` and, with a body
/// or for POST, PUT and PATCH, `Content-Length`).
fn raw_with(
    si: &StandIn,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> std::io::Result<Resp> {
    let host = si.base_url().trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(&host)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes())?;
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes)?;
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "no response"))?;
    let head = String::from_utf8_lossy(&bytes[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line in {head:?}")))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Ok(Resp { status, headers, body: bytes[split + 4..].to_vec() })
}

/// An authenticated call to `/v1/orgs/<org>/<rest>`.
fn call(si: &StandIn, method: &str, rest: &str, body: Option<Value>) -> Resp {
    let org = si.shared.org_id.clone();
    let token = format!("Bearer {}", si.shared.token);
    let body = body.map(|b| b.to_string());
    raw(si, method, &format!("/v1/orgs/{org}/{rest}"), Some(&token), body.as_deref()).expect("request")
}

fn get(si: &StandIn, rest: &str) -> Resp {
    call(si, "GET", rest, None)
}

fn sample() -> StandIn {
    StandIn::start(Org::sample()).expect("start")
}

fn assert_error(resp: &Resp, status: u16) -> String {
    assert_eq!(resp.status, status, "{}", String::from_utf8_lossy(&resp.body));
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let body = resp.json();
    assert_eq!(body["error"]["code"], status);
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{body}");
    body["error"]["message"].as_str().expect("message").to_string()
}

fn id_of(si: &StandIn, email: &str) -> String {
    si.member_by_email(email).expect(email).id
}

/// Follows `next.page` to the end; returns every item and the number of pages.
fn list_all(si: &StandIn, rest: &str) -> (Vec<Value>, usize) {
    list_from(si, rest, None)
}

/// Like `list_all`, starting from a given page token.
fn list_from(si: &StandIn, rest: &str, mut page: Option<String>) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut pages = 0;
    loop {
        let sep = if rest.contains('?') { '&' } else { '?' };
        let url = match &page {
            Some(p) => format!("{rest}{sep}page={p}"),
            None => rest.to_string(),
        };
        let resp = get(si, &url);
        assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
        let body = resp.json();
        pages += 1;
        items.extend(body["items"].as_array().expect("items").iter().cloned());
        match body.get("next") {
            Some(next) => page = Some(next["page"].as_str().expect("page").to_string()),
            None => return (items, pages),
        }
    }
}

fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(|m| m["id"].as_str().expect("id").to_string()).collect()
}

// ---- members --------------------------------------------------------------------------

#[test]
fn member_json_matches_the_spec_shape() {
    let si = sample();
    let resp = get(&si, "members");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let body = resp.json();
    assert_eq!(body["count"], 7);
    assert!(body.get("next").is_none());
    let carol_id = id_of(&si, "carol@acme.test");
    let carol = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|m| m["id"] == carol_id.as_str())
        .expect("carol listed")
        .clone();
    let joined = si.member_by_email("carol@acme.test").expect("carol").joined_at;
    assert_eq!(
        carol,
        json!({
            "object": "member",
            "id": carol_id,
            "role": "create",
            "user": {
                "object": "user",
                "id": carol_id,
                "displayName": "Carol Chen",
                "email": "carol@acme.test",
                "photoURL": format!("https://www.gravatar.com/avatar/{carol_id}?d=identicon"),
                "urls": {"location": format!("https://api.gitbook.com/v1/users/{carol_id}")},
            },
            "disabled": false,
            "joinedAt": joined,
            "lastSeenAt": joined,
            "sso": false,
            "spaces": 0,
            "teams": 2,
            "sites": 0,
        })
    );
    let gina = get(&si, &format!("members/{}", id_of(&si, "gina@partner.test"))).json();
    assert_eq!(gina["role"], Value::Null);
    assert!(carol_id.len() == 28 && carol_id.chars().all(|c| c.is_ascii_alphanumeric()));
}

#[test]
fn members_paginate_over_three_pages_in_spec_default_order() {
    let si = StandIn::start(Org::generated("big", "tok", 2345, 3)).expect("start");
    let (items, pages) = list_all(&si, "members?limit=1000");
    assert_eq!(pages, 3);
    let listed = ids(&items);
    let mut expected: Vec<String> = si.members().into_iter().map(|m| m.id).collect();
    expected.reverse(); // default order is joinedAt desc
    assert_eq!(listed, expected);

    let first = get(&si, "members?limit=1000").json();
    assert_eq!(first["count"], 2345);
    assert_eq!(first["items"].as_array().map(Vec::len), Some(1000));

    let (asc, _) = list_all(&si, "members?limit=1000&order=asc");
    expected.reverse();
    assert_eq!(ids(&asc), expected);

    // Default limit is 50.
    assert_eq!(get(&si, "members").json()["items"].as_array().map(Vec::len), Some(50));
    // sort=name pages through everyone exactly once too.
    let (by_name, pages) = list_all(&si, "members?limit=1000&sort=name&order=asc");
    assert_eq!(pages, 3);
    let names: Vec<&str> = by_name.iter().filter_map(|m| m["user"]["displayName"].as_str()).collect();
    assert!(names.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(ids(&by_name).into_iter().collect::<HashSet<_>>().len(), 2345);
}

#[test]
fn pagination_is_stable_while_members_change() {
    let si = sample();
    let page1 = get(&si, "members?limit=3").json();
    let token = page1["next"]["page"].as_str().expect("next").to_string();
    let seen = ids(page1["items"].as_array().expect("items"));
    // Newest-first listing: an invite lands before page 1, a removal of a page-1 member
    // must not shift later pages.
    call(&si, "POST", "invites", Some(json!({"emails": ["new@acme.test"]})));
    assert_eq!(call(&si, "DELETE", &format!("members/{}", seen[0]), None).status, 205);
    let (rest, _) = list_from(&si, "members?limit=3", Some(token));
    let mut all = seen.clone();
    all.extend(ids(&rest));
    let mut original: Vec<String> = Org::sample().members.into_iter().map(|m| m.id).collect();
    original.reverse();
    assert_eq!(all, original);
}

#[test]
fn list_parameters_are_validated() {
    let si = sample();
    for bad in [
        "members?limit=1001",
        "members?limit=abc",
        "members?limit=-1",
        "members?page=garbage",
        "members?page=c_10",
        "members?role=owner",
        "members?order=up",
        "members?sort=email",
        "teams?limit=5000",
        "teams?page=zz",
    ] {
        assert_error(&get(&si, bad), 400);
    }
    // A token from one list is not valid for another.
    let si2 = StandIn::start(Org::generated("acme", TOKEN, 10, 0)).expect("start");
    let token = get(&si2, "members?limit=2").json()["next"]["page"].as_str().expect("next").to_string();
    assert_error(&get(&si2, &format!("teams?page={token}")), 400);
    assert_error(&get(&si2, &format!("members?order=asc&limit=2&page={token}")), 400);
    assert_eq!(get(&si2, &format!("members?limit=2&page={token}")).status, 200);
    let zero = get(&si2, "members?limit=0").json();
    assert_eq!(zero, json!({"items": [], "count": 10}));
}

#[test]
fn members_filter_by_role_and_search() {
    let si = sample();
    let emails = |q: &str| -> Vec<String> {
        let body = get(&si, q).json();
        let items = body["items"].as_array().expect("items").clone();
        assert_eq!(body["count"], items.len());
        items.iter().map(|m| m["user"]["email"].as_str().expect("email").to_string()).collect()
    };
    assert_eq!(emails("members?role=guest"), ["gina@partner.test"]);
    assert_eq!(emails("members?role=admin"), ["alice@acme.test"]);
    assert_eq!(emails("members?search=CHEN"), ["carol@acme.test"]);
    assert_eq!(emails("members?search=Partner.test"), ["gina@partner.test"]);
    assert_eq!(emails("members?search=carol+chen"), ["carol@acme.test"]);
    assert!(emails("members?search=nobody&role=admin").is_empty());
    let page = get(&si, "members?search=acme.test&limit=2").json();
    assert_eq!(page["count"], 6);
    assert!(page.get("next").is_some());
}

#[test]
fn get_patch_delete_and_sso() {
    let si = sample();
    let bob = id_of(&si, "bob@acme.test");
    assert_eq!(get(&si, &format!("members/{bob}")).json()["role"], "edit");
    assert_error(&get(&si, "members/nobody"), 404);

    let patched = call(&si, "PATCH", &format!("members/{bob}"), Some(json!({"role": "admin"})));
    assert_eq!(patched.status, 200);
    assert_eq!(patched.json()["role"], "admin");
    let unchanged = call(&si, "PATCH", &format!("members/{bob}"), Some(json!({})));
    assert_eq!(unchanged.json()["role"], "admin");
    let guest = call(&si, "PATCH", &format!("members/{bob}"), Some(json!({"role": null})));
    assert_eq!(guest.json()["role"], Value::Null);
    assert_eq!(si.member_by_email("bob@acme.test").expect("bob").role, None);
    assert_error(&call(&si, "PATCH", &format!("members/{bob}"), Some(json!({"role": "owner"}))), 400);
    let not_json =
        raw(&si, "PATCH", &format!("/v1/orgs/acme/members/{bob}"), Some("Bearer gb_test_token"), Some("role=admin"))
            .expect("request");
    assert_error(&not_json, 400);
    assert_error(&call(&si, "PATCH", "members/nobody", Some(json!({"role": "read"}))), 404);

    let sso = call(&si, "POST", &format!("members/{bob}/sso"), None);
    assert_eq!(sso.status, 200);
    assert_eq!(sso.json()["sso"], true);
    assert_error(&call(&si, "POST", "members/nobody/sso", None), 404);

    let carol = id_of(&si, "carol@acme.test");
    let deleted = call(&si, "DELETE", &format!("members/{carol}"), None);
    assert_eq!(deleted.status, 205);
    assert!(deleted.body.is_empty());
    assert!(si.teams().iter().all(|t| !t.member_ids.contains(&carol)));
    assert_eq!(call(&si, "DELETE", &format!("members/{carol}"), None).status, 204);

    let dave = id_of(&si, "dave@acme.test");
    si.set_removal_needs_approval(&dave);
    let pending = call(&si, "DELETE", &format!("members/{dave}"), None);
    assert_eq!((pending.status, pending.body.len()), (202, 0));
    assert!(si.member_by_email("dave@acme.test").is_some());
    assert_eq!(si.members().len(), 6);
}

// ---- invites --------------------------------------------------------------------------

#[test]
fn invites_are_idempotent() {
    let si = sample();
    let body = json!({
        "emails": ["new1@acme.test", {"email": "new2@acme.test", "role": "edit"}, "alice@acme.test"],
        "role": "read",
    });
    let first = call(&si, "POST", "invites", Some(body.clone()));
    assert_eq!(first.status, 200);
    let first = first.json();
    assert_eq!(first["invited"], 2);
    assert_eq!(first["failedSSOEmails"], json!([]));
    let users: Vec<String> =
        first["users"].as_array().expect("users").iter().map(|u| u.as_str().expect("id").to_string()).collect();
    assert_eq!(users[2], id_of(&si, "alice@acme.test"));
    assert_eq!(users[0], id_of(&si, "new1@acme.test"));
    assert!(users.iter().all(|u| u.len() == 28 && u.chars().all(|c| c.is_ascii_alphanumeric())));
    let new1 = si.member_by_email("new1@acme.test").expect("new1");
    assert_eq!((new1.role, new1.sso), (Some(Role::Read), false));
    assert_eq!(si.member_by_email("new2@acme.test").expect("new2").role, Some(Role::Edit));
    assert_eq!(si.member_by_email("alice@acme.test").expect("a").role, Some(Role::Admin));

    // Again, with a different role: nothing changes, same ids.
    let again =
        call(&si, "POST", "invites", Some(json!({"emails": ["NEW1@acme.test", "new2@acme.test"], "role": "admin"})))
            .json();
    assert_eq!(again["invited"], 0);
    assert_eq!(again["users"], json!([users[0], users[1]]));
    assert_eq!(si.members().len(), 9);
    assert_eq!(si.member_by_email("new1@acme.test").expect("n").role, Some(Role::Read));

    // No default role: guest. Duplicates in one request are one member.
    let guests = call(&si, "POST", "invites", Some(json!({"emails": ["g@x.test", "g@x.test"]}))).json();
    assert_eq!(guests["invited"], 1);
    assert_eq!(guests["users"][0], guests["users"][1]);
    assert_eq!(si.member_by_email("g@x.test").expect("g").role, None);

    // Removed then invited again: the user keeps its id.
    call(&si, "DELETE", &format!("members/{}", users[0]), None);
    let back = call(&si, "POST", "invites", Some(json!({"emails": ["new1@acme.test"]}))).json();
    assert_eq!((back["invited"].clone(), back["users"][0].clone()), (json!(1), json!(users[0])));
}

#[test]
fn sso_invites_and_conflicts() {
    let si = sample();
    si.set_sso_conflict("Taken@Other.test");
    let resp = call(
        &si,
        "POST",
        "invites",
        Some(json!({"emails": ["sso@acme.test", "taken@other.test"], "role": "read", "sso": true})),
    )
    .json();
    assert_eq!(resp["invited"], 2);
    assert_eq!(resp["failedSSOEmails"], json!(["taken@other.test"]));
    assert!(si.member_by_email("sso@acme.test").expect("sso").sso);
    assert!(!si.member_by_email("taken@other.test").expect("taken").sso);
}

#[test]
fn invalid_invites_change_nothing() {
    let mut org = Org::sample();
    org.max_invite_batch = 3;
    let si = StandIn::start(org).expect("start");
    let cases = [
        json!({}),
        json!({"emails": []}),
        json!({"emails": "a@b.test"}),
        json!({"emails": ["ok@acme.test", "not-an-email"]}),
        json!({"emails": ["ok@acme.test", "a b@c.test"]}),
        json!({"emails": ["ok@acme.test", "x@nodot"]}),
        json!({"emails": ["Upper@acme.test"], "sso": true}),
        json!({"emails": ["ok@acme.test"], "role": "owner"}),
        json!({"emails": ["ok@acme.test"], "sso": "yes"}),
        json!({"emails": [{"email": "ok@acme.test"}]}),
        json!({"emails": [42]}),
        json!({"emails": ["a@x.test", "b@x.test", "c@x.test", "d@x.test"]}),
        json!(["ok@acme.test"]),
    ];
    for body in cases {
        let resp = call(&si, "POST", "invites", Some(body.clone()));
        let message = assert_error(&resp, 400);
        if let Some(bad) =
            ["not-an-email", "a b@c.test", "x@nodot", "Upper@acme.test"].iter().find(|e| body.to_string().contains(*e))
        {
            assert!(message.contains(bad), "{message} should name {bad}");
        }
    }
    assert_eq!(si.members().len(), 7);
    // Upper case is fine without SSO.
    let ok = call(&si, "POST", "invites", Some(json!({"emails": ["Upper@acme.test"]})));
    assert_eq!(ok.status, 200);
}

// ---- teams ----------------------------------------------------------------------------

#[test]
fn teams_list_create_get_rename_delete() {
    let si = sample();
    let list = get(&si, "teams").json();
    assert_eq!(list["count"], 3);
    let eng = list["items"][0].clone();
    let eng_id = eng["id"].as_str().expect("id").to_string();
    assert_eq!(
        eng,
        json!({
            "object": "team",
            "id": eng_id,
            "title": "Engineering",
            "members": 3,
            "spaces": 0,
            "createdAt": si.teams()[0].created_at,
            "permissions": {"admin": true, "view": true},
        })
    );
    let filtered = get(&si, "teams?title=SIG").json();
    assert_eq!(filtered["count"], 1);
    assert_eq!(filtered["items"][0]["title"], "Design");
    let (all, pages) = list_all(&si, "teams?limit=1");
    assert_eq!((all.len(), pages), (3, 3));

    let alice = id_of(&si, "alice@acme.test");
    let created = call(&si, "PUT", "teams", Some(json!({"title": "Marketing", "members": [alice]})));
    assert_eq!(created.status, 201);
    let created = created.json();
    assert_eq!((created["title"].clone(), created["members"].clone()), (json!("Marketing"), json!(1)));
    let new_id = created["id"].as_str().expect("id").to_string();
    assert_eq!(si.team_member_ids(&new_id), std::slice::from_ref(&alice));
    assert_eq!(get(&si, &format!("members/{alice}")).json()["teams"], 2);
    for bad in [
        json!({}),
        json!({"title": ""}),
        json!({"title": "x".repeat(65)}),
        json!({"title": 5}),
        json!({"title": "Ok", "members": ["nobody"]}),
    ] {
        assert_error(&call(&si, "PUT", "teams", Some(bad)), 400);
    }
    assert_eq!(call(&si, "PUT", "teams", Some(json!({"title": "é".repeat(64)}))).status, 201);

    assert_eq!(get(&si, &format!("teams/{new_id}")).json()["title"], "Marketing");
    let renamed = call(&si, "PATCH", &format!("teams/{new_id}"), Some(json!({"title": "Growth"})));
    assert_eq!(renamed.json()["title"], "Growth");
    assert_eq!(call(&si, "DELETE", &format!("teams/{new_id}"), None).status, 205);
    assert_eq!(call(&si, "DELETE", &format!("teams/{new_id}"), None).status, 204);
    assert_error(&get(&si, &format!("teams/{new_id}")), 404);
    assert_eq!(get(&si, &format!("members/{alice}")).json()["teams"], 1);
}

#[test]
fn team_members_list_and_update_semantics() {
    let si = sample();
    let design = si.teams()[1].id.clone();
    let members_url = format!("teams/{design}/members");
    let listed = get(&si, &members_url).json();
    assert_eq!(listed["count"], 2);
    let first = &listed["items"][0];
    assert_eq!(first["team"], json!({"role": "member"}));
    assert_eq!(first["permissions"], json!({"view": true}));
    assert_eq!(first["organization"]["user"]["email"], "carol@acme.test");
    assert_eq!(first["organization"]["object"], "member");

    let [alice, bob, carol, erin] = ["alice", "bob", "carol", "erin"].map(|n| id_of(&si, &format!("{n}@acme.test")));
    // Unknown add: 400 naming it, nothing applied (not even the valid parts).
    let bad = call(&si, "PUT", &members_url, Some(json!({"add": [alice, "ghost@acme.test"], "remove": [carol]})));
    let message = assert_error(&bad, 400);
    assert!(message.contains("ghost@acme.test"), "{message}");
    assert_eq!(si.team_member_ids(&design), [carol.clone(), erin.clone()]);

    // Add by id and by email (any case), remove unknowns silently, both lists = removed,
    // adding an existing member is a no-op.
    let ok = call(
        &si,
        "PUT",
        &members_url,
        Some(json!({
            "add": [alice, "BOB@acme.test", erin, carol],
            "remove": [carol, "nobody@acme.test", "nope"],
        })),
    );
    assert_eq!((ok.status, ok.body.len()), (204, 0));
    assert_eq!(si.team_member_ids(&design), [erin.clone(), alice.clone(), bob.clone()]);
    let (items, pages) = list_all(&si, &format!("{members_url}?limit=2"));
    assert_eq!(pages, 2);
    let listed: Vec<&str> = items.iter().filter_map(|i| i["organization"]["id"].as_str()).collect();
    assert_eq!(listed, [erin.as_str(), alice.as_str(), bob.as_str()]);
    assert_eq!(get(&si, &format!("members/{carol}")).json()["teams"], 1);

    assert_error(&call(&si, "PUT", "teams/nope/members", Some(json!({"add": []}))), 404);
    assert_error(&get(&si, "teams/nope/members"), 404);
    assert_error(&call(&si, "PUT", &members_url, Some(json!({"add": "x"}))), 400);
}

// ---- protocol: auth, routing, recording ------------------------------------------------

#[test]
fn auth_routing_and_recording() {
    let si = sample();
    let path = "/v1/orgs/acme/members";
    assert_error(&raw(&si, "GET", path, None, None).expect("req"), 401);
    assert_error(&raw(&si, "GET", path, Some("Bearer nope"), None).expect("req"), 401);
    assert_error(&raw(&si, "GET", path, Some("gb_test_token"), None).expect("req"), 401);
    let ok = raw(&si, "GET", "/v1/orgs/acme/members?search=a+b%40c", Some("Bearer gb_test_token"), None).expect("req");
    assert_eq!(ok.status, 200);
    assert_error(&get_path(&si, "/v1/orgs/other/members"), 404);
    assert_error(&get_path(&si, "/v1/orgs/acme/spaces"), 404);
    assert_error(&get_path(&si, "/v2/orgs/acme/members"), 404);
    assert_error(&get_path(&si, "/"), 404);
    let wrong = call(&si, "POST", "members", Some(json!({})));
    assert_error(&wrong, 405);
    assert_eq!(wrong.header("allow"), Some("GET"));

    let log = si.requests();
    assert_eq!(log.len(), si.request_count());
    assert_eq!(log.len(), 9);
    let first = &log[0];
    assert_eq!((first.method.as_str(), first.path.as_str()), ("GET", path));
    assert_eq!(first.header("Authorization"), None);
    let searched = &log[3];
    assert_eq!(searched.query.as_deref(), Some("search=a+b%40c"));
    assert_eq!(searched.query_param("search").as_deref(), Some("a b@c"));
    assert_eq!(searched.header("authorization"), Some("Bearer gb_test_token"));
    assert!(searched.headers.iter().all(|(k, _)| *k == k.to_ascii_lowercase()));
    assert_eq!(log[8].json(), Some(json!({})));
    assert!(log.iter().all(|r| r.fault.is_none()));
    si.clear_requests();
    assert_eq!(si.request_count(), 0);
}

fn get_path(si: &StandIn, path: &str) -> Resp {
    raw(si, "GET", path, Some("Bearer gb_test_token"), None).expect("request")
}

// ---- faults and latency ----------------------------------------------------------------

#[test]
fn status_and_server_error_faults_answer_without_changing_state() {
    let si = sample();
    let bob = id_of(&si, "bob@acme.test");
    si.inject(Fault::on("DELETE", "/members/", FaultKind::ServerError { status: 503 }, 1));
    si.inject(Fault::any(
        FaultKind::Status {
            status: 418,
            body: "short and stout".into(),
            headers: vec![("x-teapot".into(), "yes".into())],
        },
        1,
    ));
    // The GET skips the DELETE rule and takes the teapot.
    let teapot = get(&si, "members");
    assert_eq!(teapot.status, 418);
    assert_eq!(teapot.header("x-teapot"), Some("yes"));
    assert_eq!(teapot.body, b"short and stout");
    let failed = call(&si, "DELETE", &format!("members/{bob}"), None);
    let message = assert_error(&failed, 503);
    assert!(!message.is_empty());
    assert!(si.member_by_email("bob@acme.test").is_some(), "faulted DELETE changed state");
    assert_eq!(call(&si, "DELETE", &format!("members/{bob}"), None).status, 205);
    let faults: Vec<Option<String>> = si.requests().into_iter().map(|r| r.fault).collect();
    assert!(faults[0].as_deref().is_some_and(|f| f.contains("418")));
    assert!(faults[1].as_deref().is_some_and(|f| f.contains("503")));
    assert_eq!(faults[2], None);

    si.inject(Fault::any(FaultKind::ServerError { status: 502 }, 5));
    si.clear_faults();
    assert_eq!(get(&si, "members").status, 200);
}

#[test]
fn rate_limit_faults_carry_their_headers() {
    let si = sample();
    si.inject(Fault::any(FaultKind::RateLimitReset { after: Duration::from_millis(1500) }, 1));
    si.inject(Fault::any(FaultKind::RetryAfter { seconds: 7 }, 1));
    si.inject(Fault::any(FaultKind::RetryAfterDate { after: Duration::from_secs(3) }, 1));
    let now = time::since_epoch().as_secs();
    let reset = get(&si, "members");
    assert_error(&reset, 429);
    assert_eq!(reset.json(), json!({"error": {"code": 429, "message": "API rate limit exceeded"}}));
    let at: u64 = reset.header("x-ratelimit-reset").and_then(|v| v.parse().ok()).expect("reset header");
    assert!((now + 2..=now + 4).contains(&at), "{at} vs {now}");

    let retry = get(&si, "members");
    assert_error(&retry, 429);
    assert_eq!(retry.header("retry-after"), Some("7"));

    let dated = get(&si, "members");
    assert_error(&dated, 429);
    let date = dated.header("retry-after").expect("retry-after");
    assert!(date.ends_with(" GMT") && date.len() == 29, "{date}");
    let expected: Vec<String> = (now + 3..=now + 5).map(time::imf_fixdate).collect();
    assert!(expected.iter().any(|d| d == date), "{date} vs {expected:?}");

    assert_eq!(get(&si, "members").status, 200);
}

#[test]
fn drop_fault_closes_the_connection_without_a_response() {
    let si = sample();
    si.inject(Fault::on("POST", "/invites", FaultKind::Drop, 1));
    let result =
        raw(&si, "POST", "/v1/orgs/acme/invites", Some("Bearer gb_test_token"), Some(r#"{"emails":["x@acme.test"]}"#));
    assert!(result.is_err(), "got a response");
    assert!(si.member_by_email("x@acme.test").is_none());
    let log = si.requests();
    assert_eq!(log.len(), 1);
    assert!(log[0].fault.as_deref().is_some_and(|f| f.contains("drop")));
    assert_eq!(log[0].json().map(|j| j["emails"][0] == "x@acme.test"), Some(true));
    // The server is still fine afterwards.
    let again = call(&si, "POST", "invites", Some(json!({"emails": ["x@acme.test"]})));
    assert_eq!(again.status, 200);
}

#[test]
fn delay_fault_and_latency_slow_down_normal_answers() {
    let si = sample();
    si.inject(Fault::on("POST", "invites", FaultKind::Delay { delay: Duration::from_millis(300) }, 1));
    let start = Instant::now();
    let resp = call(&si, "POST", "invites", Some(json!({"emails": ["slow@acme.test"]})));
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert_eq!(resp.status, 200);
    assert!(si.member_by_email("slow@acme.test").is_some(), "delay still applies");
    assert!(si.requests()[0].fault.as_deref().is_some_and(|f| f.contains("delay")));

    si.set_latency(Duration::from_millis(250));
    let start = Instant::now();
    assert_eq!(get(&si, "teams").status, 200);
    assert!(start.elapsed() >= Duration::from_millis(250));
    si.set_latency(Duration::ZERO);
}

// ---- lifecycle and scale ---------------------------------------------------------------

#[test]
fn dropping_the_stand_in_stops_the_server() {
    let si = sample();
    let host = si.base_url().trim_start_matches("http://").to_string();
    // An idle keep-alive connection must not keep the server alive.
    let idle = TcpStream::connect(&host).expect("connect");
    drop(si);
    assert!(TcpStream::connect(&host).is_err());
    drop(idle);
}

#[test]
fn inconsistent_org_is_refused() {
    let mut org = Org::sample();
    org.teams[0].member_ids.push("ghost".into());
    assert!(StandIn::start(org).is_err());
}

#[test]
fn a_hundred_thousand_members_list_quickly() {
    let start = Instant::now();
    let si = StandIn::start(Org::generated("big", "tok", 100_000, 4)).expect("start");
    let (items, pages) = list_all(&si, "members?limit=1000");
    assert_eq!((items.len(), pages), (100_000, 100));
    let team = si.teams()[0].id.clone();
    let (team_items, _) = list_all(&si, &format!("teams/{team}/members?limit=1000"));
    assert_eq!(team_items.len(), si.team_member_ids(&team).len());
    let filtered = get(&si, "members?role=admin&limit=1").json();
    assert_eq!(filtered["count"], 10_000);
    // Generous bound for debug builds on a busy 2-core machine; O(n^2) would take minutes.
    assert!(start.elapsed() < Duration::from_secs(60), "{:?}", start.elapsed());
}

#[test]
fn handle_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<StandIn>();
    assert_send_sync::<Org>();
    assert_send_sync::<RecordedRequest>();
}

#[test]
fn start_on_binds_the_requested_port() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("probe");
        probe.local_addr().expect("addr").port()
    };
    let si = StandIn::start_on(Org::sample(), port).expect("start_on");
    assert_eq!(si.base_url(), format!("http://127.0.0.1:{port}"));
    assert_eq!(get(&si, "members").status, 200);
    assert!(StandIn::start_on(Org::sample(), port).is_err(), "port in use");
}

// ---- as strict as the spec -------------------------------------------------------------

#[test]
fn query_parameters_the_spec_does_not_define_are_refused() {
    let si = sample();
    let bob = id_of(&si, "bob@acme.test");
    let design = si.teams()[1].id.clone();
    // Every parameter the spec defines for the three list operations is accepted.
    for ok in [
        "members?page=&limit=5&order=asc&role=edit&search=bob&sort=name".to_string(),
        format!("teams?page=&limit=5&owner={bob}&title=des"),
        format!("teams/{design}/members?page=&limit=5"),
    ] {
        assert_eq!(get(&si, &ok).status, 200, "{ok}");
    }
    for (method, bad, named) in [
        ("GET", "members?per_page=10".to_string(), "per_page"),
        ("GET", "members?limit=10&Limit=10".to_string(), "Limit"),
        ("GET", "members?email=bob%40acme.test".to_string(), "email"),
        ("GET", format!("members/{bob}?limit=1"), "limit"),
        ("GET", "teams?search=Design".to_string(), "search"),
        ("GET", format!("teams/{design}/members?role=admin"), "role"),
        ("GET", format!("teams/{design}?title=x"), "title"),
        ("DELETE", format!("members/{bob}?force=true"), "force"),
        ("POST", format!("members/{bob}/sso?sso=true"), "sso"),
        ("POST", "invites?sso=true".to_string(), "sso"),
        ("PUT", "teams?title=New".to_string(), "title"),
        ("PUT", format!("teams/{design}/members?add=x"), "add"),
        ("GET", "members?limit=1&limit=2".to_string(), "limit"),
    ] {
        let body = matches!(method, "POST" | "PUT").then(|| json!({"emails": ["q@acme.test"], "title": "New"}));
        let message = assert_error(&call(&si, method, &bad, body), 400);
        assert!(message.contains(&format!("{named:?}")), "{bad}: {message}");
    }
    let message = assert_error(&get(&si, "members?sorting=name"), 400);
    assert!(message.contains("listMembersInOrganizationById"), "names the operation: {message}");
    // Refused before anything was done.
    assert_eq!(si.members().len(), 7);
    assert_eq!(si.teams().len(), 3);
    assert!(si.member_by_email("bob@acme.test").is_some());
}

#[test]
fn organization_and_team_ids_must_match_the_spec_pattern() {
    let si = sample();
    for bad in ["/v1/orgs/ac.me/members", "/v1/orgs/acme/teams/a.b", "/v1/orgs/acme/teams/a%20b/members"] {
        let message = assert_error(&get_path(&si, bad), 400);
        assert!(message.contains("^[a-zA-Z0-9_-]+$"), "{bad}: {message}");
    }
    // A user id is a plain string in the spec: an odd one is just not found.
    assert_error(&get_path(&si, "/v1/orgs/acme/members/odd.id"), 404);
    assert_error(&get_path(&si, "/v1/orgs/other-org/members"), 404);
}

#[test]
fn json_bodies_need_a_json_content_type() {
    let si = sample();
    let auth = ("Authorization", "Bearer gb_test_token");
    let body = Some(r#"{"emails":["ct@acme.test"]}"#);
    let path = "/v1/orgs/acme/invites";
    for headers in [
        vec![auth],
        vec![auth, ("Content-Type", "text/plain")],
        vec![auth, ("Content-Type", "application/x-www-form-urlencoded")],
    ] {
        let resp = raw_with(&si, "POST", path, &headers, body).expect("request");
        let message = assert_error(&resp, 400);
        assert!(message.contains("application/json"), "{message}");
    }
    assert!(si.member_by_email("ct@acme.test").is_none());
    let charset = [auth, ("Content-Type", "Application/JSON; charset=utf-8")];
    assert_eq!(raw_with(&si, "POST", path, &charset, body).expect("request").status, 200);
    // Operations without a request body do not care.
    let bob = id_of(&si, "bob@acme.test");
    let sso = raw_with(&si, "POST", &format!("/v1/orgs/acme/members/{bob}/sso"), &[auth], None).expect("request");
    assert_eq!(sso.status, 200);
}

#[test]
fn body_fields_must_have_the_spec_types() {
    let si = sample();
    let bob = id_of(&si, "bob@acme.test");
    let design = si.teams()[1].id.clone();
    let members_url = format!("teams/{design}/members");
    let cases = [
        ("POST", "invites".to_string(), json!({"emails": ["t@acme.test"], "sso": null}), "sso"),
        ("POST", "invites".to_string(), json!({"emails": ["t@acme.test"], "sso": "true"}), "sso"),
        ("POST", "invites".to_string(), json!({"emails": ["t@acme.test"], "sso": 1}), "sso"),
        ("POST", "invites".to_string(), json!({"emails": null}), "emails"),
        ("POST", "invites".to_string(), json!({"emails": ["t@acme.test"], "role": 3}), "role"),
        ("POST", "invites".to_string(), json!({"emails": [{"email": "t@acme.test", "role": "guest"}]}), "guest"),
        ("POST", "invites".to_string(), json!({"emails": [{"email": null, "role": null}]}), "email"),
        ("PATCH", format!("members/{bob}"), json!({"role": 1}), "role"),
        ("PATCH", format!("members/{bob}"), json!({"role": ["admin"]}), "role"),
        ("PUT", "teams".to_string(), json!({"title": null}), "title"),
        ("PUT", "teams".to_string(), json!({"title": "T", "members": null}), "members"),
        ("PUT", "teams".to_string(), json!({"title": "T", "members": bob}), "members"),
        ("PUT", "teams".to_string(), json!({"title": "T", "members": [7]}), "members"),
        ("PATCH", format!("teams/{design}"), json!({"title": null}), "title"),
        ("PATCH", format!("teams/{design}"), json!({}), "title"),
        ("PUT", members_url.clone(), json!({"add": null}), "add"),
        ("PUT", members_url.clone(), json!({"remove": null}), "remove"),
        ("PUT", members_url.clone(), json!({"add": "bob@acme.test"}), "add"),
        ("PUT", members_url.clone(), json!({"add": [], "remove": [null]}), "remove"),
        ("PUT", members_url.clone(), json!({"memberships": null}), "memberships"),
        ("PUT", members_url.clone(), json!({"memberships": {bob.clone(): "owner"}}), "memberships"),
        ("PUT", members_url.clone(), json!({"add": [bob], "memberships": {bob.clone(): {}}}), "role"),
        ("PUT", members_url.clone(), json!({"add": [bob], "memberships": {bob.clone(): {"role": "admin"}}}), "role"),
    ];
    for (method, rest, body, named) in cases {
        let message = assert_error(&call(&si, method, &rest, Some(body.clone())), 400);
        assert!(message.contains(named), "{method} {rest} {body}: {message}");
    }
    // Nothing above changed anything.
    assert_eq!(si.members(), StandIn::start(Org::sample()).expect("start").members());
    assert_eq!(si.teams().len(), 3);
    assert_eq!(si.team_member_ids(&design).len(), 2);
    assert_eq!(si.teams()[1].title, "Design");
    // `null` is right where the spec allows it: a role of null is a guest.
    let guest =
        call(&si, "POST", "invites", Some(json!({"emails": [{"email": "g2@acme.test", "role": null}], "role": null})));
    assert_eq!(guest.status, 200);
    assert_eq!(si.member_by_email("g2@acme.test").expect("g2").role, None);
}

#[test]
fn unknown_body_fields_are_accepted_as_the_spec_allows_unless_a_test_refuses_them() {
    let si = sample();
    let design = si.teams()[1].id.clone();
    let members_url = format!("teams/{design}/members");
    let alice = id_of(&si, "alice@acme.test");
    let cases = [
        ("POST", "invites".to_string(), json!({"emails": ["u1@acme.test"], "sso": false, "notify": true}), "notify"),
        (
            "POST",
            "invites".to_string(),
            json!({"emails": [{"email": "u2@acme.test", "role": "read", "name": "U"}]}),
            "name",
        ),
        ("PUT", "teams".to_string(), json!({"title": "Ops", "member": [alice]}), "member"),
        ("PATCH", format!("teams/{design}"), json!({"title": "Design", "description": "x"}), "description"),
        ("PATCH", format!("members/{alice}"), json!({"role": "admin", "sso": true}), "sso"),
        ("PUT", members_url.clone(), json!({"add": [], "removes": [alice]}), "removes"),
        (
            "PUT",
            members_url.clone(),
            json!({"add": [alice], "memberships": {alice.clone(): {"role": "owner", "x": 1}}}),
            "x",
        ),
    ];
    si.refuse_unknown_body_fields(true);
    for (method, rest, body, named) in cases.clone() {
        let message = assert_error(&call(&si, method, &rest, Some(body.clone())), 400);
        assert!(message.contains(&format!("{named:?}")), "{body}: {message}");
    }
    assert_eq!((si.members().len(), si.teams().len(), si.team_member_ids(&design).len()), (7, 3, 2));
    si.refuse_unknown_body_fields(false);
    for (method, rest, body, _) in cases {
        assert!(call(&si, method, &rest, Some(body.clone())).status < 300, "{body}");
    }
    assert_eq!((si.members().len(), si.teams().len()), (9, 4));
}

// ---- members without an email -----------------------------------------------------------

#[test]
fn a_member_can_have_no_email_in_api_answers() {
    let si = StandIn::start(Org::sample().with_hidden_email("bob@acme.test")).expect("start");
    let bob = id_of(&si, "bob@acme.test");
    let user = get(&si, &format!("members/{bob}")).json()["user"].clone();
    assert!(user.get("email").is_none(), "{user}");
    assert_eq!(user["displayName"], "Bob Brown");
    let listed = get(&si, "members").json();
    let bob_listed = listed["items"].as_array().expect("items").iter().find(|m| m["id"] == bob.as_str()).cloned();
    assert!(bob_listed.expect("bob listed")["user"].get("email").is_none());
    // A search cannot reveal it, but the name still finds him.
    assert_eq!(get(&si, "members?search=bob%40acme").json()["count"], 0);
    assert_eq!(get(&si, "members?search=brown").json()["count"], 1);
    // The account still has the address: invites and team updates by email find him.
    let again = call(&si, "POST", "invites", Some(json!({"emails": ["bob@acme.test"]}))).json();
    assert_eq!((again["invited"].clone(), again["users"][0].clone()), (json!(0), json!(bob)));
    let support = si.teams()[2].id.clone();
    let added = call(&si, "PUT", &format!("teams/{support}/members"), Some(json!({"add": ["bob@acme.test"]})));
    assert_eq!(added.status, 204);
    let team_listed = get(&si, &format!("teams/{support}/members")).json();
    assert!(team_listed["items"][2]["organization"]["user"].get("email").is_none());

    // And at run time.
    let dave = id_of(&si, "dave@acme.test");
    assert!(get(&si, &format!("members/{dave}")).json()["user"].get("email").is_some());
    assert!(si.hide_email(&dave));
    assert!(get(&si, &format!("members/{dave}")).json()["user"].get("email").is_none());
    assert!(!si.hide_email("nobody@acme.test"));
}

// ---- teams: creation with members, team roles -------------------------------------------

#[test]
fn team_creation_adds_the_listed_member_ids_or_refuses_the_whole_team() {
    let si = sample();
    let [alice, bob] = ["alice", "bob"].map(|n| id_of(&si, &format!("{n}@acme.test")));
    let created = call(&si, "PUT", "teams", Some(json!({"title": "Ops", "members": [bob, alice, bob]})));
    assert_eq!(created.status, 201);
    let created = created.json();
    assert_eq!(created["members"], 2);
    let ops = created["id"].as_str().expect("id").to_string();
    assert_eq!(si.team_member_ids(&ops), [bob.clone(), alice.clone()]);
    assert_eq!(si.team_role(&ops, &bob), Some(TeamRole::Member));

    // Member identifiers, not emails; an unknown one refuses the team.
    for members in [json!([alice, "ghost-id"]), json!(["bob@acme.test"])] {
        let message = assert_error(&call(&si, "PUT", "teams", Some(json!({"title": "Nope", "members": members}))), 400);
        assert!(message.contains("ghost-id") || message.contains("bob@acme.test"), "{message}");
    }
    assert_eq!(si.teams().iter().filter(|t| t.title == "Nope").count(), 0);
    assert_eq!(si.teams().len(), 4);
}

#[test]
fn team_roles_from_memberships_are_kept() {
    let si = sample();
    let design = si.teams()[1].id.clone();
    let url = format!("teams/{design}/members");
    let [alice, bob, carol, erin] = ["alice", "bob", "carol", "erin"].map(|n| id_of(&si, &format!("{n}@acme.test")));

    // Bob joins as owner (keyed by email), Erin (already in) becomes owner by id.
    let body = json!({"add": ["bob@acme.test"], "memberships": {"bob@acme.test": {"role": "owner"}, erin.clone(): {"role": "owner"}}});
    assert_eq!(call(&si, "PUT", &url, Some(body)).status, 204);
    assert_eq!(si.team_role(&design, &bob), Some(TeamRole::Owner));
    assert_eq!(si.team_role(&design, &erin), Some(TeamRole::Owner));
    assert_eq!(si.team_role(&design, &carol), Some(TeamRole::Member));
    assert_eq!(si.teams()[1].owner_ids, [erin.clone(), bob.clone()]);
    let roles: Vec<(String, String)> = get(&si, &url).json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (i["organization"]["id"].as_str().expect("id").into(), i["team"]["role"].as_str().expect("role").into())
        })
        .collect();
    assert_eq!(
        roles,
        [(carol.clone(), "member".into()), (erin.clone(), "owner".into()), (bob.clone(), "owner".into())]
    );
    // `owner` lists the teams a member can manage: an owner's, or all for an admin.
    let managed = |who: &str| -> Vec<String> {
        let body = get(&si, &format!("teams?owner={who}")).json();
        body["items"].as_array().expect("items").iter().map(|t| t["title"].as_str().expect("t").to_string()).collect()
    };
    assert_eq!(managed(&bob), ["Design"]);
    assert_eq!(managed(&carol), Vec::<String>::new());
    assert_eq!(managed(&alice), ["Engineering", "Design", "Support"]);
    assert_error(&get(&si, "teams?owner=nobody"), 400);

    // A role for someone who is not in the team and not added: 400, nothing applied.
    let stranger = json!({"add": [alice], "memberships": {"dave@acme.test": {"role": "owner"}}});
    let message = assert_error(&call(&si, "PUT", &url, Some(stranger)), 400);
    assert!(message.contains("dave@acme.test"), "{message}");
    assert_eq!(si.team_role(&design, &alice), None);
    // Removal wins over a role; a removed owner comes back as a plain member.
    let body =
        json!({"remove": [bob], "memberships": {bob.clone(): {"role": "owner"}, erin.clone(): {"role": "member"}}});
    assert_eq!(call(&si, "PUT", &url, Some(body)).status, 204);
    assert_eq!((si.team_role(&design, &bob), si.team_role(&design, &erin)), (None, Some(TeamRole::Member)));
    assert_eq!(call(&si, "PUT", &url, Some(json!({"add": [bob]}))).status, 204);
    assert_eq!(si.team_role(&design, &bob), Some(TeamRole::Member));
    assert!(si.teams()[1].owner_ids.is_empty());
}

#[test]
fn seeded_team_owners_are_served() {
    let mut org = Org::sample();
    let carol = org.members[2].id.clone();
    org.teams[1].owner_ids.push(carol.clone());
    let si = StandIn::start(org).expect("start");
    let design = si.teams()[1].id.clone();
    assert_eq!(si.team_role(&design, &carol), Some(TeamRole::Owner));
    assert_eq!(get(&si, &format!("teams/{design}/members")).json()["items"][0]["team"], json!({"role": "owner"}));
}

// ---- faults: 403, 409, and changes whose answer is lost --------------------------------

#[test]
fn forbidden_and_conflict_faults_answer_in_gitbooks_error_shape() {
    let si = sample();
    let bob = id_of(&si, "bob@acme.test");
    si.inject(Fault::on("PATCH", "/members/", FaultKind::forbidden(), 2));
    si.inject(Fault::on("PUT", "/members", FaultKind::conflict(), 1));
    si.inject(Fault::any(
        FaultKind::ApiError { status: 403, message: "Token lacks organization:members:write".into() },
        1,
    ));
    for _ in 0..2 {
        let message = assert_error(&call(&si, "PATCH", &format!("members/{bob}"), Some(json!({"role": "admin"}))), 403);
        assert!(message.contains("permission"), "{message}");
    }
    let design = si.teams()[1].id.clone();
    assert_error(&call(&si, "PUT", &format!("teams/{design}/members"), Some(json!({"add": [bob]}))), 409);
    let custom = assert_error(&get(&si, "members"), 403);
    assert_eq!(custom, "Token lacks organization:members:write");
    assert_eq!(si.member_by_email("bob@acme.test").expect("bob").role, Some(Role::Edit), "refused: no change");
    assert_eq!(si.team_member_ids(&design).len(), 2);
    let faults: Vec<String> = si.requests().into_iter().filter_map(|r| r.fault).collect();
    assert_eq!(faults, ["api error 403", "api error 403", "api error 409", "api error 403"]);
    // Spent: the next calls go through.
    assert_eq!(call(&si, "PATCH", &format!("members/{bob}"), Some(json!({"role": "admin"}))).status, 200);
}

fn titled(si: &StandIn, title: &str) -> usize {
    si.teams().iter().filter(|t| t.title == title).count()
}

#[test]
fn apply_then_server_error_creates_the_team_then_answers_503() {
    let si = sample();
    si.inject(Fault::on_path_ending("PUT", "/teams", FaultKind::ApplyThenServerError { status: 503 }, 2));
    // The rule only matches team creation, not a team's member update.
    let design = si.teams()[1].id.clone();
    assert_eq!(call(&si, "PUT", &format!("teams/{design}/members"), Some(json!({"add": []}))).status, 204);

    let create = || call(&si, "PUT", "teams", Some(json!({"title": "Marketing"})));
    let message = assert_error(&create(), 503);
    assert_eq!(message, "Service Unavailable");
    assert_eq!(titled(&si, "Marketing"), 1, "created although the answer was 503");
    // A client retrying blindly creates another one each time.
    assert_error(&create(), 503);
    assert_eq!(titled(&si, "Marketing"), 2);
    assert_eq!(create().status, 201, "the rule is spent");
    assert_eq!(titled(&si, "Marketing"), 3);
    let listed = get(&si, "teams?title=marketing").json();
    assert_eq!(listed["count"], 3);
    let faults: Vec<Option<String>> = si.requests().into_iter().map(|r| r.fault).collect();
    assert_eq!(faults[0], None);
    assert!(faults[1].as_deref().is_some_and(|f| f.contains("applied") && f.contains("503")), "{faults:?}");
}

#[test]
fn apply_then_drop_creates_the_team_then_closes_without_an_answer() {
    let si = sample();
    si.inject(Fault::on_path_ending("PUT", "/teams", FaultKind::ApplyThenDrop, 1));
    let token = "Bearer gb_test_token";
    let result = raw(&si, "PUT", "/v1/orgs/acme/teams", Some(token), Some(r#"{"title":"Marketing"}"#));
    assert!(result.is_err(), "got a response");
    assert_eq!(titled(&si, "Marketing"), 1, "created before the connection closed");
    // The retry a client would make: a second team with the same title.
    let retried = call(&si, "PUT", "teams", Some(json!({"title": "Marketing"})));
    assert_eq!(retried.status, 201);
    assert_eq!(titled(&si, "Marketing"), 2);
    let log = si.requests();
    assert_eq!(log.len(), 2);
    assert!(log[0].fault.as_deref().is_some_and(|f| f.contains("applied") && f.contains("drop")));
    assert_eq!(log[1].fault, None);
}

#[test]
fn apply_then_faults_still_check_the_request() {
    // The normal answer is what decides the change: a refused request changes nothing.
    let si = sample();
    si.inject(Fault::on_path_ending("PUT", "/teams", FaultKind::ApplyThenServerError { status: 503 }, 2));
    assert_error(&call(&si, "PUT", "teams", Some(json!({"title": ""}))), 503);
    let wrong_token = raw(&si, "PUT", "/v1/orgs/acme/teams", Some("Bearer nope"), Some(r#"{"title":"X"}"#));
    assert_error(&wrong_token.expect("answer"), 503);
    assert_eq!(si.teams().len(), 3);
}
