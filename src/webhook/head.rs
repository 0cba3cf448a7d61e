//! A request's head as the router reads it: method, path with query, and
//! headers. `Debug` redacts the `Authorization` header.

use std::fmt;

/// A request's head, as received.
#[derive(Clone, Copy)]
pub struct Head<'a> {
    pub method: &'a str,
    /// Path and query, e.g. `/events?x=1`.
    pub path: &'a str,
    /// Header names in lower case.
    pub headers: &'a [(String, String)],
}

impl fmt::Debug for Head<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), if n.eq_ignore_ascii_case("authorization") { "[redacted]" } else { v.as_str() }))
            .collect();
        f.debug_struct("Head")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("headers", &headers)
            .finish()
    }
}

impl Head<'_> {
    /// Every value of the header `name` (case-insensitive), in order.
    pub fn header_values<'h>(&'h self, name: &'h str) -> impl Iterator<Item = &'h str> + 'h {
        self.headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The path without query or fragment.
    pub fn path_only(&self) -> &str {
        self.path.split(['?', '#']).next().unwrap_or("")
    }

    /// The raw query string (after `?`, before `#`), empty when none.
    pub fn query(&self) -> &str {
        self.path.split_once('?').map_or("", |(_, q)| q.split('#').next().unwrap_or(""))
    }
}
