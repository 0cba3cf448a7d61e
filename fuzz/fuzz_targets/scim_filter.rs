//! The SCIM filter parser and the opaque user ids, on arbitrary text.
//!
//! Properties: never panics; a filter longer than `MAX_FILTER_LEN` is
//! refused; an accepted filter has 1 to `MAX_CLAUSES` clauses and writes
//! back (canonical attribute names, values as JSON strings, joined by
//! ` and `) to text that parses to the same filter; a refusal is a
//! non-empty sentence, and the list query carrying it is a 400
//! `invalidFilter`. A user id names at most one email, and that email's id
//! is the id itself (ids are canonical); an id is URL-safe.
#![no_main]

use gitbook_directory_sync::scim::error::ScimType;
use gitbook_directory_sync::scim::filter::{self, Filter, MAX_CLAUSES, MAX_FILTER_LEN};
use gitbook_directory_sync::scim::id;
use gitbook_directory_sync::scim::list::ListQuery;
use gitbook_directory_sync::validate::Email;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();

    match filter::parse(text) {
        Ok(parsed) => {
            assert!(text.len() <= MAX_FILTER_LEN, "a filter of {} bytes was accepted", text.len());
            assert!((1..=MAX_CLAUSES).contains(&parsed.clauses.len()), "{parsed:?}");
            let written = write(&parsed);
            assert_eq!(filter::parse(&written).as_ref(), Ok(&parsed), "{text:?} wrote back as {written:?}");
        }
        Err(message) => {
            assert!(!message.is_empty());
            let query = ListQuery::parse(&[("filter".to_owned(), text.to_owned())]).unwrap_err();
            assert_eq!((query.status, query.scim_type), (400, Some(ScimType::InvalidFilter)));
        }
    }

    if let Some(email) = id::email_of(text) {
        assert_eq!(id::user_id(&email), text, "an id is canonical");
    }
    if let Ok(email) = Email::parse("email", text) {
        let user_id = id::user_id(&email);
        assert!(user_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{user_id}");
        assert_eq!(id::email_of(&user_id), Some(email));
    }
});

fn write(filter: &Filter) -> String {
    let clauses: Vec<String> = filter
        .clauses
        .iter()
        .map(|c| format!("{} eq {}", c.attribute.name(), serde_json::to_string(&c.value).unwrap()))
        .collect();
    clauses.join(" and ")
}
