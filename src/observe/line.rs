//! One log line: a JSON object whose first keys are always `time`, `level`
//! and `type`, then the record's own fields in a fixed order, so lines read
//! the same way in a terminal and parse the same way in a collector.

use serde::Serialize;
use std::time::Duration;

/// Builds one JSON object, keys in the order they are added.
pub struct Line {
    text: String,
}

impl Line {
    /// Starts a line with the time (RFC 3339, UTC, milliseconds), the level
    /// and the record type.
    pub fn new(unix: Duration, level: &str, kind: &str) -> Line {
        let mut line = Line { text: String::with_capacity(256) };
        line.text.push('{');
        line.raw("time", &format!("\"{}\"", rfc3339(unix)));
        line.text.push(',');
        line.raw("level", &format!("\"{level}\""));
        line.text.push(',');
        line.raw("type", &format!("\"{kind}\""));
        line
    }

    fn raw(&mut self, key: &str, json: &str) {
        self.text.push('"');
        self.text.push_str(key);
        self.text.push_str("\":");
        self.text.push_str(json);
    }

    /// Adds `key` with any serializable value (`None` is left out: absent
    /// and unknown read the same to a collector).
    pub fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> &mut Line {
        let json = serde_json::to_string(value).unwrap_or_else(|_| "null".into());
        if json != "null" {
            self.text.push(',');
            self.raw(key, &json);
        }
        self
    }

    /// The finished line, without its newline.
    pub fn finish(mut self) -> String {
        self.text.push('}');
        self.text
    }
}

/// `2026-12-05T21:40:00.123Z` for a time since the Unix epoch.
pub fn rfc3339(unix: Duration) -> String {
    let secs = unix.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        unix.subsec_millis()
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_in_utc_with_milliseconds() {
        assert_eq!(rfc3339(Duration::ZERO), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(Duration::from_millis(951_782_400_007)), "2000-02-29T00:00:00.007Z");
        assert_eq!(rfc3339(Duration::from_secs(1_796_506_799)), "2026-12-05T21:39:59.000Z");
        assert_eq!(rfc3339(Duration::from_secs(4_102_444_800 - 1)), "2099-12-31T23:59:59.000Z");
    }

    #[test]
    fn a_line_starts_with_time_level_and_type_and_leaves_out_absent_fields() {
        let mut line = Line::new(Duration::ZERO, "info", "request");
        line.field("status", &200).field("none", &None::<u32>).field("outcome", "a \"quoted\" word");
        let text = line.finish();
        assert_eq!(
            text,
            r#"{"time":"1970-01-01T00:00:00.000Z","level":"info","type":"request","status":200,"outcome":"a \"quoted\" word"}"#
        );
        serde_json::from_str::<serde_json::Value>(&text).unwrap();
    }
}
