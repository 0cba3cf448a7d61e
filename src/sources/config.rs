//! A source's settings, looked up by name: environment variables for the
//! command line, a list of name/value pairs through WIT and the service.
//! One set of names everywhere, so a setup written for one way in works
//! for the others. Credentials become [`Secret`]s or a signing key at
//! once; no error repeats their values.
//!
//! | source | setting | meaning |
//! |---|---|---|
//! | google | `GOOGLE_SERVICE_ACCOUNT_KEY` | the service account's JSON key (its text) |
//! | google | `GOOGLE_ADMIN_EMAIL` | the admin the service account acts for |
//! | google | `GOOGLE_CUSTOMER` | customer ID (default `my_customer`) |
//! | google | `GOOGLE_API_URL` | base URL for the API and token endpoint (stand-ins) |
//! | entra | `ENTRA_TENANT_ID`, `ENTRA_CLIENT_ID`, `ENTRA_CLIENT_SECRET` | the app registration |
//! | entra | `ENTRA_EMAIL_ATTRIBUTE` | `mail` (default) or `userPrincipalName` |
//! | entra | `ENTRA_GRAPH_URL`, `ENTRA_LOGIN_URL` | base URLs (stand-ins) |
//! | okta | `OKTA_ORG_URL` | e.g. `https://acme.okta.com` |
//! | okta | `OKTA_API_TOKEN` | an API token (sent as `SSWS`) |
//!
//! A base URL with plain `http` is refused unless insecure http is allowed
//! (`GITBOOK_ALLOW_INSECURE_HTTP`, for local stand-ins only).

use super::api::{DirectoryApi, SourceKind};
use super::entra::{self, EmailAttribute, Entra};
use super::google::{self, Google};
use super::jwt::SigningKeyRs256;
use super::okta::Okta;
use super::secret::Secret;
use crate::error::Error;
use crate::settings::BaseUrl;
use crate::validate::{printable, Email};

/// A configured source, ready to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Google(Box<Google>),
    Entra(Entra),
    Okta(Okta),
}

impl Source {
    pub fn api(&self) -> &dyn DirectoryApi {
        match self {
            Source::Google(source) => source.as_ref(),
            Source::Entra(source) => source,
            Source::Okta(source) => source,
        }
    }

    pub fn kind(&self) -> SourceKind {
        self.api().kind()
    }

    /// The hosts the source contacts, for an outbound allow-list.
    pub fn hosts(&self) -> Vec<String> {
        let mut hosts = match self {
            Source::Google(g) => vec![g.api.authority.clone(), host_of(&g.token_url)],
            Source::Entra(e) => vec![e.graph.authority.clone(), e.login.authority.clone()],
            Source::Okta(o) => vec![o.org.authority.clone()],
        };
        hosts.dedup();
        hosts
    }

    /// Reads the settings of source `kind` through `lookup` (see the table
    /// in the module doc).
    pub fn resolve(
        kind: SourceKind,
        lookup: impl Fn(&str) -> Option<String>,
        allow_insecure_http: bool,
    ) -> Result<Source, Error> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let required =
            |name: &str, what: &str| get(name).ok_or_else(|| Error::invalid(name, format!("is missing: {what}")));
        let url = |name: &str, default: &str| -> Result<BaseUrl, Error> {
            let value = get(name).unwrap_or_else(|| default.to_owned());
            BaseUrl::parse(&value, allow_insecure_http).map_err(|e| match e {
                Error::InvalidInput { message, .. } => Error::invalid(name, message),
                other => other,
            })
        };
        match kind {
            SourceKind::Google => {
                let key = required(
                    "GOOGLE_SERVICE_ACCOUNT_KEY",
                    "the service account's JSON key (with --source google, --key-file reads it from a file)",
                )?;
                let (client_email, key) = service_account_key(&key)?;
                let subject = required("GOOGLE_ADMIN_EMAIL", "the Workspace admin the service account acts for")?;
                let subject = Email::parse("GOOGLE_ADMIN_EMAIL", &subject)?.as_str().to_owned();
                let customer = get("GOOGLE_CUSTOMER").unwrap_or_else(|| "my_customer".to_owned());
                if !customer.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(Error::invalid(
                        "GOOGLE_CUSTOMER",
                        format!(
                            "{} is not a customer ID; expected e.g. C01abc23d or my_customer",
                            printable(&customer)
                        ),
                    ));
                }
                let (api, token_url) = match get("GOOGLE_API_URL") {
                    Some(_) => {
                        let base = url("GOOGLE_API_URL", "")?;
                        let token = base.url("/token");
                        (base, token)
                    }
                    None => (url("GOOGLE_API_URL", google::DEFAULT_API_URL)?, google::DEFAULT_TOKEN_URL.to_owned()),
                };
                Ok(Source::Google(Box::new(Google { client_email, key, subject, customer, api, token_url })))
            }
            SourceKind::Entra => {
                let tenant = required("ENTRA_TENANT_ID", "the directory (tenant) ID of the app registration")?;
                if !tenant.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.')) {
                    return Err(Error::invalid(
                        "ENTRA_TENANT_ID",
                        format!("{} is not a tenant ID or domain", printable(&tenant)),
                    ));
                }
                let client_id = required("ENTRA_CLIENT_ID", "the application (client) ID of the app registration")?;
                if !client_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                    return Err(Error::invalid(
                        "ENTRA_CLIENT_ID",
                        format!("{} is not an application ID", printable(&client_id)),
                    ));
                }
                let client_secret = Secret::parse(
                    "ENTRA_CLIENT_SECRET",
                    &required("ENTRA_CLIENT_SECRET", "a client secret of the app registration")?,
                )?;
                let email = match get("ENTRA_EMAIL_ATTRIBUTE").as_deref() {
                    None | Some("mail") => EmailAttribute::Mail,
                    Some("userPrincipalName") => EmailAttribute::UserPrincipalName,
                    Some(other) => {
                        return Err(Error::invalid(
                            "ENTRA_EMAIL_ATTRIBUTE",
                            format!("{} is not an attribute; expected mail or userPrincipalName", printable(other)),
                        ))
                    }
                };
                let graph = url("ENTRA_GRAPH_URL", entra::DEFAULT_GRAPH_URL)?;
                let login = url("ENTRA_LOGIN_URL", entra::DEFAULT_LOGIN_URL)?;
                Ok(Source::Entra(Entra { tenant, client_id, client_secret, email, graph, login }))
            }
            SourceKind::Okta => {
                required("OKTA_ORG_URL", "the Okta org's URL, e.g. https://acme.okta.com")?;
                let org = url("OKTA_ORG_URL", "")?;
                let token = Secret::parse(
                    "OKTA_API_TOKEN",
                    &required("OKTA_API_TOKEN", "an Okta API token (Security › API)")?,
                )?;
                Ok(Source::Okta(Okta { org, token }))
            }
        }
    }
}

fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', '?']).next().unwrap_or(rest).to_ascii_lowercase()
}

/// `client_email` and `private_key` of a service-account JSON key.
fn service_account_key(text: &str) -> Result<(String, SigningKeyRs256), Error> {
    let field = "GOOGLE_SERVICE_ACCOUNT_KEY";
    let value: serde_json::Value = serde_json::from_str(text).map_err(|_| {
        Error::invalid(field, "is not JSON; give the service account's JSON key as downloaded from Google Cloud")
    })?;
    if value.get("type").and_then(|t| t.as_str()) != Some("service_account") {
        return Err(Error::invalid(field, "is not a service account key (its \"type\" is not \"service_account\")"));
    }
    let client_email = value
        .get("client_email")
        .and_then(|e| e.as_str())
        .ok_or_else(|| Error::invalid(field, "has no client_email"))?;
    let client_email = Email::parse(field, client_email)?.as_str().to_owned();
    let pem =
        value.get("private_key").and_then(|k| k.as_str()).ok_or_else(|| Error::invalid(field, "has no private_key"))?;
    Ok((client_email, SigningKeyRs256::from_pkcs8_pem(field, pem)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    pub fn google_key_json() -> String {
        serde_json::json!({
            "type": "service_account",
            "project_id": "acme-sync",
            "private_key_id": "test-only",
            "private_key": super::super::google::tests::TEST_KEY,
            "client_email": "sync@acme-sync.iam.gserviceaccount.com",
            "token_uri": "https://oauth2.googleapis.com/token",
        })
        .to_string()
    }

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn google_reads_the_key_file_and_defaults_to_googles_hosts() {
        let key = google_key_json();
        let source = Source::resolve(
            SourceKind::Google,
            lookup(&[("GOOGLE_SERVICE_ACCOUNT_KEY", &key), ("GOOGLE_ADMIN_EMAIL", "Admin@Acme.com")]),
            false,
        )
        .unwrap();
        let Source::Google(google) = &source else { panic!() };
        assert_eq!(google.subject, "admin@acme.com");
        assert_eq!(google.customer, "my_customer");
        assert_eq!(source.hosts(), ["admin.googleapis.com", "oauth2.googleapis.com"]);
        assert!(!format!("{source:?}").contains("PRIVATE KEY"));
    }

    #[test]
    fn missing_or_bad_settings_name_the_variable_and_never_echo_secrets() {
        let error = Source::resolve(SourceKind::Okta, lookup(&[("OKTA_ORG_URL", "https://a.okta.com")]), false)
            .unwrap_err()
            .to_string();
        assert!(error.contains("OKTA_API_TOKEN"), "{error}");
        let error = Source::resolve(
            SourceKind::Google,
            lookup(&[
                (
                    "GOOGLE_SERVICE_ACCOUNT_KEY",
                    r#"{"type":"service_account","client_email":"a@b.iam","private_key":"s3cret"}"#,
                ),
                ("GOOGLE_ADMIN_EMAIL", "a@b.com"),
            ]),
            false,
        )
        .unwrap_err()
        .to_string();
        assert!(!error.contains("s3cret") && error.contains("GOOGLE_SERVICE_ACCOUNT_KEY"), "{error}");
        let error = Source::resolve(
            SourceKind::Entra,
            lookup(&[
                ("ENTRA_TENANT_ID", "t"),
                ("ENTRA_CLIENT_ID", "c"),
                ("ENTRA_CLIENT_SECRET", "x"),
                ("ENTRA_GRAPH_URL", "http://127.0.0.1:9"),
            ]),
            false,
        )
        .unwrap_err();
        assert!(matches!(error, Error::InvalidInput { ref field, .. } if field == "ENTRA_GRAPH_URL"), "{error}");
    }

    #[test]
    fn a_base_url_points_a_source_at_a_stand_in() {
        let source = Source::resolve(
            SourceKind::Okta,
            lookup(&[("OKTA_ORG_URL", "http://127.0.0.1:8080"), ("OKTA_API_TOKEN", "00abc")]),
            true,
        )
        .unwrap();
        assert_eq!(source.hosts(), ["127.0.0.1:8080"]);
        assert!(!format!("{source:?}").contains("00abc"));
    }
}
