//! The network side: a hyper HTTP/1.1 server on 127.0.0.1, run by its own two-worker tokio
//! runtime on a dedicated thread so tests can stay synchronous (or run their own runtime)
//! without the stand-in competing for it.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::{HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Notify};

use super::pipeline::{Outcome, Shared};
use super::record::RecordedRequest;
use super::reply::Reply;

/// Bodies larger than this are refused with 413 (the largest real request, 1000 invites,
/// is well under 100 KiB).
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// A running server; dropping it stops the server and joins its thread.
pub(crate) struct Server {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds `127.0.0.1:port` (0 = an ephemeral port) and starts serving. Binding and
    /// runtime creation happen on the caller's thread so their errors are returned here
    /// rather than lost.
    pub(crate) fn start(shared: Arc<Shared>, port: u16) -> anyhow::Result<Server> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))
            .map_err(|e| anyhow::anyhow!("cannot bind 127.0.0.1:{port}: {e}"))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("gitbook-standin-worker")
            .enable_all()
            .build()?;
        let (shutdown, shutdown_rx) = oneshot::channel();
        let thread = std::thread::Builder::new().name("gitbook-standin".into()).spawn(move || {
            runtime.block_on(accept_loop(listener, shared, shutdown_rx));
            // Open connections and in-flight requests are simply dropped.
            runtime.shutdown_timeout(Duration::from_secs(2));
        })?;
        Ok(Server { addr, shutdown: Some(shutdown), thread: Some(thread) })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Server {
    /// Stops accepting, drops open connections and joins the thread. Idempotent.
    pub(crate) fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            // An error only means the loop is already gone.
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn accept_loop(listener: std::net::TcpListener, shared: Arc<Shared>, mut shutdown: oneshot::Receiver<()>) {
    let listener = match TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("gitbook stand-in: cannot register listener: {e}");
            return;
        }
    };
    loop {
        tokio::select! {
            // Fires on send and when the sender is dropped: either way, stop.
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(serve_connection(stream, Arc::clone(&shared)));
                }
                // E.g. out of file descriptors: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
    }
}

async fn serve_connection(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    // A `Drop` fault signals here; the select below then drops the hyper connection,
    // which closes the socket before any response byte is written.
    let hang_up = Arc::new(Notify::new());
    let service = {
        let hang_up = Arc::clone(&hang_up);
        service_fn(move |req| handle(Arc::clone(&shared), Arc::clone(&hang_up), req))
    };
    let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        // Connection errors (client resets, malformed requests) are the client's concern.
        _ = conn => {}
        _ = hang_up.notified() => {}
    }
}

type ResponseBody = BoxBody<Bytes, Infallible>;

async fn handle(
    shared: Arc<Shared>,
    hang_up: Arc<Notify>,
    req: Request<Incoming>,
) -> Result<Response<ResponseBody>, Infallible> {
    let (parts, body) = req.into_parts();
    let mut recorded = RecordedRequest {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (k.as_str().to_ascii_lowercase(), value)
            })
            .collect(),
        body: Vec::new(),
        fault: None,
    };
    if shared.take_unread(&recorded.method, &recorded.path) {
        // Hold the body unread, and answer nothing, until the client gives up.
        recorded.fault = Some("request body never read".to_owned());
        shared.record(recorded);
        let _unread = body;
        return std::future::pending().await;
    }
    match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => recorded.body = collected.to_bytes().to_vec(),
        Err(e) => {
            let reply = if e.downcast_ref::<LengthLimitError>().is_some() {
                Reply::error(413, format!("Request body over {MAX_BODY_BYTES} bytes"))
            } else {
                Reply::bad_request(format!("Could not read the request body: {e}"))
            };
            shared.record(recorded);
            return Ok(to_response(reply));
        }
    }
    // Processed in its own task so a client hanging up mid-delay cannot cancel it half-way:
    // once a request is received it is applied in full, as a real server would.
    let task = tokio::spawn(async move { shared.process(recorded).await });
    let reply = match task.await {
        Ok(Outcome::Reply(reply)) => reply,
        Ok(Outcome::Drip(reply, every)) => {
            let body = Bytes::from(reply.body.clone());
            let mut response = to_response(reply);
            *response.body_mut() = Drip { body, sent: 0, every, sleep: None }.boxed();
            return Ok(response);
        }
        Ok(Outcome::Drop) => {
            hang_up.notify_one();
            return std::future::pending().await;
        }
        Err(e) => Reply::error(500, format!("GitBook stand-in failed: {e}")),
    };
    Ok(to_response(reply))
}

/// A body sent one byte every `every`, as a server (or a network) that trickles.
struct Drip {
    body: Bytes,
    sent: usize,
    every: Duration,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Body for Drip {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.sent >= self.body.len() {
            return Poll::Ready(None);
        }
        let every = self.every;
        let sleep = self.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep(every)));
        if sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.sleep = None;
        let byte = self.body.slice(self.sent..self.sent + 1);
        self.sent += 1;
        Poll::Ready(Some(Ok(Frame::data(byte))))
    }

    fn is_end_stream(&self) -> bool {
        self.sent >= self.body.len()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact((self.body.len() - self.sent) as u64)
    }
}

fn to_response(reply: Reply) -> Response<ResponseBody> {
    let mut response = Response::new(Full::new(Bytes::from(reply.body)).boxed());
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in reply.headers {
        // Only fault rules carry free-form headers; silently skip ones HTTP cannot carry.
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(&value)) {
            response.headers_mut().append(name, value);
        }
    }
    response
}
