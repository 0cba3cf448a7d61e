//! The command line as users run it: the real `wasmtime` CLI binary
//! (`wasmtime run -S http … gitbook_directory_sync.wasm <command>`) against
//! the stand-in on 127.0.0.1.
//!
//! Needs wasmtime 48.x on PATH (or in $WASMTIME); `.ci/run` installs it.

use host_test::component_path;
use host_test::standin::{Fault, FaultKind, Org, StandIn};
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};

const TOKEN: &str = "gb_cli_CANARY_a1b2c3d4e5";

fn wasmtime() -> String {
    let program = std::env::var("WASMTIME").unwrap_or_else(|_| "wasmtime".into());
    let version = Command::new(&program).arg("--version").output().unwrap_or_else(|e| {
        panic!("cannot run {program:?} ({e}); install it with `cargo install wasmtime-cli@48.0.8 --locked` (bash .ci/run does)")
    });
    let version = String::from_utf8_lossy(&version.stdout);
    assert!(version.starts_with("wasmtime 48."), "these tests expect wasmtime 48.x, found {version}");
    program
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", self.stdout))
    }
}

struct Cli {
    standin: StandIn,
    env: Vec<(String, String)>,
}

impl Cli {
    fn new(org: Org) -> Cli {
        let standin = StandIn::start(Org { token: TOKEN.into(), ..org }).unwrap();
        let env = vec![
            ("GITBOOK_TOKEN".to_string(), TOKEN.to_string()),
            ("GITBOOK_ORG".into(), "acme".into()),
            ("GITBOOK_API_URL".into(), standin.base_url()),
        ];
        Cli { standin, env }
    }

    fn sample() -> Cli {
        Cli::new(Org::sample())
    }

    /// `wasmtime run -S http --env … component <args>` with `extra` wasmtime flags.
    fn run_with(&self, extra: &[&str], args: &[&str], stdin: &str) -> Run {
        let mut command = Command::new(wasmtime());
        command.args(["run", "-S", "http"]);
        for (name, value) in &self.env {
            command.arg("--env").arg(format!("{name}={value}"));
        }
        command.args(extra).arg(component_path()).args(args);
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().expect("wasmtime starts");
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let output = child.wait_with_output().unwrap();
        let run = Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        assert!(
            !run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN),
            "the token leaked: {} {}",
            run.stdout,
            run.stderr
        );
        run
    }

    fn run(&self, args: &[&str]) -> Run {
        let mut all = vec!["--allow-insecure-http"];
        all.extend_from_slice(args);
        self.run_with(&[], &all, "")
    }

    fn id(&self, email: &str) -> String {
        self.standin.member_by_email(email).unwrap().id
    }
}

#[test]
fn members_list_prints_one_row_per_member() {
    let cli = Cli::sample();
    let run = cli.run(&["members", "list"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 7);
    assert!(run.stdout.lines().any(|l| l.contains("alice@acme.test") && l.contains("admin")), "{}", run.stdout);
}

#[test]
fn members_list_json_streams_every_page_as_one_array() {
    let cli = Cli::new(Org::generated("acme", TOKEN, 2345, 2));
    let run = cli.run(&["members", "list", "--json", "--progress"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let members = run.json();
    assert_eq!(members.as_array().unwrap().len(), 2345);
    assert!(members[0]["id"].is_string() && members[0]["user"]["email"].is_string());
    assert_eq!(cli.standin.request_count(), 3);
    assert!(run.stderr.contains("fetched 2345 of 2345 members"), "{}", run.stderr);
}

#[test]
fn invite_adds_sso_members_and_reports_their_ids() {
    let cli = Cli::sample();
    let run = cli.run(&["invite", "Zoe@acme.test", "yan@acme.test", "--role", "edit", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let result = run.json();
    assert_eq!(result["invited"], 2);
    assert_eq!(result["userIds"][0], cli.id("zoe@acme.test"));
    let zoe = cli.standin.member_by_email("zoe@acme.test").unwrap();
    assert!(zoe.sso);
    let body = cli.standin.requests()[0].json().unwrap();
    assert_eq!(body, serde_json::json!({"emails": ["zoe@acme.test", "yan@acme.test"], "role": "edit", "sso": true}));
}

#[test]
fn remove_by_id_and_by_email() {
    let cli = Cli::sample();
    let bob = cli.id("bob@acme.test");
    let run = cli.run(&["remove", &bob]);
    assert_eq!((run.code, run.stdout.trim()), (0, format!("Removed {bob}.").as_str()), "{}", run.stderr);
    let carol = cli.id("carol@acme.test");
    let run = cli.run(&["remove", "--email", "carol@acme.test", "--json"]);
    assert_eq!(run.json(), serde_json::json!({"outcome": "deleted", "userId": carol, "email": "carol@acme.test"}));
    let run = cli.run(&["remove", "--email", "ghost@acme.test"]);
    assert_eq!((run.code, run.stdout.trim()), (0, "ghost@acme.test is not a member; nothing to remove."));
}

#[test]
fn team_updates_by_title_in_one_put() {
    let cli = Cli::sample();
    let run =
        cli.run(&["team", "--title", "support", "--add", "bob@acme.test", "--remove", "dave@acme.test", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let team = cli.standin.teams().into_iter().find(|t| t.title == "Support").unwrap();
    assert_eq!(run.json()["teamId"], team.id.as_str());
    let puts: Vec<_> = cli.standin.requests().into_iter().filter(|r| r.method == "PUT").collect();
    assert_eq!(puts.len(), 1);
    assert_eq!(puts[0].json().unwrap(), serde_json::json!({"add": ["bob@acme.test"], "remove": ["dave@acme.test"]}));
    assert!(cli.standin.team_member_ids(&team.id).contains(&cli.id("bob@acme.test")));
}

#[test]
fn members_get_find_set_role_and_set_sso() {
    let cli = Cli::sample();
    let dave = cli.id("dave@acme.test");
    let got = cli.run(&["members", "get", &dave, "--json"]).json();
    assert_eq!((got["id"].as_str(), got["role"].as_str()), (Some(dave.as_str()), Some("read")));
    let found = cli.run(&["members", "find", "DAVE@acme.test", "--json"]).json();
    assert_eq!(found["id"], dave.as_str());
    assert_eq!(cli.run(&["members", "find", "nobody@acme.test", "--json"]).json(), Value::Null);
    let promoted = cli.run(&["members", "set-role", &dave, "edit", "--json"]).json();
    assert_eq!(promoted["role"], "edit");
    let guest = cli.run(&["members", "set-role", &dave, "guest", "--json"]).json();
    assert_eq!(guest["role"], Value::Null);
    let sso = cli.run(&["members", "set-sso", &dave]);
    assert!(sso.stdout.contains("sso:        true"), "{}", sso.stdout);
}

#[test]
fn apply_takes_events_from_stdin_or_a_file() {
    let cli = Cli::sample();
    let events = r#"[
        {"id": "1", "type": "user.joined", "email": "nia@acme.test", "role": "comment"},
        {"id": "2", "type": "group.changed", "team": "Design", "add": ["nia@acme.test"]},
        {"id": "1", "type": "user.joined", "email": "nia@acme.test"},
        {"id": "3", "type": "user.left", "email": "frank@acme.test"}
    ]"#;
    let run = cli.run_with(&[], &["--allow-insecure-http", "apply", "--json"], events);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    assert_eq!(
        (report["applied"].as_u64(), report["ignored"].as_u64(), report["failed"].as_u64()),
        (Some(3), Some(1), Some(0))
    );
    assert!(cli.standin.member_by_email("frank@acme.test").is_none());

    let dir = std::env::temp_dir().join(format!("gds-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("events.json"),
        r#"{"type": "user.role_changed", "email": "nia@acme.test", "role": "edit"}"#,
    )
    .unwrap();
    let dir_arg = format!("{}::/work", dir.display());
    let run = cli.run_with(&["--dir", &dir_arg], &["--allow-insecure-http", "apply", "/work/events.json"], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("applied user.role_changed: nia@acme.test is now edit"), "{}", run.stdout);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn usage_errors_exit_2_and_send_nothing() {
    let cli = Cli::sample();
    for args in
        [vec![], vec!["frobnicate"], vec!["invite"], vec!["members", "set-role", "u1", "owner"], vec!["remove", "../x"]]
    {
        let run = cli.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    }
    let mut no_token = Cli::sample();
    no_token.env.retain(|(name, _)| name != "GITBOOK_TOKEN");
    let run = no_token.run(&["members", "list"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("GITBOOK_TOKEN"), "{}", run.stderr);
    assert_eq!(cli.standin.request_count() + no_token.standin.request_count(), 0);
}

#[test]
fn a_single_valued_option_given_twice_exits_2_and_sends_nothing() {
    let cli = Cli::sample();
    let before = cli.standin.members().len();
    for args in [
        &["remove", "--email", "alice@acme.test", "--email", "bob@acme.test"][..],
        &["remove", "--email=alice@acme.test", "--email=alice@acme.test"],
        &["--org", "acme", "members", "list", "--org=other"],
        &["members", "list", "--role", "read", "--role", "edit"],
        &["invite", "zoe@acme.test", "--role=edit", "--role=read"],
    ] {
        let run = cli.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("was given more than once; it takes one value"), "{args:?}: {}", run.stderr);
    }
    assert_eq!(cli.standin.request_count(), 0);
    assert_eq!(cli.standin.members().len(), before);
}

#[test]
fn option_values_may_follow_an_equals_sign_and_a_double_dash_ends_the_options() {
    let cli = Cli::sample();
    let carol = cli.id("carol@acme.test");
    let run = cli.run(&["remove", "--email=carol@acme.test", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json(), serde_json::json!({"outcome": "deleted", "userId": carol, "email": "carol@acme.test"}));

    // --add and --remove repeat, in either spelling: one PUT with every value.
    let run = cli.run(&["team", "--title=support", "--add=bob@acme.test", "--add", "erin@acme.test", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let puts: Vec<_> = cli.standin.requests().into_iter().filter(|r| r.method == "PUT").collect();
    assert_eq!(puts.len(), 1);
    assert_eq!(puts[0].json().unwrap(), serde_json::json!({"add": ["bob@acme.test", "erin@acme.test"], "remove": []}));

    // After `--` (which wasmtime passes on), arguments are operands.
    let dave = cli.id("dave@acme.test");
    let got = cli.run(&["--json", "members", "get", "--", &dave]).json();
    assert_eq!(got["id"], dave.as_str());
    let requests = cli.standin.request_count();
    let run = cli.run(&["members", "list", "--", "--json"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.starts_with("error: wrong arguments for members list"), "{}", run.stderr);
    assert_eq!(cli.standin.request_count(), requests, "a usage error sends nothing");
}

#[test]
fn a_token_with_control_characters_is_refused_without_reaching_the_terminal() {
    let mut cli = Cli::sample();
    // A header split, a clear-screen and a title-setting escape: none may reach a log or a terminal.
    cli.env[0].1 = format!("{TOKEN}\r\nX-Evil: 1\u{1b}[2J\u{1b}]0;owned\u{7}");
    for args in [&["members", "list"][..], &["members", "list", "--json"]] {
        let run = cli.run(args);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains("token"), "{}", run.stderr);
        for fragment in ["X-Evil", "owned", "\u{1b}", "[2J"] {
            let shown = run.stdout.contains(fragment) || run.stderr.contains(fragment);
            assert!(!shown, "{fragment:?} reached the output: {:?} {:?}", run.stdout, run.stderr);
        }
    }
    assert_eq!(cli.standin.request_count(), 0);
}

#[test]
fn a_wrong_token_exits_1_with_a_clear_error() {
    let mut cli = Cli::sample();
    cli.env[0].1 = "gb_wrong".into();
    let run = cli.run(&["members", "list"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("list members failed: unauthorized (HTTP 401)"), "{}", run.stderr);
    let run = cli.run(&["members", "list", "--json"]);
    let error: Value = serde_json::from_str(&run.stderr).unwrap();
    assert_eq!(error["error"]["kind"], "unauthorized");
    assert_eq!(run.stdout.trim(), "[\n]", "stdout stays one JSON document");
}

#[test]
fn help_for_the_tool_and_each_command() {
    let cli = Cli::sample();
    let run = cli.run(&["--help"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("Commands:") && run.stdout.contains("Exit codes"));
    for command in ["invite", "remove", "team", "members", "apply"] {
        let run = cli.run(&[command, "--help"]);
        assert_eq!(run.code, 0);
        assert!(run.stdout.starts_with("Usage: "), "{command}: {}", run.stdout);
    }
    assert_eq!(cli.standin.request_count(), 0);
}

#[test]
fn typed_exports_can_be_invoked_directly() {
    let cli = Cli::sample();
    let alice = cli.id("alice@acme.test");
    let call = format!("get-member({{allow-insecure-http: some(true)}}, \"{alice}\")");
    let run = cli.run_with(&["--invoke", &call], &[], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("alice@acme.test"), "{}", run.stdout);
    assert!(run.stdout.starts_with("ok("), "{}", run.stdout);
}

/// The limits the README tells CLI users to set: wasmtime's own memory cap and
/// wall-clock timeout stop a call that would otherwise run on.
#[test]
fn the_wasmtime_cli_s_own_limits_stop_a_runaway_call() {
    let cli = Cli::new(Org::generated("acme", TOKEN, 5_000, 1));
    cli.standin.set_latency(std::time::Duration::from_millis(400));
    let run = cli.run_with(&["-W", "timeout=1s"], &["--allow-insecure-http", "members", "list", "--json"], "");
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("interrupt"), "{}", run.stderr);
    assert!(cli.standin.request_count() < 5, "stopped before the last of the 5 pages");

    cli.standin.set_latency(std::time::Duration::ZERO);
    let users: Vec<Value> = cli.standin.members().iter().map(|m| serde_json::json!({"email": m.email})).collect();
    let snapshot = serde_json::json!({"users": users}).to_string();
    let sync = ["--allow-insecure-http", "sync", "-"];
    let capped = cli.run_with(&["-W", "max-memory-size=2097152"], &sync, &snapshot);
    assert_ne!(capped.code, 0, "5,000 members do not fit in 2 MiB: {}", capped.stdout);
    assert!(capped.stderr.contains("wasm trap"), "{}", capped.stderr);
    let roomy = cli.run_with(&["-W", "max-memory-size=268435456"], &sync, &snapshot);
    assert_eq!(roomy.code, 0, "the same call fits in the README's 256 MiB: {}", roomy.stderr);
    assert!(cli.standin.requests().iter().all(|r| r.method == "GET"));
}

fn sample_snapshot(extra_users: &[&str]) -> Value {
    let mut users = vec![
        serde_json::json!({"email": "alice@acme.test", "role": "admin"}),
        serde_json::json!({"email": "bob@acme.test", "role": "edit"}),
        serde_json::json!({"email": "carol@acme.test", "role": "create"}),
        serde_json::json!({"email": "erin@acme.test", "role": "review"}),
        serde_json::json!({"email": "frank@acme.test", "role": "comment"}),
        serde_json::json!({"email": "gina@partner.test", "role": "guest"}),
    ];
    users.extend(extra_users.iter().map(|email| serde_json::json!({"email": email})));
    serde_json::json!({"users": users})
}

#[test]
fn sync_prints_the_plan_by_default_and_applies_on_request() {
    let cli = Cli::sample();
    // dave is gone from the directory; zed joined.
    let snapshot = sample_snapshot(&["zed@acme.test"]).to_string();
    let args = ["--allow-insecure-http", "sync", "-", "--strategy", "sync", "--max-removal-percent", "50"];
    let run = cli.run_with(&[], &[&args[..], &["--json"]].concat(), &snapshot);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan = run.json();
    assert_eq!(plan["invites"][0]["email"], "zed@acme.test");
    assert_eq!(plan["removals"][0]["email"], "dave@acme.test");
    assert!(cli.standin.requests().iter().all(|r| r.method == "GET"), "a dry run only reads");

    let run = cli.run_with(&[], &[&args[..], &["--apply"]].concat(), &snapshot);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("invite        zed@acme.test as read"), "{}", run.stdout);
    assert!(run.stdout.contains("2 ok, 0 failed"), "{}", run.stdout);
    assert!(cli.standin.member_by_email("dave@acme.test").is_none());
    assert!(cli.standin.member_by_email("zed@acme.test").is_some());

    let again = cli.run_with(&[], &args, &snapshot);
    assert!(again.stdout.contains("nothing to change"), "{}", again.stdout);
}

#[test]
fn sync_refuses_a_mass_removal() {
    let cli = Cli::sample();
    let run =
        cli.run_with(&[], &["--allow-insecure-http", "sync", "-", "--strategy", "sync", "--apply"], r#"{"users": []}"#);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("SAFETY STOP"), "{}", run.stdout);
    assert!(run.stderr.contains("refused by the deletion safety check"), "{}", run.stderr);
    assert!(cli.standin.requests().iter().all(|r| r.method == "GET"), "nothing was changed");
}

/// The stand-in's members as a snapshot, less `leavers` readers, plus
/// `joiners` newcomers.
fn drifted_snapshot(standin: &StandIn, leavers: usize, joiners: usize) -> String {
    let mut left = 0;
    let mut users: Vec<Value> = Vec::new();
    for member in standin.members() {
        let role = member.role.map_or("guest", |r| r.as_str());
        if role == "read" && left < leavers {
            left += 1;
            continue;
        }
        users.push(serde_json::json!({"email": member.email, "role": role}));
    }
    users.extend((0..joiners).map(|n| serde_json::json!({"email": format!("joiner{n}@example.test")})));
    serde_json::json!({"users": users}).to_string()
}

#[test]
fn sync_runs_requests_side_by_side_at_the_concurrency_asked_for() {
    let org = || Org::generated("acme", TOKEN, 300, 10);
    let (serial, parallel) = (Cli::new(org()), Cli::new(org()));
    let snapshot = drifted_snapshot(&serial.standin, 12, 12);
    let mut outcomes = Vec::new();
    for (cli, concurrency) in [(&serial, "1"), (&parallel, "8")] {
        // Long enough that requests sent together are processed together.
        cli.standin.set_latency(std::time::Duration::from_millis(30));
        let args = [
            "--allow-insecure-http",
            "sync",
            "-",
            "--strategy",
            "sync",
            "--max-removals",
            "20",
            "--max-removal-percent",
            "10",
            "--apply",
            "--concurrency",
            concurrency,
        ];
        let run = cli.run_with(&[], &args, &snapshot);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.stdout.contains("24 ok, 0 failed"), "{}", run.stdout);
        let mut emails: Vec<String> = cli.standin.members().into_iter().map(|m| m.email).collect();
        emails.sort();
        outcomes.push((cli.standin.request_count(), emails));
    }
    assert_eq!(serial.standin.max_in_flight(), 1);
    let most = parallel.standin.max_in_flight();
    assert!((4..=8).contains(&most), "under the wasmtime CLI the stand-in saw {most} requests at once");
    assert_eq!(outcomes[0], outcomes[1], "the same requests and the same organization");
}

#[test]
fn a_concurrency_out_of_range_exits_2_and_sends_nothing() {
    let cli = Cli::sample();
    for bad in ["0", "65", "many"] {
        let run = cli.run(&["members", "list", "--concurrency", bad]);
        assert_eq!(run.code, 2, "{bad}: {}", run.stderr);
        assert!(run.stderr.contains("--concurrency must be a whole number from 1 to 64"), "{}", run.stderr);
    }
    assert_eq!(cli.standin.request_count(), 0);
}

#[test]
fn a_scheduled_sync_apply_with_log_json_leaves_the_same_trail_as_the_service() {
    let cli = Cli::sample();
    let snapshot = serde_json::json!({"users": [
        {"email": "alice@acme.test", "role": "admin"}, {"email": "bob@acme.test", "role": "edit"},
        {"email": "carol@acme.test", "role": "create"}, {"email": "dave@acme.test", "role": "read"},
        {"email": "erin@acme.test", "role": "review"}, {"email": "frank@acme.test", "role": "comment"},
        {"email": "gina@partner.test", "role": "guest"}, {"email": "zoe@acme.test", "role": "read"}
    ]});
    let run =
        cli.run_with(&[], &["--allow-insecure-http", "sync", "-", "--apply", "--log", "json"], &snapshot.to_string());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("zoe@acme.test"), "the human report is still printed: {}", run.stdout);
    let lines: Vec<Value> = run
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    let writes: Vec<(String, String)> =
        cli.standin.requests().into_iter().filter(|r| r.method != "GET").map(|r| (r.method, r.path)).collect();
    let audited: Vec<(String, String)> = lines
        .iter()
        .filter(|l| l["type"] == "change")
        .map(|l| (l["method"].as_str().unwrap().to_owned(), l["path"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!((audited.len(), audited), (1, writes), "one audit line per write");
    let request = lines.last().unwrap();
    assert_eq!((request["type"].as_str(), request["route"].as_str()), (Some("request"), Some("sync --apply")));
    assert_eq!((request["exitCode"].as_u64(), request["via"].as_str()), (Some(0), Some("cli")));
}

#[test]
fn a_body_dripped_one_byte_at_a_time_ends_the_call_at_its_deadline() {
    let cli = Cli::sample();
    let dave = cli.id("dave@acme.test");
    cli.standin.inject(Fault::on("GET", &dave, FaultKind::Drip { every: std::time::Duration::from_millis(150) }, 1));
    let started = std::time::Instant::now();
    let run = cli.run(&["members", "get", &dave, "--deadline", "2", "--timeout", "1"]);
    let took = started.elapsed();
    // Before: 21 s, and it succeeded. Now the deadline, and wasmtime's start.
    assert!(took < std::time::Duration::from_secs(5), "took {took:?}");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("deadline exceeded"), "{}", run.stderr);
    assert_eq!(cli.standin.request_count(), 1);
}

#[test]
fn a_huge_retry_after_on_one_removal_does_not_hold_the_next_at_any_concurrency() {
    for concurrency in ["1", "8"] {
        let cli = Cli::sample();
        let (dave, frank) = (cli.id("dave@acme.test"), cli.id("frank@acme.test"));
        cli.standin.inject(Fault::on("DELETE", &dave, FaultKind::RetryAfter { seconds: 99_999_999 }, 1));
        let events = format!(r#"[{{"type":"user.left","userId":"{dave}"}},{{"type":"user.left","userId":"{frank}"}}]"#);
        let started = std::time::Instant::now();
        let args = ["--allow-insecure-http", "apply", "--json", "--concurrency", concurrency, "--max-wait", "5"];
        let run = cli.run_with(&[], &[&args[..], &["--deadline", "10"]].concat(), &events);
        let took = started.elapsed();
        assert!(took < std::time::Duration::from_secs(5), "took {took:?} at concurrency {concurrency}");
        assert_eq!(run.code, 1, "{}", run.stderr);
        let statuses: Vec<String> = run.json()["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["status"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(statuses, ["failed", "applied"], "{}", run.stdout);
        let deletes = cli.standin.requests().iter().filter(|r| r.method == "DELETE").count();
        assert_eq!(deletes, 2);
    }
}
