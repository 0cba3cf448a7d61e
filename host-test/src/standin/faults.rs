//! Injected faults: the rules tests queue, how a request picks one, and the answers they
//! produce. Rate-limit, server-error and API-error answers copy GitBook's error shape
//! (`{"error": {"code", "message"}}`) so a client's error parsing is exercised too.

use std::time::Duration;

use super::reply::Reply;
use super::time::{epoch_secs_after, imf_fixdate};

/// A fault rule: answers up to `times` requests that match `method` (if set,
/// case-insensitive), whose path contains `path_contains` (if set) and whose path ends
/// with `path_ends_with` (if set).
#[derive(Clone, Debug)]
pub struct Fault {
    pub method: Option<String>,
    pub path_contains: Option<String>,
    /// Tells `PUT /v1/orgs/acme/teams` (ends with `/teams`) from
    /// `PUT /v1/orgs/acme/teams/{id}/members`, which merely contains it.
    pub path_ends_with: Option<String>,
    pub times: usize,
    pub kind: FaultKind,
}

#[derive(Clone, Debug)]
pub enum FaultKind {
    /// Any answer. Without a `content-type` header, a JSON body gets `application/json`
    /// and anything else `text/plain`. A status outside 100..=999 is sent as 500.
    Status { status: u16, body: String, headers: Vec<(String, String)> },
    /// 429 with `X-RateLimit-Reset: <unix seconds of now + after, rounded up>`.
    RateLimitReset { after: Duration },
    /// 429 with `Retry-After: <seconds>`.
    RetryAfter { seconds: u64 },
    /// 429 with `Retry-After: <IMF-fixdate of now + after, rounded up>`.
    RetryAfterDate { after: Duration },
    /// A 5xx with GitBook's error JSON.
    ServerError { status: u16 },
    /// Close the connection without answering.
    Drop,
    /// Wait, then answer normally (state does change).
    Delay { delay: Duration },
    /// GitBook's error JSON with this status and message, e.g. the 403 and 409 of
    /// `FaultKind::forbidden()` and `FaultKind::conflict()`. A status outside 100..=999
    /// is sent as 500.
    ApiError { status: u16, message: String },
    /// Carry the request out as normal, then answer this 5xx (GitBook's error JSON)
    /// instead: the change happened, and the client cannot know it.
    ApplyThenServerError { status: u16 },
    /// Carry the request out as normal, then close the connection without answering.
    ApplyThenDrop,
    /// Carry the request out and answer as normal, with `X-RateLimit-Remaining: 0` and
    /// `X-RateLimit-Reset: <unix seconds of now + after, rounded up>`: a 2xx saying the
    /// window is spent until a reset that may be far away.
    SpentWindow { reset_after: Duration },
    /// Carry the request out and answer as normal, but send the body one byte at a time,
    /// `every` apart (the head goes at once, with the body's `content-length`).
    Drip { every: Duration },
    /// Accept the request head and never read its body or answer: a server whose
    /// reading stalls. The request is recorded with an empty body and is not carried out.
    /// Decided before the body is read, so it is matched on method and path only.
    Unread,
}

impl Fault {
    /// A rule matching every request.
    pub fn any(kind: FaultKind, times: usize) -> Fault {
        Fault { method: None, path_contains: None, path_ends_with: None, times, kind }
    }

    /// A rule matching one method on paths containing `path_contains`.
    pub fn on(method: &str, path_contains: &str, kind: FaultKind, times: usize) -> Fault {
        Fault { path_contains: Some(path_contains.to_string()), ..Fault::any(kind, times).for_method(method) }
    }

    /// A rule matching one method on paths ending with `suffix`, e.g. team creation only:
    /// `Fault::on_path_ending("PUT", "/teams", FaultKind::ApplyThenDrop, 1)`.
    pub fn on_path_ending(method: &str, suffix: &str, kind: FaultKind, times: usize) -> Fault {
        Fault { path_ends_with: Some(suffix.to_string()), ..Fault::any(kind, times).for_method(method) }
    }

    fn for_method(self, method: &str) -> Fault {
        Fault { method: Some(method.to_string()), ..self }
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.times > 0
            && self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self.path_contains.as_deref().is_none_or(|p| path.contains(p))
            && self.path_ends_with.as_deref().is_none_or(|p| path.ends_with(p))
    }
}

impl FaultKind {
    /// 403 with GitBook's error JSON, as for a token whose user is not an admin of the
    /// organization.
    pub fn forbidden() -> FaultKind {
        FaultKind::ApiError {
            status: 403,
            message: "You do not have the permission to perform this action in this organization".into(),
        }
    }

    /// 409 with GitBook's error JSON, as when a concurrent change got there first.
    pub fn conflict() -> FaultKind {
        FaultKind::ApiError { status: 409, message: "Conflict: the resource was modified by another request".into() }
    }

    /// Short text stored in `RecordedRequest::fault`.
    pub(crate) fn describe(&self) -> String {
        match self {
            FaultKind::Status { status, .. } => format!("status {status}"),
            FaultKind::RateLimitReset { after } => format!("429 X-RateLimit-Reset +{after:?}"),
            FaultKind::RetryAfter { seconds } => format!("429 Retry-After {seconds}"),
            FaultKind::RetryAfterDate { after } => format!("429 Retry-After date +{after:?}"),
            FaultKind::ServerError { status } => format!("server error {status}"),
            FaultKind::Drop => "drop connection".to_string(),
            FaultKind::Delay { delay } => format!("delay {delay:?}"),
            FaultKind::ApiError { status, .. } => format!("api error {status}"),
            FaultKind::ApplyThenServerError { status } => format!("applied, then server error {status}"),
            FaultKind::ApplyThenDrop => "applied, then drop connection".to_string(),
            FaultKind::SpentWindow { reset_after } => format!("applied, window spent until +{reset_after:?}"),
            FaultKind::Drip { every } => format!("applied, body dripped a byte every {every:?}"),
            FaultKind::Unread => "request body never read".to_string(),
        }
    }

    /// The answer sent instead of the normal one; `None` for `Drop`, `Delay`,
    /// `ApplyThenDrop`, `SpentWindow`, `Drip` and `Unread`. For `ApplyThenServerError` the normal answer is computed (and the
    /// request carried out) first, then replaced by this one.
    pub(crate) fn reply(&self) -> Option<Reply> {
        let reply = match self {
            FaultKind::Status { status, body, headers } => {
                let status = if (100..=999).contains(status) { *status } else { 500 };
                let mut headers = headers.clone();
                let has_type = headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
                if !has_type && !body.is_empty() {
                    let is_json = serde_json::from_str::<serde_json::Value>(body).is_ok();
                    let ty = if is_json { "application/json" } else { "text/plain" };
                    headers.push(("content-type".into(), ty.into()));
                }
                Reply { status, headers, body: body.clone().into_bytes() }
            }
            FaultKind::RateLimitReset { after } => rate_limited()
                .with_header("x-ratelimit-remaining", "0")
                .with_header("x-ratelimit-reset", epoch_secs_after(*after).to_string()),
            FaultKind::RetryAfter { seconds } => rate_limited().with_header("retry-after", seconds.to_string()),
            FaultKind::RetryAfterDate { after } => {
                rate_limited().with_header("retry-after", imf_fixdate(epoch_secs_after(*after)))
            }
            FaultKind::ServerError { status } | FaultKind::ApplyThenServerError { status } => {
                let status = if (500..=599).contains(status) { *status } else { 500 };
                Reply::error(status, server_error_message(status))
            }
            FaultKind::ApiError { status, message } => {
                Reply::error(if (100..=999).contains(status) { *status } else { 500 }, message.clone())
            }
            FaultKind::Drop
            | FaultKind::Delay { .. }
            | FaultKind::ApplyThenDrop
            | FaultKind::SpentWindow { .. }
            | FaultKind::Drip { .. }
            | FaultKind::Unread => return None,
        };
        Some(reply)
    }
}

fn rate_limited() -> Reply {
    Reply::error(429, "API rate limit exceeded")
}

fn server_error_message(status: u16) -> &'static str {
    match status {
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Internal Server Error",
    }
}

/// The queued rules, consulted in order.
#[derive(Default)]
pub(crate) struct FaultQueue {
    rules: Vec<Fault>,
}

impl FaultQueue {
    pub(crate) fn push(&mut self, fault: Fault) {
        self.rules.push(fault);
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    /// Whether the first rule matching this request is `Unread` (then one use is
    /// consumed): asked before the body is read.
    pub(crate) fn take_unread(&mut self, method: &str, path: &str) -> bool {
        let first = self.rules.iter().find(|f| f.matches(method, path));
        if matches!(first.map(|f| &f.kind), Some(FaultKind::Unread)) {
            self.take(method, path);
            return true;
        }
        false
    }

    /// The first rule matching this request, with one use consumed; spent rules go away.
    pub(crate) fn take(&mut self, method: &str, path: &str) -> Option<FaultKind> {
        let at = self.rules.iter().position(|f| f.matches(method, path))?;
        let rule = &mut self.rules[at];
        rule.times -= 1;
        let kind = rule.kind.clone();
        if rule.times == 0 {
            self.rules.remove(at);
        }
        Some(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_in_order_and_run_out() {
        let mut q = FaultQueue::default();
        q.push(Fault::on("delete", "/members/", FaultKind::ServerError { status: 503 }, 1));
        q.push(Fault::any(FaultKind::RetryAfter { seconds: 2 }, 2));
        assert!(matches!(q.take("DELETE", "/v1/orgs/a/members/x"), Some(FaultKind::ServerError { status: 503 })));
        assert!(matches!(q.take("DELETE", "/v1/orgs/a/members/x"), Some(FaultKind::RetryAfter { .. })));
        assert!(q.take("GET", "/v1/orgs/a/teams").is_some());
        assert!(q.take("GET", "/v1/orgs/a/teams").is_none());
        q.push(Fault::any(FaultKind::Drop, 0));
        assert!(q.take("GET", "/").is_none(), "times 0 never fires");
    }

    #[test]
    fn a_path_ending_rule_skips_longer_paths() {
        let mut q = FaultQueue::default();
        q.push(Fault::on_path_ending("PUT", "/teams", FaultKind::ApplyThenDrop, 2));
        assert!(q.take("PUT", "/v1/orgs/a/teams/t1/members").is_none());
        assert!(q.take("GET", "/v1/orgs/a/teams").is_none());
        assert!(matches!(q.take("put", "/v1/orgs/a/teams"), Some(FaultKind::ApplyThenDrop)));
        assert!(q.take("PUT", "/v1/orgs/a/teams").is_some());
        assert!(q.take("PUT", "/v1/orgs/a/teams").is_none(), "used twice");
    }

    #[test]
    fn api_errors_use_gitbooks_error_shape() {
        for (kind, status) in [(FaultKind::forbidden(), 403), (FaultKind::conflict(), 409)] {
            let r = kind.reply().expect("reply");
            assert_eq!(r.status, status);
            let body: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
            assert_eq!(body["error"]["code"], status);
            assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
            assert_eq!(body.as_object().map(|o| o.len()), Some(1));
        }
    }

    #[test]
    fn an_unread_rule_is_taken_only_when_it_comes_first() {
        let mut q = FaultQueue::default();
        q.push(Fault::on("POST", "/invites", FaultKind::Drop, 1));
        q.push(Fault::on("POST", "/invites", FaultKind::Unread, 1));
        assert!(!q.take_unread("POST", "/v1/orgs/a/invites"), "a Drop comes first");
        assert!(matches!(q.take("POST", "/v1/orgs/a/invites"), Some(FaultKind::Drop)));
        assert!(q.take_unread("POST", "/v1/orgs/a/invites"));
        assert!(!q.take_unread("POST", "/v1/orgs/a/invites"), "used up");
    }

    #[test]
    fn status_fault_picks_a_content_type() {
        let kind = FaultKind::Status { status: 418, body: "teapot".into(), headers: vec![] };
        let r = kind.reply().expect("reply");
        assert_eq!(r.status, 418);
        assert_eq!(r.headers, [("content-type".into(), "text/plain".into())]);
    }
}
