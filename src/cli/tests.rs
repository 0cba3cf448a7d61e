//! The command line against a scripted transport and a captured console.

use super::{run, Console, EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::gitbook::fake::{json, Answer, ScriptedIo};
use serde_json::{json, Value};

#[derive(Default)]
struct Captured {
    out: String,
    err: String,
    stdin: Vec<u8>,
    files: Vec<(String, Vec<u8>)>,
}

impl Console for Captured {
    fn out(&mut self, text: &str) {
        self.out.push_str(text);
    }
    fn err(&mut self, text: &str) {
        self.err.push_str(text);
    }
    fn stderr_is_terminal(&self) -> bool {
        false
    }
    fn read_stdin(&mut self) -> Result<Vec<u8>, String> {
        Ok(std::mem::take(&mut self.stdin))
    }
    fn read_file(&mut self, path: &str) -> Result<Vec<u8>, String> {
        let file = self.files.iter().find(|(name, _)| name == path);
        file.map(|(_, bytes)| bytes.clone()).ok_or_else(|| format!("cannot open {path:?}"))
    }
}

const TOKEN: &str = "gb_cli_SECRET";

fn env(name: &str) -> Option<String> {
    match name {
        "GITBOOK_TOKEN" => Some(TOKEN.into()),
        "GITBOOK_ORG" => Some("acme".into()),
        _ => None,
    }
}

fn cli(line: &str, answers: Vec<Answer>, stdin: &str) -> (u8, Captured, ScriptedIo) {
    let args: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
    let mut io = ScriptedIo::new(answers);
    let mut console = Captured { stdin: stdin.as_bytes().to_vec(), ..Captured::default() };
    let code = run(&args, env, &mut io, &mut console, &mut Vec::<String>::new());
    assert!(!console.out.contains(TOKEN) && !console.err.contains(TOKEN));
    (code, console, io)
}

const MEMBER: &str = r#"{"object":"member","id":"u1","role":"edit","user":{"object":"user","id":"u1","displayName":"Ann","email":"ann@x.io","urls":{"location":"https://x"}},"disabled":false,"joinedAt":"2024-01-01T00:00:00Z","sso":true,"spaces":0,"teams":1,"sites":0}"#;

#[test]
fn usage_errors_exit_2_and_send_nothing() {
    for line in ["", "frobnicate", "invite", "members get", "remove a/b", "invite not-an-email"] {
        let (code, console, io) = cli(line, vec![], "");
        assert_eq!(code, EXIT_USAGE, "{line:?}");
        assert!(console.err.starts_with("error: "), "{line:?}: {}", console.err);
        assert!(io.sent.is_empty());
    }
}

#[test]
fn a_missing_token_is_a_usage_error_naming_the_variable() {
    let args = vec!["members".to_string(), "list".into()];
    let mut io = ScriptedIo::new([]);
    let mut console = Captured::default();
    let code = run(
        &args,
        |name| (name == "GITBOOK_ORG").then(|| "acme".to_string()),
        &mut io,
        &mut console,
        &mut Vec::<String>::new(),
    );
    assert_eq!(code, EXIT_USAGE);
    assert!(console.err.contains("GITBOOK_TOKEN"), "{}", console.err);
    assert!(io.sent.is_empty());
}

#[test]
fn members_list_json_is_one_document_streamed_page_by_page() {
    let page1 = format!(r#"{{"items":[{MEMBER}],"count":2,"next":{{"page":"p2"}}}}"#);
    let page2 = format!(r#"{{"items":[{}],"count":2}}"#, MEMBER.replace("\"u1\"", "\"u2\""));
    let (code, console, io) = cli("members list --json", vec![json(200, &page1), json(200, &page2)], "");
    assert_eq!(code, EXIT_OK);
    let parsed: serde_json::Value = serde_json::from_str(&console.out).expect("one JSON document");
    let ids: Vec<&str> = parsed.as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["u1", "u2"]);
    assert_eq!(parsed[0]["user"]["email"], "ann@x.io");
    assert_eq!(io.sent.len(), 2);
}

#[test]
fn api_failures_exit_1_with_the_error_on_stderr() {
    let (code, console, _) =
        cli("members get u1", vec![json(401, r#"{"error":{"code":401,"message":"Invalid token"}}"#)], "");
    assert_eq!(code, EXIT_FAILED);
    assert!(console.out.is_empty());
    assert!(console.err.contains("unauthorized (HTTP 401): Invalid token"), "{}", console.err);

    let (code, console, _) =
        cli("--json members get u1", vec![json(404, r#"{"error":{"code":404,"message":"nope"}}"#)], "");
    assert_eq!(code, EXIT_FAILED);
    let error: serde_json::Value = serde_json::from_str(&console.err).unwrap();
    assert_eq!(error["error"]["kind"], "not-found");
}

#[test]
fn apply_reads_events_from_stdin_and_exits_1_when_one_failed() {
    let events = r#"[{"id":"a","type":"user.left","userId":"u1"},{"id":"b","type":"user.left","userId":"u2"}]"#;
    let (code, console, io) =
        cli("apply --json", vec![json(205, ""), json(403, r#"{"error":{"code":403,"message":"not admin"}}"#)], events);
    assert_eq!(code, EXIT_FAILED);
    assert_eq!(io.sent.len(), 2);
    let report: serde_json::Value = serde_json::from_str(&console.out).unwrap();
    assert_eq!((report["applied"].as_u64(), report["failed"].as_u64()), (Some(1), Some(1)));
    assert_eq!(report["results"][1]["error"]["kind"], "forbidden");
}

#[test]
fn human_output_reads_well() {
    let (code, console, _) = cli("invite Ann@X.io", vec![json(200, r#"{"users":["u9"],"invited":1}"#)], "");
    assert_eq!(code, EXIT_OK);
    assert_eq!(console.out, "Invited 1 person (as read, SSO): GitBook added 1.\n  ann@x.io  u9\n");
    let (_, console, _) = cli("remove u9", vec![json(204, "")], "");
    assert_eq!(console.out, "u9 is not a member; nothing to remove.\n");
    let (_, console, _) = cli("members find nobody@x.io", vec![json(200, r#"{"items":[],"count":0}"#)], "");
    assert_eq!(console.out, "No member has the email nobody@x.io.\n");
}

/// `METHOD path` of each request sent, without the base URL and organization.
fn requests(io: &ScriptedIo) -> Vec<String> {
    io.sent
        .iter()
        .map(|r| format!("{} {}", r.method.as_str(), r.url.split("/orgs/acme").nth(1).unwrap_or(&r.url)))
        .collect()
}

#[test]
fn a_single_valued_option_given_twice_is_a_usage_error_and_sends_nothing() {
    for line in [
        "remove --email a@x.io --email b@x.io",
        "remove --email a@x.io --email a@x.io",
        "remove --email=a@x.io --email b@x.io",
        "members list --role read --role=edit",
        "members list --search ann --search bob",
        "invite a@x.io --role edit --role read",
        "team --title Eng --title Ops --add u1",
        "apply --default-role edit --default-role read",
        "sync s.json --strategy push --strategy sync",
        "sync s.json --max-removals 1 --max-removals 2",
        "--org acme members list --org other",
        "--token t1 members list --token=t2",
        "--api-url https://a.test --api-url https://b.test members list",
        "members list --timeout 1 --timeout 1",
        "--max-attempts 2 members list --max-attempts=3",
        "members list --max-wait 1 --max-wait 2",
        "members list --deadline 1 --deadline 2",
    ] {
        let (code, console, io) = cli(line, vec![json(205, ""), json(205, "")], "");
        assert_eq!(code, EXIT_USAGE, "{line:?}");
        assert!(console.err.contains("was given more than once; it takes one value"), "{line:?}: {}", console.err);
        assert_eq!(requests(&io), Vec::<String>::new(), "{line:?}");
    }
}

#[test]
fn add_and_remove_repeat_and_every_value_is_sent_in_one_request() {
    let (code, console, io) = cli("team t1 --add u1 --add=u2 --remove u3 --remove=u4", vec![json(204, "")], "");
    assert_eq!(code, EXIT_OK, "{}", console.err);
    assert_eq!(requests(&io), ["PUT /teams/t1/members"]);
    let body: serde_json::Value = serde_json::from_slice(io.sent[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(body, serde_json::json!({"add": ["u1", "u2"], "remove": ["u3", "u4"]}));
}

#[test]
fn invite_takes_many_emails_as_operands() {
    let (code, _, io) =
        cli("invite a@x.io b@x.io -- c@x.io", vec![json(200, r#"{"users":["1","2","3"],"invited":3}"#)], "");
    assert_eq!(code, EXIT_OK);
    let body: serde_json::Value = serde_json::from_slice(io.sent[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(body["emails"], serde_json::json!(["a@x.io", "b@x.io", "c@x.io"]));
}

#[test]
fn an_option_value_may_follow_an_equals_sign() {
    let (code, console, io) = cli(
        "--org=acme members list --role=guest --search=a=b --max-attempts=1",
        vec![json(200, r#"{"items":[]}"#)],
        "",
    );
    assert_eq!(code, EXIT_OK, "{}", console.err);
    // The value is everything after the first '=': the search is "a=b".
    assert_eq!(requests(&io), ["GET /members?limit=1000&role=guest&search=a%3Db"]);

    for (line, message) in [
        ("members list --json=yes", "--json takes no value"),
        ("invite a@x.io --no-sso=true", "--no-sso takes no value"),
        ("members list --help=me", "--help takes no value"),
        ("members list --bogus=1", "unknown option --bogus=1"),
        ("members list --=1", "unknown option --=1"),
        ("members list -h=1", "unknown option -h=1"),
    ] {
        let (code, console, io) = cli(line, vec![], "");
        assert_eq!(code, EXIT_USAGE, "{line:?}");
        assert!(console.err.starts_with(&format!("error: {message}\n")), "{line:?}: {}", console.err);
        assert!(io.sent.is_empty());
    }
}

#[test]
fn a_blank_value_is_refused_rather_than_falling_back_to_the_environment() {
    // Without this, `--org "$UNSET"` would quietly use GITBOOK_ORG.
    for (args, flag) in [
        (vec!["members", "list", "--org="], "--org"),
        (vec!["members", "list", "--org", ""], "--org"),
        (vec!["members", "list", "--token", " "], "--token"),
        (vec!["--api-url=", "members", "list"], "--api-url"),
        (vec!["members", "list", "--search="], "--search"),
    ] {
        let args: Vec<String> = args.into_iter().map(str::to_owned).collect();
        let mut io = ScriptedIo::new([json(200, r#"{"items":[]}"#)]);
        let mut console = Captured::default();
        let code = run(&args, env, &mut io, &mut console, &mut Vec::<String>::new());
        assert_eq!(code, EXIT_USAGE, "{args:?}");
        assert!(console.err.starts_with(&format!("error: {flag} needs a value, not a blank one\n")), "{}", console.err);
        assert!(io.sent.is_empty(), "{args:?}");
    }
}

#[test]
fn a_double_dash_ends_the_options() {
    // GitBook IDs may start with '-': after `--` they are operands.
    let (code, console, io) = cli("members get -- -abc", vec![json(200, MEMBER)], "");
    assert_eq!(code, EXIT_OK, "{}", console.err);
    assert_eq!(requests(&io), ["GET /members/-abc"]);

    let (code, _, io) = cli("--json remove -- --email", vec![json(205, "")], "");
    assert_eq!(code, EXIT_OK);
    assert_eq!(requests(&io), ["DELETE /members/--email"]);

    // Options after `--` are not options, and the command name may follow it too.
    let (code, console, io) = cli("-- members list --json", vec![], "");
    assert_eq!(code, EXIT_USAGE);
    assert!(console.err.starts_with("error: wrong arguments for members list\n"), "{}", console.err);
    assert!(io.sent.is_empty());

    let (code, _, io) = cli("members list --", vec![json(200, r#"{"items":[]}"#)], "");
    assert_eq!((code, requests(&io).len()), (EXIT_OK, 1));
}

const OKTA_TOKEN: &str = "00okta_SECRET";

fn okta_env(name: &str) -> Option<String> {
    match name {
        "OKTA_ORG_URL" => Some("https://acme.okta.test".into()),
        "OKTA_API_TOKEN" => Some(OKTA_TOKEN.into()),
        other => env(other),
    }
}

fn cli_with_rules(line: &str, answers: Vec<Answer>) -> (u8, Captured, ScriptedIo) {
    let args: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
    let mut io = ScriptedIo::new(answers);
    let rules = br#"{"groupTeams": {"eng": "Engineering"}}"#.to_vec();
    let mut console = Captured { files: vec![("rules.json".into(), rules)], ..Captured::default() };
    let code = run(&args, okta_env, &mut io, &mut console, &mut Vec::<String>::new());
    for secret in [TOKEN, OKTA_TOKEN] {
        assert!(!console.out.contains(secret) && !console.err.contains(secret), "{secret} shown");
    }
    (code, console, io)
}

#[test]
fn sync_source_dump_snapshot_prints_what_the_directory_holds_and_asks_gitbook_nothing() {
    let (code, console, io) = cli_with_rules(
        "sync --source okta --rules rules.json --dump-snapshot",
        vec![
            json(200, r#"[{"id":"u1","status":"ACTIVE","profile":{"email":"Ann@Acme.com"}}]"#),
            json(200, r#"[{"id":"g1","profile":{"name":"eng"}}]"#),
            json(200, r#"[{"id":"u1","status":"ACTIVE","profile":{"email":"ann@acme.com"}}]"#),
        ],
    );
    assert_eq!(code, EXIT_OK, "{}", console.err);
    let snapshot: serde_json::Value = serde_json::from_str(&console.out).expect("one JSON document");
    assert_eq!(snapshot["users"], serde_json::json!([{"email": "ann@acme.com", "groups": ["eng"]}]));
    assert_eq!(snapshot["rules"]["groupTeams"], serde_json::json!({"eng": "Engineering"}));
    let reparsed = crate::sync::reconcile::Snapshot::parse(console.out.as_bytes()).expect("the dump is a snapshot");
    assert_eq!(reparsed.users.len(), 1);
    assert_eq!(io.sent.len(), 3);
    assert!(io.sent.iter().all(|r| r.url.starts_with("https://acme.okta.test/api/v1/")));
    assert!(
        console.err.contains("read Okta: 1 users listed, 1 in the snapshot; 1 groups; 3 requests"),
        "{}",
        console.err
    );
}

#[test]
fn sync_source_with_a_refused_token_fails_naming_the_source_and_plans_nothing() {
    let (code, console, io) = cli_with_rules(
        "sync --source okta --rules rules.json --apply",
        vec![
            json(401, r#"{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorCauses":[]}"#),
            json(401, r#"{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorCauses":[]}"#),
        ],
    );
    assert_eq!(code, EXIT_FAILED);
    assert!(console.err.contains("Okta refused the credentials"), "{}", console.err);
    assert!(console.out.is_empty());
    assert!(io.sent.iter().all(|r| !r.url.contains("gitbook")), "nothing sent to GitBook");
}

#[test]
fn sync_source_usage_errors_send_nothing() {
    for (line, says) in [
        ("sync --rules rules.json", "--rules goes with --source"),
        ("sync --source ldap --rules rules.json", "is not a source"),
        ("sync --source okta", "needs --rules"),
        ("sync --source okta --rules rules.json --apply --dump-snapshot", "exclude each other"),
        ("sync --source okta --rules rules.json --key-file k.json", "--key-file is for --source google"),
        ("sync snap.json --source okta --rules rules.json", "not a snapshot file"),
        ("sync --source okta --rules missing.json", "cannot open"),
    ] {
        let (code, console, io) = cli_with_rules(line, vec![]);
        assert_eq!(code, EXIT_USAGE, "{line}");
        assert!(console.err.contains(says), "{line}: {}", console.err);
        assert!(io.sent.is_empty(), "{line}");
    }
}

/// Runs `line` with `--log json` support: the human output, and the log lines.
fn cli_logged(line: &str, answers: Vec<Answer>, env: impl Fn(&str) -> Option<String>) -> (u8, Captured, Vec<Value>) {
    let args: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
    let mut io = ScriptedIo::new(answers);
    let mut console = Captured::default();
    let mut lines: Vec<String> = Vec::new();
    let code = run(&args, env, &mut io, &mut console, &mut lines);
    for line in &lines {
        assert!(!line.contains(TOKEN) && !line.contains("--token-value"), "{line}");
    }
    (code, console, lines.iter().map(|l| serde_json::from_str(l).expect("a JSON line")).collect())
}

#[test]
fn log_json_adds_a_request_line_and_an_audit_line_per_change_and_keeps_the_human_output() {
    let (code, plain, none) = cli_logged("remove u1", vec![json(205, "")], env);
    assert_eq!((code, none.len()), (EXIT_OK, 0), "no lines unless asked");
    let (code, console, lines) = cli_logged("--log json remove u1", vec![json(205, "")], env);
    assert_eq!(code, EXIT_OK);
    assert_eq!(console.out, plain.out, "the human output is the same");
    let kinds: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["change", "request"]);
    assert_eq!(lines[0]["change"], "remove-member");
    assert_eq!((lines[0]["status"].clone(), lines[0]["via"].clone()), (json!(205), json!("cli")));
    assert_eq!(lines[1]["route"], "remove");
    assert_eq!((lines[1]["exitCode"].clone(), lines[1]["changes"].clone()), (json!(0), json!(1)));
    assert_eq!(lines[0]["requestId"], lines[1]["requestId"]);
}

#[test]
fn gitbook_log_alone_turns_the_lines_on_and_a_token_given_as_an_option_stays_out() {
    let with_level = |name: &str| match name {
        "GITBOOK_LOG" => Some("debug".to_string()),
        "GITBOOK_ORG" => Some("acme".to_string()),
        _ => None,
    };
    let (code, _, lines) =
        cli_logged("remove u1 --token gb_cli_--token-value", vec![json(500, "{}"), json(205, "")], with_level);
    assert_eq!(code, EXIT_OK);
    let kinds: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["gitbook", "gitbook", "change", "request"]);
    assert_eq!(lines[2]["attempts"], 2);
    assert_eq!(lines[3]["gitbookRetries"], 1);

    let bad = |name: &str| (name == "GITBOOK_LOG").then(|| "chatty".to_string());
    let (code, console, _) = cli_logged("remove u1", vec![], bad);
    assert_eq!(code, EXIT_USAGE);
    assert!(console.err.contains("GITBOOK_LOG"), "{}", console.err);
}

#[test]
fn log_hash_prints_the_hash_the_logs_use_and_sends_nothing() {
    let (code, console, io) = cli("log-hash Ann@X.io", vec![], "");
    assert_eq!(code, EXIT_OK);
    assert_eq!(console.out, format!("{}\n", crate::observe::emails::EmailKey::derive(TOKEN).hash("ann@x.io")));
    assert!(io.sent.is_empty());
    let (code, console, _) = cli("log-hash not-an-email", vec![], "");
    assert_eq!((code, console.err.contains("email")), (EXIT_USAGE, true));
}
