//! What the core needs from the outside world: send a request, tell the
//! time, sleep, and draw a random number for jitter. `sys` implements it on
//! WASI; unit tests implement it with a script.

use crate::http::{Request, Response};
use crate::settings::Timeouts;
use std::time::Duration;

pub trait Io {
    /// Sends one request and reads the response body, refusing bodies larger
    /// than `max_body` bytes.
    fn send(&mut self, request: &Request, timeouts: &Timeouts, max_body: usize) -> Result<Response, TransportError>;
    /// Time since an arbitrary fixed point; never goes backwards.
    fn monotonic(&mut self) -> Duration;
    /// Wall-clock time since the Unix epoch (to read `X-RateLimit-Reset`).
    fn unix_time(&mut self) -> Duration;
    /// Blocks for `duration`.
    fn sleep(&mut self, duration: Duration);
    /// A random number, for backoff jitter.
    fn random(&mut self) -> u64;
}

/// A request that got no HTTP response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportError {
    pub kind: TransportErrorKind,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportErrorKind {
    /// Connection refused, reset or closed early; DNS failure.
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
        matches!(self, TransportErrorKind::Connection | TransportErrorKind::Timeout)
    }
}
