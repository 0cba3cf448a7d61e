//! `Reply`: a response before it becomes a hyper response, so handlers stay plain
//! functions that unit tests could call without a server.

use serde_json::{json, Value};

#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    pub(crate) fn json(status: u16, value: &Value) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: value.to_string().into_bytes(),
        }
    }

    /// No body at all (202, 204, 205).
    pub(crate) fn empty(status: u16) -> Reply {
        Reply { status, headers: Vec::new(), body: Vec::new() }
    }

    /// GitBook's error shape: `{"error":{"code":<status>,"message":"..."}}`.
    pub(crate) fn error(status: u16, message: impl Into<String>) -> Reply {
        let message: String = message.into();
        Reply::json(status, &json!({"error": {"code": status, "message": message}}))
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Reply {
        Reply::error(400, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Reply {
        Reply::error(404, message)
    }

    pub(crate) fn with_header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}
