//! The directory-sync guide's three workflows as one Obelisk workflow (see
//! `wit/world.wit`). Each `client` call is an activity execution: Obelisk
//! runs the gitbook-directory-sync component for it, persists the result,
//! and on replay hands the persisted result back instead of calling again.
//!
//! Who retries what: the component retries a transient failure within one
//! call (its `retry-policy`: attempts and waits of seconds); the engine never
//! repeats a call on its own (`max_retries = 0` in the deployment); this
//! workflow calls a step again after a durable sleep when the component gave
//! up on a transient failure, so an outage longer than the component's
//! bounds is ridden out without anyone holding a request open.
//!
//! The workflow is deterministic, as Obelisk requires: no clock, no
//! randomness, no I/O of its own; it only decides what to call next from
//! what the previous calls returned.
#![cfg(target_arch = "wasm32")]

wit_bindgen::generate!({
    path: ["../../../wit", "wit"],
    world: "gitbook:directory-sync-guide/guide-workflow",
    generate_all,
});

use exports::gitbook::directory_sync_guide::guide::{Guest, Outcome, StepFailed};
use gitbook::directory_sync::client;
use gitbook::directory_sync::types::{Error, InviteRequest, Role, Settings};
use obelisk::types::time::{Duration, ScheduleAt};
use obelisk::workflow::workflow_support;

/// Calls of one step, the first included, before a transient error is
/// returned to the caller.
const CALLS: u32 = 3;
/// The first durable wait between two calls when GitBook named none;
/// doubled after each call.
const FIRST_WAIT_MS: u64 = 2_000;

struct Workflow;

impl Guest for Workflow {
    fn join_team_leave(email: String, team_id: String) -> Result<Outcome, StepFailed> {
        let settings = from_deployment();

        // 1. Someone joins: invite them and keep the ID GitBook returns.
        let request = InviteRequest { emails: vec![email], with_roles: Vec::new(), role: Some(Role::Read), sso: true };
        let invited = durably(|| client::invite(&settings, &request)).map_err(StepFailed::Invite)?;
        let user_id = invited.user_ids.into_iter().next().ok_or(StepFailed::NoUserId)?;

        // 2. Their group maps to a team: add them by that ID.
        durably(|| client::update_team_members(&settings, &team_id, std::slice::from_ref(&user_id), &[]))
            .map_err(StepFailed::JoinTeam)?;

        // 3. They leave: remove them by the kept ID.
        let removal = durably(|| client::remove_member(&settings, &user_id)).map_err(StepFailed::Leave)?;

        Ok(Outcome { user_id, invited: invited.invited, removal })
    }
}

/// Runs `call` (one activity execution) up to [`CALLS`] times while it fails
/// with a transient error, sleeping durably in between. Safe because every
/// operation the workflow calls is idempotent.
fn durably<T>(mut call: impl FnMut() -> Result<T, Error>) -> Result<T, Error> {
    let mut wait_ms = FIRST_WAIT_MS;
    for _ in 1..CALLS {
        match call() {
            Err(error) if is_transient(&error) => {
                let wait = match &error {
                    Error::RateLimited(failure) => failure.retry_after_ms.unwrap_or(wait_ms),
                    _ => wait_ms,
                };
                // An error here means the sleep was cancelled: give up.
                workflow_support::sleep(ScheduleAt::In(Duration::Milliseconds(wait)), None).map_err(|()| error)?;
                wait_ms = wait_ms.saturating_mul(2);
            }
            done => return done,
        }
    }
    call()
}

/// The WIT's rule: the same call may succeed later.
fn is_transient(error: &Error) -> bool {
    matches!(
        error,
        Error::RateLimited(_)
            | Error::ServerError(_)
            | Error::Transport(_)
            | Error::DeadlineExceeded(_)
            | Error::ExecutionFailed
    )
}

/// Every field `none`: the activity takes the API URL, organization and
/// token from its deployment (`GITBOOK_API_URL`, `GITBOOK_ORG`, and the
/// `GITBOOK_TOKEN` secret), so no connection detail, and above all no token,
/// is written into the workflow's persisted parameters and calls.
fn from_deployment() -> Settings {
    Settings {
        base_url: None,
        organization: None,
        token: None,
        allow_insecure_http: None,
        retry: None,
        timeouts: None,
        concurrency: None,
    }
}

export!(Workflow);
