//! RS256-signed JWT assertions (RFC 7515, RFC 7523): the service-account
//! grant Google's token endpoint takes. Signing is RSASSA-PKCS1-v1_5 with
//! SHA-256, which is deterministic: no random numbers are needed, so the
//! component imports nothing for it. RustCrypto's `rsa` is pure Rust and
//! builds for wasm32-wasip2.

use crate::error::Error;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use serde_json::Value;
use sha2::Sha256;
use std::fmt;

/// An RSA private key that signs assertions. `Debug` never shows it.
#[derive(Clone)]
pub struct SigningKeyRs256(SigningKey<Sha256>);

impl SigningKeyRs256 {
    /// Reads a PKCS#8 PEM key (`-----BEGIN PRIVATE KEY-----`), as in a
    /// Google service-account key file. `field` names where it came from;
    /// the error never repeats the key.
    pub fn from_pkcs8_pem(field: &str, pem: &str) -> Result<SigningKeyRs256, Error> {
        let key = RsaPrivateKey::from_pkcs8_pem(pem.trim()).map_err(|_| {
            Error::invalid(
                field,
                "is not an RSA private key in PKCS#8 PEM form (-----BEGIN PRIVATE KEY-----); \
                 download the service account's JSON key again",
            )
        })?;
        Ok(SigningKeyRs256(SigningKey::<Sha256>::new(key)))
    }

    /// The compact serialization of a JWT with these claims.
    pub fn sign(&self, claims: &Value) -> String {
        let header = base64url(br#"{"alg":"RS256","typ":"JWT"}"#);
        let payload = base64url(claims.to_string().as_bytes());
        let signing_input = format!("{header}.{payload}");
        let signature = self.0.sign(signing_input.as_bytes());
        format!("{signing_input}.{}", base64url(&signature.to_bytes()))
    }
}

impl fmt::Debug for SigningKeyRs256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKeyRs256([redacted])")
    }
}

impl PartialEq for SigningKeyRs256 {
    /// Keys are never compared by value; two parsed keys are "equal" only
    /// for the derived equality of configurations in tests.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for SigningKeyRs256 {}

/// Base64url without padding (RFC 7515 §2).
pub fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_has_no_padding_and_the_url_alphabet() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn a_key_that_is_not_pem_is_refused_without_echoing_it() {
        let error = SigningKeyRs256::from_pkcs8_pem("private_key", "not-a-key-s3cret").unwrap_err();
        assert!(!error.to_string().contains("s3cret"));
        assert!(error.to_string().contains("PKCS#8"));
    }
}
