//! `events::generic::parse` on arbitrary bytes.
//!
//! Properties: never panics; an error is always `Error::InvalidInput`; on
//! success there is one event per array element (or one for a single object),
//! every email/ID/title inside re-validates to itself, lists are
//! de-duplicated, the `id`s are the document's, and writing the events back
//! in the generic format parses to the same events.
#![no_main]

use fuzz_support::{assert_generic_round_trip, assert_invalid_input, check_event};
use gitbook_directory_sync::events::generic;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let result = generic::parse(data);
    let events = match result {
        Err(error) => {
            assert_invalid_input(&error, false);
            return;
        }
        Ok(events) => events,
    };
    let value: Value = serde_json::from_slice(data).expect("parse accepted bytes that are not JSON");
    assert_eq!(generic::parse_value(&value).as_ref(), Ok(&events), "parse and parse_value disagree");
    match &value {
        Value::Array(items) => {
            assert_eq!(events.len(), items.len(), "one event per array element");
            assert!(events.len() <= generic::MAX_EVENTS);
            for (event, item) in events.iter().zip(items) {
                assert_eq!(event.id.as_deref(), item.get("id").and_then(Value::as_str), "event id changed");
            }
        }
        Value::Object(map) => {
            assert_eq!(events.len(), 1, "a single object is one event");
            assert_eq!(events[0].id.as_deref(), map.get("id").and_then(Value::as_str));
        }
        other => panic!("accepted a document that is neither an object nor an array: {other}"),
    }
    events.iter().for_each(check_event);
    assert_generic_round_trip(&events);
});
