//! The API's JSON shapes (from GitBook's OpenAPI spec), with serde. Fields the
//! sync relies on are required; counters it only displays are lenient.

use crate::role::Role;
use serde::{Deserialize, Deserializer, Serialize};

/// `OrganizationMember`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub id: String,
    /// Required in the spec; `null` is a guest. A missing key is an error,
    /// not a guest, so a malformed answer never demotes anyone.
    #[serde(deserialize_with = "required_role")]
    pub role: Option<Role>,
    pub user: User,
    pub disabled: bool,
    pub joined_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_at: Option<String>,
    pub sso: bool,
    #[serde(default, deserialize_with = "count")]
    pub spaces: u32,
    #[serde(default, deserialize_with = "count")]
    pub teams: u32,
}

/// `User`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, rename = "photoURL", skip_serializing_if = "Option::is_none")]
    pub photo_url: Option<String>,
}

impl Member {
    /// Whether this member's email equals `email` (already lower-cased).
    pub fn has_email(&self, email: &str) -> bool {
        email_matches(self.user.email.as_deref(), email)
    }
}

/// Whether a member's own email (as GitBook gave it) is `email` (already
/// lower-cased): GitBook's emails may differ in case and spacing.
pub fn email_matches(own: Option<&str>, email: &str) -> bool {
    own.is_some_and(|own| own.trim().eq_ignore_ascii_case(email))
}

/// `OrganizationTeam` (the fields the sync uses).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Team {
    pub id: String,
    pub title: String,
    /// Count of members, as GitBook reports it.
    #[serde(default, deserialize_with = "count")]
    pub members: u32,
    /// When the team was created (`createdAt`; required by the spec, read
    /// leniently as only SCIM's `meta.created` shows it, and not written
    /// back out, so every other output keeps its shape).
    #[serde(default, skip_serializing)]
    pub created_at: Option<String>,
}

/// `OrganizationTeamMember`: a member as seen from a team.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct TeamMember {
    pub organization: Member,
}

/// One page of a list (`List` + `items`).
#[derive(Clone, Debug, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(default, deserialize_with = "optional_count")]
    pub count: Option<u64>,
    #[serde(default)]
    pub next: Option<NextPage>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct NextPage {
    pub page: String,
}

/// A page as returned to callers who stream.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberPage {
    pub items: Vec<Member>,
    pub count: Option<u64>,
    pub next_page: Option<String>,
}

/// The invite endpoint's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InviteResult {
    #[serde(rename(deserialize = "users"))]
    pub user_ids: Vec<String>,
    #[serde(deserialize_with = "count")]
    pub invited: u32,
    #[serde(default, rename(deserialize = "failedSSOEmails"))]
    pub failed_sso_emails: Vec<String>,
}

/// What `DELETE …/members/{userId}` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Removal {
    Deleted,
    NotAMember,
    ApprovalRequested,
}

/// The outcome of a removal by email.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailRemoval {
    pub outcome: Removal,
    pub user_id: Option<String>,
}

/// The spec's error body: `{"error": {"code": 400, "message": "…"}}`.
#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    message: String,
}

/// GitBook's `error.message`, if the body has one.
pub fn error_message(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<ErrorBody>(body).ok().map(|b| b.error.message).filter(|m| !m.trim().is_empty())
}

fn required_role<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Role>, D::Error> {
    Option::<Role>::deserialize(d)
}

/// The spec types counters as `number`; accept 3 and 3.0 alike.
fn count<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let value = f64::deserialize(d)?;
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= u32::MAX as f64 {
        Ok(value as u32)
    } else {
        Err(serde::de::Error::custom(format!("{value} is not a count")))
    }
}

fn optional_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let value = Option::<f64>::deserialize(d)?;
    match value {
        None => Ok(None),
        Some(v) if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 9.0e15 => Ok(Some(v as u64)),
        Some(v) => Err(serde::de::Error::custom(format!("{v} is not a count"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC_MEMBER: &str = r#"{
      "object": "member", "id": "u1", "role": "admin",
      "user": {"object": "user", "id": "u1", "displayName": "Ada", "email": "ada@x.io",
               "photoURL": "https://p/1.png", "urls": {"location": "https://example.com"}},
      "disabled": false, "joinedAt": "2024-09-16T15:38:24.337Z",
      "lastSeenAt": "2024-09-16T15:38:24.337Z", "sso": false, "spaces": 0, "teams": 2.0, "sites": 0
    }"#;

    #[test]
    fn the_spec_example_member_parses() {
        let member: Member = serde_json::from_str(SPEC_MEMBER).unwrap();
        assert_eq!(member.role, Some(Role::Admin));
        assert_eq!(member.user.email.as_deref(), Some("ada@x.io"));
        assert_eq!(member.teams, 2);
        assert!(member.has_email("ada@x.io"));
    }

    #[test]
    fn null_role_is_a_guest_but_a_missing_role_is_an_error() {
        let guest = SPEC_MEMBER.replace("\"admin\"", "null");
        assert_eq!(serde_json::from_str::<Member>(&guest).unwrap().role, None);
        let missing = SPEC_MEMBER.replace("\"role\": \"admin\",", "");
        assert!(serde_json::from_str::<Member>(&missing).is_err());
    }

    #[test]
    fn invite_results_read_the_spec_field_names() {
        let result: InviteResult =
            serde_json::from_str(r#"{"users":["PERerEOAQ6QWXj1flmrlVzl3XJ22"],"invited":0}"#).unwrap();
        assert_eq!(result.user_ids, ["PERerEOAQ6QWXj1flmrlVzl3XJ22"]);
        assert!(result.failed_sso_emails.is_empty());
    }

    #[test]
    fn error_messages_come_from_the_spec_error_body() {
        assert_eq!(
            error_message(br#"{"error":{"code":400,"message":"Invalid email"}}"#).as_deref(),
            Some("Invalid email")
        );
        assert_eq!(error_message(b"<html>bad gateway</html>"), None);
    }

    #[test]
    fn counts_must_be_whole_non_negative_numbers() {
        let bad = SPEC_MEMBER.replace("\"teams\": 2.0", "\"teams\": -1");
        assert!(serde_json::from_str::<Member>(&bad).is_err());
    }
}
