//! Connection settings: where GitBook is, which organization, which token,
//! and the retry and timeout bounds. Resolved once per call from the caller's
//! values, then the environment, then the defaults.

use crate::error::Error;
use crate::validate::{printable, GitBookId};
use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

pub const DEFAULT_BASE_URL: &str = "https://api.gitbook.com";
pub const ENV_BASE_URL: &str = "GITBOOK_API_URL";
pub const ENV_ORG: &str = "GITBOOK_ORG";
pub const ENV_TOKEN: &str = "GITBOOK_TOKEN";
/// `1` or `true` accepts a plain `http://` base URL (local stand-ins only).
pub const ENV_ALLOW_INSECURE_HTTP: &str = "GITBOOK_ALLOW_INSECURE_HTTP";
pub const ENV_CONCURRENCY: &str = "GITBOOK_CONCURRENCY";

/// Requests in flight at once unless the caller says otherwise. Eight keeps
/// a 10,000-member reconcile under a third of the serial time at 20 ms a
/// request (BENCHMARKS.md) while staying polite: it is the order of what
/// browsers open per host (6), and the shared rate-limit pause keeps the
/// server's window from being overrun whatever the number.
pub const DEFAULT_CONCURRENCY: u32 = 8;
/// The most a caller may ask for; the host may allow fewer.
pub const MAX_CONCURRENCY: u32 = 64;

/// The caller's settings as given; every `None` falls back to the environment
/// and then to the default.
#[derive(Clone, Default)]
pub struct RawSettings {
    pub base_url: Option<String>,
    pub organization: Option<String>,
    pub token: Option<String>,
    pub allow_insecure_http: Option<bool>,
    pub retry: Option<RetryPolicy>,
    pub timeouts: Option<Timeouts>,
    /// Requests in flight at once, 1 to [`MAX_CONCURRENCY`].
    pub concurrency: Option<u32>,
}

/// Settings that passed validation.
#[derive(Clone, Debug)]
pub struct Settings {
    pub base_url: BaseUrl,
    pub organization: GitBookId,
    pub token: Token,
    pub retry: RetryPolicy,
    pub timeouts: Timeouts,
    /// Requests in flight at once, where order does not matter (1: one at a
    /// time).
    pub concurrency: NonZeroU32,
    /// Largest response body accepted; a bigger one is an invalid response.
    pub max_response_bytes: usize,
}

/// Retry bounds (see the WIT `retry-policy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub max_wait: Duration,
    pub deadline: Duration,
    pub base_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            max_wait: Duration::from_secs(30),
            deadline: Duration::from_secs(120),
            base_delay: Duration::from_millis(500),
        }
    }
}

/// Per-request timeouts (see the WIT `timeouts`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub first_byte: Duration,
    pub between_bytes: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            first_byte: Duration::from_secs(30),
            between_bytes: Duration::from_secs(30),
        }
    }
}

impl Timeouts {
    /// These timeouts, none longer than `limit`.
    pub fn capped_at(&self, limit: Duration) -> Timeouts {
        Timeouts {
            connect: self.connect.min(limit),
            first_byte: self.first_byte.min(limit),
            between_bytes: self.between_bytes.min(limit),
        }
    }
}

/// A bearer token. Its `Debug` and `Display` never show the value, so it
/// cannot leak through an error, a log line or a panic message.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn parse(value: &str) -> Result<Token, Error> {
        let value = value.trim();
        if value.is_empty() {
            return Err(Error::invalid("token", format!("is missing; pass it in the settings or set {ENV_TOKEN}")));
        }
        // The token goes into a header: refuse anything that could split it.
        if value.chars().any(|c| c.is_control() || c == ' ' || !c.is_ascii()) {
            return Err(Error::invalid(
                "token",
                "contains spaces, control or non-ASCII characters; copy the token again",
            ));
        }
        Ok(Token(value.to_owned()))
    }

    /// The header value. The only way to read the secret.
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.0)
    }

    /// Replaces the secret wherever it appears in `text` (e.g. a server error
    /// message that echoes the request).
    pub fn redact(&self, text: &str) -> String {
        text.replace(&self.0, "[redacted]")
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token([redacted])")
    }
}

/// A validated API base URL: scheme, authority and an optional path prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseUrl {
    pub scheme: Scheme,
    /// host[:port]
    pub authority: String,
    /// Empty, or a path starting with '/' and not ending with one.
    pub path_prefix: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl BaseUrl {
    pub fn parse(value: &str, allow_insecure_http: bool) -> Result<BaseUrl, Error> {
        let field = "base-url";
        // A URL with '@' may carry credentials: never echo it back.
        let shown = if value.contains('@') { "the URL".to_owned() } else { printable(value) };
        let refuse = |why: &str| Err(Error::invalid(field, format!("{shown} {why}")));
        let value = value.trim();
        let (scheme, rest) = if let Some(rest) = value.strip_prefix("https://") {
            (Scheme::Https, rest)
        } else if let Some(rest) = value.strip_prefix("http://") {
            if !allow_insecure_http {
                return refuse(
                    "uses plain http, which would send the token unencrypted; use https, \
                     or allow insecure http for a local stand-in",
                );
            }
            (Scheme::Http, rest)
        } else {
            return refuse("is not an http(s) URL; expected e.g. https://api.gitbook.com");
        };
        if rest.contains(['?', '#', '@']) || rest.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return refuse("must be scheme://host[:port][/path] without credentials, query or fragment");
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !authority.ends_with(']') => (host, Some(port)),
            _ => (authority, None),
        };
        let host_ok = !host.is_empty()
            && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
        let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
        if !host_ok || !port_ok {
            return refuse("has an invalid host or port");
        }
        if path.contains("..") || path.contains("//") {
            return refuse("has '..' or '//' in its path");
        }
        let path = path.trim_end_matches('/');
        let path_prefix = path.strip_suffix("/v1").unwrap_or(path);
        Ok(BaseUrl { scheme, authority: authority.to_ascii_lowercase(), path_prefix: path_prefix.to_owned() })
    }

    /// The full URL of an API path such as `/v1/orgs/acme/members`.
    pub fn url(&self, path_and_query: &str) -> String {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        format!("{scheme}://{}{}{path_and_query}", self.authority, self.path_prefix)
    }
}

impl RawSettings {
    /// Resolves every field (caller, then `env`, then default) and validates.
    pub fn resolve(self, env: impl Fn(&str) -> Option<String>) -> Result<Settings, Error> {
        let pick = |given: Option<String>, var: &str| {
            given.filter(|v| !v.trim().is_empty()).or_else(|| env(var).filter(|v| !v.trim().is_empty()))
        };
        let allow_http = self
            .allow_insecure_http
            .or_else(|| env(ENV_ALLOW_INSECURE_HTTP).map(|v| matches!(v.trim(), "1" | "true" | "yes")))
            .unwrap_or(false);
        let base_url = pick(self.base_url, ENV_BASE_URL).unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let base_url = BaseUrl::parse(&base_url, allow_http)?;
        let organization = pick(self.organization, ENV_ORG).ok_or_else(|| {
            Error::invalid("organization", format!("is missing; pass the GitBook organization ID or set {ENV_ORG}"))
        })?;
        let organization = GitBookId::parse("organization", organization.trim())?;
        let token = Token::parse(&pick(self.token, ENV_TOKEN).unwrap_or_default())?;
        let retry = self.retry.unwrap_or_default();
        if retry.max_attempts == 0 {
            return Err(Error::invalid("retry.max-attempts", "must be at least 1"));
        }
        if retry.deadline.is_zero() {
            return Err(Error::invalid("retry.deadline-ms", "must be more than 0"));
        }
        let timeouts = self.timeouts.unwrap_or_default();
        if timeouts.connect.is_zero() || timeouts.first_byte.is_zero() || timeouts.between_bytes.is_zero() {
            return Err(Error::invalid("timeouts", "every timeout must be more than 0 ms"));
        }
        let concurrency = match self.concurrency {
            Some(n) => n,
            None => match env(ENV_CONCURRENCY).filter(|v| !v.trim().is_empty()) {
                Some(v) => parse_concurrency(&v).map_err(|message| Error::invalid(ENV_CONCURRENCY, message))?,
                None => DEFAULT_CONCURRENCY,
            },
        };
        let concurrency = NonZeroU32::new(concurrency)
            .filter(|n| n.get() <= MAX_CONCURRENCY)
            .ok_or_else(|| Error::invalid("concurrency", format!("must be between 1 and {MAX_CONCURRENCY}")))?;
        Ok(Settings {
            base_url,
            organization,
            token,
            retry,
            timeouts,
            concurrency,
            max_response_bytes: 16 * 1024 * 1024,
        })
    }
}

/// A concurrency as text (`--concurrency`, [`ENV_CONCURRENCY`]): a whole
/// number from 1 to [`MAX_CONCURRENCY`].
pub fn parse_concurrency(text: &str) -> Result<u32, String> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_CONCURRENCY).contains(n))
        .ok_or_else(|| format!("must be a whole number from 1 to {MAX_CONCURRENCY}, not {}", printable(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(org: &str, token: &str) -> RawSettings {
        RawSettings { organization: Some(org.into()), token: Some(token.into()), ..RawSettings::default() }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn defaults_to_the_public_api_over_https() {
        let settings = raw("acme", "tok").resolve(no_env).unwrap();
        assert_eq!(settings.base_url.url("/v1/x"), "https://api.gitbook.com/v1/x");
        assert_eq!(settings.retry, RetryPolicy::default());
    }

    #[test]
    fn environment_fills_what_the_caller_left_out() {
        let env = |name: &str| match name {
            ENV_ORG => Some("org1".to_string()),
            ENV_TOKEN => Some("secret".to_string()),
            ENV_BASE_URL => Some("https://proxy.example.com/gitbook/v1/".to_string()),
            _ => None,
        };
        let settings = RawSettings::default().resolve(env).unwrap();
        assert_eq!(settings.organization.as_str(), "org1");
        assert_eq!(settings.base_url.url("/v1/orgs"), "https://proxy.example.com/gitbook/v1/orgs");
    }

    #[test]
    fn plain_http_needs_an_explicit_opt_in() {
        let mut settings = raw("acme", "tok");
        settings.base_url = Some("http://127.0.0.1:8080".into());
        let error = settings.clone().resolve(no_env).unwrap_err();
        assert!(error.to_string().contains("unencrypted"), "{error}");
        settings.allow_insecure_http = Some(true);
        let resolved = settings.resolve(no_env).unwrap();
        assert_eq!(resolved.base_url.url("/v1/a"), "http://127.0.0.1:8080/v1/a");
    }

    #[test]
    fn bad_base_urls_are_refused() {
        for bad in [
            "ftp://x",
            "https://",
            "https://user:pw@host",
            "https://h/?q",
            "https://h:99999",
            "https://h/../x",
            "https://h/gitbook//v1",
            "https://h//v1",
        ] {
            assert!(BaseUrl::parse(bad, true).is_err(), "{bad}");
        }
    }

    #[test]
    fn missing_token_or_org_says_how_to_provide_it() {
        let error = raw("acme", " ").resolve(no_env).unwrap_err();
        assert!(error.to_string().contains(ENV_TOKEN));
        let error = raw("", "tok").resolve(no_env).unwrap_err();
        assert!(error.to_string().contains(ENV_ORG));
        let error = raw("../x", "tok").resolve(no_env).unwrap_err();
        assert!(matches!(error, Error::InvalidInput { ref field, .. } if field == "organization"));
    }

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let settings = raw("acme", "gb_live_SECRET").resolve(no_env).unwrap();
        let shown = format!("{settings:?}");
        assert!(!shown.contains("gb_live_SECRET"), "{shown}");
        assert_eq!(settings.token.redact("echo gb_live_SECRET"), "echo [redacted]");
    }

    #[test]
    fn concurrency_comes_from_the_caller_then_the_environment_then_the_default() {
        assert_eq!(raw("acme", "tok").resolve(no_env).unwrap().concurrency.get(), DEFAULT_CONCURRENCY);
        let env = |name: &str| (name == ENV_CONCURRENCY).then(|| " 3 ".to_owned());
        assert_eq!(raw("acme", "tok").resolve(env).unwrap().concurrency.get(), 3);
        let given = RawSettings { concurrency: Some(1), ..raw("acme", "tok") };
        assert_eq!(given.resolve(env).unwrap().concurrency.get(), 1, "the caller's value wins");
    }

    #[test]
    fn a_concurrency_out_of_range_is_refused_with_its_source_named() {
        for bad in [0, MAX_CONCURRENCY + 1] {
            let error = RawSettings { concurrency: Some(bad), ..raw("acme", "tok") }.resolve(no_env).unwrap_err();
            assert!(matches!(&error, Error::InvalidInput { field, .. } if field == "concurrency"), "{error}");
        }
        for bad in ["0", "65", "eight", "-1"] {
            let env = |name: &str| (name == ENV_CONCURRENCY).then(|| bad.to_owned());
            let error = raw("acme", "tok").resolve(env).unwrap_err();
            assert!(matches!(&error, Error::InvalidInput { field, .. } if field == ENV_CONCURRENCY), "{error}");
        }
    }

    #[test]
    fn tokens_that_could_split_a_header_are_refused() {
        assert!(Token::parse("abc\r\nX-Evil: 1").is_err());
        assert!(Token::parse("abc def").is_err());
    }
}
