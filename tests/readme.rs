//! The README's commands run as written. Every command in its ```sh blocks
//! runs in one bash session (like a user's terminal: variables carry over,
//! servers run in the background) against the GitBook stand-in, with the real
//! `wasmtime` CLI, and must exit 0 and have its effect at the stand-in.
//!
//! What a user would change is all that is changed ([`SUBSTITUTIONS`]): the
//! token, the organization, the API URL (forwarded with `--env`), the address
//! a server listens on and the URL it is reached at. Commands that cannot run
//! here are listed with the reason in [`NOT_RUN`], and those needing a tool
//! that .ci/run does not install run only where it is ([`OPTIONAL_TOOLS`]).
//! Every other command must have its effect described in [`EFFECTS`], and
//! every effect must match a README command, so neither can drift from the
//! other.
//!
//! - Each block starts from the same organization ([`readme_org`]); the shell
//!   session and its variables carry over from block to block.
//! - A `wasmtime serve` command runs in the background until the next one
//!   starts (as if in another terminal, stopped with Ctrl-C) or the README
//!   ends; the test waits for `GET /healthz` to answer 200 before going on.
//! - A comment line right below a command is its documented output: what it
//!   prints must start with that text, up to a `…`.
//! - The working directory holds what the README's commands expect: the
//!   component where `cargo build --release --target wasm32-wasip2` puts it
//!   (the one host-test's build script built with that command),
//!   `wit/`, `events.json` (the "Directory events" JSON example) and
//!   `snapshot.json` (the "Full reconciliation" example).
//!
//! Needs bash, curl, openssl and wasmtime 48.x on PATH (or in $WASMTIME).
//! The session's environment is PATH, HOME (wasmtime's compilation cache)
//! and the stand-in's GITBOOK_API_URL and GITBOOK_ALLOW_INSECURE_HTTP=1,
//! nothing else of the test's.

mod common;
#[path = "readme/markdown.rs"]
mod markdown;
#[path = "readme/session.rs"]
mod session;

use common::{summary, ORG, TOKEN};
use host_test::component_path;
use host_test::standin::{Org, RecordedRequest, Role, StandIn};
use markdown::{Block, ShellCommand};
use serde_json::{json, Value};
use session::{Ran, Session};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

/// Fence languages whose blocks are run.
const SHELL: &[&str] = &["sh", "bash", "shell"];

/// Commands not run, by how they start, and why.
const NOT_RUN: &[(&str, &str)] = &[
    (
        "cargo ",
        "cargo builds, installs or tests: this test runs the component that host-test's build script \
         built with the README's own `cargo build --release --target wasm32-wasip2`, copied to the path \
         the README gives; tests/demo.rs runs the demo",
    ),
    ("rustup ", "changes the toolchain; host-test's build script adds the wasm32-wasip2 target itself"),
    ("bash .ci/run", "runs every test, this one included"),
    (
        "bash scripts/release.sh",
        ".ci/run runs it as a step of its own, then scripts/release-reproducible.sh and scripts/oci-roundtrip.sh",
    ),
    (
        "wash ",
        "pushes to or pulls from an OCI registry or starts a wasmCloud host: scripts/oci-roundtrip.sh runs \
         `wash oci push` and `wash oci pull` against a local registry in CI",
    ),
    (
        "curl -sI -H 'Accept: application/vnd.oci.image.manifest.v1+json'",
        "asks a registry for a manifest digest: scripts/oci-roundtrip.sh reads it the same way from a local one",
    ),
    (
        "sha256sum ",
        "needs the published release files: scripts/oci-roundtrip.sh runs `sha256sum -c --ignore-missing \
         SHA256SUMS` on the file it pulled",
    ),
    (
        "wasm-tools metadata show",
        "needs a release file: scripts/oci-roundtrip.sh compares its embedded metadata with the registry's \
         annotations",
    ),
    (
        "wasmtime run -S http --env GITBOOK_TOKEN --env GITBOOK_ORG gitbook-directory-sync-",
        "runs a pulled release: scripts/oci-roundtrip.sh runs the file it pulled the same way against the stand-in",
    ),
    (
        "SSL_CERT_FILE=",
        "starts Obelisk, which CI does not build (80 minutes and more): examples/obelisk/oci.sh runs it where \
         obelisk is installed",
    ),
];

/// Tools the README's commands use besides wasmtime.
const REQUIRED_TOOLS: &[&str] = &["bash", "curl", "openssl"];

/// Commands run only where the tool they start with is installed: .ci/run
/// does not install it. Elsewhere they are reported as not run.
const OPTIONAL_TOOLS: &[&str] = &["wasm-tools"];

/// What a user replaces in the README's commands, and with what.
const SUBSTITUTIONS: &[(&str, Stands)] = &[
    ("gb_api_…", Stands::Token),
    ("my-org-id", Stands::Organization),
    ("https://api.gitbook.com", Stands::ApiUrl),
    // The session exports GITBOOK_API_URL (the stand-in) and
    // GITBOOK_ALLOW_INSECURE_HTTP=1 (it is plain http); a user pointing the
    // component elsewhere forwards them the same way.
    ("--env GITBOOK_ORG", Stands::ForwardApiUrl),
    ("0.0.0.0:8080", Stands::ListenAddress),
    ("https://sync.example.com", Stands::ServerUrl),
];

#[derive(Clone, Copy)]
enum Stands {
    Token,
    Organization,
    ApiUrl,
    ForwardApiUrl,
    /// 127.0.0.1 and a free port, for the server the command starts.
    ListenAddress,
    /// The running server's URL.
    ServerUrl,
}

/// The effect of each README command, picked out by a fragment of its text.
const EFFECTS: &[Effect] = &[
    Effect { command: "wasm-tools component wit target/", check: the_component_exports_the_wit_package },
    Effect { command: "wasm-tools component wit wit/", check: the_wit_package_has_doc_comments },
    Effect { command: "$WASM members list", check: lists_every_member },
    Effect { command: "$WASM invite ann@example.com bob@example.com --role edit", check: invites_ann_and_bob },
    Effect { command: "$WASM apply < events.json", check: applies_the_events_example },
    Effect { command: "--invoke 'get-member(", check: gets_one_member },
    Effect { command: "wasmtime serve -S cli --addr", check: serves_without_calling_gitbook },
    Effect { command: "curl -X POST https://sync.example.com/events", check: the_webhook_invites_ann },
    Effect { command: "https://sync.example.com/reconcile -H", check: the_webhook_plans_the_snapshot_example },
    Effect {
        command: "https://sync.example.com/reconcile?apply=true",
        check: the_webhook_applies_the_snapshot_example,
    },
    Effect { command: "$WASM sync snapshot.json", check: plans_the_snapshot_example_reading_only },
    Effect { command: "wasmtime serve -S cli -W max-memory-size", check: serves_without_calling_gitbook },
    Effect { command: "wasmtime serve -S cli --no-logging-prefix", check: serves_without_calling_gitbook },
    Effect {
        command: "curl -s https://sync.example.com/healthz",
        check: the_health_check_reads_only_the_configuration,
    },
];

struct Effect {
    command: &'static str,
    check: fn(&Seen),
}

/// What one command did, as its checks see it.
struct Seen<'a> {
    ran: &'a Ran,
    /// The requests the stand-in received while the command ran.
    requests: Vec<RecordedRequest>,
    standin: &'a StandIn,
}

impl Seen<'_> {
    /// `METHOD /path` of each request, without the query.
    fn calls(&self) -> Vec<String> {
        self.requests.iter().map(|r| format!("{} {}", r.method, r.path)).collect()
    }

    /// The requests other than reads.
    fn writes(&self) -> Vec<(String, String, Option<Value>)> {
        self.requests.iter().filter(|r| r.method != "GET").map(summary).collect()
    }

    fn role(&self, email: &str) -> Option<Role> {
        self.standin.member_by_email(email).unwrap_or_else(|| panic!("{email} is a member")).role
    }

    fn team_has(&self, title: &str, email: &str) -> bool {
        let team = self.standin.teams().into_iter().find(|t| t.title == title).expect("the team exists");
        let member = self.standin.member_by_email(email).expect("a member");
        self.standin.team_member_ids(&team.id).contains(&member.id)
    }
}

/// The member the README's examples name by ID.
const PAT: &str = "PERerEOAQ6QWXj1flmrlVzl3XJ22";

/// The organization every block starts from: the README's examples name
/// `PERerEOAQ6QWXj1flmrlVzl3XJ22` (an admin), `ceo@example.com` and the
/// Engineering and Design teams.
fn readme_org() -> Org {
    let mut org = Org::new(ORG, TOKEN).with_member("pat@example.com", "Pat Admin", Some(Role::Admin));
    org.members[0].id = PAT.into();
    org.with_member("ceo@example.com", "Casey Chief", Some(Role::Admin))
        .with_member("dan@example.com", "Dan Reader", Some(Role::Read))
        .with_team("Engineering", &["pat@example.com"])
        .with_team("Design", &["dan@example.com"])
}

/// `package gitbook:directory-sync@…` of wit/world.wit, without `package ` and `;`.
fn wit_package() -> String {
    let wit = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/wit/world.wit")).unwrap();
    let line = wit.lines().find_map(|l| l.strip_prefix("package ")).expect("wit/world.wit names its package");
    line.trim_end_matches(';').to_string()
}

fn the_component_exports_the_wit_package(seen: &Seen) {
    let package = wit_package();
    let (name, version) = package.split_once('@').unwrap();
    for interface in ["types", "client", "reconcile", "events"] {
        let export = format!("export {name}/{interface}@{version};");
        assert!(seen.ran.stdout.contains(&export), "missing {export}: {}", seen.ran.stdout);
    }
}

fn the_wit_package_has_doc_comments(seen: &Seen) {
    assert!(seen.ran.stdout.contains(&format!("package {};", wit_package())), "{}", seen.ran.stdout);
    assert!(seen.ran.stdout.contains("/// "), "{}", seen.ran.stdout);
}

fn lists_every_member(seen: &Seen) {
    assert_eq!(seen.calls(), ["GET /v1/orgs/acme/members"]);
    for email in ["pat@example.com", "ceo@example.com", "dan@example.com"] {
        assert!(seen.ran.stdout.contains(email), "{email} is listed: {}", seen.ran.stdout);
    }
}

fn invites_ann_and_bob(seen: &Seen) {
    let body = json!({"emails": ["ann@example.com", "bob@example.com"], "role": "edit", "sso": true});
    assert_eq!(seen.writes(), [("POST".into(), "/v1/orgs/acme/invites".into(), Some(body))]);
    assert_eq!(seen.requests.len(), 1);
    assert_eq!((seen.role("ann@example.com"), seen.role("bob@example.com")), (Some(Role::Edit), Some(Role::Edit)));
}

/// The events example after the invite above it, in order: ann joins
/// (again: a no-op invite) and goes into Engineering, bob leaves, PERer…
/// becomes a guest.
fn applies_the_events_example(seen: &Seen) {
    let writes: Vec<(String, String)> = seen.writes().into_iter().map(|(method, path, _)| (method, path)).collect();
    let methods: Vec<&str> = writes.iter().map(|(method, _)| method.as_str()).collect();
    assert_eq!(methods, ["POST", "PUT", "DELETE", "PATCH"], "{writes:?}");
    assert_eq!(writes[3].1, format!("/v1/orgs/acme/members/{PAT}"));
    assert!(seen.team_has("Engineering", "ann@example.com"));
    assert!(seen.standin.member_by_email("bob@example.com").is_none(), "bob left");
    assert_eq!(seen.role("pat@example.com"), None, "PERer… is a guest now");
    assert!(seen.ran.stdout.ends_with("4 applied, 0 ignored, 0 failed\n"), "{}", seen.ran.stdout);
}

fn gets_one_member(seen: &Seen) {
    assert_eq!(seen.calls(), [format!("GET /v1/orgs/acme/members/{PAT}")]);
    assert!(seen.ran.stdout.starts_with("ok("), "{}", seen.ran.stdout);
}

fn serves_without_calling_gitbook(seen: &Seen) {
    assert_eq!(seen.calls(), Vec::<String>::new());
}

fn the_health_check_reads_only_the_configuration(seen: &Seen) {
    let reply: Value = serde_json::from_str(&seen.ran.stdout).expect("the reply is JSON");
    assert_eq!((&reply["status"], &reply["configuration"]), (&json!("ok"), &json!("complete")), "{reply}");
    assert!(seen.requests.is_empty(), "no GitBook call: {:?}", seen.calls());
}

fn the_webhook_invites_ann(seen: &Seen) {
    let reply: Value = serde_json::from_str(&seen.ran.stdout).expect("the reply is JSON");
    assert_eq!((&reply["applied"], &reply["results"][0]["status"]), (&json!(1), &json!("applied")), "{reply}");
    assert_eq!(seen.calls(), ["POST /v1/orgs/acme/invites"]);
    let ann = seen.standin.member_by_email("ann@example.com").expect("ann was invited");
    assert_eq!((ann.role, ann.sso), (Some(Role::Edit), true));
}

/// The snapshot example pushed (the default) onto [`readme_org`]: ann
/// (in `admins`) and bob join, into Engineering and Design.
fn the_webhook_plans_the_snapshot_example(seen: &Seen) {
    let reply: Value = serde_json::from_str(&seen.ran.stdout).expect("the reply is JSON");
    let invites = json!([{"email": "ann@example.com", "role": "admin"}, {"email": "bob@example.com", "role": "read"}]);
    assert_eq!(reply["plan"]["invites"], invites, "{reply}");
    assert_eq!(reply["plan"]["summary"]["teamAdditions"], 2, "{reply}");
    assert!(reply.get("report").is_none() && seen.writes().is_empty(), "a plan only reads: {:?}", seen.calls());
}

fn the_webhook_applies_the_snapshot_example(seen: &Seen) {
    let reply: Value = serde_json::from_str(&seen.ran.stdout).expect("the reply is JSON");
    assert!(reply["report"].is_object(), "{reply}");
    let writes: Vec<String> = seen.writes().into_iter().map(|(method, path, _)| format!("{method} {path}")).collect();
    assert_eq!(writes.len(), 3, "one invite, one PUT per team: {writes:?}");
    assert_eq!((seen.role("ann@example.com"), seen.role("bob@example.com")), (Some(Role::Admin), Some(Role::Read)));
    assert!(seen.team_has("Engineering", "ann@example.com") && seen.team_has("Design", "bob@example.com"));
}

/// The default strategy (`push`) plans to invite ann and bob; a dry run only reads.
fn plans_the_snapshot_example_reading_only(seen: &Seen) {
    assert!(!seen.requests.is_empty() && seen.writes().is_empty(), "{:?}", seen.calls());
    for email in ["ann@example.com", "bob@example.com"] {
        assert!(seen.ran.stdout.contains(email), "the plan invites {email}: {}", seen.ran.stdout);
    }
    assert!(seen.standin.member_by_email("ann@example.com").is_none(), "nothing was applied");
}

#[test]
fn every_command_in_the_readme_runs_as_written() {
    let started = Instant::now();
    let blocks: Vec<Block> = documents().iter().flat_map(|(file, text)| markdown::blocks(text, file)).collect();
    let scratch = Scratch::new(&blocks);

    let mut standin = StandIn::start(readme_org()).expect("the stand-in starts");
    let standin_port = standin.base_url().rsplit(':').next().unwrap().parse::<u16>().unwrap();
    let env = vec![
        ("PATH".to_string(), scratch.path()),
        ("HOME".into(), std::env::var("HOME").unwrap_or_default()),
        ("GITBOOK_API_URL".into(), standin.base_url()),
        ("GITBOOK_ALLOW_INSECURE_HTTP".into(), "1".into()),
    ];
    for tool in REQUIRED_TOOLS {
        assert!(on_path(tool, &env), "the README's commands need {tool}: install it");
    }
    check_wasmtime(&env);
    let missing_tools: Vec<&str> = OPTIONAL_TOOLS.iter().copied().filter(|tool| !on_path(tool, &env)).collect();
    let mut session = Session::start(&scratch.work, &scratch.root.join("logs"), &env);

    let mut matched = vec![0; EFFECTS.len()];
    let (mut ran, mut not_run) = (0, 0);
    for block in &blocks {
        assert_ne!(
            block.lang, "console",
            "{}:{}: write the block as ```sh with commands only, so that this test runs it",
            block.file, block.first_line
        );
        if !SHELL.contains(&block.lang.as_str()) {
            continue;
        }
        drop(standin);
        standin = StandIn::start_on(readme_org(), standin_port).expect("the stand-in restarts on its port");
        for command in markdown::commands(block) {
            if let Some((_, why)) = NOT_RUN.iter().find(|(start, _)| command.text.starts_with(start)) {
                eprintln!(
                    "{}:{} not run: {}\n    ({why})",
                    command.file,
                    command.line,
                    markdown::one_line(&command.text)
                );
                not_run += 1;
                continue;
            }
            if let Some(tool) = missing_tools.iter().find(|tool| command.text.starts_with(&format!("{tool} "))) {
                eprintln!("{}:{} not run: {tool} is not installed", command.file, command.line);
                if let Some(i) = matched_effect(&command) {
                    matched[i] += 1;
                }
                not_run += 1;
                continue;
            }
            run(&mut session, &standin, &command, &mut matched);
            ran += 1;
        }
    }
    session.stop_servers();

    for (effect, count) in EFFECTS.iter().zip(&matched) {
        assert!(
            *count >= 1,
            "no command in README.md or docs/ contains {:?}: keep EFFECTS in step with the docs",
            effect.command
        );
    }
    eprintln!("README.md and docs/: {ran} commands run, {not_run} not run, in {:.1?}", started.elapsed());
}

/// Runs one README command in the session and checks its effect.
fn run(session: &mut Session, standin: &StandIn, command: &ShellCommand, matched: &mut [usize]) {
    let text = substitute(&command.text, session, standin);
    let shown = markdown::one_line(&text);
    eprintln!("{}:{} run: {shown}", command.file, command.line);
    assert!(
        !text.contains('…'),
        "{}:{}: a `…` is left in a command users will paste: {shown}",
        command.file,
        command.line
    );
    standin.clear_requests();
    let ran = if text.starts_with("wasmtime serve") {
        let port = listen_port(&text).expect("a server listens on 127.0.0.1");
        session.stop_servers();
        session.start_server(&text, port);
        Ran { code: 0, stdout: String::new(), stderr: String::new() }
    } else {
        session.run(&text)
    };
    let place = format!("{}:{}: {shown}\nstdout: {}\nstderr: {}", command.file, command.line, ran.stdout, ran.stderr);
    assert_eq!(ran.code, 0, "{place}");
    assert!(!ran.stdout.contains(TOKEN) && !ran.stderr.contains(TOKEN), "the token was printed by {place}");
    if let Some(documented) = &command.documented_output {
        let start = documented.split('…').next().unwrap_or_default();
        assert!(ran.stdout.starts_with(start), "{place}\nthe README says it prints {documented:?}");
    }

    let seen = Seen { ran: &ran, requests: standin.requests(), standin };
    match matched_effect(command) {
        Some(i) => {
            matched[i] += 1;
            (EFFECTS[i].check)(&seen);
        }
        None if is_assignment(&command.text) => assert!(seen.requests.is_empty(), "{place}\nsent {:?}", seen.calls()),
        None => panic!("{place}\nno entry in EFFECTS says what this command does: add one"),
    }
}

/// The one EFFECTS entry for a command, if any.
fn matched_effect(command: &ShellCommand) -> Option<usize> {
    let effects: Vec<usize> = (0..EFFECTS.len()).filter(|&i| command.text.contains(EFFECTS[i].command)).collect();
    assert!(effects.len() < 2, "{}:{}: several EFFECTS entries match this command", command.file, command.line);
    effects.first().copied()
}

/// `NAME=value` or `export …`: the session's setup, not a call.
fn is_assignment(command: &str) -> bool {
    let first = command.split_whitespace().next().unwrap_or_default();
    first == "export"
        || first
            .split_once('=')
            .is_some_and(|(name, _)| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

fn substitute(command: &str, session: &Session, standin: &StandIn) -> String {
    let mut text = command.to_string();
    for (placeholder, stands) in SUBSTITUTIONS {
        if !text.contains(placeholder) {
            continue;
        }
        let replacement = match stands {
            Stands::Token => TOKEN.to_string(),
            Stands::Organization => ORG.to_string(),
            Stands::ApiUrl => standin.base_url(),
            Stands::ForwardApiUrl => {
                text = forward_api_url(&text, placeholder);
                continue;
            }
            Stands::ListenAddress => format!("127.0.0.1:{}", free_port()),
            Stands::ServerUrl => {
                let port = session.server_port().expect("a server runs (started by a `wasmtime serve` above)");
                format!("http://127.0.0.1:{port}")
            }
        };
        text = text.replace(placeholder, &replacement);
    }
    text
}

/// `--env GITBOOK_ORG` (as a whole word) gains the flags forwarding the API URL.
fn forward_api_url(text: &str, flag: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(flag) {
        let after = &rest[at + flag.len()..];
        out.push_str(&rest[..at + flag.len()]);
        if after.chars().next().is_none_or(char::is_whitespace) {
            out.push_str(" --env GITBOOK_API_URL --env GITBOOK_ALLOW_INSECURE_HTTP");
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The port of a `--addr 127.0.0.1:PORT` in a substituted command.
fn listen_port(command: &str) -> Option<u16> {
    command.split("127.0.0.1:").nth(1)?.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Whether the session's PATH has `tool`.
fn on_path(tool: &str, env: &[(String, String)]) -> bool {
    let path = env.iter().find(|(name, _)| name == "PATH").map(|(_, value)| value.as_str()).unwrap_or_default();
    std::env::split_paths(path).any(|dir| dir.join(tool).is_file())
}

fn check_wasmtime(env: &[(String, String)]) {
    let version = Command::new("wasmtime")
        .arg("--version")
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run wasmtime ({e}); install it with `cargo install wasmtime-cli@48.0.8 --locked` (bash .ci/run does)")
        });
    let version = String::from_utf8_lossy(&version.stdout);
    assert!(version.starts_with("wasmtime 48."), "the README is written for wasmtime 48.x, found {version}");
}

/// A directory laid out as the README's commands expect, removed at the end.
struct Scratch {
    root: PathBuf,
    /// The working directory of the session.
    work: PathBuf,
}

impl Scratch {
    fn new(blocks: &[Block]) -> Scratch {
        let root = std::env::temp_dir().join(format!("gds-readme-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let work = root.join("work");
        let release = work.join("target/wasm32-wasip2/release");
        std::fs::create_dir_all(&release).unwrap();
        std::fs::copy(component_path(), release.join("gitbook_directory_sync.wasm")).expect("the component is built");
        copy_dir(&PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/wit")), &work.join("wit"));
        std::fs::write(work.join("events.json"), json_example(blocks, "Directory events")).unwrap();
        std::fs::write(work.join("snapshot.json"), json_example(blocks, "Full reconciliation")).unwrap();
        // `wasmtime` in the commands is $WASMTIME when set.
        let bin = root.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        if let Ok(wasmtime) = std::env::var("WASMTIME") {
            std::os::unix::fs::symlink(wasmtime, bin.join("wasmtime")).unwrap();
        }
        Scratch { root, work }
    }

    /// PATH for the session: $WASMTIME first, then the test's own PATH.
    fn path(&self) -> String {
        format!("{}:{}", self.root.join("bin").display(), std::env::var("PATH").unwrap_or_default())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept {} (each command's output is in logs/)", self.root.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// The one JSON example in the `## ` section starting with `section`, checked to parse.
fn json_example(blocks: &[Block], section: &str) -> String {
    let examples: Vec<&Block> = blocks.iter().filter(|b| b.lang == "json" && b.section.starts_with(section)).collect();
    assert_eq!(examples.len(), 1, "the docs have one JSON example under \"## {section}…\"");
    let text = examples[0].text();
    serde_json::from_str::<Value>(&text).unwrap_or_else(|e| {
        panic!("{}:{}: the JSON example does not parse: {e}", examples[0].file, examples[0].first_line)
    });
    text
}

/// README.md, then every page of `docs/` in the order its index
/// (`docs/README.md`) lists them, as (path, text). A page the index does not
/// list is an error, so no page escapes this test.
fn documents() -> Vec<(String, String)> {
    let read = |path: &str| {
        std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR")))
            .unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
    };
    let index = read("docs/README.md");
    let mut pages: Vec<String> = links(&index)
        .into_iter()
        .filter(|target| !target.contains('/') && !target.contains('#') && target.ends_with(".md"))
        .map(|target| format!("docs/{target}"))
        .collect();
    pages.dedup();
    let on_disk = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/docs")).expect("docs/ exists");
    for entry in on_disk {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".md") && name != "README.md" {
            assert!(pages.contains(&format!("docs/{name}")), "docs/README.md does not list docs/{name}: add it");
        }
    }
    let mut documents = vec![("README.md".to_string(), read("README.md")), ("docs/README.md".to_string(), index)];
    documents.extend(pages.into_iter().map(|page| {
        let text = read(&page);
        (page, text)
    }));
    documents
}

/// The targets of the inline links `[label](target)` in a markdown text,
/// outside code blocks and code spans.
fn links(markdown: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut in_block = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            continue;
        }
        // Code spans hold examples, not links.
        let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        let mut rest = prose.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            targets.push(after[..end].to_string());
            rest = &after[end..];
        }
    }
    targets
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '-' || *c == ' ' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a markdown file's headings.
fn anchors(markdown: &str) -> Vec<String> {
    let mut in_block = false;
    let mut found = Vec::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
        } else if !in_block && line.starts_with('#') {
            found.push(anchor(line.trim_start_matches('#')));
        }
    }
    found
}

#[test]
fn every_link_between_the_docs_leads_somewhere() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec!["README.md".to_string(), "CHANGELOG.md".to_string()];
    files.extend(documents().into_iter().map(|(path, _)| path).filter(|path| path.starts_with("docs/")));
    let mut checked = 0;
    for file in &files {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let dir = root.join(file).parent().unwrap().to_path_buf();
        for target in links(&text) {
            if target.starts_with("http://") || target.starts_with("https://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, fragment) = target.split_once('#').map_or((target.as_str(), None), |(p, f)| (p, Some(f)));
            let resolved = if path.is_empty() { root.join(file) } else { dir.join(path) };
            assert!(
                resolved.exists(),
                "{file}: the link ({target}) leads nowhere: {} does not exist",
                resolved.display()
            );
            if let Some(fragment) = fragment {
                let page = std::fs::read_to_string(&resolved).unwrap_or_default();
                assert!(
                    anchors(&page).iter().any(|a| a == fragment),
                    "{file}: the link ({target}) names a heading that {} does not have",
                    resolved.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 20, "the docs link to each other ({checked} links checked)");
}
