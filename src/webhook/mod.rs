//! The incoming-HTTP service, sans-IO: one router for every protocol served
//! through `wasi:http/incoming-handler` (health, Okta and generic event
//! deliveries, reconcile), one configuration read from the environment, one
//! reply encoder. The `sys` glue converts the request's head, reads at most
//! [`Route::body_limit`] bytes of body, calls [`respond`] and writes the
//! [`Reply`]; every decision is made here.
//!
//! Modules: [`config`] (the environment), [`head`] (the request head),
//! [`health`] (the health check),
//! [`route`] (routing and authentication), [`query`] (query strings),
//! [`auth`] (the constant-time secret check), [`events`] and [`reconcile`]
//! (one protocol each), [`reply`] (the encoder).
//!
//! # Requests
//!
//! | request | answer |
//! |---|---|
//! | `GET /healthz` | 200 with the version when the configuration is complete, else 503 naming each setting to fix ([`health`]); no authentication, no GitBook call |
//! | `GET /events` with `X-Okta-Verification-Challenge` | 200 `{"verification": <challenge>}` (Okta's one-time verification) |
//! | `GET /events` without it | 400 |
//! | `POST /events` | the body's events applied: see [Replies](#replies) |
//! | `POST /reconcile?…` | a snapshot planned (and applied with `apply=true`): see [`reconcile`] |
//! | anything under `/scim/v2` | the SCIM 2.0 service provider ([`crate::scim`]), authenticated with `SCIM_TOKEN` as a bearer token; every answer, errors included, in `application/scim+json` |
//! | `/events`, `/reconcile` or `/healthz` with another method | 405 with an `allow` header |
//! | any other path | 404 |
//!
//! The query string is ignored when matching paths. `/reconcile` reads its
//! options from it, percent-decoded, each at most once ([`query`]).
//!
//! # Authentication
//!
//! Every `/events` and `/reconcile` request must carry exactly one `Authorization` header
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
//! `{"error": {"code": N, "message": "…"}}`; an operation's error adds
//! `"cause"`, the error in the one JSON encoding every output shares
//! ([`crate::error::Error::to_json`]). After applying events:
//!
//! ```json
//! {"results": [{"id": "f4c5…", "type": "user.joined", "status": "applied", "detail": "invited ann@x.com as read"},
//!              {"id": "a1", "type": "user.left", "status": "failed", "detail": "…",
//!               "error": {"kind": "rate-limited", "operation": "remove member", "status": 429,
//!                         "message": "API rate limit exceeded", "attempts": 5, "elapsedMs": 2400, "retryAfterMs": 30000}}],
//!  "applied": 1, "ignored": 0, "failed": 1, "deferred": 0}
//! ```
//!
//! `results` lists the applied events' results in the order applied, then the
//! deferred events, then the items ignored when the body was parsed. `status`
//! is `applied`, `ignored`, `failed` (with `error`; `kind` is the WIT error
//! case, as in every error encoding) or `deferred`. The status code,
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
//!
//! # Logs
//!
//! [`serve`] writes one request line per request, refusals included, and
//! the driver's audit (and debug) lines come through the same
//! [`crate::observe::Log`]. The request id is the caller's `X-Request-Id`,
//! else an Okta delivery's `eventId`, else a new one; every reply carries
//! it back as `x-request-id`.

pub mod auth;
pub mod config;
pub mod events;
pub mod head;
pub mod health;
pub mod query;
pub mod reconcile;
pub mod reply;
pub mod route;

#[cfg(test)]
mod tests;

pub use config::{Config, ENV_DEADLINE_MS, ENV_DEFAULT_ROLE, ENV_GROUP_TEAMS, ENV_SCIM_TOKEN, ENV_SECRET, ENV_SSO};
pub use events::{parse_events, results_reply, verification_reply, RETRY_AFTER_SECONDS};
pub use head::Head;
pub use reconcile::reconcile_reply;
pub use reply::{Reply, MAX_BODY_BYTES};
pub use route::{misconfigured_reply, route, Route, CHALLENGE_HEADER, MAX_SNAPSHOT_BYTES};

use crate::gitbook::Client;
use crate::io::Io;
use crate::observe::{self, Finished, Log, LogConfig, Observed, Sink, Via};
use crate::sync::reconcile::Options;
use serde_json::Value;

pub const EVENTS_PATH: &str = "/events";
pub const HEALTH_PATH: &str = "/healthz";
pub const RECONCILE_PATH: &str = "/reconcile";

/// Why a request's body could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyError {
    /// More than the route's limit ([`Route::body_limit`]).
    TooLarge,
    /// The stream failed, with the reason.
    Unreadable(String),
}

/// Serves one incoming request from its head to its reply, and logs it:
/// reads the configuration, routes, reads at most the route's body with
/// `read_body`, answers, and writes the request line (and, through the
/// driver, the audit lines) to `sink`. The reply carries `x-request-id`.
pub fn serve<I: Io>(
    head: &Head,
    read_body: impl FnOnce(usize) -> Result<Vec<u8>, BodyError>,
    env: impl Fn(&str) -> Option<String>,
    mut io: I,
    sink: &mut dyn Sink,
) -> Reply {
    let started = io.monotonic();
    let (log_config, log_error) = match LogConfig::from_env(&env) {
        Ok(config) => (config, None),
        Err(error) => (LogConfig::fallback(&env), Some(error)),
    };
    let path = head.path_only();
    let mut log = Log::new(log_config, via_of(path), String::new(), sink);
    let given_id = head.header_values(observe::REQUEST_ID_HEADER).next().and_then(observe::given_request_id);
    log.request_id = given_id.unwrap_or_default();
    let reply = handle(head, read_body, &env, &mut io, &mut log, log_error);
    if log.request_id.is_empty() {
        log.request_id = observe::new_request_id(&mut io);
    }
    let duration = io.monotonic().saturating_sub(started);
    // What the reply leaves out on purpose (which setting is wrong) is for
    // the operator: the log line says it.
    let outcome = match &reply.log {
        Some(note) => note.clone(),
        None if log.via == Via::Health => health::outcome(&reply),
        None => outcome_of(&reply),
    };
    let finished = Finished {
        method: Some(head.method),
        route: &route_template(path),
        status: Some(reply.status),
        exit_code: None,
        failed: false,
        duration,
        outcome: &outcome,
    };
    log.finish(io.unix_time(), &finished);
    reply.with_header(observe::REQUEST_ID_HEADER, log.request_id.clone())
}

fn handle<I: Io>(
    head: &Head,
    read_body: impl FnOnce(usize) -> Result<Vec<u8>, BodyError>,
    env: &impl Fn(&str) -> Option<String>,
    io: &mut I,
    log: &mut Log<'_>,
    log_error: Option<crate::error::Error>,
) -> Reply {
    if head.path_only() == HEALTH_PATH && head.method == "GET" {
        return health::health_reply(env);
    }
    let config = match Config::from_env(env) {
        Ok(config) => config,
        Err(error) => return misconfigured_reply(head, &error, env),
    };
    if let Some(error) = log_error {
        return misconfigured_reply(head, &error, env);
    }
    let route = match route(head, &config) {
        Ok(route) => route,
        Err(reply) => return reply,
    };
    let body = match route.body_limit() {
        None => Vec::new(),
        Some(limit) => match read_body(limit) {
            Ok(body) if body.len() <= limit => body,
            Ok(_) | Err(BodyError::TooLarge) => return route.too_large(),
            Err(BodyError::Unreadable(why)) => {
                return Reply::error(400, format!("reading the request body failed: {why}"))
            }
        },
    };
    // Before any GitBook request, so that every line of the request has it.
    if log.request_id.is_empty() {
        let event_id = matches!(route, Route::Events).then(|| okta_event_id(&body)).flatten();
        log.request_id = event_id.unwrap_or_else(|| observe::new_request_id(io));
    }
    respond(route, body, &config, env, Observed { io, log })
}

/// An Okta delivery's `eventId`, when it is a sensible request id.
fn okta_event_id(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        #[serde(rename = "eventId")]
        event_id: Option<String>,
    }
    let envelope: Envelope = serde_json::from_slice(body).ok()?;
    envelope.event_id.as_deref().and_then(observe::given_request_id)
}

/// The protocol a path belongs to.
fn via_of(path: &str) -> Via {
    match path {
        HEALTH_PATH => Via::Health,
        EVENTS_PATH => Via::Events,
        RECONCILE_PATH => Via::Reconcile,
        _ if route::scim_path(path).is_some() => Via::Scim,
        _ => Via::Http,
    }
}

/// The path as a route for the logs: SCIM resource ids (which carry an
/// email) become `{id}`; an unknown path is shown escaped and cut short.
pub fn route_template(path: &str) -> String {
    if let Some(rest) = route::scim_path(path) {
        let mut parts: Vec<&str> = rest.split('/').collect();
        for part in parts.iter_mut().skip(2) {
            if !part.is_empty() {
                *part = "{id}";
            }
        }
        return format!("{}{}", crate::scim::BASE_PATH, parts.join("/"));
    }
    match path {
        HEALTH_PATH | EVENTS_PATH | RECONCILE_PATH => path.to_owned(),
        other => {
            let shown: String = other.chars().take(100).filter(|c| !c.is_control() && *c != '"').collect();
            shown
        }
    }
}

/// The one-line outcome of a reply: the error's message, or counts.
pub fn outcome_of(reply: &Reply) -> String {
    let body = &reply.body;
    let count = |v: &Value, k: &str| v[k].as_u64().unwrap_or(0);
    if let Some(message) = body["error"]["message"].as_str() {
        return message.to_owned();
    }
    if let Some(detail) = body["detail"].as_str() {
        return detail.to_owned();
    }
    if body.get("applied").is_some() {
        return format!(
            "{} applied, {} ignored, {} failed, {} deferred",
            count(body, "applied"),
            count(body, "ignored"),
            count(body, "failed"),
            count(body, "deferred")
        );
    }
    if let Some(counts) = body["report"].get("counts") {
        return format!(
            "{} of {} planned actions done, {} failed, {} not attempted",
            count(counts, "ok"),
            count(counts, "planned"),
            count(counts, "failed"),
            count(counts, "notAttempted")
        );
    }
    if body.get("plan").is_some() {
        return "planned, not applied".to_owned();
    }
    if body.get("verification").is_some() {
        return "answered Okta's verification challenge".to_owned();
    }
    format!("answered {}", reply.status)
}

/// Serves a routed request whose body (at most [`Route::body_limit`] bytes,
/// empty for routes without one) has been read: applies the events or the
/// reconcile through GitBook over `io`, with settings from `env`.
pub fn respond<I: Io>(
    route: Route,
    body: Vec<u8>,
    config: &Config,
    env: impl Fn(&str) -> Option<String>,
    io: I,
) -> Reply {
    match route {
        Route::Health => health::health_reply(env),
        Route::OktaVerification { challenge } => verification_reply(&challenge),
        Route::Events => apply_events(&body, config, env, io),
        Route::Reconcile { apply, options, source } => run_reconcile(body, apply, &options, source, config, env, io),
        Route::Scim(request) => serve_scim(&request, &body, config, env, io),
    }
}

/// Answers a SCIM request through GitBook; new members join with the
/// configured default role and SSO setting unless the IdP sends a role.
fn serve_scim<I: Io>(
    request: &crate::scim::Request,
    body: &[u8],
    config: &Config,
    env: impl Fn(&str) -> Option<String>,
    io: I,
) -> Reply {
    let settings = match Config::settings_within(config.scim_deadline, env) {
        Ok(settings) => settings,
        Err(error) => return Reply::scim_misconfigured(&error),
    };
    let mut client = Client::new(&settings, io);
    // Every GitBook request of this answer ends by the SCIM budget.
    let end = client.now().saturating_add(config.scim_deadline);
    client.limit_until(end);
    Reply::scim(crate::scim::respond(request, body, &config.defaults, &mut client))
}

/// Applies a delivery within the configured deadline; what does not fit is
/// deferred (503, redeliver).
fn apply_events<I: Io>(body: &[u8], config: &Config, env: impl Fn(&str) -> Option<String>, io: I) -> Reply {
    let items = match parse_events(body, config) {
        Ok(items) => items,
        Err(reply) => return reply,
    };
    let settings = match config.delivery_settings(env) {
        Ok(settings) => settings,
        Err(error) => return Reply::misconfigured(&error),
    };
    let (to_apply, ignored) = crate::events::split(items);
    let mut client = Client::new(&settings, io);
    let (results, deferred) =
        crate::sync::events::apply_within(&mut client, &config.defaults, &to_apply, config.deadline);
    results_reply(&results, &ignored, &deferred)
}

/// Plans (and, when asked, applies) a reconcile within its own budget
/// (`RECONCILE_DEADLINE_MS`), not the event budget: it is for schedulers,
/// not for event hooks. A budget that runs out mid-apply stops it before
/// the next stage; the report says what was done.
fn run_reconcile<I: Io>(
    body: Vec<u8>,
    apply: bool,
    options: &Options,
    source: Option<crate::sources::SourceKind>,
    config: &Config,
    env: impl Fn(&str) -> Option<String>,
    io: I,
) -> Reply {
    let settings = match Config::settings_within(config.reconcile_deadline, &env) {
        Ok(settings) => settings,
        Err(error) => return Reply::misconfigured(&error),
    };
    // The source's settings are the service's environment, like GitBook's:
    // a missing one is the service's configuration, not the caller's input.
    let allow_http =
        env(crate::settings::ENV_ALLOW_INSECURE_HTTP).is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes"));
    let source = match source.map(|kind| crate::sources::Source::resolve(kind, &env, allow_http)).transpose() {
        Ok(source) => source,
        Err(error) => return Reply::misconfigured(&error),
    };
    let mut client = Client::new(&settings, io);
    let end = client.now().saturating_add(config.reconcile_deadline);
    client.limit_until(end);
    let planned = match &source {
        None => crate::sync::plan_snapshot(&mut client, body, options),
        // The body is the rules.
        Some(source) => crate::sync::reconcile::Rules::parse(&body)
            .and_then(|rules| crate::sources::plan_from_source(&mut client, source, rules, options)),
    };
    let (plan, sso) = match planned {
        Ok(planned) => planned,
        Err(error) => return Reply::failed(&error),
    };
    if !apply {
        return reconcile_reply(&plan, None);
    }
    match crate::sync::reconcile::apply(&mut client, &plan, sso) {
        Ok(report) => reconcile_reply(&plan, Some(&report)),
        Err(error @ crate::error::Error::SafetyStop(_)) => reconcile::refused_reply(&plan, &error),
        Err(error) => Reply::failed(&error),
    }
}
