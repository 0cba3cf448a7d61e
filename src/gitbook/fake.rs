//! A scripted [`Io`] for unit tests: answers requests from a queue and
//! records what was sent, how many were in flight at once and how long the
//! client waited with nothing in flight. Answers are taken from the queue in
//! the order requests start; they complete first-started-first, or
//! last-started-first with `out_of_order`.

use crate::http::{Request, Response};
use crate::io::{Io, Ticket, TransportError};
use crate::settings::Timeouts;
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
    in_flight: VecDeque<(Ticket, Answer)>,
    tickets: u64,
}

impl ScriptedIo {
    pub fn new(answers: impl IntoIterator<Item = Answer>) -> ScriptedIo {
        ScriptedIo {
            answers: answers.into_iter().collect(),
            unix_epoch_offset: Duration::from_secs(1_700_000_000),
            ..ScriptedIo::default()
        }
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
    fn start(&mut self, request: &Request, _: &Timeouts, _: usize) -> Ticket {
        self.sent.push(request.clone());
        self.started_at.push(self.now);
        self.tickets += 1;
        let ticket = Ticket(self.tickets);
        let answer = self.answers.pop_front().unwrap_or_else(|| panic!("unscripted request: {request:?}"));
        self.in_flight.push_back((ticket, answer));
        self.max_in_flight = self.max_in_flight.max(self.in_flight.len());
        ticket
    }
    fn wait(&mut self, until: Option<Duration>) -> Option<(Ticket, Answer)> {
        let next = if self.out_of_order { self.in_flight.pop_back() } else { self.in_flight.pop_front() };
        if let Some(answer) = next {
            self.now += Duration::from_millis(10);
            return Some(answer);
        }
        let until = until.expect("waiting for an answer with nothing in flight would block forever");
        if until > self.now {
            self.slept.push(until - self.now);
            self.now = until;
        }
        None
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
