//! The command line against a scripted transport and a captured console.

use super::{run, Console, EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::gitbook::fake::{json, Answer, ScriptedIo};

#[derive(Default)]
struct Captured {
    out: String,
    err: String,
    stdin: Vec<u8>,
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
        Err(format!("cannot open {path:?}"))
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
    let code = run(&args, env, &mut io, &mut console);
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
    let code = run(&args, |name| (name == "GITBOOK_ORG").then(|| "acme".to_string()), &mut io, &mut console);
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
