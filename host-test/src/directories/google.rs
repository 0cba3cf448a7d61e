//! Google Workspace: the Admin SDK Directory API (`admin:directory_v1`,
//! from its discovery document) and Google's OAuth token endpoint for
//! service accounts (RFC 7523 JWT bearer grant).

use super::{json, page_size, param, strict_query, Incoming, Outgoing, State};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use serde_json::{json as j, Map, Value};

/// Parameters every method takes (the discovery document's `parameters`).
const STANDARD: &[&str] = &[
    "$.xgafv",
    "access_token",
    "alt",
    "callback",
    "fields",
    "key",
    "oauth_token",
    "prettyPrint",
    "quotaUser",
    "upload_protocol",
    "uploadType",
];
const USERS_LIST: &[&str] = &[
    "customFieldMask",
    "customer",
    "domain",
    "event",
    "maxResults",
    "orderBy",
    "pageToken",
    "projection",
    "query",
    "showDeleted",
    "sortOrder",
    "viewType",
];
const MEMBERS_LIST: &[&str] = &["includeDerivedMembership", "maxResults", "pageToken", "roles"];
const USER_SCOPE: &str = "https://www.googleapis.com/auth/admin.directory.user.readonly";
const GROUP_SCOPES: &[&str] = &[
    "https://www.googleapis.com/auth/admin.directory.group.readonly",
    "https://www.googleapis.com/auth/admin.directory.group.member.readonly",
    "https://www.googleapis.com/auth/admin.directory.group",
];

pub fn error(status: u16, reason: &str, message: &str) -> Outgoing {
    let code = match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        _ => "INTERNAL",
    };
    json(
        status,
        j!({"error": {"code": status, "message": message, "errors": [{"message": message, "domain": "global", "reason": reason}], "status": code}}),
    )
}

fn oauth_error(status: u16, error: &str, description: &str) -> Outgoing {
    json(status, j!({"error": error, "error_description": description}))
}

fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = Vec::with_capacity(text.len());
    for b in text.bytes() {
        bits.push(alphabet.iter().position(|a| *a == b)? as u32);
    }
    let mut out = Vec::new();
    for chunk in bits.chunks(4) {
        if chunk.len() == 1 {
            return None;
        }
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (b << (18 - 6 * i)));
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

/// `POST /token`: verifies the assertion (RS256 signature with the test
/// key's public half, `iss`, `sub`, `aud`, lifetime, scopes) and issues a
/// token.
pub fn token(state: &mut State, request: &Incoming) -> Outgoing {
    if request.method != "POST"
        || !request.header("content-type").is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
    {
        return oauth_error(400, "invalid_request", "Invalid request: expected a form POST.");
    }
    let form = super::form(&request.body);
    if param(&form, "grant_type") != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
        return oauth_error(400, "unsupported_grant_type", "Invalid grant_type.");
    }
    let Some(assertion) = param(&form, "assertion") else {
        return oauth_error(400, "invalid_request", "Missing required parameter: assertion");
    };
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header, payload, signature] = parts.as_slice() else {
        return oauth_error(
            400,
            "invalid_grant",
            "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe",
        );
    };
    let decoded = |part: &str| base64url_decode(part).and_then(|b| serde_json::from_slice::<Value>(&b).ok());
    let (Some(header_json), Some(claims)) = (decoded(header), decoded(payload)) else {
        return oauth_error(400, "invalid_grant", "Invalid JWT.");
    };
    if header_json["alg"] != "RS256" {
        return oauth_error(400, "invalid_grant", "Invalid JWT: alg must be RS256.");
    }
    let key = VerifyingKey::<sha2::Sha256>::new(
        rsa::RsaPublicKey::from_public_key_pem(&state.credentials.google_public_key_pem).expect("the test public key"),
    );
    let verified = base64url_decode(signature)
        .and_then(|s| Signature::try_from(s.as_slice()).ok())
        .is_some_and(|s| key.verify(format!("{header}.{payload}").as_bytes(), &s).is_ok());
    if !verified {
        return oauth_error(400, "invalid_grant", "Invalid JWT Signature.");
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let (iat, exp) = (claims["iat"].as_u64().unwrap_or(0), claims["exp"].as_u64().unwrap_or(0));
    if exp <= iat || exp - iat > 3600 || iat > now + 300 || exp + 300 < now {
        return oauth_error(400, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.");
    }
    // Google's audience is its token endpoint's public URL, whatever URL the
    // assertion was posted to (google-auth signs exactly this).
    if claims["aud"] != "https://oauth2.googleapis.com/token" {
        return oauth_error(400, "invalid_grant", "Invalid JWT: Failed audience check.");
    }
    if claims["iss"] != state.credentials.google_client_email.as_str() {
        return oauth_error(400, "invalid_grant", "Invalid grant: account not found");
    }
    let scopes: Vec<&str> = claims["scope"].as_str().unwrap_or("").split(' ').collect();
    if claims["sub"] != state.credentials.google_subject.as_str()
        || !scopes.contains(&USER_SCOPE)
        || !GROUP_SCOPES.iter().any(|s| scopes.contains(s))
    {
        return oauth_error(
            401,
            "unauthorized_client",
            "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
        );
    }
    let token = format!("ya29.standin-{}", state.tokens_issued.len() + 1);
    state.tokens_issued.push(token.clone());
    json(200, j!({"access_token": token, "expires_in": 3599, "token_type": "Bearer"}))
}

/// The `fields` partial-response selector: `nextPageToken,users(id,primaryEmail)`.
fn select(value: Value, fields: Option<&str>) -> Value {
    let Some(fields) = fields else { return value };
    let Value::Object(map) = value else { return value };
    let mut out = Map::new();
    let mut depth = 0;
    let mut start = 0;
    let mut items = Vec::new();
    for (i, c) in fields.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&fields[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&fields[start..]);
    for item in items {
        let (name, sub) = match item.split_once('(') {
            Some((name, rest)) => (name, Some(rest.trim_end_matches(')'))),
            None => (item, None),
        };
        let Some(v) = map.get(name) else { continue };
        let v = match (v, sub) {
            (Value::Array(list), Some(sub)) => {
                let keep: Vec<&str> = sub.split(',').collect();
                Value::Array(
                    list.iter()
                        .map(|e| match e {
                            Value::Object(o) => Value::Object(
                                o.iter()
                                    .filter(|(k, _)| keep.contains(&k.as_str()))
                                    .map(|(k, v)| (k.clone(), v.clone()))
                                    .collect(),
                            ),
                            other => other.clone(),
                        })
                        .collect(),
                )
            }
            (v, _) => v.clone(),
        };
        out.insert(name.to_owned(), v);
    }
    Value::Object(out)
}

fn page<T: Clone>(items: &[T], token: Option<&str>, size: usize) -> Result<(Vec<T>, Option<String>), ()> {
    let start = match token {
        None => 0,
        Some(t) => t.strip_prefix("pg").and_then(|n| n.parse::<usize>().ok()).filter(|n| *n <= items.len()).ok_or(())?,
    };
    let end = (start + size).min(items.len());
    let next = (end < items.len()).then(|| format!("pg{end}"));
    Ok((items[start..end].to_vec(), next))
}

pub fn api(state: &mut State, request: &Incoming) -> Outgoing {
    let bearer = request.header("authorization").and_then(|a| a.strip_prefix("Bearer "));
    if !bearer.is_some_and(|t| state.tokens_issued.iter().any(|i| i == t)) {
        return error(
            401,
            "authError",
            "Request had invalid authentication credentials. Expected OAuth 2 access token.",
        );
    }
    if request.method != "GET" {
        return error(405, "httpMethodNotAllowed", "Method not allowed");
    }
    let Some(rest) = request.path.strip_prefix("/admin/directory/v1/") else {
        return error(404, "notFound", "Not Found");
    };
    if rest == "users" {
        let allowed: Vec<&str> = USERS_LIST.iter().chain(STANDARD).copied().collect();
        let query = match strict_query(request.query.as_deref(), &allowed) {
            Ok(q) => q,
            Err(why) => return error(400, "invalidParameter", &why),
        };
        if param(&query, "customer").is_none() && param(&query, "domain").is_none() {
            return error(400, "badRequest", "Bad Request");
        }
        if param(&query, "customer").is_some_and(|c| c != "my_customer") {
            return error(404, "notFound", "Resource Not Found: customer");
        }
        let size = match page_size(param(&query, "maxResults"), 100, 500) {
            Ok(n) => n,
            Err(why) => return error(400, "invalid", &format!("Invalid value for maxResults: {why}")),
        };
        let full = param(&query, "projection") == Some("full");
        let all: Vec<usize> = (0..state.directory.users.len()).collect();
        let Ok((indexes, next)) = page(&all, param(&query, "pageToken"), size) else {
            return error(400, "invalid", "Invalid page token");
        };
        let items: Vec<Value> = indexes
            .iter()
            .map(|i| {
                let u = &state.directory.users[*i];
                let local = u.email.split('@').next().unwrap_or("");
                let mut user = j!({
                    "kind": "admin#directory#user", "id": u.id, "etag": format!("\"etag-{}\"", u.id),
                    "primaryEmail": u.email, "name": {"givenName": local, "familyName": "Test", "fullName": format!("{local} Test")},
                    "isAdmin": false, "isDelegatedAdmin": false, "lastLoginTime": "2026-11-30T09:00:00.000Z",
                    "creationTime": "2024-01-01T00:00:00.000Z", "agreedToTerms": true, "suspended": !u.active,
                    "archived": false, "changePasswordAtNextLogin": false, "ipWhitelisted": false,
                    "emails": [{"address": u.email, "primary": true}], "customerId": "C0standin",
                    "orgUnitPath": "/", "isMailboxSetup": true, "isEnrolledIn2Sv": true, "isEnforcedIn2Sv": false,
                    "includeInGlobalAddressList": true
                });
                if !u.active {
                    user["suspensionReason"] = j!("ADMIN");
                }
                if full {
                    user["customSchemas"] = j!({});
                }
                user
            })
            .collect();
        let mut body = j!({"kind": "admin#directory#users", "etag": "\"etag-users\"", "users": items});
        if let Some(next) = next {
            body["nextPageToken"] = j!(next);
        }
        return json(200, select(body, param(&query, "fields")));
    }
    if let Some(group_key) = rest.strip_prefix("groups/").and_then(|r| r.strip_suffix("/members")) {
        let group_key = super::decode(group_key);
        let allowed: Vec<&str> = MEMBERS_LIST.iter().chain(STANDARD).copied().collect();
        let query = match strict_query(request.query.as_deref(), &allowed) {
            Ok(q) => q,
            Err(why) => return error(400, "invalidParameter", &why),
        };
        let size = match page_size(param(&query, "maxResults"), 200, 200) {
            Ok(n) => n,
            Err(why) => return error(400, "invalid", &format!("Invalid value for maxResults: {why}")),
        };
        let Some(group) = state.directory.group(&group_key) else {
            return error(404, "notFound", "Resource Not Found: groupKey");
        };
        let mut members: Vec<Value> = Vec::new();
        for id in &group.users {
            let email = state.directory.user(id).map(|u| u.email.clone());
            members.push(j!({"kind": "admin#directory#member", "etag": "\"e\"", "id": id, "email": email, "role": "MEMBER", "type": "USER", "status": "ACTIVE"}));
        }
        for id in &group.groups {
            let email = state.directory.group(id).map(|g| g.email.clone());
            members.push(j!({"kind": "admin#directory#member", "etag": "\"e\"", "id": id, "email": email, "role": "MEMBER", "type": "GROUP"}));
        }
        let Ok((items, next)) = page(&members, param(&query, "pageToken"), size) else {
            return error(400, "invalid", "Invalid page token");
        };
        let mut body = j!({"kind": "admin#directory#members", "etag": "\"etag-members\""});
        if !items.is_empty() {
            body["members"] = j!(items);
        }
        if let Some(next) = next {
            body["nextPageToken"] = j!(next);
        }
        return json(200, select(body, param(&query, "fields")));
    }
    error(404, "notFound", "Not Found")
}
