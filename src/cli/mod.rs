//! The command line (`wasi:cli/run`): parse the arguments, run one command
//! through the client, print text or one JSON document, and return the exit
//! code (0 success, 1 GitBook or the network failed, 2 usage error).
//!
//! Pure apart from the [`Console`] it writes to and the [`Io`] it sends
//! through, so every command is tested natively with a scripted transport.

pub mod args;
mod output;
#[cfg(test)]
mod tests;

use crate::error::Error;
use crate::events::generic;
use crate::gitbook::ops::{Invite, MemberFilter};
use crate::gitbook::Client;
use crate::io::Io;
use crate::observe::{self, Finished, Log, LogConfig, Observed, Sink, Via};
use crate::sources;
use crate::sync::events::{self, JoinDefaults, Status};
use crate::sync::reconcile;
use crate::validate::TeamTitle;
use crate::validate::{self, Email, GitBookId};
use args::{Command, Invocation, Parsed, RemoveTarget, Source, SourceRun, TeamArg};
use output::Printer;

/// Where the command line reads and writes.
pub trait Console {
    fn out(&mut self, text: &str);
    fn err(&mut self, text: &str);
    fn stderr_is_terminal(&self) -> bool;
    fn read_stdin(&mut self) -> Result<Vec<u8>, String>;
    fn read_file(&mut self, path: &str) -> Result<Vec<u8>, String>;
}

/// Largest document (events, snapshot) read from stdin or a file; the
/// [`Console`] refuses more.
pub const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

/// Runs the command line `args` (without the program name). With `--log
/// json` or `GITBOOK_LOG` set, the request line and the audit lines of the
/// run also go to `log` ([`crate::observe`]); the human output is the same.
pub fn run<I: Io>(
    args: &[String],
    env: impl Fn(&str) -> Option<String>,
    mut io: I,
    console: &mut impl Console,
    log: &mut dyn Sink,
) -> u8 {
    let started = io.monotonic();
    let invocation = match args::parse(args) {
        Ok(Parsed::Help(text)) => {
            console.out(text);
            return EXIT_OK;
        }
        Ok(Parsed::Version) => {
            console.out(concat!("gitbook-directory-sync ", env!("CARGO_PKG_VERSION"), "\n"));
            return EXIT_OK;
        }
        Ok(Parsed::Run(invocation)) => *invocation,
        Err(usage) => {
            console.err(&format!("error: {}\n\n{}", usage.message, usage.help));
            return EXIT_USAGE;
        }
    };
    let json = invocation.options.json;
    if let Command::LogHash { email } = &invocation.command {
        return log_hash(email, invocation.options.token.as_deref(), &env, console);
    }
    let logging = invocation.options.log_json || env(observe::ENV_LOG).is_some_and(|v| !v.trim().is_empty());
    let config = match logging.then(|| LogConfig::from_env(&env)).transpose() {
        Ok(config) => config.unwrap_or_else(LogConfig::off),
        Err(error) => {
            console.err(&format!("error: {error}\n"));
            return EXIT_USAGE;
        }
    };
    let mut log = Log::new(config, Via::Cli, observe::new_request_id(&mut io), log);
    if let Some(token) = &invocation.options.token {
        log.config.add_secret(token);
    }
    let result = invocation.options.raw_settings().resolve(&env).and_then(|settings| {
        let mut client = Client::new(&settings, Observed { io: &mut io, log: &mut log });
        execute(&mut client, &invocation, console, &env)
    });
    let outcome = match &result {
        Ok(EXIT_OK) => "ok".to_owned(),
        Ok(_) => "finished with failures; the output lists them".to_owned(),
        Err(error) => error.to_string(),
    };
    let code = report(result, json, console);
    let duration = io.monotonic().saturating_sub(started);
    let finished = Finished {
        method: None,
        route: invocation.command.name(),
        status: None,
        exit_code: Some(code),
        failed: code != EXIT_OK,
        duration,
        outcome: &outcome,
    };
    log.finish(io.unix_time(), &finished);
    code
}

/// Prints the hash `email` has in logs with `GITBOOK_LOG_EMAILS=hash`: under
/// `GITBOOK_LOG_EMAILS_KEY`, else the token (`--token` or `GITBOOK_TOKEN`),
/// as the service derives it. Sends nothing.
fn log_hash(email: &str, token: Option<&str>, env: impl Fn(&str) -> Option<String>, console: &mut impl Console) -> u8 {
    let email = match Email::parse("email", email) {
        Ok(email) => email,
        Err(error) => {
            console.err(&format!("error: {error}\n"));
            return EXIT_USAGE;
        }
    };
    let read = |name: &str| env(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let key = read(observe::ENV_LOG_EMAILS_KEY).or_else(|| token.map(str::to_owned)).or_else(|| read("GITBOOK_TOKEN"));
    match key {
        Some(key) => {
            console.out(&format!("{}\n", observe::emails::EmailKey::derive(&key).hash(email.as_str())));
            EXIT_OK
        }
        None => {
            console.err(&format!(
                "error: set {} (or GITBOOK_TOKEN, from which the service derives the key) as the service has it\n",
                observe::ENV_LOG_EMAILS_KEY
            ));
            EXIT_USAGE
        }
    }
}

/// Prints a failed run's error; the exit code either way.
fn report(result: Result<u8, Error>, json: bool, console: &mut impl Console) -> u8 {
    match result {
        Ok(code) => code,
        Err(error) => {
            if json {
                console.err(&format!("{}\n", serde_json::json!({ "error": error.to_json() })));
            } else {
                console.err(&format!("error: {error}\n"));
            }
            if error.is_usage_error() {
                EXIT_USAGE
            } else {
                EXIT_FAILED
            }
        }
    }
}

fn execute<I: Io>(
    client: &mut Client<'_, I>,
    invocation: &Invocation,
    console: &mut impl Console,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<u8, Error> {
    let options = &invocation.options;
    let mut print = Printer { console, json: options.json };
    match &invocation.command {
        Command::Invite { emails, role, sso } => {
            let invite = Invite::parse(emails, &[], *role, *sso)?;
            let result = client.invite(&invite)?;
            print.invite(&invite, &result);
        }
        Command::Remove { target: RemoveTarget::Id(id) } => {
            let user = GitBookId::parse("user-id", id)?;
            let removal = client.remove_member(&user)?;
            print.removal(removal, Some(id), None);
        }
        Command::Remove { target: RemoveTarget::Email(email) } => {
            let email = Email::parse("email", email)?;
            let removal = client.remove_member_by_email(&email)?;
            print.removal(removal.outcome, removal.user_id.as_deref(), Some(email.as_str()));
        }
        Command::Team { team, add, remove } => {
            let add = validate::member_refs("add", add)?;
            let remove = validate::member_refs("remove", remove)?;
            let team_id = match team {
                TeamArg::Id(id) => GitBookId::parse("team-id", id)?,
                TeamArg::Title(title) => {
                    let title = TeamTitle::parse("title", title)?;
                    let team = client.find_team_by_title(&title)?.ok_or_else(|| {
                        Error::invalid("title", format!("no GitBook team is titled {:?}", title.as_str()))
                    })?;
                    GitBookId::parse("team-id", &team.id)?
                }
            };
            client.update_team_members(&team_id, &add, &remove)?;
            print.team(&team_id, &add, &remove);
        }
        Command::List { role, search } => {
            let filter = MemberFilter::parse(*role, search.as_deref())?;
            let progress = options.progress || print.console.stderr_is_terminal();
            print.list_start();
            let mut shown: u64 = 0;
            let result = client.for_each_member_page(&filter, |members, count| {
                for member in &members {
                    print.list_member(member, shown == 0);
                    shown += 1;
                }
                if progress {
                    let total = count.map(|c| format!(" of {c}")).unwrap_or_default();
                    print.console.err(&format!("\rfetched {shown}{total} members"));
                }
                true
            });
            if progress {
                print.console.err("\n");
            }
            // Close the JSON array even on failure, so stdout stays one document.
            print.list_end(shown, result.is_ok());
            result?;
        }
        Command::Get { user_id } => {
            let member = client.get_member(&GitBookId::parse("user-id", user_id)?)?;
            print.member(Some(&member));
        }
        Command::Find { email } => {
            let member = client.find_member_by_email(&Email::parse("email", email)?)?;
            if member.is_none() && !options.json {
                print.console.out(&format!("No member has the email {}.\n", email.trim().to_lowercase()));
            } else {
                print.member(member.as_ref());
            }
        }
        Command::SetRole { user_id, role } => {
            let member = client.set_member_role(&GitBookId::parse("user-id", user_id)?, *role)?;
            print.member(Some(&member));
        }
        Command::SetSso { user_id } => {
            let member = client.set_sso_member(&GitBookId::parse("user-id", user_id)?)?;
            print.member(Some(&member));
        }
        Command::Apply { source, role, sso } => {
            let body = match source {
                Source::Stdin => print.console.read_stdin(),
                Source::File(path) => print.console.read_file(path),
            }
            .map_err(|why| Error::invalid("events", why))?;
            let parsed = generic::parse(&body)?;
            let results = events::apply(client, &JoinDefaults { role: *role, sso: *sso }, &parsed);
            print.results(&results);
            if results.iter().any(|r| r.status == Status::Failed) {
                return Ok(EXIT_FAILED);
            }
        }
        Command::SyncFromSource { directory, rules, key_file, run, options: plan_options } => {
            let rules = print.console.read_file(rules).map_err(|why| Error::invalid("--rules", why))?;
            let rules = reconcile::Rules::parse(&rules)?;
            // The key file's text stands in for the environment variable.
            let key = match key_file {
                Some(path) => {
                    Some(print.console.read_file(path).map_err(|why| Error::invalid("--key-file", why)).and_then(
                        |bytes| String::from_utf8(bytes).map_err(|_| Error::invalid("--key-file", "is not UTF-8 text")),
                    )?)
                }
                None => None,
            };
            let lookup = |name: &str| match (&key, name) {
                (Some(key), "GOOGLE_SERVICE_ACCOUNT_KEY") => Some(key.clone()),
                _ => env(name),
            };
            let allow_http = options.allow_insecure_http
                || env(crate::settings::ENV_ALLOW_INSECURE_HTTP)
                    .is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes"));
            let source = sources::Source::resolve(*directory, lookup, allow_http)?;
            let settings = client.settings();
            let read = sources::read_snapshot(client.io(), settings, &source, rules)?;
            print.console.err(&sources::summary(&source, &read));
            if *run == SourceRun::DumpSnapshot {
                let text = serde_json::to_string_pretty(&read.snapshot.to_json()).expect("JSON values serialize");
                print.console.out(&format!("{text}\n"));
                return Ok(EXIT_OK);
            }
            let (plan, sso) = sources::plan_read(client, &read, plan_options)?;
            return finish_sync(client, &mut print, plan, sso, *run == SourceRun::Apply);
        }
        Command::LogHash { .. } => unreachable!("answered before any client is made"),
        Command::Sync { source, execute, options: plan_options } => {
            let body = match source {
                Source::Stdin => print.console.read_stdin(),
                Source::File(path) => print.console.read_file(path),
            }
            .map_err(|why| Error::invalid("snapshot", why))?;
            let (plan, sso) = crate::sync::plan_snapshot(client, body, plan_options)?;
            return finish_sync(client, &mut print, plan, sso, *execute);
        }
    }
    Ok(EXIT_OK)
}

/// Prints the plan, or applies it and prints the report.
fn finish_sync<I: Io, C: Console>(
    client: &mut Client<'_, I>,
    print: &mut Printer<'_, C>,
    plan: reconcile::Plan,
    sso: bool,
    execute: bool,
) -> Result<u8, Error> {
    if !execute {
        print.plan(&plan, None);
        return Ok(if plan.safety.is_some() { EXIT_FAILED } else { EXIT_OK });
    }
    if let Some(stop) = &plan.safety {
        print.plan(&plan, None);
        return Err(Error::SafetyStop(stop.reason.clone()));
    }
    let report = reconcile::apply(client, &plan, sso)?;
    print.plan(&plan, Some(&report));
    Ok(if report.is_success() { EXIT_OK } else { EXIT_FAILED })
}
