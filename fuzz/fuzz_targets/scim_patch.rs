//! SCIM request bodies on arbitrary bytes: the PATCH parser, the Group PATCH
//! reading, and the User and Group body readers.
//!
//! Properties: never panics; a refusal is a 400 with a `scimType` (PATCH
//! syntax: `invalidSyntax`, or `tooMany` past `MAX_OPERATIONS`); an accepted
//! PATCH has at most as many targets as its operations' paths and value
//! keys, each path lower-case, and either marked as an extension (a `urn:`
//! other than the core schemas, kept whole) or a core path without brackets; a Group PATCH never both adds and removes
//! one person; an accepted User body's email is normalized and an accepted
//! Group body's title is trimmed and non-empty; a kept `userName` is never
//! the email itself.
#![no_main]

use gitbook_directory_sync::scim::error::{ScimError, ScimType};
use gitbook_directory_sync::scim::patch::{self, MAX_OPERATIONS};
use gitbook_directory_sync::scim::{groups, resource};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };

    match patch::parse(&body) {
        Ok(targets) => {
            let operations = operations(&body).expect("an accepted PATCH has Operations");
            assert!(operations.len() <= MAX_OPERATIONS);
            let most: usize = operations.iter().map(most_targets).sum();
            assert!(targets.len() <= most, "{} targets from {} operations", targets.len(), operations.len());
            for target in &targets {
                let path = &target.path;
                assert_eq!(path.name, path.name.to_ascii_lowercase(), "{path:?}");
                // Extension paths are kept whole (and ignored): only core ones are split.
                assert!(path.extension || !path.name.contains(['[', ']']), "{path:?}");
                assert!(path.extension || !path.name.starts_with("urn:"), "{path:?}");
            }
            match groups::changes(&targets) {
                Ok(changes) => {
                    assert!(changes.add.iter().all(|e| !changes.remove.contains(e)), "{changes:?}");
                }
                Err(error) => check_error(&error, None),
            }
        }
        Err(error) => {
            let too_many = operations(&body).is_some_and(|ops| ops.len() > MAX_OPERATIONS);
            let expected = if too_many { ScimType::TooMany } else { ScimType::InvalidSyntax };
            check_error(&error, Some(expected));
        }
    }

    match resource::user_input(&body) {
        Ok(input) => match &input.identity {
            Ok((email, user_name)) => {
                assert_eq!(email.as_str(), email.as_str().trim().to_ascii_lowercase());
                assert!(user_name.as_deref().is_none_or(|n| !n.eq_ignore_ascii_case(email.as_str())), "{input:?}");
            }
            Err(error) => check_error(error, None),
        },
        Err(error) => check_error(&error, None),
    }
    match resource::group_input(&body) {
        Ok(input) => {
            let title = input.title.as_str();
            assert!(!title.is_empty() && title == title.trim(), "{title:?}");
        }
        Err(error) => check_error(&error, None),
    }
});

/// The most targets one operation can yield: one, or one per key of a
/// `value` object (any case of `value`), a core schema URN key counting the
/// keys of the object it wraps.
fn most_targets(operation: &Value) -> usize {
    let values = operation.as_object().into_iter().flatten().filter(|(k, _)| k.eq_ignore_ascii_case("value"));
    let keys = |object: &serde_json::Map<String, Value>| -> usize {
        object.iter().map(|(_, v)| v.as_object().map_or(1, |inner| inner.len().max(1))).sum()
    };
    values.filter_map(|(_, v)| v.as_object()).map(keys).max().unwrap_or(0).max(1)
}

/// The `Operations` array, found as the parser finds it (any case).
fn operations(body: &Value) -> Option<&Vec<Value>> {
    body.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case("operations"))?.1.as_array()
}

fn check_error(error: &ScimError, expected: Option<ScimType>) {
    assert_eq!(error.status, 400, "{error:?}");
    assert!(error.scim_type.is_some() && !error.detail.is_empty(), "{error:?}");
    if let Some(expected) = expected {
        assert_eq!(error.scim_type, Some(expected), "{error:?}");
    }
    let body = error.body();
    assert_eq!(body["status"], "400");
}
