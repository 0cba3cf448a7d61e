//! The input validators on arbitrary text: `Email`, `GitBookId`, `MemberRef`,
//! `TeamTitle`, `settings::BaseUrl`, `settings::Token` and
//! `okta::GroupMapping`.
//!
//! Properties: never panics; errors are `Error::InvalidInput`; an accepted
//! value is normalized as documented and parsing its normalized form again
//! gives the same value; IDs never hold '/', '?', '#', '%', '.' or
//! whitespace; a base URL builds `http(s)://` URLs without whitespace,
//! credentials, query or fragment, its path prefix is empty or starts with
//! '/' and does not end with one, and it parses back from its own
//! `url("/v1")`.
#![no_main]

use fuzz_support::{assert_invalid_input, check_email, check_id, check_member_ref, check_title, known_finding};
use gitbook_directory_sync::events::okta::GroupMapping;
use gitbook_directory_sync::events::TeamRef;
use gitbook_directory_sync::validate::TeamTitle;
use gitbook_directory_sync::settings::{BaseUrl, Scheme, Token};
use gitbook_directory_sync::validate::{Email, GitBookId, MemberRef};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();

    match Email::parse("email", text) {
        Ok(email) => {
            check_email(&email);
            assert_eq!(email.as_str(), text.trim().to_ascii_lowercase(), "an email is the trimmed, lower-cased input");
        }
        Err(e) => assert_invalid_input(&e, false),
    }
    match GitBookId::parse("id", text) {
        Ok(id) => {
            check_id(&id);
            assert_eq!(id.as_str(), text, "an ID is taken verbatim");
        }
        Err(e) => assert_invalid_input(&e, false),
    }
    match MemberRef::parse("member", text) {
        Ok(member) => {
            check_member_ref(&member);
            assert_eq!(matches!(member, MemberRef::Email(_)), text.contains('@'));
        }
        Err(e) => assert_invalid_input(&e, false),
    }
    match TeamTitle::parse("title", text) {
        Ok(title) => {
            check_title(&title);
            assert_eq!(title.as_str(), text.trim());
            assert!(title.matches(text));
        }
        Err(e) => assert_invalid_input(&e, false),
    }
    match Token::parse(text) {
        Ok(token) => {
            let bearer = token.bearer();
            assert_eq!(bearer, format!("Bearer {}", text.trim()));
            assert!(!bearer.chars().any(|c| c.is_control() || !c.is_ascii()));
            assert_eq!(format!("{token:?}"), "Token([redacted])", "Debug must never show the token");
        }
        Err(e) => assert_invalid_input(&e, false),
    }
    base_url(text);
    group_mapping(text);
});

fn base_url(text: &str) {
    let url = match BaseUrl::parse(text, true) {
        Ok(url) => url,
        Err(e) => {
            assert_invalid_input(&e, false);
            assert!(BaseUrl::parse(text, false).is_err(), "accepted without http but refused with it");
            return;
        }
    };
    match BaseUrl::parse(text, false) {
        Ok(secure) => assert_eq!((secure.scheme, &secure), (Scheme::Https, &url)),
        Err(e) => {
            assert_invalid_input(&e, false);
            assert_eq!(url.scheme, Scheme::Http, "an https URL needs no permission");
        }
    }
    let built = url.url("/v1/x");
    assert!(built.starts_with("http://") || built.starts_with("https://"), "{built:?}");
    assert!(!built.chars().any(|c| c.is_whitespace() || c.is_control()), "{built:?}");
    assert!(!built.contains(['?', '#', '@']), "{built:?}");
    assert!(!url.authority.contains(['/', '?', '#', '@']) && !url.authority.is_empty(), "{url:?}");
    assert!(!url.path_prefix.contains(".."), "{url:?}");
    known_finding!(
        url.path_prefix.is_empty() || (url.path_prefix.starts_with('/') && !url.path_prefix.ends_with('/')),
        "path prefix {:?} (from {text:?}) is not empty-or-'/x' as documented; url(\"/v1/x\") = {built:?}",
        url.path_prefix
    );
    let root = url.url("/v1");
    assert_eq!(BaseUrl::parse(&root, true).as_ref(), Ok(&url), "not idempotent via {root:?}");
}

fn group_mapping(text: &str) {
    match GroupMapping::parse(text) {
        Ok(mapping) => {
            assert_eq!(mapping.is_empty(), text.trim().is_empty() || mapping.is_empty());
            for (id, name) in [("00gEng", "Engineering"), ("", text), (text, ""), (text, text)] {
                match mapping.team_for(id, name) {
                    Ok(TeamRef::Id(team)) => check_id(&team),
                    Ok(TeamRef::Title(title)) => check_title(&title),
                    Err(e) => assert_invalid_input(&e, false),
                }
            }
        }
        Err(e) => assert_invalid_input(&e, false),
    }
}
