//! The router: from a request's head alone (before any body is read), which
//! protocol handles it, after the route's authentication; or the reply that
//! ends the request (404, 405, 401, 400).

use super::auth::{self, Refusal};
use super::config::{Config, ENV_SCIM_TOKEN, ENV_SECRET};
use super::head::Head;
use super::reconcile::query_options;
use super::reply::{Reply, MAX_BODY_BYTES};
use super::{query, EVENTS_PATH, HEALTH_PATH, RECONCILE_PATH};
use crate::error::Error;
use crate::scim::{self, error::ScimError, error::ScimType};
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
    Reconcile { apply: bool, options: Options, source: Option<crate::sources::SourceKind> },
    /// A SCIM request under `/scim/v2`, authenticated with `SCIM_TOKEN`.
    Scim(scim::Request),
}

impl Route {
    /// How many body bytes the route reads at most; `None` for routes that
    /// read no body. A larger body is 413 without reading the rest.
    pub fn body_limit(&self) -> Option<usize> {
        match self {
            Route::Events => Some(MAX_BODY_BYTES),
            Route::Reconcile { .. } => Some(MAX_SNAPSHOT_BYTES),
            Route::Scim(request) => request.takes_body().then_some(scim::MAX_BODY_BYTES),
            Route::Health | Route::OktaVerification { .. } => None,
        }
    }
}

impl Route {
    /// The 413 for a body over [`Route::body_limit`], in the route's own
    /// protocol (a SCIM error under `/scim/v2`).
    pub fn too_large(&self) -> Reply {
        match self {
            Route::Scim(_) => Reply::scim(
                ScimError::new(413, None, format!("the body is larger than {} bytes", scim::MAX_BODY_BYTES)).into(),
            ),
            _ => Reply::too_large(self.body_limit().unwrap_or(MAX_BODY_BYTES)),
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
            let (apply, options, source) = query_options(head.query())?;
            Ok(Route::Reconcile { apply, options, source })
        }
        path => match scim_path(path) {
            Some(rest) => scim_route(head, config, rest),
            None => Err(Reply::error(
                404,
                format!(
                    "no such path; the webhook serves POST {EVENTS_PATH}, POST {RECONCILE_PATH}, GET {HEALTH_PATH} \
                     and SCIM under {}",
                    scim::BASE_PATH
                ),
            )),
        },
    }
}

/// What follows `/scim/v2` in a SCIM path.
pub(super) fn scim_path(path: &str) -> Option<&str> {
    let rest = path.strip_prefix(scim::BASE_PATH)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

/// A SCIM request: authenticated first, then its path, method, content
/// type and query read; every refusal is a SCIM error.
fn scim_route(head: &Head, config: &Config, rest: &str) -> Result<Route, Reply> {
    let refuse = |error: ScimError| Reply::scim(error.into());
    authenticate_scim(head, config).map_err(refuse)?;
    let pairs = query::parse(head.query()).map_err(|m| refuse(ScimError::bad(ScimType::InvalidValue, m)))?;
    let content_type = head.header_values("content-type").next();
    let mut request = scim::parse_request(head.method, rest, &pairs, content_type).map_err(refuse)?;
    if let Some(base) = public_base(head) {
        request.base = base;
    }
    Ok(Route::Scim(request))
}

/// The configuration could not be read (`error`): a SCIM request is
/// authenticated first, with `SCIM_TOKEN` alone, and then answered with a
/// SCIM 500 that names no setting (the log does); the other routes, whose
/// callers are the operator's own tools, get the 500 naming the variable.
pub fn misconfigured_reply(head: &Head, error: &Error, env: impl Fn(&str) -> Option<String>) -> Reply {
    if scim_path(head.path_only()).is_none() {
        return Reply::misconfigured(error);
    }
    let token = env(ENV_SCIM_TOKEN).map(|t| t.trim().to_owned());
    let config = Config { scim_token: token.filter(|t| !t.chars().any(char::is_control)), ..Config::default() };
    match authenticate_scim(head, &config) {
        Err(refusal) => Reply::scim(refusal.into()),
        Ok(()) => Reply::scim_misconfigured(error),
    }
}

/// The service's public `/scim/v2` URL, from the request's `Host` (and a
/// proxy's `X-Forwarded-Proto`), for `Location` and `meta.location`.
/// Without a usable host the locations stay relative. The scheme is `https`
/// unless a proxy says `http` or the host is a loopback address.
fn public_base(head: &Head) -> Option<String> {
    let host = head.header_values("host").next()?.trim();
    let valid = !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']' | b'_'));
    if !valid {
        return None;
    }
    let forwarded = head.header_values("x-forwarded-proto").next().map(|p| p.trim().to_ascii_lowercase());
    let name =
        host.rsplit_once(':').filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(n, _)| n);
    let loopback = matches!(name, "localhost" | "127.0.0.1" | "[::1]");
    let scheme = match forwarded.as_deref() {
        Some("http") => "http",
        Some("https") => "https",
        _ if loopback => "http",
        _ => "https",
    };
    Some(format!("{scheme}://{host}{}", scim::BASE_PATH))
}

/// `Authorization: Bearer <SCIM_TOKEN>`, compared in constant time like the
/// webhook secret. Without a token configured, SCIM is refused (500 naming
/// the variable): never open by accident.
fn authenticate_scim(head: &Head, config: &Config) -> Result<(), ScimError> {
    let Some(token) = config.scim_token() else {
        return Err(ScimError::new(
            500,
            None,
            format!(
                "SCIM is not configured: set {ENV_SCIM_TOKEN} to the secret token given to the identity provider; \
                 every {} request is refused until then",
                scim::BASE_PATH
            ),
        ));
    };
    auth::check(head.header_values("authorization"), token).map_err(|refusal| {
        let detail = match refusal {
            Refusal::Missing => "missing Authorization header; send Authorization: Bearer <SCIM token>",
            Refusal::Several => "more than one Authorization header; send exactly one",
            Refusal::Mismatch => "the bearer token does not match the configured SCIM token",
        };
        ScimError::new(401, None, detail)
    })
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
    auth::check(head.header_values("authorization"), secret).map_err(|refusal| {
        let message = match refusal {
            Refusal::Missing => "missing Authorization header; send the configured webhook secret",
            Refusal::Several => "more than one Authorization header; send exactly one",
            Refusal::Mismatch => "the Authorization header does not match the configured webhook secret",
        };
        Reply::error(401, message).with_header("www-authenticate", "Bearer realm=\"webhook\"")
    })
}
