//! Command-line arguments → a validated [`Invocation`]. Pure: usage errors
//! are values, and nothing is sent for an invocation that does not parse.

use crate::role::{parse_role_or_guest, Role, RoleFilter};
use crate::settings::{parse_concurrency, RawSettings, RetryPolicy, Timeouts};
use crate::sources::SourceKind;
use crate::sync::reconcile::{Options as PlanOptions, Strategy};
use std::time::Duration;

/// A usage error (exit code 2), with the help text to show after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Usage {
    pub message: String,
    pub help: &'static str,
}

/// What the person asked for.
#[derive(Clone, Debug, PartialEq)]
pub enum Parsed {
    Help(&'static str),
    Version,
    Run(Box<Invocation>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Invocation {
    pub options: Options,
    pub command: Command,
}

/// Options valid with every command.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub org: Option<String>,
    pub token: Option<String>,
    pub api_url: Option<String>,
    pub allow_insecure_http: bool,
    pub json: bool,
    pub progress: bool,
    /// `--log json`: request and audit lines on stderr.
    pub log_json: bool,
    pub retry: Option<RetryPolicy>,
    pub timeout: Option<Duration>,
    pub concurrency: Option<u32>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Invite {
        emails: Vec<String>,
        role: Option<Role>,
        sso: bool,
    },
    Remove {
        target: RemoveTarget,
    },
    Team {
        team: TeamArg,
        add: Vec<String>,
        remove: Vec<String>,
    },
    List {
        role: Option<RoleFilter>,
        search: Option<String>,
    },
    Get {
        user_id: String,
    },
    Find {
        email: String,
    },
    SetRole {
        user_id: String,
        role: Option<Role>,
    },
    SetSso {
        user_id: String,
    },
    Apply {
        source: Source,
        role: Option<Role>,
        sso: bool,
    },
    Sync {
        source: Source,
        execute: bool,
        options: PlanOptions,
    },
    /// `sync --source …`: the snapshot is read from a directory.
    SyncFromSource {
        directory: SourceKind,
        rules: String,
        key_file: Option<String>,
        run: SourceRun,
        options: PlanOptions,
    },
    /// The hash an email has in the logs (`GITBOOK_LOG_EMAILS=hash`).
    LogHash {
        email: String,
    },
}

/// What `sync --source` does with the snapshot it read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceRun {
    /// Print the plan (the default).
    Plan,
    /// Carry the plan out.
    Apply,
    /// Print the snapshot and stop: nothing is read from GitBook.
    DumpSnapshot,
}

impl Command {
    /// The command as its log line names it (the `route` field).
    pub fn name(&self) -> &'static str {
        match self {
            Command::Invite { .. } => "invite",
            Command::Remove { .. } => "remove",
            Command::Team { .. } => "team",
            Command::List { .. } => "members list",
            Command::Get { .. } => "members get",
            Command::Find { .. } => "members find",
            Command::SetRole { .. } => "members set-role",
            Command::SetSso { .. } => "members set-sso",
            Command::Apply { .. } => "apply",
            Command::Sync { execute: false, .. } => "sync",
            Command::Sync { execute: true, .. } => "sync --apply",
            Command::SyncFromSource { run: SourceRun::Plan, .. } => "sync --source",
            Command::SyncFromSource { run: SourceRun::Apply, .. } => "sync --source --apply",
            Command::SyncFromSource { run: SourceRun::DumpSnapshot, .. } => "sync --source --dump-snapshot",
            Command::LogHash { .. } => "log-hash",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RemoveTarget {
    Id(String),
    Email(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TeamArg {
    Id(String),
    Title(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Stdin,
    File(String),
}

pub const MAIN_HELP: &str = "\
gitbook-directory-sync: keep a GitBook organization's members and teams in step with a directory

Usage: wasmtime run -S http [--env GITBOOK_TOKEN --env GITBOOK_ORG] gitbook_directory_sync.wasm <command> [options]

Commands:
  invite <email>...                  someone joined: invite them (SSO, role read by default)
  remove <user-id> | --email <email> someone left: remove them
  team <team-id> | --title <title>   a group changed: --add/--remove members in one call
  members list                       every member, page by page (--role, --search)
  members get <user-id>              one member
  members find <email>               the member with this email
  members set-role <user-id> <role>  admin, create, edit, review, comment, read or guest
  members set-sso <user-id>          make the user an SSO member
  apply [<file> | -]                 apply directory events (JSON) from a file or stdin
  sync <snapshot> [--apply]          reconcile with a directory snapshot (dry run unless --apply)
  log-hash <email>                   the email's hash in logs with GITBOOK_LOG_EMAILS=hash

Options (every command):
  --org <id>               GitBook organization ID        [env GITBOOK_ORG]
  --api-url <url>          API base URL                   [env GITBOOK_API_URL, default https://api.gitbook.com]
  --token <token>          API token; prefer the env var  [env GITBOOK_TOKEN]
  --allow-insecure-http    accept a plain http:// API URL (local stand-ins only)
  --json                   print one JSON document instead of text
  --progress               show progress on stderr (on by default when stderr is a terminal)
  --log json               also write JSON log lines (a request line, an audit line per
                           change) to stderr  [on when GITBOOK_LOG is set]
  --max-attempts <n>       attempts per request, retries included   [5]
  --max-wait <seconds>     longest wait between attempts            [30]
  --deadline <seconds>     time limit per operation                 [120]
  --timeout <seconds>      connect / first-byte / between-bytes timeout [10 / 30 / 30]
  --concurrency <n>        requests in flight at once, 1 to 64  [env GITBOOK_CONCURRENCY, default 8]
  -h, --help               help (also after a command)
  -V, --version            version

An option's value is the next argument or follows '=' (--org=acme). Each option
takes one value (given twice is an error) except --add and --remove, which repeat.
After -- every argument is an operand, even one starting with '-'.

Exit codes: 0 success, 1 GitBook or the network failed, 2 usage error.
";

const INVITE_HELP: &str = "\
Usage: invite <email>... [--role <role>] [--no-sso]

Invites people to the organization in one request (POST /v1/orgs/{org}/invites).
Emails are trimmed, lower-cased and de-duplicated.

  --role <role>   admin, create, edit, review, comment, read or guest  [read]
  --no-sso        invite as regular users instead of SSO users
";

const REMOVE_HELP: &str = "\
Usage: remove <user-id>
       remove --email <email>

Removes a member (DELETE /v1/orgs/{org}/members/{user-id}). With --email the
member is found by email first; nobody with that email is not an error.
";

const TEAM_HELP: &str = "\
Usage: team <team-id> [--add <id-or-email>]... [--remove <id-or-email>]...
       team --title <title> [--add ...] [--remove ...]

Adds and removes team members in one request (PUT /v1/orgs/{org}/teams/{team}/members).
With --title the team is found by its exact title (case-insensitive).
Someone in both lists ends up removed.
";

const MEMBERS_HELP: &str = "\
Usage: members list [--role <role|guest>] [--search <text>]
       members get <user-id>
       members find <email>
       members set-role <user-id> <role|guest>
       members set-sso <user-id>

`list` streams every page (1000 members a page); with --json it prints one JSON array.
`find` prints the member whose email matches exactly, or nothing (null with --json).
";

const APPLY_HELP: &str = "\
Usage: apply [<file> | -] [--default-role <role>] [--no-sso]

Applies directory events given as JSON (one event or an array) from a file or
stdin, in order, one result per event. Files need `wasmtime run --dir .`.

  {\"id\": \"e1\", \"type\": \"user.joined\", \"email\": \"ann@example.com\", \"role\": \"edit\"}
  {\"id\": \"e2\", \"type\": \"user.left\", \"userId\": \"...\"}            (or \"email\")
  {\"id\": \"e3\", \"type\": \"group.changed\", \"team\": \"Engineering\", \"add\": [\"ann@example.com\"], \"remove\": []}
  {\"id\": \"e4\", \"type\": \"user.role_changed\", \"email\": \"ann@example.com\", \"role\": \"guest\"}

  --default-role <role>   role for joins that name none  [read]
  --no-sso                invite joiners as regular users
Exit code 1 when any event failed.
";

const SYNC_HELP: &str = "\
Usage: sync [<snapshot.json> | -] [--plan | --apply] [--strategy push|sync]
            [--max-removals N] [--max-removal-percent P] [--allow-mass-removal]
       sync --source google|entra|okta --rules <rules.json> [--key-file <key.json>]
            [--plan | --apply | --dump-snapshot] [the same plan options]

Reads GitBook's members and managed teams, compares them with a directory
snapshot (JSON, see docs/reconcile.md) and prints the plan. Nothing changes unless
--apply is given; then the plan is executed and every action reported.

  --strategy push|sync      push (default): only add; sync: also remove and lower roles
  --max-removals N          refuse plans removing more than N members    [10]
  --max-removal-percent P   refuse plans removing more than P% of members [5]
  --allow-mass-removal      override both limits

With --source the snapshot is read from the directory itself, with the rules
in --rules (the snapshot format's \"rules\" object) naming the groups to read.
Credentials come from environment variables (docs/sources.md):
  google: GOOGLE_SERVICE_ACCOUNT_KEY (or --key-file), GOOGLE_ADMIN_EMAIL
  entra:  ENTRA_TENANT_ID, ENTRA_CLIENT_ID, ENTRA_CLIENT_SECRET
  okta:   OKTA_ORG_URL, OKTA_API_TOKEN
  --dump-snapshot           print the snapshot read (JSON) and stop
Exit code 1 when the plan is refused by the safety check or an action failed.
";

fn usage(message: impl Into<String>, help: &'static str) -> Usage {
    Usage { message: message.into(), help }
}

/// Options that may be given more than once, each time adding a value. Every
/// other option that takes a value takes exactly one: given twice it is a
/// usage error, not "the last one wins".
const REPEATABLE: [&str; 2] = ["--add", "--remove"];

/// Parses the arguments after the program name. Options and operands may
/// come in any order; an option's value is the next argument or follows `=`
/// (`--org acme`, `--org=acme`); after `--` every argument is an operand.
pub fn parse(args: &[String]) -> Result<Parsed, Usage> {
    let mut options = Options::default();
    let mut positional: Vec<String> = Vec::new();
    let mut flags: Vec<(String, Option<String>)> = Vec::new();
    let mut retry = RetryPolicy::default();
    let mut retry_set = false;
    let mut help = false;
    // Single-valued options seen so far.
    let mut given: Vec<String> = Vec::new();

    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--" {
            positional.extend(rest.by_ref().cloned());
            break;
        }
        if arg == "-" || !arg.starts_with('-') {
            positional.push(arg.clone());
            continue;
        }
        let (name, mut inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value_of = |flag: &str| -> Result<String, Usage> {
            if !REPEATABLE.contains(&flag) {
                if given.iter().any(|seen| seen == flag) {
                    return Err(usage(format!("{flag} was given more than once; it takes one value"), MAIN_HELP));
                }
                given.push(flag.to_owned());
            }
            let value = inline.take().or_else(|| rest.next().cloned());
            match value {
                None => Err(usage(format!("{flag} needs a value"), MAIN_HELP)),
                // A blank `--org "$UNSET"` would otherwise fall back to the
                // environment's organization (or token, or URL) unnoticed.
                Some(value) if value.trim().is_empty() => {
                    Err(usage(format!("{flag} needs a value, not a blank one"), MAIN_HELP))
                }
                Some(value) => Ok(value),
            }
        };
        match name {
            "-h" | "--help" => help = true,
            "-V" | "--version" => return Ok(Parsed::Version),
            "--org" => options.org = Some(value_of(name)?),
            "--token" => options.token = Some(value_of(name)?),
            "--api-url" => options.api_url = Some(value_of(name)?),
            "--allow-insecure-http" => options.allow_insecure_http = true,
            "--json" => options.json = true,
            "--progress" => options.progress = true,
            "--log" => match value_of(name)?.as_str() {
                "json" => options.log_json = true,
                other => return Err(usage(format!("--log takes json, not {other:?}"), MAIN_HELP)),
            },
            "--max-attempts" => {
                let attempts = number(name, &value_of(name)?)?;
                if !(1..=100).contains(&attempts) {
                    return Err(usage("--max-attempts must be between 1 and 100", MAIN_HELP));
                }
                retry.max_attempts = attempts as u32;
                retry_set = true;
            }
            "--max-wait" => {
                retry.max_wait = seconds(name, &value_of(name)?)?;
                retry_set = true;
            }
            "--deadline" => {
                retry.deadline = seconds(name, &value_of(name)?)?;
                retry_set = true;
            }
            "--timeout" => options.timeout = Some(seconds(name, &value_of(name)?)?),
            "--concurrency" => {
                let value = value_of(name)?;
                let n = parse_concurrency(&value).map_err(|why| usage(format!("{name} {why}"), MAIN_HELP))?;
                options.concurrency = Some(n);
            }
            "--role"
            | "--search"
            | "--email"
            | "--title"
            | "--add"
            | "--remove"
            | "--default-role"
            | "--strategy"
            | "--max-removals"
            | "--max-removal-percent"
            | "--source"
            | "--rules"
            | "--key-file" => {
                let value = value_of(name)?;
                flags.push((name.to_owned(), Some(value)));
            }
            "--no-sso" | "--plan" | "--apply" | "--allow-mass-removal" | "--dump-snapshot" => {
                flags.push((name.to_owned(), None))
            }
            _ => return Err(usage(format!("unknown option {arg}"), MAIN_HELP)),
        }
        if inline.is_some() {
            return Err(usage(format!("{name} takes no value"), MAIN_HELP));
        }
    }
    if retry_set {
        options.retry = Some(retry);
    }

    let Some(name) = positional.first().cloned() else {
        return if help { Ok(Parsed::Help(MAIN_HELP)) } else { Err(usage("no command given", MAIN_HELP)) };
    };
    let operands = &positional[1..];
    let command = match name.as_str() {
        "help" => return Ok(Parsed::Help(MAIN_HELP)),
        "invite" if help => return Ok(Parsed::Help(INVITE_HELP)),
        "remove" if help => return Ok(Parsed::Help(REMOVE_HELP)),
        "team" if help => return Ok(Parsed::Help(TEAM_HELP)),
        "members" if help => return Ok(Parsed::Help(MEMBERS_HELP)),
        "apply" if help => return Ok(Parsed::Help(APPLY_HELP)),
        "sync" if help => return Ok(Parsed::Help(SYNC_HELP)),
        _ if help => return Ok(Parsed::Help(MAIN_HELP)),
        "invite" => {
            let flags = Flags::new(flags, &["--role", "--no-sso"], INVITE_HELP)?;
            if operands.is_empty() {
                return Err(usage("invite needs at least one email", INVITE_HELP));
            }
            Command::Invite {
                emails: operands.to_vec(),
                role: flags.role("--role", INVITE_HELP)?.unwrap_or(Some(Role::Read)),
                sso: !flags.has("--no-sso"),
            }
        }
        "remove" => {
            let flags = Flags::new(flags, &["--email"], REMOVE_HELP)?;
            let target = match (operands, flags.one("--email")) {
                ([id], None) => RemoveTarget::Id(id.clone()),
                ([], Some(email)) => RemoveTarget::Email(email),
                _ => return Err(usage("remove needs one user ID, or --email <email>", REMOVE_HELP)),
            };
            Command::Remove { target }
        }
        "team" => {
            let flags = Flags::new(flags, &["--title", "--add", "--remove"], TEAM_HELP)?;
            let team = match (operands, flags.one("--title")) {
                ([id], None) => TeamArg::Id(id.clone()),
                ([], Some(title)) => TeamArg::Title(title),
                _ => return Err(usage("team needs one team ID, or --title <title>", TEAM_HELP)),
            };
            let (add, remove) = (flags.all("--add"), flags.all("--remove"));
            if add.is_empty() && remove.is_empty() {
                return Err(usage("team needs at least one --add or --remove", TEAM_HELP));
            }
            Command::Team { team, add, remove }
        }
        "members" => members(operands, flags)?,
        "log-hash" => {
            Flags::new(flags, &[], MAIN_HELP)?;
            match operands {
                [email] => Command::LogHash { email: email.clone() },
                _ => return Err(usage("log-hash needs one email", MAIN_HELP)),
            }
        }
        "apply" => {
            let flags = Flags::new(flags, &["--default-role", "--no-sso"], APPLY_HELP)?;
            let source = match operands {
                [] => Source::Stdin,
                [path] if path == "-" => Source::Stdin,
                [path] => Source::File(path.clone()),
                _ => return Err(usage("apply reads one file (or stdin)", APPLY_HELP)),
            };
            Command::Apply {
                source,
                role: flags.role("--default-role", APPLY_HELP)?.unwrap_or(Some(Role::Read)),
                sso: !flags.has("--no-sso"),
            }
        }
        "sync" => {
            let flags = Flags::new(
                flags,
                &[
                    "--plan",
                    "--apply",
                    "--strategy",
                    "--max-removals",
                    "--max-removal-percent",
                    "--allow-mass-removal",
                    "--source",
                    "--rules",
                    "--key-file",
                    "--dump-snapshot",
                ],
                SYNC_HELP,
            )?;
            let from_source = flags.one("--source");
            if from_source.is_none() {
                for only in ["--rules", "--key-file", "--dump-snapshot"] {
                    if flags.has(only) {
                        return Err(usage(format!("{only} goes with --source"), SYNC_HELP));
                    }
                }
            }
            let source = match operands {
                _ if from_source.is_some() && !operands.is_empty() => {
                    return Err(usage("sync --source reads the directory, not a snapshot file", SYNC_HELP))
                }
                [] => Source::Stdin,
                [path] if path == "-" => Source::Stdin,
                [path] => Source::File(path.clone()),
                _ => return Err(usage("sync reads one snapshot file (or stdin)", SYNC_HELP)),
            };
            if flags.has("--plan") && flags.has("--apply") {
                return Err(usage("--plan (a dry run) and --apply exclude each other", SYNC_HELP));
            }
            let mut plan = PlanOptions::default();
            // The same parsers as the webhook's query and the WIT options.
            let invalid = |error: crate::error::Error| usage(error.to_string(), SYNC_HELP);
            if let Some(strategy) = flags.one("--strategy") {
                plan.strategy = Strategy::parse("--strategy", &strategy).map_err(invalid)?;
            }
            if let Some(n) = flags.one("--max-removals") {
                plan.max_removals = number("--max-removals", &n)? as usize;
            }
            if let Some(p) = flags.one("--max-removal-percent") {
                plan.max_removal_percent = PlanOptions::parse_percent("--max-removal-percent", &p).map_err(invalid)?;
            }
            plan.allow_mass_removal = flags.has("--allow-mass-removal");
            if let Some(directory) = from_source {
                let directory = SourceKind::parse("--source", &directory).map_err(invalid)?;
                let rules =
                    flags.one("--rules").ok_or_else(|| usage("sync --source needs --rules <rules.json>", SYNC_HELP))?;
                let run = match (flags.has("--apply"), flags.has("--dump-snapshot")) {
                    (true, true) => return Err(usage("--dump-snapshot and --apply exclude each other", SYNC_HELP)),
                    (true, false) => SourceRun::Apply,
                    (false, true) => SourceRun::DumpSnapshot,
                    (false, false) => SourceRun::Plan,
                };
                let key_file = flags.one("--key-file");
                if key_file.is_some() && directory != SourceKind::Google {
                    return Err(usage("--key-file is for --source google", SYNC_HELP));
                }
                return Ok(Parsed::Run(Box::new(Invocation {
                    options,
                    command: Command::SyncFromSource { directory, rules, key_file, run, options: plan },
                })));
            }
            Command::Sync { source, execute: flags.has("--apply"), options: plan }
        }
        other => return Err(usage(format!("unknown command {other:?}"), MAIN_HELP)),
    };
    Ok(Parsed::Run(Box::new(Invocation { options, command })))
}

fn members(operands: &[String], flags: Vec<(String, Option<String>)>) -> Result<Command, Usage> {
    let help = MEMBERS_HELP;
    let (sub, args) = operands.split_first().ok_or_else(|| usage("members needs a subcommand", help))?;
    let allowed: &[&str] = if sub == "list" { &["--role", "--search"] } else { &[] };
    let flags = Flags::new(flags, allowed, help)?;
    let wrong = || usage(format!("wrong arguments for members {sub}"), help);
    Ok(match (sub.as_str(), args) {
        ("list", []) => {
            let role = match flags.one("--role") {
                None => None,
                Some(text) => Some(match parse_role_or_guest(&text).map_err(|m| usage(m, help))? {
                    Some(role) => RoleFilter::Role(role),
                    None => RoleFilter::Guest,
                }),
            };
            Command::List { role, search: flags.one("--search") }
        }
        ("get", [id]) => Command::Get { user_id: id.clone() },
        ("find", [email]) => Command::Find { email: email.clone() },
        ("set-role", [id, role]) => {
            Command::SetRole { user_id: id.clone(), role: parse_role_or_guest(role).map_err(|m| usage(m, help))? }
        }
        ("set-sso", [id]) => Command::SetSso { user_id: id.clone() },
        ("list" | "get" | "find" | "set-role" | "set-sso", _) => return Err(wrong()),
        (other, _) => return Err(usage(format!("unknown members subcommand {other:?}"), help)),
    })
}

/// The command-specific flags given, checked against those the command takes.
struct Flags(Vec<(String, Option<String>)>);

impl Flags {
    fn new(given: Vec<(String, Option<String>)>, allowed: &[&str], help: &'static str) -> Result<Flags, Usage> {
        if let Some((flag, _)) = given.iter().find(|(f, _)| !allowed.contains(&f.as_str())) {
            return Err(usage(format!("{flag} does not apply to this command"), help));
        }
        Ok(Flags(given))
    }

    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(f, _)| f == name)
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(f, _)| f == name).filter_map(|(_, v)| v.clone()).collect()
    }

    fn one(&self, name: &str) -> Option<String> {
        self.all(name).pop()
    }

    /// `Some(role-or-guest)` when the flag was given.
    fn role(&self, name: &str, help: &'static str) -> Result<Option<Option<Role>>, Usage> {
        self.one(name)
            .map(|text| parse_role_or_guest(&text).map_err(|m| usage(format!("{name}: {m}"), help)))
            .transpose()
    }
}

fn number(flag: &str, text: &str) -> Result<u64, Usage> {
    text.trim().parse().map_err(|_| usage(format!("{flag} takes a whole number, not {text:?}"), MAIN_HELP))
}

fn seconds(flag: &str, text: &str) -> Result<Duration, Usage> {
    let value: f64 =
        text.trim().parse().map_err(|_| usage(format!("{flag} takes seconds, not {text:?}"), MAIN_HELP))?;
    // Below a millisecond a timeout rounds to nothing.
    if !(0.001..=86_400.0).contains(&value) {
        return Err(usage(format!("{flag} must be between 0.001 and 86400 seconds"), MAIN_HELP));
    }
    Ok(Duration::from_secs_f64(value))
}

impl Options {
    /// The connection settings these options ask for (the environment fills
    /// the rest).
    pub fn raw_settings(&self) -> RawSettings {
        RawSettings {
            base_url: self.api_url.clone(),
            organization: self.org.clone(),
            token: self.token.clone(),
            // Without the flag, the environment may still allow it.
            allow_insecure_http: self.allow_insecure_http.then_some(true),
            retry: self.retry,
            timeouts: self.timeout.map(|t| Timeouts { connect: t, first_byte: t, between_bytes: t }),
            concurrency: self.concurrency,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    fn run(text: &str) -> Invocation {
        match parse(&args(text)) {
            Ok(Parsed::Run(invocation)) => *invocation,
            other => panic!("{text}: {other:?}"),
        }
    }

    fn fails(text: &str) -> String {
        parse(&args(text)).unwrap_err().message
    }

    #[test]
    fn invite_defaults_to_sso_readers() {
        let invocation = run("invite a@x.io b@x.io --org acme");
        assert_eq!(
            invocation.command,
            Command::Invite { emails: args("a@x.io b@x.io"), role: Some(Role::Read), sso: true }
        );
        assert_eq!(invocation.options.org.as_deref(), Some("acme"));
        let guest = run("invite a@x.io --role guest --no-sso");
        assert_eq!(guest.command, Command::Invite { emails: args("a@x.io"), role: None, sso: false });
    }

    #[test]
    fn options_may_come_before_or_after_the_command() {
        let invocation = run("--json members list --role guest --search ann --max-attempts 2 --deadline 1.5");
        assert!(invocation.options.json);
        assert_eq!(invocation.command, Command::List { role: Some(RoleFilter::Guest), search: Some("ann".into()) });
        let retry = invocation.options.retry.unwrap();
        assert_eq!((retry.max_attempts, retry.deadline), (2, Duration::from_millis(1500)));
    }

    #[test]
    fn every_subcommand_parses() {
        assert_eq!(run("remove u1").command, Command::Remove { target: RemoveTarget::Id("u1".into()) });
        assert_eq!(
            run("remove --email a@x.io").command,
            Command::Remove { target: RemoveTarget::Email("a@x.io".into()) }
        );
        assert_eq!(
            run("team t1 --add a@x.io --add u2 --remove u3").command,
            Command::Team { team: TeamArg::Id("t1".into()), add: args("a@x.io u2"), remove: args("u3") }
        );
        assert!(matches!(run("team --title Eng --add u1").command, Command::Team { team: TeamArg::Title(_), .. }));
        assert_eq!(run("members get u1").command, Command::Get { user_id: "u1".into() });
        assert_eq!(run("members find a@x.io").command, Command::Find { email: "a@x.io".into() });
        assert_eq!(
            run("members set-role u1 edit").command,
            Command::SetRole { user_id: "u1".into(), role: Some(Role::Edit) }
        );
        assert_eq!(run("members set-sso u1").command, Command::SetSso { user_id: "u1".into() });
        assert_eq!(run("apply").command, Command::Apply { source: Source::Stdin, role: Some(Role::Read), sso: true });
        assert_eq!(
            run("apply events.json --default-role comment").command,
            Command::Apply { source: Source::File("events.json".into()), role: Some(Role::Comment), sso: true }
        );
    }

    #[test]
    fn sync_is_a_dry_run_unless_asked_to_apply() {
        let Command::Sync { source, execute, options } = run("sync snapshot.json").command else { panic!() };
        assert_eq!((source, execute), (Source::File("snapshot.json".into()), false));
        assert_eq!(options, crate::sync::reconcile::Options::default());
        let Command::Sync { execute, options, .. } =
            run("sync - --apply --strategy sync --max-removals 3 --max-removal-percent 2.5 --allow-mass-removal")
                .command
        else {
            panic!()
        };
        assert!(execute && options.allow_mass_removal);
        assert_eq!((options.max_removals, options.max_removal_percent), (3, 2.5));
        assert_eq!(options.strategy, crate::sync::reconcile::Strategy::Sync);
        assert_eq!(fails("sync s.json --plan --apply"), "--plan (a dry run) and --apply exclude each other");
        assert_eq!(
            fails("sync s.json --strategy mirror"),
            "invalid --strategy: \"mirror\" is not a strategy: use push or sync"
        );
    }

    #[test]
    fn usage_errors_say_what_is_wrong() {
        assert_eq!(fails(""), "no command given");
        assert_eq!(fails("frobnicate"), "unknown command \"frobnicate\"");
        assert_eq!(fails("invite"), "invite needs at least one email");
        assert_eq!(fails("invite a@x.io --role owner").split(':').next(), Some("--role"));
        assert_eq!(fails("remove u1 --email a@x.io"), "remove needs one user ID, or --email <email>");
        assert_eq!(fails("team t1"), "team needs at least one --add or --remove");
        assert_eq!(fails("members list --add x"), "--add does not apply to this command");
        assert_eq!(fails("members get"), "wrong arguments for members get");
        assert_eq!(fails("--org"), "--org needs a value");
        assert_eq!(fails("members list --bogus"), "unknown option --bogus");
        assert_eq!(fails("members list --deadline 0"), "--deadline must be between 0.001 and 86400 seconds");
        assert_eq!(fails("members list --timeout 1e-10"), "--timeout must be between 0.001 and 86400 seconds");
        assert_eq!(fails("members list --max-attempts 4294967296"), "--max-attempts must be between 1 and 100");
    }

    #[test]
    fn help_is_available_for_the_tool_and_each_command() {
        assert_eq!(parse(&args("--help")), Ok(Parsed::Help(MAIN_HELP)));
        assert_eq!(parse(&args("invite --help")), Ok(Parsed::Help(INVITE_HELP)));
        assert_eq!(parse(&args("members -h")), Ok(Parsed::Help(MEMBERS_HELP)));
        assert_eq!(parse(&args("help")), Ok(Parsed::Help(MAIN_HELP)));
        assert_eq!(parse(&args("-V")), Ok(Parsed::Version));
    }
}
