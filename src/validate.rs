//! Input checks that run before anything is sent. A value of one of these
//! types has been validated, so request builders cannot put a bad ID into a
//! URL path or a bad email into a body.

use crate::error::Error;
use std::collections::HashSet;
use std::fmt;

/// GitBook IDs are at most this long; real ones are about 28 characters.
const MAX_ID_LEN: usize = 128;
/// RFC 5321's limit on a forward path.
const MAX_EMAIL_LEN: usize = 254;

/// A GitBook entity ID (`EntityId`: `^[a-zA-Z0-9_-]+$`), safe in a URL path.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GitBookId(String);

impl GitBookId {
    /// Checks `value` as the ID named `field` (e.g. "user-id").
    pub fn parse(field: &str, value: &str) -> Result<GitBookId, Error> {
        if value.is_empty() {
            return Err(Error::invalid(field, "is empty; expected a GitBook ID"));
        }
        if value.len() > MAX_ID_LEN {
            return Err(Error::invalid(
                field,
                format!("is {} characters long; GitBook IDs have at most {MAX_ID_LEN}", value.len()),
            ));
        }
        if let Some(bad) = value.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-')) {
            return Err(Error::invalid(
                field,
                format!(
                    "contains {bad:?}; a GitBook ID has only letters, digits, '_' and '-' (got {})",
                    printable(value)
                ),
            ));
        }
        Ok(GitBookId(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GitBookId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A normalized email: trimmed, lower-cased (GitBook requires lower case for
/// SSO) and checked.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, value: &str) -> Result<Email, Error> {
        let email = value.trim().to_ascii_lowercase();
        let refuse =
            |why: &str| Err(Error::invalid(field, format!("{} is not a usable email: {why}", printable(value))));
        if email.is_empty() {
            return Err(Error::invalid(field, "is empty; expected an email"));
        }
        if email.len() > MAX_EMAIL_LEN {
            return refuse("longer than 254 characters");
        }
        // Non-ASCII is refused outright: look-alike characters (Cyrillic 'а'
        // for Latin 'a') would otherwise provision a different person.
        if !email.is_ascii() {
            return refuse("only ASCII emails are accepted (look-alike characters are a provisioning risk)");
        }
        let Some((local, domain)) = email.split_once('@') else {
            return refuse("no '@'");
        };
        if local.is_empty() || domain.is_empty() {
            return refuse("empty name or domain");
        }
        const LOCAL_SPECIALS: &str = ".!#$%&'*+/=?^_`{|}~-";
        if let Some(bad) = local.chars().find(|c| !(c.is_ascii_alphanumeric() || LOCAL_SPECIALS.contains(*c))) {
            return refuse(&format!("{bad:?} is not allowed before the '@'"));
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return refuse("misplaced '.' before the '@'");
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 {
            return refuse("the domain has no '.'");
        }
        for label in labels {
            let valid_chars = label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if label.is_empty() || label.len() > 63 || !valid_chars || label.starts_with('-') || label.ends_with('-') {
                return refuse("the domain is not a valid host name");
            }
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person named either by GitBook ID or by email, as the team-members
/// endpoint accepts both.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MemberRef {
    Id(GitBookId),
    Email(Email),
}

impl MemberRef {
    /// Anything with an '@' is an email; everything else must be an ID.
    pub fn parse(field: &str, value: &str) -> Result<MemberRef, Error> {
        if value.contains('@') {
            Email::parse(field, value).map(MemberRef::Email)
        } else {
            GitBookId::parse(field, value.trim()).map(MemberRef::Id)
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            MemberRef::Id(id) => id.as_str(),
            MemberRef::Email(email) => email.as_str(),
        }
    }
}

/// A team title as the spec allows it: 1 to 64 characters, trimmed, no
/// control characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TeamTitle(String);

impl TeamTitle {
    pub fn parse(field: &str, value: &str) -> Result<TeamTitle, Error> {
        let title = value.trim();
        let length = title.chars().count();
        if length == 0 || length > 64 {
            return Err(Error::invalid(field, format!("must have 1 to 64 characters, has {length}")));
        }
        if title.chars().any(char::is_control) {
            return Err(Error::invalid(field, "must not contain control characters"));
        }
        Ok(TeamTitle(title.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What identifies the team: titles compare case-insensitively, as
    /// GitBook's own title filter does.
    pub fn key(&self) -> TitleKey {
        TitleKey::of(&self.0)
    }

    /// Whether a title GitBook returned names this team.
    pub fn matches(&self, title: &str) -> bool {
        self.key() == TitleKey::of(title)
    }
}

/// A team title folded for comparison (trimmed, lower-cased): the one key
/// every map of teams by title uses, so no two places fold differently.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TitleKey(String);

impl TitleKey {
    pub fn of(title: &str) -> TitleKey {
        TitleKey(title.trim().to_lowercase())
    }

    /// The folded title, for an ordered map keyed by it (orders as the key does).
    pub fn into_string(self) -> String {
        self.0
    }
}

/// Parses a list of emails named `field`, keeping the first of duplicates.
pub fn emails(field: &str, values: &[String]) -> Result<Vec<Email>, Error> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        let email = Email::parse(&format!("{field}[{i}]"), value)?;
        if seen.insert(email.clone()) {
            out.push(email);
        }
    }
    Ok(out)
}

/// Parses a list of member references named `field`, de-duplicated.
pub fn member_refs(field: &str, values: &[String]) -> Result<Vec<MemberRef>, Error> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        let member = MemberRef::parse(&format!("{field}[{i}]"), value)?;
        if seen.insert(member.clone()) {
            out.push(member);
        }
    }
    Ok(out)
}

/// Quotes a value for an error message, escaping control characters (a CR/LF
/// must not forge a log line) and cutting it short.
pub fn printable(value: &str) -> String {
    const MAX_SHOWN: usize = 80;
    let mut shown: String = value.chars().take(MAX_SHOWN).collect();
    if value.chars().count() > MAX_SHOWN {
        shown.push('…');
    }
    format!("{shown:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(error: Error) -> String {
        match error {
            Error::InvalidInput { field, .. } => field,
            other => panic!("expected invalid input, got {other:?}"),
        }
    }

    #[test]
    fn ids_that_could_escape_the_url_path_are_refused() {
        for bad in ["../teams/x", "a/b", "a?b=c", "a#b", "", " ", "a b", "a%2Fb", "é"] {
            let error = GitBookId::parse("team-id", bad).unwrap_err();
            assert_eq!(field_of(error), "team-id", "{bad:?}");
        }
        let long = "a".repeat(MAX_ID_LEN + 1);
        assert!(GitBookId::parse("user-id", &long).is_err());
    }

    #[test]
    fn real_gitbook_ids_are_accepted() {
        for good in ["PERerEOAQ6QWXj1flmrlVzl3XJ22", "team_1", "a-b-c"] {
            assert_eq!(GitBookId::parse("user-id", good).unwrap().as_str(), good);
        }
    }

    #[test]
    fn emails_are_trimmed_lower_cased_and_checked() {
        assert_eq!(Email::parse("email", "  Jane.Doe@Example.COM ").unwrap().as_str(), "jane.doe@example.com");
        assert_eq!(Email::parse("email", "a+tag@sub.example.io").unwrap().as_str(), "a+tag@sub.example.io");
        for bad in [
            "",
            "jane",
            "@example.com",
            "jane@",
            "jane@localhost",
            "ja ne@example.com",
            "jane@exa_mple.com",
            "jane@@example.com",
            "jаne@example.com",
            "jane@example.com\r\nx",
            ".jane@example.com",
        ] {
            assert!(Email::parse("email", bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn email_lists_drop_duplicates_and_name_the_bad_entry() {
        let list = vec!["A@x.io".to_string(), "a@x.io".into(), "b@x.io".into()];
        let parsed = emails("emails", &list).unwrap();
        assert_eq!(parsed.iter().map(Email::as_str).collect::<Vec<_>>(), ["a@x.io", "b@x.io"]);
        let bad = vec!["a@x.io".to_string(), "nope".into()];
        assert_eq!(field_of(emails("emails", &bad).unwrap_err()), "emails[1]");
    }

    #[test]
    fn member_refs_are_ids_or_emails() {
        assert_eq!(MemberRef::parse("add[0]", "u1").unwrap(), MemberRef::Id(GitBookId("u1".into())));
        assert_eq!(MemberRef::parse("add[0]", "U@X.io").unwrap(), MemberRef::Email(Email("u@x.io".into())));
        assert!(MemberRef::parse("add[0]", "a/b").is_err());
    }

    #[test]
    fn printable_escapes_control_characters() {
        assert_eq!(printable("a\r\nb"), "\"a\\r\\nb\"");
    }
}
