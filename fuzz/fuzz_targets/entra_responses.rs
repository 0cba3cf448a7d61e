//! Arbitrary bytes as the entra source's answers (body, and a Link header
//! split from the bytes), through every parser the source has: users,
//! group lookup, members, token, error message.
//!
//! Properties: never panics; a next page the source accepts stays on the
//! API's origin (the credential is never sent elsewhere); parsed items carry
//! what the body held (no invented users).
#![no_main]

use gitbook_directory_sync::http::Response;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = fuzz_support::sources::entra();
    let (link, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (String::from_utf8_lossy(&data[..i]).into_owned(), &data[i + 1..]),
        None => (String::new(), data),
    };
    let response = Response { status: 200, headers: vec![("link".into(), link)], body: body.to_vec() };
    fuzz_support::sources::check(&source, &response);
});
