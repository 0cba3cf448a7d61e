//! `wasi:http/incoming-handler` (`wasmtime serve`, or any host of
//! `wasi:http` components): converts the request's head for the sans-IO
//! router ([`crate::webhook`]), reads at most the body the route allows,
//! and writes the reply it returns; log lines go to stderr. Conversion
//! only.

use super::{env, Stderr, WasiIo};
use crate::webhook::{self, BodyError, Head, Reply};
use wasi::http::types::{Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam};
use wasi::io::streams::StreamError;

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
    let method = method_name(&request.method());
    let path = request.path_with_query().unwrap_or_else(|| "/".into());
    let headers: Vec<(String, String)> = request
        .headers()
        .entries()
        .into_iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), String::from_utf8_lossy(&value).into_owned()))
        .collect();
    // HTTP/2 carries the host as the authority, not as a header.
    let mut headers = headers;
    if !headers.iter().any(|(name, _)| name == "host") {
        if let Some(authority) = request.authority() {
            headers.push(("host".into(), authority));
        }
    }
    let head = Head { method: &method, path: &path, headers: &headers };
    webhook::serve(&head, |limit| read_body(request, limit), env, WasiIo::default(), &mut Stderr)
}

/// Reads the body, refusing more than `limit` bytes without reading the
/// rest.
fn read_body(request: &IncomingRequest, limit: usize) -> Result<Vec<u8>, BodyError> {
    let declared = request
        .headers()
        .get("content-length")
        .first()
        .and_then(|v| std::str::from_utf8(v).ok()?.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let already_read = || BodyError::Unreadable("the request body was already read".into());
    let incoming = request.consume().map_err(|()| already_read())?;
    let stream = incoming.stream().map_err(|()| already_read())?;
    let mut body = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => {
                body.extend_from_slice(&chunk);
                if body.len() > limit {
                    return Err(BodyError::TooLarge);
                }
            }
            Err(StreamError::Closed) => return Ok(body),
            Err(StreamError::LastOperationFailed(error)) => return Err(BodyError::Unreadable(error.to_debug_string())),
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
