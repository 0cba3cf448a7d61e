//! `POST /reconcile`: its query options and its reply.

use super::query;
use super::reply::Reply;
use crate::error::Error;
use crate::sources::SourceKind;
use crate::sync::reconcile::{Options, Plan, Report, Strategy};
use crate::validate::printable;
use serde_json::{json, Value};

/// Whether to apply, and the reconcile options, from the query string:
/// `apply`, `strategy` (`push`|`sync`), `maxRemovals`, `maxRemovalPercent`,
/// `allowMassRemoval`, `source` (`google`|`entra`|`okta`: the body is then
/// the rules, and the directory is read with the service's environment),
/// each at most once, percent-decoded.
pub(super) fn query_options(query: &str) -> Result<(bool, Options, Option<SourceKind>), Reply> {
    let bad = |message: String| Reply::error(400, message);
    let mut options = Options::default();
    let mut apply = false;
    let mut source = None;
    let flag = |name: &str, value: &str| match value {
        "" | "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(Reply::error(400, format!("{name} is true or false"))),
    };
    let invalid = |error: Error| bad(error.to_string());
    for (name, value) in query::parse(query).map_err(|m| bad(format!("invalid query: {m}")))? {
        match name.as_str() {
            "apply" => apply = flag(&name, &value)?,
            "source" if source.is_none() => source = Some(SourceKind::parse("source", &value).map_err(invalid)?),
            "allowMassRemoval" => options.allow_mass_removal = flag(&name, &value)?,
            "strategy" => options.strategy = Strategy::parse("strategy", &value).map_err(invalid)?,
            "maxRemovals" => {
                options.max_removals = value.parse().map_err(|_| bad("maxRemovals is a whole number".into()))?
            }
            "maxRemovalPercent" => {
                options.max_removal_percent = Options::parse_percent("maxRemovalPercent", &value).map_err(invalid)?
            }
            other => {
                return Err(bad(format!(
                    "unknown parameter {}; /reconcile takes apply, strategy, maxRemovals, maxRemovalPercent, \
                     allowMassRemoval, source",
                    printable(other)
                )))
            }
        }
    }
    Ok((apply, options, source))
}

/// The reply to a reconcile: the plan, and the report when applied. 200
/// when everything planned was done (or only planned); 207 when some
/// actions failed.
pub fn reconcile_reply(plan: &Plan, report: Option<&Report>) -> Reply {
    let plan_json = serde_json::to_value(plan).unwrap_or(Value::Null);
    match report {
        None => Reply::json(200, json!({ "plan": plan_json })),
        Some(report) => {
            let status = if report.is_success() { 200 } else { 207 };
            Reply::json(
                status,
                json!({ "plan": plan_json, "report": serde_json::to_value(report).unwrap_or(Value::Null) }),
            )
        }
    }
}

/// 409 when the safety check refused an apply (nothing was sent): the
/// error, and the plan so the caller sees who would have gone.
pub fn refused_reply(plan: &Plan, error: &Error) -> Reply {
    let mut reply = Reply::failed(error);
    reply.body["plan"] = serde_json::to_value(plan).unwrap_or(Value::Null);
    reply
}
