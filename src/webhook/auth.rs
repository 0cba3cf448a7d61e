//! The shared-secret check for the authenticated routes, in constant time.

/// Compares a received value with the expected secret in time that depends
/// only on the received value's length: every byte is compared (no early exit
/// at the first difference) and the secret's length is folded into the result
/// rather than checked first. An attacker learns nothing they did not send,
/// except, unavoidably, that the secret is empty when it is (the webhook never
/// compares against an empty secret).
pub fn constant_time_eq(received: &[u8], expected: &[u8]) -> bool {
    if expected.is_empty() {
        return received.is_empty();
    }
    let mut difference = received.len() ^ expected.len();
    for (i, byte) in received.iter().enumerate() {
        // Wraps around a shorter secret so the loop always runs over the
        // received bytes; the length difference above already makes it fail.
        difference |= usize::from(byte ^ expected[i % expected.len()]);
    }
    std::hint::black_box(difference) == 0
}

/// Whether an `Authorization` header value carries `secret`: verbatim (Okta
/// sends the configured header value as is) or as `Bearer <secret>`. Both
/// comparisons always run.
pub fn authorization_matches(header: &str, secret: &str) -> bool {
    let header = header.trim().as_bytes();
    let verbatim = constant_time_eq(header, secret.as_bytes());
    let bearer = match header.split_at_checked(7) {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case(b"bearer ") => {
            constant_time_eq(token.trim_ascii_start(), secret.as_bytes())
        }
        _ => false,
    };
    verbatim | bearer
}

/// Why a request is not let in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No `Authorization` header.
    Missing,
    /// More than one: which one was meant cannot be known.
    Several,
    /// One that does not carry the secret.
    Mismatch,
}

/// Whether the `Authorization` header `values` are exactly one that
/// carries `secret` ([`authorization_matches`]).
pub fn check<'v>(mut values: impl Iterator<Item = &'v str>, secret: &str) -> Result<(), Refusal> {
    match (values.next(), values.next()) {
        (None, _) => Err(Refusal::Missing),
        (Some(_), Some(_)) => Err(Refusal::Several),
        (Some(value), None) if authorization_matches(value, secret) => Ok(()),
        (Some(_), None) => Err(Refusal::Mismatch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_bytes_are_equal_and_any_difference_is_not() {
        assert!(constant_time_eq(b"s3cret", b"s3cret"));
        assert!(constant_time_eq(b"", b""));
        for other in [&b"s3creT"[..], b"S3cret", b"s3cre", b"s3crets", b"", b"s3cret\0", b"xxxxxx"] {
            assert!(!constant_time_eq(other, b"s3cret"), "{other:?}");
        }
        assert!(!constant_time_eq(b"a", b""));
    }

    #[test]
    fn a_repeated_prefix_of_a_shorter_secret_does_not_match() {
        // The comparison wraps around the secret's bytes; the length check
        // must still refuse a value that repeats it.
        assert!(!constant_time_eq(b"abab", b"ab"));
        assert!(!constant_time_eq(b"ab", b"abab"));
    }

    #[test]
    fn the_header_may_be_the_secret_or_a_bearer_token() {
        assert!(authorization_matches("s3cret", "s3cret"));
        assert!(authorization_matches("Bearer s3cret", "s3cret"));
        assert!(authorization_matches("bearer  s3cret ", "s3cret"));
        assert!(authorization_matches("Bearer s3cret", "Bearer s3cret"));
        assert!(!authorization_matches("Basic s3cret", "s3cret"));
        assert!(!authorization_matches("Bearer", "s3cret"));
        assert!(!authorization_matches("Bearers3cret", "s3cret"));
        assert!(!authorization_matches("Bearer S3CRET", "s3cret"));
        assert!(!authorization_matches("", "s3cret"));
        assert!(!authorization_matches("Bearer é", "s3cret"));
    }
}
