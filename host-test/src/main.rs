//! `host-test`: run the component in wasmtime against a local GitBook
//! stand-in.
//!
//! - `host-test demo`: replay the directory-sync guide's workflows (someone
//!   joins, a group changes, someone leaves) and print every step with
//!   GitBook's answer;
//! - `host-test standin [--port N] [--org ID] [--token T] [--members N] [--teams N]`:
//!   serve a stand-in organization until stopped (for examples in other
//!   languages).

use anyhow::{bail, Context, Result};
use host_test::demo;
use host_test::standin::{Org, StandIn};

const USAGE: &str = "usage: host-test demo
       host-test standin [--port N] [--org ID] [--token TOKEN] [--members N] [--teams N]";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo::run(&mut std::io::stdout()),
        Some("standin") => standin(&args[1..]),
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

fn standin(args: &[String]) -> Result<()> {
    let (mut org_id, mut token, mut members, mut teams) =
        ("acme".to_owned(), "gb_test_token".to_owned(), 0usize, 0usize);
    let mut port = 0u16;
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().with_context(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--org" => org_id = value.clone(),
            "--token" => token = value.clone(),
            "--members" => members = value.parse().context("--members takes a number")?,
            "--teams" => teams = value.parse().context("--teams takes a number")?,
            "--port" => port = value.parse().context("--port takes a port number")?,
            other => bail!("unknown option {other}\n{USAGE}"),
        }
    }
    let org = if members == 0 && teams == 0 {
        Org { id: org_id, token, ..Org::sample() }
    } else {
        Org::generated(&org_id, &token, members, teams)
    };
    let standin = StandIn::start_on(org, port)?;
    // One line a script can read, then serve until killed.
    println!("{}", standin.base_url());
    loop {
        std::thread::park();
    }
}
