//! The router: from a request's head alone (before any body is read), which
//! protocol handles it, after the route's authentication; or the reply that
//! ends the request (404, 405, 401, 400).

use super::config::{Config, ENV_SECRET};
use super::head::Head;
use super::reconcile::query_options;
use super::reply::{Reply, MAX_BODY_BYTES};
use super::{auth, EVENTS_PATH, HEALTH_PATH, RECONCILE_PATH};
use crate::sync::reconcile::Options;

/// Okta's verification header, lower case.
pub const CHALLENGE_HEADER: &str = "x-okta-verification-challenge";
/// Longest verification challenge echoed back.
pub const MAX_CHALLENGE_LEN: usize = 1024;
/// Largest snapshot `POST /reconcile` accepts (about 100,000 users).
pub const MAX_SNAPSHOT_BYTES: usize = 32 * 1024 * 1024;

/// What a request is for, once accepted.
#[derive(Clone, Debug, PartialEq)]
pub enum Route {
    /// Okta's verification: answer with the challenge.
    OktaVerification { challenge: String },
    /// A delivery of events to apply.
    Events,
    /// The liveness probe.
    Health,
    /// `POST /reconcile`: plan against the body's snapshot; apply it too
    /// when `apply` is set (`?apply=true`).
    Reconcile { apply: bool, options: Options },
}

impl Route {
    /// How many body bytes the route reads at most; `None` for routes that
    /// read no body. A larger body is 413 without reading the rest.
    pub fn body_limit(&self) -> Option<usize> {
        match self {
            Route::Events => Some(MAX_BODY_BYTES),
            Route::Reconcile { .. } => Some(MAX_SNAPSHOT_BYTES),
            Route::Health | Route::OktaVerification { .. } => None,
        }
    }
}

/// Decides from the request head alone: the route, or the reply that ends
/// the request.
pub fn route(head: &Head, config: &Config) -> Result<Route, Reply> {
    match head.path_only() {
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
            okta_verification(head)
        }
        RECONCILE_PATH => {
            if head.method != "POST" {
                return Err(method_not_allowed("POST"));
            }
            authenticate(head, config)?;
            let (apply, options) = query_options(head.query())?;
            Ok(Route::Reconcile { apply, options })
        }
        _ => Err(Reply::error(
            404,
            format!("no such path; the webhook serves POST {EVENTS_PATH}, POST {RECONCILE_PATH} and GET {HEALTH_PATH}"),
        )),
    }
}

fn okta_verification(head: &Head) -> Result<Route, Reply> {
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
                "the X-Okta-Verification-Challenge header must have 1 to {MAX_CHALLENGE_LEN} characters without \
                 control characters"
            ),
        )),
        None => Err(Reply::error(
            400,
            "GET /events is Okta's one-time verification and needs an X-Okta-Verification-Challenge header; send \
             events with POST",
        )),
    }
}

fn method_not_allowed(allow: &str) -> Reply {
    Reply::error(405, format!("method not allowed here; use {allow}")).with_header("allow", allow)
}

/// The shared-secret check of `/events` and `/reconcile`: exactly one
/// `Authorization` header carrying the secret ([`auth::authorization_matches`]).
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
