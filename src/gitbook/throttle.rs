//! Rate-limit awareness shared by every request in flight. GitBook answers
//! 429 with `X-RateLimit-Reset` when a window is spent; when it also sends
//! `X-RateLimit-Remaining` on ordinary answers, the client can stop before
//! the limit instead of discovering it once per request in flight (the
//! behaviour of `@octokit/plugin-throttling`).
//!
//! Pure: the driver (`flight`) reports each answer and the requests it
//! starts, and asks before starting one. The driver, not the throttle,
//! decides what a pause means to each lane: one longer than a lane's
//! max-wait or remaining deadline fails that lane at once.
//!
//! Times the server gives as wall-clock instants are read against its own
//! `Date` ([`retry::server_now`]) and turned into monotonic instants at
//! once, so a local clock that is off does not stretch a pause. A pause is
//! capped at [`MAX_PAUSE`], and [`Throttle::forget_beyond`] drops one that
//! the next operation could not wait out anyway.

use crate::gitbook::retry;
use crate::http::Response;
use std::time::Duration;

/// When a 429 names no wait at all, new requests pause this long; the
/// retried request still waits its own backoff.
pub const UNNAMED_PAUSE: Duration = Duration::from_secs(1);

/// The longest pause kept, however far away the server's reset or
/// `Retry-After` is: past it, requests learn the limit again from a fresh
/// answer. (Lanes whose bounds are shorter fail at once anyway.)
pub const MAX_PAUSE: Duration = Duration::from_secs(3600);

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
    /// monotonic time, `unix_now` our wall-clock time.
    pub fn observe(&mut self, response: &Response, in_flight: usize, now: Duration, unix_now: Duration) {
        let reset = retry::rate_limit_reset(response);
        if let Some(reset) = reset {
            let server_now = retry::server_now(response, unix_now);
            let at = now.saturating_add(reset.saturating_sub(server_now).min(MAX_PAUSE));
            if self.window.is_none_or(|(known, _)| known != reset) {
                // A new window: what the old one allowed no longer counts.
                self.budget = None;
            }
            self.window = Some((reset, at));
        }
        if response.status == 429 {
            let wait = retry::server_wait(response, unix_now).unwrap_or(UNNAMED_PAUSE);
            self.pause_until(now.saturating_add(wait.min(MAX_PAUSE)));
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

    /// Drops what would hold a request back past `horizon` (a monotonic
    /// time): called when a new operation starts, so a pause learned by an
    /// earlier one carries over only while it is within the new one's
    /// bounds. The new operation learns the limit again from its own
    /// answers (a 429 that it reports, if the server still means it).
    pub fn forget_beyond(&mut self, horizon: Duration) {
        if self.paused_until.is_some_and(|until| until > horizon) {
            self.paused_until = None;
        }
        if self.window.is_some_and(|(_, end)| end > horizon) {
            self.window = None;
            self.budget = None;
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
    fn a_reset_is_read_against_the_servers_date_and_capped() {
        let mut throttle = Throttle::default();
        // The server's clock is 30 s ahead of ours; its window ends 4 s after its Date.
        let server = UNIX + secs(30);
        let date = httpdate::fmt_http_date(std::time::UNIX_EPOCH + server);
        let reset = (server + secs(4)).as_secs().to_string();
        let spent = answer(200, &[("date", &date), ("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", &reset)]);
        throttle.observe(&spent, 0, secs(10), UNIX);
        assert_eq!(throttle.admit(secs(10), 0), Admit::Until(secs(14)));
        let mut throttle = Throttle::default();
        throttle.observe(&answer(429, &[("retry-after", "99999999999")]), 0, secs(10), UNIX);
        assert_eq!(throttle.admit(secs(10), 0), Admit::Until(secs(10) + MAX_PAUSE));
    }

    #[test]
    fn a_pause_beyond_the_next_operations_bounds_is_not_carried_into_it() {
        let mut throttle = Throttle::default();
        throttle.observe(&answer(429, &[("retry-after", "40")]), 0, secs(0), UNIX);
        throttle.forget_beyond(secs(50));
        assert_eq!(throttle.admit(secs(1), 0), Admit::Until(secs(40)), "within bounds: kept");
        throttle.forget_beyond(secs(1) + secs(10));
        assert_eq!(throttle.admit(secs(1), 0), Admit::Go, "beyond them: dropped");
        let reset = (UNIX + secs(20)).as_secs().to_string();
        throttle.observe(
            &answer(200, &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", &reset)]),
            0,
            secs(0),
            UNIX,
        );
        throttle.forget_beyond(secs(3));
        assert_eq!(throttle.admit(secs(1), 0), Admit::Go);
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
