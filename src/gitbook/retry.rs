//! When to try a request again and how long to wait first. Every GitBook
//! operation is idempotent, so 429, 500, 502, 503, 504 and lost connections
//! are retried; no other 4xx ever is. Pure functions of the time and of a
//! random number, so the policy is tested without a clock.

use crate::http::Response;
use crate::settings::RetryPolicy;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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
    if elapsed.saturating_add(wait) > policy.deadline {
        return give_up;
    }
    Decision::Retry(wait)
}

/// Exponential backoff with full jitter: a uniform wait in
/// `[0, min(max_wait, base × 2^(retry-1))]`.
pub fn backoff(policy: &RetryPolicy, retry: u32, random: u64) -> Duration {
    let exponent = retry.saturating_sub(1).min(20);
    let ceiling = policy.base_delay.saturating_mul(1 << exponent).min(policy.max_wait);
    let ceiling_ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    // `ceiling_ms + 1` would wrap at u64::MAX (a WIT max-wait-ms of 2^64 - 1):
    // then every u64 is already in range.
    match ceiling_ms.checked_add(1) {
        Some(span) => Duration::from_millis(random % span),
        None => Duration::from_millis(random),
    }
}

/// The longest wait a response can ask for here: `u64::MAX` milliseconds
/// (about 585 million years). A wait that does not fit, such as
/// `Retry-After: 99999999999999999999` or a reset time past what a u64 holds,
/// saturates to it rather than wrapping, so it is still longer than any
/// `max_wait` and the caller's `retry-after-ms` (a u64 of milliseconds) reads
/// it as exactly `u64::MAX`.
pub const SATURATED_WAIT: Duration = Duration::from_millis(u64::MAX);

/// The server's time when it answered: its `Date` header where present and
/// valid, else `local` (our wall clock). Absolute times the server sends
/// (an HTTP-date `Retry-After`, `X-RateLimit-Reset`) are read against it,
/// so a local clock that is behind or ahead does not stretch or shrink the
/// wait.
pub fn server_now(response: &Response, local: Duration) -> Duration {
    response.header("date").and_then(|value| parse_http_date(value.trim_ascii())).map_or(local, Duration::from_secs)
}

/// The wait a response asks for: `Retry-After` (delay-seconds or an HTTP
/// date, RFC 9110 §10.2.3), else GitBook's `X-RateLimit-Reset` (Unix
/// seconds, optionally with a decimal fraction). `local` is our wall-clock
/// time since the epoch; absolute times are read against the server's
/// [`server_now`]; a time in the past means "now". Surrounding whitespace is
/// ignored; a value of neither form is ignored, as RFC 9110 asks of an invalid
/// field, and the next source is used. Waits are capped at
/// [`SATURATED_WAIT`].
pub fn server_wait(response: &Response, local: Duration) -> Option<Duration> {
    let now = server_now(response, local);
    if let Some(value) = response.header("retry-after").map(str::trim_ascii) {
        if let Some(wait) = delay_seconds(value) {
            return Some(wait);
        }
        if let Some(at) = parse_http_date(value) {
            return Some(until(Duration::from_secs(at), now));
        }
    }
    Some(until(rate_limit_reset(response)?, now))
}

/// When the rate-limit window ends, from `X-RateLimit-Reset` (Unix
/// seconds, optionally with a decimal fraction), as wall-clock time.
pub fn rate_limit_reset(response: &Response) -> Option<Duration> {
    unix_time(response.header("x-ratelimit-reset")?.trim_ascii())
}

fn until(at: Duration, now: Duration) -> Duration {
    at.saturating_sub(now).min(SATURATED_WAIT)
}

/// `delay-seconds = 1*DIGIT`; a number too large for a u64 of milliseconds
/// is still a valid (absurd) wait, so it saturates instead of being ignored.
fn delay_seconds(text: &str) -> Option<Duration> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // All digits: parsing fails only on overflow.
    let millis = text.parse::<u64>().ok().and_then(|seconds| seconds.checked_mul(1000));
    Some(millis.map_or(SATURATED_WAIT, Duration::from_millis))
}

/// `1*DIGIT [ "." 1*DIGIT ]` seconds since the epoch (digits past the
/// nanosecond are dropped); a number of seconds too large for a u64
/// saturates to [`Duration::MAX`].
fn unix_time(text: &str) -> Option<Duration> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    if !digits(whole) || !digits(fraction) {
        return None;
    }
    let Ok(seconds) = whole.parse::<u64>() else { return Some(Duration::MAX) };
    let nanos = fraction.bytes().chain(std::iter::repeat(b'0')).take(9).fold(0, |n, b| n * 10 + u32::from(b - b'0'));
    Some(Duration::new(seconds, nanos))
}

/// Parses an HTTP date into Unix seconds. RFC 9110 §5.6.7 asks recipients to
/// accept all three forms: the IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`,
/// the obsolete RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT` (two-digit years
/// 00–69 are 2000–2069, 70–99 are 1970–1999) and asctime
/// `Sun Nov  6 08:49:37 1994`. The `httpdate` crate reads them; it refuses
/// dates that do not exist (31 February, a weekday that does not match,
/// second 60) and years outside 1970–9999.
pub fn parse_http_date(text: &str) -> Option<u64> {
    let date: httpdate::HttpDate = text.parse().ok()?;
    // Years up to 9999 are at most 2.6e11 s: no overflow, and never before the epoch.
    SystemTime::from(date).duration_since(UNIX_EPOCH).ok().map(|since| since.as_secs())
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

    fn retry_after(value: &str) -> Option<Duration> {
        server_wait(&response(&[("Retry-After", value)]), NOW)
    }

    fn reset(value: &str) -> Option<Duration> {
        server_wait(&response(&[("X-RateLimit-Reset", value)]), NOW)
    }

    #[test]
    fn retry_after_seconds_and_dates_are_honoured() {
        assert_eq!(retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(retry_after("0"), Some(Duration::ZERO));
        // 2023-11-14T22:13:20Z is NOW; the date is 3 s later.
        let date = "Tue, 14 Nov 2023 22:13:23 GMT";
        assert_eq!(parse_http_date(date), Some(1_700_000_003));
        assert_eq!(server_wait(&response(&[("retry-after", date)]), NOW), Some(Duration::from_secs(3)));
        assert_eq!(retry_after("Tue, 14 Nov 2023 22:13:19 GMT"), Some(Duration::ZERO), "a past date means now");
    }

    #[test]
    fn all_three_http_date_formats_of_rfc_9110_are_read() {
        // RFC 9110 §5.6.7's own example, in each form.
        for date in ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"] {
            assert_eq!(parse_http_date(date), Some(784_111_777), "{date}");
        }
        assert_eq!(parse_http_date("Tue Nov 14 22:13:23 2023"), Some(1_700_000_003), "asctime, two-digit day");
        assert_eq!(retry_after("Tuesday, 14-Nov-23 22:13:23 GMT"), Some(Duration::from_secs(3)));
        assert_eq!(retry_after("Tue Nov 14 22:13:23 2023"), Some(Duration::from_secs(3)));
    }

    #[test]
    fn rfc_850_two_digit_years_run_from_1970_to_2069() {
        assert_eq!(parse_http_date("Thursday, 01-Jan-70 00:00:00 GMT"), Some(0));
        assert_eq!(parse_http_date("Tuesday, 31-Dec-69 23:59:59 GMT"), Some(3_155_759_999));
    }

    #[test]
    fn dates_that_do_not_exist_are_refused() {
        // Each weekday is that of the day the date would roll over to, so
        // only the day of the month is wrong.
        for impossible in [
            "Sat, 31 Feb 2024 00:00:00 GMT",
            "Fri, 30 Feb 2024 00:00:00 GMT",
            "Wed, 29 Feb 2023 00:00:00 GMT",
            "Mon, 29 Feb 2100 00:00:00 GMT",
            "Saturday, 31-Feb-24 00:00:00 GMT",
            "Sat Feb 31 00:00:00 2024",
            "Thu, 31 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_http_date(impossible), None, "{impossible}");
            assert_eq!(retry_after(impossible), None, "{impossible}");
        }
        assert_eq!(parse_http_date("Thu, 29 Feb 2024 00:00:00 GMT"), Some(1_709_164_800), "2024 is a leap year");
        assert_eq!(parse_http_date("Tue, 29 Feb 2000 00:00:00 GMT"), Some(951_782_400), "so is 2000");
        assert_eq!(parse_http_date("Mon, 06 Nov 1994 08:49:37 GMT"), None, "6 Nov 1994 was a Sunday");
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 24:00:00 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:60:00 GMT"), None);
    }

    #[test]
    fn years_outside_1970_to_9999_are_not_http_dates() {
        assert_eq!(parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT"), Some(253_402_300_799));
        for outside in [
            "Sat, 01 Jan 0000 00:00:00 GMT",
            "Wed, 31 Dec 1969 23:59:59 GMT",
            "Sat, 01 Jan 10000 00:00:00 GMT",
            "Sun, 01 Jan 600000000000 00:00:00 GMT",
            "Sun, 01 Jan 99999999999999999 00:00:00 GMT",
            "Sat Jan  1 00:00:00 10000",
        ] {
            assert_eq!(parse_http_date(outside), None, "{outside}");
        }
    }

    #[test]
    fn garbage_dates_are_ignored() {
        for bad in [
            "",
            "Tue, 14 Nov 2023",
            "Tue, 32 Nov 2023 22:13:23 GMT",
            "Tue, 14 Foo 2023 22:13:23 GMT",
            "Tue, 14 Nov 2023 25:13:23 GMT",
            "Tue, 14 Nov 2023 22:13:23 UTC",
            "Tue, 14 Nov 2023 22:13:23 +0000",
            "2023-11-14T22:13:23Z",
            "Tue,  14 Nov 2023 22:13:23 GMT",
            "Tue Nov 14 22:13:23 2023 GMT",
            "Sun Nov 6 08:49:37 1994",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Tue, 14 Nov 2023 22:13:23 GMT\u{0}",
            "Tue, 14 Nov 2023 22:13:23 GMT\u{a0}",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn surrounding_whitespace_is_ignored_and_inner_whitespace_is_not() {
        for value in [" 7", "7 ", "\t7\t", "  7  "] {
            assert_eq!(retry_after(value), Some(Duration::from_secs(7)), "{value:?}");
        }
        assert_eq!(retry_after(" \tTue, 14 Nov 2023 22:13:23 GMT\t "), Some(Duration::from_secs(3)));
        assert_eq!(retry_after(" Tue Nov 14 22:13:23 2023 "), Some(Duration::from_secs(3)));
        assert_eq!(reset(&format!(" {} ", NOW.as_secs() + 12)), Some(Duration::from_secs(12)));
        for value in ["7 7", "1 000", " ", ""] {
            assert_eq!(retry_after(value), None, "{value:?}");
        }
    }

    #[test]
    fn retry_after_seconds_are_digits_only() {
        for value in ["+7", "-7", "7.5", "7s", "0x10", "1e3", "\u{661}"] {
            assert_eq!(retry_after(value), None, "{value:?}");
        }
    }

    #[test]
    fn a_retry_after_too_large_for_an_integer_saturates_instead_of_vanishing() {
        assert_eq!(SATURATED_WAIT.as_millis(), u128::from(u64::MAX));
        // u64::MAX ms is 18446744073709551.615 s: the last whole second that fits is kept exactly.
        assert_eq!(retry_after("18446744073709551"), Some(Duration::from_millis(18_446_744_073_709_551_000)));
        for huge in ["18446744073709552", "18446744073709551615", "18446744073709551616", "99999999999999999999"] {
            assert_eq!(retry_after(huge), Some(SATURATED_WAIT), "{huge}");
        }
        assert_eq!(retry_after(&"9".repeat(10_000)), Some(SATURATED_WAIT));
        // And it ends the call at once, with a wait that fits retry-after-ms.
        let decision = decide(&policy(), 1, Duration::ZERO, true, retry_after("99999999999999999999"), 0);
        assert_eq!(decision, Decision::GiveUp { retry_after: Some(SATURATED_WAIT) });
    }

    #[test]
    fn rate_limit_reset_is_an_epoch_time() {
        let reset_at = (NOW.as_secs() + 12).to_string();
        assert_eq!(reset(&reset_at), Some(Duration::from_secs(12)));
        assert_eq!(reset(&format!("{reset_at}.25")), Some(Duration::from_millis(12_250)));
        assert_eq!(reset(&format!("{reset_at}.0000000019")), Some(Duration::new(12, 1)), "past nanoseconds: dropped");
        assert_eq!(reset("1000"), Some(Duration::ZERO));
        for bad in ["soon", "", "-5", "+5", "1e12", "inf", "NaN", "12.", ".5", "1.2.3", "1_000"] {
            assert_eq!(reset(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_rate_limit_reset_too_far_for_an_integer_saturates() {
        assert_eq!(reset("100000000000"), Some(Duration::from_secs(100_000_000_000) - NOW), "year 5138: exact");
        for huge in ["99999999999999999999", "99999999999999999999.5", "18446744073709551615"] {
            assert_eq!(reset(huge), Some(SATURATED_WAIT), "{huge}");
        }
        let decision = decide(&policy(), 1, Duration::ZERO, true, reset("99999999999999999999"), 0);
        assert_eq!(decision, Decision::GiveUp { retry_after: Some(SATURATED_WAIT) });
    }

    #[test]
    fn retry_after_wins_over_the_reset_unless_it_is_invalid() {
        let reset_at = (NOW.as_secs() + 12).to_string();
        let both = [("Retry-After", "2"), ("X-RateLimit-Reset", reset_at.as_str())];
        assert_eq!(server_wait(&response(&both), NOW), Some(Duration::from_secs(2)));
        let invalid = [("Retry-After", "Sat, 31 Feb 2024 00:00:00 GMT"), ("X-RateLimit-Reset", reset_at.as_str())];
        assert_eq!(server_wait(&response(&invalid), NOW), Some(Duration::from_secs(12)));
        assert_eq!(server_wait(&response(&[]), NOW), None);
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
    fn absolute_waits_are_read_against_the_servers_date_not_our_clock() {
        // Our clock is 100 s behind the server's: the reset is 12 s after the
        // server's Date, so the wait is 12 s, not 112 s.
        let server = NOW + Duration::from_secs(100);
        let date = httpdate::fmt_http_date(UNIX_EPOCH + server);
        let reset = (server.as_secs() + 12).to_string();
        let answer = response(&[("Date", date.as_str()), ("X-RateLimit-Reset", reset.as_str())]);
        assert_eq!(server_wait(&answer, NOW), Some(Duration::from_secs(12)));
        let bad_date = response(&[("Date", "yesterday"), ("X-RateLimit-Reset", reset.as_str())]);
        assert_eq!(server_wait(&bad_date, NOW), Some(Duration::from_secs(112)), "an invalid Date: our clock");
    }

    #[test]
    fn backoff_at_the_largest_bounds_does_not_overflow() {
        let huge = RetryPolicy {
            max_attempts: u32::MAX,
            max_wait: Duration::from_millis(u64::MAX),
            deadline: Duration::from_millis(u64::MAX),
            base_delay: Duration::from_millis(u64::MAX),
        };
        for retry in [1, 2, 30, u32::MAX] {
            for random in [0, 1, u64::MAX] {
                assert!(backoff(&huge, retry, random) <= huge.max_wait);
            }
        }
        let decision = decide(&huge, 1, Duration::from_millis(u64::MAX), true, None, u64::MAX);
        assert!(matches!(decision, Decision::Retry(_) | Decision::GiveUp { .. }));
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
