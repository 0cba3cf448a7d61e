//! The one error type of the crate, mirrored one-to-one by the WIT `error`
//! variant: a caller branches on the kind and shows the message.

use std::fmt;

/// Why an operation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The input was refused before any request was sent.
    InvalidInput { field: String, message: String },
    /// GitBook (or the way to it) failed the operation.
    Api(FailureKind, ApiFailure),
    /// A reconcile plan was refused because its removals look like a
    /// mistake; nothing was sent. The message lists who would be removed.
    SafetyStop(String),
}

/// What kind of API failure; each is a case of the WIT `error` variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    Rejected,
    RateLimited,
    ServerError,
    InvalidResponse,
    Transport,
    /// The operation ran out of time: its deadline passed while a request
    /// was unanswered (the request was abandoned) or before the next one
    /// could be made.
    DeadlineExceeded,
}

/// The facts of a failed operation, for people and for logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiFailure {
    /// What was being done, e.g. "invite users".
    pub operation: &'static str,
    /// The last HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// GitBook's own `error.message`, or what went wrong.
    pub message: String,
    /// Requests made for this operation.
    pub attempts: u32,
    /// Time spent, waits included.
    pub elapsed_ms: u64,
    /// For rate limits: how long GitBook asked to wait.
    pub retry_after_ms: Option<u64>,
    /// A request of this operation reached (or may have reached) GitBook
    /// and no answer says whether it took effect: a timeout, a reset
    /// connection, a 5xx, a request abandoned at the deadline. A report
    /// shows such a step as `unknown`, not `failed`.
    pub effect_unknown: bool,
}

impl Error {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Error {
        Error::InvalidInput { field: field.into(), message: message.into() }
    }

    /// This error, marked as one whose operation may have taken effect
    /// (see [`ApiFailure::effect_unknown`]) when `unknown`.
    pub fn unknown_if(mut self, unknown: bool) -> Error {
        if let Error::Api(_, failure) = &mut self {
            failure.effect_unknown |= unknown;
        }
        self
    }

    /// Whether the operation may have taken effect although it failed.
    pub fn effect_unknown(&self) -> bool {
        matches!(self, Error::Api(_, failure) if failure.effect_unknown)
    }

    pub fn kind(&self) -> Option<FailureKind> {
        match self {
            Error::InvalidInput { .. } | Error::SafetyStop(_) => None,
            Error::Api(kind, _) => Some(*kind),
        }
    }

    /// The status code a CLI or webhook should map this error to: 2 for
    /// usage errors the caller can fix, 1 for everything else.
    pub fn is_usage_error(&self) -> bool {
        matches!(self, Error::InvalidInput { .. })
    }
}

impl FailureKind {
    /// The kind a non-success HTTP status maps to.
    pub fn from_status(status: u16) -> FailureKind {
        match status {
            401 => FailureKind::Unauthorized,
            403 => FailureKind::Forbidden,
            404 => FailureKind::NotFound,
            409 => FailureKind::Conflict,
            429 => FailureKind::RateLimited,
            500..=599 => FailureKind::ServerError,
            _ => FailureKind::Rejected,
        }
    }

    /// The WIT variant case, e.g. `rate-limited`.
    pub fn code(self) -> &'static str {
        match self {
            FailureKind::Unauthorized => "unauthorized",
            FailureKind::Forbidden => "forbidden",
            FailureKind::NotFound => "not-found",
            FailureKind::Conflict => "conflict",
            FailureKind::Rejected => "rejected",
            FailureKind::RateLimited => "rate-limited",
            FailureKind::ServerError => "server-error",
            FailureKind::InvalidResponse => "invalid-response",
            FailureKind::Transport => "transport",
            FailureKind::DeadlineExceeded => "deadline-exceeded",
        }
    }

    /// Short name, for sentences.
    pub fn name(self) -> &'static str {
        match self {
            FailureKind::Unauthorized => "unauthorized",
            FailureKind::Forbidden => "forbidden",
            FailureKind::NotFound => "not found",
            FailureKind::Conflict => "conflict",
            FailureKind::Rejected => "rejected",
            FailureKind::RateLimited => "rate limited",
            FailureKind::ServerError => "server error",
            FailureKind::InvalidResponse => "invalid response",
            FailureKind::Transport => "transport failure",
            FailureKind::DeadlineExceeded => "deadline exceeded",
        }
    }

    /// What the person reading the error should do about it.
    fn hint(self) -> &'static str {
        match self {
            FailureKind::Unauthorized => "check the API token (GITBOOK_TOKEN)",
            FailureKind::Forbidden => "the token's user must be an admin of the organization",
            FailureKind::NotFound => "check the organization, user or team ID",
            FailureKind::Conflict => "re-read the current state and try again",
            FailureKind::Rejected => "fix the request as GitBook says",
            FailureKind::RateLimited => "wait and run again, or raise the retry bounds",
            FailureKind::ServerError => "GitBook is failing; run again later",
            FailureKind::InvalidResponse => "the API answered something unexpected; check the base URL",
            FailureKind::Transport => "check the network, the base URL and the host's allow-list",
            FailureKind::DeadlineExceeded => "GitBook is slow; run again later, or raise the deadline",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidInput { field, message } => write!(f, "invalid {field}: {message}"),
            Error::SafetyStop(message) => write!(
                f,
                "refused by the deletion safety check: {message} (review the plan; override only if it is right)"
            ),
            Error::Api(kind, failure) => {
                write!(f, "{} failed: {}", failure.operation, kind.name())?;
                if let Some(status) = failure.status {
                    write!(f, " (HTTP {status})")?;
                }
                write!(f, ": {}", failure.message)?;
                if failure.attempts > 1 {
                    write!(
                        f,
                        "; gave up after {} attempts over {:.1} s",
                        failure.attempts,
                        failure.elapsed_ms as f64 / 1000.0
                    )?;
                }
                if let Some(wait) = failure.retry_after_ms {
                    write!(f, "; GitBook asked to wait {:.1} s", wait as f64 / 1000.0)?;
                }
                if failure.effect_unknown {
                    write!(f, "; whether GitBook carried it out is unknown")?;
                }
                write!(f, " ({})", kind.hint())
            }
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// The error as JSON with stable field names (CLI `--json`, webhook
    /// replies): `kind` is the WIT case.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Error::InvalidInput { field, message } => {
                serde_json::json!({ "kind": "invalid-input", "field": field, "message": message })
            }
            Error::SafetyStop(message) => serde_json::json!({ "kind": "safety-stop", "message": message }),
            Error::Api(kind, f) => {
                let mut json = serde_json::json!({
                    "kind": kind.code(),
                    "operation": f.operation,
                    "status": f.status,
                    "message": f.message,
                    "attempts": f.attempts,
                    "elapsedMs": f.elapsed_ms,
                    "retryAfterMs": f.retry_after_ms,
                });
                if f.effect_unknown {
                    json["effectUnknown"] = true.into();
                }
                json
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_the_cases_a_caller_acts_on() {
        assert_eq!(FailureKind::from_status(401), FailureKind::Unauthorized);
        assert_eq!(FailureKind::from_status(403), FailureKind::Forbidden);
        assert_eq!(FailureKind::from_status(404), FailureKind::NotFound);
        assert_eq!(FailureKind::from_status(409), FailureKind::Conflict);
        assert_eq!(FailureKind::from_status(422), FailureKind::Rejected);
        assert_eq!(FailureKind::from_status(429), FailureKind::RateLimited);
        assert_eq!(FailureKind::from_status(503), FailureKind::ServerError);
    }

    #[test]
    fn display_says_what_was_tried_and_what_to_do() {
        let error = Error::Api(
            FailureKind::RateLimited,
            ApiFailure {
                operation: "invite users",
                status: Some(429),
                message: "API rate limit exceeded".into(),
                attempts: 5,
                elapsed_ms: 62_000,
                retry_after_ms: Some(30_000),
                effect_unknown: false,
            },
        );
        assert_eq!(
            error.to_string(),
            "invite users failed: rate limited (HTTP 429): API rate limit exceeded; \
             gave up after 5 attempts over 62.0 s; GitBook asked to wait 30.0 s \
             (wait and run again, or raise the retry bounds)"
        );
    }
}
