//! The log as the driver feeds it: every GitBook request at `debug`, an
//! audit line per write with its outcome, counts for the request line, and
//! no secret or (when hashed) email in any line.

use super::*;
use crate::gitbook::fake::{json, ScriptedIo};
use crate::gitbook::ops::Invite;
use crate::gitbook::Client;
use crate::io::{TransportError, TransportErrorKind};
use crate::validate::GitBookId;
use serde_json::json;

const TOKEN: &str = "gb_api_LOGSECRET_91";

fn env(level: &str, emails: &str) -> impl Fn(&str) -> Option<String> {
    let (level, emails) = (level.to_owned(), emails.to_owned());
    move |name| match name {
        "GITBOOK_TOKEN" => Some(TOKEN.into()),
        "WEBHOOK_SECRET" => Some("whsec_LOGSECRET".into()),
        ENV_LOG => Some(level.clone()),
        ENV_LOG_EMAILS => Some(emails.clone()),
        _ => None,
    }
}

/// Runs `work` with a client over `io` that logs into the returned lines.
fn logged(
    level: &str,
    emails: &str,
    io: &mut ScriptedIo,
    work: impl FnOnce(&mut Client<'_, Observed<'_, '_, &mut ScriptedIo>>),
) -> (Vec<Value>, Counts) {
    let settings = crate::gitbook::fake::settings_with_token(TOKEN);
    let mut lines: Vec<String> = Vec::new();
    let config = LogConfig::from_env(env(level, emails)).unwrap();
    let mut log = Log::new(config, Via::Cli, "req-1".into(), &mut lines);
    let mut client = Client::new(&settings, Observed { io, log: &mut log });
    work(&mut client);
    log.finish(
        Duration::from_secs(1_700_000_000),
        &Finished {
            method: None,
            route: "remove",
            status: None,
            exit_code: Some(0),
            failed: false,
            duration: Duration::from_millis(5),
            outcome: "done for ann@x.io",
        },
    );
    let counts = log.counts;
    drop(log);
    for line in &lines {
        assert!(!line.contains(TOKEN) && !line.contains("LOGSECRET"), "{line}");
    }
    (lines.iter().map(|l| serde_json::from_str(l).expect("every line is JSON")).collect(), counts)
}

fn user(id: &str) -> GitBookId {
    GitBookId::parse("user-id", id).unwrap()
}

#[test]
fn a_retried_removal_is_one_audit_line_with_its_attempts_and_debug_lines_for_each_request() {
    let mut io = ScriptedIo::new([json(503, r#"{"error":{"code":503,"message":"busy"}}"#), json(205, "")]);
    let (lines, counts) = logged("debug", "plain", &mut io, |client| {
        client.remove_member(&user("u1")).unwrap();
    });
    assert_eq!(counts, Counts { requests: 2, retries: 1, changes: 1 });
    let types: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["gitbook", "gitbook", "change", "request"]);
    assert_eq!(lines[0]["status"], 503);
    assert_eq!(lines[0]["attempt"], 1);
    assert!(lines[0]["retryInMs"].as_u64().is_some(), "{}", lines[0]);
    assert_eq!(lines[0]["durationMs"], 10);
    assert_eq!((lines[1]["status"].clone(), lines[1]["attempt"].clone()), (json!(205), json!(2)));
    let change = &lines[2];
    assert_eq!(change["change"], "remove-member");
    assert_eq!(change["target"], json!({"userId": "u1"}));
    assert_eq!(change["method"], "DELETE");
    assert_eq!(change["path"], "/v1/orgs/acme/members/u1");
    assert_eq!((change["status"].clone(), change["outcome"].clone()), (json!(205), json!("done")));
    assert_eq!((change["attempts"].clone(), change["requestId"].clone()), (json!(2), json!("req-1")));
    assert_eq!(change["level"], "info");
    let request = &lines[3];
    assert_eq!((request["gitbookRequests"].clone(), request["gitbookRetries"].clone()), (json!(2), json!(1)));
    assert_eq!(request["time"], "2023-11-14T22:13:20.000Z");
}

#[test]
fn the_204_and_202_of_a_removal_are_told_apart() {
    let mut io = ScriptedIo::new([json(204, ""), json(202, "")]);
    let (lines, _) = logged("info", "plain", &mut io, |client| {
        client.remove_member(&user("u1")).unwrap();
        client.remove_member(&user("u2")).unwrap();
    });
    let outcomes: Vec<(Value, Value)> =
        lines.iter().filter(|l| l["type"] == "change").map(|l| (l["status"].clone(), l["outcome"].clone())).collect();
    assert_eq!(outcomes, [(json!(204), json!("no-change")), (json!(202), json!("pending-approval"))]);
}

#[test]
fn a_write_whose_answer_never_came_is_unknown_and_a_refused_one_failed() {
    let dropped = || Err(TransportError { kind: TransportErrorKind::Timeout, message: "timed out".into() });
    let mut io = ScriptedIo::new([
        dropped(),
        dropped(),
        dropped(),
        dropped(),
        dropped(),
        json(400, r#"{"error":{"code":400,"message":"bad email ann@x.io"}}"#),
    ]);
    let (lines, _) = logged("info", "plain", &mut io, |client| {
        client.remove_member(&user("u1")).unwrap_err();
        let invite = Invite::parse(&["ann@x.io".into()], &[], None, true).unwrap();
        client.invite(&invite).unwrap_err();
    });
    let changes: Vec<&Value> = lines.iter().filter(|l| l["type"] == "change").collect();
    assert_eq!(changes[0]["outcome"], "unknown");
    assert_eq!(changes[0]["level"], "error");
    assert_eq!(changes[0]["error"], "transport");
    assert!(changes[0]["detail"].as_str().unwrap().contains("may have made this change"), "{}", changes[0]);
    assert_eq!((changes[1]["outcome"].clone(), changes[1]["status"].clone()), (json!("failed"), json!(400)));
    assert_eq!(changes[1]["target"], json!({"emails": ["ann@x.io"]}));
}

#[test]
fn hashed_emails_never_appear_in_any_line() {
    let mut io = ScriptedIo::new([json(400, r#"{"error":{"code":400,"message":"ann@x.io cannot be invited"}}"#)]);
    let (lines, _) = logged("debug", "hash", &mut io, |client| {
        let invite = Invite::parse(&["Ann@x.io".into()], &[], None, true).unwrap();
        client.invite(&invite).unwrap_err();
    });
    let text = lines.iter().map(Value::to_string).collect::<String>();
    assert!(!text.contains("ann@x.io") && !text.contains("Ann@x.io"), "{text}");
    let hash = emails::EmailKey::derive(TOKEN).hash("ann@x.io");
    let change = lines.iter().find(|l| l["type"] == "change").unwrap();
    assert_eq!(change["target"]["emails"], json!([hash]));
    assert!(change["detail"].as_str().unwrap().contains(&hash), "{change}");
}

#[test]
fn levels_keep_what_matters_and_off_keeps_nothing() {
    let run = |level: &str| {
        let mut io = ScriptedIo::new([json(200, r#"{"items":[],"count":0}"#), json(205, "")]);
        let (lines, counts) = logged(level, "plain", &mut io, |client| {
            client.list_members(&Default::default()).unwrap();
            client.remove_member(&user("u1")).unwrap();
        });
        assert_eq!(counts.requests, 2, "counted whatever is written");
        lines.iter().map(|l| l["type"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(run("debug"), ["gitbook", "gitbook", "change", "request"]);
    assert_eq!(run("info"), ["change", "request"]);
    assert_eq!(run("warn"), Vec::<String>::new());
    assert_eq!(run("off"), Vec::<String>::new());
}

#[test]
fn bad_settings_name_their_variable() {
    let error = LogConfig::from_env(env("verbose", "plain")).unwrap_err();
    assert!(error.to_string().contains(ENV_LOG), "{error}");
    let error = LogConfig::from_env(env("info", "md5")).unwrap_err();
    assert!(error.to_string().contains(ENV_LOG_EMAILS), "{error}");
    let no_key = |name: &str| (name == ENV_LOG_EMAILS).then(|| "hash".to_owned());
    let error = LogConfig::from_env(no_key).unwrap_err();
    assert!(error.to_string().contains(ENV_LOG_EMAILS_KEY), "{error}");
    assert_eq!(LogConfig::from_env(|_| None).unwrap().threshold, Some(Level::Info));
}

#[test]
fn caller_request_ids_are_kept_only_when_sensible() {
    assert_eq!(given_request_id(" abc-123 ").as_deref(), Some("abc-123"));
    assert_eq!(given_request_id("has space"), None);
    assert_eq!(given_request_id("quote\""), None);
    assert_eq!(given_request_id(&"x".repeat(129)), None);
    let mut io = ScriptedIo::new([]);
    let id = new_request_id(&mut &mut io);
    assert_eq!(id.len(), 32);
}
