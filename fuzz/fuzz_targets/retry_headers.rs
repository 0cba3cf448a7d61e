//! `gitbook::retry::parse_http_date` and `server_wait` on arbitrary header
//! values (and dates generated from their fields).
//!
//! Properties: never panics; any valid date (1970..=9999) formatted as an
//! IMF-fixdate parses back to the same instant; a date `parse_http_date`
//! accepts has the instant its fields say (computed independently); and
//! `server_wait` returns exactly what the headers imply: numeric
//! `Retry-After` → that many seconds, an HTTP date → the time until it (zero
//! if past), else `X-RateLimit-Reset` (epoch seconds) → the time until it,
//! else nothing — never more.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use gitbook_directory_sync::gitbook::retry::{parse_http_date, server_wait};
use gitbook_directory_sync::http::Response;
use libfuzzer_sys::fuzz_target;
use std::time::Duration;

/// 9999-12-31T23:59:59Z.
const MAX_DATE: u64 = 253_402_300_799;
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]; // 1970-01-01 was a Thursday

#[derive(Arbitrary, Debug)]
struct Input {
    now_secs: u64,
    now_nanos: u32,
    instant: u64,
    headers: Vec<(Name, Val)>,
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
    Date(u64),
    Fields { weekday: u8, day: u64, month: u8, year: u64, hour: u64, minute: u64, second: u64 },
    Float(f64),
}

fuzz_target!(|data: &[u8]| {
    // The raw input as one header value, too.
    if let Ok(text) = std::str::from_utf8(data) {
        check_date_text(text);
    }
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else { return };

    // Formatting then parsing is the identity on valid dates.
    let instant = input.instant % (MAX_DATE + 1);
    assert_eq!(parse_http_date(&imf_fixdate(instant)), Some(instant), "{}", imf_fixdate(instant));

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
            let value = match value {
                Val::Raw(s) => s.clone(),
                Val::Seconds(s) => s.to_string(),
                Val::Date(t) => imf_fixdate(t % (MAX_DATE + 1)),
                Val::Fields { weekday, day, month, year, hour, minute, second } => format!(
                    "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
                    WEEKDAYS[usize::from(weekday % 7)],
                    day,
                    MONTHS.get(usize::from(*month)).copied().unwrap_or("Foo"),
                    year,
                    hour,
                    minute,
                    second
                ),
                Val::Float(f) => f.to_string(),
            };
            (name, value)
        })
        .collect();
    headers.iter().for_each(|(_, v)| check_date_text(v));
    let response = Response { status: 429, headers, body: vec![] };
    let wait = server_wait(&response, now);
    assert_eq!(wait, expected_wait(&response, now), "headers {:?}, now {now:?}", response.headers);
});

/// `parse_http_date` on any text: no panic, and an accepted date means what
/// its fields say.
fn check_date_text(text: &str) {
    let parsed = parse_http_date(text);
    if let Some(at) = parsed {
        let fields = date_fields(text).unwrap_or_else(|| panic!("accepted {text:?}, which is not an IMF-fixdate"));
        assert_eq!(Some(at), instant_of(fields), "{text:?}");
    }
}

/// (year, month, day, hour, minute, second) of `<3 letters>, DD Mon YYYY HH:MM:SS GMT`,
/// with the ranges `parse_http_date` accepts (years 1970–9999, day 1–31
/// whatever the month, second up to 60), read independently.
fn date_fields(text: &str) -> Option<(u64, u64, u64, u64, u64, u64)> {
    let (_, rest) = text.split_once(", ")?;
    let rest = rest.strip_suffix(" GMT")?;
    let mut parts = rest.split(' ');
    let (day, month, year, time) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let month = MONTHS.iter().position(|m| *m == month)? as u64 + 1;
    let mut hms = time.split(':');
    let (h, m, s) = (hms.next()?, hms.next()?, hms.next()?);
    if hms.next().is_some() {
        return None;
    }
    let number = |s: &str| s.parse::<u64>().ok();
    let (day, year, h, m, s) = (number(day)?, number(year)?, number(h)?, number(m)?, number(s)?);
    ((1..=31).contains(&day) && (1970..=9999).contains(&year) && h <= 23 && m <= 59 && s <= 60)
        .then_some((year, month, day, h, m, s))
}

/// Unix seconds of the fields, by counting whole years and months (checked:
/// `None` past u64).
fn instant_of((year, month, day, h, m, s): (u64, u64, u64, u64, u64, u64)) -> Option<u64> {
    let leaps_before = |y: u64| {
        let y = y - 1;
        y / 4 - y / 100 + y / 400
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let days = (year - 1970)
        .checked_mul(365)?
        .checked_add(leaps_before(year) - leaps_before(1970))?
        .checked_add(month_days[..month as usize - 1].iter().sum::<u64>())?
        .checked_add(day - 1)?;
    days.checked_mul(86_400)?.checked_add(h * 3600 + m * 60 + s)
}

fn imf_fixdate(t: u64) -> String {
    let days = t / 86_400;
    let secs = t % 86_400;
    // Civil date from days since the epoch, by walking years and months.
    let (mut year, mut rest) = (1970u64, days);
    loop {
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let len = if leap { 366 } else { 365 };
        if rest < len {
            break;
        }
        rest -= len;
        year += 1;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut month = 0;
    while rest >= month_days[month] {
        rest -= month_days[month];
        month += 1;
    }
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[(days % 7) as usize],
        rest + 1,
        MONTHS[month],
        year,
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// What the headers imply, per the documentation of `server_wait`.
fn expected_wait(response: &Response, now: Duration) -> Option<Duration> {
    let first = |name: &str| response.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim());
    if let Some(value) = first("retry-after") {
        if let Ok(seconds) = value.parse::<u64>() {
            return Some(Duration::from_secs(seconds));
        }
        if let Some(fields) = date_fields(value) {
            // A date too far to count in u64 seconds is no usable wait.
            let at = instant_of(fields)?;
            return Some(Duration::from_secs(at).saturating_sub(now));
        }
    }
    let reset: f64 = first("x-ratelimit-reset")?.parse().ok()?;
    if !(0.0..=1.0e11).contains(&reset) {
        return None;
    }
    Some(Duration::from_secs_f64(reset).saturating_sub(now))
}
