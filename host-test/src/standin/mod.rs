//! A local stand-in for GitBook's members, invites and teams API, for end-to-end tests.
//!
//! `StandIn::start(org)` serves `org` over HTTP/1.1 on `127.0.0.1:<ephemeral port>` with
//! the status codes and JSON shapes of GitBook's OpenAPI spec (base path `/v1`), records
//! every request, and can be told to misbehave (429s, 5xx, dropped connections, delays).
//!
//! Module map, one job each:
//! * `model`, `org` - the data tests see and build (`Role`, `MemberState`, `TeamState`, `Org`);
//! * `state` - the live directory and every change the API makes to it;
//! * `routes`, `members`, `invites`, `teams` - HTTP routing and the endpoint handlers;
//! * `input`, `pagination`, `query`, `render`, `reply` - request parsing and response shapes;
//! * `faults` - injected faults; `pipeline` - one request from record to reply;
//! * `server` - hyper on its own thread and runtime; `ids`, `time` - ids and timestamps.
//!
//! Behaviour worth knowing beyond the spec:
//! * `GET /members` lists in the spec's default order, `sort=joinedAt&order=desc` (newest
//!   first); `StandIn::members()` returns join order (oldest first, as `order=asc`).
//! * Member ids derive from the lower-cased email, so re-inviting a removed email gives
//!   back its old id, as GitBook user ids belong to the user account.
//! * Invited members get the email as display name and the current time as `joinedAt`.
//! * A request is recorded before anything else, including before the token check; fault
//!   rules are consulted next, before the token check too, as they model the network.

mod faults;
mod ids;
mod input;
mod invites;
mod members;
mod model;
mod org;
mod pagination;
mod pipeline;
mod query;
mod record;
mod render;
mod reply;
mod routes;
mod server;
mod state;
mod teams;
mod time;

#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use faults::{Fault, FaultKind};
pub use model::{MemberState, Role, TeamState};
pub use org::{Org, DEFAULT_MAX_INVITE_BATCH};
pub use record::RecordedRequest;

use faults::FaultQueue;
use pipeline::{lock, Shared};
use server::Server;
use state::Directory;

/// A running stand-in. Dropping it stops the server.
pub struct StandIn {
    shared: Arc<Shared>,
    server: Server,
}

impl StandIn {
    /// Starts serving `org`. Fails if the org is inconsistent (duplicate ids or emails,
    /// teams naming unknown members) or no port could be bound.
    pub fn start(org: Org) -> anyhow::Result<StandIn> {
        StandIn::start_on(org, 0)
    }

    /// Like `start`, on a chosen port of 127.0.0.1 (0 = ephemeral), for the demo binary
    /// and scripts that need a known address.
    pub fn start_on(org: Org, port: u16) -> anyhow::Result<StandIn> {
        let directory = Directory::from_org(&org)?;
        let shared = Arc::new(Shared {
            org_id: org.id,
            token: org.token,
            max_invite_batch: org.max_invite_batch,
            directory: Mutex::new(directory),
            log: Mutex::new(Vec::new()),
            faults: Mutex::new(FaultQueue::default()),
            latency: Mutex::new(Duration::ZERO),
        });
        let server = Server::start(Arc::clone(&shared), port)?;
        Ok(StandIn { shared, server })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash or `/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// Every request received so far, in arrival order, faulted ones included.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.log).clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    pub fn request_count(&self) -> usize {
        lock(&self.shared.log).len()
    }

    /// Queues a fault rule after those already queued.
    pub fn inject(&self, fault: Fault) {
        lock(&self.shared.faults).push(fault);
    }

    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// A fixed delay added to every response from now on (zero to turn it off).
    pub fn set_latency(&self, d: Duration) {
        *lock(&self.shared.latency) = d;
    }

    /// Current members in join order.
    pub fn members(&self) -> Vec<MemberState> {
        lock(&self.shared.directory).snapshot_members()
    }

    /// Current teams in creation order.
    pub fn teams(&self) -> Vec<TeamState> {
        lock(&self.shared.directory).snapshot_teams()
    }

    /// Ids of a team's members in the order they were added; empty for an unknown team.
    pub fn team_member_ids(&self, team_id: &str) -> Vec<String> {
        lock(&self.shared.directory).team_member_ids(team_id)
    }

    /// A member by email, case-insensitive.
    pub fn member_by_email(&self, email: &str) -> Option<MemberState> {
        lock(&self.shared.directory).member_by_email(email)
    }

    /// From now on `DELETE` of this member answers 202 and leaves it in place.
    pub fn set_removal_needs_approval(&self, user_id: &str) {
        lock(&self.shared.directory).set_removal_needs_approval(user_id);
    }

    /// From now on an SSO invite creating this email makes a non-SSO member and lists the
    /// email in `failedSSOEmails`.
    pub fn set_sso_conflict(&self, email: &str) {
        lock(&self.shared.directory).set_sso_conflict(email);
    }
}

impl Drop for StandIn {
    /// Stops the server and joins its thread; open connections are closed.
    fn drop(&mut self) {
        self.server.stop();
    }
}
