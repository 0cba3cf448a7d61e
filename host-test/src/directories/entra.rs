//! Microsoft Entra ID: the v2.0 token endpoint (client credentials) and
//! Microsoft Graph v1.0 `users`, `groups` and `transitiveMembers`, with the
//! properties `@microsoft/microsoft-graph-types` describes.

use super::{json, page_size, param, strict_query, Incoming, Outgoing, State};
use serde_json::{json as j, Map, Value};

const ODATA: &[&str] = &["$select", "$top", "$skiptoken", "$filter", "$count", "$orderby", "$search", "$expand"];
/// What `/users` returns without `$select` (Graph's default set): no
/// `accountEnabled`, which a client must ask for.
const USER_DEFAULT: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

pub fn error(status: u16, code: &str, message: &str) -> Outgoing {
    json(
        status,
        j!({"error": {"code": code, "message": message, "innerError": {"date": "2026-12-05T22:00:00", "request-id": "00000000-0000-0000-0000-000000000000"}}}),
    )
}

fn oauth_error(status: u16, error: &str, description: &str) -> Outgoing {
    json(status, j!({"error": error, "error_description": description, "error_codes": [7000215]}))
}

/// `POST /{tenant}/oauth2/v2.0/token` with `grant_type=client_credentials`.
pub fn token(state: &mut State, request: &Incoming) -> Outgoing {
    let tenant = request.path.trim_start_matches('/').split('/').next().unwrap_or("");
    if request.method != "POST" {
        return oauth_error(405, "invalid_request", "AADSTS900561: The endpoint only accepts POST requests.");
    }
    if tenant != state.credentials.entra_tenant {
        return oauth_error(400, "invalid_request", "AADSTS90002: Tenant not found.");
    }
    let form = super::form(&request.body);
    if param(&form, "grant_type") != Some("client_credentials") {
        return oauth_error(400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.");
    }
    if param(&form, "scope") != Some(&format!("{}/.default", state.base)) {
        return oauth_error(400, "invalid_scope", "AADSTS1002012: The provided value for scope is not valid.");
    }
    if param(&form, "client_id") != Some(state.credentials.entra_client_id.as_str())
        || param(&form, "client_secret") != Some(state.credentials.entra_client_secret.as_str())
    {
        return oauth_error(401, "invalid_client", "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.");
    }
    let token = format!("eyJ0eXAi.standin-{}", state.tokens_issued.len() + 1);
    state.tokens_issued.push(token.clone());
    json(200, j!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}))
}

fn user_json(state: &State, id: &str) -> Map<String, Value> {
    let user = state.directory.user(id).expect("a known user");
    let local = user.email.split('@').next().unwrap_or("");
    let value = j!({
        "id": user.id, "businessPhones": [], "displayName": format!("{local} Test"), "givenName": local,
        "jobTitle": null, "mail": user.email, "mobilePhone": null, "officeLocation": null, "preferredLanguage": "en-US",
        "surname": "Test", "userPrincipalName": user.email.replace("@acme.test", "@acme.onmicrosoft.test"),
        "accountEnabled": user.active,
    });
    value.as_object().unwrap().clone()
}

fn selected(object: Map<String, Value>, select: Option<&str>, default: &[&str]) -> Map<String, Value> {
    let keep: Vec<&str> = match select {
        Some(s) => s.split(',').map(str::trim).collect(),
        None => default.to_vec(),
    };
    let mut out: Map<String, Value> = object
        .iter()
        .filter(|(k, _)| keep.contains(&k.as_str()) || k.starts_with("@odata"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // Graph always returns the id.
    if let Some(id) = object.get("id") {
        out.insert("id".into(), id.clone());
    }
    out
}

/// One page at `$skiptoken` (an opaque offset) with `@odata.nextLink`
/// carrying the same query.
fn paged(
    state: &State,
    path: &str,
    query: &[(String, String)],
    items: Vec<String>,
    render: impl Fn(&State, &str) -> Value,
    default_top: usize,
) -> Outgoing {
    let size = match page_size(param(query, "$top"), default_top, 999) {
        Ok(n) => n,
        Err(why) => return error(400, "Request_BadRequest", &format!("Invalid page size specified: {why}")),
    };
    let start = match param(query, "$skiptoken") {
        None => 0,
        Some(t) => match t
            .strip_prefix("X'")
            .and_then(|t| t.strip_suffix('\''))
            .and_then(|n| usize::from_str_radix(n, 16).ok())
        {
            Some(n) if n <= items.len() => n,
            _ => {
                return error(
                    400,
                    "Directory_ExpiredPageToken",
                    "The specified page token value has expired and can no longer be included in your request.",
                )
            }
        },
    };
    let end = (start + size).min(items.len());
    let mut body = j!({"@odata.context": format!("{}/v1.0/$metadata#{}", state.base, path.trim_start_matches("/v1.0/")), "value": items[start..end].iter().map(|id| render(state, id)).collect::<Vec<_>>()});
    if end < items.len() {
        let mut next = format!("{}{path}?", state.base);
        for (name, value) in query.iter().filter(|(n, _)| n != "$skiptoken") {
            next.push_str(&format!("{name}={}&", encode(value)));
        }
        next.push_str(&format!("$skiptoken=X'{end:X}'"));
        body["@odata.nextLink"] = j!(next);
    }
    json(200, body)
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~,".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub fn api(state: &mut State, request: &Incoming) -> Outgoing {
    let bearer = request.header("authorization").and_then(|a| a.strip_prefix("Bearer "));
    if !bearer.is_some_and(|t| state.tokens_issued.iter().any(|i| i == t)) {
        return error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.");
    }
    if request.method != "GET" {
        return error(405, "Request_BadRequest", "Method not allowed.");
    }
    let query = match strict_query(request.query.as_deref(), ODATA) {
        Ok(q) => q,
        Err(why) => return error(400, "BadRequest", &format!("Unrecognized query argument specified: {why}")),
    };
    let select = param(&query, "$select");
    let path = request.path.as_str();
    if path == "/v1.0/users" {
        if param(&query, "$filter").is_some() || param(&query, "$search").is_some() {
            return error(400, "Request_UnsupportedQuery", "The stand-in models unfiltered listing only.");
        }
        let ids: Vec<String> = state.directory.users.iter().map(|u| u.id.clone()).collect();
        let render = |state: &State, id: &str| Value::Object(selected(user_json(state, id), select, USER_DEFAULT));
        return paged(state, path, &query, ids, render, 100);
    }
    if path == "/v1.0/groups" {
        let Some(filter) = param(&query, "$filter") else {
            return error(400, "Request_UnsupportedQuery", "The stand-in models lookups by displayName only.");
        };
        let Some(name) = filter.strip_prefix("displayName eq '").and_then(|f| f.strip_suffix('\'')) else {
            return error(400, "Request_UnsupportedQuery", "Unsupported Query.");
        };
        let name = name.replace("''", "'");
        let ids: Vec<String> = state.directory.groups.iter().filter(|g| g.name == name).map(|g| g.id.clone()).collect();
        let render = |state: &State, id: &str| {
            let g = state.directory.group(id).expect("a known group");
            let object = j!({"id": g.id, "displayName": g.name, "mail": g.email, "securityEnabled": true, "mailEnabled": false, "groupTypes": []});
            Value::Object(selected(
                object.as_object().unwrap().clone(),
                select,
                &["id", "displayName", "mail", "securityEnabled", "mailEnabled", "groupTypes"],
            ))
        };
        return paged(state, path, &query, ids, render, 100);
    }
    if let Some(id) = path.strip_prefix("/v1.0/groups/").and_then(|p| p.strip_suffix("/transitiveMembers")) {
        let Some(group) = state.directory.group(id).filter(|g| g.id == id).cloned() else {
            return error(
                404,
                "Request_ResourceNotFound",
                &format!(
                    "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
                ),
            );
        };
        let (users, groups) = state.directory.transitive_users(&group);
        // Users, then nested groups (marked), rendered a page at a time.
        let ids: Vec<String> = users.into_iter().chain(groups.into_iter().map(|g| format!("group:{g}"))).collect();
        let render = |state: &State, id: &str| match id.strip_prefix("group:") {
            Some(group) => {
                let mut object = Map::new();
                object.insert("@odata.type".into(), j!("#microsoft.graph.group"));
                object.insert("id".into(), j!(group));
                Value::Object(object)
            }
            None => {
                let mut object = user_json(state, id);
                object.insert("@odata.type".into(), j!("#microsoft.graph.user"));
                Value::Object(selected(object, select, USER_DEFAULT))
            }
        };
        return paged(state, path, &query, ids, render, 100);
    }
    error(
        400,
        "Request_BadRequest",
        &format!("Resource not found for the segment '{}'.", path.rsplit('/').next().unwrap_or("")),
    )
}
