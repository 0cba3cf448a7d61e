//! What the core needs from the outside world: send requests, tell the
//! time, wait, and draw a random number for jitter. `sys` implements it on
//! WASI; unit tests implement it with a script.
//!
//! Requests are started and then waited for, so several can be in flight at
//! once: `wasi:http/outgoing-handler.handle` returns a future response and
//! `wasi:io/poll.poll` waits on many at a time. The core decides what may run
//! together and when, and when a request has run out of time (see
//! `gitbook::flight`); an `Io` only carries requests, reports answers in the
//! order they complete, and drops a request it is told to abandon. Nothing an
//! `Io` does may block past the `until` of a [`Io::wait`]: a request body is
//! written as the server takes it, inside `wait`, never in one blocking call.
//!
//! The driver also tells its `Io` what became of each request
//! ([`Io::observe`] with a [`Note`]): values for the logs, which an `Io`
//! is free to ignore (the default). `crate::observe` turns them into log
//! lines.

use crate::error::Error;
use crate::http::{Request, Response};
use crate::settings::Timeouts;
use std::time::Duration;

/// Names one started request; unique among the requests an `Io` has started.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ticket(pub u64);

/// The bounds of one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Passed to the host's request options.
    pub timeouts: Timeouts,
    /// The largest response body accepted.
    pub max_body: usize,
    /// The monotonic time at which the caller abandons the request (the
    /// lane's deadline). An `Io` never needs to act on it (the caller
    /// abandons the request then), but may use it to bound its own work.
    pub deadline: Duration,
}

pub trait Io {
    /// Starts sending a request. Its answer, or why there is none, comes
    /// from [`Io::wait`] under the returned ticket; a request that cannot
    /// even be started is answered there too.
    fn start(&mut self, request: &Request, limits: &Limits) -> Ticket;
    /// Blocks until a started request has its answer and returns it, or
    /// until the monotonic time `until` (when given) and returns `None`.
    /// With nothing in flight it only waits for `until`. Answers may be
    /// returned in any order.
    fn wait(&mut self, until: Option<Duration>) -> Option<(Ticket, Result<Response, TransportError>)>;
    /// Drops a started request that has not been answered (its future
    /// response, its body streams): its answer will never be returned.
    /// Unknown or answered tickets are ignored.
    fn abandon(&mut self, ticket: Ticket);
    /// Time since an arbitrary fixed point; never goes backwards.
    fn monotonic(&mut self) -> Duration;
    /// Wall-clock time since the Unix epoch (to read `X-RateLimit-Reset`
    /// when the answer has no `Date`).
    fn unix_time(&mut self) -> Duration;
    /// A random number, for backoff jitter.
    fn random(&mut self) -> u64;
    /// What became of a request the driver sent, for the logs. Ignored
    /// unless the `Io` keeps a log ([`crate::observe::Observed`]).
    fn observe(&mut self, _note: &Note<'_>) {}
}

/// An `Io` lent to a client that the lender keeps using afterwards.
impl<I: Io + ?Sized> Io for &mut I {
    fn start(&mut self, request: &Request, limits: &Limits) -> Ticket {
        (**self).start(request, limits)
    }
    fn wait(&mut self, until: Option<Duration>) -> Option<(Ticket, Result<Response, TransportError>)> {
        (**self).wait(until)
    }
    fn abandon(&mut self, ticket: Ticket) {
        (**self).abandon(ticket)
    }
    fn monotonic(&mut self) -> Duration {
        (**self).monotonic()
    }
    fn unix_time(&mut self) -> Duration {
        (**self).unix_time()
    }
    fn random(&mut self) -> u64 {
        (**self).random()
    }
    fn observe(&mut self, note: &Note<'_>) {
        (**self).observe(note)
    }
}

/// What the driver reports about its requests, as they happen.
#[derive(Debug)]
pub enum Note<'a> {
    /// One request (one attempt of an operation) got its answer, or failed
    /// without one.
    Answered {
        ticket: Ticket,
        operation: &'static str,
        request: &'a Request,
        /// 1 for the first attempt.
        attempt: u32,
        /// The HTTP status, when a response arrived.
        status: Option<u16>,
        /// Why the attempt failed, when it did.
        failure: Option<&'a str>,
        /// When the driver will try again: after this wait.
        retry_in: Option<Duration>,
    },
    /// An operation's requests are over: how it ended.
    Landed { operation: &'static str, request: &'a Request, attempts: u32, elapsed: Duration, end: End<'a> },
}

/// How an operation ended.
#[derive(Debug)]
pub enum End<'a> {
    /// A 2xx answer with this status.
    Answered(u16),
    /// It failed; `unknown` when GitBook may have made the change although
    /// no success came back (a timeout, a dropped connection, a 5xx).
    Failed { error: &'a Error, unknown: bool },
}

/// A request that got no HTTP response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportError {
    pub kind: TransportErrorKind,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportErrorKind {
    /// Nothing reached the server: connection refused, DNS failure, an
    /// unreachable destination.
    Unreachable,
    /// The connection was reset or closed early, after the request may
    /// have reached the server.
    Connection,
    /// A connect, first-byte or between-bytes timeout.
    Timeout,
    /// The host refused the destination (outbound allow-list).
    Denied,
    /// The response body exceeded the size cap.
    BodyTooLarge,
    /// Anything else (the request could not be built, a protocol error).
    Other,
}

impl TransportErrorKind {
    /// Connection failures and timeouts may pass; the rest will not.
    pub fn is_retryable(self) -> bool {
        matches!(self, TransportErrorKind::Unreachable | TransportErrorKind::Connection | TransportErrorKind::Timeout)
    }

    /// Whether the request may have reached the server and taken effect.
    pub fn may_have_arrived(self) -> bool {
        matches!(self, TransportErrorKind::Connection | TransportErrorKind::Timeout | TransportErrorKind::Other)
    }
}
