//! RFC 3339 timestamps as instants, for ordering events that arrive with
//! mixed UTC offsets and fractions (Okta's `published`). The one place with
//! calendar arithmetic in the crate.

/// An instant, for ordering: seconds since the Unix epoch and nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    seconds: i64,
    nanos: u32,
}

impl Timestamp {
    /// Parses an RFC 3339 `date-time`: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`
    /// (`T`/`Z` in either case, or a space for `T`). Fractions finer than a
    /// nanosecond are truncated; a leap second (`:60`) counts as the next
    /// minute's first second.
    pub fn parse(text: &str) -> Option<Timestamp> {
        let b = text.as_bytes();
        let number = |at: usize, len: usize| -> Option<i64> {
            let digits = b.get(at..at + len)?;
            digits.iter().all(u8::is_ascii_digit).then(|| digits.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
        };
        let byte_is = |at: usize, allowed: &[u8]| b.get(at).is_some_and(|c| allowed.contains(c));
        let year = number(0, 4)?;
        let month = number(5, 2)?;
        let day = number(8, 2)?;
        let hour = number(11, 2)?;
        let minute = number(14, 2)?;
        let second = number(17, 2)?;
        let separators =
            byte_is(4, b"-") && byte_is(7, b"-") && byte_is(10, b"Tt ") && byte_is(13, b":") && byte_is(16, b":");
        if !separators {
            return None;
        }
        let mut at = 19;
        let mut nanos: u32 = 0;
        if byte_is(at, b".") {
            at += 1;
            let start = at;
            while byte_is(at, b"0123456789") {
                if at - start < 9 {
                    nanos = nanos * 10 + u32::from(b[at] - b'0');
                }
                at += 1;
            }
            let digits = at - start;
            if digits == 0 {
                return None;
            }
            if digits < 9 {
                nanos *= 10u32.pow((9 - digits) as u32);
            }
        }
        let offset = if byte_is(at, b"Zz") {
            at += 1;
            0
        } else if byte_is(at, b"+-") {
            let sign = if b[at] == b'-' { -1 } else { 1 };
            let (hours, minutes) = (number(at + 1, 2)?, number(at + 4, 2)?);
            if !byte_is(at + 3, b":") || hours > 23 || minutes > 59 {
                return None;
            }
            at += 6;
            sign * (hours * 3600 + minutes * 60)
        } else {
            return None;
        };
        let valid = at == b.len()
            && (1..=12).contains(&month)
            && (1..=days_in_month(year, month)).contains(&day)
            && hour <= 23
            && minute <= 59
            && second <= 60;
        if !valid {
            return None;
        }
        let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset;
        Some(Timestamp { seconds, nanos })
    }
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instant(text: &str) -> (i64, u32) {
        let t = Timestamp::parse(text).unwrap_or_else(|| panic!("{text}"));
        (t.seconds, t.nanos)
    }

    #[test]
    fn timestamps_are_rfc_3339_instants() {
        assert_eq!(instant("1970-01-01T00:00:00Z"), (0, 0));
        assert_eq!(instant("2024-01-01T00:00:00.000Z"), (1_704_067_200, 0));
        assert_eq!(instant("2000-03-01T00:00:00Z"), (951_868_800, 0));
        assert_eq!(instant("2024-02-29T12:00:00Z"), (1_709_208_000, 0));
        assert_eq!(instant("1969-12-31T23:59:59.5Z"), (-1, 500_000_000));
        assert_eq!(instant("2024-01-01T01:30:00+01:30"), instant("2024-01-01T00:00:00Z"));
        assert_eq!(instant("2023-12-31T19:00:00-05:00"), instant("2024-01-01 00:00:00z"));
        assert_eq!(instant("2024-01-01T00:00:00.123456789987Z").1, 123_456_789);
        assert_eq!(instant("2024-01-01T00:00:00.12Z").1, 120_000_000);
        assert_eq!(instant("2016-12-31T23:59:60Z"), instant("2017-01-01T00:00:00Z"));
        for bad in [
            "",
            "2024-01-01",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00.Z",
            "2024-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2100-02-29T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:60:00Z",
            "2024-01-01T00:00:61Z",
            "2024-01-01T00:00:00+24:00",
            "2024-01-01T00:00:00+0100",
            "2024-01-01T00:00:00Zjunk",
            "2024/01/01T00:00:00Z",
            "+024-01-01T00:00:00Z",
            "2024-01-01T00:00:00ZZ",
            "２０２４-01-01T00:00:00Z",
        ] {
            assert_eq!(Timestamp::parse(bad), None, "{bad:?}");
        }
        assert!(Timestamp::parse("2000-02-29T00:00:00Z").is_some(), "2000 is a leap year");
    }
}
