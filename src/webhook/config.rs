//! The incoming service's configuration, read from the environment in one
//! place for every protocol it serves.

use crate::error::Error;
use crate::events::okta::GroupMapping;
use crate::role::parse_role_or_guest;
use crate::settings::{RawSettings, RetryPolicy, Settings};
use crate::sync::events::JoinDefaults;
use crate::validate::printable;
use std::fmt;
use std::time::Duration;

pub const ENV_SECRET: &str = "WEBHOOK_SECRET";
/// The bearer token identity providers send to `/scim/v2`.
pub const ENV_SCIM_TOKEN: &str = "SCIM_TOKEN";
pub const ENV_DEFAULT_ROLE: &str = "GITBOOK_DEFAULT_ROLE";
pub const ENV_SSO: &str = "GITBOOK_SSO";
/// Time allowed for applying one delivery, in milliseconds.
pub const ENV_DEADLINE_MS: &str = "WEBHOOK_DEADLINE_MS";
pub use crate::events::okta::ENV_GROUP_TEAMS;
/// Time allowed for answering one SCIM request, in milliseconds.
pub const ENV_SCIM_DEADLINE_MS: &str = "SCIM_DEADLINE_MS";
/// Time allowed for one `/reconcile` (plan and apply), in milliseconds.
pub const ENV_RECONCILE_DEADLINE_MS: &str = "RECONCILE_DEADLINE_MS";

/// The default budget for one delivery: Okta waits about 3 s for an answer.
pub const DEFAULT_DEADLINE: Duration = Duration::from_millis(2500);
/// The longest budget accepted: past a minute every sender has given up.
pub const MAX_DEADLINE: Duration = Duration::from_secs(60);
/// The default budget for one SCIM request: Microsoft Entra asks SCIM
/// endpoints to answer within 60 s (and retries a create that times out,
/// which then meets 409), so 45 s leaves room for the network and the host.
pub const DEFAULT_SCIM_DEADLINE: Duration = Duration::from_secs(45);
/// The default budget for one `/reconcile`: schedulers wait, but not forever.
pub const DEFAULT_RECONCILE_DEADLINE: Duration = Duration::from_secs(300);
/// The longest `/reconcile` budget accepted.
pub const MAX_RECONCILE_DEADLINE: Duration = Duration::from_secs(3600);

/// The service's configuration. `Debug` never shows the secret.
#[derive(Clone)]
pub struct Config {
    /// The expected `Authorization` header value; `None` refuses every
    /// authenticated route.
    pub secret: Option<String>,
    /// The SCIM bearer token; `None` refuses every `/scim/v2` request.
    pub scim_token: Option<String>,
    pub defaults: JoinDefaults,
    pub groups: GroupMapping,
    /// Time allowed for applying one `/events` delivery.
    pub deadline: Duration,
    /// Time allowed for answering one SCIM request.
    pub scim_deadline: Duration,
    /// Time allowed for one `/reconcile`.
    pub reconcile_deadline: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            secret: None,
            scim_token: None,
            defaults: JoinDefaults::default(),
            groups: GroupMapping::default(),
            deadline: DEFAULT_DEADLINE,
            scim_deadline: DEFAULT_SCIM_DEADLINE,
            reconcile_deadline: DEFAULT_RECONCILE_DEADLINE,
        }
    }
}

impl Config {
    /// Reads `WEBHOOK_SECRET`, `SCIM_TOKEN`, `GITBOOK_DEFAULT_ROLE` (`admin`…`read` or
    /// `guest`; default `read`), `GITBOOK_SSO` (`true`/`false`; default
    /// `true`), `GITBOOK_GROUP_TEAMS` (see [`GroupMapping::parse`]) and
    /// `WEBHOOK_DEADLINE_MS` (1 to 60000; default 2500). Values are trimmed
    /// and a blank value counts as unset; any other bad value is an error
    /// naming the variable (the service then answers 500 saying so). A
    /// missing secret is not an error here: the router answers 500 on the
    /// routes that need it.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Config, Error> {
        let read = |name: &str| env(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let secret = read(ENV_SECRET);
        if secret.as_deref().is_some_and(|s| s.chars().any(char::is_control)) {
            return Err(Error::invalid(ENV_SECRET, "contains control characters; it must fit in an HTTP header"));
        }
        let scim_token = read(ENV_SCIM_TOKEN);
        if scim_token.as_deref().is_some_and(|s| s.chars().any(char::is_control)) {
            return Err(Error::invalid(ENV_SCIM_TOKEN, "contains control characters; it must fit in an HTTP header"));
        }
        let mut config = Config { secret, scim_token, ..Config::default() };
        if let Some(role) = read(ENV_DEFAULT_ROLE) {
            config.defaults.role = parse_role_or_guest(&role).map_err(|m| Error::invalid(ENV_DEFAULT_ROLE, m))?;
        }
        if let Some(sso) = read(ENV_SSO) {
            config.defaults.sso = match sso.to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(Error::invalid(ENV_SSO, format!("{} must be true or false", printable(&sso)))),
            };
        }
        config.groups = GroupMapping::from_env(&env)?;
        let budget = |name: &str, max: Duration| -> Result<Option<Duration>, Error> {
            let Some(ms) = read(name) else { return Ok(None) };
            let parsed = ms.parse::<u64>().ok().map(Duration::from_millis).filter(|d| !d.is_zero() && *d <= max);
            parsed.map(Some).ok_or_else(|| {
                Error::invalid(
                    name,
                    format!("{} must be a whole number of milliseconds from 1 to {}", printable(&ms), max.as_millis()),
                )
            })
        };
        if let Some(deadline) = budget(ENV_DEADLINE_MS, MAX_DEADLINE)? {
            config.deadline = deadline;
        }
        if let Some(deadline) = budget(ENV_SCIM_DEADLINE_MS, MAX_DEADLINE)? {
            config.scim_deadline = deadline;
        }
        if let Some(deadline) = budget(ENV_RECONCILE_DEADLINE_MS, MAX_RECONCILE_DEADLINE)? {
            config.reconcile_deadline = deadline;
        }
        Ok(config)
    }

    /// The secret, when one is configured (not blank).
    pub fn secret(&self) -> Option<&str> {
        self.secret.as_deref().filter(|s| !s.trim().is_empty())
    }

    /// The SCIM token, when one is configured (not blank).
    pub fn scim_token(&self) -> Option<&str> {
        self.scim_token.as_deref().filter(|s| !s.trim().is_empty())
    }

    /// The GitBook settings for applying one delivery: read from `env` like
    /// every other way in, with every retry bound cut to the delivery's
    /// deadline, since no single operation may outlast the whole budget.
    pub fn delivery_settings(&self, env: impl Fn(&str) -> Option<String>) -> Result<Settings, Error> {
        Config::settings_within(self.deadline, env)
    }

    /// The GitBook settings for a request whose whole budget is `budget`:
    /// no wait and no operation longer than it.
    pub fn settings_within(budget: Duration, env: impl Fn(&str) -> Option<String>) -> Result<Settings, Error> {
        let mut retry = RetryPolicy::default();
        retry.deadline = retry.deadline.min(budget);
        retry.max_wait = retry.max_wait.min(budget);
        RawSettings { retry: Some(retry), ..RawSettings::default() }.resolve(env)
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("secret", &self.secret().map(|_| "[redacted]"))
            .field("scim_token", &self.scim_token().map(|_| "[redacted]"))
            .field("defaults", &self.defaults)
            .field("groups", &self.groups)
            .field("deadline", &self.deadline)
            .field("scim_deadline", &self.scim_deadline)
            .field("reconcile_deadline", &self.reconcile_deadline)
            .finish()
    }
}
