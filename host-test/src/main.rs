//! `host-test`: run the component in wasmtime against a local GitBook
//! stand-in.
//!
//! - `host-test demo`: replay the directory-sync guide's workflows (someone
//!   joins, a group changes, someone leaves) and print every step with
//!   GitBook's answer;
//! - `host-test standin [--port N] [--org ID] [--token T] [--members N] [--teams N]
//!   [--fail METHOD:PATH:STATUS:TIMES]... [--latency-ms N] [--until-stdin-closes]`: serve a stand-in
//!   organization until stopped (for examples in other languages and scripts
//!   that drive another host, such as a workflow engine).

use anyhow::{bail, Context, Result};
use host_test::demo;
use host_test::standin::{Fault, FaultKind, Org, RecordedRequest, StandIn};
use serde_json::json;

const USAGE: &str = "usage: host-test demo
       host-test standin [--port N] [--org ID] [--token TOKEN] [--members N] [--teams N]
                         [--fail METHOD:PATH:STATUS:TIMES]... [--latency-ms N] [--until-stdin-closes]

standin prints its URL on the first line, then serves until killed. With
--until-stdin-closes it serves until its standard input closes, then prints
every request it received, one JSON object a line, and exits, with one
line on standard error, {\"requests\": N, \"maxInFlight\": M} (the most
requests it was processing at once). --latency-ms adds N ms to every answer. Each --fail
answers STATUS (a 5xx, in GitBook's error shape) to the next TIMES requests
with METHOD whose path contains PATH, e.g. --fail PUT:/members:503:2.";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo::run(&mut std::io::stdout()),
        Some("standin") => standin(&args[1..]),
        Some("directory-standin") => directory_standin(&args[1..]),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(error) = result {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

/// `directory-standin google|entra|okta [--users N] [--groups N]
/// [--throttle-nth N]`: a
/// directory's stand-in with the test credentials (tests/sources.rs and
/// scripts/official-clients.sh use the same), `N` generated users in
/// groups `group-001`…; prints its URL, serves until stdin closes, then
/// reports the number of requests it answered on stderr. With
/// `--throttle-nth N` the Nth API request is throttled the API's way.
fn directory_standin(args: &[String]) -> Result<()> {
    use host_test::directories::{Api, Credentials, DirFault, Directory, DirectoryStandIn};
    let api = match args.first().map(String::as_str) {
        Some("google") => Api::Google,
        Some("entra") => Api::Entra,
        Some("okta") => Api::Okta,
        _ => bail!("directory-standin takes google, entra or okta\n{USAGE}"),
    };
    let (mut users, mut groups) = (25usize, 2usize);
    let mut throttle = None;
    let mut rest = args[1..].iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--users" => users = value.parse().context("--users takes a number")?,
            "--groups" => groups = value.parse().context("--groups takes a number")?,
            "--throttle-nth" => throttle = Some(value.parse().context("--throttle-nth takes a number")?),
            other => bail!("unknown option {other}"),
        }
    }
    let credentials = Credentials {
        google_client_email: "sync@acme-sync.iam.gserviceaccount.com".into(),
        google_subject: "admin@acme.test".into(),
        google_public_key_pem: include_str!("../../src/sources/testdata/TEST-ONLY-service-account-key.pub.pem").into(),
        entra_tenant: "acme.onmicrosoft.test".into(),
        entra_client_id: "11111111-2222-3333-4444-555555555555".into(),
        entra_client_secret: "entra~test~secret".into(),
        okta_token: "00okta_test_token".into(),
    };
    let standin = DirectoryStandIn::start(api, Directory::generated(users, groups), credentials)?;
    if let Some(n) = throttle {
        standin.inject(DirFault::ThrottleNth { n });
    }
    println!("{}", standin.base_url());
    std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink()).context("reading standard input")?;
    eprintln!("directory stand-in: {} requests answered", standin.requests().len());
    Ok(())
}

fn standin(args: &[String]) -> Result<()> {
    let (mut org_id, mut token, mut members, mut teams) =
        ("acme".to_owned(), "gb_test_token".to_owned(), 0usize, 0usize);
    let mut port = 0u16;
    let mut faults = Vec::new();
    let mut until_stdin_closes = false;
    let mut latency = 0u64;
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        if flag == "--until-stdin-closes" {
            until_stdin_closes = true;
            continue;
        }
        let value = rest.next().with_context(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--org" => org_id = value.clone(),
            "--token" => token = value.clone(),
            "--members" => members = value.parse().context("--members takes a number")?,
            "--teams" => teams = value.parse().context("--teams takes a number")?,
            "--port" => port = value.parse().context("--port takes a port number")?,
            "--fail" => faults.push(parse_fail(value)?),
            "--latency-ms" => latency = value.parse().context("--latency-ms takes a number of milliseconds")?,
            other => bail!("unknown option {other}\n{USAGE}"),
        }
    }
    let org = if members == 0 && teams == 0 {
        Org { id: org_id, token, ..Org::sample() }
    } else {
        Org::generated(&org_id, &token, members, teams)
    };
    let bearer = format!("Bearer {}", org.token);
    let standin = StandIn::start_on(org, port)?;
    for fault in faults {
        standin.inject(fault);
    }
    standin.set_latency(std::time::Duration::from_millis(latency));
    // One line a script can read, then serve.
    println!("{}", standin.base_url());
    if !until_stdin_closes {
        loop {
            std::thread::park();
        }
    }
    // Anything written to stdin is ignored: only its end matters.
    std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink()).context("reading standard input")?;
    let requests = standin.requests();
    for request in &requests {
        println!("{}", request_line(request, &bearer));
    }
    // On stderr, so the request lines stay one kind of line.
    eprintln!("{}", json!({"requests": requests.len(), "maxInFlight": standin.max_in_flight()}));
    Ok(())
}

/// `METHOD:PATH:STATUS:TIMES`, e.g. `PUT:/members:503:2`: the next TIMES
/// requests with that method and a path containing PATH get a STATUS answer.
fn parse_fail(value: &str) -> Result<Fault> {
    let parts: Vec<&str> = value.split(':').collect();
    let [method, path, status, times] = parts[..] else {
        bail!("--fail takes METHOD:PATH:STATUS:TIMES, e.g. PUT:/members:503:2 (got {value:?})");
    };
    let status: u16 = status.parse().with_context(|| format!("--fail: {status:?} is not a status"))?;
    if !(500..=599).contains(&status) {
        bail!("--fail: the status must be a 5xx (got {status})");
    }
    let times = times.parse().with_context(|| format!("--fail: {times:?} is not a number of requests"))?;
    if method.is_empty() || path.is_empty() {
        bail!("--fail: METHOD and PATH must not be empty (got {value:?})");
    }
    Ok(Fault::on(method, path, FaultKind::ServerError { status }, times))
}

/// One recorded request as a JSON line. The `Authorization` header is
/// reduced to whether it carried the organization's token, so the log never
/// shows a token (nor a placeholder an engine failed to replace).
fn request_line(request: &RecordedRequest, bearer: &str) -> String {
    let authorization = match request.header("authorization") {
        None => "missing",
        Some(value) if value == bearer => "token",
        Some(_) => "other",
    };
    let body = if request.body.is_empty() {
        serde_json::Value::Null
    } else {
        request.json().unwrap_or_else(|| String::from_utf8_lossy(&request.body).into())
    };
    json!({
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "authorization": authorization,
        "body": body,
        "fault": request.fault,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fail_rule_names_method_path_status_and_times() {
        let fault = parse_fail("PUT:/members:503:2").unwrap();
        assert_eq!(fault.method.as_deref(), Some("PUT"));
        assert_eq!(fault.path_contains.as_deref(), Some("/members"));
        assert_eq!(fault.times, 2);
        assert!(matches!(fault.kind, FaultKind::ServerError { status: 503 }));
        for bad in ["PUT:/members:503", "PUT:/members:404:1", "PUT:/members:503:x", ":/m:503:1", "a:b:c:d:e"] {
            assert!(parse_fail(bad).is_err(), "{bad} is refused");
        }
    }

    #[test]
    fn the_log_line_shows_whether_the_token_was_sent_but_never_the_token() {
        let request = RecordedRequest {
            method: "DELETE".into(),
            path: "/v1/orgs/acme/members/u1".into(),
            query: None,
            headers: vec![("authorization".into(), "Bearer gb_test_token".into())],
            body: Vec::new(),
            fault: None,
        };
        let line = request_line(&request, "Bearer gb_test_token");
        assert!(!line.contains("gb_test_token"), "{line}");
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["authorization"], "token");
        assert_eq!(value["body"], serde_json::Value::Null);
        let placeholder =
            RecordedRequest { headers: vec![("authorization".into(), "Bearer OBELISK_SECRET_00ff".into())], ..request };
        let line = request_line(&placeholder, "Bearer gb_test_token");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&line).unwrap()["authorization"], "other");
        assert!(!line.contains("OBELISK_SECRET"), "{line}");
    }
}
