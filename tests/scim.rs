//! The SCIM 2.0 endpoint as identity providers drive it: the component's
//! `wasi:http/incoming-handler` in the reference host, the request
//! sequences Okta and Entra ID document, and the GitBook calls each one
//! makes at the stand-in (count and body).

mod common;

use common::{summary, World};
use host_test::standin::{Fault, FaultKind, Org};
use host_test::HttpReply;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const TOKEN: &str = "scim_tok_5b1e77c0";
const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A component configured for SCIM (and the stand-in behind it).
struct Scim {
    world: World,
}

/// A GitBook call as the stand-in saw it: method, path with query, JSON body.
type Call = (String, String, Option<Value>);

impl Scim {
    fn new(org: Org) -> Scim {
        Scim { world: World::configured(org, &[("SCIM_TOKEN", TOKEN)]) }
    }

    fn sample() -> Scim {
        Scim::new(Org::sample())
    }

    /// One SCIM request with the bearer token; returns the reply and the
    /// GitBook calls it made.
    fn send(&self, method: &str, path: &str, body: Option<&Value>) -> (HttpReply, Vec<Call>) {
        let auth = format!("Bearer {TOKEN}");
        self.send_with(method, path, &[("authorization", &auth), ("content-type", "application/scim+json")], body)
    }

    fn send_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> (HttpReply, Vec<Call>) {
        self.world.standin.clear_requests();
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let (reply, output) = self.world.host.handle_http(method, path, headers, bytes).expect("no trap");
        let everything = format!("{} {:?} {}", String::from_utf8_lossy(&reply.body), reply.headers, output.stderr);
        assert!(!everything.contains(TOKEN) && !everything.contains("gb_test_token"), "a secret leaked: {everything}");
        if !reply.body.is_empty() {
            assert_eq!(reply.header("content-type"), Some("application/scim+json"), "{method} {path}");
        }
        let calls = self.world.requests().iter().map(summary).collect();
        (reply, calls)
    }

    fn id_of(&self, email: &str) -> String {
        self.world.member_id(email)
    }

    /// A member's SCIM id, as a filter finds it.
    fn user_id(&self, email: &str) -> String {
        let (reply, _) = self.send("GET", &format!("/scim/v2/Users?filter={}", user_name_filter(email)), None);
        reply.json()["Resources"][0]["id"].as_str().unwrap_or_else(|| panic!("{email} is found")).to_owned()
    }

    fn team_id(&self, title: &str) -> String {
        self.world.standin.teams().into_iter().find(|t| t.title == title).unwrap_or_else(|| panic!("team {title}")).id
    }
}

/// A query value, percent-encoded.
fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

fn user_name_filter(email: &str) -> String {
    enc(&format!("userName eq \"{email}\""))
}

/// The method and target of each call, for comparing sequences.
fn lines(calls: &[Call]) -> Vec<String> {
    calls.iter().map(|(m, t, _)| format!("{m} {t}")).collect()
}

fn search(email: &str) -> String {
    format!("GET /v1/orgs/acme/members?limit=1000&search={}", enc_gitbook(email))
}

/// How the component encodes a query value for GitBook.
fn enc_gitbook(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn patch(operations: Value) -> Value {
    json!({"schemas": [PATCH_SCHEMA], "Operations": operations})
}

fn assert_scim_error(reply: &HttpReply, status: u16, scim_type: Option<&str>) -> Value {
    let body = reply.json();
    assert_eq!(reply.status, status, "{body}");
    assert_eq!(body["schemas"], json!([ERROR_SCHEMA]), "{body}");
    assert_eq!(body["status"], status.to_string(), "{body}");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
    assert_eq!(body.get("scimType").and_then(Value::as_str), scim_type, "{body}");
    body
}

#[test]
fn okta_creates_finds_a_duplicate_deactivates_reactivates_and_updates_a_user() {
    let scim = Scim::sample();
    let email = "nia@acme.test";

    // Create: Okta looks the user up first, with its paging parameters.
    let (reply, calls) =
        scim.send("GET", &format!("/scim/v2/Users?filter={}&startIndex=1&count=100", user_name_filter(email)), None);
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0,
               "startIndex": 1, "itemsPerPage": 0, "Resources": []})
    );
    assert_eq!(lines(&calls), [search(email)]);

    let okta_user = json!({
        "schemas": [USER_SCHEMA], "userName": "Nia@acme.test",
        "name": {"givenName": "Nia", "familyName": "Ng"},
        "emails": [{"primary": true, "value": "Nia@acme.test", "type": "work"}],
        "displayName": "Nia Ng", "locale": "en-US", "externalId": "00u1nia", "groups": [],
        "password": "Xy!9-not-kept", "active": true
    });
    let (reply, calls) = scim.send("POST", "/scim/v2/Users", Some(&okta_user));
    let created = reply.json();
    assert_eq!(reply.status, 201, "{created}");
    let nia = scim.id_of(email);
    assert_eq!(
        lines(&calls),
        [search(email), "POST /v1/orgs/acme/invites".into(), format!("GET /v1/orgs/acme/members/{nia}")]
    );
    assert_eq!(calls[1].2, Some(json!({"emails": [{"email": email, "role": "read"}], "role": "read", "sso": true})));
    assert_eq!((created["userName"].as_str(), created["active"].as_bool()), (Some(email), Some(true)));
    assert_eq!(created["emails"][0]["value"], email);
    assert!(!created.to_string().contains("Xy!9"), "the password is not echoed");
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{id}");

    // Duplicate: 409 uniqueness, nothing written.
    let (reply, calls) = scim.send("POST", "/scim/v2/Users", Some(&okta_user));
    assert_scim_error(&reply, 409, Some("uniqueness"));
    assert_eq!(lines(&calls), [search(email)]);

    // Deactivate: PATCH without a path; the member is removed.
    let deactivate = patch(json!([{"op": "replace", "value": {"active": false}}]));
    let (reply, calls) = scim.send("PATCH", &format!("/scim/v2/Users/{id}"), Some(&deactivate));
    assert_eq!(reply.status, 200);
    assert_eq!((reply.json()["id"].as_str(), reply.json()["active"].as_bool()), (Some(id.as_str()), Some(false)));
    assert_eq!(lines(&calls), [search(email), format!("DELETE /v1/orgs/acme/members/{nia}")]);
    assert!(scim.world.standin.member_by_email(email).is_none());

    // Okta's check after deactivation: the user is there, inactive.
    let (reply, calls) = scim.send("GET", &format!("/scim/v2/Users/{id}"), None);
    assert_eq!((reply.status, reply.json()["active"].as_bool()), (200, Some(false)));
    assert_eq!(reply.json()["userName"], email);
    assert_eq!(calls.len(), 1);

    // Reactivate: the same id, invited again.
    let reactivate = patch(json!([{"op": "replace", "value": {"active": true}}]));
    let (reply, calls) = scim.send("PATCH", &format!("/scim/v2/Users/{id}"), Some(&reactivate));
    assert_eq!((reply.status, reply.json()["active"].as_bool()), (200, Some(true)));
    assert_eq!(
        lines(&calls),
        [search(email), "POST /v1/orgs/acme/invites".into(), format!("GET /v1/orgs/acme/members/{nia}")]
    );
    assert!(scim.world.standin.member_by_email(email).is_some());

    // Profile update: Okta's full PUT; GitBook keeps no names, nothing is written.
    let mut updated = okta_user.clone();
    updated["name"]["familyName"] = json!("Ngata");
    updated["id"] = json!(id);
    let (reply, calls) = scim.send("PUT", &format!("/scim/v2/Users/{id}"), Some(&updated));
    assert_eq!((reply.status, reply.json()["active"].as_bool()), (200, Some(true)), "{}", reply.json());
    assert_eq!(lines(&calls), [search(email)]);

    // A PUT with a role changes it; one with another email is refused.
    updated["roles"] = json!([{"value": "edit", "primary": true}]);
    let (reply, calls) = scim.send("PUT", &format!("/scim/v2/Users/{id}"), Some(&updated));
    assert_eq!(reply.json()["roles"], json!([{"value": "edit", "primary": true}]));
    assert_eq!(lines(&calls)[1], format!("PATCH /v1/orgs/acme/members/{nia}"));
    assert_eq!(calls[1].2, Some(json!({"role": "edit"})));
    updated["userName"] = json!("nia.ng@acme.test");
    let (reply, calls) = scim.send("PUT", &format!("/scim/v2/Users/{id}"), Some(&updated));
    assert_scim_error(&reply, 400, Some("mutability"));
    assert!(calls.is_empty());
}

#[test]
fn entra_tests_the_connection_creates_disables_in_both_patch_forms_and_deletes() {
    let scim = Scim::sample();
    // Test connection: a random GUID as userName; nobody, and no GitBook call.
    let (reply, calls) = scim.send(
        "GET",
        &format!("/scim/v2/Users?filter={}", user_name_filter("2819c223-7f76-453a-919d-413861904646")),
        None,
    );
    assert_eq!((reply.status, reply.json()["totalResults"].as_u64()), (200, Some(0)));
    assert_eq!(reply.json()["Resources"], json!([]));
    assert!(calls.is_empty(), "{calls:?}");

    let email = "omar@acme.test";
    let entra_user = json!({
        "schemas": [USER_SCHEMA, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "externalId": "5f1c", "userName": "Omar@acme.test", "active": true,
        "emails": [{"primary": true, "type": "work", "value": "Omar@acme.test"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "Omar Obi", "familyName": "Obi", "givenName": "Omar"},
        "roles": [],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701", "department": "Ops"}
    });
    let (reply, calls) = scim.send("POST", "/scim/v2/Users", Some(&entra_user));
    assert_eq!(reply.status, 201, "{}", reply.json());
    assert_eq!(calls.len(), 3);
    let id = reply.json()["id"].as_str().unwrap().to_owned();

    // Case differences in the filter still match (Entra's validator checks it).
    let (reply, _) = scim.send("GET", &format!("/scim/v2/Users?filter={}", user_name_filter("OMAR@ACME.TEST")), None);
    assert_eq!(reply.json()["Resources"][0]["id"], id.as_str());
    let by_email = enc("emails[type eq \"work\"].value eq \"omar@acme.test\"");
    let (reply, _) = scim.send("GET", &format!("/scim/v2/Users?filter={by_email}"), None);
    assert_eq!(reply.json()["totalResults"], 1);

    // Update in Entra's default form: capitalised ops, GitBook stores none of it.
    let update = patch(json!([
        {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "omar@acme.test"},
        {"op": "Replace", "path": "name.familyName", "value": "Obi-Ade"},
        {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "702"}
    ]));
    let (reply, calls) = scim.send("PATCH", &format!("/scim/v2/Users/{id}"), Some(&update));
    assert_eq!(reply.status, 200, "{}", reply.json());
    assert_eq!(lines(&calls), [search(email)]);

    // Disable, default form: a boolean as the string "False".
    let omar = scim.id_of(email);
    let disable = patch(json!([{"op": "Replace", "path": "active", "value": "False"}]));
    let (reply, calls) = scim.send("PATCH", &format!("/scim/v2/Users/{id}"), Some(&disable));
    assert_eq!(reply.json()["active"], false);
    assert_eq!(lines(&calls), [search(email), format!("DELETE /v1/orgs/acme/members/{omar}")]);

    // Enable, aadOptscim062020 form: lower-case op, no path, dotted keys, a real boolean.
    let enable =
        patch(json!([{"op": "replace", "value": {"active": true, "name.givenName": "Omar", "displayName": "Omar O"}}]));
    let (reply, calls) = scim.send("PATCH", &format!("/scim/v2/Users/{id}?aadOptscim062020"), Some(&enable));
    assert_eq!(reply.json()["active"], true, "{}", reply.json());
    assert_eq!(calls[1].0, "POST");

    // Hard delete: removed; the id then reads as an inactive user (no state
    // tells deleted from deactivated).
    let (reply, calls) = scim.send("DELETE", &format!("/scim/v2/Users/{id}"), None);
    assert_eq!((reply.status, reply.body.len()), (204, 0));
    assert_eq!(lines(&calls), [search(email), format!("DELETE /v1/orgs/acme/members/{omar}")]);
    let (reply, _) = scim.send("GET", &format!("/scim/v2/Users/{id}"), None);
    assert_eq!(reply.json()["active"], false);
    // Deleting someone already gone is done, not an error.
    let (reply, calls) = scim.send("DELETE", &format!("/scim/v2/Users/{id}"), None);
    assert_eq!((reply.status, calls.len()), (204, 1));
}

#[test]
fn okta_pushes_a_group_adds_removes_renames_replaces_and_deletes_it() {
    let scim = Scim::sample();
    let uid = |email: &str| scim.user_id(email);
    let (alice, bob, carol) = (uid("alice@acme.test"), uid("bob@acme.test"), uid("carol@acme.test"));

    let (reply, calls) = scim.send(
        "POST",
        "/scim/v2/Groups",
        Some(&json!({"schemas": [GROUP_SCHEMA], "displayName": "Platform", "members": []})),
    );
    assert_eq!(reply.status, 201, "{}", reply.json());
    let group = reply.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(group, scim.team_id("Platform"));
    assert_eq!(lines(&calls), ["GET /v1/orgs/acme/teams?limit=1000&title=Platform", "PUT /v1/orgs/acme/teams"]);
    assert_eq!(calls[1].2, Some(json!({"title": "Platform"})));
    assert_eq!(reply.json()["members"], json!([]));

    let (reply, calls) = scim.send("POST", "/scim/v2/Groups", Some(&json!({"displayName": "platform", "members": []})));
    assert_scim_error(&reply, 409, Some("uniqueness"));
    assert_eq!(calls.len(), 1);

    // Add, as Okta sends it: a value list with display names.
    let add = patch(json!([{"op": "add", "path": "members",
                            "value": [{"value": alice, "display": "alice@acme.test"}, {"value": bob, "display": "bob@acme.test"}]}]));
    let (reply, calls) = scim.send("PATCH", &format!("/scim/v2/Groups/{group}"), Some(&add));
    assert_eq!((reply.status, reply.body.len()), (204, 0));
    let team_members = format!("PUT /v1/orgs/acme/teams/{group}/members");
    assert_eq!(lines(&calls), [format!("GET /v1/orgs/acme/teams/{group}"), team_members.clone()]);
    assert_eq!(calls[1].2, Some(json!({"add": ["alice@acme.test", "bob@acme.test"], "remove": []})));

    // Remove one, by value filter, with Okta's rename-to-the-same-title alongside (a no-op).
    let remove = patch(json!([
        {"op": "replace", "value": {"id": group, "displayName": "Platform"}},
        {"op": "remove", "path": format!("members[value eq \"{alice}\"]")}
    ]));
    let (reply, calls) = scim.send("PATCH", &format!("/scim/v2/Groups/{group}"), Some(&remove));
    assert_eq!(reply.status, 204);
    assert_eq!(lines(&calls), [format!("GET /v1/orgs/acme/teams/{group}"), team_members.clone()]);
    assert_eq!(calls[1].2, Some(json!({"add": [], "remove": ["alice@acme.test"]})));

    // Rename.
    let rename = patch(json!([{"op": "replace", "value": {"id": group, "displayName": "Platform Eng"}}]));
    let (_, calls) = scim.send("PATCH", &format!("/scim/v2/Groups/{group}"), Some(&rename));
    assert_eq!(
        lines(&calls),
        [format!("GET /v1/orgs/acme/teams/{group}"), format!("PATCH /v1/orgs/acme/teams/{group}")]
    );
    assert_eq!(calls[1].2, Some(json!({"title": "Platform Eng"})));

    // Replace the members with a PUT: the difference, in one request.
    let (reply, calls) = scim.send(
        "PUT",
        &format!("/scim/v2/Groups/{group}"),
        Some(&json!({"schemas": [GROUP_SCHEMA], "id": group, "displayName": "Platform Eng", "members": [{"value": carol}]})),
    );
    assert_eq!(reply.status, 200, "{}", reply.json());
    assert_eq!(reply.json()["members"], json!([{"value": carol, "display": "Carol Chen"}]));
    assert_eq!(lines(&calls)[2], team_members);
    assert_eq!(calls[2].2, Some(json!({"add": ["carol@acme.test"], "remove": [scim.id_of("bob@acme.test")]})));
    assert_eq!(calls.len(), 4, "team, members, update, members again: {calls:?}");

    // Replace by PATCH, Okta's other form.
    let replace = patch(json!([{"op": "replace", "path": "members", "value": [{"value": alice}, {"value": carol}]}]));
    let (_, calls) = scim.send("PATCH", &format!("/scim/v2/Groups/{group}"), Some(&replace));
    assert_eq!(calls.last().unwrap().2, Some(json!({"add": ["alice@acme.test"], "remove": []})));
    let in_team = scim.world.standin.team_member_ids(&group);
    assert_eq!(in_team, [scim.id_of("carol@acme.test"), scim.id_of("alice@acme.test")]);

    // Found by title, any case, without members as Entra asks.
    let filter = enc("displayName eq \"platform eng\"");
    let (reply, calls) = scim.send("GET", &format!("/scim/v2/Groups?excludedAttributes=members&filter={filter}"), None);
    assert_eq!(
        reply.json()["Resources"],
        json!([{"schemas": [GROUP_SCHEMA], "id": group, "displayName": "Platform Eng",
                                                  "meta": {"resourceType": "Group"}}])
    );
    assert_eq!(lines(&calls), ["GET /v1/orgs/acme/teams?limit=1000&title=platform%20eng"]);

    // Unlink: deleted; then 404.
    let (reply, calls) = scim.send("DELETE", &format!("/scim/v2/Groups/{group}"), None);
    assert_eq!(reply.status, 204);
    assert_eq!(lines(&calls), [format!("DELETE /v1/orgs/acme/teams/{group}")]);
    let (reply, _) = scim.send("GET", &format!("/scim/v2/Groups/{group}"), None);
    assert_scim_error(&reply, 404, None);
    let (reply, _) = scim.send("DELETE", &format!("/scim/v2/Groups/{group}"), None);
    assert_scim_error(&reply, 404, None);
}

#[test]
fn entra_creates_a_group_then_changes_members_several_at_a_time() {
    let scim = Scim::sample();
    let uid = |email: &str| scim.user_id(email);
    let (dave, erin) = (uid("dave@acme.test"), uid("erin@acme.test"));
    let (reply, _) = scim.send(
        "POST",
        "/scim/v2/Groups",
        Some(
            &json!({"schemas": [GROUP_SCHEMA], "externalId": "g1", "displayName": "Ops", "members": [{"value": dave}]}),
        ),
    );
    assert_eq!(reply.status, 201, "{}", reply.json());
    let group = reply.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(scim.world.standin.team_member_ids(&group), [scim.id_of("dave@acme.test")]);

    let add = patch(json!([{"op": "Add", "path": "members", "value": [{"value": erin}]},
                           {"op": "Remove", "path": "members", "value": [{"value": dave}]}]));
    let (reply, calls) = scim.send("PATCH", &format!("/scim/v2/Groups/{group}"), Some(&add));
    assert_eq!(reply.status, 204);
    assert_eq!(calls[1].2, Some(json!({"add": ["erin@acme.test"], "remove": ["dave@acme.test"]})));
    let (reply, _) = scim.send("GET", &format!("/scim/v2/Groups/{group}"), None);
    assert_eq!(reply.json()["members"], json!([{"value": erin, "display": "Erin Evans"}]));

    // A member who is not in the organization: GitBook refuses, nothing applied.
    let ghost = patch(json!([{"op": "Add", "path": "members", "value": [{"value": "Z2hvc3RAYWNtZS50ZXN0"}]}]));
    let (reply, _) = scim.send("PATCH", &format!("/scim/v2/Groups/{group}"), Some(&ghost));
    assert_scim_error(&reply, 400, Some("invalidValue"));
}

#[test]
fn lists_are_windows_of_gitbook_s_pages() {
    let scim = Scim::new(Org::generated("acme", "gb_test_token", 1500, 3));
    let (reply, calls) = scim.send("GET", "/scim/v2/Users?startIndex=1&count=100", None);
    let list = reply.json();
    assert_eq!((list["totalResults"].as_u64(), list["itemsPerPage"].as_u64()), (Some(1500), Some(100)));
    assert_eq!(list["Resources"].as_array().unwrap().len(), 100);
    assert_eq!(lines(&calls), ["GET /v1/orgs/acme/members?limit=1000"]);
    let first = &list["Resources"][0];
    for field in ["id", "userName", "active"] {
        assert!(!first[field].is_null(), "{field}: {first}");
    }
    assert!(first["name"]["givenName"].is_string() && first["name"]["familyName"].is_string());
    assert!(first["emails"][0]["value"].is_string());

    // The next window starts where the first ended.
    let (reply, _) = scim.send("GET", "/scim/v2/Users?startIndex=101&count=100", None);
    let next = reply.json();
    assert_eq!(next["startIndex"], 101);
    assert_ne!(next["Resources"][0]["id"], list["Resources"][0]["id"]);
    assert_eq!(next["Resources"][0]["id"], reply_id_at(&scim, 101));

    // Past the first GitBook page: two requests; the last window is short.
    let (reply, calls) = scim.send("GET", "/scim/v2/Users?startIndex=1401&count=200", None);
    assert_eq!((reply.json()["itemsPerPage"].as_u64(), calls.len()), (Some(100), 2));

    // A count of 10^9 is capped at maxResults; 0 asks only for the total.
    let (reply, calls) = scim.send("GET", "/scim/v2/Users?count=1000000000", None);
    assert_eq!((reply.json()["itemsPerPage"].as_u64(), calls.len()), (Some(1000), 1));
    let (reply, calls) = scim.send("GET", "/scim/v2/Users?count=0", None);
    assert_eq!((reply.json()["totalResults"].as_u64(), reply.json()["Resources"].clone()), (Some(1500), json!([])));
    assert_eq!(lines(&calls), ["GET /v1/orgs/acme/members?limit=1"]);

    let (reply, calls) = scim.send("GET", "/scim/v2/Groups?count=2", None);
    assert_eq!((reply.json()["totalResults"].as_u64(), reply.json()["itemsPerPage"].as_u64()), (Some(3), Some(2)));
    assert_eq!(calls.len(), 3, "the teams, then each listed team's members: {calls:?}");
}

fn reply_id_at(scim: &Scim, index: u64) -> Value {
    let (reply, _) = scim.send("GET", &format!("/scim/v2/Users?startIndex={index}&count=1"), None);
    reply.json()["Resources"][0]["id"].clone()
}

#[test]
fn discovery_documents_say_what_is_supported() {
    let scim = Scim::sample();
    let (reply, calls) = scim.send("GET", "/scim/v2/ServiceProviderConfig", None);
    let config = reply.json();
    assert_eq!(
        (config["patch"]["supported"].as_bool(), config["filter"]["maxResults"].as_u64()),
        (Some(true), Some(1000))
    );
    assert_eq!(
        (config["bulk"]["supported"].as_bool(), config["etag"]["supported"].as_bool()),
        (Some(false), Some(false))
    );
    assert!(calls.is_empty());
    let (reply, _) = scim.send("GET", "/scim/v2/ResourceTypes", None);
    let types = reply.json();
    let endpoints: Vec<&str> =
        types["Resources"].as_array().unwrap().iter().map(|r| r["endpoint"].as_str().unwrap()).collect();
    assert_eq!(endpoints, ["/Users", "/Groups"]);
    let (reply, _) = scim.send("GET", "/scim/v2/Schemas", None);
    assert_eq!(reply.json()["totalResults"], 2);
}

#[test]
fn authentication_unknown_ids_and_hostile_input_answer_scim_errors_without_calling_gitbook() {
    let scim = Scim::sample();
    for (headers, says) in [
        (vec![], "missing"),
        (vec![("authorization", "Bearer wrong")], "does not match"),
        (vec![("authorization", "Basic c2NpbTpzY2lt")], "does not match"),
    ] {
        let (reply, calls) = scim.send_with("GET", "/scim/v2/Users?count=1&startIndex=1", &headers, None);
        let body = assert_scim_error(&reply, 401, None);
        assert!(body["detail"].as_str().unwrap().contains(says), "{body}");
        assert_eq!(reply.header("www-authenticate"), Some("Bearer realm=\"scim\""));
        assert!(calls.is_empty());
    }
    // The webhook secret is not a SCIM token.
    let unset = World::configured(Org::sample(), &[("WEBHOOK_SECRET", TOKEN)]);
    let auth = format!("Bearer {TOKEN}");
    let (reply, _) = unset.host.handle_http("GET", "/scim/v2/Users", &[("authorization", &auth)], vec![]).unwrap();
    assert_eq!(reply.status, 500);
    assert!(reply.json()["detail"].as_str().unwrap().contains("SCIM_TOKEN"));
    assert_eq!(unset.standin.request_count(), 0);

    let long_filter = enc(&format!("userName eq \"{}\"", "a".repeat(10_000)));
    let nested_filter = enc(&format!("{}userName eq \"a@x.io\"{}", "(".repeat(500), ")".repeat(500)));
    // (method, path, body, status, scimType)
    type Case<'a> = (&'a str, String, Option<Value>, u16, Option<&'a str>);
    let mut hostile: Vec<Case> = vec![
        ("GET", "/scim/v2/Users/010101010101".into(), None, 404, None),
        ("GET", "/scim/v2/Users/2819c223-7f76-453a-919d-413861904646".into(), None, 404, None),
        (
            "PATCH",
            "/scim/v2/Users/010101010101".into(),
            Some(patch(json!([{"op": "replace", "value": {"active": false}}]))),
            404,
            None,
        ),
        ("GET", format!("/scim/v2/Users?filter={long_filter}"), None, 400, Some("invalidFilter")),
        ("GET", format!("/scim/v2/Users?filter={nested_filter}"), None, 400, Some("invalidFilter")),
        ("GET", format!("/scim/v2/Users?filter={}", enc("name.familyName co \"x\"")), None, 400, Some("invalidFilter")),
        ("GET", "/scim/v2/Users?count=ten".into(), None, 400, Some("invalidValue")),
        (
            "POST",
            "/scim/v2/Users".into(),
            Some(json!({"userName": "a@acme.test", "favouriteColour": "red"})),
            400,
            Some("invalidSyntax"),
        ),
        (
            "POST",
            "/scim/v2/Groups".into(),
            Some(json!({"displayName": "X", "members": [{"value": "nobody"}]})),
            400,
            Some("invalidValue"),
        ),
        ("DELETE", "/scim/v2/Users".into(), None, 405, None),
        ("GET", "/scim/v2/Bulk".into(), None, 404, None),
    ];
    let op = json!({"op": "add", "path": "members", "value": [{"value": "YWxpY2VAYWNtZS50ZXN0"}]});
    hostile.push((
        "PATCH",
        "/scim/v2/Groups/t1".into(),
        Some(patch(Value::Array(vec![op; 10_000]))),
        400,
        Some("tooMany"),
    ));
    for (method, path, body, status, scim_type) in hostile {
        let (reply, calls) = scim.send(method, &path, body.as_ref());
        assert_scim_error(&reply, status, scim_type);
        assert!(calls.is_empty(), "{method} {}: {calls:?}", &path[..path.len().min(60)]);
    }
    // A body over 1 MiB: the SCIM 413, without reading it all.
    let huge = json!({"userName": "a@acme.test", "displayName": "x".repeat(1024 * 1024)});
    let (reply, calls) = scim.send("POST", "/scim/v2/Users", Some(&huge));
    assert_scim_error(&reply, 413, None);
    assert!(calls.is_empty());
    // Malformed JSON.
    let auth = format!("Bearer {TOKEN}");
    let headers = [("authorization", auth.as_str()), ("content-type", "application/scim+json")];
    scim.world.standin.clear_requests();
    for body in [&b"{\"userName\": "[..], b"[[[[[[[[[[", &[b'['; 100_000]] {
        let (reply, _) =
            scim.world.host.handle_http("POST", "/scim/v2/Users", &headers, body.to_vec()).expect("no trap");
        assert_scim_error(&reply, 400, Some("invalidSyntax"));
    }
    assert_eq!(scim.world.standin.request_count(), 0);
}

/// What README says a full listing costs: without state, every window walks
/// GitBook's cursor chain from the start at 1000 members a request, so
/// window k of 100 costs ceil(k / 10) requests.
#[test]
fn a_full_listing_of_10_000_members_costs_quadratically_many_gitbook_requests() {
    let scim = Scim::new(Org::generated("acme", "gb_test_token", 10_000, 1));
    for (count, expected) in [(100u64, 550usize), (1000, 55)] {
        let (mut requests, mut seen, mut start) = (0, std::collections::HashSet::new(), 1u64);
        loop {
            let (reply, calls) = scim.send("GET", &format!("/scim/v2/Users?startIndex={start}&count={count}"), None);
            let list = reply.json();
            assert_eq!(list["totalResults"], 10_000);
            requests += calls.len();
            let resources = list["Resources"].as_array().unwrap();
            seen.extend(resources.iter().map(|r| r["id"].as_str().unwrap().to_owned()));
            if resources.len() < count as usize || start + count > 10_000 {
                break;
            }
            start += count;
        }
        assert_eq!(seen.len(), 10_000, "every member listed once");
        println!("10,000 members in windows of {count}: {requests} GitBook requests");
        assert_eq!(requests, expected, "windows of {count}");
    }
}

fn nia() -> Value {
    json!({
        "schemas": [USER_SCHEMA], "userName": "nia@acme.test",
        "emails": [{"primary": true, "value": "nia@acme.test", "type": "work"}], "active": true
    })
}

#[test]
fn a_create_against_a_gitbook_slower_than_the_budget_is_a_504_at_the_budget() {
    let scim = Scim { world: World::configured(Org::sample(), &[("SCIM_TOKEN", TOKEN), ("SCIM_DEADLINE_MS", "1500")]) };
    scim.world.standin.inject(Fault::on("GET", "/members", FaultKind::Delay { delay: Duration::from_secs(10) }, 1));
    let started = Instant::now();
    let (reply, calls) = scim.send("POST", "/scim/v2/Users", Some(&nia()));
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(1400) && took < Duration::from_secs(3), "took {took:?}, not 10 s");
    assert_eq!(reply.status, 504, "{}", String::from_utf8_lossy(&reply.body));
    assert!(reply.json()["detail"].as_str().unwrap().contains("deadline exceeded"), "{:?}", reply.json());
    assert_eq!(calls.len(), 1, "the look-up only: nothing written after the budget");
    assert!(scim.world.standin.member_by_email("nia@acme.test").is_none());
}

#[test]
fn a_rate_limited_gitbook_is_a_429_carrying_gitbooks_wait_as_retry_after() {
    let scim = Scim::sample();
    scim.world.standin.inject(Fault::on("GET", "/members", FaultKind::RetryAfter { seconds: 120 }, 1));
    let started = Instant::now();
    let (reply, calls) = scim.send("POST", "/scim/v2/Users", Some(&nia()));
    assert!(started.elapsed() < Duration::from_secs(2), "a wait past max-wait is not waited");
    assert_eq!(reply.status, 429);
    assert_eq!(reply.header("retry-after"), Some("120"));
    assert_eq!(calls.len(), 1);
}
