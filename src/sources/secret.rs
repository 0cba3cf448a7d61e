//! A credential of a source (client secret, API token). Its `Debug` never
//! shows the value, so it cannot leak through an error, a log line or a
//! panic message; [`Secret::expose`] is the one way to read it.

use crate::error::Error;
use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Refuses an empty value and anything a header or form could not carry
    /// as it is. `field` names the setting; the error never repeats the value.
    pub fn parse(field: &str, value: &str) -> Result<Secret, Error> {
        let value = value.trim();
        if value.is_empty() {
            return Err(Error::invalid(field, "is missing"));
        }
        if value.chars().any(|c| c.is_control() || c == ' ' || !c.is_ascii()) {
            return Err(Error::invalid(field, "contains spaces, control or non-ASCII characters; copy it again"));
        }
        Ok(Secret(value.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Replaces the secret wherever it appears in `text`.
    pub fn redact(&self, text: &str) -> String {
        text.replace(&self.0, "[redacted]")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_never_shows() {
        let secret = Secret::parse("token", " 00abc ").unwrap();
        assert_eq!(format!("{secret:?}"), "Secret([redacted])");
        assert_eq!(secret.expose(), "00abc");
        let error = Secret::parse("token", "a b").unwrap_err().to_string();
        assert!(!error.contains("a b"), "{error}");
    }
}
