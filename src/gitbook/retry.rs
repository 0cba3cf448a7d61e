//! When to try a request again and how long to wait first. Every GitBook
//! operation is idempotent, so 429, 500, 502, 503, 504 and lost connections
//! are retried; no other 4xx ever is. Pure functions of the time and of a
//! random number, so the policy is tested without a clock.

use crate::http::Response;
use crate::settings::RetryPolicy;
use std::time::Duration;

/// Statuses that say "the same request may succeed later".
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// What to do after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Retry(Duration),
    /// Stop; `retry_after` is the wait the server asked for, if any.
    GiveUp {
        retry_after: Option<Duration>,
    },
}

/// Decides about the next attempt, `attempts` having been made so far over
/// `elapsed`. `server_wait` is what the response's headers asked for.
pub fn decide(
    policy: &RetryPolicy,
    attempts: u32,
    elapsed: Duration,
    retryable: bool,
    server_wait: Option<Duration>,
    random: u64,
) -> Decision {
    let give_up = Decision::GiveUp { retry_after: server_wait };
    if !retryable || attempts >= policy.max_attempts {
        return give_up;
    }
    let wait = match server_wait {
        // The server asked for longer than we may wait: waiting less would
        // only earn another 429.
        Some(wait) if wait > policy.max_wait => return give_up,
        Some(wait) if !wait.is_zero() => wait,
        _ => backoff(policy, attempts, random),
    };
    if elapsed + wait > policy.deadline {
        return give_up;
    }
    Decision::Retry(wait)
}

/// Exponential backoff with full jitter: a uniform wait in
/// `[0, min(max_wait, base × 2^(retry-1))]`.
pub fn backoff(policy: &RetryPolicy, retry: u32, random: u64) -> Duration {
    let exponent = retry.saturating_sub(1).min(20);
    let ceiling = policy.base_delay.saturating_mul(1 << exponent).min(policy.max_wait);
    let ceiling_ms = ceiling.as_millis() as u64;
    Duration::from_millis(random % (ceiling_ms + 1))
}

/// The wait a response asks for: `Retry-After` (seconds or an HTTP date),
/// else GitBook's `X-RateLimit-Reset` (Unix seconds). `now` is wall-clock
/// time since the epoch. A time in the past means "now".
pub fn server_wait(response: &Response, now: Duration) -> Option<Duration> {
    if let Some(value) = response.header("retry-after") {
        let value = value.trim();
        if let Ok(seconds) = value.parse::<u64>() {
            return Some(Duration::from_secs(seconds));
        }
        if let Some(at) = parse_http_date(value) {
            return Some(Duration::from_secs(at).saturating_sub(now));
        }
    }
    let reset = response.header("x-ratelimit-reset")?.trim().parse::<f64>().ok()?;
    if !(0.0..=1.0e11).contains(&reset) {
        return None;
    }
    Some(Duration::from_secs_f64(reset).saturating_sub(now))
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110) into
/// Unix seconds.
pub fn parse_http_date(text: &str) -> Option<u64> {
    let (_weekday, rest) = text.split_once(", ")?;
    let parts: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, "GMT"] = parts[..] else {
        return None;
    };
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = MONTHS.iter().position(|m| *m == month)? as u64 + 1;
    let day: u64 = day.parse().ok().filter(|d| (1..=31).contains(d))?;
    // Years past 9999 are not HTTP dates (and would overflow the arithmetic).
    let year: u64 = year.parse().ok().filter(|y| (1970..=9999).contains(y))?;
    let hms: Vec<u64> = time.split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let [h, m, s] = hms[..] else { return None };
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm), for years from 1970 on.
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let month_index = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            max_wait: Duration::from_secs(30),
            deadline: Duration::from_secs(120),
            base_delay: Duration::from_millis(500),
        }
    }

    fn response(headers: &[(&str, &str)]) -> Response {
        Response {
            status: 429,
            headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
            body: vec![],
        }
    }

    const NOW: Duration = Duration::from_secs(1_700_000_000);

    #[test]
    fn only_rate_limits_and_transient_server_errors_are_retried() {
        for status in [429, 500, 502, 503, 504] {
            assert!(is_retryable_status(status), "{status}");
        }
        for status in [400, 401, 403, 404, 409, 422, 501, 505] {
            assert!(!is_retryable_status(status), "{status}");
        }
    }

    #[test]
    fn retry_after_seconds_and_dates_are_honoured() {
        assert_eq!(server_wait(&response(&[("Retry-After", "7")]), NOW), Some(Duration::from_secs(7)));
        // 2023-11-14T22:13:20Z is NOW; the date is 3 s later.
        let date = "Tue, 14 Nov 2023 22:13:23 GMT";
        assert_eq!(parse_http_date(date), Some(1_700_000_003));
        assert_eq!(server_wait(&response(&[("retry-after", date)]), NOW), Some(Duration::from_secs(3)));
    }

    #[test]
    fn rate_limit_reset_is_an_epoch_time() {
        let reset = (NOW.as_secs() + 12).to_string();
        let headers = [("X-RateLimit-Reset", reset.as_str())];
        assert_eq!(server_wait(&response(&headers), NOW), Some(Duration::from_secs(12)));
        let past = [("X-RateLimit-Reset", "1000")];
        assert_eq!(server_wait(&response(&past), NOW), Some(Duration::ZERO));
        assert_eq!(server_wait(&response(&[("X-RateLimit-Reset", "soon")]), NOW), None);
    }

    #[test]
    fn garbage_dates_are_ignored() {
        for bad in [
            "Sun, 01 Jan 600000000000 00:00:00 GMT",
            "Sun, 01 Jan 99999999999999999 00:00:00 GMT",
            "",
            "Tue, 14 Nov 2023",
            "Tue, 32 Nov 2023 22:13:23 GMT",
            "Tue, 14 Foo 2023 22:13:23 GMT",
            "Tue, 14 Nov 2023 25:13:23 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_server_wait_wins_over_backoff() {
        let decision = decide(&policy(), 1, Duration::ZERO, true, Some(Duration::from_secs(3)), 0);
        assert_eq!(decision, Decision::Retry(Duration::from_secs(3)));
    }

    #[test]
    fn a_wait_longer_than_allowed_gives_up_with_the_wait() {
        let long = Some(Duration::from_secs(600));
        assert_eq!(decide(&policy(), 1, Duration::ZERO, true, long, 0), Decision::GiveUp { retry_after: long });
    }

    #[test]
    fn attempts_and_deadline_bound_the_retries() {
        assert!(matches!(decide(&policy(), 5, Duration::ZERO, true, None, 0), Decision::GiveUp { .. }));
        let late = Duration::from_secs(119);
        assert!(matches!(decide(&policy(), 1, late, true, Some(Duration::from_secs(2)), 0), Decision::GiveUp { .. }));
        assert!(matches!(decide(&policy(), 1, Duration::ZERO, false, None, 0), Decision::GiveUp { .. }));
    }

    #[test]
    fn backoff_grows_exponentially_with_full_jitter_under_the_cap() {
        let p = policy();
        assert_eq!(backoff(&p, 1, u64::MAX), Duration::from_millis(u64::MAX % 501));
        for retry in 1..10 {
            let ceiling = (500u64 << (retry - 1)).min(30_000);
            for random in [0, 1, 12345, u64::MAX] {
                assert!(backoff(&p, retry, random) <= Duration::from_millis(ceiling));
            }
        }
        assert_eq!(backoff(&p, 40, 30_000), Duration::from_millis(30_000));
    }
}
