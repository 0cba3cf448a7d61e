//! Opaque, URL-safe SCIM user ids that carry the member's email, so a user
//! can be found again (and re-invited after a deactivation) without a
//! database: the id is the lower-cased email in unpadded base64url
//! (RFC 4648 §5). Nothing else goes in it: a role kept in the id would come
//! back on reactivation even after the person was demoted.
//!
//! The encoding is canonical both ways: an id names exactly one email, and
//! that email has exactly one id, so `GET /Users/{id}` answers with the id
//! it was asked for.

use crate::validate::Email;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The SCIM id of the member with this email.
pub fn user_id(email: &Email) -> String {
    encode(email.as_str().as_bytes())
}

/// The email a SCIM user id carries; `None` for anything that is not an id
/// this service made (the answer is then 404).
pub fn email_of(id: &str) -> Option<Email> {
    let bytes = decode(id)?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let email = Email::parse("id", text).ok()?;
    // Only the normalized form has an id: " Ann@x.io" would name ann@x.io too.
    (email.as_str() == text).then_some(email)
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
    fn decoding_is_the_inverse_of_encoding_for_every_length() {
        let data: Vec<u8> = (0..=255).collect();
        for len in 0..40 {
            let bytes = &data[200 - len..200];
            assert_eq!(decode(&encode(bytes)).as_deref(), Some(bytes));
        }
    }
}
