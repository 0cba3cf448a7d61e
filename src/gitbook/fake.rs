//! A scripted [`Io`] for unit tests: answers requests from a queue and
//! records what was sent and how long the client slept.

use crate::http::{Request, Response};
use crate::io::{Io, TransportError};
use crate::settings::Timeouts;
use std::collections::VecDeque;
use std::time::Duration;

pub type Answer = Result<Response, TransportError>;

#[derive(Default)]
pub struct ScriptedIo {
    pub answers: VecDeque<Answer>,
    pub sent: Vec<Request>,
    pub slept: Vec<Duration>,
    pub now: Duration,
    pub unix_epoch_offset: Duration,
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
    fn send(&mut self, request: &Request, _: &Timeouts, _: usize) -> Result<Response, TransportError> {
        self.sent.push(request.clone());
        self.now += Duration::from_millis(10);
        self.answers.pop_front().unwrap_or_else(|| panic!("unscripted request: {request:?}"))
    }
    fn monotonic(&mut self) -> Duration {
        self.now
    }
    fn unix_time(&mut self) -> Duration {
        self.unix_epoch_offset + self.now
    }
    fn sleep(&mut self, duration: Duration) {
        self.slept.push(duration);
        self.now += duration;
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
