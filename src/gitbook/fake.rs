//! A scripted [`Io`] for unit tests, on a simulated clock: answers requests
//! from a queue and records what was sent, when, how many were in flight at
//! once and how long the client waited with nothing in flight. Answers are
//! taken from the queue in the order requests start. Each request takes
//! 10 ms, or the next of `delays`; requests due at the same time complete
//! first-started-first, or last-started-first with `out_of_order`.
//!
//! The clock refuses (panics) to move past `deadline`, the operation's
//! deadline the test set (the default policy's 120 s, and a second, unless
//! changed): a
//! client that would wait longer, for a pause or an answer, fails the
//! test instead of hiding the stall behind a simulated jump. Each request
//! also records the deadline it was started with; an abandoned request is
//! recorded in `abandoned`.

use crate::http::{Request, Response};
use crate::io::{Io, Limits, Ticket, TransportError};
use std::collections::VecDeque;
use std::time::Duration;

pub type Answer = Result<Response, TransportError>;

#[derive(Default)]
pub struct ScriptedIo {
    pub answers: VecDeque<Answer>,
    pub sent: Vec<Request>,
    /// When each request in `sent` started.
    pub started_at: Vec<Duration>,
    pub slept: Vec<Duration>,
    pub now: Duration,
    pub unix_epoch_offset: Duration,
    /// Complete the most recently started request first.
    pub out_of_order: bool,
    /// The most requests in flight at once.
    pub max_in_flight: usize,
    /// How long the next requests take, in start order (then 10 ms each).
    pub delays: VecDeque<Duration>,
    /// The clock never goes past this monotonic time (see the module doc).
    pub deadline: Duration,
    /// Each request's deadline, as `sent`.
    pub deadlines: Vec<Duration>,
    /// Requests abandoned before their answer, by their place in `sent`.
    pub abandoned: Vec<usize>,
    /// Started requests: when each is due, its ticket and its answer.
    in_flight: Vec<(Duration, Ticket, Answer)>,
    tickets: u64,
}

impl ScriptedIo {
    pub fn new(answers: impl IntoIterator<Item = Answer>) -> ScriptedIo {
        ScriptedIo {
            answers: answers.into_iter().collect(),
            unix_epoch_offset: Duration::from_secs(1_700_000_000),
            // The default policy's deadline, and a second for the lanes that
            // start their clocks after the first request.
            deadline: crate::settings::RetryPolicy::default().deadline + Duration::from_secs(1),
            ..ScriptedIo::default()
        }
    }

    /// Moves the clock to `at`, refusing to pass the deadline.
    fn advance(&mut self, at: Duration) {
        assert!(
            at <= self.deadline,
            "the client waited until {at:?}, past the operation's deadline {:?}: a stall",
            self.deadline
        );
        self.now = self.now.max(at);
    }
}

pub fn json(status: u16, body: &str) -> Answer {
    Ok(Response {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.as_bytes().to_vec(),
    })
}

pub fn with_header(answer: Answer, name: &str, value: &str) -> Answer {
    answer.map(|mut r| {
        r.headers.push((name.to_ascii_lowercase(), value.to_owned()));
        r
    })
}

impl Io for &mut ScriptedIo {
    fn start(&mut self, request: &Request, limits: &Limits) -> Ticket {
        self.sent.push(request.clone());
        self.started_at.push(self.now);
        self.deadlines.push(limits.deadline);
        self.tickets += 1;
        let ticket = Ticket(self.tickets);
        let answer = self.answers.pop_front().unwrap_or_else(|| panic!("unscripted request: {request:?}"));
        let takes = self.delays.pop_front().unwrap_or(Duration::from_millis(10));
        self.in_flight.push((self.now + takes, ticket, answer));
        self.max_in_flight = self.max_in_flight.max(self.in_flight.len());
        ticket
    }
    fn wait(&mut self, until: Option<Duration>) -> Option<(Ticket, Answer)> {
        let out_of_order = self.out_of_order;
        let next = (0..self.in_flight.len()).min_by_key(|&n| {
            let (due, Ticket(t), _) = &self.in_flight[n];
            (*due, if out_of_order { u64::MAX - t } else { *t })
        });
        let Some(next) = next else {
            let until = until.expect("waiting for an answer with nothing in flight would block forever");
            if until > self.now {
                self.slept.push(until - self.now);
                self.advance(until);
            }
            return None;
        };
        let due = self.in_flight[next].0;
        if let Some(until) = until.filter(|until| *until < due) {
            self.advance(until);
            return None;
        }
        self.advance(due);
        let (_, ticket, answer) = self.in_flight.remove(next);
        Some((ticket, answer))
    }
    fn abandon(&mut self, ticket: Ticket) {
        if let Some(n) = self.in_flight.iter().position(|(_, t, _)| *t == ticket) {
            drop(self.in_flight.remove(n));
            self.abandoned.push(ticket.0 as usize - 1);
        }
    }
    fn monotonic(&mut self) -> Duration {
        self.now
    }
    fn unix_time(&mut self) -> Duration {
        self.unix_epoch_offset + self.now
    }
    fn random(&mut self) -> u64 {
        u64::MAX
    }
}

/// Settings for organization `acme` with `token`, defaults otherwise.
pub fn settings_with_token(token: &str) -> crate::settings::Settings {
    crate::settings::RawSettings { organization: Some("acme".into()), token: Some(token.into()), ..Default::default() }
        .resolve(|_| None)
        .expect("valid test settings")
}

/// Settings for organization `acme` with the token `tok`.
pub fn settings() -> crate::settings::Settings {
    settings_with_token("tok")
}
