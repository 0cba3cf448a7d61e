//! `cli::args::parse` on a fuzzer-built argv (the input split on NUL bytes).
//!
//! Properties: never panics; a usage error has a message and help; for a
//! `Parsed::Run`, every string in the invocation is one of the arguments
//! given or the part of an `--option=value` after the first `=` (emails and
//! team members in the order given), `--max-attempts` is at least 1, accepted
//! durations are not zero, and writing the invocation back as a canonical
//! argv (options first, each value as the next argument, then `--` and the
//! operands) parses to the same invocation, as does the same argv with every
//! value joined by `=`; and repeating any single-valued option of that argv is
//! a usage error naming it, while repeating `--add`/`--remove` adds the value.
#![no_main]

use fuzz_support::known_finding;
use gitbook_directory_sync::cli::args::{parse, Command, Invocation, Parsed, RemoveTarget, Source, SourceRun, TeamArg};
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

    // An argument `a` gives the string `s` whole, or as the value of `--option=s`.
    let gives = |a: &String, s: &String| {
        a == s || a.split_once('=').is_some_and(|(name, value)| name.starts_with("--") && value == s)
    };
    for s in strings(&invocation) {
        assert!(argv.iter().any(|a| gives(a, s)), "{s:?} is not one of the arguments {argv:?}");
    }
    let in_order = |list: &[String]| {
        let mut rest = argv.iter();
        assert!(list.iter().all(|s| rest.any(|a| gives(a, s))), "{list:?} not in the order given in {argv:?}");
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
    let (options, operands) = canonical(&invocation);
    for joined in [false, true] {
        let canonical = to_argv(&options, &operands, joined);
        let again = match parse(&canonical) {
            Ok(Parsed::Run(again)) => *again,
            other => panic!("canonical argv {canonical:?} (from {argv:?}) parsed to {other:?}"),
        };
        assert_eq!(normalized(&again, &invocation), invocation, "round trip via {canonical:?}");
    }

    // Each option once more: refused, unless it may repeat.
    for option in &options {
        let (flag, Some(value)) = option else { continue };
        let mut twice = options.clone();
        twice.push(option.clone());
        let argv = to_argv(&twice, &operands, false);
        match (parse(&argv), *flag) {
            (Ok(Parsed::Run(again)), "--add" | "--remove") => {
                let Command::Team { add, remove, .. } = &again.command else { panic!("{again:?}") };
                let list = if *flag == "--add" { add } else { remove };
                assert_eq!(list.last(), Some(value), "{argv:?}");
            }
            (Err(usage), _) => {
                assert_eq!(usage.message, format!("{flag} was given more than once; it takes one value"))
            }
            (other, _) => panic!("{flag} given twice in {argv:?} parsed to {other:?}"),
        }
    }
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
        Command::SyncFromSource { rules, key_file, .. } => {
            all.push(rules);
            all.extend(key_file);
        }
        Command::LogHash { email } => all.push(email),
    }
    all
}

fn seconds(d: Duration) -> String {
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

/// An option with its value, if it takes one.
type Opt = (&'static str, Option<String>);

/// The invocation's options and operands in canonical form.
fn canonical(invocation: &Invocation) -> (Vec<Opt>, Vec<String>) {
    let mut opts: Vec<Opt> = Vec::new();
    let mut operands: Vec<String> = Vec::new();
    let mut opt = |flag: &'static str, value: &str| opts.push((flag, Some(value.to_owned())));
    let mut operand = |items: &[&str]| operands.extend(items.iter().map(|s| s.to_string()));
    let mut flags: Vec<&'static str> = Vec::new();
    match &invocation.command {
        Command::Invite { emails, role, sso } => {
            operand(&["invite"]);
            emails.iter().for_each(|e| operand(&[e]));
            opt("--role", role_or_guest_name(*role));
            if !sso {
                flags.push("--no-sso");
            }
        }
        Command::Remove { target: RemoveTarget::Id(id) } => operand(&["remove", id]),
        Command::Remove { target: RemoveTarget::Email(email) } => {
            operand(&["remove"]);
            opt("--email", email);
        }
        Command::Team { team, add, remove } => {
            operand(&["team"]);
            match team {
                TeamArg::Id(id) => operand(&[id]),
                TeamArg::Title(title) => opt("--title", title),
            }
            add.iter().for_each(|x| opt("--add", x));
            remove.iter().for_each(|x| opt("--remove", x));
        }
        Command::List { role, search } => {
            operand(&["members", "list"]);
            if let Some(role) = role {
                opt("--role", role.as_query_value());
            }
            if let Some(search) = search {
                opt("--search", search);
            }
        }
        Command::Get { user_id } => operand(&["members", "get", user_id]),
        Command::Find { email } => operand(&["members", "find", email]),
        Command::SetRole { user_id, role } => operand(&["members", "set-role", user_id, role_or_guest_name(*role)]),
        Command::SetSso { user_id } => operand(&["members", "set-sso", user_id]),
        Command::LogHash { email } => operand(&["log-hash", email]),
        Command::Apply { source, role, sso } => {
            operand(&["apply"]);
            if let Source::File(path) = source {
                operand(&[path]);
            }
            opt("--default-role", role_or_guest_name(*role));
            if !sso {
                flags.push("--no-sso");
            }
        }
        Command::Sync { options, .. } | Command::SyncFromSource { options, .. } => {
            operand(&["sync"]);
            match &invocation.command {
                Command::Sync { source, execute, .. } => {
                    if let Source::File(path) = source {
                        operand(&[path]);
                    }
                    if *execute {
                        flags.push("--apply");
                    }
                }
                Command::SyncFromSource { directory, rules, key_file, run, .. } => {
                    opt("--source", directory.code());
                    opt("--rules", rules);
                    if let Some(key_file) = key_file {
                        opt("--key-file", key_file);
                    }
                    match run {
                        SourceRun::Plan => {}
                        SourceRun::Apply => flags.push("--apply"),
                        SourceRun::DumpSnapshot => flags.push("--dump-snapshot"),
                    }
                }
                _ => unreachable!("matched above"),
            }
            let strategy = match options.strategy {
                Strategy::Push => "push",
                Strategy::Sync => "sync",
            };
            opt("--strategy", strategy);
            opt("--max-removals", &options.max_removals.to_string());
            opt("--max-removal-percent", &options.max_removal_percent.to_string());
            if options.allow_mass_removal {
                flags.push("--allow-mass-removal");
            }
        }
    }
    let o = &invocation.options;
    for (flag, value) in [("--org", &o.org), ("--token", &o.token), ("--api-url", &o.api_url)] {
        if let Some(value) = value {
            opt(flag, value);
        }
    }
    for (flag, on) in [("--allow-insecure-http", o.allow_insecure_http), ("--json", o.json), ("--progress", o.progress)]
    {
        if on {
            flags.push(flag);
        }
    }
    if let Some(retry) = &o.retry {
        opt("--max-attempts", &retry.max_attempts.to_string());
        opt("--max-wait", &seconds(retry.max_wait));
        opt("--deadline", &seconds(retry.deadline));
    }
    if let Some(timeout) = o.timeout {
        opt("--timeout", &seconds(timeout));
    }
    if let Some(concurrency) = o.concurrency {
        opt("--concurrency", &concurrency.to_string());
    }
    if o.log_json {
        opt("--log", "json");
    }
    opts.extend(flags.into_iter().map(|flag| (flag, None)));
    (opts, operands)
}

/// The options (values as the next argument, or joined by `=`), then `--`
/// and the operands, which may start with '-'.
fn to_argv(opts: &[Opt], operands: &[String], joined: bool) -> Vec<String> {
    let mut argv = Vec::new();
    for (flag, value) in opts {
        match value {
            Some(value) if joined => argv.push(format!("{flag}={value}")),
            Some(value) => argv.extend([flag.to_string(), value.clone()]),
            None => argv.push(flag.to_string()),
        }
    }
    argv.push("--".into());
    argv.extend(operands.iter().cloned());
    argv
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
