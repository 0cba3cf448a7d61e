//! A local stand-in for GitBook's members, invites and teams API, for end-to-end tests.
//!
//! `StandIn::start(org)` serves `org` over HTTP/1.1 on `127.0.0.1:<ephemeral port>` with
//! the status codes and JSON shapes of GitBook's OpenAPI spec (base path `/v1`), records
//! every request, and can be told to misbehave (429s, 5xx, 403, 409, dropped connections,
//! delays, changes whose answer is lost).
//!
//! Module map, one job each:
//! * `model`, `org` - the data tests see and build (`Role`, `TeamRole`, `MemberState`,
//!   `TeamState`, `Org`);
//! * `state` - the live directory and every change the API makes to it;
//! * `routes` - paths, methods and the spec's per-operation checks; `members`, `invites`,
//!   `teams` - the endpoint handlers;
//! * `input`, `pagination`, `query`, `render`, `reply` - request parsing and response shapes;
//! * `faults` - injected faults; `pipeline` - one request from record to reply;
//! * `server` - hyper on its own thread and runtime; `ids`, `time` - ids and timestamps.
//!
//! # As strict as the spec
//! A client's mistake only shows in a test if the stand-in refuses it, so every request is
//! checked against the spec (`gitbook-members-teams.openapi.json`), each failure a 400 in
//! GitBook's `{"error": {"code", "message"}}` shape naming what was wrong:
//! * a query parameter the spec does not define for that operation (`GET /members?email=`,
//!   any parameter on `POST /invites`), or one given twice; values are checked too
//!   (`limit` 0 to 1000, `order`, `sort` and `role` from their enums);
//! * a body field of the wrong JSON type, `null` included wherever the schema does not
//!   allow it: `"sso": null`, `"add": null`, `"members": null` and `"memberships": null`
//!   are refused, not read as "left out"; `"role": null` is a guest (`MemberRoleOrGuest`);
//! * a missing required field (`emails`, `title`, an `emails` entry object's `email` and
//!   `role`, a `memberships` value's `role`) or a value outside its enum or length;
//! * an organization or team id in the path outside `EntityId` (`^[a-zA-Z0-9_-]+$`).
//!
//! Body fields the schemas do not name are accepted, because no schema sets
//! `additionalProperties: false`; `StandIn::refuse_unknown_body_fields(true)` refuses them
//! too (top level, `emails` entry objects, `memberships` values), so a test can catch a
//! misspelt field that would otherwise pass as "left out".
//!
//! # Switches and faults
//! * Members without an email: `Org::with_hidden_email(email)` or
//!   `StandIn::hide_email(id_or_email)`; the spec's `User.email` is optional.
//! * Team roles: `TeamState::owner_ids` seeds owners; `memberships` of a team update sets
//!   them; `GET .../teams/{id}/members` shows them; `StandIn::team_role` reads them.
//! * `FaultKind::forbidden()` (403), `FaultKind::conflict()` (409) or any
//!   `FaultKind::ApiError { status, message }`.
//! * `FaultKind::ApplyThenServerError { status }` and `FaultKind::ApplyThenDrop` carry the
//!   request out, then answer a 5xx or close the connection: what makes a blind retry of
//!   the non-idempotent `PUT /teams` create a second team. `Fault::on_path_ending("PUT",
//!   "/teams", kind, n)` aims them at team creation only.
//! * Time faults, for the client's deadlines: `FaultKind::SpentWindow { reset_after }`
//!   answers normally with `X-RateLimit-Remaining: 0` and a reset that far away;
//!   `FaultKind::Drip { every }` sends the normal answer's body one byte every `every`;
//!   `FaultKind::Unread` accepts the head and never reads the body or answers (decided
//!   before the body is read, on method and path). A huge `Retry-After` on one request
//!   among several is `Fault::on(method, path, FaultKind::RetryAfter { seconds }, 1)`.
//!
//! * Load: `StandIn::max_in_flight()` is the most requests processed at once;
//!   `StandIn::set_rate_limit(Some(RateLimit { .. }))` enforces a fixed-window limit (see
//!   `ratelimit`), and `rate_limited_count()` counts the 429s it sent.
//!
//! # Modelled, not in the spec
//! Rules a reader should treat as assumptions, modelled on GitBook's guides and observed
//! behaviour rather than stated by the spec:
//! * SSO invites (`"sso": true`) refuse an email with upper-case letters (400); GitBook
//!   asks for lower-case SSO emails. Without SSO any case is accepted.
//! * `limit` defaults to 50 and must be a whole number (`20.0` passes, `2.5` does not).
//! * At most 1000 emails per invite request (`Org::max_invite_batch`), more is a 400 and
//!   nothing is invited; an empty `emails` array is a 400 too (the spec sets no bounds).
//! * With `Org::with_max_team_update(n)`, at most `n` entries (`add` plus `remove`) per
//!   team members update and `n` `members` per team creation, more is a 400 and nothing
//!   is applied. GitBook documents no bound; the SCIM endpoint keeps to 1000 a request,
//!   and its tests set this bound to show it. Off by default.
//! * An email must look like one: one `@`, a dotted domain without empty labels, no
//!   whitespace or control characters (the spec says only `format: email`).
//! * Invites are idempotent, as GitBook's directory-sync guide says: an address that is
//!   already a member is left as it is (role included) and its id is still listed in
//!   `users`, in request order, one entry per email (duplicates get the same id); only
//!   new members count in `invited`. No `role` invites guests.
//! * Member ids derive from the lower-cased email, so re-inviting a removed email gives
//!   back its old id, as GitBook user ids belong to the user account.
//! * Invited members get the email as display name and the current time as `joinedAt`;
//!   `lastSeenAt` is always `joinedAt`, so `sort=lastSeenAt` is join order; `spaces` and
//!   `sites` are 0; a team's `permissions` are those of an admin token.
//! * `GET /members` lists in the spec's default order (`sort=joinedAt`, `order=desc`,
//!   newest first); `sort=name` is by display name, case-insensitive, ties in join order;
//!   `StandIn::members()` returns join order (oldest first, as `order=asc`). Teams list in
//!   creation order, team members in the order they were added.
//! * `search` is a case-insensitive substring of the display name or the email; a hidden
//!   email is not searched, so a search cannot reveal what answers leave out. A member
//!   whose email is hidden is still found by it in invites and team updates.
//! * `page` tokens are opaque, belong to one list (and order), and stay valid while
//!   members come and go (nothing skipped or repeated); a foreign or made-up token is a
//!   400. `count` is the number of items matching the filters.
//! * Team updates: emails in `add`/`remove` match case-insensitively; an unknown `add`
//!   entry is a 400 and nothing is applied; an unknown `remove` entry is ignored; adding a
//!   member already in the team keeps their team role. `memberships` keys are user ids or
//!   emails like `add`; a key for someone neither in the team nor in `add` is a 400
//!   naming it (nothing applied); one for someone in `remove` is ignored (removal wins,
//!   as the spec says for `add` + `remove`); removal drops an owner's role.
//! * Team creation: `members` takes user ids only (the spec: "organization member
//!   identifiers", where `add` says "a user ID or an email"); an unknown id or an email
//!   is a 400 naming it and no team is created; duplicates count once; everyone starts
//!   as a plain member. Titles need not be unique, so every `PUT /teams` creates a team.
//! * `GET /teams?owner=<user id>` ("teams they can manage"): every team for an
//!   organization admin, else the teams where they are an owner; an unknown id is a 400.
//! * A body-taking operation needs `Content-Type: application/json` (any parameters), else
//!   400. Bodies over 64 MiB are a 413.
//! * Authentication: a missing or wrong `Authorization: Bearer <token>` is a 401; another
//!   organization id is a 404, a known path with another method a 405 with `Allow`.
//! * Rate limits (only when `set_rate_limit` is called): a fixed window aligned to the
//!   Unix clock, a 429 past the limit with `X-RateLimit-Limit`, `-Remaining: 0` and
//!   `-Reset` (integer Unix seconds; GitBook documents `X-RateLimit-Reset` on 429), and,
//!   with `headers_on_every_answer`, the three headers on every answer (not documented
//!   either way by GitBook). The rate limit is checked before faults and authentication,
//!   and a refused request is recorded with the fault "rate limited (429)".
//! * Rate-limit faults send `X-RateLimit-Reset` as Unix seconds, or `Retry-After`.
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
mod ratelimit;
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

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use faults::{Fault, FaultKind};
pub use model::{MemberState, Role, TeamRole, TeamState};
pub use org::{Org, DEFAULT_MAX_INVITE_BATCH};
pub use ratelimit::RateLimit;
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
            max_team_update: org.max_team_update,
            directory: Mutex::new(directory),
            log: Mutex::new(Vec::new()),
            faults: Mutex::new(FaultQueue::default()),
            latency: Mutex::new(Duration::ZERO),
            refuse_unknown_fields: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            rate_limit: Mutex::new(None),
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

    /// The most requests the stand-in was processing at once (from arrival
    /// to answer, latency included) since it started or the last reset.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    pub fn reset_max_in_flight(&self) {
        self.shared.max_in_flight.store(0, Ordering::SeqCst);
    }

    /// Enforces a rate limit from now on (`None`: none); see [`RateLimit`].
    pub fn set_rate_limit(&self, rule: Option<RateLimit>) {
        *lock(&self.shared.rate_limit) = rule.map(ratelimit::Window::new);
    }

    /// Requests refused with 429 by the rate limit since it was set.
    pub fn rate_limited_count(&self) -> usize {
        lock(&self.shared.rate_limit).as_ref().map_or(0, |w| w.refused)
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

    /// From now on the API leaves this member's `user.email` out (and `search` does not
    /// match it); false if there is no such member. `Org::with_hidden_email` does the same
    /// from the start.
    pub fn hide_email(&self, user_id_or_email: &str) -> bool {
        lock(&self.shared.directory).hide_email(user_id_or_email)
    }

    /// A member's role in a team; `None` if the team or member is unknown or the member
    /// is not in that team.
    pub fn team_role(&self, team_id: &str, user_id: &str) -> Option<TeamRole> {
        lock(&self.shared.directory).team_role(team_id, user_id)
    }

    /// With `true`, request bodies with a field the spec's schema does not name (also
    /// inside `emails` entries and `memberships` values) are refused with a 400 naming it,
    /// so a misspelt field cannot pass as "left out". Off by default, as the spec's
    /// schemas allow additional properties.
    pub fn refuse_unknown_body_fields(&self, refuse: bool) {
        self.shared.refuse_unknown_fields.store(refuse, Ordering::Relaxed);
    }
}

impl Drop for StandIn {
    /// Stops the server and joins its thread; open connections are closed.
    fn drop(&mut self) {
        self.server.stop();
    }
}
