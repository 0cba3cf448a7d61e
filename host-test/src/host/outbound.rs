//! The outbound allow-list: the guest may reach only the authorities the
//! embedder configured, so a hostile `next.page`, a redirect or a wrong base
//! URL cannot carry the token elsewhere. Timeouts the guest asks for are
//! capped by the host, and by what is left of the call's deadline: epoch
//! interruption only stops guest code, so without that cap a server that
//! never answers would hold a guest blocked in host I/O past the deadline.
//!
//! Requests in flight are capped per call: the guest's concurrency setting
//! is a wish, and a request waits here for a place (held until its response
//! body is dropped) before it is sent.
//!
//! Every response body is counted as the guest pulls it (see
//! [`CountingBody`]), so tests can check how much of a huge answer a guest
//! actually read rather than what the server managed to push into sockets.

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

pub struct OutboundPolicy {
    allowed: Vec<String>,
    max_timeout: Duration,
    /// When the call must be over; `None`: no deadline beyond `max_timeout`.
    deadline: Option<Instant>,
    /// Response-body bytes handed to the guest so far, over every request.
    body_bytes: Arc<AtomicU64>,
    /// Places for requests in flight.
    in_flight: Arc<Semaphore>,
}

impl OutboundPolicy {
    pub fn new(allowed: Vec<String>, max_timeout: Duration) -> OutboundPolicy {
        let allowed = allowed.into_iter().map(|a| a.to_ascii_lowercase()).collect();
        OutboundPolicy {
            allowed,
            max_timeout,
            deadline: None,
            body_bytes: Arc::default(),
            in_flight: Arc::new(Semaphore::new(Semaphore::MAX_PERMITS)),
        }
    }

    /// At most `n` requests of this call in flight at once (at least 1).
    pub fn in_flight_at_most(self, n: usize) -> OutboundPolicy {
        OutboundPolicy { in_flight: Arc::new(Semaphore::new(n.clamp(1, Semaphore::MAX_PERMITS))), ..self }
    }

    /// Response-body bytes the guest has taken so far (what it read, plus at
    /// most the one frame wasmtime-wasi-http buffers for its next read).
    pub fn response_body_bytes(&self) -> u64 {
        self.body_bytes.load(Ordering::Relaxed)
    }

    /// No request may wait past `deadline` (the end of the call).
    pub fn until(self, deadline: Option<Instant>) -> OutboundPolicy {
        OutboundPolicy { deadline, ..self }
    }

    /// `host:port` of a request, with the scheme's default port filled in.
    fn authority_of(request: &http::Request<WasiBody>) -> Option<String> {
        let uri = request.uri();
        let authority = uri.authority()?;
        let port = authority.port_u16().unwrap_or(if uri.scheme_str() == Some("http") { 80 } else { 443 });
        Some(format!("{}:{port}", authority.host().to_ascii_lowercase()))
    }

    pub fn allows(&self, authority: &str) -> bool {
        self.allowed.iter().any(|allowed| allowed == authority)
    }

    /// The timeouts a request gets at `now`; `None` once the deadline has passed.
    fn cap(&self, options: Option<RequestOptions>, now: Instant) -> Option<RequestOptions> {
        let limit = match self.deadline {
            Some(deadline) => self.max_timeout.min(deadline.checked_duration_since(now).filter(|d| !d.is_zero())?),
            None => self.max_timeout,
        };
        let cap = |d: Option<Duration>| Some(d.map_or(limit, |d| d.min(limit)));
        let options = options.unwrap_or_default();
        Some(RequestOptions {
            connect_timeout: cap(options.connect_timeout),
            first_byte_timeout: cap(options.first_byte_timeout),
            between_bytes_timeout: cap(options.between_bytes_timeout),
        })
    }
}

type ResponseFuture = Box<
    dyn std::future::Future<
            Output = Result<
                (http::Response<WasiBody>, Box<dyn std::future::Future<Output = Result<(), Error>> + Send>),
                Error,
            >,
        > + Send,
>;

impl WasiHttpHooks for OutboundPolicy {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn std::future::Future<Output = Result<(), Error>> + Send>,
    ) -> ResponseFuture {
        _ = fut;
        let allowed = Self::authority_of(&request).is_some_and(|a| self.allows(&a));
        let options = self.cap(options, Instant::now());
        let counter = self.body_bytes.clone();
        let places = self.in_flight.clone();
        Box::new(async move {
            if !allowed {
                return Err(Error::HttpRequestDenied);
            }
            // The semaphore is never closed, so acquiring only waits.
            let place = places.acquire_owned().await.map_err(|_| Error::HttpRequestDenied)?;
            // Past the deadline the call's outcome is already the host's
            // (see `deadline.rs`); this answer only has to release the guest.
            let Some(options) = options else { return Err(Error::ConnectionTimeout) };
            let (response, io) = wasmtime_wasi_http::default_send_request(request, Some(options)).await?;
            Ok((
                response.map(|body| {
                    CountingBody { inner: body.boxed_unsync(), count: counter, _place: place }.boxed_unsync()
                }),
                Box::new(io) as Box<dyn std::future::Future<Output = Result<(), Error>> + Send>,
            ))
        })
    }
}

/// A response body that adds the size of every data frame to `count` as it
/// is pulled. wasmtime-wasi-http pulls one frame at a time, when the guest
/// reads (or polls) the body stream, so the count is what the guest read plus
/// at most one frame.
struct CountingBody {
    inner: WasiBody,
    count: Arc<AtomicU64>,
    /// The request's place among those in flight, given back with the body.
    _place: OwnedSemaphorePermit,
}

impl Body for CountingBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                self.count.fetch_add(data.len() as u64, Ordering::Relaxed);
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asking(seconds: u64) -> Option<RequestOptions> {
        let d = Some(Duration::from_secs(seconds));
        Some(RequestOptions { connect_timeout: d, first_byte_timeout: d, between_bytes_timeout: d })
    }

    fn timeouts(options: RequestOptions) -> [Option<Duration>; 3] {
        [options.connect_timeout, options.first_byte_timeout, options.between_bytes_timeout]
    }

    #[test]
    fn the_guest_s_timeouts_are_cut_to_the_host_s_longest() {
        let policy = OutboundPolicy::new(vec![], Duration::from_secs(60));
        let now = Instant::now();
        assert_eq!(timeouts(policy.cap(asking(600), now).unwrap()), [Some(Duration::from_secs(60)); 3]);
        assert_eq!(timeouts(policy.cap(asking(5), now).unwrap()), [Some(Duration::from_secs(5)); 3]);
        assert_eq!(timeouts(policy.cap(None, now).unwrap()), [Some(Duration::from_secs(60)); 3], "none means the cap");
    }

    #[test]
    fn no_request_may_wait_past_the_call_s_deadline() {
        let now = Instant::now();
        let policy = OutboundPolicy::new(vec![], Duration::from_secs(60)).until(Some(now + Duration::from_secs(2)));
        assert_eq!(timeouts(policy.cap(asking(30), now).unwrap()), [Some(Duration::from_secs(2)); 3]);
        let later = now + Duration::from_millis(1_500);
        assert_eq!(timeouts(policy.cap(asking(30), later).unwrap()), [Some(Duration::from_millis(500)); 3]);
        assert!(policy.cap(asking(30), now + Duration::from_secs(2)).is_none(), "at the deadline: no request");
        assert!(policy.cap(asking(30), now + Duration::from_secs(3)).is_none(), "past it: none either");
    }
}
