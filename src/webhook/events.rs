//! `POST /events`: a delivery's body parsed into directory events, and the
//! reply after applying them (status rules in the module documentation of
//! [`super`]).

use super::config::Config;
use super::reply::{Reply, MAX_BODY_BYTES};
use crate::events::{DirectoryEvent, Ignored, Item};
use crate::sync::events::{EventResult, Status};
use serde_json::{json, Value};

/// Seconds a sender is asked to wait before redelivering deferred events.
pub const RETRY_AFTER_SECONDS: u32 = 5;

/// Parses a `POST /events` body ([`crate::events::parse_document`]); any
/// problem is 400 naming it, or 413 past [`MAX_BODY_BYTES`].
pub fn parse_events(body: &[u8], config: &Config) -> Result<Vec<Item>, Reply> {
    if body.len() > MAX_BODY_BYTES {
        return Err(Reply::too_large(MAX_BODY_BYTES));
    }
    crate::events::parse_document(body, &config.groups).map_err(|error| Reply::error(400, error.to_string()))
}

/// 200 `{"verification": challenge}`, Okta's expected answer.
pub fn verification_reply(challenge: &str) -> Reply {
    Reply::json(200, json!({ "verification": challenge }))
}

/// The reply after applying events: `results` from
/// [`crate::sync::events::apply`], `ignored` the items ignored when the
/// body was parsed, `deferred` the events not attempted because the time
/// budget ran out.
pub fn results_reply(results: &[EventResult], ignored: &[Ignored], deferred: &[&DirectoryEvent]) -> Reply {
    let count = |status: Status| results.iter().filter(|r| r.status == status).count();
    let (applied, failed) = (count(Status::Applied), count(Status::Failed));
    let ignored_count = count(Status::Ignored) + ignored.len();
    let mut entries: Vec<Value> = results.iter().map(result_entry).collect();
    for event in deferred {
        entries.push(entry(
            event.id.as_deref(),
            event.event.kind(),
            "deferred".into(),
            "not attempted: the time budget ran out; redeliver to apply it",
        ));
    }
    for item in ignored {
        entries.push(entry(item.id.as_deref(), &item.event_type, "ignored".into(), &item.reason));
    }
    let body = json!({
        "results": entries, "applied": applied, "ignored": ignored_count, "failed": failed, "deferred": deferred.len(),
    });
    if !deferred.is_empty() {
        Reply::json(503, body).with_header("retry-after", retry_after(results).to_string())
    } else if failed == 0 {
        Reply::json(200, body)
    } else if failed == results.len() {
        Reply::json(502, body)
    } else {
        Reply::json(207, body)
    }
}

/// The seconds a sender is asked to wait before redelivering: GitBook's
/// own wait when an event met its rate limit (up to an hour), else
/// [`RETRY_AFTER_SECONDS`].
fn retry_after(results: &[EventResult]) -> u64 {
    let gitbook = results
        .iter()
        .filter_map(|r| r.error.as_ref())
        .filter(|e| e.kind() == Some(crate::error::FailureKind::RateLimited))
        .map(crate::scim::error::retry_after_seconds)
        .max();
    gitbook.map_or(u64::from(RETRY_AFTER_SECONDS), |s| s.clamp(u64::from(RETRY_AFTER_SECONDS), 3600))
}

/// One result; a failure carries its error in the one JSON encoding,
/// [`crate::error::Error::to_json`].
fn result_entry(result: &EventResult) -> Value {
    let status = serde_json::to_value(result.status).unwrap_or(Value::Null);
    let mut entry = entry(result.id.as_deref(), &result.kind, status, &result.detail);
    if let (Status::Failed, Some(error)) = (result.status, &result.error) {
        entry["error"] = error.to_json();
    }
    entry
}

/// One entry of `results`, whatever its status: built in one place so the
/// JSON code exists once.
fn entry(id: Option<&str>, kind: &str, status: Value, detail: &str) -> Value {
    json!({"id": id, "type": kind, "status": status, "detail": detail})
}
