//! `sync::reconcile::Snapshot::parse` on arbitrary bytes.
//!
//! Properties: never panics; an error is `Error::InvalidInput`; `parse`
//! (streaming) and `parse_value` (tree) accept the same documents with the
//! same result, but for a top-level field given twice, which only `parse`
//! refuses; on success every email re-validates and no two users share one,
//! group names are trimmed, non-empty, at most 256 characters without control
//! characters and not repeated within a user, titles and protected entries
//! re-validate, a scope is never empty; and the snapshot written back in the
//! documented format parses to the same snapshot.
#![no_main]

use fuzz_support::{assert_invalid_input, check_email, check_member_ref, check_title};
use gitbook_directory_sync::role::role_or_guest_name;
use gitbook_directory_sync::sync::reconcile::Snapshot;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};
use std::collections::HashSet;

fuzz_target!(|data: &[u8]| {
    let snapshot = match Snapshot::parse(data) {
        Ok(snapshot) => snapshot,
        Err(error) => {
            assert_invalid_input(&error, false);
            // The streaming parser refuses only what the tree-based one
            // refuses, plus a top-level field given twice.
            if let Ok(value) = serde_json::from_slice::<Value>(data) {
                if let Ok(tree) = Snapshot::parse_value(&value) {
                    assert!(
                        top_level_key_repeats(data),
                        "parse refused ({error:?}) what parse_value accepts: {tree:?}"
                    );
                }
            }
            return;
        }
    };
    let value: Value = serde_json::from_slice(data).unwrap();
    assert_eq!(Snapshot::parse_value(&value).as_ref(), Ok(&snapshot));

    let mut emails = HashSet::new();
    for user in &snapshot.users {
        check_email(&user.email);
        assert!(emails.insert(user.email.as_str()), "{} is listed twice", user.email);
        for (i, group) in user.groups.iter().enumerate() {
            check_group(group);
            assert!(!user.groups[..i].contains(group), "group {group:?} repeated for {}", user.email);
        }
    }
    let rules = &snapshot.rules;
    for (group, title) in &rules.group_teams {
        check_group(group);
        check_title(title);
    }
    rules.group_roles.keys().for_each(|g| check_group(g));
    if let Some(scope) = &rules.scope {
        assert!(!scope.is_empty(), "an empty scope was accepted");
        scope.iter().for_each(|g| check_group(g));
    }
    rules.protected.iter().for_each(check_member_ref);

    // Written back in the documented format, it parses to the same snapshot.
    let written = write(&snapshot);
    let bytes = serde_json::to_vec(&written).unwrap();
    match Snapshot::parse(&bytes) {
        Ok(again) => assert_eq!(again, snapshot, "snapshot round trip\n{written}"),
        Err(error) => panic!("a written snapshot was refused: {error:?}\n{written}"),
    }
    // The rules' helpers must not panic on any accepted snapshot.
    for user in &snapshot.users {
        let _ = (rules.in_scope(user), rules.role_for(user));
    }
    let _ = rules.team_titles();
});

fn check_group(group: &str) {
    assert!(!group.is_empty() && group.chars().count() <= 256, "group {group:?}");
    assert_eq!(group.trim(), group, "group {group:?} not trimmed");
    assert!(!group.chars().any(char::is_control), "control character in group {group:?}");
}

fn write(snapshot: &Snapshot) -> Value {
    let users: Vec<Value> = snapshot
        .users
        .iter()
        .map(|user| {
            let mut object = Map::new();
            object.insert("email".into(), user.email.as_str().into());
            if let Some(role) = user.role {
                object.insert("role".into(), role_or_guest_name(role).into());
            }
            object.insert("groups".into(), json!(user.groups));
            Value::Object(object)
        })
        .collect();
    let rules = &snapshot.rules;
    let mut written = json!({
        "groupTeams": rules.group_teams.iter().map(|(g, t)| (g.clone(), Value::from(t.as_str()))).collect::<Map<_, _>>(),
        "groupRoles": rules.group_roles.iter().map(|(g, r)| (g.clone(), Value::from(role_or_guest_name(*r)))).collect::<Map<_, _>>(),
        "defaultRole": role_or_guest_name(rules.default_role),
        "protected": rules.protected.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        "manageAdmins": rules.manage_admins,
        "sso": rules.sso,
    });
    if let Some(scope) = &rules.scope {
        written["scope"] = json!({"groups": scope});
    }
    json!({"users": users, "rules": written})
}

/// Whether the document is an object with a key given more than once (which
/// a `serde_json::Value` silently collapses).
fn top_level_key_repeats(data: &[u8]) -> bool {
    struct Keys;
    impl<'de> serde::de::Visitor<'de> for Keys {
        type Value = bool;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
            let mut seen = HashSet::new();
            let mut repeats = false;
            while let Some((key, _)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                repeats |= !seen.insert(key);
            }
            Ok(repeats)
        }
    }
    let mut deserializer = serde_json::Deserializer::from_slice(data);
    serde::Deserializer::deserialize_map(&mut deserializer, Keys).unwrap_or(false)
}
