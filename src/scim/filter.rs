//! The filter subset identity providers send (RFC 7644 §3.4.2.2): equality
//! on a few attributes, joined by `and`.
//!
//! ```text
//! filter    = clause *( SP "and" SP clause )
//! clause    = attrPath SP "eq" SP string
//! attrPath  = userName | displayName | externalId | emails | emails.value
//!           | emails[type eq "work"].value     (each may carry the core schema URN)
//! ```
//!
//! Attribute names and operators are case-insensitive; values are JSON
//! strings. Anything else (`or`, `not`, parentheses, `co`, `sw`, `pr`, other
//! attributes, a number) is refused with a sentence saying what is
//! supported, which the handler answers as 400 `invalidFilter`. A filter is
//! at most [`MAX_FILTER_LEN`] bytes and [`MAX_CLAUSES`] clauses: there is no
//! grouping, so no nesting to bound.

/// The longest filter accepted, in bytes.
pub const MAX_FILTER_LEN: usize = 1024;
/// The most clauses joined by `and`.
pub const MAX_CLAUSES: usize = 8;

const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:user:";
const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:group:";

/// An attribute a filter may compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attribute {
    UserName,
    /// `emails`, `emails.value` or `emails[type eq "work"].value`.
    Email,
    ExternalId,
    DisplayName,
}

impl Attribute {
    pub fn name(self) -> &'static str {
        match self {
            Attribute::UserName => "userName",
            Attribute::Email => "emails",
            Attribute::ExternalId => "externalId",
            Attribute::DisplayName => "displayName",
        }
    }
}

/// `attribute eq "value"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clause {
    pub attribute: Attribute,
    pub value: String,
}

/// Clauses that must all hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    pub clauses: Vec<Clause>,
}

impl Filter {
    /// The values compared with any of `attributes`.
    pub fn values<'f>(&'f self, attributes: &'f [Attribute]) -> impl Iterator<Item = &'f str> + 'f {
        self.clauses.iter().filter(|c| attributes.contains(&c.attribute)).map(|c| c.value.as_str())
    }

    pub fn mentions(&self, attribute: Attribute) -> bool {
        self.clauses.iter().any(|c| c.attribute == attribute)
    }
}

const SUPPORTED: &str = "supported: userName, emails[type eq \"work\"].value, externalId or displayName \
                         compared with eq to a quoted string, joined by and";

/// Parses a filter; the error says what is wrong and what is supported.
pub fn parse(text: &str) -> Result<Filter, String> {
    if text.len() > MAX_FILTER_LEN {
        return Err(format!("the filter is {} bytes long; at most {MAX_FILTER_LEN} are accepted", text.len()));
    }
    let mut rest = text.trim_start();
    let mut clauses = Vec::new();
    loop {
        if clauses.len() == MAX_CLAUSES {
            return Err(format!("more than {MAX_CLAUSES} clauses; {SUPPORTED}"));
        }
        let (clause, after) = clause(rest)?;
        clauses.push(clause);
        if after.trim().is_empty() {
            return Ok(Filter { clauses });
        }
        if !after.starts_with(char::is_whitespace) {
            return Err(format!("expected a space after a value; {SUPPORTED}"));
        }
        rest = after.trim_start();
        let (word, after) = word(rest);
        if !word.eq_ignore_ascii_case("and") {
            return Err(format!("expected and or the end of the filter, found {}; {SUPPORTED}", quoted(word)));
        }
        if !after.starts_with(char::is_whitespace) {
            return Err(format!("expected a space after and; {SUPPORTED}"));
        }
        rest = after.trim_start();
    }
}

/// `attrPath eq "value"`, and what follows it.
fn clause(text: &str) -> Result<(Clause, &str), String> {
    if text.starts_with('(') || text.starts_with(')') {
        return Err(format!("parentheses are not supported; {SUPPORTED}"));
    }
    let (path, rest) = attribute_path(text)?;
    if path.is_empty() {
        return Err(format!("expected an attribute, found the end of the filter; {SUPPORTED}"));
    }
    let attribute = attribute(path)?;
    let (operator, rest) = word(rest.trim_start());
    if !operator.eq_ignore_ascii_case("eq") {
        return Err(format!("the operator {} is not supported; {SUPPORTED}", quoted(operator)));
    }
    let (value, rest) = string(rest.trim_start())?;
    Ok((Clause { attribute, value }, rest))
}

/// The attribute path up to the next space outside brackets; one level of
/// brackets at most.
fn attribute_path(text: &str) -> Result<(&str, &str), String> {
    let mut in_brackets = false;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            _ if in_string => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_string = false;
                }
            }
            '"' if in_brackets => in_string = true,
            '[' if in_brackets => return Err(format!("nested brackets are not supported; {SUPPORTED}")),
            '[' => in_brackets = true,
            ']' if in_brackets => in_brackets = false,
            '(' | ')' | '"' | ']' => {
                return Err(format!("unexpected {c:?} in an attribute name; {SUPPORTED}"));
            }
            c if c.is_whitespace() && !in_brackets => return Ok((&text[..i], &text[i..])),
            _ => {}
        }
    }
    if in_brackets {
        return Err(format!("an unclosed '[' in the filter; {SUPPORTED}"));
    }
    Ok((text, ""))
}

/// Which attribute a path names (case-insensitive, with or without the core
/// schema URN).
fn attribute(path: &str) -> Result<Attribute, String> {
    let lower = path.to_ascii_lowercase();
    let bare = lower.strip_prefix(USER_URN).or_else(|| lower.strip_prefix(GROUP_URN)).unwrap_or(&lower);
    match bare {
        "username" => return Ok(Attribute::UserName),
        "emails" | "emails.value" => return Ok(Attribute::Email),
        "externalid" => return Ok(Attribute::ExternalId),
        "displayname" => return Ok(Attribute::DisplayName),
        _ => {}
    }
    let selector = bare.strip_prefix("emails[").and_then(|s| s.strip_suffix("].value"));
    if let Some(selector) = selector {
        if is_work_type(selector) {
            return Ok(Attribute::Email);
        }
    }
    Err(format!("the attribute {} cannot be filtered on; {SUPPORTED}", quoted(path)))
}

/// Whether a value selector is `type eq "work"`.
fn is_work_type(selector: &str) -> bool {
    let (name, rest) = word(selector.trim());
    let (operator, rest) = word(rest.trim_start());
    let Ok((value, rest)) = string(rest.trim_start()) else {
        return false;
    };
    name == "type" && operator == "eq" && value == "work" && rest.trim().is_empty()
}

/// The next run of non-space characters.
fn word(text: &str) -> (&str, &str) {
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    text.split_at(end)
}

/// A JSON string at the start of `text`, decoded, and what follows it.
fn string(text: &str) -> Result<(String, &str), String> {
    if !text.starts_with('"') {
        let (found, _) = word(text);
        return Err(if found.is_empty() {
            format!("expected a quoted value, found the end of the filter; {SUPPORTED}")
        } else {
            format!("expected a quoted string value, found {}; {SUPPORTED}", quoted(found))
        });
    }
    let mut escaped = false;
    for (i, c) in text.char_indices().skip(1) {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            let value = serde_json::from_str::<String>(&text[..=i])
                .map_err(|e| format!("the value {} is not a valid JSON string: {e}", &text[..=i]))?;
            return Ok((value, &text[i + 1..]));
        }
    }
    Err(format!("a quoted value has no closing '\"'; {SUPPORTED}"))
}

/// A piece of the filter for an error message, shortened and printable.
fn quoted(text: &str) -> String {
    let short: String = text.chars().take(40).collect();
    let suffix = if short.len() < text.len() { "…" } else { "" };
    format!("{:?}", format!("{short}{suffix}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clauses(text: &str) -> Vec<(Attribute, String)> {
        parse(text).unwrap().clauses.into_iter().map(|c| (c.attribute, c.value)).collect()
    }

    #[test]
    fn the_filters_identity_providers_send_parse() {
        assert_eq!(clauses(r#"userName eq "ann@x.io""#), [(Attribute::UserName, "ann@x.io".into())]);
        assert_eq!(clauses(r#"USERNAME Eq "Ann@X.io""#), [(Attribute::UserName, "Ann@X.io".into())]);
        assert_eq!(clauses(r#"emails[type eq "work"].value eq "a@x.io""#), [(Attribute::Email, "a@x.io".into())]);
        assert_eq!(clauses(r#"externalId eq "00u1""#), [(Attribute::ExternalId, "00u1".into())]);
        assert_eq!(clauses(r#"displayName eq "Data \"&\" AI""#), [(Attribute::DisplayName, "Data \"&\" AI".into())]);
        assert_eq!(
            clauses(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a@x.io" and externalId eq "e""#),
            [(Attribute::UserName, "a@x.io".into()), (Attribute::ExternalId, "e".into())]
        );
        assert_eq!(clauses(r#"  emails.value   eq  "a b"  "#), [(Attribute::Email, "a b".into())]);
    }

    #[test]
    fn everything_else_is_refused_saying_what_is_supported() {
        for filter in [
            r#"userName co "ann""#,
            r#"userName eq "a" or userName eq "b""#,
            r#"(userName eq "a")"#,
            r#"not (userName eq "a")"#,
            r#"title eq "x""#,
            r#"userName pr"#,
            r#"userName eq 3"#,
            r#"userName eq "unterminated"#,
            r#"emails[type eq "home"].value eq "a@x.io""#,
            r#"emails[type eq "work"[x]].value eq "a""#,
            r#"userName eq "a" and"#,
            r#"userName eq "a"and userName eq "b""#,
            "",
            r#"userName eq "\q""#,
        ] {
            let error = parse(filter).unwrap_err();
            assert!(error.contains("supported") || error.contains("JSON"), "{filter}: {error}");
        }
    }

    #[test]
    fn long_and_wide_filters_are_refused_before_parsing() {
        let long = format!(r#"userName eq "{}""#, "a".repeat(10_000));
        assert!(parse(&long).unwrap_err().contains("at most 1024"));
        let wide = [r#"userName eq "a""#; MAX_CLAUSES + 1].join(" and ");
        assert!(parse(&wide).unwrap_err().contains("more than 8 clauses"));
        let deep = format!("{}userName eq \"a\"{}", "(".repeat(400), ")".repeat(400));
        assert!(parse(&deep).is_err());
    }
}
