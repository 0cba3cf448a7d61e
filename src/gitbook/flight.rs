//! Runs several independent lines of requests at once, within the
//! concurrency setting and the server's rate limit.
//!
//! A [`Lane`] is a chain of requests where each depends on the one before
//! (the pages of one list) or a single request (one step of a plan). Lanes
//! are independent of each other, so the driver keeps up to
//! `settings.concurrency` requests of different lanes in flight; at 1 it is
//! the old serial client, request for request. Each request keeps its own
//! retry loop (attempts, backoff, deadline) and every answer feeds the one
//! shared [`Throttle`]. An unauthorized or forbidden answer stops new
//! requests (every later one would fail the same way); those in flight
//! finish and land in their lanes.
//!
//! Which lanes may run together is decided by the callers (`apply` keeps its
//! stage order; `read_state` runs the member walk beside the team reads);
//! the driver only schedules.

use super::client::{failure, Client};
use super::retry::{self, Decision};
use super::throttle::Admit;
use crate::error::{Error, FailureKind};
use crate::gitbook::model::error_message;
use crate::http::{Request, Response};
use crate::io::{End, Io, Note, Ticket, TransportError, TransportErrorKind};
use crate::settings::Settings;
use crate::validate::printable;
use std::time::Duration;

/// One request of a lane.
pub struct Flight {
    pub operation: &'static str,
    pub request: Request,
}

/// How a flight ended, when it did not fail.
pub enum Landing {
    /// A 2xx answer, after `attempts` requests over `elapsed`.
    Answered { response: Response, attempts: u32, elapsed: Duration },
    /// The check before a repeat ([`Lane::settled`]) found that the request
    /// had already taken effect.
    Settled,
}

/// A chain of requests, one in flight at a time.
pub trait Lane<I: Io> {
    /// The next request, or `None` when the lane is finished.
    fn next(&mut self, settings: &Settings) -> Option<Flight>;
    /// The end of the flight `next` returned.
    fn land(&mut self, settings: &Settings, landing: Result<Landing, Error>);
    /// Before a repeat of a request that may have taken effect although its
    /// answer was lost: whether it did (then it lands as
    /// [`Landing::Settled`]). Only a non-idempotent request needs this.
    fn settled(&mut self, _client: &mut Client<'_, I>) -> Result<bool, Error> {
        Ok(false)
    }
}

/// Why an attempt failed, before deciding whether to try again.
struct Attempt {
    kind: FailureKind,
    status: Option<u16>,
    message: String,
    retryable: bool,
    server_wait: Option<Duration>,
}

enum Stage {
    /// Waiting for a free place (concurrency, rate limit).
    Ready,
    InFlight(Ticket),
    /// Waiting until this monotonic time before the next attempt.
    Backoff(Duration),
}

/// A lane's current flight.
struct Slot {
    flight: Flight,
    /// When the first attempt started: the deadline counts from there.
    started: Option<Duration>,
    attempts: u32,
    stage: Stage,
    /// The last failed attempt, reported if no later one is made.
    last: Option<Attempt>,
}

impl<I: Io> Client<'_, I> {
    /// Runs every lane to its end. Results land in the lanes; a lane that
    /// never started because the run stopped holds none.
    pub fn run(&mut self, lanes: &mut [&mut dyn Lane<I>]) {
        let settings = self.settings;
        let cap = settings.concurrency.get() as usize;
        let mut slots: Vec<Option<Slot>> = lanes.iter().map(|_| None).collect();
        let mut finished = vec![false; lanes.len()];
        let mut stop = false;
        loop {
            for (i, lane) in lanes.iter_mut().enumerate() {
                if slots[i].is_none() && !finished[i] {
                    match lane.next(settings).filter(|_| !stop) {
                        Some(flight) => {
                            slots[i] =
                                Some(Slot { flight, started: None, attempts: 0, stage: Stage::Ready, last: None })
                        }
                        None => finished[i] = true,
                    }
                }
            }

            // Waits that are over: check (for requests that need it), then queue.
            for i in 0..lanes.len() {
                let due = match &slots[i] {
                    Some(Slot { stage: Stage::Backoff(until), .. }) => *until <= self.io.monotonic(),
                    _ => false,
                };
                if !due {
                    continue;
                }
                match lanes[i].settled(self) {
                    Ok(false) if !stop => slots[i].as_mut().expect("due").stage = Stage::Ready,
                    Ok(false) => {
                        let slot = slots[i].take().expect("due");
                        let error = self.give_up(&slot, None);
                        self.land(&mut *lanes[i], slot, Err(error));
                    }
                    Ok(true) => {
                        let slot = slots[i].take().expect("due");
                        self.land(&mut *lanes[i], slot, Ok(Landing::Settled));
                    }
                    Err(error) => {
                        stop |= stops_the_run(&error);
                        let slot = slots[i].take().expect("due");
                        self.land(&mut *lanes[i], slot, Err(error));
                    }
                }
            }

            // Start what may start, in lane order.
            let mut timer: Option<Duration> = None;
            for i in 0..lanes.len() {
                let Some(slot) = &mut slots[i] else { continue };
                if !matches!(slot.stage, Stage::Ready) {
                    continue;
                }
                let now = self.io.monotonic();
                let elapsed = slot.started.map_or(Duration::ZERO, |s| now.saturating_sub(s));
                if stop && slot.attempts == 0 {
                    // Never attempted: the lane keeps no result.
                    slots[i] = None;
                    continue;
                }
                if stop || (slot.attempts > 0 && elapsed >= settings.retry.deadline) {
                    // A repeat that can no longer be made: its last failure stands.
                    let slot = slots[i].take().expect("ready");
                    let error = self.give_up(&slot, Some(elapsed));
                    self.land(&mut *lanes[i], slot, Err(error));
                    continue;
                }
                if self.in_flight >= cap {
                    break;
                }
                match self.throttle.admit(now, self.in_flight) {
                    Admit::Go => {}
                    Admit::Until(at) => {
                        timer = Some(timer.map_or(at, |t| t.min(at)));
                        break;
                    }
                    Admit::Answer => break,
                }
                // No single request may outlive the operation's deadline.
                let remaining = settings.retry.deadline.saturating_sub(elapsed);
                let timeouts = settings.timeouts.capped_at(remaining.max(Duration::from_millis(1)));
                let ticket = self.io.start(&slot.flight.request, &timeouts, settings.max_response_bytes);
                self.in_flight += 1;
                self.throttle.started();
                slot.started.get_or_insert(now);
                slot.attempts += 1;
                slot.stage = Stage::InFlight(ticket);
            }

            if slots.iter().all(Option::is_none) {
                if finished.iter().all(|f| *f) {
                    return;
                }
                continue;
            }
            for slot in slots.iter().flatten() {
                if let Stage::Backoff(until) = slot.stage {
                    timer = Some(timer.map_or(until, |t| t.min(until)));
                }
            }

            // The next answer of ours: one that arrived during a nested run
            // (a check before a repeat), or the next from the I/O.
            let ours = |ticket: Ticket| {
                slots.iter().position(|s| matches!(s, Some(Slot { stage: Stage::InFlight(t), .. }) if *t == ticket))
            };
            let answer = match self.stash.iter().position(|(t, _)| ours(*t).is_some()) {
                Some(n) => Some(self.stash.swap_remove(n)),
                None => {
                    if self.in_flight == 0 && timer.is_none() {
                        // Unreachable by construction: a ready request with
                        // nothing in flight is always admitted. Fail loudly
                        // rather than block forever.
                        debug_assert!(false, "nothing to wait for");
                        timer = Some(self.io.monotonic() + Duration::from_millis(1));
                    }
                    match self.io.wait(timer) {
                        None => None,
                        Some((ticket, result)) => {
                            self.in_flight -= 1;
                            if let Ok(response) = &result {
                                let (now, unix) = (self.io.monotonic(), self.io.unix_time());
                                self.throttle.observe(response, self.in_flight, now, unix);
                            }
                            if ours(ticket).is_some() {
                                Some((ticket, result))
                            } else {
                                self.stash.push((ticket, result));
                                None
                            }
                        }
                    }
                }
            };
            let Some((ticket, result)) = answer else { continue };
            let i = ours(ticket).expect("an answer of ours");
            let slot = slots[i].as_mut().expect("in flight");
            let now = self.io.monotonic();
            let elapsed = now.saturating_sub(slot.started.unwrap_or(now));
            let unix = self.io.unix_time();
            let attempt = match classify(result, unix) {
                Ok(response) => {
                    self.io.observe(&answered(ticket, slot, Some(response.status), None, None));
                    let attempts = slot.attempts;
                    let slot = slots[i].take().expect("in flight");
                    self.land(&mut *lanes[i], slot, Ok(Landing::Answered { response, attempts, elapsed }));
                    continue;
                }
                Err(attempt) => attempt,
            };
            let random = self.io.random();
            let decision =
                retry::decide(&settings.retry, slot.attempts, elapsed, attempt.retryable, attempt.server_wait, random);
            let retry_in = match decision {
                Decision::Retry(wait) if !stop => Some(wait),
                _ => None,
            };
            self.io.observe(&answered(ticket, slot, attempt.status, Some(&attempt.message), retry_in));
            slot.last = Some(attempt);
            match decision {
                Decision::Retry(wait) if !stop => slot.stage = Stage::Backoff(now + wait),
                Decision::Retry(_) | Decision::GiveUp { .. } => {
                    let slot = slots[i].take().expect("in flight");
                    let error = self.give_up(&slot, Some(elapsed));
                    stop |= stops_the_run(&error);
                    self.land(&mut *lanes[i], slot, Err(error));
                }
            }
        }
    }

    /// Hands a flight's end to its lane, after telling the `Io` (for the
    /// audit log) how the operation ended.
    fn land(&mut self, lane: &mut dyn Lane<I>, slot: Slot, landing: Result<Landing, Error>) {
        let now = self.io.monotonic();
        let elapsed = now.saturating_sub(slot.started.unwrap_or(now));
        let end = match &landing {
            Ok(Landing::Answered { response, .. }) => End::Answered(response.status),
            Ok(Landing::Settled) => End::Settled,
            Err(error) => {
                End::Failed { error, unknown: slot.last.as_ref().is_some_and(Attempt::may_have_taken_effect) }
            }
        };
        let (operation, request) = (slot.flight.operation, &slot.flight.request);
        self.io.observe(&Note::Landed { operation, request, attempts: slot.attempts, elapsed, end });
        lane.land(self.settings, landing);
    }

    /// The error a flight ends with: its last failed attempt.
    fn give_up(&mut self, slot: &Slot, elapsed: Option<Duration>) -> Error {
        let elapsed = elapsed.unwrap_or_else(|| {
            let now = self.io.monotonic();
            now.saturating_sub(slot.started.unwrap_or(now))
        });
        let attempt = slot.last.as_ref().expect("a flight gives up after a failed attempt");
        failure(
            self.settings,
            slot.flight.operation,
            attempt.kind,
            attempt.status,
            attempt.message.clone(),
            slot.attempts,
            elapsed,
            attempt.server_wait,
        )
    }
}

/// The note for one answered attempt of a slot's flight.
fn answered<'a>(
    ticket: Ticket,
    slot: &'a Slot,
    status: Option<u16>,
    failure: Option<&'a str>,
    retry_in: Option<Duration>,
) -> Note<'a> {
    let (operation, request) = (slot.flight.operation, &slot.flight.request);
    Note::Answered { ticket, operation, request, attempt: slot.attempts, status, failure, retry_in }
}

impl Attempt {
    /// Whether GitBook may have done what the request asked although no
    /// success came back: the request may have arrived (a timeout, a
    /// dropped connection) or been half-processed (a 5xx).
    fn may_have_taken_effect(&self) -> bool {
        matches!(self.kind, FailureKind::Transport | FailureKind::ServerError)
    }
}

/// Whether an error ends the run: every later request would fail the same way.
fn stops_the_run(error: &Error) -> bool {
    matches!(error.kind(), Some(FailureKind::Unauthorized | FailureKind::Forbidden))
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
            server_wait: None,
        }),
    }
}
