//! Timestamp formatting without a date crate: RFC 3339 for JSON fields and IMF-fixdate
//! (RFC 9110 section 5.6.7) for `Retry-After`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// 2024-01-01T09:00:00Z in milliseconds since the epoch: the join date of the first seeded
/// member. Seed dates sit in the past so members invited during a test always join later.
pub(crate) const SEED_EPOCH_MS: i64 = 1_704_099_600_000;

/// Time since the Unix epoch (zero if the clock is before 1970, which never matters here).
pub(crate) fn since_epoch() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO)
}

/// The current time as RFC 3339 with milliseconds, the way GitBook prints timestamps.
pub(crate) fn now_rfc3339() -> String {
    rfc3339_from_millis(i64::try_from(since_epoch().as_millis()).unwrap_or(i64::MAX))
}

/// Whole seconds since the epoch of `now + after`, rounded up so a client that waits until
/// then has really waited at least `after`.
pub(crate) fn epoch_secs_after(after: Duration) -> u64 {
    let t = since_epoch() + after;
    t.as_secs() + u64::from(t.subsec_nanos() > 0)
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day); Howard Hinnant's
/// `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // month counted from March, [0, 11]
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `2024-01-01T09:00:00.000Z` for a millisecond timestamp.
pub(crate) fn rfc3339_from_millis(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!("{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z", sod / 3600, sod / 60 % 60, sod % 60)
}

/// IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub(crate) fn imf_fixdate(epoch_secs: u64) -> String {
    const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let secs = i64::try_from(epoch_secs).unwrap_or(i64::MAX);
    let days = secs.div_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    let sod = secs.rem_euclid(86_400);
    // 1970-01-01 was a Thursday.
    let weekday = WEEKDAYS[(days + 4).rem_euclid(7) as usize];
    let month = MONTHS[(mo - 1) as usize];
    format!("{weekday}, {d:02} {month} {y:04} {:02}:{:02}:{:02} GMT", sod / 3600, sod / 60 % 60, sod % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339_from_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_from_millis(SEED_EPOCH_MS), "2024-01-01T09:00:00.000Z");
        assert_eq!(rfc3339_from_millis(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(imf_fixdate(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(imf_fixdate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn epoch_secs_after_rounds_up() {
        let now = since_epoch().as_secs();
        let t = epoch_secs_after(Duration::from_millis(1500));
        assert!(t >= now + 2 && t <= now + 3, "{t} vs {now}");
    }
}
