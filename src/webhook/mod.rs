//! The webhook service's contract, sans-IO: which requests are accepted, how
//! they are authenticated, how a body becomes directory events and what the
//! reply says. The `wasi:http/incoming-handler` glue only reads the request,
//! calls these functions and writes the [`Reply`].
//!
//! # Requests
//!
//! | request | answer |
//! |---|---|
//! | `GET /healthz` | 200 `{"status":"ok"}`, no authentication |
//! | `GET /events` with `X-Okta-Verification-Challenge` | 200 `{"verification": <challenge>}` (Okta's one-time verification) |
//! | `GET /events` without it | 400 |
//! | `POST /events` | the body's events applied: see [Replies](#replies) |
//! | `/events` or `/healthz` with another method | 405 with an `allow` header |
//! | any other path | 404 |
//!
//! The query string is ignored when matching paths.
//!
//! # Authentication
//!
//! Every `/events` request must carry exactly one `Authorization` header
//! equal to the configured secret (`WEBHOOK_SECRET`): verbatim, as Okta sends
//! the header value it was given, or as `Bearer <secret>`. The comparison runs
//! in constant time ([`auth::constant_time_eq`]). A missing or wrong header is
//! 401. With no secret configured, `/events` answers 500 and says to set
//! `WEBHOOK_SECRET`: the service is never open by accident (`/healthz` still
//! answers). No reply ever contains the secret or the `Authorization` header.
//!
//! # Bodies
//!
//! At most [`MAX_BODY_BYTES`] (413 beyond). Two formats are accepted:
//! - an Okta event hook delivery, recognized by its top-level
//!   `"eventType": "com.okta.event_hook"` ([`okta`]);
//! - the generic format ([`crate::events::generic`]): an event object with a
//!   `type`, or an array of events.
//!
//! Malformed JSON, or a document of either format with an invalid field, is
//! 400 naming the field (`invalid data.events[3].uuid: is required`); valid
//! JSON in neither format is 400 "invalid body: is in no known format…". Odd Okta events (an
//! unmapped type, a login that is not an email…) are not errors: they are
//! reported as ignored.
//!
//! # Replies
//!
//! Every reply is JSON (`content-type: application/json`). Errors are
//! `{"error": {"code": N, "message": "…"}}`. After applying events:
//!
//! ```json
//! {"results": [{"id": "f4c5…", "type": "user.joined", "status": "applied", "detail": "invited ann@x.com as read"},
//!              {"id": "a1", "type": "user.left", "status": "failed", "detail": "…",
//!               "error": {"kind": "rate-limited", "status": 429, "message": "API rate limit exceeded"}}],
//!  "applied": 1, "ignored": 0, "failed": 1, "deferred": 0}
//! ```
//!
//! `results` lists the applied events' results in the order applied, then the
//! deferred events, then the items ignored when the body was parsed. `status`
//! is `applied`, `ignored`, `failed` (with `error`; `kind` is the WIT error
//! case, `status` the HTTP status or `null`) or `deferred`. The status code,
//! first rule that matches:
//!
//! 1. **503**, `retry-after: 5`: some events were deferred (not attempted
//!    because the time budget ran out). The sender should redeliver the whole
//!    body; that is safe as every operation is idempotent.
//! 2. **200**: no event failed (including when there was nothing to do).
//! 3. **502**: every event that was applied failed (every result is
//!    `failed`): GitBook, or the way to it, is failing.
//! 4. **207** (Multi-Status): some events failed and others did not; the
//!    results say which.

pub mod auth;

#[cfg(test)]
mod tests;

use crate::error::Error;
use crate::events::okta::{self, IgnoredItem, Item};
use crate::events::DirectoryEvent;
use crate::role::parse_role_or_guest;
use crate::sync::events::{EventResult, JoinDefaults, Status};
use crate::validate::printable;
use serde_json::{json, Value};
use std::fmt;

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Seconds a sender is asked to wait before redelivering deferred events.
pub const RETRY_AFTER_SECONDS: u32 = 5;

pub const ENV_SECRET: &str = "WEBHOOK_SECRET";
pub const ENV_DEFAULT_ROLE: &str = "GITBOOK_DEFAULT_ROLE";
pub const ENV_SSO: &str = "GITBOOK_SSO";
pub use okta::ENV_GROUP_TEAMS;

pub const EVENTS_PATH: &str = "/events";
pub const HEALTH_PATH: &str = "/healthz";
pub const RECONCILE_PATH: &str = "/reconcile";
/// Okta's verification header, lower case.
pub const CHALLENGE_HEADER: &str = "x-okta-verification-challenge";
/// Longest verification challenge echoed back.
const MAX_CHALLENGE_LEN: usize = 1024;

/// The service's configuration. `Debug` never shows the secret.
#[derive(Clone, Default)]
pub struct Config {
    /// The expected `Authorization` header value; `None` refuses every
    /// `/events` request.
    pub secret: Option<String>,
    pub defaults: JoinDefaults,
    pub groups: okta::GroupMapping,
}

impl Config {
    /// Reads `WEBHOOK_SECRET`, `GITBOOK_DEFAULT_ROLE` (`admin`…`read` or
    /// `guest`; default `read`), `GITBOOK_SSO` (`true`/`false`; default
    /// `true`) and `GITBOOK_GROUP_TEAMS` (see [`okta::GroupMapping::parse`]).
    /// Values are trimmed and a blank value counts as unset. A missing secret
    /// is not an error here: [`route`] answers 500 until it is set.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Config, Error> {
        let read = |name: &str| env(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let secret = read(ENV_SECRET);
        if secret.as_deref().is_some_and(|s| s.chars().any(char::is_control)) {
            return Err(Error::invalid(ENV_SECRET, "contains control characters; it must fit in an HTTP header"));
        }
        let mut defaults = JoinDefaults::default();
        if let Some(role) = read(ENV_DEFAULT_ROLE) {
            defaults.role = parse_role_or_guest(&role).map_err(|m| Error::invalid(ENV_DEFAULT_ROLE, m))?;
        }
        if let Some(sso) = read(ENV_SSO) {
            defaults.sso = match sso.to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(Error::invalid(ENV_SSO, format!("{} must be true or false", printable(&sso)))),
            };
        }
        let groups = okta::GroupMapping::parse(&read(ENV_GROUP_TEAMS).unwrap_or_default())?;
        Ok(Config { secret, defaults, groups })
    }

    /// The secret, when one is configured (not blank).
    fn secret(&self) -> Option<&str> {
        self.secret.as_deref().filter(|s| !s.trim().is_empty())
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("secret", &self.secret().map(|_| "[redacted]"))
            .field("defaults", &self.defaults)
            .field("groups", &self.groups)
            .finish()
    }
}

/// A request's head, as received. `Debug` redacts the `Authorization`
/// header.
#[derive(Clone, Copy)]
pub struct Head<'a> {
    pub method: &'a str,
    /// Path and query, e.g. `/events?x=1`.
    pub path: &'a str,
    /// Header names in lower case.
    pub headers: &'a [(String, String)],
}

impl fmt::Debug for Head<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), if n.eq_ignore_ascii_case("authorization") { "[redacted]" } else { v.as_str() }))
            .collect();
        f.debug_struct("Head")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("headers", &headers)
            .finish()
    }
}

impl Head<'_> {
    fn header_values<'h>(&'h self, name: &'h str) -> impl Iterator<Item = &'h str> + 'h {
        self.headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// What to answer: a status, a JSON body and headers (`content-type`
/// included).
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    fn json(status: u16, body: Value) -> Reply {
        Reply { status, body, headers: vec![("content-type".into(), "application/json".into())] }
    }

    /// `{"error": {"code": status, "message": message}}`.
    pub fn error(status: u16, message: impl Into<String>) -> Reply {
        Reply::json(status, json!({"error": {"code": status, "message": message.into()}}))
    }

    /// 413, for a body over [`MAX_BODY_BYTES`] (also when found while reading).
    pub fn too_large() -> Reply {
        Reply::error(413, format!("the body is larger than {MAX_BODY_BYTES} bytes; send fewer events at a time"))
    }

    fn with_header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The body as bytes to write.
    pub fn body_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.body).expect("a JSON value serializes")
    }
}

/// What a request is for, once accepted.
#[derive(Clone, Debug, PartialEq)]
pub enum Route {
    /// Okta's verification: answer [`verification_reply`].
    OktaVerification { challenge: String },
    /// A delivery: read the body, [`parse_events`], apply, [`results_reply`].
    Events,
    /// Answer [`health_reply`].
    Health,
    /// `POST /reconcile`: plan against the body's snapshot; apply it too
    /// when `apply` is set (`?apply=true`).
    Reconcile { apply: bool, options: crate::sync::reconcile::Options },
}

/// Largest snapshot `POST /reconcile` accepts (about 100,000 users).
pub const MAX_SNAPSHOT_BYTES: usize = 32 * 1024 * 1024;

/// The reconcile options from the query string: `apply`, `strategy`
/// (`push`|`sync`), `maxRemovals`, `maxRemovalPercent`, `allowMassRemoval`.
fn reconcile_route(query: &str) -> Result<Route, Reply> {
    let mut options = crate::sync::reconcile::Options::default();
    let mut apply = false;
    let flag = |name: &str, value: &str| match value {
        "" | "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(Reply::error(400, format!("{name} is true or false"))),
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "apply" => apply = flag(name, value)?,
            "allowMassRemoval" => options.allow_mass_removal = flag(name, value)?,
            "strategy" => {
                options.strategy = match value {
                    "push" => crate::sync::reconcile::Strategy::Push,
                    "sync" => crate::sync::reconcile::Strategy::Sync,
                    _ => return Err(Reply::error(400, "strategy is push or sync")),
                }
            }
            "maxRemovals" => {
                options.max_removals = value.parse().map_err(|_| Reply::error(400, "maxRemovals is a whole number"))?
            }
            "maxRemovalPercent" => {
                options.max_removal_percent = value
                    .parse::<f64>()
                    .ok()
                    .filter(|p| (0.0..=100.0).contains(p))
                    .ok_or_else(|| Reply::error(400, "maxRemovalPercent is a number from 0 to 100"))?
            }
            other => {
                return Err(Reply::error(
                    400,
                    format!(
                        "unknown parameter {}; /reconcile takes apply, strategy, maxRemovals, maxRemovalPercent, \
                         allowMassRemoval",
                        crate::validate::printable(other)
                    ),
                ))
            }
        }
    }
    Ok(Route::Reconcile { apply, options })
}

/// The reply to a reconcile: the plan, the report when applied. 200 when
/// everything planned was done (or only planned); 409 when the safety check
/// refused an apply (nothing was sent); 207 when some actions failed.
pub fn reconcile_reply(
    plan: &crate::sync::reconcile::Plan,
    report: Option<&crate::sync::reconcile::Report>,
    refused: Option<&Error>,
) -> Reply {
    let plan_json = serde_json::to_value(plan).unwrap_or(Value::Null);
    match (report, refused) {
        (_, Some(error)) => {
            Reply::json(409, json!({ "error": { "code": 409, "message": error.to_string() }, "plan": plan_json }))
        }
        (None, None) => Reply::json(200, json!({ "plan": plan_json })),
        (Some(report), None) => {
            let status = if report.is_success() { 200 } else { 207 };
            Reply::json(
                status,
                json!({ "plan": plan_json, "report": serde_json::to_value(report).unwrap_or(Value::Null) }),
            )
        }
    }
}

/// Decides from the request head alone (before reading the body): the route,
/// or the reply that ends the request.
pub fn route(head: &Head, config: &Config) -> Result<Route, Reply> {
    let path = head.path.split(['?', '#']).next().unwrap_or("");
    match path {
        HEALTH_PATH => match head.method {
            "GET" => Ok(Route::Health),
            _ => Err(method_not_allowed("GET")),
        },
        EVENTS_PATH => {
            if !matches!(head.method, "GET" | "POST") {
                return Err(method_not_allowed("GET, POST"));
            }
            authenticate(head, config)?;
            if head.method == "POST" {
                return Ok(Route::Events);
            }
            match head.header_values(CHALLENGE_HEADER).next().map(str::trim) {
                Some(challenge)
                    if !challenge.is_empty()
                        && challenge.len() <= MAX_CHALLENGE_LEN
                        && !challenge.chars().any(char::is_control) =>
                {
                    Ok(Route::OktaVerification { challenge: challenge.to_owned() })
                }
                Some(_) => Err(Reply::error(
                    400,
                    format!(
                        "the X-Okta-Verification-Challenge header must have 1 to {MAX_CHALLENGE_LEN} characters \
                         without control characters"
                    ),
                )),
                None => Err(Reply::error(
                    400,
                    "GET /events is Okta's one-time verification and needs an X-Okta-Verification-Challenge \
                     header; send events with POST",
                )),
            }
        }
        RECONCILE_PATH => {
            if head.method != "POST" {
                return Err(method_not_allowed("POST"));
            }
            authenticate(head, config)?;
            reconcile_route(head.path.split_once('?').map_or("", |(_, q)| q))
        }
        _ => Err(Reply::error(
            404,
            format!("no such path; the webhook serves POST {EVENTS_PATH}, POST {RECONCILE_PATH} and GET {HEALTH_PATH}"),
        )),
    }
}

fn method_not_allowed(allow: &str) -> Reply {
    Reply::error(405, format!("method not allowed here; use {allow}")).with_header("allow", allow)
}

fn authenticate(head: &Head, config: &Config) -> Result<(), Reply> {
    let Some(secret) = config.secret() else {
        return Err(Reply::error(
            500,
            format!(
                "the webhook secret is not configured: set {ENV_SECRET} to the Authorization header value \
                 configured for the event hook; every {EVENTS_PATH} request is refused until then"
            ),
        ));
    };
    let unauthorized =
        |message: &str| Reply::error(401, message).with_header("www-authenticate", "Bearer realm=\"webhook\"");
    let mut values = head.header_values("authorization");
    match (values.next(), values.next()) {
        (None, _) => Err(unauthorized("missing Authorization header; send the configured webhook secret")),
        (Some(_), Some(_)) => Err(unauthorized("more than one Authorization header; send exactly one")),
        (Some(value), None) if auth::authorization_matches(value, secret) => Ok(()),
        (Some(_), None) => Err(unauthorized("the Authorization header does not match the configured webhook secret")),
    }
}

/// Parses a `POST /events` body ([`crate::events::parse_document`]); any
/// problem is 400 naming it, or 413 past [`MAX_BODY_BYTES`].
pub fn parse_events(body: &[u8], config: &Config) -> Result<Vec<Item>, Reply> {
    if body.len() > MAX_BODY_BYTES {
        return Err(Reply::too_large());
    }
    crate::events::parse_document(body, &config.groups).map_err(|error| Reply::error(400, error.to_string()))
}

/// 200 `{"verification": challenge}`, Okta's expected answer.
pub fn verification_reply(challenge: &str) -> Reply {
    Reply::json(200, json!({ "verification": challenge }))
}

/// 200 `{"status": "ok"}`.
pub fn health_reply() -> Reply {
    Reply::json(200, json!({"status": "ok"}))
}

/// The reply after applying events: `results` from
/// [`crate::sync::events::apply`], `ignored` the items ignored at parse time
/// (see [`okta::split`]), `deferred` the events not attempted because the
/// time budget ran out. The status code is chosen as the module
/// documentation says.
pub fn results_reply(results: &[EventResult], ignored: &[IgnoredItem], deferred: &[DirectoryEvent]) -> Reply {
    let count = |status: Status| results.iter().filter(|r| r.status == status).count();
    let (applied, failed) = (count(Status::Applied), count(Status::Failed));
    let ignored_count = count(Status::Ignored) + ignored.len();
    let mut entries: Vec<Value> = results.iter().map(result_entry).collect();
    entries.extend(deferred.iter().map(|event| {
        json!({
            "id": event.id, "type": event.event.kind(), "status": "deferred",
            "detail": "not attempted: the time budget ran out; redeliver to apply it",
        })
    }));
    entries.extend(
        ignored.iter().map(|(id, kind, reason)| json!({"id": id, "type": kind, "status": "ignored", "detail": reason})),
    );
    let body = json!({
        "results": entries, "applied": applied, "ignored": ignored_count, "failed": failed, "deferred": deferred.len(),
    });
    if !deferred.is_empty() {
        Reply::json(503, body).with_header("retry-after", RETRY_AFTER_SECONDS.to_string())
    } else if failed == 0 {
        Reply::json(200, body)
    } else if failed == results.len() {
        Reply::json(502, body)
    } else {
        Reply::json(207, body)
    }
}

fn result_entry(result: &EventResult) -> Value {
    let mut entry = json!({"id": result.id, "type": result.kind, "status": result.status, "detail": result.detail});
    if let (Status::Failed, Some(error)) = (result.status, &result.error) {
        entry["error"] = match error {
            Error::InvalidInput { .. } => {
                json!({"kind": "invalid-input", "status": null, "message": error.to_string()})
            }
            Error::SafetyStop(message) => json!({"kind": "safety-stop", "status": null, "message": message}),
            Error::Api(kind, failure) => {
                json!({"kind": kind.code(), "status": failure.status, "message": failure.message})
            }
        };
    }
    entry
}
