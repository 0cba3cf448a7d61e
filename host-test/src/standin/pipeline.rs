//! What happens to one request once its body is read: record it, apply a matching fault,
//! check the token, route it, add the configured latency. Also owns the state shared by
//! the server and the `StandIn` handle.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use super::faults::{FaultKind, FaultQueue};
use super::ratelimit::{Verdict, Window};
use super::record::RecordedRequest;
use super::reply::Reply;
use super::routes::{dispatch, OrgConfig};
use super::state::Directory;
use super::time::epoch_secs_after;

/// Everything the server and the test-facing handle share.
pub(crate) struct Shared {
    pub(crate) org_id: String,
    pub(crate) token: String,
    pub(crate) max_invite_batch: usize,
    pub(crate) max_team_update: Option<usize>,
    pub(crate) directory: Mutex<Directory>,
    pub(crate) log: Mutex<Vec<RecordedRequest>>,
    pub(crate) faults: Mutex<FaultQueue>,
    pub(crate) latency: Mutex<Duration>,
    pub(crate) refuse_unknown_fields: AtomicBool,
    /// Requests being processed now, and the most at once so far.
    pub(crate) in_flight: AtomicUsize,
    pub(crate) max_in_flight: AtomicUsize,
    pub(crate) rate_limit: Mutex<Option<Window>>,
}

/// Counts a request in flight from arrival to answer (or drop).
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Locks a mutex even if a panicking request poisoned it: the data is still usable for
/// tests, and one bug should not turn every later request into a second failure.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// How the server should answer.
pub(crate) enum Outcome {
    Reply(Reply),
    /// Send the head at once, then the body one byte every so often.
    Drip(Reply, Duration),
    /// Close the connection without a response.
    Drop,
}

impl Shared {
    /// Whether this request meets an `Unread` fault (asked before its body is read).
    pub(crate) fn take_unread(&self, method: &str, path: &str) -> bool {
        lock(&self.faults).take_unread(method, path)
    }

    pub(crate) fn record(&self, req: RecordedRequest) {
        lock(&self.log).push(req);
    }

    /// Processes a request to completion. Never holds a lock across an `.await`.
    pub(crate) async fn process(&self, mut req: RecordedRequest) -> Outcome {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let _in_flight = InFlight(&self.in_flight);
        let verdict = lock(&self.rate_limit).as_mut().map(Window::admit);
        let limit_headers = match verdict {
            Some(Verdict::Refuse(reply)) => {
                req.fault = Some("rate limited (429)".to_owned());
                self.record(req);
                return Outcome::Reply(reply);
            }
            Some(Verdict::Serve(headers)) => headers,
            None => Vec::new(),
        };
        let outcome = self.process_admitted(req).await;
        match outcome {
            Outcome::Reply(mut reply) => {
                reply.headers.extend(limit_headers);
                Outcome::Reply(reply)
            }
            Outcome::Drip(mut reply, every) => {
                reply.headers.extend(limit_headers);
                Outcome::Drip(reply, every)
            }
            Outcome::Drop => Outcome::Drop,
        }
    }

    async fn process_admitted(&self, mut req: RecordedRequest) -> Outcome {
        let fault = lock(&self.faults).take(&req.method, &req.path);
        req.fault = fault.as_ref().map(FaultKind::describe);
        self.record(req.clone());
        let latency = *lock(&self.latency);

        let outcome = match fault {
            None => Outcome::Reply(self.answer(&req)),
            Some(FaultKind::Drop) => Outcome::Drop,
            Some(FaultKind::Delay { delay }) => {
                tokio::time::sleep(delay).await;
                Outcome::Reply(self.answer(&req))
            }
            // The normal answer is computed under the directory lock, so the change is
            // complete before the connection closes or the 5xx goes out.
            Some(FaultKind::ApplyThenDrop) => {
                self.answer(&req);
                Outcome::Drop
            }
            Some(FaultKind::SpentWindow { reset_after }) => Outcome::Reply(
                self.answer(&req)
                    .with_header("x-ratelimit-remaining", "0")
                    .with_header("x-ratelimit-reset", epoch_secs_after(reset_after).to_string()),
            ),
            Some(FaultKind::Drip { every }) => Outcome::Drip(self.answer(&req), every),
            Some(kind @ FaultKind::ApplyThenServerError { .. }) => {
                let normal = self.answer(&req);
                Outcome::Reply(kind.reply().unwrap_or(normal))
            }
            Some(kind) => match kind.reply() {
                Some(reply) => Outcome::Reply(reply),
                None => Outcome::Reply(self.answer(&req)),
            },
        };
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        outcome
    }

    /// The normal answer: token check, then the API itself.
    fn answer(&self, req: &RecordedRequest) -> Reply {
        let expected = format!("Bearer {}", self.token);
        match req.header("authorization") {
            Some(auth) if auth == expected => {}
            Some(_) => return Reply::error(401, "Invalid API token"),
            None => return Reply::error(401, "Missing Authorization header with a bearer token"),
        }
        let org = OrgConfig {
            id: &self.org_id,
            max_invite_batch: self.max_invite_batch,
            max_team_update: self.max_team_update,
            refuse_unknown_fields: self.refuse_unknown_fields.load(Ordering::Relaxed),
        };
        dispatch(&mut lock(&self.directory), &org, req)
    }
}
