//! What every User or Group answer gets last: `meta.location` (and the
//! `Location` header of a 201, RFC 7644 §3.3), then the projection the
//! request asked for with `attributes` or `excludedAttributes` (RFC 7644
//! §3.4.2.5, §3.9). `schemas` and `id` are always returned (RFC 7643 §3.1:
//! `returned: always`).

use super::{Answer, Endpoint, Request};
use serde_json::{Map, Value};

/// Attributes returned whatever the projection.
const ALWAYS: [&str; 2] = ["schemas", "id"];

/// Adds locations and applies the projection to a successful answer about
/// Users or Groups; anything else is left as it is.
pub fn finish(request: &Request, mut answer: Answer) -> Answer {
    let collection = match request.endpoint {
        Endpoint::Users | Endpoint::User(_) => "Users",
        Endpoint::Groups | Endpoint::Group(_) => "Groups",
        _ => return answer,
    };
    let Some(body) = answer.body.as_mut() else { return answer };
    let query = &request.query;
    let each = |resource: &mut Value| -> Option<String> {
        let location = locate(resource, &request.base, collection);
        project(resource, &query.attributes, &query.excluded);
        location
    };
    match body.get_mut("Resources") {
        Some(Value::Array(resources)) => resources.iter_mut().for_each(|r| {
            each(r);
        }),
        _ => {
            let location = each(body);
            if let (201, Some(location)) = (answer.status, location) {
                answer.headers.push(("location", location));
            }
        }
    }
    answer
}

/// Sets `meta.location` from the resource's id; returns it.
fn locate(resource: &mut Value, base: &str, collection: &str) -> Option<String> {
    let id = resource.get("id")?.as_str()?;
    // Ids are URL-safe: base64url for users, GitBook's EntityId for teams.
    let location = format!("{}/{collection}/{id}", base.trim_end_matches('/'));
    if let Some(meta) = resource.get_mut("meta").and_then(Value::as_object_mut) {
        meta.insert("location".into(), Value::String(location.clone()));
    }
    Some(location)
}

/// Keeps only `attributes` (when given) and drops `excluded`, by
/// case-insensitive paths of at most two levels (`name.givenname`).
pub fn project(resource: &mut Value, attributes: &[String], excluded: &[String]) {
    let Some(object) = resource.as_object_mut() else { return };
    if !attributes.is_empty() {
        let keep = |key: &str| {
            let key = key.to_ascii_lowercase();
            ALWAYS.contains(&key.as_str()) || attributes.iter().any(|a| a == &key || a.starts_with(&format!("{key}.")))
        };
        object.retain(|key, _| keep(key));
        for (key, value) in object.iter_mut() {
            let prefix = format!("{}.", key.to_ascii_lowercase());
            if attributes.iter().any(|a| a.eq_ignore_ascii_case(key)) {
                continue;
            }
            let subs: Vec<&str> = attributes.iter().filter_map(|a| a.strip_prefix(&prefix)).collect();
            if !subs.is_empty() {
                each_object(value, |o| o.retain(|k, _| subs.iter().any(|s| s.eq_ignore_ascii_case(k))));
            }
        }
    }
    for path in excluded {
        match path.split_once('.') {
            None if !ALWAYS.contains(&path.as_str()) => object.retain(|key, _| !key.eq_ignore_ascii_case(path)),
            None => {}
            Some((top, sub)) => {
                if let Some((_, value)) = object.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(top)) {
                    each_object(value, |o| o.retain(|k, _| !k.eq_ignore_ascii_case(sub)));
                }
            }
        }
    }
}

/// `f` on an object, or on each object of an array of them.
fn each_object(value: &mut Value, mut f: impl FnMut(&mut Map<String, Value>)) {
    match value {
        Value::Object(object) => f(object),
        Value::Array(items) => items.iter_mut().filter_map(Value::as_object_mut).for_each(f),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> Value {
        json!({"schemas": ["s"], "id": "YQ", "userName": "a@x.io", "active": true,
               "name": {"givenName": "A", "familyName": "B"},
               "emails": [{"value": "a@x.io", "type": "work", "primary": true}],
               "meta": {"resourceType": "User"}})
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn attributes_keep_only_what_is_asked_and_what_is_always_returned() {
        let mut u = user();
        project(&mut u, &names(&["username", "name.givenname", "emails.value"]), &[]);
        assert_eq!(
            u,
            json!({"schemas": ["s"], "id": "YQ", "userName": "a@x.io", "name": {"givenName": "A"},
                   "emails": [{"value": "a@x.io"}]})
        );
    }

    #[test]
    fn excluded_attributes_are_dropped_but_never_the_id() {
        let mut u = user();
        project(&mut u, &[], &names(&["emails", "name.familyname", "id", "meta"]));
        assert_eq!(
            u,
            json!({"schemas": ["s"], "id": "YQ", "userName": "a@x.io", "active": true,
                             "name": {"givenName": "A"}})
        );
    }

    #[test]
    fn a_created_resource_gets_its_location_in_meta_and_the_header() {
        let request = Request {
            verb: super::super::Verb::Post,
            endpoint: Endpoint::Users,
            query: Default::default(),
            base: "https://sync.example.com/scim/v2".into(),
        };
        let answer = finish(&request, Answer::new(201, Some(user())));
        let location = "https://sync.example.com/scim/v2/Users/YQ";
        assert_eq!(answer.headers, [("location", location.to_owned())]);
        assert_eq!(answer.body.unwrap()["meta"]["location"], location);
    }
}
