//! `cli::args::parse` on a fuzzer-built argv (the input split on NUL bytes).
//!
//! Properties: never panics; a usage error has a message and help; for a
//! `Parsed::Run`, every string in the invocation is one of the arguments
//! given (emails and team members in the order given), `--max-attempts` is at
//! least 1, accepted durations are not zero, and writing the invocation back
//! as a canonical argv parses to the same invocation.
#![no_main]

use fuzz_support::known_finding;
use gitbook_directory_sync::cli::args::{parse, Command, Invocation, Parsed, RemoveTarget, Source, TeamArg};
use gitbook_directory_sync::role::role_or_guest_name;
use gitbook_directory_sync::sync::reconcile::Strategy;
use libfuzzer_sys::fuzz_target;
use std::time::Duration;

fuzz_target!(|data: &[u8]| {
    let argv: Vec<String> = data.split(|b| *b == 0).take(64).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
    let invocation = match parse(&argv) {
        Err(usage) => {
            assert!(!usage.message.is_empty() && !usage.help.is_empty());
            return;
        }
        Ok(Parsed::Help(text)) => {
            assert!(text.starts_with("Usage:") || text.starts_with("gitbook-directory-sync"));
            return;
        }
        Ok(Parsed::Version) => return,
        Ok(Parsed::Run(invocation)) => *invocation,
    };
    let _ = invocation.options.raw_settings();

    for s in strings(&invocation) {
        assert!(argv.iter().any(|a| a == s), "{s:?} is not one of the arguments {argv:?}");
    }
    let in_order = |list: &[String]| {
        let mut rest = argv.iter();
        assert!(list.iter().all(|s| rest.any(|a| a == s)), "{list:?} not in the order given in {argv:?}");
    };
    match &invocation.command {
        Command::Invite { emails, .. } => {
            assert!(!emails.is_empty());
            in_order(emails);
        }
        Command::Team { add, remove, .. } => {
            assert!(!add.is_empty() || !remove.is_empty());
            in_order(add);
            in_order(remove);
        }
        _ => {}
    }
    if let Some(retry) = &invocation.options.retry {
        known_finding!(retry.max_attempts >= 1, "--max-attempts became {} from {argv:?}", retry.max_attempts);
        if retry.max_attempts == 0 {
            return;
        }
    }
    // Durations the parser accepts as "more than 0 seconds" must not be zero.
    let o = &invocation.options;
    let durations = o.retry.iter().flat_map(|r| [r.max_wait, r.deadline]).chain(o.timeout);
    for duration in durations {
        known_finding!(!duration.is_zero(), "a duration accepted as more than 0 s became zero: {argv:?}");
        if duration.is_zero() {
            return;
        }
    }

    // The canonical argv parses to the same invocation (durations within 1 ns:
    // they go through a decimal text and an f64).
    let canonical = to_argv(&invocation);
    let again = match parse(&canonical) {
        Ok(Parsed::Run(again)) => *again,
        other => panic!("canonical argv {canonical:?} (from {argv:?}) parsed to {other:?}"),
    };
    assert_eq!(normalized(&again, &invocation), invocation, "round trip via {canonical:?}");
});

fn strings(invocation: &Invocation) -> Vec<&String> {
    let o = &invocation.options;
    let mut all: Vec<&String> = [&o.org, &o.token, &o.api_url].into_iter().flatten().collect();
    match &invocation.command {
        Command::Invite { emails, .. } => all.extend(emails),
        Command::Remove { target: RemoveTarget::Id(s) | RemoveTarget::Email(s) } => all.push(s),
        Command::Team { team: TeamArg::Id(t) | TeamArg::Title(t), add, remove } => {
            all.push(t);
            all.extend(add);
            all.extend(remove);
        }
        Command::List { search, .. } => all.extend(search),
        Command::Get { user_id } | Command::SetRole { user_id, .. } | Command::SetSso { user_id } => all.push(user_id),
        Command::Find { email } => all.push(email),
        Command::Apply { source, .. } | Command::Sync { source, .. } => {
            if let Source::File(path) = source {
                all.push(path);
            }
        }
    }
    all
}

fn seconds(d: Duration) -> String {
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

fn to_argv(invocation: &Invocation) -> Vec<String> {
    let mut a: Vec<String> = Vec::new();
    let mut push = |items: &[&str]| a.extend(items.iter().map(|s| s.to_string()));
    match &invocation.command {
        Command::Invite { emails, role, sso } => {
            push(&["invite"]);
            emails.iter().for_each(|e| push(&[e]));
            push(&["--role", role_or_guest_name(*role)]);
            if !sso {
                push(&["--no-sso"]);
            }
        }
        Command::Remove { target: RemoveTarget::Id(id) } => push(&["remove", id]),
        Command::Remove { target: RemoveTarget::Email(email) } => push(&["remove", "--email", email]),
        Command::Team { team, add, remove } => {
            match team {
                TeamArg::Id(id) => push(&["team", id]),
                TeamArg::Title(title) => push(&["team", "--title", title]),
            }
            add.iter().for_each(|x| push(&["--add", x]));
            remove.iter().for_each(|x| push(&["--remove", x]));
        }
        Command::List { role, search } => {
            push(&["members", "list"]);
            if let Some(role) = role {
                push(&["--role", role.as_query_value()]);
            }
            if let Some(search) = search {
                push(&["--search", search]);
            }
        }
        Command::Get { user_id } => push(&["members", "get", user_id]),
        Command::Find { email } => push(&["members", "find", email]),
        Command::SetRole { user_id, role } => push(&["members", "set-role", user_id, role_or_guest_name(*role)]),
        Command::SetSso { user_id } => push(&["members", "set-sso", user_id]),
        Command::Apply { source, role, sso } => {
            push(&["apply"]);
            if let Source::File(path) = source {
                push(&[path]);
            }
            push(&["--default-role", role_or_guest_name(*role)]);
            if !sso {
                push(&["--no-sso"]);
            }
        }
        Command::Sync { source, execute, options } => {
            push(&["sync"]);
            if let Source::File(path) = source {
                push(&[path]);
            }
            if *execute {
                push(&["--apply"]);
            }
            let strategy = match options.strategy {
                Strategy::Push => "push",
                Strategy::Sync => "sync",
            };
            let (n, p) = (options.max_removals.to_string(), options.max_removal_percent.to_string());
            push(&["--strategy", strategy, "--max-removals", &n, "--max-removal-percent", &p]);
            if options.allow_mass_removal {
                push(&["--allow-mass-removal"]);
            }
        }
    }
    let o = &invocation.options;
    for (flag, value) in [("--org", &o.org), ("--token", &o.token), ("--api-url", &o.api_url)] {
        if let Some(value) = value {
            push(&[flag, value]);
        }
    }
    for (flag, on) in [("--allow-insecure-http", o.allow_insecure_http), ("--json", o.json), ("--progress", o.progress)]
    {
        if on {
            push(&[flag]);
        }
    }
    if let Some(retry) = &o.retry {
        let attempts = retry.max_attempts.to_string();
        push(&[
            "--max-attempts",
            &attempts,
            "--max-wait",
            &seconds(retry.max_wait),
            "--deadline",
            &seconds(retry.deadline),
        ]);
    }
    if let Some(timeout) = o.timeout {
        push(&["--timeout", &seconds(timeout)]);
    }
    a
}

/// `again` with each duration replaced by the original's when they are
/// within 1 ns of each other.
fn normalized(again: &Invocation, original: &Invocation) -> Invocation {
    let close = |a: Duration, b: Duration| if a.abs_diff(b) <= Duration::from_nanos(1) { b } else { a };
    let mut out = again.clone();
    if let (Some(r), Some(o)) = (&mut out.options.retry, &original.options.retry) {
        r.max_wait = close(r.max_wait, o.max_wait);
        r.deadline = close(r.deadline, o.deadline);
    }
    if let (Some(t), Some(o)) = (&mut out.options.timeout, original.options.timeout) {
        *t = close(*t, o);
    }
    out
}
