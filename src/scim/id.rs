//! Opaque, URL-safe SCIM user ids that carry the member's email, so a user
//! can be found again (and re-invited after a deactivation) without a
//! database: the id is the lower-cased email in unpadded base64url
//! (RFC 4648 §5). When the identity provider's `userName` is not that email
//! (Entra's default maps it from userPrincipalName; Microsoft's examples use
//! `Test_User_…`), the id carries it too, after a line feed (which neither
//! an email nor a kept `userName` can contain), so that it is answered back
//! as sent. Nothing else goes in it: a role kept in the id would come back
//! on reactivation even after the person was demoted.
//!
//! The encoding is canonical both ways: an id names exactly one (email,
//! userName) pair, and that pair has exactly one id, so `GET /Users/{id}`
//! answers with the id it was asked for.

use crate::validate::Email;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The longest `userName` kept in an id, in bytes.
pub const MAX_USER_NAME: usize = 256;

/// The SCIM id of the member with this email.
pub fn user_id(email: &Email) -> String {
    encode(email.as_str().as_bytes())
}

/// The SCIM id of the member with this email known to the IdP as
/// `user_name`, which must be [`keepable`] (otherwise, or when it is the
/// email, the id is [`user_id`]).
pub fn named_user_id(email: &Email, user_name: Option<&str>) -> String {
    match user_name.filter(|name| keepable(name) && !same_as_email(name, email)) {
        Some(name) => encode(format!("{}\n{name}", email.as_str()).as_bytes()),
        None => user_id(email),
    }
}

/// Whether a `userName` can be kept in an id: 1 to [`MAX_USER_NAME`] bytes,
/// no control characters, no surrounding spaces.
pub fn keepable(user_name: &str) -> bool {
    !user_name.is_empty()
        && user_name.len() <= MAX_USER_NAME
        && user_name.trim() == user_name
        && !user_name.chars().any(char::is_control)
}

fn same_as_email(user_name: &str, email: &Email) -> bool {
    user_name.eq_ignore_ascii_case(email.as_str())
}

/// The email a SCIM user id carries; `None` for anything that is not an id
/// this service made (the answer is then 404).
pub fn email_of(id: &str) -> Option<Email> {
    parse(id).map(|(email, _)| email)
}

/// The email and the kept `userName` (if any) a SCIM user id carries.
pub fn parse(id: &str) -> Option<(Email, Option<String>)> {
    let bytes = decode(id)?;
    let text = String::from_utf8(bytes).ok()?;
    let (address, user_name) = match text.split_once('\n') {
        Some((address, name)) => (address, Some(name)),
        None => (text.as_str(), None),
    };
    let email = Email::parse("id", address).ok()?;
    // Only the normalized form has an id: " Ann@x.io" would name ann@x.io too.
    if email.as_str() != address {
        return None;
    }
    match user_name {
        None => Some((email, None)),
        Some(name) if keepable(name) && !same_as_email(name, &email) => Some((email, Some(name.to_owned()))),
        Some(_) => None,
    }
}

fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// Strict decoding: no padding, no other alphabet, and no stray bits in the
/// last character, so that `encode(decode(id)) == id`.
fn decode(text: &str) -> Option<Vec<u8>> {
    if text.len() % 4 == 1 {
        return None;
    }
    let sextets: Vec<u32> =
        text.bytes().map(|c| ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)).collect::<Option<_>>()?;
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in sextets.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &s)| n | s << (18 - 6 * i));
        let bytes = chunk.len() - 1;
        let unused_bits = n & ((1 << (24 - 8 * bytes)) - 1);
        if unused_bits != 0 {
            return None;
        }
        out.extend((0..bytes).map(|i| (n >> (16 - 8 * i)) as u8));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(s: &str) -> Email {
        Email::parse("email", s).unwrap()
    }

    #[test]
    fn an_id_is_the_email_in_base64url_and_comes_back() {
        assert_eq!(user_id(&email("ann@x.io")), "YW5uQHguaW8");
        assert_eq!(email_of("YW5uQHguaW8"), Some(email("ann@x.io")));
        for s in ["a@b.co", "ab@b.co", "abc@b.co", "first.last+tag@sub.example.test", "o'neil@x.io"] {
            let id = user_id(&email(s));
            assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{id}");
            assert_eq!(email_of(&id), Some(email(s)), "{id}");
        }
    }

    #[test]
    fn anything_else_names_nobody() {
        // Okta's and Entra's probes for an unknown id; padding; stray bits;
        // an email that is not normalized; not an email at all.
        for id in [
            "010101010101",
            "2819c223-7f76-453a-919d-413861904646",
            "YW5uQHguaW8=",
            "YW5uQHguaW9",
            &encode(b"Ann@x.io"),
            &encode(b" ann@x.io"),
            &encode(b"not an email"),
            "",
            "a",
            "YW5u QHguaW8",
        ] {
            assert_eq!(email_of(id), None, "{id}");
        }
    }

    #[test]
    fn a_user_name_that_is_not_the_email_rides_along() {
        let ann = email("ann@x.io");
        let id = named_user_id(&ann, Some("Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1"));
        assert_eq!(parse(&id), Some((ann.clone(), Some("Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1".into()))));
        assert_eq!(email_of(&id), Some(ann.clone()));
        // The email itself, in any case, or nothing keepable: the plain id.
        for name in [Some("Ann@X.io"), None, Some(""), Some(" x"), Some("a\u{7}b")] {
            assert_eq!(named_user_id(&ann, name), user_id(&ann), "{name:?}");
        }
        // Ids that would name a pair in a second way are nobody's.
        for text in ["ann@x.io\nANN@x.io", "ann@x.io\n", "ann@x.io\n x", "ann@x.io\na\nb"] {
            assert_eq!(parse(&encode(text.as_bytes())), None, "{text:?}");
        }
    }

    #[test]
    fn decoding_is_the_inverse_of_encoding_for_every_length() {
        let data: Vec<u8> = (0..=255).collect();
        for len in 0..40 {
            let bytes = &data[200 - len..200];
            assert_eq!(decode(&encode(bytes)).as_deref(), Some(bytes));
        }
    }
}
