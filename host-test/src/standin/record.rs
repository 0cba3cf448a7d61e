//! `RecordedRequest`: what tests inspect to assert which calls were made. It is also the
//! stand-in's own view of an incoming request, so what is recorded is exactly what was
//! answered.

use super::query::{first, parse_query};

#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// Upper-case method, e.g. `GET`.
    pub method: String,
    /// Raw path as sent, e.g. `/v1/orgs/acme/members`.
    pub path: String,
    /// Raw query string without the `?`, not decoded.
    pub query: Option<String>,
    /// Header names lower-cased, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// `Some(description)` if an injected fault answered (or delayed) this request.
    pub fault: Option<String>,
}

impl RecordedRequest {
    /// First value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// Query parameters, percent-decoded with `+` as a space, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.query.as_deref().map(parse_query).unwrap_or_default()
    }

    /// First value of a query parameter, decoded.
    pub fn query_param(&self, k: &str) -> Option<String> {
        first(&self.query_pairs(), k).map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors() {
        let r = RecordedRequest {
            method: "POST".into(),
            path: "/v1/orgs/acme/invites".into(),
            query: Some("search=a+b&limit=5".into()),
            headers: vec![("content-type".into(), "application/json".into())],
            body: br#"{"emails":["a@b.c"]}"#.to_vec(),
            fault: None,
        };
        assert_eq!(r.header("Content-Type"), Some("application/json"));
        assert_eq!(r.query_param("search").as_deref(), Some("a b"));
        assert_eq!(r.json().map(|j| j["emails"][0] == "a@b.c"), Some(true));
    }
}
