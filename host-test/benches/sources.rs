//! Directory sources at scale: 10,000 users (500 of them suspended or
//! disabled) in 100 groups of 100, each directory's stand-in adding 20 ms to
//! every answer. For each source: the requests and the time to read it
//! through the component (WIT `plan-from-source` in the reference host, at
//! the default concurrency of 8) beside the floor, and the end-to-end
//! `sync --source … --apply` time through the wasmtime CLI into an empty
//! GitBook organization (its stand-in also at 20 ms a request).
//!
//! Writes the section between `<!-- sources:begin -->` and
//! `<!-- sources:end -->` of BENCHMARKS.md (appended when absent).

use host_test::bindings::exports::gitbook::directory_sync::reconcile::{
    DirectorySource, PlanOptions, SourceKind, Strategy,
};
use host_test::demo::{authority, local_settings};
use host_test::directories::{Api, Credentials, Directory, DirectoryStandIn};
use host_test::standin::{Org, StandIn};
use host_test::{component_path, new_engine, Host, HostConfig};
use std::process::Command;
use std::time::{Duration, Instant};

const USERS: usize = 10_000;
const GROUPS: usize = 100;
const LATENCY: Duration = Duration::from_millis(20);
const CONCURRENCY: usize = 8;
const TOKEN: &str = "gb_bench_token";
const OKTA_TOKEN: &str = "00bench";
const ENTRA_SECRET: &str = "bench~secret";
const KEY: &str = include_str!("../../src/sources/testdata/TEST-ONLY-service-account-key.pem");
const PUBLIC_KEY: &str = include_str!("../../src/sources/testdata/TEST-ONLY-service-account-key.pub.pem");

fn credentials() -> Credentials {
    Credentials {
        google_client_email: "sync@bench.iam.gserviceaccount.com".into(),
        google_subject: "admin@acme.test".into(),
        google_public_key_pem: PUBLIC_KEY.into(),
        entra_tenant: "acme.test".into(),
        entra_client_id: "client".into(),
        entra_client_secret: ENTRA_SECRET.into(),
        okta_token: OKTA_TOKEN.into(),
    }
}

fn config(api: Api, base: &str) -> Vec<(String, String)> {
    let pairs: Vec<(&str, String)> = match api {
        Api::Google => vec![
            (
                "GOOGLE_SERVICE_ACCOUNT_KEY",
                serde_json::json!({"type": "service_account", "client_email": "sync@bench.iam.gserviceaccount.com", "private_key": KEY}).to_string(),
            ),
            ("GOOGLE_ADMIN_EMAIL", "admin@acme.test".into()),
            ("GOOGLE_API_URL", base.into()),
        ],
        Api::Entra => vec![
            ("ENTRA_TENANT_ID", "acme.test".into()),
            ("ENTRA_CLIENT_ID", "client".into()),
            ("ENTRA_CLIENT_SECRET", ENTRA_SECRET.into()),
            ("ENTRA_GRAPH_URL", base.into()),
            ("ENTRA_LOGIN_URL", base.into()),
        ],
        Api::Okta => vec![("OKTA_ORG_URL", base.into()), ("OKTA_API_TOKEN", OKTA_TOKEN.into())],
    };
    pairs.into_iter().map(|(n, v)| (n.to_string(), v)).collect()
}

fn group(api: Api, g: usize) -> String {
    match api {
        Api::Google => format!("group-{g:03}@acme.test"),
        _ => format!("group-{g:03}"),
    }
}

fn rules(api: Api) -> String {
    let teams: serde_json::Map<String, serde_json::Value> =
        (1..=GROUPS).map(|g| (group(api, g), serde_json::json!(format!("Team {g:03}")))).collect();
    serde_json::json!({"groupTeams": teams}).to_string()
}

/// The fewest requests the API allows, and the chain that cannot be cut
/// (one list's pages follow each other).
fn floor(api: Api) -> (usize, usize) {
    let active = USERS - USERS / 20;
    let per_group = USERS / GROUPS;
    let (user_pages, lookups, member_pages, token) = match api {
        // Google lists suspended users too (500 a page); members 200 a page.
        Api::Google => (USERS.div_ceil(500), 0, GROUPS * per_group.div_ceil(200), 1),
        Api::Entra => (USERS.div_ceil(999), GROUPS, GROUPS * per_group.div_ceil(999), 1),
        // Okta filters on ACTIVE (200 a page); members 1,000 a page.
        Api::Okta => (active.div_ceil(200), GROUPS, GROUPS * per_group.div_ceil(1000), 0),
    };
    (token + user_pages + lookups + member_pages, token + user_pages)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

struct Row {
    api: Api,
    requests: usize,
    floor: usize,
    read: Duration,
    floor_time: Duration,
    e2e: Duration,
    e2e_requests: usize,
}

fn main() {
    // `cargo bench` passes --bench; nothing else is taken.
    let engine = new_engine().unwrap();
    let component = host_test::wasmtime::component::Component::from_file(&engine, component_path()).unwrap();
    let mut rows = Vec::new();
    for api in [Api::Google, Api::Entra, Api::Okta] {
        let mut times = Vec::new();
        let mut requests = 0;
        for _ in 0..3 {
            let directory = DirectoryStandIn::start(api, Directory::generated(USERS, GROUPS), credentials()).unwrap();
            directory.set_latency(LATENCY);
            let gitbook = StandIn::start(Org::new("acme", TOKEN)).unwrap();
            let mut host_config = HostConfig::allowing(authority(&gitbook));
            host_config.allowed_authorities.push(directory.base_url().trim_start_matches("http://").to_owned());
            let host = Host::from_component(engine.clone(), component.clone(), host_config).unwrap();
            let settings = local_settings(&gitbook, "acme", TOKEN);
            let source = DirectorySource {
                kind: match api {
                    Api::Google => SourceKind::Google,
                    Api::Entra => SourceKind::Entra,
                    Api::Okta => SourceKind::Okta,
                },
                rules: rules(api),
                config: config(api, &directory.base_url()),
            };
            let options = PlanOptions {
                strategy: Strategy::Push,
                max_removals: None,
                max_removal_percent: None,
                allow_mass_removal: false,
            };
            let started = Instant::now();
            let (plan, _) =
                host.call_reconcile(|store, r| r.call_plan_from_source(store, &settings, &source, options)).unwrap();
            times.push(started.elapsed());
            let plan = plan.expect("a plan");
            assert_eq!(plan.invites.len(), USERS - USERS / 20);
            requests = directory.requests().len();
        }
        let (floor_requests, chain) = floor(api);
        // The floor's time: the longest chain, or all requests spread over
        // the concurrency, whichever is longer.
        let floor_time = LATENCY * chain.max(floor_requests.div_ceil(CONCURRENCY)) as u32;

        // End to end: wasmtime CLI, sync --source … --apply into an empty org.
        let directory = DirectoryStandIn::start(api, Directory::generated(USERS, GROUPS), credentials()).unwrap();
        directory.set_latency(LATENCY);
        let gitbook = StandIn::start(Org::new("acme", TOKEN)).unwrap();
        gitbook.set_latency(LATENCY);
        let dir = std::env::temp_dir().join(format!("gds-bench-sources-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("rules.json"), rules(api)).unwrap();
        let mut command = Command::new(std::env::var("WASMTIME").unwrap_or_else(|_| "wasmtime".into()));
        command.args(["run", "-S", "http", "--dir", &format!("{}::/work", dir.display())]);
        let mut env = config(api, &directory.base_url());
        env.extend([
            ("GITBOOK_TOKEN".to_string(), TOKEN.to_string()),
            ("GITBOOK_ORG".into(), "acme".into()),
            ("GITBOOK_API_URL".into(), gitbook.base_url()),
        ]);
        for (name, value) in &env {
            command.arg("--env").arg(format!("{name}={value}"));
        }
        let source = match api {
            Api::Google => "google",
            Api::Entra => "entra",
            Api::Okta => "okta",
        };
        command.arg(component_path()).args([
            "sync",
            "--allow-insecure-http",
            "--source",
            source,
            "--rules",
            "/work/rules.json",
            "--apply",
        ]);
        let started = Instant::now();
        let output = command.output().unwrap();
        let e2e = started.elapsed();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        assert_eq!(gitbook.members().len(), USERS - USERS / 20);
        let e2e_requests = directory.requests().len() + gitbook.request_count();
        std::fs::remove_dir_all(&dir).ok();
        eprintln!(
            "{api:?}: {requests} requests (floor {floor_requests}), read {:?}, e2e {e2e:?}",
            median(times.clone())
        );
        rows.push(Row { api, requests, floor: floor_requests, read: median(times), floor_time, e2e, e2e_requests });
    }
    write(&rows);
}

fn write(rows: &[Row]) {
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
    let mut section = String::from(
        "<!-- sources:begin -->\n## Directory sources\n\nGenerated by `cargo bench -p host-test --bench sources` \
         ([`host-test/benches/sources.rs`](host-test/benches/sources.rs)). 10,000 users (every 20th suspended or \
         disabled) in 100 groups of 100; every answer of the directory's stand-in takes 20 ms. *Read* is WIT \
         `plan-from-source` in the reference host at concurrency 8 (median of 3; it also reads the empty GitBook \
         organization: 2 requests), requests counted at the directory's stand-in. The floor is the pages the API \
         needs at its largest page size, plus the token exchange; its time is the longer of the user list's chain \
         and all requests spread over 8 at once, × 20 ms. *End to end* is `wasmtime run … sync --source … --apply` \
         into an empty organization whose stand-in also takes 20 ms an answer (one run; wasmtime start-up and \
         compilation cache included): 9,500 invites, 100 teams created and filled.\n\n\
         | source | requests | floor | read | floor time | read ÷ floor time | end to end (requests, both APIs) |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for row in rows {
        section.push_str(&format!(
            "| {:?} | {} | {} | {} | {} | {:.2} | {} ({}) |\n",
            row.api,
            row.requests,
            row.floor,
            ms(row.read),
            ms(row.floor_time),
            row.read.as_secs_f64() / row.floor_time.as_secs_f64(),
            ms(row.e2e),
            row.e2e_requests
        ));
    }
    section.push_str("<!-- sources:end -->\n");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../BENCHMARKS.md");
    let current = std::fs::read_to_string(path).unwrap_or_default();
    let updated = match (current.find("<!-- sources:begin -->"), current.find("<!-- sources:end -->\n")) {
        (Some(start), Some(end)) => {
            format!("{}{section}{}", &current[..start], &current[end + "<!-- sources:end -->\n".len()..])
        }
        _ => format!("{}\n{section}", current.trim_end()),
    };
    std::fs::write(path, updated).unwrap();
}
