//! Runs a [`Walk`] over an [`Io`]: up to `settings.concurrency` requests
//! in flight, each retried within the retry policy (attempts, backoff, the
//! server's `Retry-After`, one deadline per request), and every request
//! held while the directory says its rate-limit window is used up.
//!
//! This is the only place that sends a source's requests; everything it
//! decides comes from the walk and the source's [`DirectoryApi`]. It is
//! the glue to re-point when the GitBook flight driver becomes generic
//! over who is being called.

use super::api::DirectoryApi;
use super::walk::{DirectoryRead, Flight, Walk};
use crate::error::{ApiFailure, Error, FailureKind};
use crate::gitbook::retry::{self, Decision};
use crate::http::Response;
use crate::io::{Io, Limits, Ticket, TransportError, TransportErrorKind};
use crate::settings::Settings;
use crate::validate::printable;
use std::collections::HashMap;
use std::time::Duration;

/// A read's figures beside its result.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DriveStats {
    /// Requests sent, repeats included.
    pub requests: u32,
    /// Repeats after a failed attempt.
    pub retries: u32,
    /// Time spent held by a used-up rate-limit window.
    pub paused: Duration,
}

struct InFlight {
    flight: Flight,
    started: Duration,
    attempts: u32,
}

/// Reads the directory: every user and the members of `groups`. With a
/// `horizon` (an incoming route's budget, as [`crate::gitbook::Client::limit_until`]
/// sets for GitBook), no request runs or starts past it: the read then fails
/// as `deadline-exceeded`, which plans nothing.
pub fn read<I: Io>(
    io: &mut I,
    settings: &Settings,
    api: &dyn DirectoryApi,
    groups: impl IntoIterator<Item = String>,
    horizon: Option<Duration>,
) -> (Result<DirectoryRead, Error>, DriveStats) {
    // Each request's deadline: its operation's, cut at the horizon.
    let deadline_of = |started: Duration| {
        let own = started.saturating_add(settings.retry.deadline);
        horizon.map_or(own, |h| own.min(h))
    };
    let mut walk = Walk::new(api, groups);
    let mut stats = DriveStats::default();
    let cap = settings.concurrency.get() as usize;
    let mut in_flight: HashMap<Ticket, InFlight> = HashMap::new();
    // Flights waiting to be repeated, with when.
    let mut backoff: Vec<(Duration, InFlight)> = Vec::new();
    // No new request before this monotonic time (a used-up window).
    let mut hold_until = Duration::ZERO;
    loop {
        let now = io.monotonic();
        if horizon.is_some_and(|h| now >= h) {
            // Out of time: nothing more is sent and nothing more awaited.
            // What is in flight is abandoned; waiting repeats and whatever
            // the walk would ask next fail unsent; the read then fails.
            let out_of_time = |operation, attempts, sent: bool| {
                let message = if sent {
                    "no answer before the time budget for this read ran out; abandoned"
                } else {
                    "not sent: the time budget for this read ran out"
                };
                Error::Api(
                    FailureKind::DeadlineExceeded,
                    ApiFailure {
                        operation,
                        status: None,
                        message: message.into(),
                        attempts,
                        elapsed_ms: 0,
                        retry_after_ms: None,
                        effect_unknown: false,
                    },
                )
            };
            let tickets: Vec<Ticket> = in_flight.keys().copied().collect();
            for ticket in tickets {
                io.abandon(ticket);
                let flight = in_flight.remove(&ticket).expect("in flight");
                walk.land(flight.flight.job, Err(out_of_time(flight.flight.operation, flight.attempts, true)));
            }
            for (_, repeat) in backoff.drain(..) {
                walk.land(repeat.flight.job, Err(out_of_time(repeat.flight.operation, repeat.attempts, false)));
            }
            while let Some(flight) = walk.next(io.unix_time()) {
                walk.land(flight.job, Err(out_of_time(flight.operation, 0, false)));
            }
            return (walk.finish(), stats);
        }
        // Repeats that are due, then new requests, while there is room.
        while in_flight.len() < cap && now >= hold_until {
            let due = backoff.iter().position(|(at, _)| *at <= now);
            let (flight, started, attempts) = match due {
                Some(n) => {
                    let (_, repeat) = backoff.swap_remove(n);
                    stats.retries += 1;
                    (repeat.flight, repeat.started, repeat.attempts)
                }
                None => match walk.next(io.unix_time()) {
                    Some(flight) => (flight, now, 0),
                    None => break,
                },
            };
            let remaining = deadline_of(started).saturating_sub(now);
            let timeouts = settings.timeouts.capped_at(remaining.max(Duration::from_millis(1)));
            let limits = Limits { timeouts, max_body: settings.max_response_bytes, deadline: deadline_of(started) };
            let ticket = io.start(&flight.request, &limits);
            stats.requests += 1;
            in_flight.insert(ticket, InFlight { flight, started, attempts: attempts + 1 });
        }
        if in_flight.is_empty() && backoff.is_empty() && walk.is_finished() {
            return (walk.finish(), stats);
        }
        // A request still unanswered at its deadline is abandoned and fails.
        let overdue: Vec<Ticket> =
            in_flight.iter().filter(|(_, f)| now >= deadline_of(f.started)).map(|(t, _)| *t).collect();
        for ticket in overdue {
            io.abandon(ticket);
            let flight = in_flight.remove(&ticket).expect("in flight");
            let error = Error::Api(
                FailureKind::DeadlineExceeded,
                ApiFailure {
                    operation: flight.flight.operation,
                    status: None,
                    message: format!("no answer within the deadline of {} s", settings.retry.deadline.as_secs()),
                    attempts: flight.attempts,
                    elapsed_ms: now.saturating_sub(flight.started).as_millis() as u64,
                    retry_after_ms: None,
                    effect_unknown: false,
                },
            );
            walk.land(flight.flight.job, Err(error));
        }
        let mut timer = backoff.iter().map(|(at, _)| *at).min();
        if let Some(deadline) = in_flight.values().map(|f| deadline_of(f.started)).min() {
            timer = Some(timer.map_or(deadline, |t| t.min(deadline)));
        }
        if hold_until > now {
            timer = Some(timer.map_or(hold_until, |t| t.max(hold_until)));
        }
        // Nothing waits past the horizon: at it, the read ends.
        if let Some(h) = horizon.filter(|_| timer.is_some() || !in_flight.is_empty()) {
            timer = Some(timer.map_or(h, |t| t.min(h)));
        }
        if in_flight.is_empty() && timer.is_none() {
            // Nothing in flight, nothing waiting and the walk plans nothing:
            // the walk is stuck, which it never should be. Fail, not hang.
            debug_assert!(false, "a source read with nothing to wait for");
            return (walk.finish(), stats);
        }
        let Some((ticket, result)) = io.wait(timer) else {
            let after = io.monotonic();
            if hold_until > now {
                stats.paused += after.min(hold_until) - now;
            }
            continue;
        };
        let Some(flight) = in_flight.remove(&ticket) else { continue };
        let now = io.monotonic();
        let unix = io.unix_time();
        let elapsed = now.saturating_sub(flight.started);
        match attempt(api, result, unix) {
            Ok(response) => {
                if let Some(wait) = api.pause(&response, unix) {
                    hold_until = hold_until.max(now + wait.min(settings.retry.max_wait));
                }
                walk.land(flight.flight.job, Ok(response));
            }
            Err(failed) => {
                let decision = retry::decide(
                    &settings.retry,
                    flight.attempts,
                    elapsed,
                    failed.retryable,
                    failed.server_wait,
                    io.random(),
                );
                match decision {
                    Decision::Retry(wait) => {
                        if failed.server_wait.is_some() {
                            // A rate limit holds every request, not only this one.
                            hold_until = hold_until.max(now + wait);
                        }
                        backoff.push((now + wait, flight));
                    }
                    Decision::GiveUp { retry_after } => {
                        let error = Error::Api(
                            failed.kind,
                            ApiFailure {
                                operation: flight.flight.operation,
                                status: failed.status,
                                message: api.redact(&failed.message),
                                attempts: flight.attempts,
                                elapsed_ms: elapsed.as_millis() as u64,
                                retry_after_ms: retry_after.map(|d| d.as_millis() as u64),
                                effect_unknown: false,
                            },
                        );
                        walk.land(flight.flight.job, Err(error));
                    }
                }
            }
        }
    }
}

struct Failed {
    kind: FailureKind,
    status: Option<u16>,
    message: String,
    retryable: bool,
    server_wait: Option<Duration>,
}

/// A 2xx answer, or why the attempt failed and whether it may be repeated.
fn attempt(
    api: &dyn DirectoryApi,
    result: Result<Response, TransportError>,
    unix: Duration,
) -> Result<Response, Failed> {
    let source = api.kind().title();
    match result {
        Ok(response) if (200..300).contains(&response.status) => Ok(response),
        Ok(response) if (300..400).contains(&response.status) => Err(Failed {
            kind: FailureKind::InvalidResponse,
            status: Some(response.status),
            message: format!(
                "{source} answered with a redirect to {}; redirects are not followed, so the credentials are \
                 never sent elsewhere",
                printable(response.header("location").unwrap_or("nowhere"))
            ),
            retryable: false,
            server_wait: None,
        }),
        Ok(response) => {
            let message = api.error_message(&response.body).unwrap_or_else(|| {
                let body = String::from_utf8_lossy(&response.body);
                let body: String = body.trim().chars().take(300).collect();
                if body.is_empty() {
                    format!("HTTP {} with an empty body", response.status)
                } else {
                    format!("HTTP {} with a body that is not a {source} error: {}", response.status, printable(&body))
                }
            });
            let retryable = api.retryable(&response);
            let kind = match FailureKind::from_status(response.status) {
                FailureKind::Forbidden if retryable => FailureKind::RateLimited,
                kind => kind,
            };
            Err(Failed {
                kind,
                status: Some(response.status),
                message,
                retryable,
                server_wait: if retryable { api.server_wait(&response, unix) } else { None },
            })
        }
        Err(error) => Err(Failed {
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
