//! Emails in log lines. They are personal data, so `GITBOOK_LOG_EMAILS=hash`
//! replaces each with a keyed hash: the same address gives the same hash in
//! every line (lines still correlate), and without the key nobody can test
//! guesses against it, which an unkeyed hash of something as guessable as
//! an email would allow.
//!
//! The hash is HMAC-SHA-256 (RFC 2104) of the trimmed, lower-cased address,
//! truncated to 96 bits and written `h:` + 24 hex digits. The key is
//! `GITBOOK_LOG_EMAILS_KEY` when set; otherwise it is derived from
//! `GITBOOK_TOKEN` (HMAC of a fixed label under the token), so hashing needs
//! no extra secret but changes when the token is rotated. Nothing about the
//! key can be learned from the hashes.

use sha2::{Digest, Sha256};
use std::fmt;

/// The label every key is derived under; a new label would mean
/// new hashes for everyone.
const KEY_LABEL: &[u8] = b"gitbook-directory-sync log email hash v1";
/// Hash bytes kept: 96 bits never collide among an organization's people.
const KEPT_BYTES: usize = 12;

/// The key of the email hash. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct EmailKey([u8; 32]);

impl EmailKey {
    /// The key made from a secret (`GITBOOK_LOG_EMAILS_KEY`, or else
    /// `GITBOOK_TOKEN`) of any length.
    pub fn derive(secret: &str) -> EmailKey {
        EmailKey(hmac_sha256(secret.trim().as_bytes(), KEY_LABEL))
    }

    /// `h:` and 24 hex digits for `email` (trimmed and lower-cased first).
    pub fn hash(&self, email: &str) -> String {
        let mac = hmac_sha256(&self.0, email.trim().to_lowercase().as_bytes());
        let mut out = String::with_capacity(2 + 2 * KEPT_BYTES);
        out.push_str("h:");
        for byte in &mac[..KEPT_BYTES] {
            out.push_str(&format!("{byte:02x}"));
        }
        out
    }
}

impl fmt::Debug for EmailKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EmailKey([redacted])")
    }
}

/// HMAC-SHA-256 (RFC 2104): SHA-256 is the one primitive taken from a
/// crate; the construction is six lines and checked against RFC 4231.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let inner = Sha256::new().chain_update(block.map(|b| b ^ 0x36)).chain_update(message).finalize();
    Sha256::new().chain_update(block.map(|b| b ^ 0x5c)).chain_update(inner).finalize().into()
}

/// Replaces every email-shaped word in free text (a GitBook error message,
/// a result detail) with its hash.
pub fn scrub(text: &str, key: &EmailKey) -> String {
    if !text.contains('@') {
        return text.to_owned();
    }
    let local = |c: char| c.is_ascii_alphanumeric() || "._%+-'".contains(c);
    let domain = |c: char| c.is_ascii_alphanumeric() || ".-".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('@') {
        let start = rest[..at].rfind(|c: char| !local(c)).map_or(0, |i| i + 1);
        let end = rest[at + 1..].find(|c: char| !domain(c)).map_or(rest.len(), |i| at + 1 + i);
        let (user, host) = (&rest[start..at], rest[at + 1..end].trim_end_matches('.'));
        let end = at + 1 + host.len();
        if user.is_empty() || !host.contains('.') {
            out.push_str(&rest[..=at]);
            rest = &rest[at + 1..];
            continue;
        }
        out.push_str(&rest[..start]);
        out.push_str(&key.hash(&rest[start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2.
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block is hashed first.
        assert_eq!(
            hex(&hmac_sha256(&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn the_same_address_hashes_the_same_whatever_its_case_and_keys_differ() {
        let key = EmailKey::derive("k1");
        assert_eq!(key.hash("Ann@X.io "), key.hash("ann@x.io"));
        assert_ne!(key.hash("ann@x.io"), key.hash("bob@x.io"));
        assert_ne!(key.hash("ann@x.io"), EmailKey::derive("k2").hash("ann@x.io"));
        let hash = key.hash("ann@x.io");
        assert!(hash.starts_with("h:") && hash.len() == 26, "{hash}");
        assert!(!format!("{key:?}").contains(&hex(&key.0)));
    }

    #[test]
    fn free_text_keeps_everything_but_the_addresses() {
        let key = EmailKey::derive("k");
        let ann = key.hash("ann@x.io");
        assert_eq!(scrub("invited Ann@x.io as read", &key), format!("invited {ann} as read"));
        assert_eq!(scrub("\"ann@x.io\", bob@y.co.", &key), format!("\"{ann}\", {}.", key.hash("bob@y.co")));
        assert_eq!(scrub("no address @ here, a@b, @x.io", &key), "no address @ here, a@b, @x.io");
    }
}
