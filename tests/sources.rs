//! `sync --source google|entra|okta` as users run it: the real `wasmtime`
//! CLI, the component, the GitBook stand-in and each directory's strict
//! stand-in, all over 127.0.0.1. Each test asserts what reached the
//! directory (request counts) and what GitBook ends up holding.
//!
//! Needs wasmtime 48.x on PATH (or in $WASMTIME); `.ci/run` installs it.

mod common;

use common::{plan_options, World};
use host_test::bindings::exports::gitbook::directory_sync::reconcile::{DirectorySource, SourceKind, Strategy};
use host_test::bindings::exports::gitbook::directory_sync::types::Error as WitError;
use host_test::component_path;
use host_test::directories::{Api, Credentials, DirFault, Directory, DirectoryStandIn};
use host_test::standin::{Org, Role, StandIn};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;

const GITBOOK_TOKEN: &str = "gb_src_CANARY_91x";
const OKTA_TOKEN: &str = "00okta_CANARY_7f3";
const ENTRA_SECRET: &str = "entra~CANARY~5q";
const TEST_KEY: &str = include_str!("../src/sources/testdata/TEST-ONLY-service-account-key.pem");
const TEST_PUBLIC_KEY: &str = include_str!("../src/sources/testdata/TEST-ONLY-service-account-key.pub.pem");
const SERVICE_ACCOUNT: &str = "sync@acme-sync.iam.gserviceaccount.com";

fn credentials() -> Credentials {
    Credentials {
        google_client_email: SERVICE_ACCOUNT.into(),
        google_subject: "admin@acme.test".into(),
        google_public_key_pem: TEST_PUBLIC_KEY.into(),
        entra_tenant: "acme.onmicrosoft.test".into(),
        entra_client_id: "11111111-2222-3333-4444-555555555555".into(),
        entra_client_secret: ENTRA_SECRET.into(),
        okta_token: OKTA_TOKEN.into(),
    }
}

fn wasmtime() -> String {
    std::env::var("WASMTIME").unwrap_or_else(|_| "wasmtime".into())
}

/// The directory every end-to-end test starts from: ann and alice in eng,
/// bob in core (nested in eng where the directory nests groups; a member
/// of eng directly in Okta, whose groups do not nest), dee in ops, and
/// cy, suspended, in eng.
fn directory(api: Api) -> Directory {
    let eng_users: &[&str] = if api == Api::Okta { &["u1", "u2", "u3", "u5"] } else { &["u1", "u2", "u5"] };
    let eng_groups: &[&str] = if api == Api::Okta { &[] } else { &["g2"] };
    Directory::default()
        .with_user("u1", "ann@acme.test", true)
        .with_user("u2", "alice@acme.test", true)
        .with_user("u3", "bob@acme.test", true)
        .with_user("u4", "dee@acme.test", true)
        .with_user("u5", "cy@acme.test", false)
        .with_group("g1", "eng", eng_users, eng_groups)
        // core nests eng back: a cycle the read must stop.
        .with_group("g2", "core", &["u3"], if api == Api::Okta { &[] } else { &["g1"] })
        .with_group("g3", "ops", &["u4"], &[])
}

/// GitBook before: alice (admin) in Engineering, and old, who left.
fn org() -> Org {
    Org::new("acme", GITBOOK_TOKEN)
        .with_member("alice@acme.test", "Alice", Some(Role::Admin))
        .with_member("old@acme.test", "Old", Some(Role::Read))
        .with_team("Engineering", &["alice@acme.test"])
}

struct Setup {
    api: Api,
    gitbook: StandIn,
    directory: DirectoryStandIn,
    dir: PathBuf,
    env: Vec<(String, String)>,
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn group(api: Api, name: &str) -> String {
    if api == Api::Google {
        format!("{name}@acme.test")
    } else {
        name.to_owned()
    }
}

impl Setup {
    fn new(api: Api, directory: Directory, org: Org) -> Setup {
        let gitbook = StandIn::start(org).unwrap();
        let standin = DirectoryStandIn::start(api, directory, credentials()).unwrap();
        let dir = std::env::temp_dir().join(format!("gds-sources-{}-{api:?}-{}", std::process::id(), line!()));
        let dir = dir.with_extension(format!(
            "{}",
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let rules = json!({
            "groupTeams": {group(api, "eng"): "Engineering", group(api, "ops"): "Operations"},
            "defaultRole": "read",
        });
        std::fs::write(dir.join("rules.json"), rules.to_string()).unwrap();
        let key = json!({"type": "service_account", "project_id": "acme-sync", "private_key_id": "test-only",
            "private_key": TEST_KEY, "client_email": SERVICE_ACCOUNT, "token_uri": "https://oauth2.googleapis.com/token"});
        std::fs::write(dir.join("key.json"), key.to_string()).unwrap();
        let base = standin.base_url();
        let mut env = vec![
            ("GITBOOK_TOKEN".to_string(), GITBOOK_TOKEN.to_string()),
            ("GITBOOK_ORG".into(), "acme".into()),
            ("GITBOOK_API_URL".into(), gitbook.base_url()),
        ];
        let source_env: Vec<(&str, String)> = match api {
            Api::Google => vec![("GOOGLE_ADMIN_EMAIL", "admin@acme.test".into()), ("GOOGLE_API_URL", base)],
            Api::Entra => vec![
                ("ENTRA_TENANT_ID", "acme.onmicrosoft.test".into()),
                ("ENTRA_CLIENT_ID", "11111111-2222-3333-4444-555555555555".into()),
                ("ENTRA_CLIENT_SECRET", ENTRA_SECRET.into()),
                ("ENTRA_GRAPH_URL", base.clone()),
                ("ENTRA_LOGIN_URL", base),
            ],
            Api::Okta => vec![("OKTA_ORG_URL", base), ("OKTA_API_TOKEN", OKTA_TOKEN.into())],
        };
        env.extend(source_env.into_iter().map(|(n, v)| (n.to_string(), v)));
        Setup { api, gitbook, directory: standin, dir, env }
    }

    fn standard(api: Api) -> Setup {
        Setup::new(api, directory(api), org())
    }

    fn source(&self) -> &'static str {
        match self.api {
            Api::Google => "google",
            Api::Entra => "entra",
            Api::Okta => "okta",
        }
    }

    fn sync(&self, extra: &[&str]) -> Run {
        let mut command = Command::new(wasmtime());
        command.args(["run", "-S", "http", "--dir", &format!("{}::/work", self.dir.display())]);
        for (name, value) in &self.env {
            command.arg("--env").arg(format!("{name}={value}"));
        }
        command.arg(component_path());
        command.args(["sync", "--allow-insecure-http", "--source", self.source(), "--rules", "/work/rules.json"]);
        if self.api == Api::Google {
            command.args(["--key-file", "/work/key.json"]);
        }
        command.args(extra);
        let output = command.output().expect("wasmtime runs");
        let run = Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        for secret in [GITBOOK_TOKEN, OKTA_TOKEN, ENTRA_SECRET, "PRIVATE KEY", "ya29.standin", "eyJ0eXAi.standin"] {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "{secret} leaked: {} {}",
                run.stdout,
                run.stderr
            );
        }
        run
    }

    /// API requests the directory stand-in answered (token requests aside).
    fn api_requests(&self) -> usize {
        self.directory.requests().iter().filter(|r| !r.path.ends_with("token")).count()
    }

    fn token_requests(&self) -> usize {
        self.directory.requests().iter().filter(|r| r.path.ends_with("token")).count()
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

/// Requests a clean read of [`directory`] takes: the user list, a lookup
/// per rule group where groups are found by name, and a member list per
/// group read (Google reads eng, core and ops: core is nested in eng).
fn clean_read_requests(api: Api) -> usize {
    match api {
        Api::Google => 1 + 3,
        Api::Entra | Api::Okta => 1 + 2 + 2,
    }
}

fn users_and_nested_groups_become_the_plan_and_the_gitbook_state(api: Api) {
    let setup = Setup::standard(api);
    // The dry run reads the directory and GitBook and changes nothing.
    let run = setup.sync(&["--strategy", "sync", "--max-removal-percent", "50", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let dry: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(setup.gitbook.members().len(), 2);
    let run = setup.sync(&["--strategy", "sync", "--max-removal-percent", "50", "--json", "--apply"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let applied: Value = serde_json::from_str(&run.stdout).unwrap();
    let plan = &applied["plan"];
    let invited: Vec<&str> = plan["invites"].as_array().unwrap().iter().map(|i| i["email"].as_str().unwrap()).collect();
    assert_eq!(invited, ["ann@acme.test", "bob@acme.test", "dee@acme.test"], "{plan:#}");
    assert_eq!(plan["invites"], dry["invites"]);
    let removed: Vec<&str> =
        plan["removals"].as_array().unwrap().iter().map(|r| r["email"].as_str().unwrap()).collect();
    assert_eq!(removed, ["old@acme.test"], "{plan:#}");
    // GitBook afterwards: the directory's people, old gone, cy (suspended) never invited.
    let mut emails: Vec<String> = setup.gitbook.members().iter().map(|m| m.email.clone()).collect();
    emails.sort();
    assert_eq!(emails, ["alice@acme.test", "ann@acme.test", "bob@acme.test", "dee@acme.test"]);
    let team = |title: &str| {
        let team = setup.gitbook.teams().into_iter().find(|t| t.title == title).unwrap_or_else(|| panic!("{title}"));
        let mut emails: Vec<String> = team
            .member_ids
            .iter()
            .map(|id| setup.gitbook.members().into_iter().find(|m| &m.id == id).unwrap().email)
            .collect();
        emails.sort();
        emails
    };
    assert_eq!(team("Engineering"), ["alice@acme.test", "ann@acme.test", "bob@acme.test"]);
    assert_eq!(team("Operations"), ["dee@acme.test"]);
    // Two runs (the dry run, then --apply), each reading the directory once.
    assert_eq!(setup.api_requests(), 2 * clean_read_requests(api), "{:#?}", setup.directory.requests());
    assert_eq!(setup.token_requests(), if api == Api::Okta { 0 } else { 2 });
    // Okta lists active users only (status eq "ACTIVE"); the others list
    // cy too and leave her out as suspended.
    let listed = if api == Api::Okta { 4 } else { 5 };
    assert!(run.stderr.contains(&format!("{listed} users listed, 4 in the snapshot")), "{}", run.stderr);
}

fn a_refused_credential_names_the_source_and_nothing_reaches_gitbook(api: Api) {
    let mut setup = Setup::standard(api);
    match api {
        Api::Google => setup.env.retain(|(n, _)| n != "GOOGLE_ADMIN_EMAIL"),
        Api::Entra => setup.env.retain(|(n, _)| n != "ENTRA_CLIENT_SECRET"),
        Api::Okta => setup.env.retain(|(n, _)| n != "OKTA_API_TOKEN"),
    }
    let wrong = match api {
        Api::Google => ("GOOGLE_ADMIN_EMAIL", "someone@acme.test"),
        Api::Entra => ("ENTRA_CLIENT_SECRET", "wrong~secret"),
        Api::Okta => ("OKTA_API_TOKEN", "00wrongTOKEN"),
    };
    setup.env.push((wrong.0.into(), wrong.1.into()));
    let run = setup.sync(&["--strategy", "sync", "--apply"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let title = match api {
        Api::Google => "Google Workspace",
        Api::Entra => "Microsoft Entra ID",
        Api::Okta => "Okta",
    };
    assert!(run.stderr.contains(&format!("{title} refused the credentials")), "{}", run.stderr);
    assert!(run.stderr.contains("check the source's credentials"), "{}", run.stderr);
    assert_eq!(setup.gitbook.request_count(), 0, "nothing planned, nothing applied");
    assert!(setup.directory.requests().iter().all(|r| r.status == 401), "{:#?}", setup.directory.requests());
}

fn throttling_is_waited_out_with_one_extra_request(api: Api) {
    let setup = Setup::standard(api);
    setup.directory.inject(DirFault::ThrottleNth { n: 2 });
    let run = setup.sync(&["--dump-snapshot"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let snapshot: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(snapshot["users"].as_array().unwrap().len(), 4);
    assert_eq!(setup.api_requests(), clean_read_requests(api) + 1);
    assert!(run.stderr.contains("(1 repeated)"), "{}", run.stderr);
}

fn a_failure_mid_walk_removes_nobody(api: Api) {
    let setup = Setup::standard(api);
    setup.directory.inject(DirFault::FailNth { n: 3, status: 503 });
    let run = setup.sync(&["--strategy", "sync", "--max-removal-percent", "50", "--apply", "--max-attempts", "1"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("server error (HTTP 503)"), "{}", run.stderr);
    assert_eq!(setup.gitbook.request_count(), 0, "no plan, so nothing read or removed at GitBook");
    assert!(setup.gitbook.member_by_email("old@acme.test").is_some());
}

fn paging_reads_every_page_at_the_largest_size(api: Api, users: usize, pages: usize) {
    let directory = Directory::generated(users, 2);
    let setup = Setup::new(api, directory, org());
    // The generated groups are group-001 and group-002; the rules name eng
    // and ops, which this directory lacks, so the rules here name them.
    let rules = json!({"groupTeams": {group(api, "group-001"): "One", group(api, "group-002"): "Two"}});
    std::fs::write(setup.dir.join("rules.json"), rules.to_string()).unwrap();
    let run = setup.sync(&["--dump-snapshot"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let snapshot: Value = serde_json::from_str(&run.stdout).unwrap();
    let active = users - users / 20;
    assert_eq!(snapshot["users"].as_array().unwrap().len(), active);
    assert_eq!(
        setup.api_requests(),
        pages,
        "{:#?}",
        setup.directory.requests().iter().map(|r| &r.path).collect::<Vec<_>>()
    );
}

#[test]
fn google_users_and_nested_groups_become_the_plan_and_the_gitbook_state() {
    users_and_nested_groups_become_the_plan_and_the_gitbook_state(Api::Google);
}

#[test]
fn entra_users_and_nested_groups_become_the_plan_and_the_gitbook_state() {
    users_and_nested_groups_become_the_plan_and_the_gitbook_state(Api::Entra);
}

#[test]
fn okta_users_and_groups_become_the_plan_and_the_gitbook_state() {
    users_and_nested_groups_become_the_plan_and_the_gitbook_state(Api::Okta);
}

#[test]
fn google_refused_credentials() {
    a_refused_credential_names_the_source_and_nothing_reaches_gitbook(Api::Google);
}

#[test]
fn entra_refused_credentials() {
    a_refused_credential_names_the_source_and_nothing_reaches_gitbook(Api::Entra);
}

#[test]
fn okta_refused_credentials() {
    a_refused_credential_names_the_source_and_nothing_reaches_gitbook(Api::Okta);
}

#[test]
fn google_throttling() {
    throttling_is_waited_out_with_one_extra_request(Api::Google);
}

#[test]
fn entra_throttling() {
    throttling_is_waited_out_with_one_extra_request(Api::Entra);
}

#[test]
fn okta_throttling() {
    throttling_is_waited_out_with_one_extra_request(Api::Okta);
}

#[test]
fn google_failure_mid_walk() {
    a_failure_mid_walk_removes_nobody(Api::Google);
}

#[test]
fn entra_failure_mid_walk() {
    a_failure_mid_walk_removes_nobody(Api::Entra);
}

#[test]
fn okta_failure_mid_walk() {
    a_failure_mid_walk_removes_nobody(Api::Okta);
}

// 2,345 users (2,228 active) in two groups of 1,173 and 1,172:
// Google: 5 user pages of 500, then 6 + 6 member pages of 200.
#[test]
fn google_paging() {
    paging_reads_every_page_at_the_largest_size(Api::Google, 2345, 5 + 6 + 6);
}

// Graph: 3 user pages of 999, 2 lookups, 2 + 2 member pages of 999.
#[test]
fn entra_paging() {
    paging_reads_every_page_at_the_largest_size(Api::Entra, 2345, 3 + 2 + 2 + 2);
}

// Okta: only active users are listed: 2,228 in 12 pages of 200; 2 lookups;
// 2 + 2 member pages of 1,000.
#[test]
fn okta_paging() {
    paging_reads_every_page_at_the_largest_size(Api::Okta, 2345, 12 + 2 + 2 + 2);
}

/// The WIT `reconcile.plan-from-source` in the reference host, whose
/// outbound allow-list names GitBook's stand-in and the directory's: the
/// plan matches the CLI's. Without the directory's host on the list, the
/// host refuses the connection and nothing is planned.
#[test]
fn wit_plan_from_source_reaches_only_the_hosts_the_host_allows() {
    let directory = DirectoryStandIn::start(Api::Okta, directory(Api::Okta), credentials()).unwrap();
    let authority = directory.base_url().trim_start_matches("http://").to_owned();
    let source = DirectorySource {
        kind: SourceKind::Okta,
        rules: json!({"groupTeams": {"eng": "Engineering", "ops": "Operations"}}).to_string(),
        config: vec![("OKTA_ORG_URL".into(), directory.base_url()), ("OKTA_API_TOKEN".into(), OKTA_TOKEN.into())],
    };
    let allowed = World::with_host(org_with_token(), |host| host.allowed_authorities.push(authority.clone()));
    let plan = allowed
        .reconcile(|s, r, settings| r.call_plan_from_source(s, settings, &source, plan_options(Strategy::Push)))
        .expect("a plan");
    let invited: Vec<&str> = plan.invites.iter().map(|i| i.email.as_str()).collect();
    assert_eq!(invited, ["ann@acme.test", "bob@acme.test", "dee@acme.test"]);
    assert_eq!(plan.create_teams, ["Operations"]);
    assert_eq!(directory.requests().len(), clean_read_requests(Api::Okta));

    directory.clear_requests();
    let denied = World::new(org_with_token());
    let error = denied
        .reconcile(|s, r, settings| r.call_plan_from_source(s, settings, &source, plan_options(Strategy::Push)))
        .unwrap_err();
    assert!(matches!(error, WitError::Transport(_)), "{error:?}");
    assert!(directory.requests().is_empty());
    assert!(denied.requests().is_empty(), "no plan, so GitBook is not read");
}

fn org_with_token() -> Org {
    let mut org = org();
    org.token = common::TOKEN.into();
    org
}

/// Okta answers a collection with or without a trailing slash, and its own
/// SDK (okta-sdk-python, run by scripts/official-clients.sh) asks for
/// `/api/v1/users/`: the stand-in answers both the same way.
#[test]
fn okta_stand_in_answers_a_collection_with_a_trailing_slash() {
    use std::io::{Read, Write};
    let standin = DirectoryStandIn::start(Api::Okta, Directory::generated(3, 1), credentials()).unwrap();
    let authority = standin.base_url().trim_start_matches("http://").to_owned();
    let get = |target: &str| {
        let mut stream = std::net::TcpStream::connect(&authority).unwrap();
        stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        write!(
            stream,
            "GET {target} HTTP/1.1\r\nHost: {authority}\r\nAuthorization: SSWS {OKTA_TOKEN}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        (head.lines().next().unwrap().to_owned(), body.to_owned())
    };
    let (status, body) = get("/api/v1/users/?filter=status+eq+%22ACTIVE%22&limit=10");
    assert!(status.contains(" 200 "), "{status}: {body}");
    let (plain_status, plain_body) = get("/api/v1/users?filter=status%20eq%20%22ACTIVE%22&limit=10");
    assert!(plain_status.contains(" 200 "), "{plain_status}");
    let users: Value = serde_json::from_str(body.trim()).unwrap();
    let plain: Value = serde_json::from_str(plain_body.trim()).unwrap();
    assert_eq!(users.as_array().unwrap().len(), 3);
    assert_eq!(users, plain);
    assert_eq!(standin.requests().len(), 2);
}
