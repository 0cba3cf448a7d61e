//! SCIM error answers (RFC 7644 §3.12): the `Error` message schema, `status`
//! as a string, a `detail` for people and, where the RFC names one, a
//! `scimType` an identity provider can branch on.

use crate::error::{Error, FailureKind};
use serde_json::{json, Value};

pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// RFC 7644's `scimType` values this service answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScimType {
    /// A user or group that already exists (409).
    Uniqueness,
    InvalidFilter,
    /// A value of the wrong type or outside what GitBook accepts.
    InvalidValue,
    /// An attribute GitBook cannot change (the email).
    Mutability,
    /// A PATCH path that selects nothing this service can change.
    NoTarget,
    /// A body that is not a SCIM message (malformed JSON, wrong shape).
    InvalidSyntax,
    /// A PATCH path naming no attribute of the schema.
    InvalidPath,
    /// More than the service's limits allow (filter length, operations).
    TooMany,
}

impl ScimType {
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::Uniqueness => "uniqueness",
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::InvalidValue => "invalidValue",
            ScimType::Mutability => "mutability",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::TooMany => "tooMany",
        }
    }
}

/// A SCIM error: what the identity provider is told, and nothing else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<ScimType>,
    pub detail: String,
    /// The methods a 405 allows (its `Allow` header).
    pub allow: Option<&'static str>,
    /// Seconds the identity provider should wait before retrying, sent as
    /// `Retry-After` (GitBook's own wait, for a 429).
    pub retry_after: Option<u64>,
}

impl ScimError {
    pub fn new(status: u16, scim_type: Option<ScimType>, detail: impl Into<String>) -> ScimError {
        ScimError { status, scim_type, detail: detail.into(), allow: None, retry_after: None }
    }

    /// 400 with a `scimType`.
    pub fn bad(scim_type: ScimType, detail: impl Into<String>) -> ScimError {
        ScimError::new(400, Some(scim_type), detail)
    }

    pub fn not_found(detail: impl Into<String>) -> ScimError {
        ScimError::new(404, None, detail)
    }

    pub fn conflict(detail: impl Into<String>) -> ScimError {
        ScimError::new(409, Some(ScimType::Uniqueness), detail)
    }

    /// What a GitBook failure means to the identity provider: input GitBook
    /// refused is the request's fault (400, with GitBook's words); a
    /// conflict stays a 409; a rate limit stays a 429 (identity providers
    /// retry those) with GitBook's wait as `Retry-After`; GitBook not
    /// answering within the budget is a 504; anything else is GitBook or the
    /// way to it failing (502), never the IdP's credentials. The IdP is not
    /// told where GitBook is or how it is reached: a failure of the way there
    /// (a transport error names the host and port) or of the service's
    /// GitBook token is said in kind only.
    pub fn from_gitbook(error: &Error) -> ScimError {
        let detail = format!("GitBook: {error}");
        match error {
            Error::InvalidInput { .. } => ScimError::bad(ScimType::InvalidValue, detail),
            Error::SafetyStop(_) => ScimError::new(409, None, detail),
            Error::Api(kind, failure) => {
                let status = failure.status.map(|s| format!(" (HTTP {s})")).unwrap_or_default();
                let brief = |what: &str| {
                    format!(
                        "GitBook: {} failed: {}{status}; {what}. The service's operator can find the cause in its \
                         log and configuration",
                        failure.operation,
                        kind.name()
                    )
                };
                match kind {
                    FailureKind::Rejected => ScimError::bad(ScimType::InvalidValue, detail),
                    FailureKind::Conflict => ScimError::new(409, None, detail),
                    FailureKind::RateLimited => ScimError {
                        retry_after: Some(retry_after_seconds(error)),
                        ..ScimError::new(429, None, brief("retry later"))
                    },
                    FailureKind::NotFound
                    | FailureKind::Unauthorized
                    | FailureKind::Forbidden
                    | FailureKind::ServerError
                    | FailureKind::InvalidResponse
                    | FailureKind::Transport => ScimError::new(502, None, brief("retry later")),
                    // GitBook did not answer in time: a gateway timeout.
                    FailureKind::DeadlineExceeded => ScimError::new(504, None, brief("retry later")),
                }
            }
        }
    }

    /// The error message body.
    pub fn body(&self) -> Value {
        let mut body = json!({"schemas": [ERROR_SCHEMA], "status": self.status.to_string(), "detail": self.detail});
        if let Some(scim_type) = self.scim_type {
            body["scimType"] = json!(scim_type.as_str());
        }
        body
    }
}

/// GitBook's wait in whole seconds, rounded up (at least 1): what a
/// `Retry-After` passing it on says. Without one, 1 s.
pub fn retry_after_seconds(error: &Error) -> u64 {
    match error {
        Error::Api(_, failure) => failure.retry_after_ms.map_or(1, |ms| ms.div_ceil(1000).max(1)),
        _ => 1,
    }
}

impl From<Error> for ScimError {
    fn from(error: Error) -> ScimError {
        ScimError::from_gitbook(&error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiFailure;

    #[test]
    fn the_body_uses_the_error_schema_with_a_string_status() {
        let body = ScimError::conflict("ann@x.io is already a member").body();
        assert_eq!(
            body,
            json!({"schemas": [ERROR_SCHEMA], "status": "409", "scimType": "uniqueness",
                   "detail": "ann@x.io is already a member"})
        );
        assert_eq!(ScimError::not_found("no such user").body().get("scimType"), None);
    }

    #[test]
    fn gitbook_failures_map_to_whose_fault_it_is() {
        let failure = |kind| {
            Error::Api(
                kind,
                ApiFailure {
                    operation: "invite users",
                    status: Some(400),
                    message: "Invalid email".into(),
                    attempts: 1,
                    elapsed_ms: 0,
                    retry_after_ms: None,
                    effect_unknown: false,
                },
            )
        };
        assert_eq!(ScimError::from_gitbook(&failure(FailureKind::Rejected)).status, 400);
        assert_eq!(ScimError::from_gitbook(&failure(FailureKind::RateLimited)).status, 429);
        assert_eq!(ScimError::from_gitbook(&failure(FailureKind::RateLimited)).retry_after, Some(1));
        assert_eq!(ScimError::from_gitbook(&failure(FailureKind::DeadlineExceeded)).status, 504);
        assert_eq!(ScimError::from_gitbook(&failure(FailureKind::Unauthorized)).status, 502);
        assert_eq!(ScimError::from_gitbook(&failure(FailureKind::ServerError)).status, 502);
        assert!(ScimError::from_gitbook(&failure(FailureKind::Rejected)).detail.contains("Invalid email"));
    }

    #[test]
    fn where_gitbook_is_never_reaches_the_identity_provider() {
        let error = Error::Api(
            FailureKind::Transport,
            ApiFailure {
                operation: "list members",
                status: None,
                message: "connection refused: 10.1.2.3:8443 (gitbook.internal)".into(),
                attempts: 3,
                elapsed_ms: 900,
                retry_after_ms: None,
                effect_unknown: false,
            },
        );
        let scim = ScimError::from_gitbook(&error);
        assert_eq!(scim.status, 502);
        assert!(!scim.detail.contains("10.1.2.3") && !scim.detail.contains("gitbook.internal"), "{}", scim.detail);
        assert!(scim.detail.contains("list members failed: transport failure"), "{}", scim.detail);
    }
}
