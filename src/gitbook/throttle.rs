//! Rate-limit awareness shared by every request in flight. GitBook answers
//! 429 with `X-RateLimit-Reset` when a window is spent; when it also sends
//! `X-RateLimit-Remaining` on ordinary answers, the client can stop before
//! the limit instead of discovering it once per request in flight (the
//! behaviour of `@octokit/plugin-throttling`).
//!
//! Pure: the driver (`flight`) reports each answer and the requests it
//! starts, and asks before starting one.

use crate::gitbook::retry;
use crate::http::Response;
use std::time::Duration;

/// When a 429 names no wait at all, new requests pause this long; the
/// retried request still waits its own backoff.
pub const UNNAMED_PAUSE: Duration = Duration::from_secs(1);

/// What the server's window allows now.
#[derive(Debug, Default)]
pub struct Throttle {
    /// No request starts before this monotonic time.
    paused_until: Option<Duration>,
    /// Requests the current window still allows: the server's last
    /// `X-RateLimit-Remaining`, less every request that may not have been
    /// counted in it. `None`: unknown, so not limited.
    budget: Option<u64>,
    /// The current window's end (its `X-RateLimit-Reset`, as wall-clock
    /// time) and the same instant on the monotonic clock.
    window: Option<(Duration, Duration)>,
}

/// The answer to "may a request start now?".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admit {
    Go,
    /// Not before this monotonic time.
    Until(Duration),
    /// Not until a request in flight is answered (the window is spent as
    /// far as is known, and its end is not).
    Answer,
}

impl Throttle {
    /// Reads an answer's rate-limit headers. `in_flight` requests were sent
    /// and not yet answered when it arrived: the server may not have counted
    /// them in its `Remaining`, so they are taken off it. `now` is the
    /// monotonic time, `unix_now` the wall-clock time.
    pub fn observe(&mut self, response: &Response, in_flight: usize, now: Duration, unix_now: Duration) {
        let reset = retry::rate_limit_reset(response);
        if let Some(reset) = reset {
            let at = now + reset.saturating_sub(unix_now).min(retry::SATURATED_WAIT);
            if self.window.is_none_or(|(known, _)| known != reset) {
                // A new window: what the old one allowed no longer counts.
                self.budget = None;
            }
            self.window = Some((reset, at));
        }
        if response.status == 429 {
            let wait = retry::server_wait(response, unix_now).unwrap_or(UNNAMED_PAUSE);
            self.pause_until(now + wait.min(retry::SATURATED_WAIT));
            self.budget = Some(0);
            return;
        }
        let Some(remaining) = response.header("x-ratelimit-remaining").and_then(|v| v.trim().parse::<u64>().ok())
        else {
            return;
        };
        let left = remaining.saturating_sub(in_flight as u64);
        // Answers arrive in any order: within one window the lowest
        // remaining is the freshest.
        self.budget = Some(self.budget.map_or(left, |b| b.min(left)));
        if remaining == 0 {
            if let Some((_, at)) = self.window {
                self.pause_until(at);
            }
        }
    }

    fn pause_until(&mut self, at: Duration) {
        self.paused_until = Some(self.paused_until.map_or(at, |p| p.max(at)));
    }

    /// Whether a request may start at `now`, with `in_flight` requests
    /// awaiting answers.
    pub fn admit(&mut self, now: Duration, in_flight: usize) -> Admit {
        if let Some(until) = self.paused_until {
            if now < until {
                return Admit::Until(until);
            }
            self.paused_until = None;
        }
        if let Some((_, end)) = self.window {
            if now >= end {
                // The window is over: the next answer tells the new budget.
                self.window = None;
                self.budget = None;
            }
        }
        match (self.budget, self.window) {
            (Some(0), Some((_, end))) => Admit::Until(end),
            (Some(0), None) if in_flight > 0 => Admit::Answer,
            // Spent, with no end known and nothing to learn it from: the
            // server will answer 429 with a reset if it must.
            (Some(0), None) => {
                self.budget = None;
                Admit::Go
            }
            _ => Admit::Go,
        }
    }

    /// A request was started.
    pub fn started(&mut self) {
        if let Some(budget) = &mut self.budget {
            *budget = budget.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNIX: Duration = Duration::from_secs(1_700_000_000);

    fn answer(status: u16, headers: &[(&str, &str)]) -> Response {
        Response {
            status,
            headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
            body: vec![],
        }
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn without_rate_limit_headers_nothing_is_held_back() {
        let mut throttle = Throttle::default();
        throttle.observe(&answer(200, &[]), 7, secs(1), UNIX);
        for _ in 0..100 {
            assert_eq!(throttle.admit(secs(1), 50), Admit::Go);
            throttle.started();
        }
    }

    #[test]
    fn remaining_bounds_the_requests_started_until_the_window_ends() {
        let mut throttle = Throttle::default();
        let reset = (UNIX + secs(10)).as_secs().to_string();
        // 5 left, 2 still in flight that the server may not have counted.
        throttle.observe(
            &answer(200, &[("x-ratelimit-remaining", "5"), ("x-ratelimit-reset", &reset)]),
            2,
            secs(100),
            UNIX,
        );
        for _ in 0..3 {
            assert_eq!(throttle.admit(secs(100), 2), Admit::Go);
            throttle.started();
        }
        assert_eq!(throttle.admit(secs(100), 5), Admit::Until(secs(110)), "spent: wait for the reset");
        assert_eq!(throttle.admit(secs(110), 0), Admit::Go, "a new window");
    }

    #[test]
    fn an_older_answer_cannot_raise_the_budget_within_a_window() {
        let mut throttle = Throttle::default();
        let reset = (UNIX + secs(10)).as_secs().to_string();
        let h = |r: &'static str| answer(200, &[("x-ratelimit-remaining", r), ("x-ratelimit-reset", &reset)]);
        throttle.observe(&h("1"), 0, secs(0), UNIX);
        throttle.observe(&h("9"), 0, secs(0), UNIX);
        assert_eq!(throttle.admit(secs(0), 0), Admit::Go);
        throttle.started();
        assert_eq!(throttle.admit(secs(0), 1), Admit::Until(secs(10)));
    }

    #[test]
    fn remaining_zero_pauses_everyone_until_the_reset() {
        let mut throttle = Throttle::default();
        let reset = (UNIX + secs(4)).as_secs().to_string();
        throttle.observe(
            &answer(200, &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", &reset)]),
            0,
            secs(20),
            UNIX,
        );
        assert_eq!(throttle.admit(secs(20), 0), Admit::Until(secs(24)));
        assert_eq!(throttle.admit(secs(23), 3), Admit::Until(secs(24)));
        assert_eq!(throttle.admit(secs(24), 0), Admit::Go);
    }

    #[test]
    fn a_429_pauses_every_new_request_for_the_wait_it_names() {
        let mut throttle = Throttle::default();
        throttle.observe(&answer(429, &[("retry-after", "3")]), 4, secs(50), UNIX);
        assert_eq!(throttle.admit(secs(50), 4), Admit::Until(secs(53)));
        assert_eq!(throttle.admit(secs(53), 0), Admit::Go);
    }

    #[test]
    fn a_bare_429_pauses_briefly_and_then_lets_requests_learn_again() {
        let mut throttle = Throttle::default();
        throttle.observe(&answer(429, &[]), 0, secs(5), UNIX);
        assert_eq!(throttle.admit(secs(5), 0), Admit::Until(secs(5) + UNNAMED_PAUSE));
        assert_eq!(throttle.admit(secs(6), 0), Admit::Go, "no reset known and nothing in flight: try again");
    }

    #[test]
    fn a_spent_budget_without_a_known_end_waits_for_answers_in_flight() {
        let mut throttle = Throttle::default();
        throttle.observe(&answer(200, &[("x-ratelimit-remaining", "1")]), 0, secs(0), UNIX);
        throttle.started();
        assert_eq!(throttle.admit(secs(0), 1), Admit::Answer);
    }
}
