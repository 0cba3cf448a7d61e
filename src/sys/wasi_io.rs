//! [`Io`] over `wasi:http/outgoing-handler` and the WASI clocks.
//!
//! The `wasi` crate's raw bindings are used rather than a client library
//! because the request options (connect, first-byte and between-bytes
//! timeouts), a bounded body read and several requests in flight are not
//! all exposed by one. Each started request writes its body, then waits
//! for its future response, then reads its body stream; [`Io::wait`] polls
//! all of them (and the timer) with one `wasi:io/poll.poll` and advances
//! whichever are ready. Nothing blocks but that poll: a request body is
//! written as `check-write` allows, so a server that does not read it holds
//! up only its own request, until the driver abandons it at its deadline
//! ([`Io::abandon`] drops its streams and future).

use crate::http::{Method, Request, Response};
use crate::io::{Io, Limits, Ticket, TransportError, TransportErrorKind};
use crate::settings::Timeouts;
use std::collections::VecDeque;
use std::time::Duration;
use wasi::http::outgoing_handler;
use wasi::http::types::{
    ErrorCode, Fields, FutureIncomingResponse, IncomingBody, IncomingResponse, OutgoingBody, OutgoingRequest,
    RequestOptions, Scheme,
};
use wasi::io::streams::{InputStream, OutputStream, StreamError};

const READ_CHUNK: u64 = 64 * 1024;

#[derive(Default)]
pub struct WasiIo {
    tickets: u64,
    flights: Vec<Flight>,
    /// Answers ready to hand out, in the order they completed.
    answered: VecDeque<(Ticket, Result<Response, TransportError>)>,
}

struct Flight {
    ticket: Ticket,
    authority: String,
    max_body: usize,
    stage: Stage,
}

enum Stage {
    Send(Send),
    Head(FutureIncomingResponse),
    Body(Body),
}

/// A request whose body is being written. Fields drop in order: the stream
/// before the body it belongs to. The future response is held meanwhile: a
/// server may answer before it has read the whole body.
struct Send {
    stream: OutputStream,
    body: OutgoingBody,
    future: FutureIncomingResponse,
    bytes: Vec<u8>,
    written: usize,
    /// Every byte is written and a flush was asked for.
    flushing: bool,
}

/// A response whose body is being read. Fields drop in order: the stream
/// before the body it belongs to, the body before its response.
struct Body {
    stream: InputStream,
    body: IncomingBody,
    _response: IncomingResponse,
    status: u16,
    headers: Vec<(String, String)>,
    bytes: Vec<u8>,
}

fn fail(kind: TransportErrorKind, message: impl Into<String>) -> TransportError {
    TransportError { kind, message: message.into() }
}

impl Io for WasiIo {
    fn start(&mut self, request: &Request, limits: &Limits) -> Ticket {
        self.tickets += 1;
        let ticket = Ticket(self.tickets);
        match begin(request, &limits.timeouts) {
            Ok((stage, authority)) => {
                self.flights.push(Flight { ticket, authority, max_body: limits.max_body, stage });
                // A body the host takes at once is written now.
                let index = self.flights.len() - 1;
                self.advance(index);
            }
            Err(error) => self.answered.push_back((ticket, Err(error))),
        }
        ticket
    }

    fn wait(&mut self, until: Option<Duration>) -> Option<(Ticket, Result<Response, TransportError>)> {
        let nanos = |d: Duration| d.as_nanos().min(u64::MAX as u128) as u64;
        loop {
            if let Some(answer) = self.answered.pop_front() {
                return Some(answer);
            }
            let timer = until.map(|at| wasi::clocks::monotonic_clock::subscribe_instant(nanos(at)));
            if self.flights.is_empty() {
                if let Some(timer) = timer {
                    timer.block();
                }
                return None;
            }
            // One pollable per flight, two while a body is being written
            // (the stream's room, and an answer that comes early).
            let mut pollables = Vec::with_capacity(self.flights.len() + 1);
            let mut owners = Vec::with_capacity(self.flights.len());
            for flight in &self.flights {
                match &flight.stage {
                    Stage::Send(send) => {
                        pollables.push(send.stream.subscribe());
                        pollables.push(send.future.subscribe());
                        owners.extend([flight.ticket, flight.ticket]);
                    }
                    Stage::Head(future) => {
                        pollables.push(future.subscribe());
                        owners.push(flight.ticket);
                    }
                    Stage::Body(body) => {
                        pollables.push(body.stream.subscribe());
                        owners.push(flight.ticket);
                    }
                }
            }
            let mut all: Vec<&wasi::io::poll::Pollable> = pollables.iter().collect();
            all.extend(timer.as_ref());
            let ready = wasi::io::poll::poll(&all);
            // Pollables are children of what they watch: gone before it changes.
            drop(all);
            drop(pollables);
            // `poll` lists what is ready in any order (wasmtime's is a hash
            // map's): name the flights by ticket before any is removed.
            let mut timed_out = false;
            let mut ready_tickets: Vec<Ticket> = Vec::with_capacity(ready.len());
            for index in ready {
                match owners.get(index as usize) {
                    Some(ticket) if !ready_tickets.contains(ticket) => ready_tickets.push(*ticket),
                    Some(_) => {}
                    None => timed_out = true,
                }
            }
            for ticket in ready_tickets {
                if let Some(index) = self.flights.iter().position(|f| f.ticket == ticket) {
                    self.advance(index);
                }
            }
            if self.answered.is_empty() && timed_out {
                return None;
            }
        }
    }

    fn abandon(&mut self, ticket: Ticket) {
        // Dropping the flight drops its future response or body stream:
        // the host stops reading it.
        self.flights.retain(|f| f.ticket != ticket);
        self.answered.retain(|(t, _)| *t != ticket);
    }

    fn monotonic(&mut self) -> Duration {
        Duration::from_nanos(wasi::clocks::monotonic_clock::now())
    }

    fn unix_time(&mut self) -> Duration {
        let now = wasi::clocks::wall_clock::now();
        Duration::new(now.seconds, now.nanoseconds)
    }

    fn random(&mut self) -> u64 {
        wasi::random::random::get_random_u64()
    }
}

impl WasiIo {
    /// Moves flight `index` on as far as it can go without blocking. The
    /// other flights may change places: they are found by ticket.
    fn advance(&mut self, index: usize) {
        let mut flight = self.flights.swap_remove(index);
        loop {
            match step(flight.stage, &flight.authority, flight.max_body) {
                Step::Pending(stage) => {
                    flight.stage = stage;
                    self.flights.push(flight);
                    return;
                }
                Step::Next(stage) => flight.stage = stage,
                Step::Done(answer) => {
                    self.answered.push_back((flight.ticket, answer));
                    return;
                }
            }
        }
    }
}

/// Where one flight went after a step.
enum Step {
    /// Waiting for its pollable.
    Pending(Stage),
    /// On to the next stage, which may be ready at once.
    Next(Stage),
    Done(Result<Response, TransportError>),
}

fn step(stage: Stage, authority: &str, max_body: usize) -> Step {
    match stage {
        Stage::Send(mut send) => {
            // An answer before the body was taken (a server refusing it
            // early): the rest of the body is not sent.
            if let Some(got) = send.future.get() {
                let Send { stream, body, .. } = send;
                drop(stream);
                drop(body);
                return match head(got, authority) {
                    Ok(body) => Step::Next(Stage::Body(body)),
                    Err(error) => Step::Done(Err(error)),
                };
            }
            match write_available(&mut send, authority) {
                Ok(false) => Step::Pending(Stage::Send(send)),
                Ok(true) => {
                    let Send { stream, body, future, .. } = send;
                    drop(stream);
                    match OutgoingBody::finish(body, None) {
                        Ok(()) => Step::Next(Stage::Head(future)),
                        Err(e) => Step::Done(Err(from_error_code(&e, authority))),
                    }
                }
                Err(error) => Step::Done(Err(error)),
            }
        }
        Stage::Head(future) => match future.get() {
            None => Step::Pending(Stage::Head(future)),
            Some(got) => match head(got, authority) {
                Ok(body) => Step::Next(Stage::Body(body)),
                Err(error) => Step::Done(Err(error)),
            },
        },
        Stage::Body(mut body) => match read_available(&mut body, max_body, authority) {
            Ok(false) => Step::Pending(Stage::Body(body)),
            Ok(true) => {
                let Body { stream, body, _response, status, headers, bytes } = body;
                drop(stream);
                drop(IncomingBody::finish(body));
                Step::Done(Ok(Response { status, headers, body: bytes }))
            }
            Err(error) => Step::Done(Err(error)),
        },
    }
}

/// Writes what the request body stream takes now, then flushes; `true`
/// once every byte is written and flushed.
fn write_available(send: &mut Send, authority: &str) -> Result<bool, TransportError> {
    let failed = |e| from_stream_error(e, authority, "sending the request body");
    loop {
        if send.written == send.bytes.len() {
            if !send.flushing {
                send.stream.flush().map_err(failed)?;
                send.flushing = true;
            }
            // `check-write` answers 0 until the flush is done.
            return Ok(send.stream.check_write().map_err(failed)? > 0);
        }
        let room = send.stream.check_write().map_err(failed)?;
        if room == 0 {
            return Ok(false);
        }
        let end = send.bytes.len().min(send.written + usize::try_from(room).unwrap_or(usize::MAX));
        send.stream.write(&send.bytes[send.written..end]).map_err(failed)?;
        send.written = end;
    }
}

/// Builds and starts a request: its body still to write, or its future
/// response.
fn begin(request: &Request, timeouts: &Timeouts) -> Result<(Stage, String), TransportError> {
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
    let stage = match &request.body {
        Some(bytes) if !bytes.is_empty() => {
            let stream = body.write().map_err(|()| invalid("body stream"))?;
            Stage::Send(Send { stream, body, future, bytes: bytes.clone(), written: 0, flushing: false })
        }
        _ => {
            OutgoingBody::finish(body, None).map_err(|e| from_error_code(&e, authority))?;
            Stage::Head(future)
        }
    };
    Ok((stage, authority.to_owned()))
}

/// The response head, and its body opened for reading.
fn head(got: Result<Result<IncomingResponse, ErrorCode>, ()>, authority: &str) -> Result<Body, TransportError> {
    let response = got
        .map_err(|()| fail(TransportErrorKind::Other, "the response was already taken"))?
        .map_err(|e| from_error_code(&e, authority))?;
    let status = response.status();
    let headers = response
        .headers()
        .entries()
        .into_iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), String::from_utf8_lossy(&value).into_owned()))
        .collect();
    let body =
        response.consume().map_err(|()| fail(TransportErrorKind::Other, "the response body was already taken"))?;
    let stream =
        body.stream().map_err(|()| fail(TransportErrorKind::Other, "the response body stream was already taken"))?;
    Ok(Body { stream, body, _response: response, status, headers, bytes: Vec::new() })
}

/// Reads what the body stream has now; `true` once the body is complete.
fn read_available(body: &mut Body, max_body: usize, authority: &str) -> Result<bool, TransportError> {
    loop {
        match body.stream.read(READ_CHUNK) {
            Ok(chunk) if chunk.is_empty() => return Ok(false),
            Ok(chunk) => {
                if body.bytes.len() + chunk.len() > max_body {
                    return Err(fail(
                        TransportErrorKind::BodyTooLarge,
                        format!("the response from {authority} is larger than {max_body} bytes; refused"),
                    ));
                }
                body.bytes.extend_from_slice(&chunk);
            }
            Err(StreamError::Closed) => return Ok(true),
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
        // Nothing was sent in these: the request never reached GitBook.
        ErrorCode::DnsTimeout => (Unreachable, "the DNS lookup timed out".to_owned()),
        ErrorCode::ConnectionTimeout => (Unreachable, "connecting timed out".to_owned()),
        ErrorCode::ConnectionReadTimeout | ErrorCode::HttpResponseTimeout => {
            (Timeout, "the response did not arrive in time".to_owned())
        }
        ErrorCode::ConnectionWriteTimeout => (Timeout, "sending the request timed out".to_owned()),
        ErrorCode::ConnectionRefused => (Unreachable, "the connection was refused".to_owned()),
        ErrorCode::ConnectionTerminated | ErrorCode::HttpResponseIncomplete | ErrorCode::HttpProtocolError => {
            (Connection, "the connection closed before a complete response".to_owned())
        }
        ErrorCode::DnsError(e) => (Unreachable, format!("the DNS lookup failed ({:?})", e.rcode)),
        ErrorCode::DestinationNotFound | ErrorCode::DestinationUnavailable | ErrorCode::DestinationIpUnroutable => {
            (Unreachable, "the destination is unreachable".to_owned())
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
