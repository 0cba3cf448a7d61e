//! The directory sources as the fuzz targets build them, and the checks
//! every answer must pass whatever its bytes.

use gitbook_directory_sync::http::Response;
use gitbook_directory_sync::settings::BaseUrl;
use gitbook_directory_sync::sources::entra::{EmailAttribute, Entra};
use gitbook_directory_sync::sources::google::Google;
use gitbook_directory_sync::sources::jwt::SigningKeyRs256;
use gitbook_directory_sync::sources::okta::Okta;
use gitbook_directory_sync::sources::secret::Secret;
use gitbook_directory_sync::sources::DirectoryApi;
use std::time::Duration;

const BASE: &str = "https://api.directory.test";
const TEST_KEY: &str = include_str!("../../src/sources/testdata/TEST-ONLY-service-account-key.pem");

fn base() -> BaseUrl {
    BaseUrl::parse(BASE, false).expect("a valid base URL")
}

pub fn google() -> Google {
    Google {
        client_email: "sync@acme.iam.gserviceaccount.com".into(),
        key: SigningKeyRs256::from_pkcs8_pem("key", TEST_KEY).expect("the test key"),
        subject: "admin@acme.test".into(),
        customer: "my_customer".into(),
        api: base(),
        token_url: format!("{BASE}/token"),
    }
}

pub fn entra() -> Entra {
    Entra {
        tenant: "acme.test".into(),
        client_id: "client".into(),
        client_secret: Secret::parse("secret", "s3cret").expect("a secret"),
        email: EmailAttribute::Mail,
        graph: base(),
        login: base(),
    }
}

pub fn okta() -> Okta {
    Okta { org: base(), token: Secret::parse("token", "00token").expect("a token") }
}

/// Every parser on one answer: no panic; a next page the source accepts
/// stays on the API's origin; no more items than the body could hold.
pub fn check(source: &dyn DirectoryApi, response: &Response) {
    let on_origin = |url: &str| {
        assert!(url.starts_with(&format!("{BASE}/")), "a next page off the API's origin: {url}");
    };
    if let Ok(page) = source.parse_users(response) {
        assert!(page.items.len() <= response.body.len(), "more users than bytes");
        if let Some(next) = &page.next {
            if let Ok(url) = source.users_url(Some(next)) {
                on_origin(&url);
            }
        }
    }
    if let Ok(page) = source.parse_members(response) {
        assert!(page.items.len() <= response.body.len(), "more members than bytes");
        if let Some(next) = &page.next {
            if let Ok(url) = source.members_url("group", Some(next)) {
                on_origin(&url);
            }
        }
    }
    let _ = source.parse_group_lookup("eng", response);
    let _ = source.parse_token(response);
    let _ = source.error_message(&response.body);
    let failed = Response { status: 429, ..response.clone() };
    let _ = source.retryable(&failed);
    let _ = source.server_wait(&failed, Duration::from_secs(1_700_000_000));
    let _ = source.pause(response, Duration::from_secs(1_700_000_000));
}
