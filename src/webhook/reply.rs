//! What the service answers: a status, a JSON body and headers. The one
//! encoder of replies, and of errors in them: protocol errors are
//! `{"error": {"code", "message"}}`, and an operation's [`Error`] adds its
//! one JSON encoding ([`Error::to_json`]) as `cause`.

use crate::error::{Error, FailureKind};
use crate::scim;
use serde_json::{json, Value};

/// The largest request body accepted on `/events`.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What to answer (`content-type` included in the headers).
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: Vec<(String, String)>,
    /// For the operator's log (stderr), never sent: what a reply leaves out
    /// on purpose, such as which setting is wrong.
    pub log: Option<String>,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply { status, body, headers: vec![("content-type".into(), "application/json".into())], log: None }
    }

    /// `{"error": {"code": status, "message": message}}`.
    pub fn error(status: u16, message: impl Into<String>) -> Reply {
        Reply::error_text(status, message.into())
    }

    fn error_text(status: u16, message: String) -> Reply {
        Reply::json(status, json!({"error": {"code": status, "message": message}}))
    }

    /// An operation's error: `{"error": {"code", "message", "cause"}}` with
    /// the sentence as `message` and [`Error::to_json`] as `cause`. The
    /// status says whose fault it is: 400 for the caller's input, 409 for a
    /// safety stop, 502 for GitBook or the way to it.
    pub fn failed(error: &Error) -> Reply {
        let status = match error {
            Error::InvalidInput { .. } => 400,
            Error::SafetyStop(_) => 409,
            // GitBook did not answer within the budget: a gateway timeout.
            Error::Api(FailureKind::DeadlineExceeded, _) => 504,
            Error::Api(..) => 502,
        };
        Reply::json(status, json!({"error": {"code": status, "message": error.to_string(), "cause": error.to_json()}}))
    }

    /// 500: the service's own configuration is wrong.
    pub fn misconfigured(error: &Error) -> Reply {
        Reply::error(500, format!("the service is misconfigured: {error}"))
    }

    /// 413, for a body over `limit` (also when found while reading).
    pub fn too_large(limit: usize) -> Reply {
        Reply::error(413, format!("the body is larger than {limit} bytes; send fewer events at a time"))
    }

    /// A SCIM answer: `application/scim+json`, no body for 204; a 401
    /// says how to authenticate.
    pub fn scim(answer: scim::Answer) -> Reply {
        let mut headers = Vec::new();
        if answer.body.is_some() {
            headers.push(("content-type".into(), scim::CONTENT_TYPE.into()));
        }
        if answer.status == 401 {
            headers.push(("www-authenticate".into(), "Bearer realm=\"scim\"".into()));
        }
        headers.extend(answer.headers.into_iter().map(|(name, value)| (name.to_owned(), value)));
        Reply { status: answer.status, body: answer.body.unwrap_or(Value::Null), headers, log: answer.log }
    }

    /// A SCIM 500 for a service whose configuration is wrong, after the
    /// request was authenticated: the identity provider is told that much,
    /// the operator's log which setting and why.
    pub fn scim_misconfigured(error: &Error) -> Reply {
        let detail = "the SCIM service is misconfigured; its operator can find which setting in the service's log";
        let mut reply = Reply::scim(scim::error::ScimError::new(500, None, detail).into());
        reply.log = Some(format!("the service is misconfigured: {error}"));
        reply
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The body as bytes to write; none for a `null` body (a 204).
    pub fn body_bytes(&self) -> Vec<u8> {
        if self.body.is_null() {
            return Vec::new();
        }
        serde_json::to_vec(&self.body).expect("a JSON value serializes")
    }
}
