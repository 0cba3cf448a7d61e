//! The WIT `events` export: conversions between the generated types and
//! [`crate::events`] / [`crate::sync::events`], nothing else.

use super::env;
use super::exports::exports::gitbook::directory_sync::events as wit;
use super::exports::exports::gitbook::directory_sync::types as wit_types;
use super::exports::{from_wit_role, to_wit_error, with_client, Component};
use crate::events::okta::{self, GroupMapping};
use crate::sync::events::{EventResult, JoinDefaults, Status};

impl wit::Guest for Component {
    fn apply(
        settings: wit_types::Settings,
        events: String,
        defaults: Option<wit::JoinDefaults>,
    ) -> Result<Vec<wit::EventResult>, wit_types::Error> {
        with_client(settings, |client| {
            // The same mapping the webhook uses, so one configuration serves both.
            let groups = GroupMapping::parse(env(okta::ENV_GROUP_TEAMS).as_deref().unwrap_or("").trim())?;
            let items = crate::events::parse_document(events.as_bytes(), &groups)?;
            let defaults = defaults
                .map_or_else(JoinDefaults::default, |d| JoinDefaults { role: d.role.map(from_wit_role), sso: d.sso });
            let (to_apply, ignored) = okta::split(items);
            let results = crate::sync::events::apply(client, &defaults, &to_apply);
            let ignored = ignored.into_iter().map(|(id, kind, detail)| wit::EventResult {
                id,
                kind,
                status: wit::EventStatus::Ignored,
                detail,
                error: None,
            });
            Ok(results.into_iter().map(to_wit_result).chain(ignored).collect())
        })
    }
}

fn to_wit_result(result: EventResult) -> wit::EventResult {
    wit::EventResult {
        id: result.id,
        kind: result.kind.to_owned(),
        status: match result.status {
            Status::Applied => wit::EventStatus::Applied,
            Status::Ignored => wit::EventStatus::Ignored,
            Status::Failed => wit::EventStatus::Failed,
        },
        detail: result.detail,
        error: result.error.map(to_wit_error),
    }
}
