//! Okta: the Management API's `/api/v1/users`, `/api/v1/groups` and
//! `/api/v1/groups/{id}/users`, as its management OpenAPI describes them,
//! with `Link` paging and the `X-Rate-Limit-*` headers on every answer.

use super::{json, page_size, param, strict_query, Incoming, Outgoing, State};
use serde_json::{json as j, Value};

/// Requests in one rate-limit window, as the stand-in counts them.
const WINDOW_LIMIT: u64 = 600;

pub fn error(status: u16, code: &str, summary: &str) -> Outgoing {
    json(
        status,
        j!({"errorCode": code, "errorSummary": summary, "errorLink": code, "errorId": "oaeStandIn", "errorCauses": []}),
    )
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// A 429 with the window used up until the next second.
pub fn throttled() -> Outgoing {
    let mut out = error(429, "E0000047", "API call exceeded rate limit due to too many requests.");
    out.headers.extend([
        ("x-rate-limit-limit".into(), WINDOW_LIMIT.to_string()),
        ("x-rate-limit-remaining".into(), "0".into()),
        ("x-rate-limit-reset".into(), (now() + 1).to_string()),
    ]);
    out
}

fn user_json(state: &State, id: &str) -> Value {
    let u = state.directory.user(id).expect("a known user");
    let local = u.email.split('@').next().unwrap_or("");
    j!({
        "id": u.id, "status": if u.active { "ACTIVE" } else { "SUSPENDED" }, "created": "2024-01-01T00:00:00.000Z",
        "activated": "2024-01-01T00:00:00.000Z", "statusChanged": null, "lastLogin": null, "lastUpdated": "2026-11-30T00:00:00.000Z",
        "passwordChanged": null, "type": {"id": "oty1"},
        "profile": {"firstName": local, "lastName": "Test", "mobilePhone": null, "secondEmail": null, "login": u.email, "email": u.email},
        "credentials": {"provider": {"type": "OKTA", "name": "OKTA"}},
        "_links": {"self": {"href": format!("{}/api/v1/users/{}", state.base, u.id)}}
    })
}

/// One page after the cursor `after` (an opaque offset), with `Link`
/// headers for this page and the next.
fn paged(
    state: &State,
    path: &str,
    query: &[(String, String)],
    items: Vec<String>,
    render: impl Fn(&State, &str) -> Value,
    default: usize,
    max: usize,
) -> Outgoing {
    let size = match page_size(param(query, "limit"), default, max) {
        Ok(n) => n,
        Err(why) => return error(400, "E0000001", &format!("Api validation failed: limit ({why})")),
    };
    let start = match param(query, "after") {
        None => 0,
        Some(t) => match t.strip_prefix("c").and_then(|n| n.parse::<usize>().ok()) {
            Some(n) if n <= items.len() => n,
            _ => return error(400, "E0000031", "Invalid search criteria: after"),
        },
    };
    let end = (start + size).min(items.len());
    let mut out = json(200, Value::Array(items[start..end].iter().map(|id| render(state, id)).collect()));
    let link = |extra: Option<String>| {
        let mut url = format!("{}{path}?", state.base);
        for (name, value) in query.iter().filter(|(n, _)| n != "after") {
            url.push_str(&format!("{name}={}&", encode(value)));
        }
        if let Some(after) = extra {
            url.push_str(&format!("after={after}&"));
        }
        url.trim_end_matches(['&', '?']).to_owned()
    };
    out.headers.push(("link".into(), format!("<{}>; rel=\"self\"", link(param(query, "after").map(str::to_owned)))));
    if end < items.len() {
        out.headers.push(("link".into(), format!("<{}>; rel=\"next\"", link(Some(format!("c{end}"))))));
    }
    out
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub fn api(state: &mut State, request: &Incoming) -> Outgoing {
    let mut out = route(state, request);
    let remaining = WINDOW_LIMIT.saturating_sub(state.api_requests as u64 % WINDOW_LIMIT);
    if !out.headers.iter().any(|(n, _)| n == "x-rate-limit-limit") {
        out.headers.extend([
            ("x-rate-limit-limit".into(), WINDOW_LIMIT.to_string()),
            ("x-rate-limit-remaining".into(), remaining.to_string()),
            ("x-rate-limit-reset".into(), (now() + 60).to_string()),
        ]);
    }
    out
}

fn route(state: &mut State, request: &Incoming) -> Outgoing {
    let token = request.header("authorization").and_then(|a| a.strip_prefix("SSWS "));
    if token != Some(state.credentials.okta_token.as_str()) {
        return error(401, "E0000011", "Invalid token provided");
    }
    if request.method != "GET" {
        return error(405, "E0000022", "The endpoint does not support the provided HTTP method");
    }
    // Okta answers a collection with or without a trailing slash, and its
    // own SDK (okta-sdk-python) asks for `/api/v1/users/`.
    let path = request.path.strip_suffix('/').filter(|p| !p.is_empty()).unwrap_or(&request.path);
    if path == "/api/v1/users" {
        let query = match strict_query(
            request.query.as_deref(),
            &["q", "after", "limit", "filter", "search", "sortBy", "sortOrder", "expand"],
        ) {
            Ok(q) => q,
            Err(why) => return error(400, "E0000031", &format!("Invalid search criteria: {why}")),
        };
        let active_only = match param(&query, "filter") {
            None => false,
            Some("status eq \"ACTIVE\"") => true,
            Some(_) => {
                return error(400, "E0000031", "Invalid search criteria: the stand-in models status eq \"ACTIVE\" only")
            }
        };
        let ids: Vec<String> =
            state.directory.users.iter().filter(|u| u.active || !active_only).map(|u| u.id.clone()).collect();
        return paged(state, path, &query, ids, user_json, 200, 200);
    }
    if path == "/api/v1/groups" {
        let query = match strict_query(
            request.query.as_deref(),
            &["q", "search", "filter", "after", "limit", "expand", "sortBy", "sortOrder"],
        ) {
            Ok(q) => q,
            Err(why) => return error(400, "E0000031", &format!("Invalid search criteria: {why}")),
        };
        let Some(search) = param(&query, "search") else {
            return error(400, "E0000031", "Invalid search criteria: the stand-in models search by profile.name only");
        };
        let Some(name) = search.strip_prefix("profile.name eq \"").and_then(|s| s.strip_suffix('"')) else {
            return error(400, "E0000031", "Invalid search criteria.");
        };
        let name = name.replace("\\\"", "\"").replace("\\\\", "\\");
        let ids: Vec<String> = state.directory.groups.iter().filter(|g| g.name == name).map(|g| g.id.clone()).collect();
        let render = |state: &State, id: &str| {
            let g = state.directory.group(id).expect("a known group");
            j!({"id": g.id, "created": "2024-01-01T00:00:00.000Z", "lastUpdated": "2024-01-01T00:00:00.000Z",
                "lastMembershipUpdated": "2026-11-30T00:00:00.000Z", "objectClass": ["okta:user_group"], "type": "OKTA_GROUP",
                "profile": {"name": g.name, "description": null}})
        };
        return paged(state, path, &query, ids, render, 10000, 10000);
    }
    if let Some(id) = path.strip_prefix("/api/v1/groups/").and_then(|p| p.strip_suffix("/users")) {
        let query = match strict_query(request.query.as_deref(), &["after", "limit"]) {
            Ok(q) => q,
            Err(why) => return error(400, "E0000031", &format!("Invalid search criteria: {why}")),
        };
        let Some(group) = state.directory.group(id).filter(|g| g.id == id).cloned() else {
            return error(404, "E0000007", &format!("Not found: Resource not found: {id} (UserGroup)"));
        };
        return paged(state, path, &query, group.users.clone(), user_json, 1000, 1000);
    }
    error(404, "E0000022", "The endpoint does not support the provided HTTP method")
}
