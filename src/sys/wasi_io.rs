//! [`Io`] over `wasi:http/outgoing-handler` and the WASI clocks.
//!
//! The `wasi` crate's raw bindings are used rather than a client library
//! because the request options (connect, first-byte and between-bytes
//! timeouts) and a bounded body read are not exposed by one.

use crate::http::{Method, Request, Response};
use crate::io::{Io, TransportError, TransportErrorKind};
use crate::settings::Timeouts;
use std::time::Duration;
use wasi::http::outgoing_handler;
use wasi::http::types::{ErrorCode, Fields, IncomingBody, OutgoingBody, OutgoingRequest, RequestOptions, Scheme};
use wasi::io::streams::StreamError;

/// Largest write the WASI output stream accepts in one blocking call.
const WRITE_CHUNK: usize = 4096;
const READ_CHUNK: u64 = 64 * 1024;

#[derive(Default)]
pub struct WasiIo;

fn fail(kind: TransportErrorKind, message: impl Into<String>) -> TransportError {
    TransportError { kind, message: message.into() }
}

impl Io for WasiIo {
    fn send(&mut self, request: &Request, timeouts: &Timeouts, max_body: usize) -> Result<Response, TransportError> {
        let (scheme, rest) = if let Some(rest) = request.url.strip_prefix("https://") {
            (Scheme::Https, rest)
        } else if let Some(rest) = request.url.strip_prefix("http://") {
            (Scheme::Http, rest)
        } else {
            return Err(fail(TransportErrorKind::Other, "only http(s) URLs can be requested"));
        };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let entries: Vec<(String, Vec<u8>)> =
            request.headers.iter().map(|(name, value)| (name.clone(), value.clone().into_bytes())).collect();
        let headers = Fields::from_list(&entries)
            .map_err(|e| fail(TransportErrorKind::Other, format!("the host refused a request header: {e:?}")))?;
        let outgoing = OutgoingRequest::new(headers);
        let method = match request.method {
            Method::Get => wasi::http::types::Method::Get,
            Method::Post => wasi::http::types::Method::Post,
            Method::Put => wasi::http::types::Method::Put,
            Method::Patch => wasi::http::types::Method::Patch,
            Method::Delete => wasi::http::types::Method::Delete,
        };
        let invalid = |what: &str| fail(TransportErrorKind::Other, format!("the host refused the request {what}"));
        outgoing.set_method(&method).map_err(|()| invalid("method"))?;
        outgoing.set_scheme(Some(&scheme)).map_err(|()| invalid("scheme"))?;
        outgoing.set_authority(Some(authority)).map_err(|()| invalid("authority"))?;
        outgoing.set_path_with_query(Some(if path.is_empty() { "/" } else { path })).map_err(|()| invalid("path"))?;

        // A host that does not support an option keeps its own default; the
        // operation deadline still bounds the whole call.
        let options = RequestOptions::new();
        let nanos = |d: Duration| Some(d.as_nanos().min(u64::MAX as u128) as u64);
        let _ = options.set_connect_timeout(nanos(timeouts.connect));
        let _ = options.set_first_byte_timeout(nanos(timeouts.first_byte));
        let _ = options.set_between_bytes_timeout(nanos(timeouts.between_bytes));

        let body = outgoing.body().map_err(|()| invalid("body"))?;
        let future = outgoing_handler::handle(outgoing, Some(options)).map_err(|e| from_error_code(&e, authority))?;
        if let Some(bytes) = &request.body {
            let stream = body.write().map_err(|()| invalid("body stream"))?;
            for chunk in bytes.chunks(WRITE_CHUNK) {
                stream
                    .blocking_write_and_flush(chunk)
                    .map_err(|e| from_stream_error(e, authority, "sending the request body"))?;
            }
        }
        OutgoingBody::finish(body, None).map_err(|e| from_error_code(&e, authority))?;

        let response = loop {
            match future.get() {
                Some(result) => break result,
                None => future.subscribe().block(),
            }
        };
        let response = response
            .map_err(|()| fail(TransportErrorKind::Other, "the response was already taken"))?
            .map_err(|e| from_error_code(&e, authority))?;

        let status = response.status();
        let headers = response
            .headers()
            .entries()
            .into_iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), String::from_utf8_lossy(&value).into_owned()))
            .collect();
        let incoming =
            response.consume().map_err(|()| fail(TransportErrorKind::Other, "the response body was already taken"))?;
        let body = read_body(&incoming, max_body, authority)?;
        drop(IncomingBody::finish(incoming));
        Ok(Response { status, headers, body })
    }

    fn monotonic(&mut self) -> Duration {
        Duration::from_nanos(wasi::clocks::monotonic_clock::now())
    }

    fn unix_time(&mut self) -> Duration {
        let now = wasi::clocks::wall_clock::now();
        Duration::new(now.seconds, now.nanoseconds)
    }

    fn sleep(&mut self, duration: Duration) {
        let nanos = duration.as_nanos().min(u64::MAX as u128) as u64;
        wasi::clocks::monotonic_clock::subscribe_duration(nanos).block();
    }

    fn random(&mut self) -> u64 {
        wasi::random::random::get_random_u64()
    }
}

fn read_body(incoming: &IncomingBody, max_body: usize, authority: &str) -> Result<Vec<u8>, TransportError> {
    let stream = incoming
        .stream()
        .map_err(|()| fail(TransportErrorKind::Other, "the response body stream was already taken"))?;
    let mut body = Vec::new();
    loop {
        match stream.blocking_read(READ_CHUNK) {
            Ok(chunk) => {
                if body.len() + chunk.len() > max_body {
                    return Err(fail(
                        TransportErrorKind::BodyTooLarge,
                        format!("the response from {authority} is larger than {max_body} bytes; refused"),
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            Err(StreamError::Closed) => return Ok(body),
            Err(error) => return Err(from_stream_error(error, authority, "reading the response body")),
        }
    }
}

fn from_stream_error(error: StreamError, authority: &str, doing: &str) -> TransportError {
    match error {
        StreamError::Closed => {
            fail(TransportErrorKind::Connection, format!("{authority} closed the connection while {doing}"))
        }
        StreamError::LastOperationFailed(io) => match wasi::http::types::http_error_code(&io) {
            Some(code) => from_error_code(&code, authority),
            None => fail(
                TransportErrorKind::Connection,
                format!("{doing} from {authority} failed: {}", io.to_debug_string()),
            ),
        },
    }
}

fn from_error_code(code: &ErrorCode, authority: &str) -> TransportError {
    use TransportErrorKind::*;
    let (kind, what) = match code {
        ErrorCode::DnsTimeout => (Timeout, "the DNS lookup timed out".to_owned()),
        ErrorCode::ConnectionTimeout => (Timeout, "connecting timed out".to_owned()),
        ErrorCode::ConnectionReadTimeout | ErrorCode::HttpResponseTimeout => {
            (Timeout, "the response did not arrive in time".to_owned())
        }
        ErrorCode::ConnectionWriteTimeout => (Timeout, "sending the request timed out".to_owned()),
        ErrorCode::ConnectionRefused => (Connection, "the connection was refused".to_owned()),
        ErrorCode::ConnectionTerminated | ErrorCode::HttpResponseIncomplete | ErrorCode::HttpProtocolError => {
            (Connection, "the connection closed before a complete response".to_owned())
        }
        ErrorCode::DnsError(e) => (Connection, format!("the DNS lookup failed ({:?})", e.rcode)),
        ErrorCode::DestinationNotFound | ErrorCode::DestinationUnavailable | ErrorCode::DestinationIpUnroutable => {
            (Connection, "the destination is unreachable".to_owned())
        }
        ErrorCode::HttpRequestDenied | ErrorCode::DestinationIpProhibited => {
            (Denied, "the host does not allow this destination (outbound allow-list)".to_owned())
        }
        ErrorCode::HttpResponseBodySize(_) => (BodyTooLarge, "the response body is too large".to_owned()),
        ErrorCode::TlsProtocolError | ErrorCode::TlsCertificateError | ErrorCode::TlsAlertReceived(_) => {
            (Other, "the TLS handshake failed (certificate or protocol)".to_owned())
        }
        other => (Other, format!("the request failed: {other:?}")),
    };
    fail(kind, format!("{what} ({authority})"))
}
