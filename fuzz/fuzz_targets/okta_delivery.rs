//! `events::okta::parse` on deliveries: arbitrary bytes that decode to JSON,
//! and (for bytes that do not) a structured delivery built with `arbitrary`
//! so uuids repeat, timestamps sit on edges and targets vary.
//!
//! Properties: never panics; an error is `Error::InvalidInput`; on success
//! there is one item per delivered event, ordered by `published` as an
//! instant with ties in delivery order (checked against an independent
//! RFC 3339 parser, which must also agree on which timestamps are valid); no
//! two `Item::Event`s share a uuid and only a uuid's first occurrence can be
//! an event; every value inside an event re-validates and the events
//! round-trip through the generic format.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use fuzz_support::{assert_generic_round_trip, assert_invalid_input, check_event};
use gitbook_directory_sync::events::okta::{self, GroupMapping};
use gitbook_directory_sync::events::{self, Ignored, Item};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    let delivery = match serde_json::from_slice::<Value>(data) {
        Ok(value) => value,
        Err(_) => match Delivery::arbitrary_take_rest(Unstructured::new(data)) {
            Ok(delivery) => delivery.to_json(),
            Err(_) => return,
        },
    };
    check(&delivery, &GroupMapping::default());
    check(&delivery, mapping());
});

fn mapping() -> &'static GroupMapping {
    static MAPPING: OnceLock<GroupMapping> = OnceLock::new();
    MAPPING.get_or_init(|| GroupMapping::parse("00gEng=teamEng, Design=teamDesign").unwrap())
}

fn check(delivery: &Value, mapping: &GroupMapping) {
    let events = delivery.get("data").and_then(|d| d.get("events")).and_then(Value::as_array);
    let items = match okta::parse(delivery, mapping) {
        Ok(items) => items,
        Err(error) => {
            assert_invalid_input(&error, false);
            // The independent parser must also refuse a refused timestamp.
            let gitbook_directory_sync::error::Error::InvalidInput { field, .. } = &error else { unreachable!() };
            if let Some(index) = field.strip_prefix("data.events[").and_then(|f| f.strip_suffix("].published")) {
                let index: usize = index.parse().unwrap();
                let published = &events.unwrap()[index]["published"];
                if let Some(text) = published.as_str() {
                    assert_eq!(instant(text), None, "okta refused the timestamp {text:?} that RFC 3339 allows");
                }
            }
            return;
        }
    };
    let events = events.expect("parse accepted a delivery without data.events");
    assert!(events.len() <= okta::MAX_EVENTS);
    assert_eq!(items.len(), events.len(), "one item per delivered event");

    let uuid = |i: usize| events[i]["uuid"].as_str().unwrap();
    let keys: Vec<(i64, u32)> = events
        .iter()
        .map(|event| {
            let text = event["published"].as_str().unwrap();
            instant(text).unwrap_or_else(|| panic!("okta accepted {text:?}, which is not an RFC 3339 date-time"))
        })
        .collect();
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by_key(|&i| keys[i]); // stable: ties keep delivery order

    let mut event_uuids = std::collections::HashSet::new();
    for (item, &source) in items.iter().zip(&order) {
        let (id, first) = (uuid(source), (0..events.len()).find(|&j| uuid(j) == uuid(source)).unwrap() == source);
        match item {
            Item::Event(event) => {
                assert_eq!(event.id.as_deref(), Some(id), "items are not in published order: {items:#?}");
                assert!(first, "a repeated uuid {id:?} became an event");
                assert!(event_uuids.insert(id), "two events share the uuid {id:?}");
                check_event(event);
            }
            Item::Ignored(Ignored { id: ignored_id, event_type, reason }) => {
                assert_eq!(ignored_id.as_deref(), Some(id), "items are not in published order: {items:#?}");
                assert_eq!(Some(event_type.as_str()), events[source]["eventType"].as_str());
                assert!(!reason.is_empty());
            }
        }
    }
    let (directory_events, _) = events::split(items);
    assert_generic_round_trip(&directory_events);
}

/// An independent RFC 3339 `date-time` parser (as documented in the okta
/// module: `T`/`t`/space, `Z`/`z` or `±HH:MM`, fractions truncated to
/// nanoseconds, `:60` is the next minute's first second) → (Unix seconds,
/// nanoseconds).
fn instant(text: &str) -> Option<(i64, u32)> {
    let (date, rest) = (text.get(..10)?, text.get(10..)?);
    let sep = rest.chars().next()?;
    if !matches!(sep, 'T' | 't' | ' ') {
        return None;
    }
    let rest = &rest[1..];
    let digits = |s: &str| -> Option<i64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let mut d = date.split('-');
    let (y, mo, da) = (d.next()?, d.next()?, d.next()?);
    if d.next().is_some() || y.len() != 4 || mo.len() != 2 || da.len() != 2 {
        return None;
    }
    let (year, month, day) = (digits(y)?, digits(mo)?, digits(da)?);
    let time = rest.get(..8)?;
    let mut t = time.split(':');
    let (h, mi, s) = (t.next()?, t.next()?, t.next()?);
    if t.next().is_some() || h.len() != 2 || mi.len() != 2 || s.len() != 2 {
        return None;
    }
    let (hour, minute, second) = (digits(h)?, digits(mi)?, digits(s)?);
    let mut rest = &rest[8..];
    let mut nanos = 0u32;
    if let Some(fraction) = rest.strip_prefix('.') {
        let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return None;
        }
        let mut padded: String = fraction[..len].chars().take(9).collect();
        while padded.len() < 9 {
            padded.push('0');
        }
        nanos = padded.parse().ok()?;
        rest = &fraction[len..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let (oh, om) = rest.get(1..)?.split_once(':')?;
            if oh.len() != 2 || om.len() != 2 {
                return None;
            }
            let (oh, om) = (digits(oh)?, digits(om)?);
            if oh > 23 || om > 59 {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&month) || day < 1 || day > month_days[month as usize - 1] {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // Days before 1 January of `y` counted from 1 January of year 1 (shifted
    // by 400 years so year 0 works), a different method from the crate's.
    let days_before = |y: i64| {
        let y = y + 400 - 1;
        365 * y + y / 4 - y / 100 + y / 400
    };
    let day_of_year = month_days[..month as usize - 1].iter().sum::<i64>() + day - 1;
    let days = days_before(year) - days_before(1970) + day_of_year;
    Some((days * 86_400 + hour * 3600 + minute * 60 + second - offset, nanos))
}

// ---- structured deliveries -------------------------------------------------

#[derive(Arbitrary, Debug)]
struct Delivery {
    events: Vec<GenEvent>,
}

#[derive(Arbitrary, Debug)]
struct GenEvent {
    uuid: Pick<String>,
    published: GenTime,
    event_type: Pick<String>,
    outcome: Option<Pick<String>>,
    targets: Option<Vec<GenTarget>>,
}

#[derive(Arbitrary, Debug)]
struct GenTarget {
    kind: Pick<String>,
    id: Pick<String>,
    alternate_id: Pick<String>,
    display_name: Pick<String>,
}

/// Mostly one of a few realistic values (so they repeat), sometimes anything.
#[derive(Arbitrary, Debug)]
enum Pick<T> {
    Known(u8),
    Any(T),
}

#[derive(Arbitrary, Debug)]
enum GenTime {
    Fields {
        year: u16,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
        fraction: Option<u64>,
        sep: u8,
        zone: Zone,
    },
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum Zone {
    Z,
    LowerZ,
    Offset { negative: bool, hours: u8, minutes: u8 },
    Raw(String),
}

fn pick(value: &Pick<String>, known: &[&str]) -> Value {
    match value {
        Pick::Known(i) if usize::from(*i) < known.len() => known[usize::from(*i)].into(),
        Pick::Known(_) => Value::Null,
        Pick::Any(s) => s.as_str().into(),
    }
}

impl GenTime {
    fn text(&self) -> String {
        match self {
            GenTime::Raw(s) => s.clone(),
            GenTime::Fields { year, month, day, hour, minute, second, fraction, sep, zone } => {
                let sep = ["T", "t", " ", "x"][usize::from(*sep % 4)];
                let fraction = fraction.map(|f| format!(".{f}")).unwrap_or_default();
                let zone = match zone {
                    Zone::Z => "Z".to_string(),
                    Zone::LowerZ => "z".to_string(),
                    Zone::Offset { negative, hours, minutes } => {
                        format!("{}{:02}:{:02}", if *negative { '-' } else { '+' }, hours % 100, minutes % 100)
                    }
                    Zone::Raw(s) => s.clone(),
                };
                format!(
                    "{:04}-{:02}-{:02}{sep}{:02}:{:02}:{:02}{fraction}{zone}",
                    year % 10_000,
                    month % 16,
                    day % 34,
                    hour % 26,
                    minute % 62,
                    second % 62
                )
            }
        }
    }
}

impl Delivery {
    fn to_json(&self) -> Value {
        let events: Vec<Value> = self.events.iter().map(GenEvent::to_json).collect();
        json!({
            "eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "cloudEventsVersion": "0.1",
            "source": "https://x.okta.com/api/v1/eventHooks/who8", "eventId": "b5a188b9",
            "contentType": "application/json", "data": {"events": events}
        })
    }
}

impl GenEvent {
    fn to_json(&self) -> Value {
        let mut event = Map::new();
        event.insert("uuid".into(), pick(&self.uuid, &["u1", "u2", "u3", "u4", "", "f4c5-9a2b"]));
        event.insert("published".into(), self.published.text().into());
        let types = [
            "user.lifecycle.create",
            "user.lifecycle.activate",
            "user.lifecycle.reactivate",
            "user.lifecycle.deactivate",
            "user.lifecycle.suspend",
            "user.lifecycle.delete.initiated",
            "group.user_membership.add",
            "group.user_membership.remove",
            "user.session.start",
        ];
        event.insert("eventType".into(), pick(&self.event_type, &types));
        if let Some(outcome) = &self.outcome {
            event.insert("outcome".into(), json!({"result": pick(outcome, &["SUCCESS", "FAILURE", "success"])}));
        }
        if let Some(targets) = &self.targets {
            let targets: Vec<Value> = targets
                .iter()
                .map(|t| {
                    json!({
                        "type": pick(&t.kind, &["User", "UserGroup", "AppInstance"]),
                        "id": pick(&t.id, &["00u2", "00gEng", "00gOther"]),
                        "alternateId": pick(&t.alternate_id, &["ann@x.com", "Bob@Example.COM", "ann", " c@d.io "]),
                        "displayName": pick(&t.display_name, &["Ann Lee", "Design", "design ", "Engineering", ""]),
                    })
                })
                .collect();
            event.insert("target".into(), targets.into());
        }
        event.insert("actor".into(), json!({"id": "00u1", "type": "User", "alternateId": "admin@x.com"}));
        Value::Object(event)
    }
}
