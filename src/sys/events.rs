//! The WIT `events` export: conversions between the generated types and
//! [`crate::sync::events::apply_document`], nothing else.

use super::env;
use super::exports::exports::gitbook::directory_sync::events as wit;
use super::exports::exports::gitbook::directory_sync::types as wit_types;
use super::exports::{from_wit_role, to_wit_error, with_client, Component};
use crate::events::okta::GroupMapping;
use crate::sync::events::{EventResult, JoinDefaults, Status};

impl wit::Guest for Component {
    fn apply(
        settings: wit_types::Settings,
        events: String,
        defaults: Option<wit::JoinDefaults>,
    ) -> Result<Vec<wit::EventResult>, wit_types::Error> {
        with_client("events.apply", settings, |client| {
            let groups = GroupMapping::from_env(env)?;
            let defaults = defaults
                .map_or_else(JoinDefaults::default, |d| JoinDefaults { role: d.role.map(from_wit_role), sso: d.sso });
            let results = crate::sync::events::apply_document(client, &groups, &defaults, events.as_bytes())?;
            Ok(results.into_iter().map(to_wit_result).collect())
        })
    }
}

fn to_wit_result(result: EventResult) -> wit::EventResult {
    wit::EventResult {
        id: result.id,
        kind: result.kind,
        status: match result.status {
            Status::Applied => wit::EventStatus::Applied,
            Status::Ignored => wit::EventStatus::Ignored,
            Status::Failed => wit::EventStatus::Failed,
        },
        detail: result.detail,
        error: result.error.map(to_wit_error),
    }
}
