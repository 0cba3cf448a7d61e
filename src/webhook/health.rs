//! `GET /healthz`: whether this instance can serve, for load balancers and
//! orchestrators. It reads the configuration only: no GitBook call (a
//! GitBook outage must not take every instance out of rotation), no token
//! needed, and no setting's value in the answer.
//!
//! 200 `{"status": "ok", "version", "configuration": "complete", "serves"}`
//! when GitBook's settings resolve, every optional setting parses and at
//! least one protected way in has its secret (`WEBHOOK_SECRET` for
//! `/events` and `/reconcile`, `SCIM_TOKEN` for `/scim/v2`). Otherwise 503
//! `{"status": "unavailable", …, "configuration": "incomplete", "problems":
//! [{"setting", "message"}]}` naming each setting to fix.

use super::config::{Config, ENV_SCIM_TOKEN, ENV_SECRET};
use super::reply::Reply;
use crate::error::Error;
use crate::observe::LogConfig;
use crate::settings::{RawSettings, ENV_BASE_URL, ENV_ORG, ENV_TOKEN};
use serde_json::{json, Value};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The environment variable a settings error is about.
fn setting_of(error: &Error) -> (String, String) {
    match error {
        Error::InvalidInput { field, message } => {
            let setting = match field.as_str() {
                "organization" => ENV_ORG,
                "token" => ENV_TOKEN,
                "base-url" => ENV_BASE_URL,
                other => other,
            };
            (setting.to_owned(), message.clone())
        }
        other => ("configuration".to_owned(), other.to_string()),
    }
}

/// The health answer for the configuration in `env`.
pub fn health_reply(env: impl Fn(&str) -> Option<String>) -> Reply {
    let mut problems: Vec<(String, String)> = Vec::new();
    let config = Config::from_env(&env).map_err(|e| problems.push(setting_of(&e))).ok();
    if let Err(error) = RawSettings::default().resolve(&env) {
        problems.push(setting_of(&error));
    }
    if let Err(error) = LogConfig::from_env(&env) {
        problems.push(setting_of(&error));
    }
    let serves = config.as_ref().map(|c| {
        json!({"events": c.secret().is_some(), "reconcile": c.secret().is_some(), "scim": c.scim_token().is_some()})
    });
    if config.as_ref().is_some_and(|c| c.secret().is_none() && c.scim_token().is_none()) {
        problems.push((
            format!("{ENV_SECRET} or {ENV_SCIM_TOKEN}"),
            format!(
                "neither is set, so every request is refused; set {ENV_SECRET} for /events and /reconcile, \
                 {ENV_SCIM_TOKEN} for SCIM"
            ),
        ));
    }
    if problems.is_empty() {
        return Reply::json(
            200,
            json!({"status": "ok", "version": VERSION, "configuration": "complete", "serves": serves}),
        );
    }
    let problems: Vec<Value> =
        problems.into_iter().map(|(setting, message)| json!({"setting": setting, "message": message})).collect();
    let mut body = json!({"status": "unavailable", "version": VERSION, "configuration": "incomplete",
                          "problems": problems});
    if let Some(serves) = serves {
        body["serves"] = serves;
    }
    Reply::json(503, body).with_header("cache-control", "no-store")
}

/// The one-line outcome of a health answer.
pub fn outcome(reply: &Reply) -> String {
    match reply.body["problems"].as_array() {
        Some(problems) => {
            let names: Vec<&str> = problems.iter().filter_map(|p| p["setting"].as_str()).collect();
            format!("configuration incomplete: {}", names.join(", "))
        }
        None => "configuration complete".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
    }

    const COMPLETE: &[(&str, &str)] =
        &[("GITBOOK_TOKEN", "gb_live_abc"), ("GITBOOK_ORG", "acme"), ("WEBHOOK_SECRET", "whsec_x")];

    #[test]
    fn a_complete_configuration_is_200_with_the_version_and_what_is_served() {
        let reply = health_reply(env(COMPLETE));
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body["version"], VERSION);
        assert_eq!(reply.body["serves"], json!({"events": true, "reconcile": true, "scim": false}));
        let text = reply.body.to_string();
        assert!(!text.contains("gb_live_abc") && !text.contains("whsec_x"), "{text}");
    }

    #[test]
    fn a_missing_or_invalid_setting_is_503_naming_it() {
        let reply = health_reply(env(&[("GITBOOK_ORG", "acme"), ("WEBHOOK_SECRET", "s")]));
        assert_eq!(reply.status, 503);
        assert_eq!(reply.body["problems"][0]["setting"], "GITBOOK_TOKEN");
        assert_eq!(outcome(&reply), "configuration incomplete: GITBOOK_TOKEN");

        let reply = health_reply(env(&[
            ("GITBOOK_TOKEN", "t"),
            ("GITBOOK_ORG", "acme"),
            ("WEBHOOK_SECRET", "s"),
            ("GITBOOK_LOG", "loud"),
            ("WEBHOOK_DEADLINE_MS", "0"),
        ]));
        let settings: Vec<&str> =
            reply.body["problems"].as_array().unwrap().iter().map(|p| p["setting"].as_str().unwrap()).collect();
        assert_eq!((reply.status, settings), (503, vec!["WEBHOOK_DEADLINE_MS", "GITBOOK_LOG"]));

        let reply = health_reply(env(&[("GITBOOK_TOKEN", "t"), ("GITBOOK_ORG", "acme")]));
        assert_eq!(reply.status, 503);
        assert_eq!(reply.body["problems"][0]["setting"], "WEBHOOK_SECRET or SCIM_TOKEN");
    }
}
