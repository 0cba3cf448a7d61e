//! `gitbook::retry::parse_http_date` and `server_wait` on arbitrary header
//! values, and on dates generated from their fields in each of RFC 9110's
//! three forms (IMF-fixdate, RFC 850, asctime).
//!
//! Properties: never panics; `parse_http_date` agrees with the `httpdate`
//! crate on every text; a date it accepts has the instant its fields say and
//! those fields are a real date (computed independently: no 31 February, the
//! weekday matches, years 1970–9999), and every real date in that range is
//! accepted in each form; and `server_wait` returns exactly what the headers
//! imply: `Retry-After` digits → that many seconds, an HTTP date → the time
//! until it (zero if past), else `X-RateLimit-Reset` (epoch seconds, optional
//! fraction) → the time until it, else nothing; a wait too large for a u64 of
//! milliseconds is `u64::MAX` ms, never less and never more.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use gitbook_directory_sync::gitbook::retry::{parse_http_date, server_wait, SATURATED_WAIT};
use gitbook_directory_sync::http::Response;
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, UNIX_EPOCH};

/// 9999-12-31T23:59:59Z.
const MAX_DATE: u64 = 253_402_300_799;
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
/// Indexed by days since 1970-01-01 (a Thursday) modulo 7.
const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const LONG_WEEKDAYS: [&str; 7] = ["Thursday", "Friday", "Saturday", "Sunday", "Monday", "Tuesday", "Wednesday"];

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Form {
    Imf,
    Rfc850,
    Asctime,
}

#[derive(Arbitrary, Debug)]
struct Input {
    now_secs: u64,
    now_nanos: u32,
    instant: u64,
    form: Form,
    fields: Fields,
    headers: Vec<(Name, Val)>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
struct Fields {
    weekday: u8,
    day: u8,
    month: u8,
    year: u16,
    hour: u8,
    minute: u8,
    second: u8,
}

impl Fields {
    /// The fields as [`format_fields`] writes them (two digits at most but
    /// for the year, a weekday index).
    fn normalized(&self) -> Fields {
        Fields {
            weekday: self.weekday % 7,
            day: self.day % 100,
            month: self.month,
            year: self.year,
            hour: self.hour % 100,
            minute: self.minute % 100,
            second: self.second % 100,
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Name {
    RetryAfter,
    RetryAfterCased,
    Reset,
    ResetCased,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Val {
    Raw(String),
    Seconds(u64),
    Digits(u8),
    Date(Form, u64),
    Fields(Form, Fields),
    Decimal(u64, u32),
    Padded(Box<Val>, u8, u8),
}

fuzz_target!(|data: &[u8]| {
    // The raw input as one header value, too.
    if let Ok(text) = std::str::from_utf8(data) {
        check_date_text(text);
    }
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else { return };

    // Formatting then parsing is the identity on valid dates, in every form
    // that can express the year.
    let instant = input.instant % (MAX_DATE + 1);
    let fields = fields_of(input.form, instant);
    let text = format_fields(input.form, &fields);
    if !matches!(input.form, Form::Rfc850) || civil(instant).0 < 2070 {
        assert_eq!(parse_http_date(&text), Some(instant), "{text}");
    }

    // Dates from arbitrary fields: accepted exactly when they are real.
    for (form, fields) in [(input.form, fields), (input.form, input.fields.normalized())] {
        let text = format_fields(form, &fields);
        check_date_text(&text);
        assert_eq!(parse_http_date(&text), fields_instant(form, &fields), "{text}");
    }

    let now = Duration::new(input.now_secs % (MAX_DATE * 2), input.now_nanos % 1_000_000_000);
    let headers: Vec<(String, String)> = input
        .headers
        .iter()
        .take(8)
        .map(|(name, value)| {
            let name = match name {
                Name::RetryAfter => "retry-after".to_string(),
                Name::RetryAfterCased => "Retry-After".to_string(),
                Name::Reset => "x-ratelimit-reset".to_string(),
                Name::ResetCased => "X-RateLimit-Reset".to_string(),
                Name::Other(s) => s.clone(),
            };
            (name, header_value(value))
        })
        .collect();
    headers.iter().for_each(|(_, v)| check_date_text(v));
    let response = Response { status: 429, headers, body: vec![] };
    let wait = server_wait(&response, now);
    assert_eq!(wait, expected_wait(&response, now), "headers {:?}, now {now:?}", response.headers);
    assert!(wait.is_none_or(|w| w <= SATURATED_WAIT));
});

fn header_value(value: &Val) -> String {
    match value {
        Val::Raw(s) => s.clone(),
        Val::Seconds(s) => s.to_string(),
        Val::Digits(n) => "9".repeat(usize::from(*n)),
        Val::Date(form, t) => format_fields(*form, &fields_of(*form, t % (MAX_DATE + 1))),
        Val::Fields(form, fields) => format_fields(*form, &fields.normalized()),
        Val::Decimal(whole, fraction) => format!("{whole}.{fraction}"),
        Val::Padded(inner, before, after) => {
            let pad = |n: u8| [" ", "\t", "\n", "\r", "\x0b", "\x0c", "\u{a0}"][usize::from(n % 7)];
            format!("{}{}{}", pad(*before), header_value(inner), pad(*after))
        }
    }
}

/// `parse_http_date` on any text: no panic, agreement with `httpdate`, and an
/// accepted date is a real one whose fields give the instant returned.
fn check_date_text(text: &str) {
    let parsed = parse_http_date(text);
    let reference = httpdate::parse_http_date(text).ok().map(|t| t.duration_since(UNIX_EPOCH).unwrap().as_secs());
    assert_eq!(parsed, reference, "{text:?}");
    if let Some(at) = parsed {
        let (form, fields) = read_fields(text.trim()).unwrap_or_else(|| panic!("accepted {text:?}, not an HTTP date"));
        assert_eq!(Some(at), fields_instant(form, &fields), "{text:?}");
    }
}

/// The fields of a date in one of the three layouts, read independently of
/// the code under test (layout only; no range checks).
fn read_fields(text: &str) -> Option<(Form, Fields)> {
    let number = |s: &str| s.bytes().all(|b| b.is_ascii_digit()).then(|| s.parse::<u16>().ok()).flatten();
    let month = |s: &str| MONTHS.iter().position(|m| *m == s).map(|i| i as u8 + 1);
    let weekday = |s: &str| WEEKDAYS.iter().chain(&LONG_WEEKDAYS).position(|w| *w == s).map(|i| (i % 7) as u8);
    let hms = |s: &str| -> Option<(u8, u8, u8)> {
        let b = s.as_bytes();
        if b.len() != 8 || b[2] != b':' || b[5] != b':' {
            return None;
        }
        Some((number(&s[0..2])? as u8, number(&s[3..5])? as u8, number(&s[6..8])? as u8))
    };
    // Sunday, 06-Nov-94 08:49:37 GMT. httpdate does not look at the byte
    // between the date and the time (any ASCII byte passes), so neither does
    // this reader: a harmless leniency, kept so the two agree.
    if let Some((wd, rest)) = text.split_once(", ") {
        if let Some(weekday) = LONG_WEEKDAYS.iter().position(|w| *w == wd) {
            if rest.len() != 22 || !rest.is_ascii() || !rest.ends_with(" GMT") {
                return None;
            }
            let (date, time) = (&rest[0..9], &rest[10..18]);
            let (hour, minute, second) = hms(time)?;
            let (day, rest) = date.split_once('-')?;
            let (mon, yy) = rest.split_once('-')?;
            (day.len() == 2 && yy.len() == 2).then_some(())?;
            // Two digits, as `fields_instant` takes them for this form.
            let year = number(yy)?;
            let day = number(day)? as u8;
            return Some((
                Form::Rfc850,
                Fields { weekday: weekday as u8, day, month: month(mon)?, year, hour, minute, second },
            ));
        }
    }
    let parts: Vec<&str> = text.split(' ').collect();
    match parts[..] {
        // Sun, 06 Nov 1994 08:49:37 GMT
        [wd, day, mon, year, time, "GMT"] if wd.len() == 4 && day.len() == 2 && year.len() == 4 => {
            let (hour, minute, second) = hms(time)?;
            let weekday = WEEKDAYS.iter().position(|w| Some(*w) == wd.strip_suffix(','))? as u8;
            Some((
                Form::Imf,
                Fields {
                    weekday,
                    day: number(day)? as u8,
                    month: month(mon)?,
                    year: number(year)?,
                    hour,
                    minute,
                    second,
                },
            ))
        }
        // Sun Nov  6 08:49:37 1994 (day padded with a space) or Sun Nov 06 …
        [wd, mon, "", day, time, year] | [wd, mon, day, time, year] if wd.len() == 3 && year.len() == 4 => {
            let two_digits = day.len() == 2;
            let padded = parts.len() == 6 && day.len() == 1;
            (two_digits && parts.len() == 5 || padded).then_some(())?;
            let (hour, minute, second) = hms(time)?;
            Some((
                Form::Asctime,
                Fields {
                    weekday: weekday(wd)?,
                    day: number(day)? as u8,
                    month: month(mon)?,
                    year: number(year)?,
                    hour,
                    minute,
                    second,
                },
            ))
        }
        _ => None,
    }
}

fn is_leap(year: u64) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn month_lengths(year: u64) -> [u64; 12] {
    [31, if is_leap(year) { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
}

/// Unix seconds of the fields when they name a real second of 1970–9999
/// whose weekday is the one given (by counting whole years and months), and
/// that the form can express; else `None`.
fn fields_instant(form: Form, f: &Fields) -> Option<u64> {
    let year = match form {
        // Two digits: 00–69 are 2000–2069, 70–99 are 1970–1999.
        Form::Rfc850 if f.year > 99 => return None,
        Form::Rfc850 if f.year < 70 => 2000 + u64::from(f.year),
        Form::Rfc850 => 1900 + u64::from(f.year),
        _ => u64::from(f.year),
    };
    let month = usize::from(f.month);
    let valid = (1970..=9999).contains(&year)
        && (1..=12).contains(&month)
        && f.day >= 1
        && u64::from(f.day) <= month_lengths(year)[month - 1]
        && f.hour < 24
        && f.minute < 60
        && f.second < 60;
    if !valid {
        return None;
    }
    let days = days_before(year) + month_lengths(year)[..month - 1].iter().sum::<u64>() + u64::from(f.day) - 1;
    (days % 7 == u64::from(f.weekday)).then_some(())?;
    Some(days * 86_400 + u64::from(f.hour) * 3600 + u64::from(f.minute) * 60 + u64::from(f.second))
}

/// Writes normalized fields in `form` (an unknown month as "Foo").
fn format_fields(form: Form, f: &Fields) -> String {
    let weekday = usize::from(f.weekday);
    let month = MONTHS.get(usize::from(f.month).wrapping_sub(1)).copied().unwrap_or("Foo");
    let Fields { day, year, hour: h, minute: m, second: s, .. } = *f;
    match form {
        Form::Imf => format!("{}, {day:02} {month} {year:04} {h:02}:{m:02}:{s:02} GMT", WEEKDAYS[weekday]),
        Form::Rfc850 => format!("{}, {day:02}-{month}-{year:02} {h:02}:{m:02}:{s:02} GMT", LONG_WEEKDAYS[weekday]),
        Form::Asctime => format!("{} {month} {day:>2} {h:02}:{m:02}:{s:02} {year:04}", WEEKDAYS[weekday]),
    }
}

/// Days from 1970-01-01 to 1 January of `year` (1970 or later): 365 a year
/// plus one per leap year (every 4th, but not every 100th, but every 400th).
fn days_before(year: u64) -> u64 {
    let leaps_through = |y: u64| y / 4 - y / 100 + y / 400;
    (year - 1970) * 365 + leaps_through(year - 1) - leaps_through(1969)
}

/// (year, month 1–12, day 1–31) of a Unix time: the year by stepping up from
/// a lower bound, then by walking months.
fn civil(t: u64) -> (u64, usize, u64) {
    let days = t / 86_400;
    let mut year = 1970 + days / 366;
    while days_before(year + 1) <= days {
        year += 1;
    }
    let mut rest = days - days_before(year);
    let mut month = 0;
    while rest >= month_lengths(year)[month] {
        rest -= month_lengths(year)[month];
        month += 1;
    }
    (year, month + 1, rest + 1)
}

/// The fields of a Unix time as `form` writes them (RFC 850: the year's last two digits).
fn fields_of(form: Form, t: u64) -> Fields {
    let (year, month, day) = civil(t);
    let secs = t % 86_400;
    Fields {
        weekday: ((t / 86_400) % 7) as u8,
        day: day as u8,
        month: month as u8,
        year: match form {
            Form::Rfc850 => (year % 100) as u16,
            _ => year as u16,
        },
        hour: (secs / 3600) as u8,
        minute: (secs % 3600 / 60) as u8,
        second: (secs % 60) as u8,
    }
}

/// What the headers imply, per the documentation of `server_wait`.
fn expected_wait(response: &Response, now: Duration) -> Option<Duration> {
    let first =
        |name: &str| response.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim_ascii());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    // Milliseconds as u128, saturated at u64::MAX.
    let saturate =
        |ms: Option<u128>| Duration::from_millis(ms.map_or(u64::MAX, |ms| ms.min(u128::from(u64::MAX)) as u64));
    if let Some(value) = first("retry-after") {
        if digits(value) {
            return Some(saturate(value.parse::<u128>().ok().and_then(|s| s.checked_mul(1000))));
        }
        if let Ok(at) = httpdate::parse_http_date(value) {
            let at = at.duration_since(UNIX_EPOCH).unwrap();
            return Some(at.saturating_sub(now).min(SATURATED_WAIT));
        }
    }
    let value = first("x-ratelimit-reset")?;
    let (whole, fraction) = value.split_once('.').unwrap_or((value, "0"));
    if !digits(whole) || !digits(fraction) {
        return None;
    }
    match whole.parse::<u64>() {
        Err(_) => Some(SATURATED_WAIT),
        Ok(seconds) => {
            let nanos: u32 = format!("{fraction:0<9}")[..9].parse().unwrap();
            Some(Duration::new(seconds, nanos).saturating_sub(now).min(SATURATED_WAIT))
        }
    }
}
