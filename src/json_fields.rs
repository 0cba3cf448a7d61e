//! Reads a JSON object field by field (events, snapshots), naming each field by its path
//! (`users[3].email`, `rules.scope.groups[0]`) so every refusal points at the
//! offending value. Unknown fields are refused: a typo such as `manageAdmin`
//! must not silently fall back to a default that removes people.

use crate::error::Error;
use serde_json::{Map, Value};

/// One JSON object and where it sits in the document.
pub struct Object<'a> {
    path: String,
    map: &'a Map<String, Value>,
}

impl<'a> Object<'a> {
    /// `value` at `path`, which must be an object with only `allowed` keys.
    pub fn new(path: impl Into<String>, value: &'a Value, allowed: &[&str]) -> Result<Object<'a>, Error> {
        let path = path.into();
        let Value::Object(map) = value else {
            return Err(Error::invalid(path, "must be an object"));
        };
        let object = Object { path, map };
        if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(Error::invalid(
                object.field(unknown),
                format!("is not a known field; expected {}", allowed.join(", ")),
            ));
        }
        Ok(object)
    }

    /// Where this object sits in the document.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The path of a field of this object.
    pub fn field(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    /// A present, non-null field.
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    /// A string field that must be present.
    pub fn required(&self, name: &str) -> Result<&'a str, Error> {
        self.string(name)?.ok_or_else(|| Error::invalid(self.field(name), "is required"))
    }

    pub fn string(&self, name: &str) -> Result<Option<&'a str>, Error> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(Error::invalid(self.field(name), "must be a string")),
        }
    }

    pub fn bool(&self, name: &str) -> Result<Option<bool>, Error> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(Error::invalid(self.field(name), "must be true or false")),
        }
    }

    /// An array field; absent is empty.
    pub fn array(&self, name: &str) -> Result<&'a [Value], Error> {
        match self.get(name) {
            None => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(Error::invalid(self.field(name), "must be a list")),
        }
    }

    /// An array of strings, each with its path; absent is empty.
    pub fn strings(&self, name: &str) -> Result<Vec<(String, &'a str)>, Error> {
        let field = self.field(name);
        self.array(name)?
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let path = format!("{field}[{i}]");
                match item.as_str() {
                    Some(s) => Ok((path, s)),
                    None => Err(Error::invalid(path, "must be a string")),
                }
            })
            .collect()
    }

    /// A map of strings (`{"eng": "Engineering"}`), each value with its path;
    /// absent is empty. Callers needing an order sort (serde_json's map order
    /// depends on its features).
    pub fn string_map(&self, name: &str) -> Result<Vec<(String, &'a str, &'a str)>, Error> {
        let field = self.field(name);
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(key, value)| {
                    let path = format!("{field}.{key}");
                    match value.as_str() {
                        Some(s) => Ok((path, key.as_str(), s)),
                        None => Err(Error::invalid(path, "must be a string")),
                    }
                })
                .collect(),
            Some(_) => Err(Error::invalid(field, "must be an object of strings")),
        }
    }
}
