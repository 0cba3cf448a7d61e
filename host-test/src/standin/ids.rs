//! Deterministic, GitBook-looking entity ids.
//!
//! Ids are derived from a hash rather than drawn at random so that every run of a test sees
//! the same ids (failures reproduce), while still looking like GitBook's 28-character user
//! ids (`PERerEOAQ6QWXj1flmrlVzl3XJ22`). User ids come from the lower-cased email: GitBook
//! user ids belong to the user account, so an email removed and invited again gets its old
//! id back, and the stand-in does the same.

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Length of a GitBook user id.
pub(crate) const USER_ID_LEN: usize = 28;
/// Length of a team id (GitBook's are shorter than user ids).
pub(crate) const TEAM_ID_LEN: usize = 20;

/// SplitMix64: a tiny, well-mixed step function, enough to spread a seed over many chars.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a over bytes: a stable hash (std's `DefaultHasher` is not guaranteed stable).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xCBF2_9CE4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01B3))
}

/// An id of `len` characters from `[0-9A-Za-z]`, fully determined by `seed`.
pub(crate) fn entity_id(seed: u64, len: usize) -> String {
    let mut state = seed;
    let mut out = String::with_capacity(len);
    while out.len() < len {
        let mut word = splitmix64(&mut state);
        // Ten base-62 digits per 64-bit word keeps the digits close to uniform.
        for _ in 0..10 {
            if out.len() == len {
                break;
            }
            out.push(char::from(ALPHABET[(word % 62) as usize]));
            word /= 62;
        }
    }
    out
}

/// The user id for `email` (case-insensitive). `attempt` > 0 picks an alternative id for
/// the (astronomically unlikely) case where the first one is already taken.
pub(crate) fn user_id(email: &str, attempt: u64) -> String {
    let seed = fnv1a(email.to_lowercase().as_bytes()) ^ attempt.wrapping_mul(0xA24B_AED4_963E_E407);
    entity_id(seed, USER_ID_LEN)
}

/// The id of the `seq`-th team created in an organization.
pub(crate) fn team_id(org_id: &str, seq: u64) -> String {
    entity_id(fnv1a(org_id.as_bytes()) ^ seq.wrapping_mul(0x9FB2_1C65_1E98_DF25), TEAM_ID_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_and_well_formed() {
        let a = user_id("Alice@Acme.test", 0);
        assert_eq!(a, user_id("alice@acme.test", 0));
        assert_ne!(a, user_id("alice@acme.test", 1));
        assert_eq!(a.len(), USER_ID_LEN);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(team_id("acme", 3).len(), TEAM_ID_LEN);
        assert_ne!(team_id("acme", 3), team_id("acme", 4));
    }
}
