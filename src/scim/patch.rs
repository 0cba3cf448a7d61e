//! PATCH bodies (RFC 7644 §3.5.2) as identity providers send them, reduced to
//! a list of [`Target`]s: one attribute path, the operation, and the value.
//!
//! - `op` in any case (`Replace`, `add`, `REMOVE`);
//! - with a `path`, or without one and a `value` object whose keys are paths
//!   (Okta's `{"active": false}`, Entra's `{"name.givenName": "Ann"}`), each
//!   key becoming its own target;
//! - paths case-insensitive, with or without the core schema URN, with one
//!   value selector (`members[value eq "…"]`, `emails[type eq "work"].value`,
//!   `roles[primary eq "True"].value`).
//!
//! What a target means is the resource's business ([`super::users`],
//! [`super::groups`]). At most [`MAX_OPERATIONS`] operations are read.

use super::error::{ScimError, ScimType};
use serde_json::{Map, Value};

/// The most operations one PATCH may carry.
pub const MAX_OPERATIONS: usize = 1000;
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

const CORE_PREFIXES: [&str; 2] =
    ["urn:ietf:params:scim:schemas:core:2.0:user:", "urn:ietf:params:scim:schemas:core:2.0:group:"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Replace,
    Remove,
}

/// An attribute path, lower-cased: `name` is `members`, `name.givenname`,
/// `emails`…; `selector` is a `[attr eq "value"]` filter; `sub` what
/// follows the selector (`value` in `emails[type eq "work"].value`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    pub name: String,
    pub selector: Option<(String, String)>,
    pub sub: Option<String>,
    /// The path named an extension schema (`urn:…:enterprise:2.0:User:…`):
    /// attributes GitBook does not store.
    pub extension: bool,
}

/// One change: an operation on one path.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub op: OpKind,
    pub path: Path,
    pub value: Option<Value>,
}

/// Reads a PatchOp message into targets, in order.
pub fn parse(body: &Value) -> Result<Vec<Target>, ScimError> {
    let invalid = |detail: String| ScimError::bad(ScimType::InvalidSyntax, detail);
    let Some(object) = body.as_object() else {
        return Err(invalid("a PATCH body must be a JSON object with Operations".into()));
    };
    let operations = object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("operations"))
        .map(|(_, v)| v)
        .ok_or_else(|| invalid("the PATCH body has no Operations".into()))?;
    let Some(operations) = operations.as_array() else {
        return Err(invalid("Operations must be an array".into()));
    };
    if operations.len() > MAX_OPERATIONS {
        return Err(ScimError::bad(
            ScimType::TooMany,
            format!("{} operations in one PATCH; at most {MAX_OPERATIONS} are accepted", operations.len()),
        ));
    }
    let mut targets = Vec::new();
    for (i, operation) in operations.iter().enumerate() {
        read_operation(operation, &mut targets).map_err(|detail| invalid(format!("Operations[{i}]: {detail}")))?;
    }
    Ok(targets)
}

fn read_operation(operation: &Value, targets: &mut Vec<Target>) -> Result<(), String> {
    let object = operation.as_object().ok_or("must be an object")?;
    let field = |name: &str| object.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v);
    let op = match field("op").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
        Some("add") => OpKind::Add,
        Some("replace") => OpKind::Replace,
        Some("remove") => OpKind::Remove,
        Some(other) => return Err(format!("op {other:?} is not add, replace or remove")),
        None => return Err("op must be a string: add, replace or remove".into()),
    };
    let value = field("value").cloned();
    match field("path") {
        Some(Value::String(path)) => {
            targets.push(Target { op, path: parse_path(path)?, value });
            Ok(())
        }
        Some(Value::Null) | None => match value {
            Some(Value::Object(map)) => expand(op, map, targets),
            None if op == OpKind::Remove => Err("remove needs a path".into()),
            _ => Err("an operation without a path needs an object value".into()),
        },
        Some(_) => Err("path must be a string".into()),
    }
}

/// A path-less operation: each key of the value is a path. The core
/// schema's URN as a key wraps core attributes
/// (`{"urn:ietf:params:scim:schemas:core:2.0:User": {"active": false}}`),
/// which are read as if unwrapped; an extension schema's key holds an
/// object of its attributes, which GitBook does not store.
fn expand(op: OpKind, map: Map<String, Value>, targets: &mut Vec<Target>) -> Result<(), String> {
    for (key, value) in map {
        let lower = key.trim().to_ascii_lowercase();
        let is_core = CORE_PREFIXES.iter().any(|p| lower == p[..p.len() - 1]);
        match value {
            Value::Object(inner) if is_core => {
                // One level only: a core URN inside a core URN is no SCIM form.
                for (key, value) in inner {
                    targets.push(Target { op, path: parse_path(&key)?, value: Some(value) });
                }
            }
            value => targets.push(Target { op, path: parse_path(&key)?, value: Some(value) }),
        }
    }
    Ok(())
}

/// Parses `name[attr eq "value"].sub`, case-insensitively.
pub fn parse_path(text: &str) -> Result<Path, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.len() > 512 {
        return Err(format!("path must have 1 to 512 characters, got {}", trimmed.len()));
    }
    let lower = trimmed.to_ascii_lowercase();
    let core = CORE_PREFIXES.iter().find_map(|p| lower.strip_prefix(p));
    let bare = match core {
        Some(bare) => bare,
        None if lower.starts_with("urn:") => {
            return Ok(Path { name: lower, selector: None, sub: None, extension: true });
        }
        None => &lower,
    };
    let (name, selector, sub) = match bare.split_once('[') {
        None => (bare.to_owned(), None, None),
        Some((name, rest)) => {
            let start = name.len() + 1;
            let (inside, after) = rest.rsplit_once(']').ok_or_else(|| format!("{text:?} has an unclosed '['"))?;
            let selector =
                selector(&trimmed[trimmed.len() - bare.len() + start..][..inside.len()]).ok_or_else(|| {
                    format!("{text:?}: only a selector of the form [attribute eq \"value\"] is supported")
                })?;
            let sub = match after {
                "" => None,
                _ => {
                    Some(after.strip_prefix('.').ok_or_else(|| format!("{text:?}: expected '.' after ']'"))?.to_owned())
                }
            };
            (name.to_owned(), Some(selector), sub)
        }
    };
    let valid = |s: &str| !s.is_empty() && s.split('.').all(|part| !part.is_empty() && part.bytes().all(is_name_byte));
    if !valid(&name) || sub.as_deref().is_some_and(|s| !valid(s)) {
        return Err(format!("{text:?} is not an attribute path"));
    }
    Ok(Path { name, selector, sub, extension: false })
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'$'
}

/// `attr eq "value"` (or `attr eq true`): the attribute lower-cased, the
/// value as given (case kept: member ids are case-sensitive).
fn selector(text: &str) -> Option<(String, String)> {
    let mut parts = text.trim().splitn(3, char::is_whitespace);
    let (attribute, operator, value) = (parts.next()?, parts.next()?, parts.next()?.trim());
    if !operator.eq_ignore_ascii_case("eq") || attribute.is_empty() || !attribute.bytes().all(is_name_byte) {
        return None;
    }
    let value = match serde_json::from_str::<Value>(value).ok()? {
        Value::String(s) => s,
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    Some((attribute.to_ascii_lowercase(), value))
}

/// A boolean as identity providers send it: `true`, or `"True"` (Entra).
pub fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

impl Path {
    /// The path without its selector, e.g. `emails.value` or `name.givenname`.
    pub fn plain(&self) -> String {
        match &self.sub {
            Some(sub) => format!("{}.{sub}", self.name),
            None => self.name.clone(),
        }
    }

    /// The first segment: the top-level attribute.
    pub fn top(&self) -> &str {
        self.name.split('.').next().unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A target as (op, path without selector, selector, value).
    type Flat = (OpKind, String, Option<(String, String)>, Option<Value>);

    fn targets(body: Value) -> Vec<Flat> {
        parse(&body).unwrap().into_iter().map(|t| (t.op, t.path.plain(), t.path.selector, t.value)).collect()
    }

    #[test]
    fn entra_s_default_forms_parse() {
        let body = json!({"schemas": [PATCH_SCHEMA], "Operations": [
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "a@x.io"},
            {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "7"},
            {"op": "Remove", "path": "members[value eq \"YWJj\"]"}
        ]});
        let got = targets(body);
        assert_eq!(got[0], (OpKind::Replace, "active".into(), None, Some(json!("False"))));
        assert_eq!(
            got[1],
            (OpKind::Add, "emails.value".into(), Some(("type".into(), "work".into())), Some(json!("a@x.io")))
        );
        assert!(parse(&json!({"Operations": [got_ext()]})).unwrap()[0].path.extension);
        assert_eq!(got[3], (OpKind::Remove, "members".into(), Some(("value".into(), "YWJj".into())), None));
    }

    fn got_ext() -> Value {
        json!({"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "R&D"})
    }

    #[test]
    fn path_less_values_become_one_target_per_key() {
        let body = json!({"Operations": [{"op": "replace", "value": {"active": false, "name.givenName": "Ann",
                                                                        "displayName": "Ann B"}}]});
        let got = targets(body);
        let mut paths: Vec<&str> = got.iter().map(|t| t.1.as_str()).collect();
        paths.sort();
        assert_eq!(paths, ["active", "displayname", "name.givenname"]);
        assert!(got.iter().all(|t| t.0 == OpKind::Replace));
    }

    #[test]
    fn the_core_urn_as_a_key_wraps_core_attributes() {
        let body = json!({"Operations": [{"op": "replace",
            "value": {"urn:ietf:params:scim:schemas:core:2.0:User": {"active": false, "userName": "a@x.io"}}}]});
        let got = targets(body);
        let mut paths: Vec<&str> = got.iter().map(|t| t.1.as_str()).collect();
        paths.sort();
        assert_eq!(paths, ["active", "username"]);
        let path = "URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:active";
        assert_eq!(targets(json!({"Operations": [{"op": "replace", "path": path, "value": false}]}))[0].1, "active");
    }

    #[test]
    fn op_and_keys_are_case_insensitive_and_urns_are_stripped() {
        let body = json!({"operations": [{"OP": "rEpLaCe",
            "Path": "urn:ietf:params:scim:schemas:core:2.0:User:userName", "value": "a@x.io"}]});
        assert_eq!(targets(body)[0].1, "username");
    }

    #[test]
    fn malformed_operations_are_invalid_syntax_naming_the_operation() {
        for (body, says) in [
            (json!([]), "object"),
            (json!({}), "no Operations"),
            (json!({"Operations": {}}), "array"),
            (json!({"Operations": [{"op": "move", "path": "a"}]}), "Operations[0]: op \"move\""),
            (json!({"Operations": [{"op": "remove"}]}), "remove needs a path"),
            (json!({"Operations": [{"op": "add", "value": 3}]}), "object value"),
            (json!({"Operations": [{"op": "add", "path": "members[value co \"x\"]", "value": 1}]}), "selector"),
            (json!({"Operations": [{"op": "add", "path": "a b", "value": 1}]}), "not an attribute path"),
            (json!({"Operations": [{"op": "add", "path": 7}]}), "path must be a string"),
        ] {
            let error = parse(&body).unwrap_err();
            assert_eq!((error.status, error.scim_type), (400, Some(ScimType::InvalidSyntax)), "{body}");
            assert!(error.detail.contains(says), "{body}: {}", error.detail);
        }
    }

    #[test]
    fn ten_thousand_operations_are_refused_before_reading_them() {
        let op = json!({"op": "add", "path": "members", "value": [{"value": "x"}]});
        let error = parse(&json!({"Operations": vec![op; 10_000]})).unwrap_err();
        assert_eq!(error.scim_type, Some(ScimType::TooMany));
    }

    #[test]
    fn booleans_come_as_json_or_as_strings() {
        assert_eq!(boolean(&json!("True")), Some(true));
        assert_eq!(boolean(&json!("false")), Some(false));
        assert_eq!(boolean(&json!(false)), Some(false));
        assert_eq!(boolean(&json!("yes")), None);
        assert_eq!(boolean(&json!(1)), None);
    }
}
