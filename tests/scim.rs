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
    updated["emails"] = json!([{"primary": true, "value": "nia.ng@acme.test", "type": "work"}]);
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
    assert_eq!(
        lines(&calls),
        [
            format!("GET /v1/orgs/acme/teams/{group}"),
            search("alice@acme.test"),
            search("bob@acme.test"),
            team_members.clone()
        ]
    );
    let by_id = |email: &str| scim.id_of(email);
    assert_eq!(calls[3].2, Some(json!({"add": [by_id("alice@acme.test"), by_id("bob@acme.test")], "remove": []})));

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
    assert_eq!(lines(&calls)[2..], [search("carol@acme.test"), team_members.clone()]);
    assert_eq!(calls[3].2, Some(json!({"add": [by_id("carol@acme.test")], "remove": [by_id("bob@acme.test")]})));
    assert_eq!(calls.len(), 4, "team, members, the newcomer's search, update: {calls:?}");

    // Replace by PATCH, Okta's other form.
    let replace = patch(json!([{"op": "replace", "path": "members", "value": [{"value": alice}, {"value": carol}]}]));
    let (_, calls) = scim.send("PATCH", &format!("/scim/v2/Groups/{group}"), Some(&replace));
    assert_eq!(calls.last().unwrap().2, Some(json!({"add": [by_id("alice@acme.test")], "remove": []})));
    let in_team = scim.world.standin.team_member_ids(&group);
    assert_eq!(in_team, [scim.id_of("carol@acme.test"), scim.id_of("alice@acme.test")]);

    // Found by title, any case, without members as Entra asks.
    let created = scim.world.standin.teams().into_iter().find(|t| t.id == group).unwrap().created_at;
    let filter = enc("displayName eq \"platform eng\"");
    let (reply, calls) = scim.send("GET", &format!("/scim/v2/Groups?excludedAttributes=members&filter={filter}"), None);
    assert_eq!(
        reply.json()["Resources"],
        json!([{"schemas": [GROUP_SCHEMA], "id": group, "displayName": "Platform Eng",
                "meta": {"resourceType": "Group", "created": created, "lastModified": created,
                         "location": format!("http://localhost/scim/v2/Groups/{group}")}}])
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
    assert_eq!(calls[2].2, Some(json!({"add": [scim.id_of("erin@acme.test")], "remove": ["dave@acme.test"]})));
    let (reply, _) = scim.send("GET", &format!("/scim/v2/Groups/{group}"), None);
    assert_eq!(reply.json()["members"], json!([{"value": erin, "display": "Erin Evans"}]));
}

#[test]
fn lists_are_windows_of_gitbook_s_pages() {
    let scim = Scim::new(Org::generated("acme", "gb_test_token", 1500, 3));
    let (reply, calls) = scim.send("GET", "/scim/v2/Users?startIndex=1&count=100", None);
    let list = reply.json();
    assert_eq!((list["totalResults"].as_u64(), list["itemsPerPage"].as_u64()), (Some(1500), Some(100)));
    assert_eq!(list["Resources"].as_array().unwrap().len(), 100);
    assert_eq!(lines(&calls), ["GET /v1/orgs/acme/members?limit=1000&sort=joinedAt&order=asc"]);
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
    assert_eq!(lines(&calls), ["GET /v1/orgs/acme/members?limit=1&sort=joinedAt&order=asc"]);

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
            "/scim/v2/Groups".into(),
            Some(json!({"displayName": "X", "members": [{"id": "nobody"}]})),
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
    // A body over 16 MiB: the SCIM 413, without reading it all.
    let huge = json!({"userName": "a@acme.test", "displayName": "x".repeat(16 * 1024 * 1024)});
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

/// Signs up `email` through SCIM (Okta's create) and returns its SCIM id.
fn provision(scim: &Scim, email: &str) -> String {
    let body = json!({"schemas": [USER_SCHEMA], "userName": email, "active": true,
                      "emails": [{"primary": true, "type": "work", "value": email}]});
    let (reply, _) = scim.send("POST", "/scim/v2/Users", Some(&body));
    assert_eq!(reply.status, 201, "{}", reply.json());
    reply.json()["id"].as_str().unwrap().to_owned()
}

fn deleted(calls: &[Call]) -> Vec<String> {
    calls.iter().filter(|(m, _, _)| m == "DELETE").map(|(m, t, _)| format!("{m} {t}")).collect()
}

#[test]
fn a_deactivation_takes_effect_in_every_form_whatever_else_the_request_carries() {
    let scim = Scim::sample();
    let remove = |email: &str| format!("DELETE /v1/orgs/acme/members/{}", scim.id_of(email));

    // Okta's full PUT for a leaver whose email changed: removed, then the
    // email change is reported.
    let bob = scim.user_id("bob@acme.test");
    let leaver = json!({"schemas": [USER_SCHEMA], "id": bob, "userName": "bob.brown@acme.test", "active": false,
                        "emails": [{"primary": true, "type": "work", "value": "bob.brown@acme.test"}]});
    let expected = remove("bob@acme.test");
    let (reply, calls) = scim.send("PUT", &format!("/scim/v2/Users/{bob}"), Some(&leaver));
    let body = assert_scim_error(&reply, 400, Some("mutability"));
    assert!(body["detail"].as_str().unwrap().contains("deactivated"), "{body}");
    assert_eq!(lines(&calls), [search("bob@acme.test"), expected]);
    assert!(scim.world.standin.member_by_email("bob@acme.test").is_none());

    // Entra batches the changed attributes into one PATCH.
    let carol = scim.user_id("carol@acme.test");
    let entra = patch(json!([
        {"op": "Replace", "path": "userName", "value": "carol.chen@acme.test"},
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "carol.chen@acme.test"},
        {"op": "Replace", "path": "active", "value": "False"}
    ]));
    let expected = remove("carol@acme.test");
    let (reply, calls) = scim.send("PATCH", &format!("/scim/v2/Users/{carol}"), Some(&entra));
    assert_scim_error(&reply, 400, Some("mutability"));
    assert_eq!(deleted(&calls), [expected]);
    assert!(scim.world.standin.member_by_email("carol@acme.test").is_none());

    // The core schema's URN around the attribute, or on its path; any case.
    for (email, operation) in [
        ("dave@acme.test", json!({"op": "replace", "value": {USER_SCHEMA: {"active": false}}})),
        ("erin@acme.test", json!({"op": "REPLACE", "path": format!("{USER_SCHEMA}:active"), "value": "false"})),
        ("frank@acme.test", json!({"op": "replace", "path": "ACTIVE", "value": false})),
    ] {
        let id = scim.user_id(email);
        let expected = remove(email);
        let (reply, calls) = scim.send("PATCH", &format!("/scim/v2/Users/{id}"), Some(&patch(json!([operation]))));
        assert_eq!((reply.status, reply.json()["active"].as_bool()), (200, Some(false)), "{}", reply.json());
        assert_eq!(deleted(&calls), [expected], "{email}");
        assert!(scim.world.standin.member_by_email(email).is_none(), "{email}");
    }

    // A refused role does not keep a leaver either.
    let alice = scim.user_id("alice@acme.test");
    let body = json!({"userName": "alice@acme.test", "active": "FALSE", "roles": [{"value": "owner"}]});
    let expected = remove("alice@acme.test");
    let (reply, calls) = scim.send("PUT", &format!("/scim/v2/Users/{alice}"), Some(&body));
    assert_scim_error(&reply, 400, Some("invalidValue"));
    assert_eq!(deleted(&calls), [expected]);

    // Without a deactivation, a refused change changes nothing at all.
    let gina = scim.user_id("gina@partner.test");
    let moved = patch(json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "g@partner.test"}]));
    let (reply, calls) = scim.send("PATCH", &format!("/scim/v2/Users/{gina}"), Some(&moved));
    assert_scim_error(&reply, 400, Some("mutability"));
    assert!(calls.is_empty(), "{calls:?}");
}

#[test]
fn a_group_change_leaves_out_who_is_not_a_member_and_never_readmits_a_leaver() {
    let scim = Scim::sample();
    // Entra's first cycle: a disabled user is created (201, not invited)…
    let disabled = json!({"schemas": [USER_SCHEMA], "userName": "hana@acme.test", "active": false,
                          "emails": [{"primary": true, "type": "work", "value": "hana@acme.test"}]});
    let (reply, calls) = scim.send("POST", "/scim/v2/Users", Some(&disabled));
    assert_eq!((reply.status, reply.json()["active"].as_bool()), (201, Some(false)));
    assert_eq!(lines(&calls), [search("hana@acme.test")]);
    let hana = reply.json()["id"].as_str().unwrap().to_owned();
    let dave = scim.user_id("dave@acme.test");
    let (reply, _) = scim.send("POST", "/scim/v2/Groups", Some(&json!({"displayName": "Night Shift", "members": []})));
    let group = reply.json()["id"].as_str().unwrap().to_owned();

    // …then added to a group with an active one: the team gets the active one.
    let add = patch(json!([{"op": "Add", "path": "members", "value": [{"value": hana}, {"value": dave}]}]));
    let auth = format!("Bearer {TOKEN}");
    scim.world.standin.clear_requests();
    let headers = [("authorization", auth.as_str()), ("content-type", "application/scim+json")];
    let (reply, output) = scim
        .world
        .host
        .handle_http("PATCH", &format!("/scim/v2/Groups/{group}"), &headers, add.to_string().into_bytes())
        .unwrap();
    assert_eq!((reply.status, reply.body.len()), (204, 0), "Entra expects 204");
    let calls: Vec<Call> = scim.world.requests().iter().map(summary).collect();
    let update = calls.iter().find(|(m, t, _)| m == "PUT" && t.ends_with("/members")).expect("one update");
    assert_eq!(update.2, Some(json!({"add": [scim.id_of("dave@acme.test")], "remove": []})));
    assert_eq!(scim.world.standin.team_member_ids(&group), [scim.id_of("dave@acme.test")]);
    assert!(output.stderr.contains("hana@acme.test"), "the operator's log names who was left out: {}", output.stderr);
    // The same PATCH again (Entra retries every cycle) changes nothing more.
    let (reply, _) = scim.send("PATCH", &format!("/scim/v2/Groups/{group}"), Some(&add));
    assert_eq!(reply.status, 204);

    // A leaver is never re-admitted through a group.
    let erin = scim.user_id("erin@acme.test");
    let (_, _) = scim.send("DELETE", &format!("/scim/v2/Users/{erin}"), None);
    let again = patch(json!([{"op": "add", "path": "members", "value": [{"value": erin}]}]));
    let (reply, calls) = scim.send("PATCH", &format!("/scim/v2/Groups/{group}"), Some(&again));
    assert_eq!(reply.status, 204);
    assert!(!calls.iter().any(|(m, t, _)| m == "PUT" || t.contains("invites")), "{calls:?}");
    assert!(scim.world.standin.member_by_email("erin@acme.test").is_none());

    // POST and PUT: the others go in; the answer lists who is in the team.
    let alice = scim.user_id("alice@acme.test");
    let foreign = "2819c223-7f76-453a-919d-413861904646";
    let body = json!({"displayName": "Mixed",
                      "members": [{"value": hana}, {"value": alice}, {"value": erin}, {"value": foreign}]});
    let (reply, calls) = scim.send("POST", "/scim/v2/Groups", Some(&body));
    assert_eq!(reply.status, 201, "{}", reply.json());
    assert_eq!(reply.json()["members"], json!([{"value": alice, "display": "Alice Anderson"}]));
    assert_eq!(calls.last().unwrap().2, Some(json!({"title": "Mixed", "members": [scim.id_of("alice@acme.test")]})));
    let mixed = reply.json()["id"].as_str().unwrap().to_owned();
    let body = json!({"displayName": "Mixed", "members": [{"value": hana}, {"value": dave}]});
    let (reply, calls) = scim.send("PUT", &format!("/scim/v2/Groups/{mixed}"), Some(&body));
    assert_eq!(reply.json()["members"], json!([{"value": dave, "display": "Dave Dubois"}]));
    assert_eq!(
        calls.last().unwrap().2,
        Some(json!({"add": [scim.id_of("dave@acme.test")], "remove": [scim.id_of("alice@acme.test")]}))
    );
}

#[test]
fn a_lost_answer_to_post_groups_never_makes_a_second_team() {
    use host_test::standin::{Fault, FaultKind};
    let scim = Scim::sample();
    scim.world.standin.inject(Fault::on_path_ending("PUT", "/teams", FaultKind::ApplyThenDrop, 1));
    let body = json!({"displayName": "Retried", "members": []});
    let (reply, calls) = scim.send("POST", "/scim/v2/Groups", Some(&body));
    assert_eq!(reply.status, 201, "{}", reply.json());
    let puts = calls.iter().filter(|(m, t, _)| m == "PUT" && t.ends_with("/teams")).count();
    assert_eq!(puts, 1, "the title was looked up instead of creating again: {calls:?}");
    // The IdP's own retry (its request timed out) finds the team: 409.
    let (reply, _) = scim.send("POST", "/scim/v2/Groups", Some(&body));
    assert_scim_error(&reply, 409, Some("uniqueness"));
    assert_eq!(scim.world.standin.teams().iter().filter(|t| t.title == "Retried").count(), 1);
}

/// Okta pushes whole member lists by PUT; GitBook gets requests of at most
/// 1000 people each (the stand-in refuses more, as modelled).
#[test]
fn a_group_of_50_000_members_is_pushed_by_put_in_bounded_requests() {
    const N: usize = 50_000;
    let scim = Scim::new(Org::generated("acme", "gb_test_token", N, 1).with_max_team_update(1000));
    let (reply, _) = scim.send("POST", "/scim/v2/Groups", Some(&json!({"displayName": "Everyone", "members": []})));
    let group = reply.json()["id"].as_str().unwrap().to_owned();
    let members: Vec<Value> = scim
        .world
        .standin
        .members()
        .iter()
        .map(|m| {
            let id = base64url(m.email.to_ascii_lowercase().as_bytes());
            json!({"value": id, "display": m.display_name})
        })
        .collect();
    let body = json!({"schemas": [GROUP_SCHEMA], "displayName": "Everyone", "members": members});
    println!("PUT body: {} bytes", body.to_string().len());
    let started = std::time::Instant::now();
    let (reply, calls) = scim.send("PUT", &format!("/scim/v2/Groups/{group}"), Some(&body));
    let elapsed = started.elapsed();
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body[..reply.body.len().min(500)]));
    assert_eq!(reply.json()["members"].as_array().unwrap().len(), N);
    assert_eq!(scim.world.standin.team_member_ids(&group).len(), N);
    let updates: Vec<&Call> = calls.iter().filter(|(m, t, _)| m == "PUT" && t.ends_with("/members")).collect();
    for (_, _, body) in &updates {
        let body = body.as_ref().unwrap();
        let entries = body["add"].as_array().unwrap().len() + body["remove"].as_array().unwrap().len();
        assert!(entries <= 1000, "{entries} entries in one request");
    }
    // The team (1), its members (empty: 1), the organization (50 pages of
    // 1000), then 50 updates of 1000.
    assert_eq!((calls.len(), updates.len()), (102, 50), "{:?}", lines(&calls)[..3].to_vec());
    println!("50,000 members by PUT: {} GitBook requests in {:.1} s", calls.len(), elapsed.as_secs_f64());
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// Microsoft's example requests, verbatim from its SCIM tutorial
/// (https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups,
/// "SCIM protocol requests and responses"), sent to this service's ids
/// where they name one.
#[test]
fn microsoft_s_documented_example_requests_are_accepted() {
    let scim = Scim::sample();
    let create_user = r#"{
    "schemas": [
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
    "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
    "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
    "active": true,
    "emails": [{
        "primary": true,
        "type": "work",
        "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"
    }],
    "meta": {
        "resourceType": "User"
    },
    "name": {
        "formatted": "givenName familyName",
        "familyName": "familyName",
        "givenName": "givenName"
    },
    "roles": []
}"#;
    let email = "test_user_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com";
    let (reply, calls) = scim.send("POST", "/scim/v2/Users", Some(&serde_json::from_str(create_user).unwrap()));
    assert_eq!(reply.status, 201, "{}", reply.json());
    assert_eq!(calls[1].2, Some(json!({"emails": [{"email": email, "role": "read"}], "role": "read", "sso": true})));
    let user = reply.json();
    assert_eq!(user["userName"], "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee", "answered as sent");
    assert_eq!(user["emails"][0]["value"], email);
    let id = user["id"].as_str().unwrap().to_owned();
    let (reply, _) = scim.send("GET", &format!("/scim/v2/Users/{id}"), None);
    assert_eq!(
        (reply.json()["id"].as_str(), reply.json()["userName"].as_str()),
        (Some(id.as_str()), user["userName"].as_str())
    );

    // Entra's top-level null attributes and a path naming one.
    let custom = json!({"schemas": [USER_SCHEMA], "userName": "kim@acme.test", "active": true, "department": null,
                        "manager": null, "emails": [{"primary": true, "type": "work", "value": "kim@acme.test"}]});
    let (reply, _) = scim.send("POST", "/scim/v2/Users", Some(&custom));
    assert_eq!(reply.status, 201, "{}", reply.json());
    let kim = reply.json()["id"].as_str().unwrap().to_owned();
    let manager = patch(
        json!([{"op": "Add", "path": "manager", "value": "m1"}, {"op": "Replace", "path": "costCentre", "value": "7"}]),
    );
    let (reply, calls) = scim.send("PATCH", &format!("/scim/v2/Users/{kim}"), Some(&manager));
    assert_eq!(reply.status, 200, "{}", reply.json());
    assert_eq!(lines(&calls), [search("kim@acme.test")]);

    // Update User [Single-valued properties]: a new userName, the same GitBook email.
    let single = r#"{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "Replace",
        "path": "userName",
        "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"
    }]
}"#;
    let (reply, calls) =
        scim.send("PATCH", &format!("/scim/v2/Users/{id}"), Some(&serde_json::from_str(single).unwrap()));
    assert_eq!(reply.status, 200, "{}", reply.json());
    assert_eq!(reply.json()["userName"], "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com");
    assert_eq!(lines(&calls), [search(email)], "GitBook keeps the member as they are");

    // Update User [Multi-valued properties]: a new work email is a new person to GitBook.
    let multi = r#"{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [
            {
            "op": "Replace",
            "path": "emails[type eq \"work\"].value",
            "value": "updatedEmail@microsoft.com"
            },
            {
            "op": "Replace",
            "path": "name.familyName",
            "value": "updatedFamilyName"
            }
    ]
}"#;
    let (reply, calls) =
        scim.send("PATCH", &format!("/scim/v2/Users/{id}"), Some(&serde_json::from_str(multi).unwrap()));
    let error = assert_scim_error(&reply, 400, Some("mutability"));
    assert!(error["detail"].as_str().unwrap().contains("deprovision"), "{error}");
    assert!(calls.is_empty());

    // Create Group, Update Group [Non-member attributes], [Add Members], [Remove Members], Disable User.
    let create_group = r#"{
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
    "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
    "displayName": "displayName",
    "meta": {
        "resourceType": "Group"
    }
}"#;
    let (reply, calls) = scim.send("POST", "/scim/v2/Groups", Some(&serde_json::from_str(create_group).unwrap()));
    assert_eq!(reply.status, 201, "{}", reply.json());
    assert_eq!(calls.last().unwrap().2, Some(json!({"title": "displayName"})));
    let group = reply.json()["id"].as_str().unwrap().to_owned();
    let rename = r#"{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "Replace",
        "path": "displayName",
        "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"
    }]
}"#;
    let (reply, calls) =
        scim.send("PATCH", &format!("/scim/v2/Groups/{group}"), Some(&serde_json::from_str(rename).unwrap()));
    assert_eq!(reply.status, 204);
    assert_eq!(calls[1].2, Some(json!({"title": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"})));
    let add_members = r#"{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "Add",
        "path": "members",
        "value": [{
            "$ref": null,
            "value": "f648f8d5ea4e4cd38e9c"
        }]
    }]
}"#
    .replace("f648f8d5ea4e4cd38e9c", &id);
    let (reply, calls) =
        scim.send("PATCH", &format!("/scim/v2/Groups/{group}"), Some(&serde_json::from_str(&add_members).unwrap()));
    assert_eq!(reply.status, 204);
    let member = scim.id_of(email);
    assert_eq!(calls.last().unwrap().2, Some(json!({"add": [member], "remove": []})));
    let remove_members = add_members.replace("\"Add\"", "\"Remove\"");
    let (reply, calls) =
        scim.send("PATCH", &format!("/scim/v2/Groups/{group}"), Some(&serde_json::from_str(&remove_members).unwrap()));
    assert_eq!(reply.status, 204);
    assert_eq!(calls.last().unwrap().2, Some(json!({"add": [], "remove": [email]})));
    let disable = r#"{
    "Operations": [
        {
            "op": "Replace",
            "path": "active",
            "value": false
        }
    ],
    "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    ]
}"#;
    let (reply, calls) =
        scim.send("PATCH", &format!("/scim/v2/Users/{id}"), Some(&serde_json::from_str(disable).unwrap()));
    assert_eq!((reply.status, reply.json()["active"].as_bool()), (200, Some(false)));
    assert_eq!(deleted(&calls), [format!("DELETE /v1/orgs/acme/members/{member}")]);
}

#[test]
fn roles_follow_one_rule_in_put_and_patch() {
    let scim = Scim::sample();
    let bob = scim.user_id("bob@acme.test");
    let role_changes = |calls: &[Call]| calls.iter().filter(|(m, _, _)| m == "PATCH").count();
    let put = |roles: Value| {
        json!({"userName": "bob@acme.test", "active": true, "roles": roles,
               "emails": [{"type": "work", "value": "bob@acme.test"}]})
    };
    for body in [put(json!([])), put(Value::Null)] {
        let (reply, calls) = scim.send("PUT", &format!("/scim/v2/Users/{bob}"), Some(&body));
        assert_eq!(reply.json()["roles"][0]["value"], "edit", "{body}");
        assert_eq!(role_changes(&calls), 0, "{body}");
    }
    for operations in [
        json!([{"op": "Replace", "path": "roles", "value": []}]),
        json!([{"op": "Remove", "path": "roles"}]),
        json!([{"op": "Replace", "value": {"roles": []}}]),
    ] {
        let (reply, calls) = scim.send("PATCH", &format!("/scim/v2/Users/{bob}"), Some(&patch(operations.clone())));
        assert_eq!(reply.json()["roles"][0]["value"], "edit", "{operations}");
        assert_eq!(role_changes(&calls), 0, "{operations}");
    }
    let (reply, calls) = scim.send("PUT", &format!("/scim/v2/Users/{bob}"), Some(&put(json!([{"value": "review"}]))));
    assert_eq!((reply.json()["roles"][0]["value"].as_str(), role_changes(&calls)), (Some("review"), 1));
    let entra = patch(json!([{"op": "Add", "path": "roles[primary eq \"True\"].value", "value": "edit"}]));
    let (reply, calls) = scim.send("PATCH", &format!("/scim/v2/Users/{bob}"), Some(&entra));
    assert_eq!((reply.json()["roles"][0]["value"].as_str(), role_changes(&calls)), (Some("edit"), 1));
    assert_eq!(calls[1].2, Some(json!({"role": "edit"})));
}

/// Okta pages with startIndex/count; people join and leave between two
/// windows. Oldest first, a join lands after every window already read.
#[test]
fn paging_while_members_join_and_leave_repeats_and_loses_none_of_the_others() {
    let scim = Scim::new(Org::generated("acme", "gb_test_token", 2500, 1));
    let ids = |start: usize, count: usize| -> Vec<String> {
        let (reply, calls) = scim.send("GET", &format!("/scim/v2/Users?startIndex={start}&count={count}"), None);
        assert!(calls.iter().all(|(_, t, _)| t.contains("sort=joinedAt&order=asc")), "{calls:?}");
        reply.json()["Resources"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect()
    };
    let before: Vec<String> = ids(1, 1000).into_iter().chain(ids(1001, 1000)).chain(ids(2001, 1000)).collect();
    assert_eq!(before.len(), 2500);

    let mut seen = ids(1, 1000);
    // Between windows: three join, and two of the people not listed yet leave.
    for k in 0..3 {
        provision(&scim, &format!("joiner{k}@acme.test"));
    }
    let leavers = [before[1500].clone(), before[2400].clone()];
    for id in &leavers {
        let (reply, _) = scim.send("DELETE", &format!("/scim/v2/Users/{id}"), None);
        assert_eq!(reply.status, 204);
    }
    seen.extend(ids(1001, 1000));
    seen.extend(ids(2001, 1000));
    let unique: std::collections::HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "nobody is listed twice");
    for id in before.iter().filter(|id| !leavers.contains(id)) {
        assert!(unique.contains(id), "{id} was listed before and is still a member");
    }
    assert_eq!(seen.len(), 2500 - 2 + 3, "the joiners come last");
}

#[test]
fn a_plus_in_a_filter_value_is_a_plus_however_it_is_encoded() {
    let scim = Scim::sample();
    let id = provision(&scim, "ann+eng@acme.test");
    for query in [
        "filter=userName+eq+%22ann%2Beng%40acme.test%22",
        "filter=userName%20eq%20%22ann+eng@acme.test%22",
        "filter=userName%20eq%20%22ann%2Beng@acme.test%22",
    ] {
        let (reply, calls) = scim.send("GET", &format!("/scim/v2/Users?{query}"), None);
        assert_eq!(reply.json()["Resources"][0]["id"], id.as_str(), "{query}");
        assert_eq!(lines(&calls), [search("ann+eng@acme.test")], "{query}");
    }
}

#[test]
fn answers_carry_locations_timestamps_allow_and_only_the_attributes_asked_for() {
    let scim = Scim::sample();
    let auth = format!("Bearer {TOKEN}");
    // The reference host serves as `localhost`; behind a proxy that says https.
    let headers =
        [("authorization", auth.as_str()), ("content-type", "application/scim+json"), ("x-forwarded-proto", "https")];
    let body = json!({"userName": "lee@acme.test", "emails": [{"type": "work", "value": "lee@acme.test"}]});
    let (reply, _) = scim.send_with("POST", "/scim/v2/Users", &headers, Some(&body));
    let user = reply.json();
    let location = format!("https://localhost/scim/v2/Users/{}", user["id"].as_str().unwrap());
    assert_eq!((reply.status, reply.header("location")), (201, Some(location.as_str())));
    assert_eq!(user["meta"]["location"], location);
    let joined = scim.world.standin.member_by_email("lee@acme.test").unwrap().joined_at;
    assert_eq!(
        (user["meta"]["created"].as_str(), user["meta"]["lastModified"].as_str()),
        (Some(joined.as_str()), Some(joined.as_str()))
    );

    let (reply, _) = scim.send("POST", "/scim/v2/Groups", Some(&json!({"displayName": "Located"})));
    let created = scim.world.standin.teams().into_iter().find(|t| t.title == "Located").unwrap().created_at;
    assert_eq!(reply.json()["meta"]["created"], created.as_str());
    let location = format!("http://localhost/scim/v2/Groups/{}", reply.json()["id"].as_str().unwrap());
    assert_eq!(
        (reply.header("location"), reply.json()["meta"]["location"].as_str()),
        (Some(location.as_str()), Some(location.as_str()))
    );

    let (reply, calls) = scim.send("DELETE", "/scim/v2/Groups", None);
    assert_scim_error(&reply, 405, None);
    assert_eq!(reply.header("allow"), Some("GET, POST"));
    assert!(calls.is_empty());

    let id = user["id"].as_str().unwrap();
    let (reply, _) = scim.send("GET", &format!("/scim/v2/Users/{id}?attributes=userName,name.givenName"), None);
    let keys: Vec<String> = reply.json().as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["id", "name", "schemas", "userName"]);
    let (reply, _) = scim.send("GET", "/scim/v2/Users?excludedAttributes=emails,meta&count=2", None);
    for user in reply.json()["Resources"].as_array().unwrap() {
        assert!(user.get("emails").is_none() && user.get("meta").is_none() && user.get("id").is_some(), "{user}");
    }
    // A group asked for without its members does not read them.
    let eng = scim.team_id("Engineering");
    let (reply, calls) = scim.send("GET", &format!("/scim/v2/Groups/{eng}?attributes=displayName"), None);
    assert_eq!((reply.json().get("members"), calls.len()), (None, 1));
}

#[test]
fn configuration_and_gitbook_failures_are_scim_errors_that_name_no_internals() {
    // A bad value: checked after authentication; the operator's log says which.
    let world = World::configured(Org::sample(), &[("SCIM_TOKEN", TOKEN), ("GITBOOK_DEFAULT_ROLE", "owner")]);
    let (reply, _) = world.host.handle_http("GET", "/scim/v2/Users", &[], vec![]).unwrap();
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json()["schemas"], json!([ERROR_SCHEMA]));
    let auth = format!("Bearer {TOKEN}");
    let (reply, output) = world.host.handle_http("GET", "/scim/v2/Users", &[("authorization", &auth)], vec![]).unwrap();
    let body = reply.json();
    assert_eq!(
        (reply.status, body["schemas"].clone(), body["status"].as_str()),
        (500, json!([ERROR_SCHEMA]), Some("500"))
    );
    assert!(!body.to_string().contains("GITBOOK_DEFAULT_ROLE") && !body.to_string().contains("owner"), "{body}");
    assert!(output.stderr.contains("GITBOOK_DEFAULT_ROLE"), "{}", output.stderr);
    assert_eq!(world.standin.request_count(), 0);

    // GitBook unreachable: neither its host nor its port in the answer.
    use host_test::standin::{Fault, FaultKind};
    let scim = Scim::sample();
    let authority = scim.world.standin.base_url().trim_start_matches("http://").to_owned();
    let port = authority.rsplit(':').next().unwrap().to_owned();
    scim.world.standin.inject(Fault::on_path_ending("GET", "/members", FaultKind::Drop, 100));
    let (reply, _) = scim.send("GET", "/scim/v2/Users?count=5", None);
    let body = assert_scim_error(&reply, 502, None);
    let text = body.to_string();
    assert!(!text.contains("127.0.0.1") && !text.contains(&port), "{text}");
}

/// README's deactivate/reactivate table: a reactivated member is invited
/// again with the IdP's (or the default) role and in no team.
#[test]
fn a_reactivated_member_comes_back_without_their_teams() {
    let scim = Scim::sample();
    let carol = scim.user_id("carol@acme.test");
    let carol_gitbook = scim.id_of("carol@acme.test");
    let in_teams = |scim: &Scim| {
        scim.world
            .standin
            .teams()
            .iter()
            .filter(|t| scim.world.standin.team_member_ids(&t.id).contains(&carol_gitbook))
            .count()
    };
    assert_eq!(in_teams(&scim), 2);
    let off = patch(json!([{"op": "replace", "value": {"active": false}}]));
    scim.send("PATCH", &format!("/scim/v2/Users/{carol}"), Some(&off));
    let on = patch(json!([{"op": "replace", "value": {"active": true}}]));
    let (reply, calls) = scim.send("PATCH", &format!("/scim/v2/Users/{carol}"), Some(&on));
    assert_eq!(
        (reply.json()["active"].as_bool(), reply.json()["roles"][0]["value"].as_str()),
        (Some(true), Some("read"))
    );
    assert!(calls.iter().all(|(_, t, _)| !t.contains("/teams")), "{calls:?}");
    assert_eq!(in_teams(&scim), 0);
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
