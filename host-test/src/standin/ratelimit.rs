//! An enforced rate limit: at most `limit` requests per fixed window of
//! `window_secs` seconds, windows aligned to whole multiples of the window
//! on the Unix clock so `X-RateLimit-Reset` is an integer second, as
//! GitBook sends it. Past the limit the answer is 429 with
//! `X-RateLimit-Reset` (GitBook documents that header on 429; `Retry-After`
//! is not sent). With `headers_on_every_answer`, every answer also carries
//! `X-RateLimit-Limit`, `-Remaining` and `-Reset`; whether GitBook does
//! that is not documented, so both modes are modelled.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::reply::Reply;

#[derive(Clone, Copy, Debug)]
pub struct RateLimit {
    pub limit: u32,
    pub window_secs: u64,
    pub headers_on_every_answer: bool,
}

/// The live counters of one rate limit.
#[derive(Debug)]
pub(crate) struct Window {
    pub(crate) rule: RateLimit,
    /// Unix second the current window started.
    start: u64,
    used: u32,
    /// Requests refused with 429 since the limit was set.
    pub(crate) refused: usize,
}

/// What the limit says about one request.
pub(crate) enum Verdict {
    /// Serve it, adding these headers to the answer.
    Serve(Vec<(String, String)>),
    /// Refuse it.
    Refuse(Reply),
}

impl Window {
    pub(crate) fn new(rule: RateLimit) -> Window {
        Window { rule: RateLimit { window_secs: rule.window_secs.max(1), ..rule }, start: 0, used: 0, refused: 0 }
    }

    pub(crate) fn admit(&mut self) -> Verdict {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs();
        let start = now - now % self.rule.window_secs;
        if start != self.start {
            self.start = start;
            self.used = 0;
        }
        let reset = (start + self.rule.window_secs).to_string();
        if self.used >= self.rule.limit {
            self.refused += 1;
            let mut reply = Reply::error(429, "Rate limit exceeded; retry after X-RateLimit-Reset");
            reply.headers.push(("x-ratelimit-limit".into(), self.rule.limit.to_string()));
            reply.headers.push(("x-ratelimit-remaining".into(), "0".into()));
            reply.headers.push(("x-ratelimit-reset".into(), reset));
            return Verdict::Refuse(reply);
        }
        self.used += 1;
        if !self.rule.headers_on_every_answer {
            return Verdict::Serve(Vec::new());
        }
        Verdict::Serve(vec![
            ("x-ratelimit-limit".into(), self.rule.limit.to_string()),
            ("x-ratelimit-remaining".into(), (self.rule.limit - self.used).to_string()),
            ("x-ratelimit-reset".into(), reset),
        ])
    }
}
