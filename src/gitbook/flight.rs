//! Runs several independent lines of requests at once, within the
//! concurrency setting, the server's rate limit and each operation's
//! deadline.
//!
//! A [`Lane`] is a chain of requests where each depends on the one before
//! (the pages of one list; a team creation's look-up and repeat) or a single
//! request (one step of a plan). Lanes are independent of each other, so the
//! driver keeps up to `settings.concurrency` requests of different lanes in
//! flight; at 1 it is the old serial client, request for request. Each
//! request keeps its own retry loop (attempts, backoff, deadline) and every
//! answer feeds the one shared [`Throttle`].
//!
//! One rule for time. Every lane has a deadline: a request's operation
//! starts its clock when a concurrency place is free for it, and ends at
//! `settings.retry.deadline` later (or at the link's horizon, an incoming
//! route's budget, if that comes first); a lane not yet clocked would get
//! the whole deadline from now. The driver waits for one timer only, the
//! earliest of every lane's wake time (end of a backoff, end of a throttle
//! pause, deadline), as `quinn-proto`'s `Connection::poll_timeout` gives its
//! driver one earliest timer. So:
//! - a request unanswered at its lane's deadline is abandoned (the `Io`
//!   drops it) and the lane ends `deadline-exceeded`;
//! - a throttle pause longer than a lane's max-wait or remaining deadline
//!   fails that lane at once as `rate-limited`, sending nothing;
//! - an unauthorized or forbidden answer stops the run at once: no request
//!   starts after it (look-ups included), no backoff is waited out (a lane
//!   waiting to repeat ends with its last failure), and requests already in
//!   flight end as they end, or at their deadline.
//!
//! Which lanes may run together is decided by the callers (`apply` keeps its
//! stage order; `read_state` runs the member walk beside the team reads);
//! the driver only schedules.
//!
//! For the logs, the driver tells its `Io` of every answer (or failure
//! without one) and of every flight's end ([`Note`]); those two hooks,
//! [`note_answer`] and [`note_landing`], are all `crate::observe` needs.

use super::retry::{self, Decision};
use super::throttle::{Admit, Throttle};
use crate::error::{ApiFailure, Error, FailureKind};
use crate::gitbook::model::error_message;
use crate::http::{Request, Response};
use crate::io::{End, Io, Limits, Note, Ticket, TransportError, TransportErrorKind};
use crate::settings::{RetryPolicy, Settings};
use crate::validate::printable;
use std::collections::HashMap;
use std::time::Duration;

/// How far past a lane's deadline the host's own timeouts may run.
const HOST_TIMEOUT_GRACE: Duration = Duration::from_millis(250);

/// One request of a lane.
pub struct Flight {
    pub operation: &'static str,
    pub request: Request,
    /// Never repeated as is once it may have taken effect (team creation,
    /// the one request that is not idempotent): such a failure lands as
    /// [`Landing::MayRepeat`] and the lane decides what to send next.
    pub checked: bool,
    /// Not sent before this monotonic time.
    pub after: Option<Duration>,
    /// Part of an operation under way, which keeps its clock; `None`: a new
    /// operation.
    pub within: Option<Within>,
}

impl Flight {
    /// A request that starts an operation of its own.
    pub fn new(operation: &'static str, request: Request) -> Flight {
        Flight { operation, request, checked: false, after: None, within: None }
    }
}

/// An operation's clock, carried from one request of a lane to the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Within {
    /// When the operation started (monotonic).
    pub started: Duration,
    /// When it must be over (monotonic).
    pub deadline: Duration,
    /// Requests of this kind made so far (the retry policy's attempts).
    pub attempts: u32,
    /// Whether one of them may have taken effect unseen.
    pub uncertain: bool,
}

/// How a flight ended.
pub enum Landing {
    /// A 2xx answer, after `attempts` requests over `elapsed`.
    Answered { response: Response, attempts: u32, elapsed: Duration },
    /// The flight's error: its last failure, a deadline, a pause too long.
    Failed(Error),
    /// A checked flight failed in a way that may pass, and may have taken
    /// effect: the lane looks before it repeats. Nothing before
    /// `retry_at`; the operation goes on `within` its clock. `error` is
    /// the failure so far, the lane's result if it goes no further.
    MayRepeat { error: Error, retry_at: Duration, within: Within },
}

/// A chain of requests, one in flight at a time.
pub trait Lane {
    /// The next request, or `None` when the lane is finished. Called again
    /// after each landing, never while a flight is out.
    fn next(&mut self, settings: &Settings) -> Option<Flight>;
    /// The end of the flight `next` returned.
    fn land(&mut self, settings: &Settings, landing: Landing);
}

/// What the runs of one client share: the transport, the server's rate
/// limit as answers tell it, and the latest time any operation may end.
pub struct Link<I: Io> {
    pub io: I,
    pub throttle: Throttle,
    /// No lane's deadline is later than this (an incoming route's budget).
    pub horizon: Option<Duration>,
}

/// Why an attempt failed, before deciding whether to try again.
struct Attempt {
    kind: FailureKind,
    status: Option<u16>,
    message: String,
    retryable: bool,
    /// The request may have reached the server and taken effect.
    may_have_arrived: bool,
    server_wait: Option<Duration>,
}

enum Stage {
    /// Waiting for a free place (concurrency, rate limit).
    Ready,
    /// Not before this monotonic time (a backoff, or the flight's `after`).
    Wait(Duration),
    InFlight(Ticket),
}

/// A lane's current flight.
struct Slot {
    operation: &'static str,
    request: Request,
    checked: bool,
    /// `(started, deadline)`; `None` until a concurrency place is free for it.
    clock: Option<(Duration, Duration)>,
    attempts: u32,
    uncertain: bool,
    stage: Stage,
    /// The last failed attempt, reported if no later one is made.
    last: Option<Attempt>,
}

impl<I: Io> Link<I> {
    pub fn new(io: I) -> Link<I> {
        Link { io, throttle: Throttle::default(), horizon: None }
    }

    /// The deadline of an operation starting at `now`.
    fn deadline_from(&self, now: Duration, policy: &RetryPolicy) -> Duration {
        let deadline = now.saturating_add(policy.deadline);
        self.horizon.map_or(deadline, |h| deadline.min(h))
    }

    /// Runs every lane to its end. Results land in the lanes; a lane whose
    /// flight was never attempted because the run stopped holds none for it.
    pub fn run(&mut self, settings: &Settings, lanes: &mut [&mut dyn Lane]) {
        let policy = &settings.retry;
        let cap = settings.concurrency.get() as usize;
        let start = self.io.monotonic();
        // A pause an earlier operation learned counts only if this one could wait it out.
        let horizon = self.deadline_from(start, policy).min(start.saturating_add(policy.max_wait));
        self.throttle.forget_beyond(horizon);
        let mut slots: Vec<Option<Slot>> = lanes.iter().map(|_| None).collect();
        let mut finished = vec![false; lanes.len()];
        let mut flying: HashMap<Ticket, usize> = HashMap::new();
        let mut stop = false;
        loop {
            // New flights, each with its clock when it continues an operation.
            if !stop {
                for (i, lane) in lanes.iter_mut().enumerate() {
                    if slots[i].is_some() || finished[i] {
                        continue;
                    }
                    match lane.next(settings) {
                        Some(flight) => slots[i] = Some(Slot::new(flight, self.io.monotonic())),
                        None => finished[i] = true,
                    }
                }
            }

            // Times that have come: deadlines first, then waits that are over.
            // A lane that lands here may have its next request ready at once.
            let mut landed = false;
            let now = self.io.monotonic();
            for i in 0..lanes.len() {
                let Some(slot) = &mut slots[i] else { continue };
                let expired = slot.clock.is_some_and(|(_, deadline)| now >= deadline);
                match slot.stage {
                    Stage::InFlight(ticket) if expired => {
                        self.io.abandon(ticket);
                        flying.remove(&ticket);
                        slot.uncertain = true;
                        let landing = Landing::Failed(slot.deadline_exceeded(settings, now, true));
                        note_landing(&mut self.io, slot, now, &landing);
                        slots[i] = None;
                        lanes[i].land(settings, landing);
                        landed = true;
                    }
                    Stage::Wait(_) | Stage::Ready if expired => {
                        let landing = Landing::Failed(slot.deadline_exceeded(settings, now, false));
                        note_landing(&mut self.io, slot, now, &landing);
                        slots[i] = None;
                        lanes[i].land(settings, landing);
                        landed = true;
                    }
                    Stage::Wait(until) if stop || until <= now => slot.stage = Stage::Ready,
                    _ => {}
                }
            }

            // Start what may start, in lane order; fail at once what a pause
            // would hold past its bounds.
            let mut places = cap.saturating_sub(flying.len());
            let mut timer: Option<Duration> = None;
            for i in 0..lanes.len() {
                let Some(slot) = &mut slots[i] else { continue };
                if matches!(slot.stage, Stage::InFlight(_)) {
                    continue;
                }
                if stop {
                    // No request starts after a stop, and no wait is waited out.
                    let slot = slots[i].take().expect("a slot");
                    if slot.last.is_some() {
                        let landing = Landing::Failed(slot.give_up(settings, now));
                        note_landing(&mut self.io, &slot, now, &landing);
                        lanes[i].land(settings, landing);
                    }
                    continue;
                }
                let deadline = slot.clock.map_or_else(|| self.deadline_from(now, policy), |(_, d)| d);
                if now >= deadline {
                    // The horizon (an incoming route's budget) has passed: nothing is sent.
                    let landing = Landing::Failed(slot.deadline_exceeded(settings, now, false));
                    note_landing(&mut self.io, slot, now, &landing);
                    slots[i] = None;
                    lanes[i].land(settings, landing);
                    landed = true;
                    continue;
                }
                let admit = self.throttle.admit(now, flying.len());
                if let Admit::Until(at) = admit {
                    let wait = at.saturating_sub(now);
                    let too_long = if wait > policy.max_wait {
                        Some(format!("longer than the max-wait of {}", seconds(policy.max_wait)))
                    } else if at > deadline {
                        Some(format!("past the deadline, {} away", seconds(deadline.saturating_sub(now))))
                    } else {
                        None
                    };
                    if let Some(why) = too_long {
                        let landing = Landing::Failed(slot.paused_out(settings, now, wait, &why));
                        note_landing(&mut self.io, slot, now, &landing);
                        slots[i] = None;
                        lanes[i].land(settings, landing);
                        landed = true;
                        continue;
                    }
                }
                if let Stage::Wait(until) = slot.stage {
                    timer = earliest(timer, until);
                    continue;
                }
                if places == 0 {
                    continue;
                }
                places -= 1;
                let (_, deadline) = *slot.clock.get_or_insert((now, deadline));
                match admit {
                    Admit::Until(at) => {
                        timer = earliest(timer, at);
                        continue;
                    }
                    Admit::Answer => continue,
                    Admit::Go => {}
                }
                // No single request outlives the operation's deadline: the
                // driver abandons it then. The host's timeouts are capped a
                // little past it, a backstop that does not race the deadline
                // (so a request cut by it reads `deadline-exceeded`).
                let remaining = deadline.saturating_sub(now).saturating_add(HOST_TIMEOUT_GRACE);
                let limits = Limits {
                    timeouts: settings.timeouts.capped_at(remaining),
                    max_body: settings.max_response_bytes,
                    deadline,
                };
                let ticket = self.io.start(&slot.request, &limits);
                flying.insert(ticket, i);
                self.throttle.started();
                slot.attempts += 1;
                slot.stage = Stage::InFlight(ticket);
            }

            if slots.iter().all(Option::is_none) {
                if stop || finished.iter().all(|f| *f) {
                    return;
                }
                continue;
            }
            if landed && !stop {
                continue;
            }
            for slot in slots.iter().flatten() {
                if let Some((_, deadline)) = slot.clock {
                    timer = earliest(timer, deadline);
                }
            }
            if flying.is_empty() && timer.is_none() {
                // Unreachable by construction: a ready request with nothing
                // in flight is either started or clocked. Fail loudly rather
                // than block forever.
                debug_assert!(false, "nothing to wait for");
                timer = Some(now + Duration::from_millis(1));
            }

            let Some((ticket, result)) = self.io.wait(timer) else { continue };
            // An answer to a request already abandoned is dropped.
            let Some(i) = flying.remove(&ticket) else { continue };
            let now = self.io.monotonic();
            let unix = self.io.unix_time();
            if let Ok(response) = &result {
                self.throttle.observe(response, flying.len(), now, unix);
            }
            let slot = slots[i].as_mut().expect("a lane in flight has its slot");
            let (started, deadline) = slot.clock.expect("a request in flight is clocked");
            let elapsed = now.saturating_sub(started);
            let attempt = match classify(result, unix) {
                Ok(response) => {
                    note_answer(&mut self.io, ticket, slot, Some(response.status), None, None);
                    let landing = Landing::Answered { response, attempts: slot.attempts, elapsed };
                    note_landing(&mut self.io, slot, now, &landing);
                    slots[i] = None;
                    lanes[i].land(settings, landing);
                    continue;
                }
                Err(attempt) => attempt,
            };
            slot.uncertain |= attempt.may_have_arrived;
            // The retry policy, with the deadline this lane actually has.
            let bounds = RetryPolicy { deadline: deadline.saturating_sub(started), ..*policy };
            let decision = retry::decide(
                &bounds,
                slot.attempts,
                elapsed,
                attempt.retryable,
                attempt.server_wait,
                self.io.random(),
            );
            let retry_in = match decision {
                Decision::Retry(wait) if !stop => Some(wait),
                _ => None,
            };
            note_answer(&mut self.io, ticket, slot, attempt.status, Some(&attempt.message), retry_in);
            slot.last = Some(attempt);
            match decision {
                Decision::Retry(wait) if !stop => {
                    let retry_at = now.saturating_add(wait);
                    if slot.checked && slot.uncertain {
                        let slot = slots[i].take().expect("in flight");
                        let within = Within { started, deadline, attempts: slot.attempts, uncertain: slot.uncertain };
                        let landing = Landing::MayRepeat { error: slot.give_up(settings, now), retry_at, within };
                        note_landing(&mut self.io, &slot, now, &landing);
                        lanes[i].land(settings, landing);
                    } else {
                        slot.stage = Stage::Wait(retry_at);
                    }
                }
                Decision::Retry(_) | Decision::GiveUp { .. } => {
                    let slot = slots[i].take().expect("in flight");
                    let error = slot.give_up(settings, now);
                    stop |= stops_the_run(&error);
                    let landing = Landing::Failed(error);
                    note_landing(&mut self.io, &slot, now, &landing);
                    lanes[i].land(settings, landing);
                }
            }
        }
    }
}

/// Tells the `Io` (for the debug log) how one attempt of a slot's flight
/// ended, and when the next one will be made.
fn note_answer<I: Io>(
    io: &mut I,
    ticket: Ticket,
    slot: &Slot,
    status: Option<u16>,
    failure: Option<&str>,
    retry_in: Option<Duration>,
) {
    let (operation, request, attempt) = (slot.operation, &slot.request, slot.attempts);
    io.observe(&Note::Answered { ticket, operation, request, attempt, status, failure, retry_in });
}

/// Tells the `Io` (for the audit log) how a slot's flight ended. A
/// `MayRepeat` ends the flight sent so far: its effect is unknown, and
/// whatever the lane sends next is a flight of its own.
fn note_landing<I: Io>(io: &mut I, slot: &Slot, now: Duration, landing: &Landing) {
    let end = match landing {
        Landing::Answered { response, .. } => End::Answered(response.status),
        Landing::Failed(error) => End::Failed { error, unknown: error.effect_unknown() },
        Landing::MayRepeat { error, .. } => End::Failed { error, unknown: true },
    };
    let (operation, request, attempts, elapsed) = (slot.operation, &slot.request, slot.attempts, slot.elapsed(now));
    io.observe(&Note::Landed { operation, request, attempts, elapsed, end });
}

fn earliest(timer: Option<Duration>, at: Duration) -> Option<Duration> {
    Some(timer.map_or(at, |t| t.min(at)))
}

fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

impl Slot {
    fn new(flight: Flight, now: Duration) -> Slot {
        let (clock, attempts, uncertain) = match flight.within {
            Some(w) => (Some((w.started, w.deadline)), w.attempts, w.uncertain),
            None => (None, 0, false),
        };
        let stage = match flight.after {
            Some(at) if at > now => Stage::Wait(at),
            _ => Stage::Ready,
        };
        Slot {
            operation: flight.operation,
            request: flight.request,
            checked: flight.checked,
            clock,
            attempts,
            uncertain,
            stage,
            last: None,
        }
    }

    fn elapsed(&self, now: Duration) -> Duration {
        self.clock.map_or(Duration::ZERO, |(started, _)| now.saturating_sub(started))
    }

    /// Whether what is known of this flight leaves its effect unknown: an
    /// attempt may have arrived, and no later answer settled it.
    fn effect_unknown(&self) -> bool {
        self.uncertain && self.last.as_ref().is_none_or(|last| last.retryable)
    }

    /// The error a flight ends with: its last failed attempt.
    fn give_up(&self, settings: &Settings, now: Duration) -> Error {
        let attempt = self.last.as_ref().expect("a flight gives up after a failed attempt");
        failure(
            settings,
            self.operation,
            attempt.kind,
            attempt.status,
            attempt.message.clone(),
            self.attempts,
            self.elapsed(now),
            attempt.server_wait,
        )
        .unknown_if(self.effect_unknown())
    }

    /// The deadline passed: with a request in flight (`abandoned`), or
    /// before the next attempt.
    fn deadline_exceeded(&self, settings: &Settings, now: Duration, abandoned: bool) -> Error {
        let within = seconds(self.elapsed(now));
        let message = match (&self.last, abandoned) {
            (_, true) => format!("no complete answer within the deadline ({within}); the request was abandoned"),
            (Some(last), false) => {
                format!("the deadline ({within}) came before the request could be repeated; last: {}", last.message)
            }
            (None, false) => format!("the deadline ({within}) came before the request could be sent"),
        };
        let status = if abandoned { None } else { self.last.as_ref().and_then(|l| l.status) };
        failure(
            settings,
            self.operation,
            FailureKind::DeadlineExceeded,
            status,
            message,
            self.attempts,
            self.elapsed(now),
            None,
        )
        .unknown_if(self.effect_unknown())
    }

    /// A shared rate-limit pause of `wait` that this flight may not wait.
    fn paused_out(&self, settings: &Settings, now: Duration, wait: Duration, why: &str) -> Error {
        let message = format!(
            "GitBook's rate limit holds new requests for {}, {why}; {}",
            seconds(wait),
            if self.attempts == 0 { "not sent" } else { "not repeated" }
        );
        let status = self.last.as_ref().and_then(|l| l.status);
        failure(
            settings,
            self.operation,
            FailureKind::RateLimited,
            status,
            message,
            self.attempts,
            self.elapsed(now),
            Some(wait),
        )
        .unknown_if(self.effect_unknown())
    }
}

/// Whether an error ends the run: every later request would fail the same way.
pub fn stops_the_run(error: &Error) -> bool {
    matches!(error.kind(), Some(FailureKind::Unauthorized | FailureKind::Forbidden))
}

/// An operation's failure, with the token redacted from the message: a
/// server that echoes the request must not make us print it.
#[allow(clippy::too_many_arguments)]
pub fn failure(
    settings: &Settings,
    operation: &'static str,
    kind: FailureKind,
    status: Option<u16>,
    message: String,
    attempts: u32,
    elapsed: Duration,
    retry_after: Option<Duration>,
) -> Error {
    Error::Api(
        kind,
        ApiFailure {
            operation,
            status,
            message: settings.token.redact(&message),
            attempts,
            elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            retry_after_ms: retry_after.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            effect_unknown: false,
        },
    )
}

/// A 2xx response, or why the attempt failed and whether it may be repeated.
fn classify(result: Result<Response, TransportError>, unix_now: Duration) -> Result<Response, Attempt> {
    match result {
        Ok(response) if (200..300).contains(&response.status) => Ok(response),
        Ok(response) if (300..400).contains(&response.status) => Err(Attempt {
            kind: FailureKind::InvalidResponse,
            status: Some(response.status),
            message: format!(
                "GitBook answered with a redirect to {}; redirects are not followed, \
                 so the token is never sent elsewhere",
                printable(response.header("location").unwrap_or("nowhere"))
            ),
            retryable: false,
            may_have_arrived: false,
            server_wait: None,
        }),
        Ok(response) => {
            let message = error_message(&response.body).unwrap_or_else(|| {
                let body = String::from_utf8_lossy(&response.body);
                if body.trim().is_empty() {
                    format!("HTTP {} with an empty body", response.status)
                } else {
                    format!(
                        "HTTP {} with a body that is not a GitBook error: {}",
                        response.status,
                        printable(body.trim())
                    )
                }
            });
            Err(Attempt {
                kind: FailureKind::from_status(response.status),
                status: Some(response.status),
                message,
                retryable: retry::is_retryable_status(response.status),
                // A 5xx may come after the server acted; a 4xx says it did not.
                may_have_arrived: response.status >= 500,
                server_wait: retry::server_wait(&response, unix_now),
            })
        }
        Err(error) => Err(Attempt {
            kind: match error.kind {
                TransportErrorKind::BodyTooLarge => FailureKind::InvalidResponse,
                _ => FailureKind::Transport,
            },
            status: None,
            message: error.message,
            retryable: error.kind.is_retryable(),
            may_have_arrived: error.kind.may_have_arrived(),
            server_wait: None,
        }),
    }
}
