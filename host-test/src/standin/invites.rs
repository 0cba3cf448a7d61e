//! `POST /orgs/{org}/invites`: validate the whole batch first, then invite. A batch with
//! any bad entry is refused as a whole (400) and changes nothing.

use serde_json::{json, Map, Value};

use super::input::{check_fields, is_valid_email, json_object, optional_bool, role_or_guest, Answer};
use super::reply::Reply;
use super::state::{Directory, InviteEntry};

pub(crate) fn invite(dir: &mut Directory, body: &[u8], max_batch: usize, refuse_unknown: bool) -> Answer {
    let map = json_object(body)?;
    check_fields(&map, &["emails", "role", "sso"], "the body", refuse_unknown)?;
    // "Defaults to false" (the spec); `null` is not a boolean.
    let sso = optional_bool(&map, "sso")?.unwrap_or(false);
    let default_role = match map.get("role") {
        None => None,
        Some(v) => role_or_guest(v, "role")?,
    };
    let emails = match map.get("emails") {
        Some(Value::Array(emails)) if !emails.is_empty() => emails,
        Some(Value::Array(_)) => return Err(Reply::bad_request("\"emails\" must not be empty")),
        Some(_) => return Err(Reply::bad_request("\"emails\" must be an array")),
        None => return Err(Reply::bad_request("Missing required field \"emails\"")),
    };
    if emails.len() > max_batch {
        return Err(Reply::bad_request(format!(
            "Too many emails: {} in one request, at most {max_batch} allowed",
            emails.len()
        )));
    }
    let entries =
        emails.iter().enumerate().map(|(i, e)| entry(e, sso, i, refuse_unknown)).collect::<Result<Vec<_>, _>>()?;

    let outcome = dir.invite(&entries, default_role, sso);
    Ok(Reply::json(
        200,
        &json!({
            "users": outcome.users,
            "invited": outcome.invited,
            "failedSSOEmails": outcome.failed_sso_emails,
        }),
    ))
}

/// One element of `emails`: a bare address, or `{"email": ..., "role": <role or null>}`
/// (both keys required by the spec).
fn entry(value: &Value, sso: bool, index: usize, refuse_unknown: bool) -> Result<InviteEntry, Reply> {
    let (email, role) = match value {
        Value::String(email) => (email.as_str(), None),
        Value::Object(obj) => {
            check_fields(obj, &["email", "role"], &format!("emails[{index}]"), refuse_unknown)?;
            (object_email(obj)?, Some(object_role(obj)?))
        }
        other => {
            return Err(Reply::bad_request(format!(
                "Invalid emails entry {other}: expected an email or {{\"email\", \"role\"}}"
            )))
        }
    };
    if !is_valid_email(email) {
        return Err(Reply::bad_request(format!("Invalid email address {email:?}")));
    }
    if sso && email.chars().any(char::is_uppercase) {
        return Err(Reply::bad_request(format!("Email {email:?} must be lowercase to be invited as an SSO member")));
    }
    Ok(InviteEntry { email: email.to_string(), role })
}

fn object_email(obj: &Map<String, Value>) -> Result<&str, Reply> {
    match obj.get("email") {
        Some(Value::String(email)) => Ok(email),
        Some(other) => Err(Reply::bad_request(format!("Invalid email {other}: expected a string"))),
        None => Err(Reply::bad_request("An emails entry object is missing \"email\"")),
    }
}

fn object_role(obj: &Map<String, Value>) -> Result<Option<super::model::Role>, Reply> {
    match obj.get("role") {
        Some(v) => role_or_guest(v, "role"),
        None => Err(Reply::bad_request("An emails entry object is missing \"role\" (use null for a guest)")),
    }
}
