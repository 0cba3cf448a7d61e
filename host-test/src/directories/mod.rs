//! Strict stand-ins for the three directories a snapshot can be read from:
//! Google Workspace's Admin SDK Directory API, Microsoft Graph v1.0 (with
//! the Entra ID token endpoint) and Okta's Management API. Each answers
//! only the requests the real API documents (its discovery document,
//! Graph's published types, Okta's management OpenAPI), refuses unknown
//! query parameters and page sizes beyond the real maxima, pages as the
//! real API does (`nextPageToken`, `@odata.nextLink`, `Link: rel="next"`),
//! checks credentials the way the real token endpoints do (the Google
//! stand-in verifies the JWT assertion's RS256 signature with the test
//! key's public half and its claims), and can throttle or fail on demand.
//!
//! Every request is recorded, so tests assert request counts.

mod entra;
mod google;
mod okta;
mod server;

use server::{Incoming, Outgoing, Server};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Which API a stand-in speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    Google,
    Entra,
    Okta,
}

/// A person in the directory.
#[derive(Clone, Debug)]
pub struct DirUser {
    pub id: String,
    pub email: String,
    /// Google: not suspended; Entra: accountEnabled; Okta: status ACTIVE.
    pub active: bool,
}

/// A group: `name` is Entra's displayName and Okta's profile.name; `email`
/// is Google's group key. Members are user or group IDs.
#[derive(Clone, Debug)]
pub struct DirGroup {
    pub id: String,
    pub name: String,
    pub email: String,
    pub users: Vec<String>,
    pub groups: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Directory {
    pub users: Vec<DirUser>,
    pub groups: Vec<DirGroup>,
    index: std::sync::OnceLock<std::collections::HashMap<String, usize>>,
}

impl Directory {
    /// `users` people `user-00001@acme.test`…, every 20th inactive, in
    /// `groups` groups `group-001`… (user i in group i % groups).
    pub fn generated(users: usize, groups: usize) -> Directory {
        let mut directory = Directory::default();
        for g in 0..groups {
            directory.groups.push(DirGroup {
                id: format!("grp{:04}", g + 1),
                name: format!("group-{:03}", g + 1),
                email: format!("group-{:03}@acme.test", g + 1),
                users: vec![],
                groups: vec![],
            });
        }
        for i in 0..users {
            let id = format!("usr{:06}", i + 1);
            directory.users.push(DirUser {
                id: id.clone(),
                email: format!("user-{:05}@acme.test", i + 1),
                active: i % 20 != 19,
            });
            if groups > 0 {
                directory.groups[i % groups].users.push(id);
            }
        }
        directory
    }

    pub fn with_user(mut self, id: &str, email: &str, active: bool) -> Directory {
        self.users.push(DirUser { id: id.into(), email: email.into(), active });
        self
    }

    pub fn with_group(mut self, id: &str, name: &str, users: &[&str], groups: &[&str]) -> Directory {
        self.groups.push(DirGroup {
            id: id.into(),
            name: name.into(),
            email: format!("{name}@acme.test"),
            users: users.iter().map(|u| u.to_string()).collect(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        });
        self
    }

    /// The user with this ID (the index is built on first use; the
    /// directory does not change while served).
    fn user(&self, id: &str) -> Option<&DirUser> {
        let index = self.index.get_or_init(|| self.users.iter().enumerate().map(|(i, u)| (u.id.clone(), i)).collect());
        index.get(id).map(|i| &self.users[*i])
    }

    fn group(&self, id_or_email: &str) -> Option<&DirGroup> {
        let key = id_or_email.to_ascii_lowercase();
        self.groups.iter().find(|g| g.id == id_or_email || g.email.to_ascii_lowercase() == key)
    }

    /// Users in a group and every group nested in it, each once, cycles
    /// stopped (Graph's `transitiveMembers`).
    fn transitive_users(&self, group: &DirGroup) -> (Vec<String>, Vec<String>) {
        let (mut users, mut groups) = (Vec::new(), Vec::new());
        let mut seen = BTreeSet::new();
        let mut stack = vec![group.id.clone()];
        let mut seen_users = BTreeSet::new();
        while let Some(id) = stack.pop() {
            if !seen.insert(id.clone()) {
                continue;
            }
            let Some(g) = self.group(&id) else { continue };
            if id != group.id {
                groups.push(id.clone());
            }
            for u in &g.users {
                if seen_users.insert(u.clone()) {
                    users.push(u.clone());
                }
            }
            stack.extend(g.groups.iter().rev().cloned());
        }
        (users, groups)
    }
}

/// How a stand-in misbehaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DirFault {
    /// The `n`th API request (1-based, token requests not counted) answers
    /// `status` with the API's own error body.
    FailNth { n: usize, status: u16 },
    /// The `n`th API request is throttled the API's way (Graph: 429 with
    /// `Retry-After: 1`; Okta: 429 with the window used up for a second;
    /// Google: 403 `userRateLimitExceeded`).
    ThrottleNth { n: usize },
}

/// What a stand-in accepts as credentials.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// Google: the service account's client_email and the admin it acts for.
    pub google_client_email: String,
    pub google_subject: String,
    /// Google: the PEM public key the assertion must verify with.
    pub google_public_key_pem: String,
    pub entra_tenant: String,
    pub entra_client_id: String,
    pub entra_client_secret: String,
    pub okta_token: String,
}

/// A request as recorded.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
}

struct State {
    api: Api,
    directory: Directory,
    credentials: Credentials,
    faults: Vec<DirFault>,
    latency: Duration,
    seen: Vec<Seen>,
    api_requests: usize,
    tokens_issued: Vec<String>,
    base: String,
}

pub struct DirectoryStandIn {
    state: Arc<Mutex<State>>,
    server: Server,
}

impl DirectoryStandIn {
    pub fn start(api: Api, directory: Directory, credentials: Credentials) -> anyhow::Result<DirectoryStandIn> {
        let state = Arc::new(Mutex::new(State {
            api,
            directory,
            credentials,
            faults: vec![],
            latency: Duration::ZERO,
            seen: vec![],
            api_requests: 0,
            tokens_issued: vec![],
            base: String::new(),
        }));
        let handler_state = Arc::clone(&state);
        let server = Server::start(Arc::new(move |request: Incoming| {
            let mut state = handler_state.lock().unwrap();
            let mut out = state.handle(&request);
            out.delay = state.latency;
            state.seen.push(Seen {
                method: request.method.clone(),
                path: request.path.clone(),
                query: request.query.clone(),
                status: out.status,
            });
            out
        }))?;
        state.lock().unwrap().base = format!("http://{}", server.addr());
        Ok(DirectoryStandIn { state, server })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    pub fn inject(&self, fault: DirFault) {
        self.state.lock().unwrap().faults.push(fault);
    }

    pub fn set_latency(&self, latency: Duration) {
        self.state.lock().unwrap().latency = latency;
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    pub fn clear_requests(&self) {
        let mut state = self.state.lock().unwrap();
        state.seen.clear();
        state.api_requests = 0;
    }

    /// Requests to `path` prefix.
    pub fn count(&self, path_prefix: &str) -> usize {
        self.requests().iter().filter(|s| s.path.starts_with(path_prefix)).count()
    }
}

impl State {
    fn handle(&mut self, request: &Incoming) -> Outgoing {
        let is_token = match self.api {
            Api::Google => request.path == "/token",
            Api::Entra => request.path.ends_with("/oauth2/v2.0/token"),
            Api::Okta => false,
        };
        if is_token {
            return match self.api {
                Api::Google => google::token(self, request),
                _ => entra::token(self, request),
            };
        }
        self.api_requests += 1;
        let n = self.api_requests;
        let fault = self.faults.iter().position(|f| match f {
            DirFault::FailNth { n: at, .. } | DirFault::ThrottleNth { n: at } => *at == n,
        });
        if let Some(i) = fault {
            let fault = self.faults.remove(i);
            return match (self.api, fault) {
                (Api::Google, DirFault::FailNth { status, .. }) => {
                    google::error(status, "backendError", "Backend Error")
                }
                (Api::Google, DirFault::ThrottleNth { .. }) => {
                    google::error(403, "userRateLimitExceeded", "Quota exceeded for quota metric 'Queries'")
                }
                (Api::Entra, DirFault::FailNth { status, .. }) => {
                    entra::error(status, "serviceNotAvailable", "The service is unavailable.")
                }
                (Api::Entra, DirFault::ThrottleNth { .. }) => {
                    let mut out = entra::error(429, "TooManyRequests", "Too many requests.");
                    out.headers.push(("retry-after".into(), "1".into()));
                    out
                }
                (Api::Okta, DirFault::FailNth { status, .. }) => {
                    okta::error(status, "E0000009", "Internal Server Error")
                }
                (Api::Okta, DirFault::ThrottleNth { .. }) => okta::throttled(),
            };
        }
        match self.api {
            Api::Google => google::api(self, request),
            Api::Entra => entra::api(self, request),
            Api::Okta => okta::api(self, request),
        }
    }
}

fn json(status: u16, value: serde_json::Value) -> Outgoing {
    Outgoing { status, headers: vec![], body: value.to_string().into_bytes(), delay: Duration::ZERO }
}

/// The query's name/value pairs, percent-decoded (`+` is a space in forms).
fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Refuses parameters the endpoint does not document and returns the rest.
fn strict_query(query: Option<&str>, allowed: &[&str]) -> Result<Vec<(String, String)>, String> {
    let pairs = query_pairs(query);
    for (name, _) in &pairs {
        if !allowed.contains(&name.as_str()) {
            return Err(format!("unknown query parameter {name:?}"));
        }
    }
    let mut names: Vec<&str> = pairs.iter().map(|(n, _)| n.as_str()).collect();
    names.sort();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err("a query parameter is given twice".into());
    }
    Ok(pairs)
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// A page size: absent → `default`, else 1..=`max`.
fn page_size(value: Option<&str>, default: usize, max: usize) -> Result<usize, String> {
    match value {
        None => Ok(default),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(format!("page size {v:?} is not between 1 and {max}")),
        },
    }
}

/// The form fields of a token request body.
fn form(body: &[u8]) -> Vec<(String, String)> {
    query_pairs(Some(&String::from_utf8_lossy(body)))
}
