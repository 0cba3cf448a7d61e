//! `wasi:http/incoming-handler`: the webhook receiver under `wasmtime serve`
//! (or any host of `wasi:http` components). Reads the request, asks the
//! sans-IO [`crate::webhook`] what to do, applies the events through the
//! client within a time budget, and writes the reply.

use super::{env, WasiIo};
use crate::events::okta;
use crate::gitbook::Client;
use crate::io::Io;
use crate::settings::RawSettings;
use crate::sync::events;
use crate::webhook::{self, Head, Reply, Route};
use std::time::Duration;
use wasi::http::types::{Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam};
use wasi::io::streams::StreamError;

/// Time allowed for applying one delivery; Okta waits about 3 s.
pub const ENV_DEADLINE_MS: &str = "WEBHOOK_DEADLINE_MS";
const DEFAULT_DEADLINE: Duration = Duration::from_millis(2500);

struct Service;

wasi::http::proxy::export!(Service);

impl wasi::exports::http::incoming_handler::Guest for Service {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let reply = handle(&request);
        send(response_out, &reply);
    }
}

fn method_name(method: &Method) -> String {
    match method {
        Method::Get => "GET".into(),
        Method::Head => "HEAD".into(),
        Method::Post => "POST".into(),
        Method::Put => "PUT".into(),
        Method::Delete => "DELETE".into(),
        Method::Connect => "CONNECT".into(),
        Method::Options => "OPTIONS".into(),
        Method::Trace => "TRACE".into(),
        Method::Patch => "PATCH".into(),
        Method::Other(other) => other.clone(),
    }
}

fn handle(request: &IncomingRequest) -> Reply {
    let config = match webhook::Config::from_env(env) {
        Ok(config) => config,
        Err(error) => return Reply::error(500, format!("the service is misconfigured: {error}")),
    };
    let method = method_name(&request.method());
    let path = request.path_with_query().unwrap_or_else(|| "/".into());
    let headers: Vec<(String, String)> = request
        .headers()
        .entries()
        .into_iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), String::from_utf8_lossy(&value).into_owned()))
        .collect();
    let head = Head { method: &method, path: &path, headers: &headers };
    let route = match webhook::route(&head, &config) {
        Ok(route) => route,
        Err(reply) => return reply,
    };
    match route {
        Route::Health => webhook::health_reply(),
        Route::OktaVerification { challenge } => webhook::verification_reply(&challenge),
        Route::Reconcile { apply, options } => {
            let body = match read_body(request, webhook::MAX_SNAPSHOT_BYTES) {
                Ok(body) => body,
                Err(reply) => return reply,
            };
            reconcile(body, apply, &options)
        }
        Route::Events => {
            let body = match read_body(request, webhook::MAX_BODY_BYTES) {
                Ok(body) => body,
                Err(reply) => return reply,
            };
            let items = match webhook::parse_events(&body, &config) {
                Ok(items) => items,
                Err(reply) => return reply,
            };
            apply(items, &config)
        }
    }
}

fn apply(items: Vec<okta::Item>, config: &webhook::Config) -> Reply {
    let (events, ignored) = okta::split(items);
    let deadline = env(ENV_DEADLINE_MS)
        .and_then(|ms| ms.trim().parse::<u64>().ok())
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_DEADLINE);
    let mut raw = RawSettings::default();
    let mut retry = crate::settings::RetryPolicy::default();
    // No single operation may outlast the whole delivery's budget.
    retry.deadline = retry.deadline.min(deadline);
    retry.max_wait = retry.max_wait.min(deadline);
    raw.retry = Some(retry);
    let settings = match raw.resolve(env) {
        Ok(settings) => settings,
        Err(error) => return Reply::error(500, format!("the service is misconfigured: {error}")),
    };
    let mut clock = WasiIo;
    let started = clock.monotonic();
    let mut client = Client::new(&settings, WasiIo);
    let (results, deferred) = events::apply_while(&mut client, &config.defaults, &events, || {
        clock.monotonic().saturating_sub(started) < deadline
    });
    let deferred: Vec<_> = deferred.into_iter().cloned().collect();
    webhook::results_reply(&results, &ignored, &deferred)
}

/// Plans (and, when asked, applies) a reconcile. Synchronous and not bound
/// by the event budget: it is for schedulers, not for event hooks.
fn reconcile(body: Vec<u8>, apply: bool, options: &crate::sync::reconcile::Options) -> Reply {
    let settings = match RawSettings::default().resolve(env) {
        Ok(settings) => settings,
        Err(error) => return Reply::error(500, format!("the service is misconfigured: {error}")),
    };
    let mut client = Client::new(&settings, WasiIo);
    let (plan, sso) = match crate::sync::plan_snapshot(&mut client, body, options) {
        Ok(planned) => planned,
        Err(error @ crate::error::Error::InvalidInput { .. }) => return Reply::error(400, error.to_string()),
        Err(error) => return Reply::error(502, error.to_string()),
    };
    if !apply {
        return webhook::reconcile_reply(&plan, None, None);
    }
    match crate::sync::reconcile::apply(&mut client, &plan, sso) {
        Ok(report) => webhook::reconcile_reply(&plan, Some(&report), None),
        Err(error @ crate::error::Error::SafetyStop(_)) => webhook::reconcile_reply(&plan, None, Some(&error)),
        Err(error) => Reply::error(502, error.to_string()),
    }
}

/// Reads the body, refusing more than `limit` bytes (413) without reading
/// the rest.
fn read_body(request: &IncomingRequest, limit: usize) -> Result<Vec<u8>, Reply> {
    let declared = request
        .headers()
        .get("content-length")
        .first()
        .and_then(|v| std::str::from_utf8(v).ok()?.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(Reply::too_large());
    }
    let incoming = request.consume().map_err(|()| Reply::error(500, "the request body was already read"))?;
    let stream = incoming.stream().map_err(|()| Reply::error(500, "the request body was already read"))?;
    let mut body = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => {
                body.extend_from_slice(&chunk);
                if body.len() > limit {
                    return Err(Reply::too_large());
                }
            }
            Err(StreamError::Closed) => return Ok(body),
            Err(StreamError::LastOperationFailed(error)) => {
                return Err(Reply::error(400, format!("reading the request body failed: {}", error.to_debug_string())))
            }
        }
    }
}

fn send(response_out: ResponseOutparam, reply: &Reply) {
    let entries: Vec<(String, Vec<u8>)> =
        reply.headers.iter().map(|(name, value)| (name.clone(), value.clone().into_bytes())).collect();
    let headers = Fields::from_list(&entries).unwrap_or_else(|_| Fields::new());
    let response = OutgoingResponse::new(headers);
    let _ = response.set_status_code(reply.status);
    let Ok(body) = response.body() else { return };
    ResponseOutparam::set(response_out, Ok(response));
    if let Ok(stream) = body.write() {
        for chunk in reply.body_bytes().chunks(4096) {
            if stream.blocking_write_and_flush(chunk).is_err() {
                break;
            }
        }
    }
    let _ = OutgoingBody::finish(body, None);
}
