//! Logs as data: the request line of every incoming request or command,
//! the audit line of every change made in GitBook, and (at `debug`) a line
//! per GitBook request. The core builds each line as a value here; `sys`
//! only writes the finished lines to stderr through a [`Sink`].
//!
//! Every line is one JSON object starting with `time` (RFC 3339, UTC),
//! `level` and `type` (`request`, `change` or `gitbook`), then the
//! `requestId` it belongs to and the way in (`via`). Secrets never enter a
//! record: requests are described from their method, path and the fields
//! of our own planned bodies, never from headers or incoming bodies; as a
//! second guard every configured secret is replaced by `[redacted]` in a
//! line before it is written.
//!
//! Settings (environment):
//! - `GITBOOK_LOG`: `error`, `warn`, `info` (the default: requests and
//!   changes), `debug` (also every GitBook request) or `off`;
//! - `GITBOOK_LOG_EMAILS`: `plain` (the default) or `hash` ([`emails`]);
//! - `GITBOOK_LOG_EMAILS_KEY`: the hash key (else derived from
//!   `GITBOOK_TOKEN`).

pub mod change;
pub mod emails;
pub mod line;

#[cfg(test)]
mod tests;

use crate::error::Error;
use crate::http::Request;
use crate::io::{End, Io, Limits, Note, Ticket, TransportError};
use crate::validate::printable;
use emails::EmailKey;
use line::Line;
use serde_json::Value;
use std::time::Duration;

pub const ENV_LOG: &str = "GITBOOK_LOG";
pub const ENV_LOG_EMAILS: &str = "GITBOOK_LOG_EMAILS";
pub const ENV_LOG_EMAILS_KEY: &str = "GITBOOK_LOG_EMAILS_KEY";
/// The variables whose values are secrets: never written in a line.
pub const SECRET_VARIABLES: [&str; 4] = ["GITBOOK_TOKEN", "WEBHOOK_SECRET", "SCIM_TOKEN", ENV_LOG_EMAILS_KEY];
/// The header a caller names its request with.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// Longest caller-given request id kept; a longer or odd one is replaced.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// How much a line matters; a threshold keeps this level and the ones above.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warn,
    Info,
    Debug,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }
}

/// Where a request came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// The command line.
    Cli,
    /// A call of the WIT interface.
    Wit,
    /// `/events` (event hook deliveries and Okta's verification).
    Events,
    /// `/reconcile`.
    Reconcile,
    /// `/scim/v2`.
    Scim,
    /// `/healthz`.
    Health,
    /// Any other path (refused).
    Http,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Cli => "cli",
            Via::Wit => "wit",
            Via::Events => "events",
            Via::Reconcile => "reconcile",
            Via::Scim => "scim",
            Via::Health => "health",
            Via::Http => "http",
        }
    }
}

/// The logging settings. `Debug` shows no secret.
#[derive(Clone, Debug)]
pub struct LogConfig {
    /// The least important level written; `None`: nothing (`off`).
    pub threshold: Option<Level>,
    /// The key emails are hashed with; `None`: emails as they are.
    pub emails: Option<EmailKey>,
    secrets: Secrets,
}

/// Values replaced by `[redacted]` in every line. `Debug` shows how many.
#[derive(Clone, Default)]
struct Secrets(Vec<String>);

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} redacted)", self.0.len())
    }
}

impl Default for LogConfig {
    /// `info`, emails as they are.
    fn default() -> LogConfig {
        LogConfig { threshold: Some(Level::Info), emails: None, secrets: Secrets::default() }
    }
}

impl LogConfig {
    /// Nothing is written.
    pub fn off() -> LogConfig {
        LogConfig { threshold: None, ..LogConfig::default() }
    }

    /// Reads `GITBOOK_LOG`, `GITBOOK_LOG_EMAILS` and the hash key, and
    /// remembers every secret variable's value to keep it out of lines. A
    /// blank value counts as unset; a bad one is an error naming the
    /// variable.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<LogConfig, Error> {
        let read = |name: &str| env(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let mut config = LogConfig::default();
        config.secrets.0 = SECRET_VARIABLES.iter().filter_map(|name| read(name)).collect();
        if let Some(level) = read(ENV_LOG) {
            config.threshold = match level.to_ascii_lowercase().as_str() {
                "error" => Some(Level::Error),
                "warn" | "warning" => Some(Level::Warn),
                "info" => Some(Level::Info),
                "debug" => Some(Level::Debug),
                "off" | "none" => None,
                _ => {
                    return Err(Error::invalid(
                        ENV_LOG,
                        format!("{} must be error, warn, info, debug or off", printable(&level)),
                    ))
                }
            };
        }
        match read(ENV_LOG_EMAILS).map(|v| v.to_ascii_lowercase()).as_deref() {
            None | Some("plain") => {}
            Some("hash") => {
                let secret = read(ENV_LOG_EMAILS_KEY).or_else(|| read("GITBOOK_TOKEN")).ok_or_else(|| {
                    Error::invalid(
                        ENV_LOG_EMAILS_KEY,
                        format!("is needed to hash emails ({ENV_LOG_EMAILS}=hash) when GITBOOK_TOKEN is not set"),
                    )
                })?;
                config.emails = Some(EmailKey::derive(&secret));
            }
            Some(other) => {
                return Err(Error::invalid(ENV_LOG_EMAILS, format!("{} must be plain or hash", printable(other))))
            }
        }
        Ok(config)
    }

    /// The defaults, still keeping every secret variable's value out of
    /// lines: for when the logging settings themselves are wrong.
    pub fn fallback(env: impl Fn(&str) -> Option<String>) -> LogConfig {
        let read = |name: &str| env(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let mut config = LogConfig::default();
        config.secrets.0 = SECRET_VARIABLES.iter().filter_map(|name| read(name)).collect();
        config
    }

    /// Whether a line of this level is written.
    pub fn enabled(&self, level: Level) -> bool {
        self.threshold.is_some_and(|threshold| level <= threshold)
    }

    /// Also keeps `secret` out of every line (a token given in a call's
    /// settings rather than the environment).
    pub fn add_secret(&mut self, secret: &str) {
        let secret = secret.trim();
        if !secret.is_empty() && !self.secrets.0.iter().any(|s| s == secret) {
            self.secrets.0.push(secret.to_owned());
        }
    }
}

/// Where finished lines go (stderr, in `sys`).
pub trait Sink {
    /// One line, without its newline.
    fn line(&mut self, line: &str);
}

impl Sink for Vec<String> {
    fn line(&mut self, line: &str) {
        self.push(line.to_owned());
    }
}

/// Writes nothing.
pub struct Discard;

impl Sink for Discard {
    fn line(&mut self, _: &str) {}
}

/// What GitBook was asked over one request or command.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Requests sent, retries included.
    pub requests: u32,
    /// Requests that repeated an earlier one.
    pub retries: u32,
    /// Writes (changes asked for), whatever their outcome.
    pub changes: u32,
}

/// The end of an incoming request or a command, for its request line.
pub struct Finished<'a> {
    /// The HTTP method; `None` for a command or a WIT call.
    pub method: Option<&'a str>,
    /// The route (a path template such as `/scim/v2/Users/{id}`), the
    /// command or the WIT function.
    pub route: &'a str,
    /// The HTTP status answered.
    pub status: Option<u16>,
    /// A command's exit code.
    pub exit_code: Option<u8>,
    /// Whether a WIT call succeeded (when there is no status).
    pub failed: bool,
    pub duration: Duration,
    /// One line saying how it ended.
    pub outcome: &'a str,
}

/// The log of one request or command: its settings, id, counts and sink.
pub struct Log<'s> {
    pub config: LogConfig,
    pub request_id: String,
    pub via: Via,
    pub counts: Counts,
    sink: &'s mut dyn Sink,
    /// Start (then duration) of each request in flight, for debug lines.
    timings: Vec<(Ticket, Duration)>,
}

impl<'s> Log<'s> {
    pub fn new(config: LogConfig, via: Via, request_id: String, sink: &'s mut dyn Sink) -> Log<'s> {
        Log { config, request_id, via, counts: Counts::default(), sink, timings: Vec::new() }
    }

    /// Starts a line of `kind` at `level` with the request id and the way
    /// in; `None` when the level is not written.
    fn start(&self, unix: Duration, level: Level, kind: &str) -> Option<Line> {
        if !self.config.enabled(level) {
            return None;
        }
        let mut line = Line::new(unix, level.as_str(), kind);
        line.field("requestId", &self.request_id).field("via", self.via.as_str());
        Some(line)
    }

    /// Free text as written: emails hashed when configured.
    fn text(&self, text: &str) -> String {
        match &self.config.emails {
            Some(key) => emails::scrub(text, key),
            None => text.to_owned(),
        }
    }

    fn write(&mut self, line: Line) {
        let mut text = line.finish();
        for secret in &self.config.secrets.0 {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), "[redacted]");
            }
        }
        self.sink.line(&text);
    }

    /// The request line: one per incoming request, command or WIT call.
    pub fn finish(&mut self, unix: Duration, end: &Finished<'_>) {
        let level = match (end.status, end.exit_code) {
            (Some(500..), _) | (_, Some(1..=1)) => Level::Error,
            (Some(400..), _) | (_, Some(2..)) => Level::Warn,
            _ if end.failed => Level::Error,
            _ => Level::Info,
        };
        let Some(mut line) = self.start(unix, level, "request") else { return };
        line.field("method", &end.method)
            .field("route", end.route)
            .field("status", &end.status)
            .field("exitCode", &end.exit_code)
            .field("durationMs", &millis(end.duration))
            .field("gitbookRequests", &self.counts.requests)
            .field("gitbookRetries", &self.counts.retries)
            .field("changes", &self.counts.changes)
            .field("outcome", &self.text(end.outcome));
        self.write(line);
    }

    /// A note from the driver: counted, and written as a debug line (each
    /// request) or an audit line (each write's end).
    pub fn note(&mut self, unix: Duration, note: &Note<'_>) {
        match note {
            Note::Answered { ticket, operation, request, attempt, status, failure, retry_in } => {
                self.counts.requests += 1;
                if *attempt > 1 {
                    self.counts.retries += 1;
                }
                let took = self.timings.iter().position(|(t, _)| t == ticket).map(|i| self.timings.swap_remove(i).1);
                let Some(mut line) = self.start(unix, Level::Debug, "gitbook") else { return };
                line.field("operation", operation)
                    .field("method", request.method.as_str())
                    .field("path", change::path_of(&request.url))
                    .field("status", status)
                    .field("attempt", attempt)
                    .field("durationMs", &took.map(millis))
                    .field("retryInMs", &retry_in.map(millis))
                    .field("error", &failure.map(|f| self.text(f)));
                self.write(line);
            }
            Note::Landed { operation, request, attempts, elapsed, end } => {
                if change::is_write(request) {
                    self.counts.changes += 1;
                    self.change(unix, operation, request, *attempts, *elapsed, end);
                }
            }
        }
    }

    /// The audit line of a write.
    fn change(
        &mut self,
        unix: Duration,
        operation: &str,
        request: &Request,
        attempts: u32,
        elapsed: Duration,
        end: &End<'_>,
    ) {
        let (outcome, status, error, detail) = match end {
            End::Answered(status) => {
                let outcome = match (status, request.method) {
                    (202, _) => Outcome::PendingApproval,
                    (204, crate::http::Method::Delete) => Outcome::NoChange,
                    _ => Outcome::Done,
                };
                (outcome, Some(*status), None, None)
            }
            End::Failed { error, unknown } => {
                let status = match error {
                    Error::Api(_, failure) => failure.status,
                    _ => None,
                };
                let code = error.kind().map(|k| k.code());
                let message = error.to_string();
                let detail = if *unknown {
                    format!("{message}; GitBook may have made this change: check before repeating it")
                } else {
                    message
                };
                (if *unknown { Outcome::Unknown } else { Outcome::Failed }, status, code, Some(detail))
            }
        };
        let level = match outcome {
            Outcome::Failed | Outcome::Unknown => Level::Error,
            _ => Level::Info,
        };
        let Some(mut line) = self.start(unix, level, "change") else { return };
        let change = change::describe(operation, request, self.config.emails.as_ref());
        line.field("change", &change.name)
            .field("target", &Value::Object(change.target))
            .field("set", &Some(change.set).filter(|s| !s.is_empty()).map(Value::Object))
            .field("method", request.method.as_str())
            .field("path", &change.path)
            .field("status", &status)
            .field("outcome", outcome.as_str())
            .field("attempts", &attempts)
            .field("durationMs", &millis(elapsed))
            .field("error", &error)
            .field("detail", &detail.map(|d| self.text(&d)));
        self.write(line);
    }

    /// Marks when a request started (for its duration at `debug`).
    fn started(&mut self, ticket: Ticket, now: Duration) {
        if self.config.enabled(Level::Debug) {
            self.timings.push((ticket, now));
        }
    }

    /// Turns a request's start into its duration once its answer is in.
    fn answered(&mut self, ticket: Ticket, now: Duration) {
        if let Some(entry) = self.timings.iter_mut().find(|(t, _)| *t == ticket) {
            entry.1 = now.saturating_sub(entry.1);
        }
    }
}

/// How a change ended: the closed set of the audit line's `outcome`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// GitBook made it (2xx).
    Done,
    /// Nothing to do: a removal of someone (or something) already gone (204).
    NoChange,
    /// GitBook sent it to the organization's admins for approval (202).
    PendingApproval,
    /// GitBook refused it, or it was never sent.
    Failed,
    /// No success came back, yet GitBook may have made it.
    Unknown,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::NoChange => "no-change",
            Outcome::PendingApproval => "pending-approval",
            Outcome::Failed => "failed",
            Outcome::Unknown => "unknown",
        }
    }
}

fn millis(d: Duration) -> u64 {
    d.as_millis() as u64
}

/// The caller's request id when it is a sensible one (1 to
/// [`MAX_REQUEST_ID_LEN`] visible ASCII characters), else `None`.
pub fn given_request_id(value: &str) -> Option<String> {
    let value = value.trim();
    let fine = !value.is_empty()
        && value.len() <= MAX_REQUEST_ID_LEN
        && value.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
    fine.then(|| value.to_owned())
}

/// A fresh request id: 128 random bits in hex.
pub fn new_request_id(io: &mut impl Io) -> String {
    format!("{:016x}{:016x}", io.random(), io.random())
}

/// Runs one WIT call with its log: `work` gets the `Io` to build its
/// client on (its changes are audited), and the call's request line
/// follows, named after the WIT `function`. `token` is the token the call
/// passed in its settings, kept out of every line. Logs at `GITBOOK_LOG`
/// (default `info`); a bad logging setting fails the call, naming it.
pub fn call<I: Io, T>(
    function: &str,
    env: impl Fn(&str) -> Option<String>,
    token: Option<&str>,
    mut io: I,
    sink: &mut dyn Sink,
    work: impl FnOnce(Observed<'_, '_, &mut I>) -> Result<T, Error>,
) -> Result<T, Error> {
    let started = io.monotonic();
    let mut log = call_log(LogConfig::from_env(&env)?, token, &mut io, sink);
    let result = work(Observed { io: &mut io, log: &mut log });
    call_end(&mut log, &mut io, function, started, result.as_ref().err());
    result
}

/// The log of one WIT call (out of [`call`], which is compiled once per
/// export).
#[inline(never)]
fn call_log<'s, I: Io>(mut config: LogConfig, token: Option<&str>, io: &mut I, sink: &'s mut dyn Sink) -> Log<'s> {
    if let Some(token) = token {
        config.add_secret(token);
    }
    let request_id = new_request_id(io);
    Log::new(config, Via::Wit, request_id, sink)
}

/// The request line of one WIT call.
#[inline(never)]
fn call_end<I: Io>(log: &mut Log<'_>, io: &mut I, function: &str, started: Duration, error: Option<&Error>) {
    let outcome = error.map_or_else(|| "ok".to_owned(), Error::to_string);
    let duration = io.monotonic().saturating_sub(started);
    let finished = Finished {
        method: None,
        route: function,
        status: None,
        exit_code: None,
        failed: error.is_some(),
        duration,
        outcome: &outcome,
    };
    log.finish(io.unix_time(), &finished);
}

/// An [`Io`] that keeps a [`Log`]: every note of the driver is counted and
/// written to it. Everything else passes through.
pub struct Observed<'l, 's, I> {
    pub io: I,
    pub log: &'l mut Log<'s>,
}

impl<I: Io> Io for Observed<'_, '_, I> {
    fn start(&mut self, request: &Request, limits: &Limits) -> Ticket {
        let ticket = self.io.start(request, limits);
        if self.log.config.enabled(Level::Debug) {
            let now = self.io.monotonic();
            self.log.started(ticket, now);
        }
        ticket
    }

    fn wait(&mut self, until: Option<Duration>) -> Option<(Ticket, Result<crate::http::Response, TransportError>)> {
        let answer = self.io.wait(until);
        if let (Some((ticket, _)), true) = (&answer, self.log.config.enabled(Level::Debug)) {
            let now = self.io.monotonic();
            self.log.answered(*ticket, now);
        }
        answer
    }

    fn abandon(&mut self, ticket: Ticket) {
        self.io.abandon(ticket);
        if let Some(i) = self.log.timings.iter().position(|(t, _)| *t == ticket) {
            self.log.timings.swap_remove(i);
        }
    }

    fn monotonic(&mut self) -> Duration {
        self.io.monotonic()
    }

    fn unix_time(&mut self) -> Duration {
        self.io.unix_time()
    }

    fn random(&mut self) -> u64 {
        self.io.random()
    }

    fn observe(&mut self, note: &Note<'_>) {
        // The clock is read only for a line that will be written.
        let unix = if self.log.config.threshold.is_some() { self.io.unix_time() } else { Duration::ZERO };
        self.log.note(unix, note);
    }
}
